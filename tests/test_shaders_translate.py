"""HLSL -> GLSL translation: each construct is translated, compiled by Mesa and rendered to check
the value HLSL semantics demand (not just that it compiles)."""
import os

os.environ.setdefault("LP_NUM_THREADS", "0")

import numpy as np
import pytest

from renderer.shaders.translate import ShaderError, translate

moderngl = pytest.importorskip("moderngl")

COMP_VERTEX = """#version 330 core
in vec2 in_pos; out vec2 v_uv;
void main() { v_uv = in_pos * 0.5 + 0.5; gl_Position = vec4(in_pos, 0.0, 1.0); }
"""


def render(ctx, hlsl: str, main_color=(0.25, 0.5, 0.75, 1.0), uniforms=None, stage="comp", warp_uv=(0.5, 0.5)):
    """Translate, compile and draw a 1x1 pixel (uv = 0.5, 0.5); returns ret.xyz as floats."""
    sh = translate(hlsl, stage)
    prog = ctx.program(vertex_shader=COMP_VERTEX, fragment_shader=sh.glsl)
    tex = ctx.texture((2, 2), 4, np.array([main_color] * 4, dtype="f4").tobytes(), dtype="f4")
    for unit, ref in enumerate(sh.samplers):
        tex.use(unit)
        if ref.uniform in prog:
            prog[ref.uniform].value = unit
    cells = None
    if stage == "warp":  # a 1x1-cell warp mesh whose four vertices all carry uv = warp_uv
        from renderer.stages.warp_mesh import pack_cells

        cells = ctx.texture((2, 1), 4, pack_cells(np.full((2, 2, 2), warp_uv, "f4")).tobytes(), dtype="f4")
        cells.use(len(sh.samplers))
        prog["_md_cell_uv"].value = len(sh.samplers)
        prog["_md_cells"].value = (1.0, 1.0)
        prog["_md_pixels"].value = (1.0, 1.0)
    if "aspect" in prog:
        prog["aspect"].value = (1.0, 1.0, 1.0, 1.0)
    for k, v in (uniforms or {}).items():
        if k in prog:
            prog[k].value = v
    out = ctx.texture((1, 1), 4, dtype="f4")
    fbo = ctx.framebuffer([out])
    vbo = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4").tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "2f", "in_pos")])
    fbo.use()
    vao.render(moderngl.TRIANGLE_STRIP)
    px = np.frombuffer(fbo.read(components=4, dtype="f4"), dtype="f4")[:3].copy()
    for o in (vao, vbo, fbo, out, tex, prog) + ((cells,) if cells is not None else ()):
        o.release()
    return px


def body(code: str, head: str = "") -> str:
    return f"{head}\nshader_body\n{{\n{code}\n}}\n"


def close(px, expected, tol=1e-4):
    return np.allclose(px, expected, atol=tol), (px, expected)


