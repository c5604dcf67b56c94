"""Pictures of families and the map: the family sheet, the style tree and the atlas (PNG).

People judge a family from its look faster than from its label, so each picture is built from the
dataset's own thumbnails (``thumbs/HASH.png``, written by ``liandan mine``); a preset without one
gets a dark tile.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from renderer.output.contact_sheet import fit_lines, load_font
from renderer.output.files import atomic_write_bytes

from evo.families.clusterer import NOISE
from evo.mining.dataset import THUMBS_DIR

BACKGROUND = (20, 23, 28)
TEXT = (225, 228, 232)
DIM = (140, 148, 160)
NOISE_COLOUR = (95, 102, 112)
MISSING = (45, 45, 52)
# 20 colours that stay apart on a dark background (hand-picked; cycled by family id)
PALETTE = ("#54a0ff", "#ff9f43", "#1dd1a1", "#ff6b6b", "#c56cf0", "#feca57", "#48dbfb", "#ff9ff3", "#10ac84",
           "#ee5253", "#a29bfe", "#f368e0", "#0abde3", "#fd9644", "#26de81", "#eb3b5a", "#4b7bec", "#fed330",
           "#2bcbba", "#a55eea")


def family_colour(fam: int) -> str:
    """The family's colour in every picture and on the Map page (grey for noise)."""
    return "#5f6670" if fam == NOISE else PALETTE[int(fam) % len(PALETTE)]


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


@lru_cache(maxsize=4096)
def _thumb(dataset: str, digest: str, size: int) -> Image.Image:
    path = Path(dataset) / THUMBS_DIR / f"{digest}.png"
    try:
        with Image.open(path) as im:
            return im.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
    except (OSError, ValueError):
        return Image.new("RGB", (size, size), MISSING)


def _save(image: Image.Image, path: Path) -> Path:
    import io

    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=False)
    atomic_write_bytes(path, buf.getvalue(), sync=False)
    return path


def family_sheet(fams, path: Path, thumbs: int = 6, size: int = 72) -> Path:
    """One row per family: colour, id, size, label, main folders and its most typical members."""
    font, small, big = load_font(15), load_font(12), load_font(20)
    text_w = 380
    row_h = size + 16
    families = sorted(fams.families.values(), key=lambda f: f.id)
    noise = fams.points[fams.points["family"] == NOISE]
    n_rows = len(families) + (1 if len(noise) else 0)
    width = 16 + text_w + thumbs * (size + 6) + 10
    head = 64
    img = Image.new("RGB", (width, head + n_rows * row_h + 10), BACKGROUND)
    d = ImageDraw.Draw(img)
    q = fams.quality
    d.text((16, 10), f"{len(families)} style families of {q.get('presets', len(fams.points))} presets", font=big, fill=TEXT)
    facts = [f"noise {q.get('noise', 0):.0%}"]
    if q.get("stability_ari") is not None:
        facts.append(f"stability (ARI) {q['stability_ari']:.2f}")
    if q.get("nmi_folders") is not None:
        facts.append(f"NMI with folders {q['nmi_folders']:.2f}")
    facts.append(fams.space.describe())
    d.text((16, 38), " · ".join(facts), font=small, fill=DIM)
    ds = str(fams.dataset)
    y = head
    for f in families:
        d.rectangle([4, y + 4, 10, y + row_h - 8], fill=_rgb(family_colour(f.id)))
        d.text((16, y + 4), f"{f.name} · {f.size} presets" + (f" ({f.files} files)" if f.files != f.size else ""),
               font=font, fill=TEXT)
        for k, line in enumerate(fit_lines(f.label, small, text_w - 10, 2)):
            d.text((16, y + 26 + 15 * k), line, font=small, fill=TEXT)
        folders = ", ".join(f"{name} {n}" for name, n in f.folders[:2])
        if folders:
            d.text((16, y + 58), fit_lines(folders, small, text_w - 10, 1)[0], font=small, fill=DIM)
        for k, digest in enumerate(f.medoids[:thumbs]):
            img.paste(_thumb(ds, digest, size), (16 + text_w + k * (size + 6), y + 4))
        y += row_h
    if len(noise):
        d.rectangle([4, y + 4, 10, y + row_h - 8], fill=_rgb(family_colour(NOISE)))
        d.text((16, y + 4), f"noise · {len(noise)} presets", font=font, fill=TEXT)
        d.text((16, y + 26), "in no family: one of a kind, or between families", font=small, fill=DIM)
        for k, digest in enumerate(noise["hash"].head(thumbs)):
            img.paste(_thumb(ds, digest, size), (16 + text_w + k * (size + 6), y + 4))
    return _save(img, path)


