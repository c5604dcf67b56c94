"""Faithfulness of the built-in waveform and custom wave stages against MilkDrop 2's formulas.

Known waveforms (constants, so MilkDrop's IIR smoothing leaves them unchanged) let each test
predict exactly where MilkDrop's formula puts the wave: clip x = 2*mx - 1, screen row = y*H.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from renderer.stages.custom_wave import CustomWaveStage, wave_samples
from renderer.stages.waveform import WaveformStage, smooth_wave
from stage_helpers import FakeEquations, Target, audio_frame, frame_state, lit

W = H = 128


@pytest.fixture(scope="module")
def target():
    t = Target(W, H)
    yield t
    t.release()


@pytest.fixture(scope="module")
def basic(target):
    s = WaveformStage(target.ctx)
    yield s
    s.release()


@pytest.fixture(scope="module")
def custom(target):
    s = CustomWaveStage(target.ctx)
    yield s
    s.release()


BASE = dict(wave_mode=0, wave_a=1.0, wave_r=1, wave_g=1, wave_b=1, wave_x=0.5, wave_y=0.5, wave_scale=1.0,
            wave_smoothing=0.0, wave_mystery=0.0, wave_dots=0, wave_thick=0, additivewave=0, wave_brighten=0,
            modwavealphabyvolume=0, modwavealphastart=0.75, modwavealphaend=0.95, bass=1, mid=1, treb=1)


def draw_basic(target, basic, clear=(0, 0, 0, 1), audio=None, time=0.0, **vars_):
    target.clear(clear)
    basic.draw(frame_state(target, {**BASE, **vars_}, FakeEquations(), audio=audio, time=time))
    return target.read()


def pixel_of(mx: float, my: float) -> tuple[float, float]:
    """(row, col) centre of MilkDrop coordinates (y down)."""
    return my * H - 0.5, mx * W - 0.5


def wave_pixel_of(mx: float, my: float) -> tuple[float, float]:
    """(row, col) centre of wave coordinates: wave_y and a custom wave's y run up (1 = top), as on
    MilkDrop 2's screen ("backwards (top==1)") and in butterchurn's pictures."""
    return pixel_of(mx, 1.0 - my)


# --------------------------------------------------------------------------- built-in modes


@pytest.mark.parametrize("level, mystery, mode", [(0, 0.0, 0), (64, 0.0, 0), (0, 0.2, 0), (64, 0.0, 8)])
def test_mode0_circle_radius(target, basic, level, mystery, mode):
    # rad = 0.5 + 0.4*sample*wave_scale/128 + wave_mystery, in clip units (W/2 px); mode 8 is 8%8 = 0
    img = draw_basic(target, basic, audio=audio_frame(level), wave_mode=mode, wave_mystery=mystery)
    rows, cols = np.nonzero(lit(img))
    dist = np.hypot(rows - (H - 1) / 2, cols - (W - 1) / 2)
    expect = (0.5 + 0.4 * level / 128 + mystery) * W / 2
    assert len(rows) > 2 * math.pi * expect * 0.8  # a whole ring, not a few dots
    assert abs(np.median(dist) - expect) <= 1.0
    assert dist.max() - dist.min() <= 3.0


def test_mode0_follows_wave_x_and_wave_y(target, basic):
    img = draw_basic(target, basic, wave_x=0.4, wave_y=0.65)
    rows, cols = np.nonzero(lit(img))
    r0, c0 = wave_pixel_of(0.4, 0.65)
    assert r0 < H / 2  # wave_y above the middle is drawn in the upper half
    assert abs(rows.mean() - r0) <= 1.0 and abs(cols.mean() - c0) <= 1.0


def test_mode2_centred_xy_scatter_lands_at_right_left(target, basic):
    # x = R*wave_scale/128 + (2*wave_x-1), y = L[i+32]*wave_scale/128 + (2*wave_y-1), y pointing up
    left, right = 32.0, -64.0
    img = draw_basic(target, basic, audio=audio_frame(left, right), wave_mode=2, wave_dots=1)
    lum = img.max(axis=2)
    r, c = np.unravel_index(np.argmax(lum), lum.shape)
    r0, c0 = wave_pixel_of((right / 128 + 1) / 2, (left / 128 + 1) / 2)
    assert abs(r - r0) <= 1.5 and abs(c - c0) <= 1.5
    assert lit(img, 10).sum() <= 9  # every point on the same spot (4 one-pixel-shifted dot passes)


def test_mode2_alpha_is_faint(target, basic):
    # mode 2's alpha is wave_a * 0.09 below 1024 px: one pass over a spot is dim, not white
    audio = audio_frame(np.linspace(-100, 100, 576), np.linspace(100, -100, 576))
    img = draw_basic(target, basic, audio=audio, wave_mode=2)
    assert 0 < img.max() and np.percentile(img[lit(img, 1)], 50) < 0.3 * 255


def test_mode1_spiral_point(target, basic):
    # rad = 0.53 + 0.43*R + mystery, ang = L*1.57 + time*2.3: constant audio, time 0 -> one point
    img = draw_basic(target, basic, audio=audio_frame(0.0, 32.0), wave_mode=1, wave_dots=1)
    lum = img.max(axis=2)
    r, c = np.unravel_index(np.argmax(lum), lum.shape)
    rad = 0.53 + 0.43 * 0.25
    r0, c0 = wave_pixel_of((rad + 1) / 2, 0.5)
    assert abs(r - r0) <= 1.5 and abs(c - c0) <= 1.5


@pytest.mark.parametrize("wave_x", [0.25, 0.5, 0.7])
def test_mode6_horizontal_line_at_wave_x(target, basic, wave_x):
    # mode 6 draws along angle 1.57*mystery; wave_x slides it across (MilkDrop: "wave_y does nothing")
    img = draw_basic(target, basic, wave_mode=6, wave_x=wave_x, wave_y=0.9)
    on = lit(img)
    rows, cols = np.nonzero(on)
    assert on.any(axis=0).mean() > 0.97  # spans the screen
    # the line is at clip y = 2*wave_x - 1: wave_x near 1 draws it at the top
    assert abs(rows.mean() - wave_pixel_of(0, wave_x)[0]) <= 1.0
    assert rows.max() - rows.min() <= 1


def test_mode6_sample_offsets_the_line_by_a_quarter(target, basic):
    img = draw_basic(target, basic, audio=audio_frame(64.0), wave_mode=6)
    rows, _ = np.nonzero(lit(img))
    assert abs(rows.mean() - wave_pixel_of(0, 0.5 + 0.25 * 0.5 / 2)[0]) <= 1.0


def test_mode6_mystery_one_is_vertical(target, basic):
    img = draw_basic(target, basic, wave_mode=6, wave_mystery=1.0)
    on = lit(img)
    assert on.any(axis=1).mean() > 0.97 and on.any(axis=0).sum() <= 3


def test_mode7_two_lines_separated_by_wave_y_squared(target, basic):
    img = draw_basic(target, basic, wave_mode=7, wave_y=0.6)
    rows = np.unique(np.nonzero(lit(img))[0])
    sep = 0.6**2  # clip units either side of the centre line
    expect = sorted([wave_pixel_of(0, (1 + sep) / 2)[0], wave_pixel_of(0, (1 - sep) / 2)[0]])
    groups = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    assert len(groups) == 2
    for g, e in zip(groups, expect):
        assert abs(g.mean() - e) <= 1.0


def test_mode4_script_line_at_wave_y(target, basic):
    img = draw_basic(target, basic, wave_mode=4, wave_y=0.3)
    rows, _ = np.nonzero(lit(img))
    assert abs(rows.mean() - wave_pixel_of(0, 0.3)[0]) <= 1.0
    assert lit(img).any(axis=0).mean() > 0.95


def test_mode3_alpha_follows_treble(target, basic):
    audio = audio_frame(np.linspace(-100, 100, 576), np.linspace(100, -100, 576), treb=0.0)
    assert draw_basic(target, basic, audio=audio, wave_mode=3, treb=0.0).max() == 0
    assert draw_basic(target, basic, audio=audio, wave_mode=3, treb=2.0).max() > 0


def test_mod_wave_alpha_by_volume(target, basic):
    quiet = draw_basic(target, basic, modwavealphabyvolume=1, bass=0.5, mid=0.5, treb=0.5)
    loud = draw_basic(target, basic, modwavealphabyvolume=1, bass=1.2, mid=1.2, treb=1.2)
    half = draw_basic(target, basic, modwavealphabyvolume=1, bass=0.85, mid=0.85, treb=0.85)
    assert quiet.max() == 0
    assert loud.max() == 255
    assert abs(int(half.max()) - 128) <= 3  # (0.85-0.75)/(0.95-0.75) = 0.5


def test_wave_brighten_maximizes_colour(target, basic):
    dull = draw_basic(target, basic, wave_mode=6, wave_r=0.5, wave_g=0.25, wave_b=0.0)
    bright = draw_basic(target, basic, wave_mode=6, wave_r=0.5, wave_g=0.25, wave_b=0.0, wave_brighten=1)
    assert tuple(dull.reshape(-1, 3).max(0)) == pytest.approx((128, 64, 0), abs=1)
    assert tuple(bright.reshape(-1, 3).max(0)) == pytest.approx((255, 128, 0), abs=1)


def test_basic_wave_additive_versus_alpha(target, basic):
    blue = (0.0, 0.0, 0.4, 1.0)
    common = dict(wave_mode=6, wave_a=0.5, wave_r=1, wave_g=0, wave_b=0)
    over = draw_basic(target, basic, clear=blue, **common)[H // 2 - 1:H // 2 + 1].reshape(-1, 3).max(0)
    add = draw_basic(target, basic, clear=blue, additivewave=1, **common)[H // 2 - 1:H // 2 + 1].reshape(-1, 3)
    assert abs(int(over[0]) - 128) <= 2
    assert abs(int(add[:, 0].max()) - 128) <= 2 and add[:, 2].min() >= 101


def test_wave_thick_doubles_the_line(target, basic):
    thin = lit(draw_basic(target, basic, wave_mode=6)).sum()
    thick = lit(draw_basic(target, basic, wave_mode=6, wave_thick=1)).sum()
    assert 1.8 < thick / thin < 2.3


def test_negative_mode_and_zero_alpha_draw_nothing(target, basic):
    assert draw_basic(target, basic, wave_mode=-1).max() == 0
    assert draw_basic(target, basic, wave_a=0.0).max() == 0


def test_smooth_wave_keeps_points_and_inserts_midpoints():
    pts = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    out = smooth_wave(pts)
    assert out.shape == (7, 2)
    assert np.allclose(out[0::2], pts)
    assert np.allclose(out[1::2, 0], [0.425, 1.5, 2.575])  # (-.15 a + 1.15 b + 1.15 c - .15 d)/2


# --------------------------------------------------------------------------- custom waves

WAVE = dict(enabled=1, samples=512, sep=0, spectrum=0, usedots=0, thick=0, additive=0, scaling=1.0,
            smoothing=0.0, r=1, g=1, b=1, a=1)


def draw_custom(target, custom, wave=None, points=None, audio=None, clear=(0, 0, 0, 1)):
    eq = FakeEquations(waves={0: {**WAVE, **(wave or {})}}, points={0: points} if points else {})
    target.clear(clear)
    custom.draw(frame_state(target, {"wave_scale": 1.0}, eq, audio=audio))
    return target.read()


def horizontal(sample, v1, v2):
    return {"x": sample, "y": np.full_like(sample, 0.5)}


def test_custom_wave_per_point_horizontal_line(target, custom):
    on = lit(draw_custom(target, custom, points=horizontal))
    rows, _ = np.nonzero(on)
    assert on.any(axis=0).mean() > 0.97
    assert abs(rows.mean() - pixel_of(0, 0.5)[0]) <= 0.6


def test_custom_wave_default_points_sit_at_half_plus_value(target, custom):
    # no per-point code: x = 0.5 + value1, y = 0.5 + value2, value = sample*0.004*scaling*fWaveScale
    img = draw_custom(target, custom, wave={"usedots": 1, "scaling": 2.0}, audio=audio_frame(50.0, -25.0))
    lum = img.max(axis=2)
    r, c = np.unravel_index(np.argmax(lum), lum.shape)
    r0, c0 = wave_pixel_of(0.5 + 50 * 0.004 * 2, 0.5 - 25 * 0.004 * 2)  # a custom wave's y runs up too
    assert abs(r - r0) <= 1.0 and abs(c - c0) <= 1.0
    assert lit(img).sum() <= 4


def test_custom_wave_spectrum_uses_the_spectrum(target, custom):
    img = draw_custom(target, custom, wave={"usedots": 1, "spectrum": 1}, audio=audio_frame(0.0, spectrum=2.0))
    lum = img.max(axis=2)
    r, c = np.unravel_index(np.argmax(lum), lum.shape)
    r0, c0 = wave_pixel_of(0.5 + 2 * 0.15, 0.5 + 2 * 0.15)
    assert abs(r - r0) <= 1.0 and abs(c - c0) <= 1.0


def test_custom_wave_per_point_colour(target, custom):
    def ramp(sample, v1, v2):
        return {"x": sample, "y": np.full_like(sample, 0.5), "r": sample, "g": 0 * sample, "b": 1 - sample}

    img = draw_custom(target, custom, points=ramp)
    row = img[int(pixel_of(0, 0.5)[0]) - 1:int(pixel_of(0, 0.5)[0]) + 2].max(axis=0).astype(int)
    assert row[5, 2] > 200 and row[5, 0] < 30
    assert row[W - 6, 0] > 200 and row[W - 6, 2] < 30


def test_custom_wave_additive_versus_alpha(target, custom):
    blue = (0.0, 0.0, 0.4, 1.0)
    wave = {"r": 1, "g": 0, "b": 0, "a": 0.5}
    r0 = int(pixel_of(0, 0.5)[0])
    over = draw_custom(target, custom, wave=wave, points=horizontal, clear=blue)[r0 - 1:r0 + 2, 60]
    add = draw_custom(target, custom, wave={**wave, "additive": 1}, points=horizontal, clear=blue)[r0 - 1:r0 + 2, 60]
    lit_over = over[over[:, 0] > 50][0].astype(int)
    lit_add = add[add[:, 0] > 50][0].astype(int)
    assert abs(lit_over[0] - 128) <= 2 and abs(lit_over[2] - 51) <= 2
    assert abs(lit_add[0] - 128) <= 2 and abs(lit_add[2] - 102) <= 2


def test_custom_wave_thick_and_too_few_samples(target, custom):
    thin = lit(draw_custom(target, custom, points=horizontal)).sum()
    thick = lit(draw_custom(target, custom, wave={"thick": 1}, points=horizontal)).sum()
    assert 1.8 < thick / thin < 2.3
    assert draw_custom(target, custom, wave={"samples": 1}, points=horizontal).max() == 0


def test_wave_samples_sep_offsets_the_channels():
    ramp = np.arange(576, dtype=np.float32)
    audio = audio_frame(ramp, ramp + 1000)
    settings = {**WAVE, "samples": 100, "sep": 20}
    v1, v2 = wave_samples(audio, settings, 1.0)
    n = 100 - 20
    assert len(v1) == n
    j0 = (480 - n) // 2 - 10
    j1 = (480 - n) // 2 + 10
    assert v1[0] == pytest.approx(j0 * 0.004) and v2[0] == pytest.approx((j1 + 1000) * 0.004)
    assert np.allclose(np.diff(v1), 0.004)


def test_wave_samples_smoothing_is_symmetric():
    # forward-then-backward filtering: a centred spike spreads equally both ways
    spike = np.zeros(576, dtype=np.float32)
    spike[240] = 100.0
    v1, _ = wave_samples(audio_frame(spike), {**WAVE, "samples": 480, "smoothing": 0.9}, 1.0)
    peak = int(np.argmax(v1))
    assert peak == 240
    assert v1[peak - 5] == pytest.approx(v1[peak + 5], rel=0.05)


# --------------------------------------------------------------------------- real presets, real EEL

WAVE_PRESET = """[preset00]
fWaveAlpha=0
wavecode_0_enabled=1
wavecode_0_samples=128
wavecode_0_a=1
wave_0_per_point1=x = sample;
wave_0_per_point2=y = 0.5;
"""


def test_preset_custom_wave_per_point_code_draws_a_horizontal_line(target, custom):
    from stage_helpers import preset_state

    target.clear()
    custom.draw(preset_state(target, WAVE_PRESET))
    on = lit(target.read())
    rows, _ = np.nonzero(on)
    assert on.any(axis=0).mean() > 0.97
    assert abs(rows.mean() - pixel_of(0, 0.5)[0]) <= 0.6


def test_preset_custom_wave_per_frame_colour_and_disabled(target, custom):
    from stage_helpers import preset_state

    text = WAVE_PRESET + "wave_0_per_frame1=r = 0; g = 0; b = 1;\n"
    target.clear()
    custom.draw(preset_state(target, text))
    img = target.read()
    assert img[..., 2].max() == 255 and img[..., 0].max() == 0
    target.clear()
    custom.draw(preset_state(target, text.replace("wavecode_0_enabled=1", "wavecode_0_enabled=0")))
    assert target.read().max() == 0


def test_preset_builtin_wave_mode_from_per_frame_code(target, basic):
    from stage_helpers import preset_state

    text = "[preset00]\nnWaveMode=0\nfWaveAlpha=1\nfWaveSmoothing=0\nper_frame_1=wave_mode = 6; wave_x = 0.3;\n"
    target.clear()
    basic.draw(preset_state(target, text))
    rows, _ = np.nonzero(lit(target.read()))
    assert abs(rows.mean() - wave_pixel_of(0, 0.3)[0]) <= 1.0


_SPECTRUM_WAVE = """[preset00]
fDecay=0.5
wavecode_0_enabled=1
wavecode_0_bSpectrum=1
wavecode_0_samples=512
wavecode_0_scaling=4
wave_0_per_point1=x=sample; y=0.2+value1;
"""
_PLAIN = """[preset00]
fDecay=0.5
nWaveMode=2
"""


def test_spectrum_is_computed_when_a_wave_reads_it_after_a_preset_that_did_not():
    # the renderer skips the audio spectrum for presets without a bSpectrum wave and keeps the
    # frames it made; a spectrum preset that follows must still see the spectrum
    from renderer.audio import synthesize
    from renderer.milk.preset import parse_milk
    from renderer.pipeline import Renderer

    audio = synthesize(seconds=1.0, seed=3)
    spectrum, plain = parse_milk(_SPECTRUM_WAVE), parse_milk(_PLAIN)
    with Renderer(64, 64) as fresh:
        fresh.load(spectrum)
        want = list(fresh.render(8, audio))
    with Renderer(64, 64) as reused:
        reused.load(plain)
        list(reused.render(8, audio))
        assert all(af.spectrum is None for k, af in reused._audio_frames.items() if k != "analyzer")
        reused.load(spectrum)
        got = list(reused.render(8, audio))
    assert any(lit(f).any() for f in want)
    for a, b in zip(want, got):
        assert np.array_equal(a, b)
