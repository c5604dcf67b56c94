"""Machine fitness: render a candidate, measure sampled frames, turn the statistics into one score.

The score (documented here because people tune it in the config's ``[fitness.weights]``):

    score = 0.01 + 0.99 * sum_k(w_k * d_k) / sum_k(w_k)        for a healthy candidate
    score = 0.0  (WORST_SCORE)                                   degenerate, failed or timed out

where each *feature* ``d_k`` in [0, 1] is one statistic from :mod:`evo.image_stats` passed
through a trapezoid "desirability" band (``FEATURES``): 0 outside ``(lo0, hi0)``, rising to 1 on
``[lo1, hi1]``. Bands, not raw values, because every statistic is bad at both extremes (no edges
is dull, all edges is noise). The 0.01 floor keeps every healthy candidate strictly better than
every degenerate one, so selection never prefers a black screen.

Evaluation is a pure function of (genome, settings): the render seed and the audio are part of
the settings, nothing reads the clock or global random state (except the timeout, which only
decides *whether* a result exists). That is what lets results be cached by genome id and makes
a run independent of how many workers evaluated it.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evo.image_stats import degenerate_reason, frame_statistics

WORST_SCORE = 0.0
HEALTHY_FLOOR = 0.01

# feature name -> (statistic, (lo0, lo1, hi1, hi0))
FEATURES: dict[str, tuple[str, tuple[float, float, float, float]]] = {
    "entropy": ("entropy", (2.0, 5.0, 7.6, 8.01)),  # bits of the luma histogram
    "colorfulness": ("colourfulness", (4.0, 35.0, 110.0, 170.0)),  # Hasler-Suesstrunk units
    "edge_density": ("edge_density", (0.004, 0.04, 0.35, 0.75)),  # share of edge pixels
    "compressibility": ("compress_ratio", (0.04, 0.2, 0.75, 0.98)),  # zlib-1 ratio: structure, not noise
    "temporal_change": ("change_mean", (0.002, 0.02, 0.15, 0.45)),  # motion between sampled frames
    "audio_reactivity": ("reactivity", (0.0, 0.7, 1.0, 1.01)),  # change vs bass: more is better
    "luminance_spread": ("luma_std", (0.01, 0.1, 0.5, 0.51)),  # contrast
    "brightness": ("luma_mean", (0.02, 0.12, 0.6, 0.92)),  # neither murky nor washed out
    "steadiness": ("luma_flicker", (-0.01, 0.0, 0.1, 0.3)),  # penalises strobing
}


def band(x: float, lo0: float, lo1: float, hi1: float, hi0: float) -> float:
    """Trapezoid desirability: 0 at/below lo0, 1 on [lo1, hi1], 0 at/above hi0."""
    if not np.isfinite(x) or x <= lo0 or x >= hi0:
        return 0.0
    if x < lo1:
        return (x - lo0) / (lo1 - lo0)
    if x > hi1:
        return (hi0 - x) / (hi0 - hi1)
    return 1.0


def features(stats: dict[str, float]) -> dict[str, float]:
    return {name: band(float(stats[stat]), *b) for name, (stat, b) in FEATURES.items() if stat in stats}


def score_stats(stats: dict[str, float], weights: dict[str, float]) -> tuple[float, str | None]:
    """(score, degenerate reason) for one candidate's statistics; see the module docstring."""
    reason = degenerate_reason(stats)
    if reason is not None:
        return WORST_SCORE, reason
    feats = features(stats)
    used = {k: float(w) for k, w in weights.items() if k in feats and w > 0}
    if not used:
        return HEALTHY_FLOOR, None
    total = sum(used.values())
    value = sum(w * feats[k] for k, w in used.items()) / total
    return HEALTHY_FLOOR + (1.0 - HEALTHY_FLOOR) * value, None


