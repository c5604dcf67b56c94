"""The generated item loop and the inlined scalar calls give exactly the old results.

Reference: Block._run_items_each (one call of the scalar function per item, variables
round-tripped through the VM's dict) and the helpers in functions.py. "Exactly" means
the same bits (NaN matches any NaN).
"""
import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.eel import VM, Runtime, compile_block
from renderer.eel import functions as F
from renderer.equations import SHAPE_KEYS, T_NAMES, Q_NAMES, PresetEquations
from renderer.milk.preset import parse_milk

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-5, -1e-5, 3.7, -3.7, 1e300, -1e300, 5e-324,
           math.pi / 2, 710.0, -745.5, 1e16, float("inf"), float("-inf"), float("nan")]


def bits_equal(a, b) -> bool:
    a, b = float(a), float(b)
    return (a != a and b != b) or struct.pack("d", a) == struct.pack("d", b)


def arrays_equal(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and all(bits_equal(x, y) for x, y in zip(a.tolist(), b.tolist()))


# ------------------------------------------------------------------ inlined calls
UNARY = ["sin", "cos", "tan", "asin", "acos", "atan", "exp", "log", "log10", "sqrt", "floor",
         "int", "ceil", "sign", "abs", "sqr", "invsqrt"]
BINARY = ["min", "max", "atan2", "pow", "sigmoid"]


@pytest.mark.parametrize("name", UNARY)
def test_inlined_unary_calls_equal_their_helpers(name):
    block = compile_block(f"y = {name}(x);", "per_frame")
    helper = {"abs": abs, "sqr": lambda x: x * x}.get(name) or F.CALLS[name][0]
    for x in SPECIAL:
        vm = VM(Runtime())
        vm.vars["x"] = x
        block.run(vm)
        with np.errstate(all="ignore"):
            want = helper(x)
        assert bits_equal(vm.vars["y"], want), (name, x, vm.vars["y"], want)


@pytest.mark.parametrize("name", BINARY)
def test_inlined_binary_calls_equal_their_helpers(name):
    block = compile_block(f"y = {name}(a, b);", "per_frame")
    for a in SPECIAL:
        for b in SPECIAL:
            vm = VM(Runtime())
            vm.vars.update(a=a, b=b)
            block.run(vm)
            with np.errstate(all="ignore"):
                want = F.CALLS[name][0](a, b)
            assert bits_equal(vm.vars["y"], want), (name, a, b, vm.vars["y"], want)


@pytest.mark.parametrize("e", ["2", "0.5", "1", "3", "-1", "0"])
def test_pow_with_constant_exponent_equals_s_pow(e):
    block = compile_block(f"y = pow(x, {e}); z = x ^ {e}; w = x; w ^= {e};", "per_frame")
    for x in SPECIAL + [-8.0, 1.3407807929942596e154, -2.0 ** 0.5]:
        vm = VM(Runtime())
        vm.vars["x"] = x
        block.run(vm)
        with np.errstate(all="ignore"):
            want = F.s_pow(x, float(e))
        for name in "yzw":
            assert bits_equal(vm.vars[name], want), (e, x, name, vm.vars[name], want)


def test_pow_memo_keeps_signed_zero_and_is_bounded():
    block = compile_block("y = pow(x, 3); z = x ^ 3;", "per_frame")
    got = []
    for x in (-0.0, 0.0, -0.0):
        vm = VM(Runtime())
        vm.vars["x"] = x
        block.run(vm)
        got.append((math.copysign(1, vm.vars["y"]), math.copysign(1, vm.vars["z"])))
    assert got == [(-1, -1), (1, 1), (-1, -1)]
    with np.errstate(all="ignore"):
        for k in range(F._POW_CACHE_SIZE + 10):
            F.s_pow(1.0 + k * 1e-3, 1.5)
    assert len(F._POW_CACHE) <= F._POW_CACHE_SIZE


def test_division_inline_keeps_evaluation_order():
    # the divisor assigns a variable the dividend reads: must not be inlined out of order
    block = compile_block("y = x / (x = 0); z = (x = 4) / x; w = a / b;", "per_frame")
    vm = VM(Runtime())
    vm.vars.update(x=3.0, a=1.0, b=0.0)
    block.run(vm)
    assert vm.vars["y"] == 0.0 and vm.vars["z"] == 1.0 and vm.vars["w"] == 0.0


# ------------------------------------------------------------------ whole item loop
VARS = ["a", "b", "c", "x", "y", "reg01"]
leaf = st.one_of(st.sampled_from(VARS),
                 st.sampled_from(["0", "1", "2", ".5", "-3", "0.00001", "100", "-0"]))
FUNCS1 = ["sin", "cos", "tan", "atan", "exp", "log", "sqrt", "int", "sign", "abs", "sqr", "asin"]
FUNCS2 = ["min", "max", "pow", "atan2", "above", "equal"]


def _extend(inner):
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "^", "<", "==", "&&", "|"]),
                  inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(FUNCS1), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(FUNCS2), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(VARS), st.sampled_from(["=", "+=", "/=", "^="]), inner)
        .map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"rand({e})"),
        inner.map(lambda e: f"megabuf({e})"),
        st.tuples(inner, inner).map(lambda t: f"(gmegabuf({t[0]}) = {t[1]})"),
        st.tuples(st.sampled_from(["2", "3", "x"]), inner)
        .map(lambda t: f"loop({t[0]}, c += {t[1]})"),
        st.sampled_from(["2", "0.5", "1"]).map(lambda e: f"pow(a, {e})"),
    )


