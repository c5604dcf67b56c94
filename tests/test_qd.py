"""Quality diversity (``--search qd``): the archive as a function of history and votes, votes on
cells steering parents, exact resume after SIGKILL, worker-count independence, distinct export."""

from __future__ import annotations

import os
import random
import signal
import subprocess

import numpy as np
import pytest

from evo.checkpoint import Result
from evo.config import ConfigError, load_config
from evo.genome import genome_from_preset
from evo.individual import Individual
from evo.qd.archive import Centroids, QDArchive
from evo.qd.core import MapElites
from evo.qd.view import archive_grid
from evo.selection import VoteSummary
from evo.seeds import seed_paths
from evo.store import RunStore
from evo.toolbox import make_toolbox
from helpers import run_snapshot, tiny_config
from renderer.milk.preset import load_milk
from test_resume import ROOT, _cli, evolve_and_kill

CENTROIDS = Centroids.make(("brightness", "motion"), 9, 2000, seed=0)


def individual(k: int, score: float, brightness: float, motion: float, generation: int = 0) -> Individual:
    genome = genome_from_preset(load_milk(seed_paths()[k % len(seed_paths())]))
    ind = Individual(f"g{generation:04d}-{k:03d}", generation, genome, f"genome{k}", [f"seed:{k}"], "seed")
    ind.set_result(Result(score=score, descriptors={"brightness": brightness, "motion": motion}))
    return ind


def test_archive_keeps_the_best_per_cell_earliest_on_ties_and_skips_the_unplaceable():
    a = individual(0, 0.5, 0.1, 0.1)
    b = individual(1, 0.7, 0.1, 0.11)  # same cell, better
    c = individual(2, 0.7, 0.1, 0.12)  # same cell, tie with b: b came first
    d = individual(3, 0.3, 0.9, 0.9)
    failed = individual(4, 0.9, 0.5, 0.5)
    failed.result.error = "boom"
    archive = QDArchive(CENTROIDS)
    archive.fill([a, b, c, d, failed], lambda m: m.score)
    elites = {m.id: obj for _, m, obj in archive.elites()}
    assert elites == {b.id: 0.7, d.id: 0.3}
    rec = archive.record()
    assert rec.coverage == pytest.approx(2 / 9) and rec.qd_score == pytest.approx(1.0) and rec.best == 0.7
    assert archive.cell_of(a) == archive.cell_of(b) != archive.cell_of(d)
    # the same history in another order of ties gives the tie to whoever came first
    archive.fill([a, c, b, d], lambda m: m.score)
    assert c.id in {m.id for _, m, _ in archive.elites()}


def core(population: int = 6, **over) -> MapElites:
    cfg = load_config(None, {"run.population": population, "run.search": "qd", "qd.measures": ["brightness", "motion"],
                             "qd.cells": 9, **over})
    py = random.Random(1)
    return MapElites(cfg, make_toolbox(cfg.ga, py), py, np.random.default_rng(1), CENTROIDS)


def test_votes_act_on_cells_and_on_parent_draws():
    c = core(population=40)
    weak = individual(0, 0.40, 0.1, 0.1)
    strong = individual(1, 0.60, 0.1, 0.11)  # takes weak's cell on machine score
    other = individual(2, 0.5, 0.9, 0.9)
    third = individual(3, 0.5, 0.5, 0.9)
    c.remember([weak, strong, other, third])
    assert weak.id not in {e.id for e in c.archive_record().elites}
    # a like puts the weaker look back in its cell (0.40 + 0.33 > 0.60) ...
    liked = {weak.genome_id: VoteSummary(likes=1)}
    selection, offspring, combined = c.tell(0, [weak, strong, other, third], (liked, 7))
    assert weak.id in {e.id for e in c.archive_record().elites} and strong.id not in {e.id for e in c.archive_record().elites}
    assert c.archive_record().vote_cutoff == 7 and combined[weak.id] == pytest.approx(0.40 + 1 / 3)
    assert len(offspring) == 40 and {o.generation for o in offspring} == {1}
    # ... and a liked elite is drawn as a parent more often than a disliked one
    c2 = core(population=200)
    c2.remember([weak, other, third])
    votes = {weak.genome_id: VoteSummary(likes=1, best=1), other.genome_id: VoteSummary(dislikes=2)}
    selection, _, _ = c2.tell(0, [], (votes, 3))
    drawn = {p["id"]: int(p["reason"].split("drawn ")[1].split(" time")[0]) for p in selection.parents}
    assert drawn[weak.id] > 3 * drawn[third.id] > 3 * drawn.get(other.id, 0)
    assert "x14.39 from 1 like, 1 best-of-batch pick" in [p for p in selection.parents if p["id"] == weak.id][0]["reason"]


