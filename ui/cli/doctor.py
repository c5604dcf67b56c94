"""``liandan doctor`` and ``liandan generate``: diagnose and repair presets, and draw new ones from
a model of good presets (the work is in evo.doctor and evo.generator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ui.cli.options import parse_wh

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
_COLOUR = {"error": "red", "warning": "yellow", "info": "cyan"}


def _bar(console: Console, label: str) -> tuple[Progress, callable]:
    bar = Progress(TextColumn(f"{label:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=console, transient=False)
    task = bar.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor_cmd(
        inputs: List[Path] = typer.Argument(..., help=".milk files or folders (searched recursively)", show_default=False),
        out: Optional[Path] = typer.Option(None, "-o", "--out", help="output folder for --repair/--enhance (and the report)"),
        repair: bool = typer.Option(False, "--repair", help="write repaired copies into OUTDIR (verified by rendering)"),
        enhance: bool = typer.Option(False, "--enhance", help="write enhanced copies of healthy presets into OUTDIR/enhanced"),
        report: Optional[Path] = typer.Option(None, "--report", help="write report.html, diagnoses.json and worst.png here"),
        as_json: bool = typer.Option(False, "--json", help="print every diagnosis as JSON on stdout"),
        render: bool = typer.Option(True, "--render/--no-render", help="also render each preset (or check the file only)"),
        music_check: bool = typer.Option(True, "--music-check/--no-music-check",
                                         help="render again in silence to see whether the picture follows the music"),
        workers: int = typer.Option(2, "--workers", "-w", help="worker processes (0 = in this process)"),
        size: str = typer.Option("64x64", "--size", help="render size WxH"),
        frames: int = typer.Option(90, "--frames", help="frames rendered per preset (60 fps)"),
        safe_ranges: Optional[Path] = typer.Option(None, "--safe-ranges", exists=True, dir_okay=False,
                                                   help="safe ranges JSON (`liandan analyze`; default: projectm-data's)"),
        dataset: Optional[Path] = typer.Option(None, "--dataset", exists=True,
                                               help="a mined dataset: its healthy presets (and families) rescue dead ones"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="list info findings too"),
    ) -> None:
        """Diagnose presets: what MilkDrop does not read or accept, code that breaks, shaders that
        fall back, and what the picture does (black, white-out, frozen, NaN, strobing, slow, deaf
        to music). Exit status 1 when any file has an error-level finding."""
        from evo.doctor.rendered import doctor_settings
        from evo.doctor.session import DoctorError, doctor, input_files
        from evo.generator.corpus_model import ModelError, model_for

        err = Console(stderr=True)
        w, h = parse_wh(size)
        try:
            input_files(inputs)
        except DoctorError as exc:
            err.print(f"[red]error[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if frames < 8:
            raise typer.BadParameter("--frames must be at least 8")
        model = ""
        if dataset is not None:
            try:
                with err.status("fitting the dataset's model of healthy presets…"):
                    model_for(dataset)
            except (ModelError, ValueError) as exc:
                err.print(f"[red]error[/] {escape(str(exc))}")
                raise typer.Exit(EXIT_BAD_INPUT) from None
            from evo.mining.dataset import dataset_dir

            model = str(dataset_dir(dataset) / "generator" / "model.json")
        bar, update = _bar(err, "doctor")
        try:
            with bar:
                run = doctor(inputs, out=out, report=report, repair=repair, enhance=enhance, render=render,
                             silence=music_check, settings=doctor_settings(w, h, frames),
                             safe_ranges=str(safe_ranges) if safe_ranges else None, model=model, workers=workers,
                             progress=update)
        except DoctorError as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        if as_json:
            typer.echo(json.dumps(run.to_json(), indent=1))
        else:
            _print_run(err, run, verbose)
        if any(d.counts()["error"] for d in run.diagnoses):
            raise typer.Exit(EXIT_FINDINGS)

    @app.command("generate")
    def generate_cmd(
        n: int = typer.Option(20, "--n", help="how many healthy presets to write"),
        out: Path = typer.Option(..., "-o", "--out", help="output folder (.milk files, sheet.png, manifest.json)"),
        dataset: Optional[Path] = typer.Option(None, "--dataset", exists=True,
                                               help="a mined dataset to learn from (default: the model shipped, "
                                                    "fitted from projectm-data)"),
        family: Optional[str] = typer.Option(None, "--family", help="aim inside a style family (F3); needs --dataset with families"),
        gap: Optional[str] = typer.Option(None, "--gap", help="aim into a style-map gap (G2); needs --dataset with a map"),
        seed: int = typer.Option(0, "--seed", help="random seed (same seed and model, same presets)"),
        workers: int = typer.Option(2, "--workers", "-w", help="render worker processes (0 = in this process)"),
        as_json: bool = typer.Option(False, "--json", help="print the manifest's figures as JSON on stdout"),
    ) -> None:
        """Draw new presets from a generative model of good presets (PCA + Gaussian mixture over
        their parameters, equations and switches from real presets); each is rendered, checked by
        the doctor and scored, and only healthy ones are written."""
        from evo.generator.aim import AimError, aim_for
        from evo.generator.corpus_model import ModelError, model_for
        from evo.generator.generate import generate

        err = Console(stderr=True)
        if n < 1:
            raise typer.BadParameter("--n must be at least 1")
        if (family or gap) and dataset is None:
            raise typer.BadParameter("--family and --gap need --dataset (a dataset with `liandan cluster`/`map` run)")
        if family and gap:
            raise typer.BadParameter("aim at a family or at a gap, not both")
        try:
            with err.status("loading the model…"):
                model = model_for(dataset)
                aim = aim_for(model, dataset, family=family, gap=gap)
        except (ModelError, AimError, ValueError) as exc:
            err.print(f"[red]error[/] {escape(str(exc))}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
        bar, update = _bar(err, "generate")
        with bar:
            summary = generate(model, n, out, aim=aim, seed=seed, workers=workers, progress=update)
        if as_json:
            typer.echo(json.dumps({"figures": summary.figures, "dropped": summary.dropped,
                                   "presets": [e["file"] for e in summary.kept]}, indent=1))
            return
        _print_generated(err, summary)


def _print_run(err: Console, run, verbose: bool) -> None:
    for d in run.diagnoses:
        shown = [f for f in d.sorted_findings() if verbose or f.severity != "info"]
        if not shown:
            continue
        err.print(f"[bold]{escape(d.file)}[/]")
        for f in shown:
            where = f" line {f.line}" if f.line else ""
            err.print(f"  [{_COLOUR[f.severity]}]{f.severity}[/]{where}: {escape(f.message)}"
                      + (f" [dim](repair: {escape(f.fix)})[/]" if f.fix else ""))
    s = run.summary
    table = Table("severity", "finding", "files", title="findings, worst first", title_justify="left")
    for c in s["checks"]:
        table.add_row(f"[{_COLOUR[c['severity']]}]{c['severity']}[/]", f"{c['title']} ({c['check']})", str(c["files"]))
    if s["checks"]:
        err.print(table)
    w = s["by_worst_severity"]
    err.print(f"{s['files']} files: {s['healthy']} healthy, {s['dead']} dead; worst finding error {w['error']}, "
              f"warning {w['warning']}, info {w['info']}, clean {w['clean']}")
    if run.manifest:
        counts = {}
        for e in run.manifest:
            counts[e["verdict"]] = counts.get(e["verdict"], 0) + 1
        err.print("repairs: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in sorted(counts.items()))
                  + f" -> [bold]{escape(str(run.out))}[/] (manifest.json, before_after.png)")
    if run.enhanced:
        done = sum(e["verdict"] == "enhanced" for e in run.enhanced)
        err.print(f"enhanced {done} of {len(run.enhanced)} healthy presets -> {escape(str(run.out / 'enhanced'))}")
    if run.report is not None:
        err.print(f"report: [bold]{escape(str(run.report / 'report.html'))}[/]")


def _print_generated(err: Console, summary) -> None:
    f = summary.figures
    err.print(f"wrote {len(summary.kept)} of {summary.wanted} presets to [bold]{escape(str(summary.out))}[/] "
              f"({f.get('attempts')} drawn; healthy {f.get('healthy_share', 0):.0%})")
    if summary.dropped:
        err.print("dropped: " + ", ".join(f"{v} {k}" for k, v in sorted(summary.dropped.items())))
    if f.get("novelty_median") is not None:
        err.print(f"novelty: nearest corpus preset at {f['novelty_median']:.3f} (median) in descriptor space; "
                  f"corpus presets sit {f['corpus_nn_median']:.3f} from their nearest")
    if f.get("score_mean") is not None:
        err.print(f"score: mean {f['score_mean']:.3f} against the corpus's {f['corpus_score_mean']:.3f}; "
                  f"above {f['score_percentile']:.0%} of corpus presets on average")
    if "gap_share" in f:
        err.print(f"landed in the gap: {f['gap_share']:.0%} of the healthy ones")
    if "in_family" in f:
        err.print(f"assigned to the family aimed at: {f['in_family']:.0%}")
    err.print(f"sheet: {escape(str(summary.sheet))}  manifest: {escape(str(summary.out / 'manifest.json'))}")
