"""MilkDrop's built-in waveform (``nWaveMode`` 0..7) and the line-drawing helpers all wave stages share.

The vertex maths follows MilkDrop 2's ``CPlugin::DrawWave`` as butterchurn (basicWaveform.js) and
projectM (Waveforms/*.cpp) reproduce it; where those two disagree we take the MilkDrop 2 source
(480 waveform samples, ``% 8`` so mode 8 draws the circle, D3D's 1.57/6.28 literals, the
``m_nTexSizeX/3`` vertex cap of modes 4, 6 and 7).

Coordinates: on screen ``wave_y`` 1 is the top ("backwards (top==1) in the original milkdrop, so
we keep it that way", says the MilkDrop 2 source, which negates the wave's y and then draws through
a 2D projection whose y runs down), and mode 6's line sits at the top for ``wave_x`` near 1; the
reference pictures (butterchurn) agree. So the vertices go to our clip space, +1 the top row,
as computed. Custom waves and shapes run up the same way; only the warp's per-pixel y runs down.
"""

from __future__ import annotations

import math

import moderngl
import numpy as np
from scipy.signal import lfilter

from renderer.player import MILKDROP2, player_of
from renderer.stages.wave_maths import line_edges, line_mode_strips, momentum, normalized_mystery
from renderer.stages.waveform_butterchurn import butterchurn_wave_vertices

WAVE_SAMPLES = 480
"""MilkDrop's NUM_WAVEFORM_SAMPLES: how many of the 576 analysed samples a frame draws."""
N_MODES = 8
_SMOOTH = np.array([-0.15, 1.15, 1.15, -0.15]) / 2.0  # MilkDrop's SmoothWave kernel, 1/sum folded in

_VERTEX_SHADER = """
#version 330
in vec2 in_pos;
in vec4 in_color;
uniform vec2 u_offset;
out vec4 v_color;
void main() {
    v_color = in_color;
    gl_Position = vec4(in_pos + u_offset, 0.0, 1.0);
}
"""
_FRAGMENT_SHADER = """
#version 330
in vec4 v_color;
out vec4 f_color;
void main() { f_color = v_color; }
"""


# --------------------------------------------------------------------------- shared helpers


def milkdrop_color(values) -> np.ndarray:
    """Colour components as Direct3D stored them: ``(int)(c*255) & 0xFF`` / 255.

    MilkDrop packs custom wave and shape colours with ``D3DCOLOR_RGBA_01``, which wraps instead
    of clamping (1.2 comes out dark, -1 almost black); presets were tuned against that.
    """
    v = np.asarray(values, dtype=np.float64) * 255.0
    v = np.where(np.isfinite(v), v, 0.0)
    v = np.clip(v, -2.0**62, 2.0**62)
    return (np.trunc(v).astype(np.int64) & 0xFF).astype(np.float32) / np.float32(255.0)


def vertex_color(values, player=MILKDROP2) -> np.ndarray:
    """Shape and custom-wave colours as ``player`` hands them to the GPU: Direct3D's wrapped bytes
    (milkdrop_color; MilkDrop 2, the default), or butterchurn's plain floats, which interpolate
    unclamped across a fan and are clamped only when written (renderer.player)."""
    if player.float_colors:
        v = np.asarray(values, dtype=np.float64)
        return np.nan_to_num(v, nan=0.0, posinf=1e6, neginf=-1e6).astype(np.float32)
    return milkdrop_color(values)


def smooth_wave(points: np.ndarray) -> np.ndarray:
    """MilkDrop's SmoothWave: n points -> 2n-1, a cubic-ish midpoint inserted after each point.

    ``points`` is (n, k); every column is smoothed (positions; callers duplicate colours).
    The neighbours are slices, not index arrays (same values, a third of the time).
    """
    n = len(points)
    if n < 2:
        return points.copy()
    cur = points[: n - 1]
    above = points[1:]
    if n > 2:
        below = np.concatenate([points[:1], points[: n - 2]])
        above2 = np.concatenate([points[2:], points[n - 1:]])
    else:
        below, above2 = cur, above
    mid = _SMOOTH[0] * below + _SMOOTH[1] * cur + _SMOOTH[2] * above + _SMOOTH[3] * above2
    out = np.empty((2 * n - 1,) + points.shape[1:], dtype=points.dtype)
    out[0::2] = points
    out[1::2] = mid
    return out


