"""The feature space families and the map live in: chosen dataset columns, standardised.

Three groups of dataset columns, used alone or together:

    look     desc_* (8) and 9 image statistics the descriptors do not repeat (brightness is
             luma_mean, colourfulness is Hasler-Suesstrunk over 120, motion, complexity and
             reactivity are monotone in change_mean, compress_ratio and reactivity), so no aspect
             of the picture counts twice (needs the dataset's render)
    params   base parameters (fRating excluded: a label, not a style); enums one-hot; custom
             wave and shape counts; shader flags (read from the file)
    code     EEL code and shader features: sizes, variables written, functions, q/t use, loops

**The default is all three.** Measured on projectm-data (2,377 rendered distinct presets), the
look alone is close to a continuum at the mining render: HDBSCAN's best setting there finds one
family holding 71% of the presets and three tiny ones, and half-sample refits agree poorly
(adjusted Rand index 0.16). With parameters and code added, the same procedure finds a dozen
families that reproduce (ARI 0.64) and look alike on the family sheet: a pack's remixes of one
idea share code and parameters as well as a look. A dataset mined without rendering falls back
to params+code.

Each column is standardised after winsorising (its 1st..99th percentile range sets the mean and
the spread, values beyond are clipped to +-CLIP spreads): a file with zoom=100 among zooms near 1
would otherwise own the whole axis. Columns constant over the fitted presets are dropped. When
the chosen groups give more than PCA_ABOVE columns the space is reduced by PCA to at most
PCA_COMPONENTS dimensions (density-based clustering loses contrast in many dimensions).

Everything learned is plain numbers in :meth:`FeatureSpace.to_json`, so a saved space places
a new preset exactly where the fitted ones are.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

GROUPS = ("look", "params", "code")
DEFAULT_GROUPS = ("look", "params", "code")
CLIP = 4.0
PCA_ABOVE = 32
PCA_COMPONENTS = 24
LOOK_STATS = ("luma_std", "luma_flicker", "entropy", "colour_std", "edge_density", "spatial_corr", "frac_dark",
              "frac_bright", "change_max")
_NOT_STYLE = {"param_fRating"}


class FeatureError(ValueError):
    """The dataset lacks what the chosen feature groups need; the message says what."""


def parse_groups(text: str | tuple | list | None) -> tuple[str, ...]:
    """``"look,params"`` -> ("look", "params"); unknown names are an error naming the choices."""
    if text is None or text == "":
        return DEFAULT_GROUPS
    names = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if str(t).strip()]
    if "all" in names:
        return GROUPS
    bad = [n for n in names if n not in GROUPS]
    if bad:
        raise FeatureError(f"unknown feature group {', '.join(bad)}: choose from {', '.join(GROUPS)} (or all)")
    return tuple(dict.fromkeys(names))


def needs_render(groups: tuple[str, ...]) -> bool:
    return "look" in groups


def group_columns(df: pd.DataFrame, group: str) -> list[str]:
    """The dataset columns of one group (enums are expanded later by :func:`raw_matrix`)."""
    if group == "look":
        cols = [c for c in df.columns if c.startswith("desc_")] + [f"stat_{s}" for s in LOOK_STATS]
    elif group == "params":
        cols = [c for c in df.columns if c.startswith("param_") and c not in _NOT_STYLE]
        cols += [c for c in ("waves_enabled", "shapes_enabled", "shader_warp", "shader_comp") if c in df.columns]
    elif group == "code":
        cols = [c for c in df.columns if c.startswith(("code_", "shader_"))]
    else:
        raise FeatureError(f"unknown feature group {group!r}")
    return [c for c in cols if c in df.columns]


def _enum_choices() -> dict[str, tuple]:
    from renderer.milk.params import SCHEMA

    return {f"param_{k}": spec.choices for k, spec in SCHEMA.items() if spec.type == "enum" and spec.choices}


def raw_matrix(df: pd.DataFrame, groups: tuple[str, ...]) -> pd.DataFrame:
    """The chosen columns as float64, enums one-hot (``param_nWaveMode=6``), booleans 0/1."""
    enums = _enum_choices()
    parts: dict[str, pd.Series] = {}
    for group in groups:
        for c in group_columns(df, group):
            col = df[c]
            if c in enums:
                v = pd.to_numeric(col, errors="coerce").round()
                for choice in enums[c]:
                    parts[f"{c}={choice}"] = (v == choice).astype("float64").where(v.notna())
            else:
                parts[c] = pd.to_numeric(col.astype("float64") if col.dtype == bool else col, errors="coerce")
    if not parts:
        raise FeatureError(f"the dataset has no columns for the feature groups {', '.join(groups)}")
    return pd.DataFrame(parts, index=df.index).astype("float64")


def usable_rows(raw: pd.DataFrame, groups: tuple[str, ...]) -> pd.Series:
    """Rows with every rendered value present (a look needs a render; parsed files have the rest)."""
    if needs_render(groups):
        look = [c for c in raw.columns if c.startswith(("desc_", "stat_"))]
        return raw[look].notna().all(axis=1)
    return raw.notna().any(axis=1)


@dataclass
class FeatureSpace:
    """Winsorised standardisation (and PCA when wide) of the chosen groups: fit / transform.

    Learned: ``columns_`` kept, their ``low_``/``high_`` clip range, ``mean_``/``scale_``, the
    ``fill_`` (median) used for a missing value, and ``components_``/``pca_mean_`` when reduced."""

    groups: tuple[str, ...] = DEFAULT_GROUPS
    clip: float = CLIP
    pca_above: int = PCA_ABOVE
    pca_components: int = PCA_COMPONENTS

    def fit(self, df: pd.DataFrame) -> "FeatureSpace":
        raw = raw_matrix(df, self.groups)
        x = raw.to_numpy()
        if len(x) < 2:
            raise FeatureError(f"need at least 2 presets with {', '.join(self.groups)} features, got {len(x)}")
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns: dropped below
            low = np.nanquantile(x, 0.01, axis=0)
            high = np.nanquantile(x, 0.99, axis=0)
            w = np.clip(x, low, high)
            mean = np.nanmean(w, axis=0)
            scale = np.nanstd(w, axis=0)
            # a column whose central range is flat but has a few other values (a rare flag)
            # keeps them: its spread is taken over all values
            rare = ~(scale > 1e-12)
            scale[rare] = np.nanstd(x[:, rare], axis=0)
            low[rare], high[rare] = np.nanmin(x[:, rare], axis=0), np.nanmax(x[:, rare], axis=0)
            mean[rare] = np.nanmean(x[:, rare], axis=0)
        keep = np.isfinite(scale) & (scale > 1e-12)
        if not keep.any():
            raise FeatureError("every chosen feature is constant over these presets")
        self.columns_ = [c for c, k in zip(raw.columns, keep) if k]
        self.low_, self.high_ = low[keep], high[keep]
        self.mean_, self.scale_ = mean[keep], scale[keep]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            self.fill_ = np.nan_to_num(np.nanmedian(x[:, keep], axis=0))
        self.components_ = None
        self.pca_mean_ = None
        z = self._standardise(x[:, keep])
        if z.shape[1] > self.pca_above:
            self._fit_pca(z)
        return self

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        x = np.where(np.isfinite(x), x, self.fill_)
        z = (np.clip(x, self.low_, self.high_) - self.mean_) / self.scale_
        return np.clip(z, -self.clip, self.clip)

    def _fit_pca(self, z: np.ndarray) -> None:
        mean = z.mean(axis=0)
        _, s, vt = np.linalg.svd(z - mean, full_matrices=False)
        k = min(self.pca_components, len(s))
        # a fixed sign per component (largest loading positive): the same data gives the same axes
        signs = np.sign(vt[:k][np.arange(k), np.abs(vt[:k]).argmax(axis=1)])
        self.components_ = vt[:k] * signs[:, None]
        self.pca_mean_ = mean

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """Rows of ``df`` in the fitted space (float64, one row each); missing columns are filled."""
        raw = raw_matrix(df, self.groups).reindex(columns=self.columns_)
        z = self._standardise(raw.to_numpy())
        if self.components_ is not None:
            z = (z - self.pca_mean_) @ self.components_.T
        return z

    def fit_transform(self, df: pd.DataFrame) -> np.ndarray:
        return self.fit(df).transform(df)

    @property
    def dimensions(self) -> int:
        return len(self.columns_) if self.components_ is None else len(self.components_)

    def describe(self) -> str:
        reduced = f", PCA to {len(self.components_)}" if self.components_ is not None else ""
        return f"{'+'.join(self.groups)}: {len(self.columns_)} columns{reduced}"

    def to_json(self) -> dict:
        out = {"groups": list(self.groups), "clip": self.clip, "pca_above": self.pca_above,
               "pca_components": self.pca_components, "columns": list(self.columns_),
               "low": self.low_.tolist(), "high": self.high_.tolist(), "mean": self.mean_.tolist(),
               "scale": self.scale_.tolist(), "fill": self.fill_.tolist()}
        if self.components_ is not None:
            out["components"] = self.components_.tolist()
            out["pca_mean"] = self.pca_mean_.tolist()
        return out

    @classmethod
    def from_json(cls, d: dict) -> "FeatureSpace":
        space = cls(tuple(d["groups"]), float(d["clip"]), int(d["pca_above"]), int(d["pca_components"]))
        space.columns_ = list(d["columns"])
        for name in ("low", "high", "mean", "scale", "fill"):
            setattr(space, f"{name}_", np.asarray(d[name], dtype=np.float64))
        space.components_ = np.asarray(d["components"]) if "components" in d else None
        space.pca_mean_ = np.asarray(d["pca_mean"]) if "pca_mean" in d else None
        return space
