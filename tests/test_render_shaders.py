"""MilkDrop 2 shaders inside the Renderer: warp/comp shaders replace the fixed stages, agree with
the MilkDrop 1 path on coordinates, fall back to it (with a recorded error) when broken, and
render deterministically."""
import os

os.environ.setdefault("LP_NUM_THREADS", "0")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("moderngl")

from renderer import Renderer, parse_milk  # noqa: E402
from renderer.pipeline import current  # noqa: E402
from renderer.shaders.cache import ProgramCache  # noqa: E402
from helpers import CORPUS

SIZE = 64
# clean pictures: no waveform, no borders, no motion vectors; identity gamma; no decay
PLAIN = {"fGammaAdj": 1.0, "fDecay": 1.0, "fWaveAlpha": 0.0, "bAdditiveWaves": 0}


def milk(warp_text: str | None = None, comp_text: str | None = None, versions=(2, 2), **params) -> str:
    lines = ["[preset00]", "MILKDROP_PRESET_VERSION=201", "PSVERSION=2",
             f"PSVERSION_WARP={versions[0]}", f"PSVERSION_COMP={versions[1]}"]
    lines += [f"{k}={v}" for k, v in {**PLAIN, **params}.items()]
    for stage, text in (("warp", warp_text), ("comp", comp_text)):
        for i, line in enumerate((text or "").splitlines(), 1):
            lines.append(f"{stage}_{i}=`{line}")
    return "\n".join(lines) + "\n"


def body(code: str, head: str = "") -> str:
    return f"{head}\nshader_body\n{{\n{code}\n}}"


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(SIZE, SIZE, fps=60, seed=0)
    yield r
    r.release()


def render(r, text: str, n: int = 3, seed_image=None, source=None):
    preset = parse_milk(text, source)
    report = r.load(preset)
    if seed_image is not None:
        r.seed_feedback(seed_image)
    frames = list(r.render(n))
    return report, frames


