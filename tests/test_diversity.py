"""Diverse offspring: the flash and blown-out penalties, a score without a plateau, fitness
sharing by look and family, the hall of fame of distinct looks, and a real run that keeps more
seed lineages with diversity than without."""

from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest

from evo.checkpoint import Result
from evo.fitness.safety import flash_rate, flashes_per_second, probe_view, relative_luminance
from evo.fitness.score import (FEATURES, HEALTHY_FLOOR, TOP_SHARE, direction_of, features, safety_factors,
                               score_stats, sweet_spot)
from evo.niching import DistinctHallOfFame, LookRule, descent_roots, niche_counts, pick_distinct, shared
from evo.selection import ParentPool, VoteRule, universal_sample
from helpers import tiny_config

FPS = 60.0
RNG = np.random.default_rng(3)


def scene(k: int, size: int = 64) -> np.ndarray:
    """A normal moving picture: a soft blob drifting over a dark blue gradient."""
    y, x = np.mgrid[0:size, 0:size] / size
    blob = np.exp(-(((x - 0.3 - 0.004 * k) ** 2 + (y - 0.5) ** 2) / 0.02))
    f = np.zeros((size, size, 3))
    f[..., 0] = 200 * blob
    f[..., 1] = 120 * blob + 30 * y
    f[..., 2] = 60 + 80 * y
    return np.clip(f, 0, 255).astype(np.uint8)


