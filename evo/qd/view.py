"""The archive seen through two descriptors: what the Archive page draws.

A CVT archive lives in as many dimensions as it has measures; a person looks at two at a time.
:func:`archive_grid` bins the elites by two chosen measures into a ``bins`` x ``bins`` grid and
keeps, per bin, the elite with the highest objective (the others in that bin differ in the
measures not shown).
"""

from __future__ import annotations

from dataclasses import dataclass

from evo.checkpoint import ArchiveElite, ArchiveRecord


@dataclass
class GridCell:
    row: int  # 0 = the top row = the highest values of the y measure
    col: int  # 0 = the lowest values of the x measure
    elite: ArchiveElite | None  # the best elite in this bin, or None
    count: int  # elites in this bin


def bin_of(value: float, bins: int) -> int:
    return min(bins - 1, max(0, int(value * bins)))


def archive_grid(record: ArchiveRecord, x: str, y: str, bins: int = 8) -> list[list[GridCell]]:
    """Rows (top to bottom: y high to low) of columns (x low to high)."""
    if x not in record.measures or y not in record.measures:
        raise ValueError(f"measures must be among {record.measures}, got {x!r} and {y!r}")
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    ix, iy = record.measures.index(x), record.measures.index(y)
    grid = [[GridCell(r, c, None, 0) for c in range(bins)] for r in range(bins)]
    for e in record.elites:
        cell = grid[bins - 1 - bin_of(e.measures[iy], bins)][bin_of(e.measures[ix], bins)]
        cell.count += 1
        if cell.elite is None or (e.objective, e.id) > (cell.elite.objective, cell.elite.id):
            cell.elite = e
    return grid
