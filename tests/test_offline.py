"""Offline output (PNG folder, WebP, GIF, MP4), contact sheets, and the `render` / `sheet` commands."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from renderer.output.contact_sheet import Tile, contact_sheet, fit_lines, load_font
from renderer.output.frame_writer import OutputError, frame_name, output_kind, write_frames

PRESET = """[preset00]
fDecay=0.97
nWaveMode=0
fWaveAlpha=1
zoom=1.02
per_frame_1=wave_r = 0.5 + 0.5*sin(time*5);
"""


def frames(n=6, h=20, w=30):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_output_kind():
    assert output_kind("a/b.webp") == "webp" and output_kind("x.GIF") == "gif" and output_kind("v.mp4") == "mp4"
    assert output_kind("out") == "folder" and output_kind("run.v2") == "folder"
    with pytest.raises(OutputError, match="png"):
        output_kind("x.png")


def test_png_folder_is_lossless_and_numbered_from_one(tmp_path):
    fs = frames()
    seen = []
    res = write_frames(iter(fs), tmp_path / "out", fps=30, on_frame=seen.append)
    assert res.kind == "folder" and res.frames == 6 and seen == [1, 2, 3, 4, 5, 6]
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [frame_name(k) for k in range(1, 7)] and names[0] == "frame_00001.png"
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "frame_00003.png")), fs[2])


@pytest.mark.parametrize("suffix", [".gif", ".webp"])
def test_animated_images_have_every_frame(tmp_path, suffix):
    out = tmp_path / f"a{suffix}"
    fs = [np.full((16, 24, 3), v, np.uint8) for v in (0, 80, 160, 240)]
    write_frames(fs, out, fps=25)
    im = Image.open(out)
    assert im.n_frames == 4 and im.size == (24, 16)
    im.seek(2)
    im.load()
    assert im.info.get("duration") in (40, 40.0)
    assert abs(int(np.asarray(im.convert("RGB")).mean()) - 160) <= 3


def test_mp4_has_every_frame_even_with_odd_size(tmp_path):
    import imageio_ffmpeg

    out = tmp_path / "v.mp4"
    fs = [np.full((21, 31, 3), v, np.uint8) for v in (0, 60, 120, 180, 240)]
    write_frames(fs, out, fps=30)
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = reader.__next__()
    decoded = [np.frombuffer(b, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for b in reader]
    assert len(decoded) == 5 and tuple(meta["size"]) == (32, 22)
    assert abs(decoded[3].mean() - 180) < 4


def test_bad_frames_are_refused(tmp_path):
    with pytest.raises(OutputError, match="no frames"):
        write_frames([], tmp_path / "empty", fps=30)
    with pytest.raises(OutputError, match="frame 2"):
        write_frames([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)], tmp_path / "o.gif")
    with pytest.raises(OutputError, match="uint8"):
        write_frames([np.zeros((4, 4, 3), np.float32)], tmp_path / "o2")


def test_contact_sheet_layout_and_labels():
    tiles = [Tile(f"preset number {i}", np.full((40, 60, 3), 50 * i, np.uint8)) for i in range(5)]
    tiles.append(Tile("failed one", None, "error"))
    img = np.asarray(contact_sheet(tiles, columns=3))
    assert img.shape[1] == 3 * (60 + 8)  # 3 columns of tile + padding
    rows = img.shape[0] // 2
    assert img.shape[0] == 2 * rows
    # tile 2 (value 100) sits in row 0, column 2; the failed tile is dark red
    assert np.all(img[4 + 20, 2 * 68 + 4 + 30] == 100)
    red = img[rows + 4 + 20, 2 * 68 + 4 + 50]
    assert red[0] > 3 * max(red[1], 1)
    # the label band below a tile has text pixels
    band = img[4 + 40 + 2: rows - 2, 4: 4 + 60]
    assert (band.max(axis=2) > 150).sum() > 20


def test_fit_lines_wraps_and_ellipsises():
    font = load_font(12)
    lines = fit_lines("Geiss - a very long preset name that will never fit in one tile", font, 80, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(font.getlength(line) <= 80 for line in lines)
    assert fit_lines("short", font, 80) == ["short"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def app():
    from ui.cli import app as liandan

    return liandan


def test_cli_render_writes_png_folder_and_gif(tmp_path, app):
    preset = tmp_path / "p.milk"
    preset.write_text(PRESET)
    runner = CliRunner()
    res = runner.invoke(app, ["render", str(preset), "--frames", "5", "--size", "32x24", "--mesh", "8x6",
                              "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    pngs = sorted((tmp_path / "out").glob("frame_*.png"))
    assert len(pngs) == 5 and Image.open(pngs[0]).size == (32, 24)
    assert np.asarray(Image.open(pngs[-1])).max() > 50  # the circle wave is visible
    res = runner.invoke(app, ["render", str(preset), "--frames", "3", "--size", "32x32", "-o",
                              str(tmp_path / "a.gif")])
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "a.gif").n_frames == 3


def test_cli_render_same_seed_same_frames(tmp_path, app):
    preset = tmp_path / "p.milk"
    preset.write_text(PRESET.replace("sin(time*5)", "rand(100)/100"))
    runner = CliRunner()
    for name in ("a", "b"):
        res = runner.invoke(app, ["render", str(preset), "--frames", "4", "--size", "24x24", "--seed", "3",
                                  "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
    for k in range(1, 5):
        assert (tmp_path / "a" / frame_name(k)).read_bytes() == (tmp_path / "b" / frame_name(k)).read_bytes()


def test_cli_render_bad_input(tmp_path, app):
    bad = tmp_path / "bad.milk"
    bad.write_text("not a preset\n")
    runner = CliRunner()
    res = runner.invoke(app, ["render", str(bad), "-o", str(tmp_path / "o")])
    assert res.exit_code == 1 and "bad.milk" in res.output
    res = runner.invoke(app, ["render", str(bad), "--size", "big", "-o", str(tmp_path / "o")])
    assert res.exit_code != 0 and "WIDTHxHEIGHT" in res.output


def test_cli_sheet_from_folder_with_a_broken_preset(tmp_path, app):
    folder = tmp_path / "presets"
    folder.mkdir()
    (folder / "one.milk").write_text(PRESET)
    (folder / "two.milk").write_text(PRESET.replace("nWaveMode=0", "nWaveMode=6"))
    (folder / "zz_broken.milk").write_text("garbage\n")
    out = tmp_path / "sheet.png"
    res = CliRunner().invoke(app, ["sheet", str(folder), "-o", str(out), "--frame", "4", "--size", "32x32"])
    assert res.exit_code == 0, res.output
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape[1] >= 2 * 32 and img.shape[0] >= 2 * 32  # 3 tiles: a 2x2 grid
    assert "zz_broken.milk" in res.output and "2 presets, 1 failed" in res.output
