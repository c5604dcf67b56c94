"""Tokenizer and preprocessor for MilkDrop's HLSL subset.

MilkDrop runs the D3DX preprocessor over preset shaders, so presets rely on `#define` aliases
(`#define sampler_pic sampler_cells`, `#define MyGet GetPixel`) and `#if 0/1` blocks.  We implement
just enough of a C preprocessor (object- and function-like macros, #if/#ifdef/#else/#elif/#endif
with integer conditions) at token level, so that line numbers survive for error messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


class ShaderError(Exception):
    """A shader that cannot be translated or compiled; names the stage and the line."""

    def __init__(self, stage: str, line: int | None, message: str):
        self.stage = stage
        self.line = line
        self.message = message
        where = f"line {line}: " if line else ""
        super().__init__(f"{stage} shader: {where}{message}")


@dataclass(frozen=True)
class Token:
    kind: str   # 'id' | 'num' | 'op' | 'eof'
    text: str
    line: int


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[fFhHuUlL]?|0[xX][0-9a-fA-F]+)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><<=|>>=|\+\+|--|&&|\|\||==|!=|<=|>=|\+=|-=|\*=|/=|%=|&=|\|=|\^=|<<|>>|\#\#|[-+*/%<>=!&|^~?:;,.()\[\]{}\#])
    """,
    re.VERBOSE,
)


