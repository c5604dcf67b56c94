"""A small real corpus and a tiny mining render, shared by the mining tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from evo.mining.rendered import mining_settings
from evo.seeds import seed_paths
from helpers import FIXTURES

#: Small enough for tests: 32x32, 16 frames (statistics on frames 4, 6, ... 14).
TINY = mining_settings(32, 32, 16, mesh=(16, 12), skip=4, sample_every=2, static_every=2, timeout_s=20.0,
                       preview_frames=4)

HAND_WRITTEN = """MILKDROP_PRESET_VERSION=201
PSVERSION=2
PSVERSION_WARP=2
PSVERSION_COMP=2
[preset00]
fRating=4.5
zoom=1.05
fDecay=0.97
wavecode_2_enabled=1
wavecode_2_samples=128
shapecode_1_enabled=1
shapecode_1_sides=5
per_frame_init_1=q3 = 0; reg07 = 1;
per_frame_1=zoom = zoom + 0.02*bass; rot += 0.01;
per_frame_2=q3 = q3 + 1; t2 = sin(time); wave_r = 0.5*(1+cos(time*1.3)); x = (q1 == 2);
per_frame_3=loop(4, megabuf(q3) = rand(10)); // zoom = 9 in a comment
per_pixel_1=warp = warp*rad; cx = 0.5 + 0.1*sin(ang);
wave_2_per_point1=x = sample; y = 0.5 + value1*0.2;
shape_1_per_frame1=ang = time;
warp_1=`shader_body {
warp_2=`  ret = tex2D(sampler_main, uv).xyz + GetBlur2(uv)*0.1 + tex2D(sampler_noise_lq, uv*q5).xyz*0.01;
warp_3=`}
comp_1=`shader_body {
comp_2=`  ret = tex2D(sampler_main, uv).xyz * tex2D(sampler_clouds, uv).x;
comp_3=`}
"""


def make_corpus(root: Path) -> Path:
    """The shipped seeds in ``root/seeds``, three fixture presets and a hand-written one in
    ``root/more``, a byte-identical copy of a seed under another name, and a broken file."""
    seeds = root / "seeds"
    more = root / "more"
    seeds.mkdir(parents=True)
    more.mkdir()
    for p in seed_paths():
        shutil.copy(p, seeds / p.name)
    for name in ("md2_shaders.milk", "minimal.milk", "broken_nul.milk"):
        shutil.copy(FIXTURES / name, more / name)
    (more / "Tester - Hand Made.milk").write_text(HAND_WRITTEN, encoding="latin-1")
    shutil.copy(seed_paths()[0], more / "copy of the first seed.milk")
    return root
