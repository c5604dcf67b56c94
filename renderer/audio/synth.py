"""A seeded synthetic music generator: the program's default audio.

Presets are judged by how they move with music, so every render needs music,
even on a machine with no audio files.  The generator writes a short piece in
4/4 (drums, a bass line, chords and an arpeggio over a chord progression in
the requested key) whose parts land in MilkDrop's three bands.  MilkDrop's
equaliser all but ignores the lowest bins, so its ``bass`` (0-3.7 kHz) hears
the kick's click and knock, the bass line's and chords' harmonics; the snare
fills ``mid`` (3.7-7.3 kHz) and ``treb`` (7.3-11 kHz) with the hats.  A
four-on-the-floor kick and backbeat snare make every band pulse on the beat
(about 2x on beats for bass, 4x for mid and treb at 120 BPM), which is what a
visualiser reacts to.

Every random choice (progression, fills, velocities, noise) comes from
``numpy.random.default_rng(seed)``; the same arguments give bit-identical
samples.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from renderer.audio.track import TARGET_RATE, AudioTrack

ALL_PARTS = ("kick", "snare", "hat", "bass", "chords", "arp")

_NOTE_INDEX = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
# Progressions as scale degrees (0-based), popular enough to sound like music.
_MAJOR_PROGRESSIONS = ((0, 4, 5, 3), (0, 5, 3, 4), (5, 3, 0, 4), (0, 3, 4, 3))
_MINOR_PROGRESSIONS = ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6), (0, 5, 3, 4))


@dataclass(frozen=True)
class Key:
    """A parsed key: tonic pitch class (0 = C) and mode."""

    tonic: int
    minor: bool

    @property
    def scale(self) -> tuple[int, ...]:
        return _MINOR if self.minor else _MAJOR


def parse_key(key: str) -> Key:
    """'A' (A major), 'Am'/'A minor', 'F#', 'Bbm', 'c# min' ..."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"key must be a note name like 'A', 'F#m' or 'Bb minor', got {key!r}")
    text = key.strip()
    letter = text[0].upper()
    if letter not in _NOTE_INDEX:
        raise ValueError(f"unknown key {key!r}: must start with a note letter A-G")
    pc = _NOTE_INDEX[letter]
    rest = text[1:]
    while rest[:1] in ("#", "b", "♯", "♭"):
        pc += 1 if rest[0] in "#♯" else -1
        rest = rest[1:]
    mode = rest.strip().lower()
    if mode in ("", "maj", "major"):
        minor = False
    elif mode in ("m", "min", "minor"):
        minor = True
    else:
        raise ValueError(f"unknown key {key!r}: mode must be major (nothing), 'm' or 'minor'")
    return Key(pc % 12, minor)


def midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def synthesize(
    seconds: float = 30.0,
    tempo: float = 120.0,
    key: str = "A",
    seed: int = 0,
    rate: int = TARGET_RATE,
    parts: tuple[str, ...] = ALL_PARTS,
) -> AudioTrack:
    """Generate ``seconds`` of music; ``parts`` selects instruments (tests use one at a time)."""
    if not (np.isfinite(seconds) and 0 < seconds <= 3600):
        raise ValueError(f"seconds must be in (0, 3600], got {seconds}")
    if not (np.isfinite(tempo) and 20 <= tempo <= 400):
        raise ValueError(f"tempo must be in [20, 400] BPM, got {tempo}")
    if int(rate) < 8000:
        raise ValueError(f"rate must be at least 8000 Hz, got {rate}")
    unknown = set(parts) - set(ALL_PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}; choose from {ALL_PARTS}")
    k = parse_key(key)
    rate = int(rate)
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    beat = 60.0 / float(tempo)
    plan = _plan(rng, k, seconds, beat)
    mix = np.zeros((n, 2))
    # Each part draws from its own child generator so that turning one part off
    # (tests) does not change the others.
    children = rng.spawn(len(ALL_PARTS))
    for name, child in zip(ALL_PARTS, children):
        if name in parts:
            _PARTS[name](mix, plan, child, rate)
    peak = float(np.max(np.abs(mix))) if n else 0.0
    if peak > 0:
        mix = np.tanh(mix * (1.2 / peak)) * 0.9 / np.tanh(1.2)
    return AudioTrack(mix.astype(np.float32), rate, f"synth(seconds={seconds}, tempo={tempo}, key={key!r}, seed={seed})")


def write_wav(track: AudioTrack, path: str | os.PathLike, subtype: str = "PCM_16") -> None:
    """Write a track as WAV (16-bit by default; 'FLOAT' keeps samples exact)."""
    import soundfile as sf

    sf.write(str(path), track.samples, track.rate, subtype=subtype, format="WAV")


# --------------------------------------------------------------------------- arrangement


