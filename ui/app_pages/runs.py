"""Runs: list, start, resume, stop, follow progress, trace lineage and branch from an individual.

Runs are started and resumed as ``liandan`` subprocesses, so closing the browser never stops a
run and the Streamlit process never renders.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import streamlit as st

from evo.driver import branch_run
from evo.store import Run, StoreError
from ui.common import pick_run, runs_dir, show_preview, start_run, store

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def page() -> None:
    st.title("Runs")
    _run_table()
    run = pick_run(key="runs_run")
    if run is not None:
        st.divider()
        _progress(run)
        st.divider()
        _lineage_view(run)
    st.divider()
    _new_run_form()


def _run_table() -> None:
    summaries = store().list_runs()
    if not summaries:
        st.info(f"No runs in {runs_dir()} yet: start one below, or run `liandan demo`.")
        return
    st.dataframe(
        {
            "run": [s.id for s in summaries],
            "status": [s.status for s in summaries],
            "generations done": [f"{s.generation + 1}/{s.n_generations}" for s in summaries],
            "best score": [None if s.best_score is None else round(s.best_score, 4) for s in summaries],
            "created": [s.created for s in summaries],
        },
        hide_index=True,
    )


def _progress(run: Run) -> None:
    status = run.status
    st.subheader(f"{run.id} — {status}")
    state = run.state
    if state.get("problem"):
        st.warning(f"{state['problem']}: Resume rebuilds it from the checkpoints")
    for note in state.get("notes") or []:
        st.warning(str(note))
    c1, c2, c3 = st.columns(3)
    if status == "stopped" and c1.button("Resume", key=f"resume_{run.id}", type="primary"):
        pid = run.launch("resume")
        st.success(f"resumed {run.id} (pid {pid})")
    if status in ("running", "waiting_votes") and c1.button("Stop", key=f"stop_{run.id}",
                                                           help="SIGTERM: the run saves its state as 'stopped'"):
        try:
            pid = run.stop()
            st.success(f"asked {run.id} (pid {pid}) to stop; resume it any time")
        except (StoreError, OSError) as exc:
            st.error(f"cannot stop {run.id}: {exc}")
    c2.button("Refresh", key="runs_refresh")
    try:
        logbook = run.logbook()
        hof = run.hall_of_fame()
    except StoreError as exc:
        st.error(str(exc))
        return
    if logbook:
        last = logbook[-1]
        c3.metric("best score so far", f"{max(r.get('best', 0.0) for r in logbook):.4f}",
                  delta=f"mean {last.get('mean', 0.0):.4f} in gen {last.get('gen')}", delta_color="off")
        st.line_chart({"best": [r.get("best") for r in logbook], "mean": [r.get("mean") for r in logbook]},
                      x_label="generation", y_label="machine score", height=200)
    if hof:
        st.caption("Hall of fame (best distinct presets so far)")
        cols = st.columns(min(len(hof), 6))
        for i, ind in enumerate(hof[:12]):
            with cols[i % len(cols)]:
                show_preview(run.preview_path(ind.id), caption=ind.id, width=110)
                st.caption(f"`{ind.id}` {ind.score:.3f}")
    for what in ("evolve", "resume"):
        log = store().log_path(run.id, what)
        if log.is_file():
            with st.expander(f"{what} log"):
                st.code(log.read_text(errors="replace")[-4000:] or "(empty)")


def _lineage_view(run: Run) -> None:
    st.subheader("Lineage")
    generations = run.generations()
    if not generations:
        st.caption("no generation yet")
        return
    c1, c2 = st.columns(2)
    gen = c1.selectbox("Generation", generations, index=len(generations) - 1, key=f"lineage_gen_{run.id}")
    ids = [i.id for i in run.load_generation(gen)]
    ind_id = c2.selectbox("Individual", ids, key=f"lineage_ind_{run.id}_{gen}")
    _draw_tree(run, run.lineage(ind_id, depth=2))
    _branch_form(run, ind_id)


def _draw_tree(run: Run, node: dict) -> None:
    """Picbreeder-style: the individual, then its parents, then theirs, one row per generation back."""
    rows: list[list[dict]] = [[node]]
    while len(rows) < 3:
        nxt = [p for n in rows[-1] for p in n.get("parents", []) if isinstance(p, dict)]
        if not nxt:
            break
        rows.append(nxt)
    for depth, row in enumerate(rows):
        st.caption(["individual", "parents", "grandparents"][depth])
        cols = st.columns(max(len(row), 1))
        for col, n in zip(cols, row):
            with col:
                external = n.get("operator") == "external"
                if external:
                    st.caption(f"seed / outside: `{n['id']}`")
                    continue
                show_preview(run.still_path(n["id"]), caption=n["id"], width=96, css_class="liandan-lineage")
                score = n.get("score")
                st.caption(f"`{n['id']}` {n.get('operator') or 'seed'}"
                           + (f" · {score:.3f}" if isinstance(score, (int, float)) else ""))


def _branch_form(run: Run, ind_id: str) -> None:
    with st.form(f"branch_{run.id}"):
        st.markdown(f"**Branch a new run from `{ind_id}`**: its first population is this individual and mutants of it.")
        c1, c2, c3 = st.columns(3)
        name = c1.text_input("New run name", value=f"{run.id}-from-{ind_id}"[:120])
        population = c2.number_input("Population", 2, 512, int(run.config.get("run", {}).get("population", 12)))
        generations = c3.number_input("Generations", 1, 1000, int(run.config.get("run", {}).get("generations", 5)))
        go = st.form_submit_button("Branch and start")
    if not go:
        return
    if not _NAME_RE.match(name) or store().exists(name):
        st.error(f"run name {name!r} is taken or not allowed (letters, digits, _ . -)")
        return
    try:
        new_id = branch_run(run.id, ind_id, store(), run_name=name, population=int(population),
                            generations=int(generations))
    except (StoreError, ValueError) as exc:
        st.error(str(exc))
        return
    pid = store().open(new_id).launch("resume")
    st.success(f"started {new_id} from {run.id}/{ind_id} (pid {pid})")


def _save_upload(f, folder: Path) -> Path:
    path = folder / Path(f.name).name
    path.write_bytes(f.getvalue())
    return path


def _new_run_form() -> None:
    st.subheader("Start a new run")
    # A default that changes every second would give the widget a new identity on each rerun and
    # throw away what the person typed; so the default is fixed once per session.
    st.session_state.setdefault("new_run_name", time.strftime("run-%Y%m%d-%H%M%S"))
    with st.form("new_run"):
        name = st.text_input("Run name", key="new_run_name")
        seeds_dir = st.text_input("Seed folder (blank: the projectM presets, else the built-in seeds)", value="")
        uploads = st.file_uploader("…or upload seed presets", type=["milk"], accept_multiple_files=True)
        c1, c2, c3 = st.columns(3)
        population = c1.number_input("Population", 3, 512, 12)
        generations = c2.number_input("Generations", 1, 1000, 5)
        seed = c3.number_input("Seed", 0, 2**31 - 1, 0)
        mode = st.radio("Mode", ["autonomous", "interactive"], horizontal=True,
                        help="interactive waits at each generation for votes (or a timeout)")
        c4, c5, c6 = st.columns(3)
        votes_needed = c4.number_input("Interactive: votes to wait for", 0, 10_000, 4)
        vote_timeout = c5.number_input("Interactive: timeout (s)", 1, 86_400, 300)
        workers = c6.number_input("Worker processes", 0, 64, 2, help="0 = render in the run's own process")
        audio = st.file_uploader("Music (optional; default is synthetic)", type=["wav", "flac", "ogg"])
        submitted = st.form_submit_button("Start", type="primary")
    if not submitted:
        return
    if not _NAME_RE.match(name):
        st.error(f"run name {name!r}: use letters, digits, _ . - (starting with a letter or digit)")
        return
    if store().exists(name):
        st.error(f"run {name} already exists: resume it above, or pick another name")
        return
    overrides = {"run.population": int(population), "run.generations": int(generations), "run.seed": int(seed),
                 "run.mode": mode, "evaluation.workers": int(workers)}
    if mode == "interactive":
        overrides.update({"run.votes_needed": int(votes_needed), "run.vote_timeout_s": float(vote_timeout)})
    if uploads:
        seeds = store().scratch("uploads", f"{name}-seeds")
        for f in uploads:
            _save_upload(f, seeds)
        overrides["seeds.dir"] = str(seeds.resolve())
    elif seeds_dir.strip():
        seeds = Path(seeds_dir.strip()).expanduser()
        if not seeds.is_dir():
            st.error(f"{seeds}: no such folder")
            return
        overrides["seeds.dir"] = str(seeds.resolve())
    if audio is not None:
        overrides["fitness.audio"] = str(_save_upload(audio, store().scratch("uploads", f"{name}-music")).resolve())
    start_run(name, overrides, "; its first generation appears on the Vote page when rendered")
