"""What the corpus report computes: quality labels (fRating, ratings files, runs), golden
combinations and the quality model on a planted pattern, safe ranges (fitted, read, used by
mutation and repair), fitness bands (fitted, read by the score), and the report itself on a small
mined corpus."""

from __future__ import annotations

import json
import random
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from evo.mining import analysis
from evo.mining.labels import LabelError, collect_labels, frating_source, ratings_source, read_ratings
from evo.mining.safe_ranges import SafeRangesError, fit_safe_ranges, load_safe_ranges, safe_ranges_document


# ---------------------------------------------------------------- a synthetic dataset with a planted pattern


def planted(n: int = 600, seed: int = 1) -> pd.DataFrame:
    """Rows shaped like a dataset whose quality is high exactly when zoom is high AND decay low."""
    rng = np.random.default_rng(seed)
    zoom = rng.uniform(0.9, 1.1, n)
    decay = rng.uniform(0.9, 1.0, n)
    noise = rng.uniform(0, 1, n)
    good = (zoom > 1.033) & (decay < 0.933)
    quality = np.where(good, 0.8 + 0.2 * noise, 0.4 * noise)
    return pd.DataFrame({
        "rel_path": [f"p{i}.milk" for i in range(n)], "file": [f"p{i}.milk" for i in range(n)],
        "hash": [f"{i:024x}" for i in range(n)], "path": [f"/x/p{i}.milk" for i in range(n)],
        "error": None, "duplicate_of": None,
        "param_zoom": zoom, "param_fDecay": decay, "param_rot": rng.normal(0, 0.05, n), "param_warp": rng.uniform(0, 2, n),
        "set_zoom": True, "set_fDecay": True, "set_rot": True, "set_warp": True,
        "param_fRating": np.round(1 + 4 * quality), "set_fRating": True,
    }), pd.Series(quality)


def test_golden_combinations_find_the_planted_pair():
    df, quality = planted()
    good = quality >= quality.quantile(0.75)
    singles, pairs = analysis.golden_combinations(df, good, ["param_zoom", "param_fDecay", "param_rot", "param_warp"])
    top = pairs[0]
    assert {re.sub(r" in .*", "", i) for i in top.items} == {"zoom", "fDecay"}
    assert "zoom in [1.03" in " ".join(top.items) and "fDecay in [0.9" in " ".join(top.items)
    # lift = P(good | both) / P(good), counted independently here
    zoom_hi = df["param_zoom"] > df["param_zoom"].quantile(2 / 3)  # top tertile
    decay_lo = df["param_fDecay"] <= df["param_fDecay"].quantile(1 / 3)  # bottom tertile
    both = zoom_hi & decay_lo
    assert (top.count, top.good) == (both.sum(), (both & good).sum())
    assert top.lift == pytest.approx(top.good / top.count / good.mean())
    assert top.lift > 3 and top.p_value < 1e-10
    assert all(r.lift <= top.lift for r in singles)  # neither half alone does as well
    assert not any("rot" in " ".join(r.items) or "warp" in " ".join(r.items) for r in pairs[:3])


def test_quality_model_cross_validates_and_ranks_the_real_features():
    df, quality = planted(400)
    model = analysis.quality_model(df, quality, ["param_zoom", "param_fDecay", "param_rot", "param_warp"], seed=0)
    # R^2 is high; the rank correlation is modest because 89% of the labels are pure noise within [0, 0.4]
    assert model.r2 > 0.5 and 0.1 < model.spearman and model.n == len(df) and model.folds == 5
    top2 = set(model.importances["feature"][:2])
    assert top2 == {"param_zoom", "param_fDecay"}
    noise = model.importances.set_index("feature").loc[["param_rot", "param_warp"], "mean"]
    assert (noise < 0.05).all()
    # a label that is pure noise: no skill
    noise_model = analysis.quality_model(df, pd.Series(np.random.default_rng(5).uniform(size=len(df))),
                                         ["param_zoom", "param_fDecay"], seed=0)
    assert noise_model.r2 < 0.05
    assert analysis.quality_model(df.head(10), quality.head(10), ["param_zoom"]) is None