@dataclass(frozen=True)
class EvalSettings:
    """Everything an evaluation depends on besides the genome (hashable: worker cache key)."""

    width: int = 128
    height: int = 128
    frames: int = 90
    fps: float = 60.0
    mesh: tuple[int, int] = (48, 36)
    sample_every: int = 4
    static_every: int = 3
    skip: int = 8
    audio: str = ""
    audio_seed: int = 0
    render_seed: int = 0
    timeout_s: float = 20.0
    weights: tuple[tuple[str, float], ...] = ()
    preview: bool = True
    preview_size: int = 96
    preview_frames: int = 18
    still: bool = True

    @classmethod
    def from_config(cls, cfg) -> "EvalSettings":
        f, p = cfg.fitness, cfg.preview
        return cls(
            width=f.width, height=f.height, frames=f.frames, fps=f.fps, mesh=tuple(f.mesh),
            sample_every=f.sample_every, static_every=f.static_every, skip=f.skip, audio=f.audio,
            audio_seed=f.audio_seed, render_seed=f.render_seed, timeout_s=f.timeout_s,
            weights=tuple(sorted(f.weights.items())), preview=p.enabled, preview_size=p.size,
            preview_frames=p.frames, still=p.still,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def render_key(self) -> tuple:
        return (self.width, self.height, tuple(self.mesh), self.fps, self.render_seed)

    def audio_key(self) -> tuple:
        return (self.audio, self.audio_seed, self.fps)


class CandidateTimeout(Exception):
    pass


def make_analyzer(settings: EvalSettings):
    from renderer.audio import AudioAnalyzer, default_analyzer, load_audio

    if settings.audio:
        return AudioAnalyzer(load_audio(settings.audio), fps=settings.fps)
    # Only as much synthetic music as a render hears (synthesis costs ~40 ms per second of it).
    seconds = min(30.0, max(4.0, float(np.ceil(settings.frames / settings.fps)) + 2.0))
    return default_analyzer(fps=settings.fps, seconds=seconds, seed=settings.audio_seed)


def make_renderer(settings: EvalSettings):
    os.environ.setdefault("LP_NUM_THREADS", "0")  # before the first GL context (LIMITS.md)
    try:
        from renderer import Renderer
    except ImportError:  # the package's exports not written yet
        from renderer.pipeline import Renderer

    return Renderer(
        width=settings.width, height=settings.height, mesh=tuple(settings.mesh), fps=settings.fps, seed=settings.render_seed
    )


def sample_indices(settings: EvalSettings) -> list[int]:
    """0-based indices of the frames statistics look at (the first ``skip`` are warm-up)."""
    return list(range(settings.skip, settings.frames, settings.sample_every))


def evaluate_genome(genome_json: dict, settings: EvalSettings, renderer, analyzer, out_dir: Path | None = None) -> dict:
    """Render and score one candidate; never raises for anything the candidate did wrong.

    Returns ``{"score", "stats", "degenerate", "error", "warnings", "seconds"}``; on failure the
    score is WORST_SCORE and ``error`` says what happened. ``out_dir`` receives preview.webp and
    still.png made from the frames already rendered (no second render).
    """
    t0, c0 = time.monotonic(), time.process_time()
    result: dict[str, Any] = {"score": WORST_SCORE, "stats": {}, "degenerate": None, "error": None, "warnings": []}
    try:
        from evo.genome import Genome, preset_from_genome

        preset = preset_from_genome(Genome.from_json(genome_json))
        report = renderer.load(preset)
        result["warnings"] = [str(e) for e in getattr(report, "errors", [])][:20]
        with np.errstate(all="ignore"):  # hostile equations overflow by design; the stats judge the result
            frames = _render(renderer, analyzer, settings, t0 + settings.timeout_s,
                             wanted_frames(settings, previews=out_dir is not None))
        idx = sample_indices(settings)
        bass = analyzer.levels(settings.frames)[:, 0]
        stats = frame_statistics([frames[i] for i in idx], bass[idx], static_every=settings.static_every)
        score, reason = score_stats(stats, dict(settings.weights))
        result.update(score=score, stats=stats, degenerate=reason)
        if out_dir is not None:
            write_previews(frames, settings, Path(out_dir))
    except CandidateTimeout as exc:
        result["error"] = f"timeout: {exc}"
    except MemoryError:
        result["error"] = "out of memory"
    except Exception as exc:  # noqa: BLE001 - one bad candidate must never kill a run
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
    if result["error"]:
        result["score"] = WORST_SCORE
    result["seconds"] = round(time.monotonic() - t0, 4)
    result["cpu_seconds"] = round(time.process_time() - c0, 4)  # whole process: shows worker overhead too
    return result


def wanted_frames(settings: EvalSettings, previews: bool) -> set[int]:
    """0-based frames the statistics (and, with ``previews``, the preview and still) look at.
    The renderer composites and reads back only these; the others stay None in the list."""
    want = set(sample_indices(settings))
    if previews and settings.preview:
        want.update(preview_indices(settings, settings.frames))
    if previews and settings.still:
        want.add(settings.frames - 1)
    return want


def preview_indices(settings: EvalSettings, n_frames: int) -> list[int]:
    """Frames of the animated preview: ``preview_frames`` of them, spread evenly over the frames
    the statistics (and the still) read anyway where there are enough of those (every extra
    frame costs a composite pass and a readback, ~0.7 ms), else over the whole render."""
    n = min(settings.preview_frames, n_frames)
    pool = [i for i in sample_indices(settings) if i < n_frames]
    if len(pool) < n:
        pool = sorted(set(pool) | {n_frames - 1})
    if len(pool) < n:
        pool = list(range(n_frames))
    return [pool[k] for k in np.linspace(0, len(pool) - 1, n).round().astype(int).tolist()]


def preview_durations(picks: list[int], fps: float) -> list[int]:
    """Milliseconds each preview frame is shown: the render time until the next pick, so motion
    plays at its real speed even where the picks are unevenly spaced (the last gets the mean)."""
    steps = [b - a for a, b in zip(picks, picks[1:])]
    steps.append(sum(steps) / len(steps) if steps else 1)
    return [max(20, int(round(1000.0 * s / fps))) for s in steps]


def _render(renderer, analyzer, settings: EvalSettings, deadline: float, keep: set[int] | None = None) -> list:
    frames = []
    for frame in renderer.render(settings.frames, analyzer, keep=keep):
        frames.append(None if frame is None else np.array(frame, copy=True))
        if time.monotonic() > deadline:
            raise CandidateTimeout(f"over {settings.timeout_s:g} s after {len(frames)} of {settings.frames} frames")
    if len(frames) != settings.frames:
        raise RuntimeError(f"renderer returned {len(frames)} frames, expected {settings.frames}")
    return frames


# ---------------------------------------------------------------- previews


def write_previews(frames: list[np.ndarray], settings: EvalSettings, out_dir: Path) -> None:
    """Animated WebP (a few seconds, small) and a still PNG from the rendered frames."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.preview:
        picks = preview_indices(settings, len(frames))
        size = (settings.preview_size, settings.preview_size)
        images = [Image.fromarray(frames[i]).resize(size, Image.BILINEAR) for i in picks]
        duration = preview_durations(picks, settings.fps)
        buf = io.BytesIO()
        images[0].save(buf, "WEBP", save_all=True, append_images=images[1:], duration=duration, loop=0, quality=70, method=0,
                       kmin=0, kmax=0)  # all key frames: ~30% faster to encode, same size at 96 px
        _replace(out_dir / "preview.webp", buf.getvalue())
    if settings.still:
        buf = io.BytesIO()
        Image.fromarray(frames[-1]).save(buf, "PNG", compress_level=1)
        _replace(out_dir / "still.png", buf.getvalue())


def _replace(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
