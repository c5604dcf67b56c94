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
