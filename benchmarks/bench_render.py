"""Renderer speed: frames/s at 128x128 and 256x256 for 20 corpus presets without shaders.

Prints, per size, the median frames/s over presets and the median split of a frame among
equations (per-frame + per-pixel code), the warp mesh maths (numpy), GL (submit + finish) and
readback, plus memory/GL-name growth over 200 preset loads in one context.
Reference (issue 4): projectM 3.1 on this llvmpipe, roughly 250-750 fps at 128², 170-330 at 256².

Every frame is read back (as projectM's figures do). Each preset is timed ``--repeats`` times and
the fastest run counts, in CPU time of this process: with LP_NUM_THREADS=0 all GL work runs on
the calling thread, so CPU time is the renderer's own cost, which other work on a shared
machine distorts far less than wall time (the wall-clock median is printed too).

    .venv/bin/python benchmarks/bench_render.py [--presets 20] [--frames 120] [--repeats 3]

Against projectM (issue 18): with ``--projectm PMRENDER`` (the reference's pmrender, built
against libprojectM 3.1) it instead times both renderers as whole processes on the same presets
(7 without shaders, 3 with), music, sizes and warp mesh: each renders N frames and 1 frame,
reading every frame back and writing none (pmrender ``--every 0``), and frames/s is
(N - 1) / (wall_N - wall_1), so start-up and preset load cancel. It prints per preset and the
geometric mean of ours / projectM:

    .venv/bin/python benchmarks/bench_render.py --projectm PMRENDER [--frames 600] [--sizes 128,256]
        [--mesh 48x36] [--wav song.wav]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("LP_NUM_THREADS", "0")

from renderer.gl_context import get_context, gl_name_probe  # noqa: E402
from renderer.pipeline import Renderer  # noqa: E402
from renderer.milk.preset import load_milk  # noqa: E402

CORPUS = Path("/usr/share/projectM/presets")


def pick_presets(n: int):
    files = sorted(CORPUS.rglob("*.milk"))
    step = max(1, len(files) // (n * 3))
    out = []
    for f in files[::step]:
        try:
            p = load_milk(f)
        except Exception:
            continue
        if not p.has_shaders:
            out.append(p)
        if len(out) == n:
            break
    return out


def bench_size(presets, size: int, frames: int, warmup: int = 10, repeats: int = 3):
    r = Renderer(size, size, fps=60, seed=0)
    r.profile = True
    rows = []
    for p in presets:
        best = None
        for _ in range(repeats):
            r.load(p)
            list(r.render(warmup))
            r.timings.reset()
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in r.render(frames):
                pass
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if best is None or cpu < best[1]:
                t = r.timings
                best = (wall, cpu, t.equations, t.mesh, t.gl, t.readback)
        wall, cpu, eq, mesh, gl, rb = best
        rows.append(dict(name=p.name, fps=frames / cpu, wall_fps=frames / wall, eq=eq / frames * 1e3,
                         mesh=mesh / frames * 1e3, gl=gl / frames * 1e3, readback=rb / frames * 1e3))
    r.release()
    return rows


def leak_check(presets, loads: int = 200):
    ctx = get_context()
    r = Renderer(128, 128)
    r.load(presets[0])
    list(r.render(2))
    names0 = gl_name_probe(ctx)
    rss0 = _rss_mb()
    for i in range(loads):
        r.load(presets[i % len(presets)])
        list(r.render(2))
    names1 = gl_name_probe(ctx)
    rss1 = _rss_mb()
    r.release()
    return {k: names1[k] - names0[k] - 1 for k in names0}, rss1 - rss0


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", type=int, default=20)
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per preset; the fastest counts")
    ap.add_argument("--projectm", type=Path, help="pmrender binary: compare whole-process speed with projectM")
    ap.add_argument("--sizes", default="128,256", help="with --projectm: frame sizes")
    ap.add_argument("--mesh", default="48x36", help="with --projectm: the warp mesh both use")
    ap.add_argument("--wav", type=Path, help="with --projectm: music (default: our synthetic track)")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)  # worker: render one preset, write nothing
    ap.add_argument("--size", type=int, default=128, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        return render_one(args.one, args.frames, args.size, args.mesh, args.wav)
    if args.projectm is not None:
        from versus_projectm import compare

        return compare(args.projectm, args.frames if args.frames != 120 else 600,
                       [int(x) for x in args.sizes.split(",")], args.mesh, args.wav)
    presets = pick_presets(args.presets)
    print(f"{len(presets)} presets without shaders, {args.frames} frames each (after 10 warm-up), "
          f"best of {args.repeats} by CPU time; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for size in (128, 256):
        rows = bench_size(presets, size, args.frames, repeats=args.repeats)
        keys = ("fps", "wall_fps", "eq", "mesh", "gl", "readback")
        med = {k: statistics.median(r[k] for r in rows) for k in keys}
        lo = min(r["fps"] for r in rows)
        hi = max(r["fps"] for r in rows)
        print(f"{size}x{size}: median {med['fps']:.0f} fps = {1e3 / med['fps']:.2f} ms/frame CPU "
              f"(min {lo:.0f}, max {hi:.0f}; wall-clock median {med['wall_fps']:.0f} fps); "
              f"ms/frame: equations {med['eq']:.2f}, mesh {med['mesh']:.2f}, "
              f"GL {med['gl']:.2f}, readback {med['readback']:.3f}")
        slow = sorted(rows, key=lambda r: r["fps"])[:3]
        print("  slowest: " + "; ".join(f"{r['name'][:40]} {r['fps']:.0f} fps (eq {r['eq']:.1f} ms)"
                                        for r in slow))
    created, rss = leak_check(presets)
    print(f"200 loads in one context: GL names created {created}, RSS growth {rss:.1f} MiB")


def render_one(path: Path, frames: int, size: int, mesh: str, wav: Path | None) -> None:
    """One whole process's work as a player does it: load, render, composite and read back
    every frame, write nothing (what ``pmrender --every 0`` does)."""
    from renderer.audio import load_audio

    mw, mh = (int(v) for v in mesh.split("x"))
    track = load_audio(wav) if wav is not None else None
    with Renderer(size, size, mesh=(mw, mh), fps=60, seed=0) as r:
        r.load(load_milk(path))
        for _ in r.render(frames, track):
            pass


if __name__ == "__main__":
    main()
