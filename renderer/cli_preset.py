"""``liandan info`` and ``liandan scan``: what is in a preset, and which presets of a folder work.

People arrive with folders of thousands of .milk files; ``scan`` tells them in seconds which ones
the reader (and, on request, the EEL compiler and the renderer) cannot handle and why, with file
and line. ``info`` is the one-preset view an author wants: what differs from MilkDrop's defaults,
how much code is where, and what MilkDrop would silently ignore.

Progress and tables go to stderr/stdout through rich; ``--json`` keeps stdout machine-readable.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from renderer.params import SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA, key_status
from renderer.cli_shader_status import ShaderProbe, print_shader_status, shader_statuses, short_reason
from renderer.preset import Preset, PresetError, code_text, format_number, load_milk, mv_a_when_absent

EXIT_PARSE_FAILED = 1
EXIT_UNAVAILABLE = 2
MAX_WARNINGS_SHOWN = 20


# ---------------------------------------------------------------- pure helpers


def count_statements(text: str) -> int:
    """Statements in joined EEL text: non-empty pieces between top-level ';' (a ';' inside
    parentheses belongs to a loop or if body, not to the block)."""
    count, depth, pending = 0, 0, False
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            count += pending
            pending = False
            continue
        if not ch.isspace():
            pending = True
    return count + pending


@dataclass
class SectionInfo:
    name: str
    lines: int
    statements: int
    first_line: int | None  # line in the file of the section's line 1
    compile_error: dict | None = None


def section_infos(preset: Preset) -> list[SectionInfo]:
    """Non-empty EEL sections with their size, in MilkDrop's order."""
    out = []
    for name, lines in preset.code_sections().items():
        if not lines:
            continue
        text, _ = code_text(lines)
        first = preset.line_of.get(preset.section_key(name, 1))
        out.append(SectionInfo(name, len(lines), count_statements(text), first))
    return out


def load_compiler():
    """``(compile_block, EELError)`` from renderer.eel, or None while it is not there."""
    try:
        from renderer.eel import EELError, compile_block
    except ImportError:
        return None
    return compile_block, EELError


def compile_sections(preset: Preset, compiler) -> list[dict]:
    """Compile every non-blank EEL section; one record per failure, pointing into the file.

    MilkDrop skips blocks that are only blanks, so they are never compile errors here either.
    """
    compile_block, eel_error = compiler
    failures = []
    for name, lines in preset.code_sections().items():
        if not code_text(lines)[0].strip():
            continue
        try:
            compile_block(lines, name)
        except eel_error as exc:
            line = getattr(exc, "line", 0) or None
            file_line = preset.line_of.get(preset.section_key(name, line)) if line else None
            failures.append({"section": name, "line": line, "file_line": file_line,
                             "col": getattr(exc, "col", 0) or None,
                             "error": getattr(exc, "message", str(exc))})
        except Exception as exc:  # a compiler bug must not stop a scan of 4,000 files
            failures.append({"section": name, "line": None, "file_line": None, "col": None,
                             "error": f"compiler crashed: {type(exc).__name__}: {exc}"})
    return failures


def changed_params(preset: Preset) -> list[tuple[str, float | int, float | int, str]]:
    """(key, value, default, note) for every base parameter that differs from MilkDrop's default."""
    out = []
    for key, spec in SCHEMA.items():
        value = preset.params.get(key, spec.default)
        default = mv_a_when_absent(preset) if key == "mv_a" else spec.default
        if value != default:
            lo, hi = spec.valid
            note = "" if lo <= value <= hi else f"outside {format_number(lo)}..{format_number(hi)}"
            out.append((key, value, default, note))
    return out


def _changed_sub(params: dict, schema: dict) -> str:
    parts = [f"{k}={format_number(v)}" for k, v in params.items()
             if k != "enabled" and v != schema[k].default]
    return " ".join(parts)


def collect_milk_files(root: Path) -> list[Path]:
    """Every ``*.milk`` under root, suffix in any case (Windows folders have ``.MILk``), sorted."""
    if root.is_file():
        return [root]
    found = []
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            if name.lower().endswith(".milk"):
                found.append(Path(dirpath) / name)
    return sorted(found)


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = text.lower().split("x")
        size = int(w), int(h)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not WIDTHxHEIGHT, e.g. 64x64") from None
    if min(size) < 1 or max(size) > 4096:
        raise typer.BadParameter(f"{text!r}: width and height must be 1..4096")
    return size


