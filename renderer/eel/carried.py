"""Exact vectorised runs for blocks that carry state from one item to the next.

A per-pixel block that reads a variable before writing it sees, at vertex i, the value
vertex i-1 left behind. Running all vertices at once is only exact if each vertex is
handed that value. We find it without running the whole block vertex by vertex:

* dependence (`end_taints`): for every carried variable, what its value at the end of an
  item depends on -- per-item inputs and rand() (VARY), and the entry values of carried
  variables (`in:name`). Assignments under a condition also depend on the condition and
  on the old value (np.where semantics).
* uniform carried variables (the MilkDrop 1 `thresh`/`dx_r` smoothing, counters,
  `q1 = q1 + 1`, values written after they are read that depend on no vertex input):
  their sequence over items depends on no vertex, so a backward slice of the block (only
  the statements that feed them) runs as a generated scalar loop over items, stopping as
  soon as its whole state repeats bit for bit (fixed point or cycle: the rest of the
  sequence is then known). The loop is built by the scalar back end, so the values are
  those of the item-by-item run; per-vertex work stays vectorised.
* shifted carried variables (`q1 = f(x, y)` read at the top of the next vertex): the
  end value depends only on VARY, uniform variables and lower levels, so one vectorised
  run gives the end values e, and the entry values are (start, e[0], ..., e[n-2]).
* anything else is assumed to keep its start value and checked after the run (block.py).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np

from . import ast as A
from .analysis import analyse
from .runtime import REG_NAME
from .scalar_backend import SCALAR_GLOBALS, ScalarGen, compile_generated, var_name

VARY = "\0vary"          # taint: depends on a per-item input or on rand()
MAX_LEVELS = 4           # shifted variables feeding shifted variables (extra vector runs)


# ------------------------------------------------------------------------ dependence
def _taint(node, env: dict, base, ctrl: frozenset) -> frozenset:
    """Sources the value of `node` depends on; updates env for assignments (in order)."""
    if isinstance(node, A.Num):
        return frozenset()
    if isinstance(node, A.Var):
        got = env.get(node.name)
        return base(node.name) if got is None else got
    if isinstance(node, A.Unary):
        return _taint(node.operand, env, base, ctrl)
    if isinstance(node, A.Binary):
        left = _taint(node.left, env, base, ctrl)
        inner = ctrl | left if node.op in ("&&", "||") else ctrl
        return left | _taint(node.right, env, base, inner)
    if isinstance(node, A.Cond):
        c = _taint(node.cond, env, base, ctrl)
        t = _taint(node.then, env, base, ctrl | c)
        o = _taint(node.other, env, base, ctrl | c)
        return c | t | o
    if isinstance(node, A.Assign) and isinstance(node.target, A.Var):
        name = node.target.name
        value = _taint(node.value, env, base, ctrl)
        old = env.get(name)
        old = base(name) if old is None else old
        if node.op != "=" or ctrl:
            value = value | old | ctrl
        env[name] = value
        return value
    if isinstance(node, A.Call):
        out = frozenset()
        for a in node.args:
            out |= _taint(a, env, base, ctrl)
        return out | {VARY} if node.name == "rand" else out
    if isinstance(node, A.Seq):
        out = frozenset()
        for item in node.items:
            out |= _taint(item, env, base, ctrl)
        return out
    # loops and buffers never reach here (not vectorisable); be conservative anyway
    for child in A.children(node):
        _taint(child, env, base, ctrl)
    return frozenset({VARY})


def end_taints(program: A.Program, carried: set[str], varying: set[str]) -> dict[str, frozenset]:
    """For each carried variable: the sources of its value at the end of one item."""
    def base(name: str) -> frozenset:
        if name in varying:
            return frozenset({VARY})
        if name in carried:
            return frozenset({"in:" + name})
        return frozenset()
    env: dict[str, frozenset] = {}
    for stmt in program.statements:
        _taint(stmt, env, base, frozenset())
    return {c: env.get(c, base(c)) for c in carried}


# ------------------------------------------------------------------------ the plan
@dataclass
class CarryPlan:
    uniform: tuple[str, ...] = ()          # scanned with `scan`
    scan: object = None                    # scalar function of the uniform slice
    scan_state: tuple[str, ...] = ()       # variables the slice writes (its whole state)
    scan_resets: tuple[str, ...] = ()      # per-item constants the slice reads or writes
    scan_source: str = ""
    levels: list[tuple[str, ...]] = field(default_factory=list)   # shifted, by level
    rest: tuple[str, ...] = ()             # assumed constant, verified after the run


def _stmt_rw(stmt) -> tuple[set[str], set[str]]:
    reads, writes, plain = set(), set(), set()
    for node in A.walk(stmt):
        if isinstance(node, A.Var):
            if id(node) not in plain:
                reads.add(node.name)
        elif isinstance(node, A.Assign) and isinstance(node.target, A.Var):
            writes.add(node.target.name)
            if node.op == "=":
                plain.add(id(node.target))
    return reads, writes


def _uniform_slice(program: A.Program, uniform: set[str]) -> list:
    """Top-level statements (in order) that the uniform variables depend on: a backward
    slice; a plain top-level `v = ...` ends v's liveness above it."""
    stmts = [s for s in program.statements if not isinstance(s, (A.Num, A.Var))]
    rw = [_stmt_rw(s) for s in stmts]
    kills = [{s.target.name} if isinstance(s, A.Assign) and s.op == "=" and
             isinstance(s.target, A.Var) else set() for s in stmts]
    live_end, keep = set(uniform), set()
    while True:                          # values also flow round to the next item
        live = set(live_end)
        for k in range(len(stmts) - 1, -1, -1):
            reads, writes = rw[k]
            if writes & live:
                keep.add(k)
                live = (live - kills[k]) | reads
        if live <= live_end:
            break
        live_end |= live
    return [stmts[k] for k in sorted(keep)]


