"""MilkDrop 2's four custom waves (``wavecode_K``): sampled audio -> per-point code -> strip or dots.

Sample selection and smoothing follow ``DrawCustomWaves`` (as butterchurn's customWaveform.js and
projectM's CustomWaveform.cpp reproduce it): up to 480 waveform samples or 512 spectrum bins,
``sep`` offsets the two channels, a forward then backward one-pole filter with
``sqrt(smoothing*0.98)``, then ``0.004`` (waveform) or ``0.15`` (spectrum) times ``scaling`` times
the preset's base ``fWaveScale``. Per-point code runs once per wave per frame on whole arrays
(``PresetEquations.wave_points``), colours wrap like Direct3D's packed colours. A point's ``y``
runs up the picture (0 the bottom, 1 the top), as MilkDrop's guide says and butterchurn shows.
"""

from __future__ import annotations

import math

import moderngl
import numpy as np
from scipy.signal import lfilter

from renderer.audio.analysis import BYTE_WAVE_SAMPLES
from renderer.player import player_of
from renderer.stages.waveform import LineBatch, set_blend, smooth_wave, thick_offsets, vertex_color

N_WAVES = 4
MAX_WAVE_SAMPLES = 480
MAX_SPECTRUM_SAMPLES = 512

# frame-dict names first, then the .milk short names (what a preset's params use)
_NAMES = {
    "samples": ("samples",),
    "sep": ("sep",),
    "scaling": ("scaling",),
    "smoothing": ("smoothing",),
    "spectrum": ("spectrum", "bSpectrum"),
    "usedots": ("usedots", "bUseDots"),
    "thick": ("thick", "bDrawThick"),
    "additive": ("additive", "bAdditive"),
    "r": ("r",), "g": ("g",), "b": ("b",), "a": ("a",),
}
_DEFAULTS = {"samples": 512, "sep": 0, "scaling": 1.0, "smoothing": 0.5, "spectrum": 0, "usedots": 0,
             "thick": 0, "additive": 0, "r": 1.0, "g": 1.0, "b": 1.0, "a": 1.0}


