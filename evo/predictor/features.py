"""What the taste model sees of a candidate: a fixed list of numbers, each with a name.

Two families of features, because the model is asked two questions:

- **look** features (``stat_*``, ``desc_*``): the image statistics and behaviour descriptors of
  the candidate's render; they say what people actually saw;
- **genome** features (``param_*``, ``code_*``, ``has_*``): its parameters on their typical
  ranges and what blocks it carries (equations, waves, shapes, shaders); they are known before
  any rendering, so pre-screening can rank children that were never rendered.

A model file stores the names it was trained on, and features are always looked up by name, so
a statistic added later reads 0 in an old model rather than shifting every column.
"""

from __future__ import annotations

import math

import numpy as np

from evo.fitness.descriptors import DESCRIPTOR_NAMES

LOOK_STATS = ("luma_mean", "luma_std", "luma_flicker", "entropy", "colourfulness", "colour_std", "edge_density",
              "spatial_corr", "compress_ratio", "frac_dark", "frac_bright", "change_mean", "change_max", "reactivity")
STAT_SCALE = {"entropy": 8.0, "colourfulness": 110.0}
GENOME_PARAMS = ("zoom", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy", "fDecay", "fGammaAdj", "fVideoEchoAlpha",
                 "fVideoEchoZoom", "nVideoEchoOrientation", "nWaveMode", "fWaveAlpha", "fWaveScale", "fWaveSmoothing",
                 "wave_r", "wave_g", "wave_b", "bAdditiveWaves", "bWaveDots", "bMaximizeWaveColor", "bTexWrap",
                 "bDarkenCenter", "bBrighten", "bDarken", "bSolarize", "bInvert", "fWarpAnimSpeed", "fWarpScale",
                 "fZoomExponent", "ob_size", "ob_a", "ib_size", "ib_a", "mv_a")

LOOK_FEATURES = tuple(f"stat_{k}" for k in LOOK_STATS) + tuple(f"desc_{k}" for k in DESCRIPTOR_NAMES)
GENOME_FEATURES = (tuple(f"param_{k}" for k in GENOME_PARAMS)
                   + ("code_per_frame_lines", "code_per_pixel_lines", "code_init_lines", "has_per_pixel",
                      "waves_enabled", "shapes_enabled", "has_warp_shader", "has_comp_shader"))
ALL_FEATURES = LOOK_FEATURES + GENOME_FEATURES


def look_features(stats: dict, descriptors: dict) -> dict[str, float]:
    out = {}
    for k in LOOK_STATS:
        v = float(stats.get(k, 0.0) or 0.0)
        out[f"stat_{k}"] = v / STAT_SCALE.get(k, 1.0)
    for k in DESCRIPTOR_NAMES:
        out[f"desc_{k}"] = float(descriptors.get(k, 0.0) or 0.0)
    return {k: (v if math.isfinite(v) else 0.0) for k, v in out.items()}


def genome_features(genome: dict) -> dict[str, float]:
    """From a genome's JSON form (what checkpoints hold): parameters on their typical ranges,
    clipped to half a range beyond (slider extremes would dominate), and its blocks counted."""
    from renderer.milk.params import SCHEMA

    params = genome.get("params") or {}
    out = {}
    for k in GENOME_PARAMS:
        spec = SCHEMA[k]
        lo, hi = spec.typical
        width = float(hi - lo) or 1.0
        v = float(params.get(k, spec.default))
        out[f"param_{k}"] = float(np.clip((v - lo) / width, -0.5, 1.5)) if math.isfinite(v) else 0.5
    waves = genome.get("waves") or []
    shapes = genome.get("shapes") or []
    out.update({
        "code_per_frame_lines": math.log1p(len(genome.get("per_frame_code") or [])),
        "code_per_pixel_lines": math.log1p(len(genome.get("per_pixel_code") or [])),
        "code_init_lines": math.log1p(len(genome.get("init_code") or [])),
        "has_per_pixel": float(bool(genome.get("per_pixel_code"))),
        "waves_enabled": float(sum(bool((w.get("params") or {}).get("enabled")) for w in waves)),
        "shapes_enabled": float(sum(bool((s.get("params") or {}).get("enabled")) for s in shapes)),
        "has_warp_shader": float(bool((genome.get("warp") or {}).get("text", "").strip())),
        "has_comp_shader": float(bool((genome.get("comp") or {}).get("text", "").strip())),
    })
    return out


def record_features(record) -> dict[str, float]:
    """All features of a checkpoint IndividualRecord (or anything with stats, descriptors, genome)."""
    return {**look_features(record.stats or {}, getattr(record, "descriptors", None) or {}),
            **genome_features(record.genome)}


def matrix(rows: list[dict[str, float]], names: tuple[str, ...]) -> np.ndarray:
    """Rows of named features as an (n, len(names)) array (a missing name reads 0)."""
    return np.array([[float(r.get(n, 0.0)) for n in names] for r in rows], dtype=np.float64).reshape(len(rows),
                                                                                                      len(names))
