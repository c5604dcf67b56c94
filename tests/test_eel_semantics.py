"""One test per EEL2 rule MilkDrop 2 relies on (scalar back end; backends agree elsewhere)."""
import math

import pytest

from renderer.eel import EELError, LOOP_CAP, MEM_SIZE, VM, Runtime, compile_block


def run(code, seed=0, **init):
    vm = VM(Runtime(seed))
    vm.vars.update({k: float(v) for k, v in init.items()})
    compile_block(code, "per_frame").run(vm)
    return vm.vars


def val(expr, **init):
    return run(f"out = {expr};", **init)["out"]


@pytest.mark.parametrize("expr, want", [
    ("1 + 2 * 3", 7.0), ("(1 + 2) * 3", 9.0), ("10 - 4 - 3", 3.0), ("2 * 3 % 4", 2.0),
    ("-2 + 5", 3.0), ("- -3", 3.0), ("1 < 2 == 1", 1.0), ("1 + 2 > 2", 1.0),
    ("2 ^ 3 ^ 2", 512.0), ("0 || 1 && 0", 0.0), ("1 ? 2 : 3", 2.0), ("0 ? 2 : 0 ? 4 : 5", 5.0),
])
def test_precedence(expr, want):
    assert val(expr) == want


@pytest.mark.parametrize("text, want", [
    (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0), ("2.5E-1", 0.25), ("$PI", math.pi),
    ("$pi", math.pi), ("$E", math.e), ("$PHI", 1.618033988749895), ("$X1F", 31.0), ("$'a'", 97.0),
])
def test_number_literals(text, want):
    assert val(text) == pytest.approx(want, rel=1e-15)


def test_division_by_zero_is_zero():
    assert val("5 / 0") == 0.0
    assert val("5 / z") == 0.0
    assert run("x = 4; x /= 0;")["x"] == 0.0


@pytest.mark.parametrize("expr, want", [
    ("7 % 3", 1.0), ("7.9 % 3.9", 1.0), ("-7 % 3", -1.0), ("7 % 0", 0.0), ("7 % 0.5", 0.0),
    ("5.7 & 3.2", 1.0), ("5.7 | 2.2", 7.0), ("0 & 123", 0.0), ("-1.5 | 0", -1.0),
])
def test_mod_and_bitwise_truncate(expr, want):
    assert val(expr) == want


def test_zero_and_idiom_evaluates_to_zero():
    assert val("(0 & (x * 10 - 0.5)) * 0.1 + 0.05", x=0.7) == pytest.approx(0.05)
    assert val("0&bass*.5", bass=3) == 0.0


@pytest.mark.parametrize("expr, want", [
    ("equal(1, 1.000009)", 1.0), ("equal(1, 1.00002)", 0.0), ("1 == 1.000001", 1.0),
    ("1 != 1.000001", 0.0), ("bnot(0.000009)", 1.0), ("bnot(0.1)", 0.0), ("!0", 1.0),
    ("if(0.000009, 1, 2)", 2.0), ("if(-0.5, 1, 2)", 1.0), ("0.000001 ? 1 : 2", 2.0),
    ("band(1, 0.000001)", 0.0), ("bor(0, 0.001)", 1.0),
])
def test_tolerance_0_00001(expr, want):
    assert val(expr) == want


def test_short_circuit_and_or():
    v = run("a = 0 && (b = 5); c = 1 || (d = 7); e = 1 && (f = 2); g = 0 || (h = 3);")
    assert v["a"] == 0.0 and v.get("b", 0.0) == 0.0
    assert v["c"] == 1.0 and v.get("d", 0.0) == 0.0
    assert v["e"] == 1.0 and v["f"] == 2.0
    assert v["g"] == 1.0 and v["h"] == 3.0


def test_band_bor_evaluate_both_sides():
    v = run("a = band(0, b = 5); c = bor(1, d = 7);")
    assert v["b"] == 5.0 and v["d"] == 7.0


def test_if_evaluates_only_chosen_branch():
    v = run("r = if(above(x, 1), a = 1, b = 2);", x=0)
    assert v["r"] == 2.0 and v["b"] == 2.0 and v.get("a", 0.0) == 0.0


