"""MilkDrop's per-vertex warp: the mesh that moves last frame's picture into this one.

The formula is MilkDrop 2's ComputeGridAlphaValues (the same in butterchurn's runPixelEquations
and projectM's PerPixelMesh): for each of the (meshx+1) x (meshy+1) vertices, a texture
coordinate into the previous frame is computed from zoom, zoomexp, rot, warp, cx, cy, dx, dy,
sx, sy (per frame, or per vertex when the preset has per-pixel code), and the GPU interpolates it
across each cell. Doing it per vertex, not per pixel, is part of the look: a per-pixel rotation
would be smoother than MilkDrop's.

Coordinates. Vertex (i, j) sits at clip (X, Y) = (2i/meshx - 1, 2j/meshy - 1), Y up, row j = 0 at
the bottom, as MilkDrop's m_verts. MilkDrop's texture coordinates (u, v) have v = 0 at the top of
the picture; our GL texture has the top at t = 1 (stages draw with cy = 1 - 2y), so the GL
coordinate is (u, 1 - v). The per-pixel variables are MilkDrop's: x = X*0.5*aspectx + 0.5,
y = -Y*0.5*aspecty + 0.5 (0 at the top), rad = |(X*ax, Y*ay)|, ang = atan2(Y*ay, X*ax).
"""

from __future__ import annotations

import math

import numpy as np

from renderer.gl_context import set_wrap

