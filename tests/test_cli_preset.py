"""``liandan info`` and ``liandan scan`` through typer's CliRunner: exit codes, output, JSON shape."""

from __future__ import annotations

import json
import shutil
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from renderer.milk.files import find_presets
from renderer.milk.inspect import changed_params, count_statements
from ui.cli.options import parse_wh
from ui.cli.preset import register
from helpers import CORPUS, FIXTURES

GOOD = ["md2_shaders.milk", "minimal.milk", "quirks.milk"]
BAD = ["broken_no_section.milk", "broken_nul.milk"]


@pytest.fixture()
def cli():
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def mixed_dir(tmp_path):
    """Our fixtures only (other suites may add files to tests/fixtures)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in GOOD + BAD:
        shutil.copy(FIXTURES / name, folder / name)
    return folder


@pytest.fixture()
def good_dir(tmp_path):
    for name in GOOD:
        shutil.copy(FIXTURES / name, tmp_path / name)
    sub = tmp_path / "Sub Folder"
    sub.mkdir()
    shutil.copy(FIXTURES / "minimal.milk", sub / "SHOUTING.MILk")  # suffix in any case
    (sub / "notes.txt").write_text("not a preset")
    return tmp_path


def test_scan_json_counts_failures_with_reasons(cli, mixed_dir):
    result = cli("scan", mixed_dir, "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["files"] == len(GOOD) + len(BAD)
    assert data["parsed"] == len(GOOD)
    failed = {Path(f["file"]).name: f for f in data["failed"]}
    assert set(failed) == set(BAD)
    assert failed["broken_nul.milk"]["line"] == 3
    assert "NUL" in failed["broken_nul.milk"]["error"]
    assert "[preset00]" in failed["broken_no_section.milk"]["error"]


def test_scan_clean_tree_exits_zero_and_finds_any_case_suffix(cli, good_dir):
    result = cli("scan", good_dir, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["files"], data["parsed"], data["failed"]) == (4, 4, [])
    assert "compile" not in data and "render" not in data


def test_scan_table_output_names_the_failures(cli, mixed_dir):
    result = cli("scan", mixed_dir)
    assert result.exit_code == 1
    assert "broken_nul.milk" in result.stdout and "NUL byte" in result.stdout
    assert "parsed" in result.stdout


def test_scan_missing_folder_and_bad_size(cli, tmp_path):
    assert cli("scan", tmp_path / "nope").exit_code == 2
    assert cli("scan", tmp_path, "--size", "64").exit_code == 2
    assert cli("scan", tmp_path, "--size", "0x5").exit_code == 2
    assert cli("scan", tmp_path, "--render", "--textures", tmp_path / "no textures").exit_code == 2
    assert parse_wh("320X200") == (320, 200)


def test_scan_compile_reports_sections_with_file_lines(cli, good_dir):
    (good_dir / "bad_code.milk").write_text(
        "[preset00]\nzoom=1\nper_frame_1=a = 1;\nper_frame_2=b = (;\nper_pixel_1=rot = 0.1;\n"
    )
    result = cli("scan", good_dir, "--json", "--compile")
    assert result.exit_code == 0, result.output  # code errors do not fail a parse scan
    data = json.loads(result.stdout)
    assert data["compile_failed"] == 1
    (rec,) = data["compile"]
    assert Path(rec["file"]).name == "bad_code.milk"
    (sec,) = rec["sections"]
    assert sec["section"] == "per_frame" and sec["line"] == 2 and sec["file_line"] == 4
    assert sec["error"]


def test_scan_render_totals_from_sweep_records(cli, good_dir, monkeypatch):
    calls = {}

    def render_sweep(paths, frames=30, size=(64, 64), workers=2, textures_dir=None):
        calls.update(paths=list(paths), frames=frames, size=size, workers=workers, textures_dir=textures_dir)
        for i, p in enumerate(sorted(paths)):
            yield {"file": p, "status": "error" if i == 0 else "rendered", "error": "boom" if i == 0 else None,
                   "black": i == 1, "frozen": i in (1, 2),
                   "shader_failed": i == 3,
                   "shader_errors": [{"stage": "comp", "line": None,
                                      "reason": "GLSL compile failed: GLSL Compiler failed\n\nfragment_shader\n"
                                                "=====\n0:3(1): error: no such thing"}] if i == 3 else [],
                   "stages": {"warp": "shader", "comp": "fallback"} if i == 3 else {"warp": "fixed", "comp": "fixed"},
                   "code_errors": [{"section": "per_pixel", "line": 2, "file_line": 9, "col": 4,
                                    "error": "expected a value"}] if i == 2 else [],
                   "warnings": ["sampler_foo: texture 'foo' not found"] if i == 3 else []}

    monkeypatch.setitem(sys.modules, "renderer.output.sweep", types.SimpleNamespace(render_sweep=render_sweep))
    result = cli("scan", good_dir, "--json", "--render", "--frames", "5", "--size", "32x16",
                 "--textures", good_dir / "Sub Folder")
    assert result.exit_code == 0, result.output
    render = json.loads(result.stdout)["render"]
    totals = tuple(render[k] for k in ("rendered", "errors", "black", "frozen", "shader_failed", "code_errors"))
    assert totals == (3, 1, 1, 2, 1, 1)
    assert len(render["files"]) == 4
    assert calls["frames"] == 5 and calls["size"] == (32, 16) and len(calls["paths"]) == 4
    assert calls["textures_dir"] == [str(good_dir / "Sub Folder")]
    failed = render["files"][3]
    assert failed["shader_failed"] and failed["stages"]["comp"] == "fallback"
    assert failed["shader_errors"][0]["stage"] == "comp" and "no such thing" in failed["shader_errors"][0]["reason"]
    assert failed["warnings"] == ["sampler_foo: texture 'foo' not found"]
    assert render["files"][2]["code_errors"][0]["file_line"] == 9
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps table cells to the terminal width
    table = cli("scan", good_dir, "--render").stdout
    assert calls["textures_dir"] is None
    assert "Render problems" in table and "boom" in table
    assert "fell back" in table and "0:3(1): error: no such thing" in table
    assert "=====" not in table  # the compiler log's banner is left out of the table
    assert "per_pixel" in table and "expected a value" in table


def _shader_preset(tmp_path, warp_body: str, comp_body: str, name="s.milk") -> Path:
    lines = ["MILKDROP_PRESET_VERSION=201", "PSVERSION=2", "PSVERSION_WARP=2", "PSVERSION_COMP=2", "[preset00]",
             "fDecay=0.98"]
    for stage, body in (("warp", warp_body), ("comp", comp_body)):
        lines += [f"{stage}_{i}=`{ln}" for i, ln in enumerate(body.split("\n"), 1)]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


RECURSION = "float f(float x) { return x < 0 ? 0 : f(x - 1); }\nshader_body {\nret = f(1.0).xxx;\n}"
UNKNOWN_FN = "shader_body {\nret = nosuchfn(uv);\n}"
GOOD_COMP = "shader_body {\nret = tex2D(sampler_main, uv).xyz + tex2D(sampler_infotex, uv).xyz;\n}"


def test_info_shows_per_stage_translation_and_glsl_compiler_message(cli, tmp_path):
    pytest.importorskip("moderngl")
    path = _shader_preset(tmp_path, RECURSION, GOOD_COMP)
    out = cli("info", path).stdout
    warp, comp = out.split("warp shader:")[1].split("comp shader:")
    assert "translates: ok" in warp and "compiles: no" in warp and "falls back to MilkDrop 1" in warp
    assert "static recursion" in warp  # the GLSL compiler's own message
    assert "translates: ok" in comp and "compiles: ok" in comp
    assert "infotex" in out and "not found" in out  # missing texture warning
    textures = tmp_path / "tex"
    textures.mkdir()
    from PIL import Image

    Image.new("RGB", (4, 4), (9, 9, 9)).save(textures / "infotex.png")
    assert "infotex" not in cli("info", path, "--textures", textures).stdout.split("comp shader:")[1]


def test_info_translation_failure_and_no_gl(cli, tmp_path):
    path = _shader_preset(tmp_path, UNKNOWN_FN, GOOD_COMP)
    result = cli("info", path, "--no-gl")
    assert result.exit_code == 0, result.output
    warp, comp = result.stdout.split("warp shader:")[1].split("comp shader:")
    assert "translates: no" in warp and "nosuchfn" in warp and "line 2" in warp
    assert "translates: ok" in comp and "skipped (--no-gl)" in comp


def test_info_creates_no_renderer_without_shaders(cli, monkeypatch):
    from renderer.shaders import status

    made = []
    monkeypatch.setattr(status.ShaderProbe, "report", lambda self, preset: made.append(preset))
    assert cli("info", FIXTURES / "minimal.milk").exit_code == 0
    assert made == []
    assert cli("info", FIXTURES / "md2_shaders.milk").exit_code == 0
    assert len(made) == 1


def test_reason_lines_drop_the_compiler_banner():
    from renderer.shaders.status import reason_lines, short_reason

    log = "GLSL compile failed: GLSL Compiler failed\n\nfragment_shader\n===============\n0:0(0): error: bad"
    assert reason_lines(log) == ["GLSL compile failed:", "0:0(0): error: bad"]
    assert short_reason(log) == "GLSL compile failed: 0:0(0): error: bad"
    assert short_reason("line 3: unknown function 'x'") == "line 3: unknown function 'x'"


def test_info_shows_changes_code_shaders_and_warnings(cli):
    result = cli("info", FIXTURES / "md2_shaders.milk", FIXTURES / "quirks.milk")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "fDecay" in out and "0.95" in out and "nWaveMode" in out
    assert "per_frame" in out and "wave1_per_point" in out
    assert "warp shader: 3 lines, PS version 2" in out
    assert "comp shader: 3 lines, PS version 3" in out
    assert "custom wave 1: enabled" in out and "custom shape 2: enabled" in out
    assert "line 4: fWaveParam" in out  # warnings carry line numbers
    assert "myPlayerExtension" in out


def test_info_on_a_broken_file_fails(cli):
    result = cli("info", FIXTURES / "minimal.milk", FIXTURES / "broken_nul.milk")
    assert result.exit_code == 1
    assert "broken_nul.milk:3" in result.stdout and "minimal" in result.stdout


def test_info_compile_status_points_at_the_file_line(cli, tmp_path):
    path = tmp_path / "x.milk"
    path.write_text("[preset00]\nper_frame_1=a = 1;\nper_frame_2=b = (;\n")
    result = cli("info", path)
    assert result.exit_code == 0
    assert "line 3:" in result.stdout


@pytest.mark.parametrize(
    "text,n",
    [("", 0), ("a=1;", 1), ("a=1;b=2", 2), (" ; ;a=1;;", 1), ("loop(3, a=a+1; b=2);c=1;", 2)],
)
def test_count_statements(text, n):
    assert count_statements(text) == n


def test_find_presets_any_case(good_dir):
    names = sorted(p.name for p in find_presets(good_dir))
    assert names == sorted(GOOD + ["SHOUTING.MILk"])
    assert find_presets(good_dir / "minimal.milk") == [good_dir / "minimal.milk"]


@pytest.mark.corpus
def test_scan_whole_corpus_json(cli):
    if not CORPUS.is_dir():
        pytest.skip("projectm-data is not installed")
    expected = sum(1 for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() == ".milk")
    result = cli("scan", CORPUS, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    # 4,188 "*.milk" plus one "EOE125~1.MILk" that the census leaves out
    assert data["files"] == expected >= 4188
    assert data["parsed"] == data["files"]
    assert data["failed"] == []


@pytest.mark.slow
def test_scan_render_with_the_real_sweep(cli, good_dir, monkeypatch):
    pytest.importorskip("renderer.output.sweep")
    monkeypatch.setenv("LP_NUM_THREADS", "0")
    for extra in (good_dir / "Sub Folder").iterdir():
        extra.unlink()
    result = cli("scan", good_dir, "--json", "--render", "--frames", "4", "--size", "32x32")
    assert result.exit_code == 0, result.output
    render = json.loads(result.stdout)["render"]
    assert render["rendered"] + render["errors"] == 3 == len(render["files"])
    assert render["errors"] == 0, render["files"]
    for rec in render["files"]:
        assert set(rec) >= {"file", "status", "error", "black", "frozen", "shader_errors", "shader_failed",
                            "stages", "code_errors", "warnings"}
    by = {Path(r["file"]).name: r for r in render["files"]}
    assert by["md2_shaders.milk"]["stages"] == {"warp": "shader", "comp": "shader"}
    assert by["minimal.milk"]["stages"] == {"warp": "fixed", "comp": "fixed"}


def test_changed_params_compare_mv_a_with_what_milkdrop_uses_when_absent():
    from renderer.milk.preset import parse_milk

    assert changed_params(parse_milk("[preset00]\nmv_a=0\n")) == []
    assert [c[:3] for c in changed_params(parse_milk("[preset00]\nmv_a=1\n"))] == [("mv_a", 1.0, 0.0)]
    assert changed_params(parse_milk("[preset00]\nbMotionVectorsOn=1\n")) == []
    (row,) = changed_params(parse_milk("[preset00]\nzoom=250\n"))
    assert row[0] == "zoom" and "outside" in row[3]
