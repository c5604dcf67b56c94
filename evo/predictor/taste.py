"""The taste model at work in a run: the model one selection uses, and pre-screening.

A run's selection asks :func:`taste_for_selection` for a model. It is trained (evo.predictor.train,
seconds) from every vote under the runs folder when the votes changed since the last training,
and takes part only when it earns a weight (``model_weight``: votes and a cross-validated AUC
above chance); otherwise the selection is exactly what it was without a predictor. The run keeps a
copy of each model it used (``runs/<id>/models/<sha256>.json``) and the checkpoint's
``next.predictor`` (:meth:`TasteUse.to_json`) names them by checksum with the weights used, so
replaying a selection loads the very model it used: never a refit on votes that changed since.

What a selection does with the model (the vote rule, pre-screening, the record) is in
:mod:`evo.predictor.use`; this module trains it and shows it (the Vote page's view and order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evo.predictor.features import matrix
from evo.predictor.model import TasteModel, model_weight
from evo.predictor.use import TasteUse, save_copy, voter_group


@dataclass
class TasteCache:
    """The last training of a driver: retrained only when some run's votes changed."""

    key: tuple = ()
    use: TasteUse | None = None


def votes_key(runs_dir: str | Path) -> tuple:
    """What training depends on: each run's last vote id. (New generations alone change nothing:
    an example is a voted genome, and every copy of a genome in a run has its render's features.)"""
    from evo.store import RunStore, StoreError

    store, root = RunStore(runs_dir), Path(runs_dir)
    out = []
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        if not (d / "config.json").is_file():
            continue
        try:
            run = store.open(d.name)
            out.append((d.name, run.last_vote_id()))
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
        if not any(last for _, last in key):  # nobody voted anywhere: nothing to learn, nothing to read
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
        p = self.look.liked(matrix([record_features(r) for r in ok], self.look.names))
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
