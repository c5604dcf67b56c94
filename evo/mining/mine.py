"""``mine``: folders of presets in, a dataset folder out (layout and columns: evo.mining.dataset).

Three passes, each bounded in memory by a chunk of files, not by the corpus:
1. read: every file is read, hashed and parsed; its static features go to a Parquet part file
   (a few thousand rows at a time). Recomputed on every run: cheaper than caching it.
2. render: each distinct content (by hash) that the cache does not hold for the current render
   key is rendered on the sweep's worker processes (renderer.output.sweep: spawned, one GL
   context each, a crashed or hung worker replaced and its file recorded as an error); every
   result is committed to cache.sqlite as it arrives, which is what makes a killed mine resumable.
3. write: parts and cached results are joined into dataset.parquet (written beside, then renamed
   over the old one) and meta.json.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from renderer.milk.files import find_presets
from renderer.milk.preset import MAX_FILE_BYTES
from renderer.output.files import atomic_write_bytes

from evo.mining.cache import FeatureCache
from evo.mining.dataset import (CACHE_FILE, DATASET_FILE, FORMAT, META_FILE, PREVIEWS_DIR, THUMBS_DIR, DatasetError,
                                rows_to_table)
from evo.config import EvalSettings
from evo.mining.rendered import MINING_SETTINGS, RenderGroup, describe, versions
from evo.mining.static import STATIC_VERSION, static_columns, static_row

CHUNK = 2048
BUILD_DIR = ".build"
LOCK_FILE = ".lock"
RENDER_GROUP = "render"

Progress = Callable[[str, int, int], None]


class MiningError(DatasetError):
    pass


@dataclass
class MineSummary:
    dataset: str
    files: int = 0
    parsed: int = 0
    errors: int = 0  # files that do not read or parse
    distinct: int = 0  # distinct contents among the parsed files
    duplicates: int = 0  # files whose content another file already has
    rendered: int = 0  # renders done by this run
    cached: int = 0  # renders taken from the cache
    render_errors: int = 0  # distinct contents whose render failed (this run or cached)
    seconds: float = 0.0
    render_seconds: float = 0.0
    error_files: list[dict] = field(default_factory=list)  # the first few: file, line, error

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Found:
    """What pass 1 learns about the contents, for passes 2 and 3."""

    first_path: dict[str, str] = field(default_factory=dict)  # hash -> path of its first file
    first_rel: dict[str, str] = field(default_factory=dict)  # hash -> rel_path of its first file
    copies: Counter = field(default_factory=Counter)
    parts: list[Path] = field(default_factory=list)


def mine(inputs: Iterable[str | os.PathLike], out: str | os.PathLike, *, render: bool = True,
         settings: EvalSettings | None = None, workers: int = 2, retry_errors: bool = False,
         extra_groups: Iterable[RenderGroup] = (),
         weights: dict[str, float] | None = None, progress: Progress | None = None) -> MineSummary:
    """Mine every ``*.milk`` under ``inputs`` into the dataset folder ``out``; see the module docstring.

    ``extra_groups``: more rendered column groups (``react_`` reactivity profiles of evo.music), each
    cached under its own name and key. ``render=False`` writes the static columns only (the
    rendered ones are null); ``workers=0``
    renders in this process (tests, debugging), else on that many sweep worker processes. ``weights``:
    the fitness weights ``render_score`` uses (default: the default config's). ``progress(stage,
    done, total)`` is called as files are read ('read'), rendered ('render') and written ('write').
    """
    t0 = time.monotonic()
    out = Path(out)
    roots = [Path(p) for p in inputs]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise MiningError(f"no such file or folder: {', '.join(missing)}")
    _prepare(out)
    if weights is None:
        from evo.config import load_config

        weights = dict(load_config().fitness.weights)
    group = RenderGroup(RENDER_GROUP, settings or MINING_SETTINGS)
    extra = {g.name: g for g in extra_groups}
    for name in _groups_before(out):  # a group a dataset once had stays (its columns are not lost)
        if name in EXTRA_GROUPS and name not in extra:
            extra[name] = EXTRA_GROUPS[name]()
    groups = [group, *extra.values()] if render else []
    summary = MineSummary(dataset=str(out))
    with _Lock(out), FeatureCache(out / CACHE_FILE) as cache:
        found = _read_pass(roots, out, summary, progress)
        for g in groups if found.first_path else []:
            _render_pass(g, found, out, cache, workers, retry_errors, summary, progress)
        _write_pass(groups, found, out, cache, weights, summary, progress)
        for g in groups:
            cache.prune(g.name, g.key())
        summary.seconds = round(time.monotonic() - t0, 2)
        _write_meta(out, roots, group if render else None, summary, weights, [g.name for g in groups])
    shutil.rmtree(out / BUILD_DIR, ignore_errors=True)
    shutil.rmtree(out / ".work", ignore_errors=True)
    return summary


def _reactivity_group() -> RenderGroup:
    from evo.music.dataset_group import ReactivityGroup

    return ReactivityGroup()


#: Rendered column groups beyond the fixed render, by name (``liandan mine --reactivity``).
EXTRA_GROUPS: dict[str, Callable[[], RenderGroup]] = {"reactivity": _reactivity_group}


def _groups_before(out: Path) -> list[str]:
    try:
        return list(json.loads((out / META_FILE).read_text()).get("groups") or [])
    except (OSError, ValueError):
        return []


def _prepare(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise MiningError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not ((out / META_FILE).exists() or (out / CACHE_FILE).exists()):
        raise MiningError(f"{out}: folder is not empty and holds no dataset; give a new or empty folder")
    for sub in (THUMBS_DIR, PREVIEWS_DIR):
        (out / sub).mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / BUILD_DIR, ignore_errors=True)  # parts of a killed run
    (out / BUILD_DIR).mkdir()


class _Lock:
    """One mine per dataset folder at a time (an flock: the kernel drops it when the process dies)."""

    def __init__(self, out: Path):
        self.path = out / LOCK_FILE
        self.fh = None

    def __enter__(self) -> "_Lock":
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.close()
            raise MiningError(f"{self.path.parent}: another `liandan mine` is writing this dataset") from None
        return self

    def __exit__(self, *exc) -> None:
        self.fh.close()


def _files(roots: list[Path]) -> list[tuple[Path, Path]]:
    """(file, the root it was found under), each file once, in find_presets order per root."""
    seen: set[str] = set()
    out = []
    for root in roots:
        base = root if root.is_dir() else root.parent
        for path in find_presets(root):
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                out.append((path, base))
    return out


def read_preset_bytes(path: Path) -> tuple[bytes | None, str | None]:
    """The file's bytes, or None and why not (unreadable, or larger than any preset)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or exc}"
    if len(data) > MAX_FILE_BYTES:
        return None, f"file is over {MAX_FILE_BYTES} bytes; presets are at most that"
    return data, None


