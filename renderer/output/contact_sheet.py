"""A contact sheet: many presets' frames in a grid, each with its name below.

People judge a folder of presets faster from a picture than from a list, so ``liandan sheet``
and the corpus tools end in one PNG. Presets that failed get a dark red tile saying so, keeping
every name in the grid where it was asked for.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
BACKGROUND = (16, 16, 16)
TEXT = (220, 220, 220)
ERROR_TILE = (70, 10, 10)
PAD = 4


@dataclass
class Tile:
    name: str
    image: np.ndarray | None  # HxWx3 uint8, or None when the preset failed
    note: str = ""  # shown on the tile when image is None (e.g. "error")


def load_font(size: int):
    """DejaVu Sans when installed (readable at small sizes, has accents), else Pillow's default."""
    for path in FONT_PATHS:
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def fit_lines(text: str, font, width: int, max_lines: int = 2) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines no wider than ``width``; ellipsis if cut."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines:
        if font.getlength(rest) <= width:
            lines.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and font.getlength(rest[:cut]) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines


def contact_sheet(tiles: Sequence[Tile], columns: int | None = None, tile_size: tuple[int, int] | None = None,
                  label_lines: int = 2) -> Image.Image:
    """The grid as a Pillow image; tile size defaults to the first image's size."""
    if not tiles:
        raise ValueError("contact sheet: no presets to show")
    if tile_size is None:
        first = next((t.image for t in tiles if t.image is not None), None)
        tile_size = (first.shape[1], first.shape[0]) if first is not None else (128, 128)
    tw, th = tile_size
    columns = columns or max(1, math.ceil(math.sqrt(len(tiles) * th / max(tw, 1))))
    rows = math.ceil(len(tiles) / columns)
    font_size = max(9, min(14, tw // 9))
    font = load_font(font_size)
    line_h = font_size + 3
    label_h = label_lines * line_h + PAD
    cell_w, cell_h = tw + 2 * PAD, th + label_h + 2 * PAD
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for i, tile in enumerate(tiles):
        x0 = (i % columns) * cell_w + PAD
        y0 = (i // columns) * cell_h + PAD
        if tile.image is not None:
            img = Image.fromarray(np.ascontiguousarray(tile.image[:, :, :3]))
            if img.size != (tw, th):
                img = img.resize((tw, th), Image.BILINEAR)
            sheet.paste(img, (x0, y0))
        else:
            draw.rectangle([x0, y0, x0 + tw - 1, y0 + th - 1], fill=ERROR_TILE)
            for j, line in enumerate(fit_lines(tile.note or "error", font, tw - 4, 3)):
                draw.text((x0 + 2, y0 + 2 + j * line_h), line, fill=TEXT, font=font)
        for j, line in enumerate(fit_lines(tile.name, font, tw, label_lines)):
            draw.text((x0, y0 + th + PAD // 2 + j * line_h), line, fill=TEXT, font=font)
    return sheet


def save_contact_sheet(tiles: Sequence[Tile], out: str | os.PathLike, columns: int | None = None,
                       tile_size: tuple[int, int] | None = None) -> Path:
    out = Path(out)
    if out.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
        raise ValueError(f"{out}: a contact sheet is written as .png, .jpg or .webp")
    out.parent.mkdir(parents=True, exist_ok=True)
    contact_sheet(tiles, columns, tile_size).save(out)
    return out
