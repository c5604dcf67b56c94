"""The corpus dataset: one row per preset file, as a Parquet file in a folder of its own.

Several tools read it (the report, the Corpus page, style families, the preset doctor, music
matching, the quality predictor's cold start), so its layout and column names are an API:

    DATASET/
      dataset.parquet   one row per file found (pandas, polars, duckdb, pyarrow read it)
      meta.json         format, inputs, counts, render settings, and the versions it was made with
      cache.sqlite      rendered features by content hash and render key (what makes re-runs cheap)
      thumbs/HASH.png   the last rendered frame (64x64 by default), one per distinct content
      previews/HASH.webp  a short animated preview of the same render

Read it with :func:`load_dataset` (a DATASET folder or the Parquet file itself).

**Columns.** A column's prefix says what it is and where it comes from:

    (none)      identity: path, rel_path (under the folder it was found in), folder, file, author and
                title (from "Author - Title" names; author null otherwise), hash (of the bytes),
                bytes, error and error_line (the file does not read or parse: every feature column
                is null), duplicate_of (rel_path of the first file with the same bytes), copies
                (files sharing them), milk_version, ps_warp / ps_comp (shader model that runs; 0 none)
    param_K     base parameter K as MilkDrop holds it (its default when the file does not set it)
    set_K       the file sets key K itself (base keys, ``wavecode_N_x``, ``shapecode_N_x``)
    waveN_x     custom wave N's parameter x (``wave0_enabled``, ``wave0_samples``) and its code
                lines (``wave0_lines_per_point``); shapeN_x likewise for custom shapes
    waves_enabled, shapes_enabled, keys_set, keys_unknown   counts
    code_       EEL code features (evo.mining.code_features: sizes, variables written, functions)
    shader_     MilkDrop 2 shader features (present, lines, samplers, user textures, blur, noise)
    stat_       image statistics of the fixed render and its flash rate (evo.fitness.candidate.CANDIDATE_STATS)
    desc_       behaviour descriptors of the same frames (evo.fitness.descriptors)
    react_      reactivity profile (with ``--reactivity``): beat alignment, chance, bass/mid/treb
                following, motion, brightness, warmth, visual tempo (evo.music.reactivity)
    render_     render_error, render_degenerate, render_score (the machine score under the bands and
                weights current when the dataset was written), render_seconds, render_warnings,
                render_thumb and render_preview (paths relative to the DATASET folder)

Types: strings for identity and ``render_`` text, booleans for ``set_``, ``code_pf_``, ``code_pp_``
and the shader flags, float64 for every other number (NaN where it does not apply). A row whose
file did not parse has nulls in every feature column; one that parsed but did not render has
``render_error`` set and null ``stat_``/``desc_`` columns.

**Adding a column group** (a second music track, say): a new
:class:`evo.mining.rendered.RenderGroup` with its own prefix, version key and worker job, registered
in ``evo.mining.mine.EXTRA_GROUPS``. Its results are cached under its own name and key, so mining an
existing dataset again computes only the new group; the other groups come from the cache, and a
dataset keeps the groups it was once mined with. The first such group: ``react_`` reactivity
profiles (``liandan mine --reactivity``, evo.music.dataset_group).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable

DATASET_FILE = "dataset.parquet"
META_FILE = "meta.json"
CACHE_FILE = "cache.sqlite"
THUMBS_DIR = "thumbs"
PREVIEWS_DIR = "previews"
FORMAT = 1

STRING_COLUMNS = frozenset({"path", "rel_path", "folder", "file", "author", "title", "hash", "error",
                            "duplicate_of", "render_error", "render_degenerate", "render_thumb", "render_preview"})
BOOL_PREFIXES = ("set_", "code_pf_", "code_pp_")
BOOL_COLUMNS = frozenset({"shader_warp", "shader_comp", "shader_noise"})


class DatasetError(ValueError):
    """A dataset folder or file that cannot be used; the message names it."""


def finite_or_none(x) -> float | None:
    """A number as a finite float, or None (JSON and Parquet both want null, not NaN or junk)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def column_kind(name: str) -> str:
    """'str', 'bool' or 'float': the type of a column, from its name alone."""
    if name in STRING_COLUMNS:
        return "str"
    if name in BOOL_COLUMNS or name.startswith(BOOL_PREFIXES):
        return "bool"
    return "float"


