"""Who runs a run: the process holding its lock. Resume takes over runs whose process is gone,
refuses runs a live process holds, and rebuilds a damaged state.json from the checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evo.driver import start_run
from evo.run_folder import lock_holder
from evo.store import RunStore
from helpers import tiny_config

_HOLDER = """
import sys, time
from pathlib import Path
from evo.run_folder import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, seeds_dir) -> Path:
    """A finished one-generation run, made once; tests work on copies. While it ran, the lock was
    held by this process (what `liandan evolve` does)."""
    store = RunStore(tmp_path_factory.mktemp("runs"))
    holders = []

    def progress(event):
        if event["type"] in ("generation_start", "evaluated"):
            holders.append(lock_holder(store.run_dir("done")))

    start_run(tiny_config(seeds_dir, **{"run.generations": 1, "run.population": 3}), store, "done", progress)
    assert holders and all(h is not None and h["pid"] == os.getpid() for h in holders), holders
    assert lock_holder(store.run_dir("done")) is None  # released when the run ended
    return store.run_dir("done")


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    dst = tmp_path / "runs" / "done"
    shutil.copytree(finished_run, dst)
    return dst


def _resume(run_dir: Path):
    from ui.cli import app

    return CliRunner().invoke(app, ["resume", run_dir.name, "--runs-dir", str(run_dir.parent)])


def test_resume_rebuilds_a_damaged_state_and_says_so(run_copy):
    (run_copy / "state.json").write_text('{"status": "runn')
    res = _resume(run_copy)
    assert res.exit_code == 0, res.output
    assert "state.json: corrupt JSON" in res.output and "rebuilt it from the checkpoints" in res.output
    state = json.loads((run_copy / "state.json").read_text())
    assert state["status"] == "finished" and state["generation"] == 0


def test_resume_takes_over_a_run_whose_process_is_gone(run_copy):
    """state.json names a PID that is alive but is not ours (here: the test's parent); nobody holds
    the lock, so the run is ours to continue, and nothing is signalled."""
    state = json.loads((run_copy / "state.json").read_text())
    (run_copy / "state.json").write_text(json.dumps({**state, "status": "running", "pid": os.getppid()}))
    res = _resume(run_copy)
    assert res.exit_code == 0, res.output
    assert f"left 'running' by pid {os.getppid()}, which is gone" in res.output and "taking it over" in res.output
    assert json.loads((run_copy / "state.json").read_text())["status"] == "finished"


def test_resume_holds_the_run_while_it_works(run_copy):
    from evo.driver import resume_run

    seen = []
    resume_run(run_copy.name, RunStore(run_copy.parent), lambda event: seen.append(lock_holder(run_copy)))
    assert seen and all(h is not None and h["pid"] == os.getpid() for h in seen)
    assert lock_holder(run_copy) is None


def test_resume_refuses_a_run_a_live_process_holds(run_copy):
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(run_copy)], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    try:
        assert holder.stdout.readline().strip() == "held"
        res = _resume(run_copy)
        assert res.exit_code == 2, res.output
        assert f"run is running (pid {holder.pid}" in res.output and "stop it first" in res.output
    finally:
        holder.kill()
        holder.wait()
    assert _resume(run_copy).exit_code == 0  # the holder is gone: the run is free again


@pytest.mark.parametrize("bad", ["nosuch", "../done", "done/../../x"])
def test_export_with_a_bad_run_id_makes_no_folder(run_copy, tmp_path, bad):
    from ui.cli import app

    out = tmp_path / "exported" / "best"
    res = CliRunner().invoke(app, ["export", bad, "-o", str(out), "--runs-dir", str(run_copy.parent)])
    assert res.exit_code == 2 and "error" in res.output
    assert not (tmp_path / "exported").exists()
