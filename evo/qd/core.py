"""MAP-Elites as an ask/tell core behind the same driver as the GA (``run.search = "qd"``).

    core = MapElites(config, toolbox, py, npg, centroids)
    pending = core.first_generation()                 # batch 0: the seeds, as in the GA
    ...the driver evaluates, checkpoints, waits for votes...
    selection, offspring = core.tell(b, evaluated, votes)  # archive -> parents -> next batch

Each batch of ``run.population`` children is bred with the GA's own operators (crossbreed,
mutate: :func:`evo.ga.breed_child`) from parents drawn from the archive's elites; every healthy
evaluated individual is offered to the archive, where it takes its cell if it beats the elite
there. Nothing is copied forward: the archive is the population.

Votes act on cells. An elite's *objective* (what its cell compares) is its machine score plus
the vote value of its genome (:meth:`evo.selection.VoteRule.combined`), so a liked elite is
harder to displace and a disliked one easier, and a look someone liked that lost its cell gets
it back (the archive is rebuilt from every individual with the votes as they stand). A parent is
drawn with chance proportional to ``exp(qd.vote_strength * votes.weight * vote value)``: with the
defaults a like makes an elite 1.9x as likely, a dislike 0.5x, a best-of-batch pick 14x.

The archive is a function of the individuals evaluated so far and the vote snapshot
(:mod:`evo.qd.archive`), and the parents are drawn with the run's own ``random.Random``, so a
resumed run rebuilds exactly what it had from its checkpoints.
"""

from __future__ import annotations

import bisect
import math
import random

import numpy as np

from evo.checkpoint import ArchiveRecord, SelectionRecord
from evo.config import RunConfig
from evo.fitness.score import WORST_SCORE
from evo.ga import breed_child, first_population, rng_state
from evo.individual import Individual, individual_id
from evo.qd.archive import Centroids, QDArchive, archive_stats
from evo.selection import VoteRule, VoteSummary, describe_votes, summary_to_json


class MapElites:
    def __init__(self, config: RunConfig, toolbox, py: random.Random, npg: np.random.Generator, centroids: Centroids):
        self.cfg = config
        self.toolbox = toolbox
        self.py, self.npg = py, npg
        self.rule = VoteRule.from_config(config.votes)
        self.centroids = centroids
        self.archive = QDArchive(centroids)
        self.history: dict[str, Individual] = {}  # genome id -> its first healthy individual, in evaluation order
        self.votes: tuple[dict[str, VoteSummary], int] = ({}, 0)  # the last vote snapshot selection used

    def rng_state(self) -> dict:
        return rng_state(self.py, self.npg)

    def first_generation(self, branch: dict | None = None) -> list[Individual]:
        return first_population(self.cfg, self.toolbox, self.py, self.npg, branch)

    def remember(self, members: list[Individual]) -> None:
        """Offer an evaluated batch to the archive (also when resuming from checkpoints)."""
        for m in members:
            if m.result is not None and not m.error and m.score > WORST_SCORE and m.genome_id not in self.history:
                self.history[m.genome_id] = m

    def saw_votes(self, by_genome: dict[str, VoteSummary], cutoff: int) -> None:
        """The snapshot a recorded selection used (resume: the archive is rebuilt with it)."""
        self.votes = (by_genome, cutoff)

    def objective(self, m: Individual) -> float:
        return self.rule.combined(m.score, self.votes[0].get(m.genome_id))

    def archive_record(self) -> ArchiveRecord:
        """The archive of everything evaluated so far, under the last vote snapshot."""
        self.archive.fill(list(self.history.values()), self.objective)
        return self.archive.record(self.votes[1])

    def log_fields(self, members: list[Individual]) -> dict[str, float]:
        """Per-batch figures for the logbook: the archive by machine score alone (votes aside), so
        the curve shows what the search found."""
        return archive_stats(list(self.history.values()), self.centroids)

    def weight(self, m: Individual) -> float:
        v = self.votes[0].get(m.genome_id)
        return math.exp(self.cfg.qd.vote_strength * self.rule.weight * self.rule.vote_value(v))

    def tell(self, b: int, members: list[Individual], votes: tuple[dict[str, VoteSummary], int],
             taste=None) -> tuple[SelectionRecord, list[Individual], dict[str, float]]:
        """Draw parents from the archive (as ``votes`` leave it) and breed batch b+1. ``taste`` is
        the GA's taste model (evo.predictor.taste); quality-diversity runs do not use one yet."""
        self.saw_votes(*votes)
        by_genome, cutoff = votes
        self.archive.fill(list(self.history.values()), self.objective)
        elites = self.archive.elites()
        offspring: list[Individual] = []
        weights: list[float] = []
        drawn: dict[str, int] = {}
        if not elites:  # nothing healthy yet: start again from the seeds' mutants / random genomes
            fresh = first_population(self.cfg, self.toolbox, self.py, self.npg)
            offspring = [Individual(individual_id(b + 1, k), b + 1, m.genome, m.genome_id, m.parents, m.operator)
                         for k, m in enumerate(fresh)]
        else:
            weights = [self.weight(m) for _, m, _ in elites]
            cumulative = np.cumsum(weights).tolist()

            def pick(avoid: str | None = None) -> Individual:
                for _ in range(3):
                    k = min(bisect.bisect_right(cumulative, self.py.random() * cumulative[-1]), len(elites) - 1)
                    if elites[k][1].genome_id != avoid:
                        break
                m = elites[k][1]
                drawn[m.id] = drawn.get(m.id, 0) + 1
                return m

            while len(offspring) < self.cfg.run.population:
                offspring.append(breed_child(self.toolbox, self.py, self.cfg.ga, pick,
                                             individual_id(b + 1, len(offspring)), b + 1))
        selection = SelectionRecord(
            parents=self._reasons(elites, drawn, sum(weights)),
            excluded=[], votes_used=self._votes_used(elites), vote_cutoff=cutoff,
            votes_by_genome=summary_to_json(by_genome), offspring=[o.to_offspring() for o in offspring],
            rng=self.rng_state())
        combined = {m.id: self.rule.combined(m.score, by_genome.get(m.genome_id)) for m in members}
        return selection, offspring, combined

    def _reasons(self, elites: list, drawn: dict[str, int], total: float) -> list[dict]:
        out = []
        for cell, m, obj in sorted(elites, key=lambda e: (-drawn.get(e[1].id, 0), e[1].id)):
            if m.id not in drawn:
                continue
            v = self.votes[0].get(m.genome_id)
            chance = self.weight(m) / total
            times = drawn[m.id]
            reason = (f"archive elite of cell {cell} ({self.rule.explain(m.score, v)}); drawn "
                      f"{times} time{'s' if times > 1 else ''}, chance {100 * chance:.1f}% a draw"
                      + (f" (x{self.weight(m):.2f} from {describe_votes(v)})" if self.rule.evidence(v) else ""))
            out.append({"id": m.id, "reason": reason, "combined": obj, "machine": m.score, "generation": m.generation,
                        "reentered": False, "cell": cell})
        return out

    def _votes_used(self, elites: list) -> dict[str, dict]:
        out = {}
        for _, m, _ in elites:
            v = self.votes[0].get(m.genome_id)
            if v is not None and self.rule.evidence(v):
                out[m.id] = {"likes": v.likes, "dislikes": v.dislikes, "best": v.best, "score": self.rule.vote_value(v)}
        return out
