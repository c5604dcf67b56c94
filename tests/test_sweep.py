"""The corpus sweep: spawn workers, per-file timeout, crashed/hung workers replaced, ordered results."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from renderer.output.sweep import (SweepConfig, code_error_records, render_file, render_sweep,
                            shader_error_records)

GOOD = """[preset00]
fDecay=0.98
nWaveMode=6
fWaveAlpha=1
wave_r=1
wave_g=0.5
wave_b=0.2
per_frame_1=wave_x = 0.5 + 0.3*sin(time*3);
"""
BLACK = """[preset00]
fDecay=0.5
fWaveAlpha=0
zoom=1
per_frame_1=wave_a = 0;
"""
BROKEN_CODE = GOOD + "per_frame_2=zoom = (1 + ;\n"
LOOP = GOOD.replace("per_frame_1=", "per_frame_1=while(1); ")
MD2_HEADER = "MILKDROP_PRESET_VERSION=201\nPSVERSION=2\nPSVERSION_WARP=2\nPSVERSION_COMP=2\n"
# the translator accepts recursion, GLSL forbids it: the warp stage fails in the GLSL compiler
SHADERS = (MD2_HEADER + GOOD
           + "warp_1=`float f(float x) { return x < 0 ? 0 : f(x - 1); }\n"
           + "warp_2=`shader_body {\nwarp_3=`ret = f(1.0).xxx;\nwarp_4=`}\n"
           + "comp_1=`shader_body {\n"
           + "comp_2=`ret = tex2D(sampler_main, uv).xyz + 0.5*tex2D(sampler_sweeptex, uv).xyz;\ncomp_3=`}\n")


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


# jobs run inside spawned workers: module-level so they pickle by reference
def fake_job(path, config, cache):
    name = os.path.basename(path)
    if "hang" in name:
        time.sleep(600)
    if "crash" in name:
        os._exit(7)
    if "raise" in name:
        raise RuntimeError("boom in job")
    cache["n"] = cache.get("n", 0) + 1
    return {"file": path, "status": "rendered", "error": None, "black": False, "frozen": False,
            "shader_errors": [], "frames": config.frames, "pid": os.getpid(), "served": cache["n"]}


def test_hung_and_crashed_workers_are_replaced_and_order_is_kept():
    names = ["a.milk", "hang.milk", "b.milk", "crash.milk", "c.milk", "raise.milk", "d.milk"]
    t0 = time.monotonic()
    results = list(render_sweep(names, frames=3, workers=2, timeout_s=3, job=fake_job))
    assert time.monotonic() - t0 < 60
    assert [r["file"] for r in results] == names
    by = {r["file"]: r for r in results}
    assert by["hang.milk"]["status"] == "error" and "timed out" in by["hang.milk"]["error"]
    assert by["crash.milk"]["status"] == "error" and "crashed" in by["crash.milk"]["error"]
    assert "7" in by["crash.milk"]["error"]
    assert by["raise.milk"]["status"] == "error" and "boom in job" in by["raise.milk"]["error"]
    for n in ("a.milk", "b.milk", "c.milk", "d.milk"):
        assert by[n]["status"] == "rendered"
    # a worker serves several files (one renderer reused), and more than 2 processes existed
    assert max(r.get("served", 0) for r in results) >= 2
    assert len({r["pid"] for r in results if "pid" in r}) >= 2


@pytest.mark.slow
def test_real_sweep_reports_rendered_error_black_and_loop(tmp_path):
    files = [
        write(tmp_path, "good.milk", GOOD),
        str(tmp_path / "missing.milk"),
        write(tmp_path, "nul.milk", "[preset00]\nzoom=1\x00\n"),
        write(tmp_path, "broken_code.milk", BROKEN_CODE),
        write(tmp_path, "black.milk", BLACK),
        write(tmp_path, "loop.milk", LOOP),
        write(tmp_path, "good2.milk", GOOD.replace("nWaveMode=6", "nWaveMode=0")),
    ]
    results = list(render_sweep(files, frames=12, size=(48, 32), workers=2, timeout_s=60, keep_frame=12))
    assert [r["file"] for r in results] == files
    by = {os.path.basename(r["file"]): r for r in results}
    good = by["good.milk"]
    assert good["status"] == "rendered" and good["frames"] == 12 and good["shader_errors"] == []
    assert not good["black"] and not good["frozen"]
    assert good["image"].shape == (32, 48, 3) and good["image"].max() > 100
    assert by["missing.milk"]["status"] == "error" and "missing.milk" in by["missing.milk"]["error"]
    assert by["nul.milk"]["status"] == "error" and "NUL" in by["nul.milk"]["error"]
    # a code block that does not compile: the preset renders, the error is listed
    broken = by["broken_code.milk"]
    assert broken["status"] == "rendered" and broken["shader_errors"] == [] and not broken["shader_failed"]
    (err,) = broken["code_errors"]
    assert (err["section"], err["line"]) == ("per_frame", 2) and err["error"]
    assert err["file_line"] == BROKEN_CODE.splitlines().index("per_frame_2=zoom = (1 + ;") + 1
    assert broken["stages"] == {"warp": "fixed", "comp": "fixed"}
    assert by["black.milk"]["status"] == "rendered" and by["black.milk"]["black"] and by["black.milk"]["frozen"]
    # while(1) is capped by the EEL runtime: it renders (slowly) or times out, never hangs the sweep
    loop = by["loop.milk"]
    assert loop["status"] == "rendered" or "timed out" in loop["error"]
    assert by["good2.milk"]["status"] == "rendered"


def test_infinite_loop_preset_times_out_without_stopping_the_sweep(tmp_path):
    # EEL caps each code block at 2^22 loop steps a frame (all of a shape's instances together):
    # ten blocks each spending their budget are ~10 s a frame here, beyond a 4 s limit
    heavy = "loop(1e9, while(1));"
    slow = GOOD + f"per_pixel_1={heavy}\n" + "".join(
        f"shapecode_{k}_enabled=1\nshapecode_{k}_num_inst=1024\nshape_{k}_per_frame1={heavy}\n"
        f"wavecode_{k}_enabled=1\nwave_{k}_per_frame1={heavy}\n" for k in range(4))
    slow = slow.replace("per_frame_1=", f"per_frame_1={heavy} ")
    files = [write(tmp_path, "loop.milk", slow), write(tmp_path, "after.milk", GOOD)]
    results = list(render_sweep(files, frames=2, size=(16, 16), workers=1, timeout_s=4))
    assert results[0]["status"] == "error" and "timed out" in results[0]["error"]
    assert results[1]["status"] == "rendered"


def test_shader_failure_stage_reason_and_textures_dir(tmp_path):
    """In-process render_file: the per-file record carries report.shader_errors (stage, GLSL
    compiler log), the stages, and the missing-texture warning that --textures removes."""
    (tmp_path / "presets").mkdir()  # not the texture folder: the preset's own folder is searched too
    path = write(tmp_path / "presets", "s.milk", SHADERS)
    textures = tmp_path / "textures"
    textures.mkdir()
    from PIL import Image

    Image.new("RGB", (8, 8), (200, 40, 40)).save(textures / "sweeptex.png")
    results = {}
    for label, tex in (("plain", None), ("textures", (str(textures),))):
        cache: dict = {}
        try:
            results[label] = render_file(path, SweepConfig(frames=4, size=(16, 16), textures_dir=tex), cache)
        finally:
            cache["renderer"].release()
    for res in results.values():
        assert res["status"] == "rendered" and res["shader_failed"] is True
        assert res["stages"] == {"warp": "fallback", "comp": "shader"}
        (err,) = res["shader_errors"]
        assert err["stage"] == "warp" and "recursion" in err["reason"] and "GLSL" in err["reason"]
        assert res["code_errors"] == []
    assert any("sweeptex" in w for w in results["plain"]["warnings"])
    assert results["textures"]["warnings"] == []


def test_record_helpers_read_report_and_equations():
    class Report:
        shader_errors = [{"stage": "comp", "reason": "log", "line": 3},
                         {"stage": "warp", "reason": "GL error", "line": None, "frame": 2}]

    assert shader_error_records(Report()) == [{"stage": "comp", "reason": "log", "line": 3},
                                              {"stage": "warp", "reason": "GL error", "line": None, "frame": 2}]
    from renderer.equations import PresetEquations
    from renderer.milk.preset import parse_milk

    text = "[preset00]\nzoom=1\nper_frame_1=a = 1;\nwave_0_per_point1=x = (;\n"
    preset = parse_milk(text)
    (rec,) = code_error_records(preset, PresetEquations(preset))
    assert rec["section"] == "wave0_per_point" and rec["line"] == 1 and rec["file_line"] == 4
    assert rec["error"] and "line" not in rec["error"].split(":")[0]


def test_empty_sweep_and_bad_frames():
    assert list(render_sweep([])) == []
    with pytest.raises(ValueError):
        list(render_sweep(["x.milk"], frames=0))


class _WarningRenderer:
    """Stands in for Renderer: every frame raises the same numpy-style RuntimeWarning."""

    equations = None

    def load(self, preset):
        import types

        return types.SimpleNamespace(errors=[], shader_errors=[], warnings=["sampler_x: not found"],
                                     stages={"warp": "fixed", "comp": "fixed"})

    def render(self, n, audio=None):
        import warnings

        for k in range(n):
            warnings.warn("overflow encountered in cast", RuntimeWarning)
            yield np.full((4, 4, 3), 40 * k, np.uint8)


def test_python_warnings_go_into_the_record_once(tmp_path, recwarn):
    path = write(tmp_path, "w.milk", GOOD)
    res = render_file(path, SweepConfig(frames=5, size=(4, 4)), {"renderer": _WarningRenderer()})
    assert res["status"] == "rendered" and res["frames"] == 5
    assert res["warnings"][0] == "sampler_x: not found"
    (w,) = res["warnings"][1:]
    assert w.startswith("RuntimeWarning: overflow encountered in cast (test_sweep.py:")
    assert len(recwarn) == 0  # nothing escaped to the worker's stderr
