"""MilkDrop 2's shader environment (its include.fx) as typed names for the translator.

MilkDrop prepends a header of #defines and uniforms to every preset shader: `time` is `_c2.x`,
`q1` is `_qa.x`, `GetBlur1(uv)` rescales the blur texture by blur1_max-blur1_min, and so on.  We
declare only the uniforms a shader uses (fewer uniforms to set per frame, fewer texture units) and
resolve the names in the translator instead of with #defines, so a preset's own local called `q1`
or `time` still works.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .hlsl_types import FLOAT, HType, vec

MAT4x3 = HType("float", 3, 4)   # HLSL float4x3 (4 rows, 3 columns)

# name -> HLSL type of the uniform (float4 packs keep MilkDrop's layout)
UNIFORMS: dict[str, HType] = {
    "time": FLOAT, "fps": FLOAT, "frame": FLOAT, "progress": FLOAT,
    "bass": FLOAT, "mid": FLOAT, "treb": FLOAT, "vol": FLOAT,
    "bass_att": FLOAT, "mid_att": FLOAT, "treb_att": FLOAT, "vol_att": FLOAT,
    "aspect": vec(4), "texsize": vec(4), "rand_frame": vec(4), "rand_preset": vec(4),
    "roam_cos": vec(4), "roam_sin": vec(4), "slow_roam_cos": vec(4), "slow_roam_sin": vec(4),
    "blur1_min": FLOAT, "blur1_max": FLOAT, "blur2_min": FLOAT, "blur2_max": FLOAT,
    "blur3_min": FLOAT, "blur3_max": FLOAT,
    "mip_x": FLOAT, "mip_y": FLOAT, "mip_avg": FLOAT, "mip_xy": vec(2),
    **{f"_q{c}": vec(4) for c in "abcdefgh"},
}
for _grp in ("s", "d", "f", "vf", "uf", "rand"):
    for _i in range(1, 5):
        UNIFORMS[f"rot_{_grp}{_i}"] = MAT4x3

# q1..q32 live in the _qa.._qh packs
Q_ALIASES: dict[str, tuple[str, str]] = {f"q{i + 1}": (f"_q{'abcdefgh'[i // 4]}", "xyzw"[i % 4]) for i in range(32)}

CONSTANTS: dict[str, str] = {
    "M_PI": "3.14159265359", "M_PI_2": "6.28318530718", "M_INV_PI_2": "0.159154943091895",
}

# per-pixel values: plain globals set by main() before the preset's body runs
PIXEL_VARS: dict[str, HType] = {
    "uv": vec(2), "uv_orig": vec(2), "rad": FLOAT, "ang": FLOAT, "ret": vec(3), "hue_shader": vec(3),
}

_SAMPLER_RE = re.compile(r"sampler_(?:(?P<mode>[fFpP][wWcC])_)?(?P<tex>\w+)")
NOISE_TEXTURES = {"noise_lq": 2, "noise_lq_lite": 2, "noise_mq": 2, "noise_hq": 2, "noisevol_lq": 3, "noisevol_hq": 3}


@dataclass(frozen=True)
class SamplerRef:
    """One `sampler_*` uniform: which texture it reads and with which filter/wrap (from its name)."""
    uniform: str          # GLSL uniform name, as spelled in the preset (sampler_fw_main)
    texture: str          # main | blur1..3 | noise_lq.. | rand00[_suffix] | user image name
    filter: str           # 'linear' | 'nearest'
    wrap: str | None      # 'repeat' | 'clamp' | None (sampler_main: the preset's bTexWrap decides)
    dim: int              # 2 or 3

    @property
    def is_user_texture(self) -> bool:
        return self.texture not in ("main", "blur1", "blur2", "blur3") and self.texture not in NOISE_TEXTURES


def sampler_ref(uniform: str, declared_dim: int | None = None) -> SamplerRef | None:
    m = _SAMPLER_RE.fullmatch(uniform)
    if not m:
        return None
    tex = m.group("tex")
    mode = (m.group("mode") or "").lower()
    if tex.lower() == "main":
        tex = "main"
    filt = "nearest" if mode.startswith("p") else "linear"
    wrap = {"w": "repeat", "c": "clamp"}.get(mode[1:2]) if mode else None
    if wrap is None and tex != "main":
        wrap = "repeat"
    dim = NOISE_TEXTURES.get(tex, declared_dim or 2)
    return SamplerRef(uniform, tex, filt, wrap, dim)


def texsize_name(name: str) -> bool:
    return name.startswith("texsize_") and len(name) > 8


# GLSL helpers, emitted only when used.  HLSL's % and fmod truncate toward zero; GLSL mod floors.
HELPERS: dict[str, str] = {
    "_hmod": "\n".join(
        f"{t} _hmod({t} a, {t} b) {{ return a - b * trunc(a / b); }}" for t in ("float", "vec2", "vec3", "vec4")),
}


def main_prologue(stage: str) -> str:
    """Per-pixel setup in main(): MilkDrop's rad/ang definitions differ between warp and comp."""
    if stage == "warp":
        # warp mesh: rad = |(X*aspectx, Y*aspecty)| and ang = atan2 of the same, with (X, Y) the
        # vertex's clip position (Y up), as the per-pixel equations see them; uv_orig is y-down
        return ("    v_uv = _md_mesh_uv(_md_cell_uv, _md_cells, _md_pixels);\n"
                "    v_uv_orig = vec2(gl_FragCoord.x / _md_pixels.x, 1.0 - gl_FragCoord.y / _md_pixels.y);\n"
                "    uv = v_uv; uv_orig = v_uv_orig;\n"
                "    vec2 _p = vec2(uv_orig.x * 2.0 - 1.0, 1.0 - uv_orig.y * 2.0) * aspect.xy;\n"
                "    rad = length(_p); ang = atan(_p.y, _p.x);\n"
                "    hue_shader = vec3(1.0);\n")
    # composite (MilkDrop's UvToMathSpace): uv y-down, rad normalised to 1 at the corners,
    # ang = atan2 of the y-down offset in 0..2pi; hue_shader interpolates 4 corners
    return ("    uv = v_uv; uv_orig = v_uv;\n"
            "    vec2 _p = (uv * 2.0 - 1.0) * aspect.xy;\n"
            "    rad = length(_p) / length(aspect.xy); ang = atan(_p.y, _p.x);\n"
            "    if (ang < 0.0) ang += 6.2831853071796;\n"
            "    hue_shader = mix(mix(_hue_corner[3], _hue_corner[2], uv.x),\n"
            "                     mix(_hue_corner[1], _hue_corner[0], uv.x), uv.y);\n")
