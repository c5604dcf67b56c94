"""compile_block(): preset code -> Block with a scalar and (lazily) a vectorised function.

`Block.run_many` has the meaning of "for each item: set its per-item variables, run, record
outputs" and uses the vectorised function only when that gives the same result:
  * statically: analysis.BlockFacts.vectorisable (no loops/buffers/conditional rand);
  * blocks that read a variable before writing it carry state from one item to the next
    (`flip = -flip`, MilkDrop 1 `thresh` smoothing, `q1` rewritten per vertex).
    carried.make_plan works out each item's entry values where that is exact: a scalar
    scan of the state that depends on no item input, a shift by one item of values that
    do not depend on their own past; everything else is assumed to keep its start value
    and checked after the run (exact when every item but the last left it unchanged).
    If the check fails we undo rand() draws and run item by item.
Item by item runs the whole loop in one generated function (item_loop.py), with exactly
the values of one scalar call per item (`_run_items_each`, kept as the reference).
`last_run_mode` says which way the last run_many went: vector, vector+shift, vector+scan
or items.

compile_block keeps the compiled code of the last COMPILE_CACHE_SIZE (text, section) pairs:
a GA's children share most blocks with their parents and with each other, and parsing plus
generating Python costs ~5 ms a preset (cProfile). Each call still returns its own Block: the compiled
functions and the lazily built vector/item functions and carry plans (pure functions of the
code and the input layout) are shared, the diagnostics of the last run are not.
"""
from __future__ import annotations

from collections import OrderedDict

import numpy as np

from . import ast as A
from .analysis import BlockFacts, analyse
from .carried import CarryPlan, ScanStats, make_plan, scan_uniform
from .errors import EELError, EELSyntax
from .item_loop import ItemLayout, build_items
from .lexer import join_lines
from .parser import parse
from .runtime import VM, REG_NAME
from .scalar_backend import build_scalar
from .vector_backend import build_vector

try:                                   # the lead's preset model, when present
    from renderer.milk.preset import code_text as _code_text
except Exception:                      # pragma: no cover - contract fallback
    _code_text = None


def _join(lines: list[str]) -> tuple[str, list[int]]:
    if _code_text is not None:
        try:
            return _code_text(lines)
        except Exception:
            pass
    return join_lines(lines)


def _locate(pos: int, offsets: list[int], text: str) -> tuple[int, int]:
    """Char offset in joined text -> (preset line number, 1-based column)."""
    if not offsets:
        return 0, 0
    line = 0
    for k, start in enumerate(offsets):
        if start <= pos:
            line = k
        else:
            break
    return line + 1, pos - offsets[line] + 1


def _text_offsets(text: str) -> list[int]:
    offs, at = [0], 0
    for part in text.split("\n")[:-1]:
        at += len(part) + 1
        offs.append(at)
    return offs


MAX_CODE_CHARS = 200_000
"""Longest code block compiled (the largest in the 4,189-preset corpus is 8,547 characters);
compiling is linear in the length, ~2 s for this much, so longer text is refused up front."""
COMPILE_CACHE_SIZE = 512   # ~25 KB each before lazily built functions: ~15-30 MB a worker
_COMPILED: "OrderedDict[tuple[str, str, bool], Block]" = OrderedDict()


def clear_compile_cache() -> None:
    _COMPILED.clear()


def compile_block(lines: list[str] | str, section: str, skip_bad_statements: bool = False) -> "Block":
    """Parse and compile one code block. Raises EELError(section, line, col, message).

    ``skip_bad_statements``: as MilkDrop 2 does, leave out a statement that does not parse and
    compile the rest; ``Block.skipped`` then lists an EELError for each one left out (the
    renderer does this; the GA's mutation check and the strict tools do not)."""
    if isinstance(lines, str):
        text, offsets = lines, _text_offsets(lines)
    else:
        text, offsets = _join(list(lines))
    key = (text, section, bool(skip_bad_statements))
    cached = _COMPILED.get(key)
    if cached is not None:
        _COMPILED.move_to_end(key)
        return cached.fork()
    block = _compile_text(text, offsets, section, bool(skip_bad_statements))
    _COMPILED[key] = block
    if len(_COMPILED) > COMPILE_CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return block.fork()


