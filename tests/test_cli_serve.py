"""``liandan ui`` and its Streamlit child live and die together (a real process tree, real signals)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ui_helpers import REPO, free_port, liandan, wait_for


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_liandan_ui_stops_streamlit(tmp_path, how):
    """SIGTERM/SIGINT are forwarded and the command exits with Streamlit; even SIGKILL (nothing
    to forward) takes the child with it. It used to leave Streamlit serving, parent 1."""
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux /proc")
    log = tmp_path / "ui.log"
    with open(log, "wb") as fh:
        parent = subprocess.Popen(liandan("ui", "--port", str(free_port()), "--runs-dir", str(tmp_path / "runs")),
                                  cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
    child = None
    try:
        child = wait_for(lambda: (_children(parent.pid) or [None])[0], 60, "the streamlit child", log=log)
        time.sleep(1.0)  # let it get past start-up (and its own signal handlers)
        parent.send_signal(how)
        code = parent.wait(timeout=30)
        assert code == (-signal.SIGKILL if how == signal.SIGKILL else 128 + how), log.read_text()[-2000:]
        wait_for(lambda: not _alive(child), 20, "the streamlit child to exit", log=log)
    finally:
        for pid in (parent.pid, child):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)