def strobe(k: int, period: int, size: int = 64) -> np.ndarray:
    """The scene with its left half flashing white for ``period`` frames, dark for ``period``."""
    f = scene(k, size)
    if (k // period) % 2 == 0:
        f[:, : size // 2] = 235
    return f


# ---------------------------------------------------------------- flashes (WCAG 2.3.1)


def test_strobing_trips_the_flash_rate_and_normal_motion_does_not():
    normal = [scene(k) for k in range(82)]
    assert flash_rate(normal, FPS) == 0.0
    fast = [strobe(k, 1) for k in range(82)]  # every other frame: 30 flashes a second
    slow = [strobe(k, 6) for k in range(82)]  # 5 a second
    calm = [strobe(k, 15) for k in range(82)]  # 2 a second: allowed
    assert flash_rate(fast, FPS) > 20 and 4 <= flash_rate(slow, FPS) <= 6 and flash_rate(calm, FPS) <= 3


def test_every_other_frame_strobe_is_invisible_to_every_4th_frame_sampling():
    """Why the flash check reads every frame: sampled every 4th frame, a 30 Hz strobe is constant."""
    fast = [strobe(k, 1) for k in range(82)]
    assert flash_rate(fast[::4], FPS / 4) == 0.0 < FPS / 4 < flash_rate(fast, FPS)


def test_small_changes_and_bright_swings_are_not_flashes():
    # WCAG: a change under 10% of the maximum luminance is no transition, nor are swings whose
    # darker state is above 0.8 relative luminance
    series = 0.3 + 0.04 * np.sin(np.arange(120) * 2.0)
    assert flashes_per_second(series, FPS) == 0.0
    assert flashes_per_second(np.where(np.arange(120) % 2, 0.85, 0.99), FPS) == 0.0
    assert flashes_per_second(np.where(np.arange(120) % 2, 0.1, 0.6), FPS) == 30.0


def test_probe_view_matches_a_16x16_bilinear_composite_sample():
    frame = RNG.integers(0, 255, (128, 128, 3), dtype=np.uint8)
    small = probe_view(frame)
    # pixel (i, j) of a 16x16 target samples texel centre (8i + 3.5, 8j + 3.5): the 2x2 mean
    block = frame[3 + 8 * 5: 5 + 8 * 5, 3 + 8 * 9: 5 + 8 * 9].astype(float).mean(axis=(0, 1))
    assert np.abs(small[5, 9].astype(float) - block).max() <= 0.51
    assert relative_luminance(np.full((2, 2, 3), 255, np.uint8)).max() == pytest.approx(1.0, abs=1e-6)


# ---------------------------------------------------------------- the score


HEALTHY = {"luma_mean": 0.3, "luma_std": 0.2, "luma_flicker": 0.02, "entropy": 6.3, "colourfulness": 60.0,
           "colour_std": 0.2, "edge_density": 0.15, "spatial_corr": 0.9, "compress_ratio": 0.45, "frac_dark": 0.2,
           "frac_bright": 0.02, "change_mean": 0.06, "change_max": 0.1, "reactivity": 0.85, "flash_rate": 0.5}


def test_penalties_trip_on_flashing_and_blown_out_statistics_only():
    base, _ = score_stats(HEALTHY, {k: 1.0 for k in FEATURES})
    assert safety_factors(HEALTHY) == {"flashing": 1.0, "frac_bright": 1.0, "frac_dark": 1.0}
    for change, factor in (({"flash_rate": 5.0}, "flashing"), ({"frac_bright": 0.45}, "frac_bright"),
                           ({"frac_dark": 0.95}, "frac_dark")):
        stats = dict(HEALTHY, **change)
        assert safety_factors(stats)[factor] < 0.8
        assert score_stats(stats, {k: 1.0 for k in FEATURES})[0] < base
    assert safety_factors(dict(HEALTHY, flash_rate=3.0))["flashing"] == 1.0  # "more than three" fails
    assert safety_factors(dict(HEALTHY, flash_rate=3.5))["flashing"] <= 0.5


def test_the_score_keeps_separating_good_from_better():
    """No plateau: candidates with every statistic inside its band's top still differ, the one
    nearer the sweet spots scoring higher; only all sweet spots at once reach 1.0."""
    weights = {k: 1.0 for k in FEATURES}

    def at(t: float) -> float:
        """Every statistic at share ``t`` of its band's top away from its sweet spot."""
        stats = dict(HEALTHY)
        for name, (stat, (lo0, lo1, hi1, hi0)) in FEATURES.items():
            d = direction_of(name)
            stats[stat] = hi1 - t * (hi1 - lo1) if d > 0 else lo1 + t * (hi1 - lo1) if d < 0 else \
                0.5 * (lo1 + hi1) + t * 0.5 * (hi1 - lo1)
        assert all(v >= 1 - TOP_SHARE for v in features(stats).values())  # every band at its top
        return score_stats(stats, weights)[0]

    scores = [at(t) for t in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    assert scores[0] == pytest.approx(1.0) and scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores) and scores[-1] == pytest.approx(HEALTHY_FLOOR + (1 - HEALTHY_FLOOR) * 0.7)
    # directions are named: more reactivity is better, less flicker is better, else the middle
    lo0, lo1, hi1, hi0 = FEATURES["audio_reactivity"][1]
    assert sweet_spot(hi1, lo1, hi1, +1) == 1.0 > sweet_spot(0.5 * (lo1 + hi1), lo1, hi1, +1)
    assert direction_of("audio_reactivity") == 1 and direction_of("steadiness") == -1
    assert direction_of("edge_density") == direction_of("temporal_change") == 0
    lo0, lo1, hi1, hi0 = FEATURES["entropy"][1]
    assert sweet_spot((lo1 + hi1) / 2, lo1, hi1) == 1.0 > sweet_spot(lo1 + 0.1, lo1, hi1) > sweet_spot(lo0, lo1, hi1) == 0


# ---------------------------------------------------------------- sharing and looks


def member(mid: str, score: float, desc: dict | None = None, genome: str | None = None, look: str = ""):
    r = Result(score=score, descriptors=desc or {}, look=look)
    return SimpleNamespace(id=mid, generation=0, genome_id=genome or mid, score=score, error=None, result=r)


def test_sharing_divides_a_look_among_its_copies_and_its_family():
    v = np.array([[0.1, 0.1], [0.11, 0.1], [0.1, 0.12], [0.9, 0.9]])
    counts = niche_counts(v, radius=0.25)
    assert counts[3] == 1.0 and 2.5 < counts[0] < 3.0
    fam = [frozenset({"seed:a"}), frozenset({"seed:b"}), frozenset({"seed:b"}), frozenset({"seed:b", "seed:a"})]
    far = np.array([[0.0], [0.5], [1.0], [1.5]])
    assert niche_counts(far, 0.25, roots=fam).tolist() == pytest.approx([1.5, 2.5, 2.5, 1 + 0.5 + 1.0])
    assert shared(0.8, 4.0) == 0.2 and shared(-0.2, 2.0) == -0.4
    assert descent_roots(["seed:x.milk", "g0000-001"], {"g0000-001": frozenset({"seed:y.milk"})}, "me") == {
        "seed:x.milk", "seed:y.milk"}
    assert descent_roots([], {}, "g0000-007") == {"g0000-007"}


def test_shared_pool_gives_a_lone_look_a_fair_chance_and_distinct_elites():
    copies = [member(f"c{k}", 0.9, {"brightness": 0.8, "motion": 0.5 + 0.001 * k}) for k in range(8)]
    lone = member("lone", 0.4, {"brightness": 0.1, "motion": 0.1})
    rule = VoteRule()
    plain = ParentPool.build(copies + [lone], [], {}, rule)
    share = ParentPool.build(copies + [lone], [], {}, rule, sharing=(0.25, 1.0))
    assert share.candidates[-1].rank == 0.4 and share.candidates[0].rank < 0.15
    py = random.Random(0)
    assert sum(plain.tournament(py, 3).member.id == "lone" for _ in range(200)) == 0
    drawn = [share.draw(py).member.id for _ in range(36)]
    assert drawn.count("lone") >= 10  # 0.4 against eight copies sharing 0.9
    assert [e.member.id for e in share.elites(2)] == ["c0", "lone"]  # the second copy is the same look
    assert [e.member.id for e in plain.elites(2)] == ["c0", "c1"]
    assert "shared with 7.9 relatives by look or family: 0.11" in [r for r in share.reasons() if r["id"] == "c0"][0]["reason"]


def test_universal_sampling_hands_out_expected_counts():
    picks = universal_sample(random.Random(1), [3.0, 1.0, 0.0, 2.0], 12)
    assert sorted(picks) == [0] * 6 + [1] * 2 + [3] * 4


def test_hall_of_fame_keeps_distinct_looks_and_the_better_of_a_look():
    same = LookRule(distance=0.15, ssim=0.4).same
    hof = DistinctHallOfFame(3, same)
    a = member("a", 0.9, {"brightness": 0.9})
    a_copy = member("a2", 0.8, {"brightness": 0.92})
    a_better = member("a3", 0.95, {"brightness": 0.88})
    b, c, d = (member(n, s, {"brightness": x}) for n, s, x in (("b", 0.5, 0.1), ("c", 0.6, 0.5), ("d", 0.4, 0.3)))
    hof.update([a, a_copy, b, c, d])
    assert [h.id for h in hof] == ["a", "c", "b"]  # a2 is a's look; d did not make it
    hof.update([a_better])
    assert [h.id for h in hof] == ["a3", "c", "b"]


def test_best_all_different_trades_score_against_likeness():
    """export / the contact sheet: the best first, then each next by score minus its largest
    similarity to those picked, so a near-copy of the best comes after every fair other look."""
    looks = {"a": 1.0, "a2": 0.9, "b": 0.2, "c": 0.1}  # similarity of each to "a"
    items = [member("a", 0.9), member("a2", 0.88), member("b", 0.6), member("c", 0.5)]

    def similarity(x, y):
        if "a" in (x.id, y.id):
            other = y.id if x.id == "a" else x.id
            return looks.get(other, 1.0)
        return 0.95 if {x.id, y.id} == {"a2", "b"} else 0.0

    picked = [m.id for m in pick_distinct(items, 4, lambda m: m.score, similarity)]
    assert picked == ["a", "c", "b", "a2"]  # c: 0.5 - 0.1 beats b: 0.6 - 0.2 and a2: 0.88 - 0.9
    assert [m.id for m in pick_distinct(items, 1, lambda m: m.score, similarity)] == ["a"]
    assert pick_distinct([], 3, lambda m: m.score, similarity) == []


def test_looks_compare_thumbnails_too():
    from evo.fitness.descriptors import look_similarity, look_thumbnail

    ring = np.zeros((64, 64, 3), np.uint8)
    ring[16:48, 16:48] = 200
    shifted = np.roll(ring, 2, axis=1)
    stripes = np.zeros((64, 64, 3), np.uint8)
    stripes[:, ::8] = 255
    t = look_thumbnail(ring)
    assert len(t) == 2 * 32 * 32
    assert look_similarity(t, look_thumbnail(shifted)) > 0.6 > 0.2 > look_similarity(t, look_thumbnail(stripes))
    rule = LookRule(distance=0.15, ssim=0.4)
    assert rule.same(member("x", 0.5, {"brightness": 0.2}, look=t), member("y", 0.5, {"brightness": 0.9},
                                                                               look=look_thumbnail(shifted)))


# ---------------------------------------------------------------- a real run


@pytest.mark.slow
def test_diversity_keeps_more_seed_lineages_than_without(tmp_path):
    """Two real runs of 10 corpus-free seeds (the shipped ones) x 6 generations, same seed: the
    last generation of the run with sharing descends from more seed presets."""
    from evo.driver import start_run
    from evo.seeds import SEEDS_DIR
    from evo.store import RunStore

    store = RunStore(tmp_path / "runs")
    over = {"run.population": 10, "run.generations": 6, "run.seed": 5, "fitness.frames": 20, "preview.enabled": False}
    lineages = {}
    for mode in ("none", "sharing"):
        run = store.open(start_run(tiny_config(SEEDS_DIR, **over, **{"ga.diversity": mode}), store, mode))
        lineages[mode] = [r["lineages"] for r in run.logbook()]
        assert lineages[mode][0] == 10
    assert lineages["sharing"][-1] > lineages["none"][-1], lineages
