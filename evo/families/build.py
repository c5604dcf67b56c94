"""The work behind ``liandan cluster``, ``liandan map``, ``cluster assign`` and ``similar``.

Which presets are points: every distinct content that parsed (a copy under another name is the
same point; its files are listed with it) and, for the look, rendered without error; renders
that came out black or frozen (``render_degenerate``) are left out unless asked for, since at
the mining render they say nothing about a preset's style, only that it starts slowly.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from evo.families import describe
from evo.families.clusterer import NOISE, RESAMPLES, StyleClusterer
from evo.families.features import FeatureSpace, needs_render, parse_groups
from evo.families.saved import (Families, Family, StyleError, has_families, load_families, style_dir, write_families,
                                write_map, POINTS_FILE)
from evo.families.style_map import StyleMap, find_gaps, trustworthiness
from evo.mining.dataset import dataset_dir, load_dataset, read_meta

Progress = Callable[[str, int, int], None]
FALLBACK_GROUPS = ("params", "code")


@dataclass
class Selection:
    rows: pd.DataFrame  # the points, one row per distinct content
    files: pd.Series  # hash -> files with that content
    left_out: dict = field(default_factory=dict)  # reason -> distinct presets


def select_points(df: pd.DataFrame, groups: tuple[str, ...], include_degenerate: bool = False) -> Selection:
    parsed = df[df["error"].isna()] if "error" in df else df
    distinct = parsed[parsed["duplicate_of"].isna()] if "duplicate_of" in parsed else parsed
    distinct = distinct.drop_duplicates("hash")
    left: dict[str, int] = {}
    if "error" in df:
        left["do not parse"] = int(df["error"].notna().sum())
    keep = pd.Series(True, index=distinct.index)
    if needs_render(groups):
        failed = distinct["render_error"].notna() if "render_error" in distinct else pd.Series(False, index=distinct.index)
        missing = distinct["stat_luma_mean"].isna() & ~failed if "stat_luma_mean" in distinct else ~failed
        left["failed to render"] = int(failed.sum())
        left["not rendered"] = int(missing.sum())
        keep &= ~failed & ~missing
        if not include_degenerate and "render_degenerate" in distinct:
            degenerate = distinct["render_degenerate"].notna() & keep
            left["black or frozen render"] = int(degenerate.sum())
            keep &= ~degenerate
    rows = distinct[keep].sort_values("hash", kind="stable")
    files = parsed.groupby("hash").size()
    return Selection(rows, files, {k: v for k, v in left.items() if v})


def top_folder(rel_folder: pd.Series) -> np.ndarray:
    """The first component of each folder: the collection's own grouping (a human label)."""
    return rel_folder.fillna("").astype(str).str.split("/", n=1).str[0].to_numpy()


def stable_ids(labels: np.ndarray, hashes: np.ndarray, previous: pd.DataFrame | None) -> dict[int, int]:
    """New label -> id. Families that share most members (Jaccard >= 0.3) with a family of the
    previous clustering keep its id; the rest get fresh ids, larger families first."""
    from scipy.optimize import linear_sum_assignment

    fams = [int(f) for f in np.unique(labels) if f != NOISE]
    sizes = {f: int((labels == f).sum()) for f in fams}
    order = sorted(fams, key=lambda f: (-sizes[f], int(np.flatnonzero(labels == f)[0])))
    mapping: dict[int, int] = {}
    next_id = 0
    if previous is not None and len(previous):
        old = previous[previous["family"] != NOISE]
        old_ids = sorted(int(f) for f in old["family"].unique())
        next_id = max(old_ids, default=-1) + 1
        new_sets = {f: set(hashes[labels == f]) for f in fams}
        old_sets = {o: set(old.loc[old["family"] == o, "hash"]) for o in old_ids}
        if fams and old_ids:
            jac = np.array([[len(new_sets[f] & old_sets[o]) / max(1, len(new_sets[f] | old_sets[o])) for o in old_ids]
                            for f in fams])
            rows, cols = linear_sum_assignment(-jac)
            for r, c in zip(rows, cols):
                if jac[r, c] >= 0.3:
                    mapping[fams[r]] = old_ids[c]
    for f in order:
        if f not in mapping:
            mapping[f] = next_id
            next_id += 1
    return mapping


