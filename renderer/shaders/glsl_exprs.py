"""Expression half of the emitter: operators, swizzles, assignments and HLSL's operand rules.

HLSL operands of different vector sizes are truncated to the smaller one, scalars broadcast, and
comparisons/logic work per component; GLSL wants all of that spelt out (`lessThan`, `.xyz`,
`vec3(x)`).  Float `%` truncates in HLSL, so it goes through `_hmod` rather than GLSL `mod`.
"""
from __future__ import annotations

from . import hlsl_ast as A
from .glsl_arrays import index_array
from .glsl_intrinsics import Expr, floatify, to
from .hlsl_types import BOOL, FLOAT, INT, HType, binary_result, convert, parse_type_name
from .prelude import Q_ALIASES, UNIFORMS

_CMP = {"<": "lessThan", ">": "greaterThan", "<=": "lessThanEqual", ">=": "greaterThanEqual",
        "==": "equal", "!=": "notEqual"}


class NeedWritable(Exception):
    """A preset assigns to a uniform (legal in HLSL): re-emit with a writable copy of it."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def emit_expr(em, e) -> Expr:
    if isinstance(e, A.Num):
        if e.is_float:
            txt = e.text
            if txt.startswith("."):
                txt = "0" + txt
            if "." not in txt and "e" not in txt.lower():
                txt += ".0"
            if txt.endswith("."):
                txt += "0"
            return Expr(txt, FLOAT)
        return Expr(e.text, INT, int_lit=True)
    if isinstance(e, A.BoolLit):
        return Expr("true" if e.value else "false", BOOL)
    if isinstance(e, A.Ident):
        x = em.lookup(e)
        if x.array:
            em.fail(e, f"array {e.name} is only usable indexed, as {e.name}[i]")
        return x
    if isinstance(e, A.Call):
        return em.call(e)
    if isinstance(e, A.Member):
        return member(em, e)
    if isinstance(e, A.Index):
        return index(em, e)
    if isinstance(e, A.Unary):
        return unary(em, e)
    if isinstance(e, A.Postfix):
        x = em.expr(e.expr)
        require_lvalue(em, e, e.expr, x)
        return Expr(f"({x.code}{e.op})", x.type)
    if isinstance(e, A.Binary):
        return binary(em, e)
    if isinstance(e, A.Assign):
        return assign(em, e)
    if isinstance(e, A.Ternary):
        return ternary(em, e)
    if isinstance(e, A.Comma):
        items = [em.expr(i) for i in e.items]
        return Expr("(" + ", ".join(i.code for i in items) + ")", items[-1].type)
    if isinstance(e, A.Cast):
        t = em.type_of(e.type_name, e)
        x = em.expr(e.expr)
        return Expr(to(x, t), t)
    if isinstance(e, A.InitList):
        em.fail(e, "initialiser list outside a declaration")
    em.fail(e, "unsupported expression")


def member(em, e: A.Member) -> Expr:
    x = em.expr(e.obj)
    t = x.type
    f = e.field
    if t.is_matrix:
        idx = _matrix_member(f)
        if idx is None:
            em.fail(e, f"bad matrix member .{f}")
        r, c = idx
        if r >= t.rows or c >= t.dim:
            em.fail(e, f"matrix member .{f} out of range")
        return Expr(f"{x.code}[{r}][{c}]", HType(t.base), lvalue=x.lvalue)
    if not t.is_numeric:
        em.fail(e, f"cannot take .{f} of a {t.base}")
    chars = None
    for s in ("xyzw", "rgba"):
        if all(ch in s for ch in f):
            chars = [s.index(ch) for ch in f]
            break
    if chars is None or len(chars) > 4:
        em.fail(e, f"bad swizzle .{f}")
    if max(chars) >= t.dim:
        em.fail(e, f"swizzle .{f} out of range for a {t.dim}-component value")
    out_t = HType(t.base, len(chars))
    if t.is_scalar:   # scalar swizzle x.x / x.xxx
        return Expr(x.code if len(chars) == 1 else f"{out_t.glsl()}({x.code})", out_t,
                    lvalue=x.lvalue and len(chars) == 1)
    sw = "".join("xyzw"[i] for i in chars)
    return Expr(f"{_paren(x.code)}.{sw}", out_t, lvalue=x.lvalue and len(set(chars)) == len(chars))


def _paren(code: str) -> str:
    return code if code.replace("_", "").isalnum() else f"({code})"


def _matrix_member(f: str):
    if f.startswith("_m") and len(f) == 4 and f[2:].isdigit():
        return int(f[2]), int(f[3])
    if f.startswith("_") and len(f) == 3 and f[1:].isdigit() and "0" not in f[1:]:
        return int(f[1]) - 1, int(f[2]) - 1
    return None


def index(em, e: A.Index) -> Expr:
    if isinstance(e.obj, A.Ident):
        x = em.lookup(e.obj)
        if x.array:
            return index_array(em, x, em.expr(e.index))
    x = em.expr(e.obj)
    i = to(em.expr(e.index), INT)
    t = x.type
    if t.is_matrix:
        return Expr(f"{x.code}[{i}]", HType(t.base, t.dim), lvalue=x.lvalue)
    if t.is_vector:
        return Expr(f"{x.code}[{i}]", HType(t.base), lvalue=x.lvalue)
    em.fail(e, "indexing needs a vector or matrix")


def unary(em, e: A.Unary) -> Expr:
    x = em.expr(e.expr)
    if e.op in ("++", "--"):
        require_lvalue(em, e, e.expr, x)
        return Expr(f"({e.op}{x.code})", x.type)
    if e.op == "!":
        if x.type.is_scalar:
            return Expr(f"(!{to(x, BOOL)})", BOOL)
        bt = x.type.with_base("bool")
        return Expr(f"not({to(x, bt)})", bt)
    if e.op == "~":
        t = x.type.with_base("int")
        return Expr(f"(~{to(x, t)})", t)
    t = x.type.with_base("int") if x.type.base == "bool" else x.type
    if e.op == "+":
        return Expr(to(x, t), t, x.int_lit)
    return Expr(f"(-{_paren(to(x, t))})", t, int_lit=x.int_lit)


def _operands(em, e, a: Expr, b: Expr):
    r = binary_result(a.type, b.type)
    if r is None or not a.type.is_numeric or not b.type.is_numeric:
        em.fail(e, f"operator {e.op} cannot combine {a.type.glsl()} and {b.type.glsl()}")
    return r


def _side(x: Expr, r: HType, full: bool) -> str:
    """Operand converted to r's base; scalars stay scalars unless `full` (GLSL allows vec op float)."""
    if x.type.is_scalar and not full and not r.is_scalar:
        return convert(x.code, x.type, HType(r.base), x.int_lit)
    return convert(x.code, x.type, r, x.int_lit)


