"""``liandan evolve / resume / runs / export / demo``: the evolution commands.

They also work without a terminal (a log, CI): the live display falls back to one line per
generation.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Optional

import typer

from evo.config import ConfigError, load_config
from evo.store import RunStore, StoreError


class LiveDisplay:
    """Generation, evaluations/s, best and mean score, errors: a rich Live table, or plain lines."""

    def __init__(self, run_label: str, generations: int, console=None):
        from rich.console import Console

        self.console = console or Console(stderr=False)
        self.label = run_label
        self.generations = generations
        self.live = None
        self.state = {"generation": 0, "done": 0, "total": 0, "best": None, "mean": None, "errors": 0,
                      "degenerate": 0, "rate": 0.0, "note": ""}
        self._t0 = time.monotonic()
        self._gen_t0 = time.monotonic()

    def __enter__(self):
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(self._render(), console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc):
        if self.live is not None:
            self.live.update(self._render())
            self.live.__exit__(*exc)

    def _render(self):
        from rich.table import Table

        s = self.state
        t = Table(title=f"liandan evolve — {self.label}", show_header=False, expand=False)
        t.add_row("generation", f"{s['generation'] + 1} / {self.generations}")
        t.add_row("evaluated", f"{s['done']} / {s['total']}")
        t.add_row("evaluations/s", f"{s['rate']:.2f}")
        t.add_row("best / mean score", "-" if s["best"] is None else f"{s['best']:.4f} / {s['mean']:.4f}")
        t.add_row("errors / degenerate", f"{s['errors']} / {s['degenerate']}")
        if s.get("coverage") is not None:
            t.add_row("archive coverage / QD-score", f"{100 * s['coverage']:.1f}% / {s['qd_score']:.2f}")
        if s["note"]:
            t.add_row("", s["note"])
        return t

    def __call__(self, event: dict) -> None:
        s, kind = self.state, event["type"]
        if kind == "generation_start":
            s.update(generation=event["generation"], done=0, total=event["total"], note="")
            self._gen_t0 = time.monotonic()
        elif kind == "evaluated":
            s["done"] = event["done"]
            s["rate"] = event["done"] / max(1e-6, time.monotonic() - self._gen_t0)
        elif kind == "generation_end":
            r = event["record"]
            s.update(best=r["best"], mean=r["mean"], errors=r["errors"], degenerate=r["degenerate"],
                     coverage=r.get("coverage"), qd_score=r.get("qd_score"))
            if event["seconds"] > 0:
                s["rate"] = event["evaluated"] / event["seconds"]
            if self.live is None:
                self.console.print(
                    f"gen {r['gen'] + 1}/{self.generations}: best {r['best']:.4f} mean {r['mean']:.4f} "
                    f"errors {r['errors']} degenerate {r['degenerate']} ({s['rate']:.2f} evals/s)"
                )
        elif kind == "waiting_votes":
            s["note"] = f"waiting for votes: {event['votes']} / {event['needed']} (distinct voter and individual)"
        elif kind == "finished":
            s["note"] = "finished"
        elif kind == "note":  # something the user should know (repairs, warnings): printed once, kept
            self.console.print(f"note: {event['message']}", style="yellow", markup=False, highlight=False,
                               soft_wrap=True)
        if self.live is not None:
            self.live.update(self._render())


def _sigterm_to_interrupt() -> None:
    """The UI stops a run with SIGTERM: turn it into KeyboardInterrupt so the state says 'stopped'."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (tests calling the command in-process)
        pass


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _finish_message(store: RunStore, run_id: str) -> None:
    run = store.open(run_id)
    typer.echo(f"run: {run.dir}")
    typer.echo(f"hall of fame: {run.contact_sheet_path}")


def _evolve(cfg, store: RunStore, name: Optional[str], scheduler: Optional[str]) -> str:
    from evo.driver import start_run

    run_id = store.new_run_id(name)
    if store.exists(run_id):
        _fail(f"{store.run_dir(run_id)}: run already exists (use `liandan resume {run_id}`)")
    _sigterm_to_interrupt()
    with LiveDisplay(run_id, cfg.run.generations) as display:
        start_run(cfg, store, run_id, progress=display, address=scheduler)
    return run_id


