"""MilkDrop 2's four custom shapes (``shapecode_K``): regular polygons, instanced, gradient-filled.

Geometry follows ``DrawCustomShapes`` as butterchurn (customShape.js) and projectM
(CustomShape.cpp) reproduce it: ``sides`` clamped to 3..100, corner k at angle
``k/sides*2pi + ang + pi/4`` and radius ``rad`` (x scaled by the aspect factor), a fan from the
centre colour ``r,g,b,a`` to the edge colour ``r2..a2``; textured shapes sample the previous
frame around its centre with ``tex_zoom``/``tex_ang`` and tint it with those colours; a border
line strip in ``border_*`` (4 one-pixel-shifted copies when ``thickOutline``); ``additive`` picks
the blend. Colours wrap like Direct3D's packed colours (see ``milkdrop_color``; butterchurn's
stay floats, see ``vertex_color``).

Position: ``x`` runs right and ``y`` runs *up* the picture (y = 0.2 sits near the bottom), as in
MilkDrop's authoring guide and in butterchurn's pictures; the per-pixel ``y`` of the warp runs
down. Only the centre moves: the corners keep their angles, so a shape looks the same wherever
it is, and a textured one shows the previous frame upright.

Fans are drawn as triangle lists so consecutive instances without a border share one draw call
(same triangles, same order, so the same pixels as per-instance fans); an instance with a border
is drawn fill-then-border on its own, as MilkDrop does, because later fills may cover it.
"""

from __future__ import annotations

import math

import moderngl
import numpy as np

from renderer.player import MILKDROP2, player_of
from renderer.stages.waveform import set_blend, thick_offsets, vertex_color

N_SHAPES = 4
MAX_SIDES = 100

_FILL_VS = """
#version 330
in vec2 in_pos;
in vec4 in_color;
in vec2 in_uv;
uniform vec2 u_offset;
out vec4 v_color;
out vec2 v_uv;
void main() {
    v_color = in_color;
    v_uv = in_uv;
    gl_Position = vec4(in_pos + u_offset, 0.0, 1.0);
}
"""
_FILL_FS = """
#version 330
uniform sampler2D u_prev;
uniform bool u_textured;
uniform float u_texel_alpha;  // 0: MilkDrop 2 (X8R8G8B8, alpha reads 1); 1: butterchurn (RGBA)
in vec4 v_color;
in vec2 v_uv;
out vec4 f_color;
void main() {
    vec4 t = texture(u_prev, v_uv);
    f_color = u_textured ? vec4(t.rgb, mix(1.0, t.a, u_texel_alpha)) * v_color : v_color;
}
"""
# Untextured fills and every border: llvmpipe samples the texture in _FILL_FS even when
# u_textured is false (the branch is not taken per draw), which made a plain fill ~30% dearer.
_PLAIN_FS = """
#version 330
in vec4 v_color;
out vec4 f_color;
void main() { f_color = v_color; }
"""

# per-instance keys: name in the instance dict, alternative spelling, MilkDrop default
_KEYS = {
    "sides": ("sides", 4.0), "x": ("x", 0.5), "y": ("y", 0.5), "rad": ("rad", 0.1), "ang": ("ang", 0.0),
    "r": ("r", 1.0), "g": ("g", 0.0), "b": ("b", 0.0), "a": ("a", 1.0),
    "r2": ("r2", 0.0), "g2": ("g2", 1.0), "b2": ("b2", 0.0), "a2": ("a2", 0.0),
    "border_r": ("border_r", 1.0), "border_g": ("border_g", 1.0), "border_b": ("border_b", 1.0),
    "border_a": ("border_a", 0.1),
    "additive": ("additive", 0.0), "thickoutline": ("thickOutline", 0.0), "textured": ("textured", 0.0),
    "tex_zoom": ("tex_zoom", 1.0), "tex_ang": ("tex_ang", 0.0),
}
_COLUMNS = tuple(_KEYS)
_COLOUR_COLUMNS = ("r", "g", "b", "a", "r2", "g2", "b2", "a2", "border_r", "border_g", "border_b", "border_a")


_DEFAULT_ROW = np.array([_KEYS[name][1] for name in _COLUMNS], dtype=np.float64)


