"""The style map: the feature space laid flat in two dimensions, and the gaps in it.

**Embedding.** UMAP (umap-learn) by default: it keeps neighbourhoods and, more than t-SNE, the
arrangement of groups; t-SNE (scikit-learn) is the option. Both are seeded, so the same
dataset and seed give the same map. ``min_dist`` is 0.3, not UMAP's 0.1: a pack's near-copies
otherwise collapse into specks, which leaves no room for their thumbnails on the atlas and makes
every small hole look like a gap. Coordinates are scaled into the unit square (aspect kept).

**Placing new points** (:meth:`StyleMap.transform`): a saved map must place a preset it was not
fitted on (a generated one, a run's individual) without keeping a pickled UMAP. A new point goes
to the inverse-distance-weighted mean position of its PLACE_K nearest fitted points in feature
space (exactly onto one it equals). That is where UMAP's own ``transform`` starts; it can put a
point between families whose neighbours lie on both sides, not deep inside an empty region.

**Gaps** are empty regions inside the populated area. On a GRID x GRID lattice over the map, a
Gaussian kernel density at two bandwidths (multiples of the typical spacing: the median distance
of a point to its 5th nearest neighbour) gives a fine estimate, which finds holes, and a coarse
one, which says where the collection is at all. A lattice cell is in a gap when it is inside the
convex hull of the points, the coarse density there is at least INSIDE of the median coarse
density at the points, and the fine density is below EMPTY of the median fine density at the
points. Each connected region of such cells is a candidate; its centre is the cell farthest
from any preset and its radius that distance (the largest empty disc). A candidate is a gap when
its radius is at least MIN_RADIUS spacings and it is enclosed: presets lie within RIM radii of
its centre in at least ENCLOSED of SECTORS directions (the empty sea around an outlying island
is inside the hull but is no hole in the collection). Gaps are numbered G1, G2, ... by radius,
largest first.
Their neighbouring presets are the presets nearest the centre (within 1.5 radii, and at least
GAP_NEIGHBOURS), and their families those presets' families.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

METHODS = ("umap", "tsne")
PLACE_K = 5
LARGE = 4096  # above this many presets UMAP runs LARGE_EPOCHS (its own choice above 10,000) instead of 500
LARGE_EPOCHS = 200
GRID = 160
FINE = 1.5  # fine bandwidth in spacings
COARSE = 5.0
EMPTY = 0.05
INSIDE = 0.1
MIN_RADIUS = 2.5
SECTORS = 8
RIM = 2.0
ENCLOSED = 0.75
MAX_GAPS = 24
GAP_NEIGHBOURS = 12


def _embed(x: np.ndarray, method: str, n_neighbors: int, min_dist: float, perplexity: float, seed: int) -> np.ndarray:
    n = len(x)
    if n < 4:
        return np.zeros((n, 2)) if n else np.zeros((0, 2))
    if method == "umap":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # umap's notes on n_jobs with a seed, and numba's
            import umap

            model = umap.UMAP(n_neighbors=min(n_neighbors, n - 1), min_dist=min_dist, n_components=2,
                              random_state=seed, init="spectral" if n > n_neighbors + 2 else "random",
                              n_epochs=LARGE_EPOCHS if n > LARGE else None)
            return np.asarray(model.fit_transform(x), dtype=np.float64)
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE(n_components=2, perplexity=min(perplexity, (n - 1) / 3), random_state=seed,
                    init="pca").fit_transform(x).astype(np.float64)
    raise ValueError(f"unknown map method {method!r}: choose from {', '.join(METHODS)}")


def unit_square(e: np.ndarray) -> np.ndarray:
    """Coordinates moved and scaled into [0, 1] x [0, 1], the aspect ratio kept."""
    if not len(e):
        return e
    lo = e.min(axis=0)
    span = float((e.max(axis=0) - lo).max())
    return (e - lo) / (span if span > 0 else 1.0)


@dataclass
class StyleMap:
    """fit(features) -> ``embedding_`` (n x 2 in the unit square); transform(new features).

    Learned: ``embedding_``, ``X_`` (the fitted features, for :meth:`transform`), ``spacing_``
    (median distance to the 5th nearest point on the map)."""

    method: str = "umap"
    n_neighbors: int = 15
    min_dist: float = 0.3
    perplexity: float = 30.0
    seed: int = 0

    def fit(self, x: np.ndarray) -> "StyleMap":
        if self.method not in METHODS:
            raise ValueError(f"unknown map method {self.method!r}: choose from {', '.join(METHODS)}")
        self.X_ = np.ascontiguousarray(x, dtype=np.float64)
        self.embedding_ = unit_square(_embed(self.X_, self.method, self.n_neighbors, self.min_dist, self.perplexity,
                                             self.seed))
        self.spacing_ = typical_spacing(self.embedding_)
        return self

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).embedding_

    def transform(self, x: np.ndarray) -> np.ndarray:
        from sklearn.neighbors import NearestNeighbors

        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        k = min(PLACE_K, len(self.X_))
        dist, idx = NearestNeighbors(n_neighbors=k).fit(self.X_).kneighbors(x)
        w = 1.0 / np.maximum(dist, 1e-12)
        exact = dist[:, 0] < 1e-9
        w[exact] = 0.0
        w[exact, 0] = 1.0
        w /= w.sum(axis=1, keepdims=True)
        return np.einsum("nk,nkd->nd", w, self.embedding_[idx])

    def to_json(self) -> dict:
        return {"method": self.method, "n_neighbors": self.n_neighbors, "min_dist": self.min_dist,
                "perplexity": self.perplexity, "seed": self.seed, "spacing_": self.spacing_}

    @classmethod
    def from_json(cls, d: dict, x: np.ndarray, embedding: np.ndarray) -> "StyleMap":
        m = cls(d["method"], int(d["n_neighbors"]), float(d["min_dist"]), float(d["perplexity"]), int(d["seed"]))
        m.X_ = np.ascontiguousarray(x, dtype=np.float64)
        m.embedding_ = np.asarray(embedding, dtype=np.float64)
        m.spacing_ = float(d["spacing_"])
        return m


def typical_spacing(e: np.ndarray, k: int = 5) -> float:
    from sklearn.neighbors import NearestNeighbors

    if len(e) < 2:
        return 0.05
    k = min(k, len(e) - 1)
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(e).kneighbors(e)
    s = float(np.median(dist[:, k]))
    return s if s > 0 else 0.05


@dataclass
class Gap:
    """An empty region of the map: the largest empty disc in it, and what lies around it."""

    id: str
    x: float
    y: float
    radius: float
    cells: int  # lattice cells of the region (its area is cells * cell_size**2)
    neighbours: list[int] = field(default_factory=list)  # point indices nearest the centre
    families: list[list[int]] = field(default_factory=list)  # [family, presets among the neighbours]

    def contains(self, xy: np.ndarray) -> np.ndarray:
        """Whether map positions (n x 2) lie in the gap's empty disc."""
        xy = np.atleast_2d(xy)
        return np.hypot(xy[:, 0] - self.x, xy[:, 1] - self.y) <= self.radius

    def to_json(self) -> dict:
        return {"id": self.id, "x": round(self.x, 5), "y": round(self.y, 5), "radius": round(self.radius, 5),
                "cells": self.cells, "neighbours": self.neighbours, "families": self.families}

    @classmethod
    def from_json(cls, d: dict) -> "Gap":
        return cls(d["id"], float(d["x"]), float(d["y"]), float(d["radius"]), int(d["cells"]),
                   [int(i) for i in d.get("neighbours", [])], [[int(a), int(b)] for a, b in d.get("families", [])])


