"""Runs: list, start, resume, follow progress, trace lineage and branch from an individual.

Runs are started and resumed as ``liandan`` subprocesses, so closing the browser never stops a
run and the Streamlit process never renders.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from ui.common import launch_background, runs_dir, show_preview, store


def page() -> None:
    st.title("Runs")
    _run_table()
    st.divider()
    _new_run_form()
    st.divider()
    _lineage_view()


def _run_table() -> None:
    summaries = store().list_runs()
    if not summaries:
        st.info(f"No runs in {runs_dir()} yet.")
        return
    st.dataframe(
        {
            "run": [s.id for s in summaries],
            "status": [s.status for s in summaries],
            "generation": [f"{s.generation}/{s.n_generations}" for s in summaries],
            "best score": [None if s.best_score is None else round(s.best_score, 4) for s in summaries],
            "created": [s.created for s in summaries],
        },
        hide_index=True,
    )
    for s in summaries:
        if s.status in ("stopped",) and st.button(f"Resume {s.id}", key=f"resume_{s.id}"):
            pid = launch_background("resume", s.id, "--runs-dir", str(runs_dir()), log_path=runs_dir() / s.id / "ui-resume.log")
            st.success(f"resumed {s.id} (pid {pid})")


def _save_uploads(files, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / Path(f.name).name).write_bytes(f.getvalue())
    return folder


def _new_run_form() -> None:
    st.subheader("Start a new run")
    with st.form("new_run"):
        name = st.text_input("Run name", value=time.strftime("run-%Y%m%d-%H%M%S"))
        seeds_dir = st.text_input("Seed folder (blank: the built-in default)", value="")
        uploads = st.file_uploader("…or upload seed presets", type=["milk"], accept_multiple_files=True)
        c1, c2, c3 = st.columns(3)
        population = c1.number_input("Population", 4, 512, 12)
        generations = c2.number_input("Generations", 1, 1000, 5)
        seed = c3.number_input("Seed", 0, 2**31 - 1, 0)
        mode = st.radio("Mode", ["autonomous", "interactive"], horizontal=True,
                        help="interactive waits at each generation for votes (or a timeout)")
        audio = st.file_uploader("Music (optional; default is synthetic)", type=["wav", "flac", "ogg", "mp3"])
        submitted = st.form_submit_button("Start")
    if not submitted:
        return
    args = ["evolve", "--run", name, "--runs-dir", str(runs_dir()), "--population", str(int(population)),
            "--generations", str(int(generations)), "--seed", str(int(seed)), "--mode", mode]
    staging = runs_dir() / "_uploads" / name
    if uploads:
        args += ["--seeds", str(_save_uploads(uploads, staging / "seeds"))]
    elif seeds_dir.strip():
        args += ["--seeds", seeds_dir.strip()]
    if audio is not None:
        path = staging / Path(audio.name).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(audio.getvalue())
        args += ["--audio", str(path)]
    pid = launch_background(*args, log_path=staging / "evolve.log")
    st.success(f"started run {name} (pid {pid}); it appears in the table once its first generation is saved")


def _lineage_view() -> None:
    st.subheader("Lineage")
    summaries = store().list_runs()
    if not summaries:
        return
    run_id = st.selectbox("Run", [s.id for s in summaries], key="lineage_run")
    run = store().open(run_id)
    generations = run.generations()
    if not generations:
        return
    gen = st.selectbox("Generation", generations, index=len(generations) - 1, key="lineage_gen")
    ids = [i.id for i in run.load_generation(gen)]
    ind_id = st.selectbox("Individual", ids, key="lineage_ind")
    tree = run.lineage(ind_id, depth=2)
    _draw_tree(run, tree)
    if st.button("Branch a new run from this individual", key="branch"):
        name = f"{run_id}-from-{ind_id}"
        pid = launch_background("evolve", "--branch", f"{run_id}:{ind_id}", "--run", name,
                                "--runs-dir", str(runs_dir()), log_path=runs_dir() / "_uploads" / name / "evolve.log")
        st.success(f"started {name} (pid {pid})")


def _draw_tree(run, node: dict, level: int = 0) -> None:
    """Picbreeder-style: the individual, then its parents, then theirs, one row per generation back."""
    rows: list[list[dict]] = [[node]]
    while rows[-1] and len(rows) < 4:
        nxt = [p for n in rows[-1] for p in n.get("parents", []) if isinstance(p, dict)]
        if not nxt:
            break
        rows.append(nxt)
    for depth, row in enumerate(rows):
        st.caption(["individual", "parents", "grandparents", "great-grandparents"][depth])
        cols = st.columns(max(len(row), 1))
        for col, n in zip(cols, row):
            with col:
                show_preview(run.still_path(n["id"]), caption=n["id"], width=96)
                st.caption(f"`{n['id']}` {n.get('operator') or 'seed'}")