def instance_table(instances: list[dict], base: dict | None = None) -> dict[str, np.ndarray]:
    """Per-instance values as float64 columns (missing keys: the preset's value, else MilkDrop's).

    Built as one (n, 22) array in a single conversion: a shape is drawn every frame, and 22
    separate column conversions cost more than the drawing for the usual one-instance shape.
    """
    base = base or {}
    fallbacks = []
    for name in _COLUMNS:
        alt, default = _KEYS[name]
        fallbacks.append((name, alt, base.get(alt, base.get(name, default))))
    rows = np.array([_row(inst, fallbacks) for inst in instances], dtype=np.float64)
    rows = rows.reshape(len(instances), len(_COLUMNS))
    if not np.isfinite(rows).all():
        rows = np.where(np.isfinite(rows), rows, _DEFAULT_ROW)
    return {name: rows[:, i] for i, name in enumerate(_COLUMNS)}


def column_table(count: int, columns: dict) -> dict[str, np.ndarray]:
    """``instance_table`` from ``PresetEquations.shape_columns`` (each value a list of ``count``
    floats or one float for all): the same table without a dict per instance."""
    rows = np.empty((count, len(_COLUMNS)), dtype=np.float64)
    for i, name in enumerate(_COLUMNS):
        rows[:, i] = columns[name]
    if not np.isfinite(rows).all():
        rows = np.where(np.isfinite(rows), rows, _DEFAULT_ROW)
    return {name: rows[:, i] for i, name in enumerate(_COLUMNS)}


def _row(inst: dict, fallbacks) -> list:
    get = inst.get
    return [get(name, fb) if alt == name else get(name, get(alt, fb)) for name, alt, fb in fallbacks]


class _Corners:
    """Index bookkeeping of a list of polygons with given side counts (depends on nothing else,
    so it is cached: side counts rarely change from frame to frame)."""

    def __init__(self, sides: np.ndarray):
        n = len(sides)
        self.inst = inst = np.repeat(np.arange(n), sides + 1)  # corners 0..sides of each instance
        self.starts = starts = np.concatenate([[0], np.cumsum(sides + 1)[:-1]])
        k = np.arange(len(inst)) - starts[inst]
        self.frac_2pi = (k / sides[inst]) * (2.0 * math.pi)
        last = k == sides[inst]  # the closing corner repeats corner 0 exactly
        self.last = np.flatnonzero(last)
        self.first_of_last = starts[inst[last]]
        self.corner = corner = np.flatnonzero(~last)  # index of corner j; corner j+1 is the next row
        self.next_corner = corner + 1
        self.tri_inst = inst[corner]
        self.fill_counts = 3 * sides
        self.border_counts = sides + 1


_CORNER_CACHE: dict[bytes, _Corners] = {}


def _corners(sides: np.ndarray) -> _Corners:
    key = sides.tobytes()
    c = _CORNER_CACHE.get(key)
    if c is None:
        if len(_CORNER_CACHE) > 64:
            _CORNER_CACHE.clear()
        c = _CORNER_CACHE[key] = _Corners(sides)
    return c


