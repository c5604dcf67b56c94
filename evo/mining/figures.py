"""Plotly figures of a corpus dataset, shared by the HTML report and the Corpus page (so the two
show the same pictures of the same numbers)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TEMPLATE = "plotly_dark"
BACKGROUND = "#14171c"
ALL_COLOUR = "#7f8c9d"
GOOD_COLOUR = "#ff9f43"
ACCENT = "#54a0ff"


def _layout(fig, height: int, title: str | None = None):
    fig.update_layout(template=TEMPLATE, paper_bgcolor=BACKGROUND, plot_bgcolor=BACKGROUND, height=height,
                      margin=dict(l=50, r=20, t=60 if title else 30, b=40), title=title,
                      font=dict(family="Inter, Segoe UI, Helvetica, Arial, sans-serif", size=12))
    return fig


def display_range(x: np.ndarray) -> tuple[float, float]:
    """The 1st..99th percentile: heavy tails (zoom 100 in a file of zooms near 1) would squash
    every histogram into one bar."""
    x = x[np.isfinite(x)]
    if not len(x):
        return 0.0, 1.0
    lo, hi = np.quantile(x, [0.01, 0.99])
    if hi <= lo:
        lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return float(lo), float(hi)


def distributions(df: pd.DataFrame, good: pd.Series, features: list[str], ks: dict[str, float] | None = None,
                  cols: int = 4):
    """Small multiples: each feature's histogram over all labelled presets and over the good ones
    (each normalised to its own total, so the shapes compare)."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    rows = max(1, math.ceil(len(features) / cols))
    titles = [f"{f.removeprefix('param_')}" + (f"  (KS {ks[f]:.2f})" if ks and f in ks else "") for f in features]
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.6 / rows, horizontal_spacing=0.05)
    g = good.reindex(df.index).fillna(False).astype(bool).to_numpy()
    for k, f in enumerate(features):
        x = df[f].astype("float64").to_numpy()
        lo, hi = display_range(x)
        edges = np.linspace(lo, hi, 26)
        for subset, colour, name in ((np.ones_like(g), ALL_COLOUR, "all labelled"), (g, GOOD_COLOUR, "good")):
            v = np.clip(x[subset & np.isfinite(x)], lo, hi)
            if not len(v):
                continue
            counts, _ = np.histogram(v, bins=edges)
            fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / counts.sum(), marker_color=colour,
                                 opacity=0.65, name=name, legendgroup=name, showlegend=k == 0, width=(hi - lo) / 25),
                          row=k // cols + 1, col=k % cols + 1)
    fig.update_layout(barmode="overlay", bargap=0, legend=dict(orientation="h", yanchor="bottom", y=1.0 + 30 / (170 * rows), x=0))
    fig.update_annotations(font_size=11)
    return _layout(fig, 170 * rows + 60)


def correlation_heatmap(corr: pd.DataFrame):
    import plotly.graph_objects as go

    names = [c.removeprefix("param_") for c in corr.columns]
    fig = go.Figure(go.Heatmap(z=corr.to_numpy(), x=names, y=names, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
                               hovertemplate="%{y} / %{x}: %{z:.2f}<extra></extra>", colorbar=dict(title="rho")))
    fig.update_yaxes(autorange="reversed")
    size = max(500, 16 * len(names) + 160)
    return _layout(fig, size)


def importances(table: pd.DataFrame):
    import plotly.graph_objects as go

    t = table.iloc[::-1]
    fig = go.Figure(go.Bar(x=t["mean"], y=[f.removeprefix("param_") for f in t["feature"]], orientation="h",
                           error_x=dict(type="data", array=t["std"]), marker_color=ACCENT))
    fig.update_xaxes(title="drop in held-out R² when shuffled")
    return _layout(fig, 24 * len(t) + 90)


def trapezoid(band) -> tuple[list[float], list[float]]:
    lo0, lo1, hi1, hi0 = band
    return [lo0, lo1, hi1, hi0], [0.0, 1.0, 1.0, 0.0]


