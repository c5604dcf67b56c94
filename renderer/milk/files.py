"""Finding preset files: every tool that takes a folder (scan, sheet, evolve's seeds, mining)
finds the same files in the same order."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def find_presets(root: str | os.PathLike) -> list[Path]:
    """Every ``*.milk`` under ``root`` (the suffix in any case: Windows folders hold ``.MILk``),
    sorted by path relative to ``root`` with ``/`` separators, so the order is the same on every
    platform. A file given as ``root`` is returned alone."""
    root = Path(root)
    if root.is_file():
        return [root]
    found = [Path(d) / name for d, _dirs, names in os.walk(root) for name in names if name.lower().endswith(".milk")]
    return sorted((p for p in found if p.is_file()), key=lambda p: p.relative_to(root).as_posix())


def expand_inputs(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """Files as given, folders searched with :func:`find_presets`, in the order given."""
    out: list[Path] = []
    for item in map(Path, inputs):
        out.extend(find_presets(item) if item.is_dir() else [item])
    return out
