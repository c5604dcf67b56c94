"""Per-frame audio levels given from outside, in place of our own analysis.

Why: two renderers that disagree about ``bass`` disagree about every audio-driven preset, so a
picture comparison mixes audio differences with rendering differences. Driving our renderer with
another player's levels (butterchurn's reference writes them per frame to ``frames.csv``) leaves
only the rendering to compare. The waveform and spectrum the waves draw still come from the music.

The file is a CSV with a header naming at least ``bass, mid, treb, bass_att, mid_att, treb_att``.
With a ``frame`` column, each row is that frame (numbered from 1, frame k at time k / fps, which is
how the reference numbers its rows); without one, data row i is frame i + 1.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from renderer.audio.analysis import LEVEL_NAMES, AudioAnalyzer, AudioFrame

#: Rows read at most: a 10-minute render at 144 fps is 86,400 frames.
MAX_ROWS = 1_000_000


class LevelsFileError(ValueError):
    """The levels file cannot be used; the message names the file (and line)."""


def read_levels_csv(path: str | os.PathLike) -> dict[int, tuple[float, ...]]:
    """Frame number -> the six LEVEL_NAMES values, read from ``path``."""
    path = Path(path)
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise LevelsFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [n for n in LEVEL_NAMES if n not in header]
        if missing:
            raise LevelsFileError(f"{path}: line 1: the header lacks column(s) {', '.join(missing)} "
                                  f"(need {', '.join(LEVEL_NAMES)})")
        cols = [header.index(n) for n in LEVEL_NAMES]
        frame_col = header.index("frame") if "frame" in header else None
        out: dict[int, tuple[float, ...]] = {}
        for row_no, row in enumerate(reader):
            line = row_no + 2
            if row_no >= MAX_ROWS:
                raise LevelsFileError(f"{path}: more than {MAX_ROWS} rows")
            if not row or all(not c.strip() for c in row):
                continue
            k = row_no + 1 if frame_col is None else _frame_number(path, line, row, frame_col)
            if k in out:
                raise LevelsFileError(f"{path}: line {line}: frame {k} appears twice")
            out[k] = tuple(_level(path, line, row, c, name) for c, name in zip(cols, LEVEL_NAMES))
    if not out:
        raise LevelsFileError(f"{path}: no rows of levels")
    return out


def _cell(path: Path, line: int, row: list[str], col: int) -> str:
    if col >= len(row):
        raise LevelsFileError(f"{path}: line {line}: {len(row)} columns, the header has more")
    return row[col].strip()


def _frame_number(path: Path, line: int, row: list[str], col: int) -> int:
    text = _cell(path, line, row, col)
    try:
        k = float(text)
    except ValueError:
        raise LevelsFileError(f"{path}: line {line}: frame {text!r} is not a number") from None
    if not (math.isfinite(k) and k == int(k) and k >= 1):
        raise LevelsFileError(f"{path}: line {line}: frame {text!r} must be a whole number >= 1")
    return int(k)


def _level(path: Path, line: int, row: list[str], col: int, name: str) -> float:
    text = _cell(path, line, row, col)
    try:
        x = float(text)
    except ValueError:
        raise LevelsFileError(f"{path}: line {line}: {name} {text!r} is not a number") from None
    if not math.isfinite(x):
        raise LevelsFileError(f"{path}: line {line}: {name} is {text}")
    return x


class InjectedLevels:
    """An analyzer whose frames carry given levels and the music's own waveform and spectrum.

    Renderer.render accepts it wherever it accepts an AudioAnalyzer.
    """

    def __init__(self, levels: dict[int, tuple[float, ...]], analyzer: AudioAnalyzer,
                 source: str = "<levels>"):
        self._levels = dict(levels)
        self.analyzer = analyzer
        self.fps = analyzer.fps
        self.source = source

    @classmethod
    def from_csv(cls, path: str | os.PathLike, analyzer: AudioAnalyzer) -> "InjectedLevels":
        return cls(read_levels_csv(path), analyzer, source=str(path))

    @property
    def last_frame(self) -> int:
        """The highest frame number every frame up to which has levels (0 if frame 1 has none)."""
        k = 0
        while k + 1 in self._levels:
            k += 1
        return k

    def frame(self, k: int) -> AudioFrame:
        base = self.analyzer.frame(k)
        values = self._levels.get(int(k))
        if values is None:
            raise LevelsFileError(f"{self.source}: no levels for frame {k}")
        return replace(base, **dict(zip(LEVEL_NAMES, values)))

    def byte_waveform(self, k: int) -> np.ndarray:
        return self.analyzer.byte_waveform(k)

    def levels(self, n_frames: int) -> np.ndarray:
        """(n_frames, 6) float32 like AudioAnalyzer.levels."""
        return np.array([self._levels_of(k) for k in range(1, int(n_frames) + 1)], np.float32).reshape(-1, 6)

    def _levels_of(self, k: int) -> tuple[float, ...]:
        if k not in self._levels:
            raise LevelsFileError(f"{self.source}: no levels for frame {k}")
        return self._levels[k]
