"""Values and small functions several test files use (fixtures are in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

from evo.config import EvalSettings, FitnessSection, PreviewSection, RunConfig, load_config

CORPUS = Path("/usr/share/projectM/presets")
FIXTURES = Path(__file__).parent / "fixtures"

#: A run small enough for a test: 6 individuals of 16 frames at 64x64, in this process.
TINY_RUN = {
    "run.population": 6, "run.generations": 3, "fitness.frames": 16, "fitness.width": 64, "fitness.height": 64,
    "fitness.mesh": [16, 12], "fitness.skip": 4, "fitness.sample_every": 2, "fitness.timeout_s": 3.0,
    "preview.size": 32, "preview.frames": 4, "evaluation.workers": 0, "ga.elite": 1, "ga.hall_of_fame": 4,
}


def tiny_config(seeds_dir: Path, **over) -> RunConfig:
    return load_config(None, {**TINY_RUN, "seeds.dir": str(seeds_dir), **over})


def eval_settings(**kw) -> EvalSettings:
    """Evaluation settings from flat names: fitness fields by name, preview fields as
    ``preview_<name>`` (``preview_size=48``)."""
    fitness = {k: v for k, v in kw.items() if not k.startswith("preview_")}
    preview = {k[len("preview_"):]: v for k, v in kw.items() if k.startswith("preview_")}
    if "weights" in fitness and not isinstance(fitness["weights"], dict):
        fitness["weights"] = dict(fitness["weights"])
    return EvalSettings(FitnessSection(**fitness), PreviewSection(**preview))


def run_snapshot(run_dir: Path, binary: bool = False) -> dict:
    """Everything a run saved, minus wall-clock facts (timestamps, timings, pids, the run's name)
    and the worker count, which may differ between runs that must be the same."""

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("timing", "created", "updated", "pid")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    out = {"config": strip(json.loads((run_dir / "config.json").read_text()))}
    out["config"]["evaluation"] = out["config"]["id"] = None
    for p in sorted((run_dir / "generations").glob("gen_*.json")):
        out[p.name] = strip(json.loads(p.read_text()))
    for p in sorted((run_dir / "individuals").rglob("*")):
        if p.is_file() and (binary or p.name == "preset.milk"):
            out[str(p.relative_to(run_dir))] = p.read_bytes()
    out["files"] = sorted(str(p.relative_to(run_dir)) for p in (run_dir / "individuals").rglob("*"))
    return out
