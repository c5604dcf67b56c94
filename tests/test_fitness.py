"""evo.fitness: the documented score, and real renders of real presets scored and previewed."""

from __future__ import annotations

import pytest
from PIL import Image

from evo.fitness.candidate import CANDIDATE_STATS, evaluate_preset, make_analyzer, make_renderer
from evo.fitness.statistics import SONG_STATS
from evo.fitness.score import FEATURES, HEALTHY_FLOOR, WORST_SCORE, band, features, score_stats
from helpers import eval_settings
from evo.seeds import seed_paths

HEALTHY = {
    "luma_mean": 0.3, "luma_std": 0.2, "luma_flicker": 0.02, "entropy": 6.5, "colourfulness": 50.0, "colour_std": 0.2,
    "edge_density": 0.1, "spatial_corr": 0.9, "compress_ratio": 0.5, "frac_dark": 0.1, "frac_bright": 0.01,
    "change_mean": 0.05, "change_max": 0.1, "reactivity": 0.5,
}


def test_band_is_a_trapezoid():
    assert band(0.0, 0, 1, 2, 3) == 0.0
    assert band(0.5, 0, 1, 2, 3) == pytest.approx(0.5)
    assert band(1.5, 0, 1, 2, 3) == 1.0
    assert band(2.75, 0, 1, 2, 3) == pytest.approx(0.25)
    assert band(3.0, 0, 1, 2, 3) == 0.0
    assert band(float("nan"), 0, 1, 2, 3) == 0.0


def test_every_feature_reads_an_existing_statistic():
    assert {stat for stat, _ in FEATURES.values()} <= set(CANDIDATE_STATS) | set(SONG_STATS)
    assert set(features(dict(HEALTHY, beat_lock=0.5))) == set(FEATURES)
    assert set(features(HEALTHY)) == {k for k, (stat, _) in FEATURES.items() if stat not in SONG_STATS}


def test_degenerate_scores_worst_and_healthy_scores_above_the_floor():
    weights = {k: 1.0 for k in FEATURES}
    black = dict(HEALTHY, luma_mean=0.001)
    assert score_stats(black, weights) == (WORST_SCORE, "black")
    frozen = dict(HEALTHY, change_max=0.0, change_mean=0.0)
    assert score_stats(frozen, weights) == (WORST_SCORE, "frozen")
    score, reason = score_stats(HEALTHY, weights)
    assert reason is None and HEALTHY_FLOOR < score <= 1.0
    # a statistic outside every band still beats any degenerate candidate
    dull = dict(HEALTHY, entropy=1.0, colourfulness=0.0, edge_density=0.0, change_mean=0.001, reactivity=-1.0,
                compress_ratio=0.01, luma_std=0.0, luma_mean=0.016, luma_flicker=0.5)
    assert score_stats(dull, weights)[0] == pytest.approx(HEALTHY_FLOOR)


def test_weights_steer_the_score():
    more_motion = dict(HEALTHY, change_mean=0.12)
    still = dict(HEALTHY, change_mean=0.003)
    motion_only = {"temporal_change": 1.0}
    assert score_stats(more_motion, motion_only)[0] > score_stats(still, motion_only)[0]
    colour_only = {"colorfulness": 1.0}
    assert score_stats(more_motion, colour_only)[0] == score_stats(still, colour_only)[0]


SMALL = eval_settings(width=64, height=64, frames=30, mesh=(16, 12), skip=6, sample_every=3, static_every=2,
                      weights={k: 1.0 for k in FEATURES}, preview_size=48, preview_frames=6)


@pytest.fixture(scope="module")
def gl():
    renderer = make_renderer(SMALL)
    yield renderer, make_analyzer(SMALL)
    renderer.release()


def test_real_preset_gets_statistics_score_and_previews(gl, tmp_path):
    out = tmp_path / "ind"
    res = evaluate_preset(seed_paths()[0].read_text(encoding="latin-1"), SMALL, *gl, out_dir=out)
    assert res["error"] is None
    assert set(res["stats"]) == set(CANDIDATE_STATS)
    assert res["degenerate"] is None and HEALTHY_FLOOR < res["score"] <= 1.0
    with Image.open(out / "preview.webp") as im:
        assert im.size == (48, 48) and getattr(im, "n_frames", 1) == 6
    with Image.open(out / "still.png") as im:
        assert im.size == (64, 64)


def test_black_preset_is_degenerate(gl):
    text = "[preset00]\nfDecay=0\nnWaveMode=0\nfWaveAlpha=0\nbAdditiveWaves=0\nfWaveScale=0\nob_size=0\nib_size=0\n"
    text += "per_frame_1=wave_a = 0; decay = 0;\n"
    res = evaluate_preset(text, SMALL, *gl)
    assert res["error"] is None
    assert res["degenerate"] in ("black", "frozen", "flat")
    assert res["score"] == WORST_SCORE


def test_evaluation_is_pure_on_a_reused_renderer(gl):
    a, b = (p.read_text(encoding="latin-1") for p in seed_paths()[1:3])
    first = evaluate_preset(a, SMALL, *gl)
    evaluate_preset(b, SMALL, *gl)
    again = evaluate_preset(a, SMALL, *gl)
    assert first["stats"] == again["stats"] and first["score"] == again["score"]


def test_broken_genome_and_timeout_become_error_records(gl):
    bad = evaluate_preset("no section header at all\n", SMALL, *gl)
    assert bad["score"] == WORST_SCORE and bad["error"]
    from dataclasses import replace

    slow = evaluate_preset(seed_paths()[0].read_text(encoding="latin-1"),
                           replace(SMALL, fitness=replace(SMALL.fitness, timeout_s=1e-6)), *gl)
    assert slow["score"] == WORST_SCORE and slow["error"].startswith("timeout")
