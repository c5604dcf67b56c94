"""The taste model at work: no weight without votes, its P(liked) changing who becomes a parent,
pre-screening that keeps the population size and says why each child is shown, and runs with a
predictor that replay and resume exactly (the model each selection used is recorded).

Votes are cast from the progress callback at "generation_end" (after the checkpoint, before the
selection), so they are deterministic: the voter likes the brighter half of each generation.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from evo.config import load_config
from evo.driver import replay_selection, resume_run, start_run
from evo.predictor.taste import TasteCache, taste_for_selection
from evo.predictor.use import PROMISING, UNCERTAIN, prescreen
from evo.selection import ParentPool, VoteRule
from evo.store import RunStore, StoreError
from helpers import run_snapshot, tiny_config


def as_json(x):
    return json.loads(json.dumps(x, sort_keys=True))


def test_old_configs_have_no_predictor_and_new_runs_do():
    assert load_config().predictor.enabled and load_config().predictor.prescreen == 1
    from evo.config import RunConfig

    old = RunConfig.from_dict({"run": {"population": 6}})  # a config.json saved before [predictor] existed
    assert not old.predictor.enabled and old.predictor.prescreen == 1


def test_no_votes_no_model(tmp_path, seeds_dir):
    store = RunStore(tmp_path / "runs")
    run = store.create("quiet", {"run": {"generations": 1}})
    cfg = tiny_config(seeds_dir)
    assert taste_for_selection(store.root, run.dir, cfg, TasteCache()) is None
    assert not (run.dir / "models").exists()


def _member(i: str, score: float, bright: float):
    return SimpleNamespace(id=i, score=score, genome_id=f"gid-{i}", generation=1, error=None, bright=bright)


class _BrightTaste:
    """Stands in for TasteUse in a pool: P(liked) is the member's brightness."""

    weight = 0.5

    @staticmethod
    def liked(m) -> float:
        return m.bright


def test_predicted_like_changes_the_elites_and_says_so():
    members = [_member("a", 0.9, 0.05), _member("b", 0.7, 0.95), _member("c", 0.6, 0.9), _member("d", 0.8, 0.1)]
    plain = ParentPool.build(members, [], {}, VoteRule())
    assert [c.member.id for c in plain.elites(2)] == ["a", "d"]
    rule = VoteRule(predictor_weight=_BrightTaste.weight)
    taught = ParentPool.build(members, [], {}, rule, predict=_BrightTaste.liked)
    assert [c.member.id for c in taught.elites(2)] == ["b", "c"]  # 0.5*0.7 + 0.5*0.95 = 0.825 > 0.5*0.9 + 0.025
    reasons = {r["id"]: r for r in taught.reasons()}
    assert "predictor 0.95 -> 0.82" in reasons["b"]["reason"] and reasons["b"]["predicted"] == 0.95


def test_prescreen_keeps_the_number_asked_distinct_and_deterministic():
    kids = [SimpleNamespace(genome_id=f"g{i % 10}") for i in range(12)]  # 10 distinct genomes, 2 repeats
    liked = np.array([0.9, 0.1, 0.52, 0.8, 0.3, 0.7, 0.45, 0.2, 0.99, 0.6, 0.9, 0.1])
    kept = prescreen(kids, 4, liked, 0.25)
    assert kept == prescreen(kids, 4, liked, 0.25)
    assert kept == [(8, PROMISING), (0, PROMISING), (3, PROMISING), (2, UNCERTAIN)]
    assert len({kids[i].genome_id for i, _ in prescreen(kids, 10, liked, 0.5)}) == 10
    assert len(prescreen(kids, 12, liked, 0.5)) == 12  # too few distinct: repeats fill up


# ---------------------------------------------------------------- runs with a predictor


