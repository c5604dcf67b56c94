"""Faithfulness of the pipeline's own stages: warp mesh, decay, wrap, borders, darken centre,
motion vectors and the composite, each checked against MilkDrop's formula on a picture we seed.

Every test starts from a "quiet" preset (no wave, no borders, decay 1, gamma 1, identity motion)
that switches on one thing, and uses StaticEquations so only the stage under test runs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from renderer.frame_state import StaticEquations
from renderer.pipeline import Renderer
from renderer.milk.preset import Preset

W = H = 128
C = (W - 1) / 2.0  # picture centre in pixel-centre coordinates

QUIET = dict(fDecay=1.0, fGammaAdj=1.0, fWaveAlpha=0.0, fWaveScale=0.0, ob_a=0.0, ib_a=0.0, mv_a=0.0,
             fVideoEchoAlpha=0.0, zoom=1.0, rot=0.0, warp=0.0, dx=0.0, dy=0.0, sx=1.0, sy=1.0,
             fZoomExponent=1.0, bTexWrap=1, bDarkenCenter=0, fShader=0.0)


def quiet_preset(**params) -> Preset:
    p = Preset()
    p.params.update(QUIET)
    p.params.update(params)
    return p


@pytest.fixture(scope="module")
def renderer():
    r = Renderer(W, H, fps=60, seed=0)
    yield r
    r.release()


def run(r: Renderer, preset: Preset, frames: int, seed_image=None) -> list[np.ndarray]:
    r.load(preset, equations=StaticEquations(preset))
    if seed_image is not None:
        r.seed_feedback(seed_image)
    return list(r.render(frames, audio=None))


def blob_image(cx: float, cy: float, half: int = 2, value: int = 220) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    x0, y0 = int(round(cx - half + 0.5)), int(round(cy - half + 0.5))
    img[y0:y0 + 2 * half, x0:x0 + 2 * half] = value
    return img


def centroid(frame: np.ndarray) -> tuple[float, float]:
    g = frame.astype(np.float64).sum(axis=2)
    g[g < 30] = 0  # ignore faint rounding haze
    ys, xs = np.indices(g.shape)
    return float((xs * g).sum() / g.sum()), float((ys * g).sum() / g.sum())


# --------------------------------------------------------------------------- warp mesh


def test_zoom_moves_a_dot_outward_by_zoom_per_frame(renderer):
    n, r0 = 5, 16.0
    img = blob_image(C + r0, C)
    x0, y0 = centroid(img)
    frames = run(renderer, quiet_preset(zoom=1.1), n, img)
    x, y = centroid(frames[-1])
    assert x - C == pytest.approx((x0 - C) * 1.1**n, abs=0.6)
    assert y == pytest.approx(C, abs=0.5)


def test_zoom_below_one_pulls_inward(renderer):
    img = blob_image(C + 40, C)
    x0, _ = centroid(img)
    frames = run(renderer, quiet_preset(zoom=0.95), 4, img)
    x, _ = centroid(frames[-1])
    assert x - C == pytest.approx((x0 - C) * 0.95**4, abs=0.6)


def test_zoomexp_makes_zoom_depend_on_radius(renderer):
    # zoom2 = zoom ** (zoomexp ** (2 rad - 1)): at rad 0.5 the exponent is 1 whatever zoomexp is
    r0 = 0.5 * (W / 2)  # rad 0.5 in clip units = a quarter of the width from the centre
    img = blob_image(C + r0, C)
    x0, _ = centroid(img)
    frames = run(renderer, quiet_preset(zoom=1.05, fZoomExponent=3.0), 1, img)
    x, _ = centroid(frames[-1])
    assert x - C == pytest.approx((x0 - C) * 1.05, abs=0.5)


def test_rot_turns_a_dot_by_rot_per_frame(renderer):
    n, r0, rot = 5, 30.0, 0.1
    img = blob_image(C + r0, C)
    frames = run(renderer, quiet_preset(rot=rot), n, img)
    x, y = centroid(frames[-1])
    # u' = R(rot) u in (x right, y down) texture space: content turns by -rot per frame there,
    # i.e. counter-clockwise on screen.
    ang = math.atan2(y - C, x - C)
    assert ang == pytest.approx(-n * rot, abs=0.03)
    assert math.hypot(x - C, y - C) == pytest.approx(r0, abs=0.8)


@pytest.mark.parametrize("key,axis,sign", [("dx", 0, 1), ("dy", 1, 1)])
def test_dx_dy_translate(renderer, key, axis, sign):
    n, d = 5, 0.02
    img = blob_image(C, C)
    start = centroid(img)
    frames = run(renderer, quiet_preset(**{key: d}), n, img)
    end = centroid(frames[-1])
    size = (W, H)[axis]
    # u -= dx samples from the left, so content moves right (+x); v -= dy moves it down (+y)
    assert end[axis] - start[axis] == pytest.approx(sign * n * d * size, abs=0.5)
    assert end[1 - axis] == pytest.approx(start[1 - axis], abs=0.3)


def test_sx_stretches_about_cx(renderer):
    img = blob_image(C + 20, C)
    x0, _ = centroid(img)
    frames = run(renderer, quiet_preset(sx=1.1), 3, img)
    x, _ = centroid(frames[-1])
    assert x - C == pytest.approx((x0 - C) * 1.1**3, abs=0.6)


def test_warp_moves_pixels_and_depends_on_time(renderer):
    img = np.zeros((H, W, 3), np.uint8)
    img[::8] = 200
    img[:, ::8] = 200
    a = run(renderer, quiet_preset(warp=1.0), 3, img)
    still = run(renderer, quiet_preset(warp=0.0), 3, img)
    assert np.abs(a[-1].astype(int) - still[-1]).mean() > 2
    assert not np.array_equal(a[0], a[1])  # the warp keeps moving
    assert np.array_equal(still[0], still[1])  # identity motion is exact


def test_decay_darkens_flat_field_by_decay_per_frame(renderer):
    img = np.full((H, W, 3), 200, np.uint8)
    frames = run(renderer, quiet_preset(fDecay=0.9), 4, img)
    expected = 200.0
    for f in frames:
        expected *= 0.9
        assert np.abs(f.astype(float) - expected).max() <= 1.0 + 0.1 * (200 - expected) / 20
        assert f.std() < 0.6  # flat stays flat
        expected = float(np.round(f.mean()))


def test_decay_runs_in_8_bits(renderer):
    # An 8-bit target rounds every frame: 10 -> 9 -> 8 -> 7 -> 6 -> 5 then round(0.9 k) == k
    # holds for k <= 5, so a faint field gets stuck instead of fading like a float would.
    img = np.full((H, W, 3), 10, np.uint8)
    frames = run(renderer, quiet_preset(fDecay=0.9), 40, img)
    assert [int(f[5, 5, 0]) for f in frames[:5]] == [9, 8, 7, 6, 5]
    assert 4 <= frames[-1].min() and frames[-1].max() <= 5


def test_wrap_versus_clamp(renderer):
    img = np.zeros((H, W, 3), np.uint8)
    img[:, 118:122] = 250
    wrapped = run(renderer, quiet_preset(dx=0.1, bTexWrap=1), 1, img)[-1]
    clamped = run(renderer, quiet_preset(dx=0.1, bTexWrap=0), 1, img)[-1]
    shift = 0.1 * W  # 12.8 px: the bar crosses the right edge
    col = int(round(120 - W + shift))
    assert wrapped[:, col].mean() > 150
    assert clamped[:, :8].max() == 0  # clamped: the left edge repeats the (black) edge column


# --------------------------------------------------------------------------- borders, centre


def test_outer_and_inner_border_width_and_colour(renderer):
    p = quiet_preset(ob_size=0.1, ob_r=1.0, ob_g=0.0, ob_b=0.0, ob_a=1.0,
                     ib_size=0.1, ib_r=0.0, ib_g=1.0, ib_b=0.0, ib_a=1.0)
    f = run(renderer, p, 1)[-1]
    # size s covers s/2 of the width per side: 6.4 px outer, then up to 12.8 px inner
    row = f[H // 2]
    assert (row[:6] == [255, 0, 0]).all() and (row[-6:] == [255, 0, 0]).all()
    assert (row[6:13] == [0, 255, 0]).all() and (row[-13:-6] == [0, 255, 0]).all()
    assert (row[13:-13] == 0).all()
    col = f[:, W // 2]
    assert (col[:6] == [255, 0, 0]).all() and (col[6:13] == [0, 255, 0]).all()
    assert (f[20:-20, 20:-20] == 0).all()


def test_border_alpha_blends(renderer):
    p = quiet_preset(ob_size=0.1, ob_r=1.0, ob_g=1.0, ob_b=1.0, ob_a=0.5)
    f = run(renderer, p, 1)[-1]
    assert abs(int(f[H // 2, 2, 0]) - 128) <= 1


def test_darken_center(renderer):
    img = np.full((H, W, 3), 240, np.uint8)
    f = run(renderer, quiet_preset(bDarkenCenter=1), 1, img)[-1]
    centre = f[H // 2 - 1:H // 2 + 1, W // 2 - 1:W // 2 + 1].astype(float).mean()
    # alpha 3/32 at the centre vertex, interpolated to 0 at the tips 0.05 clip units (3.2 px)
    # away; the 4 central pixel centres are 0.5 + 0.5 px (diamond metric) from the centre
    alpha = 3 / 32 * (1 - 1.0 / (0.05 * W / 2))
    assert centre == pytest.approx(240 * (1 - alpha), abs=1.0)
    assert (f[:40] == 240).all() and (f[:, :40] == 240).all()


# --------------------------------------------------------------------------- motion vectors


def test_motion_vectors_grid_when_still(renderer):
    p = quiet_preset(mv_a=1.0, nMotionVectorsX=4, nMotionVectorsY=4, mv_r=1, mv_g=1, mv_b=1)
    f = run(renderer, p, 1)[-1]
    lit = f.sum(axis=2) > 0
    # positions (i + 0.25) / 3.25 for i = 0..3; 1.0 is dropped -> 3 x 3 short lines
    expected = [(i + 0.25) / 3.25 * W for i in range(3)]
    from scipy import ndimage

    labels, n = ndimage.label(lit, structure=np.ones((3, 3)))
    assert n == 9
    centres = ndimage.center_of_mass(lit, labels, range(1, n + 1))
    for c in centres:  # one-texel strokes, each within a pixel or two of its grid point
        assert min(abs(c[1] - want) for want in expected) <= 2.0
        assert min(abs(c[0] - want) for want in expected) <= 2.0  # rows count from the top


def test_motion_vectors_point_to_where_the_picture_came_from(renderer):
    p = quiet_preset(zoom=1.2, mv_a=1.0, mv_l=1.0, nMotionVectorsX=4, nMotionVectorsY=4)
    f = run(renderer, p, 1)[-1]
    lit = f.sum(axis=2) > 0
    # the top-left vector starts at (0.077, 0.077) and, zooming in, its source is nearer the centre
    y0 = x0 = int(0.25 / 3.25 * W)
    patch = lit[y0:y0 + 12, x0:x0 + 12]
    assert patch.sum() >= 4  # a line of several pixels, not a 1-px stub
    assert lit[max(0, y0 - 4):y0, max(0, x0 - 4):x0].sum() == 0  # nothing beyond it, outwards
    assert not lit[H - int(0.2 * H):].any()  # the grid's dropped last row is the bottom one


# --------------------------------------------------------------------------- composite


def gradient_image() -> np.ndarray:
    x = np.linspace(0, 255, W)
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = x[None, :]
    img[..., 1] = x[::-1][None, :] * 0.5
    img[..., 2] = np.linspace(0, 255, H)[:, None]
    return img


@pytest.mark.parametrize("orient", [0, 1, 2, 3])
def test_video_echo_orientation_and_alpha(renderer, orient):
    img = gradient_image()
    p = quiet_preset(fVideoEchoAlpha=0.5, fVideoEchoZoom=1.0, nVideoEchoOrientation=orient)
    f = run(renderer, p, 1, img)[-1].astype(float)
    mirror = img
    if orient in (1, 3):
        mirror = mirror[:, ::-1]
    if orient in (2, 3):
        mirror = mirror[::-1]
    expected = 0.5 * img.astype(float) + 0.5 * mirror
    assert np.abs(f - expected).max() <= 1.5


def test_video_echo_zoom_magnifies_about_centre(renderer):
    img = blob_image(C + 20, C, value=250)
    p = quiet_preset(fVideoEchoAlpha=1.0, fVideoEchoZoom=2.0)
    f = run(renderer, p, 1, img)[-1]
    x, y = centroid(f)
    x0, _ = centroid(img)
    assert x - C == pytest.approx((x0 - C) * 2.0, abs=0.6)


@pytest.mark.parametrize("wrap", [0, 1])
def test_video_echo_outside_the_picture_follows_the_presets_wrap(renderer, wrap):
    # zoomed out (echo_zoom < 1) the echo copy reads past the edges: MilkDrop 2's fixed-function
    # composite keeps the warp's address mode, so bTexWrap=0 repeats the edge pixels in a band
    # and bTexWrap=1 shows the opposite side of the picture there
    img = np.zeros((H, W, 3), np.uint8)
    img[:, :2] = 200  # a bright left edge
    p = quiet_preset(fVideoEchoAlpha=1.0, fVideoEchoZoom=0.8, bTexWrap=wrap)
    f = run(renderer, p, 1, img)[-1].astype(float)
    band = int(W * (1 / 0.8 - 1) / 2) - 2  # columns that read past the left edge
    left_band = f[:, :band].mean()
    past_right = f[:, int(0.9 * W) - 1:int(0.9 * W) + 2].max()  # where the copy reads 1.0: the left edge again
    if wrap:
        assert left_band < 20 and past_right > 100  # past the left edge: the dark right side
    else:
        assert left_band > 150 and past_right < 20  # the left edge smeared outwards


@pytest.mark.parametrize("name,params,formula", [
    ("gamma", dict(fGammaAdj=1.7), lambda v: np.clip(v * 1.7, 0, 1)),
    ("brighten", dict(bBrighten=1), np.sqrt),
    ("darken", dict(bDarken=1), lambda v: v * v),
    ("solarize", dict(bSolarize=1), lambda v: v * (1 - v) * 4),
    ("invert", dict(bInvert=1), lambda v: 1 - v),
    ("gamma+invert", dict(fGammaAdj=2.0, bInvert=1), lambda v: np.clip(1 - v * 2.0, 0, 1)),
])
def test_composite_per_pixel_formulas(renderer, name, params, formula):
    img = gradient_image()
    f = run(renderer, quiet_preset(**params), 1, img)[-1].astype(float)
    expected = np.clip(formula(img.astype(float) / 255.0), 0, 1) * 255.0
    assert np.abs(f - expected).max() <= 1.5, name


def test_composite_does_not_feed_back(renderer):
    img = np.full((H, W, 3), 100, np.uint8)
    frames = run(renderer, quiet_preset(bInvert=1), 3, img)
    for f in frames:
        assert abs(float(f.mean()) - 155) <= 1  # inverted every frame from the unchanged 100


def test_fshader_hue_tints_and_varies_across_picture(renderer):
    img = np.full((H, W, 3), 200, np.uint8)
    plain = run(renderer, quiet_preset(fShader=0.0), 1, img)[-1].astype(float)
    tinted = run(renderer, quiet_preset(fShader=1.0), 1, img)[-1].astype(float)
    assert np.abs(plain - 200).max() <= 1
    assert tinted.max() <= 201 and tinted.min() >= 200 * 0.5 - 1  # hue factor in [0.5, 1]
    corners = [tinted[2, 2], tinted[2, -3], tinted[-3, 2], tinted[-3, -3]]
    assert max(np.abs(a - b).max() for a in corners for b in corners) > 3
