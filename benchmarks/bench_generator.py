"""The preset generator: healthy share, novelty, scores against the corpus, and aiming at
families and at gaps of the style map.

    .venv/bin/python benchmarks/bench_generator.py [--n 100] [--dataset DS] [--gap-n 5] [--family-n 10]

Goals and figures (issue 16):
  healthy share of generated presets (rendered, diagnosed by the doctor)       >= 90%
  novelty: each kept preset's distance to its nearest corpus preset in descriptor space, against
           corpus presets' distance to their nearest other corpus preset (medians)
  score: the machine score of kept presets against the corpus's healthy presets (same render)
  --family: share of presets generated for a family that the families assign back to it
  --gap: share of healthy generated presets that land in the gap aimed at

Without ``--dataset`` the shipped model (fitted from projectm-data) is used for the first three
and the family/gap figures need a dataset with families and a map: ``--dataset DS`` (made by
``liandan mine`` + ``liandan cluster`` + ``liandan map``); ``--build DS`` makes one from
projectm-data first (about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path("/usr/share/projectM/presets")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def build(ds: Path) -> None:
    for cmd in (["mine", str(CORPUS), "-o", str(ds)], ["cluster", str(ds)], ["map", str(ds)]):
        print("liandan " + " ".join(cmd), flush=True)
        subprocess.run([sys.executable, "-m", "ui.cli", *cmd], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def line(name: str, s, seconds: float) -> None:
    f = s.figures
    print(f"{name}: kept {len(s.kept)}/{s.wanted} of {f['attempts']} drawn in {seconds:.0f} s; healthy share "
          f"{f['healthy_share']:.1%}; dropped {dict(sorted(s.dropped.items()))}")
    if f.get("novelty_median") is not None:
        print(f"  novelty: median nearest-corpus distance {f['novelty_median']:.3f} vs corpus-to-corpus "
              f"{f['corpus_nn_median']:.3f} (x{f['novelty_ratio']}); {f['novel_share']:.0%} further from the corpus "
              f"than the median corpus preset is from its neighbour")
    if f.get("score_mean") is not None:
        print(f"  score: mean {f['score_mean']:.3f} median {f['score_median']:.3f} vs corpus mean "
              f"{f['corpus_score_mean']:.3f} median {f['corpus_score_median']:.3f}; average percentile among "
              f"corpus presets {f['score_percentile']:.0%}")
    if "in_family" in f:
        print(f"  assigned back to the family: {f['in_family']:.0%}")
    if "gap_share" in f:
        print(f"  landed in the gap: {f['gap_share']:.0%} of the healthy ones")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--dataset")
    ap.add_argument("--build", help="mine, cluster and map projectm-data into this folder first")
    ap.add_argument("--families", type=int, default=3, help="aim at the N largest families")
    ap.add_argument("--family-n", type=int, default=10)
    ap.add_argument("--gap-n", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from evo.generator.aim import aim_for
    from evo.generator.corpus_model import default_model, model_for
    from evo.generator.generate import generate

    print(f"load average before: {load()}")
    if not CORPUS.is_dir() and not args.dataset:
        print("needs projectm-data (the shipped model's donors); skipped")
        return
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        t0 = time.perf_counter()
        s = generate(default_model(), args.n, Path(tmp) / "plain", seed=args.seed, workers=args.workers)
        line(f"generate --n {args.n} (shipped model)", s, time.perf_counter() - t0)
        ds = args.build or args.dataset
        if args.build and not (Path(args.build) / "style" / "map.json").is_file():
            build(Path(args.build))
        if not ds:
            print("family and gap figures: pass --dataset DS (with `liandan cluster` and `liandan map` run) or --build DS")
            return
        model = model_for(ds)
        from evo.families.saved import load_families, load_map

        fams = load_families(ds)
        largest = sorted(fams.families.values(), key=lambda f: -f.size)[: args.families]
        for fam in largest:
            t0 = time.perf_counter()
            s = generate(model, args.family_n, Path(tmp) / fam.name, aim=aim_for(model, ds, family=fam.name),
                         seed=args.seed, workers=args.workers)
            line(f"--family {fam.name} ({fam.label}, {fam.size} presets)", s, time.perf_counter() - t0)
        gaps = load_map(ds, fams).gaps
        landed = healthy = 0
        for g in gaps:
            t0 = time.perf_counter()
            s = generate(model, args.gap_n, Path(tmp) / g.id, aim=aim_for(model, ds, gap=g.id), seed=args.seed,
                         workers=args.workers)
            line(f"--gap {g.id}", s, time.perf_counter() - t0)
            landed += len(s.kept)
            healthy += s.figures["healthy"]
        if healthy:
            print(f"all gaps: {landed} of {healthy} healthy generated presets landed in their gap ({landed / healthy:.0%})")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
