"""The CI corpus sweep (issue 4 item 7, issue 7 item 5).

Every MilkDrop 1 preset under /usr/share/projectM/presets (no warp/comp shader text) renders 30
frames at 64x64 without an error; black and frozen counts are figures printed to the CI log, not
failures. The optional shader sweep renders the 738 shader presets for 10 frames and allows at
most 14 presets whose warp or comp shader falls back to MilkDrop 1 (issue 7's 98% goal).

Why MD1 presets are rendered once per distinct content: the corpus repeats the same files across
folders (3,451 MD1 files, 1,923 distinct). Without shaders, what a preset renders depends only on
its bytes and the sweep's settings (seed, size, frames, default music): the file name and folder
are not inputs (user textures, found next to the preset, only exist for shaders). So identical
bytes render identical frames - ``test_identical_bytes_render_identical_frames`` checks exactly
that - and rendering one copy covers them all. The figures still count files, and say how many
were rendered. Shader presets are NOT deduplicated: their textures are looked up in the preset's
own folder, so the same bytes in two folders may render differently.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

import pytest

from renderer.output.sweep import render_sweep
from helpers import CORPUS

MD1_FRAMES, SHADER_FRAMES = 30, 10
SIZE = (64, 64)
WORKERS = 2
TIMEOUT_S = 120  # per preset; the slowest MD1 preset takes ~2.5 s here
MAX_SHADER_FAILED = 14  # issue 7: >= 98% of 738 presets keep their shaders

pytestmark = [pytest.mark.corpus, pytest.mark.skipif(not CORPUS.is_dir(), reason="projectm-data not installed")]


def _corpus() -> tuple[list[Path], list[Path]]:
    """(presets without shader text, presets with warp or comp shader text), sorted by path."""
    from renderer.milk.preset import load_milk

    md1, shaders = [], []
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file() and path.suffix.lower() == ".milk":
            preset = load_milk(path)
            has_shader = (preset.warp_shader or "").strip() or (preset.comp_shader or "").strip()
            (shaders if has_shader else md1).append(path)
    return md1, shaders


@pytest.fixture(scope="module")
def corpus():
    return _corpus()


def distinct_contents(paths: list[Path]) -> dict[str, list[Path]]:
    """sha256 of the bytes -> the files with those bytes (first one is rendered)."""
    groups: dict[str, list[Path]] = {}
    for p in paths:
        groups.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(p)
    return groups


def _figures(terminal, title: str, lines: list[str]) -> None:
    """Print to the terminal even without ``-s``, so the figures show in CI logs."""
    with terminal.disabled():
        print(f"\n{title}")
        for line in lines:
            print(f"  {line}")


def _slowest(results: list[dict], n: int = 5) -> list[str]:
    top = sorted(results, key=lambda r: -r.get("seconds", 0.0))[:n]
    return [f"{r.get('seconds', 0.0):6.2f} s  {os.path.relpath(r['file'], CORPUS)}" for r in top]


def test_identical_bytes_render_identical_frames(corpus, tmp_path):
    """What deduplication relies on: same bytes, different name and folder -> same frames."""
    md1, _ = corpus
    groups = [g for g in distinct_contents(md1).values() if len(g) > 1]
    assert groups, "the corpus has duplicated MD1 presets"
    # the riskiest kinds: code that calls rand(), and custom waves/shapes (per-point code)
    def first(*needles: bytes) -> Path:
        return next((g[0] for g in groups if all(n in g[0].read_bytes() for n in needles)), groups[0][0])

    picks = [first(b"rand("), first(b"wavecode_0_enabled=1", b"shapecode_0_enabled=1")]
    copies = []
    for i, p in enumerate(picks):
        d = tmp_path / f"elsewhere{i}"
        d.mkdir()
        copies.append(shutil.copy(p, d / f"renamed {i}.milk"))
    files = [str(p) for p in picks] + [str(c) for c in copies]
    res = list(render_sweep(files, frames=12, size=(32, 32), workers=1, timeout_s=TIMEOUT_S, keep_frame=12))
    for i in range(len(picks)):
        a, b = res[i], res[len(picks) + i]
        assert a["status"] == b["status"] == "rendered", (a["error"], b["error"])
        assert a["image"].tobytes() == b["image"].tobytes(), picks[i]


def test_every_md1_preset_renders_without_error(corpus, capsys):
    md1, _ = corpus
    groups = distinct_contents(md1)
    reps = [paths[0] for paths in groups.values()]
    t0 = time.monotonic()
    results = list(render_sweep(reps, frames=MD1_FRAMES, size=SIZE, workers=WORKERS, timeout_s=TIMEOUT_S))
    seconds = time.monotonic() - t0
    copies = {str(paths[0]): len(paths) for paths in groups.values()}
    per_file = lambda key: sum(copies[r["file"]] for r in results if r[key])  # noqa: E731
    errors = [(os.path.relpath(r["file"], CORPUS), r["error"]) for r in results if r["status"] != "rendered"]
    _figures(capsys, f"MD1 corpus sweep: {MD1_FRAMES} frames at {SIZE[0]}x{SIZE[1]}, {WORKERS} workers", [
        f"files covered   {sum(copies.values())} ({len(reps)} distinct contents rendered)",
        f"rendered        {len(results) - len(errors)} distinct / errors {len(errors)}",
        f"black           {sum(r['black'] for r in results)} distinct, {per_file('black')} files",
        f"frozen          {sum(r['frozen'] for r in results)} distinct, {per_file('frozen')} files",
        f"code errors     {sum(bool(r['code_errors']) for r in results)} distinct (blocks render empty)",
        f"seconds         {seconds:.1f} wall, {sum(r.get('seconds', 0.0) for r in results):.1f} in workers",
        "slowest:", *_slowest(results),
    ])
    assert sum(copies.values()) == len(md1) >= 3400
    assert len(results) == len(reps)
    assert not errors, errors[:20]
    assert not any(r["shader_failed"] for r in results)  # no shader text, nothing to fall back


@pytest.mark.slow
def test_shader_presets_render_and_at_most_14_fall_back(corpus, capsys):
    _, shaders = corpus
    t0 = time.monotonic()
    results = list(render_sweep(shaders, frames=SHADER_FRAMES, size=SIZE, workers=WORKERS, timeout_s=TIMEOUT_S))
    seconds = time.monotonic() - t0
    errors = [(os.path.relpath(r["file"], CORPUS), r["error"]) for r in results if r["status"] != "rendered"]
    failed = [r for r in results if r["shader_failed"]]
    _figures(capsys, f"Shader corpus sweep: {SHADER_FRAMES} frames at {SIZE[0]}x{SIZE[1]}, {WORKERS} workers", [
        f"files           {len(results)}",
        f"rendered        {len(results) - len(errors)} / errors {len(errors)}",
        f"shader_failed   {len(failed)} (limit {MAX_SHADER_FAILED})",
        f"black / frozen  {sum(r['black'] for r in results)} / {sum(r['frozen'] for r in results)}",
        f"seconds         {seconds:.1f} wall, {sum(r.get('seconds', 0.0) for r in results):.1f} in workers",
        *[f"fell back: {os.path.relpath(r['file'], CORPUS)}: "
          + "; ".join(f"{e['stage']}: {e['reason'].splitlines()[-1][:120]}" for e in r["shader_errors"])
          for r in failed],
        "slowest:", *_slowest(results),
    ])
    assert len(results) == len(shaders) >= 700
    assert not errors, errors[:20]
    assert len(failed) <= MAX_SHADER_FAILED
