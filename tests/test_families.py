"""Style families and the style map (issue 15) on a synthetic dataset with known groups
(tests/families_helpers.py): families found and stable, assign and similar give the right
neighbours, ids survive a re-clustering, gaps, saved state, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from families_helpers import GROUPS, PER_GROUP, make_style_dataset, milk_text, new_rows
from ui_helpers import REPO

from evo.families.build import assign_files, cluster_dataset, features_of_file, map_dataset, similar_to
from evo.families.clusterer import NOISE, StyleClusterer
from evo.families.features import CLIP, FeatureError, FeatureSpace, parse_groups
from evo.families.saved import StyleError, load_families, load_map, style_dir
from evo.families.style_map import StyleMap, find_gaps


@pytest.fixture(scope="module")
def styled(tmp_path_factory):
    root = tmp_path_factory.mktemp("styles")
    ds, presets, truth = make_style_dataset(root)
    report = cluster_dataset(ds, "look", seed=0)
    return ds, presets, truth, report


def truth_of(fams, truth: dict) -> np.ndarray:
    return np.array([truth[r] for r in fams.points["rel_path"]])


def group_family(fams, truth) -> dict[int, int]:
    """true group -> the family most of it fell into."""
    t = truth_of(fams, truth)
    return {g: int(pd.Series(fams.labels[t == g]).mode()[0]) for g in range(GROUPS)}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


def test_families_are_the_known_groups_and_are_stable(styled):
    ds, _, truth, report = styled
    fams = load_families(ds)
    assert len(fams.points) == GROUPS * PER_GROUP  # the copy is one point, the broken file none
    assert adjusted_rand_score(truth_of(fams, truth), fams.labels) > 0.95
    q = report.quality
    assert q["families"] == GROUPS and q["noise"] < 0.05
    assert q["stability_ari"] > 0.9  # half-sample refits find the same families
    assert q["nmi_folders"] > 0.9  # the folders are the groups here
    chosen = [c for c in report.candidates if c.get("chosen")]
    assert len(chosen) == 1 and chosen[0]["stability"] == q["stability_ari"]
    sizes = {f.id: f.size for f in fams.families.values()}
    g0 = group_family(fams, truth)[0]
    assert fams.families[g0].files == sizes[g0] + 1  # the copy counts as a file, not a preset
    members = pd.read_csv(report.files["members"])
    assert "style_0/copy of preset 000.milk" in set(members["rel_path"])
    for f in fams.families.values():  # medoids are members of their own family
        assert set(fams.labels[fams.index_of(f.medoids)]) == {f.id}


def test_names_say_what_sets_a_family_apart(styled):
    ds, _, truth, _ = styled
    fams = load_families(ds)
    fam_of = group_family(fams, truth)
    assert "custom shapes" in fams.families[fam_of[2]].label  # only group 2 draws a shape
    assert "wave mode 6" in fams.families[fam_of[0]].label
    labels = [f.label for f in fams.families.values()]
    assert len(set(labels)) == len(labels)


def test_same_seed_same_families(styled, tmp_path):
    ds, _, _, _ = styled
    again, _, _ = make_style_dataset(tmp_path)
    cluster_dataset(again, "look", seed=0, pictures=False)
    a = pd.read_parquet(style_dir(ds) / "points.parquet")
    b = pd.read_parquet(style_dir(again) / "points.parquet")
    pd.testing.assert_frame_equal(a.drop(columns=["rel_path"]), b.drop(columns=["rel_path"]))
    ja, jb = (json.loads((style_dir(d) / "families.json").read_text()) for d in (ds, again))
    assert ja["families"] == jb["families"] and ja["clusterer"] == jb["clusterer"]


def test_family_ids_survive_clustering_again(tmp_path):
    ds, _, truth = make_style_dataset(tmp_path)
    cluster_dataset(ds, "look", seed=0, pictures=False)
    before = group_family(load_families(ds), truth)
    from evo.mining.dataset import load_dataset

    df = load_dataset(ds)
    fewer = df[~df["rel_path"].str.contains(r"preset 00[0-4]")]  # some presets gone, another seed
    cluster_dataset(ds, "look", seed=7, pictures=False, frame=fewer)
    assert group_family(load_families(ds), truth) == before


def test_predict_places_new_presets_in_their_family(styled):
    ds, _, truth, _ = styled
    fams = load_families(ds)
    fam_of = group_family(fams, truth)
    for g in range(GROUPS):
        assert list(fams.predict(new_rows(g, 5, seed=10 + g))) == [fam_of[g]] * 5
    far = new_rows(0, 1)
    for c in [c for c in far.columns if c.startswith(("stat_", "desc_"))]:
        far[c] = 50.0  # nothing like any family
    assert fams.predict(far)[0] == NOISE
    assert fams.clusterer.nearest(fams.transform(far))["reach"][0] > fams.clusterer.nearest(
        fams.transform(new_rows(0, 1)))["reach"][0]


def test_clusterer_on_blobs_fit_predict_and_json(tmp_path):
    from sklearn.datasets import make_blobs

    x, y = make_blobs(300, 5, centers=3, cluster_std=0.5, random_state=3)
    c = StyleClusterer(seed=0, resamples=2)
    labels = c.fit_predict(x)
    assert adjusted_rand_score(y, labels) > 0.95
    fresh, fy = make_blobs(60, 5, centers=3, cluster_std=0.5, random_state=3)  # same centres, new draws
    fresh = fresh + np.random.default_rng(1).normal(0, 0.05, fresh.shape)
    mapping = {int(pd.Series(labels[y == k]).mode()[0]): k for k in range(3)}
    assert np.mean([mapping.get(int(p), -1) == t for p, t in zip(c.predict(fresh), fy)]) > 0.95
    back = StyleClusterer.from_json(json.loads(json.dumps(c.to_json())), c.X_, c.labels_, c.probabilities_,
                                    c.core_distances_)
    np.testing.assert_array_equal(back.predict(fresh), c.predict(fresh))


def test_cli_assign_and_similar_give_the_right_neighbours(styled):
    ds, presets, truth, _ = styled
    fams = load_families(ds)
    fam_of = group_family(fams, truth)
    files = [presets / "style_1" / "Maker1 - preset 007.milk", presets / "style_3" / "Maker3 - preset 011.milk"]
    done = cli("cluster", "assign", *map(str, files), "-d", str(ds), "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["family"] for r in rows] == [fam_of[1], fam_of[3]] and all(r["known"] for r in rows)
    done = cli("similar", str(files[0]), "-d", str(ds), "--k", "8", "--json")
    assert done.returncode == 0, done.stderr
    near = json.loads(done.stdout)
    assert len(near) == 8
    assert all(n["rel_path"].startswith("style_1/") for n in near)
    assert "style_1/Maker1 - preset 007.milk" not in [n["rel_path"] for n in near]  # not itself
    assert [n["distance"] for n in near] == sorted(n["distance"] for n in near)


def test_assign_a_new_file_by_its_parameters(tmp_path):
    ds, presets, truth = make_style_dataset(tmp_path)
    cluster_dataset(ds, "params", seed=0, pictures=False)
    fams = load_families(ds)
    new = tmp_path / "new.milk"
    new.write_text(milk_text(2, 900, np.random.default_rng(5)), encoding="latin-1")
    row, known = features_of_file(ds, new, fams.space.groups)
    assert not known and row["shapes_enabled"].iloc[0] == 1
    [r] = assign_files(ds, [new])
    assert r["family"] == group_family(fams, truth)[2] and not r["known"]
    near = similar_to(ds, new, k=5)
    assert all(p.startswith("style_2/") for p in near["rel_path"])


def test_map_saved_places_points_and_neighbours(styled):
    ds, _, truth, _ = styled
    report = map_dataset(ds, method="tsne", seed=0)
    atlas = load_map(ds)
    fams = atlas.families
    assert atlas.xy.shape == (len(fams.points), 2)
    assert 0 <= atlas.xy.min() and atlas.xy.max() <= 1 + 1e-9
    assert report.trustworthiness > 0.8 and (style_dir(ds) / "atlas.png").stat().st_size > 1000
    from evo.mining.dataset import load_dataset

    df = load_dataset(ds)
    members = df[df["rel_path"].isin(fams.points["rel_path"].iloc[:5])].set_index("rel_path")
    members = members.loc[fams.points["rel_path"].iloc[:5]].reset_index()
    np.testing.assert_allclose(atlas.place(members), atlas.xy[:5], atol=1e-9)  # a fitted preset stays put
    t = truth_of(fams, truth)
    centres = np.stack([atlas.xy[t == g].mean(axis=0) for g in range(GROUPS)])
    for g in range(GROUPS):
        xy = atlas.place(new_rows(g, 4, seed=40 + g))
        nearest = np.argmin(np.linalg.norm(xy[:, None, :] - centres[None], axis=2), axis=1)
        assert list(nearest) == [g] * 4


def test_gaps_are_holes_not_the_sea_around_islands():
    rng = np.random.default_rng(0)
    angle = rng.uniform(0, 2 * np.pi, 1500)
    radius = rng.uniform(0.25, 0.5, 1500)
    ring = np.column_stack([0.5 + radius * np.cos(angle), 0.5 + radius * np.sin(angle)])
    labels = (angle > np.pi).astype(int)
    gaps, _ = find_gaps(ring, labels)
    assert len(gaps) >= 1
    g = gaps[0]
    assert g.id == "G1" and abs(g.x - 0.5) < 0.05 and abs(g.y - 0.5) < 0.05 and 0.18 < g.radius < 0.3
    assert {f for f, _ in g.families} == {0, 1}  # the hole lies between both halves
    assert g.contains(np.array([[0.5, 0.5], [0.5, 0.9]])).tolist() == [True, False]
    islands = np.concatenate([rng.normal(0.2, 0.03, (400, 2)), rng.normal(0.8, 0.03, (400, 2))])
    assert find_gaps(islands)[0] == []
    assert find_gaps(rng.uniform(0, 1, (2000, 2)))[0] == []


def test_feature_space_winsorises_round_trips_and_reduces_wide_sets(styled):
    ds, _, _, _ = styled
    from evo.mining.dataset import load_dataset

    df = load_dataset(ds)
    df = df[df["error"].isna() & df["duplicate_of"].isna()].copy()
    df.loc[df.index[0], "param_zoom"] = 100.0  # a file with an absurd zoom
    space = FeatureSpace(("look", "params")).fit(df)
    z = space.transform(df)
    assert space.components_ is None and np.abs(z).max() <= CLIP + 1e-9
    zoom = z[:, space.columns_.index("param_zoom")]
    assert np.std(zoom[1:]) > 0.5  # the other zooms still spread: the outlier did not set the scale
    back = FeatureSpace.from_json(json.loads(json.dumps(space.to_json())))
    np.testing.assert_allclose(back.transform(df), z)
    wide = FeatureSpace(parse_groups("all"), pca_above=8, pca_components=5).fit(df)
    assert wide.components_.shape == (5, len(wide.columns_)) and wide.transform(df).shape == (len(df), 5)
    np.testing.assert_allclose(FeatureSpace.from_json(wide.to_json()).transform(df), wide.transform(df))
    assert "param_fRating" not in wide.columns_  # a rating is a label, not a style


def test_clear_errors(tmp_path, styled):
    ds, presets, _, _ = styled
    with pytest.raises(FeatureError, match="look, params, code"):
        parse_groups("look,colour")
    small, _, _ = make_style_dataset(tmp_path / "small", per_group=2)
    with pytest.raises(StyleError, match="at least 10"):
        cluster_dataset(small, "look")
    with pytest.raises(StyleError, match="liandan cluster"):
        load_families(small)
    broken = presets / "style_1" / "broken.milk"
    with pytest.raises(StyleError, match=r"broken\.milk:\d+"):
        assign_files(ds, [broken])
    fams = load_families(ds)
    with pytest.raises(StyleError, match="no family F99"):
        fams.family("F99")
    done = cli("map", str(tmp_path / "nothing"))
    assert done.returncode == 2 and "no dataset here" in done.stderr


@pytest.mark.slow
def test_cli_cluster_then_umap_map(tmp_path):
    ds, _, _ = make_style_dataset(tmp_path)
    done = cli("cluster", str(ds), "--features", "look")
    assert done.returncode == 0, done.stderr
    assert "4 families" in done.stderr and "stability" in done.stderr and "NMI" in done.stderr
    for name in ("families.json", "points.parquet", "members.csv", "families.png", "tree.png"):
        assert (style_dir(ds) / name).is_file(), name
    done = cli("map", str(ds), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["method"] == "umap" and report["points"] == GROUPS * PER_GROUP and report["trustworthiness"] > 0.8
    atlas = load_map(ds)
    assert isinstance(atlas.map, StyleMap) and (style_dir(ds) / "atlas.png").is_file()
