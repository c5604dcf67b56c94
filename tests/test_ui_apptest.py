"""Page logic of the Streamlit app through streamlit.testing.v1.AppTest, on real run folders
made through the real store API (tests/ui_helpers.py), plus the vote store under many threads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui_helpers
from ui_helpers import make_run

from evo.store import RunStore
from renderer.milk.preset import parse_milk

TIMEOUT = 60


def page_app(module: str) -> AppTest:
    """One page with the sidebar app.py draws around every page (the voter-name box)."""
    script = f"from ui.common import voter_sidebar\nfrom ui.app_pages import {module}\nvoter_sidebar()\n{module}.page()\n"
    return AppTest.from_string(script, default_timeout=TIMEOUT)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def previews(at: AppTest, css_class: str = "liandan-preview") -> list[str]:
    """The ids (title=...) of inlined preview <img> tags on the page."""
    out = []
    for md in at.markdown:
        out += re.findall(rf'<img class="{css_class}" src="data:image/[a-z]+;base64,[^"]+" [^>]*title="([^"]+)"', md.value)
    return out


def vote(at: AppTest, kind: str, ind_id: str) -> AppTest:
    return at.button(key=f"{kind}_{ind_id}").click().run()


# ---------------------------------------------------------------- vote page


def test_empty_runs_dir_says_so(runs):
    at = page_app("vote").run()
    assert not at.exception
    assert "No runs in" in texts(at.info)
    assert str(runs) in texts(at.info)


def test_vote_page_shows_newest_generation_as_animated_previews(runs):
    make_run(runs, "r1", population=5, generations=2)
    at = page_app("vote").run()
    assert not at.exception
    assert previews(at) == [f"g0001-{i:03d}" for i in range(5)]  # newest generation only, in order
    assert 'data-count="5"' in texts(at.markdown)


def test_voting_needs_a_name(runs):
    run = make_run(runs, "r1")
    at = page_app("vote").run()
    assert "Type your name" in texts(at.warning)
    assert at.button(key="like_g0000-000").disabled
    assert at.button(key="best_g0000-000").disabled
    assert run.votes() == []


def test_clicks_store_votes_at_once_with_the_voter_name(runs):
    run = make_run(runs, "r1", population=4)
    at = page_app("vote").run()
    at.sidebar.text_input(key="voter").input("  ada  ").run()
    assert not at.button(key="like_g0000-001").disabled
    at = vote(at, "like", "g0000-001")
    votes = run.votes(0)
    assert [(v.ind_id, v.voter, v.value, v.best) for v in votes] == [("g0000-001", "ada", 1, False)]
    assert "saved for g0000-001" in texts(at.success)
    at = vote(at, "dislike", "g0000-002")
    at = vote(at, "best", "g0000-003")
    summary = run.vote_summary(0)
    assert (summary["g0000-002"].likes, summary["g0000-002"].dislikes) == (0, 1)
    assert summary["g0000-003"].best == 1
    # the tally on the page already includes the click that caused this redraw
    assert "best 1" in texts(at.caption)


def test_best_of_batch_is_one_pick_per_voter(runs):
    run = make_run(runs, "r1", population=4)
    at = page_app("vote").run()
    at.sidebar.text_input(key="voter").input("bo").run()
    at = vote(at, "best", "g0000-000")
    at = vote(at, "best", "g0000-002")
    summary = run.vote_summary(0)
    assert summary["g0000-002"].best == 1
    assert summary["g0000-000"].best == 0 and summary["g0000-000"].likes == 1  # demoted to a like
    # another voter's best is independent
    at.sidebar.text_input(key="voter").input("cy").run()
    vote(at, "best", "g0000-000")
    assert run.vote_summary(0)["g0000-000"].best == 1


def test_vote_page_shows_the_parents_and_why(runs):
    run = make_run(runs, "r1", population=4, generations=2)
    at = page_app("vote").run()
    chosen = run.parents_of_next(0)
    assert "How generation 1 was made" in texts(at.subheader)
    assert sorted(previews(at, "liandan-parent")) == sorted(p["id"] for p in chosen)
    shown = texts(at.caption)
    for p in chosen:
        assert p["reason"] in shown


def test_waiting_run_shows_vote_progress(runs):
    run = make_run(runs, "r1", mode="interactive")
    state = run.state
    run.write_state("waiting_votes", 0, votes_needed=3)  # this test process stands in for the driver
    assert state["status"] == "waiting_votes"
    with run.lock():
        _vote_while_waiting(run)


def _vote_while_waiting(run):
    at = page_app("vote").run()
    at.sidebar.text_input(key="voter").input("ada").run()
    at = vote(at, "like", "g0000-000")
    assert "1 of 3" in texts(at.info)
    assert at.get("progress")[0].value == pytest.approx(100 / 3, abs=1)  # percent
    # changing one's mind on the same preset is still one vote (what the engine waits for)
    at = vote(at, "dislike", "g0000-000")
    at = vote(at, "like", "g0000-000")
    assert len(run.votes(0)) == 3 and run.vote_count(0) == 1
    assert "1 of 3" in texts(at.info)
    assert "1 vote(s) on this generation" in texts(at.caption)
    at = vote(at, "like", "g0000-001")
    assert "2 of 3" in texts(at.info)
    assert at.get("progress")[0].value == pytest.approx(200 / 3, abs=1)


def card(at: AppTest, ind_id: str) -> str:
    """The caption under one preview card (it starts with the id in backticks)."""
    found = [c.value for c in at.caption if c.value.startswith(f"`{ind_id}` · machine")]
    assert len(found) == 1, found
    return found[0]


def combined_on_card(at: AppTest, ind_id: str) -> float:
    return float(re.search(r"combined (-?[0-9.]+)", card(at, ind_id)).group(1))


def test_copies_of_a_genome_share_their_votes(runs):
    # make_run's generation 1 card k shows the same seed preset as generation 0 card k+1
    run = make_run(runs, "r1", population=4, generations=2)
    gen0, gen1 = run.load_generation(0), run.load_generation(1)
    assert gen1[0].genome_id == gen0[1].genome_id
    assert gen1[3].genome_id not in {i.genome_id for i in gen0}
    run.add_vote(gen0[1].id, "ada", +1)
    run.add_vote(gen0[2].id, "ada", -1)
    at = page_app("vote").run()
    assert not at.exception
    # defaults (weight 1, prior 1): one like is 2 * 2/3 - 1 = +1/3, one dislike -1/3
    assert combined_on_card(at, gen1[0].id) == pytest.approx(gen1[0].score + 1 / 3, abs=1e-3)
    assert combined_on_card(at, gen1[1].id) == pytest.approx(gen1[1].score - 1 / 3, abs=1e-3)
    assert combined_on_card(at, gen1[3].id) == pytest.approx(gen1[3].score, abs=1e-3)
    assert "with earlier copies of this look: likes 1 · dislikes 0" in card(at, gen1[0].id)
    assert "not a parent" in card(at, gen1[1].id) and "not a parent" not in card(at, gen1[0].id)
    assert "no votes yet" in card(at, gen1[3].id) and "earlier copies" not in card(at, gen1[3].id)
    # one voter on two copies of a look counts once, with the latest vote
    at.sidebar.text_input(key="voter").input("ada").run()
    at = vote(at, "dislike", gen1[0].id)
    assert combined_on_card(at, gen1[0].id) == pytest.approx(gen1[0].score - 1 / 3, abs=1e-3)


def test_run_vote_settings_change_the_scores_and_the_formula(runs):
    run = make_run(runs, "r1", population=4, generations=1, overrides={"votes.prior": 2.0, "votes.weight": 0.5})
    run.add_vote("g0000-002", "ada", +1)
    at = page_app("vote").run()
    # prior 2, weight 0.5: one like gives rate 3/5, vote 0.2, times 0.5 = +0.1
    ind = run.individual("g0000-002")
    assert combined_on_card(at, ind.id) == pytest.approx(ind.score + 0.1, abs=1e-3)
    help_text = texts(at.expander[0].markdown)
    assert "(L + 2) / (L + D + 4)" in help_text and "Beta(2, 2)" in help_text
    assert "combined = base + 0.5 × vote" in help_text
    assert "one like adds +0.10" in help_text
    assert "generation g+2" in help_text


def test_parents_list_shows_who_votes_left_out_and_who_re_entered(runs):
    run = make_run(runs, "r1", population=4, generations=3)
    gen0, gen1 = run.load_generation(0), run.load_generation(1)
    present = {i.genome_id for g in (1, 2) for i in run.load_generation(g)}
    old = next(i for i in gen0 if i.genome_id not in present)  # a look only generation 0 had
    run.add_vote(old.id, "ada", +1)
    run.add_vote(gen1[1].id, "ada", -1)
    run.add_vote(gen1[1].id, "bo", -1)
    nxt = ui_helpers.select_parents(run, 1, elite=2)  # the selection that made generation 2, redone on these votes
    assert [e["id"] for e in nxt["excluded"]] == [gen1[1].id]
    assert any(p["id"] == old.id and p["reentered"] for p in nxt["parents"])
    at = page_app("vote").run()
    assert not at.exception
    assert "How generation 2 was made" in texts(at.subheader)
    assert old.id in previews(at, "liandan-parent")
    assert previews(at, "liandan-excluded") == [gen1[1].id]
    shown = texts(at.caption)
    assert f"`{old.id}` · **re-entered** from generation 0" in shown
    assert f"`{gen1[1].id}` — excluded: disliked (2 dislikes)" in shown
    assert "**Left out by votes**" in texts(at.markdown)
    assert 'data-excluded="1"' in texts(at.markdown)


def test_selected_generation_says_votes_now_shape_the_one_after(runs):
    run = make_run(runs, "r1", population=4, generations=2)
    ui_helpers.select_parents(run, 1)  # an autonomous run already picked generation 2's parents
    at = page_app("vote").run()
    note = texts(at.info)
    assert "Parents for generation 2 were already chosen" in note
    assert "parents of generation 3" in note and "liked ones re-enter" in note and "disliked ones are left out" in note
    assert "`liandan export`" in note
    assert "Chosen as parents of generation 2" in texts(at.subheader)


# ---------------------------------------------------------------- other pages


def test_preset_page_shows_parameters_code_and_stats(runs):
    run = make_run(runs, "r1")
    at = page_app("preset").run()
    assert not at.exception
    ind = run.load_generation(0)[0]
    text = run.preset_path(ind.id).read_text(encoding="latin-1")
    table = at.dataframe[0].value
    shown = dict(zip(table["parameter"], table["value"]))
    # every top-level number the file sets away from its default is listed with the file's value
    file_values = dict(re.findall(r"^(fDecay|fGammaAdj|fWaveScale)=([-0-9.]+)$", text, re.M))
    assert file_values, "seed preset should set these"
    for key, value in file_values.items():
        assert float(shown[key]) == pytest.approx(float(value))
    assert "zoom" not in shown or float(shown["zoom"]) != 1.0
    assert at.dataframe[1].value["statistic"].tolist() == list(ind.stats)
    assert "per_frame" in [e.label for e in at.expander]
    assert at.get("download_button")


def test_runs_page_lists_runs_and_lineage(runs):
    make_run(runs, "r1", population=4, generations=2)
    make_run(runs, "r2", population=3, generations=1)
    at = page_app("runs").run()
    assert not at.exception
    listed = at.dataframe[0].value["run"].tolist()
    assert sorted(listed) == ["r1", "r2"]
    at.sidebar.selectbox(key="runs_run").select("r1").run()
    at.selectbox(key="lineage_ind_r1_1").select("g0001-002").run()
    ind = RunStore(runs).open("r1").individual("g0001-002")
    shown = previews(at, "liandan-lineage")
    assert shown[0] == "g0001-002" and sorted(shown[1:]) == sorted(ind.parents)


def test_runs_page_shows_audio_notes_and_a_damaged_state(runs):
    make_run(runs, "r1", population=3, generations=2)
    run = RunStore(runs).open("r1")
    run.write_state("stopped", 1, notes=["song.wav: 6 channels: kept the first two (front left/right)"])
    at = page_app("runs").run()
    at.sidebar.selectbox(key="runs_run").select("r1").run()
    assert not at.exception
    assert "song.wav: 6 channels: kept the first two" in texts(at.warning)
    (run.dir / "state.json").write_text('{"status": "runn')
    at.run()
    assert not at.exception
    assert "state.json: corrupt JSON" in texts(at.warning) and "Resume rebuilds it" in texts(at.warning)
    assert [b for b in at.button if b.label == "Resume"]


@pytest.fixture
def launched(monkeypatch):
    """Runs the Runs page starts in the background, recorded instead of started."""
    calls = []

    def fake(self, log_name="resume"):
        calls.append((self.id, log_name))
        return 4242

    monkeypatch.setattr("evo.store.Run.launch", fake)
    return calls


def test_runs_page_branches_a_new_run_from_an_individual(runs, launched):
    make_run(runs, "r1", population=4, generations=2)
    at = page_app("runs").run()
    at.sidebar.selectbox(key="runs_run").select("r1").run()
    at.selectbox(key="lineage_ind_r1_1").select("g0001-003").run()
    form_button = [b for b in at.button if b.label == "Branch and start"][0]
    form_button.click().run()
    assert not at.exception
    new_id = "r1-from-g0001-003"
    branched = RunStore(runs).open(new_id)
    assert branched.config["branch"]["run"] == "r1" and branched.config["branch"]["individual"] == "g0001-003"
    assert branched.config["branch"]["genome"] == RunStore(runs).open("r1").individual("g0001-003").genome
    assert launched == [(new_id, "resume")]
    assert "started r1-from-g0001-003" in texts(at.success)


def test_runs_page_refuses_a_config_the_driver_would_refuse(runs, launched):
    at = page_app("runs").run()
    {t.label: t for t in at.text_input}["Run name"].input("tiny")
    numbers = {n.label: n for n in at.number_input}
    numbers["Population"].set_value(3)
    numbers["Interactive: votes to wait for"].set_value(2)
    at.radio[0].set_value("interactive")
    {t.label: t for t in at.text_input}["Seed folder (blank: the projectM presets, else the built-in seeds)"].input(
        str(runs / "no such folder"))
    [b for b in at.button if b.label == "Start"][0].click().run()
    assert not at.exception and launched == [] and not RunStore(runs).exists("tiny")
    assert "no such folder" in texts(at.error)


@pytest.mark.slow
def test_runs_page_starts_a_run_the_cli_accepts(runs, launched):
    from ui_helpers import SEEDS

    at = page_app("runs").run()
    boxes = {t.label: t for t in at.text_input}
    boxes["Run name"].input("started")
    boxes["Seed folder (blank: the projectM presets, else the built-in seeds)"].input(str(SEEDS))
    numbers = {n.label: n for n in at.number_input}
    numbers["Population"].set_value(3)
    numbers["Generations"].set_value(1)
    numbers["Worker processes"].set_value(0)
    numbers["Interactive: votes to wait for"].set_value(7)
    at.radio[0].set_value("interactive")
    [b for b in at.button if b.label == "Start"][0].click().run()
    assert not at.exception
    assert launched == [("started", "evolve")]
    run = RunStore(runs).open("started")
    assert run.config["run"]["mode"] == "interactive" and run.config["run"]["votes_needed"] == 7
    assert run.status == "stopped" and run.generations() == []
    # what Run.launch runs in the background, for real (one generation of 3: no vote wait)
    done = subprocess.run([sys.executable, "-m", "evo.driver", "started", "--runs-dir", str(runs)],
                          cwd=ui_helpers.REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    run = RunStore(runs).open("started")
    assert run.status == "finished" and len(run.load_generation(0)) == 3


def test_breed_page_makes_a_child_that_parses(runs):
    make_run(runs, "r1", population=4)
    at = page_app("breed").run()
    assert "Pick two parents." not in texts(at.info)  # both pickers default to the run
    at.selectbox(key="b_ind_r1_0").select("g0000-002").run()
    at.slider(key="breed_ratio").set_value(0.3).run()
    at.button(key="breed_go").click().run()
    assert not at.exception, at.exception
    child = at.session_state["child"]
    assert child["parents"] == ("r1/g0000-000", "r1/g0000-002") and child["ratio"] == 0.3
    preset = parse_milk(child["text"], source="child")
    assert preset.params  # a real preset came back through the reader
    assert at.get("download_button")
    assert previews(at, "liandan-child") == ["child"]  # rendered by the subprocess


def test_breeding_names_the_broken_parent():
    from evo.breeding import BreedError, breed_texts

    broken = (Path(__file__).parent / "fixtures" / "broken_nul.milk").read_bytes()
    with pytest.raises(BreedError) as err:
        breed_texts("[preset00]\nzoom=1.1\n", broken, names=("good.milk", "bad.milk"))
    assert "bad.milk" in str(err.value) and "good.milk" not in str(err.value)


# ---------------------------------------------------------------- many voters at once
# 8 threads x 500 votes is tests/test_store.py::test_votes_from_many_threads_all_stored; here the
# case it leaves out: several processes (two `liandan ui` servers, the engine) writing at once.


VOTER_SCRIPT = """
import sys
from evo.store import RunStore
run = RunStore(sys.argv[1]).open("r1")
ids = sys.argv[3].split(",")
for n in range(500):
    run.add_vote(ids[n % len(ids)], "proc" + sys.argv[2], 1 if n % 3 else -1, best=(n % 50 == 0))
