"""Which presets suit which music: a ranking per section and for the whole song, and a set.

The rules are the ones a VJ applies by eye, made explicit so each pick comes with its reason:

- **motion follows energy**: a calm section wants a calm preset, a drop wants a fast one
  (target motion ``0.15 + 0.7 * energy`` on the profile's 0..1 motion level);
- **beat-driven music wants beat-locked pictures**: the more a section's onsets fall on its
  beats (its beat strength) and the louder it is, the more the preset's beat lock counts; a
  calm, loose section does not want a strobing one;
- **tone**: quiet sections lean to darker and cooler presets, loud ones to brighter and warmer;
- **quality**: a preset's own rating or score, when the dataset has one, breaks near-ties.

Scores are in [0, 1]; a set plays the best preset per section, never the same one twice in a row
and each at most once while unused good ones remain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evo.music.analysis import Section, SongAnalysis
from evo.music.reactivity import ReactivityProfile

WEIGHTS = {"motion": 0.35, "beat": 0.45, "tone": 0.1, "quality": 0.1}


@dataclass
class Candidate:
    name: str
    path: str
    profile: ReactivityProfile
    quality: float = 0.5  # 0..1 (rating or score), 0.5 when unknown


@dataclass
class Fit:
    candidate: Candidate
    score: float
    reason: str


def target_motion(energy: float) -> float:
    return 0.15 + 0.7 * float(np.clip(energy, 0.0, 1.0))


def beat_weight(section: Section) -> float:
    """How much this section asks for beat-locked pictures: beat strength (onsets on beats
    against the section's mean; 1 = no preference for beats) times loudness."""
    return float(np.clip((section.beat_strength - 1.0) / 4.0, 0.0, 1.0) * np.clip(0.3 + 0.7 * section.energy, 0, 1))


def section_fit(section: Section, c: Candidate) -> Fit:
    p = c.profile
    want = target_motion(section.energy)
    motion = float(np.clip(1.0 - abs(p.motion_level - want) / 0.5, 0.0, 1.0))
    wb = beat_weight(section)
    beat = wb * p.beat_lock + (1.0 - wb) * (1.0 - 0.5 * p.beat_lock * (1.0 - section.energy))
    tone_target = 0.25 + 0.5 * section.energy
    tone = float(np.clip(1.0 - abs(0.5 * (p.brightness * 2.5) + 0.5 * p.warmth - tone_target) / 0.5, 0.0, 1.0))
    score = (WEIGHTS["motion"] * motion + WEIGHTS["beat"] * beat + WEIGHTS["tone"] * tone
             + WEIGHTS["quality"] * float(np.clip(c.quality, 0.0, 1.0)))
    reason = (f"{section.label} section (energy {section.energy:.2f}, beat {section.beat_strength:.1f}): "
              f"{p.describe()}; wanted motion {want:.2f}")
    return Fit(c, float(score), reason)


def rank_section(section: Section, candidates: list[Candidate]) -> list[Fit]:
    return sorted((section_fit(section, c) for c in candidates), key=lambda f: (-f.score, f.candidate.name))


def rank_song(song: SongAnalysis, candidates: list[Candidate]) -> list[Fit]:
    """Whole-song ranking: each preset's fit averaged over the sections, weighted by duration."""
    if not song.sections:
        return []
    total = sum(s.duration for s in song.sections) or 1.0
    out = []
    for c in candidates:
        fits = [section_fit(s, c) for s in song.sections]
        score = sum(f.score * s.duration for f, s in zip(fits, song.sections)) / total
        best = max(zip(fits, song.sections), key=lambda fs: fs[0].score)
        out.append(Fit(c, score, f"suits it overall; best in the {best[1].label} part at "
                                 f"{best[1].start:.0f}-{best[1].end:.0f} s: {c.profile.describe()}"))
    return sorted(out, key=lambda f: (-f.score, f.candidate.name))


@dataclass
class Cue:
    start: float
    end: float
    section: int
    fit: Fit

    def to_json(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "section": self.section,
                "preset": self.fit.candidate.name, "file": self.fit.candidate.path, "score": round(self.fit.score, 4),
                "reason": self.fit.reason}


def plan_set(song: SongAnalysis, candidates: list[Candidate]) -> list[Cue]:
    """One preset per section, switching on the section boundaries: the best fit not yet used
    (when every candidate has played, the best one that did not play just before)."""
    cues: list[Cue] = []
    used: set[str] = set()
    for i, s in enumerate(song.sections):
        ranked = rank_section(s, candidates)
        previous = cues[-1].fit.candidate.path if cues else None
        fresh = [f for f in ranked if f.candidate.path not in used]
        pick = (fresh or [f for f in ranked if f.candidate.path != previous] or ranked)[0]
        used.add(pick.candidate.path)
        cues.append(Cue(s.start, s.end, i, pick))
    return cues


def write_playlist(song: SongAnalysis, cues: list[Cue], out_dir) -> "Path":
    """``OUT/cues.json`` (the song, its tempo and each cue's start, end, preset and reason) and
    the presets copied in play order as ``OUT/presets/NN - name.milk``; returns the JSON's path."""
    import json
    from pathlib import Path

    from renderer.output.files import atomic_copy, atomic_write_bytes

    out = Path(out_dir)
    (out / "presets").mkdir(parents=True, exist_ok=True)
    entries = []
    for k, cue in enumerate(cues, start=1):
        name = f"{k:02d} - {Path(cue.fit.candidate.path).name}"
        atomic_copy(cue.fit.candidate.path, out / "presets" / name)
        entries.append({**cue.to_json(), "file": f"presets/{name}"})
    doc = {"song": song.source, "tempo": round(song.tempo, 2), "duration": round(song.duration, 3), "cues": entries}
    atomic_write_bytes(out / "cues.json", json.dumps(doc, indent=1).encode())
    return out / "cues.json"
