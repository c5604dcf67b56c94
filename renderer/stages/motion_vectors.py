"""MilkDrop's motion vectors: a grid of short lines showing where each point's picture came from.

As in MilkDrop 2 / butterchurn / projectM: mv_x by mv_y lines (at most 64 x 48; the fraction of
mv_x/mv_y stretches the spacing), shifted by mv_dx/mv_dy, each from its grid point (fx, fy)
towards the warp's source coordinate there, scaled by mv_l and at least one texel long (MilkDrop 2's
minimum); colour mv_r/g/b/a. The source coordinate is the warp mesh's (u, v) interpolated at
(fx, fy) with the row looked up from the mesh's bottom (MilkDrop's m_verts order) and v mirrored,
which is what MilkDrop does; for the usual vertically symmetric motion it is the true source
point. The grid counts from the top of the picture: butterchurn's pictures show MilkDrop's first
row of vectors near the top edge and its dropped last row at the bottom.

butterchurn departs in one place: a vector longer than the minimum keeps its height but gets a
width of one texel (a typo sets dx twice where MilkDrop 2 leaves both alone), so its vectors are
near-vertical dashes. We draw MilkDrop 2's, and butterchurn's for ``--player butterchurn``.
"""

from __future__ import annotations

import math

import numpy as np
from renderer.frame_state import frame_number
from renderer.player import player_of

MAX_X, MAX_Y = 64, 48

_VS = """
#version 330
in vec2 in_pos;
void main() { gl_Position = vec4(in_pos, 0.0, 1.0); }
"""

_FS = """
#version 330
uniform vec4 line_color;
out vec4 color;
void main() { color = line_color; }
"""


_num = frame_number


def grid_axis(count_f: float, shift: float, limit: int) -> np.ndarray:
    """Positions in [0, 1] of one axis of the vector grid (MilkDrop's spacing rule)."""
    n = int(count_f)
    frac = count_f - n
    if n > limit:
        n, frac = limit, 0.0
    frac = min(1.0, max(0.0, frac))
    pos = (np.arange(n, dtype=np.float64) + 0.25) / (n + frac + 0.25 - 1.0) + shift
    return pos[(pos > 0.0001) & (pos < 0.9999)]


class _VectorGrid:
    """Where the vectors start and which mesh cells they read: fixed while mv_x/y/dx/dy stay put
    (they almost always do), so it is cached instead of rebuilt every frame."""

    def __init__(self, fx: np.ndarray, fy: np.ndarray, meshx: int, meshy: int):
        FX, FY = np.meshgrid(fx, fy)
        self.FX, self.FY = FX.ravel(), FY.ravel()
        gx, gy = self.FX * meshx, self.FY * meshy
        x0 = np.clip(np.floor(gx).astype(int), 0, meshx - 1)
        y0 = np.clip(np.floor(gy).astype(int), 0, meshy - 1)
        tx, ty = (gx - x0)[:, None], (gy - y0)[:, None]
        self.tx, self.ty, self.one_tx, self.one_ty = tx, ty, 1 - tx, 1 - ty
        w = meshx + 1
        self.i00 = y0 * w + x0
        self.i01 = self.i00 + 1
        self.i10 = self.i00 + w
        self.i11 = self.i10 + 1


_GRID_CACHE: dict[tuple, _VectorGrid | None] = {}


def _vector_grid(frame_vars: dict, meshx: int, meshy: int) -> _VectorGrid | None:
    nx = _num(frame_vars, "mv_x", 12.0)
    ny = _num(frame_vars, "mv_y", 9.0)
    sx, sy = _num(frame_vars, "mv_dx", 0.0), _num(frame_vars, "mv_dy", 0.0)
    key = (nx, ny, sx, sy, meshx, meshy)
    if key in _GRID_CACHE:
        return _GRID_CACHE[key]
    grid = None
    if nx >= 1 and ny >= 1:
        fx = grid_axis(min(nx, 1e6), sx, MAX_X)
        fy = grid_axis(min(ny, 1e6), -sy, MAX_Y)
        if fx.size and fy.size:
            grid = _VectorGrid(fx, fy, meshx, meshy)
    if len(_GRID_CACHE) > 256:  # presets that animate the grid: keep memory bounded
        _GRID_CACHE.clear()
    _GRID_CACHE[key] = grid
    return grid