@dataclass
class ClusterReport:
    dataset: str
    space: str
    points: int
    left_out: dict
    quality: dict
    candidates: list[dict]
    chosen: dict
    families: list[dict]
    bridges: int
    bridge_examples: list[dict]  # the most balanced few: rel_path, families, shares
    files: dict  # what -> path
    seconds: dict

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def cluster_dataset(dataset: str | Path, groups=None, *, seed: int = 0, min_cluster_size: int | None = None,
                    min_samples: int | None = None, resamples: int = RESAMPLES, include_degenerate: bool = False,
                    pictures: bool = True, progress: Progress | None = None, frame: pd.DataFrame | None = None
                    ) -> ClusterReport:
    """Find the families of a dataset and save them (layout: evo.families.saved)."""
    ds = dataset_dir(dataset)
    chosen_default = groups is None or groups == ""
    groups = parse_groups(groups)
    t0 = time.monotonic()
    df = load_dataset(ds) if frame is None else frame
    if chosen_default and ("stat_luma_mean" not in df or not df["stat_luma_mean"].notna().any()):
        groups = FALLBACK_GROUPS  # mined with --no-render: the default without the look
    sel = select_points(df, groups, include_degenerate)
    rows = sel.rows
    if len(rows) < 10:
        raise StyleError(f"{ds}: only {len(rows)} presets have {'+'.join(groups)} features "
                         f"({', '.join(f'{v} {k}' for k, v in sel.left_out.items()) or 'nothing else'}); "
                         "families need at least 10")
    space = FeatureSpace(groups).fit(rows)
    x = space.transform(rows)
    t_features = time.monotonic()
    clusterer = StyleClusterer(min_cluster_size, min_samples, resamples=resamples, seed=seed).fit(x, progress=progress)
    t_cluster = time.monotonic()
    hashes = rows["hash"].to_numpy()
    previous = None
    if has_families(ds):
        try:  # ids carry over within one feature space (a family of another space is another family)
            old = json.loads((style_dir(ds) / "families.json").read_text())
            if tuple(old["space"]["groups"]) == tuple(space.groups):
                previous = pd.read_parquet(style_dir(ds) / POINTS_FILE, columns=["hash", "family"])
        except Exception:  # noqa: BLE001 - an unreadable old file only costs the old ids
            previous = None
    clusterer.relabel(stable_ids(clusterer.labels_, hashes, previous))
    labels = clusterer.labels_
    folders = top_folder(rows["folder"]) if "folder" in rows else None
    quality = describe.quality(labels, folders, clusterer.stability_,
                               float(np.std(clusterer.stability_scores_)) if clusterer.stability_scores_ else math.nan)
    families = _describe_families(rows, x, labels, clusterer, sel.files, folders, seed)
    bridge_list = []
    for b in describe.bridges(x, labels, 2 * clusterer.min_samples_):
        i = b.pop("index")
        bridge_list.append({**b, "hash": str(hashes[i]), "rel_path": str(rows["rel_path"].iloc[i])})
    tree = describe.family_tree(x, labels)
    t_describe = time.monotonic()
    meta = {"written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "dataset_rows": int(len(df)),
            "left_out": sel.left_out, "include_degenerate": include_degenerate, "seed": seed}
    out = write_families(ds, space, clusterer, families, rows, bridge_list, tree, quality, meta)
    files = {"families": str(out / "families.json"), "points": str(out / POINTS_FILE)}
    files["members"] = str(_write_members(out, df, rows, labels, families))
    if pictures:
        from evo.families import pictures as pics

        fams = load_families(ds)
        files["sheet"] = str(pics.family_sheet(fams, out / "families.png"))
        files["tree"] = str(pics.tree_picture(fams, out / "tree.png"))
    t_end = time.monotonic()
    chosen = next(c for c in clusterer.candidates_ if c.get("chosen"))
    return ClusterReport(str(ds), space.describe(), int(len(rows)), sel.left_out, quality, clusterer.candidates_, chosen,
                         [{"id": f.id, "label": f.label, "size": f.size, "files": f.files, "folders": f.folders[:3]}
                          for f in families.values()], len(bridge_list),
                         [{k: b[k] for k in ("rel_path", "families", "shares")} for b in bridge_list[:5]], files,
                         {"features": round(t_features - t0, 2), "cluster": round(t_cluster - t_features, 2),
                          "describe": round(t_describe - t_cluster, 2), "pictures": round(t_end - t_describe, 2),
                          "total": round(t_end - t0, 2)})