@pytest.mark.parametrize("expr, want", [
    ("above(2, 1)", 1.0), ("above(1, 1)", 0.0), ("below(1, 2)", 1.0), ("sqr(-3)", 9.0),
    ("sqrt(-16)", 4.0), ("pow(2, 10)", 1024.0), ("pow(-8, 1/3)", 0.0), ("pow(0, -1)", 0.0),
    ("log(1)", 0.0), ("log10(1000)", 3.0), ("exp(0)", 1.0), ("int(2.7)", 2.0), ("int(-2.3)", -3.0),
    ("floor(-0.5)", -1.0), ("ceil(0.2)", 1.0), ("sign(-3)", -1.0), ("sign(0)", 0.0),
    ("min(2, -1)", -1.0), ("max(2, -1)", 2.0), ("abs(-4)", 4.0), ("sigmoid(0, 5)", 0.5),
    ("atan2(1, 1)", math.pi / 4), ("asin(1)", math.pi / 2), ("acos(1)", 0.0), ("atan(0)", 0.0),
    ("tan(0)", 0.0), ("sin(0)", 0.0), ("cos(0)", 1.0), ("exec2(1, 2)", 2.0), ("exec3(1, 2, 3)", 3.0),
])
def test_functions(expr, want):
    assert val(expr) == pytest.approx(want, abs=1e-12)


def test_log_of_non_positive_follows_c():
    assert val("log(0)") == -math.inf
    assert math.isnan(val("log(-1)"))


def test_rand_is_integer_in_range_and_seeded_per_runtime():
    a = run("loop(200, s = rand(10); ok = ok + (s >= 0) * (s < 10) * equal(s, int(s)));", seed=3)
    assert a["ok"] == 200.0
    assert val("rand(0)") == 0.0 and val("rand(0.5)") == 0.0
    draws = lambda seed: [run("a = rand(1000); b = rand(1000);", seed=seed)[k] for k in "ab"]
    assert draws(7) == draws(7)
    assert draws(7) != draws(8)


def test_unknown_variables_start_at_zero():
    assert val("never_set + 1") == 1.0


def test_case_insensitive_identifiers():
    v = run("Foo = 2; fOO += Sin(0) + ABOVE(1, 0);")
    assert v["foo"] == 3.0 and "Foo" not in v


def test_assignment_forms():
    v = run("a = 1; a += 2; a -= 0.5; a *= 4; b = 7; b %= 4; c = (d = 3) + 1; assign(e, 9);")
    assert (v["a"], v["b"], v["c"], v["d"], v["e"]) == (10.0, 3.0, 4.0, 3.0, 9.0)


def test_semicolons_inside_parentheses_give_last_value():
    v = run("x = (a = 1; b = 2; a + b);")
    assert v["x"] == 3.0


def test_loop_and_while():
    v = run("i = 0; loop(5, i += 1); n = 0; while(n += 1; n < 7);")
    assert v["i"] == 5.0 and v["n"] == 7.0
    assert run("loop(-3, k += 1);").get("k", 0.0) == 0.0
    assert run("loop(2.9, k += 1);")["k"] == 2.0


def test_loop_is_capped_at_2_pow_20():
    v = run("loop(1e9, k += 1);")
    assert v["k"] == LOOP_CAP
    assert run("while(k += 1);")["k"] == LOOP_CAP


def test_megabuf_bounds_and_lvalues():
    v = run("megabuf(5) = 3; megabuf(5) += 2; a = megabuf(5); megabuf(-1) = 7; b = megabuf(-1);"
            f"megabuf({MEM_SIZE}) = 4; c = megabuf({MEM_SIZE}); megabuf(1e300) = 1; d = megabuf(4.9999);"
            "gmegabuf(2) = 8; e = gmegabuf(2.00005);")
    assert (v["a"], v["b"], v["c"], v["e"]) == (5.0, 0.0, 0.0, 8.0)
    assert v["d"] == 5.0          # index rounding: trunc(i + 0.0001)


def test_megabuf_is_per_vm_gmegabuf_per_runtime():
    rt = Runtime(0)
    a, b = VM(rt), VM(rt)
    compile_block("megabuf(1) = 5; gmegabuf(1) = 6;", "x").run(a)
    compile_block("m = megabuf(1); g = gmegabuf(1);", "x").run(b)
    assert b.vars["m"] == 0.0 and b.vars["g"] == 6.0
    other = VM(Runtime(0))
    compile_block("g = gmegabuf(1);", "x").run(other)
    assert other.vars["g"] == 0.0


def test_reg_variables_are_global_to_the_runtime():
    rt = Runtime(0)
    a, b = VM(rt), VM(rt)
    compile_block("reg07 = 4; reg7 = 5;", "x").run(a)
    compile_block("r = reg07; s = reg7;", "x").run(b)
    assert b.vars["r"] == 4.0 and b.vars["s"] == 0.0


