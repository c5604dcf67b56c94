"""Style families: HDBSCAN (scikit-learn's) on the standardised feature space, its parameters
chosen by how reproducible the families are, and a rule that places a new preset.

**Choosing the parameters.** HDBSCAN needs ``min_cluster_size`` (the smallest group worth calling
a family) and ``min_samples`` (how conservative the density estimate is). Neither is tuned
against anyone's folder names: each candidate pair is fitted on all presets and on
``resamples`` random halves (subsamples without replacement; a bootstrap with replacement would
put copies of a preset at distance 0 and make spurious dense cores), with ``min_cluster_size``
halved there too, and its **stability** is the mean adjusted Rand index between the half's
families and the full fit's on the same presets (noise counted as a label of its own, so a
setting that flips presets between a family and noise scores low). The chosen setting is the most
stable one that finds at least two families and leaves at most MAX_NOISE of the presets as
noise; among settings within TOLERANCE of that stability, the one with more families wins (a
finer map that reproduces as well). Candidate sizes are fractions of the collection, so the same
rule serves 200 presets and 100,000.

**Placing a new preset** (:meth:`StyleClusterer.predict`). HDBSCAN itself only labels the points
it was fitted on. A new point's mutual-reachability distance to a fitted point is
max(its core distance, theirs, their distance); it joins the family of the fitted point at the
smallest such distance if that distance is no larger than the family's ``radius_``: the largest
mutual-reachability step any member needs to reach a fellow member (so a newcomer is held to the
standard of the family's loosest member). Otherwise it is noise; :meth:`nearest` still says which
family it is closest to and how far outside it lies.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

NOISE = -1
SIZE_FRACTIONS = (0.005, 0.01, 0.02, 0.04)
MIN_SAMPLES = (5, 10)
MIN_SIZE = 5
RESAMPLES = 4
RESAMPLE_FRACTION = 0.5
TOLERANCE = 0.1
MAX_NOISE = 0.6
NEIGHBOURS = 20  # fitted points searched when placing a new one


def _hdbscan(min_cluster_size: int, min_samples: int):
    from sklearn.cluster import HDBSCAN

    return HDBSCAN(min_cluster_size=int(min_cluster_size), min_samples=int(min_samples), copy=True)


def fit_hdbscan(x: np.ndarray, min_cluster_size: int, min_samples: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _hdbscan(min(min_cluster_size, len(x)), min(min_samples, len(x) - 1)).fit(x)


def hdbscan_labels(x: np.ndarray, min_cluster_size: int, min_samples: int) -> np.ndarray:
    return fit_hdbscan(x, min_cluster_size, min_samples).labels_.astype(np.int64)


def candidate_settings(n: int, fractions=SIZE_FRACTIONS, min_samples=MIN_SAMPLES) -> list[tuple[int, int]]:
    """(min_cluster_size, min_samples) pairs scaled to ``n`` presets, each once."""
    sizes = sorted({max(MIN_SIZE, int(round(f * n))) for f in fractions if f * n <= n / 2})
    sizes = sizes or [MIN_SIZE]
    return [(s, m) for s in sizes for m in min_samples]


def n_families(labels: np.ndarray) -> int:
    return int(len(np.unique(labels[labels != NOISE])))


def stability(x: np.ndarray, labels: np.ndarray, min_cluster_size: int, min_samples: int, resamples: int,
              fraction: float, rng: np.random.Generator) -> list[float]:
    """Adjusted Rand index of each half-sample fit against ``labels`` on the same presets."""
    from sklearn.metrics import adjusted_rand_score

    n = len(x)
    m = max(2 * MIN_SIZE, int(round(fraction * n)))
    scores = []
    for _ in range(resamples):
        idx = np.sort(rng.choice(n, size=min(m, n), replace=False))
        sub = hdbscan_labels(x[idx], max(2, int(round(min_cluster_size * fraction))),
                             max(1, int(round(min_samples * max(fraction, 0.5)))))
        scores.append(float(adjusted_rand_score(labels[idx], sub)))
    return scores


def choose(table: list[dict], tolerance: float = TOLERANCE, max_noise: float = MAX_NOISE) -> int:
    """Index of the chosen row of a candidate table (see the module docstring)."""
    ok = [i for i, r in enumerate(table) if r["families"] >= 2 and r["noise"] <= max_noise]
    if not ok:  # nothing qualifies: the most families, then the most stable
        return max(range(len(table)), key=lambda i: (table[i]["families"], table[i]["stability"]))
    best = max(table[i]["stability"] for i in ok)
    near = [i for i in ok if table[i]["stability"] >= best - tolerance]
    return max(near, key=lambda i: (table[i]["families"], table[i]["stability"], -i))


@dataclass
class StyleClusterer:
    """HDBSCAN families with stability-chosen parameters; fit / predict / fit_predict.

    ``min_cluster_size``/``min_samples`` fix the setting (no search); left None, both are chosen
    from :func:`candidate_settings`. Learned: ``labels_`` (NOISE = -1), ``probabilities_``,
    ``min_cluster_size_``, ``min_samples_``, ``stability_`` (mean ARI of the chosen setting),
    ``stability_scores_``, ``candidates_`` (every setting tried, with its stability, families and
    noise), and for :meth:`predict`: ``X_``, ``core_distances_`` and ``radius_`` per family."""

    min_cluster_size: int | None = None
    min_samples: int | None = None
    resamples: int = RESAMPLES
    resample_fraction: float = RESAMPLE_FRACTION
    seed: int = 0
    size_fractions: tuple[float, ...] = SIZE_FRACTIONS
    min_samples_choices: tuple[int, ...] = MIN_SAMPLES
    candidates_: list[dict] = field(default_factory=list, init=False, repr=False)

    def fit(self, x: np.ndarray, progress=None) -> "StyleClusterer":
        x = np.ascontiguousarray(x, dtype=np.float64)
        if len(x) < 2 * MIN_SIZE:
            raise ValueError(f"need at least {2 * MIN_SIZE} presets to find families, got {len(x)}")
        rng = np.random.default_rng(self.seed)
        if self.min_cluster_size is not None:
            settings = [(int(self.min_cluster_size), int(self.min_samples or min(10, self.min_cluster_size)))]
        else:
            settings = candidate_settings(len(x), self.size_fractions, self.min_samples_choices)
        self.candidates_, fits = [], []
        for k, (size, samples) in enumerate(settings):
            model = fit_hdbscan(x, size, samples)
            labels = model.labels_.astype(np.int64)
            scores = stability(x, labels, size, samples, self.resamples, self.resample_fraction, rng) \
                if self.resamples else []
            self.candidates_.append({"min_cluster_size": size, "min_samples": samples, "families": n_families(labels),
                                     "noise": float(np.mean(labels == NOISE)),
                                     "stability": float(np.mean(scores)) if scores else float("nan"),
                                     "stability_std": float(np.std(scores)) if scores else float("nan")})
            fits.append((model, scores))
            if progress is not None:
                progress("choose", k + 1, len(settings))
        best = choose(self.candidates_) if self.resamples and len(settings) > 1 else 0
        self.min_cluster_size_, self.min_samples_ = settings[best]
        final, self.stability_scores_ = fits[best]
        self.stability_ = self.candidates_[best]["stability"]
        self.candidates_[best]["chosen"] = True
        self.labels_ = final.labels_.astype(np.int64)
        self.probabilities_ = final.probabilities_.astype(np.float64)
        self._fit_placement(x)
        return self

    def _fit_placement(self, x: np.ndarray) -> None:
        from sklearn.neighbors import NearestNeighbors

        self.X_ = x
        k = min(len(x), max(self.min_samples_, NEIGHBOURS) + 1)
        dist, idx = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
        # HDBSCAN's core distance counts the point itself as its first neighbour
        self.core_distances_ = dist[:, min(self.min_samples_, k) - 1].copy()
        mr = np.maximum(np.maximum(dist, self.core_distances_[:, None]), self.core_distances_[idx])
        same = (self.labels_[idx] == self.labels_[:, None]) & (np.arange(k) > 0)[None, :]
        step = np.where(same, mr, np.inf).min(axis=1)
        self.radius_ = {}
        for fam in np.unique(self.labels_[self.labels_ != NOISE]):
            members = self.labels_ == fam
            s = step[members]
            s = s[np.isfinite(s)]
            self.radius_[int(fam)] = float(s.max()) if len(s) else float(self.core_distances_[members].max())

    def fit_predict(self, x: np.ndarray) -> np.ndarray:
        return self.fit(x).labels_

    def nearest(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """For each row: the closest family by mutual reachability (``family``; NOISE when the
        closest fitted point is noise), that distance (``reach``), the family's radius, and the
        index of the fitted point it was reached through (``via``)."""
        from sklearn.neighbors import NearestNeighbors

        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        k = min(len(self.X_), max(self.min_samples_, NEIGHBOURS))
        dist, idx = NearestNeighbors(n_neighbors=k).fit(self.X_).kneighbors(x)
        # the new point is not among the fitted ones, so its (min_samples - 1)-th neighbour there
        # is its min_samples-th counting itself
        core = dist[:, max(0, min(self.min_samples_, k) - 2)]
        mr = np.maximum(np.maximum(dist, core[:, None]), self.core_distances_[idx])
        fam = self.labels_[idx]
        clustered = np.where(fam != NOISE, mr, np.inf)
        j = np.where(np.isfinite(clustered).any(axis=1), clustered.argmin(axis=1), mr.argmin(axis=1))
        rows = np.arange(len(x))
        family = fam[rows, j]
        reach = mr[rows, j]
        radius = np.array([self.radius_.get(int(f), np.nan) for f in family])
        return {"family": family, "reach": reach, "radius": radius, "via": idx[rows, j], "distance": dist[rows, j]}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The family of each row, or NOISE (see the module docstring)."""
        near = self.nearest(x)
        inside = (near["family"] != NOISE) & (near["reach"] <= near["radius"] * (1 + 1e-9))
        return np.where(inside, near["family"], NOISE).astype(np.int64)

    def relabel(self, mapping: dict[int, int]) -> "StyleClusterer":
        """Rename families (old id -> new id; noise stays): ids that must stay stable across fits."""
        self.labels_ = np.array([mapping.get(int(v), int(v)) if v != NOISE else NOISE for v in self.labels_],
                                dtype=np.int64)
        self.radius_ = {mapping.get(k, k): v for k, v in self.radius_.items()}
        return self

    def to_json(self) -> dict:
        """Parameters and small learned state; the per-preset arrays (``X_``, ``labels_``,
        ``probabilities_``, ``core_distances_``) are saved beside it as a table."""
        return {"min_cluster_size": self.min_cluster_size, "min_samples": self.min_samples,
                "resamples": self.resamples, "resample_fraction": self.resample_fraction, "seed": self.seed,
                "size_fractions": list(self.size_fractions), "min_samples_choices": list(self.min_samples_choices),
                "min_cluster_size_": int(self.min_cluster_size_), "min_samples_": int(self.min_samples_),
                "stability_": _num(self.stability_), "stability_scores_": [float(s) for s in self.stability_scores_],
                "candidates_": self.candidates_, "radius_": {str(k): v for k, v in self.radius_.items()}}

    @classmethod
    def from_json(cls, d: dict, x: np.ndarray, labels: np.ndarray, probabilities: np.ndarray,
                  core_distances: np.ndarray) -> "StyleClusterer":
        c = cls(d.get("min_cluster_size"), d.get("min_samples"), int(d["resamples"]), float(d["resample_fraction"]),
                int(d["seed"]), tuple(d["size_fractions"]), tuple(d["min_samples_choices"]))
        c.min_cluster_size_, c.min_samples_ = int(d["min_cluster_size_"]), int(d["min_samples_"])
        c.stability_ = float("nan") if d.get("stability_") is None else float(d["stability_"])
        c.stability_scores_ = list(d.get("stability_scores_", []))
        c.candidates_ = list(d.get("candidates_", []))
        c.radius_ = {int(k): float(v) for k, v in d["radius_"].items()}
        c.X_ = np.ascontiguousarray(x, dtype=np.float64)
        c.labels_ = np.asarray(labels, dtype=np.int64)
        c.probabilities_ = np.asarray(probabilities, dtype=np.float64)
        c.core_distances_ = np.asarray(core_distances, dtype=np.float64)
        return c


def _num(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)
