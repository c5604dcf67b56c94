"""The taste model at work in a run: the model one selection uses, and pre-screening.

A run's selection asks :func:`taste_for_selection` for a model. It is trained (evo.predictor.train,
seconds) from every vote under the runs folder when the votes changed since the last training,
and takes part only when it earns a weight (``model_weight``: votes and a cross-validated AUC
above chance); otherwise the selection is exactly what it was without a predictor. The run keeps a
copy of each model it used (``runs/<id>/models/<sha256>.json``) and the checkpoint's
``next.predictor`` (:meth:`TasteUse.to_json`) names them by checksum with the weights used, so
replaying a selection loads the very model it used: never a refit on votes that changed since.

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

from evo.predictor.features import ALL_FEATURES, GENOME_FEATURES, genome_features, look_features, matrix
from evo.predictor.model import TasteModel, TasteModelError, model_weight

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

    look: TasteModel  # render statistics + genome: joins the combined score
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
            self._seen[key] = float(self.look.liked(matrix([member_features(m)], ALL_FEATURES))[0])
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


@dataclass
class TasteCache:
    """The last training of a driver: retrained only when some run's votes or generations changed."""

    key: tuple = ()
    use: TasteUse | None = None


def votes_key(runs_dir: str | Path) -> tuple:
    """What training depends on: each run's last vote id and number of generations."""
    from evo.store import RunStore, StoreError

    store, root = RunStore(runs_dir), Path(runs_dir)
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if not (d / "config.json").is_file():
            continue
        try:
            run = store.open(d.name)
            out.append((d.name, run.last_vote_id(), len(run.generations())))
            run.close()
        except StoreError:
            continue
    return tuple(out)


def taste_for_selection(runs_dir: str | Path, run_dir: str | Path, cfg, cache: TasteCache) -> TasteUse | None:
    """The model a GA selection of this run uses now, or None when none takes part (predictor off,
    no votes yet, a model no better than chance). Trains when the votes changed; keeps a copy of
    the models in the run folder."""
    from evo.predictor.train import train

    p = cfg.predictor
    if not p.enabled or cfg.run.search != "ga":
        return None
    key = votes_key(runs_dir)
    if key != cache.key:
        cache.key, cache.use = key, None
        voters = voter_group(p.voters)
        if not any(last for _, last, _ in key):  # nobody voted anywhere: nothing to learn, nothing to read
            return None
        try:
            trained = train(runs_dir, voters)
        except (ValueError, OSError):  # nothing to learn from (yet): no model
            trained = None
        if trained is not None and trained.human:
            w = model_weight(trained.look, p.max_weight, p.full_at)
            gw = model_weight(trained.genome, p.max_weight, p.full_at)
            if w > 0 or (gw > 0 and p.prescreen > 1):  # as replay reads them: from their JSON
                look, genome = (TasteModel.from_json(m.to_json()) for m in (trained.look, trained.genome))
                cache.use = TasteUse(look, genome, w, gw, p.prescreen, p.explore, p.voters)
    if cache.use is not None:
        save_copy(run_dir, cache.use.look)
        save_copy(run_dir, cache.use.genome)
    return cache.use


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


# ---------------------------------------------------------------- what the Vote page shows


@dataclass
class TasteView:
    """A run's current taste model as people see it: its quality and P(liked) per preview."""

    look: TasteModel | None
    weight: float  # what the next selection would give it (0 without votes or at chance)
    group: str

    def quality(self) -> str:
        if self.look is None:
            return "no taste model yet: it is trained from the votes once there are some"
        m = self.look
        auc = "not enough votes to cross-validate" if m.cv_auc_ is None else f"cross-validated AUC {m.cv_auc_:.2f}"
        return (f"taste model ({self.group}): {auc} on {m.n_human_} voted looks ({m.n_liked_} liked); "
                f"weight in selection {self.weight:.2f}")

    def liked(self, records: list) -> dict[str, float]:
        """P(liked) of evaluated records (checkpoint IndividualRecords) by id; empty without a model."""
        from evo.predictor.features import record_features

        ok = [r for r in records if r.score is not None and not r.error]
        if self.look is None or not ok:
            return {}
        p = self.look.liked(matrix([record_features(r) for r in ok], ALL_FEATURES))
        return {r.id: float(v) for r, v in zip(ok, p)}


def taste_view(run) -> TasteView:
    """The model the runs folder holds for this run's voter group (``liandan predictor train``
    and every selection with new votes save it), or an empty view."""
    from evo.config import PredictorSection, section_from
    from evo.predictor.train import group_name, load_models

    try:
        p = section_from(PredictorSection, run.config.get("predictor") or {})
    except ValueError:
        p = PredictorSection()
    voters = voter_group(p.voters)
    look, _ = load_models(run.store.root, voters)
    weight = 0.0 if look is None else model_weight(look, p.max_weight, p.full_at)
    return TasteView(look, weight, group_name(voters))


def vote_order(records: list, liked: dict[str, float], unsure_share: float = 1 / 3) -> list:
    """The order a Vote page shows a generation in: first the third of the looks the model is
    least sure about (P(liked) nearest one half: a vote on them teaches it most, and people tire
    after a few dozen votes), then the rest by predicted like, the most promising first; records
    without a prediction (failed renders) last. Without a model: unchanged."""
    if not liked:
        return list(records)
    known = [r for r in records if r.id in liked]
    k = int(np.ceil(unsure_share * len(known)))
    unsure = sorted(known, key=lambda r: (abs(liked[r.id] - 0.5), r.id))[:k]
    taken = {r.id for r in unsure}
    rest = sorted((r for r in known if r.id not in taken), key=lambda r: (-liked[r.id], r.id))
    return unsure + rest + [r for r in records if r.id not in liked]
