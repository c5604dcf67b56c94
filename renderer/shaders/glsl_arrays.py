"""HLSL arrays in GLSL: `float3 pts[4];`, `float w[] = {1, 2, 1};`, `pts[i]`.

About one shader preset in a hundred in the larger public collections declares a small constant
table this way (kernel weights, sample offsets); without arrays those presets lost their whole
shader stage. HLSL flattens an initialiser list component by component (`float2 a[2] = {1, 2,
3, 4}` and `{{1, 2}, {3, 4}}` are the same), so the items are regrouped per element here. An
index is clamped to the array: HLSL leaves an index outside it undefined, and a software
rasteriser must not read outside its memory for one.
"""
from __future__ import annotations

from . import hlsl_ast as A
from .glsl_intrinsics import Expr, to
from .hlsl_types import INT, HType

MAX_LENGTH = 1024
"""Longest array accepted: every element is a register on the GPU, and no preset needs more."""


def array_length(em, dec: A.Declarator, node) -> int:
    """The element count of ``dec``: its [N], or its initialiser's item count for `a[]`."""
    if dec.array is not None:
        size = dec.array
        if not (isinstance(size, A.Num) and not size.is_float):
            em.fail(node, f"array size of {dec.name} must be a whole number")
        n = int(size.text.rstrip("uUlL"), 0)
    elif dec.is_array and isinstance(dec.init, A.InitList):
        n = -1  # `a[] = {...}`: counted from the initialiser
    else:
        em.fail(node, f"array {dec.name}[] needs a size or an initialiser")
    return n


def declare_array(em, dec: A.Declarator, t: HType, node) -> tuple[str, str, list[str]]:
    """(glsl name, declaration, element assignments) for one array declarator."""
    n = array_length(em, dec, node)
    values = element_values(em, dec.init, t, node) if dec.init is not None else []
    if n < 0:
        n = len(values)
    if not 1 <= n <= MAX_LENGTH:
        em.fail(node, f"array {dec.name} must have 1..{MAX_LENGTH} elements, not {n}")
    if len(values) > n:
        em.fail(node, f"array {dec.name}[{n}] has {len(values)} initial values")
    g = f"ua{len(em.arrays)}_{dec.name}"   # unique per declaration, so its length is too
    em.scopes[-1][dec.name] = (g, t)
    em.arrays[g] = n
    zero = f"{t.glsl()}(0)"
    assigns = [f"{g}[{k}] = {values[k] if k < len(values) else zero};" for k in range(n)]
    return g, f"{t.glsl()} {g}[{n}];", assigns


def element_values(em, init, t: HType, node) -> list[str]:
    """GLSL values of the elements an HLSL initialiser list fills, in order."""
    if not isinstance(init, A.InitList):
        em.fail(node, "an array is initialised with a {...} list")
    flat: list[Expr] = []
    _flatten(em, init, flat)
    values, group, count = [], [], 0
    for item in flat:
        group.append(item)
        count += item.type.components
        if count >= t.components:
            values.append(em.construct(t, group, node).code)
            group, count = [], 0
    if group:
        em.fail(node, "an array initialiser ends in the middle of an element")
    return values


def _flatten(em, init: A.InitList, out: list) -> None:
    for it in init.items:
        if isinstance(it, A.InitList):
            _flatten(em, it, out)
        else:
            out.append(em.expr(it))


def index_array(em, array: Expr, index_expr: Expr) -> Expr:
    n = em.arrays[array.code]
    i = to(index_expr, INT)
    return Expr(f"{array.code}[clamp({i}, 0, {n - 1})]", array.type, lvalue=True)
