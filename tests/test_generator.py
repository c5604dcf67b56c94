"""The preset generator (issue 16): the PCA + Gaussian mixture estimator on plain arrays, its JSON
form, the fitted model with donors, aiming at a family, and ``liandan generate --n 50`` writing
50 healthy presets our reader round-trips and ``evolve --seeds`` starts from."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from families_helpers import make_style_dataset
from helpers import CORPUS, tiny_config
from ui_helpers import REPO

from evo.generator.corpus_model import GeneratorModel, ModelError, fit_model
from evo.generator.model import ParamMixture


def blobs(seed: int = 0, n: int = 150):
    rng = np.random.default_rng(seed)
    centres = np.array([[1.0, 0.2, 5.0, 0.0, 1.0, 0.9], [3.0, 0.8, 50.0, 1.0, 0.0, 0.95], [2.0, 0.5, 0.5, -1.0, 0.5, 0.99]])
    truth = np.repeat(np.arange(3), n // 3)
    X = centres[truth] * np.exp(rng.normal(0, 0.03, (len(truth), 6))) * [1, 1, 1, 0, 1, 1] + \
        centres[truth] * [0, 0, 0, 1, 0, 0] + rng.normal(0, 0.02, (len(truth), 6)) * [0, 0, 0, 1, 0, 0]
    return X, truth


def test_mixture_finds_the_groups_and_saves_as_json():
    X, truth = blobs()
    m = ParamMixture(max_components=6, log_columns=(2,), random_state=0).fit(X)
    assert adjusted_rand_score(truth, m.predict(X)) > 0.95
    assert len(m.weights_) == 3  # BIC picks the three groups
    again = ParamMixture.from_json(json.loads(json.dumps(m.to_json())))
    assert np.allclose(again.transform(X), m.transform(X)) and np.allclose(again.predict_proba(X), m.predict_proba(X))
    a = m.sample(20, np.random.default_rng(5))
    b = again.sample(20, np.random.default_rng(5))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])  # same seed, same draws
    back = m.inverse_transform(m.means_)
    assert np.all(back[:, 2] > 0)  # the log column comes back positive
    assert np.allclose(m.move(X[:5], m.transform(X[:5])), np.clip(X[:5], *m.clip_), atol=1e-9)  # no move, no change
    with pytest.raises(ValueError, match="not fitted"):
        ParamMixture().transform(X)
    with pytest.raises(ValueError, match="columns"):
        m.transform(X[:, :4])


def test_a_saved_model_that_does_not_fit_together_is_refused(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text('{"format": 1, "keys": ["zoom"], "mixture": {}}')
    with pytest.raises(ModelError, match="malformed"):
        GeneratorModel.load(bad)
    bad.write_text('{"format": 9}')
    with pytest.raises(ModelError, match="format"):
        GeneratorModel.load(bad)


@pytest.fixture(scope="module")
def styled_model(tmp_path_factory):
    from evo.families.build import cluster_dataset

    root = tmp_path_factory.mktemp("gen_styles")
    ds, presets, truth = make_style_dataset(root)
    cluster_dataset(ds, "look", seed=0)
    return ds, fit_model(ds, max_components=4)


def test_model_members_carry_families_and_round_trip(styled_model, tmp_path):
    ds, model = styled_model
    assert len(model.members) == 120 and sum(m.good for m in model.members) >= 60
    assert {m.family for m in model.members} - {None} == {0, 1, 2, 3}
    model.save(tmp_path / "m.json")
    again = GeneratorModel.load(tmp_path / "m.json")
    assert np.allclose(again.latents(), model.latents(), atol=1e-4) and again.keys == model.keys
    near = model.nearest(model.latents()[7], 3)
    assert near[0] == 7 and len(near) == 3


def test_generate_inside_a_family_takes_donors_from_it(styled_model, tmp_path):
    from evo.generator.aim import AimError, aim_for
    from evo.generator.generate import generate
    from renderer.milk.preset import load_milk

    ds, model = styled_model
    aim = aim_for(model, ds, family="F2")
    family_paths = {model.members[i].path for i in aim.pool}
    assert all(model.members[i].family == 2 for i in aim.pool)
    summary = generate(model, 3, tmp_path / "out", aim=aim, seed=1, workers=0)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["aim"] == {"kind": "family", "label": "F2"}
    for entry in manifest["presets"]:
        assert set(entry["parents"]) <= family_paths
        load_milk(tmp_path / "out" / entry["file"])
    assert len(summary.kept) + sum(v for k, v in summary.dropped.items()) >= 3
    with pytest.raises(AimError, match="map"):
        aim_for(model, ds, gap="G1")  # no `liandan map` run on this dataset


def test_gap_pairs_come_from_opposite_sides():
    from evo.generator.generate import Aim, _across

    sides = np.array([[1.0, 0.0], [0.9, 0.1], [-1.0, 0.0], [-0.8, -0.2]])
    aim = Aim("gap", "G1", np.array([10, 11, 12, 13]), sides=sides)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, b = _across(aim, rng)
        ia, ib = a - 10, b - 10
        assert sides[ia] @ sides[ib] < 0


@pytest.mark.corpus
@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shipped model's donors are projectm-data presets")
def test_generate_50_healthy_presets_that_round_trip_and_seed_a_run(tmp_path):
    from evo.doctor.diagnose import Renderers, diagnose_file
    from evo.doctor.rendered import settings_from_dict
    from evo.driver import start_run
    from evo.store import RunStore
    from evo.genome import genome_from_preset, genome_text
    from evo.generator.corpus_model import default_model
    from renderer.milk.preset import dump_milk, load_milk, parse_milk

    out = tmp_path / "gen"
    done = subprocess.run([sys.executable, "-m", "ui.cli", "generate", "--n", "50", "-o", str(out), "--seed", "4",
                           "--json"], cwd=REPO, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    files = sorted(out.glob("*.milk"))
    assert len(files) == 50 and sorted(doc["presets"]) == sorted(p.name for p in files)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["presets"]) == 50 and (out / "sheet.png").is_file() and (out / "model.json").is_file()
    assert manifest["figures"]["kept"] == 50 and manifest["figures"]["healthy"] >= 50
    for p in files:
        preset = load_milk(p)
        again = parse_milk(dump_milk(preset), source=str(p))
        assert again == preset  # what we wrote reads back to the same preset
        g = genome_from_preset(preset)
        assert genome_from_preset(parse_milk(genome_text(g))).params == g.params
    settings = settings_from_dict(default_model().settings)
    renderers = Renderers.make(settings)
    try:
        for p in files[::10]:  # an independent check: rendered again, they are healthy
            diag, _, _ = diagnose_file(p, renderers=renderers, silence=False)
            assert diag.healthy, (p.name, [f.message for f in diag.findings if f.severity == "error"])
    finally:
        renderers.release()
    store = RunStore(root=tmp_path / "runs")
    run_id = start_run(tiny_config(out, **{"run.generations": 1, "run.population": 4}), store, "from-generated")
    sources = {(i.genome.get("origin") or {}).get("source") for i in store.open(run_id).load_generation(0)}
    assert {str(out / p.name) for p in files} & sources  # the run started from generated presets
