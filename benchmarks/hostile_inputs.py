"""Hostile inputs for the robustness benchmark: .milk files, EEL code and HLSL shaders.

Each generator is a pure function of a ``random.Random``: input ``i`` of a seeded run is the same
on any machine and in any worker. Three sources per kind: a grammar (random programs and presets
built from the languages' own rules, pushed to extremes of depth, length and value), mutation of
real corpus files (the shapes of input people actually have, damaged byte- and token-wise), and
token soup (the vocabulary in random order). Extremes are chosen so that a correct implementation
answers quickly with a result or its own error: nothing here should need minutes or gigabytes.
"""

from __future__ import annotations

import random
from pathlib import Path

CORPUS = Path("/usr/share/projectM/presets")

# ---------------------------------------------------------------- shared pieces

_NUMBERS = ["0", "1", "-1", ".5", "5.", "1e3", "1e308", "1e309", "-1e309", "1e-320", "nan", "inf", "-inf",
            "0x1F", "00000000000000000000000000001", "1" * 400, "3.14159265358979323846264338327950288",
            "2147483648", "-2147483649", "1e", "1e+", ".", "-", "+.e5", "0.000001", "99999999999999999999.5"]
_ODD = ["\x00", "\xff", "\ufeff", "\u202e", "é", "\u4e39", "\r", "\r\n", "\t", "\x1b[31m", "\\\\", "`", "'", '"',
        "%s%n", "{}", "$(", "${IFS}", "../../", "\n\n\n"]


