"""Archive: a quality-diversity run's MAP-Elites archive as a map of thumbnails.

Two of the archive's descriptors span a grid; each filled square shows the still of the best
elite there (click it: the Preset page, where you can vote on it). Below, the best objective per
square as a heatmap, and coverage, QD-score and best score per batch.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode

import streamlit as st

from evo.qd.view import archive_grid
from evo.store import Run, StoreError
from ui.common import pick_run, preview_html

BINS = (4, 6, 8, 10, 12, 16)


def page() -> None:
    st.title("Archive")
    run = pick_run(key="archive_run")
    if run is None:
        return
    try:
        record = run.archive()
        logbook = run.logbook()
    except StoreError as exc:
        st.error(str(exc))
        return
    if not run.is_qd:
        st.info(f"Run {run.id} is a GA run: an archive exists for quality-diversity runs "
                "(`liandan evolve --search qd`, or `[run] search = \"qd\"` in the config).")
        return
    if record is None:
        st.info(f"Run {run.id} has no finished batch yet ({run.status}); press Refresh in a moment.")
        st.button("Refresh", key="archive_refresh")
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("coverage", f"{100 * record.coverage:.1f}%", help=f"{len(record.elites)} of {record.cells} cells filled")
    c2.metric("QD-score", f"{record.qd_score:.2f}", help="sum of the elites' objectives (machine score + votes)")
    c3.metric("best", f"{record.best:.3f}")
    c4.metric("batches", len(run.generations()))
    measures = list(record.measures)
    d1, d2, d3 = st.columns(3)
    x = d1.selectbox("Across", measures, index=0, key="archive_x")
    y = d2.selectbox("Up", measures, index=min(1, len(measures) - 1), key="archive_y")
    bins = d3.selectbox("Squares per side", BINS, index=BINS.index(8), key="archive_bins")
    grid = archive_grid(record, x, y, bins)
    _grid_html(run, grid, x, y)
    _heatmap(grid, x, y)
    _curves(logbook)


def _grid_html(run: Run, grid: list, x: str, y: str) -> None:
    """One HTML table: a link per filled square (to the Preset page with that elite), so the whole
    map is one element the browser lays out at once."""
    size = 72 if len(grid) <= 8 else 52
    filled = sum(1 for row in grid for c in row if c.elite is not None)
    rows = []
    for row in grid:
        tds = []
        for c in row:
            if c.elite is None:
                tds.append(f'<td class="liandan-archive-empty" style="width:{size}px;height:{size}px;background:#1b1b1b"></td>')
                continue
            e = c.elite
            tip = f"{e.id} · objective {e.objective:.3f} · cell {e.cell} · batch {e.batch}" + (
                f" · {c.count} elites here" if c.count > 1 else "")
            href = "preset?" + urlencode({"run": run.id, "ind": e.id})
            img = preview_html(run.still_path(e.id), caption=e.id, width=size, css_class="liandan-archive-cell")
            tds.append(f'<td style="padding:1px"><a href="{html.escape(href)}" target="_self" '
                       f'title="{html.escape(tip)}">{img}</a></td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    st.markdown(f'<div class="liandan-archive" data-filled="{filled}" data-x="{html.escape(x)}" '
                f'data-y="{html.escape(y)}"><div style="color:#999">↑ {html.escape(y)}</div>'
                f'<table style="border-collapse:collapse">{"".join(rows)}</table>'
                f'<div style="color:#999">{html.escape(x)} →</div></div>', unsafe_allow_html=True)
    st.caption("Each square holds the best elite whose two descriptors fall in it (the others there differ in "
               "descriptors not shown); click one to open it on the Preset page and vote on it.")


def _heatmap(grid: list, x: str, y: str) -> None:
    import plotly.graph_objects as go

    bins = len(grid)
    z = [[None if c.elite is None else round(c.elite.objective, 4) for c in row] for row in reversed(grid)]
    ticks = [round((k + 0.5) / bins, 3) for k in range(bins)]
    fig = go.Figure(go.Heatmap(z=z, x=ticks, y=ticks, colorscale="Viridis", colorbar={"title": "objective"},
                               hovertemplate=f"{x} %{{x}}<br>{y} %{{y}}<br>objective %{{z}}<extra></extra>"))
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 30, "b": 40}, title="best objective per square",
                      xaxis_title=x, yaxis_title=y)
    st.plotly_chart(fig, key="archive_heatmap")


def _curves(logbook: list[dict]) -> None:
    rows = [r for r in logbook if "coverage" in r]
    if not rows:
        return
    st.subheader("Per batch")
    c1, c2, c3 = st.columns(3)
    c1.line_chart({"coverage %": [100 * r["coverage"] for r in rows]}, x_label="batch", height=180)
    c2.line_chart({"QD-score": [r["qd_score"] for r in rows]}, x_label="batch", height=180)
    c3.line_chart({"best score": [r["best"] for r in rows]}, x_label="batch", height=180)
    st.caption("Coverage and QD-score here count machine scores only (votes aside), so they show what the "
               "search found; the numbers above include the votes.")
