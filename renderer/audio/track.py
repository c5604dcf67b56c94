"""Audio input: any array as a clean 44.1 kHz stereo track (files: renderer.audio.stream).

Loading is separate from analysis (:mod:`renderer.audio.analysis`) so the synthetic music
generator and the analyser both build on the track type without importing each other.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

TARGET_RATE = 44100

MAX_CHANNELS = 64
MIN_RATE = 4000
"""Below this the three bands are empty; no real music file is that coarse."""
LOW_RATE_WARNING = 22050
"""Below this MilkDrop's treble band (7.3-11 kHz) cannot be filled."""
_MAX_RESAMPLE_FACTOR = 2000


class AudioError(ValueError):
    """Bad or unusable audio input; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


@dataclass(frozen=True, eq=False)
class AudioTrack:
    """Stereo float32 samples in [-1, 1] at ``rate`` Hz.

    ``warnings`` records repairs made while loading (NaN replaced, clipping,
    channels dropped, low sample rate) so a CLI can show them without failing.
    """

    samples: np.ndarray
    rate: int = TARGET_RATE
    source: str = "<array>"
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        s = self.samples
        if not isinstance(s, np.ndarray) or s.ndim != 2 or s.shape[1] != 2:
            raise AudioError(self.source, f"samples must be an (N, 2) array, got {getattr(s, 'shape', type(s))}")
        if s.dtype != np.float32:
            raise AudioError(self.source, f"samples must be float32, got {s.dtype}")
        if int(self.rate) <= 0:
            raise AudioError(self.source, f"sample rate must be positive, got {self.rate}")

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.n_samples / float(self.rate)

    def __len__(self) -> int:
        return self.n_samples


# --------------------------------------------------------------------------- loading


def track_from_array(samples, rate: int, source: str = "<array>", warnings: tuple[str, ...] = ()) -> AudioTrack:
    """Bring any (N,), (N, C) array at any rate to a clean 44.1 kHz stereo track.

    Mono is duplicated to both sides; with more than two channels the first two
    (front left/right in WAV, FLAC and Vorbis order) are kept.  NaN/inf become 0
    and peaks are clipped to [-1, 1], each noted in ``warnings``.
    """
    notes = list(warnings)
    try:
        x = np.asarray(samples)
    except Exception as exc:  # noqa: BLE001 - anything not array-like
        raise AudioError(source, f"samples are not an array ({exc})") from exc
    if x.dtype.kind not in "fiu":
        raise AudioError(source, f"samples must be numeric, got dtype {x.dtype}")
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise AudioError(source, f"samples must be 1-D or 2-D (frames, channels), got shape {x.shape}")
    n, channels = x.shape
    if n == 0:
        raise AudioError(source, "zero-length audio (no samples)")
    _check_channels(source, channels)
    _check_rate(source, rate)
    if x.dtype.kind in "iu":
        x = _int_to_float(x)
    x = x.astype(np.float64, copy=False)
    if channels == 1:
        x = np.repeat(x, 2, axis=1)
    elif channels > 2:
        notes.append(f"{channels} channels: kept the first two (front left/right)")
        x = x[:, :2]
    x, more = _sanitize(x)
    notes += more
    rate = int(rate)
    if rate < LOW_RATE_WARNING:
        notes.append(f"sample rate {rate} Hz: nothing above {rate // 2} Hz, so MilkDrop's treble band stays quiet")
    if rate != TARGET_RATE:
        x = resample(x, rate, TARGET_RATE)
        x = np.clip(x, -1.0, 1.0)
    return AudioTrack(np.ascontiguousarray(x, dtype=np.float32), TARGET_RATE, source, tuple(notes))


def length_warning(track_seconds: float, render_seconds: float) -> str | None:
    """A note when the music is shorter than what is rendered with it (it repeats), else None."""
    if not track_seconds < render_seconds:
        return None
    times = render_seconds / track_seconds if track_seconds > 0 else float("inf")
    return (f"the music lasts {_duration(track_seconds)} and the render {_duration(render_seconds)}: "
            f"it repeats {times:,.0f} times")


def _duration(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.1f} s"
    if seconds >= 0.001:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


def resample_ratio(rate_in: int, rate_out: int) -> tuple[int, int]:
    """(up, down) for polyphase resampling from ``rate_in`` to ``rate_out``.

    Awkward rate pairs (e.g. 44101 -> 44100) would need a filter with hundreds of thousands of
    taps, so the ratio is approximated to within 1/2000**2, a pitch error far below hearing.
    """
    ratio = Fraction(int(rate_out), int(rate_in))
    if max(ratio.numerator, ratio.denominator) > _MAX_RESAMPLE_FACTOR:
        ratio = ratio.limit_denominator(_MAX_RESAMPLE_FACTOR)
    return ratio.numerator, ratio.denominator


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Polyphase resampling along axis 0; keeps pitch (ratio: :func:`resample_ratio`)."""
    from scipy.signal import resample_poly

    up, down = resample_ratio(rate_in, rate_out)
    if up == down:
        return x
    return resample_poly(x, up, down, axis=0)


def _check_channels(source, channels: int) -> None:
    if channels < 1:
        raise AudioError(source, "no audio channels")
    if channels > MAX_CHANNELS:
        raise AudioError(source, f"{channels} channels is more than the {MAX_CHANNELS} we accept; is this really audio?")


def _check_rate(source, rate) -> None:
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise AudioError(source, f"sample rate {rate!r} is not a number") from None
    if not math.isfinite(r) or r != int(r):
        raise AudioError(source, f"sample rate {rate!r} is not a whole number of Hz")
    if r < MIN_RATE:
        raise AudioError(source, f"sample rate {int(r)} Hz is too low (need at least {MIN_RATE} Hz)")
    if r > 768000:
        raise AudioError(source, f"sample rate {int(r)} Hz is implausibly high")


def _int_to_float(x: np.ndarray) -> np.ndarray:
    info = np.iinfo(x.dtype)
    if info.min == 0:  # unsigned: 8-bit WAV style, centred on the midpoint
        mid = (info.max + 1) / 2.0
        return (x.astype(np.float64) - mid) / mid
    return x.astype(np.float64) / float(-info.min)


def _sanitize(x: np.ndarray) -> tuple[np.ndarray, list[str]]:
    notes = []
    bad = ~np.isfinite(x)
    n_bad = int(bad.sum())
    if n_bad:
        x = np.where(bad, 0.0, x)
        notes.append(f"{n_bad} NaN/inf samples replaced by silence")
    n_clip = int((np.abs(x) > 1.0).sum())
    if n_clip:
        x = np.clip(x, -1.0, 1.0)
        notes.append(f"{n_clip} samples outside [-1, 1] clipped")
    return x, notes


def _short(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
