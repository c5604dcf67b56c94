"""Families and the map as saved beside a dataset, and the API other tools read them through.

    DATASET/style/
      families.json   feature space, clusterer (parameters, candidates, stability), quality,
                      one entry per family (id, label, terms, size, medoids), bridges, the tree
      points.parquet  one row per clustered preset: hash, rel_path, folder, family, probability,
                      core_distance, and its coordinates f0..fN in the feature space
      map.json        map method and parameters, spacing, trustworthiness, gaps, lattice facts
      map.parquet     hash, x, y of every clustered preset on the map
      families.png    the family sheet; tree.png the style tree; atlas.png the map with thumbnails

Everything is JSON and Parquet (no pickle): a saved clusterer or map is rebuilt from them by the
estimators' ``from_json``. Family ids are small integers that stay with a family when the
dataset is clustered again (matched by members), shown as ``F3``; gaps are ``G1``, ``G2``, ...
by size. The generator (``--family ID``, ``--gap ID``) and the Map page use:

    fams = load_families(ds)            # Families: .family(3), .labels, .predict(features_df)
    atlas = load_map(ds)                # StyleAtlas: .gaps, .gap("G2"), .place(features_df)
    atlas.gap_neighbours("G2")          # the presets around a gap (rows of fams.points)
    atlas.gap("G2").contains(atlas.place(df))   # do new presets land in the gap?
    features_of_file(ds, "x.milk")      # a file's dataset row (rendered like the dataset)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evo.families.clusterer import NOISE, StyleClusterer
from evo.families.features import FeatureSpace
from evo.families.style_map import Gap, StyleMap
from evo.mining.dataset import DatasetError, dataset_dir

STYLE_DIR = "style"
FAMILIES_FILE = "families.json"
POINTS_FILE = "points.parquet"
MAP_FILE = "map.json"
MAP_POINTS_FILE = "map.parquet"
SHEET_FILE = "families.png"
TREE_FILE = "tree.png"
ATLAS_FILE = "atlas.png"
FORMAT = 1


class StyleError(DatasetError):
    """Families or a map that are missing, stale or unreadable; the message says which and what to run."""


def style_dir(dataset: str | Path) -> Path:
    return dataset_dir(dataset) / STYLE_DIR


def family_name(fam: int) -> str:
    return "noise" if fam == NOISE else f"F{fam}"


def parse_family(text: str | int) -> int:
    """``"F3"``, ``"3"`` or 3 -> 3."""
    t = str(text).strip()
    t = t[1:] if t[:1] in ("F", "f") else t
    try:
        return int(t)
    except ValueError:
        raise StyleError(f"{text!r} is not a family id (F0, F1, ...)") from None


@dataclass
class Family:
    id: int
    label: str
    size: int  # distinct presets
    files: int  # files, copies included
    terms: list[dict]
    medoids: list[str]  # hashes, most typical first
    folders: list[list]  # [folder, presets] most common first
    radius: float
    centroid: list[float]

    @property
    def name(self) -> str:
        return family_name(self.id)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Families:
    """A dataset's saved families. ``points`` holds one row per clustered preset (hash, rel_path,
    folder, family, probability, core_distance); ``space`` and ``clusterer`` place new presets."""

    dataset: Path
    space: FeatureSpace
    clusterer: StyleClusterer
    families: dict[int, Family]
    points: pd.DataFrame
    bridges: list[dict]
    tree: dict
    quality: dict
    meta: dict = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray:
        return self.clusterer.labels_

    @property
    def features(self) -> np.ndarray:
        return self.clusterer.X_

    def family(self, fam: int | str) -> Family:
        fid = parse_family(fam)
        if fid not in self.families:
            raise StyleError(f"{self.dataset}: no family {family_name(fid)} (there are "
                             f"{', '.join(f.name for f in self.families.values())})")
        return self.families[fid]

    def members(self, fam: int | str) -> pd.DataFrame:
        fid = self.family(fam).id
        return self.points[self.points["family"] == fid]

    def label_of(self, fam: int) -> str:
        return "noise" if fam == NOISE or fam not in self.families else self.families[fam].label

    def transform(self, rows: pd.DataFrame) -> np.ndarray:
        """Dataset rows (or rows shaped like them) in the families' feature space."""
        return self.space.transform(rows)

    def predict(self, rows: pd.DataFrame) -> np.ndarray:
        """The family of each row (NOISE = -1 when it belongs to none)."""
        return self.clusterer.predict(self.transform(rows))

    def index_of(self, hashes) -> np.ndarray:
        """Point indices of content hashes (-1 where a hash is not clustered)."""
        pos = pd.Series(np.arange(len(self.points)), index=self.points["hash"].to_numpy())
        pos = pos[~pos.index.duplicated()]
        return pos.reindex(list(hashes)).fillna(-1).astype(int).to_numpy()


