"""The parameter schema: every key MilkDrop 2 reads from a preset.

Genomes, the preset doctor, the UI and the writer all need one answer to "what values can this key
take": the reader fills defaults from it, mutation steps on the typical range and never leaves the
valid range, and the doctor clamps into it. Defaults are MilkDrop 2's (``state.cpp``); typical
ranges come from the projectm-data census (../shared/census/params.csv) trimmed to where most
presets live, valid ranges are what MilkDrop accepts without clamping or breaking.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

N_WAVES = 4
N_SHAPES = 4


@dataclass(frozen=True)
class ParamSpec:
    key: str
    type: str  # 'float' | 'int' | 'bool' | 'enum'
    default: float
    valid: tuple[float, float]
    typical: tuple[float, float]
    choices: tuple[int, ...] | None = None
    doc: str = ""

    def coerce(self, value: float) -> float | int:
        """The value as MilkDrop would hold it (ints truncated like atoi, bools 0/1)."""
        if self.type == "float":
            return float(value)
        if self.type == "bool":
            return 1 if int(value) != 0 else 0
        return int(value)

    def clamp(self, value: float) -> float | int:
        """Back inside the valid range (the clamp part of the preset doctor)."""
        lo, hi = self.valid
        if isinstance(value, float) and not math.isfinite(value):
            value = self.default
        v = min(max(value, lo), hi)
        if self.type == "enum" and self.choices and int(v) not in self.choices:
            v = self.default
        return self.coerce(v)


def _f(key, default, valid, typical, doc=""):
    return ParamSpec(key, "float", float(default), valid, typical, None, doc)


def _b(key, default, doc=""):
    return ParamSpec(key, "bool", int(default), (0, 1), (0, 1), (0, 1), doc)


def _i(key, default, valid, typical, doc=""):
    return ParamSpec(key, "int", int(default), valid, typical, None, doc)


def _e(key, default, choices, doc=""):
    lo, hi = min(choices), max(choices)
    return ParamSpec(key, "enum", int(default), (lo, hi), (lo, hi), tuple(choices), doc)


_BASE = [
    _f("fRating", 3, (0, 5), (0, 5), "user rating, no effect on the picture"),
    _f("fGammaAdj", 2, (0.1, 8), (1, 3), "composite brightness multiplier"),
    _f("fDecay", 0.98, (0, 1), (0.9, 1), "feedback fade per frame"),
    _f("fVideoEchoZoom", 2, (0.01, 100), (0.9, 2), "zoom of the echo copy"),
    _f("fVideoEchoAlpha", 0, (0, 1), (0, 1), "opacity of the echo copy"),
    _e("nVideoEchoOrientation", 0, (0, 1, 2, 3), "echo flip: none, x, y, both"),
    _e("nWaveMode", 0, (0, 1, 2, 3, 4, 5, 6, 7), "built-in waveform shape"),
    _b("bAdditiveWaves", 0),
    _b("bWaveDots", 0),
    _b("bWaveThick", 0),
    _b("bModWaveAlphaByVolume", 0),
    _b("bMaximizeWaveColor", 1),
    _b("bTexWrap", 1),
    _b("bDarkenCenter", 0),
    _b("bRedBlueStereo", 0),
    _b("bBrighten", 0),
    _b("bDarken", 0),
    _b("bSolarize", 0),
    _b("bInvert", 0),
    _f("fWaveAlpha", 0.8, (0, 100), (0, 1)),
    _f("fWaveScale", 1, (0.001, 200), (0.1, 3)),
    _f("fWaveSmoothing", 0.75, (0, 0.9), (0, 0.9)),
    _f("fWaveParam", 0, (-1, 1), (-1, 1), "wave_mystery"),
    _f("fModWaveAlphaStart", 0.75, (0, 2), (0.5, 1)),
    _f("fModWaveAlphaEnd", 0.95, (0, 2), (0.8, 1.3)),
    _f("fWarpAnimSpeed", 1, (0.01, 100), (0.2, 3)),
    _f("fWarpScale", 1, (0.01, 100), (0.3, 3)),
    _f("fZoomExponent", 1, (0.01, 100), (0.5, 2)),
    _f("fShader", 0, (0, 1), (0, 1), "MD1 hue-shift shader amount"),
    _f("zoom", 1, (0.01, 100), (0.9, 1.1)),
    _f("rot", 0, (-20, 20), (-0.2, 0.2)),
    _f("cx", 0.5, (-1, 2), (0.2, 0.8)),
    _f("cy", 0.5, (-1, 2), (0.2, 0.8)),
    _f("dx", 0, (-1, 1), (-0.02, 0.02)),
    _f("dy", 0, (-1, 1), (-0.02, 0.02)),
    _f("warp", 1, (0, 100), (0, 2)),
    _f("sx", 1, (0.01, 100), (0.9, 1.1)),
    _f("sy", 1, (0.01, 100), (0.9, 1.1)),
    _f("wave_r", 1, (0, 1), (0, 1)),
    _f("wave_g", 1, (0, 1), (0, 1)),
    _f("wave_b", 1, (0, 1), (0, 1)),
    _f("wave_x", 0.5, (0, 1), (0.1, 0.9)),
    _f("wave_y", 0.5, (0, 1), (0.1, 0.9)),
    _f("ob_size", 0.01, (0, 0.5), (0, 0.05)),
    _f("ob_r", 0, (0, 1), (0, 1)),
    _f("ob_g", 0, (0, 1), (0, 1)),
    _f("ob_b", 0, (0, 1), (0, 1)),
    _f("ob_a", 0, (0, 1), (0, 1)),
    _f("ib_size", 0.01, (0, 0.5), (0, 0.05)),
    _f("ib_r", 0.25, (0, 1), (0, 1)),
    _f("ib_g", 0.25, (0, 1), (0, 1)),
    _f("ib_b", 0.25, (0, 1), (0, 1)),
    _f("ib_a", 0, (0, 1), (0, 1)),
    _f("nMotionVectorsX", 12, (0, 64), (0, 64)),
    _f("nMotionVectorsY", 9, (0, 48), (0, 48)),
    _f("mv_dx", 0, (-2, 2), (-0.1, 0.1)),
    _f("mv_dy", 0, (-2, 2), (-0.1, 0.1)),
    _f("mv_l", 0.9, (0, 5), (0, 2)),
    _f("mv_r", 1, (0, 1), (0, 1)),
    _f("mv_g", 1, (0, 1), (0, 1)),
    _f("mv_b", 1, (0, 1), (0, 1)),
    _f("mv_a", 1, (0, 1), (0, 1), "absent from a file: bMotionVectorsOn ? 1 : 0"),
    _f("b1n", 0, (0, 1), (0, 0.5), "blur1 min"),
    _f("b2n", 0, (0, 1), (0, 0.5)),
    _f("b3n", 0, (0, 1), (0, 0.5)),
    _f("b1x", 1, (0, 1), (0.5, 1), "blur1 max"),
    _f("b2x", 1, (0, 1), (0.5, 1)),
    _f("b3x", 1, (0, 1), (0.5, 1)),
    _f("b1ed", 0.25, (0, 1), (0, 1), "blur1 edge darken"),
]

_WAVE = [
    _b("enabled", 0),
    _i("samples", 512, (2, 512), (32, 512)),
    _i("sep", 0, (0, 256), (0, 64)),
    _b("bSpectrum", 0),
    _b("bUseDots", 0),
    _b("bDrawThick", 0),
    _b("bAdditive", 0),
    _f("scaling", 1, (0.01, 100), (0.1, 3)),
    _f("smoothing", 0.5, (0, 1), (0, 1)),
    _f("r", 1, (0, 1), (0, 1)),
    _f("g", 1, (0, 1), (0, 1)),
    _f("b", 1, (0, 1), (0, 1)),
    _f("a", 1, (0, 1), (0, 1)),
]

_SHAPE = [
    _b("enabled", 0),
    _i("sides", 4, (3, 100), (3, 12)),
    _b("additive", 0),
    _b("thickOutline", 0),
    _b("textured", 0),
    _i("num_inst", 1, (1, 1024), (1, 16)),
    _f("x", 0.5, (0, 1), (0, 1)),
    _f("y", 0.5, (0, 1), (0, 1)),
    _f("rad", 0.1, (0.0, 100), (0.01, 1)),
    _f("ang", 0, (0, 6.28319), (0, 6.28319)),
    _f("tex_ang", 0, (0, 6.28319), (0, 6.28319)),
    _f("tex_zoom", 1, (0.01, 100), (0.3, 3)),
    _f("r", 1, (0, 1), (0, 1)),
    _f("g", 0, (0, 1), (0, 1)),
    _f("b", 0, (0, 1), (0, 1)),
    _f("a", 1, (0, 1), (0, 1)),
    _f("r2", 0, (0, 1), (0, 1)),
    _f("g2", 1, (0, 1), (0, 1)),
    _f("b2", 0, (0, 1), (0, 1)),
    _f("a2", 0, (0, 1), (0, 1)),
    _f("border_r", 1, (0, 1), (0, 1)),
    _f("border_g", 1, (0, 1), (0, 1)),
    _f("border_b", 1, (0, 1), (0, 1)),
    _f("border_a", 0.1, (0, 1), (0, 1)),
]

#: Base keys in MilkDrop 2's own writing order.
SCHEMA: dict[str, ParamSpec] = {p.key: p for p in _BASE}
#: Custom wave keys, by the short name after ``wavecode_K_``.
WAVE_SCHEMA: dict[str, ParamSpec] = {p.key: p for p in _WAVE}
#: Custom shape keys, by the short name after ``shapecode_K_``.
SHAPE_SCHEMA: dict[str, ParamSpec] = {p.key: p for p in _SHAPE}

#: Header keys that come before ``[preset00]`` in MilkDrop 2 files.
HEADER_KEYS = ("MILKDROP_PRESET_VERSION", "PSVERSION", "PSVERSION_WARP", "PSVERSION_COMP")

#: Keys real presets carry that MilkDrop 2 ignores (other players' extensions, or legacy ones it
#: converts). They ride along unchanged as unknown keys.
LEGACY_KEYS = ("bMotionVectorsOn",)

_WAVE_KEY = re.compile(r"^wavecode_(\d+)_(\w+)$")
_SHAPE_KEY = re.compile(r"^shapecode_(\d+)_(\w+)$")


def spec_for(full_key: str) -> ParamSpec | None:
    """The spec of any full key (``zoom``, ``wavecode_2_samples``, ``shapecode_0_rad``), or None."""
    if full_key in SCHEMA:
        return SCHEMA[full_key]
    m = _WAVE_KEY.match(full_key)
    if m and int(m.group(1)) < N_WAVES:
        return WAVE_SCHEMA.get(m.group(2))
    m = _SHAPE_KEY.match(full_key)
    if m and int(m.group(1)) < N_SHAPES:
        return SHAPE_SCHEMA.get(m.group(2))
    return None


def all_keys() -> list[str]:
    """Every full key MilkDrop 2 reads, in writing order."""
    keys = list(SCHEMA)
    keys += [f"wavecode_{k}_{s}" for k in range(N_WAVES) for s in WAVE_SCHEMA]
    keys += [f"shapecode_{k}_{s}" for k in range(N_SHAPES) for s in SHAPE_SCHEMA]
    return keys