def test_outliers_name_the_odd_preset_and_why():
    df, _ = planted(300)
    df.loc[17, "param_warp"] = 40.0
    df.loc[17, "param_rot"] = 3.0
    out = analysis.outliers(df, ["param_zoom", "param_fDecay", "param_rot", "param_warp"], seed=0)
    assert out["index"].iloc[0] == 17
    assert "warp = 40" in out["why"].iloc[0] and "rot = 3" in out["why"].iloc[0]


def test_ks_statistic():
    a = np.arange(100.0)
    assert analysis.ks_statistic(a, a) == 0.0
    assert analysis.ks_statistic(a, a + 1000) == 1.0
    assert analysis.ks_statistic(a, a + 50) == pytest.approx(0.5)


# ---------------------------------------------------------------- labels


def test_frating_counts_only_ratings_away_from_three():
    df = pd.DataFrame({"param_fRating": [3.0, 4.0, 1.0, 3.0, 5.0], "set_fRating": [True, True, True, False, True],
                       "duplicate_of": [None, None, None, None, "x"], "error": None})
    s = frating_source(df)
    assert s.values.tolist()[1:3] == [0.8, 0.2] and s.count == 2  # the 5 is a duplicate's: the same preset
    assert "1 files say 3" in s.note


def test_ratings_files_by_name_and_hash_any_scale(tmp_path):
    df, _ = planted(20)
    csv = tmp_path / "r.csv"
    csv.write_text("file,stars\np0.milk,10\nP1,20\nnot-here.milk,5\n")
    s = ratings_source(df, csv)
    assert s.raw.iloc[0] == 10 and s.raw.iloc[1] == 20 and s.unmatched == 1
    assert s.values.iloc[0] == 0.0 and s.values.iloc[1] == 1.0  # min-max to 0..1
    js = tmp_path / "r.json"
    js.write_text(json.dumps({df["hash"][3]: 0.3, "p4.milk": {"rating": 0.9}}))
    s = ratings_source(df, js)
    assert s.count == 2 and s.raw.iloc[3] == 0.3
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"name": "p5", "score": 7}]))
    assert read_ratings(listed) == [("p5", 7.0, 0)]
    bad = tmp_path / "bad.csv"
    bad.write_text("file,rating\np0.milk,4\np1.milk,great\n")
    with pytest.raises(LabelError, match=r"bad.csv:3: rating of 'p1.milk' is not a number"):
        read_ratings(bad)
    headless = tmp_path / "plain.csv"
    headless.write_text("p0.milk;2\np1.milk;4\n")
    assert [e[:2] for e in read_ratings(headless)] == [("p0.milk", 2.0), ("p1.milk", 4.0)]


def test_labels_fall_back_to_the_machine_score_and_say_so(tmp_path):
    df, _ = planted(50)
    df["set_fRating"] = False
    df["render_score"] = np.linspace(0.1, 0.9, 50)
    labels = collect_labels(df)
    assert labels.fallback and "machine score" in labels.used
    assert labels.quality.equals(df["render_score"])
    df["set_fRating"] = True
    labels = collect_labels(df)
    rated = int((df["param_fRating"] != 3).sum())  # a 3 is MilkDrop's unrated value
    assert 30 <= rated < 50 and not labels.fallback and labels.used == f"fRating ({rated})"


