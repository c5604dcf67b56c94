"""The synthetic music generator (renderer/audio/synth.py) and how MilkDrop's analysis hears it."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.audio import TARGET_RATE, AudioAnalyzer, load_audio
from renderer.audio.synth import ALL_PARTS, parse_key, synthesize, write_wav

FPS = 60


def beat_phase_split(levels, tempo, fps=FPS, window=4):
    """Split per-frame values into those within `window` frames after a beat and the rest."""
    frames = np.arange(1, len(levels) + 1)
    beat_frames = fps * 60.0 / tempo
    phase = (frames - 1) % beat_frames  # window of frame k ends at k/fps; the onset shows from ceil
    on = phase < window
    return levels[on], levels[~on]


def test_same_seed_gives_bit_identical_samples():
    a = synthesize(seconds=4, seed=7)
    b = synthesize(seconds=4, seed=7)
    assert a.samples.tobytes() == b.samples.tobytes()
    c = synthesize(seconds=4, seed=8)
    assert not np.array_equal(a.samples, c.samples)


def test_track_shape_range_and_rate():
    track = synthesize(seconds=2.5, tempo=100, key="Bbm", seed=1)
    assert track.samples.shape == (int(2.5 * TARGET_RATE), 2)
    assert track.samples.dtype == np.float32
    assert track.rate == TARGET_RATE
    assert np.all(np.isfinite(track.samples))
    peak = np.max(np.abs(track.samples))
    assert 0.5 < peak <= 0.9 + 1e-6
    # stereo, not two copies of one channel
    assert not np.array_equal(track.samples[:, 0], track.samples[:, 1])


@pytest.mark.parametrize("tempo", [100, 120, 140])
def test_kick_only_makes_bass_peak_on_every_beat(tempo):
    seconds = 8
    track = synthesize(seconds=seconds, tempo=tempo, seed=3, parts=("kick",))
    bass = AudioAnalyzer(track, fps=FPS).levels(seconds * FPS)[:, 0]
    settled = bass[FPS:]  # skip the first second while long-run averages form
    on, off = beat_phase_split(bass, tempo)
    assert on.mean() > 3 * off.mean()
    # a peak after every single beat, not just on average
    beat_frames = FPS * 60.0 / tempo
    for b in range(2, int(seconds * tempo / 60) - 1):
        start = int(np.ceil(b * beat_frames))
        assert bass[start : start + 4].max() > 2 * np.median(settled), f"no kick at beat {b}"
    # the dominant period of the bass envelope is the beat
    x = settled - settled.mean()
    spec = np.abs(np.fft.rfft(x, n=8 * x.size))
    freqs = np.fft.rfftfreq(8 * x.size, d=1.0 / FPS)
    band = (freqs > 0.5) & (freqs < 6)
    assert freqs[band][np.argmax(spec[band])] == pytest.approx(tempo / 60.0, rel=0.03)


def test_hats_light_treble_not_bass():
    track = synthesize(seconds=4, seed=2, parts=("hat",))
    energy = AudioAnalyzer(track, fps=FPS).band_energy(4 * FPS)[FPS:]
    assert energy[:, 2].mean() > 20 * energy[:, 0].mean()


def test_full_mix_moves_all_three_bands_with_the_beat():
    tempo = 120
    track = synthesize(seconds=12, tempo=tempo, seed=0)
    levels = AudioAnalyzer(track, fps=FPS).levels(12 * FPS)[2 * FPS :]
    on, off = beat_phase_split(levels, tempo)
    for band, name in enumerate(("bass", "mid", "treb")):
        assert on[:, band].mean() > 1.5 * off[:, band].mean(), name
        assert levels[:, band].std() > 0.5, name  # visibly moving, not flat at 1
        assert levels[:, band + 3].std() < levels[:, band].std(), name + "_att is smoother"


@pytest.mark.parametrize("key", ["A", "C#m", "Eb", "Gm"])
def test_bass_line_stays_in_the_key(key):
    k = parse_key(key)
    scale = {(k.tonic + step) % 12 for step in k.scale}
    track = synthesize(seconds=8, key=key, seed=4, parts=("bass",))
    x = track.samples[:, 0].astype(np.float64)
    # pitch class of the strongest partials below 400 Hz, one bar (2 s) at a time
    bar = 2 * TARGET_RATE
    for i in range(0, x.size - bar + 1, bar):
        seg = x[i : i + bar] * np.hanning(bar)
        spec = np.abs(np.fft.rfft(seg))
        freqs = np.fft.rfftfreq(bar, 1.0 / TARGET_RATE)
        low = (freqs > 30) & (freqs < 400)
        f0 = freqs[low][np.argmax(spec[low])]
        pitch_class = int(round(69 + 12 * np.log2(f0 / 440.0))) % 12
        assert pitch_class in scale, (key, f0)


def test_parts_are_independent_of_each_other():
    # turning one instrument off must not reshuffle the others' random choices
    kick_alone = synthesize(seconds=3, seed=9, parts=("kick",))
    kick_and_hat = synthesize(seconds=3, seed=9, parts=("kick", "hat"))
    hat_alone = synthesize(seconds=3, seed=9, parts=("hat",))
    # compare through the correlation (each mix is peak-normalised separately)
    k = kick_alone.samples[:, 0].astype(np.float64)
    h = hat_alone.samples[:, 0].astype(np.float64)
    both = kick_and_hat.samples[:, 0].astype(np.float64)
    assert np.corrcoef(k, both)[0, 1] > 0.8
    assert set(ALL_PARTS) == {"kick", "snare", "hat", "bass", "chords", "arp"}
    assert np.corrcoef(k, h)[0, 1] < 0.2


def test_write_wav_round_trips(tmp_path):
    track = synthesize(seconds=1, seed=5)
    path = tmp_path / "synth.wav"
    write_wav(track, path, subtype="FLOAT")
    loaded = load_audio(path)
    np.testing.assert_array_equal(loaded.samples, track.samples)
    write_wav(track, tmp_path / "s16.wav")
    np.testing.assert_allclose(load_audio(tmp_path / "s16.wav").samples, track.samples, atol=1 / 32768 + 1e-6)


def test_parse_key():
    assert parse_key("A") == parse_key("A major")
    assert parse_key("Am").minor and not parse_key("A").minor
    assert parse_key("C#m").tonic == 1 and parse_key("Db").tonic == 1
    assert parse_key("Cb").tonic == 11
    assert parse_key("f# minor").tonic == 6
    for bad in ("H", "", "A dorian", 5):
        with pytest.raises(ValueError):
            parse_key(bad)


def test_bad_arguments():
    with pytest.raises(ValueError):
        synthesize(seconds=0)
    with pytest.raises(ValueError):
        synthesize(tempo=5)
    with pytest.raises(ValueError, match="unknown parts"):
        synthesize(seconds=1, parts=("tuba",))