def test_archive_grid_puts_each_elite_in_its_square():
    archive = QDArchive(CENTROIDS)
    members = [individual(k, 0.3 + 0.1 * k, 0.1 + 0.2 * k, 0.9 - 0.2 * k) for k in range(4)]
    archive.fill(members, lambda m: m.score)
    rec = archive.record()
    grid = archive_grid(rec, "brightness", "motion", bins=4)
    placed = {c.elite.id: (c.row, c.col) for row in grid for c in row if c.elite is not None}
    # brightness 0.1 -> column 0, motion 0.9 -> the top row; brightness 0.7, motion 0.3 -> (2, 2)
    assert placed[members[0].id] == (0, 0) and placed[members[3].id] == (2, 2)
    with pytest.raises(ValueError, match="measures"):
        archive_grid(rec, "brightness", "warmth")


def test_qd_config_is_checked():
    assert load_config(None, {"run.search": "qd"}).qd.measures[0] == "brightness"
    with pytest.raises(ConfigError, match="run.search"):
        load_config(None, {"run.search": "map-elites"})
    with pytest.raises(ConfigError, match="qd.measures.*sparkle"):
        load_config(None, {"qd.measures": ["brightness", "sparkle"]})


QD_TOML = '\n[qd]\ncells = 24\ncentroid_samples = 3000\n'


@pytest.mark.slow
def test_qd_run_killed_with_sigkill_resumes_to_the_identical_archive(tmp_path, seeds_dir):
    from test_resume import TOML

    config = tmp_path / "qd.toml"
    config.write_text(TOML.replace("[run]\n", '[run]\nsearch = "qd"\n') + QD_TOML + f'[seeds]\ndir = "{seeds_dir}"\n')
    runs = tmp_path / "runs"
    env = dict(os.environ, LP_NUM_THREADS="0")
    run_dir, proc = evolve_and_kill(config, runs, env)
    assert proc.returncode == -signal.SIGKILL
    store = RunStore(runs)
    assert store.open("killed").generations()[-1] < 2
    r = subprocess.run(_cli("resume", "killed", "--runs-dir", str(runs)), cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]

    from evo.driver import start_run

    store.open(start_run(load_config(config), store, "whole"))
    a, b = run_snapshot(run_dir, binary=True), run_snapshot(store.run_dir("whole"), binary=True)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], f"{key} differs after kill + resume"
    killed_run = store.open("killed")
    assert killed_run.archive() is not None and killed_run.archive().elites
    assert (run_dir / "archive_centroids.json").read_bytes() == (store.run_dir("whole") / "archive_centroids.json").read_bytes()


@pytest.mark.slow
def test_qd_one_and_two_workers_give_the_same_archive_and_export_is_distinct(tmp_path, seeds_dir):
    from typer.testing import CliRunner

    from evo.driver import start_run
    from ui.cli import app

    store = RunStore(tmp_path / "runs")
    over = {"run.search": "qd", "run.generations": 3, "qd.cells": 24, "qd.centroid_samples": 3000}
    one = start_run(tiny_config(seeds_dir, **over, **{"evaluation.workers": 1}), store, "one")
    two = start_run(tiny_config(seeds_dir, **over, **{"evaluation.workers": 2}), store, "two")
    assert run_snapshot(store.run_dir(one)) == run_snapshot(store.run_dir(two))
    run = store.open(one)
    archive = run.archive()
    assert archive.cells == 24 and len(archive.elites) >= 3
    assert [r["coverage"] for r in run.logbook()] == sorted(r["coverage"] for r in run.logbook())
    r = CliRunner().invoke(app, ["export", one, "--top", "3", "-o", str(tmp_path / "out"), "--runs-dir", str(store.root)])
    assert r.exit_code == 0, r.output
    exported = [line.rsplit("_", 1)[-1].removesuffix(".milk") for line in r.output.split()]
    assert len(exported) == 3 and set(exported) <= {e.id for e in archive.elites}
    picked = [run.individual(i) for i in exported]
    best = max(archive.elites, key=lambda e: e.objective)
    assert run.individual(exported[0]).score == best.objective  # no votes: objective = machine score
    # the picks look less alike than the three best by score alone would
    similarity = run.look_rule().similarity
    top3 = [run.individual(e.id) for e in sorted(archive.elites, key=lambda e: -e.objective)[:3]]

    def likeness(group):
        return np.mean([similarity(a, b) for k, a in enumerate(group) for b in group[k + 1:]])

    assert likeness(picked) <= likeness(top3)
