"""renderer.eel.block's compile cache: shared compiled code, independent Blocks, bounded size."""

import numpy as np
import pytest

from renderer.eel import VM, EELError, Runtime, block as block_mod, clear_compile_cache, compile_block

SCAN = "t = (t + 1) % 5; out = t * x + rand(3) * 0;"
ITEMS = "k = k + 1; x = x * k; loop(2, m += 1); reg05 = reg05 + x;"


@pytest.fixture(autouse=True)
def fresh_cache():
    clear_compile_cache()
    yield
    clear_compile_cache()


def _run(block, code_inputs, n, outputs, seed=3):
    vm = VM(Runtime(seed))
    out = [block.run_many(vm, code_inputs, n, outputs) for _ in range(3)]
    return out, vm


def test_same_code_shares_compiled_functions_but_not_diagnostics():
    a = compile_block("t = (t + 1) % 5; out = t * x;", "per_pixel")
    b = compile_block("t = (t + 1) % 5; out = t * x;", "per_pixel")
    assert a is not b and a._scalar is b._scalar
    a.run_many(VM(Runtime()), {"x": np.ones(23)}, 23, ["out"])
    assert a.last_run_mode == "vector+scan" and a.last_scan.steps == 5
    assert b.last_run_mode == "items" and b.last_scan.steps != 5
    assert b.vector_source is not None  # the vector function a built is b's too


def test_cached_block_gives_the_same_results_as_a_fresh_compile():
    for code, inputs, outputs in ((SCAN, {"x": np.linspace(0, 1, 17)}, ["out", "t"]),
                                  (ITEMS, {"x": np.arange(6.0)}, ["x", "k", "m"])):
        clear_compile_cache()
        fresh, vm_fresh = _run(compile_block(code, "pp"), inputs, len(inputs["x"]), outputs)
        used = compile_block(code, "pp")
        _run(used, inputs, len(inputs["x"]), outputs, seed=9)  # another user's run first
        cached, vm_cached = _run(compile_block(code, "pp"), inputs, len(inputs["x"]), outputs)
        for f, c in zip(fresh, cached):
            assert all(np.array_equal(f[o], c[o]) for o in outputs)
        assert vm_fresh.vars == vm_cached.vars and vm_fresh.runtime.regs == vm_cached.runtime.regs


def test_lines_and_text_forms_and_sections_are_told_apart():
    a = compile_block(["x = 1;", "y = 2;"], "per_frame")
    assert compile_block(["x = 1;", "y = 2;"], "per_frame")._scalar is a._scalar
    assert compile_block(["x = 1;", "y = 2;"], "per_pixel")._scalar is not a._scalar
    assert compile_block("x = 1; y = 3;", "per_frame")._scalar is not a._scalar


def test_errors_still_name_section_and_line_on_every_call():
    for _ in range(2):
        with pytest.raises(EELError) as e:
            compile_block(["x = 1;", "y = (2;"], "wave1_per_point")
        assert e.value.section == "wave1_per_point" and e.value.line == 2


def test_cache_is_bounded_least_recently_used_first(monkeypatch):
    monkeypatch.setattr(block_mod, "COMPILE_CACHE_SIZE", 4)
    first = compile_block("a = 0;", "s")
    for k in range(1, 4):
        compile_block(f"a = {k};", "s")
    assert compile_block("a = 0;", "s")._scalar is first._scalar  # a hit makes it the newest
    compile_block("a = 4;", "s")                                   # evicts "a = 1;"
    assert len(block_mod._COMPILED) == 4
    assert ("a = 0;", "s", False) in block_mod._COMPILED and ("a = 1;", "s", False) not in block_mod._COMPILED