def _bright_votes(store: RunStore, run_id: str, stop_after: int | None = None):
    """At each generation's end, "ann" likes the brighter half and dislikes the rest; with
    ``stop_after``, the run is interrupted right after voting on that generation (before its
    selection), as a killed run would be."""

    def hook(event):
        if event["type"] != "generation_end":
            return
        run = store.open(run_id)
        healthy = [i for i in run.load_generation(event["generation"]) if not i.error]
        median = float(np.median([i.descriptors.get("brightness", 0.0) for i in healthy]))
        for i in healthy:
            run.add_vote(i.id, "ann", 1 if i.descriptors.get("brightness", 0.0) > median else -1)
        if event["generation"] == stop_after:
            raise KeyboardInterrupt

    return hook


@pytest.fixture(scope="module")
def predictor_runs(tmp_path_factory, seeds_dir):
    """The same run with a predictor twice, each in its own runs folder: once uninterrupted, once
    stopped after generation 1's votes and resumed."""
    root = tmp_path_factory.mktemp("predictor_runs")
    cfg = tiny_config(seeds_dir, **{"run.generations": 4, "predictor.full_at": 10, "predictor.prescreen": 3})
    whole = RunStore(root / "whole")
    start_run(cfg, whole, "r", progress=_bright_votes(whole, "r"))
    cut = RunStore(root / "cut")
    with pytest.raises(KeyboardInterrupt):
        start_run(cfg, cut, "r", progress=_bright_votes(cut, "r", stop_after=1))
    resume_run("r", cut, progress=_bright_votes(cut, "r"))
    return whole.open("r"), cut.open("r"), cfg


@pytest.mark.slow
def test_the_model_takes_part_and_prescreening_says_why(predictor_runs):
    run, _, cfg = predictor_runs
    records = [run.read_checkpoint(g).next for g in run.generations() if run.read_checkpoint(g).next is not None]
    used = [r.predictor for r in records if r.predictor is not None]
    assert used, "no selection used the taste model: the test would prove nothing"
    assert any(u["weight"] > 0 for u in used) and any(u["genome_weight"] > 0 for u in used)
    for rec in records:
        assert len(rec.offspring) == cfg.run.population
        if rec.predictor is not None and rec.predictor["genome_weight"] > 0:
            shown = [o.shown for o in rec.offspring if o.operator != "elite"]
            assert set(shown) <= {PROMISING, UNCERTAIN} and UNCERTAIN in shown and PROMISING in shown
            assert all(0 <= o.predicted <= 1 for o in rec.offspring if o.shown)
        if rec.predictor is not None and rec.predictor["weight"] > 0:
            assert any("predictor" in p["reason"] for p in rec.parents)
        for key in ("look", "genome"):
            if rec.predictor is not None:
                assert (run.dir / "models" / f"{rec.predictor[key]}.json").is_file()
    # export ranks with the recorded model too, and can look at the run as it stood earlier
    assert len(run.best(4)) == 4 and all(i.startswith("g0000-") for i in run.best(3, upto=0, cutoff=0))
    # the app reads the kept reasons from the evaluated generation
    g = next(g for g in run.generations() if any(i.shown for i in run.load_generation(g)))
    assert {i.shown for i in run.load_generation(g)} >= {PROMISING, UNCERTAIN}


@pytest.mark.slow
def test_resume_and_replay_with_a_predictor_are_exact(predictor_runs):
    whole, cut, _ = predictor_runs
    a, b = run_snapshot(whole.dir), run_snapshot(cut.dir)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], f"{key} differs after interrupt + resume"
    # more votes later change nothing in a replay: it uses the recorded model, not a refit
    for i in whole.load_generation(0):
        whole.add_vote(i.id, "bob", -1)
    gens = [g for g in whole.generations() if whole.read_checkpoint(g).next is not None]
    for g in gens:
        assert as_json(replay_selection(whole, g)) == as_json(whole.read_checkpoint(g).next.to_json())
    g = next(g for g in gens if whole.read_checkpoint(g).next.predictor is not None)
    path = whole.dir / "models" / f"{whole.read_checkpoint(g).next.predictor['look']}.json"
    doc = json.loads(path.read_text())
    doc["intercept"] += 1.0
    path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="checksum"):
        replay_selection(whole, g)
