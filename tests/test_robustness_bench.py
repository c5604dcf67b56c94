"""The robustness benchmark in small: a few hundred hostile inputs, none may crash or hang.
(The standing figure, >= 100,000 inputs, is `benchmarks/bench_robustness.py`.)"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_hostile_inputs_give_results_or_clear_errors(capsys):
    sys.path.insert(0, str(BENCH))
    try:
        import bench_robustness
    finally:
        sys.path.remove(str(BENCH))
    code = bench_robustness.run(450, seed=20260, workers=1, time_cap=30.0, memory_cap_mb=4096, quiet=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "inputs tried      450 (milk 150, eel 150, hlsl 150)" in out and "crashes           0" in out


def test_inputs_are_a_function_of_seed_and_number():
    sys.path.insert(0, str(BENCH))
    try:
        import hostile_inputs
        from bench_robustness import make_input
    finally:
        sys.path.remove(str(BENCH))
    corpus = ([b"[preset00]\nzoom=1\n"], ["x = 1;"], ["shader_body { ret = 1; }"])
    for kind in ("milk", "eel", "hlsl"):
        a = [make_input(kind, 3, i, corpus) for i in range(40)]
        assert a == [make_input(kind, 3, i, corpus) for i in range(40)]
        assert a != [make_input(kind, 4, i, corpus) for i in range(40)]
    assert hostile_inputs.MAX_CHARS > 200_000  # past the compilers' limits, so the limits are exercised
