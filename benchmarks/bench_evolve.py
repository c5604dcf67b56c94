"""Candidate evaluations per second, 1 and 2 Dask workers, default fitness settings.

A fixed sample of MilkDrop 1 presets from the corpus (sorted paths, random.Random(0)) is
evaluated exactly as a run evaluates them: render 90 frames at 128x128 against the synthetic
music, statistics, score, animated WebP + still PNG. Worker start-up (context, music) is excluded:
each cluster is warmed up first, then timed over the whole sample.

Goal on the 2-core reference machine: >= 10 candidates/s with 2 workers.

With ``--children`` the timed sample is instead one generation of children bred from the sample
(crossbreed + mutate, random.Random(1)), evaluated after the parents, as a run's second
generation is: children share most code blocks with their parents, which the EEL compile cache
(renderer.eel.block) turns into cache hits.

    .venv/bin/python benchmarks/bench_evolve.py [--n 48] [--workers 1,2] [--no-previews] [--children]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LP_NUM_THREADS", "0")

CORPUS = Path("/usr/share/projectM/presets")


def sample_genomes(n: int) -> list[dict]:
    from evo.genome import genome_from_preset
    from evo.seeds import seed_paths
    from renderer.milk.preset import PresetError, load_milk

    files = sorted(CORPUS.rglob("*.milk")) if CORPUS.is_dir() else seed_paths()
    rng = random.Random(0)
    rng.shuffle(files)
    out = []
    for f in files:
        try:
            p = load_milk(f)
        except PresetError:
            continue
        if not p.has_shaders:
            out.append(genome_from_preset(p).to_json())
        if len(out) >= n:
            break
    return out


def breed_children(parents: list[dict], n: int) -> list[dict]:
    """``n`` children of random parent pairs, as one GA generation makes them (seeded)."""
    from evo.genome import Genome
    from evo.operators import crossbreed, mutate

    rng = random.Random(1)
    out = []
    for _ in range(n):
        a, b = (Genome.from_json(g) for g in rng.sample(parents, 2))
        out.append(mutate(crossbreed(a, b, rng=rng), rng).to_json())
    return out


def bench(genomes: list[dict], workers: int, previews: bool,
          before: list[dict] | None = None) -> tuple[float, float, int, int]:
    from dataclasses import replace

    from evo.config import load_config
    from evo.evaluate import Task, make_evaluator
    from evo.fitness import EvalSettings

    settings = EvalSettings.from_config(load_config())
    settings = replace(settings, preview=previews, still=previews)
    ev = make_evaluator(settings, workers)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            ev.start()
            # warm-up round: every worker compiles its shaders once
            list(ev.run([Task(f"w{i}", genomes[i % len(genomes)], None) for i in range(max(2, 2 * workers))]))
            if before:  # the parents' generation, untimed
                list(ev.run([Task(f"p{i}", g, os.path.join(tmp, f"p{i}")) for i, g in enumerate(before)]))
            tasks = [Task(f"c{i}", g, os.path.join(tmp, f"c{i}")) for i, g in enumerate(genomes)]
            t0 = time.perf_counter()
            results = dict(ev.run(tasks))
            dt = time.perf_counter() - t0
        finally:
            ev.close()
    errors = sum(1 for r in results.values() if r["error"])
    degenerate = sum(1 for r in results.values() if r["degenerate"])
    cpu = sum(r.get("cpu_seconds", 0.0) for r in results.values()) / len(results)
    return len(genomes) / dt, cpu, errors, degenerate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=48, help="presets in the sample")
    ap.add_argument("--workers", default="0,1,2", help="comma-separated worker counts (0 = in-process)")
    ap.add_argument("--no-previews", action="store_true", help="skip WebP/PNG previews")
    ap.add_argument("--children", action="store_true", help="time a generation of children of the sample")
    args = ap.parse_args()
    genomes, parents = sample_genomes(args.n), None
    print(f"sample: {len(genomes)} MilkDrop 1 presets from {CORPUS if CORPUS.is_dir() else 'evo/seeds'}; "
          f"128x128, 90 frames, previews {'off' if args.no_previews else 'on'}; cores: {os.cpu_count()}")
    if args.children:
        parents, genomes = genomes, breed_children(genomes, len(genomes))
        print(f"timed: {len(genomes)} children (crossbreed + mutate) evaluated after their parents")
    for w in (int(x) for x in args.workers.split(",")):
        rate, cpu, errors, degenerate = bench(genomes, w, not args.no_previews, parents)
        label = "in-process" if w == 0 else f"{w} dask worker{'s' if w > 1 else ''}"
        goal = "  (goal >= 10/s)" if w == 2 else ""
        # CPU time per candidate is what a busy shared machine cannot distort: the rate a worker
        # would reach with a core to itself is 1 / cpu.
        print(f"{label:>16}: {rate:6.2f} candidates/s  {1000 * cpu:5.0f} ms CPU/candidate "
              f"(= {max(1, w) / cpu:5.2f}/s on idle cores)  errors {errors}  degenerate {degenerate}{goal}")
    print(f"load average during the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
