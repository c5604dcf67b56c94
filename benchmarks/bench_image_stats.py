"""Cost of each image statistic per frame (goal: whole bundle <= ~2 ms per 128x128 frame).

Run: .venv/bin/python benchmarks/bench_image_stats.py [--size 128] [--repeat 7]
Frames are synthetic but MilkDrop-like (smooth colour fields, rings, a few
sharp lines, some grain) so zlib and the edge count see realistic content.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing
from evo import image_stats as st  # noqa: E402


def milkdrop_like_frames(n: int, size: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    frames = []
    for k in range(n):
        t = k * 0.1
        r = np.hypot(xx - 0.5, yy - 0.5)
        field = np.stack(
            [
                0.5 + 0.5 * np.sin(12 * r - 3 * t),
                0.5 + 0.5 * np.sin(9 * xx + 2 * t),
                0.5 + 0.5 * np.cos(7 * yy - t + 4 * r),
            ],
            axis=-1,
        )
        line = np.abs(yy - 0.5 - 0.3 * np.sin(6 * xx + t)) < 0.01
        field[line] = 1.0
        field += rng.normal(0, 0.02, field.shape)
        frames.append((np.clip(field, 0, 1) * 255).astype(np.uint8))
    return frames


def best_us(fn, reps: int, inner: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    size, reps = args.size, args.repeat
    frames = milkdrop_like_frames(10, size)
    f, g = frames[3], frames[4]
    y = st.luma(f)
    inner = max(5, int(200 * (128 / size) ** 2))
    rows = [
        ("luma (uint16 fixed point)", lambda: st.luma(f)),
        ("luma mean + std", lambda: st.luma_mean_std(y)),
        ("entropy (bincount)", lambda: st.entropy(y)),
        ("colourfulness (Hasler-Suesstrunk)", lambda: st.colourfulness(f)),
        ("colour std", lambda: st.colour_std(f)),
        ("edge density (numpy Sobel)", lambda: st.edge_density(y)),
        ("spatial correlation", lambda: st.spatial_correlation(y)),
        ("compress ratio (zlib level 1)", lambda: st.compress_ratio(f)),
        ("frame change (pair)", lambda: st.frame_change(f, g)),
        ("dark/bright fractions", lambda: (np.count_nonzero(y < 10), np.count_nonzero(y > 245))),
    ]
    print(f"image statistics at {size}x{size}, best of {reps} batches of {inner}")
    total = 0.0
    for name, fn in rows:
        us = best_us(fn, reps, inner)
        total += us
        print(f"  {name:38s} {us:8.1f} us/frame")
    print(f"  {'sum of the above':38s} {total:8.1f} us/frame")
    bass = np.linspace(1, 2, len(frames))
    bundle = best_us(lambda: st.frame_statistics(frames, bass), reps, max(1, inner // 10))
    print(f"  frame_statistics on {len(frames)} frames: {bundle / 1000:.2f} ms = {bundle / len(frames):.0f} us/frame")
    pairs = [x for x in milkdrop_like_frames(90, size)]
    bundle90 = best_us(lambda: st.frame_statistics(pairs, np.ones(90), static_every=10), max(3, reps // 2), 1)
    print(f"  frame_statistics on 90 frames, static_every=10: {bundle90 / 1000:.2f} ms per candidate")
    print(f"  audio_reactivity (90 values): {best_us(lambda: st.audio_reactivity(np.arange(89.0), np.ones(89)), reps, 200):.1f} us")


if __name__ == "__main__":
    main()
