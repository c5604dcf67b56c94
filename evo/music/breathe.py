"""Make a preset breathe with a song: add beat-driven motion to its per-frame code, keep its look.

A preset that drifts regardless of the music can be made to pulse with it by adding, at the end
of its per-frame equations, small kicks driven by the *difference* between MilkDrop's immediate
band levels and their smoothed ``_att`` versions: ``bass - bass_att`` is above zero right on a
kick drum and near zero between beats, so the picture jumps on the beat instead of swelling with
loudness. The kick goes into a free ``q`` variable (so per-pixel code, which may set zoom or
rotation per vertex, can add it too) and then into zoom, rotation and wave brightness:

    q30 = A * max(bass - bass_att, 0);   zoom = zoom + q30;
    q31 = B * (mid - mid_att);           rot  = rot + q31;
    wave_a = wave_a * (1 + C * max(treb - treb_att, 0));

The strengths are scaled to the song: A makes a typical beat (the 90th percentile of
``bass - bass_att`` over the excerpt) a zoom kick of ``ZOOM_KICK``. Several overall strengths are
tried; the rewrite kept is the one whose render against the song's liveliest section has the
best beat lock (beat alignment above what its number of pulses would hit by chance) while
staying healthy (not black, white, frozen, and not strobing more than
three times a second). If none beats the original, nothing is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from evo.music.analysis import SongAnalysis, liveliest_stretch
from evo.music.reactivity import ReactivityProfile, profile_for_song

ZOOM_KICK = 0.05
ROT_KICK = 0.03
WAVE_KICK = 0.6
STRENGTHS = (0.6, 1.0, 1.6)
EXCERPT_S = 12.0
FPS = 30.0
MARK = "// liandan breathe"


class BreatheError(ValueError):
    pass


@dataclass
class BreatheResult:
    text: str | None  # the rewritten .milk, None when no rewrite helped
    before: ReactivityProfile
    after: ReactivityProfile | None
    strength: float | None
    lines: list[str]
    excerpt: tuple[float, float]
    tried: list[tuple[float, ReactivityProfile, str | None]]  # strength, profile, why rejected


def free_q(preset) -> list[str]:
    """q variables (q1..q32) no code block of the preset mentions, highest first."""
    used = set()
    for lines in preset.code_sections().values():
        used.update(int(m) for m in re.findall(r"\bq([0-9]{1,2})\b", "".join(lines).lower()))
    return [f"q{k}" for k in range(32, 0, -1) if k not in used]


def writes(lines: list[str], name: str) -> bool:
    return re.search(rf"\b{name}\s*=[^=]", "".join(lines).lower()) is not None


def kick_lines(preset, levels: np.ndarray, strength: float) -> tuple[list[str], list[str]]:
    """(per-frame lines, per-pixel lines) to append, scaled to the song's ``levels`` (n, 6)."""
    q = free_q(preset)
    if len(q) < 2:
        raise BreatheError("the preset uses every q variable; there is none left to carry the beat")
    lv = np.asarray(levels, float)
    bass = np.percentile(np.maximum(lv[:, 0] - lv[:, 3], 0.0), 90) or 0.1
    mid = np.percentile(np.abs(lv[:, 1] - lv[:, 4]), 90) or 0.1
    treb = np.percentile(np.maximum(lv[:, 2] - lv[:, 5], 0.0), 90) or 0.1
    a, b, c = (round(strength * k / max(v, 1e-3), 4) for k, v in ((ZOOM_KICK, bass), (ROT_KICK, mid), (WAVE_KICK, treb)))
    qz, qr = q[0], q[1]
    frame = [f"{MARK}: zoom kicks on the bass, rotation on the mid, waves flare on the treble;",
             f"{qz} = {a} * max(bass - bass_att, 0); zoom = zoom + {qz};",
             f"{qr} = {b} * (mid - mid_att); rot = rot + {qr};",
             f"wave_a = wave_a * (1 + {c} * max(treb - treb_att, 0));"]
    pixel = []
    if writes(preset.per_pixel_code, "zoom"):
        pixel.append(f"zoom = zoom + {qz};")
    if writes(preset.per_pixel_code, "rot"):
        pixel.append(f"rot = rot + {qr};")
    return frame, pixel


