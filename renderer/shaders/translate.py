"""HLSL preset shader text -> complete GLSL 330 fragment shader for the warp or composite pass.

The generated program's interface (what passes.py binds):
  warp: uniforms _md_cell_uv (the warp mesh's uv, warp_mesh.pack_cells), _md_cells (meshx,
  meshy), _md_pixels (target size), drawn as one full-screen quad: uv is the mesh's uv
  interpolated at each pixel as rasterising the mesh would, without llvmpipe shading the
  preset's code for every 4x4 block each tiny mesh triangle touches;
  comp: in vec2 v_uv; both: out vec4 fragColor
  uniforms named as in MilkDrop (time, bass, aspect, texsize, _qa.._qh, blur1_min...), only those
  used; `_hue_corner[4]` (comp); one `sampler_*` uniform per distinct sampler name used.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from renderer.stages.warp_mesh import MESH_UV_GLSL

from .glsl_emit import emit
from .hlsl_lexer import ShaderError, preprocess
from .hlsl_parser import parse
from .prelude import PIXEL_VARS, UNIFORMS, SamplerRef, main_prologue

STAGES = ("warp", "comp")
MAX_SHADER_CHARS = 200_000
"""Longest shader translated (the largest in the 4,189-preset corpus is 4,066 characters)."""


@dataclass
class TranslatedShader:
    stage: str
    glsl: str                                   # fragment shader source
    samplers: list[SamplerRef]                  # in texture-unit order
    uses_blur: int                              # highest blur level read (0..3)
    uniforms: set[str] = field(default_factory=set)
    texsizes: set[str] = field(default_factory=set)   # textures whose texsize_<name> is read

    @property
    def user_textures(self) -> list[SamplerRef]:
        return [s for s in self.samplers if s.is_user_texture]


def _uniform_decl(name: str) -> str:
    t = UNIFORMS.get(name)
    return f"uniform {t.glsl() if t else 'vec4'} {name};"


def translate(hlsl: str, stage: str) -> TranslatedShader:
    """Translate one preset shader; raises ShaderError(stage, line, message) on anything unsupported."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
    if not hlsl or not hlsl.strip():
        raise ShaderError(stage, None, "empty shader text")
    if len(hlsl) > MAX_SHADER_CHARS:
        raise ShaderError(stage, None, f"{len(hlsl):,} characters is longer than the {MAX_SHADER_CHARS:,} translated")
    try:
        tokens = preprocess(hlsl, stage)
        tree = parse(tokens, stage)
        res = emit(tree, stage)
    except RecursionError:
        raise ShaderError(stage, None, "expression nested too deeply") from None
    uniforms = set(res.uniforms) | {"aspect"}
    if stage == "warp":  # uv comes from the warp mesh, interpolated per pixel (warp_mesh.py)
        lines = ["#version 330 core", "uniform sampler2D _md_cell_uv;", "uniform vec2 _md_cells;",
                 "uniform vec2 _md_pixels;", "vec2 v_uv;", "vec2 v_uv_orig;", MESH_UV_GLSL]
    else:
        lines = ["#version 330 core", "in vec2 v_uv;"]
    lines.append("out vec4 fragColor;")
    for name in sorted(uniforms):
        lines.append(_uniform_decl(name))
    if stage == "comp":
        lines.append("uniform vec3 _hue_corner[4];")
    samplers = sorted(res.samplers.values(), key=lambda s: s.uniform)
    for s in samplers:
        lines.append(f"uniform sampler{s.dim}D {s.uniform};")
    for name, t in PIXEL_VARS.items():
        lines.append(f"{t.glsl()} {name};")
    lines.append(res.decls)
    lines.append("void _md_init_globals() {\n" + res.init_globals + "\n}")
    lines.append("void _md_body() {\n" + res.body + "}")
    lines.append("void main() {\n" + main_prologue(stage) +
                 "    ret = vec3(0.0);\n    _md_init_globals();\n    _md_body();\n"
                 "    fragColor = vec4(ret, 1.0);\n}\n")
    return TranslatedShader(stage, "\n".join(lines), samplers, res.blur_level, uniforms, res.texsizes)


__all__ = ["translate", "TranslatedShader", "ShaderError", "SamplerRef"]
