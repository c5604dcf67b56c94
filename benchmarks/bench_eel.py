"""EEL evaluation cost per frame on a 49x37 mesh over 200 corpus presets.

Prints median and p95 of per-frame time, per-pixel time (vectorised where exact, as the
renderer runs it) and per-pixel time forced item by item (scalar), plus how many presets
ran per-pixel vectorised and by which route (plain vector; vector+shift / vector+scan for
state carried between vertices, see renderer/eel/carried.py; items = vertex by vertex),
with the per-pixel time per route. Goal: per-pixel median <= 0.3 ms.

Per-point section: every distinct per-point block of an enabled custom wave in the corpus,
512 points: run_many as the renderer runs it, the generated item loop forced
(Block._run_items: the whole loop in one generated function, see eel/item_loop.py) and
one call of the scalar function per item (Block._run_items_each, the previous design).
Shape section: every distinct shape per-frame block, 256 instances, the same two ways.
    .venv/bin/python benchmarks/bench_eel.py [N_PRESETS]
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from renderer.eel import VM, EELError, Runtime, compile_block  # noqa: E402
from renderer.equations import MOTION, PresetEquations  # noqa: E402
from renderer.milk.preset import load_milk  # noqa: E402

ROOT = Path("/usr/share/projectM/presets")
FRAMES = 5


def mesh():
    gx, gy = np.meshgrid(np.linspace(-1, 1, 49), np.linspace(-1, 1, 37))
    return gx * 0.5 + 0.5, gy * -0.5 + 0.5, np.hypot(gx, gy), np.arctan2(gy, gx)


def stats(values):
    a = np.asarray(values) * 1e3
    return f"median {np.median(a):7.3f} ms   p95 {np.percentile(a, 95):7.3f} ms"


def _corpus_blocks(files) -> tuple[dict, dict]:
    """Distinct per-point blocks of enabled waves and per-frame blocks of enabled shapes."""
    points, shapes = {}, {}
    for path in files:
        try:
            preset = load_milk(path)
        except Exception:
            continue
        for w in preset.waves:
            if w.per_point and w.params.get("enabled", 0):
                points.setdefault(tuple(w.per_point), path)
        for sh in preset.shapes:
            if sh.per_frame and sh.params.get("enabled", 0):
                shapes.setdefault(tuple(sh.per_frame), path)
    return points, shapes


def _vm(seed: int = 1) -> VM:
    vm = VM(Runtime(seed))
    vm.vars.update(time=1.7, frame=51.0, fps=30.0, progress=0.2, bass=1.2, mid=0.9, treb=1.1,
                   bass_att=1.05, mid_att=0.95, treb_att=1.0)
    vm.vars.update({f"q{i}": 0.1 * i - 1.3 for i in range(1, 33)})
    vm.vars.update({f"t{i}": 0.2 * i - 0.7 for i in range(1, 9)})
    return vm


def _timed(fn, reps: int = 2) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def item_sections(files) -> None:
    points, shapes = _corpus_blocks(files)
    n = 512
    s = np.linspace(0, 1, n)
    v1, v2 = 0.3 * np.sin(s * 17), 0.2 * np.cos(s * 11)
    per_point = {"sample": s, "value1": v1, "value2": v2, "x": 0.5 + v1, "y": 0.5 + v2,
                 "r": 0.5, "g": 0.6, "b": 0.7, "a": 0.8}
    outs = ["x", "y", "r", "g", "b", "a"]
    t_run, t_loop, t_each, modes = [], [], [], {}
    for code in points:
        try:
            block = compile_block(list(code), "wave0_per_point")
        except EELError:
            continue
        t_run.append(_timed(lambda: block.run_many(_vm(), per_point, n, outs)))
        modes[block.last_run_mode] = modes.get(block.last_run_mode, 0) + 1
        t_loop.append(_timed(lambda: block._run_items(_vm(), per_point, n, outs)))
        t_each.append(_timed(lambda: block._run_items_each(_vm(), per_point, n, outs)))
    print(f"per-point: {len(t_run)} distinct corpus blocks, {n} points   "
          + "  ".join(f"{m} {c}" for m, c in sorted(modes.items())))
    print(f"  run_many (as run)     {stats(t_run)}   max {max(t_run) * 1e3:7.3f} ms")
    print(f"  item loop (generated) {stats(t_loop)}   max {max(t_loop) * 1e3:7.3f} ms")
    print(f"  one call per item     {stats(t_each)}   max {max(t_each) * 1e3:7.3f} ms")
    count = 256
    per_inst = {"instance": np.arange(count, dtype=np.float64), "x": 0.5, "y": 0.5, "rad": 0.1,
                "ang": 0.0, "r": 1.0, "g": 0.5, "b": 0.2, "a": 1.0, "sides": 4.0,
                "num_inst": float(count)}
    souts = list(per_inst) + [f"t{i}" for i in range(1, 9)]
    t_loop, t_each = [], []
    for code in shapes:
        try:
            block = compile_block(list(code), "shape0_per_frame")
        except EELError:
            continue
        t_loop.append(_timed(lambda: block._run_items(_vm(), per_inst, count, souts,
                                                      reset_budget_each=True)))
        t_each.append(_timed(lambda: block._run_items_each(_vm(), per_inst, count, souts,
                                                           reset_budget_each=True)))
    print(f"shape per-frame: {len(t_loop)} distinct corpus blocks, {count} instances")
    print(f"  item loop (generated) {stats(t_loop)}   max {max(t_loop) * 1e3:7.3f} ms")
    print(f"  one call per item     {stats(t_each)}   max {max(t_each) * 1e3:7.3f} ms")


def main(n_presets: int = 200) -> None:
    files = sorted(p for p in ROOT.rglob("*") if p.suffix.lower() == ".milk")
    random.Random(0).shuffle(files)
    x, y, rad, ang = mesh()
    t_frame, t_pixel, t_scalar, t_both, vectorised, with_pp = [], [], [], [], 0, 0
    by_mode: dict[str, list[float]] = {}
    for path in files[:n_presets]:
        eq = PresetEquations(load_milk(path), seed=0)
        inputs = dict(time=0.0, frame=0, fps=30, progress=0, bass=1.1, mid=1, treb=0.9,
                      bass_att=1.05, mid_att=1, treb_att=0.95, meshx=48, meshy=36,
                      pixelsx=1024, pixelsy=768, aspectx=0.75, aspecty=1.0)
        fv = eq.begin_frame(inputs)
        eq.per_pixel(fv, x, y, rad, ang)                 # warm-up: init, lazy compile
        tf, tp = [], []
        for f in range(1, FRAMES + 1):
            inputs.update(time=f / 30, frame=f)
            t0 = time.perf_counter()
            fv = eq.begin_frame(inputs)
            t1 = time.perf_counter()
            eq.per_pixel(fv, x, y, rad, ang)
            t2 = time.perf_counter()
            tf.append(t1 - t0)
            tp.append(t2 - t1)
        t_frame.append(np.median(tf))
        if eq.pixel_block is not None:
            with_pp += 1
            t_pixel.append(np.median(tp))
            t_both.append(np.median(np.add(tf, tp)))
            vectorised += eq.pixel_block.last_run_vectorised
            by_mode.setdefault(eq.pixel_block.last_run_mode, []).append(np.median(tp))
            per_item = {"x": x.ravel(), "y": y.ravel(), "rad": rad.ravel(), "ang": ang.ravel(),
                        **{m: fv[m] for m in MOTION}}
            t0 = time.perf_counter()
            eq.pixel_block._run_items(eq.pixel_vm, per_item, x.size, list(MOTION))
            t_scalar.append(time.perf_counter() - t0)
    print(f"{n_presets} presets, {with_pp} with per-pixel code, mesh 49x37 ({x.size} vertices)")
    print(f"per-frame code          {stats(t_frame)}")
    print(f"per-pixel (as run)      {stats(t_pixel)}   vectorised {vectorised}/{with_pp}")
    for mode, times in sorted(by_mode.items()):
        print(f"  {mode:<13} {len(times):4d} presets   {stats(times)}   max {max(times) * 1e3:7.3f} ms")
    print(f"per-pixel scalar        {stats(t_scalar)}")
    print(f"per-frame + per-pixel   {stats(t_both)}")
    item_sections(files)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
