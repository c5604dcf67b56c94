"""The preset doctor (issue 16): static findings point at the right line and say what MilkDrop
does, the NaN/loop probe finds the statement to blame, rendered findings catch dead pictures, a
repaired copy of every deliberately broken fixture renders healthy, inputs are never modified."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import CORPUS, FIXTURES
from ui_helpers import REPO

from evo.doctor.diagnose import Renderers, default_safe_ranges, diagnose_file, diagnose_text
from evo.doctor.findings import CHECKS, Diagnosis, Finding
from evo.doctor.probe import probe, statements
from evo.doctor.rendered import doctor_settings
from evo.doctor.session import DoctorError, doctor
from renderer.milk.preset import parse_milk

BROKEN = FIXTURES / "broken"
SMALL = doctor_settings(48, 48, 60)

BAD_FILE = """MILKDROP_PRESET_VERSION=201
[preset00]
zoom=250
zoom=1.01
nWaveMode=9
fDecay=0.97
rot=0.2
fGammaAdj=6
nEchoWrap_x=1
per_frame_1=a = bass - 4;
per_frame_2=b = log(a); zoom = zoom + 0.01*b;
per_frame_3=x = 0.99l; y = 2;
per_pixel_1=n = 0; while(n = n + 1; 1);
"""


def checks_of(findings) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.check, []).append(f)
    return out


@pytest.fixture(scope="module")
def renderers():
    r = Renderers.make(SMALL)
    yield r
    r.release()


def test_static_findings_name_the_line_and_what_milkdrop_does():
    diag, _, _ = diagnose_text(BAD_FILE, "bad.milk", ranges=default_safe_ranges())
    found = checks_of(diag.findings)
    zoom = [f for f in found["out_of_range"] if f.key == "zoom"][0]
    assert zoom.line == 3 and "250" in zoom.message and "0.01..100" in zoom.message and zoom.fix == "clamp zoom to 100"
    assert any(f.key == "nWaveMode" and f.line == 5 and "plays it as 1" in f.message for f in found["out_of_range"])
    assert [f.line for f in found["reader_note"]] == [4]  # the repeated zoom: MilkDrop reads line 3
    assert any(f.key == "fGammaAdj" and f.line == 8 and "35%" in f.message for f in found["outside_safe_range"])
    assert [f.key for f in found["ignored_key"]] == ["nEchoWrap_x"] and found["ignored_key"][0].line == 9
    skipped = found["code_statement_skipped"][0]
    assert skipped.line == 12 and "leaves it out and runs the rest" in skipped.message
    nan = found["nan_code"][0]
    assert nan.line == 11 and "`b = log(a)`" in nan.message and "log of zero or of a negative number" in nan.message
    loop = found["loop_cap"][0]
    assert loop.line == 13 and loop.key == "per_pixel" and "2^20" in loop.message
    assert all(f.severity == CHECKS[f.check][0] and f.file == "bad.milk" for f in diag.findings)
    assert not diag.rendered


def test_a_clean_preset_has_no_static_findings():
    text = (FIXTURES / "minimal.milk").read_text(encoding="latin-1")
    diag, _, _ = diagnose_text(text, "minimal.milk", ranges=default_safe_ranges())
    assert [f for f in diag.findings if f.severity != "info"] == []


def test_unreadable_file_is_a_finding_with_its_line(tmp_path):
    diag, still, _ = diagnose_file(FIXTURES / "broken_nul.milk")
    assert [f.check for f in diag.findings] == ["unreadable"] and diag.findings[0].line is not None
    assert still is None and diag.worst == "error"
    missing, _, _ = diagnose_file(tmp_path / "gone.milk")
    assert missing.findings[0].check == "unreadable" and "Cannot read" in missing.findings[0].message


def test_statements_and_blame():
    s = statements(["a = 1; b = (2;", "c = 3);", "d = log(x"])
    assert [x.text for x in s] == ["a = 1", "b = (2;c = 3)", "d = log(x"] and [x.line for x in s] == [1, 1, 3]
    result = probe(parse_milk("[preset00]\nper_frame_1=q1 = 2;\nper_frame_2=w = asin(q1); rot = rot + w*0;\n"))
    t = {x.section: x for x in result.troubles}["per_frame"]
    assert t.variable == "rot" and t.statement.text == "w = asin(q1)" and "asin/acos" in t.cause


def test_probe_finds_nothing_in_safe_code():
    p = parse_milk("[preset00]\nper_frame_1=zoom = 1 + 0.1*sin(time); rot = 0.01*bass;\n"
                   "per_pixel_1=warp = warp + rad*0.1; x1 = log(2 + rad);\n")
    assert probe(p).troubles == []


def test_rendered_findings_catch_dead_pictures_and_shaders(renderers):
    diag, still, result = diagnose_file(BROKEN / "black.milk", renderers=renderers)
    assert diag.rendered and diag.dead and "black" in {f.check for f in diag.findings}
    assert still is not None and still.shape == (48, 48, 3) and result["score"] == 0.0
    shader, _, _ = diagnose_file(BROKEN / "broken shader.milk", renderers=renderers)
    checks = {f.check for f in shader.findings}
    assert {"shader_fallback", "shader_translate"} <= checks and not shader.dead
    nan, _, _ = diagnose_file(BROKEN / "nan zoom.milk", renderers=renderers)
    assert "nan_picture" in {f.check for f in nan.findings}
    healthy, _, _ = diagnose_file(FIXTURES / "minimal.milk", renderers=renderers)
    assert healthy.healthy and healthy.render["score"] > 0.01


def test_finding_and_diagnosis_json_round_trip():
    diag, _, _ = diagnose_text(BAD_FILE, "bad.milk", ranges=default_safe_ranges())
    again = Diagnosis.from_json(json.loads(json.dumps(diag.to_json())))
    assert again.to_json() == diag.to_json() and again.burden() == diag.burden() > 0


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_every_broken_fixture_is_repaired_healthy_and_inputs_are_untouched(tmp_path, renderers):
    src = tmp_path / "in"
    shutil.copytree(BROKEN, src)
    before = {p.name: sha(p) for p in src.glob("*.milk")}
    assert len(before) == 7
    out = tmp_path / "out"
    run = doctor([src], out=out, repair=True, settings=SMALL, workers=0)
    assert {p.name: sha(p) for p in src.glob("*.milk")} == before  # never modified
    verdicts = {Path(e["file"]).name: e["verdict"] for e in run.manifest}
    assert verdicts == dict.fromkeys(before, "repaired")
    for name in before:
        fixed = out / name
        assert fixed.is_file()
        again, _, _ = diagnose_file(fixed, ranges=default_safe_ranges(), renderers=renderers)
        assert again.healthy, (name, [f.message for f in again.findings if f.severity == "error"])
        assert not again.dead
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"] == {"repaired": 7}
    shader = next(e for e in manifest["repairs"] if e["file"].endswith("broken shader.milk"))
    assert [c["action"] for c in shader["changes"]] == ["drop_shader"] and shader["after"]["healthy"]
    black = next(e for e in manifest["repairs"] if e["file"].endswith("black.milk"))
    assert black["before"]["dead"] and not black["after"]["dead"] and black["tried"]
    assert (out / "before_after.png").is_file() and (out / "report.html").is_file()
    report = json.loads((out / "diagnoses.json").read_text())
    assert report["summary"]["files"] == 7 and report["summary"]["dead"] == 4


def test_a_repair_that_does_not_help_writes_nothing(tmp_path):
    from evo.doctor.findings import finding
    from evo.doctor.repair import repair_preset

    text = (BROKEN / "frozen.milk").read_text(encoding="latin-1")
    before = Diagnosis("frozen.milk", rendered=True, findings=[finding("frozen", "frozen.milk", None, "still")])
    still_dead = Diagnosis("x", rendered=True, findings=[finding("frozen", "x", None, "still")])
    r = repair_preset(text, "frozen.milk", before, None, lambda t: (still_dead, None), default_safe_ranges(), None)
    assert r.verdict == "not_helped" and r.text is None and r.tried and not any(t["helps"] for t in r.tried)


def test_output_folder_may_not_be_the_input_folder(tmp_path):
    shutil.copy(BROKEN / "black.milk", tmp_path / "black.milk")
    digest = sha(tmp_path / "black.milk")
    with pytest.raises(DoctorError, match="overwrite an input"):
        doctor([tmp_path], out=tmp_path, repair=True, settings=SMALL, workers=0)
    with pytest.raises(DoctorError, match="output folder"):
        doctor([tmp_path], repair=True, settings=SMALL, workers=0)
    assert sha(tmp_path / "black.milk") == digest


def test_cli_json_and_exit_status(tmp_path):
    done = subprocess.run([sys.executable, "-m", "ui.cli", "doctor", str(BROKEN / "out of range.milk"),
                           str(FIXTURES / "minimal.milk"), "--json", "--workers", "0", "--size", "32x32",
                           "--frames", "30", "--report", str(tmp_path / "r")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr  # an error-level finding
    doc = json.loads(done.stdout)
    assert doc["summary"]["files"] == 2 and len(doc["diagnoses"]) == 2
    first = {f["check"] for f in doc["diagnoses"][0]["findings"]}
    assert {"out_of_range", "ignored_key", "flat"} <= first
    assert (tmp_path / "r" / "report.html").is_file() and (tmp_path / "r" / "worst.png").is_file()
    missing = subprocess.run([sys.executable, "-m", "ui.cli", "doctor", str(tmp_path / "nope")], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no such file or folder" in " ".join(missing.stderr.split())


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs projectm-data")
def test_corpus_sample_is_diagnosed_without_a_crash(tmp_path):
    from renderer.milk.files import find_presets

    sample = find_presets(CORPUS)[::120]
    for p in sample:
        (tmp_path / p.name).write_bytes(p.read_bytes())
    run = doctor([tmp_path], report=tmp_path / "report", settings=doctor_settings(32, 32, 45), workers=2)
    assert len(run.diagnoses) == len(sample)
    assert all(d.rendered or any(f.check == "unreadable" for f in d.findings) for d in run.diagnoses)
    assert not any(f.message.startswith("the check_") for d in run.diagnoses for f in d.findings)  # no check crashed


def test_enhance_keeps_only_a_better_score(tmp_path):
    shutil.copy(FIXTURES / "minimal.milk", tmp_path / "minimal.milk")
    digest = sha(tmp_path / "minimal.milk")
    run = doctor([tmp_path / "minimal.milk"], out=tmp_path / "out", enhance=True, settings=SMALL, workers=0)
    assert sha(tmp_path / "minimal.milk") == digest
    (e,) = run.enhanced
    assert e["verdict"] in ("enhanced", "not_better") and len(e["tried"]) == 2
    if e["verdict"] == "enhanced":
        assert e["after_score"] > e["before_score"] and e["changes"]
        assert (tmp_path / "out" / "enhanced" / "minimal.milk").is_file()
    else:
        assert all(t["score"] is None or t["score"] <= e["before_score"] or not t["healthy"] for t in e["tried"])
        assert not (tmp_path / "out" / "enhanced").exists()


def test_preset_page_helper_diagnoses_and_repairs_an_upload(runs):
    from ui.common import doctor_preset

    text = (BROKEN / "nan zoom.milk").read_text(encoding="latin-1")
    doc, repaired, folder = doctor_preset(text, "nan zoom.milk")
    assert not doc.get("error"), doc.get("error")
    checks = {f["check"] for f in doc["diagnoses"][0]["findings"]}
    assert {"nan_code", "nan_picture"} <= checks
    assert repaired is not None and "if(below(abs(zoom), 1e30), zoom" in repaired
    assert doc["repairs"][0]["verdict"] == "repaired" and folder.is_dir()
    again, repaired_again, _ = doctor_preset(text, "nan zoom.milk")  # cached by content
    assert again == doc and repaired_again == repaired


def test_copies_are_diagnosed_once_and_reported_under_their_own_names(tmp_path, monkeypatch):
    from evo.doctor import folder

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(BROKEN / "out of range.milk", src / "a.milk")
    shutil.copy(BROKEN / "out of range.milk", src / "b copy.milk")
    shutil.copy(BROKEN / "broken code.milk", src / "c.milk")
    calls = []
    real = folder.CareJob.__call__
    monkeypatch.setattr(folder.CareJob, "__call__", lambda self, path, config, cache: calls.append(path)
                        or real(self, path, config, cache))
    run = doctor([src], out=tmp_path / "out", repair=True, settings=SMALL, workers=0)
    assert sorted(Path(p).name for p in calls) == ["a.milk", "c.milk"]  # the copy is not diagnosed again
    by_name = {Path(d.file).name: d for d in run.diagnoses}
    assert set(by_name) == {"a.milk", "b copy.milk", "c.milk"}
    a, b = by_name["a.milk"].to_json(), by_name["b copy.milk"].to_json()
    assert b["findings"] and all(f["file"].endswith("b copy.milk") for f in b["findings"])
    assert json.dumps(a).replace("a.milk", "X") == json.dumps(b).replace("b copy.milk", "X")
    assert (tmp_path / "out" / "b copy.milk").read_text() == (tmp_path / "out" / "a.milk").read_text()
