"""The parameter schema against the corpus census (params.csv) and the real corpus."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from renderer.milk.params import (
    IGNORED_KEYS,
    N_SHAPES,
    N_WAVES,
    SCHEMA,
    SHAPE_SCHEMA,
    WAVE_SCHEMA,
    all_keys,
    key_status,
    spec_for,
)
from renderer.milk.preset import is_code_key, load_milk
from helpers import CORPUS

# A copy of the projectm-data census table (its parameter section), so a fresh clone tests against it.
CENSUS = Path(__file__).parent / "fixtures" / "census_params.csv"


def census_rows() -> list[dict]:
    with open(CENSUS, newline="") as fh:
        return list(csv.DictReader(fh))


def folded(key: str) -> str:
    return re.sub(r"^(wavecode|shapecode)_\d+_", r"\1_K_", key)


def test_schema_sizes_match_the_census_fold():
    # census: 118 folded keys = 74 base + 14 wave + 30 shape; minus the 11 MilkDrop ignores and
    # the legacy bMotionVectorsOn that only feeds mv_a
    assert (len(SCHEMA), len(WAVE_SCHEMA), len(SHAPE_SCHEMA)) == (69, 13, 24)
    assert len(all_keys()) == 69 + N_WAVES * 13 + N_SHAPES * 24
    assert len(IGNORED_KEYS) == 11


def test_defaults_equal_census_md2_default():
    checked = 0
    for row in census_rows():
        if not row["md2_default"]:
            continue
        spec = spec_for(row["key"])
        if spec is None:  # a fifth wave/shape: same default as the first four
            spec = spec_for(re.sub(r"_(\d+)_", "_0_", row["key"], count=1))
        assert spec is not None, row["key"]
        assert spec.default == float(row["md2_default"]), row["key"]
        checked += 1
    assert checked > 250


def test_types_match_how_milkdrop_reads_them():
    for row in census_rows():
        spec = spec_for(row["key"])
        if spec is None:
            continue
        read_as = row["md2_read_as"]
        if read_as == "float":
            assert spec.type == "float", row["key"]
        elif read_as in ("int", "bool"):
            assert spec.type in ("int", "bool", "enum"), row["key"]
        if row["type"] == "bool":
            assert spec.type == "bool", row["key"]


def test_census_keys_are_in_the_schema_or_reported():
    statuses = {}
    for row in census_rows():
        statuses[row["key"]] = key_status(row["key"])
    unknown_to_md2 = {r["norm_key"] for r in census_rows() if not r["md2_read_as"]}
    assert unknown_to_md2 == set(IGNORED_KEYS)
    for key, status in statuses.items():
        if folded(key) in IGNORED_KEYS:
            assert status == "ignored", key
        elif key == "bMotionVectorsOn":
            assert status == "legacy"
        elif re.match(r"^(wavecode|shapecode)_4_", key):
            assert status == "out_of_range", key  # MilkDrop has four waves and four shapes
        else:
            assert status == "known", key


def test_ranges_are_consistent():
    for schema in (SCHEMA, WAVE_SCHEMA, SHAPE_SCHEMA):
        for key, spec in schema.items():
            lo, hi = spec.valid
            tlo, thi = spec.typical
            assert lo <= tlo <= thi <= hi, key
            assert lo <= spec.default <= hi, key
            if spec.choices:
                assert spec.default in spec.choices


# Census values outside the valid range, each because MilkDrop clamps, wraps or degenerates there.
OUT_OF_RANGE_IN_CORPUS = {
    "nWaveMode": "taken modulo 8: 8 plays as 0",
    "fVideoEchoZoom": "0 divides by zero in the echo",
    "fShader": ">= 1 acts as 1",
    "shapecode_K_sides": "clamped to 3..100 when drawn",
    "wavecode_K_b": "colours clamp to 1",
}


def test_census_values_inside_valid_range_or_documented():
    outside = set()
    for row in census_rows():
        spec = spec_for(row["key"])
        if spec is None:
            continue
        lo, hi = spec.valid
        if float(row["min"]) < lo or float(row["max"]) > hi:
            outside.add(folded(row["key"]))
        median = float(row["median"])
        assert spec.typical[0] <= median <= spec.typical[1], row["key"]
    assert outside == set(OUT_OF_RANGE_IN_CORPUS)


def test_clamp_follows_milkdrop():
    assert SCHEMA["nWaveMode"].clamp(8) == 0
    assert SCHEMA["nWaveMode"].clamp(13) == 5
    assert SHAPE_SCHEMA["sides"].clamp(1) == 3
    assert WAVE_SCHEMA["b"].clamp(3.0) == 1.0
    assert SCHEMA["zoom"].clamp(float("nan")) == 1.0
    assert SCHEMA["bTexWrap"].clamp(5) == 1
    assert isinstance(SCHEMA["nVideoEchoOrientation"].clamp(2.7), int)


@pytest.mark.corpus
@pytest.mark.slow
def test_every_corpus_key_is_in_the_schema_or_reported():
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() == ".milk")
    if not files:
        pytest.skip("projectm-data is not installed")
    seen_status: dict[str, str] = {}
    for path in files:
        preset = load_milk(path)
        for key in preset.set_keys:
            assert is_code_key(key) or spec_for(key) is not None, (path, key)
        for key, _ in preset.unknown:
            status = key_status(key)
            if status == "unknown":
                # only code lines after a gap in the numbering, which the reader warned about
                assert is_code_key(key), (path, key)
                assert any(key in w.message for w in preset.warnings), (path, key)
            seen_status[key] = status
    assert {folded(k) for k, s in seen_status.items() if s == "ignored"} == set(IGNORED_KEYS)
    assert seen_status.get("bMotionVectorsOn") == "legacy"
