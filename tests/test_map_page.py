"""The Map page (issue 15 item 3): AppTest on a synthetic dataset with known groups, and a real
browser (Debian chromium through Playwright) for what only a browser does: hover thumbnails and
clicking a point."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from families_helpers import GROUPS, PER_GROUP, make_style_dataset
from ui_helpers import free_port, liandan, make_run, start_process, stop_process, wait_for, wait_http

from evo.families.build import cluster_dataset, map_dataset
from evo.families.saved import load_map
from evo.store import RunStore

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    root = tmp_path_factory.mktemp("mapped")
    ds, presets, truth = make_style_dataset(root)
    cluster_dataset(ds, "look", seed=0)
    map_dataset(ds, method="tsne", seed=0)
    return ds


def figure(at: AppTest) -> dict:
    """The page's plotly figure with its arrays as lists (plotly sends numpy arrays base64-encoded)."""
    import base64
    import json

    import numpy as np

    def plain(v):
        if isinstance(v, dict) and "bdata" in v and "dtype" in v:
            return np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"]).tolist()
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, list):
            return [plain(x) for x in v]
        return v

    return plain(json.loads(at.get("plotly_chart")[0].proto.spec))


def map_app() -> AppTest:
    return AppTest.from_string("from ui.app_pages import map as m\nm.page()\n", default_timeout=120)


def test_map_page_without_a_map_says_what_to_run(tmp_path, monkeypatch, runs):
    ds, _, _ = make_style_dataset(tmp_path)
    monkeypatch.setenv("LIANDAN_DATASET", str(ds))
    at = map_app().run()
    assert not at.exception
    assert "liandan cluster" in at.info[0].value and "liandan map" in at.info[0].value


def test_map_page_shows_families_gaps_and_colourings(mapped, monkeypatch, runs):
    monkeypatch.setenv("LIANDAN_DATASET", str(mapped))
    at = map_app().run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["presets on the map"] == f"{GROUPS * PER_GROUP:,}" and metrics["families"] == str(GROUPS)
    assert len(at.get("plotly_chart")) == 1
    fig = figure(at)
    names = [t.get("name", "") for t in fig["data"]]
    assert sum(n.startswith("F") for n in names) == GROUPS  # one trace per family
    assert sorted(int(i) for t in fig["data"] for i in t["customdata"]) == list(range(GROUPS * PER_GROUP))
    for colour in ("rating", "score", "folder"):
        at.radio(key="map_colour").set_value(colour).run()
        assert not at.exception
        fig = figure(at)
        if colour == "folder":
            assert sorted(t["name"] for t in fig["data"]) == [f"style_{g}" for g in range(GROUPS)]
        if colour == "score":  # render_score differs by group: one coloured trace, scale from the data
            assert fig["data"][-1]["marker"]["colorbar"]["title"]["text"] == "score"


def test_clicked_preset_opens_with_its_neighbours(mapped, monkeypatch, runs):
    monkeypatch.setenv("LIANDAN_DATASET", str(mapped))
    at = map_app().run()
    fams = load_map(mapped).families
    at.session_state["map_pick"] = 3  # what a click on point 3 stores
    at.run()
    assert not at.exception
    assert fams.points["rel_path"].iloc[3] in [s.value for s in at.subheader]
    assert any(b.label == "Download .milk" for b in at.get("download_button"))


def test_region_seeds_a_new_run_with_its_presets(mapped, monkeypatch, runs):
    monkeypatch.setenv("LIANDAN_DATASET", str(mapped))
    launched = []
    monkeypatch.setattr("evo.store.Run.launch", lambda self, log_name="resume": launched.append((self.id, log_name)) or 4242)
    fams = load_map(mapped).families
    region = [i for i in range(len(fams.points)) if fams.points["folder"].iloc[i] == "style_2"][:6]
    at = map_app().run()
    at.session_state["map_selection"] = region  # what a lasso around them stores
    at.run()
    assert not at.exception
    assert f"Selected region: {len(region)} presets" in [s.value for s in at.subheader]
    at.text_input(key="map_run_name").set_value("from-the-map")
    [go] = [b for b in at.button if b.label == "Start the run"]
    go.click().run()  # the form sends the typed name with the submit
    assert not at.exception, at.exception
    assert launched == [("from-the-map", "evolve")]
    run = RunStore(runs).open("from-the-map")
    seeds = Path(run.config["seeds"]["dir"])
    names = sorted(p.name.split("-", 1)[1] for p in seeds.glob("*.milk"))
    assert names == sorted(Path(fams.points["rel_path"].iloc[i]).name for i in region)
    at.button(key="map_clear").click().run()
    assert not any(s.value.startswith("Selected region") for s in at.subheader)


