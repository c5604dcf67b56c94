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
