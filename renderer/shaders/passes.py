"""MilkDrop 2 shader passes (warp + composite) for the moderngl pipeline.

How the renderer (renderer/pipeline.py) wires it in, one ShaderStages per preset and GL context:

    stages = ShaderStages(ctx, preset, seed, textures_dir=opts.textures)   # never raises for bad shaders
    stages.errors      # [StageError(stage, reason, line)], shown by `liandan info` / scan
    stages.warnings    # [TextureWarning] for missing user images (neutral texture used)
    each frame, with `state` = the frame variables dict (time, frame, fps, progress, bass..treb_att,
    q1..q32, and any per-frame-modified preset values such as b1n..b3x, b1ed, wrap/bTexWrap):
      1. warp:  if stages.warp: stages.warp.draw(state, prev_tex, target_fbo, warp_uv)
                else: the MD1 fixed warp.  `warp_uv` is the per-vertex *warped* uv from the MD1
                per-pixel computation, float32 array (gh+1, gw+1, 2) with vertex (row j, col i) at
                clip position (2i/gw-1, 2j/gh-1), in MilkDrop's uv: (0, 0) is the top-left of the
                picture, v grows downwards (WarpMesh.uv_md).  None means identity (uv = uv_orig).
      2. stages.update_blur(target_tex, state)   # blur1..3 from the warp output (only if used),
                MilkDrop's and butterchurn's order: before motion vectors, shapes and waves
      3. draw motion vectors, shapes, waves, borders onto target as usual.
      4. comp:  if stages.comp: stages.comp.draw(state, target_tex, output_fbo)
                else: the MD1 fixed composite (gamma, echo, brighten...).
    stages.release() when done.
A stage is None when the preset has no shader for it or when its shader failed (then an error is
recorded): never a crash, never a silent fallback.

Orientation: the frame textures keep the picture's top at GL t = 1 (the MD1 stages draw MilkDrop
y at clip 1 - 2y and the renderer flips rows on readback).  Preset shaders see MilkDrop's uv
(y = 0 at the top: `ret = uv.y` is dark at the top, bright at the bottom), and every 2D lookup
they make flips y back (glsl_intrinsics._flipped); user images are uploaded bottom row first so
their top row is what uv.y = 0 reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from renderer.stages.warp_mesh import CellUV

from .blur import BlurPyramid, BlurRange, blur_range
from .cache import GLSLCompileError, program_cache, translate_cached
from .frame_values import FrameValues
from .noise import NOISE_SPECS, create_noise_textures
from .textures import DEFAULT_TEXTURE_DIRS, TextureWarning, image_pool, load_texture
from .translate import ShaderError, TranslatedShader

# uv and uv_orig in MilkDrop's orientation: clip y = +1 (the picture's top) is uv.y = 0. The warp
# pass is a full-screen quad: its fragment shader interpolates the mesh's uv itself (translate.py).
WARP_VERTEX = """#version 330 core
in vec2 in_pos;
void main() { gl_Position = vec4(in_pos, 0.0, 1.0); }
"""
COMP_VERTEX = """#version 330 core
in vec2 in_pos; out vec2 v_uv;
void main() { v_uv = vec2(0.5, -0.5) * in_pos + 0.5; gl_Position = vec4(in_pos, 0.0, 1.0); }
"""


@dataclass
class StageError:
    stage: str            # 'warp' | 'comp'
    reason: str           # translator message or GLSL compiler log
    line: int | None = None

    def __str__(self):
        return f"{self.stage} shader: " + (f"line {self.line}: " if self.line else "") + self.reason


@dataclass
class _Resources:
    """Textures shared by both stages of one preset: noise, user images, blur pyramid."""
    ctx: object
    seed: int
    pool: dict
    noise: dict = field(default_factory=dict)
    user: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)
    blur: BlurPyramid | None = None
    blur_range: BlurRange | None = None

    def texture_for(self, ref, main):
        if ref.texture == "main":
            return main
        if ref.texture.startswith("blur") and ref.texture[4:] in ("1", "2", "3"):
            if self.blur is None:
                return main   # no blur computed yet (first frame): MilkDrop's are black; main is close
            return self.blur.texture(int(ref.texture[4:]))
        if ref.texture in NOISE_SPECS:
            if ref.texture not in self.noise:
                self.noise.update(create_noise_textures(self.ctx, self.seed, [ref.texture]))
            return self.noise[ref.texture]
        key = ref.texture.lower()
        if key not in self.user:
            tex, warning = load_texture(self.ctx, ref.texture, self.pool, self.seed, ref.uniform)
            self.user[key] = tex
            if warning:
                self.warnings.append(warning)
        return self.user[key]


class _ShaderPass:
    def __init__(self, ctx, shader: TranslatedShader, program, res: _Resources, values: FrameValues, wrap: bool):
        import moderngl
        self.ctx = ctx
        self.shader = shader
        self.program = program
        self.res = res
        self.values = values
        self.default_wrap = wrap
        self.samplers = []
        for unit, ref in enumerate(shader.samplers):
            filt = moderngl.NEAREST if ref.filter == "nearest" else moderngl.LINEAR
            smp = ctx.sampler(filter=(filt, filt))
            self.samplers.append((unit, ref, smp))
            if ref.uniform in program:
                program[ref.uniform].value = unit
        for ref in shader.samplers:   # load user/noise textures now so warnings appear at build time
            if ref.texture != "main" and not ref.texture.startswith("blur"):
                res.texture_for(ref, None)

    def _bind(self, state: dict, main, size, mipmapped_main: bool = False):
        """``mipmapped_main``: ``main`` has fresh mipmaps and is sampled through them, as
        butterchurn's warp does (renderer.player)."""
        import moderngl
        wrap_main = bool(state.get("wrap", state.get("bTexWrap", self.default_wrap)))
        for unit, ref, smp in self.samplers:
            wrap = wrap_main if ref.wrap is None else ref.wrap == "repeat"
            smp.repeat_x = smp.repeat_y = wrap
            if ref.texture == "main":
                nearest = ref.filter == "nearest"
                if mipmapped_main:
                    smp.filter = ((moderngl.NEAREST_MIPMAP_NEAREST, moderngl.NEAREST) if nearest
                                  else (moderngl.LINEAR_MIPMAP_LINEAR, moderngl.LINEAR))
                else:
                    smp.filter = (moderngl.NEAREST, moderngl.NEAREST) if nearest else (moderngl.LINEAR, moderngl.LINEAR)
            if ref.dim == 3:
                smp.repeat_z = wrap
            self.res.texture_for(ref, main).use(unit)
            smp.use(unit)
        vals = self.values.values(state, size, self.res.blur_range)
        prog = self.program
        for name in self.shader.uniforms:
            if name not in prog:
                continue
            if name.startswith("rot_"):
                prog[name].value = self.values.rot(name, vals)
            elif name.startswith("texsize_"):
                tex = self._texsize_texture(name[8:], main)
                prog[name].value = (float(tex.width), float(tex.height), 1.0 / tex.width, 1.0 / tex.height) \
                    if tex is not None else (1.0, 1.0, 1.0, 1.0)
            elif name in vals:
                prog[name].value = vals[name]
        if "_hue_corner" in prog:
            prog["_hue_corner"].write(np.asarray(vals["_hue_corner"], dtype="f4").tobytes())

    def _texsize_texture(self, name: str, main):
        from .prelude import sampler_ref
        ref = sampler_ref("sampler_" + name)
        return self.res.texture_for(ref, main) if ref is not None else None

    def release(self):
        for _, _, smp in self.samplers:
            smp.release()


