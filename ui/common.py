"""What every page shares: where runs live, who is voting, and how a preview is shown.

The UI touches runs only through ``evo.store`` and renders nothing itself: previews are files the
driver wrote, and anything new (a bred child, an uploaded preset) is rendered by a subprocess
(``python -m ui.render_preview``) into a store scratch folder, so the Streamlit process never
creates a GL context.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import streamlit as st

from evo.store import Run, RunStore, StoreError

RUNS_DIR_ENV = "LIANDAN_RUNS_DIR"
REPO_ROOT = Path(__file__).resolve().parent.parent
VOTER_KEY = "voter"


def runs_dir() -> Path:
    return Path(os.environ.get(RUNS_DIR_ENV, "runs")).resolve()


def store() -> RunStore:
    return RunStore(root=runs_dir())


def voter_sidebar() -> None:
    """The voter-name box; drawn by app.py on every page so the name survives page switches."""
    st.sidebar.text_input("Your name (voter id)", key=VOTER_KEY, placeholder="type a name to vote",
                          help="kept for this browser session; every vote is stored under it")


def voter_name() -> str:
    return str(st.session_state.get(VOTER_KEY) or "").strip()


@lru_cache(maxsize=512)
def _data_uri(path: str, mtime_ns: int, size: int) -> str:
    mime = {"webp": "image/webp", "gif": "image/gif", "png": "image/png"}.get(path.rsplit(".", 1)[-1], "image/png")
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f"data:{mime};base64,{data}"


def preview_html(path: Path | None, caption: str = "", width: int = 160, css_class: str = "liandan-preview") -> str:
    """An <img> with the file inlined: st.image re-encodes WebP and drops the animation."""
    title = html.escape(caption, quote=True)
    if path is None or not Path(path).is_file():
        return (f'<div class="{css_class}-missing" title="{title}" style="width:{width}px;height:{width}px;'
                f'background:#222;color:#888;display:flex;align-items:center;justify-content:center">no preview</div>')
    st_ = Path(path).stat()
    uri = _data_uri(str(path), st_.st_mtime_ns, st_.st_size)
    return (f'<img class="{css_class}" src="{uri}" title="{title}" alt="{title}" '
            f'style="width:{width}px;height:{width}px;max-width:100%;object-fit:contain;border-radius:4px"/>')


def show_preview(path: Path | None, caption: str = "", width: int = 160, css_class: str = "liandan-preview") -> None:
    st.markdown(preview_html(path, caption, width, css_class), unsafe_allow_html=True)


def render_preview(milk_text: str, kind: str, frames: int = 60, size: int = 128, timeout_s: float = 300.0
                   ) -> tuple[dict, Path]:
    """Render a preset in a subprocess into a scratch folder of the store named by the text's
    hash; returns its result (score, stats, error) and the folder (``preview.webp``,
    ``still.png``). Cached: the same text is rendered once."""
    data = milk_text.encode("latin-1", errors="replace")
    out_dir = store().scratch(kind, hashlib.sha1(data).hexdigest()[:16])
    result_path = out_dir / "result.json"
    if result_path.is_file() and (out_dir / "preview.webp").is_file():
        try:
            return json.loads(result_path.read_text()), out_dir
        except (OSError, json.JSONDecodeError):
            pass
    src = out_dir / "preset.milk"
    src.write_bytes(data)
    cmd = [sys.executable, "-m", "ui.render_preview", str(src), str(out_dir), "--frames", str(frames), "--size", str(size)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=REPO_ROOT,
                              env=dict(os.environ, LP_NUM_THREADS="0"))
    except subprocess.TimeoutExpired:
        return {"error": f"rendering took over {timeout_s:.0f} s"}, out_dir
    if done.returncode != 0 or not result_path.is_file():
        return {"error": (done.stderr or done.stdout or "renderer failed")[-2000:]}, out_dir
    return json.loads(result_path.read_text()), out_dir


def doctor_preset(milk_text: str, name: str, timeout_s: float = 300.0) -> tuple[dict, str | None, Path]:
    """The doctor's diagnosis of a preset (``liandan doctor --repair`` in a subprocess, into a store
    scratch folder named by the text's hash), and the repaired .milk text when a repair helped.
    Returns (the diagnosis as JSON, the repaired text or None, the folder); cached by content."""
    data = milk_text.encode("latin-1", errors="replace")
    out_dir = store().scratch("doctor", hashlib.sha1(data).hexdigest()[:16])
    result_path = out_dir / "doctor.json"
    src = out_dir / "in" / (Path(name).stem[:100] + ".milk")
    fixed = out_dir / "repaired" / src.name
    if not result_path.is_file():
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(data)
        cmd = [sys.executable, "-m", "ui.cli", "doctor", str(src), "--repair", "-o", str(out_dir / "repaired"),
               "--json", "--workers", "0"]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=REPO_ROOT,
                                  env=dict(os.environ, LP_NUM_THREADS="0"))
        except subprocess.TimeoutExpired:
            return {"error": f"the doctor took over {timeout_s:.0f} s"}, None, out_dir
        if done.returncode not in (0, 1) or not done.stdout.strip():
            return {"error": (done.stderr or done.stdout or "the doctor failed")[-2000:]}, None, out_dir
        result_path.write_text(done.stdout)
    try:
        doc = json.loads(result_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return {"error": f"unreadable doctor output: {exc}"}, None, out_dir
    repaired = fixed.read_text(encoding="latin-1") if fixed.is_file() else None
    return doc, repaired, out_dir


def run_ids() -> list[str]:
    """Readable runs, newest first (the one a person most likely wants to vote on)."""
    ok = [s for s in store().list_runs() if not s.status.startswith("corrupt")]
    return [s.id for s in sorted(ok, key=lambda s: (s.created, s.id), reverse=True)]


def pick_run(label: str = "Run", key: str = "run") -> Run | None:
    """A run chooser in the sidebar (newest first); None, with a message, when there are none."""
    ids = run_ids()
    if not ids:
        st.info(f"No runs in {runs_dir()} yet: start one on the Runs page, or run `liandan demo`.")
        return None
    wanted = st.query_params.get("run")
    index = ids.index(wanted) if wanted in ids else 0
    run_id = st.sidebar.selectbox(label, ids, index=index, key=key)
    try:
        return store().open(run_id)
    except StoreError as exc:
        st.error(str(exc))
        return None


def start_run(name: str, overrides: dict, note: str = "") -> str | None:
    """Create run ``name`` from the default config with ``overrides`` and launch it as a
    ``liandan evolve`` subprocess; says on the page what happened. The run id, or None."""
    from evo.config import ConfigError, load_config
    from evo.driver import create_run
    from evo.fitness.candidate import audio_notes

    try:
        config = load_config(None, overrides)
        notes = audio_notes(config.eval_settings)
        run = create_run(config, store(), name)
    except (ConfigError, StoreError, FileNotFoundError, ValueError) as exc:  # ValueError: unreadable music
        st.error(str(exc))
        return None
    for line in notes:
        st.warning(line)
    pid = run.launch("evolve")
    st.success(f"started run {name} (pid {pid}){note}")
    return run.id
