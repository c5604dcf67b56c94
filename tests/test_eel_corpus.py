"""Every code block of the projectM corpus compiles.

Three per-pixel blocks hold `q2=below(rad,.-53);`, a typo that MilkDrop 2 still compiles: its
ns-eel2 lexer reads a lone `.` as a floating-point constant, 0 (atof), so the line is
below(rad, -53). They used to be refused here.
"""
from pathlib import Path

import numpy as np
import pytest

from renderer.equations import PresetEquations
from renderer.milk.preset import load_milk

ROOT = Path("/usr/share/projectM/presets")
KNOWN_FAILURES: set = set()

INPUTS = dict(time=1.0, frame=30, fps=30, progress=0.1, bass=1.2, mid=0.9, treb=1.1,
              bass_att=1.1, mid_att=1.0, treb_att=1.0, meshx=16, meshy=12, pixelsx=512,
              pixelsy=512, aspectx=1.0, aspecty=1.0)


def _mesh():
    gx, gy = np.meshgrid(np.linspace(-1, 1, 17), np.linspace(-1, 1, 13))
    return gx * 0.5 + 0.5, gy * -0.5 + 0.5, np.hypot(gx, gy), np.arctan2(gy, gx)


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not ROOT.is_dir(), reason="projectm-data not installed")
def test_corpus_compiles_and_per_pixel_vectorises():
    failures, with_pp, vectorised = set(), 0, 0
    x, y, rad, ang = _mesh()
    for path in sorted(ROOT.rglob("*")):
        if path.suffix.lower() != ".milk":
            continue
        preset = load_milk(path)
        eq = PresetEquations(preset, seed=1)
        rel = str(path.relative_to(ROOT))
        failures |= {(rel, e.section) for e in eq.errors}
        if eq.pixel_block is None:
            continue
        with_pp += 1
        for frame in range(2):            # carried state usually settles after frame 1
            fv = eq.begin_frame({**INPUTS, "frame": frame, "time": frame / 30})
            eq.per_pixel(fv, x, y, rad, ang)
        vectorised += eq.pixel_block.last_run_vectorised
    assert failures == KNOWN_FAILURES
    assert with_pp > 3000
    # ~9% of per-pixel blocks carry state between vertices (MD1 `thresh` smoothing, q vars
    # rewritten per vertex); renderer/eel/carried.py runs those vectorised exactly. What is
    # left is conditional rand() and true per-vertex recurrences: measured 98.9%.
    assert vectorised / with_pp >= 0.95, (vectorised, with_pp)
