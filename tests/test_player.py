"""Rendering as a given player: MilkDrop 2 (default) or butterchurn, whose departures feed back.

Each difference in renderer.player is pinned here on a picture we seed, plus the shape geometry
both players share (found with probe presets rendered in butterchurn).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from renderer.frame_state import StaticEquations
from renderer.pipeline import Renderer
from renderer.player import BUTTERCHURN, MILKDROP2, player_named
from stage_helpers import FakeEquations, frame_state, lit
from test_render_core import quiet_preset
from test_render_shapes import shape, stage, target  # noqa: F401 (stage and target are fixtures)

W = H = 128


def draw(target, stage, instances, prev=None, player=MILKDROP2):
    target.clear((0, 0, 0, 1))
    state = frame_state(target, {"wrap": 1}, FakeEquations(shapes={0: instances}), prev_texture=prev)
    state.player = player
    stage.draw(state)
    return target.read()


def test_player_names():
    assert player_named("butterchurn") is BUTTERCHURN
    assert player_named("MilkDrop2") is MILKDROP2
    assert player_named(BUTTERCHURN) is BUTTERCHURN
    with pytest.raises(ValueError, match="unknown player 'winamp'.*milkdrop2"):
        player_named("winamp")


def test_shape_corners_turn_clockwise_on_screen(target, stage):
    # a triangle at ang 0 has corners at screen angles -45, -165, -285 degrees: one corner
    # 0.966 rad above the centre, the lowest 0.707 rad below it (counter-clockwise would be
    # the other way round)
    rad = 0.5
    rows, _ = np.nonzero(lit(draw(target, stage, [shape(sides=3, rad=rad)])))
    centre = (H - 1) / 2
    above, below = centre - rows.min(), rows.max() - centre
    assert abs(above - math.sin(math.radians(75)) * rad * H / 2) <= 1.5
    assert abs(below - math.sin(math.radians(45)) * rad * H / 2) <= 1.5


def _blob_texture(ctx, dx: float, dy: float, alpha: int = 255):
    """A prev-frame texture with a bright blob at (dx, dy) from the centre (screen units of the
    half picture, y up) on black."""
    img = np.zeros((H, W, 4), np.uint8)
    img[..., 3] = alpha
    cx, cy = (0.5 + dx / 2) * W, (0.5 - dy / 2) * H
    img[int(cy) - 4:int(cy) + 4, int(cx) - 4:int(cx) + 4, :3] = 255
    return ctx.texture((W, H), 4, data=img[::-1].tobytes(), dtype="f1")


def _angle_of_lit(img) -> float:
    rows, cols = np.nonzero(lit(img))
    return math.degrees(math.atan2((H - 1) / 2 - rows.mean(), cols.mean() - (W - 1) / 2)) % 360


def test_texture_angle_turns_the_copy_forward(target, stage):
    # a textured shape shows what lies at screen angle a - tex_ang (for ang 0) at angle a: a
    # blob right of the centre appears above it when tex_ang is a quarter turn
    prev = _blob_texture(target.ctx, 0.5, 0.0)
    try:
        upright = draw(target, stage, [shape(textured=1, rad=1.0)], prev=prev)
        turned = draw(target, stage, [shape(textured=1, rad=1.0, tex_ang=math.pi / 2)], prev=prev)
    finally:
        prev.release()
    assert abs(_angle_of_lit(upright) - 0) < 5 or abs(_angle_of_lit(upright) - 360) < 5
    assert abs(_angle_of_lit(turned) - 90) < 5


def test_butterchurn_textured_shapes_multiply_by_texel_alpha(target, stage):
    prev = _blob_texture(target.ctx, 0.0, 0.0, alpha=128)
    prev.build_mipmaps()  # the pipeline builds them for the butterchurn player before any stage runs
    try:
        md2 = draw(target, stage, [shape(textured=1, rad=1.0)], prev=prev, player=MILKDROP2)
        bc = draw(target, stage, [shape(textured=1, rad=1.0)], prev=prev, player=BUTTERCHURN)
    finally:
        prev.release()
    assert md2.max() >= 250                       # X8R8G8B8: alpha reads 1
    assert abs(int(bc.max()) - 128) <= 3          # alpha 0.5 over black


def _noise() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(H, W, 3), dtype=np.uint8)


def _warped_once(player: str, preset, seed_image) -> np.ndarray:
    with Renderer(W, H, fps=60, seed=0, player=player) as r:
        r.load(preset, equations=StaticEquations(preset))
        r.seed_feedback(seed_image)
        return next(iter(r.render(1)))


def test_butterchurn_warps_through_mipmaps():
    # zoom 1/3 shrinks the picture 3x: trilinear sampling averages noise towards grey, MilkDrop
    # 2's single-level texture samples it bilinearly and keeps most of its contrast
    preset = quiet_preset(zoom=1 / 3)
    md2, bc = (_warped_once(p, preset, _noise())[32:96, 32:96].astype(float) for p in ("milkdrop2", "butterchurn"))
    assert bc.std() < 0.6 * md2.std()
    assert abs(bc.mean() - md2.mean()) < 10
    # at zoom 1 there is nothing to average: the two players agree
    same = quiet_preset()
    assert np.array_equal(_warped_once("milkdrop2", same, _noise()), _warped_once("butterchurn", same, _noise()))


def test_butterchurn_player_keeps_the_composite_unmipmapped_and_deterministic():
    preset = quiet_preset(zoom=0.9, fVideoEchoAlpha=0.5, fVideoEchoZoom=1.3)
    runs = []
    for _ in range(2):
        with Renderer(W, H, fps=60, seed=0, player="butterchurn") as r:
            r.load(preset, equations=StaticEquations(preset))
            r.seed_feedback(_noise())
            runs.append(np.stack(list(r.render(4))))
    assert np.array_equal(runs[0], runs[1])
    assert runs[0][-1].mean() > 20   # no black from sampling levels that were never built


def test_cli_render_player(tmp_path):
    from PIL import Image
    from typer.testing import CliRunner

    from renderer.output.frame_writer import frame_name
    from ui.cli import app

    preset = tmp_path / "p.milk"
    preset.write_text("[preset00]\nfDecay=1\nzoom=0.8\nnWaveMode=0\nfWaveAlpha=1\nfWaveScale=2\n")
    runner = CliRunner()
    args = ["render", str(preset), "--frames", "8", "--size", "64x64", "--mesh", "16x12"]
    out = {}
    for player in ("milkdrop2", "butterchurn"):
        res = runner.invoke(app, args + ["--player", player, "-o", str(tmp_path / player)])
        assert res.exit_code == 0, res.output
        out[player] = np.asarray(Image.open(tmp_path / player / frame_name(8)))
    assert not np.array_equal(out["milkdrop2"], out["butterchurn"])
    res = runner.invoke(app, args + ["--player", "winamp", "-o", str(tmp_path / "x")])
    assert res.exit_code == 1 and "unknown player 'winamp'" in res.output


def test_butterchurn_motion_vectors_are_one_texel_wide_dashes():
    from renderer.stages.motion_vectors import motion_lines
    from renderer.stages.warp_mesh import MeshGrid, compute_uv

    grid = MeshGrid(8, 6, 1.0, 1.0)
    # dx moves every source point left by 0.05 and dy by 0.02 vertically: vectors 0.054 long, 14 texels at 256
    uv = compute_uv(grid, {"dx": 0.05, "dy": 0.02}, 0.0, 1.0, 1.0)
    fv = {"mv_x": 4.0, "mv_y": 3.0, "mv_l": 1.0}
    md2 = motion_lines(fv, uv, 8, 6, 256, 256)
    bc = motion_lines(fv, uv, 8, 6, 256, 256, butterchurn=True)
    d_md2, d_bc = md2[:, 1] - md2[:, 0], bc[:, 1] - bc[:, 0]
    assert np.allclose(d_md2[:, 0], -0.05, atol=1e-4) and np.allclose(np.abs(d_md2[:, 1]), 0.02, atol=1e-4)
    assert np.allclose(d_bc[:, 0], 1 / 256) and np.allclose(d_bc[:, 1], d_md2[:, 1])   # width 1 texel, height kept
    assert np.array_equal(md2[:, 0], bc[:, 0])                                            # same grid
    # a still picture: every vector is stretched to at least one texel; butterchurn's are one
    # texel wide unless float noise gave them a direction to stretch along
    still = compute_uv(grid, {}, 0.0, 1.0, 1.0)
    s_md2 = motion_lines(fv, still, 8, 6, 256, 256)
    s_bc = motion_lines(fv, still, 8, 6, 256, 256, butterchurn=True)
    assert (np.hypot(*(s_md2[:, 1] - s_md2[:, 0]).T) >= 1 / 256 - 1e-9).all()
    d = s_bc[:, 1] - s_bc[:, 0]
    assert (np.isclose(d[:, 0], 1 / 256) | np.isclose(np.hypot(*d.T), 1 / 256)).all()


@pytest.mark.parametrize("player, border_on_frame_1", [("milkdrop2", True), ("butterchurn", False)])
def test_butterchurn_runs_the_frame_code_once_at_load(player, border_on_frame_1):
    # n counts frame-code runs: MilkDrop 2's frame 1 sees n = 1, butterchurn's sees 2 (its extra
    # run at load saw frame 0, time 0, bass 0 and bass_att 1, which the border records)
    from renderer.milk.preset import parse_milk

    text = ("[preset00]\nfDecay=0\nfWaveAlpha=0\nmv_a=0\n"
            "per_frame_1=n = n + 1; seen = seen + equal(frame, 0)*equal(time, 0)*equal(bass, 0)*equal(bass_att, 1);\n"
            "per_frame_2=ob_size = 0.4*equal(n, 1) + 0.2*equal(n, 2)*seen; ob_a = 1; ob_r = 1; ob_g = 0; ob_b = 0;\n")
    with Renderer(64, 64, fps=60, seed=0, player=player) as r:
        r.load(parse_milk(text))
        first, second = list(r.render(2))
    red_share = (first[..., 0] > 200).mean()
    if border_on_frame_1:
        assert red_share > 0.5                  # a border 0.4 wide: n = 1 on frame 1
    else:
        assert 0.2 < red_share < 0.5            # 0.2 wide: n = 2 and the load run saw the load inputs


def test_byte_waveform_is_webaudio_bytes_pair_averaged_every_second_one():
    from renderer.audio import AudioAnalyzer
    from renderer.audio.track import track_from_array

    rate = 44100
    t = np.arange(rate) / rate
    samples = np.stack([0.6 * np.sin(2 * np.pi * 220 * t), -0.3 * np.sin(2 * np.pi * 330 * t)], 1)
    an = AudioAnalyzer(track_from_array(samples.astype(np.float32), rate, "<sines>", []), fps=60, loop=False)
    k = 20
    got = an.byte_waveform(k)
    assert got.shape == (2, 512)
    end = k * rate // 60
    stored = an.track.samples[end - 1024:end]            # what the analyzer holds (float32)
    for ch in range(2):
        want = []
        prev = None
        for i, x in enumerate(stored[:, ch].tolist()):   # the reference harness's steps, one by one
            b = min(max(math.floor(128 * (x + 1)), 0), 255) - 128
            avg = 0.5 * (b + (b if prev is None else prev))
            if i % 2 == 0:
                want.append(math.trunc(avg))
            prev = b
        assert got[ch].tolist() == want
    # before the music starts: silence reads as byte 128, i.e. 0
    assert not an.byte_waveform(1)[:, :144].any() and an.byte_waveform(1)[:, 146:].any()   # 289 silent samples


def test_butterchurn_wave_modes_count_from_512_samples():
    from renderer.stages.waveform import wave_vertices
    from renderer.stages.waveform_butterchurn import butterchurn_wave_vertices

    rng = np.random.default_rng(1)
    L, R = rng.normal(0, 0.1, 512), rng.normal(0, 0.1, 512)
    kw = dict(time=1.0, mystery=0.0, pos_x=0.0, pos_y=0.0, aspect_x=1.0, aspect_y=1.0, texsize=2048)
    circle = butterchurn_wave_vertices(0, L, R, **kw)[0]
    assert len(circle) == 257 and np.array_equal(circle[0], circle[-1])
    scope = butterchurn_wave_vertices(2, L, R, **kw)[0]
    assert len(scope) == 512 and scope[-1, 1] == L[31]          # sample i + 32 wraps round
    md2 = wave_vertices(0, np.resize(L, 576), np.resize(R, 576), **kw)[0]
    assert len(md2) == 240                                        # MilkDrop 2: 480 / 2
    assert len(butterchurn_wave_vertices(7, L, R, **kw)) == 2
    assert len(butterchurn_wave_vertices(6, L, R, **{**kw, "texsize": 300})[0]) == 100   # capped at texsize / 3


def _tone_analyzer(freq: float, seconds: float = 2.0):
    from renderer.audio import AudioAnalyzer
    from renderer.audio.track import track_from_array

    rate = 44100
    t = np.arange(int(rate * seconds)) / rate
    x = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return AudioAnalyzer(track_from_array(np.stack([x, x], 1), rate, f"<{freq} Hz>", []), fps=60, loop=False)


def test_butterchurn_levels_bands_are_20_320_2800_11000_hz():
    # bins 0-5, 6-63, 64-254 of a 1,024-point FFT at 44.1 kHz; the equaliser weights low bins
    # almost to nothing (and 8-bit rounding spreads noise upwards), so compare each band
    # across tones rather than bands within one tone
    from renderer.audio.butterchurn_levels import ButterchurnLevels, butterchurn_band_sums

    sums = {f: butterchurn_band_sums(ButterchurnLevels(_tone_analyzer(f))._mono_bytes(np.array([60]))[0])
            for f in (100.0, 1000.0, 5000.0)}
    assert sums[100.0][0] > 10 * max(sums[1000.0][0], sums[5000.0][0])
    assert sums[1000.0][1] > 3 * max(sums[100.0][1], sums[5000.0][1])
    assert sums[5000.0][2] > 3 * max(sums[100.0][2], sums[1000.0][2])


def test_butterchurn_levels_start_their_averages_at_1_and_do_not_depend_on_chunking():
    from renderer.audio.butterchurn_levels import ButterchurnLevels, butterchurn_band_sums

    an = _tone_analyzer(100.0)
    bl = ButterchurnLevels(an)
    first = bl.levels(1)[0]
    imm = butterchurn_band_sums(bl._mono_bytes(np.array([1]))[0])[0]
    r_long, r_up = 0.9 ** 0.5, 0.2 ** 0.5                 # rates at 60 fps (30 fps based)
    long_avg = r_long * 1.0 + imm * (1 - r_long)
    avg = (r_up if imm > 1 else 0.5 ** 0.5) * 1.0 + imm * (1 - (r_up if imm > 1 else 0.5 ** 0.5))
    assert first[0] == pytest.approx(imm / long_avg) and first[3] == pytest.approx(avg / long_avg)
    whole = ButterchurnLevels(an).levels(600)
    stepwise = ButterchurnLevels(an)
    for n in (1, 7, 300, 600):
        stepwise.levels(n)
    assert np.array_equal(whole, stepwise.levels(600))


def test_butterchurn_player_uses_butterchurn_levels_unless_levels_are_given(tmp_path):
    from renderer.audio.butterchurn_levels import ButterchurnLevels
    from renderer.audio.levels_file import InjectedLevels

    an = _tone_analyzer(100.0)
    with Renderer(32, 32, fps=60, seed=0, player="butterchurn") as r:
        assert isinstance(r._analyzer(an), ButterchurnLevels)
        given = InjectedLevels({k: (2.0,) * 6 for k in range(1, 5)}, an)
        assert r._analyzer(given) is given
    with Renderer(32, 32, fps=60, seed=0) as r:
        assert r._analyzer(an) is an


def test_butterchurn_shape_colours_stay_floats(target, stage):
    # r = 1.2: Direct3D packs (int)(1.2 * 255) & 0xFF = 50 (dark red); butterchurn clamps to 255
    md2 = draw(target, stage, [shape(r=1.2, g=0, b=0, r2=1.2, g2=0, b2=0)], player=MILKDROP2)
    bc = draw(target, stage, [shape(r=1.2, g=0, b=0, r2=1.2, g2=0, b2=0)], player=BUTTERCHURN)
    assert abs(int(md2[64, 64, 0]) - 50) <= 1 and bc[64, 64, 0] == 255


def test_runs_judge_candidates_as_the_configured_player(tmp_path, seeds_dir):
    # fitness.player reaches the renderer that scores candidates, is saved with the run (so a
    # resume renders the same pictures) and left out of checkpoints when it is the default
    from evo.config import ConfigError
    from evo.driver import start_run
    from evo.fitness.candidate import make_renderer
    from evo.store import RunStore
    from helpers import eval_settings, tiny_config

    with make_renderer(eval_settings(width=32, height=32, player="butterchurn")) as r:
        assert r.player is BUTTERCHURN
    assert "player" not in eval_settings().to_dict()
    assert eval_settings(player="butterchurn").to_dict()["player"] == "butterchurn"
    with pytest.raises(ConfigError, match="fitness.player"):
        tiny_config(seeds_dir, **{"fitness.player": "winamp"})
    store = RunStore(tmp_path / "runs")
    scores = {}
    for player in ("milkdrop2", "butterchurn"):
        cfg = tiny_config(seeds_dir, **{"run.generations": 1, "fitness.player": player})
        run = store.open(start_run(cfg, store, player))
        assert run.status == "finished" and run.config["fitness"]["player"] == player
        scores[player] = [i.score for i in run.load_generation(0)]
    assert scores["milkdrop2"] != scores["butterchurn"]


@pytest.mark.parametrize("shared", [False, True])
def test_butterchurn_per_pixel_code_sees_the_frame_codes_variables(shared):
    from renderer.equations import PresetEquations
    from renderer.milk.preset import parse_milk

    preset = parse_milk("[preset00]\nper_frame_1=v = 0.25; q1 = 0.5;\nper_pixel_1=dx = v; dy = q1;\n")
    eq = PresetEquations(preset)
    eq.frame_vars_in_pixel_code = shared
    fv = eq.begin_frame({"time": 1 / 60, "frame": 1.0, "fps": 60.0})
    out = eq.per_pixel(fv, *(np.zeros(3) for _ in range(4)))
    assert np.allclose(out["dy"], 0.5)                       # q1 reaches per-pixel code either way
    assert np.allclose(out["dx"], 0.25 if shared else 0.0)   # v only in butterchurn
    with Renderer(32, 32, fps=60, seed=0, player="butterchurn" if shared else "milkdrop2") as r:
        r.load(preset)
        assert r.equations.frame_vars_in_pixel_code is shared


def test_sweep_and_sheet_render_as_the_chosen_player(tmp_path):
    from PIL import Image
    from typer.testing import CliRunner

    from renderer.output.sweep import render_sweep
    from ui.cli import app

    preset = tmp_path / "p.milk"
    preset.write_text("[preset00]\nfDecay=1\nzoom=0.8\nnWaveMode=0\nfWaveAlpha=1\nfWaveScale=2\n")
    images = {p: next(render_sweep([preset], frames=8, size=(48, 48), workers=1, keep_frame=8, player=p))["image"]
              for p in ("milkdrop2", "butterchurn")}
    assert not np.array_equal(images["milkdrop2"], images["butterchurn"])
    runner = CliRunner()
    res = runner.invoke(app, ["sheet", str(preset), "--frame", "8", "--size", "48x48", "--workers", "1",
                              "--player", "butterchurn", "-o", str(tmp_path / "s.png")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "s.png").size[0] >= 48
    res = runner.invoke(app, ["sheet", str(preset), "--player", "winamp", "-o", str(tmp_path / "t.png")])
    assert res.exit_code == 1 and "unknown player" in res.output


def test_butterchurn_blur_sizes_and_its_two_frame_old_source():
    # butterchurn's blur1 reads the main picture through mipmaps built when that texture was
    # last frame's source, so it shows the picture two frames back: a picture seeded before frame
    # 1 reaches GetBlur1 on frame 2 there, on frame 1 in MilkDrop 2
    from renderer.shaders.blur import blur_sizes, butterchurn_blur_sizes
    from test_render_shaders import body, milk

    assert butterchurn_blur_sizes(256, 256) == [((128, 128), (64, 64)), ((32, 32), (32, 32)), ((16, 16), (16, 16))]
    assert blur_sizes(256, 256)[0] == ((128, 256), (128, 128))
    from renderer.milk.preset import parse_milk

    text = milk(body("ret = tex2D(sampler_main, uv).xyz;"), body("ret = GetBlur1(uv);"))
    seed = np.full((64, 64, 3), 200, np.uint8)
    means = {}
    for player in ("milkdrop2", "butterchurn"):
        with Renderer(64, 64, fps=60, seed=0, player=player) as r:
            r.load(parse_milk(text))
            r.seed_feedback(seed)
            means[player] = [float(f.mean()) for f in r.render(2)]
    assert means["milkdrop2"][0] > 100
    assert means["butterchurn"][0] < 5 and means["butterchurn"][1] > 100


def test_butterchurn_player_renders_a_preset_the_same_after_another():
    # the stale mip levels butterchurn's blur reads start black at every load, so a renderer
    # reused across presets (a sweep, a GA) gives the frames a fresh one gives
    from renderer.milk.preset import parse_milk
    from test_render_shaders import body, milk

    blurred = parse_milk(milk(body("ret = tex2D(sampler_main, uv).xyz*0.9;"), body("ret = GetBlur1(uv) + GetBlur2(uv);"),
                              nWaveMode=0, fWaveAlpha=1.0, fWaveScale=2.0))
    other = parse_milk("[preset00]\nfDecay=1\nzoom=0.9\nnWaveMode=2\nfWaveAlpha=1\nob_size=0.2\nob_a=1\nob_r=1\n")
    with Renderer(64, 64, fps=60, seed=0, player="butterchurn") as r:
        r.load(blurred)
        fresh = np.stack(list(r.render(4)))
    with Renderer(64, 64, fps=60, seed=0, player="butterchurn") as r:
        r.load(other)
        list(r.render(5))
        r.load(blurred)
        again = np.stack(list(r.render(4)))
    assert fresh.mean() > 1 and np.array_equal(fresh, again)
