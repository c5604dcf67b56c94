"""liandan's Streamlit app: vote, runs, archive, breed, preset, corpus, map. Start it with ``liandan ui``."""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on sys.path, not the repository; make `import ui...` work both ways.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from ui.app_pages import archive, breed, corpus, map as style_map, preset, runs, vote  # noqa: E402
from ui.common import runs_dir, voter_sidebar  # noqa: E402

st.set_page_config(page_title="liandan 炼丹", page_icon="🔥", layout="wide")

pages = [
    st.Page(vote.page, title="Vote", url_path="vote", default=True),
    st.Page(runs.page, title="Runs", url_path="runs"),
    st.Page(archive.page, title="Archive", url_path="archive"),
    st.Page(breed.page, title="Breed", url_path="breed"),
    st.Page(preset.page, title="Preset", url_path="preset"),
    st.Page(corpus.page, title="Corpus", url_path="corpus"),
    st.Page(style_map.page, title="Map", url_path="map"),
]
current = st.navigation(pages)
# Drawn here, not in a page, so the name is kept when the person switches pages.
voter_sidebar()
st.sidebar.caption(f"runs: `{runs_dir()}`")
current.run()
