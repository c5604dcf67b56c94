"""A synthetic style dataset with known groups, shaped exactly like one `liandan mine` writes.

Each group is a folder of real, parseable ``.milk`` files that share parameters (a wave mode, a
zoom, a decay; group 2 draws a custom shape); their static columns come from the mining's own
``static_row``. The rendered columns (statistics, descriptors) are drawn around a centre per
group, well apart, so the families to find are known without rendering anything. Thumbnails are
tiny PNGs in the group's colour.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np

from evo.fitness.descriptors import DESCRIPTOR_NAMES
from evo.fitness.statistics import STAT_NAMES
from evo.mining.dataset import DATASET_FILE, META_FILE, THUMBS_DIR, rows_to_table
from evo.mining.rendered import render_columns
from evo.mining.static import static_columns, static_row

GROUPS = 4
PER_GROUP = 30
COLOURS = ((200, 40, 40), (40, 200, 40), (40, 40, 200), (200, 200, 40))
# per group: wave mode, zoom, decay, rotation, and where its look sits (brightness first)
STYLE = ((6, 1.08, 0.90, 0.00, 0.08), (2, 0.96, 0.99, 0.20, 0.85), (4, 1.00, 0.95, -0.1, 0.45), (0, 1.02, 0.97, 0.05, 0.30))


def milk_text(group: int, k: int, rng: np.random.Generator) -> str:
    mode, zoom, decay, rot, _ = STYLE[group]
    lines = ["MILKDROP_PRESET_VERSION=201", "[preset00]", f"fDecay={decay + rng.normal(0, 0.003):.5f}",
             f"zoom={zoom + rng.normal(0, 0.003):.5f}", f"rot={rot + rng.normal(0, 0.003):.5f}", f"nWaveMode={mode}",
             f"wave_r={rng.uniform(0.3, 0.7):.4f}", f"per_frame_1=wave_g = 0.5 + 0.5*sin(time*{1 + k * 0.01 + group:.3f});"]
    if group == 2:
        lines += ["shapecode_0_enabled=1", "shapecode_0_sides=5", f"shapecode_0_rad={rng.uniform(0.1, 0.3):.3f}"]
    return "\n".join(lines) + "\n"


def look_centres(seed: int = 0) -> np.ndarray:
    """One centre per group for the statistics and descriptors (columns: STAT_NAMES, then
    DESCRIPTOR_NAMES), far apart in every dimension."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0.15, 0.85, size=(GROUPS, len(STAT_NAMES) + len(DESCRIPTOR_NAMES)))
    for g in range(GROUPS):
        centres[g, len(STAT_NAMES) + DESCRIPTOR_NAMES.index("brightness")] = STYLE[g][4]
    return centres


def look_row(group: int, rng: np.random.Generator, spread: float = 0.015, seed: int = 0) -> dict:
    v = look_centres(seed)[group] + rng.normal(0, spread, size=len(STAT_NAMES) + len(DESCRIPTOR_NAMES))
    row = {f"stat_{s}": float(v[j]) for j, s in enumerate(STAT_NAMES)}
    row.update({f"desc_{d}": float(v[len(STAT_NAMES) + j]) for j, d in enumerate(DESCRIPTOR_NAMES)})
    return row


def png(colour: tuple[int, int, int], size: int = 16) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, "PNG")
    return buf.getvalue()


def make_style_dataset(root: Path, per_group: int = PER_GROUP, seed: int = 0) -> tuple[Path, Path, dict[str, int]]:
    """(dataset folder, presets folder, rel_path -> true group). Also writes one copy of a file
    under another name and one file that does not parse."""
    rng = np.random.default_rng(seed)
    presets = root / "presets"
    ds = root / "ds"
    (ds / THUMBS_DIR).mkdir(parents=True)
    truth: dict[str, int] = {}
    files: list[tuple[Path, int | None]] = []
    for g in range(GROUPS):
        folder = presets / f"style_{g}"
        folder.mkdir(parents=True)
        for k in range(per_group):
            p = folder / f"Maker{g} - preset {k:03d}.milk"
            p.write_text(milk_text(g, k, rng), encoding="latin-1")
            files.append((p, g))
    copy = presets / "style_0" / "copy of preset 000.milk"
    shutil.copy(presets / "style_0" / "Maker0 - preset 000.milk", copy)
    files.append((copy, 0))
    broken = presets / "style_1" / "broken.milk"
    broken.write_bytes(b"[preset00]\nzoom=1\x00\x00\n")
    files.append((broken, None))
    rows = []
    first: dict[str, str] = {}
    for p, g in files:
        row = static_row(p, presets, p.read_bytes())
        if row.get("error") is None:
            digest = row["hash"]
            if digest in first:
                row["duplicate_of"] = first[digest]
            else:
                first[digest] = row["rel_path"]
                row.update(look_row(g, rng, seed=seed))
                row.update({"render_score": float(0.5 + 0.1 * g), "render_thumb": f"{THUMBS_DIR}/{digest}.png",
                            "render_seconds": 0.01, "render_warnings": 0.0})
                (ds / THUMBS_DIR / f"{digest}.png").write_bytes(png(COLOURS[g]))
            row["copies"] = 2.0 if p.name.endswith("000.milk") and g == 0 else 1.0
            truth[row["rel_path"]] = g
        rows.append(row)
    import pyarrow.parquet as pq

    pq.write_table(rows_to_table(rows, static_columns() + render_columns()), ds / DATASET_FILE)
    (ds / META_FILE).write_text(json.dumps({"format": 1, "inputs": [str(presets)], "rendered": True,
                                            "render": {"settings": {"width": 32, "height": 32, "frames": 16}}}))
    return ds, presets, truth


def new_rows(group: int, n: int, seed: int = 99):
    """Dataset-shaped rows of presets of ``group`` that the dataset does not hold."""
    import pandas as pd

    from evo.mining.static import preset_features
    from renderer.milk.preset import parse_milk

    rng = np.random.default_rng(seed)
    out = []
    for k in range(n):
        row = preset_features(parse_milk(milk_text(group, 500 + k, rng)))
        row.update(look_row(group, rng))
        out.append(row)
    return pd.DataFrame(out)