@pytest.mark.parametrize("code,expected", [
    # HLSL % and fmod truncate toward zero (GLSL mod floors: would give 0.5)
    ("ret = float3(-7.5 % 2, 7.5 % 2, fmod(-7.5, 2));", (-1.5, 1.5, -1.5)),
    # row-major matrices: mul(v, M) takes rows, mul(M, v) columns
    ("float2x2 m = float2x2(1,2,3,4); float2 v = mul(float2(1,0), m); float2 w = mul(m, float2(1,0));"
     "ret = float3(v.x, v.y, w.y);", (1, 2, 3)),
    ("float3x3 m = float3x3(1,0,0, 0,2,0, 0,0,3); ret = mul(float3(1,1,1), m) * 0.1;", (0.1, 0.2, 0.3)),
    ("float2x2 m = float2x2(1,2,3,4); ret = float3(m[1], m._m01);", (3, 4, 2)),
    ("ret = saturate(float3(-1, 0.5, 2));", (0, 0.5, 1)),
    ("ret = 0.25;", (0.25, 0.25, 0.25)),                                   # scalar broadcast
    ("float2 p = 1; ret = float3(p, 3);", (1, 1, 3)),                      # scalar literal -> vector
    ("ret = float4(0.1, 0.2, 0.3, 0.9);", (0.1, 0.2, 0.3)),                # float4 -> float3 truncation
    ("ret = float3(1,2,3) * float4(2,2,2,100);", (2, 4, 6)),               # size mismatch: smaller wins
    ("ret = 1/2 + 0.25;", (0.25, 0.25, 0.25)),                             # int literals divide as ints
    ("float s = 9; ret = s / 2;", (4.5, 4.5, 4.5)),                        # int assigned to float
    ("float a = 0.5; ret = a.xxx * float3(1,2,3);", (0.5, 1, 1.5)),        # scalar swizzle
    ("ret = lerp(float3(0,0,0), 1, 0.25);", (0.25, 0.25, 0.25)),           # lerp mixed dims
    ("ret = pow(float3(4,9,16), 0.5);", (2, 3, 4)),                        # pow(vec, scalar)
    ("ret = max(float3(1,5,1), float4(2,2,2,2));", (2, 5, 2)),             # max(vec3, vec4)
    ("float2 z = 0; z.x += float3(1,2,3); ret = float3(z, 0);", (1, 0, 0)),  # compound size mismatch
    ("float lum = 0.5; ret = lum(float3(1,1,1)) * lum;", (0.55, 0.55, 0.55)),  # local named lum
    ("float3 main = float3(0.1,0.2,0.3); ret = main;", (0.1, 0.2, 0.3)),   # GLSL-reserved name
    ("ret = 0.1, ret.y = 0.7;", (0.1, 0.7, 0.1)),                          # comma operator
    ("float s = 0; for (int i = 0; i < 4; i++) s += 0.1; int j = 0; while (j < 3) { s += 0.1; j++; } ret = s;",
     (0.7, 0.7, 0.7)),
    ("float s = 0; while (1) { s += 0.001; } ret = s;", (1.024, 1.024, 1.024)),  # endless loop is capped
    ("q1 = 0.3; ret = q1;", (0.3, 0.3, 0.3)),                              # assigning a uniform (HLSL allows)
    ("float2 a = float2(0.2, 0.8); ret = float3((a > 0.5) * 2, 0);", (0, 2, 0)),   # per-component compare
    ("float2 c = float2(1, 0); ret = float3(c ? float2(0.3,0.3) : float2(0.6,0.6), 0);", (0.3, 0.6, 0)),
    ("ret = atan2(1, 0) / M_PI;", (0.5, 0.5, 0.5)),
    ("ret = frac(-0.25) + rsqrt(4);", (1.25, 1.25, 1.25)),
    ("float ip; float f = modf(2.75, ip); ret = float3(f, ip, 0);", (0.75, 2, 0)),
    ("ret = (float3)0.5 + (float)1;", (1.5, 1.5, 1.5)),                    # C-style casts
    ("float3 c = {0.1, 0.2, 0.3}; ret = c;", (0.1, 0.2, 0.3)),             # initialiser list
    ("ret = dot(float3(1,1,1), float4(1,2,3,4));", (6, 6, 6)),
    ("int i = 7; ret = i / 2;", (3, 3, 3)),                               # int division stays int
    ("ret = (0.5 && 0) + (0.5 || 0) * 0.25;", (0.25, 0.25, 0.25)),
])
def test_construct_values(ctx, code, expected):
    ok, info = close(render(ctx, body(code)), expected, 2e-3)
    assert ok, info


@pytest.mark.parametrize("head,code,expected", [
    # HLSL arrays: a sized table, an unsized one counted from its list, element assignment,
    # a dynamic index in a loop; initialiser lists flatten component by component
    ("static const float w[3] = {0.1, 0.2, 0.4};", "float s = 0; for (int i = 0; i < 3; i++) s += w[i]; ret = s;",
     (0.7, 0.7, 0.7)),
    ("float2 offs[] = {{0.1, 0.2}, 0.3, 0.4};", "ret = float3(offs[0], offs[1].y);", (0.1, 0.2, 0.4)),
    ("", "float3 p[2]; p[1] = float3(0.3, 0.2, 0.1); p[0] = 0.5; ret = p[1] + p[0].x;", (0.8, 0.7, 0.6)),
    ("", "float a[2] = {0.25, 0.75}; int k = 5; ret = a[k];", (0.75, 0.75, 0.75)),   # index clamped
])
def test_arrays(ctx, head, code, expected):
    ok, info = close(render(ctx, body(code, head)), expected, 2e-3)
    assert ok, info


@pytest.mark.parametrize("code,fragment", [
    ("float a[2]; ret = a;", "only usable indexed"),
    ("float a[2] = {1, 2, 3}; ret = 0;", "initial values"),
    ("int n = 2; float a[n]; ret = 0;", "whole number"),
])
def test_array_misuse_is_a_clear_error(code, fragment):
    with pytest.raises(ShaderError) as ei:
        translate(body(code), "comp")
    assert fragment in str(ei.value)


def test_globals_static_const_and_user_function(ctx):
    src = body("g = 0.1; ret = f(0.2);",
               "static const float k = 2;\nfloat g;\nfloat f(float x) { return x * k + g; }")
    assert close(render(ctx, src), (0.5, 0.5, 0.5))[0]


def test_static_initialiser_from_uniform(ctx):
    src = body("ret = v;", "static float3 v = float3(q1, q2, 0) * 2;")
    assert close(render(ctx, src, uniforms={"_qa": (0.1, 0.2, 0.3, 0.4)}), (0.2, 0.4, 0))[0]


def test_out_parameter_and_overload(ctx):
    src = body("float a; split(0.25, a); ret = float3(a, twice(0.1), twice(float2(0.2, 0.3)).y);",
               "void split(float x, out float y) { y = x * 2; }\nfloat twice(float x) { return 2*x; }\n"
               "float2 twice(float2 x) { return 2*x; }")
    assert close(render(ctx, src), (0.5, 0.2, 0.6))[0]