def rows_to_table(rows: list[dict], columns: list[str]):
    """Rows (dicts; a missing key or None is null) as a pyarrow Table with the columns' kinds.

    Numbers go through one float64 matrix instead of a Python loop per column: converting the
    600 columns of a few thousand rows one value at a time costs as much as reading the files."""
    import numpy as np
    import pyarrow as pa

    nan = math.nan
    text = [c for c in columns if column_kind(c) == "str"]
    numeric = [c for c in columns if column_kind(c) != "str"]
    arrays: dict[str, Any] = {c: pa.array([r.get(c) for r in rows], type=pa.string()) for c in text}
    if rows:
        matrix = np.array([[nan if (v := r.get(c)) is None else v for c in numeric] for r in rows],
                          dtype=np.float64).T.copy()
    else:
        matrix = np.zeros((len(numeric), 0))
    for j, c in enumerate(numeric):
        col = matrix[j]
        missing = np.isnan(col)
        if column_kind(c) == "bool":
            arrays[c] = pa.array(col > 0.5, mask=missing if missing.any() else None)
        else:
            arrays[c] = pa.array(col, type=pa.float64())
    return pa.Table.from_arrays([arrays[c] for c in columns], names=list(columns))


def dataset_dir(path: str | Path) -> Path:
    """The DATASET folder of a folder or of its Parquet file."""
    path = Path(path)
    return path.parent if path.suffix == ".parquet" else path


def load_dataset(path: str | Path, columns: Iterable[str] | None = None):
    """The dataset as a pandas DataFrame (one row per file; see the module docstring for columns).

    ``path`` is a DATASET folder or its ``dataset.parquet``; ``columns`` reads only those."""
    import pandas as pd

    path = Path(path)
    file = path if path.suffix == ".parquet" else path / DATASET_FILE
    if not file.is_file():
        hint = " (is `liandan mine` still running, or was it interrupted? run it again to finish)" \
            if (dataset_dir(path) / CACHE_FILE).is_file() else ""
        raise DatasetError(f"{file}: no dataset here{hint}")
    try:
        return pd.read_parquet(file, columns=list(columns) if columns is not None else None)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a bad file
        raise DatasetError(f"{file}: cannot read: {exc}") from exc


def read_meta(path: str | Path) -> dict:
    """meta.json of a dataset ({} when absent: a Parquet file copied on its own)."""
    file = dataset_dir(path) / META_FILE
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{file}: cannot read: {exc}") from exc
    if meta.get("format", FORMAT) > FORMAT:
        raise DatasetError(f"{file}: dataset format {meta.get('format')} is newer than this liandan reads ({FORMAT})")
    return meta


def media_path(path: str | Path, relative: str | None) -> Path | None:
    """A ``render_thumb``/``render_preview`` value as a path, or None when there is no such file."""
    if not relative or (isinstance(relative, float) and math.isnan(relative)):
        return None
    p = dataset_dir(path) / str(relative)
    return p if p.is_file() else None


def healthy_rows(df):
    """Rows that rendered, are not degenerate and are the first file of their content."""
    ok = df["error"].isna() & df["render_error"].isna() & df["render_degenerate"].isna() & df["stat_luma_mean"].notna()
    if "duplicate_of" in df:
        ok &= df["duplicate_of"].isna()
    return df[ok]


def columns_with(df, prefix: str) -> list[str]:
    return [c for c in df.columns if c.startswith(prefix)]