def test_run_votes_and_scores_label_the_seed_presets(tmp_path, small_dataset):
    """A run seeded from corpus presets: its votes (people) and machine scores (not people) become
    two label sources, matched by the seed file's name."""
    from evo.mining.dataset import load_dataset
    from evo.selection import VoteRule
    from ui_helpers import make_run, seed_files

    run = make_run(tmp_path / "runs", "r1", population=3)
    run.add_vote("g0000-000", "ann", 1)
    run.add_vote("g0000-000", "bob", 1)
    run.add_vote("g0000-001", "ann", -1)
    df = load_dataset(small_dataset)
    labels = collect_labels(df, runs_dir=tmp_path / "runs")
    by_name = {s.name: s for s in labels.sources}
    votes, scores = by_name["run votes"], by_name["run scores"]
    assert votes.kind == "human" and scores.kind == "machine"
    names = [p.name for p in seed_files()[:3]]
    rows = {n: df.index[df["file"] == n][0] for n in names}
    rule = VoteRule()
    copy = df.index[df["file"] == "copy of the first seed.milk"][0]  # byte-identical to names[0]: the same preset
    assert votes.values[copy] == votes.values[rows[names[0]]]
    assert votes.values[rows[names[0]]] == pytest.approx(rule.rate(run.genome_votes()[0][run.genome_of("g0000-000")]))
    assert votes.values[rows[names[0]]] > 0.5 > votes.values[rows[names[1]]]
    assert np.isnan(votes.values[rows[names[2]]])  # nobody voted on it
    assert [scores.values[rows[n]] for n in names] == pytest.approx([0.3, 0.4, 0.5])  # make_run's scores


# ---------------------------------------------------------------- safe ranges


@pytest.fixture(scope="module")
def ranges_file(tmp_path_factory):
    df, _ = planted(200)
    full = _as_dataset(df)
    doc = safe_ranges_document(full, "planted", 200)
    path = tmp_path_factory.mktemp("ranges") / "safe_ranges.json"
    path.write_text(json.dumps(doc))
    return path, doc, full


def _as_dataset(df: pd.DataFrame) -> pd.DataFrame:
    """The planted rows with every column safe ranges read (other parameters unset, no code);
    the first ten render black."""
    from evo.mining.dataset import column_kind
    from evo.mining.static import static_columns

    extra = {c: False if column_kind(c) == "bool" else 0.0 for c in static_columns() if c not in df}
    extra.update({"stat_luma_mean": 0.3, "render_error": None, "render_degenerate": None})
    full = pd.concat([df, pd.DataFrame({k: [v] * len(df) for k, v in extra.items()}, index=df.index)], axis=1)
    full.loc[:9, "render_degenerate"] = "black"
    return full


def test_safe_ranges_are_the_corpus_percentiles(ranges_file):
    _, doc, full = ranges_file
    zoom = doc["params"]["zoom"]
    healthy = full.loc[10:, "param_zoom"]
    assert zoom["from"] == "corpus" and zoom["n"] == len(healthy)
    assert zoom["lo"] == pytest.approx(min(np.quantile(healthy, 0.025), 1.0), abs=1e-6)
    assert zoom["hi"] == pytest.approx(max(np.quantile(healthy, 0.975), 1.0), abs=1e-6)
    assert zoom["limits"] == pytest.approx([healthy.min(), healthy.max()], abs=1e-6)
    assert zoom["outside"] == int(((full["param_zoom"] < zoom["lo"]) | (full["param_zoom"] > zoom["hi"])).sum())
    assert doc["params"]["ob_size"]["from"] == "schema"  # nobody sets it: the schema's ranges stay


def test_values_the_code_overwrites_do_not_count(ranges_file):
    _, _, full = ranges_file
    full = full.copy()
    full.loc[100:, "code_pf_zoom"] = True  # half the presets set zoom in per-frame code: their file value never shows
    zoom = fit_safe_ranges(full)["zoom"]
    assert zoom["n"] == 90  # rows 10..99: healthy (0..9 are black) and not overwritten
    assert zoom["limits"] == pytest.approx([full.loc[10:99, "param_zoom"].min(), full.loc[10:99, "param_zoom"].max()], abs=1e-6)


