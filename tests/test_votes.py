"""Votes steer selection: the formula, votes by genome across generations, dislikes excluding,
liked genomes re-entering an autonomous run, the interactive wait counting people not clicks,
and selection replayed exactly from the votes a checkpoint recorded.

Engine tests cast votes from the progress callback at fixed points of the loop (never by
sleeping), so they are deterministic: "generation_start" of generation 1 is the moment an
autonomous run has already chosen generation 1's parents and people are looking at generation 0.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

import evo.driver as driver
from evo.checkpoint import Checkpoint, IndividualRecord
from evo.config import ConfigError, load_config
from evo.driver import replay_selection, resume_run, start_run
from evo.seeds import seed_paths
from evo.selection import ParentPool, VoteRule, VoteSummary, combined_score, describe_votes, ordinal
from evo.store import RunStore
from helpers import run_snapshot as snapshot
from helpers import tiny_config

def tiny(seeds_dir, **over):
    return tiny_config(seeds_dir, **over)


def as_json(x):
    return json.loads(json.dumps(x, sort_keys=True))


# ---------------------------------------------------------------- the formula


def test_bayesian_vote_value_worked_by_hand():
    rule = VoteRule()  # weight 1, best_bonus 2, prior 1
    assert rule.vote_value(None) == 0.0 and rule.vote_value(VoteSummary()) == 0.0
    assert rule.rate(VoteSummary(likes=1)) == pytest.approx(2 / 3)
    assert rule.vote_value(VoteSummary(likes=1)) == pytest.approx(1 / 3)
    assert rule.vote_value(VoteSummary(likes=3)) == pytest.approx(0.6)
    assert rule.vote_value(VoteSummary(likes=1, best=1)) == pytest.approx(1 / 3 + 1.0)  # + 2 * 1 / (1 + 1)
    assert rule.vote_value(VoteSummary(likes=2, best=2)) == pytest.approx(0.5 + 4 / 3)
    assert rule.vote_value(VoteSummary(dislikes=1)) == pytest.approx(-1 / 3)
    assert rule.vote_value(VoteSummary(likes=2, dislikes=1)) == pytest.approx(0.2)
    assert rule.disliked(VoteSummary(likes=1, dislikes=2)) and not rule.disliked(VoteSummary(likes=1, dislikes=1))
    assert rule.disliked(VoteSummary(likes=1, dislikes=2, best=1))  # a majority said no, whatever one person's pick
    # one voter's best pick makes up the whole machine range: the lowest healthy score (0.01) with
    # it beats the highest (1.0) with that voter's plain like
    assert rule.combined(0.01, VoteSummary(likes=1, best=1)) > rule.combined(1.0, VoteSummary(likes=1))
    assert rule.liked(VoteSummary(likes=1)) and not rule.liked(VoteSummary(likes=1, dislikes=1))
    # a stronger prior needs more evidence to move
    assert VoteRule(prior=5.0).vote_value(VoteSummary(likes=1)) == pytest.approx(1 / 11)
    assert combined_score(0.5, VoteSummary(likes=1), vote_weight=0.3) == pytest.approx(0.6)
    assert combined_score(0.5, None, predictor=0.9, predictor_weight=0.25) == pytest.approx(0.6)
    assert VoteRule.from_config({"weight": 2, "best_bonus": None}) == VoteRule(weight=2.0)
    assert VoteRule.from_config(load_config().votes) == VoteRule()
    with pytest.raises(ConfigError, match="votes.prior"):
        load_config(None, {"votes.prior": 0.0})
    with pytest.raises(ConfigError, match="votes.reentry"):
        load_config(None, {"votes.reentry": -1})


def test_reason_words():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22)] == [
        "best", "2nd best", "3rd best", "4th best", "11th best", "12th best", "13th best", "21st best", "22nd best"]
    assert describe_votes(VoteSummary(likes=1)) == "1 like"
    assert describe_votes(VoteSummary(likes=2, dislikes=1, best=1)) == "2 likes, 1 dislike, 1 best-of-batch pick"
    assert VoteRule().explain(0.51, VoteSummary(likes=1)) == "machine 0.51 + 0.33 from 1 like"
    assert VoteRule().explain(0.51, VoteSummary(dislikes=1)) == "machine 0.51 - 0.33 from 1 dislike"
    assert VoteRule().explain(0.51, None) == "machine 0.51, no votes"


# ---------------------------------------------------------------- the parent pool


def member(i: str, score: float, gid: str | None = None, generation: int = 1, error: str | None = None):
    return SimpleNamespace(id=i, score=score, genome_id=gid or f"gid-{i}", generation=generation, error=error)


def test_pool_liked_underdog_becomes_elite_and_disliked_never_competes():
    members = [member("a", 0.9), member("b", 0.7), member("c", 0.2), member("d", 0.6), member("e", 0.5)]
    votes = {"gid-c": VoteSummary(likes=2, best=1), "gid-a": VoteSummary(dislikes=1)}
    pool = ParentPool.build(members, [], votes, VoteRule())
    assert [c.member.id for c in pool.candidates] == ["b", "c", "d", "e"]
    assert pool.excluded == [{"id": "a", "reason": "excluded: disliked (1 dislike)"}]
    (elite,) = pool.elites(1)
    assert elite.member.id == "c"  # 0.2 + (2 * 3 / 4 - 1) + 2 * 1 / 2 = 1.7
    py = random.Random(0)
    winners = {pool.tournament(py, 3).member.id for _ in range(200)}
    assert "a" not in winners and {"b", "c"} <= winners
    reasons = {r["id"]: r["reason"] for r in pool.reasons()}
    assert reasons["c"].startswith("elite #1: best combined score 1.70 (machine 0.20 + 1.50 from 2 likes, 1 best-of-batch pick)")
    assert all("itself" not in r for r in reasons.values())
    for pid, r in reasons.items():
        if pid != "c":
            assert r.startswith("tournament winner") and " vs " in r and pid not in r.split(":")[0].split(" vs ")[1]


def test_pool_re_entry_of_liked_earlier_genomes():
    members = [member("g2-a", 0.8, generation=2), member("g2-b", 0.7, "gid-shared", generation=2)]
    archive = [member("g0-x", 0.3, generation=0), member("g1-y", 0.3, generation=1),
               member("g1-z", 0.9, generation=1), member("g1-w", 0.4, "gid-shared", generation=1),
               member("g0-bad", 0.0, generation=0, error="timeout"), member("g1-v", 0.5, generation=1)]
    votes = {"gid-g0-x": VoteSummary(likes=3), "gid-g1-y": VoteSummary(likes=1), "gid-g1-z": VoteSummary(dislikes=2),
             "gid-shared": VoteSummary(likes=5), "gid-g0-bad": VoteSummary(likes=9), "gid-g1-v": VoteSummary(likes=1)}
    pool = ParentPool.build(members, archive, votes, VoteRule(reentry=2))
    ids = [c.member.id for c in pool.candidates]
    # current first; then the two best liked earlier genomes (not disliked z, not the errored one,
    # not w whose genome is already here as g2-b and carries its votes)
    assert ids == ["g2-a", "g2-b", "g0-x", "g1-v"]
    assert [c.reentered for c in pool.candidates] == [False, False, True, True]
    assert pool.candidates[1].votes == VoteSummary(likes=5)
    assert [c.member.id for c in pool.elites(2)] == ["g2-b", "g0-x"]
    reasons = {r["id"]: r for r in pool.reasons()}
    assert reasons["g0-x"]["reason"].startswith("re-entered from generation 0 on votes; elite #2: 2nd best combined score")
    assert reasons["g0-x"]["reentered"] and reasons["g0-x"]["generation"] == 0
    assert ParentPool.build(members, archive, votes, VoteRule(reentry=0)).candidates[-1].member.id == "g2-b"


def test_pool_when_everyone_is_disliked_falls_back_to_the_machine():
    members = [member("a", 0.9), member("b", 0.1)]
    pool = ParentPool.build(members, [], {"gid-a": VoteSummary(dislikes=1), "gid-b": VoteSummary(dislikes=2)}, VoteRule())
    assert [c.member.id for c in pool.candidates] == ["a", "b"]
    assert all("so is everyone" in e["reason"] for e in pool.excluded)


# ---------------------------------------------------------------- the store


def _rec(ind, g, gid, score=0.5):
    return IndividualRecord(ind, g, {}, gid, [], "seed", score)


@pytest.fixture
def run(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create("r", {"run": {"population": 2, "generations": 3}, "votes": {"weight": 1.0}})
    run.write_checkpoint(Checkpoint(0, [_rec("g0000-000", 0, "A", 0.9), _rec("g0000-001", 0, "B", 0.2)], rng={}))
    run.write_checkpoint(Checkpoint(1, [_rec("g0001-000", 1, "A", 0.9), _rec("g0001-001", 1, "C", 0.5)], rng={}))
    return run


def test_interactive_count_is_distinct_voter_individual_pairs(run):
    for value in (1, -1, 1, -1):  # one person changing their mind four times
        run.add_vote("g0001-000", "ann", value)
    assert len(run.votes(1)) == 4 and run.vote_count(1) == 1
    run.add_vote("g0001-001", "ann", 1)
    run.add_vote("g0001-000", "bob", 1, best=True)
    assert run.vote_count(1) == 3
    run.add_vote("g0001-001", "ann", 0)  # taken back
    assert run.vote_count(1) == 2
    assert run.vote_count(0) == 0


def test_votes_attach_to_genomes_across_generations(run):
    run.add_vote("g0000-000", "ann", 1)
    run.add_vote("g0001-000", "bob", 1, best=True)  # the elite copy of the same genome
    run.add_vote("g0001-000", "ann", -1)  # ann's latest on genome A: a dislike, once
    run.add_vote("g0000-001", "ann", 1)
    votes, cutoff = run.genome_votes()
    assert cutoff == 4
    assert (votes["A"].likes, votes["A"].dislikes, votes["A"].best) == (1, 1, 1)
    assert (votes["B"].likes, votes["B"].dislikes) == (1, 0) and "C" not in votes
    # the log as it stood after the second vote
    early, c2 = run.genome_votes(upto_id=2)
    assert c2 == 2 and (early["A"].likes, early["A"].best) == (2, 1) and "B" not in early
    # export ranks genomes by the same numbers: A 0.9 + 0 + 1.0, B (liked) 0.2 + 0.33, C 0.5 unvoted
    assert run.best(3) == ["g0000-000", "g0000-001", "g0001-001"]
    run.add_vote("g0001-001", "eve", 1, best=True)  # C: 0.5 + 0.33 + 1.0
    assert run.best(3) == ["g0000-000", "g0001-001", "g0000-001"]


# ---------------------------------------------------------------- the engine


def _gen0_votes(store: RunStore, run_id: str, log: list):
    """At generation_start of generation 1 (gen 1's parents already chosen, people still on gen 0):
    three people pick the weakest gen-0 individual that did not make it into gen 1 as best of
    batch, and two dislike the gen-0 elite, whose copy is in gen 1."""

    def hook(event):
        if event["type"] != "generation_start" or event["generation"] != 1 or log:
            return
        run = store.open(run_id)
        ck0 = run.read_checkpoint(0).to_json()
        carried = {o["genome_id"] for o in ck0["next"]["offspring"]}
        gen0 = run.load_generation(0)
        underdog = min((i for i in gen0 if not i.error and i.genome_id not in carried), key=lambda i: (i.score, i.id))
        elite = next(o["parents"][0] for o in ck0["next"]["offspring"] if o["operator"] == "elite")
        for voter in ("ann", "bob", "cy"):
            run.add_vote(underdog.id, voter, 1, best=True)
        for voter in ("ann", "dee"):
            run.add_vote(elite, voter, -1)
        log.extend([underdog, elite])

    return hook


@pytest.mark.slow
def test_autonomous_votes_on_g_shape_parents_of_g_plus_2(tmp_path, seeds_dir):
    store = RunStore(tmp_path / "runs")
    log: list = []
    start_run(tiny(seeds_dir), store, "auto", progress=_gen0_votes(store, "auto", log))
    underdog, elite = log
    run = store.open("auto")
    assert run.read_checkpoint(0).to_json()["next"]["votes"]["cutoff"] == 0  # gen 1 was chosen before anyone voted
    gen1 = run.load_generation(1)
    copy = next(i for i in gen1 if i.operator == "elite")
    assert copy.parents == [elite] and underdog.genome_id not in {i.genome_id for i in gen1}

    nxt = run.read_checkpoint(1).to_json()["next"]
    parents = {p["id"]: p for p in nxt["parents"]}
    # the liked gen-0 underdog re-entered and tops the combined ranking (machine + 0.6 + 1.5 > 1)
    assert parents[underdog.id]["reentered"] and parents[underdog.id]["generation"] == 0
    assert parents[underdog.id]["reason"].startswith("re-entered from generation 0 on votes; elite #1: best combined score")
    assert "3 likes, 3 best-of-batch picks" in parents[underdog.id]["reason"]
    gen2 = run.load_generation(2)
    assert gen2[0].operator == "elite" and gen2[0].parents == [underdog.id] and gen2[0].genome_id == underdog.genome_id
    # the dislikes on the gen-0 elite followed its genome to the gen-1 copy: excluded, never a parent
    assert copy.id not in parents and copy.id not in {p for i in gen2 for p in i.parents}
    assert {"id": copy.id, "reason": "excluded: disliked (2 dislikes)"} in nxt["excluded"]
    assert nxt["votes_used"][underdog.id] == {"likes": 3, "dislikes": 0, "best": 3, "score": pytest.approx(0.6 + 1.5)}


@pytest.mark.slow
def test_interactive_waits_for_people_and_their_underdog_becomes_a_parent(tmp_path, seeds_dir, monkeypatch):
    monkeypatch.setattr(driver, "VOTE_POLL_S", 0.01)
    store = RunStore(tmp_path / "runs")
    seen: list[int] = []
    chosen: list = []

    def hook(event):
        if event["type"] != "waiting_votes":
            return
        seen.append(event["votes"])
        run = store.open("wait")
        if len(seen) == 1:
            healthy = sorted((i for i in run.load_generation(0) if not i.error), key=lambda i: (i.score, i.id))
            chosen.extend([healthy[0], healthy[-1]])
            for value in (1, -1, 1):  # ann changes her mind, then picks it as best
                run.add_vote(healthy[0].id, "ann", value)
            run.add_vote(healthy[0].id, "ann", 1, best=True)
        elif len(seen) == 4:
            for voter in ("bob", "cy"):
                run.add_vote(chosen[0].id, voter, 1, best=True)
        assert len(seen) < 50, "the wait was not released by three people's votes"

    cfg = tiny(seeds_dir, **{"run.mode": "interactive", "run.votes_needed": 3, "run.vote_timeout_s": 120.0,
                             "run.generations": 2, "run.population": 4})
    start_run(cfg, store, "wait", progress=hook)
    assert seen == [0, 1, 1, 1]  # four clicks by one person count once; three people release the wait
    run = store.open("wait")
    underdog, top = chosen
    assert len(run.votes(0)) == 6 and run.vote_count(0) == 3
    rule = VoteRule()
    u_votes = VoteSummary(likes=3, best=3)
    assert rule.combined(underdog.score, u_votes) > top.score  # the votes are enough to outrank the machine's best
    reasons = {p["id"]: p["reason"] for p in run.parents_of_next(0)}
    assert reasons[underdog.id].startswith("elite #1: best combined score")
    assert run.load_generation(1)[0].parents == [underdog.id]
    assert run.status == "finished"


@pytest.mark.slow
def test_resume_with_votes_equals_uninterrupted_and_selection_replays(tmp_path, seeds_dir):
    cfg = tiny(seeds_dir, **{"run.population": 5})
    # two runs folders: the taste model learns from every run in its folder (evo.predictor), so
    # "cut" beside "whole" would learn from both runs' votes and select differently
    store = RunStore(tmp_path / "runs")
    start_run(cfg, store, "whole", progress=_gen0_votes(store, "whole", []))
    store_whole, store = store, RunStore(tmp_path / "runs_cut")

    stops = []

    def interrupting(hook):
        def progress(event):
            hook(event)
            # after generation 1's checkpoint, before its selection (resume must select again,
            # from the votes in the store); then mid-way through evaluating generation 2
            if (event["type"] == "generation_end" and event["generation"] == 1 and not stops) or (
                    event["type"] == "evaluated" and event["generation"] == 2 and len(stops) == 1):
                stops.append(event["type"])
                raise KeyboardInterrupt
        return progress

    hook = _gen0_votes(store, "cut", [])
    with pytest.raises(KeyboardInterrupt):
        start_run(cfg, store, "cut", progress=interrupting(hook))
    assert store.open("cut").generations() == [0, 1] and store.open("cut").read_checkpoint(1).next is None
    with pytest.raises(KeyboardInterrupt):
        resume_run("cut", store, progress=interrupting(hook))
    resume_run("cut", store, progress=interrupting(hook))
    assert stops == ["generation_end", "evaluated"]
    assert store.open("cut").status == "finished"
    whole, cut = snapshot(store_whole.run_dir("whole")), snapshot(store.run_dir("cut"))
    assert whole.keys() == cut.keys()
    for key in whole:
        assert whole[key] == cut[key], f"{key} differs after interrupt + resume"
    assert whole["gen_0001.json"]["next"]["votes"]["by_genome"]  # the votes did take part

    # the recorded snapshot is the vote log up to its cutoff, and replays the same selection even
    # after more votes arrive
    run = store_whole.open("whole")
    late = run.load_generation(2)[0]
    run.add_vote(late.id, "eve", -1)
    run.add_vote(run.load_generation(0)[1].id, "eve", 1, best=True)
    for g in (0, 1):
        recorded = run.read_checkpoint(g).to_json()["next"]
        by_genome, cutoff = run.genome_votes(upto_id=recorded["votes"]["cutoff"])
        assert as_json({k: [s.likes, s.dislikes, s.best] for k, s in by_genome.items()}) == recorded["votes"]["by_genome"]
        assert as_json(replay_selection(run, g)) == as_json(recorded)
