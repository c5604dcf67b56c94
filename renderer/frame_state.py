"""What every render stage is told about the frame it draws.

The stages (warp, waves, shapes, borders, motion vectors, composite) are independent modules that
share one contract: ``Stage(ctx)``, ``draw(state)``, ``release()``. FrameState is
that ``state``. It also holds the mapping from ``.milk`` keys to the per-frame variable names the
equations use (butterchurn's baseVals names), which the pipeline needs before any code runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from renderer.player import MILKDROP2

#: ``.milk`` base key -> per-frame variable name (MilkDrop's var_pf_* / butterchurn baseVals).
#: Keys not listed here keep their own name (zoom, rot, cx, ob_size, b1n, ...).
MILK_TO_VAR: dict[str, str] = {
    "fDecay": "decay",
    "fGammaAdj": "gammaadj",
    "fVideoEchoZoom": "echo_zoom",
    "fVideoEchoAlpha": "echo_alpha",
    "nVideoEchoOrientation": "echo_orient",
    "nWaveMode": "wave_mode",
    "bAdditiveWaves": "additivewave",
    "bWaveDots": "wave_dots",
    "bWaveThick": "wave_thick",
    "bModWaveAlphaByVolume": "modwavealphabyvolume",
    "bMaximizeWaveColor": "wave_brighten",
    "bTexWrap": "wrap",
    "bDarkenCenter": "darken_center",
    "bRedBlueStereo": "red_blue",
    "bBrighten": "brighten",
    "bDarken": "darken",
    "bSolarize": "solarize",
    "bInvert": "invert",
    "fWaveAlpha": "wave_a",
    "fWaveScale": "wave_scale",
    "fWaveSmoothing": "wave_smoothing",
    "fWaveParam": "wave_mystery",
    "fModWaveAlphaStart": "modwavealphastart",
    "fModWaveAlphaEnd": "modwavealphaend",
    "fWarpAnimSpeed": "warpanimspeed",
    "fWarpScale": "warpscale",
    "fZoomExponent": "zoomexp",
    "fShader": "shader",
    "nMotionVectorsX": "mv_x",
    "nMotionVectorsY": "mv_y",
}

#: Keys that describe the file, not the picture.
_NOT_VARS = {"fRating"}


def base_frame_vars(params: dict[str, Any]) -> dict[str, float]:
    """Per-frame variables as they stand before any per-frame code runs (the preset's values)."""
    out: dict[str, float] = {}
    for key, value in params.items():
        if key in _NOT_VARS:
            continue
        out[MILK_TO_VAR.get(key, key)] = float(value)
    return out


def aspect_factors(width: int, height: int) -> tuple[float, float]:
    """MilkDrop's m_fAspectX/Y: 1 on the long side, short/long on the other (<= 1)."""
    ax = width / height if height > width else 1.0
    ay = height / width if width > height else 1.0
    return float(ax), float(ay)


@dataclass
class FrameState:
    """The frame being drawn. Coordinates: MilkDrop x, y in [0, 1], y = 0 at the top;
    clip space cx = 2x - 1, cy = 1 - 2y. The pipeline flips rows on readback."""

    width: int
    height: int
    frame: int
    time: float
    fps: float
    vars: dict[str, float]  # frame_vars after the per-frame equations
    audio: Any  # renderer.audio.AudioFrame
    equations: Any  # renderer.equations.PresetEquations (or StaticEquations)
    prev_texture: Any  # moderngl.Texture: last frame's feedback image
    aspect_x: float
    aspect_y: float
    player: Any = MILKDROP2  # renderer.player.Player whose picture is reproduced


class StaticEquations:
    """Equations of a preset whose code is ignored: the preset's own values every frame.

    Used when renderer.equations is not available, and by tests that must exercise one stage
    without depending on the EEL compiler. Same interface as PresetEquations.
    """

    def __init__(self, preset, seed: int = 0):
        self.preset = preset
        self.errors: list = []
        self._base = base_frame_vars(preset.params)

    def begin_frame(self, inputs: dict[str, float]) -> dict[str, float]:
        out = dict(self._base)
        out.update(inputs)
        return out

    def per_pixel(self, frame_vars, x, y, rad, ang):
        return None

    def wave_frame(self, k, frame_vars):
        return None

    def wave_points(self, k, wave_vars, sample, value1, value2):
        return {}

    def shape_instances(self, k, frame_vars):
        return []


def frame_number(frame_vars: dict, key: str, default: float) -> float:
    """A frame variable as a finite float: preset code can leave NaN, inf or junk in any of them."""
    try:
        f = float(frame_vars.get(key, default))
    except (TypeError, ValueError):
        return default
    return f if math.isfinite(f) else default