def _number(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(_NUMBERS)
    return repr(rng.uniform(-10, 10) * 10 ** rng.randint(-12, 12))


def _name(rng: random.Random, vocabulary: list[str]) -> str:
    r = rng.random()
    if r < 0.7:
        return rng.choice(vocabulary)
    if r < 0.8:
        return "_" * rng.randint(1, 3) + rng.choice(["class__", "import__", "builtins__", "globals__", "dict__"])
    if r < 0.9:
        return "v" * rng.choice([1, 2, 255, 256, 5000])
    return "".join(rng.choice("abcxyz_0123") for _ in range(rng.randint(1, 12))).lstrip("0123456789") or "x"


def _chain(rng: random.Random, link: str, atom: str, depth: int) -> str:
    return link.join([atom] * depth)


def mutate_text(rng: random.Random, text: str, max_len: int = 400_000) -> str:
    """1-8 edits: delete, duplicate, swap or insert ranges, flip characters, truncate."""
    s = text
    for _ in range(rng.randint(1, 8)):
        n = len(s)
        op = rng.randrange(8)
        i = rng.randrange(n + 1)
        j = min(n, i + rng.choice([1, 2, 8, 64, 1024]))
        if op == 0:
            s = s[:i] + s[j:]
        elif op == 1 and len(s) + (j - i) * 8 < max_len:
            s = s[:i] + s[i:j] * rng.randint(2, 8) + s[i:]
        elif op == 2:  # move a range elsewhere
            piece, rest = s[i:j], s[:i] + s[j:]
            k = rng.randrange(len(rest) + 1)
            s = rest[:k] + piece + rest[k:]
        elif op == 3:
            s = s[:i] + rng.choice(_ODD + _NUMBERS) + s[i:]
        elif op == 4 and n:
            s = s[:i] + chr(rng.randrange(1, 0x3000)) + s[i + 1:]
        elif op == 5:
            s = s[:i]
        elif op == 6:
            s = s[:i] + rng.choice("()[]{};,=+-*/%^&|!?:<>.#`\n") + s[i:]
        else:
            s = s[:i] + s[i:j].upper() + s[j:]
    return s[:max_len]


def token_soup(rng: random.Random, vocabulary: list[str], n: int) -> str:
    return rng.choice(["", " ", "\n"]).join(rng.choice(vocabulary) for _ in range(n))


# ---------------------------------------------------------------- EEL

EEL_VARS = ["x", "y", "zoom", "rot", "q1", "q32", "reg00", "reg99", "t1", "time", "bass", "rad", "ang", "a", "b",
            "monitor", "megabuf", "rand", "if", "loop", "while", "sin", "i", "n", "_"]
EEL_FUNCS = ["sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sqr", "sqrt", "pow", "exp", "log", "log10",
             "abs", "sign", "min", "max", "floor", "ceil", "int", "above", "below", "equal", "bnot", "band", "bor",
             "sigmoid", "rand", "invsqrt", "if", "loop", "while", "exec2", "exec3", "megabuf", "gmegabuf", "assign",
             "nosuch", "eval", "__import__"]
EEL_BINARY = ["+", "-", "*", "/", "%", "^", "&", "|", "&&", "||", "==", "!=", "<", ">", "<=", ">="]
EEL_ASSIGN = ["=", "+=", "-=", "*=", "/=", "%=", "^=", "&=", "|="]
EEL_TOKENS = EEL_VARS + EEL_FUNCS + EEL_BINARY + EEL_ASSIGN + ["(", ")", ",", ";", "?", ":", "!", "$PI", "$E",
                                                               "$X1F", "$'a'", "$", "//", "/*", "*/", "\\\\"] + _NUMBERS


def grammar_expr(rng: random.Random, depth: int, leaf, forms) -> str:
    """A random expression: ``leaf(rng)`` at the bottom (or by chance), else one of ``forms``,
    ``(weight, build(sub))`` pairs where ``sub()`` makes a sub-expression one level down."""
    if depth <= 0 or rng.random() < 0.25:
        return leaf(rng)
    sub = lambda: grammar_expr(rng, depth - 1, leaf, forms)  # noqa: E731
    pick = rng.random() * sum(w for w, _ in forms)
    for weight, build in forms:
        pick -= weight
        if pick < 0:
            return build(sub)
    return forms[-1][1](sub)


def eel_expr(rng: random.Random, depth: int) -> str:
    call = lambda sub: f"{rng.choice(EEL_FUNCS)}(" + ", ".join(  # noqa: E731
        sub() for _ in range(rng.choice([0, 1, 1, 2, 2, 3]))) + ")"
    return grammar_expr(rng, depth, lambda r: _number(r) if r.random() < 0.4 else _name(r, EEL_VARS), [
        (35, lambda sub: f"{sub()} {rng.choice(EEL_BINARY)} {sub()}"),
        (10, lambda sub: f"({sub()})"),
        (10, lambda sub: f"{rng.choice('-+!')}{sub()}"),
        (10, lambda sub: f"{sub()} ? {sub()} : {sub()}"),
        (10, lambda sub: f"{_name(rng, EEL_VARS)} {rng.choice(EEL_ASSIGN)} {sub()}"),
        (5, lambda sub: f"megabuf({sub()}) = {sub()}"),
        (20, call),
    ])


def eel_code(rng: random.Random, corpus_code: list[str]) -> str:
    """One code block's text (lines joined with newlines), at most MAX_CHARS."""
    return _eel_code(rng, corpus_code)[:MAX_CHARS]


MAX_CHARS = 300_000
"""Past the compilers' own limits (200,000 characters), so those are tried too."""


def _eel_code(rng: random.Random, corpus_code: list[str]) -> str:
    kind = rng.random()
    if kind < 0.35:
        return "\n".join(eel_expr(rng, rng.randint(1, 7)) + ";" for _ in range(rng.randint(1, 12)))
    if kind < 0.45:  # depth and length extremes
        atom = _name(rng, EEL_VARS)
        pattern = rng.choice(["chain", "parens", "calls", "unary", "long", "loops"])
        depth = rng.choice([50, 99, 100, 101, 150, 1000, 1000, 1000, 20000])
        atom = atom[:8]
        if pattern == "chain":
            return "x = " + _chain(rng, rng.choice([" ^ ", " = ", " ? 1 : ", " + ", " && ", " == "]), atom, depth) + ";"
        if pattern == "parens":
            return "x = " + "(" * depth + atom + ")" * rng.choice([depth, depth - 1, 0]) + ";"
        if pattern == "calls":
            f = rng.choice(["sin", "if", "loop", "exec2", "megabuf", "min"])
            return "x = " + f"{f}(" * depth + atom + ")" * depth + ";"
        if pattern == "unary":
            return "x = " + rng.choice(["-", "!", "+", "-!"]) * depth + atom + ";"
        if pattern == "long":
            return ";".join(f"{atom}{k} = {atom}{k - 1} + 1" for k in range(depth)) + ";"
        if rng.random() < 0.98:  # the budget makes these seconds each: a few are enough
            return rng.choice(["while(0);", "loop(10, x += 1);", "loop(-1, x = 1);", "loop(nan, 1);"])
        return rng.choice(["while(1);", "loop(1e9, loop(1e9, x += 1));", "while(while(while(1)));",
                           "loop(2147483648, megabuf(i) = i; i += 1);", "loop(1e300, gmegabuf(1e10) = rand(1e300));",
                           "while(x = x + 1; x < 1e300);"])
    if kind < 0.8 and corpus_code:
        return mutate_text(rng, rng.choice(corpus_code), 100_000)
    return token_soup(rng, EEL_TOKENS, rng.randint(1, 300))


# ---------------------------------------------------------------- HLSL

HLSL_TYPES = ["float", "float1", "float2", "float3", "float4", "half", "half2", "half3", "half4", "int", "int2",
              "bool", "float2x2", "float3x3", "float4x4", "sampler", "sampler2D", "void", "struct", "texture"]
HLSL_FUNCS = ["tex2D", "tex3D", "lerp", "saturate", "dot", "cross", "normalize", "length", "sin", "cos", "pow",
              "frac", "floor", "abs", "min", "max", "clamp", "step", "smoothstep", "atan2", "mul", "GetBlur1",
              "GetBlur2", "GetBlur3", "GetPixel", "tex2Dlod", "ddx", "noise", "nosuch", "float2", "float3", "float4"]
HLSL_VARS = ["uv", "ret", "uv_orig", "rad", "ang", "time", "q1", "texsize", "sampler_main", "sampler_fc_main",
             "sampler_noise_lq", "sampler_rand00", "sampler_pw_main", "sampler_blur1", "aspect", "hue_shader",
             "roam_cos", "slow_roam_sin", "_qa", "rand_frame", "x", "y", "c"]
HLSL_OPS = ["+", "-", "*", "/", "%", "<", ">", "<=", ">=", "==", "!=", "&&", "||", "=", "+=", "-=", "*=", "/=",
            "?", ":", "!", "~", "++", "--", ".", ",", ";", "(", ")", "[", "]", "{", "}", "#"]
HLSL_SWIZZLES = ["x", "xy", "xyz", "xyzw", "rgba", "zyx", "q", "xyzwx", "r", "bgr", "_m00", "xxxxxxxx"]
HLSL_DIRECTIVES = ["#define A A", "#define A B\n#define B A", "#define F(x) F(x)", "#define M(a,b) a##b",
                   "#if 1", "#if 0", "#ifdef A", "#else", "#endif", "#elif 1/0", "#include \"x\"", "#pragma once",
                   "#if (((((((1)))))))", "#if 1 << 63", "#undef A", "#error stop", "#define sampler_x sampler_main",
                   "#define X " + "X " * 50]


def hlsl_expr(rng: random.Random, depth: int) -> str:
    call = lambda sub: f"{rng.choice(HLSL_FUNCS)}(" + ", ".join(  # noqa: E731
        sub() for _ in range(rng.choice([0, 1, 2, 2, 3, 4]))) + ")"
    return grammar_expr(rng, depth, lambda r: _number(r) if r.random() < 0.3 else r.choice(HLSL_VARS), [
        (30, lambda sub: f"{sub()} {rng.choice(['+', '-', '*', '/', '<', '==', '&&', '%'])} {sub()}"),
        (10, lambda sub: f"({sub()})"),
        (10, lambda sub: f"{sub()}.{rng.choice(HLSL_SWIZZLES)}"),
        (10, lambda sub: f"{sub()} ? {sub()} : {sub()}"),
        (5, lambda sub: f"({rng.choice(HLSL_TYPES)}){sub()}"),
        (5, lambda sub: f"{sub()}[{sub()}]"),
        (30, call),
    ])


def hlsl_statement(rng: random.Random, depth: int) -> str:
    r = rng.random()
    if r < 0.35:
        return f"{rng.choice(HLSL_TYPES)} {rng.choice(HLSL_VARS)}{rng.choice(['', '[4]', '[0]', '[99999999]'])} = " \
               f"{hlsl_expr(rng, depth)};"
    if r < 0.6:
        return f"{rng.choice(HLSL_VARS)}{rng.choice(['', '.x', '.xy', '.q'])} {rng.choice(['=', '+=', '*='])} " \
               f"{hlsl_expr(rng, depth)};"
    if r < 0.7:
        return f"if ({hlsl_expr(rng, 2)}) {{ {hlsl_statement(rng, depth - 1)} }} else {hlsl_statement(rng, depth - 1)}"
    if r < 0.8:
        return f"for (int i = 0; i < {rng.choice(['4', '1e9', 'n', '2147483648'])}; i++) {{ {hlsl_statement(rng, depth - 1)} }}"
    if r < 0.85:
        return f"while ({hlsl_expr(rng, 2)}) {hlsl_statement(rng, depth - 1)}"
    if r < 0.9:
        return rng.choice(HLSL_DIRECTIVES)
    return f"{hlsl_expr(rng, depth)};"


def hlsl_shader(rng: random.Random, corpus_shaders: list[str]) -> str:
    """One shader's text, at most MAX_CHARS."""
    return _hlsl_shader(rng, corpus_shaders)[:MAX_CHARS]


def _hlsl_shader(rng: random.Random, corpus_shaders: list[str]) -> str:
    kind = rng.random()
    if kind < 0.35:
        head = "\n".join(rng.choice([f"sampler {rng.choice(HLSL_VARS)};", f"float4 {rng.choice(HLSL_VARS)};",
                                     rng.choice(HLSL_DIRECTIVES),
                                     f"float f(float x) {{ return {hlsl_expr(rng, 3)}; }}"])
                         for _ in range(rng.randint(0, 4)))
        body = "\n".join(hlsl_statement(rng, rng.randint(1, 5)) for _ in range(rng.randint(1, 15)))
        return f"{head}\nshader_body\n{{\n{body}\n}}\n"
    if kind < 0.45:
        depth = rng.choice([50, 100, 200, 1000, 20000])
        pattern = rng.choice(["parens", "chain", "calls", "blocks", "swizzle", "macro", "long"])
        inner = {
            "parens": "ret = " + "(" * depth + "1" + ")" * depth + ";",
            "chain": "ret = " + " + ".join(["uv.x"] * depth) + ";",
            "calls": "ret = " + "sin(" * depth + "1" + ")" * depth + ";",
            "blocks": "{" * depth + "ret = 1;" + "}" * depth,
            "swizzle": "ret = uv" + ".xy" * depth + ";",
            "macro": "\n".join(f"#define M{k} M{k - 1} + M{k - 1}" for k in range(1, min(depth, 64))) + "\nret = M63;",
            "long": "\n".join(f"float v{k} = v{k - 1} * 1.0001;" for k in range(depth)) + "\nret = v1;",
        }[pattern]
        return f"shader_body\n{{\n{inner}\n}}\n"
    if kind < 0.85 and corpus_shaders:
        text = rng.choice(corpus_shaders)
        if rng.random() < 0.5:  # token-level: keeps most of the shader's shape
            parts = text.split(" ")
            for _ in range(rng.randint(1, 6)):
                if not parts:
                    break
                i = rng.randrange(len(parts))
                op = rng.randrange(4)
                if op == 0:
                    del parts[i]
                elif op == 1:
                    parts.insert(i, rng.choice(HLSL_OPS + HLSL_TYPES + HLSL_FUNCS + HLSL_VARS + _NUMBERS))
                elif op == 2:
                    parts[i:i] = parts[i:i + rng.randint(1, 20)]
                else:
                    j = rng.randrange(len(parts))
                    parts[i], parts[j] = parts[j], parts[i]
            return " ".join(parts)
        return mutate_text(rng, text, 200_000)
    return "shader_body {" + token_soup(rng, HLSL_OPS + HLSL_TYPES + HLSL_FUNCS + HLSL_VARS + _NUMBERS + HLSL_DIRECTIVES,
                                        rng.randint(1, 400)) + "}"


# ---------------------------------------------------------------- .milk

MILK_KEYS = ["fDecay", "zoom", "rot", "warp", "nWaveMode", "fWaveAlpha", "bTexWrap", "nVideoEchoOrientation",
             "fVideoEchoZoom", "ob_size", "mv_x", "mv_a", "b1n", "fShader", "MILKDROP_PRESET_VERSION", "PSVERSION",
             "PSVERSION_WARP", "PSVERSION_COMP", "fRating", "nosuchkey", "wavecode_0_enabled", "wavecode_3_samples",
             "wavecode_9_enabled", "shapecode_0_num_inst", "shapecode_3_sides", "shapecode_0_enabled",
             "shapecode_-1_x", "wavecode_99999999999_r", "per_frame_1", "per_frame_999999999", "per_pixel_2",
             "per_frame_init_1", "wave_0_per_point1", "wave_3_per_frame99", "shape_0_per_frame1", "shape_2_init1",
             "warp_1", "comp_1", "warp_0", "comp_2147483648", "[preset00]", "[preset01]", "", "=", "ZOOM"]


def milk_file(rng: random.Random, corpus_files: list[bytes], corpus_code: list[str], corpus_shaders: list[str]) -> bytes:
    kind = rng.random()
    if kind < 0.55 and corpus_files:
        text = rng.choice(corpus_files).decode("latin-1")
        return mutate_text(rng, text, 600_000).encode("utf-8", errors="replace")
    if kind < 0.97:
        lines = ["[preset00]"] if rng.random() < 0.9 else []
        for _ in range(rng.randint(1, 80)):
            key = rng.choice(MILK_KEYS)
            r = rng.random()
            if key.startswith(("per_", "wave_", "shape_")):
                value = eel_code(rng, corpus_code).split("\n")[0]
            elif key.startswith(("warp_", "comp_")):
                value = "`" + hlsl_shader(rng, corpus_shaders).split("\n")[0]
            elif r < 0.8:
                value = _number(rng)
            else:
                value = rng.choice(_ODD) * rng.randint(1, 5)
            lines.append(f"{key}={value}" if key and not key.startswith("[") else key)
        sep = rng.choice(["\n", "\r\n", "\r", "\n\n"])
        return sep.join(lines).encode(rng.choice(["utf-8", "latin-1", "utf-16"]), errors="replace")
    extreme = rng.randrange(6)
    if extreme == 0:
        return b"[preset00]\n" + b"zoom=1.0\n" * rng.choice([10, 10_000, 200_000])
    if extreme == 1:
        return b"[preset00]\nper_frame_1=" + b"x" * rng.choice([1000, 1_000_000]) + b";\n"
    if extreme == 2:
        return b"".join(f"per_frame_{k}=x{k}=1;\n".encode() for k in rng.sample(range(1, 10**9), 2000))
    if extreme == 3:
        return bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 100, 5000])))
    if extreme == 4:
        return b"[preset00]\n" + b"".join(f"wavecode_{k % 4}_enabled=1\nwave_{k % 4}_per_point{k}=y=y+1;\n".encode()
                                         for k in range(5000))
    return b"\xef\xbb\xbf[preset00]\r\nwarp_1=`shader_body {\r\n" + b"warp_2=`ret = 1;\r\n" * 20_000


# ---------------------------------------------------------------- corpus


def load_corpus(root: Path = CORPUS, every: int = 3) -> tuple[list[bytes], list[str], list[str]]:
    """(files, code blocks, shaders) from every ``every``-th corpus preset; empty without the corpus."""
    from renderer.milk.files import find_presets
    from renderer.milk.preset import parse_milk

    files, code, shaders = [], [], []
    if not root.is_dir():
        return files, code, shaders
    for path in find_presets(root)[::every]:
        blob = path.read_bytes()
        files.append(blob)
        try:
            preset = parse_milk(blob, str(path))
        except ValueError:
            continue
        for lines in preset.code_sections().values():
            if lines:
                code.append("\n".join(lines))
        shaders += [s for s in (preset.warp_shader, preset.comp_shader) if s.strip()]
    return files, code, shaders