@dataclass(frozen=True)
class _Plan:
    seconds: float
    beat: float
    n_bars: int
    chords: tuple[tuple[int, ...], ...]  # MIDI notes per bar (root first)
    kick_steps: tuple[tuple[int, ...], ...]  # 16th-note steps with a kick, per bar
    snare_steps: tuple[tuple[int, ...], ...]
    bass_steps: tuple[tuple[int, ...], ...]  # 8th-note steps, per bar


def _plan(rng: np.random.Generator, key: Key, seconds: float, beat: float) -> _Plan:
    bar = 4 * beat
    n_bars = int(np.ceil(seconds / bar)) + 1
    progs = _MINOR_PROGRESSIONS if key.minor else _MAJOR_PROGRESSIONS
    prog = progs[int(rng.integers(len(progs)))]
    scale = key.scale
    chords, kicks, snares, basses = [], [], [], []
    for b in range(n_bars):
        degree = prog[b % len(prog)]
        root = 48 + key.tonic + scale[degree]  # around C3..B3
        third = 48 + key.tonic + scale[(degree + 2) % 7] + 12 * ((degree + 2) // 7)
        fifth = 48 + key.tonic + scale[(degree + 4) % 7] + 12 * ((degree + 4) // 7)
        notes = [root, third, fifth]
        if rng.random() < 0.35:
            notes.append(48 + key.tonic + scale[(degree + 6) % 7] + 12 * ((degree + 6) // 7))
        chords.append(tuple(notes))
        kick = [0, 4, 8, 12]  # four on the floor: a pulse on every beat
        if rng.random() < 0.3:
            kick.append(int(rng.choice([6, 10, 14])))
        kicks.append(tuple(sorted(kick)))
        snare = [4, 12]
        if b % 4 == 3:  # fill at the end of each phrase
            snare += [13, 14, 15] if rng.random() < 0.5 else [10, 14, 15]
        snares.append(tuple(sorted(set(snare))))
        bass = [0, 2, 3, 4, 6] if rng.random() < 0.5 else [0, 1, 3, 4, 5, 7]
        basses.append(tuple(bass))
    return _Plan(seconds, beat, n_bars, tuple(chords), tuple(kicks), tuple(snares), tuple(basses))


def _place(mix: np.ndarray, start_s: float, sound: np.ndarray, pan: float, rate: int) -> None:
    """Add a mono sound at ``start_s`` with constant-power pan in [-1, 1]."""
    i0 = int(round(start_s * rate))
    if i0 >= mix.shape[0] or sound.size == 0:
        return
    seg = sound[: mix.shape[0] - i0]
    angle = (pan + 1.0) * np.pi / 4.0
    mix[i0 : i0 + seg.size, 0] += seg * np.cos(angle)
    mix[i0 : i0 + seg.size, 1] += seg * np.sin(angle)


def _one_pole_lowpass(x: np.ndarray, cutoff_hz: float, rate: int) -> np.ndarray:
    a = float(np.exp(-2.0 * np.pi * cutoff_hz / rate))
    return lfilter([1.0 - a], [1.0, -a], x)


def _saw(freq: float, t: np.ndarray, phase: float = 0.0) -> np.ndarray:
    return 2.0 * ((freq * t + phase) % 1.0) - 1.0


# --------------------------------------------------------------------------- instruments


def _kick(mix, plan: _Plan, rng, rate):
    dur = 0.35
    t = np.arange(int(dur * rate)) / rate
    freq = 48.0 + 140.0 * np.exp(-t / 0.035)
    phase = 2.0 * np.pi * np.cumsum(freq) / rate
    body = np.sin(phase) * np.exp(-t / 0.18)
    step = plan.beat / 4
    for b, steps in enumerate(plan.kick_steps):
        for s in steps:
            vel = 0.9 + 0.1 * rng.random()
            # The beater's click and knock (1-3 kHz) are what MilkDrop's equalised
            # bass band hears; the 50-190 Hz body is what people hear.
            click = _one_pole_lowpass(rng.standard_normal(t.size), 3000.0, rate) * np.exp(-t / 0.012)
            knock = np.sin(2.0 * np.pi * 1400.0 * t) * np.exp(-t / 0.02)
            sound = (0.55 * np.tanh(2.0 * body) + 1.0 * click + 0.8 * knock) * vel
            _place(mix, b * 4 * plan.beat + s * step, sound, 0.0, rate)


def _snare(mix, plan: _Plan, rng, rate):
    dur = 0.25
    t = np.arange(int(dur * rate)) / rate
    tone = np.sin(2.0 * np.pi * 185.0 * t) * np.exp(-t / 0.05)
    step = plan.beat / 4
    for b, steps in enumerate(plan.snare_steps):
        for s in steps:
            noise = rng.standard_normal(t.size)
            noise = np.diff(noise, prepend=0.0) * 0.5  # tilt towards highs
            vel = (0.75 if s in (4, 12) else 0.45) + 0.15 * rng.random()
            sound = (noise * np.exp(-t / 0.09) + 0.6 * tone) * vel
            _place(mix, b * 4 * plan.beat + s * step, sound, 0.05, rate)


def _hat(mix, plan: _Plan, rng, rate):
    closed = np.arange(int(0.06 * rate)) / rate
    opened = np.arange(int(0.3 * rate)) / rate
    step = plan.beat / 4
    for b in range(plan.n_bars):
        for s in range(0, 16, 2):
            is_open = s == 14 and rng.random() < 0.3
            t = opened if is_open else closed
            noise = rng.standard_normal(t.size)
            noise = np.diff(np.diff(noise, prepend=0.0), prepend=0.0) * 0.25  # strong highpass
            env = np.exp(-t / (0.09 if is_open else 0.018))
            vel = (0.8 if s % 4 == 2 else 0.5) + 0.15 * rng.random()
            _place(mix, b * 4 * plan.beat + s * step, noise * env * vel, 0.3, rate)


def _bass(mix, plan: _Plan, rng, rate):
    step = plan.beat / 2
    length = step * 0.9
    t = np.arange(int(length * rate)) / rate
    gate = np.minimum(1.0, t / 0.004) * np.exp(-t / 0.25) * np.minimum(1.0, (length - t) / 0.01)
    for b, (chord, steps) in enumerate(zip(plan.chords, plan.bass_steps)):
        root = chord[0] - 12  # octave 2
        for s in steps:
            note = root + (12 if (s == 7 and rng.random() < 0.5) else 0)
            raw = _saw(midi_to_hz(note), t)
            cut = 250.0 + 700.0 * rng.random()
            sound = _one_pole_lowpass(raw, cut, rate) * gate * 0.6
            _place(mix, b * 4 * plan.beat + s * step, sound, 0.0, rate)


def _chords(mix, plan: _Plan, rng, rate):
    # Off-beat stabs: a chord hit on the "and" of each beat, detuned saws.
    step = plan.beat / 2
    length = step * 0.7
    t = np.arange(int(length * rate)) / rate
    env = np.minimum(1.0, t / 0.006) * np.exp(-t / 0.12)
    for b, chord in enumerate(plan.chords):
        voices = []
        for note in chord:
            f = midi_to_hz(note + 12)
            voices.append(_saw(f * 1.003, t, 0.1) + _saw(f / 1.003, t, 0.6))
        tone = _one_pole_lowpass(np.sum(voices, axis=0), 900.0, rate) * env * 0.3
        for s in (1, 3, 5, 7):
            pan = -0.4 if s in (1, 5) else 0.4
            _place(mix, b * 4 * plan.beat + s * step, tone * (0.85 + 0.15 * rng.random()), pan, rate)


def _arp(mix, plan: _Plan, rng, rate):
    # Sixteenth-note arpeggio two octaves up: square-ish waves whose harmonics
    # reach MilkDrop's mid and treble bands.
    step = plan.beat / 4
    length = step * 0.8
    t = np.arange(int(length * rate)) / rate
    env = np.minimum(1.0, t / 0.002) * np.exp(-t / 0.05)
    order = (0, 1, 2, 1) if rng.random() < 0.5 else (0, 2, 1, 2)
    for b, chord in enumerate(plan.chords):
        for s in range(16):
            note = chord[order[s % 4] % len(chord)] + 24 + (12 if s >= 8 and b % 2 else 0)
            f = midi_to_hz(note)
            sq = _one_pole_lowpass(np.sign(np.sin(2.0 * np.pi * f * t) + 1e-9), 2000.0, rate)
            sound = sq * env * (0.1 + 0.04 * rng.random())
            _place(mix, b * 4 * plan.beat + s * step, sound, -0.5 if s % 2 else 0.5, rate)


_PARTS = {"kick": _kick, "snare": _snare, "hat": _hat, "bass": _bass, "chords": _chords, "arp": _arp}


def synthesize_sections(sections: list[tuple[float, tuple[str, ...], float]], tempo: float = 120.0,
                        key: str = "A", seed: int = 0) -> AudioTrack:
    """A piece in sections with known boundaries: ``(seconds, parts, gain)`` each, played one after
    another at one tempo (a section lasting whole beats keeps the beat grid unbroken). What tests
    and probe renders use when they need exact tempo, beats and section times."""
    if not sections:
        raise ValueError("need at least one section")
    pieces = []
    for k, (seconds, parts, gain) in enumerate(sections):
        track = synthesize(seconds=seconds, tempo=tempo, key=key, seed=seed + k, parts=tuple(parts))
        pieces.append(track.samples * np.float32(gain))
    mix = np.concatenate(pieces, axis=0)
    return AudioTrack(np.ascontiguousarray(mix, dtype=np.float32), TARGET_RATE,
                      f"synth sections({len(sections)}, tempo={tempo}, seed={seed})")
