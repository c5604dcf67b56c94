"""Features read from a preset file alone: identity, parameters, custom waves and shapes, shaders.

Everything here is a pure function of the file's bytes and where it was found, cheap enough for
the whole pass to run at thousands of presets a second (benchmarks/bench_mining.py), which is why
the mine recomputes it on every run instead of caching it.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from renderer.milk.params import N_SHAPES, N_WAVES, SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA
from renderer.milk.preset import Preset, PresetError, parse_milk
from renderer.shaders.prelude import sampler_ref

from evo.mining.code_features import code_columns, code_features

#: Bump when a static feature changes meaning (recorded in meta.json; static features are never cached).
STATIC_VERSION = 1

IDENTITY_COLUMNS = ("path", "rel_path", "folder", "file", "author", "title", "hash", "bytes", "error", "error_line",
                    "duplicate_of", "copies", "milk_version", "ps_warp", "ps_comp")

WAVE_ITEM_COLUMNS = tuple(WAVE_SCHEMA) + ("lines_init", "lines_per_frame", "lines_per_point")
SHAPE_ITEM_COLUMNS = tuple(SHAPE_SCHEMA) + ("lines_init", "lines_per_frame")
SHADER_COLUMNS = ("shader_warp", "shader_comp", "shader_warp_lines", "shader_comp_lines", "shader_samplers",
                  "shader_user_textures", "shader_blur", "shader_noise", "shader_tex_calls", "shader_q_vars")
SUMMARY_COLUMNS = ("waves_enabled", "shapes_enabled", "keys_set", "keys_unknown")


def all_set_keys() -> list[str]:
    keys = list(SCHEMA)
    keys += [f"wavecode_{k}_{s}" for k in range(N_WAVES) for s in WAVE_SCHEMA]
    keys += [f"shapecode_{k}_{s}" for k in range(N_SHAPES) for s in SHAPE_SCHEMA]
    return keys


def static_columns() -> list[str]:
    """Every column :func:`static_row` returns, in the dataset's order."""
    cols = list(IDENTITY_COLUMNS)
    cols += [f"param_{k}" for k in SCHEMA]
    cols += [f"set_{k}" for k in all_set_keys()]
    cols += [f"wave{k}_{c}" for k in range(N_WAVES) for c in WAVE_ITEM_COLUMNS]
    cols += [f"shape{k}_{c}" for k in range(N_SHAPES) for c in SHAPE_ITEM_COLUMNS]
    cols += list(SUMMARY_COLUMNS) + list(SHADER_COLUMNS) + code_columns()
    return cols


def content_hash(data: bytes) -> str:
    """The identity of a preset's content: two files with the same bytes are one preset."""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def author_title(stem: str) -> tuple[str | None, str]:
    """("Author", "Title") from the "Author - Title" file names packs use; (None, stem) otherwise.
    Co-authors stay together ("Geiss & Rovastar")."""
    author, sep, title = stem.partition(" - ")
    if sep and author.strip() and title.strip():
        return author.strip(), title.strip()
    return None, stem.strip()


def identity(path: Path, root: Path, data: bytes | None) -> dict:
    """The identity columns of a file found under ``root`` (before it is parsed). String work,
    not PurePath methods: this runs once per file of a 100k-file pack."""
    full, base = str(path), str(root)
    if full.startswith(base + os.sep):
        rel = full[len(base) + 1:].replace(os.sep, "/")
    else:
        rel = path.name
    parent, _, name = rel.rpartition("/")
    stem = name[:-5] if name.lower().endswith(".milk") else name
    author, title = author_title(stem)
    return {"path": full, "rel_path": rel, "folder": parent or root.name, "file": name, "author": author,
            "title": title, "hash": content_hash(data) if data is not None else None,
            "bytes": len(data) if data is not None else None}


def static_row(path: Path, root: Path, data: bytes | None, read_error: str | None = None) -> dict:
    """One dataset row's static part; a file that cannot be read or parsed gives a row with
    ``error`` (and ``error_line``) set and the feature columns empty, never an exception."""
    row = identity(path, root, data)
    if data is None:
        row["error"] = read_error or "cannot read"
        return row
    try:
        preset = parse_milk(data, source=str(path))
    except PresetError as exc:
        row["error"], row["error_line"] = exc.message, exc.line
        return row
    except Exception as exc:  # noqa: BLE001 - a reader bug must not stop a 10k-file mine
        row["error"] = f"reader crashed: {type(exc).__name__}: {exc}"
        return row
    row.update(preset_features(preset))
    return row