def _read_pass(roots: list[Path], out: Path, summary: MineSummary, progress: Progress | None) -> _Found:
    files = _files(roots)
    summary.files = len(files)
    found = _Found()
    columns = static_columns()
    rows: list[dict] = []

    def flush() -> None:
        if rows:
            part = out / BUILD_DIR / f"part-{len(found.parts):05d}.parquet"
            _write_parquet(rows_to_table(rows, columns), part)
            found.parts.append(part)
            rows.clear()

    for i, (path, root) in enumerate(files, 1):
        data, why = read_preset_bytes(path)
        row = static_row(path, root, data, why)
        if row.get("error") is None:
            summary.parsed += 1
            digest = row["hash"]
            found.copies[digest] += 1
            if digest not in found.first_path:
                found.first_path[digest], found.first_rel[digest] = str(path), row["rel_path"]
        else:
            summary.errors += 1
            if len(summary.error_files) < 50:
                summary.error_files.append({"file": str(path), "line": row.get("error_line"), "error": row["error"]})
        rows.append(row)
        if len(rows) >= CHUNK:
            flush()
        if progress is not None:
            progress("read", i, len(files))
    flush()
    summary.distinct = len(found.first_path)
    summary.duplicates = summary.parsed - summary.distinct
    return found


def _render_pass(group: RenderGroup, found: _Found, out: Path, cache: FeatureCache, workers: int,
                 retry_errors: bool, summary: MineSummary, progress: Progress | None) -> None:
    from renderer.output.sweep import render_sweep

    key = group.key()
    cached = cache.get_many(group.name, key, found.first_path)
    todo = [h for h in found.first_path if not _usable(cached.get(h), h, out, retry_errors)]
    summary.cached = len(found.first_path) - len(todo)
    stage = "render" if group.name == RENDER_GROUP else group.name
    if progress is not None:
        progress(stage, 0, len(todo))
    if not todo:
        return
    t0 = time.monotonic()
    hash_of = {found.first_path[h]: h for h in todo}
    paths = [found.first_path[h] for h in todo]
    job = group.job(out)
    results = render_sweep(paths, workers=workers, timeout_s=group.timeout_s, job=job) if workers > 0 \
        else _in_process(paths, job)
    for i, result in enumerate(results, 1):
        digest = result.get("hash") or hash_of[result["file"]]
        record = result.get("result") or {"stats": {}, "descriptors": {}, "error": result.get("error") or "failed",
                                          "warnings": 0, "seconds": result.get("seconds"), "media": False}
        cache.put(group.name, key, digest, record)
        summary.rendered += 1
        if progress is not None:
            progress(stage, i, len(todo))
    summary.render_seconds = round(time.monotonic() - t0, 2)


