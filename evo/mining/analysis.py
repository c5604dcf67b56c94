"""What a corpus dataset says about quality: the numbers behind the report and the Corpus page.

Pure functions of a dataset DataFrame and a quality label (evo.mining.labels); nothing here
draws or writes. Every random choice takes a seed, so the same dataset and labels give the same
report. Rows are one per distinct content (duplicates dropped) wherever a statistic is counted,
so a pack that ships a preset five times does not vote five times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SUMMARY_FEATURES = ("waves_enabled", "shapes_enabled", "keys_set", "milk_version", "ps_warp", "ps_comp")
CODE_FEATURES = ("code_lines_per_frame_init", "code_lines_per_frame", "code_lines_per_pixel", "code_lines_waves",
                 "code_lines_shapes", "code_statements", "code_q_vars", "code_t_vars", "code_reg_vars", "code_loops",
                 "code_megabuf")
SHADER_FEATURES = ("shader_warp_lines", "shader_comp_lines", "shader_samplers", "shader_user_textures",
                   "shader_blur", "shader_noise", "shader_tex_calls")
MIN_MODEL_LABELS = 40


def distinct(df: pd.DataFrame) -> pd.DataFrame:
    """Parsed rows, one per distinct content."""
    ok = df["error"].isna()
    if "duplicate_of" in df:
        ok &= df["duplicate_of"].isna()
    return df[ok]


def model_features(df: pd.DataFrame, rendered: bool = True) -> list[str]:
    """Columns a quality model may use: base parameters (not fRating: it is the label), counts,
    code and shader sizes, and (``rendered``) the image statistics and descriptors."""
    cols = [c for c in df.columns if c.startswith("param_") and c != "param_fRating"]
    cols += [c for c in SUMMARY_FEATURES + CODE_FEATURES + SHADER_FEATURES if c in df]
    if rendered:
        cols += [c for c in df.columns if c.startswith(("stat_", "desc_"))]
    return [c for c in cols if df[c].notna().any() and df[c].nunique(dropna=True) > 1]


def numeric(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return df[cols].astype("float64")


# ---------------------------------------------------------------- distributions


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance (the largest gap between the two CDFs)."""
    a, b = np.sort(a[np.isfinite(a)]), np.sort(b[np.isfinite(b)])
    if not len(a) or not len(b):
        return 0.0
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / len(a)
                               - np.searchsorted(b, grid, side="right") / len(b))))


def differing_features(df: pd.DataFrame, good: pd.Series, cols: list[str], top: int | None = 24) -> pd.DataFrame:
    """Features ranked by how differently the good subset is distributed from the other labelled
    presets (KS distance), with both medians."""
    rows = []
    g = good.reindex(df.index).fillna(False).astype(bool)
    for c in cols:
        x = df[c].astype("float64").to_numpy()
        ks = ks_statistic(x[g.to_numpy()], x[~g.to_numpy()])
        rows.append({"feature": c, "ks": ks, "median_good": _nanmedian(x[g.to_numpy()]),
                     "median_other": _nanmedian(x[~g.to_numpy()])})
    out = pd.DataFrame(rows, columns=["feature", "ks", "median_good", "median_other"])
    out = out.sort_values(["ks", "feature"], ascending=[False, True])
    return (out.head(top) if top else out).reset_index(drop=True)