def arith(em, e, op: str, a: Expr, b: Expr) -> Expr:
    r = _operands(em, e, a, b)
    if r.base == "bool":
        r = r.with_base("int")
    if op == "%":
        if r.base == "float":
            em.need_helper("_hmod")
            return Expr(f"_hmod({_side(a, r, True)}, {_side(b, r, True)})", r)
        return Expr(f"({_side(a, r, False)} % {_side(b, r, False)})", r)
    if op == "*" and a.type.is_matrix and b.type.is_matrix:
        return Expr(f"matrixCompMult({_side(a, r, True)}, {_side(b, r, True)})", r)
    if op in ("&", "|", "^", "<<", ">>"):
        r = r.with_base("int")
    return Expr(f"({_side(a, r, False)} {op} {_side(b, r, False)})", r)


def binary(em, e: A.Binary) -> Expr:
    a, b = em.expr(e.left), em.expr(e.right)
    op = e.op
    if op in ("+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"):
        return arith(em, e, op, a, b)
    if op in _CMP:
        r = _operands(em, e, a, b)
        if r.is_scalar:
            if r.base == "bool" and op not in ("==", "!="):
                r = INT
            return Expr(f"({_side(a, r, True)} {op} {_side(b, r, True)})", BOOL)
        if r.is_matrix:
            em.fail(e, "matrix comparison is not supported")
        if r.base == "bool" and op not in ("==", "!="):
            r = r.with_base("int")
        return Expr(f"{_CMP[op]}({_side(a, r, True)}, {_side(b, r, True)})", r.with_base("bool"))
    if op in ("&&", "||"):
        r = _operands(em, e, a, b)
        if r.is_scalar:
            return Expr(f"({to(a, BOOL)} {op} {to(b, BOOL)})", BOOL)
        ft = HType("float", r.dim)
        fa, fb = to(a, ft), to(b, ft)
        inner = f"({fa} * {fb})" if op == "&&" else f"max(abs({fa}), abs({fb}))"
        return Expr(f"{r.with_base('bool').glsl()}({inner})", r.with_base("bool"))
    em.fail(e, f"unsupported operator {op}")


def _root_name(e):
    while isinstance(e, (A.Member, A.Index)):
        e = e.obj
    return e.name if isinstance(e, A.Ident) else None


def require_lvalue(em, node, target_node, target: Expr):
    if target.lvalue:
        return
    root = _root_name(target_node)
    if root is not None and (root in UNIFORMS or root in Q_ALIASES) and \
            not any(root in sc for sc in em.scopes):
        raise NeedWritable(root)
    em.fail(node, "assignment to something that is not a variable")


def assign(em, e: A.Assign) -> Expr:
    target = em.expr(e.target)
    require_lvalue(em, e, e.target, target)
    t = target.type
    value = em.expr(e.value)
    if e.op == "=":
        return Expr(f"({target.code} = {to(value, t)})", t)
    op = e.op[:-1]
    if op == "%" or (op == "*" and t.is_matrix and value.type.is_matrix) or t.base != floatify(t).base \
            and value.type.base == "float":
        res = arith(em, e, op, target, value)
        return Expr(f"({target.code} = {to(res, t)})", t)
    if value.type.is_scalar:
        rhs = convert(value.code, value.type, HType(t.base), value.int_lit)
    else:
        rhs = to(value, t)
    return Expr(f"({target.code} {e.op} {rhs})", t)


def ternary(em, e: A.Ternary) -> Expr:
    c = em.expr(e.cond)
    a, b = em.expr(e.a), em.expr(e.b)
    r = binary_result(a.type, b.type) if a.type.is_numeric and b.type.is_numeric else None
    if r is None:
        if a.type == b.type:
            r = a.type
        else:
            em.fail(e, "?: branches have incompatible types")
    if c.type.is_scalar or c.type.is_matrix:
        cond = to(c, BOOL) if c.type.is_scalar else f"bool({c.code}[0][0])"
        return Expr(f"({cond} ? {to(a, r)} : {to(b, r)})", r)
    # per-component select, as HLSL does for a vector condition
    ft = floatify(r) if not r.is_scalar else HType("float", c.type.dim)
    sel = to(c, HType("bool", ft.dim))
    res = Expr(f"mix({to(b, ft)}, {to(a, ft)}, {ft.glsl()}({sel}))", ft)
    return res if ft.base == r.base else Expr(to(res, r.with_dim(ft.dim)), r.with_dim(ft.dim))


__all__ = ["NeedWritable", "emit_expr", "parse_type_name"]