def test_mutation_stays_inside_safe_ranges_and_repair_clamps_to_limits(ranges_file):
    from evo.genome import random_genome
    from evo.operators import MutationRates, mutate, repair

    path, doc, _ = ranges_file
    ranges = load_safe_ranges(path)
    zoom = ranges.for_key("zoom")
    g = random_genome(random.Random(3))
    g.params["zoom"] = 1.0
    rates = MutationRates(param=1.0, sigma=3.0)
    for k in range(30):
        child = mutate(g, random.Random(k), rates, ranges)
        assert zoom.lo <= child.params["zoom"] <= zoom.hi
    beyond = round((zoom.hi + zoom.limits[1]) / 2, 6)  # a seed's own value past hi (inside the limits) survives,
    outside = [mutate(g, random.Random(k), rates, ranges).params["zoom"] for k in range(30)]  # nothing goes further
    g.params["zoom"] = beyond
    outside = [mutate(g, random.Random(k), rates, ranges).params["zoom"] for k in range(30)]
    assert all(zoom.lo <= z <= beyond for z in outside) and max(outside) == beyond
    g.params["zoom"] = 1.0
    # without ranges: the same draws as before this option existed, and wide steps leave the corpus range
    plain = [mutate(g, random.Random(k), rates).params["zoom"] for k in range(30)]
    assert plain == [mutate(g, random.Random(k), rates, None).params["zoom"] for k in range(30)]
    assert max(plain) > zoom.hi
    g.params["zoom"] = 7.0
    assert repair(g, ranges).params["zoom"] == zoom.limits[1] and repair(g).params["zoom"] == 7.0
    assert ranges.for_key("wavecode_3_samples") is ranges.for_key("wavecode_0_samples")


def test_safe_ranges_file_errors_name_the_entry(tmp_path, ranges_file):
    _, doc, _ = ranges_file
    broken = json.loads(json.dumps(doc))
    broken["params"]["zoom"]["lo"] = 500
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(broken))
    with pytest.raises(SafeRangesError, match="bad.json: zoom"):
        load_safe_ranges(p)
    p.write_text("{}")
    with pytest.raises(SafeRangesError, match="not a safe-ranges file"):
        load_safe_ranges(p)


def test_config_and_toolbox_use_the_safe_ranges_file(ranges_file, tmp_path):
    from evo.config import ConfigError, load_config
    from evo.toolbox import make_toolbox

    path, _, _ = ranges_file
    cfg = load_config(None, {"ga.safe_ranges": str(path)})
    tb = make_toolbox(cfg.ga, random.Random(0))
    assert tb.mutate.keywords["ranges"].for_key("zoom") is not None
    assert make_toolbox(load_config().ga, random.Random(0)).mutate.keywords["ranges"] is None
    with pytest.raises(ConfigError, match="ga.safe_ranges"):
        load_config(None, {"ga.safe_ranges": str(tmp_path / "missing.json")})


# ---------------------------------------------------------------- fitness bands


def test_fit_band_shapes():
    from evo.mining.bands import fit_band

    v = np.linspace(0, 1, 1001)
    assert fit_band(v, "central", (9, 9, 9, 9)) == pytest.approx((0.02, 0.2, 0.8, 0.98))
    assert fit_band(v, "more", (0, 0.7, 1.0, 1.01)) == pytest.approx((0.05, 0.6, 1.0, 1.01))
    assert fit_band(v, "less", (-0.01, 0.0, 0.1, 0.3)) == pytest.approx((-0.01, 0.0, 0.6, 0.98))
    flat = fit_band(np.full(50, 0.5), "central", (0, 0, 0, 0))
    assert flat[0] < flat[1] <= flat[2] < flat[3]


