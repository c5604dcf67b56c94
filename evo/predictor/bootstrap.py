"""Make the shipped cold-start sample: corpus presets (positive) and random genomes (negative),
each rendered as a run would render it, as features.

    python -m evo.predictor.bootstrap --out evo/predictor/bootstrap_sample.json

Deterministic for a seed; it is data, kept in the repository so a fresh clone has a taste model
before anyone has voted (a mining dataset, when given to ``liandan predictor train``, replaces
its positives with the whole corpus).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from evo.predictor.features import genome_features, look_features
from evo.predictor.labels import BOOTSTRAP_FILE

CORPUS = Path("/usr/share/projectM/presets")


def make_sample(n_positive: int = 80, n_negative: int = 80, seed: int = 0, size: int = 64, frames: int = 60) -> list[dict]:
    from evo.config import load_config
    from evo.fitness.candidate import evaluate_preset, make_analyzer, make_renderer
    from evo.genome import genome_from_preset, genome_text, random_genome
    from evo.seeds import seed_paths
    from renderer.milk.files import find_presets
    from renderer.milk.preset import PresetError, load_milk

    settings = load_config(None, {"fitness.width": size, "fitness.height": size, "fitness.frames": frames,
                                  "fitness.skip": 6, "fitness.sample_every": 3, "preview.enabled": False,
                                  "preview.still": False}).eval_settings
    renderer, analyzer = make_renderer(settings), make_analyzer(settings)
    rng = random.Random(seed)
    files = find_presets(CORPUS) if CORPUS.is_dir() else seed_paths()
    rng.shuffle(files)
    out = []
    try:
        for path in files:
            if sum(r["label"] for r in out) >= n_positive:
                break
            try:
                genome = genome_from_preset(load_milk(path)).to_json()
            except PresetError:
                continue
            res = evaluate_preset(Path(path).read_bytes().decode("latin-1"), settings, renderer, analyzer)
            if res["error"] or res["degenerate"]:
                continue
            out.append({"features": {**look_features(res["stats"], res["descriptors"]), **genome_features(genome)},
                        "label": 1, "source": Path(path).name})
        for k in range(n_negative):
            g = random_genome(rng)
            res = evaluate_preset(genome_text(g), settings, renderer, analyzer)
            if res["error"]:
                continue
            out.append({"features": {**look_features(res["stats"], res["descriptors"]), **genome_features(g.to_json())},
                        "label": 0, "source": f"random genome {k}" + (f" ({res['degenerate']})" if res["degenerate"] else "")})
    finally:
        renderer.release()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evo.predictor.bootstrap")
    ap.add_argument("--out", type=Path, default=BOOTSTRAP_FILE)
    ap.add_argument("--positive", type=int, default=80)
    ap.add_argument("--negative", type=int, default=80)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    examples = make_sample(args.positive, args.negative, args.seed)
    rounded = [{**e, "features": {k: round(v, 5) for k, v in e["features"].items()}} for e in examples]
    args.out.write_text(json.dumps({"format": 1, "seed": args.seed, "examples": rounded}, separators=(",", ":")))
    print(f"{args.out}: {sum(e['label'] for e in examples)} positive, {sum(1 - e['label'] for e in examples)} negative")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