def _finite(v, default: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return f if math.isfinite(f) else default


def wave_setting(frame: dict, base: dict | None, name: str) -> float:
    """A wave setting from the per-frame result, else the preset's value, else MilkDrop's default."""
    for source in (frame, base or {}):
        for key in _NAMES[name]:
            if key in source:
                return _finite(source[key], _DEFAULTS[name])
    return float(_DEFAULTS[name])


def _two_pass_smooth(x: np.ndarray, mix1: float) -> np.ndarray:
    """Forward then backward ``y[j] = x[j]*(1-m) + y[j-1]*m`` starting from the end samples.

    ``x`` is (n,) or (channels, n): each row is filtered on its own (one filter call for both
    channels is cheaper than two and gives the same numbers)."""
    if x.shape[-1] < 2 or mix1 == 0.0:
        return x.astype(np.float64)
    mix2 = 1.0 - mix1
    fwd, _ = lfilter([mix2], [1.0, -mix1], x, axis=-1, zi=mix1 * x[..., :1])
    rev = fwd[..., ::-1]
    back, _ = lfilter([mix2], [1.0, -mix1], rev, axis=-1, zi=mix1 * rev[..., :1])
    return back[..., ::-1]


def wave_samples(audio, settings: dict, wave_scale: float,
                 max_wave_samples: int = MAX_WAVE_SAMPLES) -> tuple[np.ndarray, np.ndarray] | None:
    """(value1, value2) arrays for one wave, or None when it has too few samples to draw.
    ``max_wave_samples``: 480 in MilkDrop 2, 512 in butterchurn (renderer.player)."""
    spectrum = settings["spectrum"] != 0
    max_samples = MAX_SPECTRUM_SAMPLES if spectrum else max_wave_samples
    sep = int(settings["sep"])
    n = min(int(settings["samples"]), max_samples) - sep
    dots = settings["usedots"] != 0
    if n < 1 or (n < 2 and not dots):
        return None
    data = np.asarray(audio.spectrum if spectrum else audio.waveform, dtype=np.float64)
    if spectrum:
        j0 = j1 = 0
        t = (max_samples - sep) / n
    else:
        j0 = int((max_samples - n) / 2 - sep / 2)
        j1 = int((max_samples - n) / 2 + sep / 2)
        t = 1.0
    last = data.shape[1] - 1
    if t == 1.0 and 0 <= min(j0, j1) and max(j0, j1) + n - 1 <= last:  # whole runs: slices
        both = np.stack([data[0, j0:j0 + n], data[1, j1:j1 + n]])
    else:
        idx = (np.arange(n) * t).astype(np.int64)
        both = np.stack([data[0][np.clip(idx + j0, 0, last)], data[1][np.clip(idx + j1, 0, last)]])
    mix1 = math.sqrt(max(settings["smoothing"], 0.0) * 0.98)
    mult = (0.15 if spectrum else 0.004) * settings["scaling"] * wave_scale
    left, right = _two_pass_smooth(both, mix1) * mult
    return left, right


def base_wave_scale(state) -> float:
    """Custom waves scale by the preset's fWaveScale as loaded, not the per-frame wave_scale."""
    preset = getattr(state.equations, "preset", None)
    params = getattr(preset, "params", None)
    if isinstance(params, dict) and "fWaveScale" in params:
        return _finite(params["fWaveScale"], 1.0)
    return _finite(state.vars.get("wave_scale", 1.0), 1.0)


def _base_params(state, k: int) -> dict | None:
    preset = getattr(state.equations, "preset", None)
    waves = getattr(preset, "waves", None)
    if waves is None or k >= len(waves):
        return None
    return getattr(waves[k], "params", None)


class CustomWaveStage:
    """Draws the preset's enabled custom waves 0..3, in order, into the bound framebuffer."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.lines = LineBatch(ctx, capacity=2 * MAX_SPECTRUM_SAMPLES)

    def build(self, state, k: int):
        """(vertices (n, 6), settings) for wave k, or None when it draws nothing this frame."""
        frame = state.equations.wave_frame(k, state.vars)
        if frame is None:
            return None
        base = _base_params(state, k)
        if base is not None and not base.get("enabled", 1):
            return None
        settings = {name: wave_setting(frame, base, name) for name in _NAMES}
        player = player_of(state)
        values = wave_samples(state.audio, settings, base_wave_scale(state),
                              BYTE_WAVE_SAMPLES if player.byte_waveform else MAX_WAVE_SAMPLES)
        if values is None:
            return None
        v1, v2 = values
        n = len(v1)
        sample = np.arange(n, dtype=np.float64) / (n - 1) if n > 1 else np.zeros(1)
        pts = state.equations.wave_points(k, frame, sample, v1, v2) or {}
        verts = np.empty((n, 6), dtype=np.float32)
        x = _column(pts, "x", 0.5 + v1, n)
        y = _column(pts, "y", 0.5 + v2, n)
        inv_ax = 1.0 / float(getattr(state, "aspect_x", 1.0) or 1.0)
        inv_ay = 1.0 / float(getattr(state, "aspect_y", 1.0) or 1.0)
        verts[:, 0] = _finite_or_pinned((x * 2.0 - 1.0) * inv_ax)
        verts[:, 1] = _finite_or_pinned((y * 2.0 - 1.0) * inv_ay)  # y runs up
        verts[:, 2:] = vertex_color(np.stack([_column(pts, c, settings[c], n) for c in "rgba"], 1), player)
        if settings["usedots"] == 0:
            verts = _smooth_with_colors(verts)
        return verts, settings

    def draw(self, state) -> None:
        for k in range(N_WAVES):
            built = self.build(state, k)
            if built is None:
                continue
            verts, settings = built
            dots = settings["usedots"] != 0
            thick = settings["thick"] != 0
            set_blend(self.ctx, settings["additive"] != 0)
            n = self.lines.upload(verts)
            if dots:
                size = (2.0 if state.width >= 1024 else 1.0) + (1.0 if thick else 0.0)
                self.lines.render(moderngl.POINTS, n, point_size=size)
                self.ctx.point_size = 1.0
            else:
                self.lines.render(moderngl.LINE_STRIP, n, offsets=thick_offsets(state.width, state.height, thick))
        self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        self.lines.release()


def _finite_or_pinned(v: np.ndarray) -> np.ndarray:
    """NaN -> 0 and infinities -> +-1e6 (np.nan_to_num, skipped when all are finite)."""
    if np.isfinite(v).all():
        return v
    return np.nan_to_num(v, nan=0.0, posinf=1e6, neginf=-1e6)


def _column(pts: dict, name: str, default, n: int) -> np.ndarray:
    v = pts.get(name)
    if v is None:
        v = default
    return np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))


def _smooth_with_colors(verts: np.ndarray) -> np.ndarray:
    """SmoothWave on positions; each inserted midpoint takes the colour of the point before it."""
    out = smooth_wave(verts)
    if len(verts) > 1:
        out[1::2, 2:] = verts[:-1, 2:]
    return out
