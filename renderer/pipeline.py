"""The Renderer: a MilkDrop 1 preset plus music in, frames out, headless and deterministic.

One frame, in MilkDrop 2's order (milkdropfs.cpp RenderFrame; butterchurn renderer.js):
  1. per-frame equations (time = k / fps, frame = k)
  2. per-pixel equations and the warp mesh: last frame, warped and decayed, into the new target
  3. (blur passes: added by the shader work, not needed by MD1 presets)
  4. motion vectors, custom shapes, custom waves, the built-in waveform
  5. darken centre, outer border, inner border
  6. composite (echo, gamma, hue, brighten/darken/solarize/invert) into the output, read back.
Steps 2-5 draw into the 8-bit feedback image that the next frame warps; step 6 does not.

Time is a fixed step, never the wall clock, and every random value comes from ``seed``: two
renderers given the same preset, audio and seed produce the same bytes.
"""

from __future__ import annotations

import importlib
import time as _time
from dataclasses import dataclass, field

import numpy as np

from renderer.borders import Borders, DarkenCenter
from renderer.composite import Composite
from renderer.frame_state import FrameState, StaticEquations, aspect_factors
from renderer.gl_context import get_context, rgba8_target
from renderer.motion_vectors import MotionVectors
from renderer.warp_mesh import WarpMesh

#: MilkDrop's default time between presets; ``progress`` runs 0 -> 1 over it, then stays at 1.
PRESET_SECONDS = 16.0


