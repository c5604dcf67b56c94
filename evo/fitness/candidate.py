"""One candidate's evaluation: render its preset, measure sampled frames, score the statistics.

Evaluation is a pure function of (genome, settings): the render seed and the audio are part of
the settings, nothing reads the clock or global random state (except the timeout, which only
decides *whether* a result exists). That is what lets results be cached by genome id and makes
a run independent of how many workers evaluated it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from evo.config import EvalSettings
from evo.fitness.descriptors import behaviour_descriptors, look_thumbnail
from evo.fitness.previews import preview_indices, write_previews
from evo.fitness.safety import flash_rate
from evo.fitness.score import WORST_SCORE, score_stats
from evo.fitness.statistics import STAT_NAMES, frame_statistics


CANDIDATE_STATS = STAT_NAMES + ("flash_rate",)
"""Every statistic a candidate's result holds: the frame statistics and the flash rate (evo.fitness.safety)."""

CANDIDATE_SOURCE = "<genome>"
"""The name a candidate's preset is read under (error messages and warnings say it)."""


class CandidateTimeout(Exception):
    pass


def make_analyzer(settings: EvalSettings):
    from renderer.audio import AudioAnalyzer, default_analyzer, open_audio

    f = settings.fitness
    if f.audio:  # decoded as the frames need it: a worker holds seconds of music, not the track
        analyzer = AudioAnalyzer(open_audio(f.audio), fps=f.fps)
        if f.audio_start > 0:  # a song is judged from its liveliest section (evo.music.song_fitness)
            from evo.music.song_audio import ShiftedAnalyzer

            analyzer = ShiftedAnalyzer(analyzer, int(round(f.audio_start * f.fps)))
        return analyzer
    # Only as much synthetic music as a render hears (synthesis costs ~40 ms per second of it).
    seconds = min(30.0, max(4.0, float(np.ceil(f.frames / f.fps)) + 2.0))
    return default_analyzer(fps=f.fps, seconds=seconds, seed=f.audio_seed)


def audio_notes(settings: EvalSettings) -> list[str]:
    """The run's music as the fitness hears it, in words: what the loader repaired in the part a
    candidate hears (NaN/inf, clipping, dropped channels, a low rate) and music shorter than a
    render. Empty for the synthetic default; AudioError (a ValueError naming the file) for music
    that cannot be used at all."""
    f = settings.fitness
    if not f.audio:
        return []
    from renderer.audio import TARGET_RATE, open_audio
    from renderer.audio.track import length_warning

    stream = open_audio(f.audio)
    try:
        render_s = f.frames / f.fps
        stream.read(0, int(np.ceil(render_s * TARGET_RATE)) + 1)
        notes = list(stream.warnings)
        too_short = length_warning(stream.duration, render_s)
        return [f"{stream.source}: {n}" for n in notes + ([too_short] if too_short else [])]
    finally:
        stream.close()


def make_renderer(settings: EvalSettings):
    # One rasteriser thread: two single-threaded processes are the fastest arrangement on two
    # cores, and threads cost 1.5-4x at 128x128 on llvmpipe. Set before the first GL context.
    os.environ.setdefault("LP_NUM_THREADS", "0")
    from renderer import Renderer

    f = settings.fitness
    return Renderer(width=f.width, height=f.height, mesh=tuple(f.mesh), fps=f.fps, seed=f.render_seed,
                    player=f.player)


