"""Hostile input against the .milk reader, the EEL compiler and the HLSL translator.

    .venv/bin/python benchmarks/bench_robustness.py [--inputs 100000] [--seed 0] [--workers 2]
                                                    [--time-cap 10] [--memory-cap-mb 4096]
    .venv/bin/python benchmarks/bench_robustness.py --show 1234 [--seed 0]   # print one input

Inputs come from benchmarks/hostile_inputs.py (grammar, corpus mutation, token soup), input ``i``
a function of (seed, i) alone. Each runs in a worker process under a wall-clock cap (a timer in
the worker, and the parent kills a worker that stops answering) and an address-space limit; the
worker's peak resident memory is reset before and read after every input (/proc/self/clear_refs).

What counts, per input:
  accepted      parsed / compiled (and run once) / translated
  clear error   the component's own error (PresetError, EELError, ShaderError) with a message
  crash         any other exception, or the worker died
  hang          past the time cap
  memory        MemoryError (the address-space limit) or a peak over the 1 GB goal
For the reader, an accepted file is also written back (dump_milk) and read again; for the
compiler, a compiled block also runs once on a fresh VM, and over three items.
Goal: 0 crashes, 0 hangs, under 1 GB resident for every input.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import signal
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

KINDS = ("milk", "eel", "hlsl")
GOAL_MB = 1024


class _Expired(Exception):
    pass


# ---------------------------------------------------------------- one input


def make_input(kind: str, seed: int, i: int, corpus) -> str | bytes:
    import hostile_inputs as H

    files, code, shaders = corpus
    rng = random.Random((seed << 40) + i)
    if kind == "milk":
        return H.milk_file(rng, files, code, shaders)
    if kind == "eel":
        return H.eel_code(rng, code)
    return H.hlsl_shader(rng, shaders)


def try_input(kind: str, data) -> tuple[str, str]:
    """(outcome, detail) of one input: 'accepted' | 'error' | 'crash' (exceptions propagate)."""
    if kind == "milk":
        from renderer.milk.preset import PresetError, dump_milk, parse_milk

        try:
            preset = parse_milk(data, source="<hostile>")
        except PresetError as exc:
            return _clear(exc)
        again = parse_milk(dump_milk(preset), source="<rewritten>")
        if again.params != preset.params:
            return "crash", "written file reads back different parameters"
        return "accepted", ""
    if kind == "eel":
        import numpy as np

        from renderer.eel import VM, EELError, Runtime, compile_block

        try:
            block = compile_block(data, "per_frame")
        except EELError as exc:
            return _clear(exc)
        vm = VM(Runtime(0))
        block.run(vm)
        block.run_many(vm, {"x": np.arange(3.0)}, 3, ["x", "y"])
        return "accepted", ""
    from renderer.shaders.hlsl_lexer import ShaderError
    from renderer.shaders.translate import translate

    try:
        translate(data, "comp" if len(data) % 2 else "warp")
    except ShaderError as exc:
        return _clear(exc)
    return "accepted", ""


def _clear(exc: Exception) -> tuple[str, str]:
    message = str(exc).strip()
    return ("error", message[:200]) if message else ("crash", f"{type(exc).__name__} without a message")


# ---------------------------------------------------------------- worker


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_kb() -> int:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def worker(conn, seed: int, kinds: tuple[str, ...], time_cap: float, memory_cap_mb: int) -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy as np

    import hostile_inputs as H

    limit = memory_cap_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    corpus = H.load_corpus()

    def expired(signum, frame):
        raise _Expired

    signal.signal(signal.SIGALRM, expired)
    while True:
        job = conn.recv()
        if job is None:
            return
        start, stop = job
        for i in range(start, stop):
            kind = kinds[i % len(kinds)]
            data = make_input(kind, seed, i, corpus)
            _reset_peak()
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, time_cap)
            try:
                with np.errstate(all="ignore"):
                    outcome, detail = try_input(kind, data)
            except _Expired:
                outcome, detail = "hang", f"over {time_cap:g} s"
            except MemoryError:
                outcome, detail = "memory", "MemoryError (address-space limit)"
            except RecursionError:
                outcome, detail = "crash", "RecursionError"
            except Exception as exc:  # noqa: BLE001 - this is what the benchmark counts
                outcome, detail = "crash", f"{type(exc).__name__}: {str(exc)[:300]}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            seconds = time.perf_counter() - t0
            conn.send((i, kind, outcome, detail, seconds, _peak_kb(), len(data)))
        conn.send(("done", start, stop))


# ---------------------------------------------------------------- parent


class Pool:
    """Workers fed ranges of input numbers; a worker that stops answering is killed and its
    current input counted as a hang, one that dies as a crash, and the rest of its range goes on."""

    def __init__(self, n: int, seed: int, kinds, time_cap: float, memory_cap_mb: int):
        self.args = (seed, kinds, time_cap, memory_cap_mb)
        self.time_cap = time_cap
        self.ctx = mp.get_context("spawn")
        self.slots = [self._start() for _ in range(n)]

    def _start(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=worker, args=(child, *self.args), daemon=True)
        proc.start()
        child.close()
        return {"proc": proc, "conn": parent, "range": None, "next": None, "since": time.monotonic()}

    def run(self, ranges: list[tuple[int, int]], on_result, kinds) -> None:
        todo = list(reversed(ranges))
        while todo or any(s["range"] for s in self.slots):
            for k, s in enumerate(self.slots):
                if s["range"] is None and todo:
                    s["range"] = todo.pop()
                    s["next"], s["since"] = s["range"][0], time.monotonic()
                    s["conn"].send(s["range"])
                if s["range"] is None:
                    continue
                lost = None
                try:
                    if s["conn"].poll(0.05):
                        msg = s["conn"].recv()
                        s["since"] = time.monotonic()
                        if msg[0] == "done":
                            s["range"] = None
                        else:
                            on_result(*msg)
                            s["next"] = msg[0] + 1
                        continue
                except (EOFError, OSError):
                    lost = ("crash", f"worker died (exit {s['proc'].exitcode})")
                if lost is None and time.monotonic() - s["since"] > self.time_cap + 20:
                    lost = ("hang", f"no answer in {self.time_cap + 20:g} s: worker killed")
                if lost is not None:
                    i = s["next"]
                    s["proc"].kill()
                    s["proc"].join()
                    on_result(i, kinds[i % len(kinds)], lost[0], lost[1], time.monotonic() - s["since"], 0, 0)
                    rest = (i + 1, s["range"][1])
                    self.slots[k] = self._start()
                    if rest[0] < rest[1]:
                        todo.append(rest)

    def close(self) -> None:
        for s in self.slots:
            try:
                s["conn"].send(None)
            except OSError:
                pass
            s["proc"].join(timeout=5)
            if s["proc"].is_alive():
                s["proc"].kill()
                s["proc"].join()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--time-cap", type=float, default=30.0, help="seconds allowed per input")
    ap.add_argument("--memory-cap-mb", type=int, default=4096, help="address-space limit per worker")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--show", type=int, default=None, help="print input number N and what it gives")
    args = ap.parse_args(argv)
    kinds = tuple(k for k in args.kinds.split(",") if k)
    if args.show is not None:
        import hostile_inputs as H

        kind = kinds[args.show % len(kinds)]
        data = make_input(kind, args.seed, args.show, H.load_corpus())
        print(f"--- {kind} input #{args.show} ({len(data)} {'bytes' if isinstance(data, bytes) else 'chars'})")
        print(data[:4000] if isinstance(data, str) else data[:4000].decode("latin-1"))
        print("---", try_input(kind, data))
        return 0
    return run(args.inputs, args.seed, args.workers, args.time_cap, args.memory_cap_mb, kinds)


def run(n: int, seed: int, workers: int, time_cap: float, memory_cap_mb: int, kinds=KINDS, quiet: bool = False) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(stderr=True)
    counts: Counter = Counter()
    by_kind: Counter = Counter()
    failures: list[tuple] = []
    peak = (0, None)
    slowest = (0.0, None)
    t0 = time.monotonic()
    step = 250
    ranges = [(a, min(n, a + step)) for a in range(0, n, step)]
    with Progress(TextColumn("hostile inputs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console, transient=True, disable=quiet or not console.is_terminal) as bar:
        task = bar.add_task("", total=n)

        def on_result(i, kind, outcome, detail, seconds, peak_kb, size):
            nonlocal peak, slowest
            if peak_kb > GOAL_MB * 1024 and outcome in ("accepted", "error"):
                outcome, detail = "memory", f"{peak_kb // 1024} MB resident"
            counts[outcome] += 1
            by_kind[kind] += 1
            if outcome in ("crash", "hang", "memory"):
                failures.append((i, kind, outcome, detail))
            if peak_kb > peak[0]:
                peak = (peak_kb, f"{kind} #{i}")
            if seconds > slowest[0] and outcome != "hang":
                slowest = (seconds, f"{kind} #{i}")
            bar.advance(task)

        pool = Pool(workers, seed, kinds, time_cap, memory_cap_mb)
        try:
            pool.run(ranges, on_result, kinds)
        finally:
            pool.close()
    wall = time.monotonic() - t0
    tried = sum(counts.values())
    print(f"inputs tried      {tried:,} ({', '.join(f'{k} {by_kind[k]:,}' for k in kinds)}), seed {seed}")
    print(f"accepted          {counts['accepted']:,}")
    print(f"clear errors      {counts['error']:,}")
    print(f"crashes           {counts['crash']:,}")
    print(f"hangs             {counts['hang']:,} (cap {time_cap:g} s per input)")
    print(f"over memory       {counts['memory']:,} (goal {GOAL_MB} MB resident, limit {memory_cap_mb} MB address space)")
    print(f"peak memory       {peak[0] / 1024:.0f} MB resident for one input ({peak[1]}), worker included")
    print(f"slowest input     {slowest[0]:.2f} s ({slowest[1]})")
    print(f"time              {wall:.0f} s ({tried / max(wall, 1e-9):,.0f} inputs/s, {workers} workers)")
    for i, kind, outcome, detail in sorted(failures)[:20]:
        print(f"  {outcome:6s} {kind} #{i}: {detail}   (show: --show {i} --seed {seed} --kinds {','.join(kinds)})")
    met = counts["crash"] == 0 and counts["hang"] == 0 and counts["memory"] == 0
    print(f"goal: 0 crashes, 0 hangs, < {GOAL_MB} MB per input -> {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
