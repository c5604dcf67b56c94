"""Resident memory of a render and of an evaluation with a very long music track.

    .venv/bin/python benchmarks/bench_long_audio.py [--minutes 120] [--rate 48000] [--frames 30]

Writes a stereo PCM-16 WAV of ``--minutes`` (a second of noise and tones, shifted each second,
written a second at a time) in a temporary folder, then measures in fresh processes:
  render      ``liandan render PRESET --audio LONG.wav --frames 30`` (the issue's case: 6.5 GB and
              climbing when the whole track was decoded first)
  evaluation  one candidate evaluated as an evolve worker does (make_analyzer + evaluate_preset)
each also with a 10-second file of the same rate, so the difference is what the track's length
costs. Goal: a render with a 2-hour track under 400 MB resident.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GOAL_MB = 400

PRESET = """[preset00]
fDecay=0.97
nWaveMode=6
fWaveAlpha=1
zoom=1.02
per_frame_1=wave_r = 0.5 + 0.5*sin(time*5) * bass;
"""

EVALUATE = """
import resource, sys
from evo.config import load_config
from evo.fitness.candidate import evaluate_preset, make_analyzer, make_renderer
settings = load_config(None, {"fitness.audio": sys.argv[1], "fitness.frames": 30, "fitness.skip": 4,
                              "fitness.width": 64, "fitness.height": 64}).eval_settings
result = evaluate_preset(open(sys.argv[2]).read(), settings, make_renderer(settings), make_analyzer(settings))
assert result["error"] is None, result["error"]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def write_wav(path: Path, seconds: int, rate: int) -> None:
    import soundfile as sf

    rng = np.random.default_rng(0)
    t = np.arange(rate)[:, None] / rate
    second = (0.3 * np.sin(2 * np.pi * np.array([110.0, 165.0]) * t) + rng.normal(0, 0.1, (rate, 2))).astype(np.float32)
    with sf.SoundFile(str(path), "w", rate, 2, subtype="PCM_16") as f:
        for k in range(seconds):
            f.write(np.roll(second, 1009 * k, axis=0))


def peak_of(cmd: list[str], log: Path) -> tuple[int, float]:
    """(peak resident MB, seconds) of a command run in a fresh process (os.wait4: its own rusage)."""
    t0 = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                env=dict(os.environ, PYTHONPATH=str(ROOT), LP_NUM_THREADS="0"))
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must be told
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{log.read_text()[-2000:]}")
    return usage.ru_maxrss // 1024, time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=120.0)
    ap.add_argument("--rate", type=int, default=48000, help="sample rate of the file (48000: resampled)")
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="liandan-long-audio-") as tmp:
        tmp = Path(tmp)
        preset = tmp / "p.milk"
        preset.write_text(PRESET)
        t0 = time.monotonic()
        long_wav, short_wav = tmp / "long.wav", tmp / "short.wav"
        write_wav(long_wav, int(args.minutes * 60), args.rate)
        write_wav(short_wav, 10, args.rate)
        print(f"track: {args.minutes:g} min at {args.rate} Hz, {long_wav.stat().st_size / 1e9:.2f} GB on disk "
              f"(written in {time.monotonic() - t0:.0f} s)")
        figures = {}
        for label, wav in (("10 s", short_wav), (f"{args.minutes:g} min", long_wav)):
            render = [sys.executable, "-m", "ui.cli", "render", str(preset), "--audio", str(wav), "--frames",
                      str(args.frames), "--size", "256x256", "-o", str(tmp / "out.webp")]
            figures[("render", label)] = peak_of(render, tmp / "log.txt")
            figures[("evaluation", label)] = peak_of([sys.executable, "-c", EVALUATE, str(wav), str(preset)],
                                                     tmp / "log.txt")
        for what in ("render", "evaluation"):
            for label in ("10 s", f"{args.minutes:g} min"):
                mb, secs = figures[(what, label)]
                print(f"{what:10s} with a {label:>8s} track: {mb:4d} MB peak resident, {secs:5.1f} s")
        long_render = figures[("render", f"{args.minutes:g} min")][0]
        print(f"goal: render with a {args.minutes:g}-minute track under {GOAL_MB} MB -> "
              f"{'met' if long_render < GOAL_MB else 'NOT met'} ({long_render} MB)")


if __name__ == "__main__":
    main()
