"""Per-frame values of MilkDrop's shader uniforms, computed from the renderer's frame state.

Everything random (rand_frame, rand_preset, the rot_* matrices, the hue_shader corners) is drawn
from the preset seed and the frame number, so the same seed renders the same frames.
"""
from __future__ import annotations

import math

import numpy as np

from .blur import BlurRange


def aspect_of(width: int, height: int) -> tuple[float, float, float, float]:
    """MilkDrop's m_fAspectX/Y (and inverses): 1 on the long side, short/long on the other, the
    same factors the warp mesh uses (renderer.frame_state.aspect_factors)."""
    ax = width / height if height > width else 1.0
    ay = height / width if width > height else 1.0
    return (ax, ay, 1.0 / ax, 1.0 / ay)


def _roam(t: float, freqs, phases, fn) -> tuple:
    return tuple(0.5 + 0.5 * fn(t * f + p) for f, p in zip(freqs, phases))


def _rotation(ax: float, ay: float, az: float, tr) -> np.ndarray:
    """HLSL float4x3 (rows: 3 rotated axes + translation) as 4x3 numpy array."""
    cx, sx, cy, sy, cz, sz = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay), math.cos(az), math.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, sx], [0, -sx, cx]])
    ry = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
    rz = np.array([[cz, sz, 0], [-sz, cz, 0], [0, 0, 1]])
    m = np.zeros((4, 3))
    m[:3] = rx @ rz @ ry
    m[3] = tr
    return m


def _glsl_mat4x3(m: np.ndarray) -> tuple:
    # GLSL mat4x3 = 4 columns of 3; column i holds HLSL row i (see hlsl_types)
    return tuple(float(v) for v in m.reshape(-1))


class FrameValues:
    """Builds the uniform dict for one frame; one instance per preset (holds the seeded constants)."""

    def __init__(self, seed: int):
        rng = np.random.default_rng([seed & 0xFFFFFFFF, 1013])
        self.seed = seed
        self.rand_preset = tuple(float(v) for v in rng.random(4))
        self.rand_start = tuple(float(v) for v in rng.random(4) * 6.28)
        self.rot_centers = rng.random((20, 3)) * 6.28
        mult = np.array([0.0] * 4 + [0.9 * (k / 8.0) ** 3.2 for k in range(4, 20)])
        self.rot_speeds = (rng.random((20, 3)) * 2 - 1) * mult[:, None]
        self.rot_trans = rng.random((20, 3)) * 2 - 1
        self._rand_cache: tuple | None = None  # (frame, generator, rand_frame)

    def _rand_frame(self, frame: int) -> tuple:
        """(generator, rand_frame) of ``frame``, kept for the frame's second shader pass
        (seeding a generator costs ~60 us, more than the rest of ``values``)."""
        cached = self._rand_cache
        if cached is None or cached[0] != frame:
            rng = np.random.default_rng([self.seed & 0xFFFFFFFF, frame & 0xFFFFFFFF, 17])
            cached = self._rand_cache = (frame, rng, tuple(float(x) for x in rng.random(4)))
        return cached[1], cached[2]

    def hue_corners(self, t: float) -> tuple:
        out = []
        for i in range(4):
            c = [0.6 + 0.3 * math.sin(t * 30.0 * 0.0143 + 3 + i * 21 + self.rand_start[3]),
                 0.6 + 0.3 * math.sin(t * 30.0 * 0.0107 + 1 + i * 13 + self.rand_start[1]),
                 0.6 + 0.3 * math.sin(t * 30.0 * 0.0129 + 6 + i * 9 + self.rand_start[2])]
            m = max(c)
            out.extend(0.5 + 0.5 * v / m for v in c)
        return tuple(out)

    def values(self, state: dict, size: tuple[int, int], blur: BlurRange | None) -> dict:
        w, h = size
        t = float(state.get("time", 0.0))
        frame = int(state.get("frame", 0))
        get = lambda k, d=0.0: float(state.get(k, d))  # noqa: E731
        v = {
            "time": t, "fps": get("fps", 30.0), "frame": float(frame), "progress": get("progress", 0.0),
            "bass": get("bass", 1.0), "mid": get("mid", 1.0), "treb": get("treb", 1.0),
            "bass_att": get("bass_att", 1.0), "mid_att": get("mid_att", 1.0), "treb_att": get("treb_att", 1.0),
            "aspect": aspect_of(w, h), "texsize": (float(w), float(h), 1.0 / w, 1.0 / h),
            "rand_preset": self.rand_preset,
            "roam_cos": _roam(t, (0.329, 1.293, 5.070, 20.051), (1.2, 3.9, 2.5, 5.4), math.cos),
            "roam_sin": _roam(t, (0.329, 1.293, 5.070, 20.051), (1.2, 3.9, 2.5, 5.4), math.sin),
            "slow_roam_cos": _roam(t, (0.005, 0.0085, 0.0133, 0.0217), (2.7, 5.3, 4.5, 3.8), math.cos),
            "slow_roam_sin": _roam(t, (0.005, 0.0085, 0.0133, 0.0217), (2.7, 5.3, 4.5, 3.8), math.sin),
        }
        v["vol"] = (v["bass"] + v["mid"] + v["treb"]) / 3.0
        v["vol_att"] = (v["bass_att"] + v["mid_att"] + v["treb_att"]) / 3.0
        rng, v["rand_frame"] = self._rand_frame(frame)
        mx, my = math.log2(w), math.log2(h)
        v.update(mip_x=mx, mip_y=my, mip_avg=0.5 * (mx + my), mip_xy=(mx, my))
        q = [float(state.get(f"q{i}", 0.0)) for i in range(1, 33)]
        for k in range(8):
            v[f"_q{'abcdefgh'[k]}"] = tuple(q[4 * k:4 * k + 4])
        if blur is not None:
            for i in range(3):
                v[f"blur{i + 1}_min"] = blur.mins[i]
                v[f"blur{i + 1}_max"] = blur.maxs[i]
        v["_hue_corner"] = self.hue_corners(t)
        v["_rand_rot"] = (rng, t)
        return v

    def rot(self, name: str, values: dict) -> tuple:
        """rot_s1..rot_uf4 turn slowly with time (s: static); rot_rand1..4 are new every frame."""
        rng, t = values["_rand_rot"]
        groups = ("s", "d", "f", "vf", "uf")
        grp, idx = name[4:].rstrip("1234"), int(name[-1]) - 1
        if grp == "rand":
            r = np.random.default_rng([self.seed & 0xFFFFFFFF, int(t * 1000) & 0xFFFFFFFF, idx])
            a = r.random(3) * 6.28
            return _glsl_mat4x3(_rotation(*a, r.random(3)))
        k = groups.index(grp) * 4 + idx
        a = self.rot_centers[k] + self.rot_speeds[k] * t
        return _glsl_mat4x3(_rotation(*a, self.rot_trans[k]))
