"""Scalar back end: a parse tree becomes the source of one Python function over floats.

Safety: the source is produced only from our own tree. Preset identifiers become locals
named `v_<name>` (names are [a-z_][a-z0-9_]*, so no keyword, dunder or helper can be
reached), helpers are `_`-prefixed names we put in the function's globals, and the
globals carry an empty `__builtins__`. Numbers are emitted with repr() of a float.
Variables are loaded into fast locals once per run and written back at the end.
"""
from __future__ import annotations

import math
import re

from . import ast as A
from . import functions as F
from .runtime import MemBuffer, REG_NAME, rand_scale, run_loop, run_while

EPS = "1e-05"

SCALAR_GLOBALS = {
    "__builtins__": {},
    "_abs": abs, "_INF": F.INF,
    "_div": F.s_div, "_mod": F.s_mod, "_pow": F.s_pow,
    "_bitand": F.s_bitand, "_bitor": F.s_bitor,
    "_mget": MemBuffer.get, "_mset": MemBuffer.set,
    "_loop": run_loop, "_while": run_while, "_rscale": rand_scale,
}
for _name, (_s, _v) in F.CALLS.items():
    SCALAR_GLOBALS["_f_" + _name] = _s
SCALAR_GLOBALS.update(_float=float, _NAN=F.NAN, _msqrt=math.sqrt, _mfloor=math.floor,
                      _mceil=math.ceil)

# Calls written inline (no helper frame), each with exactly its helper's result:
#  * KERNEL: the kernel functions.py picked (`math` or numpy); numpy ones as _float(k(x)).
#  * FINITE_SAFE: math kernels that raise only for +-inf (sin, cos, tan) or never (atan):
#    called directly for finite x, else through the helper (its guard).
KERNEL: dict[str, tuple] = {}
for _name in ("sin", "cos", "tan", "asin", "acos", "atan", "exp", "atan2"):
    _f = F.CALLS[_name][0]
    if _f is math.atan2:
        KERNEL[_name] = (math.atan2, True)
    elif hasattr(_f, "kernel"):
        KERNEL[_name] = (_f.kernel, _f.uses_math)
for _name, _f in (("log", F._s_log), ("log10", F._s_log10)):
    KERNEL[_name] = (_f.kernel, _f.uses_math)
for _name, (_k, _m) in KERNEL.items():
    SCALAR_GLOBALS["_k_" + _name] = _k
FINITE_SAFE = {"sin", "cos", "tan", "atan"}
# pow through numpy is memoised (functions.s_pow); a cache hit is looked up inline. The
# cache never holds a key with +-0 or NaN, so a hit is exactly s_pow's value, and a miss
# (or a cached 0.0) just calls s_pow.
POW_INLINE = not F._MATH_POW_OK
SCALAR_GLOBALS["_pcget"] = F._POW_CACHE.get


def num(value: float) -> str:
    if value != value:
        return "(_INF - _INF)"
    if value in (F.INF, -F.INF):
        return "_INF" if value > 0 else "(-_INF)"
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


_SAFE_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def var_name(name: str) -> str:
    """The Python local for an EEL variable. The lexer only makes such names, but this is the
    one place preset text becomes generated source, so it refuses anything else outright: a
    name can never carry quotes, dots or brackets into the code that exec() compiles."""
    if not _SAFE_NAME.match(name):
        raise ValueError(f"refusing to emit EEL variable name {name!r}")
    return "v_" + name


def call_name(prefix: str, name: str) -> str:
    """The generated name of built-in ``name`` (``_f_sin``, ``_vf_sin``). Like var_name, the
    parser's whitelist already guarantees it; this refuses anything else at the point where
    the name enters the source that exec() compiles."""
    if name not in F.CALLS:
        raise ValueError(f"refusing to emit EEL function {name!r}")
    return prefix + name


