"""The run folder's plumbing: strict JSON written atomically, safe ids, and the lock that proves
which process is running a run.

"Running" is a lock, not a PID: the process that drives a run holds an exclusive ``flock`` on
``run.lock`` (and writes its PID and start time there). The kernel drops the lock when that
process ends, however it ends, so a run is running exactly while some process holds the lock,
and a PID read from a file that someone copied, or left behind before a reboot, is never
signalled: :func:`stop` signals a PID only while the lock is held and the PID's start time is the
one its holder wrote.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import signal
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from renderer.output.files import atomic_write_bytes

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
LOCK_NAME = "run.lock"


class StoreError(Exception):
    """A run folder that cannot be used; the message names the file."""


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(json_safe(obj), indent=1, sort_keys=True, allow_nan=False).encode())


def json_safe(obj: Any) -> Any:
    """NaN/inf become None so every file is strict JSON (browsers and other tools read it)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return json_safe(obj.item())
    return obj


def read_json(path: Path) -> Any:
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise StoreError(f"{path}: missing") from exc
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: corrupt JSON: {exc}") from exc


# ---------------------------------------------------------------- which process runs a run


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it is gone.
    A PID can be reused; (PID, start time) names one process."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


class RunLock:
    """Held by the process that drives a run, for as long as it drives it."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_NAME
        self._fh = None

    def acquire(self) -> None:
        """Take the lock or raise StoreError naming the holder."""
        fh = open(self.path, "a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            holder = lock_holder(self.path.parent) or {}
            pid = holder.get("pid", "?")
            raise StoreError(f"{self.path.parent}: run is running (pid {pid}, which holds {self.path.name}); "
                             f"stop it first (Stop on the Runs page, or kill {pid})") from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({"pid": os.getpid(), "start": process_start_time(os.getpid())}))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing the descriptor drops the flock
            self._fh = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def lock_holder(run_dir: Path) -> dict | None:
    """``{"pid", "start"}`` of the process holding the run's lock, or None when nobody holds it."""
    path = Path(run_dir) / LOCK_NAME
    try:
        fh = open(path)
    except OSError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return dict(json.loads(fh.read() or "{}"))
            except (json.JSONDecodeError, TypeError, ValueError):
                return {}
        fcntl.flock(fh, fcntl.LOCK_UN)
        return None


def stop(run_dir: Path) -> int:
    """Ask the process running this run to stop (SIGTERM: it saves its state as 'stopped').
    Returns the PID signalled; StoreError when the run is not running or its holder cannot be proven."""
    holder = lock_holder(run_dir)
    if holder is None:
        raise StoreError(f"{run_dir}: run is not running")
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        raise StoreError(f"{run_dir / LOCK_NAME}: the running process did not say who it is")
    if holder.get("start") is None or process_start_time(pid) != holder.get("start"):
        raise StoreError(f"{run_dir / LOCK_NAME}: pid {pid} is not the process that holds the run")
    os.kill(pid, signal.SIGTERM)
    return pid


def launch(module_args: list[str], log_path: Path, cwd: Path | None = None) -> int:
    """Start ``python -m MODULE ARGS`` detached from the caller (its own session, so closing a
    browser or restarting the app never stops it), output appended to ``log_path``; returns its PID."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", *module_args], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd,
                                env=dict(os.environ, LP_NUM_THREADS="0"))
    return proc.pid
