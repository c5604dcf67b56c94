"""Small pure helpers of the built-in waveform's vertex maths, shared by MilkDrop 2's modes
(renderer.stages.waveform) and butterchurn's (renderer.stages.waveform_butterchurn)."""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter, lfiltic


def normalized_mystery(mode: int, p: float) -> float:
    """Modes 0, 1 and 4 fold a wave_mystery outside [-1, 1] back into it."""
    if mode in (0, 1, 4) and (p < -1 or p > 1):
        p = p * 0.5 + 0.5
        p -= math.floor(p)
        p = abs(p) * 2 - 1
    return p


def momentum(u: np.ndarray, w1: float) -> np.ndarray:
    """Mode 4's ``v[i] = u[i]*w2 + w1*(2 v[i-1] - v[i-2])`` for i > 1 (v = u before that)."""
    if len(u) <= 2:
        return u.copy()
    w2 = 1.0 - w1
    b, a = [w2], [1.0, -2.0 * w1, w1]
    zi = lfiltic(b, a, y=[u[1], u[0]], x=[u[1], u[0]])
    out = np.empty_like(u)
    out[:2] = u[:2]
    out[2:], _ = lfilter(b, a, u[2:], zi=zi)
    return out
