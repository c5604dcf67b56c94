"""The corpus sweep: spawn workers, per-file timeout, crashed/hung workers replaced, ordered results."""

from __future__ import annotations

import glob
import os
import time

import numpy as np
import pytest

from renderer.sweep import MotionWatch, render_sweep, split_load_errors

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
    assert broken["status"] == "rendered" and broken["shader_errors"] == []
    assert [e["stage"] for e in broken["code_errors"]] == ["per_frame"]
    assert "line 2" in broken["code_errors"][0]["reason"]
    assert by["black.milk"]["status"] == "rendered" and by["black.milk"]["black"] and by["black.milk"]["frozen"]
    # while(1) is capped by the EEL runtime: it renders (slowly) or times out, never hangs the sweep
    loop = by["loop.milk"]
    assert loop["status"] == "rendered" or "timed out" in loop["error"]
    assert by["good2.milk"]["status"] == "rendered"


def test_infinite_loop_preset_times_out_without_stopping_the_sweep(tmp_path):
    # EEL caps each block run at 2^22 loop iterations, but a shape's code runs once per instance:
    # 1024 instances x while(1) is minutes per frame, far beyond a 4 s budget
    slow = GOOD + "shapecode_0_enabled=1\nshapecode_0_num_inst=1024\nshape_0_per_frame1=while(1);\n"
    files = [write(tmp_path, "loop.milk", slow), write(tmp_path, "after.milk", GOOD)]
    results = list(render_sweep(files, frames=2, size=(16, 16), workers=1, timeout_s=4))
    assert results[0]["status"] == "error" and "timed out" in results[0]["error"]
    assert results[1]["status"] == "rendered"


def test_split_load_errors():
    shader, code = split_load_errors(["per_frame line 3 col 9: expected a value", "warp: unknown function foo",
                                      "comp shader: bad"])
    assert code == [{"stage": "per_frame", "reason": "line 3 col 9: expected a value"}]
    assert [s["stage"] for s in shader] == ["warp", "comp"]


def test_motion_watch():
    still = np.full((8, 8, 3), 100, np.uint8)
    w = MotionWatch(10)
    for k in range(1, 11):
        w.add(k, still)
    assert w.result() == (False, True) and all(type(v) is bool for v in w.result())
    w = MotionWatch(10)
    for k in range(1, 11):
        w.add(k, np.zeros((8, 8, 3), np.uint8) if k > 3 else still)  # black after warming up
    assert w.result() == (True, True)
    w = MotionWatch(10)
    for k in range(1, 11):
        w.add(k, np.full((8, 8, 3), 10 * k, np.uint8))
    assert w.result() == (False, False)


def test_empty_sweep_and_bad_frames():
    assert list(render_sweep([])) == []
    with pytest.raises(ValueError):
        list(render_sweep(["x.milk"], frames=0))


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_sample_renders_without_errors():
    files = sorted(glob.glob("/usr/share/projectM/presets/**/*.milk", recursive=True))
    if not files:
        pytest.skip("projectm-data not installed")
    sample = files[:: max(1, len(files) // 12)][:12]
    results = list(render_sweep(sample, frames=10, size=(32, 32), workers=2, timeout_s=120))
    errors = [(r["file"], r["error"]) for r in results if r["status"] != "rendered"]
    assert not errors
