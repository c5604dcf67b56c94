"""evo.mining: the dataset of a small real corpus (schema, identity, static and rendered
features), its cache (a second mine renders nothing, a changed file is redone, a version bump
redoes all) and a mine interrupted half-way that resumes without redoing what it did."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from evo.mining.dataset import (BOOL_COLUMNS, STRING_COLUMNS, column_kind, load_dataset, media_path, read_meta,
                                rows_to_table)
from evo.mining.mine import MiningError, mine
from evo.mining.rendered import render_columns
from evo.mining.static import author_title, static_columns, static_row
from mining_helpers import HAND_WRITTEN, TINY


@pytest.fixture(scope="module")
def corpus(mined_corpus) -> Path:
    return mined_corpus[0]


@pytest.fixture(scope="module")
def mined(mined_corpus):
    return mined_corpus[1], mined_corpus[2]


def pd_isna(x) -> bool:
    return x is None or x is np.nan or (isinstance(x, float) and math.isnan(x)) or str(x) == "<NA>"


def _copy(mined, tmp_path) -> Path:
    dst = tmp_path / "ds"
    shutil.copytree(mined[0], dst)
    return dst


# ---------------------------------------------------------------- static features, no render


def test_hand_written_preset_features(tmp_path):
    f = tmp_path / "Tester - Hand Made.milk"
    f.write_text(HAND_WRITTEN, encoding="latin-1")
    row = static_row(f, tmp_path, f.read_bytes())
    assert row["error"] is None
    assert (row["author"], row["title"], row["folder"]) == ("Tester", "Hand Made", tmp_path.name)
    assert row["param_zoom"] == 1.05 and row["set_zoom"] and not row["set_rot"]
    assert row["param_rot"] == 0.0  # the default of a key the file does not set
    assert row["param_fRating"] == 4.5 and row["milk_version"] == 201
    assert row["wave2_enabled"] == 1 and row["wave2_samples"] == 128 and row["wave2_lines_per_point"] == 1
    assert row["set_wavecode_2_samples"] and not row["set_wavecode_0_samples"]
    assert row["shape1_sides"] == 5 and row["waves_enabled"] == 1 and row["shapes_enabled"] == 1
    # code: what per-frame and per-pixel code assign (compound assignment too; not ==, not comments)
    assert row["code_pf_zoom"] and row["code_pf_rot"] and row["code_pf_wave_r"]
    assert not row["code_pf_warp"] and not row["code_pf_cx"]
    assert row["code_pp_warp"] and row["code_pp_cx"] and not row["code_pp_zoom"]
    assert row["code_fn_sin"] == 2 and row["code_fn_cos"] == 1 and row["code_fn_loop"] == 1 and row["code_fn_rand"] == 1
    assert row["code_loops"] == 1 and row["code_megabuf"] == 1
    assert row["code_q_vars"] == 2  # q1, q3 (q5 is in the shader)
    assert row["code_t_vars"] == 1 and row["code_reg_vars"] == 1
    assert row["code_lines_per_frame"] == 3 and row["code_lines_per_pixel"] == 1 and row["code_lines_waves"] == 1
    # shaders: both present, blur level 2, a noise texture and one user texture (clouds)
    assert row["shader_warp"] and row["shader_comp"] and row["shader_blur"] == 2 and row["shader_noise"]
    assert row["shader_user_textures"] == 1 and row["shader_samplers"] == 3 and row["shader_tex_calls"] == 4
    assert row["shader_q_vars"] == 1
    assert set(row) <= set(static_columns())


def test_md1_file_never_runs_shader_text(tmp_path):
    f = tmp_path / "old.milk"
    f.write_text(HAND_WRITTEN.replace("MILKDROP_PRESET_VERSION=201", "MILKDROP_PRESET_VERSION=100"), encoding="latin-1")
    row = static_row(f, tmp_path, f.read_bytes())
    assert not row["shader_warp"] and not row["shader_comp"] and row["shader_blur"] == 0 and row["ps_warp"] == 0


def test_author_title_from_names():
    assert author_title("Geiss & Rovastar - Dynamic Swirls") == ("Geiss & Rovastar", "Dynamic Swirls")
    assert author_title("A - B - C") == ("A", "B - C")
    assert author_title("untitled") == (None, "untitled")
    assert author_title(" - only title") == (None, "- only title")


def test_column_kinds_follow_the_documented_prefixes():
    cols = static_columns() + render_columns()
    assert len(cols) == len(set(cols))
    assert column_kind("set_zoom") == column_kind("code_pf_zoom") == column_kind("shader_noise") == "bool"
    assert column_kind("param_zoom") == column_kind("stat_entropy") == column_kind("keys_set") == "float"
    assert column_kind("rel_path") == column_kind("render_error") == "str"
    assert STRING_COLUMNS <= set(cols) and BOOL_COLUMNS <= set(cols)
    table = rows_to_table([{"path": "a", "set_zoom": True, "param_zoom": 2}, {"path": "b", "error": "bad"}],
                          ["path", "error", "set_zoom", "param_zoom"])
    assert table.column("set_zoom").to_pylist() == [True, None]
    assert table.column("param_zoom").to_pylist()[0] == 2.0 and math.isnan(table.column("param_zoom").to_pylist()[1])
    assert str(table.schema.field("path").type) == "string"


def test_oversized_and_missing_inputs(tmp_path):
    big = tmp_path / "in" / "huge.milk"
    big.parent.mkdir()
    big.write_bytes(b"[preset00]\n" + b"x" * (4 * 1024 * 1024 + 10))
    s = mine([big.parent], tmp_path / "ds", render=False)
    assert (s.files, s.parsed, s.errors) == (1, 0, 1)
    df = load_dataset(tmp_path / "ds")
    assert "bytes" in df.loc[0, "error"] and math.isnan(df.loc[0, "param_zoom"])
    with pytest.raises(MiningError, match="no such file"):
        mine([tmp_path / "nope"], tmp_path / "ds2", render=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("mine")
    with pytest.raises(MiningError, match="not empty"):
        mine([big.parent], tmp_path / "notes", render=False)


# ---------------------------------------------------------------- the mined dataset


def test_dataset_has_one_row_per_file_with_every_column(mined, corpus):
    out, summary = mined
    df = load_dataset(out)
    files = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.milk"))
    assert sorted(df["rel_path"]) == files
    assert list(df.columns) == static_columns() + render_columns()
    schema = pq.read_schema(out / "dataset.parquet")
    for name in schema.names:
        kind = {"string": "str", "bool": "bool", "double": "float"}[str(schema.field(name).type)]
        assert kind == column_kind(name), name
    assert (summary.files, summary.parsed, summary.errors) == (len(files), len(files) - 1, 1)
    assert summary.duplicates == 1 and summary.distinct == len(files) - 2
    assert summary.rendered == summary.distinct and summary.cached == 0


def test_broken_file_is_a_row_with_its_error(mined):
    df = load_dataset(mined[0])
    bad = df[df["file"] == "broken_nul.milk"].iloc[0]
    assert "NUL byte" in bad["error"] and bad["error_line"] == 3  # rot=\0 is line 3
    assert math.isnan(bad["param_zoom"]) and pd_isna(bad["author"]) and pd_isna(bad["set_zoom"])
    assert bad[[c for c in df.columns if c.startswith("stat_")]].isna().all()
    assert df["error"].notna().sum() == 1


def test_duplicates_are_found_by_content(mined):
    from evo.seeds import seed_paths

    df = load_dataset(mined[0]).set_index("rel_path")
    # files are taken in path order, so more/ (the copy) comes first and the seed is its duplicate
    copy = df.loc["more/copy of the first seed.milk"]
    seed = df.loc[f"seeds/{seed_paths()[0].name}"]
    assert seed["duplicate_of"] == "more/copy of the first seed.milk" and pd_isna(copy["duplicate_of"])
    assert seed["hash"] == copy["hash"] and copy["copies"] == seed["copies"] == 2
    assert seed["render_thumb"] == copy["render_thumb"]
    assert df["hash"].nunique() == len(df) - 1  # every file read has a hash, the broken one too
    assert df["duplicate_of"].notna().sum() == 1


def test_rendered_features_are_the_fitness_statistics(mined, corpus):
    """The same numbers the fitness computes for the same render (evaluate_preset at the mining
    settings), so corpus distributions and run statistics compare."""
    from evo.config import load_config
    from evo.fitness.candidate import evaluate_preset, make_analyzer, make_renderer
    from evo.fitness.score import score_stats

    df = load_dataset(mined[0]).set_index("rel_path")
    settings = TINY
    renderer, analyzer = make_renderer(settings), make_analyzer(settings)
    try:
        for rel in ("seeds/liandan - ember ring.milk", "more/md2_shaders.milk"):
            result = evaluate_preset((corpus / rel).read_text(encoding="latin-1"), settings, renderer, analyzer)
            row = df.loc[rel]
            for k, v in result["stats"].items():
                assert row[f"stat_{k}"] == pytest.approx(v, rel=1e-12, abs=1e-12), k
            for k, v in result["descriptors"].items():
                assert row[f"desc_{k}"] == pytest.approx(v, rel=1e-12, abs=1e-12), k
            # the score is computed at assembly from the statistics, with the default config's weights
            assert row["render_score"] == pytest.approx(score_stats(result["stats"], load_config().fitness.weights)[0])
    finally:
        renderer.release()


def test_thumbnails_previews_and_meta(mined):
    out, summary = mined
    df = load_dataset(out)
    ok = df[df["error"].isna()]
    assert ok["render_error"].isna().all()
    from PIL import Image

    for rel in ok["render_thumb"]:
        with Image.open(media_path(out, rel)) as im:
            assert im.size == (TINY.fitness.width, TINY.fitness.height)
    with Image.open(media_path(out, ok["render_preview"].iloc[0])) as im:
        assert getattr(im, "n_frames", 1) == TINY.preview.frames
    meta = read_meta(out)
    assert meta["render"]["settings"]["width"] == TINY.fitness.width and meta["counts"]["distinct"] == summary.distinct
    assert set(meta["render"]["versions"]) == {"renderer", "statistics", "descriptors", "render_result"}
    assert not (out / ".build").exists() and not (out / ".work").exists()


# ---------------------------------------------------------------- the cache


def test_second_mine_renders_nothing_and_writes_the_same_dataset(mined, corpus, tmp_path):
    out = _copy(mined, tmp_path)
    s = mine([corpus], out, settings=TINY, workers=0)
    assert s.rendered == 0 and s.cached == mined[1].distinct
    a = load_dataset(mined[0]).drop(columns=["render_seconds"])
    b = load_dataset(out).drop(columns=["render_seconds"])
    assert a.equals(b)


def test_changed_file_is_redone_and_version_bump_redoes_all(mined, corpus, tmp_path, monkeypatch):
    work = tmp_path / "corpus"
    shutil.copytree(corpus, work)
    out = _copy(mined, tmp_path)
    target = work / "seeds" / "liandan - green rain.milk"
    target.write_bytes(target.read_bytes().replace(b"zoom=", b"zoom=1.01\nold_zoom=", 1))
    s = mine([work], out, settings=TINY, workers=0)
    assert s.rendered == 1 and s.cached == s.distinct - 1
    import renderer.pipeline

    monkeypatch.setattr(renderer.pipeline, "RENDER_VERSION", renderer.pipeline.RENDER_VERSION + 1)
    s = mine([work], out, settings=TINY, workers=0)
    assert s.rendered == s.distinct and s.cached == 0
    from evo.mining.cache import FeatureCache

    with FeatureCache(out / "cache.sqlite") as cache:  # results of the old renderer are dropped
        assert cache.count() == s.distinct


class Interrupted(Exception):
    pass


def test_interrupted_mine_resumes_without_redoing_done_files(corpus, mined, tmp_path):
    """A mine stopped half-way (here: its progress callback raises after 4 renders, as a kill
    would stop it) leaves no dataset but keeps what it rendered; the next run does the rest."""
    out = tmp_path / "ds"

    def stop_after_four(stage, done, total):
        if stage == "render" and done == 4:
            raise Interrupted

    with pytest.raises(Interrupted):
        mine([corpus], out, settings=TINY, workers=1, progress=stop_after_four)  # on the worker pool
    assert not (out / "dataset.parquet").exists()
    s = mine([corpus], out, settings=TINY, workers=0)
    assert s.cached == 4 and s.rendered == s.distinct - 4
    a = load_dataset(mined[0]).drop(columns=["render_seconds"])
    b = load_dataset(out).drop(columns=["render_seconds"])
    assert a.equals(b)  # the same dataset as an uninterrupted mine


def test_render_errors_are_cached_and_retried_on_request(mined, corpus, tmp_path):
    from evo.mining.cache import FeatureCache
    from evo.mining.rendered import RenderGroup

    out = _copy(mined, tmp_path)
    df = load_dataset(out)
    digest = df.loc[df["file"] == "minimal.milk", "hash"].iloc[0]
    key = RenderGroup("render", TINY).key()
    with FeatureCache(out / "cache.sqlite") as cache:
        cache.put("render", key, digest, {"stats": {}, "descriptors": {}, "error": "timed out after 80 s",
                                          "warnings": 0, "seconds": 80.0, "media": False})
    s = mine([corpus], out, settings=TINY, workers=0)
    assert s.rendered == 0 and s.render_errors == 1
    row = load_dataset(out).set_index("file").loc["minimal.milk"]
    assert row["render_error"] == "timed out after 80 s" and np.isnan(row["stat_entropy"])
    s = mine([corpus], out, settings=TINY, workers=0, retry_errors=True)
    assert s.rendered == 1 and s.render_errors == 0


def test_cli_mine_json_summary(corpus, tmp_path):
    from typer.testing import CliRunner

    from ui.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["mine", str(corpus), "-o", str(tmp_path / "ds"), "--no-render", "--json"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout)
    assert summary["errors"] == 1 and summary["rendered"] == 0 and summary["duplicates"] == 1
    assert load_dataset(tmp_path / "ds")["stat_entropy"].isna().all()
    bad = runner.invoke(app, ["mine", str(tmp_path / "missing"), "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "no such file" in bad.output