def _describe_families(rows: pd.DataFrame, x: np.ndarray, labels: np.ndarray, clusterer: StyleClusterer,
                       files: pd.Series, folders: np.ndarray | None, seed: int) -> dict[int, Family]:
    names = describe.name_families(describe.term_table(rows), labels)
    hashes = rows["hash"].to_numpy()
    out: dict[int, Family] = {}
    for fam in sorted(names):
        members = labels == fam
        med = describe.medoids(x, labels, fam, seed=seed)
        counts = pd.Series(folders[members]).value_counts() if folders is not None else pd.Series(dtype=int)
        label, terms = names[fam]
        out[fam] = Family(fam, label, int(members.sum()), int(files.reindex(hashes[members]).fillna(1).sum()),
                          [t.to_json() for t in terms], [str(hashes[i]) for i in med],
                          [[str(k), int(v)] for k, v in counts.head(5).items()], round(clusterer.radius_[fam], 6),
                          [round(float(v), 5) for v in x[members].mean(axis=0)])
    return out


def _write_members(out: Path, df: pd.DataFrame, rows: pd.DataFrame, labels: np.ndarray,
                   families: dict[int, Family]) -> Path:
    """members.csv: every file of a clustered preset (copies too) with its family, for people."""
    fam_of = pd.Series(labels, index=rows["hash"].to_numpy())
    parsed = df[df["hash"].isin(fam_of.index)] if "error" not in df else df[df["error"].isna() & df["hash"].isin(fam_of.index)]
    table = pd.DataFrame({"family": fam_of.reindex(parsed["hash"]).to_numpy(), "rel_path": parsed["rel_path"].to_numpy(),
                          "hash": parsed["hash"].to_numpy()})
    table["label"] = [families[f].label if f in families else "noise" for f in table["family"]]
    table["family"] = ["noise" if f == NOISE else f"F{f}" for f in table["family"]]
    table = table.sort_values(["family", "rel_path"], kind="stable")
    path = out / "members.csv"
    table.to_csv(path, index=False)
    return path


@dataclass
class MapReport:
    dataset: str
    method: str
    points: int
    trustworthiness: float
    gaps: list[dict]
    files: dict
    seconds: dict

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def map_dataset(dataset: str | Path, *, method: str = "umap", seed: int = 0, n_neighbors: int = 15,
                min_dist: float = 0.3, perplexity: float = 30.0, pictures: bool = True,
                progress: Progress | None = None) -> MapReport:
    """Lay the dataset's families out in 2-D, find the gaps, save (needs ``cluster_dataset`` first)."""
    from evo.families.saved import load_map

    ds = dataset_dir(dataset)
    fams = load_families(ds)
    t0 = time.monotonic()
    if progress is not None:
        progress("embed", 0, 1)
    smap = StyleMap(method, n_neighbors, min_dist, perplexity, seed).fit(fams.features)
    if progress is not None:
        progress("embed", 1, 1)
    t_embed = time.monotonic()
    gaps, facts = find_gaps(smap.embedding_, fams.labels, smap.spacing_)
    trust = trustworthiness(fams.features, smap.embedding_, seed=seed)
    t_gaps = time.monotonic()
    meta = {"written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "trustworthiness": round(trust, 4),
            "lattice": facts, "families_written": fams.meta.get("written")}
    out = write_map(ds, smap, list(fams.points["hash"]), gaps, meta)
    files = {"map": str(out / "map.json")}
    if pictures:
        from evo.families import pictures as pics

        atlas = load_map(ds, fams)
        files["atlas"] = str(pics.atlas_picture(atlas, out / "atlas.png"))
    t_end = time.monotonic()
    rel = fams.points["rel_path"].to_numpy()
    gap_rows = [{"id": g.id, "x": round(g.x, 4), "y": round(g.y, 4), "radius": round(g.radius, 4),
                 "families": [[f"F{f}", n] for f, n in g.families],
                 "nearest": [str(rel[i]) for i in g.neighbours[:3]]} for g in gaps]
    return MapReport(str(ds), method, int(len(fams.points)), round(trust, 4), gap_rows, files,
                     {"embed": round(t_embed - t0, 2), "gaps": round(t_gaps - t_embed, 2),
                      "pictures": round(t_end - t_gaps, 2), "total": round(t_end - t0, 2)})


