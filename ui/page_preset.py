"""One preset in full: animation, parameters, code, statistics and a download."""

from __future__ import annotations

import json

import streamlit as st

from ui.common import pick_run, show_preview


def page() -> None:
    st.title("Preset")
    run = pick_run(key="preset_run")
    if run is None:
        return
    generations = run.generations()
    if not generations:
        st.info("No generation yet.")
        return
    gen = st.selectbox("Generation", generations, index=len(generations) - 1)
    individuals = run.load_generation(gen)
    ids = [i.id for i in individuals]
    wanted = st.query_params.get("ind")
    ind_id = st.selectbox("Individual", ids, index=ids.index(wanted) if wanted in ids else 0)
    ind = run.individual(ind_id)
    left, right = st.columns([1, 2])
    with left:
        show_preview(run.preview_path(ind.id), caption=ind.id, width=256)
        milk = run.preset_path(ind.id)
        if milk.exists():
            st.download_button("Download .milk", milk.read_bytes(), file_name=f"{ind.id}.milk", mime="text/plain")
    with right:
        st.metric("score", "error" if ind.error else f"{ind.score:.4f}")
        if ind.error:
            st.error(ind.error)
        st.caption(f"operator: {ind.operator or 'seed'} · parents: {', '.join(ind.parents) or '—'}")
        st.subheader("Statistics")
        st.dataframe({"statistic": list(ind.stats), "value": [float(v) if isinstance(v, (int, float)) else str(v) for v in ind.stats.values()]}, hide_index=True)
    if milk.exists():
        st.subheader("Preset text")
        st.code(milk.read_text(encoding="latin-1"), language="ini")
    with st.expander("Genome (JSON)"):
        st.code(json.dumps(ind.genome, indent=1)[:200_000], language="json")