def tree_picture(fams, path: Path, size: int = 48) -> Path:
    """The style tree: families joined by how close their centres are (average linkage), each
    leaf with its most typical member, id, size and label."""
    from scipy.cluster.hierarchy import dendrogram

    font, small = load_font(14), load_font(12)
    tree = fams.tree or {}
    leaves = tree.get("leaves") or sorted(fams.families)
    row_h = size + 10
    label_w = 360
    tree_w = 420
    if tree.get("linkage"):
        dn = dendrogram(np.asarray(tree["linkage"], dtype=float), no_plot=True)
        order = [leaves[i] for i in dn["leaves"]]
    else:
        dn, order = None, list(leaves)
    height = 50 + max(1, len(order)) * row_h + 30
    img = Image.new("RGB", (16 + size + 8 + label_w + tree_w + 20, height), BACKGROUND)
    d = ImageDraw.Draw(img)
    d.text((16, 12), "style tree: families joined by the distance between their centres", font=font, fill=TEXT)
    x_tree = 16 + size + 8 + label_w
    top = 50
    for k, fam in enumerate(order):
        f = fams.families.get(fam)
        if f is None:
            continue
        y = top + k * row_h
        if f.medoids:
            img.paste(_thumb(str(fams.dataset), f.medoids[0], size), (16, y))
        d.rectangle([16 + size + 2, y, 16 + size + 5, y + size], fill=_rgb(family_colour(fam)))
        d.text((16 + size + 10, y + 2), f"{f.name} · {f.size}", font=font, fill=TEXT)
        d.text((16 + size + 10, y + 22), fit_lines(f.label, small, label_w - 14, 1)[0], font=small, fill=DIM)
    if dn is not None:
        dmax = max(max(dc) for dc in dn["dcoord"]) or 1.0
        for ic, dc in zip(dn["icoord"], dn["dcoord"]):
            pts = [(x_tree + dist / dmax * (tree_w - 10), top + (i - 5) / 10 * row_h + size / 2) for i, dist in zip(ic, dc)]
            d.line(pts, fill=DIM, width=2)
        d.text((x_tree, height - 24), "0", font=small, fill=DIM)
        d.text((x_tree + tree_w - 60, height - 24), f"{dmax:.1f}", font=small, fill=DIM)
    return _save(img, path)


def atlas_picture(atlas, path: Path, canvas: int = 1800, size: int = 56, max_thumbs: int = 420) -> Path:
    """The map as a picture: every preset a dot in its family's colour, thumbnails of typical
    members where they do not overlap, gaps as rings with their ids, family ids at their centres."""
    fams = atlas.families
    font, small = load_font(16), load_font(13)
    margin = 40
    xy = atlas.xy
    lo = xy.min(axis=0) if len(xy) else np.zeros(2)
    span = float((xy.max(axis=0) - lo).max()) if len(xy) else 1.0
    span = span or 1.0

    extent = (xy.max(axis=0) - lo) / span if len(xy) else np.ones(2)
    inner = canvas - 2 * margin
    off = margin + (1 - extent) * inner / 2  # the shorter side centred

    def px(p) -> tuple[float, float]:
        return (off[0] + (p[0] - lo[0]) / span * inner, canvas - off[1] - (p[1] - lo[1]) / span * inner)

    img = Image.new("RGB", (canvas, canvas), BACKGROUND)
    d = ImageDraw.Draw(img)
    labels = fams.labels
    for p, fam in zip(xy, labels):
        cx, cy = px(p)
        r = 2 if fam == NOISE else 3
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=_rgb(family_colour(int(fam))))
    # thumbnails: medoids first, then the most confident members, placed where nothing sits yet
    order: list[int] = []
    pos = fams.index_of([h for f in fams.families.values() for h in f.medoids[:3]])
    order += [int(i) for i in pos if i >= 0]
    prob = fams.points["probability"].to_numpy()
    ranked = np.argsort(-prob, kind="stable")
    order += [int(i) for i in ranked if labels[i] != NOISE] + [int(i) for i in ranked if labels[i] == NOISE]
    cell = 8  # occupancy in 8-pixel cells: thumbnails may touch, never overlap
    taken = np.zeros((canvas // cell + 2, canvas // cell + 2), bool)
    placed = 0
    ds = str(fams.dataset)
    hashes = fams.points["hash"].to_numpy()
    seen: set[int] = set()
    for i in order:
        if placed >= max_thumbs or i in seen:
            continue
        seen.add(i)
        cx, cy = px(xy[i])
        x0, y0 = int(cx - size / 2), int(cy - size / 2)
        box = (slice(max(0, (y0 - 2) // cell), (y0 + size + 2) // cell + 1),
               slice(max(0, (x0 - 2) // cell), (x0 + size + 2) // cell + 1))
        if taken[box].any():
            continue
        taken[box] = True
        d.rectangle([x0 - 2, y0 - 2, x0 + size + 1, y0 + size + 1], fill=_rgb(family_colour(int(labels[i]))))
        img.paste(_thumb(ds, str(hashes[i]), size), (x0, y0))
        placed += 1
    for g in atlas.gaps:
        cx, cy = px((g.x, g.y))
        r = g.radius / span * (canvas - 2 * margin)
        for a in range(0, 360, 20):  # a dashed ring
            d.arc([cx - r, cy - r, cx + r, cy + r], a, a + 11, fill=(240, 240, 240), width=2)
        d.text((cx - 10, cy - 9), g.id, font=font, fill=(240, 240, 240))
    for f in fams.families.values():
        members = labels == f.id
        if not members.any():
            continue
        cx, cy = px(np.median(xy[members], axis=0))
        text = f.name
        w = small.getlength(text)
        d.rectangle([cx - w / 2 - 4, cy - 9, cx + w / 2 + 4, cy + 9], fill=(0, 0, 0))
        d.text((cx - w / 2, cy - 8), text, font=small, fill=_rgb(family_colour(f.id)))
    return _save(img, path)