PER_VERTEX_KEYS = ("zoom", "zoomexp", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy")
_DEFAULTS = {"zoom": 1.0, "zoomexp": 1.0, "rot": 0.0, "warp": 0.0, "cx": 0.5, "cy": 0.5,
             "dx": 0.0, "dy": 0.0, "sx": 1.0, "sy": 1.0}

_VS = """
#version 330
in vec2 in_pos;
in vec2 in_uv;
out vec2 v_uv;
void main() {
    v_uv = in_uv;
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
"""

_FS = """
#version 330
uniform sampler2D prev_frame;
uniform float decay;
in vec2 v_uv;
out vec4 color;
void main() {
    color = vec4(texture(prev_frame, v_uv).rgb * decay, 1.0);
}
"""

# The one-pass warp (see WarpMesh). The mesh splits cell (i, j) along the diagonal from vertex
# (i+1, j) to vertex (i, j+1) (MeshGrid._triangles); a pixel below it lies in the triangle
# (i, j), (i+1, j), (i, j+1), one above it in (i+1, j+1), (i, j+1), (i+1, j). Interpolating that
# triangle's vertex uvs at the pixel centre is what rasterising the mesh computes.
_APPLY_VS = """
#version 330
in vec2 in_pos;
void main() { gl_Position = vec4(in_pos, 0.0, 1.0); }
"""

MESH_UV_GLSL = """
// The uv the warp mesh interpolates at this pixel: _md_cell_uv is (meshx+1) x meshy RGBA32F,
// texel (i, j) = the uv of vertices (i, j) and (i, j+1) (pack_cells), so two fetches give a
// cell's four corners.
vec2 _md_mesh_uv(sampler2D cell_uv, vec2 cells, vec2 pixels) {
    vec2 g = gl_FragCoord.xy / pixels * cells;
    vec2 c = clamp(floor(g), vec2(0.0), cells - 1.0);
    vec2 f = g - c;
    ivec2 ij = ivec2(c);
    vec4 left = texelFetch(cell_uv, ij, 0);                 // (i, j), (i, j+1)
    vec4 right = texelFetch(cell_uv, ij + ivec2(1, 0), 0);  // (i+1, j), (i+1, j+1)
    vec2 b = right.xy;
    vec2 d = left.zw;
    // a: the triangle's corner opposite the diagonal; selects, not branches (llvmpipe runs
    // both sides of a branch that splits a pixel block: 15% slower)
    bool lower = f.x + f.y <= 1.0;
    vec2 a = lower ? left.xy : right.zw;
    vec2 w = lower ? f : 1.0 - f.yx;
    return a + w.x * (b - a) + w.y * (d - a);
}
"""

_CELL_FS = """
#version 330
uniform sampler2D prev_frame;
uniform sampler2D cell_uv;
uniform vec2 cells;         // meshx, meshy
uniform vec2 pixels;        // target width, height
uniform float decay;
out vec4 color;
""" + MESH_UV_GLSL + """
void main() {
    color = vec4(texture(prev_frame, _md_mesh_uv(cell_uv, cells, pixels)).rgb * decay, 1.0);
}
"""


def pack_cells(uv: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Per-vertex uv (meshy+1, meshx+1, 2) -> the (meshy, meshx+1, 4) float32 texture data that
    MESH_UV_GLSL reads: each texel holds a vertex and the one above it."""
    rows = np.asarray(uv, dtype=np.float32)
    if out is None:
        out = np.empty((rows.shape[0] - 1, rows.shape[1], 4), dtype=np.float32)
    out[:, :, :2] = rows[:-1]
    out[:, :, 2:] = rows[1:]
    return out


class CellUV:
    """The texture MESH_UV_GLSL reads, for the MilkDrop 1 warp here and the MilkDrop 2 warp
    shader pass (renderer.shaders.passes) alike."""

    def __init__(self, ctx, meshx: int, meshy: int):
        self.texture = ctx.texture((meshx + 1, meshy), 4, dtype="f4")
        self.texture.filter = (ctx.NEAREST, ctx.NEAREST)
        self._data = np.empty((meshy, meshx + 1, 4), dtype=np.float32)

    def write(self, uv: np.ndarray) -> None:
        """Upload per-vertex uv, (meshy+1, meshx+1, 2)."""
        self.texture.write(pack_cells(uv, self._data))

    def use(self, unit: int) -> None:
        self.texture.use(unit)

    def release(self) -> None:
        self.texture.release()


def _finite(value, default: float) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return default
    return f if math.isfinite(f) else default


def texture_wraps(frame_vars: dict) -> bool:
    """Whether the picture repeats past its edges: MilkDrop 2 samples with WRAP when
    ``wrap > 0.5`` (m_fSnapPoint), else CLAMP. The MilkDrop 1 warp sets it, and the MilkDrop 1
    composite (ShowToUser_NoShaders, which sets no address mode of its own) inherits it."""
    return _finite(frame_vars.get("wrap", 1.0), 1.0) > 0.5


def warp_factors(time: float, warpanimspeed: float) -> tuple[float, float, float, float, float]:
    """MilkDrop's 4 slowly varying warp frequencies, and the warp clock they run on."""
    wt = time * warpanimspeed
    return (
        wt,
        11.68 + 4.0 * math.cos(wt * 1.413 + 10),
        8.77 + 3.0 * math.cos(wt * 1.113 + 7),
        10.54 + 3.0 * math.cos(wt * 1.233 + 3),
        11.49 + 4.0 * math.cos(wt * 0.933 + 5),
    )


class MeshGrid:
    """The fixed geometry of the warp mesh and the per-pixel inputs of each vertex."""

    def __init__(self, meshx: int, meshy: int, aspect_x: float, aspect_y: float):
        if meshx < 1 or meshy < 1:
            raise ValueError(f"mesh must be at least 1x1 cells, got {meshx}x{meshy}")
        self.meshx, self.meshy = int(meshx), int(meshy)
        self.aspect_x, self.aspect_y = float(aspect_x), float(aspect_y)
        i = np.arange(meshx + 1, dtype=np.float64)
        j = np.arange(meshy + 1, dtype=np.float64)
        X, Y = np.meshgrid(i / meshx * 2.0 - 1.0, j / meshy * 2.0 - 1.0)  # row j, column i
        self.X = X.ravel()
        self.Y = Y.ravel()
        ax, ay = self.aspect_x, self.aspect_y
        self.rad = np.sqrt((self.X * ax) ** 2 + (self.Y * ay) ** 2)
        ang = np.arctan2(self.Y * ay, self.X * ax)
        if meshx % 2 == 0 and meshy % 2 == 0:
            ang[(meshy // 2) * (meshx + 1) + meshx // 2] = 0.0
        self.ang = ang
        self.px = self.X * 0.5 * ax + 0.5
        self.py = self.Y * -0.5 * ay + 0.5
        # float32 copies for the per-frame maths (measured: 86-120 us a frame against 255-340 us in float64)
        self.X32 = self.X.astype(np.float32)
        self.Y32 = self.Y.astype(np.float32)
        self.rad2m1 = (self.rad * 2.0 - 1.0).astype(np.float32)
        self.positions = np.stack([self.X, self.Y], axis=1).astype("f4")
        self.indices = self._triangles()
        self._zoomexp_key: float | None = None
        self._zoomexp_pow: np.ndarray | None = None

    def _triangles(self) -> np.ndarray:
        w = self.meshx + 1
        i, j = np.meshgrid(np.arange(self.meshx), np.arange(self.meshy))
        a = (j * w + i).ravel()
        tri = np.stack([a, a + 1, a + w, a + 1, a + w + 1, a + w], axis=1)
        return tri.astype("i4").ravel()

    def zoomexp_power(self, zoomexp: np.ndarray) -> np.ndarray:
        """zoomexp ** (2 rad - 1) per vertex; remembered for a scalar zoomexp, which rarely
        changes between frames (a float32 pow over the mesh is a tenth of the warp maths)."""
        if zoomexp.ndim:
            return np.power(zoomexp, self.rad2m1)
        key = zoomexp.item()
        if self._zoomexp_key != key or key != key:  # NaN never matches: recompute
            self._zoomexp_key = key
            self._zoomexp_pow = np.power(zoomexp, self.rad2m1)
        return self._zoomexp_pow

    def pixel_inputs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, rad, ang) arrays for PresetEquations.per_pixel, one value per vertex."""
        return self.px, self.py, self.rad, self.ang


def compute_uv(grid: MeshGrid, values: dict, time: float, warpanimspeed: float,
               warpscale: float) -> np.ndarray:
    """MilkDrop's texture coordinates (u, v; v = 0 at the top) for every vertex, (N, 2) float32.

    ``values`` maps PER_VERTEX_KEYS to scalars or per-vertex arrays.
    """
    f32 = np.float32
    v = {k: np.asarray(values.get(k, _DEFAULTS[k]), dtype=f32) for k in PER_VERTEX_KEYS}
    ax, ay = f32(grid.aspect_x), f32(grid.aspect_y)
    X, Y = grid.X32, grid.Y32
    with np.errstate(all="ignore"):
        zoom2 = np.power(v["zoom"], grid.zoomexp_power(v["zoomexp"]))
        zinv = f32(1.0) / zoom2
        u = X * (ax * f32(0.5)) * zinv + f32(0.5)
        w = Y * (-ay * f32(0.5)) * zinv + f32(0.5)
        cx, cy = v["cx"], v["cy"]
        u = (u - cx) / v["sx"] + cx
        w = (w - cy) / v["sy"] + cy
        warp = v["warp"]
        if np.any(warp != 0):
            wt, f0, f1, f2, f3 = warp_factors(time, warpanimspeed)
            inv = 1.0 / warpscale if warpscale != 0 else math.inf
            a = f32(0.0035) * warp
            u = u + a * np.sin(f32(wt * 0.333) + f32(inv) * (X * f32(f0) - Y * f32(f3)))
            w = w + a * np.cos(f32(wt * 0.375) - f32(inv) * (X * f32(f2) + Y * f32(f1)))
            u = u + a * np.cos(f32(wt * 0.753) - f32(inv) * (X * f32(f1) - Y * f32(f2)))
            w = w + a * np.sin(f32(wt * 0.825) + f32(inv) * (X * f32(f0) + Y * f32(f3)))
        u2, w2 = u - cx, w - cy
        rot = v["rot"]
        c, s = np.cos(rot), np.sin(rot)
        u = u2 * c - w2 * s + cx - v["dx"]
        w = u2 * s + w2 * c + cy - v["dy"]
        u = (u - f32(0.5)) / ax + f32(0.5)
        w = (w - f32(0.5)) / ay + f32(0.5)
    uv = np.empty((grid.X.size, 2), dtype=f32)
    uv[:, 0] = u
    uv[:, 1] = w
    # A zoom of 0 or an overflow gives inf/NaN; GL's result for those is undefined, so pin them
    # to a fixed far-away coordinate (clamp mode: edge colour; wrap: some fixed texel).
    if not np.isfinite(uv).all():
        np.nan_to_num(uv, copy=False, nan=0.0, posinf=4096.0, neginf=-4096.0)
    return uv


class WarpMesh:
    """Draws the previous frame through the warp mesh, times decay, into the bound framebuffer.

    Two ways to draw the same thing. ``size=None``: the mesh itself, 2 x meshx x meshy
    triangles sampling the previous frame (the reference). With the target ``size`` known: one
    full-screen pass that looks up each pixel's mesh triangle in a float texture of the vertex
    uvs and interpolates it there (_CELL_FS). llvmpipe shades every 4x4 block a triangle
    touches, and 3,456 triangles of ~5 pixels each cost more than the 16,384 pixels they cover:
    at 128x128 the mesh pass plus a full-screen apply took ~0.55 ms a frame, the one pass takes
    0.19 ms. The uv it samples at differs from the rasteriser's only in float rounding: one warp
    step differs from the mesh's by at most 2 levels in under 1% of pixels.
    """

    def __init__(self, ctx, mesh: tuple[int, int], aspect_x: float, aspect_y: float,
                 size: tuple[int, int] | None = None):
        from renderer.gl_context import QUAD_VERTICES

        self.ctx = ctx
        self.grid = MeshGrid(mesh[0], mesh[1], aspect_x, aspect_y)
        self.size = size
        self._gl_uv = np.empty_like(self.grid.positions)
        if size is None:
            self.pos_buffer = ctx.buffer(self.grid.positions.tobytes())
            self.uv_buffer = ctx.buffer(reserve=self.grid.positions.nbytes)
            self.index_buffer = ctx.buffer(self.grid.indices.tobytes())
            self.program = ctx.program(vertex_shader=_VS, fragment_shader=_FS)
            self.vao = ctx.vertex_array(self.program, [(self.pos_buffer, "2f", "in_pos"), (self.uv_buffer, "2f", "in_uv")],
                                        index_buffer=self.index_buffer, index_element_size=4)
            self._objects = (self.vao, self.index_buffer, self.uv_buffer, self.pos_buffer, self.program)
        else:
            self.cells = CellUV(ctx, self.grid.meshx, self.grid.meshy)
            self.program = ctx.program(vertex_shader=_APPLY_VS, fragment_shader=_CELL_FS)
            self.program["cell_uv"].value = 1
            self.program["cells"].value = (float(self.grid.meshx), float(self.grid.meshy))
            self.program["pixels"].value = (float(size[0]), float(size[1]))
            self.quad = ctx.buffer(QUAD_VERTICES.tobytes())
            self.vao = ctx.vertex_array(self.program, [(self.quad, "2f", "in_pos")])
            self._objects = (self.vao, self.quad, self.program, self.cells)
        self.program["prev_frame"].value = 0
        self.uv_md: np.ndarray | None = None  # MilkDrop (u, v) of the last frame, for motion vectors
        self._last_key = None
        # _gl_uv not uploaded yet; draw() uploads, so a frame that a warp shader draws instead
        # (from uv_grid()) uploads nothing here
        self._stale = False

    def reset(self) -> None:
        self.uv_md = None
        self._last_key = None
        self._stale = False

    def update(self, frame_vars: dict, time: float, per_pixel: dict | None) -> None:
        """Recompute the texture coordinates (skipped when nothing that moves them changed)."""
        values = {k: _finite(frame_vars.get(k, _DEFAULTS[k]), _DEFAULTS[k]) for k in PER_VERTEX_KEYS}
        speed = _finite(frame_vars.get("warpanimspeed", 1.0), 1.0)
        scale = _finite(frame_vars.get("warpscale", 1.0), 1.0)
        if per_pixel is None:
            key = tuple(values.values()) + ((time * speed, scale) if values["warp"] != 0 else ())
            if key == self._last_key:
                return
            self._last_key = key
        else:
            self._last_key = None
            for k, arr in per_pixel.items():
                if k in values:
                    values[k] = arr
        uv = compute_uv(self.grid, values, time, speed, scale)
        self.uv_md = uv
        gl = self._gl_uv
        gl[:, 0] = uv[:, 0]
        np.subtract(np.float32(1.0), uv[:, 1], out=gl[:, 1])
        self._stale = True

    def uv_grid(self) -> np.ndarray | None:
        """The last MilkDrop (u, v) per vertex as a (meshy+1, meshx+1, 2) grid, row j = clip
        y 2j/meshy - 1: the ``warp_uv`` a warp shader pass interpolates (v = 0 at the top)."""
        if self.uv_md is None:
            return None
        return self.uv_md.reshape(self.grid.meshy + 1, self.grid.meshx + 1, 2)

    def draw(self, prev_texture, frame_vars: dict, target=None) -> None:
        """Warp ``prev_texture`` into ``target`` (a framebuffer; None: the bound one)."""
        decay = min(_finite(frame_vars.get("decay", 0.98), 0.98), 1.0)
        set_wrap(prev_texture, texture_wraps(frame_vars))
        ctx = self.ctx
        ctx.disable(ctx.BLEND)
        if target is not None:
            target.use()
        self.program["decay"].value = decay
        prev_texture.use(0)
        if self.size is None:
            if self._stale:
                self.uv_buffer.write(self._gl_uv)
            self.vao.render(ctx.TRIANGLES)
        else:
            if self._stale:
                self.cells.write(self._gl_uv.reshape(self.grid.meshy + 1, self.grid.meshx + 1, 2))
            self.cells.use(1)
            self.vao.render(ctx.TRIANGLE_STRIP)
        self._stale = False

    def release(self) -> None:
        for obj in self._objects:
            obj.release()
