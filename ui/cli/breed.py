"""``liandan breed A.milk B.milk -o CHILD.milk``: the GA's crossbreed on two files."""

from __future__ import annotations

from pathlib import Path

import typer

from evo.breeding import BreedError, breed_files


def register(app: typer.Typer) -> None:
    @app.command("breed")
    def breed(
        a: Path = typer.Argument(..., help="parent A (.milk); ratio 0 gives A"),
        b: Path = typer.Argument(..., help="parent B (.milk); ratio 1 gives B"),
        out: Path = typer.Option(..., "-o", "--out", help="where to write the child .milk"),
        ratio: float = typer.Option(0.5, "--ratio", "-r", min=0.0, max=1.0, help="0 = all A, 1 = all B"),
        seed: int = typer.Option(0, "--seed", "-s", help="same seed, same child"),
        mode: str = typer.Option("genes", "--mode", help="genes: blend numbers, swap blocks; "
                                 "slots: MilkDrop 2 mash-up (general/motion/wave/warp/comp whole)"),
    ) -> None:
        """Breed two presets into a child (the same crossbreed the GA uses)."""
        try:
            child = breed_files(a, b, out, ratio=ratio, seed=seed, mode=mode)
        except BreedError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        waves = sum(w.enabled for w in child.waves)
        shapes = sum(s.enabled for s in child.shapes)
        typer.echo(f"wrote {out}  (ratio {ratio:g}, seed {seed}, {mode}; "
                   f"{len(child.per_frame_code)} per-frame lines, {waves} waves, {shapes} shapes"
                   f"{', shaders' if child.has_shaders else ''})")
