"""User textures for `sampler_NAME` and `sampler_randNN[_prefix]`.

MilkDrop looks a texture up by file stem (any image extension) next to the preset and in its
textures folder; random slots pick any image from that pool (the `_prefix` suffix restricts the
pick to file names starting with it).  The pick depends only on the seed and the slot, so renders
are reproducible.  A missing image yields a neutral mid-grey texture and a warning, never an error.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".tga", ".bmp", ".gif", ".webp")
DEFAULT_TEXTURE_DIRS = ("/usr/share/projectM/presets/presets_tryptonaut", "/usr/share/projectM/textures")
_RAND_RE = re.compile(r"rand(\d\d)(?:_(\w+))?", re.IGNORECASE)
MAX_SIDE = 512   # larger images are downscaled: llvmpipe samples big textures slowly


@dataclass(frozen=True)
class TextureWarning:
    sampler: str
    message: str


_POOL_CACHE: dict = {}


def image_pool(dirs) -> dict[str, Path]:
    """lower-case stem -> path, first directory wins (cached per directory list and mtimes)."""
    key = tuple((d, os.path.getmtime(d)) for d in dirs if d and os.path.isdir(d))
    hit = _POOL_CACHE.get(key)
    if hit is None:
        if len(_POOL_CACHE) > 256:
            _POOL_CACHE.clear()
        hit = _POOL_CACHE[key] = _scan_pool(dirs)
    return dict(hit)


def _scan_pool(dirs) -> dict[str, Path]:
    pool: dict[str, Path] = {}
    for d in dirs:
        if not d or not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            p = Path(d) / name
            if p.suffix.lower() in IMAGE_EXTS and p.is_file():
                pool.setdefault(p.stem.lower(), p)
    return pool


def resolve_texture(texture: str, pool: dict[str, Path], seed: int) -> Path | None:
    """Image path for a sampler's texture name (user name or randNN[_prefix])."""
    m = _RAND_RE.fullmatch(texture)
    if m:
        prefix = (m.group(2) or "").lower()
        names = sorted(k for k in pool if k.startswith(prefix)) if prefix else sorted(pool)
        if not names:
            return None
        rng = np.random.default_rng([seed & 0xFFFFFFFF, int(m.group(1)), 7919])
        return pool[names[int(rng.integers(len(names)))]]
    return pool.get(texture.lower())


def load_image_rgba(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGBA")
        if max(im.size) > MAX_SIDE:
            k = MAX_SIDE / max(im.size)
            im = im.resize((max(1, int(im.width * k)), max(1, int(im.height * k))), Image.BILINEAR)
        return np.asarray(im, dtype=np.uint8)


_IMAGE_CACHE: dict[str, np.ndarray] = {}


def load_texture(ctx, texture: str, pool: dict[str, Path], seed: int, sampler: str):
    """(moderngl texture, TextureWarning | None); falls back to a 4x4 mid-grey texture."""
    path = resolve_texture(texture, pool, seed)
    warning = None
    arr = None
    if path is None:
        warning = TextureWarning(sampler, f"texture '{texture}' not found; using a neutral grey texture")
    else:
        key = str(path)
        arr = _IMAGE_CACHE.get(key)
        if arr is None:
            try:
                arr = load_image_rgba(path)
                if len(_IMAGE_CACHE) < 64:
                    _IMAGE_CACHE[key] = arr
            except Exception as e:  # corrupt image: same fallback, with the reason
                warning = TextureWarning(sampler, f"cannot read {path}: {e}; using a neutral grey texture")
    if arr is None:
        arr = np.full((4, 4, 4), 128, dtype=np.uint8)
        arr[..., 3] = 255
    h, w = arr.shape[:2]
    # bottom row first: like the frame textures, an image's top sits at t = 1, and shader
    # lookups flip MilkDrop's y-down uv (uv.y = 0 reads the image's top row, as in D3D)
    tex = ctx.texture((w, h), 4, np.ascontiguousarray(arr[::-1]).tobytes())
    return tex, warning
