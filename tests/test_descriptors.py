"""evo.fitness.descriptors: each descriptor moves with what it names and stays in [0, 1]."""

from __future__ import annotations

import numpy as np
import pytest

from evo.fitness import descriptors as D
from evo.fitness.descriptors import DESCRIPTOR_NAMES, descriptor_vector, mirror_symmetry, spatial_frequency
from evo.fitness.statistics import frame_statistics

RNG = np.random.default_rng(0)


def frames_of(make, n=6):
    return [make(k) for k in range(n)]


def behaviour_descriptors(frames, reactivity=None):
    stats = frame_statistics(frames)
    if reactivity is not None:
        stats["reactivity"] = reactivity
    return D.behaviour_descriptors(frames, stats)


def rgb(r, g, b, size=64):
    f = np.zeros((size, size, 3), np.uint8)
    f[:] = (r, g, b)
    return f


def test_brightness_warmth_and_colour_follow_the_pixels():
    dark = behaviour_descriptors(frames_of(lambda k: rgb(20, 20, 20 + k)))
    light = behaviour_descriptors(frames_of(lambda k: rgb(220, 220, 220 - k)))
    warm = behaviour_descriptors(frames_of(lambda k: rgb(230, 120, 20 + k)))
    cold = behaviour_descriptors(frames_of(lambda k: rgb(20, 120, 230 - k)))
    assert dark["brightness"] < 0.1 < 0.8 < light["brightness"]
    assert warm["warmth"] > 0.85 and cold["warmth"] < 0.15 and abs(dark["warmth"] - 0.5) < 0.02
    assert warm["colourfulness"] > dark["colourfulness"] + 0.4


def test_motion_grows_with_change_between_frames():
    still = behaviour_descriptors(frames_of(lambda k: rgb(100, 100, 100)))
    slow = behaviour_descriptors(frames_of(lambda k: rgb(100 + 2 * k, 100, 100)))
    fast = behaviour_descriptors(frames_of(lambda k: RNG.integers(0, 255, (64, 64, 3), dtype=np.uint8)))
    assert still["motion"] == 0.0 < slow["motion"] < 0.2 < 0.9 < fast["motion"]


def test_symmetry_and_detail():
    x = np.linspace(-1, 1, 64)
    ring = (255 * (np.hypot(*np.meshgrid(x, x)) < 0.5)).astype(np.uint8)
    noise = RNG.integers(0, 255, (64, 64), dtype=np.uint8)
    lopsided = np.zeros((64, 64), np.uint8)
    lopsided[5:20, 3:30] = 255
    assert mirror_symmetry(ring) > 0.95 and mirror_symmetry(noise) < 0.2 and mirror_symmetry(lopsided) < 0.3
    blobs = np.kron(RNG.integers(0, 255, (4, 4)), np.ones((16, 16))).astype(np.uint8)
    assert spatial_frequency(noise) > 0.5 > 0.2 > spatial_frequency(blobs)


def test_every_descriptor_is_bounded_and_named():
    for make in (lambda k: rgb(0, 0, 0), lambda k: RNG.integers(0, 255, (48, 48, 3), dtype=np.uint8)):
        d = behaviour_descriptors(frames_of(make), reactivity=5.0)
        assert tuple(d) == DESCRIPTOR_NAMES
        assert all(0.0 <= v <= 1.0 for v in d.values())
    assert descriptor_vector({"motion": 0.5}).tolist()[DESCRIPTOR_NAMES.index("motion")] == 0.5
    with pytest.raises(ValueError):
        D.behaviour_descriptors([], {})


def test_descriptors_are_cheap_reuse_of_the_statistics():
    """Five descriptors are the statistics, rescaled: the same frames give the same numbers."""
    frames = frames_of(lambda k: RNG.integers(0, 255, (32, 32, 3), dtype=np.uint8))
    stats = frame_statistics(frames)
    d = D.behaviour_descriptors(frames, stats)
    assert d["brightness"] == pytest.approx(stats["luma_mean"]) and d["complexity"] == pytest.approx(min(1.0, stats["compress_ratio"]))
