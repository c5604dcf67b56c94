"""The ``liandan`` command: one typer app assembled from each layer's own command module.

Each layer keeps its commands next to the code they drive (renderer commands in ``renderer/``,
evolution commands in ``evo/``), and this module only mounts them, so the dependency arrows still
point ui -> evo -> renderer.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="liandan",
    help="炼丹 — breed MilkDrop presets: parse, render, evolve, vote.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

# Modules that define ``register(app)``; listed in the order their commands appear in --help.
COMMAND_MODULES = (
    "renderer.cli_preset",   # info, scan
    "renderer.cli_render",   # render, sheet
    "evo.cli_evolve",        # evolve, resume, runs, export, demo
    "evo.cli_breed",         # breed
    "ui.cli_ui",             # ui
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a layer still being written; never hides errors inside it
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
