"""evo.store: the run folder API the UI codes against (no GL, no rendering here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from evo.store import Individual, RunStore, StoreError, VoteSummary


def _rec(ind_id, g, score, parents=(), op="seed"):
    return {"id": ind_id, "generation": g, "genome": {"params": {"zoom": 1.0 + score}}, "genome_id": f"gid-{ind_id}",
            "score": score, "stats": {"entropy": 5.0 + score}, "degenerate": None, "error": None,
            "parents": list(parents), "operator": op}


@pytest.fixture
def run(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create("r1", {"run": {"seed": 1, "generations": 3, "population": 2, "mode": "autonomous"}})
    run.write_checkpoint(0, {"individuals": [_rec("g0000-000", 0, 0.5), _rec("g0000-001", 0, 0.7)],
                             "hall_of_fame": [{"id": "g0000-001", "score": 0.7}],
                             "next": {"parents": [{"id": "g0000-001", "reason": "elite #1"}]}})
    run.write_checkpoint(1, {"individuals": [_rec("g0001-000", 1, 0.7, ["g0000-001"], "elite"),
                                             _rec("g0001-001", 1, 0.9, ["g0000-000", "g0000-001"], "crossbreed")],
                             "hall_of_fame": [{"id": "g0001-001", "score": 0.9}, {"id": "g0000-001", "score": 0.7}]})
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
    assert run.status == "running"  # written by this (living) process
    # a dead engine's "running" reads as stopped
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state = json.loads((run.dir / "state.json").read_text())
    state["pid"] = int(proc.stdout)
    (run.dir / "state.json").write_text(json.dumps(state))
    assert run.status == "stopped"
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
    assert run.individual("g0001-001").vote_summary.likes == 2
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
    gen.write_text(json.dumps({"format": 1, "individuals": [{"id": "x"}]}))
    with pytest.raises(StoreError, match="gen_0001.json.*malformed"):
        store.open("r1").load_generation(1)
    (run.dir / "state.json").write_text(json.dumps({"status": "exploded"}))
    with pytest.raises(StoreError, match="state.json"):
        store.open("r1").status
    (run.dir / "config.json").write_bytes(b"\x00\xff not json")
    with pytest.raises(StoreError, match="config.json"):
        store.open("r1")
    assert store.list_runs()[0].status.startswith("corrupt")
    with pytest.raises(StoreError, match="no such run"):
        store.open("missing")
    with pytest.raises(StoreError, match="not a valid run id"):
        store.open("../etc")


def test_writes_are_atomic_and_strict_json(run):
    run.write_checkpoint(2, {"individuals": [_rec("g0002-000", 2, float("nan"))]})
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
