"""MilkDrop 2's variable rules between init, per-frame, per-pixel, waves and shapes."""
import numpy as np
import pytest

from renderer.equations import PresetEquations
from renderer.milk.preset import parse_milk

INPUTS = dict(time=0.0, frame=0, fps=30, progress=0, bass=1, mid=1, treb=1, bass_att=1,
              mid_att=1, treb_att=1, meshx=8, meshy=6, pixelsx=64, pixelsy=64, aspectx=1, aspecty=1)


def preset(**code):
    lines = ["[preset00]", "zoom=1.5", "fDecay=0.9"]
    for key, body in code.items():
        for i, line in enumerate(body.split("\n"), 1):
            lines.append(f"{key}_{i}={line}" if not key.startswith(("wavecode", "shapecode")) else line)
    return parse_milk("\n".join(lines) + "\n", source="test")


def frames(eq, n):
    return [eq.begin_frame({**INPUTS, "frame": f, "time": f / 30}) for f in range(n)]


def test_base_values_reset_each_frame_user_vars_persist():
    eq = PresetEquations(preset(per_frame="zoom = zoom + 0.1; n = n + 1; decay = decay - 0.1;"))
    fv = frames(eq, 3)
    assert [f["zoom"] for f in fv] == pytest.approx([1.6, 1.6, 1.6])
    assert fv[-1]["decay"] == pytest.approx(0.8)
    assert eq.frame_vm.vars["n"] == 3.0


def test_q_reset_each_frame_to_post_init_values():
    eq = PresetEquations(preset(per_frame_init="q1 = 5; k = 2; zoom = 9;", per_frame="q1 = q1 + 1; q2 = k;"))
    fv = frames(eq, 3)
    assert [f["q1"] for f in fv] == [6.0, 6.0, 6.0]
    assert fv[0]["q2"] == 2.0                 # init user vars reach per-frame
    assert fv[0]["zoom"] == 1.5               # init writes to base values do not persist


def test_inputs_and_names_in_frame_vars():
    eq = PresetEquations(preset(per_frame="gamma = 2; wave_usedots = 1; wave_additive = 1;"))
    fv = eq.begin_frame({**INPUTS, "bass": 2.5})
    assert fv["bass"] == 2.5 and fv["gammaadj"] == 2.0 and fv["wave_dots"] == 1.0
    assert fv["additivewave"] == 1.0 and fv["decay"] == pytest.approx(0.9)
    assert all(f"q{i}" in fv for i in range(1, 33))


def test_per_pixel_sees_q_not_per_frame_user_vars_and_resets_motion_per_vertex():
    eq = PresetEquations(preset(per_frame="q1 = 0.25; mine = 7; rot = 0.5;",
                                per_pixel="zoom = zoom + q1 + mine; rot = rot + x; c = c + 1;"))
    fv = eq.begin_frame(INPUTS)
    x = np.linspace(0, 1, 5)
    out = eq.per_pixel(fv, x, x, x, x)
    assert np.allclose(out["zoom"], 1.75)      # mine is 0 in the per-pixel VM
    assert np.allclose(out["rot"], 0.5 + x)    # rot reset to the per-frame value each vertex
    assert eq.pixel_vm.vars["c"] == 5.0        # other variables carry from vertex to vertex
    assert np.allclose(out["cx"], 0.5)


def test_no_per_pixel_code_gives_none():
    eq = PresetEquations(preset(per_frame="zoom = 1;"))
    assert eq.per_pixel(eq.begin_frame(INPUTS), *(np.zeros(3),) * 4) is None


WAVE = """wavecode_0_enabled=1
wavecode_0_r=0.5
wavecode_0_samples=100
wave_0_init1=t1 = 3; q5 = 9;
wave_0_per_frame1=t1 = t1 + 1; r = r + 0.25; tt = tt + 1; q2 = q1;
wave_0_per_point1=x = sample; y = value1 + t1; g = tt; flip = if(flip, -flip, 1); b = flip;"""


