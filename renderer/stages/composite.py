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

from renderer.frame_state import frame_number
from renderer.gl_context import PASSTHROUGH_VS, QUAD_VERTICES, set_wrap
from renderer.stages.warp_mesh import texture_wraps

# One program per combination of the effects a preset uses (the #if flags), not one program
# that tests them all per pixel: llvmpipe executes every side of a branch, so the all-in-one
# shader cost 259 us a pass at 128x128 where a preset with none of the effects needs 129.
_FS = """
#version 330
uniform sampler2D frame_tex;
uniform float echo_zoom;
uniform float echo_alpha;
uniform vec2 echo_orient;
uniform float gamma_adj;
uniform float hue_amount;
uniform vec3 hue[4];      // MilkDrop shade[0..3]
in vec2 v_uv;
out vec4 color;
void main() {
    vec2 uv = v_uv;
    vec3 ret = texture(frame_tex, uv).rgb;
#if ECHO
    vec2 uv_echo = (uv - 0.5) / echo_zoom * echo_orient + 0.5;
    ret = mix(ret, texture(frame_tex, uv_echo).rgb, echo_alpha);
#endif
    ret *= gamma_adj;
#if HUE
    float x = v_uv.x;
    float y = 1.0 - v_uv.y;   // MilkDrop y: 0 at the top
    vec3 h = hue[0] * x * y + hue[1] * (1.0 - x) * y
           + hue[2] * x * (1.0 - y) + hue[3] * (1.0 - x) * (1.0 - y);
    ret *= hue_amount >= 1.0 ? h : (1.0 - hue_amount) + hue_amount * h;
#endif
#if BRIGHTEN
    ret = sqrt(max(ret, 0.0));
#endif
#if DARKEN
    ret = ret * ret;
#endif
#if SOLARIZE
    ret = ret * (1.0 - ret) * 4.0;
#endif
#if INVERT
    ret = 1.0 - ret;
#endif
    color = vec4(ret, 1.0);
}
"""
_FLAGS = ("ECHO", "HUE", "BRIGHTEN", "DARKEN", "SOLARIZE", "INVERT")


def composite_source(flags: tuple[bool, ...]) -> str:
    """The composite fragment shader with the effects in ``flags`` (in _FLAGS order) compiled in."""
    head, body = _FS.split("\n", 2)[1:]
    defines = "".join(f"#define {name} {int(on)}\n" for name, on in zip(_FLAGS, flags))
    return f"{head}\n{defines}{body}"


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
        self.quad = ctx.buffer(QUAD_VERTICES.tobytes())
        self._variants: dict[tuple[bool, ...], tuple] = {}  # flags -> (program, vao); at most 64

    def _variant(self, flags: tuple[bool, ...]):
        v = self._variants.get(flags)
        if v is None:
            program = self.ctx.program(vertex_shader=PASSTHROUGH_VS, fragment_shader=composite_source(flags))
            program["frame_tex"].value = 0
            v = self._variants[flags] = (program, self.ctx.vertex_array(program, [(self.quad, "2f", "in_pos")]))
        return v

    def draw(self, frame_texture, frame_vars: dict, time: float, rand_start) -> None:
        fv = frame_vars
        echo_alpha = _num(fv, "echo_alpha", 0.0)
        amount = _num(fv, "shader", 0.0)
        flags = (echo_alpha != 0.0, amount > 0.001) + tuple(
            _num(fv, k, 0.0) != 0 for k in ("brighten", "darken", "solarize", "invert"))
        p, vao = self._variant(flags)
        p["gamma_adj"].value = _num(fv, "gammaadj", 2.0)
        if flags[0]:
            zoom = _num(fv, "echo_zoom", 2.0)
            p["echo_zoom"].value = zoom if zoom != 0 else 1e-6
            p["echo_alpha"].value = echo_alpha
            p["echo_orient"].value = echo_orientation(_num(fv, "echo_orient", 0.0))
        if flags[1]:
            p["hue_amount"].value = amount
            p["hue"].write(hue_corners(time, rand_start).astype("f4").tobytes())
        # the echo copy samples outside [0, 1] when zoomed out; MilkDrop 2's fixed-function
        # composite keeps the warp's address mode (butterchurn does the same): a preset with
        # bTexWrap=0 smears its edge pixels into a band there, one with wrap repeats the picture
        set_wrap(frame_texture, texture_wraps(fv))
        frame_texture.use(0)
        self.ctx.disable(self.ctx.BLEND)
        vao.render(self.ctx.TRIANGLE_STRIP)

    def release(self) -> None:
        for program, vao in self._variants.values():
            vao.release()
            program.release()
        self._variants.clear()
        self.quad.release()
