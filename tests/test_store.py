"""evo.store: the run folder API the UI codes against (no GL, no rendering here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from evo.checkpoint import Checkpoint, IndividualRecord, SelectionRecord
from evo.run_folder import RunLock
from evo.selection import VoteSummary
from evo.store import Individual, RunStore, StoreError


def _rec(ind_id, g, score, parents=(), op="seed"):
    return IndividualRecord(ind_id, g, {"params": {"zoom": 1.0 + score}}, f"gid-{ind_id}", list(parents), op, score,
                            {"entropy": 5.0 + score})


@pytest.fixture
def run(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create("r1", {"run": {"seed": 1, "generations": 3, "population": 2, "mode": "autonomous"}})
    chosen = SelectionRecord([{"id": "g0000-001", "reason": "elite #1"}], [], {}, 0, {}, [], {})
    run.write_checkpoint(Checkpoint(0, [_rec("g0000-000", 0, 0.5), _rec("g0000-001", 0, 0.7)], rng={},
                                    hall_of_fame=[{"id": "g0000-001", "score": 0.7}], next=chosen))
    run.write_checkpoint(Checkpoint(1, [_rec("g0001-000", 1, 0.7, ["g0000-001"], "elite"),
                                        _rec("g0001-001", 1, 0.9, ["g0000-000", "g0000-001"], "crossbreed")], rng={},
                                    hall_of_fame=[{"id": "g0001-001", "score": 0.9}, {"id": "g0000-001", "score": 0.7}]))
    for ind in ("g0000-000", "g0000-001", "g0001-000", "g0001-001"):
        run.individual_dir(ind).mkdir(parents=True)
        run.preset_path(ind).write_text(f"[preset00]\nzoom=1 // {ind}\n")
    return run


def test_generations_individuals_and_lineage(run):
    assert run.generations() == [0, 1]
    gen1 = run.load_generation(1)
    assert [i.id for i in gen1] == ["g0001-000", "g0001-001"]
    child = run.individual("g0001-001")
    assert isinstance(child, Individual)
    assert child.parents == ["g0000-000", "g0000-001"] and child.operator == "crossbreed"
    assert child.score == 0.9 and child.stats["entropy"] == pytest.approx(5.9)
    tree = run.lineage("g0001-001", depth=2)
    assert [p["id"] for p in tree["parents"]] == ["g0000-000", "g0000-001"]
    assert tree["parents"][0]["operator"] == "seed"
    assert run.lineage("g0001-001", depth=0)["parents"] == []
    assert run.parents_of_next(0) == [{"id": "g0000-001", "reason": "elite #1"}]
    assert run.parents_of_next(1) == []
    assert [i.id for i in run.hall_of_fame()] == ["g0001-001", "g0000-001"]
    assert run.preview_path("g0001-001").name == "preview.webp"
    assert run.still_path("g0001-001").parent == run.dir / "individuals" / "g0001-001"
    with pytest.raises(StoreError, match="no individual"):
        run.individual("g0009-000")


def test_list_runs_and_status(run, tmp_path):
    store = RunStore(tmp_path / "runs")
    (summary,) = store.list_runs()
    assert summary.id == "r1" and summary.generation == 1 and summary.n_generations == 3
    assert summary.best_score == 0.9
    with RunLock(run.dir):  # running while a process holds the run's lock
        assert run.status == "running"
        with pytest.raises(StoreError, match="is running"):
            RunLock(run.dir).acquire()
    assert run.status == "stopped"  # "running" on disk, but nobody holds the lock
    run.write_state("finished", 1)
    assert store.open("r1").status == "finished"


def test_export_copies_presets(run, tmp_path):
    paths = run.export(["g0001-001", "g0000-000"], tmp_path / "out")
    assert [p.name for p in paths] == ["r1_01_g0001-001.milk", "r1_02_g0000-000.milk"]
    assert "g0001-001" in paths[0].read_text()
    with pytest.raises(StoreError, match="preset.milk"):
        run.export(["g0000-009"], tmp_path / "out")


def test_votes_from_many_threads_all_stored(run):
    ids = ["g0001-000", "g0001-001"]
    errors = []

    def voter(k):
        try:
            for i in range(500):
                run.add_vote(ids[i % 2], f"voter{k}", 1 if i % 3 else -1, best=(i == 499))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=voter, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    votes = run.votes()
    assert len(votes) == 4000
    assert len({v.id for v in votes}) == 4000
    assert {v.generation for v in votes} == {1}
    assert run.votes(generation=0) == []
    # a second handle (another process would do the same) sees every vote
    assert len(RunStore(run.store.root).open("r1").votes()) == 4000


def test_vote_summary_counts_each_voters_latest_vote(run):
    run.add_vote("g0001-001", "ann", 1)
    run.add_vote("g0001-001", "bob", -1)
    run.add_vote("g0001-001", "bob", 1, best=True)  # bob changes his mind
    run.add_vote("g0001-000", "ann", -1)
    s = run.vote_summary(1)
    assert s["g0001-001"] == VoteSummary(likes=2, dislikes=0, best=1, score=4.0)
    assert s["g0001-000"].dislikes == 1 and s["g0001-000"].score == -1.0
    assert s["g0001-001"].likes == 2
    assert run.vote_summary(0) == {}
    with pytest.raises(ValueError):
        run.add_vote("g0001-001", "ann", 5)
    with pytest.raises(StoreError):
        run.add_vote("nobody", "ann", 1)


def test_corrupt_files_name_the_file(run, tmp_path):
    store = RunStore(tmp_path / "runs")
    gen = run.checkpoint_path(1)
    gen.write_text('{"individuals": [')
    with pytest.raises(StoreError, match="gen_0001.json"):
        store.open("r1").load_generation(1)
    gen.write_text(json.dumps({"format": 1, "generation": 1, "rng": {}, "individuals": [{"id": "x"}]}))
    with pytest.raises(StoreError, match="gen_0001.json.*malformed"):
        store.open("r1").load_generation(1)
    for bad in (json.dumps({"status": "exploded"}), '{"status": "runn'):
        (run.dir / "state.json").write_text(bad)
        state = store.open("r1").state  # the checkpoints are the run; state.json only says where it stands
        assert state["status"] == "stopped" and state["generation"] == 1 and "state.json" in state["problem"]
        assert store.open("r1").status == "stopped"
    (run.dir / "config.json").write_bytes(b"\x00\xff not json")
    with pytest.raises(StoreError, match="config.json"):
        store.open("r1")
    assert store.list_runs()[0].status.startswith("corrupt")
    with pytest.raises(StoreError, match="no such run"):
        store.open("missing")
    with pytest.raises(StoreError, match="not a valid run id"):
        store.open("../etc")


def test_writes_are_atomic_and_strict_json(run):
    run.write_checkpoint(Checkpoint(2, [_rec("g0002-000", 2, float("nan"))], rng={}))
    text = run.checkpoint_path(2).read_text()
    assert "NaN" not in text
    assert json.loads(text)["individuals"][0]["score"] is None
    leftovers = [p for p in run.dir.rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    with pytest.raises(StoreError, match="already exists"):
        run.store.create("r1", {})


def test_votes_database_is_wal(run):
    import sqlite3

    run.add_vote("g0000-000", "ann", 1)
    conn = sqlite3.connect(run.dir / "votes.sqlite")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert os.path.exists(run.dir / "votes.sqlite")


def test_best_pick_is_one_per_voter_and_generation(run):
    run.cast_vote("g0001-000", "ann", 1, best=True)
    run.cast_vote("g0001-001", "ann", 1, best=True)  # ann changes her pick
    run.cast_vote("g0001-000", "bob", 1, best=True)
    s = run.vote_summary(1)
    assert (s["g0001-000"].likes, s["g0001-000"].best) == (2, 1)  # ann's old pick is now her like; bob's pick
    assert (s["g0001-001"].likes, s["g0001-001"].best) == (1, 1)


def test_scratch_folders_stay_inside_the_runs_folder(run):
    d = run.store.scratch("breed", "abc123")
    assert d.is_dir() and d.parent.parent == run.store.root / "_scratch"
    for bad in ("../x", "", "a/b"):
        with pytest.raises(StoreError):
            run.store.scratch("breed", bad)


def test_export_refuses_before_making_the_folder(run, tmp_path):
    with pytest.raises(StoreError):
        run.export(["g0000-009"], tmp_path / "never")
    assert not (tmp_path / "never").exists()


_HOLDER = """
import sys, time
from pathlib import Path
from evo.run_folder import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_stop_signals_only_the_process_that_holds_the_run(run):
    """A PID in state.json that is not the run's process (copied folder, reboot, reuse) is never
    signalled; the lock holder is, and its death frees the run for resume."""
    state = json.loads((run.dir / "state.json").read_text())
    (run.dir / "state.json").write_text(json.dumps({**state, "status": "running", "pid": os.getppid()}))
    assert run.status == "stopped"
    with pytest.raises(StoreError, match="not running"):
        run.stop()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(run.dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert run.status == "running"
        # the lock file names a PID with another start time: a reused PID, refused
        lock = run.dir / "run.lock"
        real = lock.read_text()
        lock.write_text(json.dumps({**json.loads(real), "start": "1"}))
        with pytest.raises(StoreError, match="not the process"):
            run.stop()
        assert holder.poll() is None
        lock.write_text(real)
        assert run.stop() == holder.pid
        holder.wait(timeout=20)
    finally:
        if holder.poll() is None:
            holder.kill()
    assert run.status == "stopped"
