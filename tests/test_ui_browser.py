"""The whole loop in a real browser: the real engine runs an interactive evolution, `liandan ui`
serves it, headless Debian chromium (through Playwright) votes, and the engine's choice of parents
for the next generation follows the votes.

Artifacts (screenshots) go to tests/artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ui_helpers import SEEDS, free_port, liandan, start_process, state_status, stop_process, wait_for, wait_http

from evo.store import RunStore

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
POPULATION = 4
VOTER = "playwright-tester"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make test installs it)"),
]

# Interactive mode: the engine stops after generation 0 until 4 votes are in (or 120 s pass).
CONFIG = """
[run]
mode = "interactive"
votes_needed = 4
vote_timeout_s = 120.0
[fitness]
skip = 4
sample_every = 2
[preview]
size = 64
frames = 12
"""


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            yield b
        finally:
            b.close()


def vote_button(page, kind: str, ind_id: str):
    """The one live, visible button (Streamlit keeps stale copies during a rerun and a hidden twin)."""
    loc = page.locator(f'.st-key-{kind}_{ind_id}[data-stale="false"] button:visible')
    wait_for(lambda: loc.count() == 1, 20, f"one {kind} button for {ind_id}")
    return loc


@pytest.fixture
def processes():
    procs = []
    yield procs
    for proc in procs:
        stop_process(proc)


def test_votes_in_the_browser_steer_the_next_generation(tmp_path, browser, processes):
    runs = tmp_path / "runs"
    cfg = tmp_path / "interactive.toml"
    cfg.write_text(CONFIG)
    evolve_log, ui_log = tmp_path / "evolve.log", tmp_path / "ui.log"
    processes.append(start_process(liandan(
        "evolve", "--runs-dir", str(runs), "--run", "browser", "--population", str(POPULATION), "--generations", "2",
        "--frames", "24", "--size", "64", "--workers", "0", "--seeds", str(SEEDS), "--seed", "1", "--config", str(cfg),
    ), evolve_log))
    port = free_port()
    processes.append(start_process(liandan("ui", "--runs-dir", str(runs), "--port", str(port)), ui_log))

    run_dir = runs / "browser"
    wait_for(lambda: state_status(run_dir) == "waiting_votes", 90, "the engine to wait for votes", log=evolve_log)
    wait_http(f"http://127.0.0.1:{port}/_stcore/health", 60, log=ui_log)
    run = RunStore(runs).open("browser")
    assert run.generations() == [0]
    gen0 = run.load_generation(0)
    healthy = sorted((i for i in gen0 if not i.error), key=lambda i: (i.score, i.id))
    assert len(healthy) >= 3, [i.error for i in gen0]
    # Votes that go against the machine: best for the lowest machine score, dislike for the highest.
    underdog, favourite, liked = healthy[0], healthy[-1], healthy[1]
    last = next(i for i in gen0 if i.id not in {underdog.id, favourite.id, liked.id})
    assert underdog.score < favourite.score

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    grid = page.locator('[data-stale="false"] img.liandan-preview')
    grid.first.wait_for(timeout=30_000)
    wait_for(lambda: grid.count() == POPULATION, 20, "the whole grid")
    assert vote_button(page, "like", liked.id).is_disabled()  # no name yet, no voting

    name_box = page.get_by_role("textbox", name="Your name (voter id)")
    name_box.fill(VOTER)
    name_box.press("Enter")
    wait_for(lambda: vote_button(page, "like", liked.id).is_enabled(), 20, "the vote buttons to enable")

    for kind, ind in (("best", underdog), ("dislike", favourite), ("like", liked)):
        vote_button(page, kind, ind.id).click()
        page.get_by_text(f"saved for {ind.id}").wait_for(timeout=20_000)

    votes = run.votes(0)
    assert sorted((v.ind_id, v.voter, v.value, v.best) for v in votes) == sorted([
        (underdog.id, VOTER, 1, True), (favourite.id, VOTER, -1, False), (liked.id, VOTER, 1, False)])
    ARTIFACTS.mkdir(exist_ok=True)
    for ind in gen0:  # let the redraw after the last click finish: every card has its buttons again
        for kind in ("like", "dislike", "best"):
            vote_button(page, kind, ind.id)
    page.screenshot(path=str(ARTIFACTS / "vote_grid.png"), full_page=True)
    assert grid.count() == POPULATION
    widths = [grid.nth(k).bounding_box()["width"] for k in range(POPULATION)]
    assert all(w >= 100 for w in widths), widths  # visible, not collapsed placeholders
    assert state_status(run_dir) == "waiting_votes"  # 3 of 4: the engine still waits

    # The fourth vote releases the engine (the page may redraw at once, so check the store).
    vote_button(page, "like", last.id).click()
    wait_for(lambda: len(run.votes(0)) == 4, 20, "the fourth vote")

    # The engine sees the votes, selects, and renders generation 1.
    parents = wait_for(lambda: run.parents_of_next(0), 60, "selection after the votes", log=evolve_log)
    reasons = {p["id"]: p["reason"] for p in parents}
    assert "elite #1" in reasons[underdog.id]
    assert "elite" not in reasons.get(favourite.id, "")
    excluded = (run.read_checkpoint(0).to_json().get("next") or {}).get("excluded") or []
    assert [e["id"] for e in excluded] == [favourite.id]  # one dislike, no like: kept out of the pool
    wait_for(lambda: 1 in run.generations(), 60, "generation 1", log=evolve_log)
    gen1 = run.load_generation(1)
    assert gen1[0].operator == "elite" and gen1[0].parents == [underdog.id]

    # Without a reload, the page follows the run: it now shows generation 1 and which parents made it, and why.
    page.get_by_text("How generation 1 was made").wait_for(timeout=30_000)
    live = page.locator('[data-stale="false"] img.liandan-preview')
    wait_for(lambda: live.count() == POPULATION, 20, "the generation-1 grid")
    ids_on_page = [live.nth(k).get_attribute("title") for k in range(POPULATION)]
    from evo.predictor.taste import taste_view, vote_order

    liked = taste_view(run).liked(gen1)  # the votes trained a taste model, which orders the grid
    assert ids_on_page == [i.id for i in vote_order(gen1, liked)]
    assert page.locator(f'img.liandan-parent[title="{underdog.id}"]').count() == 1
    assert page.get_by_text("elite #1").first.is_visible()
    assert page.locator(f'[data-stale="false"] img.liandan-excluded[title="{favourite.id}"]').count() == 1
    assert page.get_by_text("Left out by votes").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "vote_parents.png"), full_page=True)
    wait_for(lambda: state_status(run_dir) == "finished", 60, "the run to finish", log=evolve_log)