def _nanmedian(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if len(x) else math.nan


def spearman_matrix(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Rank correlations between columns (pairwise over the rows both have)."""
    return numeric(df, cols).rank().corr(min_periods=10)


# ---------------------------------------------------------------- golden combinations


@dataclass
class Item:
    """One condition on a preset: ``feature`` in [lo, hi] (a bin), or a flag being on."""

    feature: str
    lo: float
    hi: float
    label: str

    def mask(self, x: np.ndarray) -> np.ndarray:
        return (x >= self.lo) & (x <= self.hi)


def items_for(df: pd.DataFrame, cols: list[str], bins: int = 3) -> list[Item]:
    """Conditions to combine: each numeric feature split at its tertiles (value ranges that hold
    a third of the presets each; a feature with few values gets one item per value), each
    flag as "on"."""
    out = []
    for c in cols:
        x = df[c].astype("float64").to_numpy()
        x = x[np.isfinite(x)]
        if len(x) == 0:
            continue
        values = np.unique(x)
        if len(values) <= 1:
            continue
        if len(values) <= bins:
            for v in values:
                out.append(Item(c, float(v), float(v), f"{_short(c)} = {_fmt(v)}"))
            continue
        edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)))
        for lo, hi in zip(edges[:-1], edges[1:]):
            lo_closed = lo if lo == edges[0] else np.nextafter(lo, np.inf)
            if not ((x >= lo_closed) & (x <= hi)).any():
                continue
            out.append(Item(c, float(lo_closed), float(hi), f"{_short(c)} in [{_fmt(lo)}, {_fmt(hi)}]"))
    return out


def _short(c: str) -> str:
    return c.removeprefix("param_")


def _fmt(v: float) -> str:
    return f"{v:.3g}"


@dataclass
class Rule:
    items: tuple[str, ...]
    count: int  # labelled presets meeting every condition
    good: int  # ... of which good
    support: float  # count / labelled presets
    confidence: float  # good / count
    lift: float  # confidence / share of good overall
    p_value: float  # chance of this many good or more under no association (hypergeometric)


def golden_combinations(df: pd.DataFrame, good: pd.Series, cols: list[str], min_count: int | None = None,
                        top: int = 15, pool: int = 80, pair_p: float = 0.01) -> tuple[list[Rule], list[Rule]]:
    """(single conditions, pairs) that go with good presets, best lift first.

    Among the labelled rows of ``df`` (``good`` is True/False there, NaN-free): each condition's
    support, confidence and lift; then pairs of the ``pool`` best single conditions, kept only when
    the pair is good more often than its better half alone explains (binomial p < ``pair_p``
    against that half's confidence): the combination is what matters, not one strong condition
    with a passenger. A rule needs ``min_count`` presets (default: 2% of the labelled, at least 15)."""
    from scipy.stats import binom, hypergeom

    g = good.reindex(df.index).fillna(False).astype(bool).to_numpy()
    n, n_good = len(g), int(g.sum())
    if n == 0 or n_good == 0 or n_good == n:
        return [], []
    min_count = min_count or max(15, int(0.02 * n))
    base = n_good / n
    items = items_for(df, cols)
    if not items:
        return [], []
    columns = {c: df[c].astype("float64").to_numpy() for c in {it.feature for it in items}}
    M = np.stack([it.mask(columns[it.feature]) for it in items], axis=1)
    counts = M.sum(axis=0)
    goods = M[g].sum(axis=0)

    def rule(idx: tuple[int, ...], count: int, good_count: int) -> Rule:
        conf = good_count / count
        p = float(hypergeom.sf(good_count - 1, n, n_good, count))
        return Rule(tuple(items[i].label for i in idx), int(count), int(good_count), count / n, conf, conf / base, p)

    single_ok = np.flatnonzero(counts >= min_count)
    lift1 = np.where(counts > 0, goods / np.maximum(counts, 1) / base, 0.0)
    singles = sorted((rule((i,), counts[i], goods[i]) for i in single_ok), key=lambda r: (-r.lift, r.p_value, r.items))
    best = single_ok[np.argsort(-lift1[single_ok], kind="stable")][:pool]
    sub = M[:, best].astype(np.int32)
    pair_counts = sub.T @ sub
    pair_goods = sub[g].T @ sub[g]
    pairs = []
    for a in range(len(best)):
        for b in range(a + 1, len(best)):
            ia, ib = best[a], best[b]
            if items[ia].feature == items[ib].feature:
                continue
            c = int(pair_counts[a, b])
            if c < min_count:
                continue
            r = rule((ia, ib), c, int(pair_goods[a, b]))
            better_half = max(lift1[ia], lift1[ib]) * base
            if r.lift > max(lift1[ia], lift1[ib]) and binom.sf(r.good - 1, c, min(better_half, 1.0)) < pair_p:
                pairs.append(r)
    pairs.sort(key=lambda r: (-r.lift, r.p_value, r.items))
    return singles[:top], pairs[:top]


# ---------------------------------------------------------------- outliers


def outliers(df: pd.DataFrame, cols: list[str], top: int = 16, seed: int = 0) -> pd.DataFrame:
    """The presets least like the rest (an isolation forest on robust, asinh-squashed features),
    each with the three features where it sits furthest out (distance from the median in IQRs)."""
    from sklearn.ensemble import IsolationForest
    from threadpoolctl import threadpool_limits

    if len(df) < 20 or not cols:
        return pd.DataFrame(columns=["index", "score", "why"])
    X = numeric(df, cols)
    med = X.median()
    scale = (X.quantile(0.75) - X.quantile(0.25)).replace(0, np.nan).fillna(X.std().replace(0, np.nan)).fillna(1.0)
    z = (X - med) / scale
    # asinh: like z near the median, logarithmic far out, so zoom 13 in a corpus of zooms near 1 stands out
    # without one absurd value flattening every other feature
    squashed = np.arcsinh(z.fillna(0.0).to_numpy())
    with threadpool_limits(1):
        forest = IsolationForest(n_estimators=200, random_state=seed).fit(squashed)
        score = -forest.score_samples(squashed)
    order = np.argsort(-score, kind="stable")[:top]
    z = z.abs()
    rows = []
    for i in order:
        zi = z.iloc[i].dropna().sort_values(ascending=False).head(3)
        why = ", ".join(f"{_short(c)} = {_fmt(X.iloc[i][c])} ({_fmt(zi[c])} IQR out)" for c in zi.index)
        rows.append({"index": df.index[i], "score": float(score[i]), "why": why})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- what predicts quality


@dataclass
class ModelResult:
    features: list[str]
    n: int
    folds: int
    r2: float  # cross-validated R^2 (0 = no better than the mean)
    r2_std: float
    spearman: float  # rank correlation of out-of-fold predictions with the label
    importances: pd.DataFrame = field(default_factory=pd.DataFrame)  # feature, mean, std (drop in R^2)
    note: str = ""


def quality_model(df: pd.DataFrame, quality: pd.Series, cols: list[str], seed: int = 0, folds: int = 5,
                  repeats: int = 5, top: int = 20) -> ModelResult | None:
    """A gradient-boosting model of quality from ``cols``: k-fold cross-validated R^2 and rank
    correlation, and permutation importances (the drop in R^2 on held-out presets when one
    feature is shuffled) from a fit on 80% of them. None when there are too few labels."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # after the import: a limit set before OpenMP loads does not reach it
        return _quality_model(df, quality, cols, seed, folds, repeats, top, HistGradientBoostingRegressor)


def _quality_model(df, quality, cols, seed, folds, repeats, top, HistGradientBoostingRegressor) -> ModelResult | None:
    """One OpenMP thread: on a busy machine its spinning threads made the fit 10x slower (13.8 s
    against 1.3 s for 1,500 x 114 on the 2-core reference machine), and one thread is deterministic."""
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import KFold, cross_val_predict, train_test_split

    y = quality.reindex(df.index)
    keep = y.notna().to_numpy()
    if keep.sum() < MIN_MODEL_LABELS or not cols:
        return None
    X = numeric(df, cols).to_numpy()[keep]
    yv = y.to_numpy(dtype=float)[keep]

    def model():
        return HistGradientBoostingRegressor(max_iter=150, learning_rate=0.06, max_leaf_nodes=15, min_samples_leaf=20,
                                             l2_regularization=1.0, random_state=seed)

    cv = KFold(n_splits=folds, shuffle=True, random_state=seed)
    pred = cross_val_predict(model(), X, yv, cv=cv)
    fold_r2 = []
    for _, test in cv.split(X):
        fold_r2.append(_r2(yv[test], pred[test]))
    spearman = float(pd.Series(pred).rank().corr(pd.Series(yv).rank()))
    Xtr, Xte, ytr, yte = train_test_split(X, yv, test_size=0.2, random_state=seed)
    fitted = model().fit(Xtr, ytr)
    imp = permutation_importance(fitted, Xte, yte, n_repeats=repeats, random_state=seed, scoring="r2")
    table = pd.DataFrame({"feature": cols, "mean": imp.importances_mean, "std": imp.importances_std})
    table = table.sort_values(["mean", "feature"], ascending=[False, True]).head(top).reset_index(drop=True)
    return ModelResult(cols, int(keep.sum()), folds, float(np.mean(fold_r2)), float(np.std(fold_r2)), spearman, table)


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(((y - p) ** 2).sum()) / ss if ss > 0 else 0.0
