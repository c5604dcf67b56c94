"""Behaviour descriptors: where a candidate's look sits, as a handful of numbers in [0, 1].

The score says how good a candidate is; descriptors say *what kind* of picture it makes, so that
selection can keep different looks apart (niching, the quality-diversity archive), the corpus
dataset can map a collection, and music matching can ask for "dark, slow, beat-locked". Each is
scale-free and bounded, so a Euclidean distance between two descriptor vectors means the same
in every dimension:

    brightness     mean luminance
    colourfulness  Hasler-Suesstrunk colourfulness / 120 (109 is "extremely colourful")
    warmth         0.5 + (mean red - mean blue) / 2: 0 blue, 0.5 neutral, 1 red/orange
    motion         1 - exp(-change / 0.05): mean frame-to-frame change of the sampled frames
    symmetry       the best of left-right, top-bottom and point (180 degree) mirror similarity
    detail         mean spatial frequency of the luminance spectrum / Nyquist (fine = high)
    complexity     zlib ratio of the pixels (flat = low, busy = high)
    reactivity     (correlation of visual change with the bass + 1) / 2

Five come straight from the image statistics (no second pass over the frames); warmth, symmetry
and detail are measured on the statistics' picture frames, halved to 64x64 at most (symmetry and
spectrum do not need more): about 3 ms per candidate at 128x128 (2% of its evaluation).

Descriptors say what kind of picture a candidate makes, not where things are in it: two white
blobs of different colour differ in warmth but look alike to a person. So a candidate also
keeps its *look*: its last sampled frame as a 32x32 grey thumbnail (:func:`look_thumbnail`),
and :func:`look_similarity` (SSIM of two thumbnails) says how alike two pictures are in layout.
Over 2,340 pairs of stills from three 480-evaluation runs, the SSIM of 32x32 thumbnails
correlates 0.89-0.92 with the SSIM of the 128x128 stills (16x16: 0.76-0.79).
"""

from __future__ import annotations

import numpy as np

from evo.fitness.statistics import luma

DESCRIPTORS_VERSION = 1
"""Bump when a descriptor changes its value for the same frames (caches of descriptors key on it)."""

DESCRIPTOR_NAMES = ("brightness", "colourfulness", "warmth", "motion", "symmetry", "detail", "complexity",
                    "reactivity")
MOTION_SCALE = 0.05
COLOURFUL_SCALE = 120.0


def mirror_symmetry(y: np.ndarray) -> float:
    """How much a luma image equals its best mirror image (left-right, top-bottom or 180 degrees),
    relative to how different two unrelated pixels of it are: 1 mirror-perfect, 0 no symmetry."""
    f = y.astype(np.float32)
    # unrelated pixels: the picture against itself shifted by half its size both ways
    unrelated = float(np.abs(f - np.roll(f, (f.shape[0] // 2, f.shape[1] // 2), axis=(0, 1))).mean())
    if unrelated < 1.0:  # flat (or periodic at half its size): symmetric, and says nothing more
        return 1.0
    best = min(float(np.abs(f - m).mean()) for m in (f[:, ::-1], f[::-1, :], f[::-1, ::-1]))
    return float(np.clip(1.0 - best / unrelated, 0.0, 1.0))


def spatial_frequency(y: np.ndarray) -> float:
    """Power-weighted mean frequency of the (mean-removed) luma spectrum, as a share of Nyquist."""
    f = y.astype(np.float32)
    power = np.abs(np.fft.rfft2(f - f.mean())) ** 2
    h, w = f.shape
    fy = np.abs(np.fft.fftfreq(h))[:, None] * 2.0  # 1.0 at Nyquist
    fx = np.fft.rfftfreq(w)[None, :] * 2.0
    radius = np.minimum(np.sqrt(fx * fx + fy * fy), 1.0)
    total = float(power.sum())
    if total <= 0.0:
        return 0.0
    return float((power * radius).sum() / total)


def _halved(y: np.ndarray, limit: int = 64) -> np.ndarray:
    while min(y.shape) > limit and y.shape[0] % 2 == 0 and y.shape[1] % 2 == 0:
        y = ((y[0::2, 0::2].astype(np.uint16) + y[1::2, 0::2] + y[0::2, 1::2] + y[1::2, 1::2]) // 4).astype(np.uint8)
    return y


def behaviour_descriptors(frames: list[np.ndarray], stats: dict[str, float], static_every: int = 1) -> dict[str, float]:
    """The descriptors of a candidate from its sampled frames (render order, HxWx3 uint8) and the
    statistics :func:`evo.fitness.statistics.frame_statistics` gave for the same frames."""
    still = frames[::max(1, static_every)]
    if not still:
        raise ValueError("need at least one frame")
    ys = [_halved(luma(f)) for f in still]
    rgb = np.stack([f[:, :, :3].reshape(-1, 3).mean(axis=0) for f in still]).mean(axis=0)
    out = {
        "brightness": float(stats["luma_mean"]),
        "colourfulness": float(stats["colourfulness"]) / COLOURFUL_SCALE,
        "warmth": 0.5 + (float(rgb[0]) - float(rgb[2])) / 510.0,
        "motion": 1.0 - float(np.exp(-float(stats["change_mean"]) / MOTION_SCALE)),
        "symmetry": float(np.mean([mirror_symmetry(y) for y in ys])),
        "detail": float(np.mean([spatial_frequency(y) for y in ys])),
        "complexity": float(stats["compress_ratio"]),
        "reactivity": (float(np.clip(stats["reactivity"], -1.0, 1.0)) + 1.0) / 2.0,
    }
    return {k: float(np.clip(v, 0.0, 1.0)) if np.isfinite(v) else 0.0 for k, v in out.items()}


LOOK_SIZE = 32


def look_thumbnail(frame: np.ndarray, size: int = LOOK_SIZE) -> str:
    """A frame's luma, area-averaged (box filter) to ``size`` x ``size``, as hex (2 characters a pixel)."""
    from PIL import Image

    small = Image.fromarray(luma(frame)).resize((size, size), Image.BOX)
    return np.asarray(small, dtype=np.uint8).tobytes().hex()


def look_pixels(look: str) -> np.ndarray | None:
    """The thumbnail of :func:`look_thumbnail` back as a square uint8 array (None if absent or malformed)."""
    try:
        data = np.frombuffer(bytes.fromhex(look), np.uint8)
    except (TypeError, ValueError):
        return None
    side = int(round(np.sqrt(data.size)))
    return data.reshape(side, side) if side >= 7 and side * side == data.size else None


def look_similarity(a: str, b: str) -> float:
    """Structural similarity (SSIM, grey) of two looks in [-1, 1]; 0.0 when either is missing."""
    from skimage.metrics import structural_similarity

    pa, pb = look_pixels(a), look_pixels(b)
    if pa is None or pb is None or pa.shape != pb.shape:
        return 0.0
    return float(structural_similarity(pa, pb, data_range=255, win_size=7))


def descriptor_distance(a: dict[str, float], b: dict[str, float], names: tuple[str, ...] = DESCRIPTOR_NAMES) -> float:
    """Euclidean distance of two candidates' descriptors (each in [0, 1]; at most sqrt(len(names)))."""
    return float(np.linalg.norm(descriptor_vector(a, names) - descriptor_vector(b, names)))


def descriptor_vector(descriptors: dict[str, float], names: tuple[str, ...] = DESCRIPTOR_NAMES) -> np.ndarray:
    """The descriptors as an array in ``names`` order (a missing one reads 0)."""
    return np.array([float(descriptors.get(n, 0.0)) for n in names], dtype=np.float64)
