"""evo.engine: seeded, deterministic, worker-count independent runs that survive bad candidates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evo.config import ConfigError, RunConfig, load_config
from evo.driver import branch_run, resume_run, start_run
from evo.ga import restore_rng, rng_state
from evo.selection import combined_score
from evo.seeds import seed_paths
from evo.selection import VoteSummary
from evo.store import RunStore, StoreError
from helpers import run_snapshot as snapshot
from helpers import tiny_config

def test_combined_score_rules():
    """The Beta(1, 1) posterior like-rate of evo.votes, worked by hand."""
    assert combined_score(0.4, None) == 0.4
    assert combined_score(0.4, VoteSummary()) == 0.4
    liked = combined_score(0.4, VoteSummary(likes=3), vote_weight=0.5)  # rate 4/5, vote +0.6
    disliked = combined_score(0.4, VoteSummary(dislikes=1), vote_weight=0.5)  # rate 1/3, vote -1/3
    assert liked == pytest.approx(0.7) and disliked == pytest.approx(0.4 - 1 / 6)
    assert combined_score(0.4, VoteSummary(likes=1, best=1), best_bonus=2.0) > combined_score(0.4, VoteSummary(likes=1))
    assert combined_score(0.4, None, predictor=1.0, predictor_weight=0.5) == pytest.approx(0.7)
    # evidence adds up, but never past the weight
    ones = [combined_score(0.0, VoteSummary(likes=n)) for n in (1, 2, 5, 50)]
    assert ones == sorted(ones) and ones[-1] < 1.0
    assert combined_score(0.0, VoteSummary(likes=1, best=1)) > combined_score(1.0, None)  # a best pick


def test_rng_state_round_trips_through_json():
    import random

    import numpy as np

    py, npg = random.Random(5), np.random.default_rng(5)
    py.random(), npg.random()
    state = json.loads(json.dumps(rng_state(py, npg)))
    py2, npg2 = restore_rng(state)
    assert [py.random() for _ in range(5)] == [py2.random() for _ in range(5)]
    assert np.array_equal(npg.integers(0, 1000, 5), npg2.integers(0, 1000, 5))


def test_config_layers_and_errors(tmp_path):
    cfg = load_config()
    assert cfg.run.mode == "autonomous" and cfg.run.votes_needed == 0 and cfg.run.vote_timeout_s > 0
    user = tmp_path / "mine.toml"
    user.write_text("[run]\npopulation = 8\n[fitness.weights]\nentropy = 4.0\n")
    cfg = load_config(user, {"run.seed": 9})
    assert (cfg.run.population, cfg.run.seed, cfg.fitness.weights["entropy"]) == (8, 9, 4.0)
    assert cfg.fitness.weights["temporal_change"] == load_config().fitness.weights["temporal_change"]
    user.write_text("[run]\npopulaton = 8\n")
    with pytest.raises(ConfigError, match="mine.toml.*populaton"):
        load_config(user)
    user.write_text("[run\n")
    with pytest.raises(ConfigError, match="mine.toml"):
        load_config(user)
    with pytest.raises(ConfigError, match="ga.elite"):
        load_config(None, {"run.population": 4, "ga.elite": 4})
    with pytest.raises(ConfigError, match="weights"):
        load_config(None, {"fitness.weights": {"sparkle": 1.0}})
    assert RunConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.slow
def test_same_seed_same_run_and_lineage_is_recorded(tmp_path, seeds_dir):
    store = RunStore(tmp_path / "runs")
    a = start_run(tiny_config(seeds_dir, **{"run.seed": 3}), store, "a")
    b = start_run(tiny_config(seeds_dir, **{"run.seed": 3}), store, "b")
    sa, sb = snapshot(store.run_dir(a)), snapshot(store.run_dir(b))
    assert sa == sb
    c = start_run(tiny_config(seeds_dir, **{"run.seed": 4, "run.generations": 1}), store, "c")
    assert snapshot(store.run_dir(c))["gen_0000.json"] != sa["gen_0000.json"]

    run = store.open(a)
    assert run.status == "finished" and run.generations() == [0, 1, 2]
    gen2 = run.load_generation(2)
    assert len(gen2) == 6
    for ind in gen2:
        assert ind.operator in ("elite", "mutate", "crossbreed", "crossbreed+mutate")
        assert all(p.startswith("g0001-") for p in ind.parents)
        assert run.preset_path(ind.id).is_file()
        assert run.preview_path(ind.id).is_file() and run.still_path(ind.id).is_file()
    assert {i.operator for i in run.load_generation(0)} == {"seed"}
    reasons = run.parents_of_next(1)
    assert reasons and all(r["reason"] for r in reasons)
    assert {p for ind in gen2 for p in ind.parents} == {r["id"] for r in reasons}
    assert run.contact_sheet_path.is_file()
    hof = run.hall_of_fame()
    assert len(hof) == 4 and hof[0].score == max(i.score for g in run.generations() for i in run.load_generation(g))
    assert [r["gen"] for r in run.logbook()] == [0, 1, 2]


@pytest.mark.slow
def test_one_and_two_workers_give_the_same_run(tmp_path, seeds_dir):
    store = RunStore(tmp_path / "runs")
    one = start_run(tiny_config(seeds_dir, **{"evaluation.workers": 1, "run.generations": 2}), store, "one")
    two = start_run(tiny_config(seeds_dir, **{"evaluation.workers": 2, "run.generations": 2}), store, "two")
    zero = start_run(tiny_config(seeds_dir, **{"evaluation.workers": 0, "run.generations": 2}), store, "zero")
    s1, s2, s0 = (snapshot(store.run_dir(r)) for r in (one, two, zero))
    assert s1 == s2 == s0


HOSTILE = {
    "hostile - endless loops.milk": "[preset00]\nper_frame_1=loop(100000000, q1 = q1 + sin(q1));\n"
                                    "per_frame_2=while(q2 = q2 + 1; 1);\n",
    "hostile - nan storm.milk": "[preset00]\nper_frame_1=zoom = 1/0; rot = pow(10, 300); dx = sqrt(-1);\n"
                                "per_pixel_1=zoom = 0/0; warp = 1e300*1e300;\n",
    "hostile - broken shader.milk": "MILKDROP_PRESET_VERSION=201\nPSVERSION=2\n[preset00]\n"
                                    "warp_1=`shader_body { ret = ;;; tex2D(\nwarp_2=`}}}}\ncomp_1=`#include <evil>\n",
    "hostile - syntax.milk": "[preset00]\nper_frame_1=zoom = = (((;\nper_pixel_1=)))rot=;\nwave_0_per_point1=x=;;\n",
    "hostile - not a preset.milk": "\x00\x01\x02 binary junk",
}


@pytest.mark.slow
def test_hostile_candidates_do_not_stop_the_run(tmp_path, seeds_dir):
    d = tmp_path / "seeds"
    d.mkdir()
    for name, text in HOSTILE.items():
        (d / name).write_bytes(text.encode("latin-1"))
    shutil.copy(seed_paths()[0], d / seed_paths()[0].name)
    cfg = tiny_config(d, **{"run.generations": 2, "seeds.md1_only": False, "fitness.timeout_s": 1.0})
    store = RunStore(tmp_path / "runs")
    run = store.open(start_run(cfg, store, "hostile"))
    assert run.status == "finished"
    gen0 = run.load_generation(0)
    by_seed = {i.parents[0]: i for i in gen0 if i.operator == "seed"}
    loops = by_seed["seed:hostile - endless loops.milk"]
    assert loops.score == 0.0 and "timeout" in loops.error
    good = by_seed[f"seed:{seed_paths()[0].name}"]
    assert good.error is None and good.score > 0.0
    assert all(i.score is not None for g in run.generations() for i in run.load_generation(g))
    assert run.generations() == [0, 1]


@pytest.mark.slow
def test_branch_and_cli_commands(tmp_path, seeds_dir):
    from ui.cli.evolve import register
    import typer

    app = typer.Typer()
    register(app)
    runs = tmp_path / "runs"
    cli = CliRunner()
    args = ["evolve", "--seeds", str(seeds_dir), "-p", "4", "-g", "2", "--frames", "24", "--size", "48",
            "-w", "0", "--seed", "1", "--run", "cli", "--runs-dir", str(runs)]
    r = cli.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "hall_of_fame.png" in r.output
    assert cli.invoke(app, args).exit_code != 0  # the run exists already
    r = cli.invoke(app, ["runs", "--runs-dir", str(runs)])
    assert "cli" in r.output and "finished" in r.output
    r = cli.invoke(app, ["export", "cli", "--top", "2", "-o", str(tmp_path / "out"), "--runs-dir", str(runs)])
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "out").glob("*.milk"))) == 2
    r = cli.invoke(app, ["resume", "cli", "--runs-dir", str(runs)])  # finished: nothing to do, no error
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["resume", "nope", "--runs-dir", str(runs)])
    assert r.exit_code == 2 and "no such run" in r.output

    store = RunStore(runs)
    best = store.open("cli").hall_of_fame()[0]
    new = branch_run("cli", best.id, store, run_name="branch", population=4, generations=1)
    assert store.open(new).status == "stopped" and store.open(new).generations() == []
    resume_run(new, store)
    gen0 = store.open(new).load_generation(0)
    assert gen0[0].operator == "branch" and gen0[0].genome_id == best.genome_id
    assert gen0[0].parents == [f"cli/{best.id}"]


@pytest.mark.slow
def test_resume_of_a_corrupt_run_names_the_file(tmp_path, seeds_dir):
    store = RunStore(tmp_path / "runs")
    rid = start_run(tiny_config(seeds_dir, **{"run.generations": 1, "run.population": 3}), store, "c")
    run = store.open(rid)
    config = json.loads((run.dir / "config.json").read_text())
    config["run"]["generations"] = 3  # pretend it was stopped early
    (run.dir / "config.json").write_text(json.dumps(config))
    ck = json.loads(run.checkpoint_path(0).read_text())
    ck["rng"] = {"python": "garbage", "numpy": {"bit_generator": "os.system"}}
    run.checkpoint_path(0).write_text(json.dumps(ck))
    with pytest.raises(StoreError, match="gen_0000.json.*cannot resume"):
        resume_run(rid, store)
    run.checkpoint_path(0).write_text("{ truncated")
    with pytest.raises(StoreError, match="gen_0000.json"):
        resume_run(rid, store)
    (run.dir / "config.json").write_text(json.dumps({**config, "run": {"population": -1}}))
    with pytest.raises(StoreError, match="config.json.*population"):
        resume_run(rid, store)