def test_preprocessor_define_if_and_sampler_alias(ctx):
    src = ("#define K 0.5\n#if 0\n#define K 2\n#else\n#define J 0.25\n#endif\n"
           "#define sampler_pic sampler_main\n#define MyGet GetPixel\n#define SQ(x) ((x)*(x))\n"
           "sampler sampler_pic;\n"
           "shader_body {\n ret = tex2D(sampler_pic, uv).xyz * K + MyGet(uv) * J + SQ(0.5) - 0.25;\n}")
    px = render(ctx, src, main_color=(0.4, 0.8, 0.2, 1.0))
    assert close(px, (0.4 * 0.75, 0.8 * 0.75, 0.2 * 0.75))[0], px


def test_main_samplers_tex2d_lowercase_and_getpixel(ctx):
    px = render(ctx, body("ret = tex2d(sampler_fw_main, uv).xyz - GetPixel(uv) + tex2D(sampler_pc_main, uv).zyx;"),
                main_color=(0.1, 0.2, 0.3, 1.0))
    assert close(px, (0.3, 0.2, 0.1))[0], px


def test_getblur_rescales_by_blur_range(ctx):
    # the blur texture is bound to the same 2x2 texture here; GetBlur1 = tex*(max-min)+min
    px = render(ctx, body("ret = GetBlur1(uv);"), main_color=(0.5, 0.5, 0.5, 1.0),
                uniforms={"blur1_min": 0.2, "blur1_max": 0.6})
    assert close(px, (0.4, 0.4, 0.4))[0], px


def test_prelude_uniform_names(ctx):
    px = render(ctx, body("ret = float3(time, bass_att, texsize.z) + aspect.x * 0;"),
                uniforms={"time": 1.5, "bass_att": 0.75, "texsize": (64, 64, 1 / 64, 1 / 64)})
    assert close(px, (1.5, 0.75, 1 / 64))[0], px


def test_warp_uv_and_ret_starts_at_zero(ctx):
    px = render(ctx, body("ret += float3(uv, uv_orig.x);"), stage="warp", warp_uv=(0.2, 0.7))
    assert close(px, (0.2, 0.7, 0.5))[0], px


def test_sampler_refs_from_names():
    sh = translate(body("ret = tex2D(sampler_fw_clouds, uv).xyz + tex2D(sampler_pc_main, uv).xyz"
                        " + tex3D(sampler_noisevol_hq, float3(uv, 0)).xyz + tex2D(sampler_rand00_smalltiled, uv).xyz;",
                        "sampler sampler_fw_clouds; sampler2D sampler_pc_main; float4 texsize_clouds;"), "comp")
    refs = {r.uniform: r for r in sh.samplers}
    assert refs["sampler_fw_clouds"].texture == "clouds" and refs["sampler_fw_clouds"].wrap == "repeat"
    assert refs["sampler_pc_main"].filter == "nearest" and refs["sampler_pc_main"].wrap == "clamp"
    assert refs["sampler_noisevol_hq"].dim == 3
    assert [r.texture for r in sh.user_textures] == ["clouds", "rand00_smalltiled"]
    assert "uniform sampler3D sampler_noisevol_hq;" in sh.glsl


@pytest.mark.parametrize("code,level", [("ret = GetBlur2(uv);", 2), ("ret = GetBlur3(uv) + GetBlur1(uv);", 3),
                                        ("ret = 0;", 0)])
def test_uses_blur(code, level):
    assert translate(body(code), "comp").uses_blur == level


@pytest.mark.parametrize("src,line,fragment", [
    ("shader_body {\n ret = 1;\n ret = nothere;\n}", 3, "nothere"),
    ("shader_body {\n ret = (1;\n}", 2, "expected"),
    ("float3 x = 1;", None, "shader_body"),
    ("shader_body {\n ret.q = 1;\n}", 2, "swizzle"),
])
def test_errors_name_the_line(src, line, fragment):
    with pytest.raises(ShaderError) as ei:
        translate(src, "warp")
    assert ei.value.stage == "warp"
    assert ei.value.line == line
    assert fragment in str(ei.value)


def test_generated_code_never_contains_preset_text_verbatim_outside_identifiers():
    # hostile text cannot smuggle GLSL: unknown tokens are rejected by the lexer
    with pytest.raises(ShaderError):
        translate('shader_body { ret = 1; } "#extension"', "comp")


def test_shader_longer_than_the_limit_is_refused_at_once():
    from renderer.shaders.translate import MAX_SHADER_CHARS

    text = "shader_body {\n" + "ret = ret * 0.5;\n" * (MAX_SHADER_CHARS // 17) + "}\n"
    with pytest.raises(ShaderError, match="longer than the 200,000 translated"):
        translate(text, "comp")
