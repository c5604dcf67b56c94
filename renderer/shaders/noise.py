"""MilkDrop's noise textures, generated from a seed (deterministic, no global random state).

Sizes and smoothness follow MilkDrop 2: noise_lq 256² (raw), noise_lq_lite 32², noise_mq 256²
(cubic-smoothed every 4 texels), noise_hq 256² (every 8), noisevol_lq 32³ (raw), noisevol_hq 32³
(every 4).  Smoothed textures keep a narrower value range (216 of 256) like MilkDrop so the cubic
overshoot stays inside 0..255.
"""
from __future__ import annotations

import numpy as np

NOISE_SPECS: dict[str, tuple[int, int, int]] = {   # name -> (size, zoom, dims)
    "noise_lq": (256, 1, 2), "noise_lq_lite": (32, 1, 2), "noise_mq": (256, 4, 2), "noise_hq": (256, 8, 2),
    "noisevol_lq": (32, 1, 3), "noisevol_hq": (32, 4, 3),
}


def _cubic_upsample(lattice: np.ndarray, zoom: int, axis: int) -> np.ndarray:
    """Periodic cubic interpolation (MilkDrop's 4-point form) of `lattice` by `zoom` along axis."""
    n = lattice.shape[axis]
    y0 = np.roll(lattice, 1, axis)
    y1 = lattice
    y2 = np.roll(lattice, -1, axis)
    y3 = np.roll(lattice, -2, axis)
    a0 = y3 - y2 - y0 + y1
    a1 = y0 - y1 - a0
    a2 = y2 - y0
    parts = []
    for k in range(zoom):
        t = k / zoom
        parts.append(a0 * t ** 3 + a1 * t ** 2 + a2 * t + y1)
    stacked = np.stack(parts, axis=axis + 1)          # (..., n, zoom, ...)
    shape = list(lattice.shape)
    shape[axis] = n * zoom
    return stacked.reshape(shape)


_NOISE_CACHE: dict = {}


def make_noise(name: str, seed: int) -> np.ndarray:
    """uint8 RGBA array (H, W, 4) or (D, H, W, 4) for the named noise texture (cached, read-only)."""
    key = (name, seed)
    hit = _NOISE_CACHE.get(key)
    if hit is None:
        if len(_NOISE_CACHE) > 64:
            _NOISE_CACHE.clear()
        hit = _NOISE_CACHE[key] = _generate_noise(name, seed)
        hit.setflags(write=False)
    return hit


def _generate_noise(name: str, seed: int) -> np.ndarray:
    size, zoom, dims = NOISE_SPECS[name]
    rng = np.random.default_rng([seed & 0xFFFFFFFF, sum(map(ord, name))])
    lattice_n = size // zoom
    rng_range = 216.0 if zoom > 1 else 256.0
    shape = (lattice_n,) * dims + (4,)
    data = rng.random(shape) * rng_range + (128.0 - rng_range / 2)
    data = data / 255.0
    for axis in range(dims):
        if zoom > 1:
            data = _cubic_upsample(data, zoom, axis)
    return np.clip(np.floor(data * 255.0 + 0.5), 0, 255).astype(np.uint8)


def create_noise_textures(ctx, seed: int, names=None) -> dict:
    """moderngl textures (repeat wrap, bilinear) for the requested noise names."""
    import moderngl
    out = {}
    for name in names or NOISE_SPECS:
        arr = make_noise(name, seed)
        size, _, dims = NOISE_SPECS[name]
        if dims == 2:
            tex = ctx.texture((size, size), 4, arr.tobytes())
        else:
            tex = ctx.texture3d((size, size, size), 4, arr.tobytes())
        tex.repeat_x = tex.repeat_y = True
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        out[name] = tex
    return out