def rewritten(preset, frame_lines: list[str], pixel_lines: list[str]):
    from renderer.milk.preset import dump_milk, parse_milk

    p = parse_milk(dump_milk(preset), source=preset.source)
    sep = [";"] if p.per_frame_code and not "".join(p.per_frame_code).rstrip().endswith(";") else []
    p.per_frame_code = list(p.per_frame_code) + sep + frame_lines
    if pixel_lines:
        sep = [";"] if p.per_pixel_code and not "".join(p.per_pixel_code).rstrip().endswith(";") else []
        p.per_pixel_code = list(p.per_pixel_code) + sep + pixel_lines
    p.set_keys = set(p.set_keys)
    return p


def health_problem(frames_profile: ReactivityProfile, flashes_per_s: float) -> str | None:
    if frames_profile.brightness < 0.015:
        return "black"
    if frames_profile.brightness > 0.95:
        return "white-out"
    if frames_profile.motion < 0.002:
        return "frozen"
    if flashes_per_s > 3.0:
        return f"strobing ({flashes_per_s:.1f} flashes/s)"
    return None


def breathe(preset, song: SongAnalysis, analyzer, size: int = 96) -> BreatheResult:
    """Rewrite ``preset`` for ``song`` (its analysis and an AudioAnalyzer of it at ``FPS``)."""
    from renderer import Renderer
    from renderer.eel import EELError, compile_block
    from renderer.milk.preset import dump_milk

    t0, t1 = liveliest_stretch(song, EXCERPT_S)
    start = int(round(t0 * FPS)) + 1
    n = max(8, int(round((t1 - t0) * FPS)))
    levels = analyzer.levels(start - 1 + n)[start - 1:]
    tried = []
    with Renderer(width=size, height=size, fps=FPS, seed=0) as r:
        before = _measure(r, preset, analyzer, song, start, n)
        best = None
        for strength in STRENGTHS:
            frame_lines, pixel_lines = kick_lines(preset, levels, strength)
            candidate = rewritten(preset, frame_lines, pixel_lines)
            try:
                compile_block(candidate.per_frame_code, "per_frame")
                compile_block(candidate.per_pixel_code, "per_pixel")
            except EELError as exc:
                tried.append((strength, before[0], f"does not compile: {exc}"))
                continue
            profile, flashes = _measure(r, candidate, analyzer, song, start, n, flashes=True)
            problem = health_problem(profile, flashes)
            if problem is None and profile.beat_lock <= before[0].beat_lock:
                problem = "beat lock (alignment above chance) not better"
            tried.append((strength, profile, problem))
            if problem is None and (best is None or profile.beat_lock > best[1].beat_lock):
                best = (strength, profile, candidate, frame_lines + pixel_lines)
    if best is None:
        return BreatheResult(None, before[0], None, None, [], (t0, t1), tried)
    strength, profile, candidate, lines = best
    return BreatheResult(dump_milk(candidate), before[0], profile, strength, lines, (t0, t1), tried)


def _measure(r, preset, analyzer, song: SongAnalysis, start: int, n: int, flashes: bool = False):
    profile = profile_for_song(r, preset, analyzer, song.beats, start, n, FPS)
    if not flashes:
        return profile, 0.0
    return profile, _flash_rate(r, preset, analyzer, start, n)


def _flash_rate(r, preset, analyzer, start: int, n: int) -> float:
    """The most WCAG 2.3.1 flashes any quarter of the picture shows in any one second (the
    fitness's own measure, evo.fitness.safety), on 16x16 views so the excerpt costs little memory."""
    from evo.fitness.safety import flash_rate, probe_view
    from evo.music.song_audio import ShiftedAnalyzer

    r.load(preset)
    return flash_rate([probe_view(f) for f in r.render(n, ShiftedAnalyzer(analyzer, start - 1))], FPS)
