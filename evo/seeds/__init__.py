"""Presets we wrote ourselves, shipped in the package.

They seed a run when the projectM corpus (/usr/share/projectM/presets) is not installed: ten small
MilkDrop 1 presets covering zoom/rotation/warp motion, the built-in waveforms, custom waves,
custom shapes, per-frame and per-pixel code.
"""

from __future__ import annotations

from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent


def seed_paths() -> list[Path]:
    """The shipped seed presets, sorted by name (a stable order for seeded runs)."""
    return sorted(SEEDS_DIR.glob("*.milk"))
