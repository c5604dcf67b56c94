"""blur1/2/3: MilkDrop 2's separable blur pyramid, computed each frame from the main image.

Each level halves the size of the one before (blur1 = 1/2, blur2 = 1/4, blur3 = 1/8 of the frame;
at least 16 texels).  A horizontal pass with 4 bilinear taps per side and a vertical pass with 2 use
MilkDrop's 8 weights.  Values are stored rescaled into 0..1 by the preset's b1n/b1x (b2n/b2x,
b3n/b3x relative to the level below) so 8-bit textures keep precision; GetBlurN() undoes it.  The
first level's vertical pass darkens the edges by b1ed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_W = [4.0, 3.8, 3.5, 2.9, 1.9, 1.2, 0.7, 0.3]

VERTEX = """#version 330 core
in vec2 in_pos; out vec2 v_uv;
void main() { v_uv = in_pos * 0.5 + 0.5; gl_Position = vec4(in_pos, 0.0, 1.0); }
"""

H_FRAG = """#version 330 core
in vec2 v_uv; out vec4 fragColor;
uniform sampler2D src; uniform vec4 texsize; uniform float scale; uniform float bias;
uniform vec4 ws; uniform vec4 ds; uniform float wdiv;
void main() {
    vec3 b = vec3(0.0);
    for (int i = 0; i < 4; i++) {
        vec2 o = vec2(ds[i] * texsize.z, 0.0);
        b += (texture(src, v_uv + o).xyz + texture(src, v_uv - o).xyz) * ws[i];
    }
    fragColor = vec4(b * wdiv * scale + bias, 1.0);
}
"""

V_FRAG = """#version 330 core
in vec2 v_uv; out vec4 fragColor;
uniform sampler2D src; uniform vec4 texsize; uniform vec4 wds; uniform float wdiv;
uniform float ed1; uniform float ed2;
void main() {
    vec2 o1 = vec2(0.0, wds.z * texsize.w), o2 = vec2(0.0, wds.w * texsize.w);
    vec3 b = (texture(src, v_uv + o1).xyz + texture(src, v_uv - o1).xyz) * wds.x
           + (texture(src, v_uv + o2).xyz + texture(src, v_uv - o2).xyz) * wds.y;
    b *= wdiv;
    float t = sqrt(max(min(min(v_uv.x, v_uv.y), 1.0 - max(v_uv.x, v_uv.y)), 0.0));
    b *= ed1 + ed2 * clamp(t * 5.0, 0.0, 1.0);
    fragColor = vec4(b, 1.0);
}
"""


@dataclass(frozen=True)
class BlurRange:
    mins: tuple[float, float, float]
    maxs: tuple[float, float, float]


def blur_range(params: dict) -> BlurRange:
    """MilkDrop's safe min/max: each level nested in the one above, at least 0.1 apart."""
    get = lambda k, d: float(params.get(k, d))  # noqa: E731
    mins = [get("b1n", 0.0), get("b2n", 0.0), get("b3n", 0.0)]
    maxs = [get("b1x", 1.0), get("b2x", 1.0), get("b3x", 1.0)]
    for i in range(3):
        if i:
            maxs[i] = min(maxs[i - 1], maxs[i])
            mins[i] = max(mins[i - 1], mins[i])
        if maxs[i] - mins[i] < 0.1:
            avg = (mins[i] + maxs[i]) * 0.5
            mins[i], maxs[i] = avg - 0.05, avg + 0.05
    return BlurRange(tuple(mins), tuple(maxs))


def _scale_bias(r: BlurRange, level: int) -> tuple[float, float]:
    """Level 0 maps [b1n, b1x] to 0..1; level k maps its range expressed in level k-1's units."""
    if level == 0:
        s = 1.0 / (r.maxs[0] - r.mins[0])
        return s, -r.mins[0] * s
    lo, hi = r.mins[level - 1], r.maxs[level - 1]
    t_min = (r.mins[level] - lo) / (hi - lo)
    t_max = (r.maxs[level] - lo) / (hi - lo)
    s = 1.0 / (t_max - t_min)
    return s, -t_min * s


