"""``liandan info`` and ``liandan scan``: what is in a preset, and which presets of a folder work.

People arrive with folders of thousands of .milk files; ``scan`` tells them in seconds which ones
the reader (and, on request, the EEL compiler and the renderer) cannot handle and why, with file
and line. ``info`` is the one-preset view an author wants: what differs from MilkDrop's defaults,
how much code is where, and what MilkDrop would silently ignore.

Progress and tables go to stderr/stdout through rich; ``--json`` keeps stdout machine-readable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from renderer.milk.files import find_presets
from renderer.milk.inspect import ScanResult, changed_params, changed_sub_params, compile_sections, scan_presets, section_infos
from renderer.milk.params import SHAPE_SCHEMA, WAVE_SCHEMA, key_status
from renderer.milk.preset import Preset, PresetError, format_number, load_milk
from renderer.shaders.status import ShaderProbe, shader_statuses, short_reason
from ui.cli.options import parse_wh
from ui.cli.shader_status import print_shader_status

EXIT_PARSE_FAILED = 1
EXIT_UNAVAILABLE = 2
MAX_WARNINGS_SHOWN = 20


# ---------------------------------------------------------------- info


def _print_info(console: Console, path: Path, preset: Preset, probe: ShaderProbe | None) -> None:
    version = preset.version if preset.version is not None else "MilkDrop 1 (no header)"
    console.rule(f"[bold]{escape(preset.name)}")
    console.print(f"[dim]{escape(str(path))}[/]  version {version}")

    changed = changed_params(preset)
    if changed:
        t = Table(title="Parameters that differ from MilkDrop's defaults", title_justify="left")
        t.add_column("key")
        t.add_column("value", justify="right")
        t.add_column("default", justify="right")
        t.add_column("note", style="yellow")
        for key, value, default, note in changed:
            t.add_row(key, format_number(value), format_number(default), note)
        console.print(t)
    else:
        console.print("All base parameters at MilkDrop's defaults.")

    sections = section_infos(preset)
    failures = {f["section"]: f for f in compile_sections(preset)}
    t = Table(title="Code", title_justify="left")
    for col, just in (("section", "left"), ("lines", "right"), ("statements", "right"), ("from line", "right")):
        t.add_column(col, justify=just)
    t.add_column("compiles")
    for s in sections:
        f = failures.get(s.name)
        status = "[green]ok[/]" if f is None else f"[red]line {f['file_line'] or f['line']}: {escape(f['error'])}[/]"
        t.add_row(s.name, str(s.lines), str(s.statements), str(s.first_line or ""), status)
    if sections:
        console.print(t)
    else:
        console.print("No EEL code.")

    statuses, report = shader_statuses(preset, probe)
    print_shader_status(console, preset, statuses, probe)

    for label, items, schema in (("wave", preset.waves, WAVE_SCHEMA), ("shape", preset.shapes, SHAPE_SCHEMA)):
        on = [x for x in items if x.enabled]
        if not on:
            console.print(f"custom {label}s: none enabled")
            continue
        for x in on:
            code = sum(len(v) for k, v in vars(x).items() if isinstance(v, list))
            console.print(f"custom {label} {x.index}: enabled, {code} code lines  "
                          f"[dim]{escape(changed_sub_params(x.params, schema))}[/]")

    if preset.unknown:
        keys = ", ".join(f"{k} ({key_status(k)})" for k, _ in preset.unknown[:12])
        more = f" and {len(preset.unknown) - 12} more" if len(preset.unknown) > 12 else ""
        console.print(f"keys MilkDrop does not read, kept as they are: {escape(keys)}{more}")
    for w in (report.warnings if report is not None else []):
        console.print(f"[yellow]warning[/] {escape(str(w))}")
    for w in preset.warnings[:MAX_WARNINGS_SHOWN]:
        console.print(f"[yellow]warning[/] {escape(str(w))}")
    if len(preset.warnings) > MAX_WARNINGS_SHOWN:
        console.print(f"[yellow]... and {len(preset.warnings) - MAX_WARNINGS_SHOWN} more warnings[/]")


def _print_reactivity(console: Console, path: Path) -> None:
    from evo.music.reactivity import measure_file

    p = measure_file(path)
    t = Table(title="Reactivity (10 s of probe music at 120 BPM, 30 fps)", title_justify="left")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_column("meaning")
    t.add_row("beat alignment", f"{p.beat_alignment:.0%}", f"beats with a visual beat within 1 frame (chance {p.chance:.0%})")
    t.add_row("beat lock", f"{p.beat_lock:.2f}", "alignment above chance, 0..1")
    for band in ("bass", "mid", "treb"):
        t.add_row(f"follows {band}", f"{getattr(p, band):+.2f}", "correlation of picture change with the level")
    t.add_row("motion", f"{p.motion_level:.2f}", "0 still .. 1 frantic")
    t.add_row("brightness / warmth", f"{p.brightness:.2f} / {p.warmth:.2f}", "warmth 0 blue, 0.5 neutral, 1 red")
    t.add_row("visual tempo", f"{p.visual_tempo:.0f}/min", "the picture's own pulses")
    console.print(t)
    console.print(p.describe())


def _texture_dirs(textures: list[Path] | None) -> list[str] | None:
    return [str(t) for t in textures] if textures else None


def info(
    presets: list[Path] = typer.Argument(..., help="One or more .milk files.", show_default=False),
    no_gl: bool = typer.Option(False, "--no-gl", help="Do not compile shaders in GL (translation only)."),
    textures: Optional[List[Path]] = typer.Option(None, "--textures", exists=True, file_okay=False,
                                                  help="Extra folder of user textures (repeatable)."),
    reactivity: bool = typer.Option(False, "--reactivity", help="Also render against probe music (10 s at "
                                    "120 BPM) and show how the preset follows bass, mid, treble and beats."),
) -> None:
    """Show what a preset sets: changed parameters, code per section, shaders (do they translate and
    compile, and why not), waves and shapes; with --reactivity, how it moves with music."""
    console = Console()
    probe = None if no_gl else ShaderProbe(_texture_dirs(textures))
    failed = 0
    try:
        for path in presets:
            try:
                preset = load_milk(path)
            except PresetError as exc:
                console.print(f"[red]error[/] {escape(str(exc))}")
                failed += 1
                continue
            _print_info(console, path, preset, probe)
            if reactivity:
                _print_reactivity(console, path)
    finally:
        if probe is not None:
            probe.release()
    if failed:
        raise typer.Exit(EXIT_PARSE_FAILED)


# ---------------------------------------------------------------- scan


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


def _opt_int(value) -> int | None:
    return None if value is None else int(value)


def _json_record(raw: dict) -> dict:
    """A sweep result as plain JSON values (numpy bools and floats, no images)."""
    shader_errors = []
    for e in raw.get("shader_errors") or []:
        rec = {"stage": str(e.get("stage")), "reason": str(e.get("reason")), "line": _opt_int(e.get("line"))}
        if e.get("frame") is not None:
            rec["frame"] = int(e["frame"])
        shader_errors.append(rec)
    rec = {"file": str(raw.get("file")), "status": str(raw.get("status")),
           "error": None if raw.get("error") is None else str(raw.get("error")),
           "black": bool(raw.get("black")), "frozen": bool(raw.get("frozen")),
           "shader_failed": bool(raw.get("shader_failed", bool(shader_errors))),
           "shader_errors": shader_errors,
           "stages": {str(k): str(v) for k, v in (raw.get("stages") or {}).items()},
           "code_errors": [{"section": str(e.get("section")), "line": _opt_int(e.get("line")),
                            "file_line": _opt_int(e.get("file_line")), "col": _opt_int(e.get("col")),
                            "error": str(e.get("error"))} for e in raw.get("code_errors") or []],
           "warnings": [str(w) for w in raw.get("warnings") or []]}
    for key in ("frames", "seconds"):
        if key in raw:
            rec[key] = float(raw[key]) if key == "seconds" else int(raw[key])
    return rec


RENDER_TOTALS = ("rendered", "errors", "black", "frozen", "shader_failed", "code_errors")


def _render(paths: list[Path], frames: int, size: tuple[int, int], err: Console,
            textures_dir: list[str] | None = None) -> dict:
    """Totals count presets: ``shader_failed`` those where a warp or comp shader fell back to
    MilkDrop 1, ``code_errors`` those with an EEL block that does not compile (renders empty)."""
    from renderer.output.sweep import render_sweep

    totals = dict.fromkeys(RENDER_TOTALS, 0)
    records = []
    with _progress(err) as bar:
        task = bar.add_task("rendering", total=len(paths))
        for raw in render_sweep([str(p) for p in paths], frames=frames, size=size, workers=2,
                                textures_dir=textures_dir):
            rec = _json_record(raw)
            records.append(rec)
            totals["rendered" if rec["status"] == "rendered" else "errors"] += 1
            totals["black"] += rec["black"]
            totals["frozen"] += rec["frozen"]
            totals["shader_failed"] += rec["shader_failed"]
            totals["code_errors"] += bool(rec["code_errors"])
            bar.advance(task)
    return {**totals, "files": records}


def run_scan(root: Path, compile_code: bool, err: Console) -> tuple[ScanResult, list[Path]]:
    files = find_presets(root)
    with _progress(err) as bar:
        task = bar.add_task("parsing" + (" + compiling" if compile_code else ""), total=len(files))
        return scan_presets(files, compile_code, on_file=lambda path: bar.advance(task))


def _short(path: str, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return path


def _print_scan(console: Console, root: Path, r: ScanResult) -> None:
    t = Table(show_header=False)
    t.add_row("folder", escape(str(root)))
    t.add_row("files", str(r.files))
    t.add_row("parsed", f"[green]{r.parsed}[/]")
    t.add_row("failed", f"[red]{len(r.failed)}[/]" if r.failed else "0")
    t.add_row("with warnings", str(r.warned))
    if r.compile is not None:
        t.add_row("code that does not compile", f"{len(r.compile)} files")
    if r.render is not None:
        for k in RENDER_TOTALS:
            label = {"shader_failed": "shader fell back", "code_errors": "code that does not compile"}.get(k, k)
            t.add_row(label, str(r.render[k]))
    console.print(t)
    if r.failed:
        ft = Table(title="Files that do not parse", title_justify="left")
        ft.add_column("file")
        ft.add_column("line", justify="right")
        ft.add_column("reason", style="red")
        for f in r.failed:
            ft.add_row(escape(_short(f["file"], root)), str(f["line"] or ""), escape(f["error"]))
        console.print(ft)
    if r.compile:
        ct = Table(title="Code sections that do not compile", title_justify="left")
        for col in ("file", "section", "line", "error"):
            ct.add_column(col)
        for rec in r.compile:
            for s in rec["sections"]:
                ct.add_row(escape(_short(rec["file"], root)), s["section"], str(s["file_line"] or ""),
                           escape(s["error"]))
        console.print(ct)
    if r.render:
        _print_render_problems(console, root, r.render["files"])


def _print_render_problems(console: Console, root: Path, files: list[dict]) -> None:
    bad = [x for x in files if x["status"] != "rendered" or x["black"] or x["frozen"]]
    if bad:
        rt = Table(title="Render problems", title_justify="left")
        for col in ("file", "status", "black", "frozen", "error"):
            rt.add_column(col)
        for x in bad:
            rt.add_row(escape(_short(x["file"], root)), x["status"], "yes" if x["black"] else "",
                       "yes" if x["frozen"] else "", escape(x["error"] or ""))
        console.print(rt)
    shaders = [(x, e) for x in files for e in x["shader_errors"]]
    if shaders:
        st = Table(title="Shader stages that fell back to MilkDrop 1", title_justify="left")
        for col in ("file", "stage", "line", "reason"):
            st.add_column(col)
        for x, e in shaders:
            where = str(e["line"] or "") + (f" (frame {e['frame']})" if e.get("frame") is not None else "")
            st.add_row(escape(_short(x["file"], root)), e["stage"], where, escape(short_reason(e["reason"])))
        console.print(st)
    code = [(x, e) for x in files for e in x["code_errors"]]
    if code:
        ct = Table(title="Code that renders empty (does not compile)", title_justify="left")
        for col in ("file", "section", "line", "error"):
            ct.add_column(col)
        for x, e in code:
            ct.add_row(escape(_short(x["file"], root)), e["section"], str(e["file_line"] or e["line"] or ""),
                       escape(e["error"]))
        console.print(ct)


def scan(
    directory: Path = typer.Argument(..., help="Folder to search for *.milk (any case), recursively."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout instead of tables."),
    compile_code: bool = typer.Option(False, "--compile", help="Also compile every EEL section."),
    render: bool = typer.Option(False, "--render", help="Also render each preset briefly (renderer.output.sweep)."),
    frames: int = typer.Option(30, "--frames", min=1, help="Frames per preset with --render."),
    size: str = typer.Option("64x64", "--size", help="Render size WIDTHxHEIGHT with --render."),
    textures: Optional[List[Path]] = typer.Option(None, "--textures", exists=True, file_okay=False,
                                                  help="Extra folder of user textures for --render (repeatable)."),
) -> None:
    """Parse every preset in a folder; list the ones that fail and why. Exit status 1 if any fails."""
    out = Console()
    err = Console(stderr=True)
    wh = parse_wh(size)
    if not directory.exists():
        err.print(f"[red]error[/] {escape(str(directory))}: no such file or folder")
        raise typer.Exit(EXIT_UNAVAILABLE)
    result, ok_paths = run_scan(directory, compile_code, err)
    if render:
        result.render = _render(ok_paths, frames, wh, err, _texture_dirs(textures))
    if as_json:
        typer.echo(json.dumps(result.as_json(), indent=2))  # plain: no colours or wrapping in JSON
    else:
        _print_scan(out, directory, result)
    if result.failed:
        raise typer.Exit(EXIT_PARSE_FAILED)


def register(app: typer.Typer) -> None:
    app.command("info")(info)
    app.command("scan")(scan)