def test_custom_wave_rules():
    eq = PresetEquations(preset(per_frame="q1 = 4;", wavecode=WAVE))
    for _ in range(2):
        fv = eq.begin_frame(INPUTS)
        wv = eq.wave_frame(0, fv)
    assert wv["t1"] == 4.0                     # t reset to post-init value every frame
    assert wv["r"] == 0.75 and wv["samples"] == 100.0 and wv["q2"] == 4.0
    assert eq.wave_frame(1, fv) is None
    s = np.linspace(0, 1, 4)
    pts = eq.wave_points(0, wv, s, s * 2, s)
    assert np.allclose(pts["x"], s) and np.allclose(pts["y"], s * 2 + 4)
    assert np.allclose(pts["g"], 0.0)          # per-point VM does not see per-frame user vars
    assert list(pts["b"]) == [1, -1, 1, -1]    # state carried from point to point
    assert np.allclose(pts["r"], 0.75) and np.allclose(pts["a"], 1.0)


SHAPE = """shapecode_0_enabled=1
shapecode_0_num_inst=3
shapecode_0_x=0.25
shapecode_0_sides=5
shape_0_init1=t2 = 7;
shape_0_per_frame1=x = x + instance * 0.1; n = n + 1; t2 = t2 + 1; sides = sides + 1;"""


def test_custom_shape_instances():
    eq = PresetEquations(preset(shapecode=SHAPE))
    fv = eq.begin_frame(INPUTS)
    inst = eq.shape_instances(0, fv)
    assert [i["x"] for i in inst] == pytest.approx([0.25, 0.35, 0.45])
    assert [i["sides"] for i in inst] == [6.0, 6.0, 6.0]   # reset to the parameter per instance
    assert [i["t2"] for i in inst] == [8.0, 8.0, 8.0]      # t from post-init each instance
    assert [i["instance"] for i in inst] == [0.0, 1.0, 2.0] and inst[0]["num_inst"] == 3.0
    assert eq.shape_vms[0].vars["n"] == 3.0                 # user vars persist across instances
    assert eq.shape_instances(1, fv) == []


def test_broken_block_is_empty_and_reported():
    eq = PresetEquations(preset(per_frame="zoom = 2;", per_pixel="q2=below(rad,);"))
    assert [e.section for e in eq.errors] == ["per_pixel"] and eq.errors[0].line == 1
    assert eq.pixel_block is None
    assert eq.begin_frame(INPUTS)["zoom"] == 2.0
    assert eq.section_status()["per_pixel"].startswith("per_pixel line 1")


def test_a_bad_statement_is_left_out_and_the_rest_of_its_block_runs():
    # MilkDrop 2 compiles statement by statement: `rot = 0.99l` fails there too, `zoom` runs
    eq = PresetEquations(preset(per_frame="zoom = 1.5; rot = 0.99l; warp = 0.25;"))
    fv = eq.begin_frame(INPUTS)
    assert fv["zoom"] == 1.5 and fv["warp"] == 0.25
    assert [e.section for e in eq.errors] == ["per_frame"] and "skipped" in eq.errors[0].message


def test_same_seed_same_values():
    code = preset(per_frame="a = rand(1000); q3 = a;", per_pixel="zoom = zoom + rand(5);")
    runs = []
    for seed in (4, 4, 5):
        eq = PresetEquations(code, seed=seed)
        fv = frames(eq, 2)[-1]
        runs.append((fv["q3"], tuple(eq.per_pixel(fv, *(np.zeros(6),) * 4)["zoom"])))
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_shape_loop_budget_is_per_frame_across_instances(monkeypatch):
    """A heavy loop() in a shape with many instances shares one budget per frame (it used to get a
    fresh one per instance: 1024 x 4M steps, minutes per frame); the next frame starts afresh."""
    import renderer.eel.runtime as rt

    monkeypatch.setattr(rt, "LOOP_BUDGET", 20_000)
    shape = "\n".join(["shapecode_0_enabled=1", "shapecode_0_num_inst=100",
                       "shape_0_per_frame1=n = 0; loop(1000, n = n + 1); x = n;"])
    eq = PresetEquations(preset(shapecode=shape))
    for frame in range(2):
        fv = eq.begin_frame({**INPUTS, "frame": frame})
        steps = [i["x"] for i in eq.shape_instances(0, fv)]
        assert len(steps) == 100 and steps[:20] == [1000.0] * 20
        assert sum(steps) == 20_000 and steps[20:] == [0.0] * 80
