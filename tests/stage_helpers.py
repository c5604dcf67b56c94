"""Test scaffolding shared by the wave and shape stage tests: an offscreen target and a FrameState."""

from __future__ import annotations

import numpy as np

from renderer.audio import AudioFrame
from renderer.frame_state import FrameState
from renderer.gl_context import get_context


class Target:
    """An RGBA8 framebuffer we draw into and read back with row 0 = top (MilkDrop y = 0)."""

    def __init__(self, width: int = 128, height: int = 128):
        self.ctx = get_context()
        self.width, self.height = width, height
        self.tex = self.ctx.texture((width, height), 4, dtype="f1")
        self.fbo = self.ctx.framebuffer(color_attachments=[self.tex])

    def clear(self, rgba=(0.0, 0.0, 0.0, 1.0)) -> None:
        self.fbo.use()
        self.fbo.clear(*rgba)

    def read(self) -> np.ndarray:
        data = np.frombuffer(self.fbo.read(components=4), dtype=np.uint8)
        return data.reshape(self.height, self.width, 4)[::-1, :, :3].copy()

    def release(self) -> None:
        self.fbo.release()
        self.tex.release()


def audio_frame(left=0.0, right=None, spectrum=0.0, bass=1.0, mid=1.0, treb=1.0) -> AudioFrame:
    """A frame whose waveform is the given arrays/constants (MilkDrop units, +-128 full scale)."""
    right = left if right is None else right
    wave = np.zeros((2, 576), dtype=np.float32)
    wave[0] = left
    wave[1] = right
    spec = np.zeros((2, 512), dtype=np.float32)
    spec[:] = spectrum
    return AudioFrame(frame=1, time=1 / 60, bass=bass, mid=mid, treb=treb, bass_att=bass, mid_att=mid,
                      treb_att=treb, waveform=wave, spectrum=spec)


def frame_state(target: Target, vars_: dict, equations, audio=None, prev_texture=None, time=0.0):
    return FrameState(width=target.width, height=target.height, frame=1, time=time, fps=60.0,
                      vars=dict(vars_), audio=audio or audio_frame(), equations=equations,
                      prev_texture=prev_texture, aspect_x=1.0, aspect_y=1.0)


class FakeEquations:
    """Stands in for PresetEquations: fixed per-frame results, per-point code as a Python callable."""

    def __init__(self, shapes=None, waves=None, points=None):
        self.shapes = shapes or {}  # k -> list of instance dicts
        self.waves = waves or {}  # k -> wave frame dict
        self.points = points or {}  # k -> f(sample, value1, value2) -> dict of arrays

    def shape_instances(self, k, frame_vars):
        return [dict(i) for i in self.shapes.get(k, [])]

    def wave_frame(self, k, frame_vars):
        w = self.waves.get(k)
        return None if w is None else dict(w)

    def wave_points(self, k, wave_vars, sample, value1, value2):
        f = self.points.get(k)
        return {} if f is None else f(sample, value1, value2)


def lit(img: np.ndarray, threshold: int = 40) -> np.ndarray:
    return img.max(axis=2) > threshold


def preset_state(target: Target, text: str, audio=None, prev_texture=None, time=1.0):
    """A FrameState for a hand-written .milk text, its code run by the real PresetEquations."""
    from renderer.equations import PresetEquations
    from renderer.milk.preset import parse_milk

    eq = PresetEquations(parse_milk(text, source="test.milk"), seed=0)
    assert not eq.errors, eq.errors
    audio = audio or audio_frame()
    inputs = {"time": time, "frame": 60.0, "fps": 60.0, "progress": 0.1, "bass": audio.bass, "mid": audio.mid,
              "treb": audio.treb, "bass_att": audio.bass_att, "mid_att": audio.mid_att,
              "treb_att": audio.treb_att, "meshx": 48.0, "meshy": 36.0, "pixelsx": float(target.width),
              "pixelsy": float(target.height), "aspectx": 1.0, "aspecty": 1.0}
    vars_ = eq.begin_frame(inputs)
    return frame_state(target, vars_, eq, audio=audio, prev_texture=prev_texture, time=time)
