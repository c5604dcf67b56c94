"""Blocks that carry state from one item to the next: vectorised runs equal item by item."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.eel import VM, Runtime, compile_block

N = 40
OUTS = ["out", "zoom", "s", "t", "r", "c"]


def _inputs(n=N):
    x = np.linspace(-1.0, 2.0, n)
    return {"x": x, "y": np.cos(3 * x), "zoom": 1.25}


def _run_both(code, frames, n=N, seed=4, uniforms=None):
    """Run `frames` frames vectorised and item by item; return the modes of the first."""
    block = compile_block(code, "per_pixel")
    vm_v, vm_s = VM(Runtime(seed)), VM(Runtime(seed))
    modes = []
    for f in range(frames):
        for vm in (vm_v, vm_s):
            vm.vars.update(uniforms(f) if uniforms else {"u": 0.3 * f, "w": 1.5})
        got = block.run_many(vm_v, _inputs(n), n, OUTS)
        modes.append(block.last_run_mode)
        want = block._run_items(vm_s, _inputs(n), n, OUTS)
        for name in OUTS:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-13,
                                       err_msg=f"{code} / {name} / frame {f}")
        for name in set(vm_v.vars) | set(vm_s.vars):
            np.testing.assert_allclose(vm_v.vars.get(name, 0.0), vm_s.vars.get(name, 0.0),
                                       rtol=1e-10, atol=1e-13, err_msg=f"{code} / var {name}")
        assert vm_v.runtime.uniform() == vm_s.runtime.uniform()   # same rand() draws used
    return modes


THRESH = ("t = above(bass_att,t)*2+(1-above(bass_att,t))*((t-1.3)*0.96+1.3);"
          "r = equal(t,2)*0.015*sin(5*w)+(1-equal(t,2))*r;"
          "c = if(equal(t,2), w*3, c);"
          "zoom = zoom + r*x + c*y; out = t;")


@pytest.mark.parametrize("bass", [0.4, 1.6, 2.4])
def test_milkdrop1_threshold_smoothing_is_scanned_exactly(bass):
    modes = _run_both(THRESH, 3, n=300, uniforms=lambda f: {"bass_att": bass + 0.1 * f, "w": 1.0})
    assert set(modes) == {"vector+scan"}


def test_scan_stops_at_a_repeat_but_keeps_the_whole_sequence():
    block = compile_block("t = (t + 1) % 5; out = t * x;", "per_pixel")
    vm = VM(Runtime())
    out = block.run_many(vm, {"x": np.ones(23)}, 23, ["out"])
    assert block.last_run_mode == "vector+scan" and block.last_scan.steps == 5
    assert list(out["out"]) == [(k % 5) for k in range(1, 24)]
    assert vm.vars["t"] == 23 % 5


def test_counter_and_uniform_written_after_read():
    modes = _run_both("out = c * x + late; c = c + 1; late = sin(u) + c;", 3)
    assert set(modes) == {"vector+scan"}


def test_value_written_per_item_is_seen_by_the_next_item():
    code = "out = s * 2 + x; s = x * y + u; zoom = if(above(s, 0), s, zoom);"
    assert set(_run_both(code, 3)) == {"vector+shift"}


def test_shifted_values_chained_over_levels():
    code = "out = a + b; a = b * x; b = y + u;"          # a reads the previous b
    assert set(_run_both(code, 3)) == {"vector+shift"}


def test_scan_slice_ignores_overwritten_vertex_values():
    code = "d = x * 3; d = 8 * w; v = d * 0.1; ax = ax + v; out = ax + d * y;"
    assert set(_run_both(code, 3)) == {"vector+scan"}


def test_true_recurrence_over_vertex_values_runs_item_by_item():
    code = "m = m * 0.5 + x; out = m;"
    assert set(_run_both(code, 2)) == {"items"}


def test_rand_with_carried_state_draws_as_item_by_item():
    assert set(_run_both("out = s + rand(100); s = x * rand(7);", 3)) == {"vector+shift"}
    # a carried recurrence that must fall back after a tentative vectorised run
    assert set(_run_both("m = m + above(x, 1.5); out = m + rand(50);", 2)) == {"items"}


# -- property test: random blocks built from the recognised shapes plus noise --------------
LEAVES = ["x", "y", "u", "w", "zoom", "s", "t", "r", "c", "0.5", "2", "1.3"]
FUNCS1 = ["sin", "abs", "sqr", "int", "bnot"]
FUNCS2 = ["above", "below", "equal", "min", "max"]
OPS = ["+", "-", "*", "/", "%"]

leaf = st.sampled_from(LEAVES)


def _extend(inner):
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPS), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(FUNCS1), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(FUNCS2), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
    )


expr = st.recursive(leaf, _extend, max_leaves=6)
uniform_expr = st.recursive(st.sampled_from(["u", "w", "t", "r", "c", "0.5", "2", "1.3"]),
                            _extend, max_leaves=5)
shapes = st.one_of(
    uniform_expr.map(lambda e: f"t = above(u, t)*2 + (1-above(u, t))*((t-1.3)*0.96+1.3) + 0*{e};"),
    uniform_expr.map(lambda e: f"r = if(equal(t, 2), {e}, r);"),     # forward fill
    uniform_expr.map(lambda e: f"c = c + {e};"),                     # accumulator
    uniform_expr.map(lambda e: f"t = {e};"),                         # uniform recurrence
    expr.map(lambda e: f"s = {e};"),                                 # shift or recurrence
    st.tuples(st.sampled_from(["out", "zoom", "r", "s"]), expr).map(lambda p: f"{p[0]} = {p[1]};"),
    expr.map(lambda e: f"out = rand(10) + {e};"),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(shapes, min_size=1, max_size=6), st.floats(0.0, 2.5, allow_nan=False))
def test_random_carried_blocks_match_item_by_item(stmts, u):
    code = " ".join(stmts)
    _run_both(code, 2, n=25, uniforms=lambda f: {"u": u + 0.5 * f, "w": 0.7})