# ---------------------------------------------------------------- info


def _print_info(console: Console, path: Path, preset: Preset, compiler, probe: ShaderProbe | None) -> None:
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
    failures = {f["section"]: f for f in compile_sections(preset, compiler)} if compiler else {}
    t = Table(title="Code", title_justify="left")
    for col, just in (("section", "left"), ("lines", "right"), ("statements", "right"), ("from line", "right")):
        t.add_column(col, justify=just)
    t.add_column("compiles" if compiler else "compiles (renderer.eel not available)")
    for s in sections:
        status = ""
        if compiler:
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
                          f"[dim]{escape(_changed_sub(x.params, schema))}[/]")

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


def _texture_dirs(textures: list[Path] | None) -> list[str] | None:
    return [str(t) for t in textures] if textures else None


def info(
    presets: list[Path] = typer.Argument(..., help="One or more .milk files.", show_default=False),
    no_gl: bool = typer.Option(False, "--no-gl", help="Do not compile shaders in GL (translation only)."),
    textures: Optional[List[Path]] = typer.Option(None, "--textures", exists=True, file_okay=False,
                                                  help="Extra folder of user textures (repeatable)."),
) -> None:
    """Show what a preset sets: changed parameters, code per section, shaders (do they translate and
    compile, and why not), waves and shapes."""
    console = Console()
    compiler = load_compiler()
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
            _print_info(console, path, preset, compiler, probe)
    finally:
        if probe is not None:
            probe.release()
    if failed:
        raise typer.Exit(EXIT_PARSE_FAILED)


# ---------------------------------------------------------------- scan


@dataclass
class ScanResult:
    files: int = 0
    parsed: int = 0
    failed: list[dict] = field(default_factory=list)
    warned: int = 0
    compile: list[dict] | None = None
    render: dict | None = None

    def as_json(self) -> dict:
        out = {"files": self.files, "parsed": self.parsed, "failed": self.failed, "warned": self.warned}
        if self.compile is not None:
            out["compile_failed"] = len(self.compile)
            out["compile"] = self.compile
        if self.render is not None:
            out["render"] = self.render
        return out


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
    from renderer.sweep import render_sweep  # checked by the caller

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
    """Parse (and optionally compile) every preset under root; returns the result and the paths
    that parsed, for the render step."""
    files = collect_milk_files(root)
    result = ScanResult(files=len(files), compile=[] if compile_code else None)
    compiler = load_compiler() if compile_code else None
    ok_paths = []
    with _progress(err) as bar:
        task = bar.add_task("parsing" + (" + compiling" if compile_code else ""), total=len(files))
        for path in files:
            try:
                preset = load_milk(path)
            except PresetError as exc:
                result.failed.append({"file": str(path), "line": exc.line, "error": exc.message})
            else:
                result.parsed += 1
                result.warned += bool(preset.warnings)
                ok_paths.append(path)
                if compiler:
                    failures = compile_sections(preset, compiler)
                    if failures:
                        result.compile.append({"file": str(path), "sections": failures})
            bar.advance(task)
    return result, ok_paths


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
    render: bool = typer.Option(False, "--render", help="Also render each preset briefly (renderer.sweep)."),
    frames: int = typer.Option(30, "--frames", min=1, help="Frames per preset with --render."),
    size: str = typer.Option("64x64", "--size", help="Render size WIDTHxHEIGHT with --render."),
    textures: Optional[List[Path]] = typer.Option(None, "--textures", exists=True, file_okay=False,
                                                  help="Extra folder of user textures for --render (repeatable)."),
) -> None:
    """Parse every preset in a folder; list the ones that fail and why. Exit status 1 if any fails."""
    out = Console()
    err = Console(stderr=True)
    wh = parse_size(size)
    if not directory.exists():
        err.print(f"[red]error[/] {escape(str(directory))}: no such file or folder")
        raise typer.Exit(EXIT_UNAVAILABLE)
    if compile_code and load_compiler() is None:
        err.print("[red]error[/] --compile needs renderer.eel (the EEL compiler), which is not installed yet")
        raise typer.Exit(EXIT_UNAVAILABLE)
    if render:
        try:
            import renderer.sweep  # noqa: F401
        except ImportError as exc:
            err.print(f"[red]error[/] --render needs renderer.sweep, which is not available ({escape(str(exc))})")
            raise typer.Exit(EXIT_UNAVAILABLE) from None
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