# ---------------------------------------------------------------- one file against a dataset


def features_of_file(dataset: str | Path, path: str | Path, groups: tuple[str, ...] = ("look",),
                     frame: pd.DataFrame | None = None) -> tuple[pd.DataFrame, bool]:
    """A ``.milk`` file as one dataset row, and whether the dataset already holds its content.

    A known content is read from the dataset; a new one is parsed and, when ``groups`` need the
    look, rendered here exactly as the dataset was (its meta.json's settings)."""
    from evo.mining.mine import read_preset_bytes
    from evo.mining.static import content_hash, static_row

    ds = dataset_dir(dataset)
    path = Path(path)
    data, why = read_preset_bytes(path)
    if data is None:
        raise StyleError(f"{path}: {why}")
    digest = content_hash(data)
    df = load_dataset(ds) if frame is None else frame
    known = df[(df["hash"] == digest) & df["error"].isna()] if "error" in df else df[df["hash"] == digest]
    if len(known):
        return known.iloc[[0]], True
    row = static_row(path, path.parent, data, None)
    if row.get("error") is not None:
        where = f"{path}:{row['error_line']}" if row.get("error_line") else str(path)
        raise StyleError(f"{where}: {row['error']}")
    if needs_render(groups):
        row.update(_render_row(ds, path, data, digest))
        if row.get("render_error"):
            raise StyleError(f"{path}: does not render: {row['render_error']}")
    return pd.DataFrame([row]), False


def _render_row(ds: Path, path: Path, data: bytes, digest: str) -> dict:
    from evo.config import load_config
    from evo.evaluate import evaluate_here
    from evo.doctor.rendered import settings_from_dict
    from evo.mining.rendered import render_row

    meta = read_meta(ds)
    settings = settings_from_dict(((meta.get("render") or {}).get("settings")) or {})
    weights = meta.get("score_weights") or dict(load_config().fitness.weights)
    with tempfile.TemporaryDirectory(prefix="liandan-assign-") as work:
        result = evaluate_here(data.decode("latin-1"), settings, work)
    record = {k: result.get(k) for k in ("stats", "descriptors", "error", "warnings", "seconds")}
    record["warnings"] = len(record.get("warnings") or [])
    return render_row(record, digest, weights)


def assign_files(dataset: str | Path, paths: list[str | Path], families: Families | None = None) -> list[dict]:
    """Which family each file belongs to (or none), how close it is, and its nearest members."""
    fams = families or load_families(dataset)
    df = load_dataset(fams.dataset)
    out = []
    for p in paths:
        row, known = features_of_file(fams.dataset, p, fams.space.groups, df)
        z = fams.transform(row)
        near = fams.clusterer.nearest(z)
        fam = int(fams.clusterer.predict(z)[0])
        point = int(fams.index_of([row["hash"].iloc[0]])[0])
        if point >= 0:  # a clustered preset keeps the family HDBSCAN gave it
            fam = int(fams.labels[point])
        nearest = int(near["family"][0])
        out.append({"file": str(p), "hash": row["hash"].iloc[0], "known": known, "family": fam,
                    "label": fams.label_of(fam), "nearest_family": nearest, "nearest_label": fams.label_of(nearest),
                    "reach": float(near["reach"][0]), "radius": float(near["radius"][0]),
                    "via": str(fams.points["rel_path"].iloc[int(near["via"][0])])})
    return out


def similar_to(dataset: str | Path, path: str | Path, k: int = 10, families: Families | None = None) -> pd.DataFrame:
    """The ``k`` presets nearest in style (the families' feature space) to a file; the file's own
    content is not among them. Columns: rel_path, hash, family, label, distance."""
    from sklearn.neighbors import NearestNeighbors

    fams = families or load_families(dataset)
    row, _ = features_of_file(fams.dataset, path, fams.space.groups)
    z = fams.transform(row)
    own = row["hash"].iloc[0]
    kk = min(len(fams.points), k + 1)
    dist, idx = NearestNeighbors(n_neighbors=kk).fit(fams.features).kneighbors(z)
    pts = fams.points.iloc[idx[0]].copy()
    pts["distance"] = dist[0]
    pts = pts[pts["hash"] != own].head(k)
    pts["label"] = [fams.label_of(int(f)) for f in pts["family"]]
    return pts[["rel_path", "hash", "family", "label", "distance"]].reset_index(drop=True)
