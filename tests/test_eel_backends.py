"""Scalar and vectorised back ends agree; run_many keeps sequential meaning."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.eel import VM, Runtime, compile_block

VARS = ["a", "b", "c", "x", "y"]
UNARY = ["sin", "cos", "abs", "sqrt", "sqr", "int", "sign", "bnot", "exp", "log", "atan", "floor"]
BINARY = ["above", "below", "equal", "min", "max", "pow", "band", "bor", "atan2", "sigmoid"]
OPS = ["+", "-", "*", "/", "%", "&", "|", "<", ">", "<=", ">=", "==", "!=", "&&", "||"]

leaf = st.one_of(st.sampled_from(VARS),
                 st.sampled_from(["0", "1", "2", ".5", "-3", "0.00001", "100", "1e3"]))


def _extend(inner):
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPS), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(BINARY), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(st.sampled_from(VARS), st.sampled_from(["=", "+=", "*=", "-="]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}; {t[1]})"),
        inner.map(lambda e: f"-{e}"),
    )


expressions = st.recursive(leaf, _extend, max_leaves=12)
statements = st.lists(st.tuples(st.sampled_from(VARS + ["out", "q1"]), expressions)
                      .map(lambda t: f"{t[0]} = {t[1]};"), min_size=1, max_size=5)


def _same(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements, st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=3))
def test_vectorised_equals_scalar_item_by_item(stmts, starts):
    code = " ".join(stmts)
    block = compile_block(code, "per_pixel")
    n = 7
    xs = np.linspace(-2.0, 3.0, n)
    ys = np.array([0.0, 1e-6, -1.0, 0.5, 2.0, -0.00002, 1.0])
    per_item = {"x": xs, "y": ys, "a": starts[0], "b": starts[1], "c": starts[2]}
    outputs = ["out", "q1", "a", "b", "c", "x", "y"]
    vm_v, vm_s = VM(Runtime(5)), VM(Runtime(5))
    got = block.run_many(vm_v, per_item, n, outputs)
    want = block._run_items(vm_s, per_item, n, outputs)
    for name in outputs:
        assert _same(got[name], want[name]), (code, name, got[name], want[name])
    for name in set(vm_s.vars) | set(vm_v.vars):
        assert _same(vm_v.vars.get(name, 0.0), vm_s.vars.get(name, 0.0)), (code, name)


def test_vectorised_path_is_used_for_plain_per_pixel_code():
    block = compile_block("zoom = zoom + 0.1*sin(rad*3); rot = if(above(x, .5), rot + .1, rot);", "pp")
    out = block.run_many(VM(Runtime()), {"x": np.linspace(0, 1, 11), "rad": np.ones(11),
                                         "zoom": 1.0, "rot": 0.0}, 11, ["zoom", "rot"])
    assert block.last_run_vectorised
    assert out["rot"][-1] == pytest.approx(0.1) and out["rot"][0] == 0.0


def test_state_carried_between_items_runs_in_order():
    block = compile_block("flip = -flip; y = flip; c = c + 1; x = c;", "wave0_per_point")
    vm = VM(Runtime())
    vm.vars["flip"] = 1.0
    out = block.run_many(vm, {"sample": np.linspace(0, 1, 6)}, 6, ["y", "x"])
    # flip and c depend on no per-point input: scanned as scalars, the rest vectorised
    assert block.last_run_mode == "vector+scan"
    assert list(out["y"]) == [-1, 1, -1, 1, -1, 1]
    assert list(out["x"]) == [1, 2, 3, 4, 5, 6]
    assert vm.vars["c"] == 6.0 and vm.vars["flip"] == 1.0


def test_carried_variable_that_stays_fixed_is_vectorised_exactly():
    block = compile_block("dx_r = equal(thresh, 2) * 0.5 + (1 - equal(thresh, 2)) * dx_r; dx = dx + dx_r;", "pp")
    vm = VM(Runtime())
    out = block.run_many(vm, {"x": np.zeros(5), "dx": 0.25}, 5, ["dx"])
    assert block.last_run_vectorised and list(out["dx"]) == [0.25] * 5


def test_rand_vectorised_replays_sequential_draws():
    block = compile_block("r1 = rand(100); r2 = rand(1000) + x;", "pp")
    assert block.vectorisable
    a = block.run_many(VM(Runtime(9)), {"x": np.arange(50.0)}, 50, ["r1", "r2"])
    assert block.last_run_vectorised
    b = block._run_items(VM(Runtime(9)), {"x": np.arange(50.0)}, 50, ["r1", "r2"])
    assert np.array_equal(a["r1"], b["r1"]) and np.array_equal(a["r2"], b["r2"])
    assert len(set(a["r1"])) > 5


def test_conditional_rand_and_loops_fall_back_to_scalar():
    for code in ["r = if(above(x, 2), rand(10), 0);", "loop(2, k += x);", "megabuf(x) = 1;"]:
        block = compile_block(code, "pp")
        assert not block.vectorisable
        block.run_many(VM(Runtime()), {"x": np.arange(4.0)}, 4, ["k"])
        assert not block.last_run_vectorised


def test_per_item_vars_reset_each_item_and_final_state_is_last_item():
    block = compile_block("zoom = zoom * 2; s = s + 0 * zoom;", "pp")
    vm = VM(Runtime())
    out = block.run_many(vm, {"zoom": 1.5, "x": np.arange(3.0)}, 3, ["zoom"])
    assert list(out["zoom"]) == [3.0, 3.0, 3.0]
    assert vm.vars["zoom"] == 3.0 and vm.vars["x"] == 2.0
