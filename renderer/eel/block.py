"""compile_block(): preset code -> Block with a scalar and (lazily) a vectorised function.

`Block.run_many` has the meaning of "for each item: set its per-item variables, run, record
outputs" and uses the vectorised function only when that gives the same result:
  * statically: analysis.BlockFacts.vectorisable (no loops/buffers/conditional rand);
  * at run time, for blocks that read a variable before writing it (state carried between
    items, e.g. `flip = -flip`): the vectorised run assumes every item saw the value the
    first item saw; we accept it only if every item but the last left that value unchanged,
    which makes it exactly the sequential result. Otherwise we run item by item.
"""
from __future__ import annotations

import numpy as np

from . import ast as A
from .analysis import BlockFacts, analyse
from .errors import EELError, EELSyntax
from .lexer import join_lines
from .parser import parse
from .runtime import VM, REG_NAME
from .scalar_backend import build_scalar
from .vector_backend import build_vector

try:                                   # the lead's preset model, when present
    from renderer.preset import code_text as _code_text
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


def compile_block(lines: list[str] | str, section: str) -> "Block":
    """Parse and compile one code block. Raises EELError(section, line, col, message)."""
    if isinstance(lines, str):
        text, offsets = lines, _text_offsets(lines)
    else:
        text, offsets = _join(list(lines))
    try:
        program = parse(text)
        facts = analyse(program)
        return Block(program, facts, section)
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
        self.vectorisable = facts.vectorisable
        variables = facts.reads | facts.writes
        self._variables = variables
        self._scalar, self.scalar_source = build_scalar(program, variables, section)
        self._vector = None
        self.vector_source: str | None = None
        self.last_run_vectorised = False

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
        if self._vector is None and self.vectorisable:
            self._vector, self.vector_source = build_vector(self.program, self._variables,
                                                            self.section)
        return self._vector

    def run_many(self, vm: VM, per_item: dict, n: int, outputs: list[str]) -> dict[str, np.ndarray]:
        n = int(n)
        if n <= 0:
            return {o: np.zeros(0) for o in outputs}
        self.last_run_vectorised = False
        if not self.empty and self.vectorisable:
            result = self._try_vector(vm, per_item, n, outputs)
            if result is not None:
                self.last_run_vectorised = True
                return result
        return self._run_items(vm, per_item, n, outputs)

    def _try_vector(self, vm, per_item, n, outputs):
        carried = self.facts.carried - set(per_item)
        if carried and self.facts.has_rand:
            return None
        fn = self.vector_function()
        rt = vm.runtime
        env = dict(vm.vars)
        for k, v in per_item.items():
            env[k] = np.asarray(v, dtype=np.float64) if isinstance(v, np.ndarray) else float(v)
        regs = dict(rt.regs)
        with np.errstate(all="ignore"):
            fn(env, regs, rt, n)
        for name in carried:
            start = vm.vars.get(name, 0.0) if not REG_NAME.match(name) else rt.regs.get(name, 0.0)
            got = env.get(name, start) if not REG_NAME.match(name) else regs.get(name, start)
            got = np.asarray(got)
            if got.ndim and not np.array_equal(got[:-1], np.full(n - 1, start)):
                return None
            if not got.ndim and not (float(got) == start or n == 1):
                return None
        out = {}
        for o in outputs:
            v = np.asarray(env.get(o, 0.0), dtype=np.float64)
            out[o] = np.array(np.broadcast_to(v, (n,))) if v.ndim == 0 or v.shape != (n,) else v.copy()
        for k, v in env.items():
            vm.vars[k] = _last(v)
        for k, v in regs.items():
            rt.regs[k] = _last(v)
        return out

    def _run_items(self, vm, per_item, n, outputs):
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
                for k, c in constants:
                    V[k] = c
                for k, col in columns:
                    V[k] = col[i]
                if not self.empty:
                    fn(V, regs, mem, gmem, rt)
                for o, col in results.items():
                    col[i] = get(o, 0.0)
        return {o: np.asarray(col, dtype=np.float64) for o, col in results.items()}


def _last(v):
    if isinstance(v, np.ndarray):
        return float(v.reshape(-1)[-1]) if v.ndim else float(v)
    return float(v)