def test_comments_and_line_join():
    block = compile_block(["x = 1; // comment", "y = .", "5; \\\\ other comment", "z = 2;"], "per_frame")
    vm = VM(Runtime())
    block.run(vm)
    assert (vm.vars["x"], vm.vars["y"], vm.vars["z"]) == (1.0, 0.5, 2.0)


def test_error_names_section_line_and_column():
    with pytest.raises(EELError) as info:
        compile_block(["x = 1;", "y = 2 + * 3;", "z = 3;"], "wave2_per_point")
    err = info.value
    assert err.section == "wave2_per_point" and err.line == 2
    assert err.col == 9 and "wave2_per_point line 2" in str(err)


@pytest.mark.parametrize("code", ["x = foo(1);", "x = sin(1, 2);",
                                  "3 = x;", "x = (1 + 2;", "x = 1 @ 2;", "x = 0.99l;"])
def test_bad_code_raises_eelerror(code):
    with pytest.raises(EELError):
        compile_block(code, "per_pixel")


def run_code(code: str, **start) -> dict:
    vm = VM(Runtime())
    vm.vars.update({k: float(v) for k, v in start.items()})
    compile_block(code, "per_frame", skip_bad_statements=True).run(vm)
    return vm.vars


def test_a_lone_dot_is_zero_as_in_milkdrop():
    # ns-eel2's lexer takes "." as a floating-point constant; atof(".") is 0
    v = run_code("x = .; y = below(-60, .-53); z = 2*.+1;")
    assert (v["x"], v["y"], v["z"]) == (0.0, 1.0, 1.0)


@pytest.mark.parametrize("call,expect", [
    ("_aboeq(3, 3)", 1.0), ("_aboeq(2, 3)", 0.0), ("_beleq(3, 3)", 1.0), ("_below(2, 3)", 1.0),
    ("_above(2, 3)", 0.0), ("_equal(2, 2)", 1.0), ("_noteq(2, 2)", 0.0), ("_and(1, 0)", 0.0),
    ("_or(1, 0)", 1.0), ("_not(0)", 1.0), ("_mod(7, 4)", 3.0), ("_if(0, 5, 6)", 6.0),
    ("_add(2, 3)", 5.0), ("_sub(2, 3)", -1.0), ("_mul(2, 3)", 6.0), ("_div(3, 2)", 1.5),
])
def test_ns_eel2_internal_names_are_their_operators(call, expect):
    assert run_code(f"r = {call};")["r"] == expect


@pytest.mark.parametrize("call,expect", [
    ("_set(a, 5)", 5.0), ("_addop(a, 5)", 7.0), ("_subop(a, 5)", -3.0), ("_mulop(a, 5)", 10.0),
    ("_divop(a, 4)", 0.5), ("_modop(a, 3)", 2.0), ("_powop(a, 3)", 8.0), ("_orop(a, 5)", 7.0),
    ("_andop(a, 3)", 2.0),
])
def test_ns_eel2_internal_assignments_change_their_variable(call, expect):
    v = run_code(f"r = {call};", a=2)
    assert v["a"] == expect and v["r"] == expect


def test_internal_memory_names_reach_the_buffers():
    v = run_code("_mem(3) = 4; _gmem(5) = 6; a = megabuf(3) + gmegabuf(5);")
    assert v["a"] == 10.0


def test_a_statement_that_does_not_parse_is_skipped_and_the_rest_runs():
    # MilkDrop 2 compiles ;-separated statements one by one and leaves out one that fails
    block = compile_block(["a = 1;", "b = 0.99l;", "c = 3; d = (;", "e = 5;"], "per_frame",
                          skip_bad_statements=True)
    vm = VM(Runtime())
    block.run(vm)
    assert vm.vars["a"] == 1.0 and vm.vars["c"] == 3.0 and vm.vars["e"] == 5.0
    assert "b" not in vm.vars or vm.vars["b"] == 0.0
    assert [(e.section, e.line) for e in block.skipped] == [("per_frame", 2), ("per_frame", 3)]
    with pytest.raises(EELError):  # the strict form still refuses the block
        compile_block(["a = 1;", "b = 0.99l;"], "per_frame")


def test_block_reports_reads_writes():
    b = compile_block("a = b + 1; c += a; d = e;", "per_frame")
    assert b.writes == {"a", "c", "d"}
    assert b.reads == {"b", "a", "c", "e"}
    assert compile_block("// nothing", "per_frame").empty
