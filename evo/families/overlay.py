"""A run's individuals placed on a dataset's style map: where did evolution go?

An individual has what a dataset row has: its preset file (parameters, code, shaders: read with
the mining's own static features) and the image statistics and descriptors its evaluation
measured (saved in its checkpoint record). Its render differs from the mining render (the run's
own size, frames and music), so its place on the map is approximate; a record from before
descriptors were saved gets their collection-median values.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MAX_INDIVIDUALS = 2000


def individual_rows(run, max_individuals: int = MAX_INDIVIDUALS) -> pd.DataFrame:
    """One dataset-shaped row per evaluated individual of a run (newest generations first when
    there are more than ``max_individuals``), with ``id``, ``generation`` and ``score``."""
    from evo.mining.static import static_row

    rows: list[dict] = []
    for g in sorted(run.generations(), reverse=True):
        for rec in run.read_checkpoint(g).individuals:
            if len(rows) >= max_individuals:
                break
            if rec.error or not rec.stats:
                continue
            path = Path(run.preset_path(rec.id))
            try:
                data = path.read_bytes()
            except OSError:
                continue
            row = static_row(path, path.parent, data)
            if row.get("error") is not None:
                continue
            row.update({f"stat_{k}": v for k, v in rec.stats.items()})
            row.update({f"desc_{k}": v for k, v in (rec.descriptors or {}).items()})
            row.update({"id": rec.id, "generation": rec.generation, "score": rec.score})
            rows.append(row)
    return pd.DataFrame(rows)


def place_run(atlas, run, max_individuals: int = MAX_INDIVIDUALS) -> pd.DataFrame:
    """``individual_rows`` with map coordinates ``x``, ``y`` and the ``family`` each falls in."""
    rows = individual_rows(run, max_individuals)
    if rows.empty:
        return pd.DataFrame(columns=["id", "generation", "score", "x", "y", "family"])
    xy = atlas.place(rows)
    out = rows[["id", "generation", "score"]].copy()
    out["x"], out["y"] = xy[:, 0], xy[:, 1]
    out["family"] = atlas.families.predict(rows)
    return out.sort_values(["generation", "id"]).reset_index(drop=True)
