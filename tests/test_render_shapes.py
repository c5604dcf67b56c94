"""Faithfulness of the custom shape stage: MilkDrop's polygon geometry, instancing, texture, blending."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from renderer.stages.custom_shape import CustomShapeStage, instance_table, shape_geometry
from stage_helpers import FakeEquations, Target, frame_state, lit

W = H = 128


@pytest.fixture(scope="module")
def target():
    t = Target(W, H)
    yield t
    t.release()


@pytest.fixture(scope="module")
def stage(target):
    s = CustomShapeStage(target.ctx)
    yield s
    s.release()


def shape(**kw):
    base = dict(sides=4, x=0.5, y=0.5, rad=0.4, ang=0.0, r=1, g=1, b=1, a=1, r2=1, g2=1, b2=1, a2=1,
                border_a=0.0, additive=0, thickoutline=0, textured=0, tex_zoom=1, tex_ang=0)
    base.update(kw)
    return base


def render(target, stage, instances, vars_=None, clear=(0, 0, 0, 1), prev=None):
    target.clear(clear)
    state = frame_state(target, vars_ or {"wrap": 1}, FakeEquations(shapes={0: instances}), prev_texture=prev)
    stage.draw(state)
    return target.read()


def test_four_sides_draw_an_axis_aligned_square_of_the_predicted_size(target, stage):
    # corners at rad*(cos, sin)(k*pi/2 + pi/4): half side rad/sqrt(2) in clip units = rad/sqrt(2)*W/2 px
    img = render(target, stage, [shape(rad=0.4, x=0.5, y=0.5)])
    on = lit(img)
    half = 0.4 / math.sqrt(2) * W / 2
    rows, cols = np.nonzero(on)
    assert abs((cols.max() - cols.min() + 1) - 2 * half) <= 1.5
    assert abs((rows.max() - rows.min() + 1) - 2 * half) <= 1.5
    assert abs((cols.max() + cols.min()) / 2 - (W - 1) / 2) <= 1
    assert abs(on.sum() - (2 * half) ** 2) / (2 * half) ** 2 < 0.04
    # it is a filled square: its bounding box is (almost) entirely lit
    assert on[rows.min():rows.max() + 1, cols.min():cols.max() + 1].mean() > 0.97


def test_position_y_runs_up_the_picture(target, stage):
    # MilkDrop's guide and butterchurn's pictures: y = 0.2 sits near the bottom
    img = render(target, stage, [shape(rad=0.1, x=0.25, y=0.2)])
    rows, cols = np.nonzero(lit(img))
    assert abs(rows.mean() - 0.8 * H) <= 1.0
    assert abs(cols.mean() - 0.25 * W) <= 1.0


def test_rotation_by_quarter_pi_gives_a_diamond(target, stage):
    img = render(target, stage, [shape(rad=0.4, ang=math.pi / 4)])
    on = lit(img)
    rows, cols = np.nonzero(on)
    # a diamond with corners at radius rad: its bbox is 2*rad*W/2 wide and it fills half of it
    assert abs((cols.max() - cols.min() + 1) - 0.4 * W) <= 2
    assert abs(on.sum() / ((0.4 * W) ** 2) - 0.5) < 0.04


def test_triangle_and_many_sides(target, stage):
    tri = lit(render(target, stage, [shape(sides=3, rad=0.5)])).sum()
    circle = lit(render(target, stage, [shape(sides=100, rad=0.5)])).sum()
    r = 0.5 * W / 2
    assert abs(circle - math.pi * r * r) / (math.pi * r * r) < 0.03
    assert abs(tri - 3 * math.sqrt(3) / 4 * r * r) / (3 * math.sqrt(3) / 4 * r * r) < 0.05
    # sides outside 3..100 are clamped as MilkDrop does
    assert lit(render(target, stage, [shape(sides=1, rad=0.5)])).sum() == tri


def test_num_inst_instances_are_all_drawn(target, stage):
    n = 5
    instances = [shape(rad=0.05, x=0.1 + 0.18 * i, y=0.5) for i in range(n)]
    _, count = ndimage.label(lit(render(target, stage, instances)))
    assert count == n


def test_gradient_runs_from_centre_colour_to_edge_colour(target, stage):
    img = render(target, stage, [shape(sides=40, rad=0.8, r=1, g=0, b=0, a=1, r2=0, g2=0, b2=1, a2=1)])
    c = img[H // 2, W // 2].astype(int)
    assert c[0] > 240 and c[2] < 15
    edge = img[H // 2, W // 2 + int(0.75 * W / 2)].astype(int)  # near the rim: mostly blue
    assert edge[2] > 200 and edge[0] < 55


def test_additive_versus_alpha_blend(target, stage):
    grey = (0.0, 0.0, 0.4, 1.0)
    inst = dict(r=1, g=0, b=0, a=0.5, r2=1, g2=0, b2=0, a2=0.5, rad=0.5)
    alpha = render(target, stage, [shape(**inst)], clear=grey)[H // 2, W // 2].astype(int)
    add = render(target, stage, [shape(additive=1, **inst)], clear=grey)[H // 2, W // 2].astype(int)
    assert abs(alpha[0] - 128) <= 2 and abs(alpha[2] - 51) <= 2  # 0.5*red + 0.5*blue 0.4
    assert abs(add[0] - 128) <= 2 and abs(add[2] - 102) <= 2  # blue kept, red added


def test_colours_wrap_like_direct3d(target, stage):
    # (int)(1.2*255) & 255 = 50: MilkDrop shows a dark red, not a clamped bright one
    img = render(target, stage, [shape(r=1.2, g=0, b=0, r2=1.2, g2=0, b2=0)])
    assert abs(int(img[H // 2, W // 2, 0]) - 50) <= 1


def test_border_outline_and_thick_outline(target, stage):
    inst = shape(rad=0.4, a=0, a2=0, border_r=1, border_g=1, border_b=0, border_a=1)
    thin = lit(render(target, stage, [inst]))
    thick = lit(render(target, stage, [dict(inst, thickoutline=1)]))
    assert not thin[H // 2, W // 2]  # hollow: the fill is transparent
    assert thin.sum() > 0
    assert 1.7 < thick.sum() / thin.sum() < 2.3  # 4 copies shifted by one pixel: about 2 px wide


def test_textured_shape_copies_the_previous_frame(target, stage):
    rng = np.random.default_rng(0)
    pattern = rng.integers(0, 256, size=(H, W, 4), dtype=np.uint8)
    prev = target.ctx.texture((W, H), 4, data=pattern[::-1].tobytes(), dtype="f1")  # rows stored bottom-up
    try:
        # rad=1, tex_zoom=1: uv = (1 + clip)/2 at every corner, so the fill maps texels to themselves
        img = render(target, stage, [shape(textured=1, rad=1.0)], prev=prev)
        inner = slice(int(0.2 * H), int(0.8 * H))
        diff = np.abs(img[inner, inner].astype(int) - pattern[inner, inner, :3].astype(int))
        assert np.percentile(diff, 99) <= 2
        # tex_zoom=2 magnifies around the centre: clip position p shows the texel at p/2 (bilinear)
        img2 = render(target, stage, [shape(textured=1, rad=1.0, tex_zoom=2.0)], prev=prev)
        centres = (np.arange(W) + 0.5) / W * 2 - 1
        src = ((centres / 2 + 1) / 2) * W - 0.5
        rr, cc = np.meshgrid(src, src, indexing="ij")
        expect = np.stack([ndimage.map_coordinates(pattern[..., ch].astype(float), [rr, cc], order=1)
                           for ch in range(3)], -1)
        diff2 = np.abs(img2[inner, inner].astype(int) - expect[inner, inner])
        assert np.percentile(diff2, 99) <= 3
        tinted = render(target, stage, [shape(textured=1, rad=1.0, r=1, g=0, b=0, r2=1, g2=0, b2=0)], prev=prev)
        assert tinted[inner, inner, 1].max() <= 1 and tinted[inner, inner, 0].mean() > 60
    finally:
        prev.release()


def test_instance_table_falls_back_to_preset_values():
    t = instance_table([{"x": 0.3}, {}], base={"x": 0.7, "rad": 0.2, "thickOutline": 1})
    assert t["x"].tolist() == [0.3, 0.7]
    assert t["rad"].tolist() == [0.2, 0.2]
    assert t["thickoutline"].tolist() == [1.0, 1.0]


def test_geometry_counts_and_non_finite_values():
    t = instance_table([shape(sides=5), shape(sides=float("nan"), x=float("inf"))])
    fill, fill_counts, border, border_counts = shape_geometry(t)
    assert fill_counts.tolist() == [15, 12]  # NaN sides -> default 4
    assert border_counts.tolist() == [6, 5]
    assert np.isfinite(fill).all() and np.isfinite(border).all()


# --------------------------------------------------------------------------- real presets, real EEL

INSTANCED = """[preset00]
shapecode_0_enabled=1
shapecode_0_sides=4
shapecode_0_num_inst=3
shapecode_0_rad=0.08
shapecode_0_a=1
shapecode_0_a2=1
shapecode_0_border_a=0
shape_0_per_frame1=x = 0.2 + instance*0.3;
shape_0_per_frame2=y = 0.25 + 0.25*instance;
shape_0_per_frame3=r = 1; g = 1; b = 1; r2 = 1; g2 = 1; b2 = 1;
"""


def test_preset_instances_are_placed_by_per_frame_code(target, stage):
    from stage_helpers import preset_state

    target.clear()
    stage.draw(preset_state(target, INSTANCED))
    labels, count = ndimage.label(lit(target.read()))
    assert count == 3
    centres = sorted(ndimage.center_of_mass(labels > 0, labels, range(1, 4)), key=lambda rc: rc[1])
    for i, (r, c) in enumerate(centres):
        assert abs(c - ((0.2 + 0.3 * i) * W - 0.5)) <= 1.0
        assert abs(r - ((1 - (0.25 + 0.25 * i)) * H - 0.5)) <= 1.0  # y runs up


def test_preset_disabled_shape_draws_nothing(target, stage):
    from stage_helpers import preset_state

    target.clear()
    stage.draw(preset_state(target, INSTANCED.replace("shapecode_0_enabled=1", "shapecode_0_enabled=0")))
    assert target.read().max() == 0


def test_preset_textured_shape_copies_previous_frame(target, stage):
    from stage_helpers import preset_state

    pattern = np.zeros((H, W, 4), np.uint8)
    pattern[:, : W // 2, 0] = 255  # left half red, right half green
    pattern[:, W // 2:, 1] = 255
    prev = target.ctx.texture((W, H), 4, data=pattern[::-1].tobytes(), dtype="f1")
    try:
        text = INSTANCED.replace("shapecode_0_num_inst=3", "shapecode_0_num_inst=1").replace(
            "shape_0_per_frame1=x = 0.2 + instance*0.3;", "shapecode_0_textured=1\nshape_0_per_frame1=rad = 1;"
        ).replace("shape_0_per_frame2=y = 0.25 + 0.25*instance;", "shape_0_per_frame2=x = 0.5; y = 0.5;")
        target.clear()
        stage.draw(preset_state(target, text, prev_texture=prev))
        img = target.read()
        assert img[H // 2, W // 4, 0] == 255 and img[H // 2, W // 4, 1] == 0
        assert img[H // 2, 3 * W // 4, 1] == 255 and img[H // 2, 3 * W // 4, 0] == 0
    finally:
        prev.release()
