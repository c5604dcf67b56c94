"""Genome <-> preset: exact round trips (corpus, shipped seeds, random genomes), JSON, identity."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest

from evo.code_mutation import block_compiles
from evo.genome import (
    Genome,
    GenomeError,
    canonical,
    full_param_items,
    genome_from_preset,
    genome_id,
    genome_text,
    preset_from_genome,
    random_genome,
)
from evo.seeds import seed_paths
from renderer.milk.preset import dump_milk, load_milk, parse_milk
from helpers import CORPUS



def _corpus_sample(n: int) -> list[Path]:
    files = sorted(CORPUS.rglob("*.milk"))
    step = max(1, len(files) // n)
    return files[::step][:n]


def _assert_round_trip(preset) -> Genome:
    g = genome_from_preset(preset)
    back = preset_from_genome(g)
    assert back == preset, preset.source
    assert parse_milk(dump_milk(back)) == back
    assert genome_from_preset(back) == g
    doc = json.loads(json.dumps(g.to_json(), allow_nan=False))
    assert Genome.from_json(doc) == g
    assert genome_id(Genome.from_json(doc)) == genome_id(g)
    return g


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="projectm-data not installed")
def test_corpus_sample_round_trips_exactly():
    sample = _corpus_sample(300)
    assert len(sample) == 300
    with_shaders = 0
    for path in sample:
        g = _assert_round_trip(load_milk(path))
        with_shaders += bool(g.warp.text or g.comp.text)
    assert with_shaders > 20  # the sample really covers MilkDrop 2 shader presets too


def test_shipped_seeds_round_trip_and_compile():
    paths = seed_paths()
    assert 8 <= len(paths) <= 12
    kinds = {"waves": 0, "shapes": 0, "per_pixel": 0}
    for path in paths:
        preset = load_milk(path)
        assert not preset.warnings, (path, preset.warnings)
        g = _assert_round_trip(preset)
        for section, lines in g.code_blocks().items():
            assert block_compiles(lines, section), (path, section)
        kinds["waves"] += any(w.enabled for w in g.waves)
        kinds["shapes"] += any(s.enabled for s in g.shapes)
        kinds["per_pixel"] += bool(g.per_pixel_code)
    assert all(v >= 2 for v in kinds.values()), kinds


@pytest.mark.parametrize("seed", range(40))
def test_random_genome_is_valid_and_decodes_identically(seed):
    g = random_genome(random.Random(seed))
    # JSON without NaN, and the decode/encode fixed point
    doc = json.loads(json.dumps(g.to_json(), allow_nan=False))
    assert Genome.from_json(doc) == g
    p = preset_from_genome(g)
    assert parse_milk(genome_text(g)) == p
    assert genome_from_preset(p) == g
    for full, owner, short, spec in full_param_items(g):
        v = owner[short]
        assert spec.valid[0] <= v <= spec.valid[1], full
        assert math.isfinite(v)
        if spec.choices:
            assert v in spec.choices, full
        if spec.type != "float":
            assert isinstance(v, int), full
    assert g.per_frame_code
    for section, lines in g.code_blocks().items():
        assert block_compiles(lines, section), (section, lines)
    for w in g.waves:  # blocks that are off carry no code
        assert w.enabled or not (w.init or w.per_frame or w.per_point)


def test_random_genome_is_deterministic_and_varied():
    a = random_genome(random.Random(7))
    b = random_genome(random.Random(7))
    assert a == b and genome_id(a) == genome_id(b)
    ids = {genome_id(random_genome(random.Random(s))) for s in range(30)}
    assert len(ids) == 30


def test_genome_id_follows_content_not_metadata():
    g = random_genome(random.Random(3))
    h = g.copy()
    h.explicit = ["fRating"]
    h.origin = {"op": "whatever"}
    assert genome_id(h) == genome_id(g)
    h.params["zoom"] = g.params["zoom"] + 0.01
    assert genome_id(h) != genome_id(g)
    k = g.copy()
    k.per_frame_code = k.per_frame_code + ["rot = 0.1;"]
    assert genome_id(k) != genome_id(g)
    assert len(genome_id(g)) == 16


def test_unknown_keys_ride_along_unchanged():
    text = "[preset00]\nzoom=1.1\nnEchoWrap_x=1\nshapecode_0_tex_capture=2\nper_frame_1=rot=0.1;\n"
    g = genome_from_preset(parse_milk(text))
    assert g.unknown == [("nEchoWrap_x", "1"), ("shapecode_0_tex_capture", "2")]
    out = genome_text(g)
    assert "nEchoWrap_x=1" in out and "shapecode_0_tex_capture=2" in out


def test_gapped_code_key_does_not_get_spliced_into_grown_code():
    # per_frame_3 after a gap is unknown; when the block grows to 2 lines it would join the code
    text = "[preset00]\nper_frame_1=a=1;\nper_frame_3=b=2;\n"
    g = genome_from_preset(parse_milk(text))
    assert ("per_frame_3", "b=2;") in g.unknown
    assert genome_from_preset(preset_from_genome(g)) == g
    g.per_frame_code.append("c=3;")
    fixed = canonical(g)
    assert ("per_frame_3", "b=2;") not in fixed.unknown
    assert genome_from_preset(preset_from_genome(fixed)) == fixed


def test_explicit_default_keys_are_written_back():
    text = "[preset00]\nfRating=3\nzoom=1\nrot=0.2\n"  # fRating and zoom at their defaults
    g = genome_from_preset(parse_milk(text))
    assert g.explicit == ["fRating", "zoom"]
    out = genome_text(g)
    assert "fRating=3" in out and "zoom=1" in out


def test_from_json_rejects_malformed_documents():
    good = random_genome(random.Random(1)).to_json()
    for mutate, message in [
        (lambda d: d["params"].__setitem__("zoom", "big"), "zoom"),
        (lambda d: d["params"].__setitem__("nosuch", 1), "nosuch"),
        (lambda d: d.__setitem__("waves", d["waves"][:2]), "waves"),
        (lambda d: d.__setitem__("per_frame_code", ["a=1;\nb=2;"]), "line break"),
        (lambda d: d.__setitem__("format", 99), "format"),
        (lambda d: d.__setitem__("unknown", [["k"]]), "unknown"),
    ]:
        d = json.loads(json.dumps(good))
        mutate(d)
        with pytest.raises(GenomeError, match=message):
            Genome.from_json(d)
    with pytest.raises(GenomeError):
        Genome.from_json([1, 2])


def test_empty_one_line_shader_is_kept_apart_from_no_shader():
    text = "MILKDROP_PRESET_VERSION=201\nPSVERSION=2\nPSVERSION_WARP=2\nPSVERSION_COMP=2\n[preset00]\nwarp_1=`\n"
    preset = parse_milk(text)
    g = _assert_round_trip(preset)
    assert "warp_1" in g.explicit and "comp_1" not in g.explicit
    assert "warp_1=`" in genome_text(g)
