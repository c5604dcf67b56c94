"""Selection: how people's votes and the machine score become one score, who may be a parent,
the elites and the tournaments.

Votes attach to *genomes*, not to individuals: an elite copy in generation 5 carries every vote
cast on the same genome in generations 1-4, and a person who votes on the same look twice
(two copies) counts once, with their latest vote. Each voter's latest vote on a genome gives
``likes`` L, ``dislikes`` D and ``best`` B (a "best of this batch" pick; the UI stores it as a like
with the best flag, so it also counts in L). The score is::

    rate     = (L + prior) / (L + D + 2 * prior)      posterior mean like-rate, Beta(prior, prior)
    vote     = (2 * rate - 1) + best_bonus * B / (B + prior)
    base     = machine                                or (1 - predictor_weight) * machine
                                                         + predictor_weight * predictor
    combined = base + weight * vote                   = machine exactly when nobody voted

With the defaults (weight 1, prior 1, best_bonus 2) one like adds +0.33, three likes +0.6, a
dislike -0.33, two likes and a dislike +0.2: evidence adds up, one like or dislike does not
decide everything, and the like-rate part stays within (-1, 1). A best-of-batch pick is a ranking
("this one above the rest"), so it adds a bonus on top: best_bonus/2 = +1.0 for the first pick,
+1.33 for two, never more than best_bonus. One voter's best pick (+1.33 with its like) thus
makes up the whole machine-score range [0, 1] over that voter's plain likes (and over anything
unvoted); two people's different best picks are then told apart by the machine score.

Who may be a parent (the *pool*):

- a genome with more dislikes than likes (rate below one half) is *excluded* (unless that would
  leave nobody);
- up to ``reentry`` *liked* genomes (vote above 0) from earlier generations that are not
  in the current population *re-enter*: they join the elite ranking and the tournaments with
  their stored machine score. This is how votes reach an autonomous run: its previews of
  generation g appear while the engine already evaluates g+1, so votes on g shape g+2's parents.

Elites are the ``ga.elite`` best distinct genomes by combined score; the rest of the parents win
tournaments of ``ga.tournament_size`` distinct candidates drawn from the pool.

With diversity on (``ga.diversity = "sharing"``, :mod:`evo.niching`), tournaments compare the
combined score *shared* among near-copies in the pool (a look with four close copies competes
with about a quarter of its score), and elites are the best of distinct looks: no elite within
``ga.niche_radius`` of a better one.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from evo.config import VotesSection, section_from
from evo.niching import descriptors_of, niche_counts, shared

BEST_WEIGHT = 2.0  # a "best of generation" vote counts as much as two likes in VoteSummary.score


@dataclass
class VoteSummary:
    """Each voter's latest vote on one individual or genome, counted."""

    likes: int = 0
    dislikes: int = 0
    best: int = 0
    score: float = 0.0


@dataclass(frozen=True)
class VoteRule(VotesSection):
    """The ``[votes]`` config section with the formula that uses it."""

    @classmethod
    def from_config(cls, votes: Any) -> "VoteRule":
        """From a ``VotesSection`` or its dict form (a run's config.json); missing keys keep defaults."""
        return cls(**dataclasses.asdict(section_from(VotesSection, votes)))

    @staticmethod
    def evidence(v: VoteSummary | None) -> int:
        return 0 if v is None else v.likes + v.dislikes + v.best

    def rate(self, v: VoteSummary | None) -> float:
        """Posterior mean like-rate (0.5 with no votes)."""
        if v is None:
            return 0.5
        return (v.likes + self.prior) / (v.likes + v.dislikes + 2.0 * self.prior)

    def vote_value(self, v: VoteSummary | None) -> float:
        if not self.evidence(v):
            return 0.0
        return 2.0 * self.rate(v) - 1.0 + self.best_bonus * v.best / (v.best + self.prior)

    def disliked(self, v: VoteSummary | None) -> bool:
        return self.rate(v) < 0.5

    def liked(self, v: VoteSummary | None) -> bool:
        return self.vote_value(v) > 0.0 and not self.disliked(v)

    def base(self, machine: float, predictor: float | None = None) -> float:
        if predictor is None or self.predictor_weight <= 0:
            return float(machine)
        return (1.0 - self.predictor_weight) * float(machine) + self.predictor_weight * float(predictor)

    def combined(self, machine: float, v: VoteSummary | None, predictor: float | None = None) -> float:
        return self.base(machine, predictor) + self.weight * self.vote_value(v)

    def explain(self, machine: float, v: VoteSummary | None, predictor: float | None = None) -> str:
        """'machine 0.51 + 0.33 from 1 like' (the parenthesis of a parent's reason)."""
        text = f"machine {machine:.2f}"
        if predictor is not None and self.predictor_weight > 0:
            text += f", predictor {predictor:.2f} -> {self.base(machine, predictor):.2f}"
        part = self.weight * self.vote_value(v)
        if not self.evidence(v):
            return text + ", no votes"
        return text + f" {'+' if part >= 0 else '-'} {abs(part):.2f} from {describe_votes(v)}"


