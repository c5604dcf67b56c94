"""How a preset moves with music: its reactivity profile, measured from a render.

MilkDrop feeds a preset bass/mid/treb of the moment; whether the picture then *follows* the
music is the preset's own business, and is what a VJ needs to know to put it on a drop or on a
quiet intro. The profile is measured the same way for every preset: render it against probe
music with known beats (the synthetic track at 120 BPM: kick on every beat, snare on 2 and 4,
hats on the eighths, a bass line and chords), at 30 frames per second, and compare the picture's
frame-to-frame change with the music:

    beat_alignment  share of the music's beats with a visual beat (a peak of the change
                    envelope) within +-1 frame at 30 fps, as in the dance-generation literature;
                    ``chance`` is what the same number of visual beats at random places would score
    bass/mid/treb   correlation of the change envelope with each band's level
    beat_response   correlation of the change envelope with the beat grid (a pulse on each beat),
                    the best of 0, 1 or 2 frames late
    motion          mean frame-to-frame change (0..1 of full scale), also as 1 - exp(-x/0.05)
    brightness      mean luminance; warmth: 0.5 + (red - blue) / 2 (colour temperature)
    visual_tempo    visual beats per minute: the rate of the picture's own pulses, which says
                    which tempos it suits (a preset pulsing at 60 per minute looks lazy at 170 BPM)

The same functions score a preset against a real song (``profile_for_song``), which is how
``breathe`` checks that a rewritten preset follows *that* song better.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PROBE_FPS = 30.0
PROBE_TEMPO = 120.0
PROBE_SECONDS = 10.0
PROBE_SIZE = 64
PROBE_SEED = 0
PROFILE_VERSION = 1  # bump when the probe or the measures change (cached profiles are redone)
MOTION_SCALE = 0.05


@dataclass
class ReactivityProfile:
    beat_alignment: float
    chance: float
    bass: float
    mid: float
    treb: float
    beat_response: float
    motion: float
    brightness: float
    warmth: float
    visual_tempo: float

    @property
    def motion_level(self) -> float:
        return 1.0 - float(np.exp(-self.motion / MOTION_SCALE))

    @property
    def beat_lock(self) -> float:
        """Beat alignment above chance, 0..1: 0 for a preset that only hits beats by accident."""
        return float(np.clip((self.beat_alignment - self.chance) / max(1e-6, 1.0 - self.chance), 0.0, 1.0))

    def to_json(self) -> dict:
        return {k: round(float(v), 5) for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, d: dict) -> "ReactivityProfile":
        return cls(**{k: float(d[k]) for k in cls.__dataclass_fields__})

    def describe(self) -> str:
        locked = "beat-locked" if self.beat_lock > 0.4 else ("loosely on the beat" if self.beat_lock > 0.15 else
                                                            "not on the beat")
        speed = "fast" if self.motion_level > 0.6 else ("calm" if self.motion_level < 0.25 else "moderate")
        return f"{speed} (motion {self.motion_level:.2f}), {locked} ({self.beat_alignment:.0%} of beats)"


# ---------------------------------------------------------------- measures on frames


def change_envelope(frames) -> tuple[np.ndarray, float, float]:
    """Mean absolute luma change from each frame to the next (index k: frame k -> k+1, 0..1),
    with the mean luminance and warmth of the frames; frames are streamed, not kept."""
    from evo.fitness.statistics import luma

    change, bright, warm, prev = [], [], [], None
    for f in frames:
        y = luma(f).astype(np.int16)
        if prev is not None:
            change.append(float(np.abs(y - prev).mean()) / 255.0)
        prev = y
        bright.append(float(y.mean()) / 255.0)
        rgb = f[:, :, :3].reshape(-1, 3).mean(axis=0)
        warm.append(0.5 + (float(rgb[0]) - float(rgb[2])) / 510.0)
    return np.asarray(change), float(np.mean(bright)) if bright else 0.0, float(np.mean(warm)) if warm else 0.5


def visual_beats(env: np.ndarray) -> np.ndarray:
    """Indices of visual beats: local maxima of the change envelope that stand above their
    second's median by a share of the envelope's spread (a picture that never changes has none)."""
    if env.size < 3 or float(env.max()) <= 1e-6:
        return np.zeros(0, dtype=int)
    from scipy.ndimage import median_filter

    base = median_filter(env, size=int(PROBE_FPS) | 1, mode="nearest")
    spread = float(np.percentile(env, 90) - np.percentile(env, 10))
    peak = (env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:]) & (env[1:-1] > base[1:-1] + 0.25 * spread + 1e-6)
    return np.flatnonzero(peak) + 1


def beat_alignment(visual: np.ndarray, music: np.ndarray, n: int, tolerance: int = 1) -> tuple[float, float]:
    """(share of music beats with a visual beat within ``tolerance`` frames, the same share for
    that many visual beats spread at random): both on the envelope's frame indices."""
    music = music[(music >= 0) & (music < n)]
    if music.size == 0:
        return 0.0, 0.0
    if visual.size == 0:
        return 0.0, 0.0
    d = np.abs(music[:, None] - visual[None, :]).min(axis=1)
    hit = float(np.mean(d <= tolerance))
    chance = float(1.0 - (1.0 - min(1.0, (2 * tolerance + 1) / n)) ** visual.size)
    return hit, chance


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.size < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return 0.0
    return float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))


