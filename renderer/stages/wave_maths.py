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


def line_edges(pos_x: float, ang: float, n: int, quarter: float = 1.57):
    """Modes 6-7: the line through the screen at ``ang``, clipped to +-1.1, its start, step and
    normal. ``quarter`` is the quarter turn the source writes: MilkDrop 2's literal 1.57, pi/2
    in butterchurn."""
    dx, dy = math.cos(ang), math.sin(ang)
    base_x = pos_x * math.cos(ang + quarter)
    base_y = pos_x * math.sin(ang + quarter)
    ex = [base_x - dx * 3.0, base_x + dx * 3.0]
    ey = [base_y - dy * 3.0, base_y + dy * 3.0]
    for i in range(2):
        for j in range(4):
            e = ex if j < 2 else ey  # j: right, left, top, bottom edge
            limit = 1.1 if j % 2 == 0 else -1.1
            outside = e[i] > limit if j % 2 == 0 else e[i] < limit
            if outside and e[i] != e[1 - i]:
                t = (limit - e[1 - i]) / (e[i] - e[1 - i])
                ddx, ddy = ex[i] - ex[1 - i], ey[i] - ey[1 - i]
                ex[i] = ex[1 - i] + ddx * t
                ey[i] = ey[1 - i] + ddy * t
    step_x = (ex[1] - ex[0]) / n
    step_y = (ey[1] - ey[0]) / n
    ang2 = math.atan2(step_y, step_x)
    return ex[0], ey[0], step_x, step_y, math.cos(ang2 + quarter), math.sin(ang2 + quarter)


def line_mode_strips(mode: int, L: np.ndarray, R: np.ndarray, off: int, n: int, edges, pos_y: float) -> list[np.ndarray]:
    """Modes 6 (one line of the left channel) and 7 (left above, right below, apart by wave_y)
    along ``edges`` (line_edges), from sample ``off`` on."""
    x0, y0, dx, dy, px, py = edges
    i = np.arange(n)
    bx, by = x0 + dx * i, y0 + dy * i
    if mode == 6:
        d = 0.25 * L[i + off]
        return [np.stack([bx + px * d, by + py * d], 1)]
    sep = (pos_y * 0.5 + 0.5) ** 2
    d1 = 0.25 * L[i + off] + sep
    d2 = 0.25 * R[i + off] - sep
    return [np.stack([bx + px * d1, by + py * d1], 1), np.stack([bx + px * d2, by + py * d2], 1)]