@dataclass
class StyleAtlas:
    """A dataset's saved map: ``xy`` (one row per point of ``families.points``, same order), the
    fitted :class:`StyleMap` for placing new presets, and the gaps."""

    families: Families
    map: StyleMap
    xy: np.ndarray
    gaps: list[Gap]
    meta: dict = field(default_factory=dict)

    def place(self, rows: pd.DataFrame) -> np.ndarray:
        """Map positions (n x 2) of dataset-shaped rows."""
        return self.map.transform(self.families.transform(rows))

    def gap(self, gid: str) -> Gap:
        want = str(gid).strip().upper()
        want = want if want.startswith("G") else f"G{want}"
        for g in self.gaps:
            if g.id == want:
                return g
        raise StyleError(f"{self.families.dataset}: no gap {gid} (there are {', '.join(g.id for g in self.gaps) or 'none'})")

    def gap_neighbours(self, gid: str) -> pd.DataFrame:
        g = self.gap(gid)
        out = self.families.points.iloc[g.neighbours].copy()
        out["distance"] = np.hypot(self.xy[g.neighbours, 0] - g.x, self.xy[g.neighbours, 1] - g.y)
        return out

    def gap_families(self, g: Gap) -> list[list[int]]:
        """[family, presets] around a gap under the current families (most first)."""
        labels = self.families.labels[g.neighbours]
        fams, counts = np.unique(labels[labels != NOISE], return_counts=True)
        order = np.argsort(-counts, kind="stable")
        return [[int(fams[i]), int(counts[i])] for i in order]


# ---------------------------------------------------------------- writing


def write_families(dataset: Path, space: FeatureSpace, clusterer: StyleClusterer, families: dict[int, Family],
                   points: pd.DataFrame, bridges: list[dict], tree: dict, quality: dict, meta: dict) -> Path:
    from renderer.output.files import atomic_write_bytes

    out = style_dir(dataset)
    out.mkdir(parents=True, exist_ok=True)
    table = points[["hash", "rel_path", "folder"]].reset_index(drop=True).copy()
    table["family"] = clusterer.labels_
    table["probability"] = clusterer.probabilities_
    table["core_distance"] = clusterer.core_distances_
    for j in range(clusterer.X_.shape[1]):
        table[f"f{j}"] = clusterer.X_[:, j]
    _write_table(table, out / POINTS_FILE)
    doc = {"format": FORMAT, **meta, "space": space.to_json(), "clusterer": clusterer.to_json(), "quality": quality,
           "families": [f.to_json() for f in families.values()], "bridges": bridges, "tree": tree}
    atomic_write_bytes(out / FAMILIES_FILE, (json.dumps(doc, indent=1) + "\n").encode())
    return out


def write_map(dataset: Path, smap: StyleMap, hashes: list[str], gaps: list[Gap], meta: dict) -> Path:
    from renderer.output.files import atomic_write_bytes

    out = style_dir(dataset)
    _write_table(pd.DataFrame({"hash": hashes, "x": smap.embedding_[:, 0], "y": smap.embedding_[:, 1]}),
                 out / MAP_POINTS_FILE)
    doc = {"format": FORMAT, **meta, "map": smap.to_json(), "gaps": [g.to_json() for g in gaps]}
    atomic_write_bytes(out / MAP_FILE, (json.dumps(doc, indent=1) + "\n").encode())
    return out