def shape_geometry(t: dict[str, np.ndarray], aspect_y: float = 1.0, uv: bool = True, player=MILKDROP2):
    """Triangle-list fill vertices (x, y, r, g, b, a, u, v), per-instance fill counts, border strips.

    Returns ``fill`` (sum(3*sides), 8) float32, ``fill_counts`` (n,), ``border`` (sum(sides+1), 6)
    float32, ``border_counts`` (n,). ``uv=False`` leaves the texture coordinates 0 (for shapes
    with no textured instance, whose draw never reads them).

    Corners are computed once as rows and cast to float32 once (the same values as casting
    each column into the triangles), then gathered with np.take.
    """
    sides = np.clip(np.trunc(np.clip(t["sides"], -1e9, 1e9)), 3, MAX_SIDES).astype(np.int64)
    c = _corners(sides)
    inst = c.inst
    ang = c.frac_2pi + t["ang"][inst] + math.pi * 0.25
    x_clip = t["x"] * 2.0 - 1.0
    y_clip = t["y"] * 2.0 - 1.0  # y runs up the picture (see the module docstring)
    rad = t["rad"][inst]
    cos_a, sin_a = np.cos(ang), np.sin(ang)
    colours = vertex_color(np.stack([t[col] for col in _COLOUR_COLUMNS], 1), player)

    corner = np.empty((len(inst), 8))  # x, y, edge colour, u, v of every corner
    corner[:, 0] = x_clip[inst] + rad * cos_a * aspect_y
    corner[:, 1] = y_clip[inst] - rad * sin_a  # corners turn clockwise on screen (module docstring)
    inst_colours = np.take(colours, inst, axis=0)
    corner[:, 2:6] = inst_colours[:, 4:8]
    if uv:
        if np.array_equal(t["tex_ang"], t["ang"]):  # the same angles: the same cos and sin
            cos_t, sin_t = cos_a, sin_a
        else:
            tex_ang = c.frac_2pi + t["tex_ang"][inst] + math.pi * 0.25
            cos_t, sin_t = np.cos(tex_ang), np.sin(tex_ang)
        zoom = t["tex_zoom"]
        zoom = np.where(zoom == 0, 1e-6, zoom)[inst]
        corner[:, 6] = 0.5 + 0.5 * cos_t / zoom * aspect_y
        corner[:, 7] = 0.5 - 0.5 * sin_t / zoom
    else:
        corner[:, 6:] = 0.0
    corner[c.last] = np.take(corner, c.first_of_last, axis=0)  # the closing corner repeats corner 0 exactly
    corner = corner.astype(np.float32)

    centre = np.empty((len(sides), 8), dtype=np.float32)
    centre[:, 0] = x_clip
    centre[:, 1] = y_clip
    centre[:, 2:6] = colours[:, 0:4]
    centre[:, 6:8] = 0.5
    # triangles (centre, corner j, corner j+1) for j < sides; np.take: a tenth of the time of
    # indexing rows with an array
    fill = np.empty((len(c.tri_inst), 3, 8), dtype=np.float32)
    fill[:, 0] = np.take(centre, c.tri_inst, axis=0)
    fill[:, 1] = np.take(corner, c.corner, axis=0)
    fill[:, 2] = np.take(corner, c.next_corner, axis=0)
    fill = fill.reshape(-1, 8)
    border = np.empty((len(inst), 6), dtype=np.float32)
    border[:, :2] = corner[:, :2]
    border[:, 2:] = inst_colours[:, 8:12]
    if not np.isfinite(fill).all():
        fill = np.nan_to_num(fill, nan=0.0, posinf=1e6, neginf=-1e6)
    if not np.isfinite(border).all():
        border = np.nan_to_num(border, nan=0.0, posinf=1e6, neginf=-1e6)
    return fill, c.fill_counts, border, c.border_counts


