"""Machine score: a candidate's image statistics turned into one number.

The score (documented here because people tune it in the config's ``[fitness.weights]``):

    score   = 0.01 + 0.99 * quality * safety                   for a healthy candidate
    score   = 0.0  (WORST_SCORE)                                degenerate, failed or timed out
    quality = sum_k(w_k * g_k) / sum_k(w_k)
    g_k     = band_k(x_k) * (1 - TOP_SHARE * (1 - sweet_k(x_k)))
    safety  = flashing * white * dark                           each in (0, 1], 1 = no penalty

Each *feature* is one statistic ``x_k`` from :mod:`evo.fitness.statistics` passed through a
trapezoid "desirability" band (``FEATURES``): 0 outside ``(lo0, hi0)``, rising to 1 on
``[lo1, hi1]``. Bands, not raw values, because every statistic is bad at both extremes (no edges
is dull, all edges is noise). The 0.01 floor keeps every healthy candidate strictly better than
every degenerate one, so selection never prefers a black screen.

*No plateau at the top.* With flat-topped bands alone, any candidate whose statistics all sit
somewhere in their bands scores exactly 1.0: after a few generations the best individuals tie,
the score no longer tells good from better, and selection copies whichever look got there
first. So the top of each band is a gentle dome: ``sweet_k`` is 1 at the band's sweet spot and
falls quadratically to 0 at its shoulders ``lo1``/``hi1``, and ``TOP_SHARE`` (0.3) of a feature
depends on it. The sweet spot is the middle of ``[lo1, hi1]`` (with bands fitted on the corpus,
its typical value), except for the features whose meaning has a direction: ``MORE_IS_BETTER``
(audio reactivity, beat sync) peak at ``hi1``, ``LESS_IS_BETTER`` (steadiness: flicker) at
``lo1``. Named, not read off the numbers, so refitted bands keep their meaning. A candidate thus
reaches 1.0 only with every statistic at its sweet spot; elsewhere the score keeps a gradient.

*Safety* (:mod:`evo.fitness.safety`) multiplies the quality down, never to zero:

    flashing = 1                                   flash_rate <= 3 per second (WCAG 2.3.1)
             = 0.5 * (1 - 0.8 * min(1, (rate - 3) / 6))   above: halved at once, 0.1 at 9/s
    white    = 1 - 0.7 * ramp(frac_bright, 0.15, 0.6)      near-white share of the picture
    dark     = 1 - 0.5 * ramp(frac_dark, 0.8, 0.98)        near-black share of the picture

where ``ramp(x, a, b)`` rises linearly from 0 at ``a`` to 1 at ``b``. A statistic missing from
the stats (older records) skips its feature or penalty.
"""

from __future__ import annotations

import numpy as np

from evo.fitness.bands import fitted_features
from evo.fitness.safety import FLASH_LIMIT
from evo.fitness.statistics import degenerate_reason

WORST_SCORE = 0.0
HEALTHY_FLOOR = 0.01
TOP_SHARE = 0.3  # share of each feature that depends on how close it is to its band's sweet spot
MORE_IS_BETTER = frozenset({"audio_reactivity", "beat_sync"})  # sweet spot at the top of the band
LESS_IS_BETTER = frozenset({"steadiness"})  # sweet spot at the bottom of the band
# statistic -> (allowed share, share where the penalty is full, largest penalty)
AREA_PENALTIES: dict[str, tuple[float, float, float]] = {
    "frac_bright": (0.15, 0.6, 0.7),  # near-white (luma > 245)
    "frac_dark": (0.8, 0.98, 0.5),  # near-black (luma < 10)
}

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


def sweet_spot(x: float, lo1: float, hi1: float, direction: int = 0) -> float:
    """1 at the sweet spot of the band top ``[lo1, hi1]`` (its middle; its top end for
    ``direction`` +1, its bottom end for -1), falling quadratically to 0 at the other shoulder(s);
    0 outside the top (see the module docstring)."""
    if not np.isfinite(x) or x < lo1 or x > hi1:
        return 0.0
    if hi1 <= lo1:
        return 1.0
    if direction > 0:
        centre, half = hi1, hi1 - lo1
    elif direction < 0:
        centre, half = lo1, hi1 - lo1
    else:
        centre, half = 0.5 * (lo1 + hi1), 0.5 * (hi1 - lo1)
    return float(max(0.0, 1.0 - ((x - centre) / half) ** 2))


def direction_of(feature: str) -> int:
    return 1 if feature in MORE_IS_BETTER else -1 if feature in LESS_IS_BETTER else 0


def feature_value(x: float, b: tuple[float, float, float, float], direction: int = 0) -> float:
    """``g_k``: the band, with the dome of its top (module docstring)."""
    return band(x, *b) * (1.0 - TOP_SHARE * (1.0 - sweet_spot(x, b[1], b[2], direction)))


def features(stats: dict[str, float]) -> dict[str, float]:
    """Each feature's ``g_k`` in [0, 1] for the statistics present."""
    return {name: feature_value(float(stats[stat]), b, direction_of(name))
            for name, (stat, b) in FEATURES.items() if stat in stats}


def ramp(x: float, start: float, full: float) -> float:
    return float(np.clip((x - start) / (full - start), 0.0, 1.0)) if np.isfinite(x) else 0.0


def safety_factors(stats: dict[str, float]) -> dict[str, float]:
    """The penalty factors (1 = none) that apply to these statistics: ``flashing``, and one per
    AREA_PENALTIES statistic present."""
    out = {}
    if "flash_rate" in stats:
        rate = float(stats["flash_rate"])
        out["flashing"] = 1.0 if not rate > FLASH_LIMIT else 0.5 * (1.0 - 0.8 * ramp(rate, FLASH_LIMIT, FLASH_LIMIT + 6))
    for stat, (start, full, most) in AREA_PENALTIES.items():
        if stat in stats:
            out[stat] = 1.0 - most * ramp(float(stats[stat]), start, full)
    return out


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
    quality = sum(w * feats[k] for k, w in used.items()) / total
    safety = float(np.prod(list(safety_factors(stats).values()) or [1.0]))
    return HEALTHY_FLOOR + (1.0 - HEALTHY_FLOOR) * quality * safety, None