def thick_offsets(width: int, height: int, thick: bool) -> list[tuple[float, float]]:
    """MilkDrop's "thick" lines: the same strip drawn 4 times, shifted by one pixel."""
    if not thick:
        return [(0.0, 0.0)]
    dx, dy = 2.0 / max(width, 1), 2.0 / max(height, 1)
    return [(0.0, 0.0), (dx, 0.0), (0.0, dy), (dx, dy)]


def set_blend(ctx: moderngl.Context, additive: bool) -> None:
    ctx.enable(moderngl.BLEND)
    if additive:
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE
    else:
        ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA


class LineBatch:
    """One program + one growable vertex buffer of (x, y, r, g, b, a) for strips, lines and dots.

    The buffer is orphaned and rewritten each draw instead of reallocated: a new buffer per
    draw costs an allocation and, without an explicit release, leaks (moderngl frees nothing by itself).
    """

    STRIDE = 6 * 4

    def __init__(self, ctx: moderngl.Context, capacity: int = 1024):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self.capacity = 0
        self.vbo = None
        self.vao = None
        self._ensure(capacity)

    def _ensure(self, n: int) -> None:
        if n <= self.capacity:
            return
        cap = max(n, 2 * self.capacity, 64)
        if self.vao is not None:
            self.vao.release()
            self.vbo.release()
        self.vbo = self.ctx.buffer(reserve=cap * self.STRIDE, dynamic=True)
        self.vao = self.ctx.vertex_array(self.program, [(self.vbo, "2f 4f", "in_pos", "in_color")])
        self.capacity = cap

    def upload(self, verts: np.ndarray) -> int:
        """Write (n, 6) vertices; returns n."""
        data = np.ascontiguousarray(verts, dtype=np.float32)
        n = len(data)
        self._ensure(n)
        if n:
            self.vbo.orphan(self.capacity * self.STRIDE)
            self.vbo.write(data)
        return n

    def render(self, mode: int, n: int, first: int = 0, offsets=((0.0, 0.0),), point_size: float = 1.0):
        if n <= 0:
            return
        if mode == moderngl.POINTS:
            self.ctx.point_size = point_size
        for off in offsets:
            self.program["u_offset"].value = off
            self.vao.render(mode, vertices=n, first=first)

    def release(self) -> None:
        for obj in (self.vao, self.vbo, self.program):
            if obj is not None:
                obj.release()
        self.vao = self.vbo = self.program = None


def with_color(xy: np.ndarray, rgba) -> np.ndarray:
    """(n, 2) positions + one colour -> (n, 6) vertices."""
    out = np.empty((len(xy), 6), dtype=np.float32)
    out[:, :2] = xy
    out[:, 2:] = np.asarray(rgba, dtype=np.float32)
    return out


def _var(vars_: dict, name: str, default: float) -> float:
    try:
        v = float(vars_.get(name, default))
    except (TypeError, ValueError):
        return default
    return v if math.isfinite(v) else default


# --------------------------------------------------------------------------- the maths


def scale_and_smooth(samples: np.ndarray, wave_scale: float, smoothing: float) -> np.ndarray:
    """MilkDrop's first pass: ``s[0] = p[0]*k``, ``s[i] = p[i]*k*(1-m) + s[i-1]*m``, k = scale/128."""
    p = np.asarray(samples, dtype=np.float64)
    k = wave_scale / 128.0
    m = smoothing
    if len(p) == 0:
        return p
    out, _ = lfilter([k * (1.0 - m)], [1.0, -m], p, axis=-1, zi=(k * m * p[..., :1]))
    return out


