"""evo.music: song analysis, reactivity profiles, matching, sets and breathing, on synthetic
music whose tempo, beats and sections are known exactly, and on a real OGG when Debian's
drascula-music is installed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evo.music.analysis import Section, SongAnalysis, analyze_song
from evo.music.match import Candidate, plan_set, rank_section, rank_song, write_playlist
from evo.music.reactivity import ReactivityProfile, measure_preset
from renderer.audio.synth import ALL_PARTS, synthesize_sections, write_wav
from renderer.milk.preset import parse_milk

TEMPO = 128.0
BEAT = 60.0 / TEMPO
SECTIONS = [(32 * BEAT, ("chords", "arp"), 0.25), (32 * BEAT, ALL_PARTS, 1.0), (24 * BEAT, ("chords", "bass"), 0.3)]
REAL_SONG = Path("/usr/share/scummvm/drascula/audio/track1.ogg")


@pytest.fixture(scope="module")
def song_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("song") / "sections.wav"
    write_wav(synthesize_sections(SECTIONS, tempo=TEMPO, seed=3), path)
    return path


@pytest.fixture(scope="module")
def song(song_file) -> SongAnalysis:
    return analyze_song(song_file)


def test_tempo_beats_and_sections_of_a_known_song(song):
    assert song.tempo == pytest.approx(TEMPO, rel=0.02)
    drop = [b for b in song.beats if SECTIONS[0][0] + 1 < b < SECTIONS[0][0] + SECTIONS[1][0] - 1]
    off = [abs(b - round(b / BEAT) * BEAT) for b in drop]
    assert len(drop) >= 25 and max(off) <= 1 / 30  # within one frame at 30 fps
    edges = [s.start for s in song.sections[1:]]
    truth = [SECTIONS[0][0], SECTIONS[0][0] + SECTIONS[1][0]]
    assert len(edges) == 2 and all(abs(a - b) <= 1.0 for a, b in zip(edges, truth))
    calm, drop_s, outro = song.sections
    assert drop_s.energy == 1.0 and calm.energy < 0.5 and calm.label == "calm" and drop_s.label == "intense"
    summary = json.loads(json.dumps(song.summary()))
    assert summary["tempo"] == pytest.approx(TEMPO, rel=0.02) and len(summary["sections"]) == 3


BEAT_ZOOM = "[preset00]\nfDecay=0.9\nzoom=1\nper_frame_1=zoom = 1 + 0.3*max(bass - bass_att, 0); wave_r = 1;\n"
DRIFT = "[preset00]\nfDecay=0.99\nrot=0.02\nzoom=1.01\nnWaveMode=0\nfWaveAlpha=0.6\n"


@pytest.fixture(scope="module")
def renderer():
    from renderer import Renderer
    from evo.music.reactivity import PROBE_FPS

    r = Renderer(width=48, height=48, fps=PROBE_FPS, seed=0)
    yield r
    r.release()


def test_a_beat_driven_preset_profiles_as_beat_locked_and_a_drift_does_not(renderer):
    beat = measure_preset(renderer, parse_milk(BEAT_ZOOM), seconds=6.0)
    drift = measure_preset(renderer, parse_milk(DRIFT), seconds=6.0)
    assert beat.beat_lock > drift.beat_lock + 0.3
    assert beat.bass > drift.bass + 0.3 and beat.beat_alignment > 0.6
    assert 0.0 <= drift.motion_level <= 1.0
    assert ReactivityProfile.from_json(beat.to_json()).to_json() == beat.to_json()


def _profile(motion: float, lock: float, brightness: float = 0.3) -> ReactivityProfile:
    x = -0.05 * np.log(1.0 - motion)  # inverse of motion_level
    return ReactivityProfile(beat_alignment=0.2 + 0.7 * lock, chance=0.2, bass=lock, mid=0.0, treb=0.0,
                             beat_response=lock, motion=float(x), brightness=brightness, warmth=0.5, visual_tempo=120)


def test_calm_sections_get_calm_presets_and_drops_get_fast_beat_locked_ones(tmp_path):
    calm = Section(0.0, 20.0, 0.2, "calm", 0.1, 1.2)
    drop = Section(20.0, 50.0, 1.0, "intense", 0.1, 6.0)
    a = SongAnalysis("x.wav", 50.0, 120.0, np.arange(0, 50, 0.5), np.zeros(0), np.zeros(0), np.zeros(0),
                     np.zeros(0), np.zeros(0), np.zeros((12, 0)), [calm, drop])
    files = {}
    for name in ("slow", "fast locked", "fast loose"):
        files[name] = tmp_path / f"{name}.milk"
        files[name].write_text("[preset00]\nzoom=1\n")
    cands = [Candidate("slow", str(files["slow"]), _profile(0.25, 0.1)),
             Candidate("fast locked", str(files["fast locked"]), _profile(0.85, 0.9)),
             Candidate("fast loose", str(files["fast loose"]), _profile(0.85, 0.05))]
    assert rank_section(calm, cands)[0].candidate.name == "slow"
    ranked = rank_section(drop, cands)
    assert [f.candidate.name for f in ranked[:2]] == ["fast locked", "fast loose"]
    assert "intense section" in ranked[0].reason and "beat-locked" in ranked[0].reason
    assert rank_song(a, cands)[0].candidate.name in ("slow", "fast locked")
    cues = plan_set(a, cands)
    assert [c.fit.candidate.name for c in cues] == ["slow", "fast locked"]
    assert (cues[0].start, cues[-1].end) == (0.0, 50.0)
    doc = json.loads(write_playlist(a, cues, tmp_path / "set").read_text())
    assert [c["file"] for c in doc["cues"]] == ["presets/01 - slow.milk", "presets/02 - fast locked.milk"]
    assert (tmp_path / "set" / "presets" / "02 - fast locked.milk").read_text() == files["fast locked"].read_text()


def test_breathe_makes_a_drifting_preset_follow_the_song_and_keeps_the_input(song, song_file, tmp_path):
    from evo.music.breathe import FPS, breathe
    from renderer.audio import AudioAnalyzer, load_audio
    from renderer.eel import compile_block

    src = tmp_path / "drift.milk"
    src.write_text(DRIFT)
    before = src.read_bytes()
    res = breathe(parse_milk(DRIFT, str(src)), song, AudioAnalyzer(load_audio(song_file), fps=FPS), size=48)
    assert res.text is not None and res.after.beat_lock > res.before.beat_lock + 0.2
    child = parse_milk(res.text)
    compile_block(child.per_frame_code, "per_frame")
    assert child.params["rot"] == pytest.approx(0.02) and child.params["fDecay"] == pytest.approx(0.99)  # its look
    assert "bass - bass_att" in "".join(child.per_frame_code)
    assert src.read_bytes() == before


@pytest.mark.slow
def test_a_set_renders_to_a_video_with_the_song(song, song_file, tmp_path):
    from evo.music.match import Cue, Fit
    from evo.music.set_video import render_set_video, video_has_audio

    files = []
    for name, text in (("a", DRIFT), ("b", BEAT_ZOOM)):
        files.append(tmp_path / f"{name}.milk")
        files[-1].write_text(text)
    prof = _profile(0.5, 0.5)
    cues = [Cue(0.0, 3.0, 0, Fit(Candidate("a", str(files[0]), prof), 1.0, "")),
            Cue(3.0, 6.0, 1, Fit(Candidate("b", str(files[1]), prof), 1.0, ""))]
    out = tmp_path / "set.mp4"
    n = render_set_video(song_file, cues, out, size=(64, 64), fps=10.0, blend_s=1.0)
    assert n == 60 and out.stat().st_size > 1000 and video_has_audio(out)


@pytest.mark.skipif(not REAL_SONG.is_file(), reason="drascula-music not installed")
def test_listen_on_a_real_ogg(tmp_path):
    from typer.testing import CliRunner

    from ui.cli import app

    plot = tmp_path / "song.png"
    r = CliRunner().invoke(app, ["listen", str(REAL_SONG), "--json", "--plot", str(plot)])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert 60 < data["tempo"] < 200 and data["sections"] and data["duration"] == pytest.approx(182.2, abs=0.5)
    assert plot.stat().st_size > 10_000


def test_sampled_beat_lock_reads_pulses_on_the_beats():
    from evo.fitness.candidate import sampled_beat_lock

    fps, idx = 60.0, list(range(8, 240, 4))  # the fitness samples every 4th frame
    beats = np.arange(0.5, 4.0, 0.5)  # seconds from the render start
    on_beat = {int(round(b * fps)) - 1 for b in beats}

    def frames(pulse_frames):
        out = []
        for i in idx:
            level = 200 if any(0 <= i - p < 4 for p in pulse_frames) else 40
            out.append(np.full((16, 16, 3), level, np.uint8))
        return out

    locked = sampled_beat_lock(frames(on_beat), idx, beats, fps)
    off = sampled_beat_lock(frames({p + 14 for p in on_beat}), idx, beats, fps)
    assert locked > 0.6 and off < 0.2


@pytest.mark.slow
def test_evolving_for_a_song_records_it_and_scores_its_beats(song_file, tmp_path, seeds_dir):
    from evo.driver import resume_run, start_run
    from evo.music.song_fitness import read_song_record
    from evo.store import RunStore
    from helpers import tiny_config

    cfg = tiny_config(seeds_dir, **{"fitness.audio": str(song_file), "run.generations": 2, "run.population": 4,
                                    "fitness.frames": 60, "fitness.sample_every": 3})
    store = RunStore(tmp_path / "runs")
    run = store.open(start_run(cfg, store, "song"))
    f = run.run_config().fitness
    assert f.audio_start > SECTIONS[0][0] - 1  # the drop, not the quiet intro
    assert f.beat_times and all(0 < b <= f.frames / f.fps for b in f.beat_times)
    record = read_song_record(run.dir)
    assert record["tempo"] == pytest.approx(TEMPO, rel=0.02) == record["features"]["tempo"]
    scored = [i for i in run.load_generation(1) if not i.error]
    assert scored and all("beat_lock" in i.stats for i in scored)


def test_music_to_params_learns_a_real_relation_and_saves_as_json(tmp_path):
    from evo.music.suggest import MUSIC_INPUTS, TARGET_PARAMS, ModelError, MusicToParams

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (120, len(MUSIC_INPUTS)))
    W = rng.normal(0, 0.3, (len(MUSIC_INPUTS), len(TARGET_PARAMS)))
    Y = 0.5 + (X - 0.5) @ W + rng.normal(0, 0.02, (120, len(TARGET_PARAMS)))
    groups = np.repeat([f"song{k}" for k in range(12)], 10)
    m = MusicToParams().fit(X, Y, np.ones(120), groups)
    assert m.cv_[m.kind_] < 0.5 * m.cv_["mean preset"]  # held-out songs: far better than the mean preset
    path = tmp_path / "m.json"
    m.save(path)
    again = MusicToParams.load(path)
    assert np.allclose(again.predict(X[:5]), m.predict(X[:5]))
    doc = json.loads(path.read_text())
    doc["layers"][0][0][0][0] = "__import__('os')"
    path.write_text(json.dumps(doc))
    with pytest.raises(ModelError, match="m.json"):
        MusicToParams.load(path)
    path.write_text(json.dumps({**doc, "kind": "something else"}))
    with pytest.raises(ModelError, match="not a liandan"):
        MusicToParams.load(path)


@pytest.mark.slow
def test_a_dataset_mined_with_reactivity_is_matched_without_rendering(song_file, tmp_path, seeds_dir):
    from typer.testing import CliRunner

    from evo.mining.dataset import load_dataset
    from evo.mining.mine import EXTRA_GROUPS, mine
    from evo.music.dataset_group import candidates_from_dataset
    from ui.cli import app

    ds = tmp_path / "ds"
    mine([seeds_dir], ds, workers=0, extra_groups=[EXTRA_GROUPS["reactivity"]()])
    cands, missing = candidates_from_dataset(load_dataset(ds))
    assert len(cands) == len(list(seeds_dir.glob("*.milk"))) and missing == 0
    assert all(0.0 <= c.profile.beat_alignment <= 1.0 for c in cands)
    mine([seeds_dir], ds, workers=0)  # a later mine keeps the group (from the cache: nothing rendered)
    again, _ = candidates_from_dataset(load_dataset(ds))
    assert [c.profile.to_json() for c in again] == [c.profile.to_json() for c in cands]
    r = CliRunner().invoke(app, ["match", str(song_file), "--presets", str(ds), "--top", "3",
                                 "--playlist", str(tmp_path / "set")])
    assert r.exit_code == 0, r.output
    assert "For the whole song" in r.stdout and (tmp_path / "set" / "cues.json").is_file()
