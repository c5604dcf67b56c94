"""Breed two presets by hand: pick parents, slide the ratio, see the child move, download it.

Breeding is evo's crossbreed (the same operator the GA uses); the child's animation is rendered by
a ``liandan render`` subprocess.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import streamlit as st

from evo.breeding import BreedError, breed_texts
from ui.common import liandan_command, runs_dir, show_preview, store


def _parent_picker(label: str, key: str) -> tuple[str, str] | None:
    """(name, .milk text) of a parent from a run or an upload."""
    st.markdown(f"**{label}**")
    source = st.radio("from", ["a run", "upload"], key=f"{key}_src", horizontal=True)
    if source == "upload":
        f = st.file_uploader(".milk", type=["milk"], key=f"{key}_up")
        return (f.name, f.getvalue().decode("latin-1")) if f else None
    summaries = store().list_runs()
    if not summaries:
        st.caption("no runs yet")
        return None
    run = store().open(st.selectbox("run", [s.id for s in summaries], key=f"{key}_run"))
    gens = run.generations()
    if not gens:
        return None
    gen = st.selectbox("generation", gens, index=len(gens) - 1, key=f"{key}_gen")
    ind_id = st.selectbox("individual", [i.id for i in run.load_generation(gen)], key=f"{key}_ind")
    show_preview(run.preview_path(ind_id), caption=ind_id, width=128)
    return ind_id, run.preset_path(ind_id).read_text(encoding="latin-1")


def _render_child(milk: str) -> Path | None:
    """A short animated preview of the child, cached by its text."""
    digest = hashlib.sha1(milk.encode("latin-1", "replace")).hexdigest()[:16]
    folder = runs_dir() / "_breed"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{digest}.webp"
    if not out.exists():
        src = folder / f"{digest}.milk"
        src.write_text(milk, encoding="latin-1")
        cmd = liandan_command("render", str(src), "--frames", "120", "--size", "160x160", "-o", str(out))
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            st.error(f"render failed:\n{done.stderr[-2000:]}")
            return None
    return out


def page() -> None:
    st.title("Breed")
    c1, c2 = st.columns(2)
    with c1:
        a = _parent_picker("Parent A", "a")
    with c2:
        b = _parent_picker("Parent B", "b")
    ratio = st.slider("Ratio (0 = all A, 1 = all B)", 0.0, 1.0, 0.5, 0.05)
    seed = st.number_input("Seed", 0, 2**31 - 1, 0)
    if not (a and b):
        st.info("Pick two parents.")
        return
    if st.button("Breed", type="primary"):
        try:
            st.session_state["child"] = breed_texts(a[1], b[1], ratio=ratio, seed=int(seed), names=(a[0], b[0]))
        except BreedError as exc:
            st.error(str(exc))
            return
    child = st.session_state.get("child")
    if child:
        show_preview(_render_child(child), caption="child", width=256)
        st.download_button("Download child .milk", child.encode("latin-1", "replace"), file_name="child.milk")
