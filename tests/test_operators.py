"""Crossbreed, mutate, repair and the DEAP toolbox: ratios, frequencies, ranges, code validity, determinism."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

from types import SimpleNamespace

import pytest

from evo.code_mutation import block_compiles, number_spans, perturb_constants
from evo.genome import (Genome, full_param_items, genome_from_preset, genome_id, genome_text, preset_from_genome,
                        random_genome)
from evo.operators import (
    BLOCKS,
    SLOT_BLOCKS,
    SLOT_KEYS,
    SLOTS,
    MutationRates,
    crossbreed,
    mutate,
    repair,
)
from evo.config import GASection
from evo.seeds import seed_paths
from evo.selection import ParentPool, VoteRule
from evo.toolbox import make_toolbox
from renderer.eel.lexer import tokenize
from renderer.milk.params import SCHEMA
from renderer.milk.preset import code_text, format_number, load_milk, parse_milk
from helpers import CORPUS



def _seed(i: int) -> Genome:
    return genome_from_preset(load_milk(seed_paths()[i]))


def _pair() -> tuple[Genome, Genome]:
    a, b = random_genome(random.Random(11)), random_genome(random.Random(12))
    for key, spec in SCHEMA.items():  # make every base gene differ between the parents
        if spec.type == "float":
            a.params[key], b.params[key] = spec.typical[0], spec.typical[1]
        else:
            a.params[key], b.params[key] = spec.choices[0], spec.choices[-1]
    a.per_frame_code, b.per_frame_code = ["zoom = 1.01;"], ["zoom = 0.99;"]
    return repair(a), repair(b)


# ---------------------------------------------------------------- crossbreed


def _floats() -> list[str]:
    return [k for k, s in SCHEMA.items() if s.type == "float"]


def test_ratio_zero_and_one_give_each_parent():
    a, b = _pair()
    for ratio, parent in ((0.0, a), (1.0, b)):
        child = crossbreed(a, b, ratio, random.Random(5))
        assert child.params == parent.params
        assert child.waves == parent.waves and child.shapes == parent.shapes
        assert child.per_frame_code == parent.per_frame_code
        assert genome_id(child) == genome_id(parent)


def test_ratio_half_gives_midpoint_of_continuous_genes():
    a, b = _pair()
    child = crossbreed(a, b, 0.5, random.Random(5))
    for key in _floats():
        assert child.params[key] == pytest.approx((a.params[key] + b.params[key]) / 2), key
    child = crossbreed(a, b, 0.25, random.Random(5))
    assert child.params["zoom"] == pytest.approx(a.params["zoom"] + 0.25 * (b.params["zoom"] - a.params["zoom"]))


@pytest.mark.parametrize("ratio", [0.2, 0.7])
def test_discrete_genes_and_blocks_follow_ratio(ratio):
    a, b = _pair()
    discrete = [k for k, s in SCHEMA.items() if s.type != "float"]
    from_b = total = blocks_b = 0
    n = 300
    for seed in range(n):
        child = crossbreed(a, b, ratio, random.Random(seed))
        for key in discrete:
            total += 1
            from_b += child.params[key] == b.params[key]
        blocks_b += child.per_frame_code == b.per_frame_code
    assert from_b / total == pytest.approx(ratio, abs=0.03)
    assert blocks_b / n == pytest.approx(ratio, abs=0.08)


def test_blocks_move_whole_and_init_follows_per_frame():
    a, b = _seed(1), _seed(4)  # cobalt spiral has init code, lantern orbit has a shape
    for seed in range(40):
        child = crossbreed(a, b, 0.5, random.Random(seed))
        for k in range(4):
            assert child.shapes[k] in (a.shapes[k], b.shapes[k])
            assert child.waves[k] in (a.waves[k], b.waves[k])
        pair = (child.init_code, child.per_frame_code)
        assert pair in ((a.init_code, a.per_frame_code), (b.init_code, b.per_frame_code))


def test_slots_mode_is_milkdrop_mashup():
    a, b = _pair()
    assert set(SLOTS) == {"general", "motion", "wave", "warp", "comp"}
    covered = [k for keys in SLOT_KEYS.values() for k in keys]
    assert sorted(covered) == sorted(SCHEMA)  # every base key in exactly one slot
    seen = set()
    for seed in range(30):
        child = crossbreed(a, b, 0.5, random.Random(seed), mode="slots")
        for slot in SLOTS:
            parent = b if slot in child.origin["from_b"] else a
            assert all(child.params[k] == parent.params[k] for k in SLOT_KEYS[slot]), slot
            if slot == "motion":
                assert child.per_frame_code == parent.per_frame_code
        seen.add(tuple(child.origin["from_b"]))
    assert len(seen) > 5


def test_crossbreed_is_deterministic_and_leaves_parents_alone():
    a, b = _seed(0), _seed(5)
    a_before, b_before = json.dumps(a.to_json()), json.dumps(b.to_json())
    c1 = crossbreed(a, b, 0.4, random.Random(99))
    c2 = crossbreed(a, b, 0.4, random.Random(99))
    assert c1.to_json() == c2.to_json()
    assert json.dumps(a.to_json()) == a_before and json.dumps(b.to_json()) == b_before
    assert c1.origin["op"] == "crossbreed"
    others = {genome_id(crossbreed(a, b, 0.4, random.Random(s))) for s in range(20)}
    assert len(others) > 1


def test_child_of_md1_and_md2_gets_md2_header():
    a = _seed(0)
    b = a.copy()
    b.comp.text, b.comp.ps_version, b.version, b.ps_version = "shader_body { ret = 1; }", 3, 201, 3
    child = crossbreed(a, b, 1.0, random.Random(0))
    assert child.version == 201 and child.ps_version == 3
    p = preset_from_genome(child)
    assert p.comp_shader == b.comp.text and p.ps_version_comp == 3


def test_bad_ratio_is_refused():
    a, b = _pair()
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            crossbreed(a, b, bad, random.Random(0))


# ---------------------------------------------------------------- mutate


def _check_valid(g: Genome) -> None:
    for full, owner, short, spec in full_param_items(g):
        v = owner[short]
        assert math.isfinite(v) and spec.valid[0] <= v <= spec.valid[1], (full, v)
        if spec.choices:
            assert v in spec.choices
    assert genome_from_preset(preset_from_genome(g)) == g


def _mutation_parents() -> list[Genome]:
    parents = [random_genome(random.Random(s)) for s in range(15)] + [_seed(i) for i in range(len(seed_paths()))]
    if CORPUS.is_dir():
        files = sorted(CORPUS.rglob("*.milk"))
        parents += [genome_from_preset(load_milk(f)) for f in files[::300]]
    return parents


def test_mutate_stays_in_range_keeps_code_compiling_and_always_changes():
    rates = MutationRates(param=0.2, flip=0.1, code_block=0.8, constant=0.5, toggle_block=0.2,
                          new_equation=0.5, drop_line=0.3)
    for i, parent in enumerate(_mutation_parents()):
        compiled = {s for s, lines in parent.code_blocks().items() if block_compiles(lines, s)}
        for seed in range(3):
            child = mutate(parent, random.Random(i * 10 + seed), rates)
            _check_valid(child)
            assert genome_id(child) != genome_id(repair(parent))
            assert child.origin["op"] == "mutate" and child.origin["changes"]
            for section, lines in child.code_blocks().items():
                if section in compiled:
                    assert block_compiles(lines, section), (section, lines)


def test_mutate_is_deterministic_and_pure():
    parent = _seed(2)
    before = parent.to_json()
    assert mutate(parent, random.Random(4)).to_json() == mutate(parent, random.Random(4)).to_json()
    assert parent.to_json() == before


def test_constant_mutation_changes_only_numbers_and_keeps_comments():
    parent = _seed(0)  # amber tunnel: per-frame code with a comment line
    rates = MutationRates(param=0, flip=0, code_block=1, constant=1, toggle_block=0, new_equation=0, drop_line=0)
    child = mutate(parent, random.Random(1), rates)
    old, new = parent.per_frame_code, child.per_frame_code
    assert new != old and len(new) == len(old)
    assert new[0] == old[0] and new[0].startswith("//")
    shape = lambda lines: [(t.kind, t.text if t.kind != "num" else "#") for t in tokenize(code_text(lines)[0])]
    assert shape(new) == shape(old)
    assert child.params == repair(parent).params


def test_number_spans_skip_split_and_symbolic_literals():
    lines = ["a = 1.5 + $PI;  // 7 in a comment", "b = .0", "1;", "c = 2*x;"]
    spans = number_spans(lines)
    assert [(s.line, s.text) for s in spans] == [(0, "1.5"), (3, "2")]
    new, n = perturb_constants(lines, random.Random(0), 1.0, 0.2)
    assert n == 2 and new[1:3] == lines[1:3] and new[0].endswith("// 7 in a comment")


def test_toggling_a_block_on_gives_it_content():
    parent = Genome()
    rates = MutationRates(param=0, flip=0, code_block=0, toggle_block=1, new_equation=0, drop_line=0)
    child = mutate(parent, random.Random(0), rates)
    assert all(w.enabled and w.per_point for w in child.waves)
    assert all(s.enabled for s in child.shapes)


def test_rates_from_dict_validates():
    assert MutationRates.from_dict({"param": 0.5}).param == 0.5
    with pytest.raises(ValueError, match="nosuch"):
        MutationRates.from_dict({"nosuch": 1})
    with pytest.raises(ValueError):
        MutationRates.from_dict({"sigma": -1})


# ---------------------------------------------------------------- repair


def test_repair_fixes_nan_inf_out_of_range_and_types():
    g = Genome()
    g.params.update(zoom=float("nan"), rot=float("inf"), fDecay=7.5, cx=-40.0, nWaveMode=8, bInvert=5, fGammaAdj=-1.0)
    g.waves[0].params.update(samples=1e6, scaling=float("-inf"), enabled=3)
    g.shapes[1].params.update(sides=2.7, num_inst=0)
    g.per_frame_code = ["a = 1;\nb = 2;"]
    g.unknown = [("bad key", "x"), ("zoom", "3"), ("fine_key", "v\r\n")]
    fixed = repair(g)
    p = fixed.params
    assert p["zoom"] == SCHEMA["zoom"].default and p["rot"] == SCHEMA["rot"].default
    assert p["fDecay"] == 1.0 and p["cx"] == SCHEMA["cx"].valid[0] and p["fGammaAdj"] == SCHEMA["fGammaAdj"].valid[0]
    assert p["nWaveMode"] in SCHEMA["nWaveMode"].choices and p["bInvert"] == 1
    assert fixed.waves[0].params["samples"] == 512 and fixed.waves[0].params["enabled"] == 1
    assert fixed.waves[0].params["scaling"] == 1.0  # -inf -> default
    assert fixed.shapes[1].params["sides"] == 3 and isinstance(fixed.shapes[1].params["sides"], int)
    assert fixed.shapes[1].params["num_inst"] == 1
    assert fixed.per_frame_code == ["a = 1;b = 2;"]
    assert fixed.unknown == [("fine_key", "v")]
    _check_valid(fixed)
    assert g.params["zoom"] != g.params["zoom"]  # input untouched (still NaN)


# ---------------------------------------------------------------- toolbox


def test_toolbox_binds_the_operators_to_the_runs_generator():
    """The same seed gives the same children through every registered operator; parents are
    never changed; ``select`` draws tournaments from a pool."""

    def run(seed):
        tb = make_toolbox(GASection(tournament_size=3), random.Random(seed))
        pop = [tb.random_genome() for _ in range(6)]
        before = [g.copy() for g in pop]
        child = tb.repair(tb.mate(pop[0], pop[1], 0.5))
        mutant = tb.mutate(child)
        assert pop == before
        members = [SimpleNamespace(id=f"i{k}", generation=0, genome_id=genome_id(g), score=k / 10, error=None)
                   for k, g in enumerate(pop)]
        pool = ParentPool.build(members, [], {}, VoteRule())
        picks = [tb.select(pool).member.id for _ in range(200)]
        return child, mutant, picks

    child, mutant, picks = run(3)
    assert child.origin["op"] == "crossbreed" and mutant.origin["op"] == "mutate"
    again = run(3)
    assert (genome_id(again[0]), genome_id(again[1]), again[2]) == (genome_id(child), genome_id(mutant), picks)
    assert genome_id(run(4)[1]) != genome_id(mutant)
    # tournaments of 3 prefer the fitter: uniform picks would average 2.5
    assert sum(int(p[1:]) for p in picks) / len(picks) > 3.2


# ---------------------------------------------------------------- written numbers

_NUMBER_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(-?[0-9][0-9.eE+-]*)$")


def _written_numbers(text: str) -> dict[str, str]:
    """key -> value text of the numeric ``key=value`` lines (code and shader lines left out)."""
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := _NUMBER_LINE.match(line))
            and not re.search(r"_\d+$", m.group(1))}


def test_bred_and_mutated_presets_write_numbers_as_milkdrop_does_and_read_back_exactly():
    """At most 6 decimals, no exponent, no float noise (``42.699998799999996``); and the file's
    values are exactly the genome's, which is what evaluation renders (it parses this text)."""
    parents = [_seed(i) for i in range(len(seed_paths()))]
    rng = random.Random(3)
    children = []
    for k in range(24):
        a, b = rng.sample(parents, 2)
        child = crossbreed(a, b, rng.choice((0.3, 0.37, 0.5, 0.61, 0.9)), random.Random(k))
        children += [child, mutate(child, random.Random(k), MutationRates(param=0.5))]
    for child in children:
        text = genome_text(child)
        numbers = _written_numbers(text)
        assert len(numbers) > 5
        for key, value in numbers.items():
            assert "e" not in value.lower() and len(value.partition(".")[2]) <= 6, f"{key}={value}"
        assert genome_from_preset(parse_milk(text)) == child
        assert genome_text(genome_from_preset(parse_milk(text))) == text


