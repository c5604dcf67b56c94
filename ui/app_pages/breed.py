"""Breed two presets by hand: pick parents, slide the ratio, see the child move, download it.

Breeding is evo's crossbreed (the same operator the GA uses, via ``evo.breeding``); the child's
animation is rendered by a subprocess (``ui.render_preview``), never in the Streamlit process.
"""

from __future__ import annotations


import streamlit as st

from evo.breeding import BreedError, breed_texts
from evo.store import StoreError
from ui.common import render_preview, run_ids, show_preview, store


def _parent_picker(label: str, key: str, default_index: int = 0) -> tuple[str, str] | None:
    """(name, .milk text) of a parent from a run or an upload."""
    st.markdown(f"**{label}**")
    source = st.radio("from", ["a run", "upload"], key=f"{key}_src", horizontal=True)
    if source == "upload":
        f = st.file_uploader(".milk", type=["milk"], key=f"{key}_up")
        return (f.name, f.getvalue().decode("latin-1")) if f else None
    ids = run_ids()
    if not ids:
        st.caption("no runs yet: upload a .milk instead")
        return None
    try:
        run = store().open(st.selectbox("run", ids, key=f"{key}_run"))  # keys below follow the run
        gens = run.generations()
        if not gens:
            st.caption("this run has no generation yet")
            return None
        gen = st.selectbox("generation", gens, index=len(gens) - 1, key=f"{key}_gen_{run.id}")
        ids = [i.id for i in run.load_generation(gen)]
        ind_id = st.selectbox("individual", ids, index=min(default_index, len(ids) - 1), key=f"{key}_ind_{run.id}_{gen}")
        show_preview(run.preview_path(ind_id), caption=ind_id, width=128)
        path = run.preset_path(ind_id)
        if not path.is_file():
            st.error(f"{path}: missing")
            return None
        return f"{run.id}/{ind_id}", path.read_text(encoding="latin-1")
    except StoreError as exc:
        st.error(str(exc))
        return None


def page() -> None:
    st.title("Breed")
    c1, c2 = st.columns(2)
    with c1:
        a = _parent_picker("Parent A", "a")
    with c2:
        b = _parent_picker("Parent B", "b", default_index=1)  # two different parents to start with
    ratio = st.slider("Ratio (0 = all A, 1 = all B)", 0.0, 1.0, 0.5, 0.05, key="breed_ratio")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="breed_seed")
    if not (a and b):
        st.info("Pick two parents.")
        return
    if st.button("Breed", type="primary", key="breed_go"):
        try:
            child = breed_texts(a[1], b[1], ratio=float(ratio), seed=int(seed), names=(a[0], b[0]))
        except BreedError as exc:
            st.session_state.pop("child", None)
            st.error(str(exc))
            return
        st.session_state["child"] = {"text": child, "parents": (a[0], b[0]), "ratio": float(ratio), "seed": int(seed)}
    child = st.session_state.get("child")
    if not child:
        return
    st.subheader("Child")
    st.caption(f"{child['parents'][0]} × {child['parents'][1]} · ratio {child['ratio']:.2f} · seed {child['seed']}")
    with st.spinner("rendering the child…"):
        result, folder = render_preview(child["text"], "breed")
    digest = folder.name
    left, right = st.columns([1, 2])
    with left:
        if result.get("error"):
            st.error(f"render: {result['error']}")
        show_preview(folder / "preview.webp", caption="child", width=256,
                     css_class="liandan-child")
        st.download_button("Download child .milk", child["text"].encode("latin-1", "replace"),
                           file_name=f"child-{digest[:8]}.milk", mime="text/plain", key="breed_download")
    with right:
        if result.get("score") is not None:
            st.metric("machine score", f"{result['score']:.4f}")
        with st.expander("child .milk"):
            st.code(child["text"], language="ini")
