"""Audio decoded on demand (renderer/audio/stream.py): the same samples as loading the whole file,
memory that does not grow with the track's length."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from renderer.audio import AudioAnalyzer, load_audio, open_audio, track_from_array
from renderer.audio import stream as stream_module

REPO = Path(__file__).resolve().parents[1]


def noisy(rate: int, seconds: float, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = max(1, int(rate * seconds))
    t = np.arange(n)[:, None] / rate
    x = 0.6 * np.sin(2 * np.pi * 220 * t * np.arange(1, channels + 1)) + rng.normal(0, 0.2, (n, channels))
    return x.astype(np.float32)


def write_long_wav(path: Path, seconds: float, rate: int = 44100) -> None:
    """A long stereo PCM-16 file written a second at a time (never whole in memory)."""
    second = noisy(rate, 1.0, 2) * 0.5
    with sf.SoundFile(str(path), "w", rate, 2, subtype="PCM_16") as f:
        for k in range(int(seconds)):
            f.write(np.roll(second, 997 * k, axis=0))


CASES = [  # rate, channels, format, subtype, seconds
    (44100, 2, "WAV", "PCM_16", 7.3), (48000, 2, "WAV", "FLOAT", 5.1), (48000, 1, "FLAC", "PCM_24", 4.0),
    (22050, 6, "WAV", "FLOAT", 3.3), (96000, 2, "WAV", "PCM_16", 2.2), (8000, 1, "WAV", "PCM_16", 9.0),
    (47999, 2, "WAV", "FLOAT", 3.0), (48000, 2, "OGG", "VORBIS", 4.0), (44100, 1, "WAV", "PCM_16", 0.0),
]


@pytest.mark.parametrize("rate,channels,fmt,subtype,seconds", CASES)
def test_streamed_samples_are_bit_identical_to_the_whole_file(tmp_path, monkeypatch, rate, channels, fmt, subtype,
                                                              seconds):
    """Whatever order blocks are read in (small blocks and a small cache force many boundaries,
    evictions and, for Ogg, restarts from the beginning), every sample and every repair count is
    what cleaning the whole decoded file at once gives."""
    if fmt not in sf.available_formats():
        pytest.skip(f"no {fmt} here")
    monkeypatch.setattr(stream_module, "BLOCK", 5000)
    monkeypatch.setattr(stream_module, "CACHE_BYTES", 1)
    x = noisy(rate, seconds, channels)
    if subtype == "FLOAT":
        x[::997, 0] = np.nan
        x[::1499, -1] = 3.0
    path = tmp_path / f"a.{fmt.lower()}"
    sf.write(path, x, rate, format=fmt, subtype=subtype)
    data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    whole = track_from_array(data, file_rate, str(path))
    stream = open_audio(path)
    assert stream.n_samples == whole.n_samples and stream.samples.shape == whole.samples.shape
    rng = np.random.default_rng(1)
    idx = rng.integers(0, stream.n_samples, size=4000)
    assert np.array_equal(stream.take(idx).view(np.uint32), whole.samples[idx].view(np.uint32))
    assert np.array_equal(stream.samples[::-1][:50], whole.samples[::-1][:50])
    assert np.array_equal(stream.read().view(np.uint32), whole.samples.view(np.uint32))
    assert stream.warnings == whole.warnings
    assert load_audio(path).warnings == whole.warnings


def test_analysis_of_a_stream_equals_analysis_of_the_loaded_track(tmp_path):
    path = tmp_path / "song.wav"
    sf.write(path, noisy(48000, 6.0, 2), 48000, subtype="PCM_16")
    a, b = AudioAnalyzer(load_audio(path), fps=30), AudioAnalyzer(open_audio(path), fps=30)
    assert np.array_equal(a.levels(400), b.levels(400))  # past the end: the track loops
    for k in (1, 77, 181, 399):
        fa, fb = a.frame(k), b.frame(k)
        assert np.array_equal(fa.waveform, fb.waveform) and np.array_equal(fa.spectrum, fb.spectrum)


def test_repairs_in_part_of_a_long_file_say_so(tmp_path):
    x = noisy(44100, 8.0, 2) * 0.5
    x[100, 0] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x, 44100, subtype="FLOAT")
    stream = open_audio(path)
    stream.read(0, 1000)
    assert stream.warnings == ("1 NaN/inf samples replaced by silence (in the 1.5 s read so far)",)


_PEAK = """
import sys
from renderer.audio import AudioAnalyzer, open_audio
analyzer = AudioAnalyzer(open_audio(sys.argv[1]), fps=60)
analyzer.levels(30)
for k in range(1, 31):
    analyzer.frame(k)
import resource
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _peak_mb(path: Path) -> int:
    out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=True)
    return int(out.stdout.split()[-1])


def test_memory_for_thirty_frames_does_not_grow_with_the_track(tmp_path):
    """Thirty frames of a 5-minute track cost what thirty frames of a 10-second one do (loading
    the whole track, as render, the sweep and every evolve worker did, took ~120 MB a minute)."""
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    write_long_wav(short, 10.0)
    write_long_wav(long, 300.0)
    assert _peak_mb(long) - _peak_mb(short) < 40