def density_grid(e: np.ndarray, bandwidth: float, grid: int, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """Gaussian kernel density of the points on the lattice (a histogram smoothed by a Gaussian
    filter: the KDE binned, O(points + cells)). Rows are y, columns x."""
    from scipy.ndimage import gaussian_filter

    x0, x1, y0, y1 = bounds
    h, _, _ = np.histogram2d(e[:, 1], e[:, 0], bins=grid, range=[[y0, y1], [x0, x1]])
    cell = (x1 - x0) / grid
    return gaussian_filter(h, sigma=max(bandwidth / cell, 0.5), mode="constant")


def _lookup(grid_values: np.ndarray, e: np.ndarray, bounds, grid: int) -> np.ndarray:
    x0, x1, y0, y1 = bounds
    i = np.clip(((e[:, 1] - y0) / (y1 - y0) * grid).astype(int), 0, grid - 1)
    j = np.clip(((e[:, 0] - x0) / (x1 - x0) * grid).astype(int), 0, grid - 1)
    return grid_values[i, j]


def find_gaps(e: np.ndarray, labels: np.ndarray | None = None, spacing: float | None = None,
              grid: int = GRID) -> tuple[list[Gap], dict]:
    """The gaps of a map (see the module docstring) and the lattice facts they came from."""
    from scipy.ndimage import label as components
    from scipy.spatial import Delaunay
    from sklearn.neighbors import NearestNeighbors

    n = len(e)
    if n < 10:
        return [], {"grid": grid}
    s = spacing or typical_spacing(e)
    margin = 3 * s
    lo, hi = e.min(axis=0) - margin, e.max(axis=0) + margin
    span = float((hi - lo).max())
    bounds = (float(lo[0]), float(lo[0] + span), float(lo[1]), float(lo[1] + span))
    fine = density_grid(e, FINE * s, grid, bounds)
    coarse = density_grid(e, COARSE * s, grid, bounds)
    fine_level = float(np.median(_lookup(fine, e, bounds, grid)))
    coarse_level = float(np.median(_lookup(coarse, e, bounds, grid)))
    cell = span / grid
    centres_1d = lambda a: a + (np.arange(grid) + 0.5) * cell  # noqa: E731
    gx, gy = np.meshgrid(centres_1d(bounds[0]), centres_1d(bounds[2]))
    centres = np.column_stack([gx.ravel(), gy.ravel()])
    try:
        hull = Delaunay(e).find_simplex(centres).reshape(grid, grid) >= 0
    except Exception:  # noqa: BLE001 - collinear points (qhull refuses): no inside, no gaps
        hull = np.zeros((grid, grid), bool)
    empty = hull & (coarse >= INSIDE * coarse_level) & (fine < EMPTY * fine_level)
    regions, count = components(empty)
    nn = NearestNeighbors(n_neighbors=1).fit(e)
    gaps: list[Gap] = []
    for r in range(1, count + 1):
        cells = np.flatnonzero(regions.ravel() == r)
        dist, _ = nn.kneighbors(centres[cells])
        best = int(np.argmax(dist[:, 0]))
        radius = float(dist[best, 0])
        if radius < MIN_RADIUS * s:
            continue
        cx, cy = centres[cells[best]]
        if enclosure(e, (cx, cy), radius) < ENCLOSED:
            continue
        gaps.append(Gap("", float(cx), float(cy), radius, int(len(cells))))
    gaps.sort(key=lambda g: (-g.radius, g.x, g.y))
    gaps = gaps[:MAX_GAPS]
    finder = NearestNeighbors().fit(e)
    for k, g in enumerate(gaps, 1):
        g.id = f"G{k}"
        d, idx = finder.kneighbors([[g.x, g.y]], n_neighbors=min(n, max(GAP_NEIGHBOURS, 40)))
        near = idx[0][(d[0] <= 1.5 * g.radius) | (np.arange(len(d[0])) < GAP_NEIGHBOURS)]
        g.neighbours = [int(i) for i in near]
        if labels is not None:
            fams, counts = np.unique(labels[near][labels[near] >= 0], return_counts=True)
            order = np.argsort(-counts, kind="stable")
            g.families = [[int(fams[i]), int(counts[i])] for i in order]
    facts = {"grid": grid, "bounds": list(bounds), "spacing": s, "fine_bandwidth": FINE * s,
             "coarse_bandwidth": COARSE * s, "empty_below": EMPTY * fine_level, "inside_above": INSIDE * coarse_level}
    return gaps, facts


def enclosure(e: np.ndarray, centre, radius: float, sectors: int = SECTORS) -> float:
    """Share of the directions around ``centre`` in which a preset lies within RIM radii: a
    hole in the collection is surrounded; the space beside an outlying island is not."""
    d = e - np.asarray(centre, dtype=np.float64)
    r = np.hypot(d[:, 0], d[:, 1])
    near = (r <= RIM * radius) & (r > 0)
    if not near.any():
        return 0.0
    angle = np.arctan2(d[near, 1], d[near, 0])
    hit = np.unique(((angle + np.pi) / (2 * np.pi) * sectors).astype(int) % sectors)
    return len(hit) / sectors


def trustworthiness(x: np.ndarray, e: np.ndarray, k: int = 10, sample: int = 2000, seed: int = 0) -> float:
    """How far the map's neighbourhoods are true ones (scikit-learn's trustworthiness, 1 best), on
    a fixed random sample so it costs the same for any collection size."""
    from sklearn.manifold import trustworthiness as tw

    n = len(x)
    if n <= k + 2:
        return float("nan")
    idx = np.sort(np.random.default_rng(seed).choice(n, size=min(n, sample), replace=False))
    return float(tw(x[idx], e[idx], n_neighbors=min(k, len(idx) // 2 - 1)))
