"""HLSL intrinsics and MilkDrop macros (GetPixel, GetBlurN, lum, tex2D...) rendered as GLSL.

Each handler receives the emitter, the call node and the already-emitted arguments (Expr: code,
type, int-literal flag) and returns an Expr.  Elementwise intrinsics convert every argument to
the common HLSL type first, which is where `lerp(ret, 1, a)`, `pow(ret, 0.5)` and
`max(float3, float4)` get their explicit broadcasts and truncations.
"""
from __future__ import annotations

from dataclasses import dataclass

from .hlsl_types import BOOL, FLOAT, INT, HType, common_type, convert, vec


@dataclass
class Expr:
    code: str
    type: HType
    int_lit: bool = False
    lvalue: bool = False
    array: bool = False    # an array variable (type is its element's): only valid indexed


def to(e: Expr, t: HType) -> str:
    return convert(e.code, e.type, t, e.int_lit)


def floatify(t: HType) -> HType:
    return t.with_base("float") if t.is_numeric else t


_UNARY = {  # HLSL name -> GLSL name, result type = argument type (as float)
    "abs": "abs", "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "exp": "exp", "exp2": "exp2", "log": "log",
    "log2": "log2", "sqrt": "sqrt", "floor": "floor", "ceil": "ceil", "round": "round", "trunc": "trunc",
    "sign": "sign", "frac": "fract", "rsqrt": "inversesqrt", "degrees": "degrees", "radians": "radians",
    "ddx": "dFdx", "ddy": "dFdy", "fwidth": "fwidth", "normalize": "normalize",
    "ddx_fine": "dFdx", "ddy_fine": "dFdy", "ddx_coarse": "dFdx", "ddy_coarse": "dFdy",
}
_BINARY = {"pow": "pow", "atan2": "atan", "step": "step", "max": "max", "min": "min", "fmod": "_hmod",
           "reflect": "reflect"}
_TERNARY = {"lerp": "mix", "clamp": "clamp", "smoothstep": "smoothstep"}


def _elementwise(em, node, args: list[Expr], glsl_name: str) -> Expr:
    t = floatify(common_type([a.type for a in args]))
    if t.is_matrix:
        em.fail(node, f"{node.name}() on a matrix is not supported")
    if glsl_name == "_hmod":
        em.need_helper("_hmod")
    if glsl_name == "mix" and args[2].type.is_scalar:
        # mix(genType, genType, float) is legal GLSL and keeps the interpolant a scalar
        return Expr(f"mix({to(args[0], t)}, {to(args[1], t)}, {to(args[2], FLOAT)})", t)
    return Expr(f"{glsl_name}({', '.join(to(a, t) for a in args)})", t)


def _arity(em, node, args, n):
    if len(args) != n:
        em.fail(node, f"{node.name}() takes {n} argument{'s' if n != 1 else ''}, got {len(args)}")


def _tex_coord(em, node, e: Expr, n: int) -> str:
    if e.type.is_matrix or not e.type.is_numeric:
        em.fail(node, f"bad texture coordinate for {node.name}()")
    return to(e, vec(n))


def _flipped(em, coord: str) -> str:
    """MilkDrop uv (y = 0 at the top) -> GL texture coordinate (t = 1 at the top).

    Preset shaders see MilkDrop's uv, so `uv.y += d` moves the picture the way it does in
    MilkDrop; every 2D texture (main, blur, noise, user images) is stored with its top at t = 1,
    so each 2D lookup flips y.  3D noise is sampled as given (it has no "up").
    """
    em.need_helper("_md_fy")
    return f"_md_fy({coord})"


def _sampler(em, node, e: Expr) -> HType:
    if not e.type.is_sampler:
        em.fail(node, f"first argument of {node.name}() must be a sampler")
    return e.type


