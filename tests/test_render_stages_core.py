"""The Renderer as a whole: stage order, the feedback loop, determinism, the API contract and
GL object hygiene over many presets (a GA loads thousands into one context)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from renderer.audio import AudioAnalyzer, AudioTrack
from renderer.frame_state import StaticEquations
from renderer.gl_context import get_context, gl_name_probe
from renderer.pipeline import LoadReport, Renderer
from renderer.milk.preset import Preset, parse_milk
from helpers import CORPUS

W = H = 64

QUIET = dict(fDecay=1.0, fGammaAdj=1.0, fWaveAlpha=0.0, ob_a=0.0, ib_a=0.0, mv_a=0.0,
             fVideoEchoAlpha=0.0, zoom=1.0, rot=0.0, warp=0.0, bDarkenCenter=0)

MOVING = """[preset00]
fDecay=0.97
fGammaAdj=1.5
nWaveMode=2
fWaveAlpha=1.0
bTexWrap=1
zoom=1.02
warp=0.5
ob_size=0.02
ob_r=0.3
ob_a=0.8
per_frame_1=rot = 0.05*sin(time*3) + 0.01*bass;
per_frame_2=wave_r = 0.5 + 0.5*sin(time); wave_g = rand(100)/100;
per_pixel_1=zoom = zoom + 0.03*rad;
"""


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(W, H, fps=60, seed=0)
    yield r
    r.release()


def quiet_preset(**params) -> Preset:
    p = Preset()
    p.params.update(QUIET)
    p.params.update(params)
    return p


def test_frames_have_the_contract_shape_and_type(renderer):
    report = renderer.load(parse_milk(MOVING, "moving.milk"))
    assert isinstance(report, LoadReport) and report.errors == []
    frames = list(renderer.render(5, audio=None))
    assert len(frames) == 5
    for f in frames:
        assert f.shape == (H, W, 3) and f.dtype == np.uint8 and f.flags.c_contiguous
    assert frames[-1].max() > 0


def test_render_continues_and_load_restarts(renderer):
    p = parse_milk(MOVING, "moving.milk")
    renderer.load(p)
    ten = list(renderer.render(10))
    renderer.load(p)
    first = list(renderer.render(4))
    rest = list(renderer.render(6))
    assert renderer.frame == 10
    for a, b in zip(ten, first + rest):
        assert np.array_equal(a, b)


def test_determinism_two_renderers_identical_bytes():
    p = parse_milk(MOVING, "moving.milk")
    outs = []
    for _ in range(2):
        with Renderer(W, H, seed=7) as r:
            r.load(p)
            outs.append(b"".join(f.tobytes() for f in r.render(30)))
    assert outs[0] == outs[1]


def test_seed_changes_random_values():
    p = parse_milk(MOVING, "moving.milk")
    outs = []
    for seed in (1, 2):
        with Renderer(W, H, seed=seed) as r:
            r.load(p)
            outs.append(list(r.render(10))[-1])
    assert not np.array_equal(outs[0], outs[1])


def test_broken_code_is_reported_and_renders(renderer):
    text = MOVING.replace("per_frame_1=rot = 0.05*sin(time*3) + 0.01*bass;", "per_frame_1=rot = (((;")
    report = renderer.load(parse_milk(text, "broken.milk"))
    assert report.errors
    frames = list(renderer.render(3))
    assert frames[-1].shape == (H, W, 3)


def test_audio_arguments(renderer):
    p = parse_milk(MOVING, "moving.milk")
    rng = np.random.default_rng(0)
    track = AudioTrack(samples=(rng.standard_normal((44100, 2)) * 0.3).astype(np.float32), rate=44100,
                       source="noise")
    renderer.load(p)
    a = list(renderer.render(3, track))
    renderer.load(p)
    b = list(renderer.render(3, AudioAnalyzer(track, fps=60)))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    with pytest.raises(TypeError):
        list(renderer.render(1, "music.wav"))


def test_stages_draw_into_the_feedback_and_borders_come_last(renderer):
    # a white custom shape covering the picture is drawn before the (red, opaque) outer border
    p = quiet_preset(ob_size=0.2, ob_r=1.0, ob_g=0.0, ob_b=0.0, ob_a=1.0)
    s = p.shapes[0]
    s.params.update(enabled=1, sides=4, rad=2.0, r=1, g=1, b=1, a=1, r2=1, g2=1, b2=1, a2=1, border_a=0)
    renderer.load(p)
    f = list(renderer.render(1))[-1]
    assert (f[H // 2, 1] == [255, 0, 0]).all()  # border over the shape
    assert (f[H // 2, W // 2] == 255).all()  # shape in the middle


def test_feedback_carries_drawing_into_next_frame(renderer):
    # draw the border once (frame 1) then switch it off: zoom 1, decay 1 keeps it on screen
    p = quiet_preset(ob_size=0.2, ob_r=1.0, ob_a=1.0)
    eq = StaticEquations(p)
    calls = {"n": 0}
    base_begin = eq.begin_frame

    def begin(inputs):
        calls["n"] += 1
        v = base_begin(inputs)
        if calls["n"] > 1:
            v["ob_a"] = 0.0
        return v

    eq.begin_frame = begin
    renderer.load(p, equations=eq)
    frames = list(renderer.render(3))
    assert (frames[2][H // 2, 1] == [255, 0, 0]).all()


def test_release_is_idempotent_and_blocks_use():
    r = Renderer(16, 16)
    r.load(quiet_preset())
    r.release()
    r.release()
    with pytest.raises(RuntimeError):
        list(r.render(1))


def test_bad_sizes_are_rejected():
    with pytest.raises(ValueError):
        Renderer(0, 16)
    with pytest.raises(ValueError):
        Renderer(16, 16, fps=0)


def _variants(n: int) -> list[Preset]:
    out = []
    for i in range(n):
        p = parse_milk(MOVING.replace("zoom=1.02", f"zoom={1 + i / 500:.4f}"), f"v{i}.milk")
        p.params["nWaveMode"] = i % 8
        p.shapes[i % 4].params.update(enabled=1, sides=3 + i % 5, textured=i % 2)
        p.waves[i % 4].params.update(enabled=1, samples=64 + i)
        out.append(p)
    return out


def test_fifty_presets_in_one_context_create_no_gl_objects(renderer):
    # Mesa hands out GL names in increasing order here, so a name that moves by more than the
    # probe's own object means something was created while loading or rendering.
    ctx = get_context()
    presets = _variants(50)
    renderer.load(presets[0])
    list(renderer.render(2))
    before = gl_name_probe(ctx)
    for p in presets:
        renderer.load(p)
        list(renderer.render(2))
    after = gl_name_probe(ctx)
    assert all(after[k] - before[k] <= 1 for k in before), (before, after)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def test_renderers_created_and_released_free_their_memory():
    # 512x512: three 1 MiB RGBA8 targets per renderer, so a leak of 12 renderers is ~36 MiB
    with Renderer(512, 512) as r:
        r.load(quiet_preset())
        list(r.render(1))
    start = _rss_mb()
    for _ in range(12):
        with Renderer(512, 512) as r:
            r.load(parse_milk(MOVING, "moving.milk"))
            list(r.render(1))
    assert _rss_mb() - start < 12


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="projectM presets not installed")
def test_corpus_presets_render_deterministically():
    from renderer.milk.preset import load_milk

    files = sorted(CORPUS.rglob("*.milk"))[::400][:8]
    for f in files:
        p = load_milk(f)
        outs = []
        for _ in range(2):
            with Renderer(W, H, seed=3) as r:
                r.load(p)
                outs.append(b"".join(fr.tobytes() for fr in r.render(8)))
        assert outs[0] == outs[1], f


# a preset that exercises every stage that could carry state between frames: per-pixel code,
# motion vectors, a textured shape (samples last frame), a custom wave, echo and the hue effect
ALL_STAGES = MOVING + """mv_a=0.6
mv_x=12
mv_y=9
fVideoEchoAlpha=0.4
fShader=0.7
bDarkenCenter=1
shapecode_0_enabled=1
shapecode_0_textured=1
shapecode_0_sides=5
shapecode_0_rad=0.3
shapecode_0_a=0.8
shape_0_per_frame1=ang = time;
wavecode_0_enabled=1
wavecode_0_samples=200
wave_0_per_point1=x = sample; y = 0.5 + 0.2*value1;
"""


def test_keep_reads_back_only_the_wanted_frames_and_they_match_a_full_render(renderer):
    p = parse_milk(ALL_STAGES, "all.milk")
    renderer.load(p)
    full = list(renderer.render(24))
    keep = {0, 5, 6, 17, 23}
    renderer.load(p)
    part = list(renderer.render(24, keep=keep))
    assert len(part) == 24
    for i, (a, b) in enumerate(zip(full, part)):
        if i in keep:
            assert b is not None and np.array_equal(a, b), i
        else:
            assert b is None, i
    # an empty keep still advances the feedback: the next frames continue the same picture
    renderer.load(p)
    assert list(renderer.render(10, keep=())) == [None] * 10
    rest = list(renderer.render(14))
    assert all(np.array_equal(a, b) for a, b in zip(full[10:], rest))


def test_keep_with_a_range_and_a_comp_shader(renderer):
    comp = ["shader_body", "{", "ret = tex2D(sampler_main, uv).bgr * 1.5;", "}"]
    text = ALL_STAGES + "MILKDROP_PRESET_VERSION=201\nPSVERSION=2\nPSVERSION_WARP=0\nPSVERSION_COMP=2\n"
    text += "".join(f"comp_{i}=`{line}\n" for i, line in enumerate(comp, 1))
    p = parse_milk(text, "comp.milk")
    renderer.load(p)
    full = list(renderer.render(12))
    report = renderer.load(p)
    assert report.stages["comp"] == "shader", report.errors
    part = list(renderer.render(12, keep=range(6, 12, 2)))
    for i in range(12):
        assert (part[i] is not None) == (i in range(6, 12, 2))
        if part[i] is not None:
            assert np.array_equal(full[i], part[i]), i


def test_audio_frames_are_shared_read_only_between_renders(renderer):
    p = parse_milk(ALL_STAGES, "all.milk")
    analyzer = AudioAnalyzer(AudioTrack(samples=np.zeros((44100, 2), np.float32) + 0.1, rate=44100,
                                        source="dc"), fps=60)
    renderer.load(p)
    a = list(renderer.render(4, analyzer))
    cached = renderer._audio_frame(analyzer, 2)
    assert cached is renderer._audio_frame(analyzer, 2)  # memoised: one FFT per frame number
    with pytest.raises(ValueError):
        cached.waveform[0, 0] = 1.0  # read-only, so no consumer can change a later render
    renderer.load(p)
    b = list(renderer.render(4, analyzer))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_get_context_is_current_after_another_context_was_used():
    import moderngl

    ctx = get_context()
    ours = ctx.texture((2, 1), 4, data=bytes(range(8)))
    other = moderngl.create_standalone_context(backend="egl", require=330)
    other.__enter__()  # what a caller's own moderngl work leaves behind
    theirs = [other.texture((2, 1), 4, data=bytes(8)) for _ in range(ours.glo + 1)]  # same GL names there
    try:
        assert get_context() is ctx
        # GL now talks to our context: a framebuffer made through it reads our texture's bytes
        fbo = ctx.framebuffer(color_attachments=[ours])
        assert fbo.read(components=4) == bytes(range(8))
        fbo.release()
    finally:
        other.__enter__()
        for t in theirs:
            t.release()
        other.release()
        get_context()
        ours.release()


def _mesh_and_cell_renders(p, n: int, seed_image=None, size=(80, 48)):
    """The same render through the reference mesh warp and the one-pass cell warp."""
    from renderer.stages.warp_mesh import WarpMesh

    outs = []
    for cell_pass in (True, False):
        with Renderer(*size, seed=1) as r:  # not square: aspect correction in the mesh too
            assert r.warp.size is not None  # the renderer's own warp is the cell pass
            if not cell_pass:
                r.warp.release()
                r.warp = WarpMesh(r.ctx, r.mesh, r.aspect_x, r.aspect_y, size=None)
            r.load(p)
            if seed_image is not None:
                r.seed_feedback(seed_image)
            outs.append([f.copy() for f in r.render(n)])
    return outs


@pytest.mark.parametrize("size", [(80, 48), (128, 128), (100, 75)])
def test_cell_pass_warps_one_frame_as_the_mesh_does(size):
    # one warp step of a noise picture: every pixel samples its own uv, so a pixel in the wrong
    # triangle, a flipped diagonal or an off-by-one cell shows at once; only float rounding of
    # the interpolated uv may move a bilinear weight by one step
    text = MOVING.replace("nWaveMode=2", "nWaveMode=0").replace("fWaveAlpha=1.0", "fWaveAlpha=0.0") \
        .replace("ob_a=0.8", "ob_a=0.0") + "per_pixel_2=rot = rot + 0.2*x*y; dx = 0.01*sin(ang*3);\n"
    noise = np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    cell, mesh = _mesh_and_cell_renders(parse_milk(text, "warp.milk"), 1, noise, size)
    diff = np.abs(cell[0].astype(int) - mesh[0].astype(int))
    assert mesh[0].std() > 20  # the noise survived the warp: there is something to compare
    assert diff.max() <= 2
    assert (diff.max(axis=2) > 0).mean() < 0.01


@pytest.mark.parametrize("text", [ALL_STAGES, MOVING.replace("warp=0.5", "warp=0").replace(
    "per_pixel_1=zoom = zoom + 0.03*rad;", "").replace("per_frame_1=rot = 0.05*sin(time*3) + 0.01*bass;", "")],
    ids=["uv changes every frame", "uv constant: upload skipped"])
def test_cell_pass_renders_what_the_mesh_renders(text):
    cell, mesh = _mesh_and_cell_renders(parse_milk(text, "warp.milk"), 20)
    for a, b in zip(cell, mesh):
        diff = np.abs(a.astype(int) - b.astype(int))
        assert (diff.max(axis=2) > 0).mean() < 0.02 and diff.mean() < 0.1
    assert mesh[-1].max() > 0
