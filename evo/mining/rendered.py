"""Rendered features: every preset rendered once at fixed settings and measured exactly as the
fitness measures a candidate (``evo.evaluate.evaluate_here`` -> ``evaluate_preset``), so a corpus
statistic and a run's statistic are the same number for the same picture.

The fixed render (:func:`mining_settings`, an :class:`~evo.config.EvalSettings`): 64x64 pixels, 60 frames at 60 fps, MilkDrop's 48x36
mesh, the synthetic default music with seed 0, render seed 0; statistics on every 4th frame after
the first 8, picture statistics on every 3rd of those (the fitness's sampling). Each preset also
leaves its last frame as a thumbnail and a 12-frame animated preview.

A result is cached under (group, content hash, :meth:`RenderGroup.key`); the key hashes the
settings and the versions of the renderer, the statistics, the descriptors and this module's
own output, so a renderer change redoes everything and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from evo.config import EvalSettings, FitnessSection, PreviewSection
from evo.fitness.descriptors import DESCRIPTOR_NAMES, DESCRIPTORS_VERSION
from evo.fitness.candidate import CANDIDATE_STATS
from evo.fitness.statistics import STATISTICS_VERSION
from evo.mining.dataset import PREVIEWS_DIR, THUMBS_DIR, finite_or_none
from evo.mining.static import content_hash

#: Bump when what :func:`render_job` returns changes shape or meaning.
RENDER_RESULT_VERSION = 2  # 2: the flash rate (evo.fitness.safety) is one of the statistics


def mining_settings(width: int = 64, height: int = 64, frames: int = 60, *, preview_frames: int = 12,
                    preview_size: int | None = None, **fitness) -> EvalSettings:
    """The one render every preset gets, as the fitness's own settings type (so it is measured by
    the very code a run uses): see the module docstring; ``fitness`` overrides any other field of
    :class:`~evo.config.FitnessSection` (``audio``, ``mesh``, ``timeout_s``...)."""
    f = {"width": width, "height": height, "frames": frames, "fps": 60.0, "mesh": (48, 36), "skip": 8, "sample_every": 4,
         "static_every": 3, "audio": "", "audio_seed": 0, "render_seed": 0, "timeout_s": 30.0, **fitness}
    f["mesh"] = tuple(f["mesh"])
    f["skip"] = min(f["skip"], max(0, frames - 2 * f["sample_every"]))  # short renders keep >= 2 sampled frames
    preview = PreviewSection(enabled=True, size=preview_size or min(width, height), frames=preview_frames, still=True)
    return EvalSettings(FitnessSection(**f), preview)


MINING_SETTINGS = mining_settings()


def describe(settings: EvalSettings) -> str:
    f = settings.fitness
    music = f.audio or f"synthetic music (seed {f.audio_seed})"
    return (f"{f.width}x{f.height}, {f.frames} frames at {f.fps:g} fps, mesh {f.mesh[0]}x{f.mesh[1]}, "
            f"{music}, render seed {f.render_seed}")


def versions() -> dict[str, int]:
    """Versions of everything a rendered result depends on besides the settings."""
    from renderer.pipeline import RENDER_VERSION

    return {"renderer": RENDER_VERSION, "statistics": STATISTICS_VERSION, "descriptors": DESCRIPTORS_VERSION,
            "render_result": RENDER_RESULT_VERSION}


def settings_key(settings: EvalSettings, extra: dict | None = None) -> str:
    """A short stable key of the settings and :func:`versions`."""
    payload = {"settings": settings.to_dict(), "versions": versions(), **(extra or {})}
    if payload["settings"].get("audio"):  # a music file is part of the key by content, not by name
        payload["audio_hash"] = _file_hash(payload["settings"]["audio"])
    blob = json.dumps(payload, sort_keys=True).encode()
    return hashlib.blake2b(blob, digest_size=8).hexdigest()


def _file_hash(path: str) -> str:
    try:
        return content_hash(Path(path).read_bytes())
    except OSError:
        return "unreadable"


# ---------------------------------------------------------------- the worker side


def render_job(path: str, config, cache: dict, *, settings: EvalSettings, dataset: str) -> dict:
    """Render and measure one file in a sweep worker (renderer.output.sweep calls it with the
    worker's ``config`` and ``cache``, both unused: the evaluation keeps its own renderer).

    Returns ``{"file", "hash", "status", "result"}``; the thumbnail and preview are moved to
    ``thumbs/HASH.png`` and ``previews/HASH.webp`` of the dataset."""
    from evo.evaluate import evaluate_here

    data = Path(path).read_bytes()
    digest = content_hash(data)
    work = Path(dataset) / ".work" / str(os.getpid())
    result = evaluate_here(data.decode("latin-1"), settings, str(work))
    record = {k: result.get(k) for k in ("stats", "descriptors", "error", "warnings", "seconds", "cpu_seconds")}
    record["warnings"] = len(record.get("warnings") or [])
    record["media"] = False
    still, preview = work / "still.png", work / "preview.webp"
    if result.get("error") is None and still.is_file() and preview.is_file():
        os.replace(still, Path(dataset) / THUMBS_DIR / f"{digest}.png")
        os.replace(preview, Path(dataset) / PREVIEWS_DIR / f"{digest}.webp")
        record["media"] = True
    return {"file": path, "hash": digest, "status": "rendered" if record["error"] is None else "error",
            "result": record}


def render_columns() -> list[str]:
    cols = [f"stat_{s}" for s in CANDIDATE_STATS] + [f"desc_{d}" for d in DESCRIPTOR_NAMES]
    return cols + ["render_error", "render_degenerate", "render_score", "render_seconds", "render_warnings",
                   "render_thumb", "render_preview"]


def render_row(record: dict | None, digest: str, weights: dict[str, float]) -> dict:
    """The ``stat_``/``desc_``/``render_`` columns of one cached record. The score and the
    degenerate reason are computed here, not cached: refitting the bands must not re-render."""
    from evo.fitness.score import score_stats

    if record is None:
        return {}
    stats = record.get("stats") or {}
    row = {f"stat_{k}": finite_or_none(stats.get(k)) for k in CANDIDATE_STATS}
    row.update({f"desc_{k}": finite_or_none((record.get("descriptors") or {}).get(k)) for k in DESCRIPTOR_NAMES})
    row["render_error"] = record.get("error")
    row["render_seconds"] = finite_or_none(record.get("seconds"))
    row["render_warnings"] = finite_or_none(record.get("warnings"))
    if record.get("error") is None and stats:
        score, reason = score_stats(stats, weights)
        row["render_score"], row["render_degenerate"] = score, reason
    if record.get("media"):
        row["render_thumb"] = f"{THUMBS_DIR}/{digest}.png"
        row["render_preview"] = f"{PREVIEWS_DIR}/{digest}.webp"
    return row


@dataclass(frozen=True)
class RenderGroup:
    """One group of rendered columns: how to compute it for a file (a picklable worker ``job``),
    its cache key, and how a cached record becomes columns. See :mod:`evo.mining.dataset`."""

    name: str
    settings: EvalSettings = MINING_SETTINGS

    def key(self) -> str:
        return settings_key(self.settings)

    def job(self, dataset: Path) -> Callable:
        return partial(render_job, settings=self.settings, dataset=str(dataset))

    def columns(self) -> list[str]:
        return render_columns()

    def row(self, record: dict | None, digest: str, weights: dict[str, float]) -> dict:
        return render_row(record, digest, weights)

    def has_media(self, record: dict) -> bool:
        return bool(record.get("media"))

    @property
    def timeout_s(self) -> float:
        """The sweep's hard limit per file: the evaluation's own limit plus a worker's start-up
        (GL context, music synthesis) and the first shader compiles."""
        return self.settings.fitness.timeout_s + 60.0
