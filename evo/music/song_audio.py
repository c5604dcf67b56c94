"""A song as the renderer hears it, from any point in it.

A set of presets plays one song: the preset for the second section starts at its boundary, but
the music it hears (bass, mid, treb and their slow averages) must be the song's own at that
moment, with the song's history behind it, not a fresh analysis that starts from silence. So a
section's renderer gets the song's analyzer shifted by the section's first frame.
"""

from __future__ import annotations

import dataclasses

import numpy as np


class ShiftedAnalyzer:
    """``frame(k)`` of this analyzer is ``frame(k + offset)`` of the song's (renumbered as k)."""

    def __init__(self, base, offset: int):
        if offset < 0:
            raise ValueError(f"offset must be >= 0, got {offset}")
        self.base = base
        self.offset = int(offset)
        self.fps = base.fps

    def frame(self, k: int):
        af = self.base.frame(int(k) + self.offset)
        return dataclasses.replace(af, frame=int(k), time=int(k) / self.fps)

    def levels(self, n_frames: int) -> np.ndarray:
        return self.base.levels(int(n_frames) + self.offset)[self.offset:]
