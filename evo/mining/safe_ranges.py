"""Safe parameter ranges: where real, healthy presets put each numeric parameter, as JSON that
evolution reads (``ga.safe_ranges`` in a run's config; evo.operators).

MilkDrop's valid ranges say what a player accepts (zoom 0.01..100); they say nothing about what
looks good, so a gaussian step scaled to them wanders into black or white-out screens. From a
corpus dataset, per parameter (waves and shapes pooled over their four slots as ``wavecode_K_x``
and ``shapecode_K_x``), over the healthy presets that set it (rendered, not degenerate, one per
distinct content; only enabled waves and shapes) and whose per-frame or per-pixel code does not
assign it (there the file's value never shows: a third of projectm-data overwrites zoom every frame):

    lo, hi     the 2.5th and 97.5th percentile: a mutation step never takes a value further out of
               [lo, hi] than it was (a seed's own extreme value is kept, no new ones are made)
    typical    the 10th and 90th percentile: a step's size is a fraction of this width
    limits     the smallest and largest value any of them uses: repair clamps into these, so no
               healthy corpus preset is ever changed by repair, and nothing strays past them
    n          how many presets the range stands on; under MIN_PRESETS the schema's ranges stay

Every range is clipped to MilkDrop's valid range and widened to hold the default. Importing this
module is cheap (no pandas): evo.operators reads the file through :func:`load_safe_ranges`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from renderer.milk.params import SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA, ParamSpec

SAFE_RANGES_FORMAT = 1
MIN_PRESETS = 20
SKIPPED = frozenset({"fRating"})  # no effect on the picture (evo.operators.INERT)

_INDEXED = re.compile(r"^(wavecode|shapecode)_(\d+)_(\w+)$")


class SafeRangesError(ValueError):
    pass


@dataclass(frozen=True)
class SafeRange:
    lo: float
    hi: float
    typical: tuple[float, float]
    limits: tuple[float, float]

    @property
    def width(self) -> float:
        return self.typical[1] - self.typical[0]


@dataclass(frozen=True)
class SafeRanges:
    """Ranges by key (base keys as they are; wave and shape keys folded to ``wavecode_K_x``)."""

    ranges: dict[str, SafeRange]
    source: str = ""

    def for_key(self, full_key: str) -> SafeRange | None:
        return self.ranges.get(fold_key(full_key))

    def __len__(self) -> int:
        return len(self.ranges)


def fold_key(full_key: str) -> str:
    """``wavecode_2_samples`` -> ``wavecode_K_samples``; base keys unchanged."""
    m = _INDEXED.match(full_key)
    return f"{m.group(1)}_K_{m.group(3)}" if m else full_key


def numeric_specs() -> dict[str, ParamSpec]:
    """Folded key -> spec of every numeric (float/int) parameter that can show in a picture."""
    out = {k: s for k, s in SCHEMA.items() if s.type in ("float", "int") and k not in SKIPPED}
    out.update({f"wavecode_K_{k}": s for k, s in WAVE_SCHEMA.items() if s.type in ("float", "int")})
    out.update({f"shapecode_K_{k}": s for k, s in SHAPE_SCHEMA.items() if s.type in ("float", "int")})
    return out


# ---------------------------------------------------------------- reading (what evo uses)


def load_safe_ranges(path: str | Path) -> SafeRanges:
    """Read a safe-ranges file; SafeRangesError names the file and the entry that is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise SafeRangesError(f"{path}: cannot read safe ranges: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != SAFE_RANGES_FORMAT or not isinstance(data.get("params"), dict):
        raise SafeRangesError(f"{path}: not a safe-ranges file of format {SAFE_RANGES_FORMAT}")
    specs = numeric_specs()
    out = {}
    for key, e in data["params"].items():
        if key not in specs:
            raise SafeRangesError(f"{path}: {key!r} is not a numeric MilkDrop parameter")
        try:
            r = SafeRange(float(e["lo"]), float(e["hi"]), (float(e["typical"][0]), float(e["typical"][1])),
                          (float(e["limits"][0]), float(e["limits"][1])))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise SafeRangesError(f"{path}: {key}: needs lo, hi, typical [a, b] and limits [a, b]") from exc
        nums = (r.lo, r.hi, *r.typical, *r.limits)
        lo_v, hi_v = specs[key].valid
        if not all(math.isfinite(x) for x in nums) or not (
                lo_v <= r.limits[0] <= r.lo <= r.hi <= r.limits[1] <= hi_v and r.typical[0] <= r.typical[1]):
            raise SafeRangesError(f"{path}: {key}: need valid-lo <= limits[0] <= lo <= hi <= limits[1] <= valid-hi "
                                  f"({lo_v}..{hi_v}), got lo={r.lo} hi={r.hi} limits={list(r.limits)}")
        out[key] = r
    return SafeRanges(out, str(path))


# ---------------------------------------------------------------- fitting (what the report writes)


def _values(df, key: str, rows):
    """Values healthy presets set, and show, for a folded key (waves/shapes: enabled slots only)."""
    import numpy as np

    from renderer.frame_state import MILK_TO_VAR

    m = re.match(r"^(wavecode|shapecode)_K_(\w+)$", key)
    if not m:
        col, set_col = f"param_{key}", f"set_{key}"
        shown = rows[set_col].fillna(False).astype(bool)
        var = MILK_TO_VAR.get(key, key).lower()
        for written in (f"code_pf_{var}", f"code_pp_{var}"):
            if written in rows:
                shown &= ~rows[written].fillna(False).astype(bool)
        return rows.loc[shown, col].to_numpy(dtype=float)
    kind, short = ("wave", m.group(2)) if m.group(1) == "wavecode" else ("shape", m.group(2))
    parts = []
    for k in range(4):
        on = rows[f"{kind}{k}_enabled"].fillna(0) > 0
        setter = rows[f"set_{m.group(1)}_{k}_{short}"].fillna(False).astype(bool)
        parts.append(rows.loc[on & setter, f"{kind}{k}_{short}"].to_numpy(dtype=float))
    return np.concatenate(parts) if parts else np.zeros(0)


def fit_safe_ranges(df) -> dict:
    """The ``params`` part of a safe-ranges file from a dataset DataFrame (see the module docstring),
    with, per parameter, how often presets inside and outside [lo, hi] render degenerate."""
    import numpy as np

    from evo.mining.dataset import healthy_rows

    healthy = healthy_rows(df)
    rendered = df[df["error"].isna() & df["stat_luma_mean"].notna()] if "stat_luma_mean" in df else df.iloc[0:0]
    bad = rendered["render_degenerate"].notna().to_numpy() if len(rendered) else np.zeros(0, bool)
    out = {}
    for key, spec in numeric_specs().items():
        v = _values(df, key, healthy)
        v = v[np.isfinite(v)]
        vlo, vhi = spec.valid
        d = float(spec.default)
        if len(v) < MIN_PRESETS:
            lo, hi = spec.typical
            entry = {"lo": min(lo, d), "hi": max(hi, d), "typical": list(spec.typical), "limits": [vlo, vhi],
                     "n": int(len(v)), "from": "schema"}
        else:
            q = np.quantile(v, [0.025, 0.10, 0.90, 0.975])
            clip = lambda x: float(min(max(float(x), vlo), vhi))  # noqa: E731
            lo, hi = min(clip(q[0]), d), max(clip(q[3]), d)
            entry = {"lo": lo, "hi": hi, "typical": [clip(q[1]), clip(q[2])],
                     "limits": [min(clip(v.min()), lo), max(clip(v.max()), hi)], "n": int(len(v)), "from": "corpus"}
        entry = {k: ([round(x, 6) for x in val] if isinstance(val, list) else round(val, 6) if isinstance(val, float) else val)
                 for k, val in entry.items()}
        if "_K_" not in key and len(rendered):
            x = rendered[f"param_{key}"].to_numpy(dtype=float)
            inside = (x >= entry["lo"]) & (x <= entry["hi"])
            entry["degenerate_inside"] = round(float(bad[inside].mean()), 4) if inside.any() else None
            entry["degenerate_outside"] = round(float(bad[~inside].mean()), 4) if (~inside).any() else None
            entry["outside"] = int((~inside).sum())
        out[key] = entry
    return out


def safe_ranges_document(df, dataset: str, presets: int) -> dict:
    return {
        "format": SAFE_RANGES_FORMAT,
        "about": "Safe ranges per numeric MilkDrop parameter, from a corpus dataset (evo/mining/safe_ranges.py). "
                 "A mutation step never leaves [lo, hi] further than the value was, its size is scaled to typical; "
                 "repair clamps into limits. "
                 "Use: ga.safe_ranges = \"THIS FILE\" in a run's config.",
        "source": {"dataset": dataset, "healthy_presets": presets,
                   "rule": "lo/hi = q2.5/q97.5, typical = q10/q90, limits = min/max of the values healthy presets "
                           "set and whose code does not overwrite them; clipped to the valid range, widened to the "
                           f"default; schema ranges under {MIN_PRESETS} presets"},
        "params": fit_safe_ranges(df),
    }
