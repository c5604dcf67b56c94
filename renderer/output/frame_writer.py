"""Rendered frames to files: a folder of PNGs, an animated WebP or GIF (Pillow), or an MP4 (ffmpeg).

The output kind comes from OUT's suffix so the CLI needs one option: ``.webp``, ``.gif``, ``.mp4``
or no known suffix (a folder of ``frame_00001.png ...``). Frames stream: PNGs and MP4 are
written as they arrive, so a long render never holds more than one frame; the animated image
formats must keep them all (Pillow writes them in one call).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

ANIMATED = (".webp", ".gif")
VIDEO = (".mp4",)
#: suffixes people might try that we do not write; refused rather than taken as folder names
_REFUSED = (".png", ".jpg", ".jpeg", ".avi", ".mov", ".mkv", ".webm", ".apng", ".tif", ".tiff")


class OutputError(ValueError):
    """OUT cannot be written (unsupported suffix, no frames, encoder missing)."""


@dataclass
class WriteResult:
    path: Path
    kind: str  # 'folder' | 'webp' | 'gif' | 'mp4'
    frames: int


def output_kind(out: str | os.PathLike) -> str:
    suffix = Path(out).suffix.lower()
    if suffix in ANIMATED + VIDEO:
        return suffix[1:]
    if suffix in _REFUSED:
        raise OutputError(f"{out}: cannot write {suffix} output; use a folder, .webp, .gif or .mp4")
    return "folder"


def frame_name(k: int) -> str:
    """File name of 1-based frame k in a frame folder."""
    return f"frame_{k:05d}.png"


def write_frames(frames: Iterable[np.ndarray | None], out: str | os.PathLike, fps: float = 60.0,
                 on_frame: Callable[[int], None] | None = None) -> WriteResult:
    """Write HxWx3 uint8 frames (row 0 = top) to ``out``; ``on_frame(k)`` after each (progress).

    A None in ``frames`` is a frame rendered but not kept (``Renderer.render(keep=...)``): it is
    counted, so a folder names every written frame by its own number, but nothing is written.
    ``WriteResult.frames`` counts the frames written."""
    if not fps > 0:
        raise OutputError(f"{out}: fps must be positive, got {fps!r}")
    out = Path(out)
    kind = output_kind(out)
    writer = {"folder": _write_folder, "webp": _write_animated, "gif": _write_animated,
              "mp4": _write_mp4}[kind]
    n = writer(_checked(frames, out), out, fps, on_frame or (lambda k: None))
    if n == 0:
        raise OutputError(f"{out}: no frames to write")
    return WriteResult(out, kind, n)


def _checked(frames: Iterable[np.ndarray | None], out: Path):
    """(k, frame) for every frame, k from 1; frame None for one not kept."""
    shape = None
    for k, f in enumerate(frames, 1):
        if f is None:
            yield k, None
            continue
        a = np.asarray(f)
        if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] not in (3, 4):
            raise OutputError(f"{out}: frame {k} must be HxWx3 uint8, got {a.dtype} {a.shape}")
        if shape is not None and a.shape != shape:
            raise OutputError(f"{out}: frame {k} is {a.shape}, earlier frames were {shape}")
        shape = a.shape
        yield k, np.ascontiguousarray(a[:, :, :3])


def _write_folder(frames, out: Path, fps: float, on_frame) -> int:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for k, frame in frames:
        if frame is not None:
            # level 1: 2-3x faster than Pillow's default and still lossless
            Image.fromarray(frame).save(out / frame_name(k), compress_level=1)
            n += 1
        on_frame(k)
    return n


def _write_animated(frames, out: Path, fps: float, on_frame) -> int:
    images = []
    for k, frame in frames:
        if frame is not None:
            images.append(Image.fromarray(frame))
        on_frame(k)
    if not images:
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    duration = max(1, round(1000.0 / fps))
    if out.suffix.lower() == ".gif":
        duration = max(20, int(round(duration / 10.0)) * 10)  # GIF counts in 1/100 s; browsers clamp < 20 ms
        extra = {"disposal": 1}
    else:
        extra = {"quality": 90, "method": 4}
    images[0].save(out, save_all=True, append_images=images[1:], duration=duration, loop=0, **extra)
    return len(images)


def _write_mp4(frames, out: Path, fps: float, on_frame) -> int:
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - a dependency in pyproject
        raise OutputError(f"{out}: MP4 output needs the imageio-ffmpeg package") from exc
    it = _kept(frames, on_frame)
    first = next(it, None)
    if first is None:
        return 0
    on_frame(first[0])
    first = first[1]
    out.parent.mkdir(parents=True, exist_ok=True)
    h, w = first.shape[:2]
    pw, ph = w + (w % 2), h + (h % 2)  # yuv420p needs even sizes: repeat the last row/column
    writer = imageio_ffmpeg.write_frames(
        str(out), (pw, ph), fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
        quality=8, macro_block_size=1, ffmpeg_log_level="error",
    )
    writer.send(None)
    n = 0
    try:
        writer.send(_padded(first, pw, ph))
        n = 1
        for k, frame in it:
            writer.send(_padded(frame, pw, ph))
            n += 1
            on_frame(k)
    finally:
        writer.close()
    return n


def _kept(frames, on_frame):
    """The (k, frame) pairs with a frame; progress is still reported for the others."""
    for k, frame in frames:
        if frame is None:
            on_frame(k)
        else:
            yield k, frame


def _padded(frame: np.ndarray, pw: int, ph: int) -> np.ndarray:
    h, w = frame.shape[:2]
    if (pw, ph) != (w, h):
        frame = np.pad(frame, ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    return np.ascontiguousarray(frame)
