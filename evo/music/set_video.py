"""A set as a music video: the song's presets in order, blended at the switches, with the song.

Each cue's preset is rendered against the song from its start (the song's analysis shifted to
that frame, so it hears the music's history, not a fresh start); across a switch both presets
render and a MilkDrop-2-style transition mixes them: a soft-edged pattern (a radial wipe or a
smooth noise field, chosen per switch from the seed) sweeps the new preset in over ``blend_s``
seconds. Frames go straight to the encoder; ffmpeg muxes the song's audio track in.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np

from evo.music.match import Cue
from evo.music.song_audio import ShiftedAnalyzer

MAX_SECONDS = 3600.0


def blend_pattern(kind: int, size: tuple[int, int], seed: int) -> np.ndarray:
    """A (h, w) field in [0, 1]: where the incoming preset appears first (low values first)."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = (x + 0.5) / w - 0.5, (y + 0.5) / h - 0.5
    rng = np.random.default_rng(seed)
    if kind % 3 == 0:  # from the centre out
        f = np.hypot(x, y)
    elif kind % 3 == 1:  # a sweep at a random angle
        a = rng.uniform(0, 2 * np.pi)
        f = x * np.cos(a) + y * np.sin(a)
    else:  # smooth noise: a few random waves
        f = np.zeros_like(x)
        for _ in range(4):
            k, a, p = rng.uniform(2, 6), rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)
            f += np.sin(k * (x * np.cos(a) + y * np.sin(a)) * 2 * np.pi + p)
    f = f - f.min()
    return f / (f.max() or 1.0)


def mix(old: np.ndarray, new: np.ndarray, pattern: np.ndarray, progress: float, softness: float = 0.25) -> np.ndarray:
    alpha = np.clip((progress * (1.0 + softness) - pattern) / softness, 0.0, 1.0)[..., None]
    return (old.astype(np.float32) * (1.0 - alpha) + new.astype(np.float32) * alpha + 0.5).astype(np.uint8)


def render_set_video(song_path: str | os.PathLike, cues: list[Cue], out_path: str | os.PathLike,
                     size: tuple[int, int] = (512, 512), fps: float = 30.0, blend_s: float = 2.0, seed: int = 0,
                     seconds: float | None = None, progress: Callable[[int, int], None] | None = None) -> int:
    """Render the set to ``out_path`` (MP4 with the song's audio); returns the frames written."""
    os.environ.setdefault("LP_NUM_THREADS", "0")
    import imageio_ffmpeg

    from renderer import Renderer
    from renderer.audio import AudioAnalyzer, open_audio
    from renderer.milk.preset import load_milk

    if not cues:
        raise ValueError("no cues to render")
    end = min(cues[-1].end, seconds if seconds else MAX_SECONDS, MAX_SECONDS)
    n_total = int(math.floor(end * fps))
    analyzer = AudioAnalyzer(open_audio(song_path), fps=fps, loop=False)  # decoded as the frames need it
    starts = [int(round(c.start * fps)) for c in cues]  # 0-based frame index where each cue begins
    blend = max(1, int(round(blend_s * fps)))
    w, h = size
    writer = imageio_ffmpeg.write_frames(str(out_path), (w, h), fps=fps, macro_block_size=1, quality=7,
                                         audio_path=str(song_path), audio_codec="aac",
                                         output_params=["-shortest"], ffmpeg_log_level="error")
    writer.send(None)
    renderers = [Renderer(width=w, height=h, fps=fps, seed=seed), Renderer(width=w, height=h, fps=fps, seed=seed)]
    live: dict[int, tuple[Renderer, object]] = {}  # cue index -> (renderer, its frame iterator)
    written = 0
    try:
        for i in range(n_total):
            current = max(k for k, s in enumerate(starts) if s <= i)
            if current not in live:
                r = renderers[current % 2]
                r.load(load_milk(cues[current].fit.candidate.path))
                live[current] = (r, r.render(n_total - i, ShiftedAnalyzer(analyzer, i)))
            frame = next(live[current][1])
            prev = current - 1
            if prev in live and i - starts[current] < blend:
                old = next(live[prev][1])
                pattern = blend_pattern(current + seed, (w, h), seed + current)
                frame = mix(old, frame, pattern, (i - starts[current] + 1) / blend)
            elif prev in live:
                del live[prev]
            writer.send(np.ascontiguousarray(frame))
            written += 1
            if progress is not None:
                progress(written, n_total)
    finally:
        writer.close()
        for r in renderers:
            r.release()
    return written


def video_has_audio(path: str | os.PathLike) -> bool:
    """Whether ffmpeg sees an audio stream in the file (what a test and a person check)."""
    import subprocess

    import imageio_ffmpeg

    done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(Path(path))],
                          capture_output=True, text=True, timeout=60)
    return "Audio:" in done.stderr