def _in_process(paths: list[str], job) -> Iterable[dict]:
    """``workers=0``: render in this process, as ``evolve --workers 0`` does (no start-up cost, no
    isolation: a preset that crashes the GL driver ends the mine; the cache keeps what was done)."""
    for path in paths:
        try:
            yield job(path, None, {})
        except Exception as exc:  # noqa: BLE001 - one bad file is a record, never a stop
            yield {"file": path, "status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _usable(record: dict | None, digest: str, out: Path, retry_errors: bool) -> bool:
    if record is None:
        return False
    if record.get("error") is not None:
        return not retry_errors
    # a thumbnail someone deleted is made again
    return (not record.get("media")) or ((out / THUMBS_DIR / f"{digest}.png").is_file()
                                          and (out / PREVIEWS_DIR / f"{digest}.webp").is_file())


def _write_pass(groups: list[RenderGroup], found: _Found, out: Path, cache: FeatureCache,
                weights: dict[str, float] | None, summary: MineSummary, progress: Progress | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    render_cols = [c for g in groups for c in g.columns()] if groups else RenderGroup(RENDER_GROUP).columns()
    tmp = out / f".{DATASET_FILE}.tmp{os.getpid()}"
    writer = None
    errors: set[str] = set()
    done = 0
    try:
        for part in found.parts:
            table = pq.read_table(part)
            hashes = table.column("hash").to_pylist()
            paths = table.column("path").to_pylist()
            parsed = [e is None for e in table.column("error").to_pylist()]
            dup = [found.first_rel[h] if ok and found.first_path[h] != p else None
                   for h, p, ok in zip(hashes, paths, parsed)]
            copies = [float(found.copies[h]) if ok else None for h, ok in zip(hashes, parsed)]
            table = table.set_column(table.schema.get_field_index("duplicate_of"), "duplicate_of",
                                     pa.array(dup, type=pa.string()))
            table = table.set_column(table.schema.get_field_index("copies"), "copies", pa.array(copies, type=pa.float64()))
            rows = [{} for _ in hashes]
            for g in groups:
                records = cache.get_many(g.name, g.key(), [h for h, ok in zip(hashes, parsed) if ok])
                if g.name == RENDER_GROUP:
                    errors.update(h for h, r in records.items() if r.get("error") is not None)
                for row, h, ok in zip(rows, hashes, parsed):
                    if ok:
                        row.update(g.row(records.get(h), h, weights))
            extra = rows_to_table(rows, render_cols)
            for name in render_cols:
                table = table.append_column(name, extra.column(name))
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
            done += table.num_rows
            if progress is not None:
                progress("write", done, summary.files)
        if writer is None:  # no files at all: an empty table with every column
            table = rows_to_table([], static_columns() + render_cols)
            writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
        writer.close()
        writer = None
        os.replace(tmp, out / DATASET_FILE)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    summary.render_errors = len(errors)


def _write_parquet(table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")


def _write_meta(out: Path, roots: list[Path], group: RenderGroup | None, summary: MineSummary,
                weights: dict[str, float] | None, groups: list[str]) -> None:
    meta = {
        "format": FORMAT,
        "inputs": [str(r.resolve()) for r in roots],
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "counts": {k: v for k, v in summary.to_dict().items() if k not in ("dataset", "error_files")},
        "static_version": STATIC_VERSION,
        "rendered": group is not None,
        "render": None if group is None else {
            "group": group.name, "key": group.key(), "settings": group.settings.to_dict(),
            "described": describe(group.settings), "versions": versions()},
        "score_weights": weights,
        "groups": groups,
    }
    atomic_write_bytes(out / META_FILE, (json.dumps(meta, indent=1) + "\n").encode())
