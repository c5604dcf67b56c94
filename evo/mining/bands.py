"""Fitness bands fitted from a corpus dataset: the score's target ranges where real presets live.

For each feature of the score (evo.fitness.score: name -> statistic, band) the band is read off
the distribution of that statistic over the dataset's healthy presets (rendered, not degenerate,
one row per distinct content):

    central  (most features: too little and too much are both bad)
             lo0 = q2, lo1 = q20, hi1 = q80, hi0 = q98: the middle 60% of real presets score 1,
             the outer 2% on each side 0
    more     (audio reactivity: more is better) lo0 = q5, lo1 = q60; the top keeps the band's
             current (physical) limit
    less     (flicker: less is better) hi1 = q60, hi0 = q98; the bottom keeps its current limit

Statistics depend on the render size and length (edge density and compressibility most), so a
fit refuses a dataset rendered at other settings than the fitness's unless forced.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from evo.fitness.bands import BANDS_FORMAT
from evo.mining.dataset import healthy_rows

QUANTILES = {"central": (0.02, 0.20, 0.80, 0.98), "more": (0.05, 0.60, None, None), "less": (None, None, 0.60, 0.98)}
SHAPES = {"audio_reactivity": "more", "steadiness": "less"}
MIN_PRESETS = 30


class BandsError(ValueError):
    pass


def fit_band(values: np.ndarray, shape: str, previous: tuple[float, float, float, float]) -> tuple[float, ...]:
    """One band from one statistic's values (see the module docstring); strictly increasing
    where the data would make two edges meet."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    qs = QUANTILES[shape]
    band = [float(np.quantile(v, q)) if q is not None else float(p) for q, p in zip(qs, previous)]
    gap = max(1e-3 * (band[3] - band[0]), 1e-5)  # survives the rounding to 6 decimals below
    for i in (1, 2, 3):  # lo0 < lo1 <= hi1 < hi0
        floor = band[i - 1] + (0.0 if i == 2 else gap)
        band[i] = max(band[i], floor)
    return tuple(round(b, 6) for b in band)


def fit_bands(df, previous: dict | None = None) -> dict:
    """``{feature: {"statistic", "shape", "band", "previous"}}`` from a dataset's DataFrame;
    ``previous`` (default: the score's bands in use) gives the sides a shape keeps."""
    from evo.fitness.score import FEATURES

    previous = dict(previous or FEATURES)
    rows = healthy_rows(df)
    if len(rows) < MIN_PRESETS:
        raise BandsError(f"only {len(rows)} healthy rendered presets; bands need at least {MIN_PRESETS}")
    out = {}
    for name, (stat, before) in previous.items():
        col = f"stat_{stat}"
        if col not in rows:
            continue
        shape = SHAPES.get(name, "central")
        out[name] = {"statistic": stat, "shape": shape, "band": list(fit_band(rows[col].to_numpy(), shape, before)),
                     "previous": list(before)}
    return {"features": out, "presets": int(len(rows))}


def settings_mismatch(meta: dict) -> str | None:
    """Why a dataset's render differs from the fitness's (None when it matches)."""
    from evo.config import load_config

    render = (meta.get("render") or {}).get("settings")
    if not render:
        return "the dataset was mined without rendering (--no-render)"
    f = load_config().fitness
    want = {"width": f.width, "height": f.height, "frames": f.frames, "fps": f.fps, "sample_every": f.sample_every,
            "static_every": f.static_every, "skip": f.skip}
    diff = [f"{k} {render.get(k)} (fitness: {v})" for k, v in want.items() if render.get(k) != v]
    return ", ".join(diff) or None


def fit_bands_file(dataset: str | Path, target: str | Path, force: bool = False) -> dict:
    """Fit bands from a dataset folder and write them as a bands file (evo.fitness.bands)."""
    from evo.mining.dataset import DatasetError, load_dataset, read_meta
    from renderer.output.files import atomic_write_bytes

    try:
        meta = read_meta(dataset)
        df = load_dataset(dataset)
    except DatasetError as exc:
        raise BandsError(str(exc)) from exc
    why = settings_mismatch(meta)
    if why and not force:
        raise BandsError(f"{dataset}: rendered at other settings than the fitness: {why}. Statistics depend on "
                         "them: mine with the fitness's settings (e.g. --size 128x128 --frames 90) or pass --force")
    fitted = fit_bands(df)
    doc = {
        "format": BANDS_FORMAT,
        "about": "Target band [lo0, lo1, hi1, hi0] of each score feature, fitted from a corpus dataset by "
                 "`liandan bands` (evo/mining/bands.py); previous is the band in use before this fit.",
        "fitted_from": {"dataset": str(Path(dataset).resolve()), "inputs": meta.get("inputs"),
                        "presets": fitted["presets"], "render": (meta.get("render") or {}).get("described"),
                        "quantiles": {k: list(v) for k, v in QUANTILES.items()}, "settings_mismatch": why},
        "features": fitted["features"],
    }
    for entry in doc["features"].values():
        if not all(math.isfinite(x) for x in entry["band"]):
            raise BandsError(f"{dataset}: a fitted band is not finite: {entry}")
    atomic_write_bytes(target, (json.dumps(doc, indent=1) + "\n").encode())
    return doc