def evaluate_preset(milk_text: str, settings: EvalSettings, renderer, analyzer, out_dir: Path | None = None) -> dict:
    """Render and score one candidate given as ``.milk`` text (read once, as any player reads the
    file); never raises for anything the candidate did wrong.

    Returns ``{"score", "stats", "descriptors", "look", "degenerate", "error", "warnings", "seconds"}``; on
    failure the score is WORST_SCORE and ``error`` says what happened. ``look`` is the last
    sampled frame as a 32x32 grey thumbnail (hex), what the hall of fame compares looks by.
    ``out_dir`` receives preview.webp and still.png made from the frames already rendered (no
    second render).
    """
    t0, c0 = time.monotonic(), time.process_time()
    result: dict[str, Any] = {"score": WORST_SCORE, "stats": {}, "descriptors": {}, "look": "", "degenerate": None,
                              "error": None, "warnings": []}
    f = settings.fitness
    try:
        from renderer.milk.preset import parse_milk

        preset = parse_milk(milk_text, source=CANDIDATE_SOURCE)
        report = renderer.load(preset)
        result["warnings"] = [str(e) for e in getattr(report, "errors", [])][:20]
        with np.errstate(all="ignore"):  # hostile equations overflow by design; the stats judge the result
            keep = wanted_frames(settings, previews=out_dir is not None)
            frames = _render(renderer, analyzer, settings, t0 + f.timeout_s, keep, set(range(f.skip, f.frames)) - keep)
        idx = settings.sample_indices()
        bass = analyzer.levels(f.frames)[:, 0]
        sampled = [frames[i] for i in idx]
        stats = frame_statistics(sampled, bass[idx], static_every=f.static_every)
        stats["flash_rate"] = flash_rate(frames[f.skip:], f.fps)
        if f.beat_times:
            stats["beat_lock"] = sampled_beat_lock(sampled, idx, f.beat_times, f.fps)
        score, reason = score_stats(stats, f.weights)
        descriptors = behaviour_descriptors(sampled, stats, static_every=f.static_every)
        result.update(score=score, stats=stats, descriptors=descriptors, degenerate=reason,
                      look=look_thumbnail(sampled[-1]))
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


def sampled_beat_lock(sampled: list, idx: list[int], beat_times, fps: float) -> float:
    """How much more often than chance the picture's pulses land on the song's beats, read from
    the sampled frames: a visual beat is a peak of the change between consecutive samples, a
    music beat falls in the sample gap that holds its frame, and a hit is within one gap."""
    from evo.music.reactivity import beat_alignment, visual_beats
    from renderer.output.health import frame_change

    env = np.array([frame_change(a, b) for a, b in zip(sampled, sampled[1:])])
    edges = np.asarray(idx, dtype=float)  # gap k runs from frame idx[k] to idx[k+1] (0-based)
    frames = np.asarray(beat_times, dtype=float) * fps - 1.0
    gaps = np.searchsorted(edges, frames, side="left") - 1
    gaps = gaps[(frames > edges[0]) & (frames <= edges[-1])]
    hit, chance = beat_alignment(visual_beats(env), gaps, env.size)
    return float(np.clip((hit - chance) / max(1e-6, 1.0 - chance), 0.0, 1.0)) if gaps.size else 0.0


def wanted_frames(settings: EvalSettings, previews: bool) -> set[int]:
    """0-based frames the statistics (and, with ``previews``, the preview and still) look at.
    The renderer composites and reads back only these; the others stay None in the list."""
    want = set(settings.sample_indices())
    n = settings.fitness.frames
    if previews and settings.preview.enabled:
        want.update(preview_indices(settings, n))
    if previews and settings.preview.still:
        want.add(n - 1)
    return want


def _render(renderer, analyzer, settings: EvalSettings, deadline: float, keep: set[int] | None = None,
            probe: set[int] | None = None) -> list:
    """Every frame: full-size where ``keep`` says, 16x16 where ``probe`` says, else None."""
    n = settings.fitness.frames
    frames = []
    for frame in renderer.render(n, analyzer, keep=keep, probe=probe):
        frames.append(None if frame is None else np.array(frame, copy=True))
        if time.monotonic() > deadline:
            raise CandidateTimeout(f"over {settings.fitness.timeout_s:g} s after {len(frames)} of {n} frames")
    if len(frames) != n:
        raise RuntimeError(f"renderer returned {len(frames)} frames, expected {n}")
    return frames