def profile_from_frames(frames, levels: np.ndarray, beat_frames: np.ndarray, fps: float) -> ReactivityProfile:
    """The profile of a render: ``frames`` in order (1-based frame k rendered at time k/fps),
    ``levels`` the (n, 6) bass/mid/treb/_att values each frame saw, ``beat_frames`` the music's
    beats as 0-based frame indices (frame index i is frame i+1)."""
    env, brightness, warmth = change_envelope(frames)
    n = env.size
    # env[k] is the change into frame k+1: it follows the music the frame k+1 heard
    lv = np.asarray(levels, float)[1:n + 1]
    beats_env = np.asarray(beat_frames, int) - 1
    vis = visual_beats(env)
    hit, chance = beat_alignment(vis, beats_env, n)
    grid = np.zeros(n)
    grid[beats_env[(beats_env >= 0) & (beats_env < n)]] = 1.0
    # a picture may answer a beat a frame or two late (smoothed levels, feedback): best of 0-2
    response = max(_corr(env[lag:], grid[: n - lag]) for lag in range(3)) if n > 5 else 0.0
    seconds = n / fps
    return ReactivityProfile(
        beat_alignment=hit, chance=chance, bass=_corr(env, lv[:, 0]), mid=_corr(env, lv[:, 1]),
        treb=_corr(env, lv[:, 2]), beat_response=response, motion=float(env.mean()) if n else 0.0,
        brightness=brightness, warmth=warmth, visual_tempo=60.0 * vis.size / seconds if seconds > 0 else 0.0)


# ---------------------------------------------------------------- rendering a probe


def probe_track(seconds: float = PROBE_SECONDS):
    from renderer.audio.synth import synthesize

    return synthesize(seconds=seconds + 1.0, tempo=PROBE_TEMPO, seed=PROBE_SEED)


def probe_beats(n_frames: int, fps: float = PROBE_FPS, tempo: float = PROBE_TEMPO) -> np.ndarray:
    """0-based frame indices of the probe's beats (a beat every 60/tempo s from time 0; frame
    index i is shown at time (i+1)/fps)."""
    times = np.arange(0.0, n_frames / fps + 1e-9, 60.0 / tempo)
    return np.round(times * fps).astype(int) - 1


def measure_preset(renderer, preset, seconds: float = PROBE_SECONDS, fps: float = PROBE_FPS,
                   analyzer=None) -> ReactivityProfile:
    """Render ``preset`` on ``renderer`` (made with ``fps``) against the probe music (or the
    given analyzer) and profile it."""
    from renderer.audio import AudioAnalyzer

    n = int(round(seconds * fps))
    analyzer = analyzer or AudioAnalyzer(probe_track(seconds), fps=fps)
    renderer.load(preset)
    with np.errstate(all="ignore"):
        profile = profile_from_frames(renderer.render(n, analyzer), analyzer.levels(n), probe_beats(n, fps), fps)
    return profile


def measure_file(path, size: int = PROBE_SIZE, seconds: float = PROBE_SECONDS) -> ReactivityProfile:
    """A preset file's profile with a renderer of its own (creates a GL context: a CLI or a worker)."""
    import os

    os.environ.setdefault("LP_NUM_THREADS", "0")
    from renderer import Renderer
    from renderer.milk.preset import load_milk

    with Renderer(width=size, height=size, fps=PROBE_FPS, seed=0) as r:
        return measure_preset(r, load_milk(path), seconds)


def profile_for_song(renderer, preset, analyzer, beat_times: np.ndarray, start_frame: int, n_frames: int,
                     fps: float) -> ReactivityProfile:
    """The profile of ``preset`` rendered on ``n_frames`` of a song from ``start_frame`` (1-based
    frame of the song's analyzer), against that song's own beats (seconds)."""
    from evo.music.song_audio import ShiftedAnalyzer

    shifted = ShiftedAnalyzer(analyzer, start_frame - 1)
    renderer.load(preset)
    beats = np.round((np.asarray(beat_times) - (start_frame - 1) / fps) * fps).astype(int) - 1
    with np.errstate(all="ignore"):
        return profile_from_frames(renderer.render(n_frames, shifted), shifted.levels(n_frames), beats, fps)
