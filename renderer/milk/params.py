"""The parameter schema: every key MilkDrop 2 reads from a preset.

Genomes, the preset doctor, the UI and the writer all need one answer to "what values can this key
take": the reader fills defaults from it, mutation steps on the typical range and never leaves the
valid range, and the doctor clamps into it. Defaults are MilkDrop 2's (``state.cpp``); typical
ranges come from a census of Debian's projectm-data (4,188 presets; a copy of its table is
tests/fixtures/census_params.csv) trimmed to where most presets live, valid ranges are what MilkDrop accepts without clamping, wrapping or breaking
(tests/test_params.py lists the few corpus values outside them and what MilkDrop does with them).
The module also knows the order in which MilkDrop looks keys up, which decides repeated keys.
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
    wraps: bool = False  # MilkDrop takes the value modulo len(choices) instead of clamping it

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
        if self.wraps and self.choices:
            return self.coerce(int(value) % len(self.choices))
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


def _e(key, default, choices, doc="", wraps=False):
    lo, hi = min(choices), max(choices)
    return ParamSpec(key, "enum", int(default), (lo, hi), (lo, hi), tuple(choices), doc, wraps)


_BASE = [
    _f("fRating", 3, (0, 5), (0, 5), "user rating, no effect on the picture"),
    _f("fGammaAdj", 2, (0.1, 8), (1, 3), "composite brightness multiplier"),
    _f("fDecay", 0.98, (0, 1), (0.9, 1), "feedback fade per frame"),
    _f("fVideoEchoZoom", 2, (0.01, 100), (0.9, 2), "zoom of the echo copy"),
    _f("fVideoEchoAlpha", 0, (0, 2), (0, 1), "opacity of the echo copy; the shader lerps, so >1 overshoots"),
    _e("nVideoEchoOrientation", 0, (0, 1, 2, 3), "echo flip: none, x, y, both"),
    _e("nWaveMode", 0, (0, 1, 2, 3, 4, 5, 6, 7), "built-in waveform shape; 8 plays as 0", wraps=True),
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
    _f("fWaveScale", 1, (0, 200), (0.01, 3), "0 draws a flat wave"),
    _f("fWaveSmoothing", 0.75, (0, 0.9), (0, 0.9)),
    _f("fWaveParam", 0, (-1, 1), (-1, 1), "wave_mystery"),
    _f("fModWaveAlphaStart", 0.75, (0, 2), (0.5, 1)),
    _f("fModWaveAlphaEnd", 0.95, (0, 2), (0.8, 1.3)),
    _f("fWarpAnimSpeed", 1, (0.01, 100), (0.2, 3)),
    _f("fWarpScale", 1, (0.01, 100), (0.3, 3)),
    _f("fZoomExponent", 1, (0.01, 100), (0.5, 2)),
    _f("fShader", 0, (0, 1), (0, 1), "MD1 hue-shift shader amount; >= 1 acts as 1"),
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
    _i("sides", 4, (3, 100), (3, 12), "MilkDrop clamps to 3..100 when drawing"),
    _b("additive", 0),
    _b("thickOutline", 0),
    _b("textured", 0),
    _i("num_inst", 1, (1, 1024), (1, 16)),
    _f("x", 0.5, (-1, 2), (0, 1), "centre; outside 0..1 is off screen"),
    _f("y", 0.5, (-1, 2), (0, 1), "centre; outside 0..1 is off screen"),
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

#: Legacy keys MilkDrop 2 still reads, only to derive another value: a file without ``mv_a`` gets
#: ``mv_a = bMotionVectorsOn ? 1 : 0``. They ride along unchanged as unknown keys.
LEGACY_KEYS = ("bMotionVectorsOn",)

#: Keys real presets carry that MilkDrop 2 never looks up (other players' extensions: the census
#: finds these 11 in at most 9 files). ``K`` stands for a wave or shape index. Kept verbatim.
IGNORED_KEYS = (
    "nEchoWrap_x",
    "nEchoWrap_y",
    "nWrapMode_x",
    "nWrapMode_y",
    "wavecode_K_bDrawBack",
    "shapecode_K_bDrawBack",
    "shapecode_K_tex_capture",
    "shapecode_K_tex_cx",
    "shapecode_K_tex_cy",
    "shapecode_K_x_wrap_mode",
    "shapecode_K_y_wrap_mode",
)

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


def _md2_read_order() -> tuple[str, ...]:
    general = ("fRating fDecay fGammaAdj fVideoEchoZoom fVideoEchoAlpha nVideoEchoOrientation bRedBlueStereo "
               "bBrighten bDarken bSolarize bInvert fShader b1n b2n b3n b1x b2x b3x b1ed").split()
    wave = ("nWaveMode bAdditiveWaves bWaveDots bWaveThick bModWaveAlphaByVolume bMaximizeWaveColor fWaveAlpha "
            "fWaveScale fWaveSmoothing fWaveParam fModWaveAlphaStart fModWaveAlphaEnd wave_r wave_g wave_b "
            "wave_x wave_y nMotionVectorsX nMotionVectorsY mv_dx mv_dy mv_l mv_r mv_g mv_b bMotionVectorsOn mv_a").split()
    for k in range(N_WAVES):
        wave += [f"wavecode_{k}_{s}" for s in WAVE_SCHEMA]
        wave += [f"wave_{k}_{part}%d" for part in ("init", "per_frame", "per_point")]
    for k in range(N_SHAPES):
        wave += [f"shapecode_{k}_{s}" for s in SHAPE_SCHEMA]
        wave += [f"shape_{k}_{part}%d" for part in ("init", "per_frame")]
    motion = ("zoom rot cx cy dx dy warp sx sy bTexWrap bDarkenCenter fWarpAnimSpeed fWarpScale fZoomExponent "
              "ob_size ob_r ob_g ob_b ob_a ib_size ib_r ib_g ib_b ib_a").split()
    code = ["per_frame_init_%d", "per_frame_%d", "per_pixel_%d", "warp_%d", "comp_%d"]
    return tuple(general + wave + motion + code)


#: The order in which MilkDrop 2 (``CState::Import``) looks keys up, after the header keys; ``%d``
#: marks a code block read as lines 1, 2, ... up to the first missing one. The order matters only
#: for a key a file repeats: MilkDrop's lookup prefers the line right after the one it read last.
MD2_READ_ORDER = _md2_read_order()


def keyed_lines(lines: list[str]) -> list[tuple[str, int, str]]:
    """(key, line number, value) for every line MilkDrop indexes: those with a '=' or a space."""
    out = []
    for lineno, line in enumerate(lines, start=1):
        key, sep, value = line.partition("=")
        if " " in key:
            key, sep, value = line.partition(" ")
        if sep:
            out.append((key, lineno, value))
    return out


def md2_lookup(entries: list[tuple[str, int, str]]) -> dict[str, int]:
    """Line each key resolves to under MilkDrop 2's lookup (``_GetLineByName``): the keyed line right
    after the last one read if it has the key, else the key's first line, in ``CState::Import`` order."""
    first: dict[str, int] = {}
    for i, (key, _, _) in enumerate(entries):
        first.setdefault(key, i)
    pos, chosen = 0, {}

    def get(key: str) -> str | None:
        nonlocal pos
        i = pos if pos < len(entries) and entries[pos][0] == key else first.get(key)
        if i is None:
            return None
        pos = i + 1
        chosen[key] = entries[i][1]
        return entries[i][2]

    m = _LEADING_INT.match(get("MILKDROP_PRESET_VERSION") or "")
    version = int(m.group(1)) if m else 100  # GetFastInt("MILKDROP_PRESET_VERSION", 100)
    header = ("PSVERSION",) if version == 200 else ("PSVERSION_WARP", "PSVERSION_COMP") if version > 200 else ()
    for key in header + MD2_READ_ORDER:
        if key.endswith("%d"):
            n = 1
            while get(key % n) is not None:
                n += 1
        else:
            get(key)
    return chosen


_LEADING_INT = re.compile(r"[ \t]*([+-]?\d{1,9})")
_INDEXED = re.compile(r"^(wavecode|shapecode)_(\d+)_")


def key_status(full_key: str) -> str:
    """How MilkDrop 2 treats a parameter key: 'known' (in the schema), 'header', 'legacy' (read only
    to derive another value), 'ignored' (a known extension it never reads), 'out_of_range' (a fifth
    wave or shape: MilkDrop has four) or 'unknown'. Code-line keys are not parameters: 'unknown'."""
    if spec_for(full_key) is not None:
        return "known"
    if full_key in HEADER_KEYS:
        return "header"
    if full_key in LEGACY_KEYS:
        return "legacy"
    folded = _INDEXED.sub(lambda m: f"{m.group(1)}_K_", full_key)
    if folded in IGNORED_KEYS:
        return "ignored"
    m = _INDEXED.match(full_key)
    if m:
        limit = N_WAVES if m.group(1) == "wavecode" else N_SHAPES
        short = full_key[m.end():]
        schema = WAVE_SCHEMA if m.group(1) == "wavecode" else SHAPE_SCHEMA
        if int(m.group(2)) >= limit and short in schema:
            return "out_of_range"
    return "unknown"