def bands(df: pd.DataFrame, current: dict, fitted: dict | None, cols: int = 3):
    """Each score feature's statistic over the healthy presets (histogram scaled to 1) with the
    band in use (dashed) and the band fitted from this dataset (solid)."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    names = [n for n, (stat, _) in current.items() if f"stat_{stat}" in df]
    rows = max(1, math.ceil(len(names) / cols))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{n} ({current[n][0]})" for n in names],
                        vertical_spacing=0.5 / rows, horizontal_spacing=0.06)
    for k, name in enumerate(names):
        stat, band_now = current[name]
        x = df[f"stat_{stat}"].astype("float64").to_numpy()
        x = x[np.isfinite(x)]
        r, c = k // cols + 1, k % cols + 1
        if len(x):
            lo, hi = float(np.quantile(x, 0.001)), float(np.quantile(x, 0.999))
            hi = hi if hi > lo else lo + 1e-6
            counts, edges = np.histogram(np.clip(x, lo, hi), bins=40, range=(lo, hi))
            fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts / max(counts.max(), 1), marker_color=ALL_COLOUR,
                                 opacity=0.6, width=(hi - lo) / 40, name="presets", legendgroup="p", showlegend=k == 0),
                          row=r, col=c)
            fig.update_xaxes(range=[min(lo, band_now[0]) - 0.02 * (hi - lo), max(hi, min(band_now[3], hi * 1.5))], row=r, col=c)
        bx, by = trapezoid(band_now)
        fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", line=dict(color="#ee5253", dash="dash"), name="band in use",
                                 legendgroup="now", showlegend=k == 0), row=r, col=c)
        if fitted and name in fitted:
            bx, by = trapezoid(fitted[name]["band"])
            fig.add_trace(go.Scatter(x=bx, y=by, mode="lines", line=dict(color=GOOD_COLOUR), name="fitted here",
                                     legendgroup="fit", showlegend=k == 0), row=r, col=c)
    fig.update_layout(bargap=0, legend=dict(orientation="h", yanchor="bottom", y=1.0 + 30 / (210 * rows), x=0))
    fig.update_annotations(font_size=11)
    return _layout(fig, 210 * rows + 60)


def descriptor_map(df: pd.DataFrame, quality: pd.Series, x: str = "desc_motion", y: str = "desc_brightness"):
    """Every rendered preset placed by two descriptors, coloured by quality (grey: unlabelled)."""
    import plotly.graph_objects as go

    d = df[df[x].notna() & df[y].notna()]
    q = quality.reindex(d.index)
    fig = go.Figure()
    un = q.isna()
    names = d["rel_path"] if "rel_path" in d else d.index.astype(str)
    # customdata: the row's index label, so a click (the Corpus page) finds the preset
    fig.add_trace(go.Scattergl(x=d.loc[un, x], y=d.loc[un, y], mode="markers", name="unlabelled",
                               marker=dict(color="#4b5563", size=5, opacity=0.6), text=names[un],
                               customdata=d.index[un.to_numpy()], hovertemplate="%{text}<extra></extra>"))
    fig.add_trace(go.Scattergl(x=d.loc[~un, x], y=d.loc[~un, y], mode="markers", name="labelled",
                               marker=dict(color=q[~un], colorscale="Plasma", size=6, opacity=0.85,
                                           colorbar=dict(title="quality")), customdata=d.index[(~un).to_numpy()],
                               text=names[~un], hovertemplate="%{text}: quality %{marker.color:.2f}<extra></extra>"))
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))
    fig.update_xaxes(title=x.split("_", 1)[-1] if x.startswith(("desc_", "param_", "stat_")) else x)
    fig.update_yaxes(title=y.split("_", 1)[-1] if y.startswith(("desc_", "param_", "stat_")) else y)
    return _layout(fig, 520)


def label_histograms(sources: list):
    """Each label source's values on its own scale."""
    from plotly.subplots import make_subplots
    import plotly.graph_objects as go

    shown = [s for s in sources if s.count]
    if not shown:
        return None
    fig = make_subplots(rows=1, cols=len(shown), subplot_titles=[f"{s.name} ({s.count})" for s in shown])
    for k, s in enumerate(shown, 1):
        v = s.raw.dropna()
        fig.add_trace(go.Histogram(x=v, nbinsx=min(40, max(5, v.nunique())), marker_color=ACCENT, showlegend=False),
                      row=1, col=k)
    return _layout(fig, 260)
