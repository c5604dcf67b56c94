"""One preset in full: animation, parameters, code, statistics, votes and a download.

The preset comes from a run (its stored preview and statistics; ``?run=R&ind=ID`` opens one
individual, as the Archive page's squares do, and it can be voted on here) or from an upload
(rendered by a subprocess with the engine's own evaluation, so the numbers mean the same as in
a run). An upload is also diagnosed by the preset doctor, with a repaired copy to download when
a repair helped.
"""

from __future__ import annotations

import json

import streamlit as st

from evo.preset_view import view_milk
from evo.selection import VoteSummary
from evo.store import StoreError
from ui.app_pages.vote import VOTE_LABELS, vote_buttons
from ui.common import doctor_preset, pick_run, render_preview, show_preview, voter_name


def page() -> None:
    st.title("Preset")
    source = st.radio("Preset from", ["a run", "upload"], horizontal=True, key="preset_src")
    if source == "upload":
        _uploaded()
    else:
        _from_run()


def _from_run() -> None:
    run = pick_run(key="preset_run")
    if run is None:
        return
    try:
        generations = run.generations()
        if not generations:
            st.info("No generation yet.")
            return
        wanted = st.query_params.get("ind")
        try:
            start = generations.index(run.generation_of(wanted)) if wanted else len(generations) - 1
        except StoreError:
            start = len(generations) - 1
        gen = st.selectbox("Generation", generations, index=start, key=f"preset_gen_{run.id}")
        ids = [i.id for i in run.load_generation(gen)]
        ind_id = st.selectbox("Individual", ids, index=ids.index(wanted) if wanted in ids else 0,
                              key=f"preset_ind_{run.id}_{gen}")
        ind = run.individual(ind_id)
    except StoreError as exc:
        st.error(str(exc))
        return
    milk = run.preset_path(ind.id)
    text = milk.read_text(encoding="latin-1") if milk.is_file() else ""
    own = run.vote_summary(ind.generation).get(ind.id, VoteSummary())
    st.caption(f"operator: {ind.operator or 'seed'} · parents: {', '.join(ind.parents) or '—'}"
               f" · votes: likes {own.likes}, dislikes {own.dislikes},"
               f" best {own.best}" + _genome_votes_note(run, ind, own))
    _vote_here(run, ind)
    _show(ind.id, text, run.preview_path(ind.id), ind.score, ind.error, ind.stats)
    if ind.descriptors:
        st.caption("descriptors: " + " · ".join(f"{k} {v:.2f}" for k, v in ind.descriptors.items()))
    with st.expander("Genome (JSON)"):
        st.code(json.dumps(ind.genome, indent=1)[:200_000], language="json")


def _vote_here(run, ind) -> None:
    """Like, dislike and best-of-batch for this individual, as on the Vote page."""
    for key, show in (("last_vote", st.success), ("vote_error", st.error)):
        if st.session_state.get(key):
            show(st.session_state.pop(key))
    voter = voter_name()
    if not voter:
        st.caption("Type your name in the sidebar to vote on this preset.")
    mine = [v for v in run.votes(ind.generation) if v.voter == voter and v.ind_id == ind.id] if voter else []
    if mine:
        st.caption(f"your vote: {VOTE_LABELS.get((mine[-1].value, mine[-1].best), mine[-1].value)}")
    vote_buttons(run, ind.id, voter, key_prefix="preset_")


def _genome_votes_note(run, ind, own: VoteSummary) -> str:
    """Votes on every copy of this look (what selection uses, evo.votes) when they differ from this card's."""
    try:
        gs = run.genome_votes()[0].get(ind.genome_id or ind.id)
    except StoreError:
        return ""
    note = ""
    if gs and (gs.likes, gs.dislikes, gs.best) != (own.likes, own.dislikes, own.best):
        note = f" · all copies of this look: likes {gs.likes}, dislikes {gs.dislikes}, best {gs.best}"
    if ind.score is not None and not ind.error:
        note += f" · combined score {run.vote_rule().combined(ind.score, gs):.3f}"
    return note


