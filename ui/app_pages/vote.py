"""The vote page: the newest generation as a grid of looping previews, one click per vote (for a
quality-diversity run: the elites that entered its archive last).

Each click is written to the run's SQLite vote store at once (no "submit" step that a closed tab
could lose); the engine reads the votes when it selects the next generation's parents, and this
page shows which individuals it picked, which it left out, and why. Votes belong to a *genome*
(evo.votes): a card's combined score counts the votes on every copy of its look, so an elite copy
shows the votes its ancestor earned.

Once there is a taste model (evo.predictor), each card shows its predicted P(liked) and why it is
shown (pre-screening kept it as promising, or as one the model is unsure of), and the grid puts
the looks the model is least sure about first: a vote on them teaches it most, and people tire
after a few dozen votes (evo.predictor.taste.vote_order).
"""

from __future__ import annotations

import streamlit as st

from evo.predictor.taste import TasteView, taste_view, vote_order
from evo.predictor.use import PROMISING
from evo.store import Run, StoreError
from evo.selection import VoteRule, VoteSummary, describe_votes
from ui.common import pick_run, show_preview, voter_name

COLUMNS = 4
# Text, not emoji: a browser without an emoji font (a fresh Debian box) shows emoji as boxes.
VOTE_LABELS = {(1, False): "like", (-1, False): "dislike", (1, True): "best of batch"}


def _vote(run: Run, ind_id: str, voter: str, value: int, best: bool = False) -> None:
    """Button callback: runs before the page redraws, so every tally on the page includes it.
    The store applies the one-best-per-voter rule."""
    try:
        run.cast_vote(ind_id, voter, value, best=best)
    except (StoreError, ValueError) as exc:
        st.session_state["vote_error"] = str(exc)
        return
    st.session_state["last_vote"] = f"{VOTE_LABELS[(value, best)]} saved for {ind_id} (voter {voter})"


def _my_latest(run: Run, generations: set[int], voter: str) -> dict:
    latest = {}
    for g in sorted(generations):
        for v in run.votes(g):
            if v.voter == voter:
                latest[v.ind_id] = v
    return latest


def _genome_key(ind) -> str:
    """The key genome_votes files an individual's votes under (its own id when it has no genome id)."""
    return ind.genome_id or ind.id


def _combined(ind, genome_summary: VoteSummary | None, rule: VoteRule) -> float | None:
    """What selection would use for this individual right now: the engine's formula on the votes
    of every copy of its genome (``run.genome_votes()``)."""
    if ind.error or ind.score is None:
        return None
    return rule.combined(ind.score, genome_summary)


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
        checkpoint = run.read_checkpoint(gen)
        if run.is_qd:
            population = int(run.config.get("run", {}).get("population", 12))
            individuals = run.newest_elites(population)
            summary = {}
            for g in sorted({i.generation for i in individuals}):
                summary.update(run.vote_summary(g))
            since = checkpoint.next.vote_cutoff if checkpoint.next is not None else (
                checkpoint.archive.vote_cutoff if checkpoint.archive is not None else 0)
            votes_now = run.vote_count_since(since)
        else:
            individuals = run.load_generation(gen)
            summary = run.vote_summary(gen)
            votes_now = run.vote_count(gen)
        by_genome = run.genome_votes()[0]  # once per render: every card reads from it
    except StoreError as exc:
        st.error(str(exc))
        return
    mode = run.config.get("run", {}).get("mode", run.config.get("mode", "autonomous"))
    state = run.state
    status = run.status
    if run.is_qd:
        a = checkpoint.archive
        filled = f" · archive {len(a.elites)} of {a.cells} cells" if a is not None else ""
        st.caption(f"Run **{run.id}** (quality diversity) · batch **{gen}** · the {len(individuals)} newest elites"
                   f"{filled} · status **{status}** · mode **{mode}** · {votes_now} vote(s) since the last selection")
    else:
        st.caption(f"Run **{run.id}** · generation **{gen}** · {len(individuals)} individuals · status **{status}** · "
                   f"mode **{mode}** · {votes_now} vote(s) on this generation")
    _status_note(run, gen, status, state, votes_now, checkpoint.next is not None)
    for key, show in (("last_vote", st.success), ("vote_error", st.error)):
        if st.session_state.get(key):
            show(st.session_state.pop(key))
    if not voter:
        st.warning("Type your name in the sidebar to vote.")
    taste = taste_view(run)
    liked = taste.liked(individuals)
    _taste_note(taste, bool(liked))
    _grid(run, vote_order(individuals, liked), summary, by_genome, voter, liked)
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
                + ". Each person's latest vote on a preset counts once; parents are chosen as soon as "
                  "enough votes are in.")
        if need:
            st.progress(min(1.0, votes_now / need))
    elif selected:
        st.info(f"Parents for generation {gen + 1} were already chosen from this one (see below). Votes cast now "
                f"shape the parents of generation {gen + 2}: liked ones re-enter the parent pool, disliked ones "
                "are left out. They also count for `liandan export` and show in the tallies.")


