"""The Renderer: a MilkDrop 1 preset plus music in, frames out, headless and deterministic.

One frame, in MilkDrop 2's order (milkdropfs.cpp RenderFrame; butterchurn renderer.js):
  1. per-frame equations (time = k / fps, frame = k)
  2. per-pixel equations and the warp mesh: last frame, warped and decayed, into the new target;
     a preset's warp shader replaces the fixed fragment stage (the mesh still computes the
     per-vertex warped uv the shader receives)
  3. blur1..3 from the warp output, when the preset's shaders read them
  4. motion vectors, custom shapes, custom waves, the built-in waveform
  5. darken centre, outer border, inner border
  6. composite (echo, gamma, hue, brighten/darken/solarize/invert), or the preset's comp shader,
     into the output, read back.
Steps 2-5 draw into the 8-bit feedback image that the next frame warps; step 6 does not, so a
frame nobody reads (``render(..., keep=...)``) skips it without changing any later frame, and a
frame only *probed* (``render(..., probe=...)``) composites into a tiny PROBE_SIZE picture
instead: enough for the brightness of large areas (the flash check of every frame) at a
fraction of a full composite and readback.

Shader containment: a warp or comp shader that fails to translate or compile, or that raises a GL
error while drawing, turns that stage back into the MilkDrop 1 path and is recorded in the
LoadReport (never a crash, never a silent fallback).

Time is a fixed step, never the wall clock, and every random value comes from ``seed``: two
renderers given the same preset, audio and seed produce the same bytes.
"""

from __future__ import annotations

import importlib
import time as _time
from dataclasses import dataclass, field, replace

import moderngl
import numpy as np

from renderer.stages.borders import Borders, DarkenCenter
from renderer.stages.composite import Composite
from renderer.frame_state import FrameState, StaticEquations, aspect_factors
from renderer.gl_context import current, get_context, rgba8_target  # noqa: F401 (current: re-exported)
from renderer.stages.motion_vectors import MotionVectors
from renderer.shaders.passes import ShaderStages
from renderer.player import player_named
from renderer.stages.warp_mesh import WarpMesh

#: MilkDrop's default time between presets; ``progress`` runs 0 -> 1 over it, then stays at 1.
RENDER_VERSION = 1
"""Bump when a change to any stage, the EEL compiler or the shader translation alters a rendered
pixel: caches of rendered results (the corpus dataset, evo.mining) are keyed by it and redo
everything after a bump."""

PRESET_SECONDS = 16.0

#: AudioFrames memoised per analyzer (~9 KB each): a GA candidate's 90 frames and then some.
AUDIO_CACHE_FRAMES = 1024


def _reads_spectrum(preset) -> bool:
    """Whether an enabled custom wave of ``preset`` draws the spectrum (``bSpectrum``)."""
    for wave in getattr(preset, "waves", None) or ():
        params = getattr(wave, "params", None)
        if not isinstance(params, dict):
            return True  # not a preset we know how to read: compute it
        try:
            enabled = float(params.get("enabled", 0) or 0) != 0
            spectrum = float(params.get("bSpectrum", params.get("spectrum", 0)) or 0) != 0
        except (TypeError, ValueError):
            return True
        if enabled and spectrum:
            return True
    return False


def _optional(module: str, name: str):
    """A stage class from a module that may not be written yet (the import of anything else
    that fails inside that module is a real error and is raised)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


SHADER_STAGES = ("warp", "comp")


@dataclass
class LoadReport:
    """What went wrong loading a preset. Broken code blocks render as empty, never raise.

    ``errors`` lists every problem as text (equations and shaders). ``shader_errors`` has one
    dict per shader stage that fell back to MilkDrop 1: {"stage": "warp"|"comp", "reason": the
    translator message or GLSL compiler log, "line": preset shader line or None}; a stage that
    fails while rendering is added here by ``Renderer.render`` (with "frame": k), so keep the
    report ``load`` returned. ``warnings`` are problems that do not change the path taken
    (a missing user texture is replaced by neutral grey). ``stages`` says which path each shader
    stage takes: "shader", "fixed" (no shader text, or PSVERSION 0) or "fallback".
    """

    errors: list[str] = field(default_factory=list)
    shader_errors: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=lambda: {s: "fixed" for s in SHADER_STAGES})

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def shader_failed(self) -> bool:
        """True when a warp or comp shader fell back to the MilkDrop 1 path."""
        return bool(self.shader_errors)

    def add_shader_error(self, stage: str, reason: str, line: int | None = None,
                         frame: int | None = None) -> None:
        entry = {"stage": stage, "reason": reason, "line": line}
        if frame is not None:
            entry["frame"] = frame
        self.shader_errors.append(entry)
        where = f"line {line}: " if line else (f"frame {frame}: " if frame is not None else "")
        self.errors.append(f"{stage} shader: {where}{reason}")
        self.stages[stage] = "fallback"


PROBE_SIZE = 16
"""Width and height of a probed frame's picture (see ``Renderer.render``)."""


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