def test_score_reads_bands_from_the_file_and_falls_back(tmp_path):
    from evo.fitness.bands import BandsFileError, fitted_features, read_bands

    hand = {"entropy": ("entropy", (2.0, 5.0, 7.6, 8.01)), "brightness": ("luma_mean", (0.02, 0.12, 0.6, 0.92))}
    f = tmp_path / "bands.json"
    f.write_text(json.dumps({"format": 1, "features": {"entropy": {"statistic": "entropy", "band": [1, 2, 3, 4]},
                                                       "other": {"statistic": "x", "band": [0, 1, 2, 3]}}}))
    got = fitted_features(hand, f)
    assert got == {"entropy": ("entropy", (1.0, 2.0, 3.0, 4.0)), "brightness": hand["brightness"]}
    assert fitted_features(hand, tmp_path / "absent.json") == hand
    f.write_text(json.dumps({"format": 1, "features": {"entropy": {"statistic": "entropy", "band": [3, 2, 1, 0]}}}))
    with pytest.raises(BandsFileError, match="entropy"):
        read_bands(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fitted_features(hand, f) == hand
    assert "hand-set" in str(caught[0].message)


def test_shipped_bands_file_is_what_the_score_uses():
    from evo.fitness.bands import BANDS_PATH, read_bands
    from evo.fitness.score import FEATURES

    shipped = read_bands(BANDS_PATH)
    for name, (stat, band) in FEATURES.items():
        if name in shipped and shipped[name][0] == stat:
            assert band == shipped[name][1]
    meta = json.loads(BANDS_PATH.read_text())["fitted_from"]
    assert meta["presets"] > 1000 and meta["settings_mismatch"] is None


# ---------------------------------------------------------------- the report on a small real corpus


@pytest.fixture(scope="module")
def small_dataset(mined_corpus):
    return mined_corpus[1]


def test_report_on_a_small_corpus(small_dataset, tmp_path):
    from evo.mining.dataset import load_dataset
    from evo.mining.report import write_report

    df = load_dataset(small_dataset)
    ratings = tmp_path / "ratings.csv"
    ok = df[df["error"].isna()].reset_index(drop=True)
    ratings.write_text("file,rating\n" + "".join(f"{f},{i % 5}\n" for i, f in enumerate(ok["file"])))
    result = write_report(small_dataset, tmp_path / "report", ratings=[ratings])
    n = result.numbers
    assert n["counts"] == {"rows": 15, "parse_errors": 1, "distinct": 13, "duplicates": 1, "rendered": 13,
                           "render_errors": 0, "degenerate": n["counts"]["degenerate"], "healthy": n["counts"]["healthy"]}
    assert n["counts"]["healthy"] == 13 - sum(n["counts"]["degenerate"].values())
    sources = {s["name"]: s for s in n["labels"]["sources"]}
    # 14 rated files (the copy of a seed too) are 13 distinct presets; 2 set fRating other than 3 (md2_shaders 4,
    # hand-made 4.5)
    assert sources["ratings: ratings.csv"]["files"] == 14 and sources["ratings: ratings.csv"]["presets"] == 13
    assert sources["ratings: ratings.csv"]["max"] == 4
    assert sources["fRating"]["presets"] == 2
    assert n["labels"]["fallback"]  # 16 human labels < 30: ranked by the machine score, and the report says so
    page = result.html.read_text()
    assert "<script src=" not in page and "Plotly" in page and "data:image/webp;base64," in page
    for title in ("Quality labels", "Parameters: all vs good", "Golden combinations", "What predicts quality",
                  "Outliers", "Fitness bands", "Safe ranges", "Too few human labels"):
        assert title in page
    assert "md2_shaders.milk" in page and "NUL byte" in page
    ranges = load_safe_ranges(result.safe_ranges)
    assert len(ranges) == len(json.loads(result.safe_ranges.read_text())["params"])
    report_json = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report_json["counts"]["rows"] == 15


def test_cli_analyze_and_bands(small_dataset, tmp_path):
    from typer.testing import CliRunner

    from ui.cli import app

    runner = CliRunner()
    done = runner.invoke(app, ["analyze", str(small_dataset), "-o", str(tmp_path / "rep")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "rep" / "report.html").is_file() and (tmp_path / "rep" / "safe_ranges.json").is_file()
    refused = runner.invoke(app, ["bands", str(small_dataset), "-o", str(tmp_path / "b.json")])
    assert refused.exit_code == 2 and "other settings than the fitness" in " ".join(refused.output.split())
    missing = runner.invoke(app, ["analyze", str(tmp_path / "nothing"), "-o", str(tmp_path / "r2")])
    assert missing.exit_code == 2 and "no dataset here" in " ".join(missing.output.split())
