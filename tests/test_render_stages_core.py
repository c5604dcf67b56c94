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
from renderer.preset import Preset, parse_milk

W = H = 64
CORPUS = Path("/usr/share/projectM/presets")

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
    from renderer.preset import load_milk

    files = sorted(CORPUS.rglob("*.milk"))[::400][:8]
    for f in files:
        p = load_milk(f)
        outs = []
        for _ in range(2):
            with Renderer(W, H, seed=3) as r:
                r.load(p)
                outs.append(b"".join(fr.tobytes() for fr in r.render(8)))
        assert outs[0] == outs[1], f
