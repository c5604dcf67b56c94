"""The Corpus page: a mined preset collection (``liandan mine``) as interactive plots.

Reads the dataset only through ``evo.mining`` (load_dataset, labels, the report's figures), so
the page and ``liandan analyze`` show the same numbers; it renders nothing itself (thumbnails and
previews are the files the mine wrote).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from evo.families.saved import families_stamp, family_column
from evo.mining import analysis, figures
from evo.mining.dataset import DatasetError, load_dataset, media_path, read_meta
from evo.mining.labels import collect_labels
from evo.preset_view import view_milk
from ui.common import preview_html

DATASET_ENV = "LIANDAN_DATASET"
MAX_CHOICES = 400


@st.cache_data(show_spinner="reading the dataset…", max_entries=4)
def _load(path: str, mtime_ns: int, families_ns: int = 0) -> tuple[pd.DataFrame, dict, pd.Series]:
    df = load_dataset(path)
    if (cluster := family_column(path, df["hash"])) is not None:  # style families (liandan cluster)
        df["cluster"] = cluster.to_numpy()
    labels = collect_labels(df)
    return df, read_meta(path), labels.quality.rename(labels.used)


def _dataset_path() -> Path:
    default = os.environ.get(DATASET_ENV, "ds")
    text = st.sidebar.text_input("Dataset folder", value=default, key="corpus_dataset",
                                 help="a folder made by `liandan mine DIR -o FOLDER`")
    return Path(text).expanduser()


def page() -> None:
    st.title("Corpus")
    path = _dataset_path()
    file = path / "dataset.parquet"
    if not file.is_file():
        st.info(f"No dataset in `{path}`. Make one with `liandan mine /usr/share/projectM/presets -o {path}` "
                "and set its folder in the sidebar.")
        return
    try:
        df, meta, quality = _load(str(path), file.stat().st_mtime_ns, families_stamp(path))
    except DatasetError as exc:
        st.error(str(exc))
        return
    view = _filters(df)
    d = analysis.distinct(view)
    q = quality.reindex(d.index)
    good = q.ge(q.dropna().quantile(0.75)) & q.notna() if q.notna().any() else pd.Series(False, index=d.index)
    c = st.columns(5)
    c[0].metric("files", f"{len(view):,}")
    c[1].metric("distinct presets", f"{len(d):,}")
    c[2].metric("rendered", f"{int(d['stat_luma_mean'].notna().sum()):,}")
    c[3].metric("labelled", f"{int(q.notna().sum()):,}")
    c[4].metric("do not parse", f"{int(view['error'].notna().sum()):,}")
    st.caption(f"quality: {quality.name} · render: {(meta.get('render') or {}).get('described', 'none')}")
    if d.empty:
        st.warning("No parsed preset matches the filters.")
        return
    tabs = st.tabs(["Map", "Distributions", "Correlations", "Presets"])
    with tabs[0]:
        _map(d, quality)
    with tabs[1]:
        _distributions(d, q, good)
    with tabs[2]:
        _correlations(d, q)
    with tabs[3]:
        _table(d, q, path)
    _detail(d, q, path)


def _filters(df: pd.DataFrame) -> pd.DataFrame:
    sb = st.sidebar
    folders = sorted(df["folder"].dropna().unique())
    chosen = sb.multiselect("Folders", folders, key="corpus_folders")
    authors = df["author"].dropna().value_counts()
    picked = sb.multiselect("Authors", list(authors.index[:MAX_CHOICES]), key="corpus_authors",
                            format_func=lambda a: f"{a} ({authors[a]})")
    out = df
    if chosen:
        out = out[out["folder"].isin(chosen)]
    if picked:
        out = out[out["author"].isin(picked)]
    if "cluster" in df:  # style families (a later issue) add this column
        clusters = sorted(df["cluster"].dropna().unique())
        pick = sb.multiselect("Clusters", clusters, key="corpus_clusters")
        if pick:
            out = out[out["cluster"].isin(pick)]
    text = sb.text_input("Name contains", key="corpus_name")
    if text:
        out = out[out["rel_path"].str.contains(text, case=False, regex=False)]
    return out


def _axis_choices(d: pd.DataFrame) -> list[str]:
    cols = [c for c in d.columns if c.startswith(("desc_", "stat_")) and d[c].notna().any()]
    cols += [c for c in d.columns if c.startswith("param_") and d[c].nunique() > 1]
    return cols or ["param_zoom"]


def _map(d: pd.DataFrame, quality: pd.Series) -> None:
    choices = _axis_choices(d)
    c1, c2 = st.columns(2)
    x = c1.selectbox("x", choices, index=choices.index("desc_motion") if "desc_motion" in choices else 0, key="corpus_x")
    y = c2.selectbox("y", choices, index=choices.index("desc_brightness") if "desc_brightness" in choices else
                     min(1, len(choices) - 1), key="corpus_y")
    fig = figures.descriptor_map(d, quality, x, y)
    event = st.plotly_chart(fig, key="corpus_map", on_select="rerun", selection_mode="points", width="stretch", theme=None)
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", [])
    if points:
        st.session_state["corpus_pick"] = points[0].get("customdata")
    st.caption("Click a point to open the preset below.")


def _distributions(d: pd.DataFrame, q: pd.Series, good: pd.Series) -> None:
    choices = _axis_choices(d)
    feats = st.multiselect("Features", choices, default=[c for c in ("param_zoom", "param_fDecay", "desc_motion",
                                                                     "stat_entropy") if c in choices][:4] or choices[:4],
                           key="corpus_feats")
    if feats:
        st.plotly_chart(figures.distributions(d, good, feats, cols=min(4, len(feats))), width="stretch", theme=None)
        st.caption("grey: every preset shown; orange: the good ones (top quarter by quality)")


def _correlations(d: pd.DataFrame, q: pd.Series) -> None:
    cols = [c for c in d.columns if c.startswith(("stat_", "desc_")) and d[c].notna().any()]
    if len(cols) < 2:
        st.info("Correlations need rendered features.")
        return
    c = d[cols].copy()
    c["quality"] = q
    st.plotly_chart(figures.correlation_heatmap(analysis.spearman_matrix(c, list(c.columns))), width="stretch", theme=None)


def _table(d: pd.DataFrame, q: pd.Series, path: Path) -> None:
    t = d[["rel_path", "author", "render_score"]].copy()
    t.insert(0, "thumb", [_thumb_uri(path, v) for v in d["render_thumb"]])
    t["quality"] = q
    t = t.sort_values("quality", ascending=False, na_position="last")
    st.dataframe(t.head(500), hide_index=True, width="stretch",
                 column_config={"thumb": st.column_config.ImageColumn("", width="small")})


def _thumb_uri(path: Path, rel) -> str | None:
    import base64

    p = media_path(path, rel)
    return None if p is None else "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode("ascii")


def _number(x, digits: int) -> str:
    return "—" if x is None or pd.isna(x) else f"{float(x):.{digits}f}"


def _detail(d: pd.DataFrame, q: pd.Series, path: Path) -> None:
    st.subheader("Preset")
    options = list(d.sort_values("rel_path").index[:5000])
    pick = st.session_state.get("corpus_pick")
    index = options.index(pick) if pick in options else 0
    chosen = st.selectbox("Open", options, index=index, key="corpus_open", format_func=lambda i: d.loc[i, "rel_path"])
    row = d.loc[chosen]
    c1, c2 = st.columns([1, 3])
    with c1:
        st.markdown(preview_html(media_path(path, row.get("render_preview")), row["rel_path"], width=192),
                    unsafe_allow_html=True)
        st.caption(f"quality {_number(q.get(chosen), 2)} · machine score {_number(row.get('render_score'), 3)}")
        if isinstance(row.get("render_error"), str):
            st.error(row["render_error"])
    with c2:
        try:
            text = Path(row["path"]).read_text(encoding="latin-1")
        except OSError as exc:
            st.warning(f"{row['path']}: {exc.strerror or exc}")
            return
        v = view_milk(text, row["file"])
        st.markdown(f"**{row['rel_path']}** · author {row.get('author') or '—'} · "
                    f"{v.waves} waves, {v.shapes} shapes{', shaders' if v.has_shaders else ''}")
        if v.parameters:
            st.dataframe(pd.DataFrame(v.parameters), hide_index=True, width="stretch", height=220)
        for section, code in v.code[:6]:
            with st.expander(f"{section} code"):
                st.code(code[:20_000])
        stats = {c.removeprefix("desc_"): round(float(row[c]), 3) for c in d.columns
                 if c.startswith("desc_") and pd.notna(row[c])}
        if stats:
            st.caption("descriptors: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
        st.download_button("Download .milk", text.encode("latin-1", errors="replace"), file_name=row["file"],
                           key="corpus_download")