def _compile_text(text: str, offsets: list[int], section: str, skip_bad: bool = False) -> "Block":
    if len(text) > MAX_CODE_CHARS:
        raise EELError(section, 0, 0, f"code block of {len(text):,} characters is longer than the "
                                      f"{MAX_CODE_CHARS:,} compiled")
    try:
        program = parse(text, skip_bad_statements=skip_bad)
        facts = analyse(program)
        block = Block(program, facts, section)
        block.skipped = [EELError(section, *_locate(e.pos, offsets, text), e.message) for e in program.skipped]
        return block
    except EELSyntax as e:
        line, col = _locate(e.pos, offsets, text)
        raise EELError(section, line, col, e.message) from None
    except (RecursionError, MemoryError, SyntaxError, OverflowError) as e:
        raise EELError(section, 0, 0, f"code too complex to compile ({type(e).__name__})") from None


class Block:
    """One compiled code block (see module docstring)."""

    def __init__(self, program: A.Program, facts: BlockFacts, section: str):
        self.program = program
        self.facts = facts
        self.section = section
        self.reads: set[str] = set(facts.reads)
        self.writes: set[str] = set(facts.writes)
        self.empty = not program.statements
        self.skipped: list[EELError] = []   # statements left out (compile_block(skip_bad_statements=True))
        self.vectorisable = facts.vectorisable
        variables = facts.reads | facts.writes
        self._variables = variables
        self._scalar, self.scalar_source = build_scalar(program, variables, section)
        self._lazy = _LazyCode()          # shared by every fork of this Block
        self._plans: dict = {}            # shared too: plans depend only on code + layout
        self._item_fns: dict = {}
        self._reset_diagnostics()

    def _reset_diagnostics(self) -> None:
        self.last_run_vectorised = False
        self.last_run_mode = "items"      # vector | vector+shift | vector+scan | items
        self.last_scan = ScanStats()      # scalar steps of the last uniform scan

    def fork(self) -> "Block":
        """A Block sharing this one's compiled code and caches, with its own diagnostics."""
        twin = object.__new__(Block)
        twin.__dict__.update(self.__dict__)
        twin._reset_diagnostics()
        return twin

    @property
    def vector_source(self) -> str | None:
        return self._lazy.vector_source

    @property
    def items_source(self) -> str | None:
        return self._lazy.items_source

    # -- scalar ------------------------------------------------------------------------
    def run(self, vm: VM) -> None:
        """Run once over vm.vars (in place)."""
        if self.empty:
            return
        rt = vm.runtime
        rt.reset_budget()
        with np.errstate(all="ignore"):
            self._scalar(vm.vars, rt.regs, vm.megabuf, rt.gmegabuf, rt)

    # -- many items ----------------------------------------------------------------------
    def vector_function(self):
        """The vectorised function, or None where the block has none (not vectorisable, or
        generated code Python cannot compile: nesting beyond its parser's limits)."""
        lazy = self._lazy
        if lazy.vector is None and self.vectorisable and not lazy.vector_failed:
            try:
                lazy.vector, lazy.vector_source = build_vector(self.program, self._variables,
                                                               self.section)
            except (SyntaxError, RecursionError, MemoryError, OverflowError):
                lazy.vector_failed = True
        return lazy.vector

    def run_many(self, vm: VM, per_item: dict, n: int, outputs: list[str]) -> dict[str, np.ndarray]:
        n = int(n)
        if n <= 0:
            return {o: np.zeros(0) for o in outputs}
        self.last_run_vectorised = False
        self.last_run_mode = "items"
        if not self.empty and self.vectorisable:
            result = self._try_vector(vm, per_item, n, outputs)
            if result is not None:
                self.last_run_vectorised = True
                return result
        return self._run_items(vm, per_item, n, outputs)

    def _plan(self, carried: set[str], arrays: set[str], consts: dict) -> CarryPlan | None:
        key = (frozenset(carried), frozenset(arrays), frozenset(consts))
        if key not in self._plans:
            try:
                plan = make_plan(self.program, carried, arrays, set(consts), self.section)
            except (SyntaxError, RecursionError, MemoryError, OverflowError):
                plan = None                   # run item by item
            self._plans[key] = plan
        return self._plans[key]

    def _try_vector(self, vm, per_item, n, outputs):
        carried = self.facts.carried - set(per_item)
        rt = vm.runtime
        base = dict(vm.vars)
        arrays, consts = set(), {}
        for k, v in per_item.items():
            if isinstance(v, np.ndarray) and v.ndim:
                arrays.add(k)
                base[k] = np.asarray(v, dtype=np.float64)
            else:
                consts[k] = base[k] = float(v)
        plan = self._plan(carried, arrays, consts) if carried else None
        if carried and plan is None:
            return None
        fn = self.vector_function()
        if fn is None:
            return None
        rand_at = rt.rand_state() if self.facts.has_rand else None
        starts = {c: (rt.regs if REG_NAME.match(c) else vm.vars).get(c, 0.0) for c in carried}
        entries: dict[str, np.ndarray] = {}
        mode = "vector"
        if plan is not None and plan.uniform:
            entries.update(scan_uniform(plan, dict(base), dict(rt.regs), rt, n, self.last_scan))
            mode = "vector+scan"
        for level in (plan.levels if plan is not None else ()):
            env, regs = self._run_vector(fn, base, rt, entries, n, rand_at)
            for c in level:
                end = _column((regs if REG_NAME.match(c) else env).get(c, starts[c]), n)
                entry = np.empty(n)
                entry[0] = starts[c]
                entry[1:] = end[:-1]
                entries[c] = entry
            mode = mode if mode != "vector" else "vector+shift"
        env, regs = self._run_vector(fn, base, rt, entries, n, rand_at)
        for name in (plan.rest if plan is not None else ()):
            start = starts[name]
            got = np.asarray((regs if REG_NAME.match(name) else env).get(name, start))
            if got.ndim and not np.array_equal(got[:-1], np.full(n - 1, start)):
                return self._undo(rt, rand_at)
            if not got.ndim and not (float(got) == start or n == 1):
                return self._undo(rt, rand_at)
        self.last_run_mode = mode
        out = {}
        for o in outputs:
            v = np.asarray(env.get(o, 0.0), dtype=np.float64)
            if v.ndim == 0:
                out[o] = np.full(n, v)  # as broadcast_to + copy, at a fraction of the cost
            else:
                out[o] = np.array(np.broadcast_to(v, (n,))) if v.shape != (n,) else v.copy()
        vars_ = vm.vars
        for k, v in env.items():
            if v is not vars_.get(k):  # untouched names already hold their value
                vars_[k] = _last(v)
        for k, v in regs.items():
            rt.regs[k] = _last(v)
        return out

    @staticmethod
    def _run_vector(fn, base, rt, entries, n, rand_at):
        """One vectorised run from the namespace `base`, carried entry values given."""
        if rand_at is not None:
            rt.set_rand_state(rand_at)
        env, regs = dict(base), dict(rt.regs)
        for c, v in entries.items():
            (regs if REG_NAME.match(c) else env)[c] = v
        with np.errstate(all="ignore"):
            fn(env, regs, rt, n)
        return env, regs

    @staticmethod
    def _undo(rt, rand_at):
        if rand_at is not None:
            rt.set_rand_state(rand_at)
        return None

    def _run_items(self, vm, per_item, n, outputs, reset_budget_each=False, as_lists=False):
        """Item by item, through the generated loop (item_loop.py); the same values as
        `_run_items_each`. reset_budget_each: a fresh loop budget per item, as one
        Block.run per item has. as_lists: the output columns as lists (no arrays)."""
        if n <= 0:
            return {o: ([] if as_lists else np.zeros(0)) for o in outputs}
        raw = self._run_items_raw(vm, per_item, n, outputs, reset_budget_each)
        if as_lists:
            return {o: (v if isinstance(v, list) else [v] * n) for o, v in raw.items()}
        return {o: (np.array(v, dtype=np.float64) if isinstance(v, list) else np.full(n, v, dtype=np.float64))
                for o, v in raw.items()}

    def _run_items_raw(self, vm, per_item, n, outputs, reset_budget_each=False) -> dict:
        """Like _run_items (n >= 1), but an output that is the same for every item comes
        back as one float instead of a list of n copies."""
        columns, constants = {}, {}
        for k, v in per_item.items():
            if isinstance(v, np.ndarray) and v.ndim:
                columns[k] = np.broadcast_to(v, (n,)).tolist()
            else:
                constants[k] = float(v)
        layout = ItemLayout(tuple(constants), tuple(columns), tuple(outputs),
                            bool(reset_budget_each))
        fn = self._item_function(layout)
        if fn is None:
            cols = self._run_items_each(vm, per_item, n, outputs, reset_budget_each)
            return {o: c.tolist() for o, c in cols.items()}
        rt = vm.runtime
        rt.reset_budget()
        with np.errstate(all="ignore"):
            got = fn(vm.vars, rt.regs, vm.megabuf, rt.gmegabuf, rt, n,
                     tuple(columns.values()), tuple(constants.values()))
        return dict(zip(outputs, got))

    def _item_function(self, layout: ItemLayout):
        """The generated item loop for this layout (cached), or None where it does not
        apply (reg names as inputs/outputs, or code Python cannot compile in a loop)."""
        if layout in self._item_fns:
            return self._item_fns[layout]
        fn = None
        if layout.supported():
            try:
                fn, self._lazy.items_source = build_items(self.program, self._variables, layout,
                                                    self.section)
            except (RecursionError, MemoryError, SyntaxError, OverflowError, ValueError):
                fn = None
        if len(self._item_fns) >= 16:
            self._item_fns.clear()
        self._item_fns[layout] = fn
        return fn

    def _run_items_each(self, vm, per_item, n, outputs, reset_budget_each=False):
        """Reference item-by-item run: one call of the scalar function per item."""
        rt = vm.runtime
        V = vm.vars
        columns, constants = [], []
        for k, v in per_item.items():
            if isinstance(v, np.ndarray) and v.ndim:
                columns.append((k, np.broadcast_to(v, (n,)).tolist()))
            else:
                constants.append((k, float(v)))
        results = {o: [0.0] * n for o in outputs}
        fn, regs, mem, gmem = self._scalar, rt.regs, vm.megabuf, rt.gmegabuf
        rt.reset_budget()
        get = V.get
        with np.errstate(all="ignore"):
            for i in range(n):
                if reset_budget_each:
                    rt.reset_budget()
                for k, c in constants:
                    V[k] = c
                for k, col in columns:
                    V[k] = col[i]
                if not self.empty:
                    fn(V, regs, mem, gmem, rt)
                for o, col in results.items():
                    col[i] = get(o, 0.0)
        return {o: np.asarray(col, dtype=np.float64) for o, col in results.items()}


class _LazyCode:
    """Functions a Block builds on first use; one per compiled code, shared by its forks."""

    __slots__ = ("vector", "vector_failed", "vector_source", "items_source")

    def __init__(self):
        self.vector = None
        self.vector_failed = False
        self.vector_source: str | None = None
        self.items_source: str | None = None


def _column(v, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))


def _last(v):
    if isinstance(v, np.ndarray):
        return float(v.reshape(-1)[-1]) if v.ndim else float(v)
    return float(v)
