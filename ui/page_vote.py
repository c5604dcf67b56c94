"""The vote page: the newest generation as a grid of looping previews, one click per vote.

Each click is written to the run's SQLite vote store at once (no "submit" step that a closed tab
could lose); the engine reads the votes when it selects the next generation's parents.
"""

from __future__ import annotations

import streamlit as st

from ui.common import pick_run, show_preview, voter_name

COLUMNS = 4


def _vote(run, ind_id: str, voter: str, value: int, best: bool = False) -> None:
    run.add_vote(ind_id, voter, value, best=best)
    st.toast(f"{'best of batch' if best else ('like' if value > 0 else 'dislike')} saved for {ind_id}")


def page() -> None:
    st.title("Vote")
    voter = voter_name()
    run = pick_run()
    if run is None:
        return
    generations = run.generations()
    if not generations:
        st.info("This run has no finished generation yet; the page refreshes when you click.")
        return
    gen = generations[-1]
    st.caption(f"Run **{run.id}** · generation **{gen}** · status {run.status} · mode {run.config.get('mode', 'autonomous')}")
    if not voter:
        st.warning("Type your name in the sidebar to vote.")
    individuals = run.load_generation(gen)
    summary = run.vote_summary(gen)
    st.markdown(f'<div class="liandan-grid" data-count="{len(individuals)}"></div>', unsafe_allow_html=True)
    for start in range(0, len(individuals), COLUMNS):
        cols = st.columns(COLUMNS)
        for col, ind in zip(cols, individuals[start : start + COLUMNS]):
            with col:
                show_preview(run.preview_path(ind.id), caption=ind.id)
                s = summary.get(ind.id)
                tally = f"👍 {s.likes} · 👎 {s.dislikes} · ⭐ {s.best}" if s else "no votes"
                score = "error" if ind.error else f"{ind.score:.3f}"
                st.caption(f"`{ind.id}` · score {score} · {tally}")
                b1, b2, b3 = st.columns(3)
                disabled = not voter
                if b1.button("👍", key=f"like_{ind.id}", disabled=disabled, help="like"):
                    _vote(run, ind.id, voter, +1)
                if b2.button("👎", key=f"dislike_{ind.id}", disabled=disabled, help="dislike"):
                    _vote(run, ind.id, voter, -1)
                if b3.button("⭐", key=f"best_{ind.id}", disabled=disabled, help="best of this batch"):
                    _vote(run, ind.id, voter, +1, best=True)
    _show_parent_choice(run, generations)


def _show_parent_choice(run, generations: list[int]) -> None:
    """Which individuals became parents of the newest generation, and why."""
    if len(generations) < 2:
        return
    prev = generations[-2]
    chosen = run.parents_of_next(prev)
    if not chosen:
        return
    st.subheader(f"Parents chosen from generation {prev}")
    cols = st.columns(min(len(chosen), 6) or 1)
    for i, entry in enumerate(chosen):
        with cols[i % len(cols)]:
            show_preview(run.still_path(entry["id"]), caption=entry["id"], width=96)
            st.caption(f"`{entry['id']}` — {entry.get('reason', '')}")
