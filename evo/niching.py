"""Keeping looks apart: fitness sharing for the GA's selection, a hall of fame of distinct looks,
and "the best, but all different" picks for export and contact sheets.

*The best, all different* (:func:`pick_distinct`, what ``liandan export`` and the contact sheet
show): greedy maximal marginal relevance (Carbonell & Goldstein 1998) on looks: the best first,
then each next pick the one with the highest ``score - (largest look similarity to those
picked)``. A similarity threshold alone was not enough: on a 480-evaluation GA run the twelve
best presets that passed a pairwise "not the same look" test were still twelve variations of
one family (grey SSIM 0.38 between their stills); with this rule, 0.22 at a mean score 0.03 lower.

Why fitness sharing (Goldberg & Richardson 1987), and not crowding or a novelty term: the
collapse this answers is *many copies of one family* winning every tournament, and sharing
divides a candidate's score by how many relatives it has in the parent pool::

    niche_i  = sum_j max(sh(d_ij), family_ij)
    sh(d)    = 1 - (d / radius) ** alpha  for d < radius, else 0
    shared_i = combined_i / niche_i   (combined_i * niche_i when it is negative)

Relatives by look and by descent. ``d`` is the Euclidean distance of two candidates' behaviour
descriptors (each in [0, 1]; two corpus presets are 0.65 apart at the median, 0.29 at the 1st
percentile; a mutant sits 0.02-0.2 from its parent). ``family`` is the overlap (Jaccard) of the
two candidates' *roots*: the seed presets (or random genomes) they descend from. Looks alone
are not enough: mutation and crossover move a child's descriptors about as far from its parent
as two unrelated presets are apart, so the population stays varied in numbers while one family
takes it over. With the family term, the tenth member of one family competes with about a tenth
of its score and a lone family keeps all of it.

Parents are then drawn in proportion to the shared scores (stochastic universal sampling,
:meth:`evo.selection.ParentPool.draw`), not by tournaments: a tournament of three almost never
lets a lone look with a fair score through, whatever sharing did to the others (Oei, Goldberg &
Chang 1991). Measured on 16 x 12 runs from 16 corpus seeds at 64x64: without sharing the last
generation descends from 3-4 seeds; sharing by look with tournaments, 4; by look and family with
tournaments, 5; by look and family with proportional draws, 11, with the best score within 3%.

Sharing keeps the rest of selection intact (elites, votes, re-entry): it changes the number
parents are drawn by, so a liked look is still drawn more often, and the parents' reasons say
by how much sharing cut each score. Deterministic crowding would tie survival to parent-child
pairs, which our elites + re-entry pool does not have; a novelty term rewards being different
whether or not it is good, which the quality-diversity mode (evo.qd) already does properly.

Elites are the best *distinct* looks: a candidate within ``radius`` of an elite already chosen
is passed over (clearing, Petrowski 1996), so the elites are the best of the best niches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from evo.fitness.descriptors import DESCRIPTOR_NAMES, descriptor_distance, descriptor_vector, look_similarity


@dataclass(frozen=True)
class LookRule:
    """When two evaluated candidates count as the same look (hall of fame, export, contact sheets):
    the same genome, the same statistics, descriptors closer than ``distance``, or thumbnails
    more alike than ``ssim``."""

    distance: float = 0.15
    ssim: float = 0.4

    def similarity(self, a: Any, b: Any) -> float:
        """How alike two looks are, in [-1, 1]: 1 for the same genome or statistics, else the SSIM
        of their thumbnails, or (records without looks) 1 - descriptor distance / 0.5."""
        if a.genome_id == b.genome_id:
            return 1.0
        ra, rb = a.result, b.result
        if ra is None or rb is None:
            return 0.0
        if ra.stats and ra.stats == rb.stats:
            return 1.0
        if ra.look and rb.look:
            return look_similarity(ra.look, rb.look)
        if ra.descriptors and rb.descriptors:
            return max(0.0, 1.0 - descriptor_distance(ra.descriptors, rb.descriptors) / 0.5)
        return 0.0

    def same(self, a: Any, b: Any) -> bool:
        """``a``, ``b``: anything with ``genome_id`` and ``result`` (evo.individual.Individual)."""
        if a.genome_id == b.genome_id:
            return True
        ra, rb = a.result, b.result
        if ra is None or rb is None:
            return False
        if ra.stats and ra.stats == rb.stats:
            return True
        if ra.descriptors and rb.descriptors and descriptor_distance(ra.descriptors, rb.descriptors) < self.distance:
            return True
        return bool(ra.look and rb.look) and look_similarity(ra.look, rb.look) > self.ssim


class DistinctHallOfFame:
    """The ``size`` best individuals, no two of the same look (``same``).

    A newcomer that looks like entries already here replaces them only when it beats all of them;
    otherwise it is turned away. Entries are ordered by score, ties by arrival, so the order is
    a function of the order of updates (and a saved order restores exactly with :meth:`restore`).
    """

    def __init__(self, size: int, same: Callable[[Any, Any], bool]):
        self.size = int(size)
        self.same = same
        self.items: list = []

    def update(self, individuals: Iterable) -> None:
        for ind in individuals:
            self._offer(ind)

    def _offer(self, ind: Any) -> None:
        like = [h for h in self.items if self.same(ind, h)]
        if like:
            if all(ind.score > h.score for h in like):
                self.items = [h for h in self.items if h not in like]
                self._insert(ind)
            return
        if len(self.items) < self.size or ind.score > self.items[-1].score:
            self._insert(ind)
            del self.items[self.size:]

    def _insert(self, ind: Any) -> None:
        k = next((i for i, h in enumerate(self.items) if ind.score > h.score), len(self.items))
        self.items.insert(k, ind)

    def restore(self, individuals: Sequence) -> None:
        """Exactly this saved order (resume)."""
        self.items = list(individuals)

    def clear(self) -> None:
        self.items = []

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, k):
        return self.items[k]


# ---------------------------------------------------------------- fitness sharing


def niche_counts(vectors: np.ndarray, radius: float, alpha: float = 1.0,
                 roots: Sequence[frozenset] | None = None) -> np.ndarray:
    """``niche_i = sum_j max(sh(d_ij), family_ij)`` over rows of ``vectors`` (itself included,
    so >= 1); ``roots[i]``: the seeds candidate i descends from (None: looks only)."""
    v = np.asarray(vectors, dtype=np.float64)
    if len(v) == 0:
        return np.zeros(0)
    d = np.sqrt(((v[:, None, :] - v[None, :, :]) ** 2).sum(axis=-1))
    sh = np.where(d < radius, 1.0 - (d / radius) ** alpha, 0.0)
    if roots is not None:
        family = np.array([[len(a & b) / len(a | b) if a or b else 0.0 for b in roots] for a in roots])
        sh = np.maximum(sh, family)
    return sh.sum(axis=1)


def descent_roots(parents: Sequence[str], known: dict[str, frozenset], own_id: str) -> frozenset:
    """The roots an individual descends from: its parents' roots; a seed file (``seed:...``) or
    an individual of another run (``run/id``, a branch) is a root; no parents (a random genome)
    makes the individual its own root."""
    out: set[str] = set()
    for p in parents:
        if p.startswith("seed:") or "/" in p or p not in known:
            out.add(p)
        else:
            out |= known[p]
    return frozenset(out) if out else frozenset([own_id])


def shared(score: float, niche: float) -> float:
    """A score divided among its niche (multiplied, when negative, so sharing never helps)."""
    return score / niche if score >= 0 else score * niche


def descriptors_of(member: Any) -> np.ndarray | None:
    r = getattr(member, "result", None)
    if r is None or not r.descriptors or r.error:
        return None
    return descriptor_vector(r.descriptors, DESCRIPTOR_NAMES)


# ---------------------------------------------------------------- the best, all different


def pick_distinct(items: Sequence, k: int, score: Callable[[Any], float],
                  similarity: Callable[[Any, Any], float]) -> list:
    """Up to ``k`` of ``items``: the best by ``score`` first, then each next the one with the
    highest ``score - max similarity to those picked`` (module docstring). Ties go to the
    earlier item."""
    scores = [float(score(i)) for i in items]
    nearest = [-np.inf] * len(items)  # each item's largest similarity to the picks so far
    chosen: list[int] = []
    while len(chosen) < min(k, len(items)):
        best = max((i for i in range(len(items)) if i not in chosen),
                   key=lambda i: (scores[i] - max(nearest[i], 0.0) if chosen else scores[i], -i))
        chosen.append(best)
        for i in range(len(items)):
            if i not in chosen:
                nearest[i] = max(nearest[i], similarity(items[i], items[best]))
    return [items[i] for i in chosen]
