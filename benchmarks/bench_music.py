"""Music: how fast a song is analysed and presets matched, and whether matching and breathing work.

    .venv/bin/python benchmarks/bench_music.py [--presets N] [--songs DIR]

Prints:
- analysis time of a 4-minute song (two drascula-music tracks joined; a synthetic one without
  the package), goal <= 10 s on 2 cores;
- matching time of 4,188 presets' profiles against that song (profiles drawn from the measured
  ones, so the figure is the ranking's cost), goal <= 5 s;
- beat lock *on the song* of the presets ``plan_set`` picks for each section against random
  presets from the same pool on the same stretches (ratio, goal >= 1.5x);
- ``breathe``: beat lock before and after on random presets of the pool.
The pool is N random projectm-data presets, profiled against the probe music (cached).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

CORPUS = Path("/usr/share/projectM/presets")
SONGS = Path("/usr/share/scummvm/drascula/audio")


def four_minute_song(folder: Path, out: Path) -> Path:
    import soundfile as sf

    from renderer.audio.synth import synthesize, write_wav

    tracks = sorted(folder.glob("track*.ogg"), key=lambda p: -sf.info(str(p)).duration) if folder.is_dir() else []
    if len(tracks) < 2:
        write_wav(synthesize(seconds=240.0, seed=1), out)
        return out
    parts, total = [], 0
    for t in tracks:
        data, rate = sf.read(str(t), dtype="float32")
        parts.append(data)
        total += len(data)
        if total >= 240 * rate:
            break
    sf.write(str(out), np.concatenate(parts)[: 240 * rate], rate)
    return out


def long_song_peak_rss(minutes: float, folder: Path) -> tuple[float, float]:
    """(peak resident MB, seconds) of ``listen``'s analysis of a ``minutes``-long WAV (a synthetic
    minute written over and over, block by block), in a process of its own."""
    import resource
    import subprocess

    import soundfile as sf

    from renderer.audio.synth import synthesize

    path = folder / "long.wav"
    minute = synthesize(seconds=60.0, seed=2).samples
    with sf.SoundFile(str(path), "w", samplerate=44100, channels=2, subtype="PCM_16") as out:
        for _ in range(int(minutes)):
            out.write(minute)
    code = "import sys; from evo.music.analysis import analyze_song; analyze_song(sys.argv[1])"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, cwd=Path(__file__).resolve().parents[1])
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    path.unlink()
    return max(peak, before) / 1024.0, seconds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presets", type=int, default=120, help="random corpus presets to profile and match")
    ap.add_argument("--songs", type=Path, default=SONGS)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not CORPUS.is_dir():
        print("projectm-data is not installed: nothing to match")
        return 0
    from evo.music.analysis import analyze_song, liveliest_stretch
    from evo.music.breathe import FPS, breathe
    from evo.music.match import Candidate, plan_set, rank_section
    from evo.music.profiles import DEFAULT_CACHE, ProfileCache, profile_presets
    from evo.music.reactivity import profile_for_song
    from renderer import Renderer
    from renderer.audio import AudioAnalyzer, open_audio
    from renderer.milk.files import find_presets
    from renderer.milk.preset import load_milk

    with tempfile.TemporaryDirectory() as tmp:
        song_path = four_minute_song(args.songs, Path(tmp) / "four_minutes.wav")
        analyze_song(song_path)  # librosa's first call compiles (numba): not part of the figure
        t = time.perf_counter()
        song = analyze_song(song_path)
        analysis_s = time.perf_counter() - t
        print(f"analysis of a {song.duration:.0f} s song: {analysis_s:.2f} s (goal <= 10 s); "
              f"{song.tempo:.1f} BPM, {len(song.sections)} sections")
        for minutes in (4, 60):
            rss, secs = long_song_peak_rss(minutes, Path(tmp))
            print(f"listen on a {minutes}-minute WAV: peak resident {rss:.0f} MB, {secs:.1f} s (the file streams)")

        files = find_presets(CORPUS)
        random.Random(args.seed).shuffle(files)
        cache = ProfileCache(args.cache or DEFAULT_CACHE)
        t = time.perf_counter()
        profiled = profile_presets([str(f) for f in files[: args.presets]], cache, workers=2)
        cache.close()
        pool = [Candidate(Path(p).stem, p, prof) for p, (prof, err) in profiled.items() if prof is not None]
        print(f"profiles of {len(pool)} presets (probe music, 10 s at 30 fps): {time.perf_counter() - t:.1f} s "
              f"(cached ones cost nothing)")

        big = [Candidate(f"p{k}", pool[k % len(pool)].path, pool[k % len(pool)].profile) for k in range(4188)]
        t = time.perf_counter()
        for s in song.sections:
            rank_section(s, big)
        plan_set(song, big)
        print(f"matching 4,188 presets to {len(song.sections)} sections: {time.perf_counter() - t:.2f} s (goal <= 5 s)")

        rng = random.Random(args.seed + 1)
        picked, random_locks = [], []
        others = sorted(args.songs.glob("track*.ogg"))[:: 7][:2] if args.songs.is_dir() else []
        with Renderer(width=64, height=64, fps=FPS, seed=0) as r:
            for path, a in [(song_path, song)] + [(p, analyze_song(p)) for p in others]:
                analyzer = AudioAnalyzer(open_audio(path), fps=FPS)
                for cue in plan_set(a, pool):
                    s = a.sections[cue.section]
                    seconds = min(10.0, s.duration)
                    start = int(round((s.start + (s.duration - seconds) / 2) * FPS)) + 1
                    n = int(seconds * FPS)
                    chosen = profile_for_song(r, load_milk(cue.fit.candidate.path), analyzer, a.beats, start, n, FPS)
                    picked.append(chosen.beat_lock)
                    for c in rng.sample(pool, min(3, len(pool))):
                        random_locks.append(profile_for_song(r, load_milk(c.path), analyzer, a.beats, start, n,
                                                             FPS).beat_lock)
        ratio = (np.mean(picked) / np.mean(random_locks)) if np.mean(random_locks) > 0 else float("inf")
        print(f"beat lock on the songs ({1 + len(others)}): matched {np.mean(picked):.3f} ({len(picked)} sections) "
              f"vs random {np.mean(random_locks):.3f} ({len(random_locks)} renders): {ratio:.2f}x (goal >= 1.5x)")
        analyzer = AudioAnalyzer(open_audio(song_path), fps=FPS)

        before, after, written = [], [], 0
        for c in rng.sample(pool, min(8, len(pool))):
            res = breathe(load_milk(c.path), song, analyzer)
            before.append(res.before.beat_lock)
            after.append(res.after.beat_lock if res.after else res.before.beat_lock)
            written += res.text is not None
        t0, t1 = liveliest_stretch(song, 12.0)
        print(f"breathe on {len(before)} random presets ({t0:.0f}-{t1:.0f} s of the song): beat lock "
              f"{np.mean(before):.3f} -> {np.mean(after):.3f}; rewritten {written} (the rest did not improve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
