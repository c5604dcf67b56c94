"""``liandan predictor train | eval | show``: the taste model learned from votes."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

group = typer.Typer(help="The taste model: P(liked) learned from votes in every run.", no_args_is_help=True)

RUNS = typer.Option(Path("runs"), "--runs-dir", help="Where runs (and their votes) live.")
VOTERS = typer.Option(None, "--voters", help="Comma-separated voter names: a group's own taste (default: everyone).")
DATASET = typer.Option(None, "--dataset", help="A mining dataset: its presets become the cold-start positives.")


def _voters(text: str | None) -> set[str] | None:
    return {v.strip() for v in text.split(",") if v.strip()} if text else None


def _dataset(path: Path | None):
    if path is None:
        return None
    from evo.mining.dataset import load_dataset

    return load_dataset(path)


def _report(console: Console, trained, saved: tuple[Path, Path] | None) -> None:
    look, genome = trained.look, trained.genome
    liked = sum(e.label for e in trained.human)
    console.print(f"votes used: {len(trained.human)} voted looks ({liked} liked, {len(trained.human) - liked} disliked); "
                  f"bootstrap: {len(trained.bootstrap)} examples worth "
                  f"{sum(e.weight for e in trained.bootstrap):.1f} votes")
    for name, m in (("look model (what people saw)", look), ("genome model (pre-screening)", genome)):
        auc = "not enough votes to cross-validate" if m.cv_auc_ is None else f"{m.cv_auc_:.3f}"
        console.print(f"{name}: cross-validated AUC on votes {auc} (C={m.C_:g})")
    t = Table("feature", "weight", title="What the look model goes by (standardised coefficients)", title_justify="left")
    for name, coef in look.importances()[:10]:
        t.add_row(name, f"{coef:+.3f}")
    console.print(t)
    if saved:
        console.print(f"saved: {saved[0]}  {saved[1]}")


@group.command("train")
def train(runs_dir: Path = RUNS, voters: Optional[str] = VOTERS, dataset: Optional[Path] = DATASET) -> None:
    """Learn the taste of everyone (or --voters) from all votes in all runs, and save it."""
    from evo.predictor.train import model_paths
    from evo.predictor.train import train as fit

    console = Console()
    try:
        trained = fit(runs_dir, _voters(voters), _dataset(dataset))
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error[/] {escape(str(exc))}")
        raise typer.Exit(2)
    _report(console, trained, model_paths(runs_dir, _voters(voters)))


@group.command("eval")
def evaluate(runs_dir: Path = RUNS, voters: Optional[str] = VOTERS, dataset: Optional[Path] = DATASET,
             plot: Path = typer.Option(Path("reliability.png"), "--plot", help="Reliability plot (PNG).")) -> None:
    """Cross-validated AUC, calibration plot and features of a freshly trained model (nothing saved)."""
    from evo.predictor.train import reliability, reliability_png
    from evo.predictor.train import train as fit
    from renderer.output.files import atomic_write_bytes

    console = Console()
    try:
        trained = fit(runs_dir, _voters(voters), _dataset(dataset), save=False)
    except ValueError as exc:
        Console(stderr=True).print(f"[red]error[/] {escape(str(exc))}")
        raise typer.Exit(2)
    _report(console, trained, None)
    points = reliability(trained.look)
    auc = trained.look.cv_auc_
    atomic_write_bytes(plot, reliability_png(points, f"held-out votes, AUC {auc:.3f}" if auc else "too few votes"))
    for p, share, n in points:
        console.print(f"  predicted {p:.2f} -> liked {share:.2f} ({n} votes)")
    console.print(f"reliability plot: {plot}")


@group.command("show")
def show(runs_dir: Path = RUNS, voters: Optional[str] = VOTERS) -> None:
    """The saved model: when it is trusted, how much it counts in selection, what it goes by."""
    from evo.predictor.model import TasteModel, TasteModelError, model_weight
    from evo.predictor.train import model_paths

    console = Console()
    path = model_paths(runs_dir, _voters(voters))[0]
    try:
        m = TasteModel.load(path)
    except TasteModelError as exc:
        Console(stderr=True).print(f"[red]error[/] {escape(str(exc))}")
        raise typer.Exit(2)
    auc = "n/a" if m.cv_auc_ is None else f"{m.cv_auc_:.3f}"
    console.print(f"{path}: {m.n_human_} voted looks ({m.n_liked_} liked), {m.n_bootstrap_} bootstrap examples, "
                  f"cross-validated AUC {auc}; weight in selection {model_weight(m):.2f}")
    for name, coef in m.importances()[:10]:
        console.print(f"  {name:28s} {coef:+.3f}")


def register(app: typer.Typer) -> None:
    app.add_typer(group, name="predictor")
