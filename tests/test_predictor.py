"""evo.predictor: the taste model learns what votes say, says how much to trust it, and its
files can be neither pickled code nor silently edited."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from evo.predictor.features import ALL_FEATURES, GENOME_FEATURES, genome_features, look_features, matrix
from evo.predictor.labels import BOOTSTRAP_VOTES, bootstrap_examples, human_examples
from evo.predictor.model import TasteModel, TasteModelError, model_weight
from evo.predictor.train import fit_models, load_models, reliability, train

RNG = np.random.default_rng(0)


def test_separable_taste_gives_a_high_cross_validated_auc():
    names = ("a", "b", "c", "d")
    X = RNG.normal(size=(80, 4))
    y = (X[:, 0] - 0.5 * X[:, 2] > 0).astype(int)
    m = TasteModel(names).fit(X, y)
    assert m.cv_auc_ > 0.9 and m.importances()[0][0] == "a"
    p = m.liked(X)
    assert p[y == 1].mean() > 0.7 > 0.3 > p[y == 0].mean()
    noise = TasteModel(names).fit(X, RNG.integers(0, 2, 80))
    assert noise.cv_auc_ < 0.7 and model_weight(noise) < model_weight(m)


def test_weight_is_zero_without_votes_and_grows_with_them():
    X = RNG.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    boot_only = TasteModel(("a", "b")).fit(X, y, is_human=np.zeros(60, bool))
    assert boot_only.n_human_ == 0 and boot_only.cv_auc_ is None and model_weight(boot_only) == 0.0
    few = TasteModel(("a", "b")).fit(X, y, is_human=np.arange(60) < 20)
    many = TasteModel(("a", "b")).fit(X, y)
    assert 0.0 < model_weight(few) < model_weight(many)


def test_a_saved_model_loads_exactly_and_an_edited_one_is_refused(tmp_path):
    X = RNG.normal(size=(40, 3))
    m = TasteModel(("a", "b", "c")).fit(X, (X[:, 1] > 0).astype(int))
    path = tmp_path / "taste.json"
    m.save(path)
    assert np.allclose(TasteModel.load(path).liked(X), m.liked(X))
    doc = json.loads(path.read_text())
    doc["coef"][0] = 100.0
    path.write_text(json.dumps(doc))
    with pytest.raises(TasteModelError, match="taste.json.*checksum"):
        TasteModel.load(path)
    path.write_text("not json {")
    with pytest.raises(TasteModelError, match="taste.json"):
        TasteModel.load(path)
    path.write_text(json.dumps({"kind": "something", "format": 1}))
    with pytest.raises(TasteModelError, match="not a liandan taste model"):
        TasteModel.load(path)


def test_features_are_named_and_genome_features_need_no_render():
    look = look_features({"luma_mean": 0.4, "entropy": 8.0}, {"motion": 0.3})
    assert look["stat_luma_mean"] == 0.4 and look["stat_entropy"] == 1.0 and look["desc_motion"] == 0.3
    g = genome_features({"params": {"zoom": 1e9}, "per_frame_code": ["a=1;"], "waves": [{"params": {"enabled": 1}}]})
    assert g["param_zoom"] == 1.5 and g["waves_enabled"] == 1.0 and set(g) == set(GENOME_FEATURES)
    assert matrix([look, g], ALL_FEATURES).shape == (2, len(ALL_FEATURES))


def test_bootstrap_is_outweighed_as_votes_arrive():
    none = bootstrap_examples(0)
    many = bootstrap_examples(180)
    assert none and {e.label for e in none} == {0, 1} and not any(e.human for e in none)
    assert sum(e.weight for e in none) == pytest.approx(BOOTSTRAP_VOTES)
    assert sum(e.weight for e in many) == pytest.approx(BOOTSTRAP_VOTES * 20 / 200)


def voted_runs(root):
    """Runs "a" and "b" of 24 looks each under ``root``; ana voted on run a: she likes bright looks.
    Returns ``{genome_id: brightness}``."""
    from evo.checkpoint import Checkpoint, IndividualRecord
    from evo.store import RunStore

    store = RunStore(root)
    looks = {}
    for r in ("a", "b"):
        run = store.create(r, {"run": {"generations": 2}})
        recs = []
        for i in range(24):
            bright = float(RNG.uniform(0.05, 0.9))
            stats = {"luma_mean": bright, "entropy": float(RNG.uniform(3, 7)), "change_mean": float(RNG.uniform(0, .1))}
            recs.append(IndividualRecord(f"g0000-{i:03d}", 0, {"params": {"zoom": float(RNG.uniform(0.9, 1.1))}},
                                         f"{r}{i}", [], "seed", 0.5, stats, descriptors={"brightness": bright}))
            looks[f"{r}{i}"] = bright
        run.write_checkpoint(Checkpoint(0, recs, rng={}))
        if r == "a":
            for rec in recs:
                run.add_vote(rec.id, "ana", 1 if looks[rec.genome_id] > 0.45 else -1)
    return looks


def test_votes_in_runs_teach_the_model_to_rank_unseen_looks(tmp_path):
    """Two runs, one voter who likes bright looks: trained on one run's votes, the model ranks
    the other run's bright looks above its dark ones."""
    from evo.store import RunStore

    looks = voted_runs(tmp_path / "runs")
    store = RunStore(tmp_path / "runs")
    trained = train(tmp_path / "runs")
    assert len(trained.human) == 24 and trained.look.cv_auc_ > 0.85
    unseen = store.open("b").load_generation(0)
    from evo.predictor.features import record_features

    p = trained.look.liked(matrix([record_features(x) for x in unseen], trained.look.names))
    bright = np.array([looks[x.genome_id] > 0.45 for x in unseen])
    assert p[bright].min() > p[~bright].max() - 0.05 and p[bright].mean() > p[~bright].mean() + 0.3
    look, genome = load_models(tmp_path / "runs")
    assert look is not None and np.allclose(look.coef_, trained.look.coef_) and genome.names == GENOME_FEATURES
    assert human_examples(tmp_path / "runs", {"nobody"}) == []
    assert reliability(trained.look)


def test_predictor_eval_reports_the_auc_of_a_run_with_votes(tmp_path):
    from typer.testing import CliRunner

    from ui.cli import app

    voted_runs(tmp_path / "runs")
    plot = tmp_path / "reliability.png"
    res = CliRunner().invoke(app, ["predictor", "eval", "--runs-dir", str(tmp_path / "runs"), "--plot", str(plot)])
    assert res.exit_code == 0, res.output
    auc = float(re.search(r"cross-validated AUC on votes ([0-9.]+)", res.output).group(1))
    assert auc > 0.85 and "24" in res.output  # ana's 24 votes
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "runs" / "_models").exists()  # eval saves nothing