def pow_scalar(left: str, right: str, temps=None, right_node=None) -> str:
    if temps is None:
        return f"_pow({left}, {right})"
    if isinstance(right_node, A.Num) and right_node.value in F.POW_CONST:
        e, t = right_node.value, temps()     # functions._pow_const, written inline
        if e == 2.0:
            r = temps()
            return f"({r} if ({r} := ({t} := {left}) * {t}) - {r} == 0.0 else 0.0)"
        if e == 0.5:
            return f"(_msqrt({t}) if 0.0 <= ({t} := {left}) < _INF else 0.0)"
        return f"({t} if ({t} := {left}) - {t} == 0.0 else 0.0)"
    if not POW_INLINE:
        return f"_pow({left}, {right})"
    a, b = temps(), temps()
    return f"(_pcget((({a} := {left}), ({b} := {right}))) or _pow({a}, {b}))"


def binary_scalar(op: str, left: str, right: str, right_node=None, temps=None) -> str:
    """Python for `left op right`, operands already translated. `temps`: a source of
    fresh temporary names (enables inline forms that need them)."""
    if op in ("+", "-", "*"):
        return f"({left} {op} {right})"
    if op == "/":
        if isinstance(right_node, A.Num) and right_node.value != 0.0:
            return f"({left} / {right})"
        return f"_div({left}, {right})"
    if op == "%":
        return f"_mod({left}, {right})"
    if op == "^":
        return pow_scalar(left, right, temps, right_node)
    if op == "&":
        return f"_bitand({left}, {right})"
    if op == "|":
        return f"_bitor({left}, {right})"
    if op in ("<", ">", "<=", ">="):
        return f"(1.0 if {left} {op} {right} else 0.0)"
    if op == "==":
        return f"(1.0 if _abs({left} - {right}) < {EPS} else 0.0)"
    if op == "!=":
        return f"(0.0 if _abs({left} - {right}) < {EPS} else 1.0)"
    if op == "&&":
        return f"(1.0 if _abs({left}) > {EPS} and _abs({right}) > {EPS} else 0.0)"
    if op == "||":
        return f"(1.0 if _abs({left}) > {EPS} or _abs({right}) > {EPS} else 0.0)"
    raise ValueError(f"unknown operator {op}")