def test_pattern(size=SIZE) -> np.ndarray:
    """An asymmetric picture: horizontal and vertical ramps plus a bright block near the top left."""
    y, x = np.mgrid[0:size, 0:size]
    img = np.zeros((size, size, 3), np.uint8)
    img[..., 0] = x * 255 // (size - 1)
    img[..., 1] = y * 255 // (size - 1)
    img[size // 8:size // 4, size // 8:size // 3, 2] = 255
    return img


test_pattern.__test__ = False   # a helper, not a test


# ---------------------------------------------------------------- orientation and coordinates

def test_comp_shader_uv_is_milkdrop_orientation(renderer):
    """MilkDrop's uv has y = 0 at the top: `ret = uv.y` is dark at the top, bright at the bottom
    (butterchurn comp.js flips vUv.y for exactly this); uv.x grows to the right."""
    rep, frames = render(renderer, milk(comp_text=body("ret = float3(uv.x, uv.y, 0);")), n=1)
    assert rep.ok and rep.stages["comp"] == "shader", rep
    f = frames[-1].astype(int)
    column, row = f[:, SIZE // 2, 1], f[SIZE // 2, :, 0]
    assert column[0] < 10 and column[-1] > 245, column
    assert np.all(np.diff(column) >= 0) and np.all(np.diff(row) >= 0)
    assert row[0] < 10 and row[-1] > 245


def test_warp_shader_uv_orig_and_ang_orientation(renderer):
    """uv_orig is y-down like uv; ang is the per-pixel ang (positive above the centre)."""
    rep, frames = render(renderer, milk(warp_text=body("ret = float3(uv_orig.y, ang > 0 ? 1 : 0, 0);")), n=1)
    assert rep.stages["warp"] == "shader", rep
    f = frames[-1].astype(int)
    assert f[0, SIZE // 2, 0] < 10 and f[-1, SIZE // 2, 0] > 245
    assert f[4, SIZE // 2 + 5, 1] > 200 and f[-5, SIZE // 2 + 5, 1] < 50


def test_sampling_below_moves_the_picture_up(renderer):
    """tex2D(sampler_main, uv + (0, d)) reads from lower on the screen, so content moves up."""
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    img[32:36] = 255
    shift = "ret = tex2D(sampler_main, uv + float2(0, 0.125)).xyz;"
    _, frames = render(renderer, milk(warp_text=body(shift)), n=1, seed_image=img)
    rows = np.flatnonzero(frames[0][:, SIZE // 2, 0] > 128)
    assert rows.min() == 24 and rows.max() == 27, rows


def test_identity_warp_shader_matches_the_fixed_warp(renderer):
    """The mesh's warped uv reaches the shader in the same convention the MD1 warp uses: an
    identity warp shader gives the MD1 picture for a zooming, rotating, shifting preset."""
    motion = dict(zoom=1.04, rot=0.05, dx=0.01, dy=-0.02, cx=0.4, cy=0.6, warp=0.5)
    ident = body("ret = tex2D(sampler_main, uv).xyz;")
    _, with_shader = render(renderer, milk(warp_text=ident, **motion), n=4, seed_image=test_pattern())
    _, fixed = render(renderer, milk(**motion), n=4, seed_image=test_pattern())
    for a, b in zip(with_shader, fixed):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 2
    assert np.abs(with_shader[-1].astype(int) - test_pattern().astype(int)).mean() > 5   # it did move


def test_warp_shader_uv_is_the_meshs_uv_at_every_pixel(renderer):
    """One warp step of a noise picture under per-vertex motion: the shader's uv is the mesh's
    uv interpolated over the same triangles as the MD1 warp (a pixel in the wrong cell or
    triangle would sample an unrelated noise texel); only float rounding may differ."""
    text = milk(warp_text=body("ret = tex2D(sampler_main, uv).xyz;"), zoom=1.03, rot=0.04) \
        + "per_pixel_1=rot = rot + 0.3*x*y; dx = 0.02*sin(ang*3); zoom = zoom + 0.05*rad;\n"
    noise = np.random.default_rng(7).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    rep, with_shader = render(renderer, text, n=1, seed_image=noise)
    assert rep.stages["warp"] == "shader", rep
    _, fixed = render(renderer, text.replace("PSVERSION_WARP=2", "PSVERSION_WARP=0"), n=1, seed_image=noise)
    diff = np.abs(with_shader[0].astype(int) - fixed[0].astype(int))
    assert np.abs(fixed[0].astype(int) - noise.astype(int)).mean() > 20  # the motion moved the noise
    assert diff.max() <= 2 and (diff.max(axis=2) > 0).mean() < 0.01


def test_identity_comp_shader_matches_the_fixed_composite(renderer):
    ident = body("ret = tex2D(sampler_main, uv).xyz;")
    _, with_shader = render(renderer, milk(comp_text=ident, zoom=1.02), n=3, seed_image=test_pattern())
    _, fixed = render(renderer, milk(zoom=1.02), n=3, seed_image=test_pattern())
    for a, b in zip(with_shader, fixed):
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


@pytest.mark.parametrize("where", ["textures_dir", "preset_folder"])
def test_user_texture_top_row_is_uv_y_zero(tmp_path, where):
    """A user image is found next to the preset or in Renderer(textures_dir=...), and appears the
    right way up: its top half at the top of the output."""
    from PIL import Image
    img = np.zeros((32, 32, 3), np.uint8)
    img[:16] = (255, 255, 255)
    folder = tmp_path / "textures" if where == "textures_dir" else tmp_path
    folder.mkdir(exist_ok=True)
    Image.fromarray(img).save(folder / "halfwhite_qq.png")
    comp = body("ret = tex2D(sampler_halfwhite_qq, uv).xyz;", "sampler sampler_halfwhite_qq;")
    source = tmp_path / "preset.milk"
    source.write_text(milk(comp_text=comp))
    r = Renderer(SIZE, SIZE, textures_dir=str(folder) if where == "textures_dir" else None)
    try:
        rep, frames = render(r, source.read_text(), n=1, source=str(source))
    finally:
        r.release()
    assert rep.warnings == [] and rep.stages["comp"] == "shader", rep
    f = frames[0][:, SIZE // 2, 0]   # (user textures wrap: the edge rows blend top and bottom)
    assert f[2:SIZE // 2 - 2].min() > 240 and f[SIZE // 2 + 2:-2].max() < 15, f


def test_missing_user_texture_is_a_warning_not_an_error(renderer):
    comp = body("ret = tex2D(sampler_no_such_texture_qq, uv).xyz;", "sampler sampler_no_such_texture_qq;")
    rep, frames = render(renderer, milk(comp_text=comp), n=1)
    assert rep.ok and rep.stages["comp"] == "shader"
    assert len(rep.warnings) == 1 and "no_such_texture_qq" in rep.warnings[0]
    assert abs(int(frames[0][10, 10, 0]) - 128) <= 2   # neutral grey


# ---------------------------------------------------------------- shaders change the picture

def test_shader_preset_differs_from_its_md1_fallback(renderer):
    warp = body("ret = tex2D(sampler_main, uv).xyz * 0.9 + 0.1 * float3(uv_orig, 0.5);")
    comp = body("ret = 1 - tex2D(sampler_main, uv).zyx * float3(1, 0.5, 0.25);")
    rep, shaded = render(renderer, milk(warp_text=warp, comp_text=comp, zoom=1.02), n=5, seed_image=test_pattern())
    assert rep.ok and rep.stages == {"warp": "shader", "comp": "shader"}
    _, plain = render(renderer, milk(zoom=1.02), n=5, seed_image=test_pattern())
    assert np.abs(shaded[-1].astype(int) - plain[-1].astype(int)).mean() > 40


def test_blur_is_computed_from_the_warp_output(renderer):
    """GetBlur1 of a hard edge is a soft edge: the blur passes run and feed the comp shader."""
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    img[:, SIZE // 2:] = 255
    rep, frames = render(renderer, milk(comp_text=body("ret = GetBlur1(uv);")), n=1, seed_image=img)
    assert rep.ok and renderer.shaders is not None and renderer.shaders.blur_level == 1
    row = frames[0][SIZE // 2, :, 0].astype(int)
    assert row[2] < 20 and row[-3] > 235
    assert 1 <= np.abs(np.diff(row)).max() < 100   # no hard step any more


def test_psversion_zero_means_no_shader_for_that_stage(renderer):
    comp = body("ret = 1 - tex2D(sampler_main, uv).xyz;")
    rep, off = render(renderer, milk(comp_text=comp, versions=(2, 0)), n=2, seed_image=test_pattern())
    assert rep.ok and rep.stages == {"warp": "fixed", "comp": "fixed"}
    _, plain = render(renderer, milk(), n=2, seed_image=test_pattern())
    assert all(np.array_equal(a, b) for a, b in zip(off, plain))


# ---------------------------------------------------------------- containment

@pytest.mark.parametrize("stage,text,fragment,line", [
    ("warp", body("ret = undefined_thing;"), "undefined_thing", 4),   # line 1 is body()'s empty head
    ("comp", body("ret = float3(1, 2;"), "", None),
])
def test_broken_shader_falls_back_to_md1_with_the_error_recorded(renderer, stage, text, fragment, line):
    good = body("ret = tex2D(sampler_main, uv).xyz * 0.5;")
    shaders = {f"{stage}_text": text, ("comp_text" if stage == "warp" else "warp_text"): good}
    rep, frames = render(renderer, milk(**shaders, zoom=1.03), n=3, seed_image=test_pattern())
    assert len(rep.shader_errors) == 1, rep
    err = rep.shader_errors[0]
    assert err["stage"] == stage and fragment in err["reason"] and err["reason"]
    if line is not None:
        assert err["line"] == line
    assert rep.stages[stage] == "fallback" and not rep.ok and any(stage in e for e in rep.errors)
    # the picture is exactly what the preset without the broken shader renders
    _, expected = render(renderer, milk(**{k: v for k, v in shaders.items() if k != f"{stage}_text"}, zoom=1.03),
                         n=3, seed_image=test_pattern())
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected))


def test_glsl_compiler_message_is_recorded(renderer, monkeypatch):
    """GLSL the driver rejects (translator bug) falls back too, with the compiler's log."""
    from renderer.shaders import passes
    from renderer.shaders.translate import translate

    def bad_glsl(text, stage):
        sh = translate(text, stage)
        sh.glsl = sh.glsl.replace("void _md_body() {", "void _md_body() {\n    no_such_type x;")
        return sh

    monkeypatch.setattr(passes, "translate_cached", bad_glsl)
    rep, frames = render(renderer, milk(comp_text=body("ret = 0.5;")), n=1)
    assert rep.stages["comp"] == "fallback" and len(frames) == 1
    reason = rep.shader_errors[0]["reason"]
    assert "GLSL compile failed" in reason and "error" in reason.split("GLSL compile failed", 1)[1]


def test_failure_while_rendering_disables_the_stage_not_the_run(renderer):
    comp = body("ret = 1 - tex2D(sampler_main, uv).xyz;")
    rep = renderer.load(parse_milk(milk(comp_text=comp)))
    renderer.seed_feedback(test_pattern())
    first = next(renderer.render(1))
    shaders = renderer.shaders
    original = shaders.comp.draw

    def draw_then_gl_error(state, src, dst):
        original(state, src, dst)
        src.use(location=100000)   # no such texture unit: GL_INVALID_ENUM

    shaders.comp.draw = draw_then_gl_error
    later = list(renderer.render(3))
    assert len(later) == 3 and rep.stages["comp"] == "fallback"
    assert rep.shader_errors[0]["stage"] == "comp" and rep.shader_errors[0]["frame"] == 2
    assert "GL_INVALID_ENUM" in rep.shader_errors[0]["reason"]
    with current(renderer.ctx):
        assert shaders.comp is None and renderer.ctx.error == "GL_NO_ERROR"
    # from the failing frame on, the fixed composite: no longer inverted
    assert np.abs(first.astype(int) - later[-1].astype(int)).mean() > 60


# ---------------------------------------------------------------- determinism

RANDOM_PRESET = milk(
    warp_text=body("ret = tex2D(sampler_main, uv + (tex2D(sampler_noise_lq, uv * 3).xy - 0.5) * 0.02).xyz * 0.97"
              " + 0.05 * rand_frame.xyz + 0.02 * tex3D(sampler_noisevol_hq, float3(uv, time)).xyz;"),
    comp_text=body("ret = tex2D(sampler_main, uv).xyz + GetBlur2(uv) * 0.3 + 0.1 * rand_preset.xyz"
              " + 0.05 * tex2D(sampler_noise_hq, uv + rand_frame.zw).x;"),
    zoom=1.01, rot=0.02)


def test_same_seed_same_bytes_different_seed_different_bytes():
    runs = []
    for seed in (7, 7, 8):
        r = Renderer(SIZE, SIZE, seed=seed)
        try:
            rep, frames = render(r, RANDOM_PRESET, n=6)
        finally:
            r.release()
        assert rep.ok, rep
        runs.append(np.stack(frames))
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    assert len({f.tobytes() for f in runs[0]}) == 6   # rand_frame changes every frame


def test_reloading_a_preset_restarts_it_exactly(renderer):
    a = render(renderer, RANDOM_PRESET, n=4)[1]
    render(renderer, milk(comp_text=body("ret = 0.3;")), n=2)
    b = render(renderer, RANDOM_PRESET, n=4)[1]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------- program cache

def test_program_cache_is_bounded_and_never_frees_a_program_in_use(renderer):
    ctx = renderer.ctx
    with current(ctx):   # GL goes to the current context: other test modules make their own
        cache = ProgramCache(ctx, max_programs=4)
        vs = "#version 330 core\nin vec2 p; void main() { gl_Position = vec4(p, 0.0, 1.0); }"

        def fs(i):
            return f"#version 330 core\nout vec4 c; void main() {{ c = vec4({i}.0 / 255.0); }}"

        for i in range(10):                       # a GA's stream of one-off shaders
            cache.release(cache.acquire(vs, fs(i)))
        assert len(cache.programs) == 4 and cache.evictions == 6
        held = [cache.acquire(vs, fs(100 + i)) for i in range(6)]   # all in use: over the bound
        assert len(cache.programs) == 6 and all(cache.in_use(p) == 1 for p in held)
        tex = ctx.texture((1, 1), 4)
        fbo = ctx.framebuffer([tex])
        vbo = ctx.buffer(np.array([-1, -1, 3, -1, -1, 3], "f4").tobytes())
        for i, prog in enumerate(held):          # every held program still draws
            vao = ctx.vertex_array(prog, [(vbo, "2f", "p")])
            fbo.use()
            vao.render()
            assert fbo.read(components=1)[0] == 100 + i
            vao.release()
        for p in held:
            cache.release(p)
        assert len(cache.programs) == 4
        cache.clear()
        assert len(cache.programs) == 0
        for o in (vbo, fbo, tex):
            o.release()


def test_renderer_programs_are_shared_across_presets(renderer):
    from renderer.shaders.cache import program_cache
    cache = program_cache(renderer.ctx)
    text = milk(comp_text=body("ret = 0.25 + 0.5 * uv.x;"))
    render(renderer, text, n=1)
    misses = cache.misses
    render(renderer, milk(comp_text=body("ret = 0.25 + 0.5 * uv.x;"), zoom=1.1), n=1)
    assert cache.misses == misses


# ---------------------------------------------------------------- corpus

def corpus_shader_files():
    out = []
    for p in sorted(CORPUS.rglob("*.milk")):
        text = p.read_text(encoding="latin-1")
        if "warp_1=" in text or "comp_1=" in text:
            out.append(p)
    return out


def render_corpus(files, n_frames=10, size=64):
    from renderer.milk.preset import load_milk
    failed, crashed, blank = {}, {}, 0
    r = Renderer(size, size, seed=0)
    try:
        for path in files:
            try:
                rep = r.load(load_milk(str(path)))
                frames = list(r.render(n_frames))
            except Exception as exc:  # noqa: BLE001 - the test reports every crash
                crashed[path.name] = f"{type(exc).__name__}: {exc}"
                continue
            if rep.shader_errors:
                failed[path.name] = rep.shader_errors
            blank += int(frames[-1].max() == 0)
    finally:
        r.release()
    return failed, crashed, blank


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="projectm-data not installed")
def test_corpus_sample_of_shader_presets_renders():
    files = corpus_shader_files()
    assert len(files) >= 700
    sample = files[::len(files) // 20][:20]
    failed, crashed, blank = render_corpus(sample)
    assert not crashed, crashed
    assert len(failed) <= 1, failed      # the whole corpus: <= 2% fall back
    assert blank <= 4


def test_many_distinct_shader_presets_free_their_gl_objects_and_bound_the_cache(renderer, monkeypatch):
    """A GA's long run: every child a new shader text. Each preset's GL objects (noise and blur
    textures, framebuffers, buffers, samplers, vertex arrays) are released by the next load, and
    the program cache stays at its bound (evicted programs released too)."""
    import moderngl
    from renderer.shaders.cache import program_cache
    ctx = renderer.ctx
    cache = program_cache(ctx)
    monkeypatch.setattr(cache, "max_programs", 6)

    def child(i):
        return milk(warp_text=body(f"ret = tex2D(sampler_noise_lq, uv).xyz * {i % 7} / 7.0 + GetBlur1(uv) * 0.1;"),
                    comp_text=body(f"ret = tex2D(sampler_main, uv).xyz + {i} / 1000.0;"))

    render(renderer, child(0), n=2)        # anything the MD1 stages create lazily exists now
    created = []
    for factory in ("texture", "texture3d", "buffer", "framebuffer", "sampler", "vertex_array", "program"):
        def wrapped(*a, _make=getattr(ctx, factory), **k):
            obj = _make(*a, **k)
            created.append(obj)
            return obj
        monkeypatch.setattr(ctx, factory, wrapped)
    for i in range(1, 25):
        rep, _ = render(renderer, child(i), n=2)
        assert rep.stages == {"warp": "shader", "comp": "shader"}
        assert len(cache.programs) <= 6
    render(renderer, milk(), n=1)          # no shaders: the last child's stages are released
    live = [o for o in created if not isinstance(o.mglo, moderngl.InvalidObject)]
    assert created and all(isinstance(o, moderngl.Program) for o in live), live
    assert len(live) <= 6 and cache.evictions >= 24 * 2 - 6