def _optional(module: str, name: str):
    """A stage class from a module that may not be written yet (the import of anything else
    that fails inside that module is a real error and is raised)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


@dataclass
class LoadReport:
    """What went wrong loading a preset. Broken code blocks render as empty, never raise."""

    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class FrameTimings:
    """Seconds spent per part of the frame, summed over frames (for the benchmark)."""

    equations: float = 0.0
    mesh: float = 0.0
    gl: float = 0.0
    readback: float = 0.0
    frames: int = 0

    def reset(self) -> None:
        self.equations = self.mesh = self.gl = self.readback = 0.0
        self.frames = 0


class Renderer:
    """Renders presets into HxWx3 uint8 frames (row 0 = top) through one shared GL context."""

    def __init__(self, width: int = 128, height: int = 128, mesh: tuple[int, int] = (48, 36),
                 fps: float = 60, seed: int = 0):
        if int(width) < 1 or int(height) < 1:
            raise ValueError(f"size must be positive, got {width}x{height}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.width, self.height = int(width), int(height)
        self.mesh = (int(mesh[0]), int(mesh[1]))
        self.fps = float(fps)
        self.seed = int(seed)
        self.aspect_x, self.aspect_y = aspect_factors(self.width, self.height)
        self.ctx = ctx = get_context()
        self._targets = [rgba8_target(ctx, self.width, self.height, repeat=True) for _ in range(2)]
        self._out_tex, self._out_fbo = rgba8_target(ctx, self.width, self.height)
        self.warp = WarpMesh(ctx, self.mesh, self.aspect_x, self.aspect_y)
        self.motion_vectors = MotionVectors(ctx)
        self.darken_center = DarkenCenter(ctx)
        self.borders = Borders(ctx)
        self.composite = Composite(ctx)
        self.shapes = self._stage("renderer.custom_shape", "CustomShapeStage")
        self.waves = self._stage("renderer.custom_wave", "CustomWaveStage")
        self.waveform = self._stage("renderer.waveform", "WaveformStage")
        self._equations_cls = _optional("renderer.equations", "PresetEquations") or StaticEquations
        self._readback = np.empty((self.height, self.width, 4), np.uint8)
        self._audio_cache: tuple[int, object] | None = None
        self._default_audio = None
        self.timings = FrameTimings()
        self.profile = False  # True: ctx.finish() before readback so GL and readback time split
        self.preset = None
        self.equations = None
        self.frame = 0
        self._current = 0
        self._rand_start = self._random_start()
        self._released = False

    # ------------------------------------------------------------------ public API

    def load(self, preset, equations=None) -> LoadReport:
        """Start ``preset`` from a black picture at frame 0. ``equations`` overrides the compiled
        equations (tests pass StaticEquations to exercise a stage without the EEL compiler)."""
        self._check_alive()
        eq = equations if equations is not None else self._equations_cls(preset, seed=self.seed)
        self.preset = preset
        self.equations = eq
        self.frame = 0
        self.warp.reset()
        self._rand_start = self._random_start()
        for _, fbo in self._targets:
            fbo.clear(0.0, 0.0, 0.0, 1.0)
        return LoadReport(errors=[str(e) for e in getattr(eq, "errors", [])])

    def seed_feedback(self, image: np.ndarray) -> None:
        """Replace the feedback picture (HxWx3 or HxWx4 uint8, row 0 = top): frame 1 warps this
        instead of black. For tests and for continuing from a known picture."""
        img = np.asarray(image, dtype=np.uint8)
        if img.shape[:2] != (self.height, self.width) or img.ndim != 3 or img.shape[2] not in (3, 4):
            raise ValueError(f"seed image must be {self.height}x{self.width}x3/4, got {img.shape}")
        if img.shape[2] == 3:
            img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
        tex, _ = self._targets[self._current]
        tex.write(np.ascontiguousarray(img[::-1]).tobytes())

    def render(self, n_frames: int, audio=None):
        """Iterator of the next ``n_frames`` frames (continues from the last frame rendered)."""
        self._check_alive()
        if self.preset is None:
            raise RuntimeError("Renderer.render: load a preset first")
        analyzer = self._analyzer(audio)
        for _ in range(int(n_frames)):
            self.frame += 1
            yield self._render_frame(self.frame, analyzer.frame(self.frame))

    def release(self) -> None:
        """Free every GL object this renderer made (the shared context stays)."""
        if self._released:
            return
        self._released = True
        stages = [self.warp, self.motion_vectors, self.darken_center, self.borders, self.composite,
                  self.shapes, self.waves, self.waveform]
        for stage in stages:
            if stage is not None:
                stage.release()
        for tex, fbo in self._targets + [(self._out_tex, self._out_fbo)]:
            fbo.release()
            tex.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    # ------------------------------------------------------------------ internals

    def _stage(self, module: str, name: str):
        cls = _optional(module, name)
        return cls(self.ctx) if cls is not None else None

    def _check_alive(self) -> None:
        if self._released:
            raise RuntimeError("Renderer used after release()")

    def _random_start(self) -> np.ndarray:
        """MilkDrop's per-preset rand_start (hue drift phase), from the seed only."""
        return np.random.default_rng([self.seed, 0x4D44]).random(4)

    def _analyzer(self, audio):
        from renderer.audio import AudioAnalyzer, AudioTrack, default_analyzer

        if audio is None:
            if self._default_audio is None or self._default_audio.fps != self.fps:
                self._default_audio = default_analyzer(fps=self.fps, seed=self.seed)
            return self._default_audio
        if isinstance(audio, AudioTrack):
            if self._audio_cache is None or self._audio_cache[0] is not audio:
                self._audio_cache = (audio, AudioAnalyzer(audio, fps=self.fps))
            return self._audio_cache[1]
        if hasattr(audio, "frame"):
            return audio
        raise TypeError(f"audio must be an AudioTrack, an AudioAnalyzer or None, not {type(audio).__name__}")

    def _inputs(self, k: int, af) -> dict[str, float]:
        t = k / self.fps
        return {
            "time": t, "frame": float(k), "fps": self.fps,
            "progress": min(1.0, t / PRESET_SECONDS),
            "bass": af.bass, "mid": af.mid, "treb": af.treb,
            "bass_att": af.bass_att, "mid_att": af.mid_att, "treb_att": af.treb_att,
            "meshx": float(self.mesh[0]), "meshy": float(self.mesh[1]),
            "pixelsx": float(self.width), "pixelsy": float(self.height),
            "aspectx": 1.0 / self.aspect_x, "aspecty": 1.0 / self.aspect_y,
        }

    def _render_frame(self, k: int, af) -> np.ndarray:
        tm = self.timings
        t0 = _time.perf_counter()
        t = k / self.fps
        eq = self.equations
        fv = eq.begin_frame(self._inputs(k, af))
        per_pixel = eq.per_pixel(fv, *self.warp.grid.pixel_inputs())
        t1 = _time.perf_counter()
        self.warp.update(fv, t, per_pixel)
        t2 = _time.perf_counter()

        src_tex, _ = self._targets[self._current]
        dst_tex, dst_fbo = self._targets[1 - self._current]
        dst_fbo.use()
        self.warp.draw(src_tex, fv)
        state = FrameState(width=self.width, height=self.height, frame=k, time=t, fps=self.fps,
                           vars=fv, audio=af, equations=eq, prev_texture=src_tex,
                           aspect_x=self.aspect_x, aspect_y=self.aspect_y)
        self.motion_vectors.draw(state, self.warp.uv_md, *self.mesh)
        for stage in (self.shapes, self.waves, self.waveform):
            if stage is not None:
                stage.draw(state)
        self.darken_center.draw(state)
        self.borders.draw(state)

        self._out_fbo.use()
        self.composite.draw(dst_tex, fv, t, self._rand_start)
        self._current = 1 - self._current
        if self.profile:
            self.ctx.finish()
        t3 = _time.perf_counter()
        self._out_fbo.read_into(self._readback, components=4)
        frame = np.ascontiguousarray(self._readback[::-1, :, :3])
        t4 = _time.perf_counter()
        tm.equations += t1 - t0
        tm.mesh += t2 - t1
        tm.gl += t3 - t2
        tm.readback += t4 - t3
        tm.frames += 1
        return frame
