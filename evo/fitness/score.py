"""Machine score: a candidate's image statistics turned into one number.

The score (documented here because people tune it in the config's ``[fitness.weights]``):

    score = 0.01 + 0.99 * sum_k(w_k * d_k) / sum_k(w_k)        for a healthy candidate
    score = 0.0  (WORST_SCORE)                                   degenerate, failed or timed out

where each *feature* ``d_k`` in [0, 1] is one statistic from :mod:`evo.fitness.statistics` passed
through a trapezoid "desirability" band (``FEATURES``): 0 outside ``(lo0, hi0)``, rising to 1 on
``[lo1, hi1]``. Bands, not raw values, because every statistic is bad at both extremes (no edges
is dull, all edges is noise). The 0.01 floor keeps every healthy candidate strictly better than
every degenerate one, so selection never prefers a black screen.
"""

from __future__ import annotations

import numpy as np

from evo.fitness.bands import fitted_features
from evo.fitness.statistics import degenerate_reason

WORST_SCORE = 0.0
HEALTHY_FLOOR = 0.01

# feature name -> (statistic, (lo0, lo1, hi1, hi0))
FEATURES: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "entropy": ("entropy", (2.0, 5.0, 7.6, 8.01)),  # bits of the luma histogram
    "colorfulness": ("colourfulness", (4.0, 35.0, 110.0, 170.0)),  # Hasler-Suesstrunk units
    "edge_density": ("edge_density", (0.004, 0.04, 0.35, 0.75)),  # share of edge pixels
    "compressibility": ("compress_ratio", (0.04, 0.2, 0.75, 0.98)),  # zlib-1 ratio: structure, not noise
    "temporal_change": ("change_mean", (0.002, 0.02, 0.15, 0.45)),  # motion between sampled frames
    "audio_reactivity": ("reactivity", (0.0, 0.7, 1.0, 1.01)),  # change vs bass: more is better
    "beat_sync": ("beat_lock", (-0.01, 0.6, 1.0, 1.01)),  # pulses on the song's beats (only with a song)
    "luminance_spread": ("luma_std", (0.01, 0.1, 0.5, 0.51)),  # contrast
    "brightness": ("luma_mean", (0.02, 0.12, 0.6, 0.92)),  # neither murky nor washed out
    "steadiness": ("luma_flicker", (-0.01, 0.0, 0.1, 0.3)),  # penalises strobing
}
# The band numbers in use: fitted from the corpus (evo/fitness/bands.json, `liandan bands`); the
# table above is the fallback for a missing file or a feature it does not name.
FEATURES = fitted_features(FEATURES)


def band(x: float, lo0: float, lo1: float, hi1: float, hi0: float) -> float:
    """Trapezoid desirability: 0 at/below lo0, 1 on [lo1, hi1], 0 at/above hi0."""
    if not np.isfinite(x) or x <= lo0 or x >= hi0:
        return 0.0
    if x < lo1:
        return (x - lo0) / (lo1 - lo0)
    if x > hi1:
        return (hi0 - x) / (hi0 - hi1)
    return 1.0


def features(stats: dict[str, float]) -> dict[str, float]:
    return {name: band(float(stats[stat]), *b) for name, (stat, b) in FEATURES.items() if stat in stats}


def score_stats(stats: dict[str, float], weights: dict[str, float]) -> tuple[float, str | None]:
    """(score, degenerate reason) for one candidate's statistics; see the module docstring."""
    reason = degenerate_reason(stats)
    if reason is not None:
        return WORST_SCORE, reason
    feats = features(stats)
    # in name order: the sum does not depend on the order the config file lists the weights
    used = {k: float(w) for k, w in sorted(weights.items()) if k in feats and w > 0}
    if not used:
        return HEALTHY_FLOOR, None
    total = sum(used.values())
    value = sum(w * feats[k] for k, w in used.items()) / total
    return HEALTHY_FLOOR + (1.0 - HEALTHY_FLOOR) * value, None
