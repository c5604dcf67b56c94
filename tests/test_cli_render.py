"""``liandan render`` on awkward input: what it says (once), how long it may take, what audio it reads."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

BROKEN = """MILKDROP_PRESET_VERSION=201
PSVERSION=2
PSVERSION_WARP=2
PSVERSION_COMP=2
[preset00]
fDecay=0.98
per_frame_1=x = (1 + ;
comp_1=`sampler sampler_nosuchtex;
comp_2=`shader_body { ret = tex2D(sampler_nosuchtex, uv).xyz; }
"""


@pytest.fixture(scope="module")
def app():
    from ui.cli import app as liandan

    return liandan


def render(app, *args):
    return CliRunner().invoke(app, ["render", *map(str, args)])


def test_render_says_each_warning_once(tmp_path, app):
    preset = tmp_path / "broken.milk"
    preset.write_text(BROKEN)
    res = render(app, preset, "--frames", "2", "--size", "32x32", "--mesh", "8x6", "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert res.output.count("per_frame line 1 col 10") == 1, res.output
    assert res.output.count("texture 'nosuchtex' not found") == 1, res.output


SLOW = """[preset00]
fDecay=0.98
shapecode_0_enabled=1
shapecode_0_num_inst=1024
shape_0_per_frame1=n = 0; loop(100000, n = n + sin(n));
per_frame_1=loop(1000000, q1 = q1 + 1);
"""


def test_render_timeout_stops_a_slow_preset_with_a_clear_message(tmp_path, app):
    import time

    preset = tmp_path / "slow.milk"
    preset.write_text(SLOW)
    t0 = time.monotonic()
    res = render(app, preset, "--frames", "500", "--size", "32x32", "--mesh", "8x6", "--timeout", "1.5",
                 "-o", tmp_path / "out")
    assert time.monotonic() - t0 < 20
    assert res.exit_code == 2, res.output
    assert "slow.milk: stopped after --timeout 1.5 s" in res.output and "of 500 frames rendered" in res.output


def test_time_limit_interrupts_python_code_and_restores_the_timer():
    import signal

    from renderer.output.time_limit import TimeLimitExceeded, time_limit

    with pytest.raises(TimeLimitExceeded):
        with time_limit(0.2):
            while True:
                pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    with time_limit(5):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_render_says_what_the_audio_loader_repaired(tmp_path, app):
    """A 1-sample WAV, a 6-channel file with NaN and out-of-range samples: rendered, and said."""
    import numpy as np
    import soundfile as sf

    preset = tmp_path / "p.milk"
    preset.write_text("[preset00]\nfDecay=0.98\nnWaveMode=6\n")
    tiny = tmp_path / "tiny.wav"
    sf.write(tiny, np.array([[0.5, 0.5]], np.float32), 44100, subtype="PCM_16")
    res = render(app, preset, "--audio", tiny, "--frames", "6", "--fps", "30", "--size", "16x16", "--mesh", "4x4",
                 "-o", tmp_path / "a")
    assert res.exit_code == 0, res.output
    assert "tiny.wav: the music lasts 23 µs and the render 200 ms: it repeats 8,820 times" in res.output
    messy = tmp_path / "messy.wav"
    x = np.full((4410, 6), 0.25, np.float32)
    x[5, 0], x[9, 1], x[11, 0] = np.nan, np.inf, 2.0
    sf.write(messy, x, 22050, subtype="FLOAT")
    res = render(app, preset, "--audio", messy, "--frames", "3", "--size", "16x16", "--mesh", "4x4",
                 "-o", tmp_path / "b")
    assert res.exit_code == 0, res.output
    for note in ("messy.wav: 6 channels: kept the first two", "messy.wav: 2 NaN/inf samples replaced by silence",
                 "messy.wav: 1 samples outside [-1, 1] clipped"):
        assert note in res.output, res.output