def mode_alpha(mode: int, alpha: float, texsize: int, treb: float, vol: float, mod_by_volume: bool,
               mod_start: float, mod_end: float) -> float:
    """The wave's final alpha: per-mode factors, volume modulation, clamp to [0, 1]."""
    if mode == 1:
        alpha *= 1.25
    elif mode in (2, 5):
        alpha *= 0.09 if texsize < 1024 else (0.11 if texsize < 2048 else 0.13)
    elif mode == 3:
        alpha *= 0.15 if texsize < 1024 else (0.22 if texsize < 2048 else 0.33)
        alpha *= 1.3 * treb * treb
    if mod_by_volume:
        span = mod_end - mod_start
        alpha = alpha * (vol - mod_start) / span if span != 0 else (alpha if vol >= mod_end else 0.0)
    if not math.isfinite(alpha):
        return 0.0
    return min(max(alpha, 0.0), 1.0)


def wave_vertices(mode: int, left: np.ndarray, right: np.ndarray, *, time: float, mystery: float,
                  pos_x: float, pos_y: float, aspect_x: float, aspect_y: float,
                  texsize: int) -> list[np.ndarray]:
    """Clip-space (y up, +1 the top row) vertex lists, one or two (mode 7), for scaled+smoothed samples.

    ``left``/``right`` are the scaled, smoothed 576-sample channels; ``pos_x``/``pos_y`` are
    ``wave_x*2-1`` and ``wave_y*2-1``.
    """
    p = normalized_mystery(mode, mystery)
    L, R = left, right
    if mode == 0:
        n = WAVE_SAMPLES // 2
        off = (WAVE_SAMPLES - n) // 2
        i = np.arange(n)
        rad = 0.5 + 0.4 * R[i + off] + p
        ang = i * (1.0 / (n - 1)) * 6.28 + time * 0.2
        pad = n // 10
        j = np.arange(pad)
        mix = 0.5 - 0.5 * np.cos(j / pad * math.pi)
        rad2 = 0.5 + 0.4 * R[j + n + off] + p
        rad[:pad] = rad2 * (1.0 - mix) + rad[:pad] * mix
        xy = np.stack([rad * np.cos(ang) * aspect_y + pos_x, rad * np.sin(ang) * aspect_x + pos_y], 1)
        xy[-1] = xy[0]  # close the loop
        return [xy]
    if mode == 1:
        n = WAVE_SAMPLES // 2
        i = np.arange(n)
        rad = 0.53 + 0.43 * R[i] + p
        ang = L[i + 32] * 1.57 + time * 2.3
        return [np.stack([rad * np.cos(ang) * aspect_y + pos_x, rad * np.sin(ang) * aspect_x + pos_y], 1)]
    if mode in (2, 3):
        i = np.arange(WAVE_SAMPLES)
        return [np.stack([R[i] * aspect_y + pos_x, L[i + 32] * aspect_x + pos_y], 1)]
    if mode == 4:
        n = min(WAVE_SAMPLES, max(texsize // 3, 2))
        off = (WAVE_SAMPLES - n) // 2
        i = np.arange(n)
        x = 2.0 * i / n + (pos_x - 1.0) + R[i + 25 + off] * 0.44
        y = L[i + off] * 0.47 + pos_y
        w1 = 0.45 + 0.5 * (p * 0.5 + 0.5)
        return [np.stack([momentum(x, w1), momentum(y, w1)], 1)]
    if mode == 5:
        i = np.arange(WAVE_SAMPLES)
        c, s = math.cos(time * 0.3), math.sin(time * 0.3)
        x0 = R[i] * L[i + 32] + L[i] * R[i + 32]
        y0 = R[i] * R[i] - L[i + 32] * L[i + 32]
        return [np.stack([(x0 * c - y0 * s) * aspect_y + pos_x, (x0 * s + y0 * c) * aspect_x + pos_y], 1)]
    if mode in (6, 7):
        n = min(WAVE_SAMPLES // 2, max(texsize // 3, 2))
        off = (WAVE_SAMPLES - n) // 2
        return line_mode_strips(mode, L, R, off, n, line_edges(pos_x, 1.57 * p, n, quarter=1.57), pos_y)
    return []


def wave_color(vars_: dict) -> tuple[float, float, float]:
    """wave_r/g/b clamped to [0, 1]; wave_brighten scales the largest component up to 1."""
    r, g, b = (min(max(_var(vars_, k, 1.0), 0.0), 1.0) for k in ("wave_r", "wave_g", "wave_b"))
    if _var(vars_, "wave_brighten", 0.0) != 0:
        m = max(r, g, b)
        if m > 0.01:
            r, g, b = r / m, g / m, b / m
    return r, g, b


# --------------------------------------------------------------------------- the stage


class WaveformStage:
    """Draws the preset's built-in waveform into the bound framebuffer."""

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.lines = LineBatch(ctx, capacity=2 * (2 * WAVE_SAMPLES - 1))

    def vertices(self, state) -> tuple[list[np.ndarray], tuple[float, float, float, float]] | None:
        """Clip-space (y up = top) smoothed strips and the RGBA colour, or None when nothing draws."""
        v = state.vars
        alpha = _var(v, "wave_a", 0.8)
        bass, mid, treb = (_var(v, k, getattr(state.audio, k, 1.0)) for k in ("bass", "mid", "treb"))
        vol = (bass + mid + treb) / 3.0
        if not (vol > -0.01 and alpha > 0.001):
            return None
        mode_f = _var(v, "wave_mode", 0.0)
        mode = int(mode_f)  # C truncation; a negative mode matches no case and draws nothing
        if mode < 0:
            return None
        mode %= N_MODES
        alpha = mode_alpha(
            mode, alpha, int(state.width), treb, vol, _var(v, "modwavealphabyvolume", 0.0) != 0,
            _var(v, "modwavealphastart", 0.75), _var(v, "modwavealphaend", 0.95),
        )
        if alpha <= 0.0:  # e.g. modulated by a quiet volume: no vertices to build
            return None
        wave = np.asarray(state.audio.waveform, dtype=np.float64)
        scale = _var(v, "wave_scale", 1.0)
        smoothing = _var(v, "wave_smoothing", 0.75)
        left, right = scale_and_smooth(wave, scale, smoothing)  # both channels in one filter call
        vertices_of = butterchurn_wave_vertices if player_of(state).byte_waveform else wave_vertices
        strips = vertices_of(
            mode, left, right,
            time=float(state.time), mystery=_var(v, "wave_mystery", 0.0),
            pos_x=_var(v, "wave_x", 0.5) * 2.0 - 1.0, pos_y=_var(v, "wave_y", 0.5) * 2.0 - 1.0,
            aspect_x=float(getattr(state, "aspect_x", 1.0)), aspect_y=float(getattr(state, "aspect_y", 1.0)),
            texsize=int(state.width),
        )
        return [smooth_wave(xy) for xy in strips], (*wave_color(v), alpha)

    def draw(self, state) -> None:
        built = self.vertices(state)
        if built is None:
            return
        strips, color = built
        if color[3] <= 0.0:
            return
        v = state.vars
        dots = _var(v, "wave_dots", 0.0) != 0
        thick = _var(v, "wave_thick", 0.0) != 0
        set_blend(self.ctx, _var(v, "additivewave", 0.0) != 0)
        offsets = thick_offsets(state.width, state.height, thick or dots)
        mode = moderngl.POINTS if dots else moderngl.LINE_STRIP
        verts = np.concatenate([with_color(s, color) for s in strips])
        self.lines.upload(verts)
        first = 0
        for s in strips:
            self.lines.render(mode, len(s), first=first, offsets=offsets)
            first += len(s)
        self.ctx.disable(moderngl.BLEND)

    def release(self) -> None:
        self.lines.release()
