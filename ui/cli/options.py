"""Argument forms several commands share."""

from __future__ import annotations

import typer

MAX_SIDE = 8192


def parse_wh(text: str, what: str = "--size") -> tuple[int, int]:
    """'256x128' -> (256, 128); a clear error naming the option otherwise."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        w, h = (int(p) for p in parts)
    except ValueError:
        raise typer.BadParameter(f"{what} must look like WIDTHxHEIGHT (e.g. 256x256), got {text!r}") from None
    if not (1 <= w <= MAX_SIDE and 1 <= h <= MAX_SIDE):
        raise typer.BadParameter(f"{what} {text!r}: each side must be between 1 and {MAX_SIDE}")
    return w, h
