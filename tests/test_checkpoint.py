"""evo.checkpoint: the typed checkpoint format, and run folders written before it existed.

``fixtures/run_format1`` is a real run folder made by the code as it was before the checkpoint
format had a module of its own (4 individuals, stopped after generation 1's evaluation and before
its selection, with three votes on generation 1). It must still list, show, replay and resume.
"""

from __future__ import annotations

import json
import shutil

import pytest

from evo.checkpoint import Checkpoint, CheckpointError
from evo.driver import replay_selection, resume_run
from evo.store import RunStore, StoreError
from helpers import FIXTURES

OLD_RUN = FIXTURES / "run_format1"


@pytest.fixture
def old_run(tmp_path):
    shutil.copytree(OLD_RUN, tmp_path / "runs" / "format1")
    return RunStore(tmp_path / "runs")


def test_every_old_checkpoint_reads_and_writes_back_field_for_field():
    for path in sorted((OLD_RUN / "generations").glob("gen_*.json")):
        data = json.loads(path.read_text())
        assert Checkpoint.from_json(data, path).to_json() == data


def test_an_old_run_shows_in_the_store(old_run):
    (summary,) = old_run.list_runs()
    assert (summary.id, summary.status, summary.generation, summary.n_generations) == ("format1", "stopped", 1, 3)
    run = old_run.open("format1")
    gen1 = run.load_generation(1)
    assert len(gen1) == 4 and all(i.score is not None and i.genome_id for i in gen1)
    assert [i.id for i in run.hall_of_fame()] and run.parents_of_next(0)
    assert run.read_checkpoint(1).next is None  # stopped before selecting
    votes = run.vote_summary(1)
    assert (votes[gen1[0].id].likes, votes[gen1[1].id].dislikes, votes[gen1[2].id].best) == (1, 1, 1)
    assert run.lineage(gen1[0].id)["parents"]


def test_an_old_runs_selection_replays_exactly(old_run):
    run = old_run.open("format1")
    recorded = json.loads(run.checkpoint_path(0).read_text())["next"]
    assert replay_selection(run, 0) == recorded


def test_an_old_run_resumes_with_its_votes(old_run):
    resume_run("format1", old_run)
    run = old_run.open("format1")
    assert run.status == "finished" and run.generations() == [0, 1, 2]
    nxt = run.read_checkpoint(1).next
    assert nxt is not None and nxt.votes_by_genome  # the three votes took part in selection
    disliked = run.load_generation(1)[1]
    assert any(e["id"] == disliked.id for e in nxt.excluded)
    assert len(run.load_generation(2)) == 4 and run.contact_sheet_path.is_file()


def test_a_malformed_or_unknown_checkpoint_names_its_file(old_run, tmp_path):
    run = old_run.open("format1")
    path = run.checkpoint_path(1)
    data = json.loads(path.read_text())
    with pytest.raises(CheckpointError, match="unknown checkpoint format 99"):
        Checkpoint.from_json({**data, "format": 99}, path)
    path.write_text(json.dumps({**data, "rng": None}))
    with pytest.raises(StoreError, match="gen_0001.json.*malformed"):
        old_run.open("format1").read_checkpoint(1)
