"""Evolving for one song: where in it candidates are judged, and which beats they should hit.

A run with ``--audio SONG`` renders every candidate against the same short stretch of the song
(the fitness renders 1.5 s by default). The stretch is taken from the song's liveliest section,
not its first seconds (often an intro, or silence), and the song's beats in that stretch go into
the run's config, so every worker scores the same beats and a resumed run scores them again
without analysing the song. The run folder also keeps ``song.json`` (the analysis summary and the
song's features), which is what the audio-to-parameters model learns from.
"""

from __future__ import annotations

import json
from pathlib import Path

from evo.config import RunConfig
from evo.music.analysis import SongAnalysis, analyze_song, liveliest_stretch, song_features

SONG_RECORD = "song.json"


def fit_to_song(config: RunConfig) -> tuple[RunConfig, SongAnalysis]:
    """The config with ``fitness.audio_start`` and ``fitness.beat_times`` filled from the song."""
    f = config.fitness
    song = analyze_song(f.audio)
    seconds = f.frames / f.fps
    start = f.audio_start if f.audio_start >= 0 else liveliest_stretch(song, seconds)[0]
    beats = [round(float(b) - start, 4) for b in song.beats if start < b <= start + seconds]
    return config.with_overrides({"fitness.audio_start": float(start), "fitness.beat_times": beats}), song


def write_song_record(run_dir: Path, song: SongAnalysis) -> None:
    from renderer.output.files import atomic_write_bytes

    doc = {**song.summary(), "features": song_features(song)}
    atomic_write_bytes(Path(run_dir) / SONG_RECORD, json.dumps(doc, indent=1).encode())


def read_song_record(run_dir: Path) -> dict | None:
    path = Path(run_dir) / SONG_RECORD
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