def _tally(s: VoteSummary | None) -> str:
    return f"likes {s.likes} · dislikes {s.dislikes} · best {s.best}" if s else "no votes yet"


def _taste_note(taste: TasteView, ordered: bool) -> None:
    st.caption(taste.quality() + (" · the grid shows the looks it is least sure about first, then the "
                                  "most promising" if ordered else ""))
    st.markdown(f'<div class="liandan-taste" data-model="{int(taste.look is not None)}"></div>',
                unsafe_allow_html=True)


def _why_shown(ind, p: float | None) -> str:
    """P(liked) now and why pre-screening kept this child (when it ran)."""
    parts = [] if p is None else [f"P(liked) {p:.2f}"]
    if ind.shown:
        then = "" if ind.predicted is None else f" (P {ind.predicted:.2f} from its genome)"
        parts.append(("shown as promising" if ind.shown == PROMISING else "shown to learn: the model was unsure")
                     + then)
    return " · ".join(parts)


def _grid(run: Run, individuals: list, summary: dict, by_genome: dict, voter: str,
          liked: dict[str, float] | None = None) -> None:
    liked = liked or {}
    rule = run.vote_rule()
    mine = _my_latest(run, {i.generation for i in individuals}, voter) if voter and individuals else {}
    st.markdown(f'<div class="liandan-grid" data-count="{len(individuals)}"></div>', unsafe_allow_html=True)
    for start in range(0, len(individuals), COLUMNS):
        cols = st.columns(COLUMNS)
        for col, ind in zip(cols, individuals[start : start + COLUMNS]):
            with col, st.container(border=True):
                show_preview(run.preview_path(ind.id), caption=ind.id)
                s, gs = summary.get(ind.id), by_genome.get(_genome_key(ind))
                tally = _tally(s)
                if gs and (s is None or (gs.likes, gs.dislikes, gs.best) != (s.likes, s.dislikes, s.best)):
                    tally += f"  \nwith earlier copies of this look: {_tally(gs)}"
                if rule.disliked(gs):
                    tally += "  \n**not a parent** while dislikes outnumber likes"
                score = "error" if ind.error else ("–" if ind.score is None else f"{ind.score:.3f}")
                combined = _combined(ind, gs, rule)
                extra = "" if combined is None else f" · combined {combined:.3f}"
                st.caption(f"`{ind.id}` · machine {score}{extra}  \n{tally}")
                why = _why_shown(ind, liked.get(ind.id))
                if why:
                    st.caption(why)
                if ind.error:
                    st.caption(f"error: {ind.error[:120]}")
                if ind.id in mine:
                    last = mine[ind.id]
                    st.caption(f"your vote: {VOTE_LABELS.get((last.value, last.best), last.value)}")
                vote_buttons(run, ind.id, voter)


def vote_buttons(run: Run, ind_id: str, voter: str, key_prefix: str = "") -> None:
    """Like, dislike and best-of-batch buttons for one individual (disabled without a voter name)."""
    b1, b2, b3 = st.columns(3, gap="small")
    disabled = not voter
    b1.button("", icon=":material/thumb_up:", key=f"{key_prefix}like_{ind_id}", disabled=disabled, help="like",
              on_click=_vote, args=(run, ind_id, voter, +1), width="stretch")
    b2.button("", icon=":material/thumb_down:", key=f"{key_prefix}dislike_{ind_id}", disabled=disabled,
              help="dislike", on_click=_vote, args=(run, ind_id, voter, -1), width="stretch")
    b3.button("", icon=":material/star:", key=f"{key_prefix}best_{ind_id}", disabled=disabled,
              help="best of this batch", on_click=_vote, args=(run, ind_id, voter, +1, True), width="stretch")


