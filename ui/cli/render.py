"""``liandan render`` (one preset -> PNG folder / WebP / GIF / MP4) and ``liandan sheet`` (many -> one PNG).

``render`` runs in this process: one preset, one renderer, frames streamed to the writer.
``sheet`` goes through renderer.output.sweep's worker processes, because a folder of thousands of
presets from the internet will contain some that crash or hang, and a contact sheet should still
come out (those tiles say "error").
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from renderer.milk.files import expand_inputs
from ui.cli.options import parse_wh

EXIT_BAD_INPUT = 1
EXIT_FAILED = 2


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def _dirs(paths: list[Path] | None) -> list[str] | None:
    return [str(p) for p in paths] if paths else None


def _print_load_report(err: Console, preset: Path, report, shown: int | None) -> int:
    """Say what renders differently from the file: broken code blocks render empty, a failed
    shader stage falls back to MilkDrop 1, a missing texture is grey. ``shown=None``: the first
    report (everything); else only the shader errors from index ``shown`` on (stages that failed
    while rendering). Returns how many shader errors there are now."""
    from renderer.shaders.status import short_reason

    name = escape(str(preset))
    if shown is None:
        shown = 0
        shader_msgs = {f"{e.get('stage')} shader:" for e in report.shader_errors}
        for e in report.errors:
            if not str(e).startswith(tuple(shader_msgs)):
                err.print(f"[yellow]warning[/] {name}: {escape(str(e))} (that block renders empty)")
        for w in report.warnings:
            err.print(f"[yellow]warning[/] {name}: {escape(str(w))}")
    for e in report.shader_errors[shown:]:
        where = f"line {e['line']}: " if e.get("line") else (f"frame {e['frame']}: " if e.get("frame") else "")
        err.print(f"[yellow]warning[/] {name}: {e['stage']} shader: {where}{escape(short_reason(e['reason']))} "
                  f"(the {e['stage']} stage falls back to MilkDrop 1)")
    return len(report.shader_errors)


def _print_audio_warnings(err: Console, track, render_seconds: float) -> None:
    """What the loader repaired (NaN, clipping, channels, rate) and a track shorter than the render."""
    from renderer.audio.track import length_warning

    notes = list(track.warnings) + [w for w in [length_warning(track.duration, render_seconds)] if w]
    for note in notes:
        err.print(f"[yellow]warning[/] {escape(track.source)}: {escape(note)}")


def render(
    preset: Path = typer.Argument(..., help="The .milk preset to render."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="A folder (frame_00001.png ...), or a .webp, .gif or .mp4 file."),
    audio: Optional[Path] = typer.Option(None, "--audio", help="Music (WAV/FLAC/OGG); default: synthetic music."),
    frames: int = typer.Option(180, "--frames", min=1, help="Number of frames."),
    size: str = typer.Option("256x256", "--size", help="Frame size WIDTHxHEIGHT."),
    fps: float = typer.Option(60.0, "--fps", min=1.0, help="Frames per second (time step and video rate)."),
    seed: int = typer.Option(0, "--seed", help="Seed for rand() and the default music."),
    mesh: str = typer.Option("48x36", "--mesh", help="Warp mesh cells WIDTHxHEIGHT."),
    textures: Optional[List[Path]] = typer.Option(None, "--textures", exists=True, file_okay=False,
                                                  help="Extra folder of user textures (repeatable)."),
    timeout: Optional[float] = typer.Option(None, "--timeout", min=0.1,
                                            help="Stop after this many seconds (default: no limit)."),
    audio_levels: Optional[Path] = typer.Option(
        None, "--audio-levels",
        help="CSV of per-frame bass, mid, treb, bass_att, mid_att, treb_att (a 'frame' column, or row i = "
             "frame i+1) that drive the preset instead of our analysis; waves still draw the music."),
    every: int = typer.Option(1, "--every", min=1,
                              help="Write frame k only when k % EVERY == 0; the others are still rendered and "
                                   "composited (as a player shows them), not read back."),
    player: str = typer.Option("milkdrop2", "--player",
                               help="Whose picture to reproduce: milkdrop2 (default) or butterchurn (the web "
                                    "player: mipmapped feedback, textured shapes with texel alpha)."),
) -> None:
    """Render one preset to frames, an animated image or a video."""
    from renderer.output.frame_writer import OutputError, output_kind, write_frames
    from renderer.milk.preset import PresetError, load_milk

    err = Console(stderr=True, soft_wrap=True)  # paths stay whole, copyable
    w, h = parse_wh(size)
    mw, mh = parse_wh(mesh, "--mesh")
    from renderer.player import player_named

    try:
        chosen = player_named(player)
    except ValueError as exc:
        err.print(f"[red]error[/] --player: {escape(str(exc))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        output_kind(output)
        p = load_milk(preset)
    except (PresetError, OutputError, OSError) as exc:
        err.print(f"[red]error[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    from renderer.audio import AudioError, open_audio

    track = None
    if audio is not None:
        try:
            track = open_audio(audio)  # decodes only the seconds the frames hear
        except (AudioError, OSError) as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
    from renderer.output.time_limit import TimeLimitExceeded, time_limit
    from renderer.pipeline import Renderer

    source = track
    if audio_levels is not None:
        source = _injected_levels(err, audio_levels, track, fps, frames, seed)
    keep = None if every == 1 else range(every - 1, frames, every)
    done = [0]

    def on_frame(k: int) -> None:
        done[0] = k
        bar.update(task, completed=k)

    with Renderer(width=w, height=h, mesh=(mw, mh), fps=fps, seed=seed, textures_dir=_dirs(textures),
                  player=chosen) as r:
        with _progress(err) as bar:
            task = bar.add_task(f"rendering {escape(p.name)}", total=frames)
            try:
                with time_limit(timeout):
                    report = r.load(p)
                    shown = _print_load_report(err, preset, report, None)
                    result = write_frames(r.render(frames, source, keep=keep, composite_all=True), output,
                                          fps=fps / every, on_frame=on_frame)
            except (OutputError, AudioError) as exc:
                err.print(f"[red]error[/] {escape(str(exc))}")
                raise typer.Exit(EXIT_FAILED) from None
            except TimeLimitExceeded:
                kept = (f"; the first {done[0]} are in {escape(str(output))}"
                        if done[0] and output_kind(output) in ("folder", "mp4") else "")
                err.print(f"[red]error[/] {escape(str(preset))}: stopped after --timeout {timeout:g} s with "
                          f"{done[0]} of {frames} frames rendered{kept} (this preset is slow: try fewer frames, "
                          "a smaller --size or a longer --timeout)")
                raise typer.Exit(EXIT_FAILED) from None
        _print_load_report(err, preset, report, shown)  # shader stages that failed while rendering
    if track is not None:
        _print_audio_warnings(err, track, frames / fps)
    what = "frames in" if result.kind == "folder" else "frames to"
    err.print(f"[green]wrote[/] {result.frames} {what} {escape(str(result.path))}")


def _injected_levels(err: Console, path: Path, track, fps: float, frames: int, seed: int):
    """The analyzer that hands the preset ``path``'s levels; exits with a clear error when the file
    is unusable or too short for ``frames``."""
    from renderer.audio import AudioAnalyzer, default_analyzer
    from renderer.audio.levels_file import InjectedLevels, LevelsFileError

    base = AudioAnalyzer(track, fps=fps) if track is not None else default_analyzer(fps=fps, seed=seed)
    try:
        levels = InjectedLevels.from_csv(path, base)
    except LevelsFileError as exc:
        err.print(f"[red]error[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if levels.last_frame < frames:
        err.print(f"[red]error[/] {escape(str(path))}: levels for frames 1..{levels.last_frame}, "
                  f"but {frames} frames were asked for")
        raise typer.Exit(EXIT_BAD_INPUT)
    return levels


def sheet(
    inputs: List[Path] = typer.Argument(..., help="Preset files and/or folders (searched recursively)."),
    output: Path = typer.Option(..., "-o", "--output", help="The sheet image (.png, .jpg or .webp)."),
    frame: int = typer.Option(60, "--frame", min=1, help="Which frame of each preset to show."),
    size: str = typer.Option("128x128", "--size", help="Tile (render) size WIDTHxHEIGHT."),
    columns: Optional[int] = typer.Option(None, "--columns", min=1, help="Tiles per row (default: square-ish)."),
    audio: Optional[Path] = typer.Option(None, "--audio", help="Music (WAV/FLAC/OGG); default: synthetic music."),
    seed: int = typer.Option(0, "--seed", help="Seed for rand() and the default music."),
    workers: int = typer.Option(2, "--workers", min=1, help="Render processes."),
    timeout: float = typer.Option(60.0, "--timeout", min=1.0, help="Seconds allowed per preset."),
    textures: Optional[List[Path]] = typer.Option(None, "--textures", exists=True, file_okay=False,
                                                  help="Extra folder of user textures (repeatable)."),
    player: str = typer.Option("milkdrop2", "--player", help="Whose picture: milkdrop2 (default) or butterchurn."),
) -> None:
    """A contact sheet: one frame of each preset in a grid, names below."""
    from renderer.output.contact_sheet import Tile, save_contact_sheet
    from renderer.output.sweep import render_sweep

    err = Console(stderr=True, soft_wrap=True)  # paths stay whole, copyable
    w, h = parse_wh(size)
    from renderer.player import player_named

    try:
        player_named(player)
    except ValueError as exc:
        err.print(f"[red]error[/] --player: {escape(str(exc))}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    missing = [p for p in inputs if not p.exists()]
    if missing:
        err.print(f"[red]error[/] {escape(str(missing[0]))}: no such file or folder")
        raise typer.Exit(EXIT_BAD_INPUT)
    if output.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        err.print(f"[red]error[/] {escape(str(output))}: the sheet is written as .png, .jpg or .webp")
        raise typer.Exit(EXIT_BAD_INPUT)
    if audio is not None and not audio.exists():
        err.print(f"[red]error[/] {escape(str(audio))}: no such file")
        raise typer.Exit(EXIT_BAD_INPUT)
    files = expand_inputs(inputs)
    if not files:
        err.print("[red]error[/] no .milk presets found")
        raise typer.Exit(EXIT_BAD_INPUT)
    tiles, failed = [], []
    with _progress(err) as bar:
        task = bar.add_task("rendering", total=len(files))
        for res in render_sweep(files, frames=frame, size=(w, h), workers=workers, seed=seed, timeout_s=timeout,
                                keep_frame=frame, audio=None if audio is None else str(audio),
                                textures_dir=_dirs(textures), player=player):
            name = Path(res["file"]).stem
            if res["status"] == "rendered" and res.get("image") is not None:
                tiles.append(Tile(name, res["image"]))
            else:
                tiles.append(Tile(name, None, "error"))
                failed.append(res)
            bar.advance(task)
    save_contact_sheet(tiles, output, columns=columns, tile_size=(w, h))
    for res in failed:
        err.print(f"[red]error[/] {escape(res['file'])}: {escape(str(res['error']))}")
    err.print(f"[green]wrote[/] {escape(str(output))}: {len(tiles) - len(failed)} presets"
              + (f", {len(failed)} failed" if failed else ""))


def register(app: typer.Typer) -> None:
    app.command("render")(render)
    app.command("sheet")(sheet)