expressions = st.recursive(leaf, _extend, max_leaves=10)
statements = st.lists(st.tuples(st.sampled_from(VARS + ["out", "q1"]), expressions)
                      .map(lambda t: f"{t[0]} = {t[1]};"), min_size=1, max_size=5)


def _state(vm):
    rt = vm.runtime
    return (dict(vm.vars), dict(rt.regs), {k: v.copy() for k, v in vm.megabuf.blocks.items()},
            {k: v.copy() for k, v in rt.gmegabuf.blocks.items()}, rt.uniform(), rt.budget)


def _same_state(s1, s2):
    v1, r1, m1, g1, u1, b1 = s1
    v2, r2, m2, g2, u2, b2 = s2
    return (list(v1) == list(v2) and all(bits_equal(v1[k], v2[k]) for k in v1)
            and set(r1) == set(r2) and all(bits_equal(r1[k], r2[k]) for k in r1)
            and m1.keys() == m2.keys() and all(arrays_equal(m1[k], m2[k]) for k in m1)
            and g1.keys() == g2.keys() and all(arrays_equal(g1[k], g2[k]) for k in g1)
            and u1 == u2 and b1 == b2)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements, st.lists(st.sampled_from(SPECIAL), min_size=3, max_size=3), st.booleans())
def test_generated_item_loop_equals_one_call_per_item(stmts, starts, reset_each):
    code = " ".join(stmts)
    block = compile_block(code, "wave0_per_point")
    n = 6
    per_item = {"x": np.array([-2.0, 0.0, -0.0, 1e-6, 3.5, 1e200]), "y": starts[0],
                "a": starts[1], "sample": np.linspace(0, 1, n)}
    outputs = ["out", "q1", "a", "b", "c", "x", "y", "sample", "nothere"]
    vms = []
    for _ in range(2):
        vm = VM(Runtime(3))
        vm.vars.update(b=starts[2], c=1.5, q1=-2.0)
        vm.runtime.regs["reg01"] = 0.25
        vms.append(vm)
    got = block._run_items(vms[0], per_item, n, outputs, reset_budget_each=reset_each)
    want = block._run_items_each(vms[1], per_item, n, outputs, reset_budget_each=reset_each)
    for name in outputs:
        assert arrays_equal(got[name], want[name]), (code, name, got[name], want[name])
    assert _same_state(_state(vms[0]), _state(vms[1])), code


def test_item_loop_keeps_state_between_items_and_calls():
    block = compile_block("k = k + 1; x = x * k; loop(2, m += 1); reg05 = reg05 + x;", "pp")
    vm1, vm2 = VM(Runtime()), VM(Runtime())
    for _ in range(2):                                 # the second call starts where the first ended
        got = block._run_items(vm1, {"x": np.arange(4.0)}, 4, ["x", "k", "m"])
        want = block._run_items_each(vm2, {"x": np.arange(4.0)}, 4, ["x", "k", "m"])
    assert list(got["k"]) == [5, 6, 7, 8] and list(got["x"]) == [0, 6, 14, 24]
    assert all(arrays_equal(got[o], want[o]) for o in got)
    assert vm1.vars == vm2.vars and vm1.runtime.regs == vm2.runtime.regs == {"reg05": 64.0}
    assert "for _i in _range(n)" in block.items_source


