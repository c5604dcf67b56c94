"""renderer.output.health: one black/frozen rule for the corpus sweep, the fitness and the doctor."""

from __future__ import annotations

import numpy as np

from evo.fitness.statistics import degenerate_reason, frame_statistics
from renderer.output.health import BLACK_LUMA, FROZEN_CHANGE, HealthWatch


def test_health_watch_judges_the_second_half():
    still = np.full((8, 8, 3), 100, np.uint8)
    w = HealthWatch(10)
    for k in range(1, 11):
        w.add(k, still)
    assert w.result() == (False, True) and all(type(v) is bool for v in w.result())
    w = HealthWatch(10)
    for k in range(1, 11):
        w.add(k, np.zeros((8, 8, 3), np.uint8) if k > 3 else still)  # black after warming up
    assert w.result() == (True, True)
    w = HealthWatch(10)
    for k in range(1, 11):
        w.add(k, np.full((8, 8, 3), 10 * k, np.uint8))
    assert w.result() == (False, False)
    w = HealthWatch(10)
    for k in range(1, 11):
        w.add(k, np.zeros((8, 8, 3), np.uint8) if k > 5 else still)  # the first half does not count
    assert w.result() == (True, True)


def _frames(level: float, n: int = 6) -> list[np.ndarray]:
    """Dim frames that change: a moving bright bar on a flat background of mean luma ``level``."""
    out = []
    for k in range(n):
        f = np.full((32, 32, 3), int(round(level * 255)), np.uint8)
        f[k * 4 : k * 4 + 2, :, 1] = 60
        out.append(f)
    return out


def test_sweep_and_fitness_call_the_same_frames_black():
    """Just under and just over the shared threshold, the sweep's watch and the fitness's
    degenerate detector give the same answer."""
    for level, black in ((BLACK_LUMA * 0.3, True), (BLACK_LUMA * 3, False)):
        frames = _frames(level)
        w = HealthWatch(2)
        for k, f in enumerate(frames, 1):
            w.add(k, f)
        stats = frame_statistics(frames)
        assert w.result()[0] is black
        assert (degenerate_reason(stats) == "black") is black


def test_sweep_and_fitness_call_the_same_frames_frozen():
    still = [np.full((32, 32, 3), 120, np.uint8)] * 4
    moving = [np.full((32, 32, 3), 120 + 3 * k, np.uint8) for k in range(4)]  # 3/255 > FROZEN_CHANGE
    assert 3 / 255 > FROZEN_CHANGE
    for frames, frozen in ((still, True), (moving, False)):
        w = HealthWatch(2)
        for k, f in enumerate(frames, 1):
            w.add(k, f)
        assert w.result()[1] is frozen
        assert (degenerate_reason(frame_statistics(frames)) == "frozen") is frozen
