"""Audio levels as butterchurn computes them (``--player butterchurn``, renderer.player).

MilkDrop 2 (renderer.audio.analysis) splits a Hann-windowed 576-sample spectrum into equal thirds
and starts its running averages at 0. butterchurn (audioLevels.js, fft.js) takes the last 1,024
samples of the mono mix as WebAudio bytes, runs an unwindowed FFT, weights bin i by
``-0.02 ln((512 - i) / 512)`` and sums bins 0-5, 6-63 and 64-254 (20-320 Hz, 320-2,800 Hz and
2.8-11 kHz at 44.1 kHz); its averages start at 1 and use the same rates (0.2 rising, 0.5 falling,
0.9 then 0.992 for the long average from frame 50, all adjusted to 30 fps). So on the same music
its bass, mid and treb differ from MilkDrop 2's, most of all in the first second.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from renderer.audio.analysis import AudioAnalyzer, AudioFrame

FFT_SIZE = 1024
BINS = FFT_SIZE // 2
BAND_EDGES = ((0, 6), (6, 64), (64, 255))
_EQUALIZE = -0.02 * np.log((BINS - np.arange(BINS)) / BINS)
_CHUNK = 256


def butterchurn_band_sums(window: np.ndarray) -> np.ndarray:
    """(3,) equalised FFT magnitude sums of one 1,024-sample window of signed bytes (-128..127)."""
    spectrum = np.abs(np.fft.fft(np.asarray(window, dtype=np.float64), FFT_SIZE)[:BINS]) * _EQUALIZE
    return np.array([spectrum[a:b].sum() for a, b in BAND_EDGES])


class ButterchurnLevels:
    """An analyzer whose frames carry butterchurn's levels (the waveform is swapped for
    ``byte_waveform`` by the renderer, for levels given in a file too).

    Wraps one of ours (which holds the music); Renderer.render accepts it like an AudioAnalyzer.
    Levels are computed in order from frame 1, in chunks, and kept (6 floats a frame)."""

    def __init__(self, analyzer: AudioAnalyzer):
        self.analyzer = analyzer
        self.fps = analyzer.fps
        self._levels = np.zeros((0, 6))
        self._state = (np.ones(3), np.ones(3))  # avg, long average: butterchurn starts both at 1
        fps = min(max(self.fps, 15.0), 144.0)   # butterchurn clamps the fps it adjusts rates to
        self._rates = tuple(r ** (30.0 / fps) for r in (0.2, 0.5, 0.9, 0.992))

    def frame(self, k: int, spectrum: bool = True) -> AudioFrame:
        base = self.analyzer.frame(k, spectrum=spectrum)
        lv = self.levels(int(k))[int(k) - 1]
        return replace(base, bass=float(lv[0]), mid=float(lv[1]), treb=float(lv[2]),
                       bass_att=float(lv[3]), mid_att=float(lv[4]), treb_att=float(lv[5]))

    def byte_waveform(self, k: int) -> np.ndarray:
        return self.analyzer.byte_waveform(k)

    def levels(self, n_frames: int) -> np.ndarray:
        """(n_frames, 6) bass, mid, treb, bass_att, mid_att, treb_att for frames 1..n_frames."""
        n = int(n_frames)
        while self._levels.shape[0] < n:
            self._compute_chunk()
        return self._levels[:n]

    def _mono_bytes(self, ks: np.ndarray) -> np.ndarray:
        """(len(ks), 1024) signed bytes of the mono mix ending at each frame's time (silence 0)."""
        raw = self.analyzer.window_samples(ks, FFT_SIZE)  # (len, 1024, 2) in [-1, 1]
        mono = (0.5 * (raw[..., 0] + raw[..., 1])).astype(np.float32)
        return np.clip(np.floor(128.0 * (mono.astype(np.float64) + 1.0)), 0, 255) - 128.0

    def _compute_chunk(self) -> None:
        start = self._levels.shape[0]
        ks = np.arange(start + 1, start + _CHUNK + 1)
        windows = self._mono_bytes(ks)
        avg, long_avg = (a.copy() for a in self._state)
        up, down, long_early, long_late = self._rates
        out = np.empty((ks.size, 6))
        for row, k in enumerate(ks.tolist()):
            imm = butterchurn_band_sums(windows[row])
            rate = np.where(imm > avg, up, down)
            avg = avg * rate + imm * (1.0 - rate)
            long_rate = long_early if k < 50 else long_late
            long_avg = long_avg * long_rate + imm * (1.0 - long_rate)
            quiet = long_avg < 0.001
            safe = np.where(quiet, 1.0, long_avg)
            out[row, :3] = np.where(quiet, 1.0, imm / safe)
            out[row, 3:] = np.where(quiet, 1.0, avg / safe)
        self._state = (avg, long_avg)
        self._levels = np.concatenate([self._levels, out])
