"""The picture of a song analysis: waveform, energy and brightness, beats, sections."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evo.music.analysis import SongAnalysis

SECTION_COLOURS = {"calm": "#4c78a8", "medium": "#f2a541", "intense": "#e45756"}


def _pooled(x: np.ndarray, n: int, how=np.maximum) -> np.ndarray:
    """At most ``n`` values, each ``how`` (np.maximum or np.add for a mean) over a stretch of
    nearly equal length: a plot needs no more points than pixels, and keeps the last ones."""
    if x.size <= n:
        return x
    starts = np.linspace(0, x.size, n + 1).astype(int)[:-1]
    pooled = how.reduceat(x, starts)
    return pooled / np.diff(np.append(starts, x.size)) if how is np.add else pooled


def song_figure_png(a: SongAnalysis, width: float = 14.0) -> bytes:
    from evo.figures import png_bytes, pyplot

    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(width, 5.2), sharex=True, height_ratios=(1.2, 1.0))
    n = 2000
    t = _pooled(a.times, n, np.add)
    peak = _pooled(a.peak, n)
    ax1.fill_between(t, -peak, peak, color="#555", linewidth=0)
    for s in a.sections:
        for ax in (ax1, ax2):
            ax.axvspan(s.start, s.end, color=SECTION_COLOURS.get(s.label, "#999"), alpha=0.18, linewidth=0)
        ax1.text((s.start + s.end) / 2, 0.92, f"{s.label}\n{s.energy:.2f}", ha="center", va="top", fontsize=8)
    for b in a.beats:
        ax1.axvline(b, color="#222", linewidth=0.4, alpha=0.35, ymin=0.0, ymax=0.08)
    ax1.set_ylim(-1.05, 1.05)
    ax1.set_ylabel("waveform")
    ax1.set_title(f"{Path(a.source).name}: {a.tempo:.1f} BPM, {len(a.beats)} beats, "
                  f"{len(a.sections)} sections, {a.duration:.1f} s", fontsize=10)
    rms = _pooled(a.rms, n, np.add)
    ax2.plot(t, rms / (rms.max() or 1.0), color="#e45756", linewidth=1.0, label="energy (RMS)")
    ax2.plot(t, _pooled(a.centroid, n, np.add) / (a.centroid.max() or 1.0), color="#4c78a8", linewidth=0.8,
             label="brightness (spectral centroid)")
    onset = _pooled(a.onset, n)
    ax2.plot(t, onset / (onset.max() or 1.0), color="#888", linewidth=0.5, alpha=0.7, label="onset strength")
    for s in a.sections[1:]:
        for ax in (ax1, ax2):
            ax.axvline(s.start, color="black", linewidth=1.2)
    ax2.set_ylim(0, 1.05)
    ax2.set_xlim(0, a.duration)
    ax2.set_xlabel("seconds")
    ax2.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return png_bytes(fig, dpi=90)
