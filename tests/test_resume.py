"""Kill a real `liandan evolve` process with SIGKILL mid-generation, resume it, and get the very
same run as one that was never interrupted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from evo.config import load_config
from evo.driver import start_run
from evo.seeds import seed_paths
from evo.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
TOML = """
[run]
seed = 11
population = 6
generations = 3
[ga]
elite = 1
hall_of_fame = 4
[fitness]
frames = 24
width = 64
height = 64
mesh = [16, 12]
skip = 6
[preview]
size = 48
frames = 6
[evaluation]
workers = 0
"""


def snapshot(run_dir: Path) -> dict:
    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k not in ("timing", "created", "updated", "pid", "id")}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    out = {"config": strip(json.loads((run_dir / "config.json").read_text()))}
    for p in sorted((run_dir / "generations").glob("gen_*.json")):
        out[p.name] = strip(json.loads(p.read_text()))
    for p in sorted((run_dir / "individuals").rglob("*")):
        if p.is_file():
            out[str(p.relative_to(run_dir))] = p.read_bytes()
    return out


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli", *args]


def _mid_generation(run_dir: Path) -> bool:
    """True once some generation >= 1 has evaluated candidates on disk but no checkpoint yet."""
    for g in (1, 2):
        done = list((run_dir / "individuals").glob(f"g{g:04d}-00[2-5]/preview.webp"))
        if done and not (run_dir / "generations" / f"gen_{g:04d}.json").exists():
            return True
    return False


def evolve_and_kill(config: Path, runs: Path, env: dict) -> tuple[Path, subprocess.Popen]:
    """``liandan evolve --config CONFIG --run killed``, SIGKILLed in the middle of generation 1 or 2."""
    proc = subprocess.Popen(_cli("evolve", "--config", str(config), "--run", "killed", "--runs-dir", str(runs)),
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    run_dir = runs / "killed"
    deadline = time.monotonic() + 300  # generous: on a loaded 2-core machine start-up alone can take a minute
    killed = False
    while proc.poll() is None and time.monotonic() < deadline:
        if _mid_generation(run_dir):
            proc.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.002)
    if not killed:
        proc.kill()
    proc.wait(timeout=30)
    assert killed, f"the run ended (or never reached generation 1) before it could be killed: " \
                   f"{proc.stderr.read().decode()[-2000:]}"
    return run_dir, proc


@pytest.mark.slow
def test_sigkill_mid_generation_then_resume_equals_uninterrupted(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for p in seed_paths():
        shutil.copy(p, seeds / p.name)
    config = tmp_path / "tiny.toml"
    config.write_text(TOML + f'[seeds]\ndir = "{seeds}"\n')
    runs = tmp_path / "runs"
    env = dict(os.environ, LP_NUM_THREADS="0")
    run_dir, proc = evolve_and_kill(config, runs, env)
    assert proc.returncode == -signal.SIGKILL

    store = RunStore(runs)
    assert store.open("killed").status == "stopped"  # "running" on disk, but its pid is gone
    last = store.open("killed").generations()[-1]
    assert last < 2

    r = subprocess.run(_cli("resume", "killed", "--runs-dir", str(runs)), cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "hall_of_fame.png" in r.stdout
    assert store.open("killed").status == "finished"

    whole = start_run(load_config(config), store, "whole")
    a, b = snapshot(run_dir), snapshot(store.run_dir(whole))
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], f"{key} differs after kill + resume"