class CustomShapeStage:
    """Draws the preset's enabled custom shapes 0..3 (all their instances) into the bound framebuffer.

    Fills and borders share one program, one vertex buffer (border vertices after the fills,
    uv unused) and one upload per shape: on llvmpipe, switching program or vertex array between
    an instance's fill and its border cost ~30 us a switch, ten times the draws themselves.
    Uniforms and blend state are set only when they change.
    """

    STRIDE = 8 * 4

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=_FILL_VS, fragment_shader=_FILL_FS)
        self.program["u_prev"].value = 0
        self.plain_program = ctx.program(vertex_shader=_FILL_VS, fragment_shader=_PLAIN_FS)
        self._u_textured = self.program["u_textured"]
        self._offsets = (self.program["u_offset"], self.plain_program["u_offset"])
        self.capacity = 0
        self.vbo = None
        self.vao = None
        self.plain_vao = None
        self._ensure(4 * (3 * MAX_SIDES + MAX_SIDES + 1))
        self._texel_alpha = 0.0
        self.program["u_texel_alpha"].value = 0.0
        self.samplers = {
            wrap: ctx.sampler(repeat_x=wrap, repeat_y=wrap, filter=(moderngl.LINEAR, moderngl.LINEAR))
            for wrap in (False, True)
        }

    def _set_player(self, player, sampler) -> None:
        """Texel alpha and mipmapped sampling for butterchurn (renderer.player); set on change only."""
        alpha = 1.0 if player.feedback_alpha else 0.0
        if self._texel_alpha != alpha:
            self._texel_alpha = alpha
            self.program["u_texel_alpha"].value = alpha
        filt = ((moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR) if player.mipmapped_feedback
                else (moderngl.LINEAR, moderngl.LINEAR))
        if sampler.filter != filt:
            sampler.filter = filt

    def _ensure(self, n: int) -> None:
        if n <= self.capacity:
            return
        cap = max(n, 2 * self.capacity)
        if self.vao is not None:
            self.vao.release()
            self.plain_vao.release()
            self.vbo.release()
        self.vbo = self.ctx.buffer(reserve=cap * self.STRIDE, dynamic=True)
        self.vao = self.ctx.vertex_array(
            self.program, [(self.vbo, "2f 4f 2f", "in_pos", "in_color", "in_uv")]
        )
        self.plain_vao = self.ctx.vertex_array(
            self.plain_program, [(self.vbo, "2f 4f 8x", "in_pos", "in_color")]
        )
        self.capacity = cap

    def draw(self, state) -> None:
        drew = False
        columns = getattr(state.equations, "shape_columns", None)
        for k in range(N_SHAPES):
            if columns is not None:
                got = columns(k, state.vars)
                if got is None:
                    continue
                table = column_table(*got)
            else:
                instances = state.equations.shape_instances(k, state.vars)
                if not instances:
                    continue
                table = instance_table(instances, _base_params(state, k))
            self.draw_table(state, table)
            drew = True
        if drew:
            self.ctx.disable(moderngl.BLEND)

    def draw_instances(self, state, instances: list[dict], base: dict | None = None) -> None:
        self.draw_table(state, instance_table(instances, base))

    def draw_table(self, state, t: dict[str, np.ndarray]) -> None:
        """Draw the instances of one shape (``instance_table``'s columns), in order."""
        textured = (np.abs(t["textured"]) >= 1).tolist()
        player = player_of(state)
        fill, fill_counts, border, border_counts = shape_geometry(
            t, float(getattr(state, "aspect_y", 1.0)), uv=any(textured), player=player)
        has_border = vertex_color(t["border_a"], player) > 0.0
        n_fill = len(fill)
        verts = fill
        if has_border.any():
            verts = np.empty((n_fill + len(border), 8), dtype=np.float32)
            verts[:n_fill] = fill
            verts[n_fill:, :6] = border
            verts[n_fill:, 6:] = 0.0
        self._ensure(len(verts))
        self.vbo.orphan(self.capacity * self.STRIDE)
        self.vbo.write(verts)
        additive = (np.abs(t["additive"]) >= 1).tolist()
        thick = (np.abs(t["thickoutline"]) >= 1).tolist()
        fill_end = np.cumsum(fill_counts).tolist()
        fill_first = [0] + fill_end[:-1]
        border_end = np.cumsum(border_counts).tolist()
        border_counts = border_counts.tolist()
        has_border = has_border.tolist()
        sampler = None
        if any(textured):
            prev = getattr(state, "prev_texture", None)
            if prev is not None:
                sampler = self.samplers[bool(float(state.vars.get("wrap", 1.0) or 0.0))]
                self._set_player(player, sampler)
                prev.use(0)
                sampler.use(0)
        ctx, u_textured = self.ctx, self._u_textured
        cur_additive = None
        on_textured = None  # True: textured program, u_textured on; False: plain; None: not known
        for u_offset in self._offsets:
            u_offset.value = (0.0, 0.0)
        i, n = 0, len(fill_counts)
        while i < n:
            j = i + 1  # extend the run while flags match and no border needs interleaving
            while (j < n and not has_border[j - 1] and textured[j] == textured[i]
                   and additive[j] == additive[i]):
                j += 1
            if additive[i] != cur_additive:
                cur_additive = additive[i]
                set_blend(ctx, cur_additive)
            if textured[i] and sampler is not None:
                if on_textured is not True:
                    u_textured.value = True
                    on_textured = True
                vao = self.vao
            else:
                on_textured = False
                vao = self.plain_vao
            vao.render(moderngl.TRIANGLES, vertices=fill_end[j - 1] - fill_first[i], first=fill_first[i])
            last = j - 1
            if has_border[last]:
                # a border right after a textured fill stays on that program, untextured
                # (a program switch costs more than the uniform)
                if on_textured:
                    u_textured.value = False
                    on_textured = None  # textured program, untextured: the next textured fill resets it
                u_offset = self._offsets[0 if vao is self.vao else 1]
                count = border_counts[last]
                first = n_fill + border_end[last] - count
                offsets = thick_offsets(state.width, state.height, thick[last])
                for off in offsets:
                    if off != (0.0, 0.0):
                        u_offset.value = off
                    vao.render(moderngl.LINE_STRIP, vertices=count, first=first)
                if len(offsets) > 1:
                    u_offset.value = (0.0, 0.0)
            i = j
        if sampler is not None:
            sampler.clear(0)

    def release(self) -> None:
        for obj in (self.vao, self.plain_vao, self.vbo, self.program, self.plain_program,
                    *self.samplers.values()):
            if obj is not None:
                obj.release()
        self.vao = self.plain_vao = self.vbo = self.program = self.plain_program = None
        self.samplers = {}


def _base_params(state, k: int) -> dict | None:
    preset = getattr(state.equations, "preset", None)
    shapes = getattr(preset, "shapes", None)
    if shapes is None or k >= len(shapes):
        return None
    return getattr(shapes[k], "params", None)