def motion_lines(frame_vars: dict, uv_md: np.ndarray, meshx: int, meshy: int,
                 width: int, height: int, butterchurn: bool = False) -> np.ndarray:
    """(n, 2, 2) line endpoints in MilkDrop coordinates (x right, y down, [0, 1]).

    ``butterchurn``: its lengths instead of MilkDrop 2's (renderer.player): every vector not
    stretched to the minimum is one texel wide and keeps its height."""
    g = _vector_grid(frame_vars, meshx, meshy)
    if g is None:
        return np.zeros((0, 2, 2))
    FX, FY = g.FX, g.FY
    uv = uv_md.reshape(-1, 2)
    src = (uv[g.i00].astype(np.float64) * g.one_tx * g.one_ty + uv[g.i01].astype(np.float64) * g.tx * g.one_ty
           + uv[g.i10].astype(np.float64) * g.one_tx * g.ty + uv[g.i11].astype(np.float64) * g.tx * g.ty)
    sx, sy = src[:, 0], 1.0 - src[:, 1]
    length = _num(frame_vars, "mv_l", 0.9)
    dx, dy = (sx - FX) * length, (sy - FY) * length
    dist = np.hypot(dx, dy)
    # MilkDrop 2's minimum: one texel (1 / texture width); a vector with no direction becomes
    # (min, min), a one-texel diagonal
    min_len = 1.0 / width
    if butterchurn:
        stretch = (dist < min_len) & (dist > 1e-8)
        scale = np.where(stretch, min_len / np.where(stretch, dist, 1.0), 1.0)
        dx = np.where(stretch, dx * scale, min_len)
        dy = dy * scale
        short = np.zeros(0, bool)
    else:
        short = dist < min_len
    if short.any():
        tiny = dist <= 1e-6  # float32 noise of a still mesh: no direction to show
        scale = np.where(short & ~tiny, min_len / np.where(tiny, 1.0, dist), 1.0)
        dx, dy = dx * scale, dy * scale
        dx[tiny], dy[tiny] = min_len, min_len
    lines = np.empty((FX.size, 2, 2))
    lines[:, 0, 0], lines[:, 0, 1] = FX, FY
    lines[:, 1, 0], lines[:, 1, 1] = FX + dx, FY + dy
    return lines


class MotionVectors:
    def __init__(self, ctx):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=_VS, fragment_shader=_FS)
        self.buffer = ctx.buffer(reserve=MAX_X * MAX_Y * 2 * 2 * 4)
        self.vao = ctx.vertex_array(self.program, [(self.buffer, "2f", "in_pos")])

    def draw(self, state, uv_md: np.ndarray | None, meshx: int, meshy: int) -> None:
        fv = state.vars
        a = _num(fv, "mv_a", 0.0)
        if a <= 0.001 or uv_md is None:
            return
        lines = motion_lines(fv, uv_md, meshx, meshy, state.width, state.height,
                             butterchurn=player_of(state).motion_vector_widths)
        if len(lines) == 0:
            return
        clip = np.empty((len(lines) * 2, 2), "f4")
        pts = lines.reshape(-1, 2)
        clip[:, 0] = pts[:, 0] * 2.0 - 1.0
        clip[:, 1] = 1.0 - pts[:, 1] * 2.0
        self.buffer.write(clip)
        self.program["line_color"].value = (_num(fv, "mv_r", 1.0), _num(fv, "mv_g", 1.0),
                                            _num(fv, "mv_b", 1.0), a)
        ctx = self.ctx
        ctx.enable(ctx.BLEND)
        ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
        ctx.blend_equation = ctx.FUNC_ADD
        ctx.line_width = 1.0
        self.vao.render(ctx.LINES, vertices=len(clip))

    def release(self) -> None:
        for obj in (self.vao, self.buffer, self.program):
            obj.release()
