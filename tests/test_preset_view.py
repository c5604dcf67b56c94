"""evo.preset_view: what the UI shows of a preset, and its evaluation as a run would score it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evo.preset_view import evaluate_milk_file, view_milk
from helpers import FIXTURES



def test_view_lists_what_the_author_chose_code_and_shaders():
    text = (FIXTURES / "md2_shaders.milk").read_text(encoding="latin-1")
    v = view_milk(text, "md2_shaders.milk")
    assert v.error is None
    params = {r["parameter"]: r for r in v.parameters}
    assert params["fDecay"]["value"] == "0.95" and params["nWaveMode"]["value"] == "5"
    assert "zoom" not in params  # at MilkDrop's default: not something the author chose
    sections = dict(v.code)
    assert "zoom = zoom + rad*0.01" in sections["per_pixel"]
    assert (v.waves, v.shapes) == (1, 1)
    assert set(v.shaders) == {"warp", "comp"} and "sampler_main" in v.shaders["warp"]


def test_view_of_a_broken_preset_names_file_and_line():
    text = (FIXTURES / "broken_no_section.milk").read_text(encoding="latin-1")
    v = view_milk(text, "broken_no_section.milk")
    assert v.error and "broken_no_section.milk" in v.error
    assert v.parameters == [] and v.code == []


@pytest.mark.slow
def test_evaluate_milk_file_writes_preview_still_and_result(tmp_path):
    out = tmp_path / "out"
    result = evaluate_milk_file(FIXTURES / "minimal.milk", out, frames=12, size=32)
    assert result["error"] is None and result["stats"]
    assert json.loads((out / "result.json").read_text())["score"] == pytest.approx(result["score"])
    assert (out / "preview.webp").stat().st_size > 0 and (out / "still.png").stat().st_size > 0
    bad = evaluate_milk_file(FIXTURES / "broken_no_section.milk", tmp_path / "bad", frames=12, size=32)
    assert bad["score"] is None and "broken_no_section.milk" in bad["error"]
