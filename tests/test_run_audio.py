"""A run's music: what the loader repaired reaches `liandan evolve`, the run's state (the UI reads
it) and its log; music that cannot be read stops the run before it starts."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from evo.driver import start_run
from evo.store import RunStore, StoreError
from helpers import tiny_config


def test_evolve_says_what_the_audio_loader_repaired(tmp_path, seeds_dir):
    from ui.cli import app

    music = tmp_path / "messy.wav"
    x = np.full((44100, 6), 0.25, np.float32)
    x[5, 0], x[9, 1] = np.nan, np.inf
    sf.write(music, x, 44100, subtype="FLOAT")
    config = tmp_path / "tiny.toml"
    config.write_text("[run]\npopulation = 3\ngenerations = 1\n[fitness]\nframes = 16\nwidth = 64\nheight = 64\n"
                      "mesh = [16, 12]\nskip = 4\nsample_every = 2\n[preview]\nsize = 32\nframes = 4\n"
                      f"[evaluation]\nworkers = 0\n[seeds]\ndir = \"{seeds_dir}\"\n")
    runs = tmp_path / "runs"
    res = CliRunner().invoke(app, ["evolve", "--config", str(config), "--audio", str(music), "--run", "m",
                                   "--runs-dir", str(runs)])
    assert res.exit_code == 0, res.output
    assert f"note: {music}: 6 channels: kept the first two" in res.output
    assert f"note: {music}: 2 NaN/inf samples replaced by silence" in res.output
    assert f"{music}: the music lasts" not in res.output  # 1 s of music, 16 frames at 60 fps: no repeat
    state = json.loads((runs / "m" / "state.json").read_text())
    assert state["status"] == "finished"
    assert [n.split(": ", 1)[1] for n in state["notes"]] == [
        "6 channels: kept the first two (front left/right)", "2 NaN/inf samples replaced by silence"]


def test_unreadable_music_stops_the_run_before_it_starts(tmp_path, seeds_dir):
    music = tmp_path / "song.wav"
    music.write_bytes(b"RIFF not really a wave file" * 10)
    store = RunStore(tmp_path / "runs")
    with pytest.raises(StoreError, match="song.wav: not a readable audio file"):
        start_run(tiny_config(seeds_dir, **{"fitness.audio": str(music)}), store, "bad")
    assert store.open("bad").generations() == []
