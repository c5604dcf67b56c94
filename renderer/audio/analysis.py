"""Audio input and MilkDrop's per-frame audio analysis.

MilkDrop presets react to six numbers (bass, mid, treb and their attenuated
``_att`` versions), draw the raw waveform and, for custom waves with
``bSpectrum=1``, the spectrum.  This module turns any sound file (or an array)
into those values, frame by frame, as MilkDrop 2 computes them:

* The analysis window is the 576 most recent samples (Winamp handed MilkDrop
  576 samples per frame), in MilkDrop's 8-bit sample units (sample * 128).
* ``bass/mid/treb`` come from ``CPlugin::DoCustomSoundAnalysis``: an FFT of the
  left channel's 576 samples (Hann envelope, zero-padded to 1024, 512
  magnitudes, log equaliser ``-0.02*ln((512-i)/512)``), summed over the bottom
  half of the spectrum split into thirds: bins [0,85), [85,170), [170,256),
  i.e. about 0-3.7 kHz, 3.7-7.3 kHz and 7.3-11 kHz at 44.1 kHz.
* Each band's immediate value is divided by its long-run average (rate 0.9 for
  the first 50 frames, then 0.992, per frame at 30 fps); ``_att`` is a short
  average (0.2 when rising, 0.5 when falling) over the same long-run average.
  Rates are adjusted to the frame rate as ``rate ** (30 / fps)``.  The
  averages start at zero and a long-run average below 0.001 gives 1.0, which
  is why silence reads as 1.0 everywhere (projectM does the same).
* The custom-wave spectrum is the plugin shell's ``m_sound.fSpectrum``: the
  same FFT on the waveform damped by ``0.5*(x[i] + x[i-1])``, both channels.

Frame ``k`` (1-based) is rendered at ``time = k / fps``; its window ends at
sample ``round(k * 44100 / fps)``.  Everything is a pure function of
(track, fps, k): the band recursion is always computed from frame 1 in fixed
chunks, so frames asked for out of order, or by a resumed run, are identical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from renderer.audio.stream import AudioStream
from renderer.audio.synth import synthesize
from renderer.audio.track import TARGET_RATE, AudioTrack, track_from_array

WAVE_SAMPLES = 576
SPECTRUM_BINS = 512
FFT_SIZE = 2 * SPECTRUM_BINS
WAVE_UNITS = 128.0
"""MilkDrop's waveform is in 8-bit units: a full-scale sample is +-128."""
BYTE_WAVE_SAMPLES = 512
"""butterchurn's waveform length (AudioAnalyzer.byte_waveform)."""