def _show_parents(run: Run, gen: int, generations: list[int]) -> None:
    """Parents picked from the newest generation (if selection ran) and those that made it, with the
    genomes votes kept out and the liked ones from earlier generations that re-entered."""
    for g, title in ((gen, f"Chosen as parents of generation {gen + 1}"),
                     (gen - 1, f"How generation {gen} was made: parents chosen from generation {gen - 1}")):
        if g not in generations:
            continue
        try:
            nxt = run.read_checkpoint(g).next
        except StoreError as exc:
            st.error(str(exc))
            continue
        chosen = [dict(p) for p in nxt.parents] if nxt is not None else []
        if not chosen:
            continue
        votes_used = nxt.votes_used
        excluded = [dict(e) for e in nxt.excluded]
        st.subheader(title)
        st.markdown(f'<div class="liandan-parents" data-generation="{g}" data-count="{len(chosen)}" '
                    f'data-excluded="{len(excluded)}"></div>', unsafe_allow_html=True)
        cols = st.columns(min(len(chosen), 6))
        for i, entry in enumerate(chosen):
            with cols[i % len(cols)]:
                show_preview(run.still_path(entry["id"]), caption=entry["id"], width=96, css_class="liandan-parent")
                st.caption(_parent_caption(entry, votes_used.get(entry["id"])))
        if excluded:
            _show_excluded(run, excluded)


def _parent_caption(entry: dict, used: dict | None) -> str:
    back = ""
    if entry.get("reentered"):
        where = entry.get("generation")
        back = f" · **re-entered** from generation {where}" if where is not None else " · **re-entered**"
    votes = f" · votes +{used['likes']} −{used['dislikes']} best {used['best']}" if used else ""
    return f"`{entry['id']}`{back}{votes} — {entry.get('reason', '')}"


def _show_excluded(run: Run, excluded: list[dict]) -> None:
    """Who votes kept out of the pool (or, when everyone was disliked, kept in anyway) and why."""
    st.markdown("**Left out by votes**" if any(str(e.get("reason", "")).startswith("excluded") for e in excluded)
                else "**Disliked, but kept** (everyone was disliked, so the machine score decided)")
    cols = st.columns(min(len(excluded), 6))
    for i, entry in enumerate(excluded):
        with cols[i % len(cols)]:
            show_preview(run.still_path(entry["id"]), caption=entry["id"], width=64, css_class="liandan-excluded")
            st.caption(f"`{entry['id']}` — {entry.get('reason', '')}")


def _formula_help(run: Run) -> None:
    """The formula of evo.votes with this run's parameters filled in, plus what they mean in practice."""
    r = run.vote_rule()
    ga = run.config.get("ga") if isinstance(run.config.get("ga"), dict) else {}
    elite, tsize = ga.get("elite", 2), ga.get("tournament_size", 3)

    def effect(**votes) -> str:
        part = r.weight * r.vote_value(VoteSummary(**votes))
        return f"{'+' if part >= 0 else '−'}{abs(part):.2f}"

    base = (f"base     = {1 - r.predictor_weight:g} × machine + {r.predictor_weight:g} × predictor\n"
            if r.predictor_weight > 0 else "base     = machine\n")
    with st.expander("How votes change selection"):
        st.markdown(
            "Votes belong to a **look** (a genome), not to one card: each voter's latest vote on any copy "
            "of a genome, in any generation, counts once, so an elite copy keeps the votes its ancestor got. "
            "With L likes, D dislikes and B best-of-batch picks (a best pick is also a like):\n\n"
            "```\n"
            f"rate     = (L + {r.prior:g}) / (L + D + {2 * r.prior:g})          like-rate with a Beta({r.prior:g}, {r.prior:g}) prior\n"
            f"vote     = (2 × rate − 1) + {r.best_bonus:g} × B / (B + {r.prior:g})\n"
            f"{base}"
            f"combined = base + {r.weight:g} × vote          (= machine score when nobody voted)\n"
            "```\n\n"
            f"Here one like adds {effect(likes=1)}, three likes {effect(likes=3)}, a dislike {effect(dislikes=1)}, "
            f"two likes and a dislike {effect(likes=2, dislikes=1)}, a best-of-batch pick {effect(likes=1, best=1)}.\n\n"
            "**Who may be a parent:** a genome with more dislikes than likes is left out (unless that would "
            f"leave nobody); up to {r.reentry} liked genomes from earlier generations that are no longer in "
            "the population re-enter with their stored machine score. The "
            f"{elite} best distinct genomes by combined score are kept as elites; the other parents win "
            f"tournaments of {tsize} candidates on the combined score.\n\n"
            "In **interactive** runs the engine waits at each generation for the configured number of votes "
            "(distinct voter and preset; or a timeout). In **autonomous** runs the previews of a generation "
            "appear while the engine already evaluates the next one, so votes on generation g shape the "
            "parents of generation g+2."
        )