def butterchurn_blur_sizes(width: int, height: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """butterchurn's (horizontal-pass size, final size) per level: fixed ratios of the picture
    (1/2 then 1/4, 1/8, 1/16), x rounded to a multiple of 16, y to one of 4, at least 16."""
    def size(ratio: float) -> tuple[int, int]:
        x = max(width * ratio, 16)
        y = max(height * ratio, 16)
        return int((x + 3) // 16 * 16), int((y + 3) // 4 * 4)

    return [(size(0.5), size(0.25)), (size(0.125), size(0.125)), (size(0.0625), size(0.0625))]


def blur_sizes(width: int, height: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(horizontal-pass size, final size) per level."""
    out = []
    w, h = width, height
    for _ in range(3):
        hw = max(w // 2, 16)
        hh = max(h // 2, 16)
        out.append(((hw, h), (hw, hh)))
        w, h = hw, hh
    return out


class BlurPyramid:
    """Owns the blur textures for one frame size; `update` recomputes levels 1..n."""

    def __init__(self, ctx, size: tuple[int, int], programs, butterchurn: bool = False):
        """``butterchurn``: its sizes, and every pass reads its source through mipmaps (the first
        through the main picture's, which date from when it was last frame's source: blur1 then
        shows the picture two frames back, as in butterchurn; renderer.player)."""
        import moderngl
        self.ctx = ctx
        self.size = size
        self.butterchurn = butterchurn
        self.h_prog = programs.get(VERTEX, H_FRAG)
        self.v_prog = programs.get(VERTEX, V_FRAG)
        quad = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4")
        self.vbo = ctx.buffer(quad.tobytes())
        self.h_vao = ctx.vertex_array(self.h_prog, [(self.vbo, "2f", "in_pos")])
        # the source is read clamped whatever its own wrap mode (projectM's m_blurSampler,
        # MilkDrop's BlurPasses): a wrapping read would bleed one edge into the other
        self.sampler = ctx.sampler(repeat_x=False, repeat_y=False,
                                   filter=(moderngl.LINEAR, moderngl.LINEAR))

        self.v_vao = ctx.vertex_array(self.v_prog, [(self.vbo, "2f", "in_pos")])
        self.levels = []
        for hsize, vsize in (butterchurn_blur_sizes if butterchurn else blur_sizes)(*size):
            ht = ctx.texture(hsize, 4)
            vt = ctx.texture(vsize, 4)
            for t in (ht, vt):
                t.filter = (moderngl.LINEAR, moderngl.LINEAR)
                t.repeat_x = t.repeat_y = False
            self.levels.append((ht, ctx.framebuffer([ht]), vt, ctx.framebuffer([vt])))
        w1h, w2h, w3h, w4h = _W[0] + _W[1], _W[2] + _W[3], _W[4] + _W[5], _W[6] + _W[7]
        self.ws = (w1h, w2h, w3h, w4h)
        self.ds = (2 * _W[1] / w1h, 2 + 2 * _W[3] / w2h, 4 + 2 * _W[5] / w3h, 6 + 2 * _W[7] / w4h)
        self.wdiv_h = 0.5 / sum(self.ws)
        w1v, w2v = sum(_W[:4]), sum(_W[4:])
        self.wds = (w1v, w2v, 2 * (_W[2] + _W[3]) / w1v, 2 + 2 * (_W[6] + _W[7]) / w2v)
        self.wdiv_v = 1.0 / ((w1v + w2v) * 2)

    def texture(self, level: int):
        return self.levels[level - 1][2]

    def update(self, source, n_levels: int, params: dict):
        import moderngl
        prev_fbo = self.ctx.fbo   # restored below: never leave our FBO bound (released ones break moderngl)
        rng = blur_range(params)
        b1ed = float(params.get("b1ed", 0.25))
        src = source
        self.ctx.disable(moderngl.BLEND)
        self.sampler.filter = ((moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR) if self.butterchurn
                               else (moderngl.LINEAR, moderngl.LINEAR))
        self.sampler.use(0)
        for level in range(n_levels):
            ht, hfb, vt, vfb = self.levels[level]
            scale, bias = _scale_bias(rng, level)
            hfb.use()
            src.use(0)
            p = self.h_prog
            p["src"] = 0
            p["texsize"] = (src.width, src.height, 1.0 / src.width, 1.0 / src.height)
            p["scale"], p["bias"] = scale, bias
            p["ws"], p["ds"], p["wdiv"] = self.ws, self.ds, self.wdiv_h
            self.h_vao.render(moderngl.TRIANGLE_STRIP)
            if self.butterchurn:
                self._mipmaps(ht)
            vfb.use()
            ht.use(0)
            q = self.v_prog
            q["src"] = 0
            q["texsize"] = (ht.width, ht.height, 1.0 / ht.width, 1.0 / ht.height)
            q["wds"], q["wdiv"] = self.wds, self.wdiv_v
            ed = b1ed if level == 0 else 0.0
            q["ed1"], q["ed2"] = 1.0 - ed, ed
            self.v_vao.render(moderngl.TRIANGLE_STRIP)
            if self.butterchurn:
                self._mipmaps(vt)
            src = vt
        self.ctx.clear_samplers(0, 1)
        if prev_fbo is not None and not any(prev_fbo in (lv[1], lv[3]) for lv in self.levels):
            try:
                prev_fbo.use()
            except AttributeError:   # the caller's FBO was released meanwhile
                pass
        return rng

    @staticmethod
    def _mipmaps(texture) -> None:
        """Fresh mipmaps for the next pass's (trilinear) read; shaders still sample level 0."""
        import moderngl
        texture.build_mipmaps()
        texture.filter = (moderngl.LINEAR, moderngl.LINEAR)

    def release(self):
        for ht, hfb, vt, vfb in self.levels:
            for o in (hfb, vfb, ht, vt):
                o.release()
        for o in (self.h_vao, self.v_vao, self.vbo, self.sampler):
            o.release()