def test_a_runs_individuals_are_placed_on_the_map(mapped, monkeypatch, runs):
    monkeypatch.setenv("LIANDAN_DATASET", str(mapped))
    make_run(runs, "walk", population=4, generations=2)
    at = map_app().run()
    at.selectbox(key="map_run").select("walk").run()
    assert not at.exception
    fig = figure(at)
    [trace] = [t for t in fig["data"] if t.get("name") == "run individuals"]
    assert len(trace["x"]) == 8 and all(c < 0 for c in trace["customdata"])
    assert any("run individuals: 8 over generations 0..1" in c.value for c in at.caption)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)")
def test_hover_shows_the_thumbnail_and_a_click_opens_the_preset(mapped, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    port = free_port()
    log = tmp_path / "ui.log"
    proc = start_process(liandan("ui", "--runs-dir", str(tmp_path / "runs"), "--port", str(port), "--dataset",
                                 str(mapped)), log)
    try:
        wait_http(f"http://127.0.0.1:{port}/_stcore/health", 90, log=log)
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                # straight to the page's own address (the app's pages are not in a folder named
                # pages/, which Streamlit would serve itself before app.py's st.navigation ran)
                page.goto(f"http://127.0.0.1:{port}/map", wait_until="domcontentloaded")
                page.get_by_text("Your name (voter id)").wait_for(timeout=60_000)
                page.locator(".st-key-map_chart .js-plotly-plot").wait_for(timeout=60_000)
                wait_for(lambda: page.evaluate(
                    "() => !!document.querySelector('.st-key-map_chart .js-plotly-plot').__liandanHover"), 30,
                    "the hover hook on the chart")
                spot = page.evaluate("""() => {
                    const gd = document.querySelector('.st-key-map_chart .js-plotly-plot');
                    const fl = gd._fullLayout, t = gd._fullData.find(d => d.customdata && d.customdata.length);
                    const r = gd.getBoundingClientRect();
                    return {x: r.left + fl._size.l + fl.xaxis.l2p(t.x[0]), y: r.top + fl._size.t + fl.yaxis.l2p(t.y[0]),
                            k: t.customdata[0]}; }""")
                page.mouse.move(spot["x"], spot["y"])
                tip = page.locator("#liandan-map-tip")
                wait_for(lambda: tip.is_visible(), 20, "the thumbnail beside the pointer")
                assert "data:image/jpeg;base64," in tip.evaluate("e => e.style.backgroundImage")
                shown = int(tip.get_attribute("data-point"))
                page.mouse.click(spot["x"], spot["y"])
                fams = load_map(mapped).families
                page.get_by_text("most similar in style").wait_for(timeout=30_000)
                page.get_by_text(fams.points["rel_path"].iloc[shown]).first.wait_for(timeout=10_000)
                time.sleep(0.5)
                page.screenshot(path=str(tmp_path / "map.png"))
            finally:
                browser.close()
    finally:
        stop_process(proc)


def test_corpus_page_filters_by_family(mapped, monkeypatch, runs):
    monkeypatch.setenv("LIANDAN_DATASET", str(mapped))
    at = AppTest.from_string("from ui.app_pages import corpus\ncorpus.page()\n", default_timeout=120).run()
    assert not at.exception
    [clusters] = [m for m in at.sidebar.multiselect if m.key == "corpus_clusters"]
    fams = load_map(mapped).families
    assert sorted(clusters.options) == sorted(f"F{f.id} {f.label}" for f in fams.families.values())
    first = sorted(fams.families.values(), key=lambda f: f.id)[0]
    clusters.select(f"F{first.id} {first.label}").run()
    assert {m.label: m.value for m in at.metric}["distinct presets"] == str(first.size)