def call_intrinsic(em, node, args: list[Expr]) -> Expr | None:
    """GLSL for an intrinsic/macro call, or None when `node.name` is not one."""
    name = node.name
    if name in ("tex2d",):
        name = "tex2D"
    if name in ("tex3d",):
        name = "tex3D"
    if name in _UNARY:
        _arity(em, node, args, 1)
        t = floatify(args[0].type)
        if name == "normalize" and t.is_scalar:
            return Expr(f"sign({to(args[0], t)})", t)
        return Expr(f"{_UNARY[name]}({to(args[0], t)})", t)
    if name == "saturate":
        _arity(em, node, args, 1)
        t = floatify(args[0].type)
        return Expr(f"clamp({to(args[0], t)}, 0.0, 1.0)", t)
    if name == "log10":
        _arity(em, node, args, 1)
        t = floatify(args[0].type)
        return Expr(f"(log2({to(args[0], t)}) * 0.30102999566)", t)
    if name in _BINARY:
        _arity(em, node, args, 2)
        return _elementwise(em, node, args, _BINARY[name])
    if name in _TERNARY:
        _arity(em, node, args, 3)
        return _elementwise(em, node, args, _TERNARY[name])
    if name == "mad":
        _arity(em, node, args, 3)
        t = floatify(common_type([a.type for a in args]))
        return Expr(f"({to(args[0], t)} * {to(args[1], t)} + {to(args[2], t)})", t)
    if name in ("dot", "distance"):
        _arity(em, node, args, 2)
        t = floatify(common_type([a.type for a in args]))
        if name == "dot" and t.is_scalar:
            return Expr(f"({to(args[0], t)} * {to(args[1], t)})", FLOAT)
        return Expr(f"{name}({to(args[0], t)}, {to(args[1], t)})", FLOAT)
    if name == "length":
        _arity(em, node, args, 1)
        t = floatify(args[0].type)
        return Expr(f"length({to(args[0], t)})", FLOAT)
    if name == "cross":
        _arity(em, node, args, 2)
        return Expr(f"cross({to(args[0], vec(3))}, {to(args[1], vec(3))})", vec(3))
    if name == "refract":
        _arity(em, node, args, 3)
        t = floatify(common_type([args[0].type, args[1].type]))
        return Expr(f"refract({to(args[0], t)}, {to(args[1], t)}, {to(args[2], FLOAT)})", t)
    if name in ("all", "any"):
        _arity(em, node, args, 1)
        t = args[0].type
        if t.is_scalar:
            return Expr(to(args[0], BOOL), BOOL)
        return Expr(f"{name}({to(args[0], t.with_base('bool'))})", BOOL)
    if name in ("isnan", "isinf"):
        _arity(em, node, args, 1)
        t = floatify(args[0].type)
        return Expr(f"{name}({to(args[0], t)})", t.with_base("bool"))
    if name == "modf":
        _arity(em, node, args, 2)
        t = floatify(args[0].type)
        if args[1].type != t:
            em.fail(node, "modf(): the output argument must have the type of the input")
        return Expr(f"modf({to(args[0], t)}, {args[1].code})", t)
    if name == "sincos":
        _arity(em, node, args, 3)
        t = floatify(args[0].type)
        x = to(args[0], t)
        return Expr(f"({args[1].code} = {convert(f'sin({x})', t, args[1].type)}, "
                    f"{args[2].code} = {convert(f'cos({x})', t, args[2].type)})", VOID_T)
    if name == "mul":
        _arity(em, node, args, 2)
        return _mul(em, node, args[0], args[1])
    if name == "transpose":
        _arity(em, node, args, 1)
        t = args[0].type
        if not t.is_matrix:
            return args[0]
        return Expr(f"transpose({args[0].code})", HType("float", t.rows, t.dim))
    if name == "determinant":
        _arity(em, node, args, 1)
        return Expr(f"determinant({args[0].code})", FLOAT)
    if name == "lum":
        _arity(em, node, args, 1)
        return Expr(f"dot({to(args[0], vec(3))}, vec3(0.32, 0.49, 0.29))", FLOAT)
    if name in ("GetPixel", "GetMain"):
        _arity(em, node, args, 1)
        s = em.use_sampler("sampler_main", node)
        return Expr(f"texture({s}, {_flipped(em, _tex_coord(em, node, args[0], 2))}).xyz", vec(3))
    if name in ("GetBlur1", "GetBlur2", "GetBlur3"):
        _arity(em, node, args, 1)
        n = name[-1]
        s = em.use_sampler(f"sampler_blur{n}", node)
        lo, hi = em.use_uniform(f"blur{n}_min"), em.use_uniform(f"blur{n}_max")
        return Expr(f"(texture({s}, {_flipped(em, _tex_coord(em, node, args[0], 2))}).xyz * ({hi} - {lo}) + {lo})",
                    vec(3))
    if name in ("tex2D", "tex3D", "tex2Dbias", "tex2Dlod", "tex2Dproj", "tex2Dgrad", "tex3Dlod", "tex3Dbias"):
        return _texture(em, node, name, args)
    return None


