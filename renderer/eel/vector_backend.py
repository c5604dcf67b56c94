"""Vectorised back end: the same parse tree as numpy code over all items at once.

Used for per-pixel code over the whole mesh and for per-point code, when analysis.py says
the block is vectorisable. `if`, `?:`, `&&`, `||` evaluate both sides and pick with
np.where; an assignment inside a branch only takes effect in the lanes where that branch
runs (np.where against the old value), which is what the sequential run would do.
rand() calls (all unconditional here) take column j of an (n, k) matrix of uniforms drawn
in sequential order, so the values equal those of running item by item.
Same safety rules as scalar_backend: generated only from the tree, mangled names, no builtins.
"""
from __future__ import annotations

import numpy as np

from . import ast as A
from . import functions as F
from .runtime import REG_NAME, v_rand_scale
from .scalar_backend import EPS, call_name, num, var_name

VECTOR_GLOBALS = {
    "__builtins__": {},
    "_abs": np.abs, "_where": np.where, "_INF": F.INF,
    "_vdiv": F.v_div, "_vmod": F.v_mod, "_vpow": F.v_pow,
    "_vbitand": F.v_bitand, "_vbitor": F.v_bitor, "_vtruth": F.v_truth,
    "_vrscale": v_rand_scale,
}
for _name, (_s, _v) in F.CALLS.items():
    VECTOR_GLOBALS["_vf_" + _name] = _v


def binary_vector(op: str, left: str, right: str, right_node=None) -> str:
    if op in ("+", "-", "*"):
        return f"({left} {op} {right})"
    if op == "/":
        if isinstance(right_node, A.Num) and right_node.value != 0.0:
            return f"({left} / {right})"
        return f"_vdiv({left}, {right})"
    if op == "%":
        return f"_vmod({left}, {right})"
    if op == "^":
        return f"_vpow({left}, {right})"
    if op == "&":
        return f"_vbitand({left}, {right})"
    if op == "|":
        return f"_vbitor({left}, {right})"
    if op in ("<", ">", "<=", ">="):
        return f"(({left} {op} {right}) * 1.0)"
    if op == "==":
        return f"((_abs({left} - {right}) < {EPS}) * 1.0)"
    if op == "!=":
        return f"((_abs({left} - {right}) >= {EPS}) * 1.0)"
    raise ValueError(f"operator {op} needs masking")


class VectorGen:
    def __init__(self, program: A.Program, variables: set[str]):
        self.program = program
        self.variables = sorted(variables)
        self.tmp = 0
        self.rand_sites = 0

    def _temp(self, prefix="_t") -> str:
        self.tmp += 1
        return f"{prefix}{self.tmp}"

    @staticmethod
    def _and(mask: str | None, extra: str) -> str:
        return extra if mask is None else f"({mask} & {extra})"

    def expr(self, n, mask: str | None) -> str:
        """`mask`: source of the lanes where this expression runs (None = all)."""
        if isinstance(n, A.Num):
            return num(n.value)
        if isinstance(n, A.Var):
            return var_name(n.name)
        if isinstance(n, A.Unary):
            x = self.expr(n.operand, mask)
            if n.op == "-":
                return f"(-{x})"
            return f"((_abs({x}) < {EPS}) * 1.0)"
        if isinstance(n, A.Binary):
            if n.op in ("&&", "||"):
                m = self._temp("_m")
                left = self.expr(n.left, mask)
                sub = m if n.op == "&&" else f"(~{m})"
                right = self.expr(n.right, self._and(mask, sub))
                joiner = "&" if n.op == "&&" else "|"
                return f"((({m} := _vtruth({left})) {joiner} _vtruth({right})) * 1.0)"
            return binary_vector(n.op, self.expr(n.left, mask), self.expr(n.right, mask), n.right)
        if isinstance(n, A.Cond):
            m = self._temp("_m")
            c = self.expr(n.cond, mask)
            t = self.expr(n.then, self._and(mask, m))
            o = self.expr(n.other, self._and(mask, f"(~{m})"))
            return f"_where(({m} := _vtruth({c})), {t}, {o})"
        if isinstance(n, A.Assign):
            return self._assign(n, mask, statement=False)
        if isinstance(n, A.Call):
            return self._call(n, mask)
        if isinstance(n, A.Seq):
            return "(" + ", ".join(self.expr(i, mask) for i in n.items) + ")[-1]"
        raise TypeError(f"not vectorisable: {type(n).__name__}")

    def _call(self, n: A.Call, mask) -> str:
        args = [self.expr(a, mask) for a in n.args]
        name = n.name
        if name == "above":
            return f"(({args[0]} > {args[1]}) * 1.0)"
        if name == "below":
            return f"(({args[0]} < {args[1]}) * 1.0)"
        if name == "equal":
            return f"((_abs({args[0]} - {args[1]}) < {EPS}) * 1.0)"
        if name == "bnot":
            return f"((_abs({args[0]}) < {EPS}) * 1.0)"
        if name == "band":
            return f"((_vtruth({args[0]}) & _vtruth({args[1]})) * 1.0)"
        if name == "bor":
            return f"((_vtruth({args[0]}) | _vtruth({args[1]})) * 1.0)"
        if name == "sqr":
            t = self._temp()
            return f"(({t} := {args[0]}) * {t})"
        if name == "rand":
            if mask is not None:
                raise TypeError("rand() under a condition is not vectorisable")
            j = self.rand_sites
            self.rand_sites += 1
            return f"_vrscale(U[:, {j}], {args[0]})"
        return f"{call_name('_vf_', name)}({', '.join(args)})"

    def _assign(self, n: A.Assign, mask, statement: bool) -> str:
        if not isinstance(n.target, A.Var):
            raise TypeError("buffer writes are not vectorisable")
        v = var_name(n.target.name)
        value = self.expr(n.value, mask)
        op = n.op[:-1]
        if op:
            if op in ("&&", "||"):
                raise TypeError(op)
            value = binary_vector(op, v, value, n.value)
        if mask is not None:
            value = f"_where({mask}, {value}, {v})"
        return f"{v} = {value}" if statement else f"({v} := {value})"

    def function(self, fname: str = "_veel_block") -> str:
        body = []
        for stmt in self.program.statements:
            if isinstance(stmt, (A.Num, A.Var)):
                continue
            if isinstance(stmt, A.Assign):
                body.append("    " + self._assign(stmt, None, statement=True))
            else:
                body.append("    " + self.expr(stmt, None))
        head = [f"def {fname}(V, REG, R, n):", "    _get = V.get", "    _rget = REG.get"]
        if self.rand_sites:
            head.append(f"    U = R.uniforms(n * {self.rand_sites}).reshape(n, {self.rand_sites})")
        for name in self.variables:
            src = "_rget" if REG_NAME.match(name) else "_get"
            head.append(f"    {var_name(name)} = {src}({name!r}, 0.0)")
        tail = []
        for name in sorted({x.target.name for s in self.program.statements for x in A.walk(s)
                            if isinstance(x, A.Assign) and isinstance(x.target, A.Var)}):
            dst = "REG" if REG_NAME.match(name) else "V"
            tail.append(f"    {dst}[{name!r}] = {var_name(name)}")
        return "\n".join(head + body + tail + ["    return None"]) + "\n"


def build_vector(program: A.Program, variables: set[str], label: str):
    """Compile the vectorised function; returns (function, source)."""
    src = VectorGen(program, variables).function()
    namespace = dict(VECTOR_GLOBALS)
    exec(compile(src, f"<eel-vec {label}>", "exec"), namespace)   # generated source only
    return namespace["_veel_block"], src
