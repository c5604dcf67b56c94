"""``liandan mine``, ``liandan analyze`` and ``liandan bands``: a feature dataset of a preset
collection, the report on it, and the fitness bands refitted from it (the work is in evo.mining)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ui.cli.options import parse_wh

EXIT_BAD_INPUT = 2

_STAGES = {"read": "reading and parsing", "render": "rendering", "write": "writing the dataset",
           "analyze": "analysing", "reactivity": "profiling music reaction"}


def _progress(console: Console) -> tuple[Progress, callable]:
    bar = Progress(TextColumn("{task.description:<22}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=console, transient=False)
    tasks: dict[str, int] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
        bar.update(tasks[stage], completed=done, total=total)

    return bar, update


def register(app: typer.Typer) -> None:
    @app.command("mine")
    def mine_cmd(
        inputs: List[Path] = typer.Argument(..., help="folders (searched recursively) or .milk files", show_default=False),
        out: Path = typer.Option(..., "-o", "--out", help="dataset folder (made if missing; an existing one is updated)"),
        render: bool = typer.Option(True, "--render/--no-render", help="render each preset (or read files only)"),
        workers: int = typer.Option(2, "--workers", "-w", help="render worker processes (0 = in this process, no isolation)"),
        size: str = typer.Option("64x64", "--size", help="render size WxH"),
        frames: int = typer.Option(60, "--frames", help="frames rendered per preset (60 fps)"),
        audio: Optional[Path] = typer.Option(None, "--audio", exists=True, dir_okay=False,
                                             help="music file (default: the synthetic track, seed 0)"),
        retry_errors: bool = typer.Option(False, "--retry-errors", help="render again what failed last time"),
        reactivity: bool = typer.Option(False, "--reactivity", help="also profile how each preset follows music "
                                        "(10 s against probe music: react_ columns, what `liandan match` reads); kept "
                                        "on later runs"),
        as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout"),
    ) -> None:
        """Mine preset folders into a dataset: one row per file (parameters, code, shader and
        rendered features) in DATASET/dataset.parquet. Re-running renders only new or changed files."""
        from evo.mining.mine import EXTRA_GROUPS, MiningError, mine
        from evo.mining.rendered import describe, mining_settings

        w, h = parse_wh(size)
        if frames < 2:
            raise typer.BadParameter("--frames must be at least 2")
        settings = mining_settings(w, h, frames, audio=str(audio.resolve()) if audio else "")
        err = Console(stderr=True)
        bar, update = _progress(err)
        try:
            with bar:
                summary = mine(inputs, out, render=render, settings=settings, workers=workers,
                               retry_errors=retry_errors, progress=update,
                               extra_groups=[EXTRA_GROUPS["reactivity"]()] if reactivity else [])
        except MiningError as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if as_json:
            typer.echo(json.dumps(summary.to_dict(), indent=1))
            return
        s = summary
        err.print(f"{s.files} files: {s.parsed} parsed, {s.errors} do not parse, {s.distinct} distinct contents "
                  f"({s.duplicates} duplicates)")
        if render:
            err.print(f"rendered {s.rendered} now ({s.render_seconds:.0f} s), {s.cached} from the cache, "
                      f"{s.render_errors} failed to render  [dim]{escape(describe(settings))}[/]")
        for e in s.error_files[:10]:
            where = f"{e['file']}:{e['line']}" if e.get("line") else e["file"]
            err.print(f"  [yellow]{escape(where)}[/]: {escape(str(e['error']))}")
        err.print(f"dataset: [bold]{escape(str(Path(s.dataset) / 'dataset.parquet'))}[/]  ({s.seconds:.1f} s)")

    @app.command("analyze")
    def analyze_cmd(
        dataset: Path = typer.Argument(..., help="a dataset folder made by `liandan mine`", show_default=False),
        out: Path = typer.Option(..., "-o", "--out", help="report folder (report.html, safe_ranges.json, bands.json)"),
        ratings: Optional[List[Path]] = typer.Option(None, "--ratings", exists=True, dir_okay=False,
                                                     help="CSV or JSON: file name or content hash -> rating, any scale (repeatable)"),
        runs_dir: Optional[Path] = typer.Option(None, "--runs", exists=True, file_okay=False,
                                                help="runs folder: votes and scores of corpus presets used as seeds"),
        seed: int = typer.Option(0, "--seed", help="seed of the model's cross-validation and the outlier forest"),
    ) -> None:
        """Write a self-contained HTML report on a dataset: distributions, correlations, golden
        combinations, outliers, what predicts quality, fitness bands, and safe ranges as JSON."""
        from evo.mining.dataset import DatasetError
        from evo.mining.labels import LabelError
        from evo.mining.report import write_report

        err = Console(stderr=True)
        try:
            with err.status("analysing…"):
                result = write_report(dataset, out, ratings=list(ratings or []), runs_dir=runs_dir, seed=seed)
        except (DatasetError, LabelError) as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        for line in result.summary_lines():
            err.print(line)
        err.print(f"report: [bold]{escape(str(result.html))}[/]")
        err.print(f"safe ranges: {escape(str(result.safe_ranges))}  (use: ga.safe_ranges = \"{escape(str(result.safe_ranges))}\" "
                  f"in a --config TOML)")

    @app.command("bands")
    def bands_cmd(
        dataset: Path = typer.Argument(..., help="a dataset folder made by `liandan mine`", show_default=False),
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="where to write (default: evo/fitness/bands.json)"),
        force: bool = typer.Option(False, "--force", help="fit even if the dataset was rendered at other settings than the fitness"),
    ) -> None:
        """Refit the fitness bands (the target range of each image statistic in the score) from a
        dataset's distribution, and write them where the score reads them."""
        from evo.fitness.bands import BANDS_PATH
        from evo.mining.bands import BandsError, fit_bands_file

        err = Console(stderr=True)
        target = out or BANDS_PATH
        try:
            fitted = fit_bands_file(dataset, target, force=force)
        except BandsError as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        table = Table("feature", "statistic", "shape", "lo0", "lo1", "hi1", "hi0", "before", title="fitted bands",
                      title_justify="left")
        for name, entry in fitted["features"].items():
            table.add_row(name, entry["statistic"], entry["shape"], *(f"{x:.4g}" for x in entry["band"]),
                          " ".join(f"{x:.3g}" for x in entry["previous"]))
        Console(stderr=True, width=140).print(table)
        err.print(f"fitted from {fitted['fitted_from']['presets']} healthy presets -> [bold]{escape(str(target))}[/]")
