"""Reactivity profiles as a column group of the mining dataset (``liandan mine --reactivity``).

Each distinct preset of a dataset gets the profile ``liandan info --reactivity`` prints (ten
seconds against the probe music, evo.music.reactivity), in ``react_`` columns, so ``liandan match
SONG --presets DATASET`` ranks a whole collection without rendering anything. The profiles are
cached in the dataset's cache under their own key: adding them renders only them, and a change to
the probe redoes only them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Callable

from evo.mining.dataset import finite_or_none
from evo.mining.rendered import RenderGroup, versions
from evo.music.reactivity import PROBE_FPS, PROBE_SECONDS, PROBE_SIZE, PROFILE_VERSION, ReactivityProfile

PREFIX = "react_"
GROUP = "reactivity"
PROFILE_FIELDS = tuple(f.name for f in fields(ReactivityProfile))


def reactivity_job(path: str, config, cache: dict, *, dataset: str) -> dict:
    """One preset's profile in a sweep worker, with its content hash (the mining cache's key)."""
    from evo.mining.static import content_hash
    from evo.music.profiles import profile_job

    data = Path(path).read_bytes()
    res = profile_job(path, config, cache)
    record = {"profile": res.get("profile"), "error": res.get("error")}
    return {"file": path, "hash": content_hash(data), "status": res["status"], "result": record}


@dataclass(frozen=True)
class ReactivityGroup(RenderGroup):
    name: str = GROUP

    def key(self) -> str:
        payload = {"profile": PROFILE_VERSION, "fps": PROBE_FPS, "seconds": PROBE_SECONDS, "size": PROBE_SIZE,
                   "renderer": versions()["renderer"]}
        return hashlib.blake2b(json.dumps(payload, sort_keys=True).encode(), digest_size=8).hexdigest()

    def job(self, dataset: Path) -> Callable:
        return partial(reactivity_job, dataset=str(dataset))

    def columns(self) -> list[str]:
        return [PREFIX + f for f in PROFILE_FIELDS] + [PREFIX + "beat_lock", PREFIX + "motion_level", PREFIX + "error"]

    def row(self, record: dict | None, digest: str, weights: dict[str, float]) -> dict:
        if record is None:
            return {}
        if not record.get("profile"):
            return {PREFIX + "error": record.get("error") or "failed"}
        p = ReactivityProfile.from_json(record["profile"])
        row = {PREFIX + f: finite_or_none(getattr(p, f)) for f in PROFILE_FIELDS}
        row[PREFIX + "beat_lock"] = finite_or_none(p.beat_lock)
        row[PREFIX + "motion_level"] = finite_or_none(p.motion_level)
        return row

    def has_media(self, record: dict) -> bool:
        return False

    @property
    def timeout_s(self) -> float:
        return 120.0


def profile_of_row(row) -> ReactivityProfile | None:
    """The profile in a dataset row, or None when the row has none (not mined with it, or failed)."""
    values = {f: row.get(PREFIX + f) for f in PROFILE_FIELDS}
    if any(v is None or v != v for v in values.values()):  # None or NaN
        return None
    return ReactivityProfile(**{k: float(v) for k, v in values.items()})


def candidates_from_dataset(dataset) -> tuple[list, int]:
    """Match candidates from a mining dataset's ``react_`` columns (one per distinct content; its
    machine score as the quality), and how many rows had no profile."""
    from evo.music.match import Candidate

    if PREFIX + "beat_alignment" not in dataset.columns:
        return [], len(dataset)
    out, missing = [], 0
    for _, row in dataset.iterrows():
        if isinstance(row.get("duplicate_of"), str) or isinstance(row.get("error"), str):
            continue
        profile = profile_of_row(row)
        if profile is None:
            missing += 1
            continue
        score = row.get("render_score")
        quality = float(score) if score is not None and score == score else 0.5
        out.append(Candidate(Path(str(row["path"])).stem, str(row["path"]), profile, quality))
    return out, missing
