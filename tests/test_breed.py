"""``liandan breed`` and the breeding API the UI uses."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from evo.breeding import BreedError, breed_texts
from ui.cli.breed import register
from evo.genome import genome_from_preset, genome_id
from evo.operators import repair
from evo.seeds import seed_paths
from renderer.milk.preset import load_milk, parse_milk


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command keeps typer from collapsing the app into "breed"
    def noop() -> None:
        pass

    return app


def _breed(app, *args):
    return CliRunner().invoke(app, ["breed", *map(str, args)])


def test_breed_writes_a_valid_child_between_the_parents(app, tmp_path):
    a, b = seed_paths()[0], seed_paths()[4]
    out = tmp_path / "child.milk"
    r = _breed(app, a, b, "-o", out, "--ratio", "0.5", "--seed", "3")
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output
    child = load_milk(out)
    assert not child.warnings
    pa, pb = load_milk(a), load_milk(b)
    assert child.params["zoom"] == pytest.approx((pa.params["zoom"] + pb.params["zoom"]) / 2)


@pytest.mark.parametrize("ratio,parent", [("0", 0), ("1", 1)])
def test_breed_ratio_extremes_give_the_parents(app, tmp_path, ratio, parent):
    paths = (seed_paths()[1], seed_paths()[6])
    out = tmp_path / "child.milk"
    assert _breed(app, *paths, "-o", out, "--ratio", ratio).exit_code == 0
    expected = repair(genome_from_preset(load_milk(paths[parent])))
    assert genome_id(genome_from_preset(load_milk(out))) == genome_id(expected)


def test_breed_same_seed_same_bytes_and_slots_mode(app, tmp_path):
    a, b = seed_paths()[2], seed_paths()[8]
    outs = []
    for name, seed in (("x", 5), ("y", 5), ("z", 6)):
        out = tmp_path / f"{name}.milk"
        assert _breed(app, a, b, "-o", out, "--seed", seed, "--mode", "slots").exit_code == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert any(_breed(app, a, b, "-o", tmp_path / "w.milk", "--seed", s, "--mode", "slots").exit_code == 0
               and (tmp_path / "w.milk").read_bytes() != outs[0] for s in range(6, 20))


def test_breed_names_the_bad_file_and_line(app, tmp_path):
    bad = tmp_path / "broken.milk"
    bad.write_bytes(b"[preset00]\r\nzoom=1\r\nrot=0.1\x00\r\n")
    r = _breed(app, seed_paths()[0], bad, "-o", tmp_path / "c.milk")
    assert r.exit_code == 2
    assert "broken.milk:3" in r.output
    assert not (tmp_path / "c.milk").exists()
    r = _breed(app, tmp_path / "missing.milk", seed_paths()[0], "-o", tmp_path / "c.milk")
    assert r.exit_code == 2 and "missing.milk" in r.output


def test_breed_refuses_bad_ratio_and_mode(app, tmp_path):
    a, b = seed_paths()[0], seed_paths()[1]
    assert _breed(app, a, b, "-o", tmp_path / "c.milk", "--ratio", "1.5").exit_code != 0
    r = _breed(app, a, b, "-o", tmp_path / "c.milk", "--mode", "blend")
    assert r.exit_code == 2 and "mode" in r.output


def test_breed_texts_for_the_ui():
    ta, tb = (p.read_text(encoding="latin-1") for p in seed_paths()[:2])
    child = breed_texts(ta, tb, ratio=0.3, seed=1, names=("a.milk", "b.milk"))
    assert child == breed_texts(ta, tb, ratio=0.3, seed=1)
    parse_milk(child)
    with pytest.raises(BreedError, match="b.milk:2"):
        breed_texts(ta, "[preset00]\nzoom=\x00\n", names=("a.milk", "b.milk"))
