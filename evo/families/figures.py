"""The interactive style map (plotly), for the Map page; and the thumbnail sprite its hover uses.

Each point's ``customdata`` is its index in the families' points (the Map page and the hover
thumbnails find the preset by it); a run's individuals carry negative numbers (-1 - their row).
Up to SVG_LIMIT points the scatter is SVG (hover and clicks work in every browser, headless ones
too); above that WebGL, which draws 100,000 points without stalling.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd

from evo.families.clusterer import NOISE
from evo.families.pictures import family_colour
from evo.mining.figures import BACKGROUND, TEMPLATE

SVG_LIMIT = 5000
SPRITE_CELL = 40
SPRITE_SIDE = 4096
MIN_SPRITE_CELL = 12
COLOUR_BY = ("family", "rating", "score", "folder")


def _scatter(n: int):
    import plotly.graph_objects as go

    return go.Scatter if n <= SVG_LIMIT else go.Scattergl


def map_figure(atlas, colour_by: str = "family", values: pd.Series | None = None, run: pd.DataFrame | None = None,
               height: int = 680, show_gaps: bool = True):
    """The map: presets coloured by family (one legend entry each), by a number (rating, score:
    ``values`` aligned with the points) or by folder; gaps as dashed rings; a run's individuals
    as crosses shaded by generation."""
    import plotly.graph_objects as go

    fams = atlas.families
    pts = fams.points
    xy = atlas.xy
    n = len(pts)
    Scatter = _scatter(n)
    hover = [f"{r}<br>{'noise' if f == NOISE else f'F{f} ' + fams.label_of(int(f))}"
             for r, f in zip(pts["rel_path"], pts["family"])]
    hover = np.array(hover, dtype=object)
    fig = go.Figure()
    idx = np.arange(n)
    if colour_by == "family":
        for fam in [NOISE] + sorted(fams.families):
            m = pts["family"].to_numpy() == fam
            if not m.any():
                continue
            name = "noise" if fam == NOISE else f"F{fam} {fams.label_of(fam)}"
            fig.add_trace(Scatter(x=xy[m, 0], y=xy[m, 1], mode="markers", name=name[:48], customdata=idx[m],
                                  text=hover[m], hovertemplate="%{text}<extra></extra>",
                                  marker=dict(size=5 if fam == NOISE else 7, color=family_colour(fam),
                                              opacity=0.55 if fam == NOISE else 0.9)))
    elif colour_by == "folder":
        folders = pts["folder"].fillna("").astype(str).str.split("/", n=1).str[0].to_numpy()
        for k, folder in enumerate(sorted(set(folders))):
            m = folders == folder
            fig.add_trace(Scatter(x=xy[m, 0], y=xy[m, 1], mode="markers", name=folder or "(top)", customdata=idx[m],
                                  text=hover[m], hovertemplate="%{text}<extra></extra>",
                                  marker=dict(size=7, color=family_colour(k), opacity=0.85)))
    else:
        v = (values.reindex(pts.index) if values is not None else pd.Series(np.nan, index=pts.index)).to_numpy(float)
        known = np.isfinite(v)
        if (~known).any():
            fig.add_trace(Scatter(x=xy[~known, 0], y=xy[~known, 1], mode="markers", name=f"no {colour_by}",
                                  customdata=idx[~known], text=hover[~known], hovertemplate="%{text}<extra></extra>",
                                  marker=dict(size=5, color="#4b5563", opacity=0.5)))
        if known.any():
            fig.add_trace(Scatter(x=xy[known, 0], y=xy[known, 1], mode="markers", name=colour_by,
                                  customdata=idx[known], text=hover[known],
                                  hovertemplate="%{text}<br>" + colour_by + " %{marker.color:.3f}<extra></extra>",
                                  marker=dict(size=7, color=v[known], colorscale="Plasma", opacity=0.9,
                                              colorbar=dict(title=colour_by))))
    if run is not None and len(run):
        gen = run["generation"].to_numpy(float)
        fig.add_trace(go.Scatter(x=run["x"], y=run["y"], mode="markers", name="run individuals",
                                 customdata=-1 - np.arange(len(run)),
                                 text=[f"{i} (generation {g}, score {s:.3f})" if s == s else f"{i} (generation {g})"
                                       for i, g, s in zip(run["id"], run["generation"], run["score"].astype(float))],
                                 hovertemplate="%{text}<extra></extra>",
                                 marker=dict(symbol="x", size=9, color=gen, colorscale="YlOrRd",
                                             line=dict(width=1, color="#111"),
                                             colorbar=dict(title="generation", x=1.12))))
    if show_gaps:
        for g in atlas.gaps:
            fig.add_shape(type="circle", x0=g.x - g.radius, x1=g.x + g.radius, y0=g.y - g.radius, y1=g.y + g.radius,
                          line=dict(color="#e5e7eb", dash="dash", width=1.5))
            fig.add_annotation(x=g.x, y=g.y, text=g.id, showarrow=False, font=dict(color="#e5e7eb", size=12))
    fig.update_layout(template=TEMPLATE, paper_bgcolor=BACKGROUND, plot_bgcolor=BACKGROUND, height=height,
                      margin=dict(l=10, r=10, t=30, b=10), hovermode="closest",
                      legend=dict(itemsizing="constant", font=dict(size=11)))
    (x0, x1), (y0, y1) = view_box(xy)
    fig.update_xaxes(visible=False, range=[x0, x1])
    fig.update_yaxes(visible=False, range=[y0, y1], scaleanchor="x", scaleratio=1)
    return fig


def view_box(xy: np.ndarray, share: float = 0.98, pad: float = 0.08) -> tuple[tuple, tuple]:
    """The first view: the box holding the central ``share`` of the presets on each axis, padded,
    so a few outlying islands do not shrink the collection to a corner (a double-click shows all)."""
    if not len(xy):
        return (0.0, 1.0), (0.0, 1.0)
    lo = np.quantile(xy, (1 - share) / 2, axis=0)
    hi = np.quantile(xy, 1 - (1 - share) / 2, axis=0)
    span = np.maximum(hi - lo, 1e-6)
    lo, hi = lo - pad * span, hi + pad * span
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def sprite_sheet(fams, cell: int = SPRITE_CELL) -> tuple[bytes, int, int]:
    """Every point's thumbnail in one JPEG (point k at column k % cols, row k // cols), the column
    count and the cell size: one image the browser loads once, instead of a request per hover.
    The sheet stays within SPRITE_SIDE pixels a side (cells shrink for very large collections)."""
    from PIL import Image

    from evo.families.pictures import _thumb

    n = len(fams.points)
    cols = max(1, math.ceil(math.sqrt(n)))
    cell = max(MIN_SPRITE_CELL, min(cell, SPRITE_SIDE // cols))
    rows = max(1, math.ceil(n / cols))
    sheet = Image.new("RGB", (cols * cell, rows * cell), (20, 20, 24))
    ds = str(fams.dataset)
    for k, digest in enumerate(fams.points["hash"]):
        sheet.paste(_thumb(ds, str(digest), cell), ((k % cols) * cell, (k // cols) * cell))
    buf = io.BytesIO()
    sheet.save(buf, "JPEG", quality=82)
    return buf.getvalue(), cols, cell