"""


def test_votes_from_4_processes_all_stored(runs):
    run = make_run(runs, "r1", population=4)
    ids = ",".join(i.id for i in run.load_generation(0))
    procs = [subprocess.Popen([sys.executable, "-c", VOTER_SCRIPT, str(runs), str(k), ids], cwd=ui_helpers.REPO)
             for k in range(4)]
    assert [p.wait(120) for p in procs] == [0, 0, 0, 0]
    votes = run.votes()
    assert len(votes) == 2000 and len({v.id for v in votes}) == 2000
    assert sorted({v.voter for v in votes}) == [f"proc{k}" for k in range(4)]
    assert all(sum(v.voter == f"proc{k}" for v in votes) == 500 for k in range(4))


# ---------------------------------------------------------------- the app and its command


def test_whole_app_starts_on_the_vote_page(runs):
    make_run(runs, "r1", population=3)
    at = AppTest.from_file(str(ui_helpers.REPO / "ui" / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert at.title[0].value == "Vote"
    assert at.sidebar.text_input(key="voter").label == "Your name (voter id)"
    assert previews(at) == ["g0000-000", "g0000-001", "g0000-002"]


@pytest.mark.parametrize("extra, host", [([], "127.0.0.1"), (["--host", "0.0.0.0"], "0.0.0.0")])
def test_ui_command_binds_localhost_unless_told(monkeypatch, tmp_path, extra, host):
    from typer.testing import CliRunner

    import ui.cli.serve
    from ui.cli import app

    seen = {}

    def fake_run(cmd, env):
        seen.update(cmd=cmd, env=env)
        return 0

    monkeypatch.setattr(ui.cli.serve, "run_child", fake_run)
    result = CliRunner().invoke(app, ["ui", "--runs-dir", str(tmp_path / "r"), "--port", "8765", *extra])
    assert result.exit_code == 0, result.output
    cmd = seen["cmd"]
    assert cmd[cmd.index("--server.address") + 1] == host
    assert cmd[cmd.index("--server.port") + 1] == "8765"
    assert Path(cmd[cmd.index("run") + 1]).name == "app.py"
    assert seen["env"]["LIANDAN_RUNS_DIR"] == str((tmp_path / "r").resolve())


def test_typed_run_name_survives_a_rerun_a_second_later(runs, launched, monkeypatch):
    """The default run name is a timestamp; a rerun in the next second must not reset the box."""
    import time as time_module

    clock = iter(range(1_700_000_000, 1_700_000_100))
    real_strftime = time_module.strftime
    monkeypatch.setattr(time_module, "strftime", lambda fmt, t=None: real_strftime(fmt, time_module.gmtime(next(clock))))
    at = page_app("runs").run()
    [t for t in at.text_input if t.label == "Run name"][0].input("mine")
    [b for b in at.button if b.label == "Start"][0].click().run()
    assert not at.exception
    assert launched == [("mine", "evolve")]


def test_vote_page_shows_the_taste_model_and_orders_by_it(runs):
    """With a trained taste model the page says how good it is, shows P(liked) and why a card is
    shown beside each preview, and puts the looks the model is least sure about first."""
    from evo.predictor.taste import taste_view, vote_order
    from evo.predictor.train import train

    run = make_run(runs, "r1", population=8)
    ck = run.read_checkpoint(0)
    ck.individuals[2].shown, ck.individuals[2].predicted = "uncertain", 0.49
    run.write_checkpoint(ck)
    for k, rec in enumerate(ck.individuals):
        run.add_vote(rec.id, "ann", 1 if k >= 4 else -1)  # she likes the higher-entropy half
    train(runs)
    at = page_app("vote").run()
    assert not at.exception
    captions = texts(at.caption)
    assert "taste model (everyone): cross-validated AUC" in captions and "on 8 voted looks (4 liked)" in captions
    assert captions.count("P(liked) ") == 8 and "shown to learn: the model was unsure (P 0.49 from its genome)" in captions
    records = run.load_generation(0)
    expected = [r.id for r in vote_order(records, taste_view(run).liked(records))]
    assert previews(at) == expected and expected != [r.id for r in records]