BAND_EDGES = tuple(SPECTRUM_BINS * i // 6 for i in range(4))  # (0, 85, 170, 256)
LEVEL_NAMES = ("bass", "mid", "treb", "bass_att", "mid_att", "treb_att")
_LEVEL_CHUNK = 1024


# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True, eq=False)
class AudioFrame:
    """What one rendered frame knows about the music.

    ``waveform`` is (2, 576) left/right in MilkDrop units (sample * 128, so
    full scale is +-128): renderer stages apply MilkDrop's own multipliers to
    it (0.004 for custom waves).  ``spectrum`` is (2, 512) equalised FFT
    magnitudes as custom waves with ``bSpectrum`` read them (multiplier 0.15), or None when
    the frame was made without it (``AudioAnalyzer.frame(k, spectrum=False)``).
    """

    frame: int
    time: float
    bass: float
    mid: float
    treb: float
    bass_att: float
    mid_att: float
    treb_att: float
    waveform: np.ndarray
    spectrum: np.ndarray | None

    @property
    def vol(self) -> float:
        """projectM's ``vol``: the mean of the three bands."""
        return (self.bass + self.mid + self.treb) / 3.0

    @property
    def vol_att(self) -> float:
        return (self.bass_att + self.mid_att + self.treb_att) / 3.0

    def levels(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in LEVEL_NAMES}


_HANN = 0.5 + 0.5 * np.sin(np.arange(WAVE_SAMPLES) * (2.0 * np.pi / WAVE_SAMPLES) - np.pi / 2.0)
_EQUALIZE = -0.02 * np.log((SPECTRUM_BINS - np.arange(SPECTRUM_BINS)) / SPECTRUM_BINS)


def milkdrop_spectrum(windows: np.ndarray) -> np.ndarray:
    """Equalised magnitude spectrum (..., 512) of (..., 576) windows in MilkDrop units."""
    w = np.asarray(windows, dtype=np.float64) * _HANN
    mag = np.abs(np.fft.rfft(w, n=FFT_SIZE, axis=-1)[..., :SPECTRUM_BINS])
    return mag * _EQUALIZE


def damp(windows: np.ndarray) -> np.ndarray:
    """MilkDrop's pre-FFT smoothing ``0.5*(x[i] + x[i-1])`` (x[-1] taken as x[0])."""
    w = np.asarray(windows, dtype=np.float64)
    prev = np.concatenate([w[..., :1], w[..., :-1]], axis=-1)
    return 0.5 * (w + prev)


def band_sums(spectrum: np.ndarray) -> np.ndarray:
    """(..., 512) spectrum -> (..., 3) bass/mid/treb immediate energies."""
    c = np.concatenate([np.zeros(spectrum.shape[:-1] + (1,)), np.cumsum(spectrum[..., : BAND_EDGES[-1]], axis=-1)], axis=-1)
    e = np.asarray(BAND_EDGES)
    return c[..., e[1:]] - c[..., e[:-1]]


class AudioAnalyzer:
    """Per-frame MilkDrop audio values for a track rendered at ``fps``.

    ``loop=True`` repeats the track when a render runs longer than the music
    (the default synthetic track is 30 s); with ``loop=False`` the music ends in
    silence.  Time before 0 is silence in both cases.
    """

    def __init__(self, track: AudioTrack | AudioStream | None, fps: float = 60.0, loop: bool = True):
        if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if track is not None and track.rate != TARGET_RATE:
            track = track_from_array(track.samples, track.rate, track.source, track.warnings)
        self.track = track
        self.fps = float(fps)
        self.loop = bool(loop)
        # Tracks built by hand skip track_from_array's cleaning: never let NaN reach a frame.
        # A stream (renderer.audio.stream) cleans each block as it decodes it.
        self._samples = None if track is None else (
            track.samples if isinstance(track, AudioStream) else _finite_samples(track.samples))
        self._imm = np.zeros((0, 3))
        self._levels = np.zeros((0, 6))
        self._state = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)  # avg[3] + long_avg[3] after the last computed frame
        f = 30.0 / self.fps
        self._rates = (0.2**f, 0.5**f, 0.9**f, 0.992**f)

    @classmethod
    def silence(cls, fps: float = 60.0) -> "AudioAnalyzer":
        """No-audio rendering: every level reads 1.0 (as in MilkDrop), waves are flat."""
        return cls(None, fps=fps)

    # ---- public

    def frame(self, k: int, spectrum: bool = True) -> AudioFrame:
        """Frame ``k``'s levels, waveform and spectrum. ``spectrum=False`` leaves the spectrum
        None: only custom waves with ``bSpectrum`` read it, and its FFT is a tenth of a simple
        preset's frame (the renderer asks for it only when the preset has such a wave)."""
        k = _check_frame(k)
        self._ensure(k)
        lv = self._levels[k - 1].astype(np.float32)  # same values as levels(), without copying the table
        windows = self.windows(k)
        if not spectrum:
            spectrum = None
        elif self._samples is None:
            spectrum = np.zeros((2, SPECTRUM_BINS), np.float32)
        else:
            spectrum = milkdrop_spectrum(damp(windows)).astype(np.float32)
        return AudioFrame(
            frame=k,
            time=k / self.fps,
            bass=float(lv[0]),
            mid=float(lv[1]),
            treb=float(lv[2]),
            bass_att=float(lv[3]),
            mid_att=float(lv[4]),
            treb_att=float(lv[5]),
            waveform=windows.astype(np.float32),
            spectrum=spectrum,
        )

    def levels(self, n_frames: int) -> np.ndarray:
        """(n_frames, 6) float32: LEVEL_NAMES for frames 1..n_frames (row i is frame i+1).

        Fitness uses column 0 (bass) as the beat envelope.
        """
        n = int(n_frames)
        if n < 0:
            raise ValueError(f"n_frames must be >= 0, got {n_frames}")
        self._ensure(n)
        return self._levels[:n].astype(np.float32)

    def band_energy(self, n_frames: int) -> np.ndarray:
        """(n_frames, 3) raw immediate band sums (before the relative division)."""
        self._ensure(int(n_frames))
        return self._imm[: int(n_frames)].copy()

    def windows(self, k: int) -> np.ndarray:
        """(2, 576) float64 left/right samples (MilkDrop units) ending at frame k's time."""
        k = _check_frame(k)
        if self._samples is None:
            return np.zeros((2, WAVE_SAMPLES))
        end = int(self.end_sample(k))
        if WAVE_SAMPLES <= end <= self._samples.shape[0]:  # inside the track: a slice, same values
            return (self._samples[end - WAVE_SAMPLES:end].astype(np.float64) * WAVE_UNITS).T
        return self._gather(np.array([k]))[0].T

    def byte_waveform(self, k: int) -> np.ndarray:
        """(2, 512) left/right: the waveform butterchurn draws for frame k (renderer.player).

        WebAudio hands it the last 1,024 samples as bytes (``floor(128 (x + 1))``); it averages
        each with the one before, truncates to a signed byte and keeps every second one: a
        smoother, 23 ms window against MilkDrop 2's 576 raw samples (13 ms)."""
        k = _check_frame(k)
        raw = self.window_samples(np.array([k]), 2 * BYTE_WAVE_SAMPLES)[0]  # (1024, 2), silence 0
        signed = np.clip(np.floor(128.0 * (raw + 1.0)), 0, 255) - 128.0
        prev = np.concatenate([signed[:1], signed[:-1]])
        return np.trunc(0.5 * (signed + prev))[::2].T.copy()

    def window_samples(self, ks: np.ndarray, length: int) -> np.ndarray:
        """(len(ks), length, 2) samples in [-1, 1] ending at each frame's time (silence 0 before
        the music, and after it unless the analyzer loops)."""
        ks = np.asarray(ks, dtype=np.int64)
        if self._samples is None:
            return np.zeros((ks.size, int(length), 2))
        return self._gather(ks, int(length)) / WAVE_UNITS

    def end_sample(self, k) -> np.ndarray:
        """Index one past the last sample frame k hears."""
        return np.rint(np.asarray(k, dtype=np.float64) * (TARGET_RATE / self.fps)).astype(np.int64)

    # ---- internals

    def _gather(self, ks: np.ndarray, length: int = WAVE_SAMPLES) -> np.ndarray:
        """(len(ks), length, 2) windows in MilkDrop units; row by row the same in any batch."""
        idx = self.end_sample(ks)[:, None] - length + np.arange(length)[None, :]
        n = self._samples.shape[0]
        valid = idx >= 0
        if self.loop:
            src = np.where(valid, idx % n, 0)
        else:
            valid &= idx < n
            src = np.where(valid, idx, 0)
        out = self._samples[src].astype(np.float64) * WAVE_UNITS
        out[~valid] = 0.0
        return out

    def _ensure(self, n: int) -> None:
        while self._levels.shape[0] < n:
            self._compute_chunk()

    def _compute_chunk(self) -> None:
        start = self._levels.shape[0]
        ks = np.arange(start + 1, start + _LEVEL_CHUNK + 1)
        if self._samples is None:
            imm = np.zeros((ks.size, 3))
        else:
            left = self._gather(ks)[:, :, 0]
            imm = band_sums(milkdrop_spectrum(left))
        out = np.empty((ks.size, 6))
        a0, a1, a2, l0, l1, l2 = self._state
        avg = [a0, a1, a2]
        long_avg = [l0, l1, l2]
        up, down, long_early, long_late = self._rates
        for row, k in enumerate(ks.tolist()):
            long_rate = long_early if (k - 1) < 50 else long_late
            for b in range(3):
                x = float(imm[row, b])
                r = up if x > avg[b] else down
                avg[b] = avg[b] * r + x * (1.0 - r)
                long_avg[b] = long_avg[b] * long_rate + x * (1.0 - long_rate)
                if abs(long_avg[b]) < 0.001:
                    out[row, b] = 1.0
                    out[row, 3 + b] = 1.0
                else:
                    out[row, b] = x / long_avg[b]
                    out[row, 3 + b] = avg[b] / long_avg[b]
        self._state = (*avg, *long_avg)
        self._imm = np.concatenate([self._imm, imm])
        self._levels = np.concatenate([self._levels, out])


def _finite_samples(samples: np.ndarray) -> np.ndarray:
    if np.all(np.isfinite(samples)):
        return samples
    return np.clip(np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0).astype(np.float32)


def _check_frame(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"frame number must be an int, got {type(k).__name__}")
    if k < 1:
        raise ValueError(f"frames are numbered from 1, got {k}")
    return int(k)


def default_analyzer(fps: float = 60.0, seconds: float = 30.0, seed: int = 0) -> AudioAnalyzer:
    """The program's default music: the synthetic track, looped."""
    return AudioAnalyzer(synthesize(seconds=seconds, seed=seed), fps=fps)
