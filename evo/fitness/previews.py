"""A candidate's animated preview and still, made from frames the evaluation already rendered
(no second render): what the Vote page and the contact sheets show."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from evo.config import EvalSettings
from renderer.output.files import atomic_write_bytes


def preview_indices(settings: EvalSettings, n_frames: int) -> list[int]:
    """Frames of the animated preview: ``preview_frames`` of them, spread evenly over the frames
    the statistics (and the still) read anyway where there are enough of those (every extra
    frame costs a composite pass and a readback, ~0.7 ms), else over the whole render."""
    n = min(settings.preview.frames, n_frames)
    pool = [i for i in settings.sample_indices() if i < n_frames]
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


def write_previews(frames: list[np.ndarray], settings: EvalSettings, out_dir: Path) -> None:
    """Animated WebP (a few seconds, small) and a still PNG from the rendered frames."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    if settings.preview.enabled:
        picks = preview_indices(settings, len(frames))
        size = (settings.preview.size, settings.preview.size)
        images = [Image.fromarray(frames[i]).resize(size, Image.BILINEAR) for i in picks]
        duration = preview_durations(picks, settings.fitness.fps)
        buf = io.BytesIO()
        images[0].save(buf, "WEBP", save_all=True, append_images=images[1:], duration=duration, loop=0, quality=70, method=0,
                       kmin=0, kmax=0)  # all key frames: ~30% faster to encode, same size at 96 px
        atomic_write_bytes(out_dir / "preview.webp", buf.getvalue(), sync=False)
    if settings.preview.still:
        buf = io.BytesIO()
        Image.fromarray(frames[-1]).save(buf, "PNG", compress_level=1)
        atomic_write_bytes(out_dir / "still.png", buf.getvalue(), sync=False)