def combined_score(machine_score: float, votes: VoteSummary | None, predictor: float | None = None,
                   vote_weight: float = 1.0, best_bonus: float = 2.0, predictor_weight: float = 0.0,
                   prior: float = 1.0) -> float:
    """The score selection uses (the formula in this module's docstring)."""
    return VoteRule(vote_weight, best_bonus, prior, predictor_weight).combined(machine_score, votes, predictor)


def describe_votes(v: VoteSummary | None) -> str:
    if v is None:
        return "no votes"
    parts = [f"{n} {word}{'' if n == 1 else 's'}"
             for n, word in ((v.likes, "like"), (v.dislikes, "dislike"), (v.best, "best-of-batch pick")) if n]
    return ", ".join(parts) or "no votes"


def ordinal(n: int) -> str:
    if n == 1:
        return "best"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix} best"


def summary_to_json(by_genome: dict[str, VoteSummary]) -> dict[str, list[int]]:
    """``{genome_id: [likes, dislikes, best]}``: what a checkpoint records as the votes used."""
    return {gid: [s.likes, s.dislikes, s.best] for gid, s in sorted(by_genome.items())}


def summary_from_json(data: dict) -> dict[str, VoteSummary]:
    try:
        return {str(gid): VoteSummary(int(l), int(d), int(b)) for gid, (l, d, b) in data.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a recorded vote summary ({type(exc).__name__}: {exc})") from exc


# ---------------------------------------------------------------- the parent pool


@dataclass
class PoolEntry:
    """One individual in a selection's parent pool, with the score it competes on."""

    member: Any  # evo.individual.Individual (anything with id, generation, genome_id, score, error)
    combined: float
    votes: VoteSummary | None
    reentered: bool = False
    niche: float = 1.0  # how many near-copies share its score (fitness sharing; 1 = none)
    fitness: float | None = None  # what tournaments compare: combined, or combined shared by its niche
    predicted: float | None = None  # the taste model's P(liked) (evo.predictor), when one takes part

    @property
    def rank(self) -> float:
        return self.combined if self.fitness is None else self.fitness


@dataclass
class ParentPool:
    """The candidates one selection draws from, and the record of why each parent was chosen."""

    rule: VoteRule
    candidates: list[PoolEntry]
    excluded: list[dict] = field(default_factory=list)
    elite_rank: dict[str, int] = field(default_factory=dict)
    wins: dict[str, list[str]] = field(default_factory=dict)  # winner id -> opponents over all its wins
    win_count: dict[str, int] = field(default_factory=dict)
    radius: float = 0.0  # > 0: fitness sharing and distinct elites (evo.niching)
    vectors: dict[int, Any] = field(default_factory=dict, repr=False)  # candidate index -> its descriptors
    draws: list[int] = field(default_factory=list, repr=False)  # proportional selection: draws still to hand out
    proportional: bool = False  # parents were drawn in proportion to their (shared) scores, not by tournament

    @classmethod
    def build(cls, members: list, archive: Iterable, votes: dict[str, VoteSummary], rule: VoteRule,
              sharing: tuple[float, float] | None = None, roots: dict | None = None,
              predict: Callable[[Any], float] | None = None) -> "ParentPool":
        """Current members minus the disliked, plus the best liked earlier genomes (see module doc).

        ``archive``: earlier evaluated members, one per genome, in a fixed order (resume rebuilds
        the same order), so the pool is a pure function of its inputs. ``sharing``: (radius,
        alpha) of fitness sharing (evo.niching), or None for plain combined scores; ``roots``:
        individual id -> the seeds it descends from, for sharing by family too; ``predict``: a
        member's P(liked) from the taste model, which joins the combined score with the rule's
        ``predictor_weight``.
        """

        def cand(m, reentered=False):
            v = votes.get(m.genome_id)
            p = None if predict is None or m.error else float(predict(m))
            return PoolEntry(m, rule.combined(m.score, v, p), v, reentered, predicted=p)

        current = [cand(m) for m in members]
        kept = [c for c in current if not rule.disliked(c.votes)]
        excluded = [{"id": c.member.id, "reason": f"excluded: disliked ({describe_votes(c.votes)})"}
                    for c in current if rule.disliked(c.votes)]
        if not kept:  # everyone disliked: dislikes cannot rank, fall back to the machine
            kept, excluded = current, [{"id": c.member.id, "reason": "disliked, but so is everyone: kept"}
                                       for c in current]
        present = {m.genome_id for m in members}
        back = [cand(m, True) for m in archive
                if m.genome_id not in present and not m.error and rule.liked(votes.get(m.genome_id))]
        back.sort(key=lambda c: (-c.combined, c.member.id))
        pool = cls(rule, kept + back[: max(0, rule.reentry)], excluded)
        if sharing is not None:
            pool.share(*sharing, roots=roots)
        return pool

    def share(self, radius: float, alpha: float, roots: dict | None = None) -> None:
        """Fitness sharing over the pool's behaviour descriptors and, with ``roots``, families
        (candidates without descriptors, e.g. failed ones, form niches of their own)."""
        self.radius = float(radius)
        found = [(i, v) for i, c in enumerate(self.candidates) if (v := descriptors_of(c.member)) is not None]
        families = None if roots is None else [roots.get(self.candidates[i].member.id, frozenset()) for i, _ in found]
        counts = niche_counts(np.array([v for _, v in found]), radius, alpha, families) if found else []
        for (i, _), n in zip(found, counts):
            c = self.candidates[i]
            c.niche = float(n)
            c.fitness = shared(c.combined, c.niche)
        self.vectors = dict(found)

    def elites(self, n: int) -> list[PoolEntry]:
        """The ``n`` best distinct genomes by combined score; with sharing, also distinct looks
        (none within the niche radius of a better elite)."""
        order = sorted(range(len(self.candidates)), key=lambda i: (-self.candidates[i].combined, i))
        out, seen, taken = [], set(), []
        for i in order:
            c = self.candidates[i]
            if len(out) >= n:
                break
            if c.member.genome_id in seen or c.member.error:
                continue
            v = self.vectors.get(i)
            if self.radius > 0 and v is not None and any(np.linalg.norm(v - t) < self.radius for t in taken):
                continue
            seen.add(c.member.genome_id)
            if v is not None:
                taken.append(v)
            out.append(c)
            self.elite_rank[c.member.id] = len(out)
        return out

    def tournament(self, py: random.Random, size: int, avoid: str | None = None) -> PoolEntry:
        """Best of ``size`` distinct candidates (ties: the earlier one); redrawn (up to 3 times) when
        the winner has genome ``avoid``, since crossing a genome with itself only clones it."""
        n = len(self.candidates)
        for _ in range(3):
            drawn = py.sample(range(n), min(size, n))
            win = max(drawn, key=lambda i: (self.candidates[i].rank, -i))
            if self.candidates[win].member.genome_id != avoid:
                break
        c = self.candidates[win]
        pid = c.member.id
        self.win_count[pid] = self.win_count.get(pid, 0) + 1
        opponents = self.wins.setdefault(pid, [])
        opponents += [self.candidates[i].member.id for i in drawn if i != win and self.candidates[i].member.id not in opponents]
        return c

    def draw(self, py: random.Random, avoid: str | None = None) -> PoolEntry:
        """A parent drawn in proportion to its (shared) score, by stochastic universal sampling:
        each round hands every candidate the floor or ceiling of its expected number of draws (two
        per candidate in a round), in shuffled order, so a family with a fair score is never
        left out by bad luck, as tournaments leave out everyone below the top. A draw of genome
        ``avoid`` is swapped for the next that is not."""
        self.proportional = True
        if not self.draws:
            self.draws = universal_sample(py, [max(c.rank, 0.0) for c in self.candidates], 2 * len(self.candidates))
        k = next((j for j, i in enumerate(self.draws) if self.candidates[i].member.genome_id != avoid), 0)
        c = self.candidates[self.draws.pop(k)]
        self.win_count[c.member.id] = self.win_count.get(c.member.id, 0) + 1
        self.wins.setdefault(c.member.id, [])
        return c

    def reasons(self) -> list[dict]:
        """One entry per chosen parent: elites first (by rank), then tournament winners (by id)."""
        chosen = sorted(set(self.elite_rank) | set(self.win_count),
                        key=lambda pid: (self.elite_rank.get(pid, 10**9), pid))
        by_id = {c.member.id: c for c in self.candidates}
        out = []
        for pid in chosen:
            c = by_id[pid]
            why = f"({self.rule.explain(c.member.score, c.votes, c.predicted)})"
            if c.fitness is not None and c.niche > 1.0 + 1e-9:
                why = why[:-1] + f"; shared with {c.niche:.1f} relatives by look or family: {c.fitness:.2f})"
            clauses = []
            if c.reentered:
                clauses.append(f"re-entered from generation {c.member.generation} on votes")
            if pid in self.elite_rank:
                rank = self.elite_rank[pid]
                clauses.append(f"elite #{rank}: {ordinal(rank)} combined score {c.combined:.2f} {why}")
            if pid in self.win_count and self.proportional:
                times = self.win_count[pid]
                text = f"drawn {times} time{'s' if times > 1 else ''} in proportion to its score"
                if pid not in self.elite_rank:
                    text += f": combined score {c.combined:.2f} {why}"
                clauses.append(text)
            elif pid in self.win_count:
                times = self.win_count[pid]
                opp = self.wins[pid]
                against = f" vs {', '.join(opp[:4])}{' ...' if len(opp) > 4 else ''}" if opp else " (drawn alone)"
                text = f"tournament winner{f' ({times} times)' if times > 1 else ''}{against}"
                if pid not in self.elite_rank:
                    text += f": combined score {c.combined:.2f} {why}"
                clauses.append(text)
            entry = {"id": pid, "reason": "; ".join(clauses), "combined": c.combined, "machine": c.member.score,
                     "generation": c.member.generation, "reentered": c.reentered}
            if c.fitness is not None:
                entry.update(niche=round(c.niche, 4), shared=c.fitness)
            if c.predicted is not None:
                entry["predicted"] = c.predicted
            out.append(entry)
        return out

    def votes_used(self) -> dict[str, dict]:
        """``{individual id: {likes, dislikes, best, score}}`` for every candidate with votes (the UI's tallies)."""
        return {c.member.id: {"likes": c.votes.likes, "dislikes": c.votes.dislikes, "best": c.votes.best,
                              "score": self.rule.vote_value(c.votes)}
                for c in self.candidates if c.votes is not None and self.rule.evidence(c.votes)}


def select_tournament(pool: ParentPool, rng: random.Random, size: int, avoid: str | None = None) -> PoolEntry:
    """The toolbox's ``select``: one tournament winner from the pool (see :meth:`ParentPool.tournament`)."""
    return pool.tournament(rng, size, avoid)


def select_proportional(pool: ParentPool, rng: random.Random, avoid: str | None = None) -> PoolEntry:
    """The toolbox's ``select`` with diversity on: a draw in proportion to the shared score
    (see :meth:`ParentPool.draw`)."""
    return pool.draw(rng, avoid)


def universal_sample(py: random.Random, weights: list[float], n: int) -> list[int]:
    """``n`` indices by stochastic universal sampling (Baker 1987) on ``weights`` (all equal when
    they sum to nothing), shuffled."""
    total = float(sum(weights))
    if total <= 0.0:
        weights, total = [1.0] * len(weights), float(len(weights))
    step = total / n
    pointer = py.random() * step
    out, acc = [], 0.0
    for i, w in enumerate(weights):
        acc += w
        while pointer < acc and len(out) < n:
            out.append(i)
            pointer += step
    while len(out) < n:  # rounding at the very end
        out.append(len(weights) - 1)
    py.shuffle(out)
    return out


def rank_distinct(individuals: list, by_genome: dict[str, VoteSummary], rule: VoteRule, k: int, similarity,
                  pool: int = 500, predict: Callable[[Any], float] | None = None) -> list[str]:
    """Ids of ``k`` of ``individuals`` (healthy ones, the ``pool`` best by combined score): the
    best first, then each next the best trade of combined score against its look similarity to
    those before it (``similarity(a, b)`` on records; evo.niching.pick_distinct). ``predict``: the
    taste model's P(liked), as in :meth:`ParentPool.build`."""
    from evo.niching import pick_distinct

    scores: dict[str, float] = {}

    def combined(i) -> float:
        if i.id not in scores:
            p = None if predict is None else predict(i)
            scores[i.id] = rule.combined(i.score, by_genome.get(i.genome_id or i.id), p)
        return scores[i.id]

    healthy = sorted((i for i in individuals if not i.error and i.score is not None), key=lambda i: (-combined(i), i.id))
    return [i.id for i in pick_distinct(healthy[:pool], k, combined, similarity)]


def rank_best(individuals: Iterable, by_genome: dict[str, VoteSummary], rule: VoteRule, k: int,
              predict: Callable[[Any], float] | None = None) -> list[str]:
    """Ids of the ``k`` best distinct genomes by combined machine + vote score (what ``liandan
    export`` writes), each genome represented by its best-scoring individual; failed ones skipped."""
    ranked: dict[str, tuple[float, str]] = {}
    for ind in individuals:
        if ind.error or ind.score is None:
            continue
        key = ind.genome_id or ind.id
        s = rule.combined(ind.score, by_genome.get(key), None if predict is None else predict(ind))
        if key not in ranked or s > ranked[key][0]:
            ranked[key] = (s, ind.id)
    return [i for _, i in sorted(ranked.values(), key=lambda t: (-t[0], t[1]))[: max(0, k)]]
