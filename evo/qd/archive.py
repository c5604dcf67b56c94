"""A MAP-Elites archive of our individuals: pyribs' CVT archive, with genomes kept on our side.

The measure space is a few behaviour descriptors (``[qd] measures``, each in [0, 1]), cut into
``cells`` Voronoi cells around centroids that k-means places over uniform samples of the space
(a *CVT*, Vassiliades et al. 2018; pyribs' ``k_means_centroids``). Each cell keeps its best
individual by *objective* (machine score plus votes, as selection scores it). pyribs stores
numeric solutions; ours are genomes, so the archive's solution is the index of an individual in
``members`` and the genome stays in that individual.

The archive is a pure function of the individuals offered (in order) and their objectives: per
cell, the highest objective, the earliest on ties (pyribs adds a batch that way and keeps an
incumbent against an equal newcomer). :meth:`QDArchive.fill` rebuilds it from scratch, so the
same history and votes give the same archive however the run was interrupted or how many
workers evaluated it; the only state to save is the centroids (k-means depends on the library
version, so they are stored, not recomputed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from evo.checkpoint import ArchiveElite, ArchiveRecord


@dataclass(frozen=True)
class Centroids:
    """The CVT: one row per cell over ``measures``; what ``archive_centroids.json`` holds."""

    measures: tuple[str, ...]
    points: np.ndarray  # (cells, len(measures))
    seed: int = 0

    @classmethod
    def make(cls, measures: Sequence[str], cells: int, samples: int, seed: int) -> "Centroids":
        """k-means on one thread (scikit-learn's threaded sums differ in the last bits with the
        thread count, so two processes could place the same cells a hair apart), rounded to 9
        decimals: the same seed gives the same file anywhere."""
        from ribs.archives import k_means_centroids
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            points, _ = k_means_centroids(centroids=int(cells), ranges=[(0.0, 1.0)] * len(measures),
                                          samples=int(samples), seed=int(seed))
        return cls(tuple(measures), np.round(np.asarray(points, dtype=np.float64), 9), int(seed))

    def to_json(self) -> dict:
        return {"measures": list(self.measures), "cells": len(self.points), "seed": self.seed,
                "centroids": [[float(v) for v in row] for row in self.points]}

    @classmethod
    def from_json(cls, d: Any) -> "Centroids":
        points = np.asarray(d["centroids"], dtype=np.float64)
        measures = tuple(str(m) for m in d["measures"])
        if points.ndim != 2 or points.shape[1] != len(measures) or len(points) != int(d["cells"]):
            raise ValueError(f"centroids of shape {points.shape} do not match {len(measures)} measures, {d['cells']} cells")
        return cls(measures, points, int(d.get("seed", 0)))


def measures_of(member: Any, names: Sequence[str]) -> np.ndarray | None:
    """An individual's place in the measure space, or None when it has no place (failed,
    degenerate, or evaluated before descriptors existed)."""
    r = getattr(member, "result", None)
    if r is None or r.error or r.degenerate or not r.descriptors or not all(n in r.descriptors for n in names):
        return None
    return np.clip(np.array([float(r.descriptors[n]) for n in names], dtype=np.float64), 0.0, 1.0)


class QDArchive:
    def __init__(self, centroids: Centroids):
        from ribs.archives import CVTArchive

        self.centroids = centroids
        self.measures = centroids.measures
        self._ribs = CVTArchive(solution_dim=1, centroids=centroids.points, ranges=[(0.0, 1.0)] * len(self.measures),
                                seed=centroids.seed)
        self.members: list = []

    @property
    def cells(self) -> int:
        return len(self.centroids.points)

    def fill(self, members: Sequence, objective: Callable[[Any], float]) -> None:
        """The archive of ``members`` (in the order they were evaluated) under ``objective``."""
        self._ribs.clear()
        placed = [(m, v) for m in members if (v := measures_of(m, self.measures)) is not None]
        self.members = [m for m, _ in placed]
        if not placed:
            return
        self._ribs.add(np.arange(len(placed), dtype=np.float64)[:, None],
                       np.array([objective(m) for m in self.members], dtype=np.float64),
                       np.stack([v for _, v in placed]))

    def cell_of(self, member: Any) -> int | None:
        v = measures_of(member, self.measures)
        return None if v is None else int(self._ribs.index_of(v[None, :])[0])

    def elites(self) -> list[tuple[int, Any, float]]:
        """(cell, individual, objective) of every filled cell, by cell."""
        data = self._ribs.data()
        rows = sorted(zip(data["index"].tolist(), data["solution"][:, 0].tolist(), data["objective"].tolist()))
        return [(int(cell), self.members[int(round(sol))], float(obj)) for cell, sol, obj in rows]

    def record(self, vote_cutoff: int = 0) -> ArchiveRecord:
        elites = [ArchiveElite(cell, m.id, m.genome_id, obj, float(m.score),
                               [float(v) for v in measures_of(m, self.measures)], m.generation)
                  for cell, m, obj in self.elites()]
        objectives = [e.objective for e in elites]
        return ArchiveRecord(list(self.measures), self.cells, elites, len(elites) / self.cells,
                             float(sum(objectives)), float(max(objectives)) if objectives else 0.0, vote_cutoff)


def archive_stats(members: Sequence, centroids: Centroids) -> dict[str, float]:
    """Coverage, QD-score (sum of machine scores of the elites), best and filled cells of
    ``members`` placed into an archive with these centroids (also how a GA run is compared)."""
    archive = QDArchive(centroids)
    archive.fill(members, lambda m: float(m.score))
    rec = archive.record()
    return {"coverage": rec.coverage, "qd_score": rec.qd_score, "archive_best": rec.best, "filled": len(rec.elites)}