def _write_table(df: pd.DataFrame, path: Path) -> None:
    import os

    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    df.to_parquet(tmp, index=False, compression="zstd")
    os.replace(tmp, path)


# ---------------------------------------------------------------- reading


def _read_json(path: Path, what: str, command: str) -> dict:
    if not path.is_file():
        raise StyleError(f"{path}: no {what} yet: run `{command}`")
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise StyleError(f"{path}: cannot read: {exc}") from exc
    if doc.get("format", FORMAT) > FORMAT:
        raise StyleError(f"{path}: format {doc.get('format')} is newer than this liandan reads ({FORMAT})")
    return doc


def load_families(dataset: str | Path) -> Families:
    ds = dataset_dir(dataset)
    folder = style_dir(ds)
    doc = _read_json(folder / FAMILIES_FILE, "families", f"liandan cluster {ds}")
    try:
        points = pd.read_parquet(folder / POINTS_FILE)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types
        raise StyleError(f"{folder / POINTS_FILE}: cannot read ({exc}): run `liandan cluster {ds}` again") from exc
    fcols = sorted((c for c in points.columns if c.startswith("f") and c[1:].isdigit()), key=lambda c: int(c[1:]))
    x = points[fcols].to_numpy(dtype=np.float64)
    clusterer = StyleClusterer.from_json(doc["clusterer"], x, points["family"].to_numpy(),
                                         points["probability"].to_numpy(), points["core_distance"].to_numpy())
    fams = {int(f["id"]): Family(**f) for f in doc["families"]}
    meta = {k: v for k, v in doc.items() if k not in ("space", "clusterer", "families", "bridges", "tree", "quality")}
    return Families(ds, FeatureSpace.from_json(doc["space"]), clusterer, fams,
                    points[["hash", "rel_path", "folder", "family", "probability"]], doc.get("bridges", []),
                    doc.get("tree", {}), doc.get("quality", {}), meta)


def load_map(dataset: str | Path, families: Families | None = None) -> StyleAtlas:
    ds = dataset_dir(dataset)
    fams = families or load_families(ds)
    folder = style_dir(ds)
    doc = _read_json(folder / MAP_FILE, "map", f"liandan map {ds}")
    try:
        xy = pd.read_parquet(folder / MAP_POINTS_FILE)
    except Exception as exc:  # noqa: BLE001
        raise StyleError(f"{folder / MAP_POINTS_FILE}: cannot read ({exc}): run `liandan map {ds}` again") from exc
    if list(xy["hash"]) != list(fams.points["hash"]):
        raise StyleError(f"{folder / MAP_FILE}: made from other presets than the families: run `liandan map {ds}` again")
    coords = xy[["x", "y"]].to_numpy(dtype=np.float64)
    smap = StyleMap.from_json(doc["map"], fams.features, coords)
    meta = {k: v for k, v in doc.items() if k not in ("map", "gaps")}
    return StyleAtlas(fams, smap, coords, [Gap.from_json(g) for g in doc.get("gaps", [])], meta)


def family_column(dataset: str | Path, hashes) -> "pd.Series | None":
    """"F3 label" (or "noise") for each content hash, None where a preset was not clustered; None
    for the whole column when the dataset has no families. What the Corpus page filters by."""
    if not has_families(dataset):
        return None
    try:
        fams = load_families(dataset)
    except StyleError:
        return None
    names = {int(f): ("noise" if f == NOISE else f"F{f} {fams.label_of(int(f))}") for f in np.unique(fams.labels)}
    by_hash = pd.Series([names[int(f)] for f in fams.labels], index=fams.points["hash"].to_numpy())
    return pd.Series(list(hashes)).map(by_hash)


def families_stamp(dataset: str | Path) -> int:
    """Changes whenever the saved families do (a cache key)."""
    p = style_dir(dataset) / FAMILIES_FILE
    return p.stat().st_mtime_ns if p.is_file() else 0


def has_families(dataset: str | Path) -> bool:
    return (style_dir(dataset) / FAMILIES_FILE).is_file()


def has_map(dataset: str | Path) -> bool:
    return (style_dir(dataset) / MAP_FILE).is_file()
