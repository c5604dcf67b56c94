"""Is a render alive: the black and frozen tests that the corpus sweep, the fitness and the preset
doctor all apply, with one set of thresholds so that "black" means the same thing everywhere.

Frames are HxWx3 uint8 as the renderer reads them back; measures are in [0, 1].
"""

from __future__ import annotations

import numpy as np

# Rec. 601 luma in 8-bit fixed point: (77 R + 150 G + 29 B) / 256.
LUMA_WEIGHTS = (77, 150, 29)

BLACK_LUMA = 0.015
"""Mean luminance below this is black (a 1.5 % white line on black sits at the edge)."""
FROZEN_CHANGE = 0.002
"""Frames whose mean absolute RGB difference is below this (~0.5/255) are the same picture."""


def luma(frame: np.ndarray) -> np.ndarray:
    """HxW uint8 Rec. 601 luminance, integer arithmetic (exact, fast)."""
    f = frame.astype(np.uint16)
    wr, wg, wb = LUMA_WEIGHTS
    return ((f[:, :, 0] * wr + f[:, :, 1] * wg + f[:, :, 2] * wb) >> 8).astype(np.uint8)


def frame_change(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute RGB difference of two frames, in [0, 1]."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()) / 255.0


def is_black(luma_mean: float) -> bool:
    return luma_mean < BLACK_LUMA


def is_frozen(largest_change: float) -> bool:
    """``largest_change``: the largest :func:`frame_change` between the frames looked at."""
    return largest_change < FROZEN_CHANGE


class HealthWatch:
    """Decides ``black`` and ``frozen`` from the second half of a render, one frame at a time.

    The first half is ignored because every preset starts from a black picture and many take a
    few frames to build up; a preset is black/frozen if it *stays* so.
    """

    def __init__(self, n_frames: int):
        self.start = n_frames // 2 + 1 if n_frames >= 4 else 1
        self.brightest = 0.0
        self.largest_change = 0.0
        self.seen = 0
        self._prev: np.ndarray | None = None

    def add(self, k: int, frame: np.ndarray) -> None:
        """Frame ``k`` (1-based) of the render."""
        if k < self.start:
            return
        self.seen += 1
        self.brightest = max(self.brightest, float(luma(frame).mean()) / 255.0)
        if self._prev is not None:
            self.largest_change = max(self.largest_change, frame_change(frame, self._prev))
        self._prev = frame

    def result(self) -> tuple[bool, bool]:
        """(black, frozen)."""
        return bool(self.seen > 0 and is_black(self.brightest)), bool(self.seen > 1 and is_frozen(self.largest_change))