class ScalarGen:
    """inline=False: every built-in through its helper (shallower source, for code whose
    inline form is nested too deeply for Python's parser)."""

    def __init__(self, program: A.Program, variables: set[str], inline: bool = True):
        self.program = program
        self.inline = inline
        self.variables = sorted(variables)
        self.tmp = 0
        self.closures: list[str] = []
        self._pure_memo: dict[int, bool] = {}

    def _temp(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

    def _pure(self, node) -> bool:
        """No assignment, rand() or loop inside: evaluating it has no effect, so it may
        be evaluated later, or not at all, without changing anything."""
        memo = self._pure_memo
        key = id(node)
        if key not in memo:
            if isinstance(node, (A.Assign, A.Loop, A.While)) or (
                    isinstance(node, A.Call) and node.name == "rand"):
                memo[key] = False
            else:
                memo[key] = all(self._pure(c) for c in A.children(node))
        return memo[key]

    def _once(self, node, src: str) -> tuple[str, str]:
        """(first use, later uses) of a value needed more than once: a variable or number
        as it is, anything else through a walrus temp."""
        if isinstance(node, (A.Num, A.Var)):
            return src, src
        t = self._temp()
        return f"({t} := {src})", t

    def _div(self, left_node, right_node, left: str, right: str) -> str:
        """`_div` inlined where both sides are pure (the divisor is then tested first)."""
        if isinstance(right_node, A.Num) and right_node.value != 0.0:
            return f"({left} / {right})"
        if not (self.inline and self._pure(left_node) and self._pure(right_node)):
            return f"_div({left}, {right})"
        first, again = self._once(right_node, right)
        return f"({left} / {again} if {first} != 0.0 else 0.0)"

    # -- expressions -------------------------------------------------------------------
    def expr(self, n) -> str:
        if isinstance(n, A.Num):
            return num(n.value)
        if isinstance(n, A.Var):
            return var_name(n.name)
        if isinstance(n, A.Mem):
            return f"_mget({self._buf(n)}, {self.expr(n.index)})"
        if isinstance(n, A.Unary):
            x = self.expr(n.operand)
            if n.op == "-":
                return f"(-{x})"
            return f"(1.0 if _abs({x}) < {EPS} else 0.0)"
        if isinstance(n, A.Binary):
            if n.op == "/":
                return self._div(n.left, n.right, self.expr(n.left), self.expr(n.right))
            return binary_scalar(n.op, self.expr(n.left), self.expr(n.right), n.right,
                                 self._temp if self.inline else None)
        if isinstance(n, A.Cond):
            c, t, o = self.expr(n.cond), self.expr(n.then), self.expr(n.other)
            return f"({t} if _abs({c}) > {EPS} else {o})"
        if isinstance(n, A.Assign):
            return self._assign(n, statement=False)
        if isinstance(n, A.Call):
            return self._call(n)
        if isinstance(n, A.Seq):
            return "(" + ", ".join(self.expr(i) for i in n.items) + ")[-1]"
        if isinstance(n, A.Loop):
            count = self.expr(n.count)
            return f"_loop(R, {count}, {self._closure(n.body)})"
        if isinstance(n, A.While):
            return f"_while(R, {self._closure(n.body)})"
        raise TypeError(f"cannot translate {n!r}")

    @staticmethod
    def _buf(n: A.Mem) -> str:
        return "G" if n.buf == "gmegabuf" else "M"

    def _call(self, n: A.Call) -> str:
        args = [self.expr(a) for a in n.args]
        name = n.name
        if name == "above":
            return f"(1.0 if {args[0]} > {args[1]} else 0.0)"
        if name == "below":
            return f"(1.0 if {args[0]} < {args[1]} else 0.0)"
        if name == "equal":
            return f"(1.0 if _abs({args[0]} - {args[1]}) < {EPS} else 0.0)"
        if name == "bnot":
            return f"(1.0 if _abs({args[0]}) < {EPS} else 0.0)"
        if name == "band":
            return f"(1.0 if (_abs({args[0]}) > {EPS}) & (_abs({args[1]}) > {EPS}) else 0.0)"
        if name == "bor":
            return f"(1.0 if (_abs({args[0]}) > {EPS}) | (_abs({args[1]}) > {EPS}) else 0.0)"
        if name == "sqr":
            t = self._temp()
            return f"(({t} := {args[0]}) * {t})"
        if name == "abs":
            return f"_abs({args[0]})"
        if name == "rand":
            return f"_rand({args[0]})"
        inline = self._inline_call(n, args) if self.inline else None
        return inline or f"{call_name('_f_', name)}({', '.join(args)})"

    def _inline_call(self, n: A.Call, args: list[str]) -> str | None:
        name = n.name
        if name in ("min", "max"):
            a, b = self._temp(), self._temp()
            op = "<" if name == "min" else ">"
            return f"({a} if ({a} := {args[0]}) {op} ({b} := {args[1]}) else {b})"
        if name == "pow":
            return pow_scalar(args[0], args[1], self._temp, n.args[1])
        if name == "atan2" and name in KERNEL:
            k, is_math = KERNEL[name]
            call = f"_k_atan2({args[0]}, {args[1]})"
            return call if is_math else f"_float({call})"
        if len(args) != 1:
            return None
        first, x = self._once(n.args[0], args[0])
        if name == "sqrt":
            return f"(_msqrt(_abs({x})) if {first} == {x} else _NAN)"
        if name in ("floor", "int", "ceil"):
            f = "_mceil" if name == "ceil" else "_mfloor"
            return f"(_float({f}({x})) if {first} - {x} == 0.0 else {x})"
        if name == "sign":
            return f"(1.0 if {first} > 0.0 else (-1.0 if {x} < 0.0 else 0.0))"
        if name in ("log", "log10") and name in KERNEL:
            k, is_math = KERNEL[name]
            call = f"_k_{name}({x})" if is_math else f"_float(_k_{name}({x}))"
            return f"({call} if {first} > 0.0 else (-_INF if {x} == 0.0 else _NAN))"
        if name not in KERNEL:
            return None
        k, is_math = KERNEL[name]
        if not is_math:
            return f"_float(_k_{name}({args[0]}))"
        if name in FINITE_SAFE:
            return f"(_k_{name}({x}) if -_INF < {first} < _INF else _f_{name}({x}))"
        return None

    def _assign(self, n: A.Assign, statement: bool) -> str:
        op = n.op[:-1]
        if isinstance(n.target, A.Var):
            v = var_name(n.target.name)
            value = self.expr(n.value)
            if op == "/":
                value = self._div(n.target, n.value, v, value)
            elif op:
                value = binary_scalar(op, v, value, n.value, self._temp if self.inline else None)
            return f"{v} = {value}" if statement else f"({v} := {value})"
        buf = self._buf(n.target)
        index = self.expr(n.target.index)
        value = self.expr(n.value)
        if op:
            t = self._temp()
            value = binary_scalar(op, f"_mget({buf}, {t})", value, n.value)
            return f"_mset({buf}, ({t} := {index}), {value})"
        return f"_mset({buf}, {index}, {value})"

    def _closure(self, body) -> str:
        name = f"_L{len(self.closures) + 1}"
        self.closures.append(name)          # reserve the name before nested loops
        assigned = sorted({var_name(x.target.name) for x in A.walk(body)
                           if isinstance(x, A.Assign) and isinstance(x.target, A.Var)})
        src = self.expr(body)
        lines = [f"    def {name}():"]
        if assigned:
            lines.append(f"        nonlocal {', '.join(assigned)}")
        lines.append(f"        return {src}")
        self._closure_src.append("\n".join(lines))
        return name

    # -- whole function ---------------------------------------------------------------
    def function(self, fname: str = "_eel_block") -> str:
        self._closure_src: list[str] = []
        body = []
        for stmt in self.program.statements:
            if isinstance(stmt, (A.Num, A.Var)):
                continue
            if isinstance(stmt, A.Assign):
                body.append("    " + self._assign(stmt, statement=True))
            else:
                body.append("    " + self.expr(stmt))
        head = [f"def {fname}(V, REG, M, G, R):", "    _get = V.get", "    _rget = REG.get",
                "    _rand = R.rand"]
        for name in self.variables:
            src = "_rget" if REG_NAME.match(name) else "_get"
            head.append(f"    {var_name(name)} = {src}({name!r}, 0.0)")
        tail = []
        for name in self.written():
            dst = "REG" if REG_NAME.match(name) else "V"
            tail.append(f"    {dst}[{name!r}] = {var_name(name)}")
        return "\n".join(head + self._closure_src + body + tail + ["    return None"]) + "\n"

    def written(self) -> list[str]:
        out = set()
        for stmt in self.program.statements:
            for x in A.walk(stmt):
                if isinstance(x, A.Assign) and isinstance(x.target, A.Var):
                    out.add(x.target.name)
        return sorted(out)


def compile_generated(make_source, globals_: dict, filename: str, fname: str):
    """exec the source make_source(inline) builds, inline forms first. They nest deeper
    than helper calls, and Python's parser stops at 200 nested parentheses, so code near
    the parser's nesting caps may only compile without them. Returns (function, source)."""
    for inline in (True, False):
        try:
            src = make_source(inline)
            namespace = dict(globals_)
            exec(compile(src, filename, "exec"), namespace)   # our generated source only
            return namespace[fname], src
        except (SyntaxError, RecursionError, MemoryError):
            if not inline:
                raise
    raise AssertionError("unreachable")


def build_scalar(program: A.Program, variables: set[str], label: str):
    """Compile the generated source; returns (function, source)."""
    return compile_generated(lambda inline: ScalarGen(program, variables, inline).function(),
                             SCALAR_GLOBALS, f"<eel {label}>", "_eel_block")
