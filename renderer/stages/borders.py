"""MilkDrop's sprites drawn into the feedback image: outer/inner borders and the darkened centre.

Both are drawn every frame after the waves (MilkDrop 2 DrawSprites; butterchurn's order:
darken centre, outer border, inner border), so they also feed back: a border with decay < 1
leaves a glowing frame that the zoom pulls inwards.

Borders: ob_size and ib_size are in clip units, so a size s covers s/2 of the picture's width on
each side. The outer border runs from the edge inwards by ob_size; the inner border continues
from there by ib_size. Each is four non-overlapping rectangles (top and bottom bands full
width, side bands between them) so corners are not blended twice.
"""

from __future__ import annotations


import numpy as np
from renderer.frame_state import frame_number

_VS = """
#version 330
in vec2 in_pos;
in vec4 in_color;
out vec4 v_color;
void main() {
    v_color = in_color;
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
"""

_FS = """
#version 330
in vec4 v_color;
out vec4 color;
void main() { color = v_color; }
"""


_num = frame_number


def border_rectangles(size: float, prev_size: float) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) clip-space rectangles of a border ``size`` wide inside ``prev_size``."""
    r_out = 1.0 - prev_size
    r_in = 1.0 - prev_size - size
    return [
        (-r_out, r_in, r_out, r_out),  # top band
        (-r_out, -r_out, r_out, -r_in),  # bottom band
        (-r_out, -r_in, -r_in, r_in),  # left side
        (r_in, -r_in, r_out, r_in),  # right side
    ]


def _rect_triangles(rects) -> list[float]:
    out: list[float] = []
    for x0, y0, x1, y1 in rects:
        out += [x0, y0, x1, y0, x0, y1, x1, y0, x1, y1, x0, y1]
    return out


class _ColoredTriangles:
    """A small reusable vertex buffer of (x, y, r, g, b, a) vertices."""

    def __init__(self, ctx, max_vertices: int):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=_VS, fragment_shader=_FS)
        self.buffer = ctx.buffer(reserve=max_vertices * 6 * 4)
        self.vao = ctx.vertex_array(self.program, [(self.buffer, "2f 4f", "in_pos", "in_color")])
        self.max_vertices = max_vertices

    def draw(self, data: np.ndarray, mode) -> None:
        n = len(data)
        if n == 0:
            return
        self.buffer.write(np.ascontiguousarray(data, dtype="f4"))
        ctx = self.ctx
        ctx.enable(ctx.BLEND)
        ctx.blend_func = ctx.SRC_ALPHA, ctx.ONE_MINUS_SRC_ALPHA
        ctx.blend_equation = ctx.FUNC_ADD
        self.vao.render(mode, vertices=n)

    def release(self) -> None:
        for obj in (self.vao, self.buffer, self.program):
            obj.release()


class Borders:
    """Outer and inner borders (ob_* and ib_* per-frame variables)."""

    def __init__(self, ctx):
        self._tris = _ColoredTriangles(ctx, max_vertices=48)
        self._last: tuple | None = None  # (settings, vertices) of the last frame: borders rarely move

    @staticmethod
    def settings(frame_vars: dict) -> tuple:
        """The values the borders depend on, in a hashable form."""
        return tuple(_num(frame_vars, f"{p}_{k}", d) for p in ("ob", "ib")
                     for k, d in (("size", 0.01), ("a", 0.0), ("r", 0.0), ("g", 0.0), ("b", 0.0)))

    @staticmethod
    def vertices(frame_vars: dict) -> np.ndarray:
        rows = []
        ob_size = _num(frame_vars, "ob_size", 0.01)
        for prefix, prev in (("ob", 0.0), ("ib", ob_size)):
            size = _num(frame_vars, f"{prefix}_size", 0.01)
            a = _num(frame_vars, f"{prefix}_a", 0.0)
            if size <= 0 or a <= 0.001:
                continue
            colour = [_num(frame_vars, f"{prefix}_{c}", 0.0) for c in "rgb"] + [a]
            xy = np.asarray(_rect_triangles(border_rectangles(size, prev)), "f4").reshape(-1, 2)
            rows.append(np.hstack([xy, np.tile(np.asarray(colour, "f4"), (len(xy), 1))]))
        return np.vstack(rows) if rows else np.zeros((0, 6), "f4")

    def draw(self, state) -> None:
        fv = state.vars
        if not (_num(fv, "ob_a", 0.0) > 0.001 or _num(fv, "ib_a", 0.0) > 0.001):
            return  # the usual case: no border this frame, nothing to build
        key = self.settings(fv)
        if self._last is None or self._last[0] != key:
            self._last = (key, self.vertices(fv))
        self._tris.draw(self._last[1], self._tris.ctx.TRIANGLES)

    def release(self) -> None:
        self._tris.release()


class DarkenCenter:
    """bDarkenCenter: a small black diamond, alpha 3/32 at the centre fading to 0 at its tips."""

    HALF_SIZE = 0.05

    def __init__(self, ctx):
        self._tris = _ColoredTriangles(ctx, max_vertices=6)
        self._data: dict[float, np.ndarray] = {}

    def _fan(self, aspect_y: float) -> np.ndarray:
        h = self.HALF_SIZE
        pts = [(0, 0), (-h * aspect_y, 0), (0, -h), (h * aspect_y, 0), (0, h), (-h * aspect_y, 0)]
        data = np.zeros((6, 6), "f4")
        data[:, :2] = pts
        data[0, 5] = 3.0 / 32.0
        return data

    def draw(self, state) -> None:
        if _num(state.vars, "darken_center", 0.0) == 0:
            return
        data = self._data.get(state.aspect_y)
        if data is None:
            data = self._data.setdefault(state.aspect_y, self._fan(state.aspect_y))
        self._tris.draw(data, self._tris.ctx.TRIANGLE_FAN)

    def release(self) -> None:
        self._tris.release()