def test_reg_names_as_inputs_or_outputs_fall_back_to_per_item_calls():
    block = compile_block("reg00 = reg00 + x; y = reg00;", "pp")
    vm = VM(Runtime())
    out = block._run_items(vm, {"x": np.ones(3)}, 3, ["y", "reg00"])
    assert list(out["y"]) == [1.0, 2.0, 3.0]
    assert list(out["reg00"]) == [0.0, 0.0, 0.0]      # read from vm.vars, as before
    assert vm.runtime.regs["reg00"] == 3.0


class SmallBudget(Runtime):
    def reset_budget(self):
        self.budget = 5


def test_loop_budget_per_item_when_asked():
    block = compile_block("loop(4, n += 1);", "shape0_per_frame")
    for each, want in ((True, [4.0, 8.0, 12.0]), (False, [4.0, 5.0, 5.0])):
        for run in (block._run_items, block._run_items_each):
            out = run(VM(SmallBudget()), {"instance": np.arange(3.0)}, 3, ["n"], reset_budget_each=each)
            assert list(out["n"]) == want, (each, run.__name__)


# ------------------------------------------------------------------ shape instances
SHAPE = """shapecode_0_enabled=1
shapecode_0_num_inst=7
shapecode_0_x=0.25
shapecode_0_sides=5
shape_0_init1=t2 = 7; reg03 = 2;
shape_0_per_frame1=x = x + instance * 0.1 + rand(3); n = n + 1; t2 = t2 + n; sides = sides + 1;
shape_0_per_frame2=loop(2, megabuf(instance) += 1); y = megabuf(instance) + reg03 + q1;
shape_0_per_frame3=r = pow(instance, 0.5);"""


def _reference_instances(eq, k, frame_vars):
    """The per-instance loop shape_instances ran before the generated item loop."""
    params = eq.preset.shapes[k].params
    count = int(min(max(int(params.get("num_inst", 1) or 1), 1), 1024))
    vm, block = eq.shape_vms[k], eq.shape_blocks[k][1]
    names = [e for e in SHAPE_KEYS.values() if e] + ["instance"]
    result = []
    for inst in range(count):
        eq._load_shape(k, vm, frame_vars, inst)
        vm.vars.update(eq._shape_t[k])
        block.run(vm)
        out = {name: float(vm.vars.get(name, 0.0)) for name in names}
        out["thickoutline"] = out["thick"]
        out["enabled"] = 1.0
        for name in T_NAMES + Q_NAMES:
            out[name] = float(vm.vars.get(name, 0.0))
        result.append(out)
    return result


def test_shape_instances_equal_one_run_per_instance():
    text = "[preset00]\nper_frame_1=q1 = time * 3;\n" + SHAPE + "\n"
    eqs = [PresetEquations(parse_milk(text, source="t"), seed=5) for _ in range(2)]
    for f in range(3):
        inputs = dict(time=f / 30 + 0.1, frame=f, bass=1.0)
        fvs = [eq.begin_frame(inputs) for eq in eqs]
        got = eqs[0].shape_instances(0, fvs[0])
        want = _reference_instances(eqs[1], 0, fvs[1])
        assert [list(d) for d in got] == [list(d) for d in want]          # same keys, same order
        assert all(bits_equal(g[k], w[k]) for g, w in zip(got, want) for k in g)
        assert eqs[0].shape_vms[0].vars == eqs[1].shape_vms[0].vars
    assert eqs[0].shape_vms[0].vars["n"] == 21.0          # 7 instances x 3 frames
    assert len({d["x"] for d in got}) > 1 and got[-1]["instance"] == 6.0


def test_code_too_deep_for_inline_forms_compiles_with_helper_calls():
    # 49 nested pow(a + ...): inline forms would pass Python's 200-parenthesis limit
    depth = 49
    block = compile_block("x = " + "pow(a + " * depth + "a" + ", 1.01)" * depth + ";", "per_pixel")
    assert "_pow(" in block.scalar_source and "_pcget" not in block.scalar_source
    want = 0.3
    with np.errstate(all="ignore"):
        for _ in range(depth):
            want = F.s_pow(0.3 + want, 1.01)
    vm = VM(Runtime())
    vm.vars["a"] = 0.3
    block.run(vm)
    assert bits_equal(vm.vars["x"], want)
    out = block._run_items(VM(Runtime()), {"a": np.full(3, 0.3)}, 3, ["x"])
    assert arrays_equal(out["x"], [want] * 3)