class WarpShaderPass(_ShaderPass):
    """The warp shader over the whole picture; uv at each pixel is MilkDrop's warped uv as the
    warp mesh interpolates it (the same triangles as renderer.stages.warp_mesh's cell pass)."""

    def __init__(self, ctx, shader, program, res, values, wrap, mesh=(48, 36)):
        super().__init__(ctx, shader, program, res, values, wrap)
        gw, gh = mesh
        self.mesh = mesh
        xs, ys = np.meshgrid(np.linspace(-1, 1, gw + 1), np.linspace(-1, 1, gh + 1))
        pos = np.stack([xs, ys], -1).astype("f4")
        self.identity_uv = (pos * np.array([0.5, -0.5], "f4") + 0.5).astype("f4")   # MilkDrop uv
        self.cell_unit = len(self.samplers)   # the unit after the preset's own samplers
        self.cells = CellUV(ctx, gw, gh)
        # a shader that never reads uv has these optimised away
        self.uses_uv = "_md_cell_uv" in program
        if self.uses_uv:
            program["_md_cell_uv"].value = self.cell_unit
            program["_md_cells"].value = (float(gw), float(gh))
        self.vbo = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4").tobytes())
        self.vao = ctx.vertex_array(program, [(self.vbo, "2f", "in_pos")])

    def draw(self, state: dict, src_texture, dst_fbo, warp_uv: np.ndarray | None = None,
             mipmapped: bool = False):
        uv = self.identity_uv if warp_uv is None else np.asarray(warp_uv, dtype="f4")
        if uv.shape != self.identity_uv.shape:
            raise ValueError(f"warp_uv must have shape {self.identity_uv.shape}, got {uv.shape}")
        if self.uses_uv:
            self.cells.write(uv)
        dst_fbo.use()
        self.ctx.disable(self.ctx.BLEND)   # the previous frame's last stage may have left it on
        self._bind(state, src_texture, src_texture.size, mipmapped)
        if "_md_pixels" in self.program:
            self.program["_md_pixels"].value = tuple(float(v) for v in dst_fbo.size)
        self.cells.use(self.cell_unit)
        self.vao.render(self.ctx.TRIANGLE_STRIP)
        self.ctx.clear_samplers(0, len(self.samplers) + 1)   # leave units as the other stages expect

    def release(self):
        super().release()
        for o in (self.vao, self.vbo, self.cells):
            o.release()


