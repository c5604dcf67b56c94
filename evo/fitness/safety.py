"""Flashing and blown-out pictures: what the score penalises even when every statistic is in band.

**Flashes (WCAG 2.3.1, "Three Flashes or Below Threshold").** A *general flash* is a pair of
opposing changes in relative luminance of at least 10% of the maximum where the darker state is
below 0.80; content fails when more than three flashes fall in any one second. We measure it
per region, because a flash is about an area, not the frame's mean: the frame is split into
quarters (a 2x2 grid; WCAG's area, "25% of a 10 degree field", is about 3% of a screen, so any
quarter of a full-screen visualiser is far above it), each quarter's mean relative luminance
gives one series, and :func:`flash_rate` is the largest number of flashes any quarter shows in
any one-second window. Measured on 120 corpus presets against the synthetic music: 11% flash
more than 3 times a second in some quarter (a 4x4 grid flags 43%: a wave crossing a small cell
reads as a flash; the whole frame's mean flags 6% and misses a flashing half).

Sampling: the statistics sample every 4th frame at 60 fps (15 Hz). That aliases a strobe: one
that alternates every other frame (30 Hz) reads as a constant picture, and 12-18 Hz strobes fold
below 3 Hz. So the flash check looks at *every* frame after the warm-up, at 16x16: the renderer
composites the frames the statistics skip into a 16x16 picture (``Renderer.render(probe=...)``,
under 1% of an evaluation), and the sampled full frames are read at the same 16x16 points.

**Blown out.** Large near-white (luma > 245) areas are what a bright feedback loop turns into
(a GA without care for it breeds white blobs); large near-black areas are a preset that shows
little. MilkDrop presets on black are common (the corpus median is 15% near-black, the 90th
percentile 80%), near-white is not (median 1%, 90th percentile 20%), so the allowances differ.
"""

from __future__ import annotations

import numpy as np

GRID = 2  # flash cells per side: quarters of the picture
FLASH_DELTA = 0.1  # WCAG: a change of 10% of the maximum relative luminance ...
FLASH_DARK = 0.8  # ... where the darker state is below 0.80
FLASH_LIMIT = 3.0  # more than this many flashes in any one second fails WCAG 2.3.1

_SRGB = np.arange(256, dtype=np.float64) / 255.0
LINEAR = np.where(_SRGB <= 0.04045, _SRGB / 12.92, ((_SRGB + 0.055) / 1.055) ** 2.4).astype(np.float32)
"""sRGB 8-bit value -> linear light (IEC 61966-2-1), the first step of WCAG relative luminance."""


def relative_luminance(frame: np.ndarray) -> np.ndarray:
    """HxW relative luminance in [0, 1] (WCAG: 0.2126 R + 0.7152 G + 0.0722 B of linear light)."""
    lin = LINEAR[frame[:, :, :3]]
    return lin[:, :, 0] * 0.2126 + lin[:, :, 1] * 0.7152 + lin[:, :, 2] * 0.0722


def probe_view(frame: np.ndarray, size: int = 16) -> np.ndarray:
    """``frame`` read at the points a ``size`` x ``size`` composite samples (pixel centres,
    bilinear), so full frames and probed frames give the same kind of series. Frames already
    that small are returned as they are."""
    h, w = frame.shape[:2]
    if (h, w) == (size, size):
        return frame[:, :, :3]

    def taps(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = (np.arange(size) + 0.5) * n / size - 0.5
        lo = np.clip(np.floor(pos).astype(int), 0, n - 1)
        return lo, np.clip(lo + 1, 0, n - 1), (pos - np.floor(pos)).astype(np.float32)

    y0, y1, fy = taps(h)
    x0, x1, fx = taps(w)
    f = frame[:, :, :3].astype(np.float32)
    top = f[y0][:, x0] * (1 - fx)[None, :, None] + f[y0][:, x1] * fx[None, :, None]
    bottom = f[y1][:, x0] * (1 - fx)[None, :, None] + f[y1][:, x1] * fx[None, :, None]
    out = top * (1 - fy)[:, None, None] + bottom * fy[:, None, None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def cell_luminance(frame: np.ndarray, grid: int = GRID) -> np.ndarray:
    """(grid*grid,) mean relative luminance of each cell of a (probe-sized) frame."""
    y = relative_luminance(frame)
    h, w = y.shape
    rows = np.array_split(np.arange(h), grid)
    cols = np.array_split(np.arange(w), grid)
    return np.array([y[np.ix_(r, c)].mean() for r in rows for c in cols], dtype=np.float64)


def transitions(series: np.ndarray, delta: float = FLASH_DELTA, dark: float = FLASH_DARK) -> list[int]:
    """Indices where a luminance series completes a WCAG transition: a move of at least
    ``delta`` away from the last extreme, against the previous move's direction (the first
    move either way), with the darker end below ``dark``. Two transitions make one flash."""
    out: list[int] = []
    if len(series) < 2:
        return out
    lo = hi = ext = float(series[0])
    direction = 0
    for t in range(1, len(series)):
        x = float(series[t])
        if direction == 0:
            lo, hi = min(lo, x), max(hi, x)
            if x - lo >= delta and lo < dark:
                direction, ext = 1, x
                out.append(t)
            elif hi - x >= delta and x < dark:
                direction, ext = -1, x
                out.append(t)
        elif direction > 0:
            if x > ext:
                ext = x
            elif ext - x >= delta and x < dark:
                direction, ext = -1, x
                out.append(t)
        else:
            if x < ext:
                ext = x
            elif x - ext >= delta and ext < dark:
                direction, ext = 1, x
                out.append(t)
    return out


def flashes_per_second(series: np.ndarray, fps: float) -> float:
    """The most flashes (transitions / 2) in any one-second window of the series."""
    times = transitions(series)
    window = max(1, int(round(fps)))
    best = 0
    j = 0
    for i in range(len(times)):
        while times[i] - times[j] >= window:
            j += 1
        best = max(best, i - j + 1)
    return best / 2.0


def flash_rate(frames: list[np.ndarray], fps: float) -> float:
    """WCAG 2.3.1 flashes per second of a render: the most any of the GRID x GRID cells shows in
    any one second. ``frames``: every frame in order (full-size or probed, see module doc)."""
    if len(frames) < 3:
        return 0.0
    cells = np.stack([cell_luminance(probe_view(f)) for f in frames])  # (frames, cells)
    return max(flashes_per_second(cells[:, c], fps) for c in range(cells.shape[1]))
