"""Where the taste model's examples come from: people's votes, and a bootstrap for the cold start.

**Votes.** A vote belongs to a genome (evo.selection's rule), so an example is a *genome* with
its latest evaluated record: liked when its voters' latest votes hold more likes (a best pick
counts as a like) than dislikes, disliked when fewer, left out on a tie. All runs in the runs
folder count, so the model is one taste across runs; a *voter group* (``voters``) restricts
it to some people.

**Bootstrap.** Before anyone voted, corpus presets (people made and kept them) are positives and
random genomes and degenerate renders (black, white, frozen, noise) negatives. These examples
are marked as such, never scored in the model's cross-validated AUC, and their total weight
shrinks as votes arrive: worth ``BOOTSTRAP_VOTES`` votes with none, half that at as many votes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evo.predictor.features import genome_features, look_features, record_features

BOOTSTRAP_VOTES = 20.0
BOOTSTRAP_FILE = Path(__file__).with_name("bootstrap_sample.json")


@dataclass
class Example:
    features: dict[str, float]
    label: int
    weight: float
    human: bool
    source: str  # "run/genome id", or "bootstrap:..."


def human_examples(runs_dir, voters: set[str] | None = None) -> list[Example]:
    """One example per voted genome over every run under ``runs_dir`` (in a fixed order)."""
    from evo.store import RunStore, StoreError

    out = []
    store = RunStore(runs_dir)
    for summary in store.list_runs():
        try:
            run = store.open(summary.id)
            votes = run.votes()
        except StoreError:
            continue
        latest: dict[tuple[str, str], tuple[int, bool]] = {}
        for v in votes:
            if voters is not None and v.voter not in voters:
                continue
            gid = run.genome_of(v.ind_id) or v.ind_id
            latest[(gid, v.voter)] = (v.value, v.best)
        tally: dict[str, list[int]] = {}
        for (gid, _), (value, best) in sorted(latest.items()):
            t = tally.setdefault(gid, [0, 0, 0])
            t[0] += value > 0 or best
            t[1] += value < 0
            t[2] += bool(best)
        records = _latest_records(run)
        for gid, (likes, dislikes, best) in sorted(tally.items()):
            if likes == dislikes or gid not in records:
                continue
            out.append(Example(record_features(records[gid]), int(likes > dislikes),
                               1.0 + 0.5 * (best > 0) + 0.25 * (abs(likes - dislikes) - 1), True, f"{run.id}/{gid}"))
    return out


def _latest_records(run) -> dict:
    """genome id -> its latest evaluated, error-free record in the run."""
    out = {}
    for g in run.generations():
        for rec in run.load_generation(g):
            if rec.genome_id and rec.score is not None and not rec.error:
                out[rec.genome_id] = rec
    return out


def bootstrap_examples(n_human: int, dataset=None, path: Path = BOOTSTRAP_FILE) -> list[Example]:
    """The cold-start examples, weighted to count as ``BOOTSTRAP_VOTES * B / (B + n_human)`` votes
    in total. From a mining dataset when given (its healthy rows positive, degenerate rows
    negative, plus the shipped random-genome negatives), else from the shipped sample."""
    rows = _dataset_rows(dataset) if dataset is not None else []
    shipped = json.loads(path.read_text())["examples"] if path.is_file() else []
    if dataset is not None:
        shipped = [r for r in shipped if r["label"] == 0]  # the dataset brings its own positives
    rows += [(r["features"], int(r["label"]), r["source"]) for r in shipped]
    if not rows:
        return []
    total = BOOTSTRAP_VOTES * BOOTSTRAP_VOTES / (BOOTSTRAP_VOTES + n_human)
    w = total / len(rows)
    return [Example(dict(f), label, w, False, f"bootstrap:{src}") for f, label, src in rows]


def _dataset_rows(dataset) -> list[tuple[dict, int, str]]:
    """(features, label, source) from a mining dataset's rendered rows."""
    from evo.fitness.descriptors import DESCRIPTOR_NAMES
    from evo.predictor.features import LOOK_STATS

    out = []
    for _, row in dataset.iterrows():
        if isinstance(row.get("render_error"), str) or row.get("stat_luma_mean") is None:
            continue
        stats = {k: row.get(f"stat_{k}") for k in LOOK_STATS}
        if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in stats.values()):
            continue
        desc = {k: row.get(f"desc_{k}", 0.0) for k in DESCRIPTOR_NAMES}
        params = {c[len("param_"):]: row[c] for c in row.index if c.startswith("param_")}
        genome = {"params": params, "per_frame_code": [""] * _count(row.get("code_lines_per_frame")),
                  "per_pixel_code": [""] * _count(row.get("code_lines_per_pixel")),
                  "init_code": [""] * _count(row.get("code_lines_per_frame_init")),
                  "waves": [{"params": {"enabled": 1}}] * _count(row.get("waves_enabled")),
                  "shapes": [{"params": {"enabled": 1}}] * _count(row.get("shapes_enabled")),
                  "warp": {"text": "x" if row.get("shader_warp") else ""},
                  "comp": {"text": "x" if row.get("shader_comp") else ""}}
        label = 0 if isinstance(row.get("render_degenerate"), str) else 1
        out.append(({**look_features(stats, desc), **genome_features(genome)}, label, str(row.get("rel_path"))))
    return out


def _count(v) -> int:
    try:
        return max(0, int(v)) if v is not None and not np.isnan(float(v)) else 0
    except (TypeError, ValueError):
        return 0