VOID_T = HType("void")


def _texture(em, node, name: str, args: list[Expr]) -> Expr:
    if len(args) < 2:
        em.fail(node, f"{node.name}() needs a sampler and coordinates")
    st = _sampler(em, node, args[0])
    n = 3 if st.base == "sampler3D" else 2
    s = args[0].code
    if name in ("tex2D", "tex3D"):
        c = _tex_coord(em, node, args[1], n)
        return Expr(f"texture({s}, {_flipped(em, c) if n == 2 else c})", vec(4))
    c4 = _tex_coord(em, node, args[1], 4)
    sw = "xyz" if n == 3 else "xy"
    if name in ("tex2Dbias", "tex3Dbias"):
        return Expr(f"_texbias{n}({s}, {c4})", vec(4), ) if em.need_helper(f"_texbias{n}") else None
    if name in ("tex2Dlod", "tex3Dlod"):
        return Expr(f"_texlod{n}({s}, {c4})", vec(4)) if em.need_helper(f"_texlod{n}") else None
    if name == "tex2Dproj":
        em.need_helper("_md_fyp")
        return Expr(f"textureProj({s}, _md_fyp({c4}))", vec(4))
    if name == "tex2Dgrad":
        _arity(em, node, args, 4)
        em.need_helper("_md_fyg")
        return Expr(f"textureGrad({s}, {_flipped(em, _tex_coord(em, node, args[1], 2))}, "
                    f"_md_fyg({to(args[2], vec(2))}), _md_fyg({to(args[3], vec(2))}))", vec(4))
    em.fail(node, f"unsupported {name}")
    return Expr("", vec(4), sw == "")


TEX_HELPERS = {
    "_md_fy": "vec2 _md_fy(vec2 c) { return vec2(c.x, 1.0 - c.y); }",
    "_md_fyp": "vec4 _md_fyp(vec4 c) { return vec4(c.x, c.w - c.y, c.z, c.w); }",   # y/w -> 1 - y/w
    "_md_fyg": "vec2 _md_fyg(vec2 g) { return vec2(g.x, -g.y); }",
    "_texbias2": "vec4 _texbias2(sampler2D s, vec4 c) { return texture(s, vec2(c.x, 1.0 - c.y), c.w); }",
    "_texbias3": "vec4 _texbias3(sampler3D s, vec4 c) { return texture(s, c.xyz, c.w); }",
    "_texlod2": "vec4 _texlod2(sampler2D s, vec4 c) { return textureLod(s, vec2(c.x, 1.0 - c.y), c.w); }",
    "_texlod3": "vec4 _texlod3(sampler3D s, vec4 c) { return textureLod(s, c.xyz, c.w); }",
}


def _mul(em, node, a: Expr, b: Expr) -> Expr:
    """HLSL mul() with row-major matrices; see hlsl_types for the transposed storage."""
    ta, tb = a.type, b.type
    if ta.is_scalar or tb.is_scalar:
        t = floatify(common_type([ta, tb]))
        return Expr(f"({to(a, floatify(ta))} * {to(b, floatify(tb))})", t)
    if ta.is_vector and tb.is_vector:
        t = floatify(common_type([ta, tb]))
        return Expr(f"dot({to(a, t)}, {to(b, t)})", FLOAT)
    if ta.is_vector and tb.is_matrix:      # row vector (R) x M (R x C) -> C
        return Expr(f"({b.code} * {to(a, vec(tb.rows))})", vec(tb.dim))
    if ta.is_matrix and tb.is_vector:      # M (R x C) x column vector (C) -> R
        return Expr(f"({to(b, vec(ta.dim))} * {a.code})", vec(ta.rows))
    if ta.is_matrix and tb.is_matrix:
        if ta.dim != tb.rows:
            em.fail(node, "mul(): matrix sizes do not match")
        return Expr(f"({b.code} * {a.code})", HType("float", tb.dim, ta.rows))
    em.fail(node, "mul(): unsupported operand types")
    return Expr("", FLOAT)


__all__ = ["Expr", "call_intrinsic", "to", "floatify", "TEX_HELPERS", "INT", "BOOL"]
