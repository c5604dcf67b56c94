"""Per-frame audio levels from a CSV (``render --audio-levels``) and ``render --every``."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from renderer.audio import LEVEL_NAMES, AudioAnalyzer, synthesize
from renderer.audio.levels_file import InjectedLevels, LevelsFileError, read_levels_csv
from renderer.milk.preset import parse_milk
from renderer.output.frame_writer import frame_name, write_frames
from ui.cli import app

# bass drives the zoom and the wave colour: different levels, different pictures
PRESET = """[preset00]
fDecay=0.95
nWaveMode=0
fWaveAlpha=1
per_frame_1=zoom = 1 + 0.05*bass; wave_r = 0.3 + 0.2*treb_att;
"""
HEADER = "index,frame,time,fps,bass,mid,treb,bass_att,mid_att,treb_att\n"


def reference_csv(path, levels: np.ndarray):
    """A CSV in the reference's format (row i is frame i + 1)."""
    rows = [f"{i},{i + 1},{(i + 1) / 60:.9f},60," + ",".join(f"{v:.9g}" for v in row) for i, row in enumerate(levels)]
    path.write_text(HEADER + "\n".join(rows) + "\n")
    return path


def test_reads_the_reference_format_and_plain_rows(tmp_path):
    lv = np.arange(18, dtype=float).reshape(3, 6) / 10
    got = read_levels_csv(reference_csv(tmp_path / "a.csv", lv))
    assert sorted(got) == [1, 2, 3] and got[2] == pytest.approx(tuple(lv[1]))
    plain = tmp_path / "b.csv"
    plain.write_text("treb_att,mid_att,bass_att,treb,mid,bass\n6,5,4,3,2,1\n\n")  # any column order
    assert read_levels_csv(plain) == {1: (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)}


@pytest.mark.parametrize("text,fragment", [
    ("bass,mid,treb\n1,2,3\n", "line 1: the header lacks column(s) bass_att"),
    ("frame," + ",".join(LEVEL_NAMES) + "\n1,1,1,1,1,1,x\n", "line 2: treb_att 'x' is not a number"),
    ("frame," + ",".join(LEVEL_NAMES) + "\n1,1,1,1,1,1,1\n1,1,1,1,1,1,1\n", "line 3: frame 1 appears twice"),
    ("frame," + ",".join(LEVEL_NAMES) + "\n0,1,1,1,1,1,1\n", "whole number >= 1"),
    ("frame," + ",".join(LEVEL_NAMES) + "\n1,1,1,1,1,1,nan\n", "treb_att is nan"),
    ("frame," + ",".join(LEVEL_NAMES) + "\n", "no rows"),
])
def test_bad_files_name_file_and_line(tmp_path, text, fragment):
    path = tmp_path / "levels.csv"
    path.write_text(text)
    with pytest.raises(LevelsFileError) as info:
        read_levels_csv(path)
    assert fragment in str(info.value) and "levels.csv" in str(info.value)


def test_injected_frames_carry_the_given_levels_and_the_musics_waveform(tmp_path):
    analyzer = AudioAnalyzer(synthesize(seconds=2, seed=1), fps=60)
    lv = np.full((4, 6), 0.25)
    inj = InjectedLevels.from_csv(reference_csv(tmp_path / "l.csv", lv), analyzer)
    f = inj.frame(3)
    assert (f.bass, f.treb_att) == (0.25, 0.25)
    assert np.array_equal(f.waveform, analyzer.frame(3).waveform)
    assert inj.last_frame == 4 and inj.levels(4).shape == (4, 6)
    with pytest.raises(LevelsFileError, match="frame 5"):
        inj.frame(5)


def test_renderer_driven_by_levels_equal_to_its_own_analysis_gives_the_same_frames(tmp_path):
    from renderer.pipeline import Renderer

    track = synthesize(seconds=2, seed=2)
    analyzer = AudioAnalyzer(track, fps=60)
    own = reference_csv(tmp_path / "own.csv", analyzer.levels(8).astype(np.float64))
    flat = reference_csv(tmp_path / "flat.csv", np.ones((8, 6)))
    preset = parse_milk(PRESET)
    with Renderer(48, 48, mesh=(8, 6), fps=60, seed=0) as r:
        r.load(preset)
        base = list(r.render(8, track))
        r.load(preset)
        same = list(r.render(8, InjectedLevels.from_csv(own, analyzer)))
        r.load(preset)
        other = list(r.render(8, InjectedLevels.from_csv(flat, analyzer)))
    # float32 levels written with 9 significant digits read back to the same float32
    assert all(np.array_equal(a, b) for a, b in zip(base, same))
    assert not np.array_equal(base[-1], other[-1])


def test_write_frames_skips_frames_not_kept_but_numbers_by_frame(tmp_path):
    img = np.zeros((4, 5, 3), np.uint8)
    seen = []
    res = write_frames([None, img, None, img + 9], tmp_path / "out", on_frame=seen.append)
    assert res.frames == 2 and seen == [1, 2, 3, 4]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [frame_name(2), frame_name(4)]


def test_cli_every_writes_every_kth_frame_and_the_same_bytes(tmp_path):
    preset = tmp_path / "p.milk"
    preset.write_text(PRESET)
    runner = CliRunner()
    args = ["render", str(preset), "--frames", "7", "--size", "32x24", "--mesh", "8x6"]
    assert runner.invoke(app, args + ["-o", str(tmp_path / "all")]).exit_code == 0
    res = runner.invoke(app, args + ["--every", "3", "-o", str(tmp_path / "some")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (tmp_path / "some").iterdir()) == [frame_name(3), frame_name(6)]
    for k in (3, 6):  # compositing every frame and reading back only these changes nothing
        assert (tmp_path / "some" / frame_name(k)).read_bytes() == (tmp_path / "all" / frame_name(k)).read_bytes()


def test_cli_audio_levels_changes_the_picture_and_refuses_a_short_file(tmp_path):
    preset = tmp_path / "p.milk"
    preset.write_text(PRESET)
    loud = reference_csv(tmp_path / "loud.csv", np.full((6, 6), 3.0))
    runner = CliRunner()
    args = ["render", str(preset), "--frames", "6", "--size", "32x24", "--mesh", "8x6"]
    assert runner.invoke(app, args + ["-o", str(tmp_path / "a")]).exit_code == 0
    res = runner.invoke(app, args + ["--audio-levels", str(loud), "-o", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    a = np.asarray(Image.open(tmp_path / "a" / frame_name(6)))
    b = np.asarray(Image.open(tmp_path / "b" / frame_name(6)))
    assert not np.array_equal(a, b)
    res = runner.invoke(app, ["render", str(preset), "--frames", "9", "--audio-levels", str(loud),
                              "-o", str(tmp_path / "c")])
    assert res.exit_code == 1 and "loud.csv" in res.output and "1..6" in res.output
