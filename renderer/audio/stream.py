"""A sound file read a block at a time: what a render hears, never the whole track in memory.

``liandan render X.milk --audio two_hours.wav --frames 30`` hears the first half second; decoding
and resampling the whole file first took 6.5 GB. :class:`AudioStream` knows the track's length
from the file's header and decodes on demand, in blocks of about 1.5 s, the ones the analysis
asks for, keeping at most ``CACHE_BYTES`` of them. Resident memory is flat in the track's length.

Every sample is bit for bit what loading the whole file gave (:func:`load_audio` is built on
this, so the two cannot drift apart): the cleaning (mono copied to both sides, the first two of
many channels, NaN/inf -> 0, clipping) is per sample, and a block is resampled together with
enough of its neighbours (a whole number of the resampler's input period on each side) that the
polyphase filter sums the same samples with the same taps in the same order.

Lossless files (PCM, float, FLAC) are read with seeks. Lossy ones (MP3, Ogg) are only read
forward from their start, because a decoder that seeks may prime itself differently: reading
backwards means starting over, which the block cache makes rare (a render reads forward).

Each evolve worker opens its own stream: it decodes only the seconds a candidate renders
(milliseconds), so a decoded copy shared through the run folder would save nothing and would cost
the whole decoded track in disk space (2.5 GB for two hours).
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from renderer.audio.track import (LOW_RATE_WARNING, TARGET_RATE, AudioError, AudioTrack, _check_channels, _check_rate,
                                  _short, resample_ratio)

BLOCK = 1 << 16
"""Output samples per block, before rounding to the resampler's period (about 1.5 s)."""
CACHE_BYTES = 32 << 20
"""Decoded blocks kept (float32 stereo): 32 MB is about 3 minutes of music."""
_SEEKABLE_SUBTYPES = ("PCM_", "FLOAT", "DOUBLE", "ULAW", "ALAW")
_SKIP_CHUNK = 1 << 18


