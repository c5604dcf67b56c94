"""The Archive page in a real browser: the real engine runs a small quality-diversity evolution,
`liandan ui` serves it, headless Debian chromium (Playwright) sees the archive as thumbnails,
clicks one, lands on the Preset page of that elite and votes there; the vote is in the run's store.

Artifacts (screenshots) go to tests/artifacts/.
"""

from __future__ import annotations

import subprocess

import pytest

from evo.store import RunStore
from test_ui_browser import ARTIFACTS, CHROMIUM, browser, processes  # noqa: F401 (fixtures)
from ui_helpers import REPO, SEEDS, free_port, liandan, start_process, wait_for, wait_http

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason="Debian chromium not installed"),
]
VOTER = "archive-tester"


def test_archive_thumbnails_open_their_preset_and_take_a_vote(tmp_path, browser, processes):  # noqa: F811
    runs = tmp_path / "runs"
    done = subprocess.run(liandan("evolve", "--search", "qd", "--runs-dir", str(runs), "--run", "qd", "--population", "6",
                                  "--generations", "2", "--frames", "24", "--size", "64", "--workers", "0",
                                  "--seeds", str(SEEDS), "--seed", "2"),
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    run = RunStore(runs).open("qd")
    archive = run.archive()
    assert archive is not None and len(archive.elites) >= 2

    port, ui_log = free_port(), tmp_path / "ui.log"
    processes.append(start_process(liandan("ui", "--runs-dir", str(runs), "--port", str(port)), ui_log))
    wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60, log=ui_log)
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    # the app's first run imports everything (slow on a busy machine); the sidebar says when it is done
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    page.get_by_role("link", name="Archive", exact=True).wait_for(timeout=90_000)  # not the "archive" of pages/ before app.py ran
    page.goto(f"http://127.0.0.1:{port}/archive?run=qd", wait_until="domcontentloaded")
    squares = page.locator('[data-stale="false"] img.liandan-archive-cell')
    squares.first.wait_for(timeout=60_000)
    filled = int(page.locator(".liandan-archive").first.get_attribute("data-filled"))
    wait_for(lambda: squares.count() == filled, 20, "every filled square")
    elite_ids = {e.id for e in archive.elites}
    shown = [squares.nth(k).get_attribute("title") for k in range(filled)]
    assert set(shown) <= elite_ids and len(set(shown)) == filled
    assert all(squares.nth(k).bounding_box()["width"] >= 40 for k in range(filled))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "archive.png"), full_page=True)

    target = shown[0]
    squares.first.click()
    page.wait_for_url(f"**/preset?run=qd&ind={target}", timeout=30_000)
    page.locator(f'[data-stale="false"] img.liandan-preview[title="{target}"]').wait_for(timeout=30_000)
    name_box = page.get_by_role("textbox", name="Your name (voter id)")
    name_box.fill(VOTER)
    name_box.press("Enter")
    like = page.locator(f'.st-key-preset_like_{target}[data-stale="false"] button:visible')
    wait_for(lambda: like.count() == 1 and like.is_enabled(), 20, "the like button to enable")
    like.click()
    page.get_by_text(f"saved for {target}").wait_for(timeout=20_000)
    assert [(v.ind_id, v.voter, v.value) for v in run.votes()] == [(target, VOTER, 1)]
    page.screenshot(path=str(ARTIFACTS / "archive_preset_vote.png"), full_page=True)
