"""Fidelity: how close our pictures are to butterchurn's (MilkDrop 2's WebGL port), per stage family.

Renders presets that exist both in butterchurn-presets and in projectm-data with butterchurn
(headless chromium, cached on disk) and with our renderer, same music, size and fps, and prints
the mean SSIM (grey, skimage) at several frames for each stage family: MD1 (no shaders), shader,
waves (a custom wave on), shapes (a custom shape on), motion vectors (mv_a > 0). Two columns of
figures: our renderer driven by butterchurn's own per-frame audio levels (its frames.csv:
rendering alone), and by our analysis of the music (rendering + audio analysis). Presets that
call rand() (or read rand_frame / rand_preset in a shader) are left out: two players' random
numbers never agree, so their pixels cannot. A side-by-side contact sheet shows the worst ones.

    .venv/bin/python benchmarks/bench_fidelity.py --reference DIR [--md1 40] [--shader 10]
        [--frames 10,30,60] [--size 256] [--sheet fidelity_worst.png] [--json results.json]

Without --reference (or LIANDAN_REFERENCE) it prints how to get the reference and exits 0, so
``make bench`` skips it. Figures this measured are in the README ("Fidelity").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("LP_NUM_THREADS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn  # noqa: E402
from rich.table import Table  # noqa: E402

from reference_players import (HOW_TO_GET, Butterchurn, OverlapPreset, ReferenceError,  # noqa: E402
                                read_overlap, reference_frame)

CORPUS = Path("/usr/share/projectM/presets")
FAMILIES = ("MD1", "shader", "waves", "shapes", "motion vectors")
_RAND_CODE = re.compile(r"\brand\s*\(", re.IGNORECASE)
_RAND_SHADER = re.compile(r"\brand_(frame|preset)\b")


@dataclass
class Candidate:
    overlap: OverlapPreset
    preset: object  # renderer.milk.preset.Preset
    families: tuple[str, ...]


@dataclass
class Result:
    name: str
    path: str
    families: tuple[str, ...]
    injected: dict[int, float] = field(default_factory=dict)
    own: dict[int, float] = field(default_factory=dict)
    error: str = ""


def uses_random(preset) -> bool:
    code = "\n".join(line for lines in preset.code_sections().values() for line in lines)
    return bool(_RAND_CODE.search(code) or _RAND_SHADER.search(preset.warp_shader + preset.comp_shader))


def families_of(preset) -> tuple[str, ...]:
    warp, comp = preset.shader_versions()
    shaded = preset.has_shaders and (warp or comp)
    out = ["shader" if shaded else "MD1"]
    if any(w.enabled for w in preset.waves):
        out.append("waves")
    if any(s.enabled for s in preset.shapes):
        out.append("shapes")
    p = preset.params
    if float(p.get("mv_a", 0)) > 0 and float(p.get("nMotionVectorsX", 0)) >= 1 and float(p.get("nMotionVectorsY", 0)) >= 1:
        out.append("motion vectors")
    return tuple(out)


def reference_departs(preset, bc_json: dict | None) -> str:
    """Why butterchurn's picture of ``preset`` cannot match ours, or "": its converted copy
    is another version of the preset.

    butterchurn-presets' conversion of a file without mv_a whose bMotionVectorsOn is 0 turns
    the vectors on in 22 of the 29 such files of the overlap (MilkDrop 2: off), off in the other
    7: a property of that conversion, not of the player, so no rule reproduces it.
    """
    if bc_json is None:
        return ""
    bc_mv_a = float(bc_json.get("baseVals", {}).get("mv_a", 1.0))
    ours = float(preset.params.get("mv_a", 0.0))
    if (bc_mv_a > 0.001) != (ours > 0.001):
        return f"motion vectors: butterchurn mv_a {bc_mv_a:g}, MilkDrop 2 {ours:g} (bMotionVectorsOn)"
    return other_version(preset, bc_json)


def other_version(preset, bc_json: dict) -> str:
    """How butterchurn-presets' copy of ``preset`` differs in a base value, or "" (the reference's
    overlap_basevals_mismatch.txt misses some: 13 old Geiss presets there have another wave_a)."""
    from renderer.frame_state import base_frame_vars

    ours = base_frame_vars(preset.params)
    for key, theirs in sorted(bc_json.get("baseVals", {}).items()):
        if key in ours and isinstance(theirs, (int, float)) and abs(ours[key] - theirs) > 1e-3 * max(1.0, abs(theirs)):
            return f"another version: {key} {ours[key]:g} here, {theirs:g} in butterchurn-presets"
    return ""


def candidates(overlap: list[OverlapPreset]) -> list[Candidate]:
    from renderer.milk.preset import PresetError, load_milk

    out = []
    for item in overlap:
        try:
            preset = load_milk(item.path)
        except (PresetError, OSError):
            continue
        if not uses_random(preset):
            out.append(Candidate(item, preset, families_of(preset)))
    return out


def spread(items: list, n: int) -> list:
    """``n`` items evenly spaced through ``items`` (deterministic, covers the whole range)."""
    if n >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / max(1, n - 1))] for i in range(n)] if n > 1 else items[:1]


def grey(img: np.ndarray) -> np.ndarray:
    return img[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(grey(a), grey(b), data_range=255.0))


def render_ours(renderer, preset, audio, frames: list[int]) -> dict[int, np.ndarray]:
    renderer.load(preset)
    keep = {k - 1 for k in frames}
    return {i + 1: img for i, img in enumerate(renderer.render(max(frames), audio, keep=keep)) if img is not None}


def score(items: list[Candidate], bc: Butterchurn, wav: Path, frames: list[int], size: int, fps: float,
          console: Console, player: str = "butterchurn") -> tuple[list[Result], dict]:
    from renderer.audio import AudioAnalyzer, load_audio
    from renderer.audio.levels_file import InjectedLevels
    from renderer.pipeline import Renderer

    analyzer = AudioAnalyzer(load_audio(wav), fps=fps, loop=False)
    results, pictures = [], {}
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=console, transient=True)
    with bar, Renderer(size, size, fps=fps, seed=0, player=player) as renderer:
        task = bar.add_task("rendering", total=len(items))
        for c in items:
            res = Result(c.overlap.name, str(c.overlap.path), c.families)
            results.append(res)
            bar.update(task, description=f"{c.overlap.name[:40]:40}")
            try:
                folder = bc.render(c.overlap)
                if bc.failed_shaders(c.overlap):
                    raise ReferenceError("butterchurn failed to build a shader (see render.log)")
                ref = {k: reference_frame(folder, k) for k in frames}
                levels = InjectedLevels.from_csv(folder / "frames.csv", analyzer)
                ours_inj = render_ours(renderer, c.preset, levels, frames)
                ours_own = render_ours(renderer, c.preset, analyzer, frames)
            except (ReferenceError, OSError, ValueError) as exc:
                res.error = str(exc)
                bar.advance(task)
                continue
            res.injected = {k: ssim(ours_inj[k], ref[k]) for k in frames}
            res.own = {k: ssim(ours_own[k], ref[k]) for k in frames}
            pictures[res.name] = (ours_inj, ref)
            bar.advance(task)
    return results, pictures


def table(results: list[Result], frames: list[int]) -> Table:
    t = Table(title="mean SSIM against butterchurn (grey)")
    t.add_column("family")
    t.add_column("n", justify="right")
    for k in frames:
        t.add_column(f"f{k} levels", justify="right")
    for k in frames:
        t.add_column(f"f{k} own", justify="right")
    ok = [r for r in results if not r.error]
    for fam in ("all",) + FAMILIES:
        rows = [r for r in ok if fam == "all" or fam in r.families]
        if not rows:
            continue
        cells = [f"{statistics.fmean(r.injected[k] for r in rows):.3f}" for k in frames]
        cells += [f"{statistics.fmean(r.own[k] for r in rows):.3f}" for k in frames]
        t.add_row(fam, str(len(rows)), *cells)
    return t


def worst_sheet(results: list[Result], pictures: dict, frames: list[int], out: Path, n: int) -> Path:
    from renderer.output.contact_sheet import Tile, save_contact_sheet

    mid = frames[len(frames) // 2]
    worst = sorted((r for r in results if r.name in pictures), key=lambda r: r.injected[mid])[:n]
    tiles = []
    for r in worst:
        ours, ref = pictures[r.name]
        for k in frames:
            tiles.append(Tile(f"{r.name} | ours f{k} {r.injected[k]:.2f}", ours[k]))
            tiles.append(Tile(f"butterchurn f{k}", ref[k]))
    return save_contact_sheet(tiles, out, columns=2 * len(frames))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=os.environ.get("LIANDAN_REFERENCE"),
                    help="the butterchurn reference folder (render.sh, overlap.txt)")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "liandan" / "fidelity", help="where reference renders are kept and reused")
    ap.add_argument("--presets-dir", type=Path, default=CORPUS)
    ap.add_argument("--wav", type=Path, help="music (44.1 kHz WAV); default: our synthetic track, 20 s")
    ap.add_argument("--md1", type=int, default=40, help="MilkDrop 1 presets (no shaders)")
    ap.add_argument("--shader", type=int, default=10, help="presets with shaders")
    ap.add_argument("--only", action="append", default=[], help="only names containing this (repeatable)")
    ap.add_argument("--frames", default="10,30,60")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--fps", type=float, default=60.0)
    ap.add_argument("--sheet", type=Path, default=Path("fidelity_worst.png"))
    ap.add_argument("--worst", type=int, default=10, help="presets on the sheet")
    ap.add_argument("--json", type=Path, help="write every preset's scores here")
    ap.add_argument("--player", default="butterchurn", choices=("butterchurn", "milkdrop2"),
                    help="whose picture we render (liandan render --player): butterchurn's departures "
                         "from MilkDrop 2 rendered too (default; like for like), or MilkDrop 2's")
    args = ap.parse_args(argv)
    console = Console()
    if args.reference is None or not (Path(args.reference) / "overlap.txt").exists():
        print(f"bench_fidelity: skipped, no reference folder given or found.\n{HOW_TO_GET}")
        return 0
    frames = sorted({int(x) for x in args.frames.split(",")})
    if frames[0] < 1:
        ap.error("--frames are numbered from 1")
    args.cache.mkdir(parents=True, exist_ok=True)
    wav = args.wav or default_wav(args.cache)
    bc = Butterchurn(args.reference, args.cache, wav, args.size, args.fps, max(frames))
    cands, departing = [], []
    for c in candidates(read_overlap(Path(args.reference), args.presets_dir)):
        why = reference_departs(c.preset, bc.preset_json(c.overlap))
        (departing if why else cands).append((c, why) if why else c)
    if args.only:
        items = [c for c in cands if any(s.lower() in c.overlap.name.lower() for s in args.only)]
    else:
        items = (spread([c for c in cands if "MD1" in c.families], args.md1)
                 + spread([c for c in cands if "shader" in c.families], args.shader))
    from collections import Counter

    why_counts = Counter(why.split(":", 1)[0] for _, why in departing)
    left_out = ", ".join(f"{n} {reason}" for reason, n in sorted(why_counts.items())) or "none"
    console.print(f"{len(cands)} overlap presets without rand() (left out: {left_out}; e.g. "
                  f"{departing[0][1] if departing else '-'}); measuring {len(items)} at "
                  f"{args.size}x{args.size}, {args.fps:g} fps, frames {frames}; music {wav}; we render as "
                  f"--player {args.player}")
    results, pictures = score(items, bc, wav, frames, args.size, args.fps, console, args.player)
    console.print(table(results, frames))
    for r in results:
        if r.error:
            console.print(f"[yellow]skipped[/] {r.name}: {r.error}")
    if pictures:
        console.print(f"worst {args.worst} side by side: {worst_sheet(results, pictures, frames, args.sheet, args.worst)}")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=1))
    return 0


def default_wav(cache: Path) -> Path:
    from renderer.audio import synthesize, write_wav

    path = cache / "synth_seed0_20s.wav"
    if not path.exists():
        write_wav(synthesize(seconds=20, seed=0), path)
    return path


if __name__ == "__main__":
    sys.exit(main())