def register(app: typer.Typer) -> None:
    @app.command("evolve")
    def evolve(
        seeds: Optional[Path] = typer.Option(None, "--seeds", help="folder of seed .milk files (default: the corpus, else evo/seeds)"),
        generations: Optional[int] = typer.Option(None, "--generations", "-g"),
        population: Optional[int] = typer.Option(None, "--population", "-p"),
        audio: Optional[Path] = typer.Option(None, "--audio", help="music file (default: synthetic music)"),
        workers: Optional[int] = typer.Option(None, "--workers", "-w", help="Dask worker processes (0 = in this process)"),
        seed: Optional[int] = typer.Option(None, "--seed", "-s"),
        run: Optional[str] = typer.Option(None, "--run", help="run name (default: run-DATE-TIME)"),
        runs_dir: Path = typer.Option(Path("runs"), "--runs-dir"),
        config: Optional[Path] = typer.Option(None, "--config", help="TOML file over evo/default_config.toml"),
        frames: Optional[int] = typer.Option(None, "--frames", help="frames rendered per candidate"),
        size: Optional[int] = typer.Option(None, "--size", help="render width and height"),
        mode: Optional[str] = typer.Option(None, "--mode", help="autonomous | interactive"),
        search: Optional[str] = typer.Option(None, "--search", help="ga (generational GA, default) | qd (MAP-Elites archive)"),
        votes_needed: Optional[int] = typer.Option(None, "--votes-needed", help="interactive: votes to wait for"),
        vote_timeout: Optional[float] = typer.Option(None, "--vote-timeout", help="interactive: max seconds to wait"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler", help="address of an existing Dask scheduler"),
        safe_ranges: Optional[Path] = typer.Option(None, "--safe-ranges", help="safe-ranges JSON from `liandan analyze`"),
        predictor: Optional[bool] = typer.Option(None, "--predictor/--no-predictor",
                                                 help="the taste model learned from votes in selection (default: on)"),
        prescreen: Optional[int] = typer.Option(None, "--prescreen",
                                                help="breed N x the children, render the best by the taste model (1 = off)"),
        player: Optional[str] = typer.Option(None, "--player",
                                             help="judge candidates as milkdrop2 (default) or butterchurn renders them"),
    ) -> None:
        """Breed presets: evaluate, select, vary, for G generations; leaves runs/NAME."""
        overrides = {
            "seeds.dir": str(seeds) if seeds else None, "run.generations": generations, "run.population": population,
            "fitness.audio": str(audio) if audio else None, "evaluation.workers": workers, "run.seed": seed,
            "fitness.frames": frames, "fitness.width": size, "fitness.height": size, "run.mode": mode,
            "run.votes_needed": votes_needed, "run.vote_timeout_s": vote_timeout, "run.search": search,
            "ga.safe_ranges": str(safe_ranges.resolve()) if safe_ranges else None,
            "predictor.enabled": predictor, "predictor.prescreen": prescreen, "fitness.player": player,
        }
        if audio is not None and not audio.is_file():
            _fail(f"{audio}: no such audio file")
        if seeds is not None and not seeds.is_dir():
            _fail(f"{seeds}: no such seed folder")
        try:
            cfg = load_config(config, overrides)
        except ConfigError as exc:
            _fail(str(exc))
        store = RunStore(runs_dir)
        try:
            run_id = _evolve(cfg, store, run, scheduler)
        except (StoreError, FileNotFoundError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            typer.echo("stopped; continue with `liandan resume RUN`", err=True)
            raise typer.Exit(130)
        _finish_message(store, run_id)

    @app.command("resume")
    def resume(
        run_id: str = typer.Argument(..., metavar="RUN"),
        runs_dir: Path = typer.Option(Path("runs"), "--runs-dir"),
        scheduler: Optional[str] = typer.Option(None, "--scheduler"),
    ) -> None:
        """Continue a stopped or killed run exactly where its last checkpoint left it."""
        from evo.driver import resume_run

        store = RunStore(runs_dir)
        _sigterm_to_interrupt()
        try:
            run = store.open(run_id)
            n = int(run.config.get("run", {}).get("generations", 0))
            with LiveDisplay(run_id, n) as display:
                resume_run(run_id, store, progress=display, address=scheduler)
        except StoreError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            typer.echo("stopped; continue with `liandan resume RUN`", err=True)
            raise typer.Exit(130)
        _finish_message(store, run_id)

    @app.command("runs")
    def runs(runs_dir: Path = typer.Option(Path("runs"), "--runs-dir")) -> None:
        """List runs with their state."""
        from rich.console import Console
        from rich.table import Table

        table = Table("run", "status", "generation", "best score", "created")
        for s in RunStore(runs_dir).list_runs():
            gen = f"{s.generation + 1} / {s.n_generations}" if s.generation >= 0 else f"- / {s.n_generations}"
            best = "-" if s.best_score is None else f"{s.best_score:.4f}"
            table.add_row(s.id, s.status, gen, best, s.created)
        Console().print(table)

    @app.command("export")
    def export(
        run_id: str = typer.Argument(..., metavar="RUN"),
        top: int = typer.Option(10, "--top", "-k", help="how many of the best (distinct) presets"),
        out: Path = typer.Option(..., "-o", "--out", help="output folder"),
        runs_dir: Path = typer.Option(Path("runs"), "--runs-dir"),
    ) -> None:
        """Write the run's best presets (machine score plus votes) as .milk files; for a
        quality-diversity run, the best most distinct elites of its archive."""
        try:
            run = RunStore(runs_dir).open(run_id)
            paths = run.export(run.best(top), out)
        except StoreError as exc:
            _fail(str(exc))
        for p in paths:
            typer.echo(str(p))

    @app.command("demo")
    def demo(
        runs_dir: Path = typer.Option(Path("runs"), "--runs-dir"),
        workers: int = typer.Option(2, "--workers", "-w"),
        seed: int = typer.Option(0, "--seed", "-s"),
    ) -> None:
        """A short evolution (12 presets x 4 generations, synthetic music) to see what liandan does."""
        cfg = load_config(None, {"run.population": 12, "run.generations": 4, "evaluation.workers": workers, "run.seed": seed})
        store = RunStore(runs_dir)
        name = time.strftime("demo-%Y%m%d-%H%M%S")
        try:
            run_id = _evolve(cfg, store, name, None)
        except KeyboardInterrupt:
            raise typer.Exit(130)
        run = store.open(run_id)
        typer.echo("")
        typer.echo(f"run folder:        {run.dir}")
        typer.echo(f"hall of fame:      {run.contact_sheet_path}")
        typer.echo(f"previews:          {run.dir / 'individuals'}/<id>/preview.webp, still.png, preset.milk")
        typer.echo(f"export the best:   liandan export {run_id} --top 5 -o best/ --runs-dir {runs_dir}")
        typer.echo(f"vote in a browser: liandan ui --runs-dir {runs_dir}   (then open http://127.0.0.1:8501)")
