"""Cheap image statistics that fitness is built from, and degenerate detectors.

A GA evaluates thousands of candidates, each scored on a handful of sampled
128x128 frames, so every statistic here is plain numpy on uint8 frames (about
1.5 ms for the whole bundle per frame; skimage's entropy alone costs 0.5 ms,
measured on this project's 2-core machine).  All values are plain floats, finite,
and scale-free where that makes sense ([0, 1] for luminance and change), so
fitness weights in a config file stay readable.

The degenerate detectors catch what no score should reward: a black or
white-out screen, a frozen picture, one flat colour, and noise (high entropy
with no spatial correlation, the look of a feedback loop that exploded).
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np

from renderer.output.health import BLACK_LUMA, FROZEN_CHANGE, frame_change, luma

STATISTICS_VERSION = 1
"""Bump when a statistic below changes its value for the same frames (cached statistics, as in the
corpus dataset of evo.mining, are keyed by it)."""

STAT_NAMES = (
    "luma_mean",  # mean luminance in [0, 1], averaged over frames
    "luma_std",  # spatial luminance spread in [0, 0.5], averaged over frames
    "luma_flicker",  # std over frames of each frame's mean luminance, [0, 0.5]
    "entropy",  # Shannon entropy of the 256-bin luminance histogram, bits in [0, 8]
    "colourfulness",  # Hasler & Suesstrunk 2003, their units (0 grey .. ~110 extremely colourful)
    "colour_std",  # largest per-channel spatial std in [0, 0.5], averaged over frames
    "edge_density",  # fraction of pixels whose Sobel magnitude exceeds EDGE_THRESHOLD
    "spatial_corr",  # correlation of horizontally adjacent luma pixels, [-1, 1] (noise ~ 0)
    "compress_ratio",  # zlib level-1 size / raw size of the RGB bytes (low = simple picture)
    "frac_dark",  # fraction of pixels with luma < 10/255
    "frac_bright",  # fraction of pixels with luma > 245/255
    "change_mean",  # mean absolute RGB difference between consecutive frames, [0, 1]
    "change_max",  # the largest of those differences
    "reactivity",  # Pearson correlation of frame-to-frame change with the bass level, [-1, 1]
)

SONG_STATS = ("beat_lock",)
"""Statistics only a run with a song has (evo.fitness.candidate: its pulses against the song's beats)."""

EDGE_THRESHOLD = 24.0
"""Sobel magnitude (a step edge of height h reads h, in 0..255 luma) that counts as an edge."""

DEGENERATE_REASONS = ("black", "white", "frozen", "flat", "noise")


@dataclass(frozen=True)
class DegenerateThresholds:
    """Where each detector trips; fitness config can override any of them."""

    black_luma: float = BLACK_LUMA  # mean luminance below this: black (the sweep uses the same)
    white_luma: float = 0.95  # mean luminance above this ...
    white_bright_frac: float = 0.9  # ... or this share of saturated pixels: white-out
    frozen_change: float = FROZEN_CHANGE  # no consecutive pair differs by more than ~0.5/255 on average
    flat_colour_std: float = 0.02  # every channel's spatial std below ~5/255: one flat colour
    noise_entropy: float = 7.0  # bits; ...
    noise_corr: float = 0.3  # ... with neighbouring pixels this uncorrelated: noise

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


# --------------------------------------------------------------------------- single-frame statistics


def check_frame(frame: np.ndarray, what: str = "frame") -> np.ndarray:
    """Frames must be HxWx3 uint8 (what the renderer reads back); RGBA loses its alpha."""
    if not isinstance(frame, np.ndarray):
        raise TypeError(f"{what}: expected a numpy array, got {type(frame).__name__}")
    if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.shape[0] < 3 or frame.shape[1] < 3:
        raise ValueError(f"{what}: expected an HxWx3 image (H, W >= 3), got shape {frame.shape}")
    if frame.dtype != np.uint8:
        raise ValueError(f"{what}: expected uint8 pixels, got {frame.dtype}")
    return frame[:, :, :3] if frame.shape[2] == 4 else frame


def luma_mean_std(y: np.ndarray) -> tuple[float, float]:
    """Mean and spatial standard deviation of a uint8 luma image, both in [0, 1] units."""
    m, v = _mean_var(y.reshape(-1).astype(np.float32))
    return m / 255.0, float(np.sqrt(v)) / 255.0


def entropy(y: np.ndarray) -> float:
    """Shannon entropy in bits of the 256-bin histogram of a uint8 image."""
    counts = np.bincount(y.ravel(), minlength=256)
    p = counts[counts > 0] / float(y.size)
    return float(max(-(p * np.log2(p)).sum(), 0.0))


def colourfulness(frame: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003): sqrt(var rg + var yb) + 0.3 sqrt(mean rg^2 + mean yb^2).

    rg = R - G, yb = (R + G)/2 - B on 0..255 values.  Their scale: 15 slightly,
    33 moderately, 45 averagely, 59 quite, 82 highly, 109 extremely colourful.
    """
    return _colourfulness(_planes(frame))


def colour_std(frame: np.ndarray) -> float:
    """The largest per-channel spatial standard deviation, in [0, 0.5] units."""
    return _colour_std(_planes(frame))


def _planes(frame: np.ndarray) -> np.ndarray:
    """(3, H*W) float32, C order: row reductions on planes are 10x faster than axis-0 on pixels."""
    return frame.reshape(-1, 3).T.astype(np.float32, order="C")


def _mean_var(x: np.ndarray) -> tuple[float, float]:
    """Mean and variance of a 1-D float32 array, centred first so float32 keeps its precision."""
    m = float(x.mean())
    c = x - np.float32(m)
    return m, float(c @ c) / c.size


def _colourfulness(planes: np.ndarray) -> float:
    r, g, b = planes
    mrg, vrg = _mean_var(r - g)
    myb, vyb = _mean_var(0.5 * (r + g) - b)
    return float(np.sqrt(vrg + vyb) + 0.3 * np.sqrt(mrg * mrg + myb * myb))


def _colour_std(planes: np.ndarray) -> float:
    return max(float(np.sqrt(_mean_var(p)[1])) for p in planes) / 255.0


def sobel_magnitude(y: np.ndarray) -> np.ndarray:
    """(H-2)x(W-2) Sobel gradient magnitude / 4, so a step of height h reads h."""
    gx, gy = _sobel_xy(y)
    return np.sqrt(gx * gx + gy * gy) * 0.25


def _sobel_xy(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Separable Sobel on the interior: smooth then difference, 6 array ops instead of 14."""
    yf = y.astype(np.float32)
    s = yf[:-2] + 2.0 * yf[1:-1] + yf[2:]  # vertical smoothing
    gx = s[:, 2:] - s[:, :-2]
    d = yf[2:] - yf[:-2]  # vertical difference
    gy = d[:, :-2] + 2.0 * d[:, 1:-1] + d[:, 2:]
    return gx, gy


def edge_density(y: np.ndarray, threshold: float = EDGE_THRESHOLD) -> float:
    """Fraction of interior pixels on an edge (Sobel magnitude above ``threshold``)."""
    gx, gy = _sobel_xy(y)
    limit = (4.0 * threshold) ** 2  # compare squares: no sqrt needed
    return float(np.count_nonzero(gx * gx + gy * gy > limit)) / gx.size


def spatial_correlation(y: np.ndarray) -> float:
    """Pearson correlation of each luma pixel with its right-hand neighbour.

    Natural pictures and MilkDrop frames sit near 1; independent noise near 0.
    A flat image has no variance: it reads 1.0 (perfectly predictable).
    """
    yf = y.astype(np.float32)
    a = yf[:, :-1].ravel()
    b = yf[:, 1:].ravel()
    a = a - a.mean()
    b = b - b.mean()
    den = float(np.sqrt(float(a @ a) * float(b @ b)))
    if den <= 1e-6 * a.size:
        return 1.0
    return float(a @ b) / den


def compress_ratio(frame: np.ndarray) -> float:
    """zlib level-1 compressed size over raw size: how much structure the picture has."""
    raw = np.ascontiguousarray(frame).tobytes()
    return len(zlib.compress(raw, 1)) / float(len(raw))


def audio_reactivity(change: np.ndarray, bass: np.ndarray) -> float:
    """Pearson correlation of per-frame visual change with the bass envelope.

    Both arrays have one value per frame (same length).  A constant series has no
    correlation with anything: 0.0, never NaN.
    """
    c = np.asarray(change, dtype=np.float64).ravel()
    b = np.asarray(bass, dtype=np.float64).ravel()
    if c.shape != b.shape:
        raise ValueError(f"change and bass need the same length, got {c.size} and {b.size}")
    if c.size < 3 or not (np.all(np.isfinite(c)) and np.all(np.isfinite(b))):
        return 0.0
    c = c - c.mean()
    b = b - b.mean()
    den = float(np.sqrt((c @ c) * (b @ b)))
    if den <= 1e-12:
        return 0.0
    return float(np.clip((c @ b) / den, -1.0, 1.0))


# --------------------------------------------------------------------------- the bundle


def frame_statistics(frames: list[np.ndarray], bass: np.ndarray | None = None, *, static_every: int = 1) -> dict[str, float]:
    """All of STAT_NAMES over a candidate's sampled frames (in render order).

    ``frames[i]`` and ``frames[i+1]`` give one temporal-change value (whatever
    frames the caller sampled, e.g. every 10th, or consecutive pairs).
    ``bass`` holds the bass level when each frame was rendered (same length as
    ``frames``); reactivity correlates change(i-1 -> i) with ``bass[i]``.  Without
    bass, reactivity is 0.  ``static_every`` computes the per-frame picture
    statistics on every n-th frame only (change still uses all), so a caller can
    pass many frames for a good reactivity estimate at little cost.
    """
    if len(frames) < 2:
        raise ValueError(f"need at least 2 frames to measure change, got {len(frames)}")
    if static_every < 1:
        raise ValueError(f"static_every must be >= 1, got {static_every}")
    checked = [check_frame(f, f"frame {i}") for i, f in enumerate(frames)]
    shape = checked[0].shape
    for i, f in enumerate(checked):
        if f.shape != shape:
            raise ValueError(f"frame {i}: shape {f.shape} differs from frame 0's {shape}")
    if bass is not None:
        bass = np.asarray(bass, dtype=np.float64).ravel()
        if bass.size != len(checked):
            raise ValueError(f"bass has {bass.size} values for {len(checked)} frames")

    per_frame = [_static_stats(f) for f in checked[::static_every]]
    out = {name: float(np.mean([p[name] for p in per_frame])) for name in per_frame[0]}
    out["luma_flicker"] = float(np.std([p["luma_mean"] for p in per_frame]))

    change = np.array([frame_change(checked[i - 1], checked[i]) for i in range(1, len(checked))])
    out["change_mean"] = float(change.mean())
    out["change_max"] = float(change.max())
    out["reactivity"] = 0.0 if bass is None else audio_reactivity(change, bass[1:])
    return {name: _finite(out[name]) for name in STAT_NAMES}


def _static_stats(frame: np.ndarray) -> dict[str, float]:
    y = luma(frame)
    m, s = luma_mean_std(y)
    planes = _planes(frame)
    return {
        "luma_mean": m,
        "luma_std": s,
        "entropy": entropy(y),
        "colourfulness": _colourfulness(planes),
        "colour_std": _colour_std(planes),
        "edge_density": edge_density(y),
        "spatial_corr": spatial_correlation(y),
        "compress_ratio": compress_ratio(frame),
        "frac_dark": float(np.count_nonzero(y < 10)) / y.size,
        "frac_bright": float(np.count_nonzero(y > 245)) / y.size,
    }


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) else 0.0


def degenerate_reason(stats: dict[str, float], thresholds: DegenerateThresholds | None = None) -> str | None:
    """The first degenerate look the statistics show (one of DEGENERATE_REASONS), else None.

    Order matters: a black screen is also frozen and flat; it is reported as black.
    """
    t = thresholds or DegenerateThresholds()
    if stats["luma_mean"] < t.black_luma:
        return "black"
    if stats["luma_mean"] > t.white_luma or stats["frac_bright"] > t.white_bright_frac:
        return "white"
    if stats["change_max"] < t.frozen_change:
        return "frozen"
    if stats["colour_std"] < t.flat_colour_std:
        return "flat"
    if stats["entropy"] > t.noise_entropy and abs(stats["spatial_corr"]) < t.noise_corr:
        return "noise"
    return None
