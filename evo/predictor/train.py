"""Training the taste models of a runs folder, and where they are kept.

Two models come out of one set of examples: the *look* model (render statistics and descriptors:
what people saw) that joins selection's combined score, and the *genome* model (genome features
alone) that pre-screens children before any of them is rendered. The look model leaves the
genome out: with tens of votes the ~45 genome numbers mostly add noise (on the benchmark's
simulated voter, held-out AUC 0.71 with look features alone against 0.67 with both). Both are saved as JSON under
``RUNS/_models/`` (``taste-GROUP.json`` and ``taste-GROUP-genome.json``), where the app reads
them; each selection of a run records the model it used in its checkpoint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evo.predictor.features import GENOME_FEATURES, LOOK_FEATURES, matrix
from evo.predictor.labels import Example, bootstrap_examples, human_examples
from evo.predictor.model import TasteModel, TasteModelError

MODELS_DIR = "_models"
EVERYONE = "everyone"


def group_name(voters: set[str] | None) -> str:
    if not voters:
        return EVERYONE
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "+".join(sorted(voters)))[:80] or EVERYONE


def model_paths(runs_dir, voters: set[str] | None = None) -> tuple[Path, Path]:
    base = Path(runs_dir) / MODELS_DIR / f"taste-{group_name(voters)}"
    return base.with_suffix(".json"), Path(f"{base}-genome.json")


@dataclass
class Trained:
    look: TasteModel
    genome: TasteModel
    human: list[Example]
    bootstrap: list[Example]


def fit_models(examples: list[Example], seed: int = 0) -> tuple[TasteModel, TasteModel]:
    rows = [e.features for e in examples]
    y = np.array([e.label for e in examples])
    w = np.array([e.weight for e in examples])
    human = np.array([e.human for e in examples])
    look = TasteModel(LOOK_FEATURES, seed=seed).fit(matrix(rows, LOOK_FEATURES), y, w, human)
    genome = TasteModel(GENOME_FEATURES, seed=seed).fit(matrix(rows, GENOME_FEATURES), y, w, human)
    return look, genome


def train(runs_dir, voters: set[str] | None = None, dataset=None, save: bool = True, seed: int = 0) -> Trained:
    """Learn from every vote under ``runs_dir`` (of ``voters`` only, if given) plus the bootstrap;
    saved where the app and the driver look unless ``save`` is False."""
    human = human_examples(runs_dir, voters)
    boot = bootstrap_examples(len(human), dataset)
    look, genome = fit_models(human + boot, seed)
    if save:
        look_path, genome_path = model_paths(runs_dir, voters)
        look.save(look_path)
        genome.save(genome_path)
    return Trained(look, genome, human, boot)


def load_models(runs_dir, voters: set[str] | None = None) -> tuple[TasteModel | None, TasteModel | None]:
    """The saved models of a group, or (None, None) when there are none or they are unusable."""
    out = []
    for path in model_paths(runs_dir, voters):
        try:
            out.append(TasteModel.load(path))
        except TasteModelError:
            out.append(None)
    return out[0], out[1]


def reliability(model: TasteModel, bins: int = 5) -> list[tuple[float, float, int]]:
    """(mean predicted P(liked), share actually liked, count) per probability bin, on the human
    examples' cross-validated (held-out) predictions: how far to trust the numbers (a calibrated
    model sits on the diagonal). Empty when there were too few votes to cross-validate."""
    if getattr(model, "oof_", None) is None:
        return []
    p, y = model.oof_
    edges = np.linspace(0, 1, bins + 1)
    out = []
    for a, b in zip(edges, edges[1:]):
        sel = (p >= a) & ((p < b) | (b == 1.0))
        if sel.any():
            out.append((float(p[sel].mean()), float(y[sel].mean()), int(sel.sum())))
    return out


def reliability_png(points: list[tuple[float, float, int]], title: str) -> bytes:
    from evo.figures import png_bytes, pyplot

    plt = pyplot()

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="#999", linewidth=1, linestyle="--", label="calibrated")
    if points:
        xs, ys, ns = zip(*points)
        ax.plot(xs, ys, color="#e45756", marker="o", label="the model")
        for x, y, n in points:
            ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(5, -10), fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted P(liked)")
    ax.set_ylabel("share liked")
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return png_bytes(fig, dpi=100)
