"""Whole-process speed of our renderer against projectM 3.1's (bench_render.py --projectm).

Both run as separate processes on the same presets, music, size and warp mesh, reading every
frame back and writing none, with the same llvmpipe thread setting (LP_NUM_THREADS, default 0:
all GL work on the calling thread). Timing N frames and 1 frame and taking
(N - 1) / (t_N - t_1) cancels start-up, context creation and preset load, which a player pays
once, not per frame. t is the process's CPU time (user + system, all threads): on a machine
shared with other work it moves far less than wall time, which is printed beside it. Each
process runs ``repeats`` times and the fastest counts.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

from reference_players import ProcessTime, ReferenceError, projectm_command, timed_process

CORPUS = Path("/usr/share/projectM/presets")
N_PLAIN, N_SHADER = 7, 3


def pick(n_plain: int = N_PLAIN, n_shader: int = N_SHADER) -> list[Path]:
    """Presets spread through the corpus: ``n_plain`` MilkDrop 1 ones, ``n_shader`` with shaders."""
    from renderer.milk.preset import PresetError, load_milk

    files = sorted(CORPUS.rglob("*.milk"))
    plain, shaded = [], []
    for f in files[:: max(1, len(files) // 200)]:
        try:
            p = load_milk(f)
        except (PresetError, OSError):
            continue
        warp, comp = p.shader_versions()
        (shaded if p.has_shaders and (warp or comp) else plain).append(f)
    take = lambda xs, n: [xs[round(i * (len(xs) - 1) / max(1, n - 1))] for i in range(n)] if xs else []
    return take(plain, n_plain) + take(shaded, n_shader)


def ours_command(preset: Path, frames: int, size: int, mesh: str, wav: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).with_name("bench_render.py")), "--one", str(preset),
            "--frames", str(frames), "--size", str(size), "--mesh", mesh, "--wav", str(wav)]


def fastest(cmd: list[str], what: str, env: dict, repeats: int) -> ProcessTime:
    runs = [timed_process(cmd, what, env) for _ in range(repeats)]
    return ProcessTime(min(r.wall for r in runs), min(r.cpu for r in runs))


def rates(t_n: ProcessTime, t_1: ProcessTime, frames: int) -> tuple[float, float]:
    """(CPU, wall) frames/s of the N-1 frames one process renders beyond its first."""
    return ((frames - 1) / max(t_n.cpu - t_1.cpu, 1e-3), (frames - 1) / max(t_n.wall - t_1.wall, 1e-3))


def compare(pmrender: Path, frames: int, sizes: list[int], mesh: str, wav: Path | None,
            repeats: int = 2, presets: list[Path] | None = None) -> None:
    from renderer.audio import synthesize, write_wav

    presets = presets or pick()
    mx, my = (int(v) for v in mesh.split("x"))
    env = dict(os.environ)
    env.setdefault("LP_NUM_THREADS", "0")
    with tempfile.TemporaryDirectory() as tmp:
        if wav is None:
            wav = Path(tmp) / "synth.wav"
            write_wav(synthesize(seconds=max(12.0, frames / 60 + 2), seed=0), wav)
        print(f"{len(presets)} presets, {frames} frames minus 1, mesh {mesh} for both, every frame read back, "
              f"none written, LP_NUM_THREADS={env['LP_NUM_THREADS']}, fastest of {repeats}; "
              f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        for size in sizes:
            ratios, wall_ratios = [], []
            for p in presets:
                try:
                    ours = rates(fastest(ours_command(p, frames, size, mesh, wav), p.stem, env, repeats),
                                 fastest(ours_command(p, 1, size, mesh, wav), p.stem, env, repeats), frames)
                    pm = rates(fastest(projectm_command(pmrender, p, frames, size, 60, wav, Path(tmp), (mx, my)),
                                       p.stem, env, repeats),
                               fastest(projectm_command(pmrender, p, 1, size, 60, wav, Path(tmp), (mx, my)),
                                       p.stem, env, repeats), frames)
                except ReferenceError as exc:
                    print(f"  {size}x{size} {p.stem[:50]}: skipped ({exc})")
                    continue
                ratios.append(ours[0] / pm[0])
                wall_ratios.append(ours[1] / pm[1])
                print(f"  {size}x{size} {p.stem[:48]:48} ours {ours[0]:5.0f} fps, projectM {pm[0]:5.0f} fps: "
                      f"{ours[0] / pm[0]:5.2f}x (wall clock {ours[1] / pm[1]:5.2f}x)")
            if ratios:
                print(f"{size}x{size}: geometric mean {_gmean(ratios):.2f}x projectM by CPU time "
                      f"({_gmean(wall_ratios):.2f}x by wall clock; min {min(ratios):.2f}x, max {max(ratios):.2f}x, "
                      f"{len(ratios)} presets)")


def _gmean(xs: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(max(x, 1e-9)) for x in xs))
