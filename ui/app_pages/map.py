"""The Map page: a collection's style families on a 2-D map (``liandan cluster`` / ``liandan map``).

Hover a point for its thumbnail, click it to open the preset, draw a lasso or a box around a
region (or pick a gap) to breed from those presets or to seed a new run with them, and place a
run's individuals on the map to see where evolution went. Reads everything through
``evo.families`` and ``evo.mining``; renders only through ``ui.common.render_preview``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from evo.families.clusterer import NOISE
from evo.families.figures import COLOUR_BY, map_figure, sprite_sheet
from evo.families.saved import StyleError, has_families, has_map, load_map, style_dir
from evo.mining.dataset import DatasetError, load_dataset, media_path
from ui.common import preview_html, render_preview, run_ids, show_preview, start_run, store

DATASET_ENV = "LIANDAN_DATASET"
CHART_KEY = "map_chart"
SELECTION = "map_selection"  # point indices of the chosen region
PICK = "map_pick"  # point index of the opened preset
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _stamp(path: Path) -> tuple:
    d = style_dir(path)
    return tuple(p.stat().st_mtime_ns if p.is_file() else 0 for p in
                 (d / "families.json", d / "map.json", d / "map.parquet", path / "dataset.parquet"))


@st.cache_resource(show_spinner="reading the map…", max_entries=4)
def _load(path: str, stamp: tuple):
    atlas = load_map(path)
    df = load_dataset(path)
    first = df[df["error"].isna()].drop_duplicates("hash").set_index("hash")
    rows = first.reindex(atlas.families.points["hash"]).reset_index()
    return atlas, rows, sprite_sheet(atlas.families)


def _quality(rows: pd.DataFrame) -> pd.Series:
    from evo.mining.labels import collect_labels

    try:
        return collect_labels(rows).quality.reset_index(drop=True)
    except Exception:  # noqa: BLE001 - labels are optional colouring, never a reason to fail the page
        return pd.Series(np.nan, index=rows.index)


def page() -> None:
    st.title("Map")
    default = os.environ.get(DATASET_ENV, "ds")
    path = Path(st.sidebar.text_input("Dataset folder", value=default, key="map_dataset",
                                      help="a folder made by `liandan mine DIR -o FOLDER`")).expanduser()
    if not (path / "dataset.parquet").is_file():
        st.info(f"No dataset in `{path}`. Make one with `liandan mine /usr/share/projectM/presets -o {path}`, "
                "then `liandan map` it, and set its folder in the sidebar.")
        return
    if not (has_families(path) and has_map(path)):
        st.info(f"`{path}` has no style map yet. Run `liandan cluster {path}` and `liandan map {path}`, or:")
        if st.button("Find families and lay out the map now", key="map_build", type="primary"):
            _build(path)
        return
    try:
        atlas, rows, (sprite, cols, cell) = _load(str(path), _stamp(path))
    except (StyleError, DatasetError) as exc:
        st.error(str(exc))
        return
    fams = atlas.families
    q = fams.quality
    c = st.columns(5)
    c[0].metric("presets on the map", f"{len(fams.points):,}")
    c[1].metric("families", q.get("families", len(fams.families)))
    c[2].metric("noise", f"{q.get('noise', 0):.0%}")
    c[3].metric("stability (ARI)", "–" if q.get("stability_ari") is None else f"{q['stability_ari']:.2f}")
    c[4].metric("gaps", len(atlas.gaps))
    st.caption(f"feature space: {fams.space.describe()} · map: {atlas.map.method}, trustworthiness "
               f"{atlas.meta.get('trustworthiness', float('nan')):.3f}")
    left, right = st.columns([3, 1])
    colour = right.radio("Colour by", COLOUR_BY, key="map_colour", horizontal=False)
    show_gaps = right.checkbox("Show gaps", value=True, key="map_gaps")
    run = _run_overlay(right, atlas)
    values = None
    if colour == "rating":
        values = _quality(rows)
    elif colour == "score":
        values = rows["render_score"].astype("float64") if "render_score" in rows else None
    with left:
        fig = map_figure(atlas, colour, values, run, show_gaps=show_gaps)
        event = st.plotly_chart(fig, key=CHART_KEY, on_select="rerun", selection_mode=("points", "box", "lasso"),
                                width="stretch", theme=None)
        _read_event(event)
        from ui.map_hover import hover_thumbnails

        hover_thumbnails(CHART_KEY, f"{path}:{_stamp(path)}", sprite, cols, cell)
        st.caption("Hover a point for its thumbnail · click it to open it · pick the lasso or box tool (top right) "
                   "to select a region · double-click to see the whole map")
    if run is not None and len(run):
        _run_summary(run, fams)
    _gaps(atlas)
    _selection(atlas, rows, path)
    _opened(atlas, rows, path)


def _build(path: Path) -> None:
    from evo.families.build import cluster_dataset, map_dataset

    try:
        with st.spinner("finding the families…"):
            cluster_dataset(path)
        with st.spinner("laying out the map…"):
            map_dataset(path)
    except (StyleError, DatasetError, ValueError) as exc:
        st.error(str(exc))
        return
    st.rerun()


def _read_event(event) -> None:
    """A click opens a preset, a box or lasso selects a region. The chart repeats its last
    selection on every rerun, so only a new one counts (else "Clear" could never clear)."""
    sel = event.get("selection", {}) if isinstance(event, dict) else getattr(event, "selection", {}) or {}
    points = sel.get("points", []) if isinstance(sel, dict) else getattr(sel, "points", [])
    signature = repr(sel)
    if not points or st.session_state.get("_map_last_event") == signature:
        return
    st.session_state["_map_last_event"] = signature
    idx = []
    for p in points:
        cd = p.get("customdata")
        cd = cd[0] if isinstance(cd, list) else cd
        if cd is not None and int(cd) >= 0:
            idx.append(int(cd))
    region = bool(sel.get("box") or sel.get("lasso")) if isinstance(sel, dict) else False
    if len(idx) == 1 and not region:
        st.session_state[PICK] = idx[0]
    elif idx:
        st.session_state[SELECTION] = sorted(set(idx))


def _run_overlay(col, atlas) -> pd.DataFrame | None:
    ids = run_ids()
    choice = col.selectbox("Place a run on the map", ["(none)"] + ids, key="map_run",
                           help="its individuals, by their own statistics and preset files")
    if choice == "(none)":
        return None
    from evo.families.overlay import place_run

    try:
        return place_run(atlas, store().open(choice))
    except Exception as exc:  # noqa: BLE001 - a broken run must not take the map down
        col.error(f"{choice}: {exc}")
        return None


def _run_summary(run: pd.DataFrame, fams) -> None:
    first, last = run["generation"].min(), run["generation"].max()
    by_gen = run.groupby("generation")
    spread = by_gen.apply(lambda g: float(np.hypot(g["x"] - g["x"].mean(), g["y"] - g["y"].mean()).mean()),
                          include_groups=False)
    fam = run[run["generation"] == last]["family"].value_counts()
    where = ", ".join(f"{'noise' if f == NOISE else f'F{f}'} {n}" for f, n in fam.head(4).items())
    st.caption(f"run individuals: {len(run)} over generations {first}..{last}; spread on the map "
               f"{spread.iloc[0]:.3f} → {spread.iloc[-1]:.3f}; last generation in {where}")


def _gaps(atlas) -> None:
    if not atlas.gaps:
        return
    with st.expander(f"Gaps ({len(atlas.gaps)}): empty regions inside the collection", expanded=False):
        fams = atlas.families
        table = pd.DataFrame([{"gap": g.id, "x": round(g.x, 3), "y": round(g.y, 3), "radius": round(g.radius, 3),
                               "neighbouring families": ", ".join(f"F{f} ({n})" for f, n in atlas.gap_families(g)[:4])}
                              for g in atlas.gaps])
        st.dataframe(table, hide_index=True, width="stretch")
        gid = st.selectbox("Gap", [g.id for g in atlas.gaps], key="map_gap")
        near = atlas.gap_neighbours(gid)
        cols = st.columns(min(8, len(near)) or 1)
        for k, (_, r) in enumerate(near.head(len(cols)).iterrows()):
            with cols[k]:
                show_preview(media_path(fams.dataset, f"thumbs/{r['hash']}.png"), caption=r["rel_path"], width=80)
        if st.button(f"Select the presets around {gid}", key="map_gap_select"):
            st.session_state[SELECTION] = sorted(int(i) for i in atlas.gap(gid).neighbours)
            st.rerun()


def _selection(atlas, rows: pd.DataFrame, path: Path) -> None:
    chosen = [i for i in st.session_state.get(SELECTION, []) if 0 <= i < len(rows)]
    if not chosen:
        return
    fams = atlas.families
    st.subheader(f"Selected region: {len(chosen)} presets")
    fam_counts = pd.Series(fams.labels[chosen]).value_counts()
    st.caption("families: " + ", ".join(f"{'noise' if f == NOISE else f'F{f}'} {n}" for f, n in fam_counts.items()))
    cols = st.columns(8)
    for k, i in enumerate(chosen[:8]):
        with cols[k]:
            show_preview(media_path(path, rows.loc[i, "render_thumb"]), caption=rows.loc[i, "rel_path"], width=80)
    if st.button("Clear the selection", key="map_clear"):
        st.session_state.pop(SELECTION, None)
        st.rerun()
    names = {i: rows.loc[i, "rel_path"] for i in chosen}
    breed_tab, seed_tab = st.tabs(["Breed two of them", "Seed a new run with them"])
    with breed_tab:
        _breed(chosen, names, rows)
    with seed_tab:
        _seed_run(chosen, rows)


def _breed(chosen: list[int], names: dict, rows: pd.DataFrame) -> None:
    from evo.breeding import BreedError, breed_texts

    if len(chosen) < 2:
        st.caption("select at least two presets")
        return
    c1, c2, c3 = st.columns(3)
    a = c1.selectbox("Parent A", chosen, format_func=names.get, key="map_breed_a")
    b = c2.selectbox("Parent B", chosen, index=1, format_func=names.get, key="map_breed_b")
    ratio = c3.slider("Ratio (0 = all A)", 0.0, 1.0, 0.5, 0.05, key="map_breed_ratio")
    if not st.button("Breed", key="map_breed_go", type="primary"):
        return
    try:
        texts = [Path(rows.loc[i, "path"]).read_text(encoding="latin-1") for i in (a, b)]
        child = breed_texts(texts[0], texts[1], ratio=float(ratio), seed=0, names=(names[a], names[b]))
    except (OSError, BreedError) as exc:
        st.error(str(exc))
        return
    with st.spinner("rendering the child…"):
        result, folder = render_preview(child, "map-breed")
    if result.get("error"):
        st.error(f"render: {result['error']}")
    show_preview(folder / "preview.webp", caption="child", width=192)
    st.download_button("Download the child", child.encode("latin-1", "replace"), file_name="child.milk",
                       key="map_breed_download")


def _seed_run(chosen: list[int], rows: pd.DataFrame) -> None:
    st.session_state.setdefault("map_run_name", f"map-{len(chosen)}-presets")
    with st.form("map_seed_form"):
        name = st.text_input("Run name", key="map_run_name")
        c1, c2, c3 = st.columns(3)
        population = c1.number_input("Population", 3, 512, max(3, min(len(chosen), 24)))
        generations = c2.number_input("Generations", 1, 1000, 5)
        mode = c3.radio("Mode", ["autonomous", "interactive"], horizontal=True)
        go = st.form_submit_button("Start the run", type="primary")
    if not go:
        return
    if not _NAME_RE.match(name) or store().exists(name):
        st.error(f"run name {name!r} is taken or not allowed (letters, digits, _ . -)")
        return
    seeds = store().scratch("map-seeds", name)
    for i in chosen:
        src = Path(rows.loc[i, "path"])
        if src.is_file():
            shutil.copyfile(src, seeds / f"{i:05d}-{src.name}")
    overrides = {"run.population": int(population), "run.generations": int(generations), "run.mode": mode,
                 "seeds.dir": str(seeds.resolve())}
    start_run(name, overrides, f" seeded with {len(chosen)} presets from the map")


def _opened(atlas, rows: pd.DataFrame, path: Path) -> None:
    i = st.session_state.get(PICK)
    if i is None or not (0 <= i < len(rows)):
        return
    fams = atlas.families
    r = rows.loc[i]
    fam = int(fams.labels[i])
    st.subheader(r["rel_path"])
    c1, c2 = st.columns([1, 3])
    with c1:
        st.markdown(preview_html(media_path(path, r.get("render_preview")), r["rel_path"], width=192),
                    unsafe_allow_html=True)
    with c2:
        st.markdown(f"**{'noise (no family)' if fam == NOISE else f'F{fam} · ' + fams.label_of(fam)}** · "
                    f"author {r.get('author') or '—'} · folder {r.get('folder')}")
        score = r.get("render_score")
        st.caption(f"machine score {score:.3f}" if isinstance(score, float) and score == score else "no score")
        from sklearn.neighbors import NearestNeighbors

        k = min(7, len(rows))
        _, idx = NearestNeighbors(n_neighbors=k).fit(fams.features).kneighbors(fams.features[[i]])
        st.caption("most similar in style")
        cols = st.columns(6)
        for c, j in zip(cols, [j for j in idx[0] if j != i][:6]):
            with c:
                show_preview(media_path(path, rows.loc[j, "render_thumb"]), caption=rows.loc[j, "rel_path"], width=80)
        try:
            text = Path(r["path"]).read_text(encoding="latin-1")
        except OSError as exc:
            st.warning(f"{r['path']}: {exc.strerror or exc}")
            return
        st.download_button("Download .milk", text.encode("latin-1", "replace"), file_name=r["file"],
                           key="map_download")
        with st.expander("Preset text"):
            st.code(text[:50_000], language="ini")
