"""Diverse offspring: plain GA, GA with fitness sharing, and MAP-Elites at the same number of
evaluations, the same seed presets and the same music.

For each run it prints:
  evals      candidates rendered (copies of a genome seen before are not rendered again)
  QD-score   sum of the machine scores of the elites when *every* individual the run evaluated is
             placed into one reference archive (the QD run's CVT centroids), and its coverage
             (filled cells / cells): how much of the space of looks the run visited, and how well
  kept       cells filled by what the run ends with, placed into the same archive: the GA's last
             generation, the QD run's archive (the QD-coverage goal compares these)
  SSIM       mean pairwise SSIM (grey, 128x128, skimage) of the stills of the 12 best distinct
             presets (``liandan export --top 12``): low = twelve different pictures
  mean(12)   the mean machine score of those 12
  white      share of near-white pixels (>= 250 in every channel) in those stills
  lineages   how many of the seed presets the final population (GA: last generation; QD: the
             archive's elites) descends from
  best       best machine score of any individual
Goals (issue 12): GA with diversity keeps >= 6 of 16 seed lineages, hall-of-fame SSIM <= 0.25
and a best score within 5% of the plain GA's; QD coverage >= 3x the plain GA's (kept cells; the
table also shows the cells every evaluated individual visited, where the GA's early generations
count too).

    .venv/bin/python benchmarks/bench_diversity.py [--population 16] [--generations 30] [--workers 2]
                     [--seed 1] [--modes plain,sharing,qd] [--runs-dir DIR] [--size 128] [--frames 90]
                     [--measure-only]    (measure the runs already in --runs-dir again, newest of each mode)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LP_NUM_THREADS", "0")

MODES = {
    "plain": {"run.search": "ga", "ga.diversity": "none"},
    "sharing": {"run.search": "ga", "ga.diversity": "sharing"},
    "qd": {"run.search": "qd"},
}


def seed_lineages(run, ids: list[str]) -> set[str]:
    """The seed presets (``seed:<file>`` parents) in the ancestry of ``ids``."""
    seeds: set[str] = set()
    seen: set[str] = set()
    stack = list(ids)
    while stack:
        ind = stack.pop()
        if ind in seen:
            continue
        seen.add(ind)
        for p in run.individual(ind).parents:
            if p.startswith("seed:"):
                seeds.add(p)
            elif "/" not in p:
                stack.append(p)
    return seeds


def still_metrics(run, ids: list[str]) -> tuple[float, float]:
    """(mean pairwise grey SSIM, near-white share) of the stills of ``ids``."""
    import numpy as np
    from PIL import Image
    from skimage.metrics import structural_similarity

    stills = []
    for i in ids:
        with Image.open(run.still_path(i)) as im:
            stills.append(np.asarray(im.convert("RGB").resize((128, 128), Image.BILINEAR)))
    grey = [np.asarray(Image.fromarray(s).convert("L")) for s in stills]
    pairs = [structural_similarity(a, b, data_range=255) for a, b in combinations(grey, 2)]
    white = float(np.mean([np.mean(s.min(axis=2) >= 250) for s in stills])) if stills else 0.0
    return (float(np.mean(pairs)) if pairs else 0.0), white


def measure(run, centroids) -> dict:
    from evo.qd.archive import archive_stats

    everyone = [ind for g in run.generations() for ind in run.load_generation(g)]
    last = run.generations()[-1]
    archive = run.archive()
    final = [e.id for e in archive.elites] if archive is not None else [i.id for i in run.load_generation(last)]
    best12 = run.best(12)
    ssim, white = still_metrics(run, best12)
    stats = archive_stats([i for i in everyone if not i.cached_from], centroids)
    kept = archive_stats([run.individual(i) for i in final], centroids)
    return {"evals": sum(1 for i in everyone if not i.cached_from), "qd_score": stats["qd_score"],
            "coverage": stats["coverage"], "cells": stats["filled"], "kept": kept["filled"], "ssim": ssim, "white": white,
            "mean12": sum(run.individual(i).score for i in best12) / max(1, len(best12)),
            "lineages": len(seed_lineages(run, final)), "best": max(i.score for i in everyone if i.score is not None)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", type=int, default=16)
    ap.add_argument("--generations", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--frames", type=int, default=90)
    ap.add_argument("--modes", default="plain,sharing,qd")
    ap.add_argument("--runs-dir", default=None, help="keep the runs here (default: a temporary folder)")
    ap.add_argument("--measure-only", action="store_true", help="measure the runs already in --runs-dir")
    args = ap.parse_args()
    if args.measure_only and not args.runs_dir:
        ap.error("--measure-only needs --runs-dir")

    from evo.config import load_config
    from evo.driver import start_run
    from evo.qd.archive import Centroids
    from evo.store import RunStore

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = sorted(set(modes) - set(MODES))
    if unknown:
        ap.error(f"unknown modes {unknown} (known: {', '.join(MODES)})")
    base = {"run.population": args.population, "run.generations": args.generations, "run.seed": args.seed,
            "evaluation.workers": args.workers, "fitness.width": args.size, "fitness.height": args.size,
            "fitness.frames": args.frames}
    tmp = None if args.runs_dir else tempfile.TemporaryDirectory(prefix="bench_diversity_")
    store = RunStore(args.runs_dir or tmp.name)
    print(f"{args.population} x {args.generations} = {args.population * args.generations} evaluations per run, "
          f"seed {args.seed}, {args.size}x{args.size}, {args.frames} frames, {args.workers} workers, "
          f"synthetic music; runs in {store.root}", flush=True)
    runs = {}
    for mode in modes:
        if args.measure_only:
            found = sorted(p.name for p in store.root.iterdir() if p.name.startswith(f"{mode}-"))
            if not found:
                ap.error(f"no {mode}-* run in {store.root}")
            runs[mode] = store.open(found[-1])
            continue
        cfg = load_config(None, {**base, **MODES[mode]})
        t0 = time.monotonic()
        name = f"{mode}-{time.strftime('%H%M%S')}"
        runs[mode] = store.open(start_run(cfg, store, name))
        print(f"  {mode}: {time.monotonic() - t0:.0f} s", flush=True)
    qd_cfg = load_config(None, {**base, **MODES["qd"]})
    saved = runs["qd"].read_centroids() if "qd" in runs else None
    centroids = Centroids.from_json(saved) if saved else Centroids.make(
        qd_cfg.qd.measures, qd_cfg.qd.cells, qd_cfg.qd.centroid_samples, args.seed)
    results = {mode: measure(run, centroids) for mode, run in runs.items()}

    print(f"\nreference archive: {len(centroids.points)} CVT cells over {', '.join(centroids.measures)}")
    print(f"{'run':>9} {'evals':>6} {'QD-score':>9} {'coverage':>9} {'cells':>6} {'kept':>5} {'SSIM(12)':>9} "
          f"{'mean(12)':>9} {'white':>6} {'lineages':>9} {'best':>7}")
    for mode, r in results.items():
        print(f"{mode:>9} {r['evals']:6d} {r['qd_score']:9.2f} {100 * r['coverage']:8.1f}% {r['cells']:6d} {r['kept']:5d} "
              f"{r['ssim']:9.3f} {r['mean12']:9.3f} {100 * r['white']:5.1f}% {r['lineages']:5d}/{args.population:<3d} "
              f"{r['best']:7.4f}")
    ok = True
    if "sharing" in results:
        s = results["sharing"]
        goals = [("sharing keeps >= 6 of 16 seed lineages", s["lineages"] >= 6 * args.population / 16),
                 ("sharing hall-of-fame SSIM <= 0.25", s["ssim"] <= 0.25)]
        if "plain" in results:
            goals.append(("sharing best score within 5% of the plain GA's",
                          s["best"] >= 0.95 * results["plain"]["best"]))
        for text, met in goals:
            print(f"goal: {text}: {'met' if met else 'NOT met'}")
            ok &= met
    if "qd" in results and "plain" in results:
        ratio = results["qd"]["kept"] / max(1, results["plain"]["kept"])
        met = ratio >= 3.0
        visited = results["qd"]["cells"] / max(1, results["plain"]["cells"])
        print(f"goal: QD coverage >= 3x the plain GA's (archive vs last generation): {ratio:.1f}x, "
              f"{'met' if met else 'NOT met'} (cells visited by every evaluation: {visited:.1f}x)")
        ok &= met
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
