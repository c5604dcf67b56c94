"""The vote page: the newest generation as a grid of looping previews, one click per vote.

Each click is written to the run's SQLite vote store at once (no "submit" step that a closed tab
could lose); the engine reads the votes when it selects the next generation's parents, and this
page shows which individuals it picked and why.
"""

from __future__ import annotations

import streamlit as st

from evo.store import Run, StoreError
from ui.common import pick_run, show_preview, vote_settings, voter_name

COLUMNS = 4
# Text, not emoji: a browser without an emoji font (a fresh Debian box) shows emoji as boxes.
VOTE_LABELS = {(1, False): "like", (-1, False): "dislike", (1, True): "best of batch"}


def _vote(run: Run, ind_id: str, voter: str, value: int, best: bool = False) -> None:
    """Button callback: runs before the page redraws, so every tally on the page includes it.

    "Best of this batch" is one pick per voter: choosing a new best turns the voter's previous
    best in the same generation into a plain like.
    """
    try:
        if best:
            g = run.generation_of(ind_id)
            for other, last in _my_latest(run, g, voter).items():
                if last.best and other != ind_id:
                    run.add_vote(other, voter, +1, best=False)
        run.add_vote(ind_id, voter, value, best=best)
    except (StoreError, ValueError) as exc:
        st.session_state["vote_error"] = str(exc)
        return
    st.session_state["last_vote"] = f"{VOTE_LABELS[(value, best)]} saved for {ind_id} (voter {voter})"


def _my_latest(run: Run, generation: int, voter: str) -> dict:
    latest = {}
    for v in run.votes(generation):
        if v.voter == voter:
            latest[v.ind_id] = v
    return latest


def _combined(ind, summary, settings: dict) -> float | None:
    """What selection would use for this individual right now (same formula as the engine)."""
    if ind.error or ind.score is None:
        return None
    try:
        from evo.engine import combined_score
    except ImportError:  # engine not installed: show the machine score only
        return None
    return combined_score(ind.score, summary, None, settings["weight"], settings["best_bonus"], settings["predictor_weight"])


def page() -> None:
    st.title("Vote")
    voter = voter_name()
    run = pick_run()
    if run is None:
        return
    if st.sidebar.button("Refresh", help="reload the run (new generations, other people's votes)"):
        st.rerun()
    try:
        generations = run.generations()
        if not generations:
            st.info(f"Run {run.id} has no finished generation yet ({run.status}); press Refresh in a moment.")
            return
        gen = generations[-1]
        individuals = run.load_generation(gen)
        summary = run.vote_summary(gen)
        votes_now = len(run.votes(gen))
        checkpoint = run.read_checkpoint(gen)
    except StoreError as exc:
        st.error(str(exc))
        return
    mode = run.config.get("run", {}).get("mode", run.config.get("mode", "autonomous"))
    state = run.state
    status = run.status
    st.caption(f"Run **{run.id}** · generation **{gen}** · {len(individuals)} individuals · status **{status}** · "
               f"mode **{mode}** · {votes_now} vote(s) on this generation")
    _status_note(run, gen, status, state, votes_now, bool(checkpoint.get("next")))
    for key, show in (("last_vote", st.success), ("vote_error", st.error)):
        if st.session_state.get(key):
            show(st.session_state.pop(key))
    if not voter:
        st.warning("Type your name in the sidebar to vote.")
    _grid(run, individuals, summary, voter)
    _show_parents(run, gen, generations)
    _formula_help(run)
    if status in ("running", "waiting_votes"):
        _follow(run.id, gen, status)


@st.fragment(run_every=3.0)
def _follow(run_id: str, gen: int, status: str) -> None:
    """While the run is alive, redraw the page when a generation lands or the run's state changes
    (cheap: two small file reads every few seconds, only while this page is open)."""
    from ui.common import store

    try:
        run = store().open(run_id)
        changed = (run.generations() or [-1])[-1] != gen or run.status != status
    except StoreError:
        return
    if changed:
        st.rerun()


