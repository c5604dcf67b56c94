"""What every page shares: where runs live, who is voting, and how a preview is shown.

The UI touches runs only through ``evo.store`` and renders nothing itself: previews are files the
engine wrote, and anything new (a bred child) is rendered by a ``liandan`` subprocess, so the
Streamlit process never creates a GL context.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import streamlit as st

from evo.store import RunStore

RUNS_DIR_ENV = "LIANDAN_RUNS_DIR"


def runs_dir() -> Path:
    return Path(os.environ.get(RUNS_DIR_ENV, "runs")).resolve()


def store() -> RunStore:
    return RunStore(root=runs_dir())


def voter_name() -> str:
    """The name typed in the sidebar, kept for the browser session."""
    st.sidebar.text_input("Your name (voter id)", key="voter", placeholder="type a name to vote")
    return (st.session_state.get("voter") or "").strip()


@lru_cache(maxsize=512)
def _data_uri(path: str, mtime: float) -> str:
    mime = {"webp": "image/webp", "gif": "image/gif", "png": "image/png"}.get(path.rsplit(".", 1)[-1], "image/png")
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:{mime};base64,{data}"


def preview_html(path: Path | None, caption: str = "", width: int = 160, css_class: str = "liandan-preview") -> str:
    """An <img> tag with the file inlined: Streamlit's st.image drops WebP animation."""
    if path is None or not Path(path).exists():
        return f'<div class="{css_class}-missing" style="width:{width}px;height:{width}px;background:#222;color:#888">no preview</div>'
    uri = _data_uri(str(path), Path(path).stat().st_mtime)
    title = caption.replace('"', "'")
    return f'<img class="{css_class}" src="{uri}" width="{width}" title="{title}" alt="{title}"/>'


def show_preview(path: Path | None, caption: str = "", width: int = 160) -> None:
    st.markdown(preview_html(path, caption, width), unsafe_allow_html=True)


def liandan_command(*args: str) -> list[str]:
    """The CLI as a subprocess command line (same interpreter, so the same virtualenv)."""
    return [sys.executable, "-m", "ui.cli", *args]


def launch_background(*args: str, log_path: Path) -> int:
    """Start a long CLI job (evolve, resume) detached from this Streamlit session; returns its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            liandan_command(*args),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    return proc.pid


def pick_run(label: str = "Run", key: str = "run"):
    """A run chooser in the sidebar; returns the opened Run or None when there are none."""
    summaries = store().list_runs()
    if not summaries:
        st.info(f"No runs in {runs_dir()} yet: start one on the Runs page or run `liandan demo`.")
        return None
    ids = [s.id for s in summaries]
    wanted = st.query_params.get("run")
    index = ids.index(wanted) if wanted in ids else 0
    run_id = st.sidebar.selectbox(label, ids, index=index, key=key)
    return store().open(run_id)
