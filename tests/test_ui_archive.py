"""The Archive page, the Vote page of a quality-diversity run and voting from the Preset page,
through streamlit.testing.v1.AppTest on run folders made through the real store and the real
evo.qd archive (tests/ui_helpers.py)."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from evo.qd.view import archive_grid
from test_ui_apptest import page_app, previews, texts, vote
from ui_helpers import make_qd_run, make_run


def archive_links(at: AppTest) -> list[tuple[str, str]]:
    """(run, individual) of every square's link on the page, in page order."""
    out = []
    for md in at.markdown:
        out += re.findall(r'<a href="preset\?run=([^&"]+)&amp;ind=([^"]+)" target="_self"', md.value)
    return out


def test_archive_page_shows_each_filled_square_as_a_thumbnail_linking_to_its_preset(runs):
    run = make_qd_run(runs, "qd1", population=6, batches=3, cells=16)
    at = page_app("archive").run()
    assert not at.exception
    record = run.archive()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["coverage"] == f"{100 * record.coverage:.1f}%" and metrics["QD-score"] == f"{record.qd_score:.2f}"
    assert metrics["batches"] == "3"
    grid = archive_grid(record, "brightness", "colourfulness", 8)  # the defaults: the first two measures
    expected = [c.elite.id for row in grid for c in row if c.elite is not None]
    assert expected and previews(at, "liandan-archive-cell") == expected
    assert archive_links(at) == [("qd1", i) for i in expected]
    assert f'data-filled="{len(expected)}"' in texts(at.markdown)
    # other axes, other squares: the same elites seen through motion and symmetry
    at.selectbox(key="archive_x").select("motion").run()
    at.selectbox(key="archive_y").select("symmetry").run()
    regrid = archive_grid(record, "motion", "symmetry", 8)
    assert previews(at, "liandan-archive-cell") == [c.elite.id for row in regrid for c in row if c.elite is not None]
    at.selectbox(key="archive_bins").select(4).run()
    assert len(previews(at, "liandan-archive-cell")) == sum(
        1 for row in archive_grid(record, "motion", "symmetry", 4) for c in row if c.elite is not None)
    assert at.get("plotly_chart")  # the heatmap
    assert "Per batch" in texts(at.subheader)


def test_archive_page_explains_a_ga_run(runs):
    make_run(runs, "ga1", population=3)
    at = page_app("archive").run()
    assert not at.exception and "is a GA run" in texts(at.info) and not previews(at, "liandan-archive-cell")


def test_a_square_opens_the_preset_page_where_one_can_vote(runs):
    run = make_qd_run(runs, "qd1", population=6, batches=2)
    target = run.archive().elites[0]
    at = page_app("preset")
    at.query_params["run"] = "qd1"
    at.query_params["ind"] = target.id
    at.run()
    assert not at.exception
    assert previews(at) == [target.id]
    assert at.button(key=f"preset_like_{target.id}").disabled  # no name yet
    at.sidebar.text_input(key="voter").input("ada").run()
    at = vote(at, "preset_like", target.id)
    assert [(v.ind_id, v.voter, v.value) for v in run.votes()] == [(target.id, "ada", 1)]
    assert f"saved for {target.id}" in texts(at.success)
    assert "your vote: like" in texts(at.caption)


def test_vote_page_of_a_qd_run_shows_the_newest_elites(runs):
    run = make_qd_run(runs, "qd1", population=6, batches=3, cells=16)
    at = page_app("vote").run()
    assert not at.exception
    newest = sorted(run.archive().elites, key=lambda e: (-e.batch, -e.objective, e.id))[:6]
    assert previews(at) == [e.id for e in newest]
    assert "the 6 newest elites" in texts(at.caption)
    at.sidebar.text_input(key="voter").input("bo").run()
    at = vote(at, "like", newest[-1].id)
    assert run.vote_count_since(0) == 1
    assert "1 vote(s) since the last selection" in texts(at.caption)