def _uploaded() -> None:
    f = st.file_uploader(".milk file", type=["milk"], key="preset_upload")
    if f is None:
        st.info("Upload a .milk file to see it.")
        return
    text = f.getvalue().decode("latin-1")
    with st.spinner("rendering…"):
        result, folder = render_preview(text, "preset")
    _show(f.name, text, folder / "preview.webp", result.get("score"), result.get("error"), result.get("stats") or {})
    _diagnosis(f.name, text)


_SEVERITY_ICON = {"error": "🔴", "warning": "🟡", "info": "🔵"}


def _diagnosis(name: str, text: str) -> None:
    """The preset doctor on an uploaded preset: its findings and, when a repair helped, the
    repaired file with what changed (``liandan doctor --repair``, run in a subprocess)."""
    st.subheader("Doctor")
    with st.spinner("diagnosing…"):
        doc, repaired, _ = doctor_preset(text, name)
    if doc.get("error"):
        st.error(doc["error"])
        return
    diag = (doc.get("diagnoses") or [{}])[0]
    findings = diag.get("findings") or []
    if not findings:
        st.success("Nothing wrong found: it parses, compiles, renders and moves.")
    for f in findings:
        where = f" (line {f['line']})" if f.get("line") else ""
        fix = f" — repair: {f['fix']}" if f.get("fix") else ""
        st.markdown(f"{_SEVERITY_ICON.get(f['severity'], '')} **{f['severity']}**{where}: {f['message']}{fix}")
    repair = (doc.get("repairs") or [{}])[0]
    if repaired is not None:
        changes = repair.get("changes") or []
        st.success(f"Repaired: {len(changes)} change(s), verified by rendering again.")
        st.dataframe({"change": [c["action"] for c in changes], "target": [c["target"] for c in changes],
                      "before": [c["before"] for c in changes], "after": [c["after"] for c in changes],
                      "why": [c["why"] for c in changes]}, hide_index=True, key="doctor_changes")
        st.download_button("Download the repaired .milk", repaired.encode("latin-1", "replace"),
                           file_name=f"{name.removesuffix('.milk')} (repaired).milk", mime="text/plain",
                           key="doctor_download")
    elif repair.get("verdict") == "not_helped":
        st.warning("No repair helped: every candidate rendered no better, so nothing was written.")


def _show(name: str, text: str, preview, score, error, stats: dict) -> None:
    view = view_milk(text, name) if text else None
    if view is not None and view.error:
        st.error(view.error)
        view = None
    left, right = st.columns([1, 2])
    with left:
        show_preview(preview, caption=name, width=256)
        if text:
            st.download_button("Download .milk", text.encode("latin-1", "replace"),
                               file_name=f"{name.removesuffix('.milk')}.milk", mime="text/plain", key="preset_download")
    with right:
        st.metric("machine score", "error" if error else ("–" if score is None else f"{score:.4f}"))
        if error:
            st.error(error)
        st.subheader("Parameters")
        if view is not None:
            if view.parameters:
                st.dataframe(view.parameters, hide_index=True, key="preset_params")
            else:
                st.caption("all parameters at MilkDrop's defaults")
            st.caption(f"{view.waves} custom waves · {view.shapes} custom shapes · "
                       f"shaders: {'yes' if view.has_shaders else 'no'}")
        st.subheader("Statistics")
        if stats:
            st.dataframe({"statistic": list(stats),
                          "value": [round(float(v), 5) if isinstance(v, (int, float)) else str(v) for v in stats.values()]},
                         hide_index=True)
        else:
            st.caption("no statistics")
    if view is not None:
        st.subheader("Code")
        if not view.code:
            st.caption("no equations")
        for section, code in view.code:
            with st.expander(section):
                st.code(code, language="c")
        for stage, label in (("warp", "warp shader"), ("comp", "composite shader")):
            if stage in view.shaders:
                with st.expander(label):
                    st.code(view.shaders[stage], language="hlsl")
    if text:
        with st.expander("Preset text"):
            st.code(text, language="ini")