def _status_note(run: Run, gen: int, status: str, state: dict, votes_now: int, selected: bool) -> None:
    if status == "waiting_votes":
        need = int(state.get("votes_needed") or run.config.get("run", {}).get("votes_needed", 0))
        timeout = run.config.get("run", {}).get("vote_timeout_s")
        st.info(f"The run is waiting for your votes: {votes_now} of {need} so far"
                + (f" (or it goes on after {float(timeout):.0f} s)" if timeout else "")
                + ". Parents are chosen as soon as enough votes are in.")
        if need:
            st.progress(min(1.0, votes_now / need))
    elif selected:
        st.info("Parents for the next generation were already chosen from this one (see below); votes cast now "
                "still count for `liandan export` and show in the tallies.")


def _grid(run: Run, individuals: list, summary: dict, voter: str) -> None:
    settings = vote_settings(run)
    mine = _my_latest(run, individuals[0].generation, voter) if voter and individuals else {}
    st.markdown(f'<div class="liandan-grid" data-count="{len(individuals)}"></div>', unsafe_allow_html=True)
    for start in range(0, len(individuals), COLUMNS):
        cols = st.columns(COLUMNS)
        for col, ind in zip(cols, individuals[start : start + COLUMNS]):
            with col, st.container(border=True):
                show_preview(run.preview_path(ind.id), caption=ind.id)
                s = summary.get(ind.id)
                tally = f"likes {s.likes} · dislikes {s.dislikes} · best {s.best}" if s else "no votes yet"
                score = "error" if ind.error else ("–" if ind.score is None else f"{ind.score:.3f}")
                combined = _combined(ind, s, settings)
                extra = "" if combined is None else f" · combined {combined:.3f}"
                st.caption(f"`{ind.id}` · machine {score}{extra}  \n{tally}")
                if ind.error:
                    st.caption(f"error: {ind.error[:120]}")
                if ind.id in mine:
                    last = mine[ind.id]
                    st.caption(f"your vote: {VOTE_LABELS.get((last.value, last.best), last.value)}")
                b1, b2, b3 = st.columns(3, gap="small")
                disabled = not voter
                b1.button("", icon=":material/thumb_up:", key=f"like_{ind.id}", disabled=disabled, help="like",
                          on_click=_vote, args=(run, ind.id, voter, +1), width="stretch")
                b2.button("", icon=":material/thumb_down:", key=f"dislike_{ind.id}", disabled=disabled,
                          help="dislike", on_click=_vote, args=(run, ind.id, voter, -1), width="stretch")
                b3.button("", icon=":material/star:", key=f"best_{ind.id}", disabled=disabled,
                          help="best of this batch", on_click=_vote, args=(run, ind.id, voter, +1, True),
                          width="stretch")


def _show_parents(run: Run, gen: int, generations: list[int]) -> None:
    """Parents picked from the newest generation (if selection ran) and those that made it."""
    for g, title in ((gen, f"Chosen as parents of generation {gen + 1}"),
                     (gen - 1, f"How generation {gen} was made: parents chosen from generation {gen - 1}")):
        if g not in generations:
            continue
        try:
            chosen = run.parents_of_next(g)
            votes_used = (run.read_checkpoint(g).get("next") or {}).get("votes_used") or {}
        except StoreError as exc:
            st.error(str(exc))
            continue
        if not chosen:
            continue
        st.subheader(title)
        st.markdown(f'<div class="liandan-parents" data-generation="{g}" data-count="{len(chosen)}"></div>',
                    unsafe_allow_html=True)
        cols = st.columns(min(len(chosen), 6))
        for i, entry in enumerate(chosen):
            with cols[i % len(cols)]:
                show_preview(run.still_path(entry["id"]), caption=entry["id"], width=96, css_class="liandan-parent")
                used = votes_used.get(entry["id"])
                votes = f" · votes +{used['likes']} −{used['dislikes']} best {used['best']}" if used else ""
                st.caption(f"`{entry['id']}`{votes} — {entry.get('reason', '')}")


def _formula_help(run: Run) -> None:
    s = vote_settings(run)
    with st.expander("How votes change selection"):
        st.markdown(
            f"Selection ranks individuals by a **combined score** (see `evo.engine.combined_score`):\n\n"
            f"`combined = machine + {s['weight']:g} × (likes − dislikes + {s['best_bonus']:g} × best) / (likes + dislikes)`\n\n"
            "Each voter's latest vote on an individual counts once. The best few by combined score are kept "
            "as elites; the other parents win tournaments on the combined score. In **interactive** runs the "
            "engine waits at each generation for the configured number of votes (or a timeout); in "
            "**autonomous** runs it uses the votes already cast when it selects."
        )
