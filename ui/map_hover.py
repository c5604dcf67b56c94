"""Thumbnails on hover over the Map page's plotly chart.

Plotly's hover labels cannot show images, so this small Streamlit component (``components.v2``:
inline JavaScript, no build step, no iframe) finds the chart by its key, listens to plotly's own
``plotly_hover``/``plotly_unhover`` events and shows the point's thumbnail beside the cursor.
The thumbnails come as one sprite JPEG (``evo.families.figures.sprite_sheet``), sent once per
session and kept by the page; a point's ``customdata`` (its index) picks its cell.
"""

from __future__ import annotations

import base64

import streamlit as st

_JS = r"""
export default function(component) {
  const { data } = component;
  const W = window;
  W.__liandanSprites = W.__liandanSprites || {};
  if (data.sprite) { W.__liandanSprites[data.id] = data.sprite; }
  W.__liandanHoverState = { id: data.id, cols: data.cols, cell: data.cell, size: data.size };
  let tip = document.getElementById("liandan-map-tip");
  if (!tip) {
    tip = document.createElement("div");
    tip.id = "liandan-map-tip";
    tip.style.cssText = "position:fixed;z-index:100000;pointer-events:none;display:none;border:2px solid #e5e7eb;" +
      "border-radius:4px;box-shadow:0 4px 16px rgba(0,0,0,.6);background-repeat:no-repeat;";
    document.body.appendChild(tip);
  }
  const show = (ev) => {
    const s = W.__liandanHoverState;
    const sprite = W.__liandanSprites[s.id];
    const p = ev && ev.points && ev.points[0];
    const k = p ? Number(Array.isArray(p.customdata) ? p.customdata[0] : p.customdata) : NaN;
    if (!sprite || !Number.isFinite(k) || k < 0) { tip.style.display = "none"; return; }
    const scale = s.size / s.cell;
    const col = k % s.cols, row = Math.floor(k / s.cols);
    tip.style.width = s.size + "px";
    tip.style.height = s.size + "px";
    tip.style.backgroundImage = "url(" + sprite + ")";
    tip.style.backgroundSize = (s.cols * s.cell * scale) + "px auto";
    tip.style.backgroundPosition = (-col * s.size) + "px " + (-row * s.size) + "px";
    tip.dataset.point = String(k);
    const e = ev.event || {};
    const x = (e.clientX || 0) + 18, y = (e.clientY || 0) + 18;
    tip.style.left = Math.min(x, window.innerWidth - s.size - 8) + "px";
    tip.style.top = Math.min(y, window.innerHeight - s.size - 8) + "px";
    tip.style.display = "block";
  };
  const hide = () => { tip.style.display = "none"; };
  const attach = () => {
    document.querySelectorAll(".st-key-" + data.chart + " .js-plotly-plot").forEach((gd) => {
      if (gd.__liandanHover || typeof gd.on !== "function") { return; }
      gd.__liandanHover = true;
      gd.on("plotly_hover", show);
      gd.on("plotly_unhover", hide);
    });
  };
  attach();
  const timer = setInterval(attach, 500);  // the chart is redrawn on reruns: attach to new ones
  return () => { clearInterval(timer); hide(); };
}
"""

_component = None


def _mount():
    global _component
    if _component is None:
        _component = st.components.v2.component("liandan_map_hover", js=_JS)
    return _component


def hover_thumbnails(chart_key: str, sprite_id: str, sprite_jpeg: bytes, cols: int, cell: int, size: int = 128) -> None:
    """Show thumbnails when the pointer rests on a point of the chart with key ``chart_key``."""
    sent = st.session_state.setdefault("_map_sprites_sent", set())
    payload = {"chart": chart_key, "id": sprite_id, "cols": cols, "cell": cell, "size": size, "sprite": None}
    if sprite_id not in sent:
        payload["sprite"] = "data:image/jpeg;base64," + base64.b64encode(sprite_jpeg).decode("ascii")
        sent.add(sprite_id)
    _mount()(data=payload, key=f"{chart_key}_hover", height=0)
