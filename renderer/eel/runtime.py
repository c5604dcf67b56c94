"""State that EEL code runs against: one Runtime per render, one VM per variable namespace.

MilkDrop 2 gives per_frame(+init), per_pixel, each custom wave (per-frame and per-point)
and each custom shape a namespace of its own (a VM here). What they share lives on the
Runtime: gmegabuf, the reg00..reg99 registers and the random generator behind rand().
The generator is seeded per render, never global, so the same seed replays the same frames.
"""
from __future__ import annotations

import math
import re

import numpy as np

LOOP_CAP = 1_048_576          # ns-eel2: loop()/while() stop after 2^20 iterations
LOOP_BUDGET = 4 * LOOP_CAP    # ours: total loop iterations per block run (nested loops)
MEM_SIZE = 128 * 65536        # megabuf / gmegabuf cells (8,388,608 as in MilkDrop 2)
_BLOCK = 65536
_RAND_CHUNK = 4096

REG_NAME = re.compile(r"^reg[0-9][0-9]$")


class MemBuffer:
    """megabuf/gmegabuf: 8M doubles, allocated in 64K blocks on first write.

    Index = trunc(i + 0.0001) as ns-eel2 does; outside [0, MEM_SIZE) reads 0 and
    writes are ignored.
    """

    __slots__ = ("blocks",)

    def __init__(self):
        self.blocks: dict[int, np.ndarray] = {}

    @staticmethod
    def _index(i: float) -> int:
        if not (-1.0 < i < MEM_SIZE):
            return -1
        k = int(i + 0.0001)
        return k if 0 <= k < MEM_SIZE else -1

    def get(self, i: float) -> float:
        k = self._index(i)
        if k < 0:
            return 0.0
        block = self.blocks.get(k >> 16)
        return 0.0 if block is None else float(block[k & 0xFFFF])

    def set(self, i: float, value: float) -> float:
        k = self._index(i)
        if k >= 0:
            block = self.blocks.get(k >> 16)
            if block is None:
                block = self.blocks[k >> 16] = np.zeros(_BLOCK)
            block[k & 0xFFFF] = value
        return value

    def clear(self) -> None:
        self.blocks.clear()


class Runtime:
    """One per render of a preset: rand() generator, gmegabuf, reg00..reg99, loop budget."""

    def __init__(self, seed: int = 0):
        self.seed = int(seed)
        self._gen = np.random.Generator(np.random.PCG64(self.seed))
        self._buf: list[float] = []
        self._pos = 0
        self.gmegabuf = MemBuffer()
        self.regs: dict[str, float] = {}
        self.budget = LOOP_BUDGET

    # -- random numbers: one stream of uniforms, consumed in evaluation order -----------
    def _refill(self) -> None:
        self._buf = self._gen.random(_RAND_CHUNK).tolist()
        self._pos = 0

    def uniform(self) -> float:
        if self._pos >= len(self._buf):
            self._refill()
        u = self._buf[self._pos]
        self._pos += 1
        return u

    def uniforms(self, n: int) -> np.ndarray:
        """The next n uniforms, exactly as n calls of uniform() would return them."""
        out = np.empty(n)
        at = 0
        while at < n:
            if self._pos >= len(self._buf):
                self._refill()
            take = min(n - at, len(self._buf) - self._pos)
            out[at:at + take] = self._buf[self._pos:self._pos + take]
            self._pos += take
            at += take
        return out

    def rand_state(self):
        """Where the rand() stream stands, so a tentative vectorised run can be undone."""
        return (self._gen.bit_generator.state, self._buf, self._pos)

    def set_rand_state(self, state) -> None:
        self._gen.bit_generator.state, self._buf, self._pos = state

    def rand(self, x: float) -> float:
        """rand(n): an integer in [0, n) (n < 1 counts as 1, so rand(0) = 0)."""
        return rand_scale(self.uniform(), x)

    def reset_budget(self) -> None:
        self.budget = LOOP_BUDGET


def rand_scale(u: float, x: float) -> float:
    n = math.floor(x) if x - x == 0.0 else 1
    if n < 1:
        n = 1
    return float(math.floor(u * n))


def v_rand_scale(u: np.ndarray, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    n = np.where(np.isfinite(x), np.floor(np.where(np.isfinite(x), x, 1.0)), 1.0)
    n = np.where(n < 1.0, 1.0, n)
    return np.floor(u * n)


class VM:
    """One variable namespace. `vars` maps lower-case names to floats (unknown -> 0)."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.vars: dict[str, float] = {}
        self.megabuf = MemBuffer()

    def get(self, name: str) -> float:
        name = name.lower()
        if REG_NAME.match(name):
            return self.runtime.regs.get(name, 0.0)
        return self.vars.get(name, 0.0)

    def set(self, name: str, value: float) -> None:
        name = name.lower()
        if REG_NAME.match(name):
            self.runtime.regs[name] = value
        else:
            self.vars[name] = value


def run_loop(rt: Runtime, n: float, body) -> float:
    """loop(n, body): trunc(n) times, at most LOOP_CAP, within the run's budget."""
    if not (n - n == 0.0) or n < 1.0:
        return 0.0
    count = min(int(n), LOOP_CAP)
    result = 0.0
    for _ in range(count):
        if rt.budget <= 0:
            break
        rt.budget -= 1
        result = body()
    return result


def run_while(rt: Runtime, body) -> float:
    """while(body): run body until it is false (|v| <= 0.00001), at most LOOP_CAP times."""
    result = 0.0
    for _ in range(LOOP_CAP):
        if rt.budget <= 0:
            break
        rt.budget -= 1
        result = body()
        if not abs(result) > 1e-5:
            break
    return result
