"""Breed two presets by hand: the GA's own crossbreed applied to two files or two texts.

Used by ``liandan breed`` and by the UI's Breed page, so a child made by hand is exactly a child
the GA could have made (same operator, same seeded generator, same repair).
"""

from __future__ import annotations

import random
from pathlib import Path

from renderer.milk.preset import Preset, PresetError, load_milk, parse_milk, save_milk

from evo.genome import genome_from_preset, genome_text, preset_from_genome
from evo.operators import crossbreed, repair


class BreedError(ValueError):
    """Breeding could not start; ``str()`` names the file and line when a parent is at fault."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        self.source, self.line = source, line
        super().__init__(message)


def breed_presets(a: Preset, b: Preset, ratio: float = 0.5, seed: int = 0, mode: str = "genes") -> Preset:
    """The child preset (decoded through the writer and reader, so it is what the file will hold)."""
    child = crossbreed(genome_from_preset(a), genome_from_preset(b), _ratio(ratio), random.Random(seed), _mode(mode))
    return preset_from_genome(repair(child), source="child")


def breed_texts(a_text: str | bytes, b_text: str | bytes, ratio: float = 0.5, seed: int = 0,
                names: tuple[str, str] = ("A", "B"), mode: str = "genes") -> str:
    """``.milk`` text of the child of two ``.milk`` texts."""
    parents = []
    for text, name in zip((a_text, b_text), names):
        try:
            parents.append(parse_milk(text, source=name))
        except PresetError as exc:
            raise BreedError(str(exc), exc.source, exc.line) from exc
    child = crossbreed(genome_from_preset(parents[0]), genome_from_preset(parents[1]), _ratio(ratio),
                       random.Random(seed), _mode(mode))
    return genome_text(repair(child))


def breed_files(a_path: str | Path, b_path: str | Path, out_path: str | Path, ratio: float = 0.5,
                seed: int = 0, mode: str = "genes") -> Preset:
    """Read two ``.milk`` files, write the child atomically, return the child as read back."""
    parents = []
    for path in (a_path, b_path):
        try:
            parents.append(load_milk(path))
        except PresetError as exc:
            raise BreedError(str(exc), exc.source, exc.line) from exc
    child = breed_presets(parents[0], parents[1], ratio, seed, mode)
    try:
        save_milk(child, out_path)
    except OSError as exc:
        raise BreedError(f"{out_path}: cannot write: {exc.strerror or exc}", str(out_path)) from exc
    return load_milk(out_path)


def _ratio(ratio: float) -> float:
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0.0 <= ratio <= 1.0:
        raise BreedError(f"ratio must be between 0 and 1, not {ratio}")
    return float(ratio)


def _mode(mode: str) -> str:
    if mode not in ("genes", "slots"):
        raise BreedError(f"mode must be 'genes' or 'slots', not {mode!r}")
    return mode
