"""The final composite: what the viewer sees, made from the feedback image without changing it.

For presets without a comp shader MilkDrop 2 generates one (GenCompPShaderText; butterchurn's
default comp shader is the same text), in this order:
  video echo  ret = mix(tex(uv), tex(uv_echo), echo_alpha),
              uv_echo = (uv - 0.5) / echo_zoom * (orient_x, orient_y) + 0.5,
              orientation 1 flips x, 2 flips y, 3 both
  gamma       ret *= gammaadj
  fShader     ret *= hue (fShader >= 1) or (1 - fShader) + fShader * hue  (fShader > 0.001)
  brighten    ret = sqrt(ret)
  darken      ret = ret * ret
  solarize    ret = ret * (1 - ret) * 4
  invert      ret = 1 - ret
The hue is a bilinear blend of 4 corner colours that drift with time (MilkDrop's "shade"
table), offset per preset by rand_start. Values are clamped only when written (8-bit output).
"""

from __future__ import annotations

import math

import numpy as np

from renderer.gl_context import PASSTHROUGH_VS, QUAD_VERTICES
from renderer.frame_state import frame_number

_FS = """
#version 330
uniform sampler2D frame_tex;
uniform float echo_zoom;
uniform float echo_alpha;
uniform vec2 echo_orient;
uniform float gamma_adj;
uniform float hue_amount;
uniform vec3 hue[4];      // MilkDrop shade[0..3]
uniform vec4 fx;          // brighten, darken, solarize, invert (0 or 1)
in vec2 v_uv;
out vec4 color;
void main() {
    vec2 uv = v_uv;
    vec2 uv_echo = (uv - 0.5) / echo_zoom * echo_orient + 0.5;
    vec3 ret = mix(texture(frame_tex, uv).rgb, texture(frame_tex, uv_echo).rgb, echo_alpha);
    ret *= gamma_adj;
    if (hue_amount > 0.001) {
        float x = v_uv.x;
        float y = 1.0 - v_uv.y;   // MilkDrop y: 0 at the top
        vec3 h = hue[0] * x * y + hue[1] * (1.0 - x) * y
               + hue[2] * x * (1.0 - y) + hue[3] * (1.0 - x) * (1.0 - y);
        ret *= hue_amount >= 1.0 ? h : (1.0 - hue_amount) + hue_amount * h;
    }
    if (fx.x != 0.0) ret = sqrt(max(ret, 0.0));
    if (fx.y != 0.0) ret = ret * ret;
    if (fx.z != 0.0) ret = ret * (1.0 - ret) * 4.0;
    if (fx.w != 0.0) ret = 1.0 - ret;
    color = vec4(ret, 1.0);
}
"""


_num = frame_number


def hue_corners(time: float, rand_start) -> np.ndarray:
    """MilkDrop's 4 drifting corner colours (4, 3) for the fShader hue effect."""
    out = np.empty((4, 3))
    t = time * 30.0
    for i in range(4):
        out[i, 0] = 0.6 + 0.3 * math.sin(t * 0.0143 + 3 + i * 21 + rand_start[3])
        out[i, 1] = 0.6 + 0.3 * math.sin(t * 0.0107 + 1 + i * 13 + rand_start[1])
        out[i, 2] = 0.6 + 0.3 * math.sin(t * 0.0129 + 6 + i * 9 + rand_start[2])
        out[i] = 0.5 + 0.5 * out[i] / out[i].max()
    return out


def echo_orientation(orient: float) -> tuple[float, float]:
    o = int(orient) % 4 if math.isfinite(orient) else 0
    return (-1.0 if o % 2 == 1 else 1.0, -1.0 if o >= 2 else 1.0)


class Composite:
    """Draws the composite of ``frame_texture`` into the bound framebuffer."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.program = ctx.program(vertex_shader=PASSTHROUGH_VS, fragment_shader=_FS)
        self.quad = ctx.buffer(QUAD_VERTICES.tobytes())
        self.vao = ctx.vertex_array(self.program, [(self.quad, "2f", "in_pos")])
        self.program["frame_tex"].value = 0

    def draw(self, frame_texture, frame_vars: dict, time: float, rand_start) -> None:
        fv = frame_vars
        p = self.program
        zoom = _num(fv, "echo_zoom", 2.0)
        p["echo_zoom"].value = zoom if zoom != 0 else 1e-6
        p["echo_alpha"].value = _num(fv, "echo_alpha", 0.0)
        p["echo_orient"].value = echo_orientation(_num(fv, "echo_orient", 0.0))
        p["gamma_adj"].value = _num(fv, "gammaadj", 2.0)
        amount = _num(fv, "shader", 0.0)
        p["hue_amount"].value = amount
        if amount > 0.001:
            p["hue"].write(hue_corners(time, rand_start).astype("f4").tobytes())
        p["fx"].value = tuple(1.0 if _num(fv, k, 0.0) != 0 else 0.0
                              for k in ("brighten", "darken", "solarize", "invert"))
        # the echo copy samples outside [0, 1] when zoomed out: MilkDrop's sampler_main wraps
        frame_texture.repeat_x = True
        frame_texture.repeat_y = True
        frame_texture.use(0)
        self.ctx.disable(self.ctx.BLEND)
        self.vao.render(self.ctx.TRIANGLE_STRIP)

    def release(self) -> None:
        for obj in (self.vao, self.quad, self.program):
            obj.release()