def strip_comments(text: str) -> str:
    """Remove // and /* */ comments, keeping newlines so line numbers stay right."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and i + 1 < n and text[i + 1] == "/":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and i + 1 < n and text[i + 1] == "*":
            j = text.find("*/", i + 2)
            chunk = text[i:n if j < 0 else j + 2]
            out.append("\n" * chunk.count("\n"))
            i = n if j < 0 else j + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize_line(line: str, lineno: int, stage: str) -> list[Token]:
    toks: list[Token] = []
    pos = 0
    while pos < len(line):
        m = _TOKEN_RE.match(line, pos)
        if not m:
            raise ShaderError(stage, lineno, f"unexpected character {line[pos]!r}")
        kind = m.lastgroup
        if kind == "num":
            toks.append(Token("num", m.group(), lineno))
        elif kind == "id":
            toks.append(Token("id", m.group(), lineno))
        elif kind == "op":
            toks.append(Token("op", m.group(), lineno))
        pos = m.end()
    return toks


@dataclass
class _Macro:
    params: list[str] | None  # None: object-like
    body: list[Token]


def _eval_condition(toks: list[Token], macros: dict[str, _Macro], stage: str, line: int) -> bool:
    """#if conditions in presets are integer literals, defined(X), !, && and ||; nothing else."""
    words = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "id" and t.text == "defined":
            j = i + 1
            paren = j < len(toks) and toks[j].text == "("
            name_tok = toks[j + 1] if paren else toks[j] if j < len(toks) else None
            if name_tok is None:
                raise ShaderError(stage, line, "bad defined() in #if")
            words.append("1" if name_tok.text in macros else "0")
            i = j + (3 if paren else 1)
            continue
        if t.kind == "id":
            m = macros.get(t.text)
            words.append(" ".join(b.text for b in m.body) if m and m.params is None else "0")
        elif t.kind == "num":
            words.append(str(int(float(t.text.rstrip("fFhHuUlL")))) if not t.text.lower().startswith("0x")
                         else str(int(t.text, 16)))
        elif t.text in ("!", "&&", "||", "(", ")", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*"):
            words.append({"!": " not ", "&&": " and ", "||": " or "}.get(t.text, t.text))
        else:
            raise ShaderError(stage, line, f"unsupported token {t.text!r} in #if")
        i += 1
    expr = " ".join(words)
    return bool(_safe_int_eval(expr, stage, line))


def _safe_int_eval(expr: str, stage: str, line: int) -> int:
    """Evaluate an integer expression by a tiny precedence-climbing parser (never Python eval)."""
    toks = re.findall(r"\d+|==|!=|<=|>=|not|and|or|[()<>+\-*]", expr)
    pos = 0

    def peek():
        return toks[pos] if pos < len(toks) else None

    def take():
        nonlocal pos
        pos += 1
        return toks[pos - 1]

    prec = {"or": 1, "and": 2, "==": 3, "!=": 3, "<": 4, ">": 4, "<=": 4, ">=": 4, "+": 5, "-": 5, "*": 6}

    def unary():
        t = take() if peek() is not None else None
        if t == "not":
            return int(not unary())
        if t == "-":
            return -unary()
        if t == "(":
            v = binary(0)
            take()
            return v
        if t is None or not t.isdigit():
            raise ShaderError(stage, line, f"bad #if expression {expr!r}")
        return int(t)

    def binary(minp):
        lhs = unary()
        while peek() in prec and prec[peek()] > minp:
            op = take()
            rhs = binary(prec[op])
            lhs = {"or": lambda a, b: int(bool(a) or bool(b)), "and": lambda a, b: int(bool(a) and bool(b)),
                   "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
                   ">": lambda a, b: int(a > b), "<=": lambda a, b: int(a <= b), ">=": lambda a, b: int(a >= b),
                   "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}[op](lhs, rhs)
        return lhs

    return binary(0)


def _expand(toks: list[Token], macros: dict[str, _Macro], stage: str, hidden: frozenset = frozenset(),
            depth: int = 0) -> list[Token]:
    if depth > 32:
        raise ShaderError(stage, toks[0].line if toks else None, "macro expansion too deep")
    out: list[Token] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        m = macros.get(t.text) if t.kind == "id" and t.text not in hidden else None
        if m is None:
            out.append(t)
            i += 1
            continue
        if m.params is None:
            body = [Token(b.kind, b.text, t.line) for b in m.body]
            out.extend(_expand(body, macros, stage, hidden | {t.text}, depth + 1))
            i += 1
            continue
        if i + 1 >= len(toks) or toks[i + 1].text != "(":
            out.append(t)   # function-like macro name not followed by '(' stays as is
            i += 1
            continue
        args: list[list[Token]] = [[]]
        level, j = 0, i + 2
        while j < len(toks):
            a = toks[j]
            if a.text == "(":
                level += 1
            elif a.text == ")":
                if level == 0:
                    break
                level -= 1
            elif a.text == "," and level == 0:
                args.append([])
                j += 1
                continue
            args[-1].append(a)
            j += 1
        if j >= len(toks):
            raise ShaderError(stage, t.line, f"unterminated call of macro {t.text}")
        if args == [[]] and not m.params:
            args = []
        if len(args) != len(m.params):
            raise ShaderError(stage, t.line, f"macro {t.text} takes {len(m.params)} arguments")
        amap = {p: _expand(a, macros, stage, hidden, depth + 1) for p, a in zip(m.params, args)}
        body: list[Token] = []
        for b in m.body:
            body.extend(amap[b.text] if b.kind == "id" and b.text in amap else [Token(b.kind, b.text, t.line)])
        out.extend(_expand(body, macros, stage, hidden | {t.text}, depth + 1))
        i = j + 1
    return out


def preprocess(text: str, stage: str) -> list[Token]:
    """Comments, directives and macros -> a flat token list ending with an 'eof' token."""
    text = strip_comments(text.replace("\r\n", "\n").replace("\r", "\n"))
    macros: dict[str, _Macro] = {}
    stack: list[list[bool]] = []   # [active, any_branch_taken]
    out: list[Token] = []
    lines = text.split("\n")
    idx = 0
    while idx < len(lines):
        lineno = idx + 1
        line = lines[idx]
        while line.endswith("\\") and idx + 1 < len(lines):   # line continuation
            idx += 1
            line = line[:-1] + " " + lines[idx]
        idx += 1
        active = all(s[0] for s in stack)
        stripped = line.strip()
        if stripped.startswith("#"):
            toks = tokenize_line(stripped[1:], lineno, stage)
            if not toks:
                continue
            d = toks[0].text
            rest = toks[1:]
            if d in ("if", "ifdef", "ifndef"):
                if not active:
                    stack.append([False, True])
                    continue
                if d == "if":
                    cond = _eval_condition(rest, macros, stage, lineno)
                else:
                    cond = bool(rest) and (rest[0].text in macros) == (d == "ifdef")
                stack.append([cond, cond])
            elif d == "elif":
                if not stack:
                    raise ShaderError(stage, lineno, "#elif without #if")
                top = stack[-1]
                outer = all(s[0] for s in stack[:-1])
                cond = outer and not top[1] and _eval_condition(rest, macros, stage, lineno)
                top[0] = cond
                top[1] = top[1] or cond
            elif d == "else":
                if not stack:
                    raise ShaderError(stage, lineno, "#else without #if")
                top = stack[-1]
                top[0] = not top[1]
                top[1] = True
            elif d == "endif":
                if not stack:
                    raise ShaderError(stage, lineno, "#endif without #if")
                stack.pop()
            elif not active:
                continue
            elif d == "define":
                if not rest or rest[0].kind != "id":
                    raise ShaderError(stage, lineno, "#define needs a name")
                name = rest[0].text
                # function-like only when '(' follows the name without a space
                m = re.match(r"\s*define\s+" + re.escape(name) + r"\(", stripped[1:])
                if m:
                    close = next((k for k, t in enumerate(rest) if t.text == ")"), None)
                    if close is None:
                        raise ShaderError(stage, lineno, f"bad parameter list in #define {name}")
                    params = [t.text for t in rest[2:close] if t.text != ","]
                    macros[name] = _Macro(params, rest[close + 1:])
                else:
                    macros[name] = _Macro(None, rest[1:])
            elif d == "undef":
                if rest:
                    macros.pop(rest[0].text, None)
            elif d in ("pragma", "line"):
                pass
            else:
                raise ShaderError(stage, lineno, f"unsupported directive #{d}")
            continue
        if not active:
            continue
        out.extend(tokenize_line(line, lineno, stage))
    if stack:
        raise ShaderError(stage, None, "#if without #endif")
    out = _expand(out, macros, stage)
    out.append(Token("eof", "", out[-1].line if out else 1))
    return out