@pytest.mark.parametrize("value", [0.98, 1.0666065999999998, 0.1 + 0.2, 1e-7, 5e-7, 0.1234565, 42.7, -0.5, 1e20,
                                   2.0 ** -30, 123456.654321, 1.5e14 + 0.25])
def test_any_float_is_written_so_it_reads_back_exactly(value):
    text = format_number(value)
    assert float(text) == value
    if round(value, 6) == value and abs(value) < 1e15 and value != 0 and abs(value) >= 1e-6:
        assert len(text.partition(".")[2]) <= 6 and "e" not in text, text


def test_new_runs_round_blends_and_runs_made_before_do_not():
    """A run's config.json without ``ga.blend_decimals`` (made before it existed) keeps its
    unrounded blends, so its recorded selections replay exactly; new runs round to 6."""
    from evo.config import RunConfig, load_config

    a, b = _pair()
    a.params["zoom"], b.params["zoom"] = 1.0, 1.0666065999999998 * 1.1
    new = make_toolbox(load_config().ga, random.Random(1)).mate(a, b, 0.37)
    old_config = RunConfig.from_dict({k: v for k, v in load_config().to_dict().items() if k != "ga"})
    old = make_toolbox(old_config.ga, random.Random(1)).mate(a, b, 0.37)
    want = 1.0 + 0.37 * (b.params["zoom"] - 1.0)
    assert old.params["zoom"] == want and new.params["zoom"] == round(want, 6) != want