_PARAM_COLS = [(f"param_{k}", k) for k in SCHEMA]
_SET_COLS = [(f"set_{k}", k) for k in all_set_keys()]
_WAVE_COLS = [[(f"wave{i}_{k}", k) for k in WAVE_SCHEMA] for i in range(N_WAVES)]
_SHAPE_COLS = [[(f"shape{i}_{k}", k) for k in SHAPE_SCHEMA] for i in range(N_SHAPES)]


def preset_features(preset: Preset) -> dict:
    """Every feature column of a parsed preset (all but identity)."""
    row: dict = {"error": None, "milk_version": preset.version}
    warp_ps, comp_ps = preset.shader_versions()
    row["ps_warp"], row["ps_comp"] = warp_ps, comp_ps
    params = preset.params
    row.update({col: params.get(k) for col, k in _PARAM_COLS})
    set_keys = preset.set_keys
    row.update({col: k in set_keys for col, k in _SET_COLS})
    for w in preset.waves:
        wp = w.params
        row.update({col: wp.get(k) for col, k in _WAVE_COLS[w.index]})
        p = f"wave{w.index}_"
        row[p + "lines_init"], row[p + "lines_per_frame"], row[p + "lines_per_point"] = (
            len(w.init), len(w.per_frame), len(w.per_point))
    for s in preset.shapes:
        sp = s.params
        row.update({col: sp.get(k) for col, k in _SHAPE_COLS[s.index]})
        p = f"shape{s.index}_"
        row[p + "lines_init"], row[p + "lines_per_frame"] = len(s.init), len(s.per_frame)
    row["waves_enabled"] = sum(w.enabled for w in preset.waves)
    row["shapes_enabled"] = sum(s.enabled for s in preset.shapes)
    row["keys_set"] = len(set_keys)
    row["keys_unknown"] = len(preset.unknown)
    row.update(shader_features(preset))
    row.update(code_features(preset))
    return row


_SAMPLER = re.compile(r"\bsampler_\w+")
_BLUR = re.compile(r"(?:getblur|sampler_blur)([123])")
_TEX = re.compile(r"\btex[23]d\s*\(")
_SHADER_Q = re.compile(r"\bq([1-9]|[12][0-9]|3[0-2])\b")
_NOISE = re.compile(r"noise")


def shader_features(preset: Preset) -> dict:
    """The ``shader_`` columns: which MilkDrop 2 shaders run (a file older than version 200 never
    runs shader text), their size, the textures they sample, blur levels and noise."""
    warp_ps, comp_ps = preset.shader_versions()
    texts = [t for t, ps in ((preset.warp_shader, warp_ps), (preset.comp_shader, comp_ps)) if ps and t.strip()]
    joined = "\n".join(texts).lower()
    samplers = {m.group(0) for m in _SAMPLER.finditer(joined)}
    refs = [r for r in (sampler_ref(s) for s in samplers) if r is not None]
    blur = [int(b) for b in _BLUR.findall(joined)]
    return {
        "shader_warp": bool(warp_ps and preset.warp_shader.strip()),
        "shader_comp": bool(comp_ps and preset.comp_shader.strip()),
        "shader_warp_lines": preset.warp_shader.count("\n") + 1 if warp_ps and preset.warp_shader.strip() else 0,
        "shader_comp_lines": preset.comp_shader.count("\n") + 1 if comp_ps and preset.comp_shader.strip() else 0,
        "shader_samplers": len({r.texture for r in refs}),
        "shader_user_textures": len({r.texture for r in refs if r.is_user_texture}),
        "shader_blur": max(blur, default=0),
        "shader_noise": bool(_NOISE.search(joined)),
        "shader_tex_calls": len(_TEX.findall(joined)),
        "shader_q_vars": len(set(_SHADER_Q.findall(joined))),
    }
