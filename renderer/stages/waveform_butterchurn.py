"""The built-in waveform as butterchurn draws it (``--player butterchurn``, renderer.player).

butterchurn ports MilkDrop 2's eight modes but feeds them 512 samples (AudioAnalyzer.byte_waveform)
instead of 480 of 576, so every count that MilkDrop derives from NUM_WAVEFORM_SAMPLES changes:
the circle (mode 0) has 257 vertices and blends its seam over the first 26, the scopes (modes 2,
3, 5) read sample i + 32 modulo 512, and the angles use pi where MilkDrop writes 1.57 and 6.28.
Mode 5 scales by (aspect + wave position) where MilkDrop adds the position after scaling
(butterchurn's bracket). Everything else (scale and smoothing, alpha, colour, the smoothing of
the vertex strip, thick lines) is shared with renderer.stages.waveform.
"""

from __future__ import annotations

import math

import numpy as np

from renderer.stages.wave_maths import line_edges, line_mode_strips, momentum, normalized_mystery


def butterchurn_wave_vertices(mode: int, left: np.ndarray, right: np.ndarray, *, time: float, mystery: float,
                              pos_x: float, pos_y: float, aspect_x: float, aspect_y: float,
                              texsize: int) -> list[np.ndarray]:
    """Clip-space vertex strips (one, or two for mode 7) from scaled, smoothed 512-sample channels."""
    p = normalized_mystery(mode, mystery)
    L, R = left, right
    n = len(L)
    if mode == 0:
        nv = n // 2 + 1
        off = (n - nv) // 2
        i = np.arange(nv - 1)
        rad = 0.5 + 0.4 * R[i + off] + p
        ang = i * (1.0 / (nv - 1)) * 2 * math.pi + time * 0.2
        seam = i < nv / 10
        mix = 0.5 - 0.5 * np.cos(i[seam] / (nv * 0.1) * math.pi)
        rad2 = 0.5 + 0.4 * R[i[seam] + nv + off] + p
        rad[seam] = (1.0 - mix) * rad2 + rad[seam] * mix
        xy = np.empty((nv, 2))
        xy[:-1, 0] = rad * np.cos(ang) * aspect_y + pos_x
        xy[:-1, 1] = rad * np.sin(ang) * aspect_x + pos_y
        xy[-1] = xy[0]  # close the loop
        return [xy]
    if mode == 1:
        i = np.arange(n // 2)
        rad = 0.53 + 0.43 * R[i] + p
        ang = L[i + 32] * 0.5 * math.pi + time * 2.3
        return [np.stack([rad * np.cos(ang) * aspect_y + pos_x, rad * np.sin(ang) * aspect_x + pos_y], 1)]
    if mode in (2, 3):
        i = np.arange(n)
        return [np.stack([R[i] * aspect_y + pos_x, L[(i + 32) % n] * aspect_x + pos_y], 1)]
    if mode == 4:
        nv = n if n <= texsize / 3 else int(texsize // 3)
        if nv < 1:
            return []
        off = (n - nv) // 2
        i = np.arange(nv)
        x = 2.0 * i / nv + (pos_x - 1.0) + R[(i + 25 + off) % n] * 0.44
        y = L[i + off] * 0.47 + pos_y
        w1 = 0.45 + 0.5 * (p * 0.5 + 0.5)
        return [np.stack([momentum(x, w1), momentum(y, w1)], 1)]
    if mode == 5:
        i = np.arange(n)
        j = (i + 32) % n
        c, s = math.cos(time * 0.3), math.sin(time * 0.3)
        x0 = R[i] * L[j] + L[i] * R[j]
        y0 = R[i] * R[i] - L[j] * L[j]
        return [np.stack([(x0 * c - y0 * s) * (aspect_y + pos_x), (x0 * s + y0 * c) * (aspect_x + pos_y)], 1)]
    if mode in (6, 7):
        nv = n // 2 if n // 2 <= texsize / 3 else int(texsize // 3)
        if nv < 1:
            return []
        off = (n - nv) // 2
        edges = line_edges(pos_x, 0.5 * math.pi * p, nv, quarter=0.5 * math.pi)
        return line_mode_strips(mode, L, R, off, nv, edges, pos_y)
    return []
