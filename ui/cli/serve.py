"""``liandan ui``: start the Streamlit app, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

APP = Path(__file__).resolve().parent.parent / "app.py"


def streamlit_command(port: int, host: str) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.toolbarMode", "minimal",
    ]


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
        raise typer.Exit(subprocess.call(streamlit_command(port, host), env=env))
