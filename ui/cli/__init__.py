"""The ``liandan`` command: one typer app, one module per command group.

A command parses its arguments, calls the library (``evo`` for runs, data and evaluation;
``renderer`` for presets and frames) and prints; the work itself lives there, so the Streamlit
pages and the commands share it.
"""

from __future__ import annotations

import typer

from ui.cli import (
    breed,
    doctor,
    evolve,
    families,
    mining,
    music,
    predictor,
    preset,
    render,
    serve,
)

app = typer.Typer(
    name="liandan",
    help="炼丹 — breed MilkDrop presets: parse, render, evolve, vote.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# In the order their commands appear in --help.
for _group in (preset, render, evolve, breed, mining, families, doctor, music, predictor, serve):
    _group.register(app)


def main() -> None:
    app()