def make_plan(program: A.Program, carried: set[str], arrays: set[str], scalars: set[str],
              label: str) -> CarryPlan | None:
    """How to run a block with carried state vectorised; None if it needs item by item."""
    taints = end_taints(program, carried, arrays)
    uniform = {c for c in carried if VARY not in taints[c]}
    changed = True
    while changed:
        changed = False
        for c in list(uniform):
            if any(s.startswith("in:") and s[3:] not in uniform for s in taints[c]):
                uniform.discard(c)
                changed = True
    plan = CarryPlan()
    if uniform:
        kept = _uniform_slice(program, uniform)
        reads = set().union(*(_stmt_rw(s)[0] for s in kept)) if kept else set()
        writes = set().union(*(_stmt_rw(s)[1] for s in kept)) if kept else set()
        has_rand = any(isinstance(n, A.Call) and n.name == "rand"
                       for s in kept for n in A.walk(s))
        if has_rand or (reads | writes) & arrays:
            uniform = set()               # the slice would need (or overwrite) vertex data: not uniform
        else:
            sliced = A.Program(list(kept), program.text)
            facts = analyse(sliced)
            if not facts.vectorisable:
                return None
            plan.uniform = tuple(sorted(uniform))
            plan.scan_state = tuple(sorted(writes))
            plan.scan_resets = tuple(sorted((reads | writes) & scalars))
            plan.scan, plan.scan_source = build_scan(
                sliced, facts.reads | facts.writes, plan.scan_state, plan.uniform,
                plan.scan_resets, label)
    known, rest = set(uniform), set(carried) - set(uniform)
    for _ in range(MAX_LEVELS):
        level = {c for c in rest
                 if all(s == VARY or s[3:] in known for s in taints[c])}
        if not level:
            break
        plan.levels.append(tuple(sorted(level)))
        known |= level
        rest -= level
    plan.rest = tuple(sorted(rest))
    return plan