class AudioStream:
    """A track as MilkDrop hears it (44.1 kHz stereo float32 in [-1, 1]), decoded on demand.

    ``samples`` is a read-only (n, 2) array-like (``shape``, ``dtype``, indexing with integer
    arrays or slices), so :class:`~renderer.audio.analysis.AudioAnalyzer` reads it exactly as it
    reads an in-memory track. ``warnings`` lists the repairs made so far (NaN replaced, clipping,
    channels dropped, low rate, a file shorter than its header says).
    """

    rate = TARGET_RATE

    def __init__(self, path: str | os.PathLike):
        import soundfile as sf

        p = Path(path)
        info = probe(p)
        self.source = str(p)
        self._path = p
        self._in_rate = int(info.samplerate)
        self._channels = int(info.channels)
        self._n_in = int(info.frames)
        self._seekable = info.format == "FLAC" or str(info.subtype).startswith(_SEEKABLE_SUBTYPES)
        self._up, self._down = resample_ratio(self._in_rate, TARGET_RATE)
        self._block_in = self._down * math.ceil(BLOCK / self._down)
        self._block_out = self._block_in * self._up // self._down
        # scipy's resample_poly filter reaches 10 * max(up, down) upsampled samples each way
        reach = 10 * max(self._up, self._down) // self._up + 3
        self._margin = self._down * math.ceil(reach / self._down)
        self.n_samples = -(-self._n_in * self._up // self._down)
        self._sf = sf
        self._file = None
        self._pos = 0  # the decoder's position in input frames
        self._raw: OrderedDict[int, np.ndarray] = OrderedDict()
        self._out: OrderedDict[int, np.ndarray] = OrderedDict()
        self._max_blocks = max(4, CACHE_BYTES // (self._block_out * 8))
        self._repairs: dict[int, tuple[int, int]] = {}  # raw block -> (NaN/inf, clipped) samples
        self._missing = 0
        notes = []
        if self._channels > 2:
            notes.append(f"{self._channels} channels: kept the first two (front left/right)")
        self._notes_before = tuple(notes)
        self._notes_after = ()
        if self._in_rate < LOW_RATE_WARNING:
            self._notes_after = (f"sample rate {self._in_rate} Hz: nothing above {self._in_rate // 2} Hz, "
                                 "so MilkDrop's treble band stays quiet",)
        self.samples = StreamSamples(self)

    # ---- what a track offers

    @property
    def duration(self) -> float:
        return self.n_samples / float(self.rate)

    def __len__(self) -> int:
        return self.n_samples

    @property
    def warnings(self) -> tuple[str, ...]:
        """Repairs so far, in the order loading the whole file reports them."""
        nan = sum(r[0] for r in self._repairs.values())
        clip = sum(r[1] for r in self._repairs.values())
        n_raw = -(-self._n_in // self._block_in)
        part = "" if len(self._repairs) >= n_raw else f" (in the {self._seconds_read():.1f} s read so far)"
        notes = list(self._notes_before)
        if nan:
            notes.append(f"{nan} NaN/inf samples replaced by silence{part}")
        if clip:
            notes.append(f"{clip} samples outside [-1, 1] clipped{part}")
        notes += self._notes_after
        if self._missing:
            notes.append(f"the file ended {self._missing} samples before its header said; those are silence")
        return tuple(notes)

    def read(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples [start, stop) as a new (n, 2) float32 array."""
        stop = self.n_samples if stop is None else min(int(stop), self.n_samples)
        start = max(0, int(start))
        if stop <= start:
            return np.zeros((0, 2), np.float32)
        first, last = start // self._block_out, (stop - 1) // self._block_out
        parts = []
        for b in range(first, last + 1):
            block = self._block(b)
            lo = start - b * self._block_out if b == first else 0
            hi = stop - b * self._block_out if b == last else block.shape[0]
            parts.append(block[lo:hi])
        return np.concatenate(parts)

    def take(self, index: np.ndarray) -> np.ndarray:
        """``samples[index]`` for an integer array of any shape (values in [0, n_samples))."""
        idx = np.asarray(index, dtype=np.int64)
        flat = idx.reshape(-1)
        out = np.empty((flat.size, 2), np.float32)
        if flat.size:
            if flat.min() < 0 or flat.max() >= self.n_samples:
                raise IndexError(f"{self.source}: sample index outside [0, {self.n_samples})")
            blocks = flat // self._block_out
            order = np.argsort(blocks, kind="stable")
            sorted_blocks = blocks[order]
            cuts = np.flatnonzero(np.diff(sorted_blocks)) + 1
            for sel in np.split(order, cuts):
                b = int(blocks[sel[0]])
                out[sel] = self._block(b)[flat[sel] - b * self._block_out]
        return out.reshape(idx.shape + (2,))

    def close(self) -> None:
        """Close the file and drop the cached blocks (reading again reopens it)."""
        self._close_file()
        self._raw.clear()
        self._out.clear()

    # ---- blocks

    def _block(self, b: int) -> np.ndarray:
        """Output block ``b``: samples [b * block_out, ...) as float32, from the cache if there."""
        hit = self._out.get(b)
        if hit is not None:
            self._out.move_to_end(b)
            return hit
        if self._up == self._down:
            x = self._raw_block(b)
        else:
            a = b * self._block_in
            lo, hi = max(0, a - self._margin), min(self._n_in, a + self._block_in + self._margin)
            x = self._resampled(self._raw_range(lo, hi), (a - lo) * self._up // self._down,
                                min(self._block_out, self.n_samples - b * self._block_out))
        block = np.ascontiguousarray(x, dtype=np.float32)
        block.setflags(write=False)
        self._out[b] = block
        while len(self._out) > self._max_blocks:
            self._out.popitem(last=False)
        return block

    def _resampled(self, x: np.ndarray, offset: int, count: int) -> np.ndarray:
        from scipy.signal import resample_poly

        y = resample_poly(x, self._up, self._down, axis=0)[offset:offset + count]
        return np.clip(y, -1.0, 1.0)

    def _raw_range(self, lo: int, hi: int) -> np.ndarray:
        """Cleaned input frames [lo, hi) as float64 (n, 2)."""
        first, last = lo // self._block_in, (hi - 1) // self._block_in
        parts = []
        for i in range(first, last + 1):
            block = self._raw_block(i)
            base = i * self._block_in
            parts.append(block[max(lo - base, 0):min(hi - base, block.shape[0])])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _raw_block(self, i: int) -> np.ndarray:
        """Input block ``i``, cleaned as track_from_array cleans (float64 stereo, finite, clipped)."""
        hit = self._raw.get(i)
        if hit is not None:
            self._raw.move_to_end(i)
            return hit
        start = i * self._block_in
        count = min(self._block_in, self._n_in - start)
        data = self._decode(start, count)
        x = data.astype(np.float64)
        if self._channels == 1:
            x = np.repeat(x, 2, axis=1)
        elif self._channels > 2:
            x = x[:, :2]
        bad = ~np.isfinite(x)
        n_bad = int(bad.sum())
        if n_bad:
            x = np.where(bad, 0.0, x)
        n_clip = int((np.abs(x) > 1.0).sum())
        if n_clip:
            x = np.clip(x, -1.0, 1.0)
        self._repairs[i] = (n_bad, n_clip)
        self._raw[i] = x
        while len(self._raw) > 3:
            self._raw.popitem(last=False)
        return x

    def _decode(self, start: int, count: int) -> np.ndarray:
        f = self._open()
        if start != self._pos:
            if self._seekable:
                f.seek(start)
                self._pos = start
            else:
                if start < self._pos:  # lossy: start over rather than trust a seek
                    self._close_file()
                    f = self._open()
                while self._pos < start:
                    got = f.read(min(_SKIP_CHUNK, start - self._pos), dtype="float32", always_2d=True).shape[0]
                    if got == 0:
                        break
                    self._pos += got
        try:
            data = f.read(count, dtype="float32", always_2d=True) if self._pos == start else np.zeros((0, 1))
        except Exception as exc:  # noqa: BLE001 - libsndfile reports all decoding trouble this way
            raise AudioError(self._path, f"could not decode audio ({_short(exc)})") from exc
        self._pos += data.shape[0]
        if data.shape[0] < count:  # the header promised more than the file holds: silence
            self._missing += count - data.shape[0]
            pad = np.zeros((count - data.shape[0], self._channels), np.float32)
            data = np.concatenate([data.reshape(-1, self._channels).astype(np.float32), pad])
        return data

    def _open(self):
        if self._file is None:
            try:
                self._file = self._sf.SoundFile(str(self._path))
            except Exception as exc:  # noqa: BLE001
                raise AudioError(self._path, f"not a readable audio file ({_short(exc)})") from exc
            self._pos = 0
        return self._file

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._pos = 0

    def _seconds_read(self) -> float:
        return len(self._repairs) * self._block_in / self._in_rate


class StreamSamples:
    """``AudioStream.samples``: the decoded track as a read-only (n, 2) float32 array-like."""

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, stream: AudioStream):
        self._stream = stream

    @property
    def shape(self) -> tuple[int, int]:
        return (self._stream.n_samples, 2)

    def __len__(self) -> int:
        return self._stream.n_samples

    def __getitem__(self, key) -> np.ndarray:
        n = self._stream.n_samples
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1:
                return self._stream.read(start, stop)
            return self._stream.take(np.arange(start, stop, step))
        if isinstance(key, (int, np.integer)):
            return self._stream.take(np.array([int(key) % n if -n <= key < n else n]))[0]
        return self._stream.take(np.asarray(key))


def probe(p: Path):
    """soundfile's info for a file we can use; AudioError naming the file otherwise."""
    import soundfile as sf

    if not p.exists():
        raise AudioError(p, "no such file")
    if p.is_dir():
        raise AudioError(p, "is a directory, not an audio file")
    if p.stat().st_size == 0:
        raise AudioError(p, "empty file (0 bytes)")
    try:
        info = sf.info(str(p))
    except Exception as exc:  # noqa: BLE001 - libsndfile reports all format trouble this way
        raise AudioError(p, f"not a readable audio file ({_short(exc)})") from exc
    _check_channels(p, info.channels)
    _check_rate(p, info.samplerate)
    if info.frames <= 0:
        raise AudioError(p, "zero-length audio (the file holds no samples)")
    return info


def load_audio(path: str | os.PathLike, max_seconds: float | None = None) -> AudioTrack:
    """Read WAV/FLAC/OGG/MP3 (anything libsndfile reads) as a 44.1 kHz stereo track in memory.

    The whole track costs about 21 MB a minute: a render or an evaluation should use
    :func:`renderer.audio.stream.open_audio`, which decodes only what it hears (the same samples).
    ``max_seconds`` keeps only the start.
    """
    if max_seconds is not None and not max_seconds > 0:
        raise AudioError(path, f"max_seconds must be positive, got {max_seconds}")
    stream = open_audio(path)
    try:
        stop = None if max_seconds is None else int(math.ceil(max_seconds * TARGET_RATE))
        samples = stream.read(0, stop)
        return AudioTrack(samples, TARGET_RATE, stream.source, stream.warnings)
    finally:
        stream.close()


def open_audio(path: str | os.PathLike) -> AudioStream:
    """The file as a track decoded on demand (see the module docstring)."""
    return AudioStream(path)
