"""EEL evaluation cost per frame on a 49x37 mesh over 200 corpus presets.

Prints median and p95 of per-frame time, per-pixel time (vectorised where exact, as the
renderer runs it) and per-pixel time forced item by item (scalar), plus how many presets
ran per-pixel vectorised and by which route (plain vector; vector+shift / vector+scan for
state carried between vertices, see renderer/eel/carried.py; items = vertex by vertex),
with the per-pixel time per route. Goal: per-pixel median <= 0.3 ms.
    .venv/bin/python benchmarks/bench_eel.py [N_PRESETS]
"""
from __future__ import annotations

import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from renderer.equations import MOTION, PresetEquations  # noqa: E402
from renderer.preset import load_milk  # noqa: E402

ROOT = Path("/usr/share/projectM/presets")
FRAMES = 5


def mesh():
    gx, gy = np.meshgrid(np.linspace(-1, 1, 49), np.linspace(-1, 1, 37))
    return gx * 0.5 + 0.5, gy * -0.5 + 0.5, np.hypot(gx, gy), np.arctan2(gy, gx)


def stats(values):
    a = np.asarray(values) * 1e3
    return f"median {np.median(a):7.3f} ms   p95 {np.percentile(a, 95):7.3f} ms"


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


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