class CompShaderPass(_ShaderPass):
    """Fullscreen composite: the comp shader reads this frame's image and writes the output."""

    def __init__(self, ctx, shader, program, res, values, wrap):
        import moderngl
        super().__init__(ctx, shader, program, res, values, wrap)
        self.vbo = ctx.buffer(np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4").tobytes())
        self.vao = ctx.vertex_array(program, [(self.vbo, "2f", "in_pos")])
        self._mode = moderngl.TRIANGLE_STRIP

    def draw(self, state: dict, src_texture, dst_fbo):
        dst_fbo.use()
        self.ctx.disable(self.ctx.BLEND)
        self._bind(state, src_texture, src_texture.size)
        self.vao.render(self._mode)
        self.ctx.clear_samplers(0, len(self.samplers))

    def release(self):
        super().release()
        self.vao.release()
        self.vbo.release()


def stage_versions(preset) -> tuple[int, int]:
    """(warp, comp) pixel-shader versions; 0 = that stage runs MilkDrop 1's fixed path."""
    versions = getattr(preset, "shader_versions", None)
    if callable(versions):
        return tuple(int(v) for v in versions())
    out = []
    for stage in ("warp", "comp"):
        v = getattr(preset, f"ps_version_{stage}", None)
        out.append(2 if v is None else int(v))
    return tuple(out)


class ShaderStages:
    """Both shader stages of one preset plus their shared textures; see the module docstring."""

    def __init__(self, ctx, preset, seed: int, textures_dir=None, mesh=(48, 36)):
        self.ctx = ctx
        self.preset = preset
        self.seed = int(seed)
        self.errors: list[StageError] = []
        self.warp: WarpShaderPass | None = None
        self.comp: CompShaderPass | None = None
        self.blur_level = 0
        self.butterchurn_blur = False   # blur as butterchurn does (renderer.player); set by the renderer
        self._programs: dict[str, object] = {}     # stage -> program acquired from the cache
        self._released = False
        params = getattr(preset, "params", {}) or {}
        self.params = params
        dirs = []
        src = getattr(preset, "source", None)
        if src and Path(str(src)).exists():
            dirs.append(str(Path(str(src)).parent))
        if textures_dir:
            dirs.extend([textures_dir] if isinstance(textures_dir, (str, Path)) else list(textures_dir))
        dirs.extend(DEFAULT_TEXTURE_DIRS)
        self.res = _Resources(ctx, self.seed, image_pool([str(d) for d in dirs]))
        self.values = FrameValues(self.seed)
        wrap = bool(params.get("bTexWrap", 1))
        cache = program_cache(ctx)
        for stage, version in zip(("warp", "comp"), stage_versions(preset)):
            text = getattr(preset, f"{stage}_shader", "") or ""
            if not text.strip() or version == 0:
                continue
            program = None
            try:
                shader = translate_cached(text, stage)
                vs = WARP_VERTEX if stage == "warp" else COMP_VERTEX
                limit = ctx.info.get("GL_MAX_TEXTURE_IMAGE_UNITS", 16)
                needed = len(shader.samplers) + (stage == "warp")  # + the warp mesh's uv texture
                if needed > limit:
                    raise ShaderError(stage, None, f"uses {needed} samplers, GL allows {limit}")
                program = cache.acquire(vs, shader.glsl)
                cls = WarpShaderPass if stage == "warp" else CompShaderPass
                args = (ctx, shader, program, self.res, self.values, wrap) + ((mesh,) if stage == "warp" else ())
                setattr(self, stage, cls(*args))
                self._programs[stage] = program
                self.blur_level = max(self.blur_level, shader.uses_blur)
            except ShaderError as e:
                self.errors.append(StageError(stage, e.message, e.line))
            except GLSLCompileError as e:
                self.errors.append(StageError(stage, f"GLSL compile failed: {e}"))
            except Exception as e:   # containment: one bad preset never kills a run
                self.errors.append(StageError(stage, f"{type(e).__name__}: {e}"))
            if program is not None and stage not in self._programs:
                cache.release(program)

    def disable(self, stage: str, reason: str) -> StageError:
        """Turn a stage off after a render-time failure (the caller falls back to MilkDrop 1)."""
        err = StageError(stage, reason)
        self.errors.append(err)
        p = getattr(self, stage)
        setattr(self, stage, None)
        if p is not None:
            p.release()
            program = self._programs.pop(stage, None)
            if program is not None:
                program_cache(self.ctx).release(program)
        return err

    @property
    def warnings(self) -> list[TextureWarning]:
        return self.res.warnings

    def blur_params(self, state: dict) -> dict:
        keys = ("b1n", "b1x", "b2n", "b2x", "b3n", "b3x", "b1ed")
        return {k: state.get(k, self.params.get(k, d)) for k, d in
                zip(keys, (0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.25))}

    def update_blur(self, main_texture, state: dict):
        """Recompute blur1..N from this frame's image; no-op when no shader reads a blur."""
        params = self.blur_params(state)
        self.res.blur_range = blur_range(params)
        if self.blur_level == 0:
            return
        if self.res.blur is None or self.res.blur.size != main_texture.size:
            if self.res.blur is not None:
                self.res.blur.release()
            self.res.blur = BlurPyramid(self.ctx, main_texture.size, program_cache(self.ctx),
                                        butterchurn=self.butterchurn_blur)
        self.res.blur_range = self.res.blur.update(main_texture, self.blur_level, params)

    def release(self):
        if self._released:
            return
        self._released = True
        for p in (self.warp, self.comp):
            if p is not None:
                p.release()
        self.warp = self.comp = None
        cache = program_cache(self.ctx)
        for program in self._programs.values():
            cache.release(program)
        self._programs.clear()
        if self.res.blur is not None:
            self.res.blur.release()
            self.res.blur = None
        for t in list(self.res.noise.values()) + list(self.res.user.values()):
            t.release()
        self.res.noise.clear()
        self.res.user.clear()
