"""Image statistics and degenerate detectors for fitness (evo/image_stats.py)."""

from __future__ import annotations

import numpy as np
import pytest

from evo.fitness import statistics as st
from evo.fitness.statistics import (
    DEGENERATE_REASONS,
    STAT_NAMES,
    DegenerateThresholds,
    audio_reactivity,
    degenerate_reason,
    frame_statistics,
)

S = 64


def solid(rgb, size=S):
    return np.broadcast_to(np.array(rgb, np.uint8), (size, size, 3)).copy()


def half_half(left, right, size=S):
    img = solid(left, size)
    img[:, size // 2 :] = right
    return img


def gradient_frame(t: float, size=S) -> np.ndarray:
    """A smooth colour gradient that drifts with t: the picture of a healthy, calm preset."""
    yy, xx = np.mgrid[0:size, 0:size] / size
    rgb = np.stack(
        [
            0.5 + 0.4 * np.sin(2 * np.pi * (xx + 0.1 * t)),
            0.5 + 0.4 * np.cos(2 * np.pi * (yy - 0.07 * t)),
            0.5 + 0.4 * np.sin(2 * np.pi * (xx + yy + 0.05 * t)),
        ],
        axis=-1,
    )
    return (rgb * 255).round().astype(np.uint8)


# --------------------------------------------------------------------------- hand-computable values


def test_luma_is_rec601_fixed_point():
    assert st.luma(solid((255, 255, 255)))[0, 0] == 255
    assert st.luma(solid((0, 255, 0)))[0, 0] == (150 * 255) >> 8
    assert st.luma(solid((255, 0, 0)))[0, 0] == (77 * 255) >> 8
    assert st.luma(solid((10, 20, 30)))[0, 0] == (77 * 10 + 150 * 20 + 29 * 30) >> 8


def test_two_colour_half_half_image():
    img = half_half((0, 0, 0), (255, 255, 255))
    y = st.luma(img)
    assert st.entropy(y) == pytest.approx(1.0, abs=1e-12)
    mean, std = st.luma_mean_std(y)
    assert mean == pytest.approx(0.5, abs=1e-6)
    assert std == pytest.approx(0.5, abs=1e-6)
    # the Sobel window straddles the boundary in exactly two interior columns
    assert st.edge_density(y) == pytest.approx(2 / (S - 2))
    assert st.sobel_magnitude(y).max() == pytest.approx(255.0)
    assert st.spatial_correlation(y) > 0.95


def test_entropy_of_four_equal_levels_is_two_bits_and_flat_is_zero():
    y = np.repeat(np.array([0, 50, 100, 200], np.uint8), S * S // 4).reshape(S, S)
    assert st.entropy(y) == pytest.approx(2.0)
    assert st.entropy(np.full((S, S), 77, np.uint8)) == 0.0
    rng = np.random.default_rng(0)
    assert st.entropy(rng.integers(0, 256, (256, 256), dtype=np.uint8)) == pytest.approx(8.0, abs=0.01)


def test_colourfulness_matches_hasler_suesstrunk_by_hand():
    assert st.colourfulness(solid((128, 128, 128))) == pytest.approx(0.0, abs=1e-4)
    # flat red: rg = 255, yb = 127.5, no variance
    assert st.colourfulness(solid((255, 0, 0))) == pytest.approx(0.3 * np.hypot(255, 127.5), rel=1e-5)
    # half red, half green: rg = +-255 (mean 0, std 255), yb = 127.5 everywhere
    assert st.colourfulness(half_half((255, 0, 0), (0, 255, 0))) == pytest.approx(255 + 0.3 * 127.5, rel=1e-5)


def test_colour_std():
    assert st.colour_std(solid((3, 200, 90))) == 0.0
    # blue channel half 0 half 255: std 127.5 -> 0.5
    assert st.colour_std(half_half((9, 9, 0), (9, 9, 255))) == pytest.approx(0.5, rel=1e-6)


def test_compress_ratio_orders_simple_below_complex():
    rng = np.random.default_rng(1)
    flat = st.compress_ratio(solid((10, 20, 30)))
    smooth = st.compress_ratio(gradient_frame(0.0))
    noise = st.compress_ratio(rng.integers(0, 256, (S, S, 3), dtype=np.uint8))
    assert flat < 0.02 < smooth < noise
    assert noise > 0.99


def test_frame_change():
    black, white = solid((0, 0, 0)), solid((255, 255, 255))
    assert st.frame_change(black, white) == 1.0
    assert st.frame_change(white, white) == 0.0
    assert st.frame_change(black, solid((51, 0, 102))) == pytest.approx(51 / 255)


def test_audio_reactivity_is_pearson_correlation():
    bass = np.array([1.0, 2.0, 0.5, 3.0, 1.0, 2.5])
    assert audio_reactivity(0.1 * bass + 0.01, bass) == pytest.approx(1.0)
    assert audio_reactivity(-bass, bass) == pytest.approx(-1.0)
    assert audio_reactivity(np.ones(6), bass) == 0.0  # no movement: no reactivity, no NaN
    assert audio_reactivity(bass, np.ones(6)) == 0.0  # silence
    other = np.array([0.2, 0.1, 0.4, 0.3, 0.0, 0.5])
    assert audio_reactivity(other, bass) == pytest.approx(np.corrcoef(other, bass)[0, 1])
    with pytest.raises(ValueError, match="same length"):
        audio_reactivity(np.ones(5), bass)


# --------------------------------------------------------------------------- the bundle


def test_bundle_has_every_statistic_as_a_finite_float():
    frames = [gradient_frame(t) for t in range(6)]
    stats = frame_statistics(frames, np.linspace(1, 2, 6))
    assert tuple(stats) == STAT_NAMES
    assert all(isinstance(v, float) and np.isfinite(v) for v in stats.values())
    assert 0 < stats["luma_mean"] < 1 and 0 < stats["luma_std"] < 0.5
    assert stats["spatial_corr"] > 0.9
    assert stats["change_mean"] > 0


def test_bundle_averages_per_frame_values():
    a, b = half_half((0, 0, 0), (255, 255, 255)), solid((255, 0, 0))
    stats = frame_statistics([a, b])
    assert stats["entropy"] == pytest.approx(0.5)  # (1 bit + 0 bits) / 2
    ya, yb = st.luma(a).mean() / 255, st.luma(b).mean() / 255
    assert stats["luma_mean"] == pytest.approx((ya + yb) / 2)
    assert stats["luma_flicker"] == pytest.approx(abs(ya - yb) / 2)
    assert stats["change_mean"] == stats["change_max"] == pytest.approx(st.frame_change(a, b))


def test_reactivity_follows_the_bass_driven_change():
    rng = np.random.default_rng(3)
    bass = rng.uniform(0.5, 2.0, 40)
    base = gradient_frame(0.0).astype(np.int16)
    frames, level, sign = [], 0, 1
    for i in range(40):
        # brightness moves by an amount proportional to the bass, bouncing inside the range
        step = int(round(12 * bass[i])) if i else 0
        if not -60 <= level + sign * step <= 60:
            sign = -sign
        level += sign * step
        frames.append(np.clip(base + level, 0, 255).astype(np.uint8))
    reactive = frame_statistics(frames, bass)["reactivity"]
    assert reactive > 0.9
    assert frame_statistics(frames, rng.permutation(bass))["reactivity"] < reactive - 0.3
    assert frame_statistics(frames)["reactivity"] == 0.0


def test_static_every_samples_picture_statistics_but_uses_all_changes():
    frames = [half_half((0, 0, 0), (255, 255, 255)) if i % 2 == 0 else solid((90, 90, 90)) for i in range(6)]
    every = frame_statistics(frames, static_every=1)
    even = frame_statistics(frames, static_every=2)  # only the half/half frames
    assert even["entropy"] == pytest.approx(1.0)
    assert every["entropy"] == pytest.approx(0.5)
    assert every["change_mean"] == even["change_mean"]


def test_bundle_accepts_rgba_and_rejects_bad_input():
    rgba = np.dstack([gradient_frame(0), np.full((S, S), 255, np.uint8)])
    rgb_stats = frame_statistics([gradient_frame(0), gradient_frame(1)])
    rgba_stats = frame_statistics([rgba, np.dstack([gradient_frame(1), rgba[:, :, 3]])])
    assert rgba_stats == rgb_stats
    good = gradient_frame(0)
    with pytest.raises(ValueError, match="at least 2"):
        frame_statistics([good])
    with pytest.raises(ValueError, match="frame 2: expected uint8"):
        frame_statistics([good, good, good.astype(np.float32)])
    with pytest.raises(ValueError, match="frame 1: expected an HxWx3"):
        frame_statistics([good, good[:, :, 0]])
    with pytest.raises(ValueError, match="differs"):
        frame_statistics([good, good[:32]])
    with pytest.raises(ValueError, match="bass has 3 values for 2 frames"):
        frame_statistics([good, good], np.ones(3))
    with pytest.raises(TypeError):
        frame_statistics([good, [[1, 2, 3]]])


# --------------------------------------------------------------------------- degenerate detectors


def reason(frames, **kw):
    return degenerate_reason(frame_statistics(frames), **kw)


def test_black_screen():
    assert reason([solid((0, 0, 0))] * 4) == "black"
    dim = [np.full((S, S, 3), 2, np.uint8), np.full((S, S, 3), 3, np.uint8)]
    assert reason(dim) == "black"


def test_white_out():
    assert reason([solid((255, 255, 255))] * 4) == "white"
    # nearly all saturated with a little structure is still white-out
    frames = []
    for t in range(4):
        f = solid((255, 255, 255))
        f[t : t + 3, :5] = 0
        frames.append(f)
    assert reason(frames) == "white"


def test_frozen_picture():
    rich = gradient_frame(0.3)
    assert reason([rich] * 5) == "frozen"
    # one-step jitter that no eye sees is frozen too
    jitter = [rich, np.clip(rich.astype(np.int16) + (np.arange(S) % 7 == 0)[None, :, None], 0, 255).astype(np.uint8)]
    assert reason(jitter) == "frozen"


def test_flat_colour_even_when_it_changes():
    frames = [solid((40 + 20 * i, 100, 180 - 15 * i)) for i in range(5)]
    assert reason(frames) == "flat"


def test_uniform_noise():
    rng = np.random.default_rng(7)
    frames = [rng.integers(0, 256, (S, S, 3), dtype=np.uint8) for _ in range(5)]
    stats = frame_statistics(frames)
    assert stats["entropy"] > 7.5 and abs(stats["spatial_corr"]) < 0.1
    assert degenerate_reason(stats) == "noise"
    # grey-level noise too
    grey = [np.repeat(rng.integers(0, 256, (S, S, 1), dtype=np.uint8), 3, axis=2) for _ in range(5)]
    assert reason(grey) == "noise"


def test_healthy_pictures_are_not_degenerate():
    assert reason([gradient_frame(t) for t in range(5)]) is None
    # a high-entropy picture that is spatially smooth is detail, not noise
    yy, xx = np.mgrid[0:256, 0:256]
    ramp = [np.dstack([(xx + t) % 256, yy, (xx + yy) // 2]).astype(np.uint8) for t in range(0, 20, 5)]
    stats = frame_statistics(ramp)
    assert stats["entropy"] > 7.0
    assert degenerate_reason(stats) is None
    # thin bright waves on a dark background are sparse, not black
    frames = []
    for t in range(5):
        f = np.zeros((S, S, 3), np.uint8)
        rows = (S / 2 + 12 * np.sin(np.arange(S) / 6 + t)).astype(int)
        for dy in range(-2, 3):
            f[rows + dy, np.arange(S)] = (255, 200, 120)
        frames.append(f)
    assert reason(frames) is None


def test_thresholds_are_configurable():
    frames = [gradient_frame(t) for t in range(3)]
    assert reason(frames, thresholds=DegenerateThresholds(black_luma=0.9)) == "black"
    assert set(DegenerateThresholds().to_dict()) >= {"black_luma", "noise_corr"}
    assert DEGENERATE_REASONS == ("black", "white", "frozen", "flat", "noise")
