"""``liandan ui``: start the Streamlit app, on 127.0.0.1 unless told otherwise.

The app runs as a child process (Streamlit wants its own main thread). The two live and die
together: SIGTERM, SIGINT or SIGHUP to ``liandan ui`` is passed on to Streamlit and the command
exits when Streamlit has (SIGKILL after a grace period), and on Linux the child is also told to
stop if ``liandan ui`` itself is killed outright, so no server is left holding the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

APP = Path(__file__).resolve().parent.parent / "app.py"
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
STOP_GRACE_S = 10.0


def streamlit_command(port: int, host: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.toolbarMode", "minimal",
    ]


def _stop_with_parent() -> None:
    """In the child before exec: SIGTERM when the parent dies (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: signal forwarding still covers a normal stop
        pass


def run_child(cmd: list[str], env: dict[str, str]) -> int:
    """Run ``cmd`` until it exits, passing FORWARDED signals on; returns its exit status, or
    128 + the signal that stopped us."""
    proc = subprocess.Popen(cmd, env=env, preexec_fn=_stop_with_parent if sys.platform == "linux" else None)
    received: list[int] = []
    kill_at: list[float] = []

    def forward(signum, frame):
        received.append(signum)
        kill_at.append(time.monotonic() + STOP_GRACE_S)
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        while True:
            try:
                code = proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if kill_at and time.monotonic() > kill_at[0]:
                    proc.kill()
    finally:
        if proc.poll() is None:  # an exception of our own: never leave the server behind
            proc.kill()
            proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 + received[0] if received else code


def register(app: typer.Typer) -> None:
    @app.command("ui")
    def ui(
        runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="where runs live"),
        port: int = typer.Option(8501, "--port"),
        host: str = typer.Option("127.0.0.1", "--host", help="address to bind; 0.0.0.0 exposes it to the network"),
        dataset: Path = typer.Option(Path("ds"), "--dataset", help="dataset folder the Corpus page opens (`liandan mine`)"),
    ) -> None:
        """Open the voting app in the browser (http://HOST:PORT)."""
        env = dict(os.environ, LIANDAN_RUNS_DIR=str(runs_dir.resolve()), LIANDAN_DATASET=str(dataset.resolve()))
        typer.echo(f"liandan ui on http://{host}:{port}  (runs: {runs_dir.resolve()})")
        raise typer.Exit(run_child(streamlit_command(port, host), env))