# ------------------------------------------------------------------------ the scan
@dataclass
class ScanStats:
    """How many scalar steps the last scan took (the rest came from a repeat)."""
    steps: int = 0


def _same_bits(a: tuple, b: tuple) -> bool:
    """Tuple equality says 0.0 == -0.0; a repeat must be bit for bit."""
    return struct.pack(f"{len(a)}d", *a) == struct.pack(f"{len(b)}d", *b)


SCAN_GLOBALS = dict(SCALAR_GLOBALS, _same=_same_bits, _range=range)


def build_scan(sliced: A.Program, variables: set[str], state: tuple[str, ...],
               outputs: tuple[str, ...], resets: tuple[str, ...], label: str):
    """The slice's statements inside a generated loop over items, locals kept between
    items, stopping at the first item whose whole state (every variable the slice
    writes) equals an earlier item's. Returns (function, source)."""
    return compile_generated(
        lambda inline: _scan_source(sliced, variables, state, outputs, resets, inline),
        SCAN_GLOBALS, f"<eel-scan {label}>", "_eel_scan")


def _scan_source(sliced: A.Program, variables: set[str], state: tuple[str, ...],
                 outputs: tuple[str, ...], resets: tuple[str, ...], inline: bool) -> str:
    gen = ScalarGen(sliced, variables, inline)
    gen._closure_src = []
    body = []
    for stmt in sliced.statements:
        if isinstance(stmt, A.Assign):
            body.append(gen._assign(stmt, statement=True))
        else:
            body.append(gen.expr(stmt))
    v = var_name
    key = "(" + "".join(f"{v(s)}, " for s in state) + ")"
    lines = ["def _eel_scan(V, REG, R, n):", "    _get = V.get", "    _rget = REG.get",
             "    _rand = R.rand"]
    for name in sorted(variables):
        src = "_rget" if REG_NAME.match(name) else "_get"
        lines.append(f"    {v(name)} = {src}({name!r}, 0.0)")
    lines += [f"    _c_{name} = {v(name)}" for name in resets]
    lines += ["    _seen = {}", "    _states = []"]
    lines += [f"    _o{k} = []" for k in range(len(outputs))]
    lines.append("    for _i in _range(n):")
    lines += [f"        {v(name)} = _c_{name}" for name in resets]
    lines += [f"        _k = {key}", "        _j = _seen.get(_k)",
              "        if _j is not None and _same(_states[_j], _k):",
              f"            return _j, _i, ({''.join(f'_o{k}, ' for k in range(len(outputs)))})",
              "        _seen[_k] = _i", "        _states.append(_k)"]
    lines += [f"        _o{k}.append({v(name)})" for k, name in enumerate(outputs)]
    lines += ["        " + b for b in body]
    lines.append(f"    return -1, n, ({''.join(f'_o{k}, ' for k in range(len(outputs)))})")
    return "\n".join(lines) + "\n"


def scan_uniform(plan: CarryPlan, env: dict, regs: dict, rt, n: int,
                 stats: ScanStats | None = None) -> dict[str, np.ndarray]:
    """Entry values of the uniform carried variables at each of n items.

    `env`/`regs`: the namespace before item 0, per-item constants already set (the scan
    resets those before every item, as the item-by-item run does).
    """
    with np.errstate(all="ignore"):
        j, i, cols = plan.scan(env, regs, rt, n)
    seq = np.array(cols, dtype=np.float64).reshape(len(plan.uniform), i)
    if j >= 0:                               # item i repeats item j: so does all after it
        reps = -(-(n - i) // (i - j))
        seq = np.concatenate([seq, np.tile(seq[:, j:i], reps)[:, : n - i]], axis=1)
    if stats is not None:
        stats.steps = i
    return {u: seq[k] for k, u in enumerate(plan.uniform)}