def _blacken_mip_levels(texture) -> None:
    """Levels 1.. of a feedback texture set to opaque black, as its mipmaps are when built from a
    cleared picture (without building them: that left the next frame's drawing unseen on llvmpipe)."""
    w, h, level = texture.width, texture.height, 1
    while w > 1 or h > 1:
        w, h = max(1, w // 2), max(1, h // 2)
        black = np.zeros((h, w, 4), np.uint8)
        black[..., 3] = 255
        texture.write(black.tobytes(), level=level)
        level += 1


class Renderer:
    """Renders presets into HxWx3 uint8 frames (row 0 = top) through one shared GL context."""

    def __init__(self, width: int = 128, height: int = 128, mesh: tuple[int, int] = (48, 36),
                 fps: float = 60, seed: int = 0, textures_dir=None, player="milkdrop2"):
        """``textures_dir``: a folder (or list of folders) searched for the user textures a
        preset's shaders name, after the preset's own folder. ``player``: whose picture to
        reproduce, "milkdrop2" or "butterchurn" (renderer.player)."""
        if int(width) < 1 or int(height) < 1:
            raise ValueError(f"size must be positive, got {width}x{height}")
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.width, self.height = int(width), int(height)
        self.mesh = (int(mesh[0]), int(mesh[1]))
        self.fps = float(fps)
        self.seed = int(seed)
        self.textures_dir = textures_dir
        self.player = player_named(player)
        self.aspect_x, self.aspect_y = aspect_factors(self.width, self.height)
        self.ctx = ctx = get_context()
        with current(ctx):
            self._targets = [rgba8_target(ctx, self.width, self.height, repeat=True) for _ in range(2)]
            self._out_tex, self._out_fbo = rgba8_target(ctx, self.width, self.height)
            self.warp = WarpMesh(ctx, self.mesh, self.aspect_x, self.aspect_y,
                                 size=(self.width, self.height))
            self.motion_vectors = MotionVectors(ctx)
            self.darken_center = DarkenCenter(ctx)
            self.borders = Borders(ctx)
            self.composite = Composite(ctx)
            self.shapes = self._stage("renderer.stages.custom_shape", "CustomShapeStage")
            self.waves = self._stage("renderer.stages.custom_wave", "CustomWaveStage")
            self.waveform = self._stage("renderer.stages.waveform", "WaveformStage")
        self._wave_stages = [st for st in (self.shapes, self.waves, self.waveform) if st is not None]
        self._equations_cls = _optional("renderer.equations", "PresetEquations") or StaticEquations
        # RGB straight from GL, rows packed: the RGBA read plus numpy's 3-of-4 byte copy took
        # 6x as long (127 against 19 us at 128x128, 423 against 100 at 256x256)
        self._readback = np.empty((self.height, self.width, 3), np.uint8)
        self._probe: tuple | None = None  # (texture, framebuffer, buffer) made by the first probe
        self._audio_cache: tuple[int, object] | None = None
        self._audio_frames: dict = {}  # "analyzer" -> the analyzer they come from; k -> AudioFrame
        self._default_audio = None
        self._needs_spectrum = True
        self._analyzer_is_ours = False
        self._levels_wrapper = None  # ButterchurnLevels around the last analyzer, for that player
        self._mipmaps_built = False  # the feedback textures have mip levels (butterchurn player)
        self.timings = FrameTimings()
        self.profile = False  # True: ctx.finish() before readback so GL and readback time split
        self.preset = None
        self.equations = None
        self.shaders: ShaderStages | None = None   # the loaded preset's MilkDrop 2 shader passes
        self.report: LoadReport | None = None
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
        # the audio spectrum is computed only for a custom wave that reads it (bSpectrum, a
        # preset setting no code can change); equations given by the caller may draw any wave
        self._needs_spectrum = equations is not None or _reads_spectrum(preset)
        self.preset = preset
        self.equations = eq
        if self.player.frame_vars_in_pixel_code and hasattr(eq, "frame_vars_in_pixel_code"):
            eq.frame_vars_in_pixel_code = True
        if self.player.frame_code_at_load and hasattr(eq, "run_load_frame"):
            eq.run_load_frame(self._load_inputs())
        self.frame = 0
        self.warp.reset()
        self._rand_start = self._random_start()
        report = LoadReport(errors=[str(e) for e in getattr(eq, "errors", [])])
        self.report = report
        with current(self.ctx):
            for tex, fbo in self._targets:
                fbo.clear(0.0, 0.0, 0.0, 1.0)
                if self._mipmaps_built:  # butterchurn's blur reads them: none left from the last preset
                    _blacken_mip_levels(tex)
            self._release_shaders()
            self.shaders = self._load_shaders(preset, report)
            if self.shaders is not None:
                self.shaders.butterchurn_blur = self.player.mipmapped_feedback
        return report

    def seed_feedback(self, image: np.ndarray) -> None:
        """Replace the feedback picture (HxWx3 or HxWx4 uint8, row 0 = top): frame 1 warps this
        instead of black. For tests and for continuing from a known picture."""
        img = np.asarray(image, dtype=np.uint8)
        if img.shape[:2] != (self.height, self.width) or img.ndim != 3 or img.shape[2] not in (3, 4):
            raise ValueError(f"seed image must be {self.height}x{self.width}x3/4, got {img.shape}")
        if img.shape[2] == 3:
            img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
        tex, _ = self._targets[self._current]
        with current(self.ctx):
            tex.write(np.ascontiguousarray(img[::-1]).tobytes())

    def render(self, n_frames: int, audio=None, keep=None, composite_all: bool = False, probe=None):
        """Iterator of the next ``n_frames`` frames (continues from the last frame rendered).

        ``keep``: None reads every frame back; otherwise a container of 0-based indices into
        this call's frames (a set, a range): only those are composited and read back, every
        other one is still rendered into the feedback image (so the picture evolves exactly as
        without ``keep``) but yields None. The composite never feeds back, so the frames that
        are read are the same bytes either way; a GA that scores 20-odd of 90 frames saves the
        composite pass and the readback of the rest. ``composite_all`` composites the others
        too, without reading them back: the work a player does to show every frame
        (``liandan render --every K``, and speed comparisons with one).

        ``probe``: indices of frames outside ``keep`` to composite at PROBE_SIZE x PROBE_SIZE
        instead of skipping; they are yielded as that small HxWx3 picture (the composite of a
        frame, sampled coarsely: its large-area brightness and colour, not its detail).
        """
        self._check_alive()
        if self.preset is None:
            raise RuntimeError("Renderer.render: load a preset first")
        analyzer = self._analyzer(audio)
        for i in range(int(n_frames)):
            self.frame += 1
            af = self._audio_frame(analyzer, self.frame)
            read = keep is None or i in keep
            with current(self.ctx):
                probed = probe is not None and not read and i in probe
                frame = self._render_frame(self.frame, af, read, composite=read or composite_all, probe=probed)
            yield frame

    def release(self) -> None:
        """Free every GL object this renderer made (the shared context stays)."""
        if self._released:
            return
        self._released = True
        with current(self.ctx):
            stages = [self.warp, self.motion_vectors, self.darken_center, self.borders, self.composite,
                      self.shapes, self.waves, self.waveform]
            for stage in stages:
                if stage is not None:
                    stage.release()
            self._release_shaders()
            for tex, fbo in self._targets + [(self._out_tex, self._out_fbo)] + ([self._probe[:2]] if self._probe else []):
                fbo.release()
                tex.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()

    # ------------------------------------------------------------------ internals

    def _load_shaders(self, preset, report: LoadReport) -> ShaderStages | None:
        """The preset's warp/comp shader passes, or None when it has none that work. Programs
        come from the context's program cache, so presets sharing shader text compile once."""
        if not any((getattr(preset, f"{s}_shader", "") or "").strip() for s in SHADER_STAGES):
            return None
        try:
            stages = ShaderStages(self.ctx, preset, self.seed, textures_dir=self.textures_dir,
                                  mesh=self.mesh)
        except Exception as exc:  # containment: a preset never takes the renderer down
            for stage in SHADER_STAGES:
                report.add_shader_error(stage, f"{type(exc).__name__}: {exc}")
            return None
        for err in stages.errors:
            report.add_shader_error(err.stage, err.reason, err.line)
        report.warnings.extend(f"{w.sampler}: {w.message}" for w in stages.warnings)
        for stage in SHADER_STAGES:
            if getattr(stages, stage) is not None:
                report.stages[stage] = "shader"
        if stages.warp is None and stages.comp is None:
            stages.release()
            return None
        return stages

    def _release_shaders(self) -> None:
        if self.shaders is not None:
            self.shaders.release()
            self.shaders = None

    def _shader_pass(self, stage: str, draw, k: int) -> bool:
        """Run one shader pass; on any failure (exception or GL error) disable the stage, record
        it and return False so the caller draws the MilkDrop 1 stage instead this frame."""
        ctx = self.ctx
        ctx.error  # noqa: B018 - reading clears errors left by other stages, so they are not blamed here
        try:
            draw()
            err = ctx.error
            if err == "GL_NO_ERROR":
                return True
            reason = f"GL error during the {stage} shader pass: {err}"
        except Exception as exc:
            reason = f"{type(exc).__name__} during the {stage} shader pass: {exc}"
        self.shaders.disable(stage, reason)
        if self.report is not None:
            self.report.add_shader_error(stage, reason, None, frame=k)
        return False

    def _update_blur(self, texture, fv: dict, k: int) -> None:
        sh = self.shaders
        try:
            sh.update_blur(texture, fv)
        except Exception as exc:  # blur textures then stay as they were; the shaders still run
            sh.blur_level = 0
            if self.report is not None:
                self.report.errors.append(f"blur: frame {k}: {type(exc).__name__}: {exc}")

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
        analyzer = self._analyzer_of(audio)
        # ours can leave the spectrum out; any other object with frame(k) is asked for frames
        from renderer.audio import AudioAnalyzer

        self._analyzer_is_ours = type(analyzer) is AudioAnalyzer
        if self.player.butterchurn_levels and self._analyzer_is_ours:
            # butterchurn's own analysis of the same music (renderer.player); one per analyzer,
            # and like ours it can leave the spectrum out
            if self._levels_wrapper is None or self._levels_wrapper.analyzer is not analyzer:
                from renderer.audio.butterchurn_levels import ButterchurnLevels

                self._levels_wrapper = ButterchurnLevels(analyzer)
            return self._levels_wrapper
        return analyzer

    def _analyzer_of(self, audio):
        from renderer.audio import AudioAnalyzer, AudioStream, AudioTrack, default_analyzer

        if audio is None:
            if self._default_audio is None or self._default_audio.fps != self.fps:
                self._default_audio = default_analyzer(fps=self.fps, seed=self.seed)
            return self._default_audio
        if isinstance(audio, (AudioTrack, AudioStream)):
            if self._audio_cache is None or self._audio_cache[0] is not audio:
                self._audio_cache = (audio, AudioAnalyzer(audio, fps=self.fps))
            return self._audio_cache[1]
        if hasattr(audio, "frame"):
            return audio
        raise TypeError(f"audio must be an AudioTrack, an AudioStream, an AudioAnalyzer or None, "
                        f"not {type(audio).__name__}")

    def _audio_frame(self, analyzer, k: int):
        """``analyzer.frame(k)``, memoised: a GA renders frames 1..90 of the same music for every
        candidate, and each AudioFrame costs an FFT. AudioFrame is frozen and its arrays are
        made read-only, so sharing one between renders cannot leak a change."""
        cache = self._audio_frames
        if cache.get("analyzer") is not analyzer:
            cache.clear()
            cache["analyzer"] = analyzer
        af = cache.get(k)
        if af is None or (self._needs_spectrum and getattr(af, "spectrum", 0) is None):
            if self._analyzer_is_ours:
                af = analyzer.frame(k, spectrum=self._needs_spectrum)
            else:
                af = analyzer.frame(k)
            if self.player.byte_waveform and hasattr(analyzer, "byte_waveform"):  # renderer.player
                af = replace(af, waveform=analyzer.byte_waveform(k))
            for name in ("waveform", "spectrum"):
                arr = getattr(af, name, None)
                if isinstance(arr, np.ndarray):
                    arr.flags.writeable = False
            if len(cache) <= AUDIO_CACHE_FRAMES:
                cache[k] = af
        return af

    def _inputs(self, k: int, af) -> dict[str, float]:
        t = k / self.fps
        return {
            "time": t, "frame": float(k), "fps": self.fps,
            "progress": min(1.0, t / PRESET_SECONDS),
            **({} if af is None else {"bass": af.bass, "mid": af.mid, "treb": af.treb,
                                      "bass_att": af.bass_att, "mid_att": af.mid_att, "treb_att": af.treb_att}),
            "meshx": float(self.mesh[0]), "meshy": float(self.mesh[1]),
            "pixelsx": float(self.width), "pixelsy": float(self.height),
            "aspectx": 1.0 / self.aspect_x, "aspecty": 1.0 / self.aspect_y,
        }

    def _load_inputs(self) -> dict[str, float]:
        """What butterchurn's equations see when it loads a preset: frame 0, time 0, its audio
        levels before any music (bass/mid/treb 0, their running averages 1)."""
        inputs = self._inputs(0, None)
        inputs.update(bass=0.0, mid=0.0, treb=0.0, bass_att=1.0, mid_att=1.0, treb_att=1.0)
        return inputs

    def _render_frame(self, k: int, af, read: bool = True, composite: bool = True,
                      probe: bool = False) -> np.ndarray | None:
        """Frame ``k`` into the feedback image; composited when ``composite`` and read back
        when ``read`` (the composite writes a separate output image that nothing else samples),
        or composited and read back at PROBE_SIZE when ``probe``."""
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
        sh = self.shaders
        mipmapped = self.player.mipmapped_feedback
        if mipmapped:  # butterchurn samples last frame trilinearly (renderer.player)
            src_tex.build_mipmaps()
            self._mipmaps_built = True
            src_tex.filter = (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR)
        dst_fbo.use()
        if sh is None or sh.warp is None or not self._shader_pass(
                "warp", lambda: sh.warp.draw(fv, src_tex, dst_fbo, self.warp.uv_grid(), mipmapped), k):
            self.warp.draw(src_tex, fv, dst_fbo)
        if sh is not None:
            self._update_blur(dst_tex, fv, k)
            dst_fbo.use()
        state = FrameState(width=self.width, height=self.height, frame=k, time=t, fps=self.fps,
                           vars=fv, audio=af, equations=eq, prev_texture=src_tex,
                           aspect_x=self.aspect_x, aspect_y=self.aspect_y, player=self.player)
        self.motion_vectors.draw(state, self.warp.uv_md, *self.mesh)
        for stage in self._wave_stages:
            stage.draw(state)
        self.darken_center.draw(state)
        self.borders.draw(state)
        if mipmapped:  # the composite of the next frame but one samples it at level 0
            src_tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        self._current = 1 - self._current

        frame = None
        if read:
            out_fbo, buffer = self._out_fbo, self._readback
        elif probe:
            out_fbo, buffer = self._probe_target()
        else:  # composited for show (composite_all) or not at all; never read back
            out_fbo, buffer = (self._out_fbo if composite else None), None
        if out_fbo is not None:
            out_fbo.use()
            if sh is None or sh.comp is None or not self._shader_pass(
                    "comp", lambda: sh.comp.draw(fv, dst_tex, out_fbo), k):
                out_fbo.use()
                self.composite.draw(dst_tex, fv, t, self._rand_start)
        if self.profile:
            self.ctx.finish()
        t3 = _time.perf_counter()
        if buffer is not None:
            out_fbo.read_into(buffer, components=3, alignment=1)
            frame = buffer[::-1].copy()
        t4 = _time.perf_counter()
        tm.equations += t1 - t0
        tm.mesh += t2 - t1
        tm.gl += t3 - t2
        tm.readback += t4 - t3
        tm.frames += 1
        return frame

    def _probe_target(self) -> tuple:
        """The small framebuffer probed frames composite into, and its readback buffer."""
        if self._probe is None:
            tex, fbo = rgba8_target(self.ctx, PROBE_SIZE, PROBE_SIZE)
            self._probe = (tex, fbo, np.empty((PROBE_SIZE, PROBE_SIZE, 3), np.uint8))
        return self._probe[1], self._probe[2]
