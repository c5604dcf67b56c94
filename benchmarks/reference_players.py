"""The other players our pictures and speed are measured against, run as separate programs.

butterchurn (MilkDrop 2's WebGL port, headless in Debian's chromium) renders the reference
pictures and writes the audio levels its presets saw; projectM 3.1's ``pmrender`` is the speed
reference. Neither is part of liandan: their folder is an argument, nothing here knows where a
machine keeps them. butterchurn renders are slow (a browser on a software GPU), so each one is
kept on disk, keyed by everything that changes its pixels, and reused.

Conventions (from the reference's README): butterchurn's file ``frame_i`` is its frame i + 1 at
time (i + 1) / fps, so our frame k pairs with its ``frame_(k-1)``; row i of its ``frames.csv``
holds the levels of our frame k = i + 1 (its ``frame`` column says so).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

HARNESS_FILES = ("render.sh", "render.mjs", "package.json", "package-lock.json")
RENDER_TIMEOUT_S = 600

HOW_TO_GET = """\
The butterchurn reference is a folder holding render.sh, render.mjs, package.json,
package-lock.json and overlap.txt (butterchurn preset name TAB .milk path relative to the projectM
presets folder; overlap_basevals_mismatch.txt, if present, lists pairs to leave out). It needs
Debian's chromium, Node >= 20 and npm; the first render runs `npm ci` (in a copy under --cache
when the folder is read-only). Pass it as --reference DIR or set LIANDAN_REFERENCE=DIR."""


class ReferenceError(RuntimeError):
    """A reference render failed; the message says which preset and why."""


@dataclass(frozen=True)
class OverlapPreset:
    name: str      # butterchurn-presets name
    path: Path     # the same preset's .milk in our corpus


def read_overlap(reference: Path, presets_dir: Path) -> list[OverlapPreset]:
    """One OverlapPreset per butterchurn name (its first .milk that exists and is not listed as
    a different version of the same name), sorted by name."""
    skip = set()
    mismatch = reference / "overlap_basevals_mismatch.txt"
    if mismatch.exists():
        skip = {tuple(line.split("\t", 1)) for line in mismatch.read_text().splitlines() if "\t" in line}
    chosen: dict[str, Path] = {}
    for line in (reference / "overlap.txt").read_text().splitlines():
        if "\t" not in line:
            continue
        name, rel = line.split("\t", 1)
        if name in chosen or (name, rel) in skip:
            continue
        path = presets_dir / rel
        if path.exists():
            chosen[name] = path
    return [OverlapPreset(n, chosen[n]) for n in sorted(chosen)]


def wav_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name)[:120] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]


class Butterchurn:
    """Renders butterchurn reference frames into a cache folder, once per (preset, settings)."""

    def __init__(self, reference: Path, cache: Path, wav: Path, size: int, fps: float, frames: int,
                 seed: int = 1):
        self.reference = Path(reference)
        self.cache = Path(cache)
        self.wav = Path(wav)
        self.size, self.fps, self.frames, self.seed = int(size), float(fps), int(frames), int(seed)
        key = f"{self.size}x{self.size}_{self.fps:g}fps_{self.frames}f_seed{self.seed}_{wav_digest(self.wav)}"
        self.root = self.cache / "butterchurn" / key

    def harness(self) -> Path:
        """The folder render.sh runs in: the reference itself when it has node_modules or can get
        them, else a copy under the cache (also when that copy already has them: a reference that
        became writable later must not hide the installed copy)."""
        ref = self.reference
        copy = self.cache / "harness"
        installed = (copy / "node_modules" / "butterchurn").is_dir()
        if (ref / "node_modules" / "butterchurn").is_dir() or (os.access(ref, os.W_OK) and not installed):
            return ref
        copy.mkdir(parents=True, exist_ok=True)
        for name in HARNESS_FILES:
            src, dst = ref / name, copy / name
            if not dst.exists() or src.read_bytes() != dst.read_bytes():
                shutil.copyfile(src, dst)
                dst.chmod(0o755 if name.endswith((".sh", ".mjs")) else 0o644)
        return copy

    def folder(self, preset: OverlapPreset) -> Path:
        return self.root / safe_name(preset.name)

    def cached(self, preset: OverlapPreset) -> bool:
        return (self.folder(preset) / "meta.json").exists()

    def render(self, preset: OverlapPreset) -> Path:
        """The folder holding ``frame_*.png``, ``frames.csv`` and ``meta.json`` for ``preset``."""
        out = self.folder(preset)
        if self.cached(preset):
            return out
        tmp = out.with_name(out.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [str(self.harness() / "render.sh"), "--preset", preset.name, "--wav", str(self.wav),
               "--out", str(tmp), "--frames", str(self.frames), "--size", f"{self.size}x{self.size}",
               "--fps", f"{self.fps:g}", "--seed", str(self.seed)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ReferenceError(f"{preset.name}: butterchurn took over {RENDER_TIMEOUT_S} s") from None
        if proc.returncode != 0 or not (tmp / "meta.json").exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ReferenceError(f"{preset.name}: butterchurn exited {proc.returncode}: {' | '.join(tail)}")
        (tmp / "render.log").write_text(proc.stderr or "")
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        return out

    def failed_shaders(self, preset: OverlapPreset) -> bool:
        """True when butterchurn could not build a shader program for ``preset`` (it then draws
        black or skips a pass, so its picture says nothing about the preset)."""
        log = self.folder(preset) / "render.log"
        return log.exists() and bool(re.search(r"program not linked|Failed to compile|pageerror", log.read_text()))

    def preset_json(self, preset: OverlapPreset) -> dict | None:
        """butterchurn's own conversion of ``preset`` (its base values and code), if installed."""
        path = self.harness() / "node_modules" / "butterchurn-presets" / "presets" / "converted" / f"{preset.name}.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None


def reference_frame(folder: Path, k: int) -> np.ndarray:
    """butterchurn's picture at our frame k (HxWx3 uint8)."""
    return np.asarray(Image.open(folder / f"frame_{k - 1:05d}.png").convert("RGB"))


def reference_meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text())


# --------------------------------------------------------------------------- projectM


@dataclass(frozen=True)
class ProcessTime:
    wall: float   # seconds on the clock
    cpu: float    # user + system seconds of the process and its threads


def timed_process(cmd: list[str], what: str, env: dict | None = None) -> ProcessTime:
    """Run ``cmd`` to completion and time it; CPU time comes from the kernel's accounting of
    that child, so other work on a shared machine hardly changes it."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S, env=env)
    except subprocess.TimeoutExpired:
        raise ReferenceError(f"{what}: took over {RENDER_TIMEOUT_S} s") from None
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise ReferenceError(f"{what}: exited {proc.returncode}: {(proc.stderr or proc.stdout).strip()[-300:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ProcessTime(wall, cpu)


def projectm_command(binary: Path, preset: Path, frames: int, size: int, fps: float, wav: Path,
                     out_dir: Path, mesh: tuple[int, int] | None = None) -> list[str]:
    """One whole ``pmrender`` process that renders and reads back ``frames`` frames and writes
    none (``--every 0``)."""
    cmd = [str(binary), str(preset), str(out_dir), str(frames), f"{size}x{size}", f"{fps:g}", str(wav),
           "--every", "0", "--quiet"]
    if mesh is not None:
        cmd += ["--mesh", f"{mesh[0]}x{mesh[1]}"]
    return cmd
