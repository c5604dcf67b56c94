"""The item-by-item run as one generated function: the whole loop over n items inside it.

Running a block item by item used to mean one call of the scalar function per item, each
loading every variable from the VM's dict and writing the written ones back. Per-point
wave code (512 points) and shape instances (up to 1024) spend most of their time there.
Here the loop lives inside the generated function: variables stay in fast locals from one
item to the next (exactly what the dict round trip gave: nothing else touches the VM
between items), per-item inputs come from lists, outputs go to preallocated lists, and
the VM is written once at the end. The statements are the scalar back end's, so each item
computes bit for bit what the per-item call computed.

Layout rules that keep it equal to "for each item: set its inputs, run, read outputs":
  * a per-item constant is re-set before each item only if the block writes it;
  * a per-item column is loaded each item only if the block reads or writes it;
  * an output is recorded each item if the block writes it; otherwise it is the column
    (if it is one) or a constant;
  * the loop budget is reset before each item when asked (shape instances: one Block.run
    each), else once for all items (the caller does that, as the per-item loop did).
Names of reg00..reg99 among inputs or outputs are not handled here (block.py falls back).
"""
from __future__ import annotations

from dataclasses import dataclass

from . import ast as A
from .runtime import REG_NAME
from .scalar_backend import SCALAR_GLOBALS, ScalarGen, compile_generated, var_name

ITEM_GLOBALS = dict(SCALAR_GLOBALS, _range=range)


@dataclass(frozen=True)
class ItemLayout:
    """What varies per item: names in the order the caller passes values."""
    constants: tuple[str, ...]
    columns: tuple[str, ...]
    outputs: tuple[str, ...]
    reset_budget: bool = False

    def supported(self) -> bool:
        names = self.constants + self.columns + self.outputs
        return not any(REG_NAME.match(name) for name in names)


def _written(program: A.Program) -> set[str]:
    return {x.target.name for s in program.statements for x in A.walk(s)
            if isinstance(x, A.Assign) and isinstance(x.target, A.Var)}


def item_source(program: A.Program, variables: set[str], layout: ItemLayout,
                fname: str = "_eel_items", inline: bool = True) -> str:
    """Source of `fname(V, REG, M, G, R, n, C, K)` -> one entry per output: a list of n
    values, or a float where the output is the same for every item."""
    gen = ScalarGen(program, variables, inline)
    gen._closure_src = []
    body = []
    for stmt in program.statements:
        if isinstance(stmt, (A.Num, A.Var)):
            continue
        if isinstance(stmt, A.Assign):
            body.append(gen._assign(stmt, statement=True))
        else:
            body.append(gen.expr(stmt))
    written = _written(program)
    has_loops = any(isinstance(x, (A.Loop, A.While))
                    for s in program.statements for x in A.walk(s))
    v = var_name
    inputs = set(layout.constants) | set(layout.columns)
    names = sorted(set(variables) | inputs | set(layout.outputs))
    head = [f"def {fname}(V, REG, M, G, R, n, C, K):", "    _get = V.get", "    _rget = REG.get",
            "    _rand = R.rand", "    _reset = R.reset_budget"]
    for name in names:
        if name in layout.constants:
            continue
        src = "_rget" if REG_NAME.match(name) else "_get"
        head.append(f"    {v(name)} = {src}({name!r}, 0.0)")
    step = []                                   # start of each item
    if layout.reset_budget and has_loops:
        step.append("_reset()")
    for j, name in enumerate(layout.constants):
        head.append(f"    {v(name)} = _k{j} = K[{j}]")
        if name in written:
            step.append(f"{v(name)} = _k{j}")
    for j, name in enumerate(layout.columns):
        head.append(f"    _c{j} = C[{j}]")
        if name in variables:
            step.append(f"{v(name)} = _c{j}[_i]")
    record, results = [], []
    for j, name in enumerate(layout.outputs):
        if name in written:
            head.append(f"    _o{j} = [0.0] * n")
            record.append(f"_o{j}[_i] = {v(name)}")
            results.append(f"_o{j}")
        elif name in layout.columns:
            results.append(f"_c{layout.columns.index(name)}")
        else:
            results.append(v(name))
    loop = ["    for _i in _range(n):"] + ["        " + s for s in step + body + record]
    if len(loop) == 1:
        loop.append("        pass")
    tail = []
    for name in layout.constants:
        tail.append(f"    V[{name!r}] = {v(name)}")
    for j, name in enumerate(layout.columns):
        last = v(name) if name in variables else f"_c{j}[n - 1]"
        tail.append(f"    V[{name!r}] = {last}")
    for name in sorted(written - inputs):
        dst = "REG" if REG_NAME.match(name) else "V"
        tail.append(f"    {dst}[{name!r}] = {v(name)}")
    tail.append(f"    return ({''.join(r + ', ' for r in results)})")
    return "\n".join(head + gen._closure_src + loop + tail) + "\n"


def build_items(program: A.Program, variables: set[str], layout: ItemLayout, label: str):
    """Compile the item loop; returns (function, source)."""
    return compile_generated(
        lambda inline: item_source(program, variables, layout, inline=inline),
        ITEM_GLOBALS, f"<eel-items {label}>", "_eel_items")
