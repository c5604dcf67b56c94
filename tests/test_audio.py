"""Audio loading and MilkDrop's audio analysis (renderer/audio.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from renderer.audio import TARGET_RATE, AudioAnalyzer, AudioError, AudioTrack, load_audio, track_from_array
from renderer.audio.analysis import BAND_EDGES, FFT_SIZE, WAVE_SAMPLES, WAVE_UNITS

RATE = TARGET_RATE


def tone(freq, seconds, rate=RATE, amp=0.5):
    t = np.arange(int(round(seconds * rate))) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x, rate):
    """Frequency of the strongest FFT bin, refined by parabolic interpolation."""
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    i = int(np.argmax(spec[1:-1])) + 1
    a, b, c = np.log(spec[i - 1 : i + 2] + 1e-30)
    offset = 0.5 * (a - c) / (a - 2 * b + c)
    return (i + offset) * rate / x.size


# --------------------------------------------------------------------------- loading


def test_stereo_wav_round_trips_exactly(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.uniform(-0.9, 0.9, size=(5000, 2)).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, data, RATE, subtype="FLOAT")
    track = load_audio(path)
    assert track.rate == RATE and track.samples.dtype == np.float32
    np.testing.assert_array_equal(track.samples, data)
    assert track.source == str(path)
    assert track.warnings == ()


def test_mono_is_copied_to_both_sides(tmp_path):
    x = tone(440, 0.2)
    path = tmp_path / "mono.wav"
    sf.write(path, x, RATE, subtype="PCM_16")
    track = load_audio(path)
    assert track.samples.shape == (x.size, 2)
    np.testing.assert_array_equal(track.samples[:, 0], track.samples[:, 1])
    np.testing.assert_allclose(track.samples[:, 0], x, atol=1.0 / 32768 + 1e-7)


@pytest.mark.parametrize("rate", [48000, 22050, 32000, 96000])
def test_resampling_keeps_pitch_and_duration(tmp_path, rate):
    path = tmp_path / f"tone_{rate}.wav"
    sf.write(path, tone(1000.0, 1.0, rate=rate), rate, subtype="FLOAT")
    track = load_audio(path)
    assert track.rate == RATE
    assert abs(track.n_samples - RATE) <= 1
    assert abs(track.duration - 1.0) < 1e-4
    assert peak_hz(track.samples[:, 0].astype(np.float64), RATE) == pytest.approx(1000.0, abs=1.0)
    # amplitude is preserved too (away from the filter's edges)
    mid = track.samples[RATE // 4 : 3 * RATE // 4, 0]
    assert np.max(np.abs(mid)) == pytest.approx(0.5, abs=0.01)


def test_flac_round_trips_within_16_bit(tmp_path):
    rng = np.random.default_rng(2)
    data = (rng.uniform(-0.8, 0.8, size=(3000, 2))).astype(np.float32)
    path = tmp_path / "x.flac"
    sf.write(path, data, RATE, subtype="PCM_16")
    track = load_audio(path)
    np.testing.assert_allclose(track.samples, data, atol=1.0 / 32768 + 1e-6)


@pytest.mark.parametrize("fmt,ext", [("OGG", "ogg"), ("MP3", "mp3")])
def test_lossy_formats_keep_the_tone(tmp_path, fmt, ext):
    if fmt not in sf.available_formats():
        pytest.skip(f"libsndfile here has no {fmt}")
    path = tmp_path / f"t.{ext}"
    x = tone(660.0, 1.0, rate=48000)
    sf.write(path, np.stack([x, 0.5 * x], axis=1), 48000, format=fmt)
    track = load_audio(path)
    assert track.rate == RATE
    assert track.duration == pytest.approx(1.0, abs=0.1)  # codecs pad a little
    left = track.samples[:, 0].astype(np.float64)
    right = track.samples[:, 1].astype(np.float64)
    assert peak_hz(left, RATE) == pytest.approx(660.0, abs=2.0)
    assert np.sqrt(np.mean(right**2)) == pytest.approx(0.5 * np.sqrt(np.mean(left**2)), rel=0.1)


def test_more_than_two_channels_keeps_front_left_and_right(tmp_path):
    data = np.zeros((1000, 6), np.float32)
    data[:, 0] = 0.25
    data[:, 1] = -0.5
    data[:, 2:] = 0.9
    path = tmp_path / "surround.wav"
    sf.write(path, data, RATE, subtype="FLOAT")
    track = load_audio(path)
    np.testing.assert_array_equal(track.samples[:, 0], 0.25)
    np.testing.assert_array_equal(track.samples[:, 1], -0.5)
    assert any("6 channels" in w for w in track.warnings)


def test_nan_and_inf_are_replaced_never_propagated(tmp_path):
    data = tone(300, 0.1).repeat(2).reshape(-1, 2).copy()
    data[10, 0] = np.nan
    data[20, 1] = np.inf
    data[30, 0] = -np.inf
    data[40, 1] = 3.0
    path = tmp_path / "nan.wav"
    sf.write(path, data, RATE, subtype="FLOAT")
    track = load_audio(path)
    assert np.all(np.isfinite(track.samples))
    assert np.max(np.abs(track.samples)) <= 1.0
    assert track.samples[10, 0] == 0.0 and track.samples[20, 1] == 0.0
    assert any("NaN" in w for w in track.warnings)
    assert any("clipped" in w for w in track.warnings)
    analyzer = AudioAnalyzer(track, fps=60)
    assert np.all(np.isfinite(analyzer.levels(10)))


def test_low_rate_loads_with_a_warning(tmp_path):
    path = tmp_path / "phone.wav"
    sf.write(path, tone(440, 0.5, rate=8000), 8000, subtype="PCM_16")
    track = load_audio(path)
    assert track.rate == RATE
    assert peak_hz(track.samples[:, 0].astype(np.float64), RATE) == pytest.approx(440.0, abs=1.0)
    assert any("8000 Hz" in w and "treble" in w for w in track.warnings)


def _write_bytes(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "make, problem",
    [
        (lambda d: _write_bytes(d / "empty.wav", b""), "empty file"),
        (lambda d: _write_bytes(d / "text.wav", b"this is not audio at all\n" * 20), "not a readable audio file"),
        (lambda d: _write_bytes(d / "trunc.flac", b"fLaC\x00\x00"), "not a readable audio file"),
        (lambda d: d / "missing.ogg", "no such file"),
    ],
)
def test_bad_files_raise_audio_error_naming_the_file(tmp_path, make, problem):
    path = make(tmp_path)
    with pytest.raises(AudioError) as err:
        load_audio(path)
    assert str(path) in str(err.value)
    assert problem in str(err.value)
    assert err.value.path == str(path)


def test_zero_length_audio_raises(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros((0, 2), np.float32), RATE)
    with pytest.raises(AudioError, match="zero-length") as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_directory_raises(tmp_path):
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


def test_huge_channel_count_raises(tmp_path):
    path = tmp_path / "many.wav"
    sf.write(path, np.zeros((10, 200), np.float32), RATE, subtype="PCM_16")
    with pytest.raises(AudioError, match="200 channels") as err:
        load_audio(path)
    assert str(path) in str(err.value)


def test_absurdly_low_rate_raises(tmp_path):
    path = tmp_path / "slow.wav"
    sf.write(path, np.zeros(100, np.float32), 1000, subtype="PCM_16")
    with pytest.raises(AudioError, match="too low"):
        load_audio(path)


def test_max_seconds_keeps_the_start(tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(200, 3.0), RATE, subtype="FLOAT")
    assert load_audio(path, max_seconds=1.0).n_samples == RATE


def test_track_from_array_handles_ints_and_rejects_junk():
    ints = (np.array([0, 16384, -32768, 32767], np.int16))
    track = track_from_array(ints, RATE)
    np.testing.assert_allclose(track.samples[:, 0], [0, 0.5, -1.0, 32767 / 32768], atol=1e-7)
    u8 = np.array([128, 255, 0], np.uint8)
    np.testing.assert_allclose(track_from_array(u8, RATE).samples[:, 1], [0, 127 / 128, -1.0], atol=1e-7)
    with pytest.raises(AudioError, match="zero-length"):
        track_from_array(np.zeros((0, 2)), RATE, "x")
    with pytest.raises(AudioError, match="numeric"):
        track_from_array(np.array(["a", "b"]), RATE, "x")
    with pytest.raises(AudioError, match="1-D or 2-D"):
        track_from_array(np.zeros((4, 2, 2)), RATE, "x")
    with pytest.raises(AudioError, match="(N, 2)"):
        AudioTrack(np.zeros((10, 3), np.float32))


# --------------------------------------------------------------------------- analysis


def make_track(x_left, x_right=None):
    right = x_left if x_right is None else x_right
    return AudioTrack(np.stack([x_left, right], axis=1).astype(np.float32))


def test_silence_reads_one_everywhere():
    for analyzer in (AudioAnalyzer.silence(fps=60), AudioAnalyzer(make_track(np.zeros(RATE, np.float32)))):
        f = analyzer.frame(37)
        assert (f.bass, f.mid, f.treb, f.bass_att, f.mid_att, f.treb_att) == (1, 1, 1, 1, 1, 1)
        assert f.waveform.shape == (2, WAVE_SAMPLES) and f.waveform.dtype == np.float32
        assert f.spectrum.shape == (2, 512) and f.spectrum.dtype == np.float32
        assert not f.waveform.any() and not f.spectrum.any()
        assert f.time == pytest.approx(37 / 60)


def test_waveform_is_the_576_samples_before_the_frame_time_in_milkdrop_units():
    n = RATE
    ramp = (np.arange(n) / n).astype(np.float32)
    analyzer = AudioAnalyzer(make_track(ramp, -ramp), fps=30)
    k = 17
    end = round(k * RATE / 30)
    f = analyzer.frame(k)
    np.testing.assert_allclose(f.waveform[0], ramp[end - WAVE_SAMPLES : end] * WAVE_UNITS, rtol=1e-6)
    np.testing.assert_allclose(f.waveform[1], -ramp[end - WAVE_SAMPLES : end] * WAVE_UNITS, rtol=1e-6)
    # before time zero there is silence: frame 1 at 60 fps has only 735 samples behind it
    early = AudioAnalyzer(make_track(np.ones(n, np.float32) * 0.5), fps=200).frame(1)
    behind = round(RATE / 200)
    assert np.all(early.waveform[0, : WAVE_SAMPLES - behind] == 0)
    assert np.all(early.waveform[0, WAVE_SAMPLES - behind :] == 64)


def test_spectrum_peaks_at_the_tone_bin_per_channel():
    analyzer = AudioAnalyzer(make_track(tone(2000, 1.0), tone(9000, 1.0)), fps=60)
    spec = analyzer.frame(30).spectrum
    assert int(np.argmax(spec[0])) == pytest.approx(2000 * FFT_SIZE / RATE, abs=1)
    assert int(np.argmax(spec[1])) == pytest.approx(9000 * FFT_SIZE / RATE, abs=1)


@pytest.mark.parametrize("freq, band", [(1500, 0), (5000, 1), (10000, 2)])
def test_each_band_covers_its_third_of_the_lower_half(freq, band):
    # MilkDrop's bands: bins [0,85) [85,170) [170,256) of 512, i.e. 0-3.7k, 3.7k-7.3k, 7.3k-11k
    assert BAND_EDGES == (0, 85, 170, 256)
    energy = AudioAnalyzer(make_track(tone(freq, 1.0))).band_energy(60)[20:]
    others = [b for b in range(3) if b != band]
    assert np.all(energy[:, band] > 50 * energy[:, others].max(axis=1))


def pulses(freq, seconds, period, on, rate=RATE, amp=0.5):
    """A tone switched on for `on` seconds every `period` seconds, with 2 ms ramps."""
    t = np.arange(int(seconds * rate)) / rate
    phase = t % period
    gate = np.clip(np.minimum(phase, on - phase) / 0.002, 0, 1) * (phase < on)
    return (amp * np.sin(2 * np.pi * freq * t) * gate).astype(np.float32)


def test_pulsed_treble_lights_treb_not_bass():
    # a steady 1 kHz tone keeps the bass band busy; 10 kHz bursts twice a second
    steady = tone(1000, 6.0, amp=0.3)
    bursts = pulses(10000, 6.0, period=0.5, on=0.1, amp=0.3)
    fps = 60
    levels = AudioAnalyzer(make_track(steady + bursts), fps=fps).levels(6 * fps)
    late = levels[2 * fps :]  # after the long-run averages settled
    bass, treb = late[:, 0], late[:, 2]
    assert treb.max() > 3.0
    assert bass.max() < 1.1 and bass.min() > 0.9
    frames = np.arange(2 * fps, 6 * fps) + 1
    on = ((frames / fps) % 0.5) < 0.1
    assert treb[on].mean() > 3 * treb[~on].mean()
    # attenuated treble is smoother than the immediate value but still above 1 on bursts
    assert late[:, 5].std() < treb.std()


def test_rates_are_adjusted_to_the_frame_rate():
    # a tone starting at 3 s: the relative levels at the same wall-clock time agree at 30 and 60 fps
    x = np.concatenate([np.zeros(3 * RATE, np.float32), tone(2000, 3.0)])
    a30 = AudioAnalyzer(make_track(x), fps=30).levels(180)
    a60 = AudioAnalyzer(make_track(x), fps=60).levels(360)
    for seconds in (4.0, 4.5, 5.0, 5.9):
        row30, row60 = a30[int(seconds * 30) - 1], a60[int(seconds * 60) - 1]
        np.testing.assert_allclose(row60[[0, 3]], row30[[0, 3]], rtol=0.03)
    # and the long-run average really is slow: one second after the onset bass is still well above 1
    assert a60[int(4.0 * 60) - 1, 0] > 2.0


def test_analysis_is_a_pure_function_of_track_fps_and_frame():
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(3 * RATE) * 0.2).astype(np.float32)
    track = make_track(x, np.roll(x, 100))
    seq = AudioAnalyzer(track, fps=60)
    in_order = [seq.frame(k) for k in range(1, 151)]
    shuffled = AudioAnalyzer(track, fps=60)
    order = rng.permutation(np.arange(1, 151))
    got = {int(k): shuffled.frame(int(k)) for k in order}
    for f in in_order:
        g = got[f.frame]
        assert (f.bass, f.mid, f.treb, f.bass_att, f.mid_att, f.treb_att) == (
            g.bass, g.mid, g.treb, g.bass_att, g.mid_att, g.treb_att)
        assert np.array_equal(f.waveform, g.waveform) and np.array_equal(f.spectrum, g.spectrum)
    # a "restart" far into the song gives the same frame as having rendered everything before it
    late = AudioAnalyzer(track, fps=60).frame(2500)
    seq.levels(2499)
    again = seq.frame(2500)
    assert late.levels() == again.levels()


def test_loop_repeats_the_track_and_no_loop_ends_in_silence():
    x = pulses(3000, 2.0, period=0.25, on=0.05)
    looped = AudioAnalyzer(make_track(x), fps=60, loop=True)
    once = AudioAnalyzer(make_track(x), fps=60, loop=False)
    for k in (10, 45, 100):
        np.testing.assert_array_equal(looped.frame(k + 120).waveform, looped.frame(k).waveform)
        assert not once.frame(k + 120).waveform.any()


def test_levels_table_matches_frames():
    analyzer = AudioAnalyzer(make_track(pulses(1200, 2.0, 0.5, 0.1)), fps=50)
    table = analyzer.levels(100)
    assert table.shape == (100, 6) and table.dtype == np.float32
    f = analyzer.frame(77)
    assert table[76].tolist() == list(f.levels().values())
    assert len(set(table[:, 0].tolist())) > 15  # really varies frame to frame


def test_hand_built_track_with_nan_never_reaches_a_frame():
    x = tone(3000, 1.0)
    x[1000:5000] = np.nan
    x[7000] = np.inf
    analyzer = AudioAnalyzer(make_track(x), fps=60)
    assert np.all(np.isfinite(analyzer.levels(60)))
    f = analyzer.frame(5)
    assert np.all(np.isfinite(f.waveform)) and np.all(np.isfinite(f.spectrum))


def test_bad_arguments():
    analyzer = AudioAnalyzer.silence()
    with pytest.raises(ValueError):
        analyzer.frame(0)
    with pytest.raises(TypeError):
        analyzer.frame(1.5)
    with pytest.raises(ValueError):
        AudioAnalyzer(None, fps=0)
