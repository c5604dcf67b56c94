"""The taste model a selection uses: its record in the checkpoint, the run's copies of it, the
vote rule it makes, and pre-screening. Pure functions of the models and their inputs (no run
store, no training: evo.predictor.taste trains), so selection, export and replay share them.

**Pre-screening.** With ``predictor.prescreen`` = k > 1 and a genome model better than chance, a
generation breeds k times the children it needs and renders only some: the most *promising*
(highest P(liked) from genome features alone, known before rendering) and, a share
``predictor.explore`` of them, the most *uncertain* (P nearest one half: the model learns most from
votes on them, the active-learning half). Each kept child says which it was (``shown``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from evo.predictor.features import GENOME_FEATURES, genome_features, look_features, matrix
from evo.predictor.model import TasteModel, TasteModelError

MODELS_FOLDER = "models"  # in a run's folder: a copy of each model a selection used
PROMISING, UNCERTAIN = "promising", "uncertain"


def voter_group(text: str) -> set[str] | None:
    """``predictor.voters`` ("ann, bob") as a set; None (everyone) when empty."""
    names = {v.strip() for v in (text or "").split(",") if v.strip()}
    return names or None


def member_features(m: Any) -> dict[str, float]:
    """Every feature of an evaluated individual (evo.individual.Individual, or its checkpoint
    record, whose genome is JSON already)."""
    r = m.result
    stats = {} if r is None else r.stats
    desc = {} if r is None else r.descriptors
    genome = m.genome if isinstance(m.genome, dict) else m.genome.to_json()
    return {**look_features(stats or {}, desc or {}), **genome_features(genome)}


@dataclass
class TasteUse:
    """The models one selection uses and how much they count (what its checkpoint records)."""

    look: TasteModel  # what people saw (render statistics, descriptors): joins the combined score
    genome: TasteModel  # genome alone: ranks children before rendering
    weight: float  # the look model's share of the machine part (evo.selection.VoteRule.base)
    genome_weight: float  # > 0: the genome model beats chance, so pre-screening may use it
    prescreen: int = 1
    explore: float = 0.25
    voters: str = ""
    _seen: dict = field(default_factory=dict, repr=False, compare=False)

    def liked(self, m: Any) -> float:
        """P(liked) of an evaluated individual (or record) by the look model; copies of a genome
        share their render, so it is computed once per genome."""
        key = (m.genome_id, m.result is None)
        if key not in self._seen:
            self._seen[key] = float(self.look.liked(matrix([member_features(m)], self.look.names))[0])
        return self._seen[key]

    def liked_genomes(self, individuals: list) -> np.ndarray:
        """P(liked) of individuals not rendered yet, by the genome model."""
        rows = [genome_features(i.genome.to_json()) for i in individuals]
        return self.genome.liked(matrix(rows, GENOME_FEATURES))

    @property
    def prescreens(self) -> bool:
        return self.prescreen > 1 and self.genome_weight > 0

    def to_json(self) -> dict:
        look, genome = self.look.to_json(), self.genome.to_json()
        return {"look": look["sha256"], "genome": genome["sha256"], "weight": self.weight,
                "genome_weight": self.genome_weight, "votes": self.look.n_human_, "cv_auc": self.look.cv_auc_,
                "genome_cv_auc": self.genome.cv_auc_, "prescreen": self.prescreen, "explore": self.explore,
                "voters": self.voters}

    @classmethod
    def from_json(cls, rec: dict, run_dir: str | Path) -> "TasteUse":
        """The models a selection recorded, read back from the run's copies (checksums verified)."""
        try:
            look, genome = (load_copy(run_dir, str(rec[k])) for k in ("look", "genome"))
            return cls(look, genome, float(rec["weight"]), float(rec["genome_weight"]), int(rec.get("prescreen", 1)),
                       float(rec.get("explore", 0.25)), str(rec.get("voters", "")))
        except (KeyError, TypeError) as exc:
            raise TasteModelError(f"{run_dir}: malformed predictor record ({type(exc).__name__}: {exc})") from exc


def taste_rule(taste: TasteUse | None, rule):
    """The vote rule a selection (or export) uses with ``taste``, and the P(liked) function that
    goes with it (None when the model has no weight): a fixed ``votes.predictor_weight`` > 0
    overrides the learned weight."""
    if taste is None or (taste.weight <= 0 and rule.predictor_weight <= 0):
        return rule, None
    return replace(rule, predictor_weight=rule.predictor_weight or taste.weight), taste.liked


def recorded_taste(run, generations: list[int]) -> TasteUse | None:
    """The taste model the last of these generations' selections recorded (what export ranks
    with); None when none did, or when the run's copy of it is gone or damaged."""
    for g in reversed(generations):
        nxt = run.read_checkpoint(g).next
        if nxt is not None and nxt.predictor is not None:
            try:
                return TasteUse.from_json(nxt.predictor, run.dir)
            except TasteModelError:
                return None
    return None


def copy_path(run_dir: str | Path, sha: str) -> Path:
    return Path(run_dir) / MODELS_FOLDER / f"{sha}.json"


def save_copy(run_dir: str | Path, model: TasteModel) -> str:
    """The run's copy of a model it used (written once: its name is its checksum)."""
    from renderer.output.files import atomic_write_bytes

    doc = model.to_json()
    path = copy_path(run_dir, doc["sha256"])
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(doc).encode())
    return doc["sha256"]


def load_copy(run_dir: str | Path, sha: str) -> TasteModel:
    if not all(c in "0123456789abcdef" for c in sha) or len(sha) != 64:
        raise TasteModelError(f"{run_dir}: {sha!r} is not a model checksum")
    model = TasteModel.load(copy_path(run_dir, sha))
    if model.to_json()["sha256"] != sha:
        raise TasteModelError(f"{copy_path(run_dir, sha)}: holds another model than its name says")
    return model


def prescreen(candidates: list, n_keep: int, liked: np.ndarray, explore: float) -> list[tuple[int, str]]:
    """Which of ``candidates`` (bred children, in breeding order) to render, and why: distinct
    genomes first; the ``n_keep - round(explore * n_keep)`` most promising by ``liked``, then the
    most uncertain of the rest (P nearest 0.5); ties go to the earlier child, so the choice is a
    pure function of the candidates and the model."""
    seen: set[str] = set()
    unique, dupes = [], []
    for i, c in enumerate(candidates):
        (dupes if c.genome_id in seen else unique).append(i)
        seen.add(c.genome_id)
    n_keep = min(n_keep, len(candidates))
    n_uncertain = int(round(explore * n_keep))
    by_like = sorted(unique, key=lambda i: (-liked[i], i))
    kept = [(i, PROMISING) for i in by_like[: n_keep - n_uncertain]]
    taken = {i for i, _ in kept}
    rest = [i for i in unique if i not in taken]
    kept += [(i, UNCERTAIN) for i in sorted(rest, key=lambda i: (abs(liked[i] - 0.5), i))[:n_uncertain]]
    taken = {i for i, _ in kept}
    for i in by_like + dupes:  # too few distinct genomes: fill up in the same order
        if len(kept) >= n_keep:
            break
        if i not in taken:
            kept.append((i, PROMISING))
            taken.add(i)
    return kept
