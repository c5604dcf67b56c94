"""Scalar back end: a parse tree becomes the source of one Python function over floats.

Safety: the source is produced only from our own tree. Preset identifiers become locals
named `v_<name>` (names are [a-z_][a-z0-9_]*, so no keyword, dunder or helper can be
reached), helpers are `_`-prefixed names we put in the function's globals, and the
globals carry an empty `__builtins__`. Numbers are emitted with repr() of a float.
Variables are loaded into fast locals once per run and written back at the end.
"""
from __future__ import annotations

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


def num(value: float) -> str:
    if value != value:
        return "(_INF - _INF)"
    if value in (F.INF, -F.INF):
        return "_INF" if value > 0 else "(-_INF)"
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def var_name(name: str) -> str:
    return "v_" + name


def binary_scalar(op: str, left: str, right: str, right_node=None) -> str:
    """Python for `left op right`, operands already translated."""
    if op in ("+", "-", "*"):
        return f"({left} {op} {right})"
    if op == "/":
        if isinstance(right_node, A.Num) and right_node.value != 0.0:
            return f"({left} / {right})"
        return f"_div({left}, {right})"
    if op == "%":
        return f"_mod({left}, {right})"
    if op == "^":
        return f"_pow({left}, {right})"
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
    def __init__(self, program: A.Program, variables: set[str]):
        self.program = program
        self.variables = sorted(variables)
        self.tmp = 0
        self.closures: list[str] = []

    def _temp(self) -> str:
        self.tmp += 1
        return f"_t{self.tmp}"

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
            return binary_scalar(n.op, self.expr(n.left), self.expr(n.right), n.right)
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
        return f"_f_{name}({', '.join(args)})"

    def _assign(self, n: A.Assign, statement: bool) -> str:
        op = n.op[:-1]
        if isinstance(n.target, A.Var):
            v = var_name(n.target.name)
            value = self.expr(n.value)
            if op:
                value = binary_scalar(op, v, value, n.value)
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


def build_scalar(program: A.Program, variables: set[str], label: str):
    """Compile the generated source; returns (function, source)."""
    src = ScalarGen(program, variables).function()
    namespace = dict(SCALAR_GLOBALS)
    code = compile(src, f"<eel {label}>", "exec")
    exec(code, namespace)      # our generated source only; never preset text
    return namespace["_eel_block"], src
