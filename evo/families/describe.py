"""What a family is: its name, its most typical members, its neighbours, and how good it is.

**Names** come from the features that most set a family apart from the whole collection,
in words a VJ uses ("dark, fast-moving, wave mode 6, custom shapes"). Each entry of
:data:`CONTINUOUS_TERMS` says which column, the word for a low and a high value, and which aspect
of the picture it describes; the family's effect on it is (family mean - overall mean) / overall
spread, winsorised like the feature space. Flags (:data:`FLAG_TERMS`) and enum values ("wave
mode 6") count when at least half the family has them and the family has them more often than
the collection, by a standardised difference in proportions. The strongest terms, one per aspect,
at least MIN_EFFECT strong, name the family; names are made unique by taking more terms. A family
with no strong term is "typical", with its two strongest terms above WEAK_EFFECT ("typical,
slightly dark and steady").

These words describe families in any feature space: a family found on the look alone can still
be called "custom shapes" when most of its members draw them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evo.families.clusterer import NOISE

MIN_EFFECT = 0.5
WEAK_EFFECT = 0.2
MAX_TERMS = 4
MEDOIDS = 6
MEDOID_REFERENCE = 400  # members a medoid's mean distance is measured to, at most
BRIDGE_SHARE = 1 / 3
BRIDGES_PER_PAIR = 5
MAX_BRIDGES = 60

# column, word when low, word when high, aspect ("" when that side says nothing)
CONTINUOUS_TERMS = (
    ("desc_brightness", "dark", "bright", "brightness"),
    ("desc_colourfulness", "muted", "colourful", "colour"),
    ("desc_warmth", "cool", "warm", "warmth"),
    ("desc_motion", "still", "fast-moving", "motion"),
    ("desc_symmetry", "asymmetric", "symmetric", "symmetry"),
    ("desc_detail", "smooth", "fine-detailed", "detail"),
    ("desc_complexity", "plain", "busy", "complexity"),
    ("desc_reactivity", "steady", "beat-reactive", "reactivity"),
    ("stat_luma_flicker", "", "flickering", "flicker"),
    ("stat_luma_std", "low-contrast", "high-contrast", "contrast"),
    ("stat_edge_density", "soft-edged", "sharp-edged", "edges"),
    ("param_zoom", "zooming out", "fast zoom", "zoom"),
    ("param_abs_rot", "", "spinning", "rotation"),
    ("param_fDecay", "short trails", "long trails", "decay"),
    ("param_warp", "no warp", "strong warp", "warp"),
    ("param_fVideoEchoAlpha", "", "video echo", "echo"),
    ("code_lines_per_pixel", "", "per-pixel code", "code"),
)
# column, word when set (value > 0.5), aspect
FLAG_TERMS = (
    ("shapes_any", "custom shapes", "shapes"),
    ("waves_any", "custom waves", "waves"),
    ("shader_warp", "warp shader", "shader"),
    ("shader_comp", "comp shader", "shader"),
    ("param_bAdditiveWaves", "additive waves", "wave style"),
    ("param_bWaveDots", "dotted waves", "wave style"),
    ("param_bSolarize", "solarized", "filter"),
    ("param_bInvert", "inverted", "filter"),
    ("param_bDarken", "darkened", "filter"),
    ("param_bBrighten", "brightened", "filter"),
    ("param_bRedBlueStereo", "red-blue stereo", "filter"),
    ("code_megabuf", "megabuf", "code"),
    ("code_loops", "loops", "code"),
)
ENUM_TERMS = (("param_nWaveMode", "wave mode {}", "wave"),)


@dataclass(frozen=True)
class Term:
    column: str
    word: str
    aspect: str
    effect: float  # signed: + the family has more of it

    def to_json(self) -> dict:
        return {"column": self.column, "word": self.word, "aspect": self.aspect, "effect": round(self.effect, 3)}


def term_table(df: pd.DataFrame) -> pd.DataFrame:
    """The columns the terms read, derived where needed (|rot|, any custom shape/wave)."""
    out = pd.DataFrame(index=df.index)
    for col, *_ in CONTINUOUS_TERMS:
        if col == "param_abs_rot" and "param_rot" in df:
            out[col] = df["param_rot"].astype("float64").abs()
        elif col in df:
            out[col] = df[col].astype("float64")
    for col, *_ in FLAG_TERMS:
        src = {"shapes_any": "shapes_enabled", "waves_any": "waves_enabled"}.get(col, col)
        if src in df:
            out[col] = (df[src].astype("float64") > 0.5).astype("float64").where(df[src].notna())
    for col, *_ in ENUM_TERMS:
        if col in df:
            out[col] = df[col].astype("float64").round()
    return out


def _winsorised(x: np.ndarray) -> tuple[np.ndarray, float, float]:
    ok = x[np.isfinite(x)]
    if not len(ok):
        return x, math.nan, math.nan
    lo, hi = np.quantile(ok, [0.01, 0.99])
    w = np.clip(x, lo, hi)
    return w, float(np.nanmean(w)), float(np.nanstd(w))


def family_terms(table: pd.DataFrame, members: np.ndarray) -> list[Term]:
    """Every term that sets the rows in ``members`` (a boolean mask) apart, strongest first."""
    terms: list[Term] = []
    for col, low, high, aspect in CONTINUOUS_TERMS:
        if col not in table:
            continue
        w, mean, sd = _winsorised(table[col].to_numpy())
        if not sd > 1e-12:
            continue
        effect = (np.nanmean(w[members]) - mean) / sd
        word = high if effect > 0 else low
        if word and np.isfinite(effect):
            terms.append(Term(col, word, aspect, float(effect)))
    for col, word, aspect in FLAG_TERMS:
        if col in table:
            terms += _share_term(table[col].to_numpy() > 0.5, table[col].notna().to_numpy(), members, col, word, aspect)
    for col, pattern, aspect in ENUM_TERMS:
        if col in table:
            v = table[col].to_numpy()
            ok = np.isfinite(v)
            for value in np.unique(v[ok]):
                terms += _share_term(v == value, ok, members, col, pattern.format(int(value)), aspect)
    return sorted(terms, key=lambda t: -abs(t.effect))


def _share_term(has: np.ndarray, ok: np.ndarray, members: np.ndarray, col: str, word: str, aspect: str) -> list[Term]:
    p_all = has[ok].mean() if ok.any() else 0.0
    m = members & ok
    if not m.any() or p_all <= 0 or p_all >= 1:
        return []
    p = has[m].mean()
    effect = (p - p_all) / math.sqrt(p_all * (1 - p_all))
    return [Term(col, word, aspect, float(effect))] if p >= 0.5 and effect > 0 else []


def name_families(table: pd.DataFrame, labels: np.ndarray) -> dict[int, tuple[str, list[Term]]]:
    """family id -> (label, the terms it was made of); labels are unique across families."""
    chosen: dict[int, list[Term]] = {}
    pools: dict[int, list[Term]] = {}
    for fam in sorted(int(f) for f in np.unique(labels) if f != NOISE):
        pool = [t for t in family_terms(table, labels == fam) if abs(t.effect) >= MIN_EFFECT]
        seen: set[str] = set()
        pools[fam] = [t for t in pool if not (t.aspect in seen or seen.add(t.aspect))]
        chosen[fam] = pools[fam][:min(3, len(pools[fam]))]
    for _ in range(MAX_TERMS):  # lengthen clashing names while terms remain
        names: dict[str, list[int]] = {}
        for fam, terms in chosen.items():
            names.setdefault(", ".join(t.word for t in terms), []).append(fam)
        clash = [f for fams in names.values() if len(fams) > 1 for f in fams]
        grew = False
        for fam in clash:
            if len(chosen[fam]) < min(MAX_TERMS + 2, len(pools[fam])):
                chosen[fam] = pools[fam][:len(chosen[fam]) + 1]
                grew = True
        if not grew:
            break
    out: dict[int, tuple[str, list[Term]]] = {}
    used: set[str] = set()
    for fam, terms in chosen.items():
        name = ", ".join(t.word for t in terms)
        if not name:  # nothing strong: a large family near the collection's middle
            weak = [t for t in family_terms(table, labels == fam) if abs(t.effect) >= WEAK_EFFECT][:2]
            name = "typical" + (f", slightly {' and '.join(t.word for t in weak)}" if weak else "")
            terms = weak
        if name in used:
            name = f"{name} #{fam}"
        used.add(name)
        out[fam] = (name, terms)
    return out


def medoids(x: np.ndarray, labels: np.ndarray, family: int, count: int = MEDOIDS, seed: int = 0) -> np.ndarray:
    """Indices of the family's ``count`` most typical members: the smallest mean distance to the
    others (to a fixed random MEDOID_REFERENCE of them in a large family), most typical first."""
    from sklearn.metrics import pairwise_distances

    members = np.flatnonzero(labels == family)
    ref = members
    if len(members) > MEDOID_REFERENCE:
        ref = np.sort(np.random.default_rng(seed + family).choice(members, MEDOID_REFERENCE, replace=False))
    mean = np.zeros(len(members))
    for start in range(0, len(members), 2048):  # bounded memory: 2048 x MEDOID_REFERENCE at a time
        mean[start:start + 2048] = pairwise_distances(x[members[start:start + 2048]], x[ref]).mean(axis=1)
    return members[np.argsort(mean, kind="stable")[:count]]


def bridges(x: np.ndarray, labels: np.ndarray, k: int) -> list[dict]:
    """Presets between two families: at least BRIDGE_SHARE of their ``k`` nearest neighbours in
    each of two families. The most balanced first, BRIDGES_PER_PAIR per pair at most."""
    from sklearn.neighbors import NearestNeighbors

    if len(np.unique(labels[labels != NOISE])) < 2:
        return []
    k = min(k, len(x) - 1)
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    neigh = labels[idx[:, 1:]]
    found = []
    for i in range(len(x)):
        fams, counts = np.unique(neigh[i][neigh[i] != NOISE], return_counts=True)
        if len(fams) < 2:
            continue
        order = np.argsort(-counts, kind="stable")[:2]
        (a, b), (ca, cb) = fams[order], counts[order]
        if cb / k >= BRIDGE_SHARE:
            a, b = sorted((int(a), int(b)))
            found.append({"index": i, "families": [a, b], "own": int(labels[i]),
                          "shares": [round(float(c / k), 3) for c in (counts[fams == a][0], counts[fams == b][0])],
                          "balance": float(min(ca, cb) / max(ca, cb))})
    found.sort(key=lambda r: (-r["balance"], r["index"]))
    per_pair: dict[tuple, int] = {}
    out = []
    for r in found:
        pair = tuple(r["families"])
        if per_pair.get(pair, 0) < BRIDGES_PER_PAIR and len(out) < MAX_BRIDGES:
            per_pair[pair] = per_pair.get(pair, 0) + 1
            out.append(r)
    return out


def family_tree(x: np.ndarray, labels: np.ndarray) -> dict:
    """A hierarchy over the families: average linkage of their centroids. ``linkage`` is scipy's
    matrix (rows: the two merged nodes, the distance, the size), ``leaves`` the family ids in the
    order scipy numbers the leaves."""
    from scipy.cluster.hierarchy import linkage

    fams = sorted(int(f) for f in np.unique(labels) if f != NOISE)
    if len(fams) < 2:
        return {"leaves": fams, "linkage": []}
    centroids = np.stack([x[labels == f].mean(axis=0) for f in fams])
    z = linkage(centroids, method="average", metric="euclidean")
    return {"leaves": fams, "linkage": [[int(a), int(b), round(float(d), 6), int(n)] for a, b, d, n in z]}


def quality(labels: np.ndarray, folders: np.ndarray | None, stability: float, stability_std: float) -> dict:
    """The figures the command prints: families, noise share, stability, and agreement (NMI) with
    the folder names when the presets come from more than one folder."""
    from sklearn.metrics import normalized_mutual_info_score

    out = {"families": int(len(np.unique(labels[labels != NOISE]))), "presets": int(len(labels)),
           "noise": float(np.mean(labels == NOISE)) if len(labels) else 0.0,
           "stability_ari": None if not np.isfinite(stability) else round(float(stability), 4),
           "stability_ari_std": None if not np.isfinite(stability_std) else round(float(stability_std), 4)}
    if folders is not None and len(set(folders)) > 1:
        clustered = labels != NOISE
        out["folders"] = int(len(set(folders)))
        out["nmi_folders"] = round(float(normalized_mutual_info_score(folders, labels)), 4)
        out["nmi_folders_clustered"] = round(float(normalized_mutual_info_score(folders[clustered], labels[clustered])), 4) \
            if clustered.sum() > 1 else None
    return out
