"""The Corpus page through streamlit.testing.v1.AppTest, on a small mined corpus."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from evo.mining.dataset import load_dataset

SCRIPT = "from ui.app_pages import corpus\ncorpus.page()\n"


@pytest.fixture
def page(mined_corpus, monkeypatch):
    monkeypatch.setenv("LIANDAN_DATASET", str(mined_corpus[1]))
    return AppTest.from_string(SCRIPT, default_timeout=90)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_page_shows_the_dataset_and_its_plots(page, mined_corpus):
    at = page.run()
    assert not at.exception
    summary = mined_corpus[2]
    assert metrics(at) == {"files": str(summary.files), "distinct presets": str(summary.distinct),
                           "rendered": str(summary.distinct), "labelled": str(summary.distinct), "do not parse": "1"}
    assert "machine score" in at.caption[0].value  # too few fRatings: the page says what quality means here
    assert [t.label for t in at.tabs] == ["Map", "Distributions", "Correlations", "Presets"]
    assert at.selectbox(key="corpus_x").value == "desc_motion"


def test_filters_narrow_the_presets(page, mined_corpus):
    at = page.run()
    at.sidebar.multiselect(key="corpus_folders").select("more").run()
    assert not at.exception
    df = load_dataset(mined_corpus[1])
    assert metrics(at)["files"] == str(int((df["folder"] == "more").sum()))
    at.sidebar.multiselect(key="corpus_authors").select("Tester").run()
    assert metrics(at)["files"] == "1"
    assert at.selectbox(key="corpus_open").options == ["more/Tester - Hand Made.milk"]


def test_opening_a_preset_shows_its_parameters_and_code(page):
    at = page.run()
    at.selectbox(key="corpus_open").select("more/Tester - Hand Made.milk").run()
    assert not at.exception
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "**more/Tester - Hand Made.milk** · author Tester · 1 waves, 1 shapes, shaders" in text
    assert 'class="liandan-preview" src="data:image/webp;base64,' in text
    params = at.dataframe[-1].value
    assert dict(zip(params["parameter"], params["value"]))["zoom"] == "1.05"
    assert any(e.label == "per_frame code" for e in at.expander)


def test_missing_dataset_says_how_to_make_one(monkeypatch, tmp_path):
    monkeypatch.setenv("LIANDAN_DATASET", str(tmp_path / "none"))
    at = AppTest.from_string(SCRIPT, default_timeout=60).run()
    assert not at.exception
    assert "liandan mine" in at.info[0].value
