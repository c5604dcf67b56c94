"""The .milk reader and writer against the parser rules a census of the corpus found,
hand-written fixtures, the whole projectm-data corpus, and hypothesis-generated garbage."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from renderer.milk.params import SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA, keyed_lines, md2_lookup, spec_for
from renderer.milk.preset import (
    Preset,
    PresetError,
    code_text,
    dump_milk,
    is_code_key,
    line_of_offset,
    load_milk,
    parse_milk,
    save_milk,
    scan_float,
    scan_int,
)
from helpers import CORPUS, FIXTURES



def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() == ".milk" and p.is_file())


def warning_texts(preset: Preset) -> list[str]:
    return [str(w) for w in preset.warnings]


def param_lines(text: str) -> list[str]:
    """Lines of dumped text that set a parameter (not code, header or section)."""
    out = []
    for line in text.splitlines():
        key = line.partition("=")[0]
        if key in SCHEMA or key.startswith(("wavecode_", "shapecode_")):
            out.append(line)
    return out


# ---------------------------------------------------------------- census parser rules


def test_first_duplicate_key_wins_and_is_reported():
    p = parse_milk("[preset00]\nzoom=1.5\nzoom=3\nper_frame_1=a=1;\nper_frame_1=a=2;\n")
    assert p.params["zoom"] == 1.5
    assert p.per_frame_code == ["a=1;"]
    texts = warning_texts(p)
    assert "line 3: zoom is repeated (lines 2 and 3); MilkDrop reads line 2" in texts
    assert "line 5: per_frame_1 is repeated (lines 4 and 5); MilkDrop reads line 4" in texts
    assert parse_milk(dump_milk(p)) == p


def test_repeat_right_after_the_previous_read_key_wins_like_milkdrop():
    # MilkDrop's lookup tries the line after the one it read last before searching from the top.
    # The 8 BrainStain files have "per_frame_8 " early and "per_frame_8=zoom=..." after per_frame_7.
    text = "[preset00]\nper_frame_2 \nzoom=1\nper_frame_1=a=1;\nper_frame_2=b=2;\n"
    p = parse_milk(text)
    assert p.per_frame_code == ["a=1;", "b=2;"]
    assert p.line_of["per_frame_2"] == 5
    assert "line 2: per_frame_2 is repeated (lines 2 and 5); MilkDrop reads line 5" in warning_texts(p)
    assert parse_milk(dump_milk(p)).per_frame_code == ["a=1;", "b=2;"]
    # a parameter repeated right after the key MilkDrop reads before it
    p = parse_milk("[preset00]\nfDecay=0.5\nfRating=2\nfDecay=0.7\n")
    assert p.params["fDecay"] == 0.7 and p.params["fRating"] == 2.0
    # the later value may be unreadable: then the default, not the first value
    p = parse_milk("[preset00]\nfDecay=0.5\nfRating=2\nfDecay=-\n")
    assert p.params["fDecay"] == SCHEMA["fDecay"].default and "fDecay" not in p.set_keys


def test_keys_are_case_sensitive():
    p = parse_milk("[preset00]\nZOOM=3\nzoom=2\n")
    assert p.params["zoom"] == 2.0
    assert ("ZOOM", "3") in p.unknown


def test_code_block_stops_at_first_missing_number_but_not_at_empty_value():
    p = load_milk(FIXTURES / "quirks.milk")
    # per_frame_3 is empty (does not end the block), per_frame_5 is missing (ends it)
    assert p.per_frame_code == ["a = 1; // möbius strip", "b = 2;", "", "c = a + b;"]
    # lines after the gap are kept verbatim as unknown keys, in file order, with a warning
    unknown_keys = [k for k, _ in p.unknown]
    assert unknown_keys.index("per_frame_6") < unknown_keys.index("per_frame_8")
    assert any("per_frame_6 comes after a gap" in t for t in warning_texts(p))


def test_code_numbering_is_milkdrops_percent_d():
    p = parse_milk("[preset00]\nper_frame_01=a=1;\nper_frame_0=b=1;\nper_frame_1=c=1;\n")
    assert p.per_frame_code == ["c=1;"]
    assert ("per_frame_01", "a=1;") in p.unknown and ("per_frame_0", "b=1;") in p.unknown


def test_comments_both_styles_are_cut_per_line():
    text, _ = code_text(["a = 1; // one", "b = 2; \\\\ two", "c = 3;"])
    assert text == "a = 1; b = 2; c = 3;"


def test_eel_lines_join_with_no_separator_and_map_back_to_lines():
    p = load_milk(FIXTURES / "md2_shaders.milk")
    text, offsets = code_text(p.per_frame_code)
    # "bass*.0" + "1;" is one token ".01" once joined, as in MilkDrop
    assert "bass*.01;" in text
    assert offsets[0] == 0 and len(offsets) == 3
    assert line_of_offset(offsets, text.index("q1 = q1")) == 2
    assert line_of_offset(offsets, len(text) - 1) == 3
    pp, _ = code_text(p.per_pixel_code)
    assert pp == "zoom = zoom + rad*0.01;"


def test_code_text_drops_one_leading_backtick_like_readcode():
    assert code_text(["`a=1;", "``b=2;"])[0] == "a=1;`b=2;"


def test_latin1_text_survives_read_and_write(tmp_path):
    p = load_milk(FIXTURES / "quirks.milk")
    assert "möbius" in p.per_frame_code[0]
    out = tmp_path / "out.milk"
    save_milk(p, out)
    assert "möbius".encode("latin-1") in out.read_bytes()
    assert load_milk(out).per_frame_code == p.per_frame_code


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("final", [True, False])
def test_line_ends_and_missing_final_newline(newline, final):
    lines = ["[preset00]", "zoom=1.25", "per_frame_1=a = 1;", "per_frame_2=b = 2;"]
    text = newline.join(lines) + (newline if final else "")
    p = parse_milk(text.encode("latin-1"))
    assert p.params["zoom"] == 1.25
    assert p.per_frame_code == ["a = 1;", "b = 2;"]  # no stray CR left in a value
    assert p.line_of["per_frame_2"] == 4


def test_utf8_byte_order_mark_is_skipped():
    p = parse_milk(b"\xef\xbb\xbf[preset00]\r\nzoom=2\r\n")
    assert p.params["zoom"] == 2.0
    assert warning_texts(p) == ["line 1: UTF-8 byte-order mark ignored"]


def test_crlf_and_lf_files_parse_equal():
    crlf = parse_milk((FIXTURES / "md2_shaders.milk").read_bytes())
    lf = parse_milk((FIXTURES / "md2_shaders.milk").read_bytes().replace(b"\r\n", b"\n"))
    assert crlf == lf


def test_numbers_read_like_sscanf():
    p = load_milk(FIXTURES / "quirks.milk")
    assert p.params["fRating"] == 3.0  # 3.000000.500000 -> 3, and the duplicate 5 is ignored
    assert p.params["fGammaAdj"] == 2.5  # leading blanks skipped, trailing junk ignored
    assert p.params["bDarken"] == 0  # %d of "0.5" is 0
    assert p.params["bInvert"] == 1  # any non-zero int is true
    assert p.params["nVideoEchoOrientation"] == 2  # %d stops at the dot


def test_bare_minus_keeps_default_with_a_warning():
    p = load_milk(FIXTURES / "quirks.milk")
    assert p.params["fWaveParam"] == SCHEMA["fWaveParam"].default
    assert p.params["rot"] == SCHEMA["rot"].default
    assert "fWaveParam" not in p.set_keys
    assert any(t.startswith("line 4:") and "fWaveParam" in t for t in warning_texts(p))


@pytest.mark.parametrize(
    "text,value",
    [("3.000000.500000", 3.0), ("-", None), ("", None), (" .5", 0.5), ("5.", 5.0), ("1e3x", 1000.0),
     ("1e", 1.0), ("-0.25;", -0.25), ("+2", 2.0), ("1e999", None), ("nan", None), ("inf", None)],
)
def test_scan_float(text, value):
    assert scan_float(text) == value


@pytest.mark.parametrize(
    "text,value",
    [("12", 12), ("0.9", 0), (".5", None), ("-3x", -3), (" 7", 7), ("", None), ("-", None),
     ("99999999999999999999", 2**31 - 1), ("-" + "9" * 5000, -(2**31))],
)
def test_scan_int(text, value):
    assert scan_int(text) == value


def test_key_ends_at_a_space():
    p = load_milk(FIXTURES / "quirks.milk")
    assert p.params["zoom"] == 1.25  # "zoom 1.25": value after the space
    assert ("per_frame_8", "") in p.unknown  # "per_frame_8 " is a key with an empty value
    assert "wavecode_0_" not in dict(p.unknown)  # no '=' and no space: MilkDrop never sees it
    assert any(t.startswith("line 11:") and "wavecode_0_" in t for t in warning_texts(p))
    assert p.line_of["zoom"] == 6


def test_indented_line_is_ignored_like_milkdrop():
    p = parse_milk("[preset00]\n zoom=2\n")
    assert p.params["zoom"] == 1.0
    assert any(t.startswith("line 2:") for t in warning_texts(p))


def test_header_keys():
    p = load_milk(FIXTURES / "md2_shaders.milk")
    assert (p.version, p.ps_version, p.ps_version_warp, p.ps_version_comp) == (201, 3, 2, 3)
    assert p.shader_versions() == (2, 3)
    md1 = load_milk(FIXTURES / "minimal.milk")
    assert md1.version is None and md1.shader_versions() == (0, 0)
    v200 = parse_milk("MILKDROP_PRESET_VERSION=200\nPSVERSION=3\n[preset00]\n")
    assert v200.shader_versions() == (3, 3)
    dumped = dump_milk(p).split("\r\n")
    assert dumped[:5] == ["MILKDROP_PRESET_VERSION=201", "PSVERSION=3", "PSVERSION_WARP=2",
                          "PSVERSION_COMP=3", "[preset00]"]


def test_shaders_lose_one_backtick_and_keep_lines():
    p = load_milk(FIXTURES / "md2_shaders.milk")
    assert p.warp_shader == "shader_body {\n    ret = tex2D(sampler_main, uv).xyz * 0.98;\n}"
    assert p.comp_shader.splitlines()[1] == "    ret = tex2D(sampler_main, uv).xyz;"
    assert p.has_shaders


def test_waves_and_shapes():
    p = load_milk(FIXTURES / "md2_shaders.milk")
    w = p.waves[1]
    assert w.enabled and w.params["samples"] == 256 and w.params["r"] == 0.25
    assert w.params["g"] == WAVE_SCHEMA["g"].default  # absent -> MilkDrop default
    assert w.per_point == ["x = sample;", "y = 0.5 + value1*0.3; \\\\ legacy comment style"]
    assert not p.waves[0].enabled and p.waves[0].per_point == []
    s = p.shapes[2]
    assert s.enabled and s.params["sides"] == 6 and s.params["rad"] == 0.3
    assert s.params["border_a"] == SHAPE_SCHEMA["border_a"].default
    assert s.per_frame == ["ang = time*0.1;"]
    assert len(p.waves) == 4 and len(p.shapes) == 4


def test_unknown_keys_kept_verbatim_in_order_and_written_back():
    p = load_milk(FIXTURES / "quirks.milk")
    keys = [k for k, _ in p.unknown]
    # a fifth wave and an eighth shape are not MilkDrop's: unknown, like other players' keys
    assert keys == ["per_frame_6", "per_frame_8", "bMotionVectorsOn", "zzz_unknown",
                    "wavecode_4_enabled", "shape_7_per_frame1"]
    out = dump_milk(p)
    assert out.index("zzz_unknown=first") < out.index("wavecode_4_enabled=1")
    assert parse_milk(out).unknown == p.unknown


def test_md2_unknown_extension_key_kept():
    p = load_milk(FIXTURES / "md2_shaders.milk")
    assert p.unknown == [("nEchoWrap_x", "1"), ("myPlayerExtension", "keep me")]


def test_set_keys_keep_dump_small():
    p = load_milk(FIXTURES / "minimal.milk")
    assert p.set_keys == {"zoom", "rot", "per_frame_1"}
    out = dump_milk(p)
    assert sorted(param_lines(out)) == ["rot=0.1", "zoom=1.5"]
    assert parse_milk(out) == p


def test_dump_writes_keys_changed_from_default_even_if_unset():
    p = load_milk(FIXTURES / "minimal.milk")
    p.params["fDecay"] = 0.5
    p.shapes[3].params["sides"] = 7
    again = parse_milk(dump_milk(p))
    assert again.params["fDecay"] == 0.5 and again.shapes[3].params["sides"] == 7
    assert len(param_lines(dump_milk(p))) == 4


def test_every_default_is_filled_in():
    p = parse_milk("[preset00]\n")
    for key, spec in SCHEMA.items():
        if key != "mv_a":
            assert p.params[key] == spec.default, key
    assert p == Preset()  # an empty file is the blank preset
    assert param_lines(dump_milk(p)) == []


def test_mv_a_default_rule():
    assert parse_milk("[preset00]\n").params["mv_a"] == 0.0
    assert parse_milk("[preset00]\nbMotionVectorsOn=1\n").params["mv_a"] == 1.0
    assert parse_milk("[preset00]\nbMotionVectorsOn=0\n").params["mv_a"] == 0.0
    assert parse_milk("[preset00]\nbMotionVectorsOn=1\nmv_a=0.25\n").params["mv_a"] == 0.25
    p = load_milk(FIXTURES / "quirks.milk")
    assert p.params["mv_a"] == 1.0 and "mv_a" not in param_lines(dump_milk(p))
    assert parse_milk(dump_milk(p)) == p


def test_second_section_is_ignored():
    p = parse_milk("[preset00]\nzoom=2\n[preset01]\nzoom=3\nrot=1\n")
    assert p.params["zoom"] == 2.0 and p.params["rot"] == 0.0
    assert any("second section" in t for t in warning_texts(p))


# ---------------------------------------------------------------- errors


def test_missing_section_is_an_error_naming_the_file():
    with pytest.raises(PresetError) as err:
        load_milk(FIXTURES / "broken_no_section.milk")
    assert "broken_no_section.milk:1" in str(err.value)
    assert "[preset00]" in str(err.value)


def test_nul_byte_is_an_error_naming_the_line():
    with pytest.raises(PresetError) as err:
        load_milk(FIXTURES / "broken_nul.milk")
    assert err.value.line == 3 and "broken_nul.milk:3" in str(err.value)


def test_missing_file_is_a_preset_error(tmp_path):
    with pytest.raises(PresetError) as err:
        load_milk(tmp_path / "nope.milk")
    assert "nope.milk" in str(err.value)


def test_oversized_input_is_rejected():
    with pytest.raises(PresetError):
        parse_milk(b"[preset00]\n" + b"a" * (5 * 1024 * 1024))


def test_dump_refuses_code_lines_with_line_breaks():
    p = Preset()
    p.per_frame_code = ["a = 1;\nzoom=5"]
    with pytest.raises(PresetError):
        dump_milk(p)


def test_save_is_atomic_and_round_trips(tmp_path):
    p = load_milk(FIXTURES / "md2_shaders.milk")
    out = tmp_path / "saved.milk"
    save_milk(p, out)
    assert [f.name for f in tmp_path.iterdir()] == ["saved.milk"]
    assert load_milk(out) == p


# ---------------------------------------------------------------- corpus


def md2_meaning(data: bytes) -> dict[str, object]:
    """What MilkDrop 2 reads from a file, key by key, found with its own lookup rule (not through
    the Preset model): numbers as scanned, code lines raw (one leading backtick dropped)."""
    lines = data.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    entries = keyed_lines(lines)
    values = {lineno: value for _, lineno, value in entries}
    out: dict[str, object] = {}
    for key, lineno in md2_lookup(entries).items():
        raw = values[lineno]
        spec = spec_for(key)
        if is_code_key(key):
            out[key] = raw[1:] if raw.startswith("`") else raw
            continue
        if spec is not None and spec.type == "float":
            number = scan_float(raw)
        else:  # ints, bools, header keys and bMotionVectorsOn are all GetFastInt
            number = scan_int(raw)
            if number is not None and spec is not None and spec.type == "bool":
                number = 1 if number else 0
        if number is not None:  # an unreadable number is as good as an absent key
            out[key] = number
    return out


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_round_trip():
    files = corpus_files()
    if not files:
        pytest.skip("projectm-data is not installed")
    assert len(files) >= 4188
    bad = []
    for path in files:
        first = load_milk(path)
        again = parse_milk(dump_milk(first), source=str(path))
        if again != first:
            bad.append(str(path))
            continue
        for name, lines in first.code_sections().items():
            if code_text(lines)[0] != code_text(again.code_sections()[name])[0]:
                bad.append(f"{path} [{name}]")
        if (first.warp_shader, first.comp_shader) != (again.warp_shader, again.comp_shader):
            bad.append(f"{path} [shaders]")
        # MilkDrop reads the same thing from the written file as from the original
        if md2_meaning(dump_milk(first).encode("latin-1")) != md2_meaning(path.read_bytes()):
            bad.append(f"{path} [meaning]")
    assert bad == []


@pytest.mark.corpus
def test_corpus_sample_dumps_no_bigger_than_source():
    files = corpus_files()
    if not files:
        pytest.skip("projectm-data is not installed")
    for path in random.Random(7).sample(files, 200):
        source_lines = [ln for ln in path.read_bytes().splitlines() if ln.strip()]
        dumped = dump_milk(load_milk(path)).split("\r\n")
        assert len(dumped) <= len(source_lines) + 1, path  # never bloated with defaults


# ---------------------------------------------------------------- property-based

_FIXTURE_BYTES = [p.read_bytes() for p in sorted(FIXTURES.glob("*.milk"))]
_SAMPLE = _FIXTURE_BYTES + [p.read_bytes() for p in corpus_files()[::150]]

_junk_line = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"per_frame_99999999=x", b"zoom=1e99999", b"zoom=" + b"9" * 400,
                     b"nWaveMode=" + b"9" * 5000, b"[preset00]", b"[preset01]", b"[x]",
                     b"wavecode_99_enabled=1", b"shape_3_per_frame0=1", b"\x00", b"=", b" ",
                     b"per_frame_1", b"warp_1=`", b"MILKDROP_PRESET_VERSION=-", b"\xff\xfe",
                     b"per_frame_" + b"9" * 6000 + b"=x", b"wavecode_" + b"2" * 5000 + b"_r=1",
                     b"zoom=" + b"-" * 3000, b"\r\r\n\r", b"per_frame_2 ", b"MILKDROP_PRESET_VERSION=201"]),
)


@st.composite
def mutated_files(draw):
    lines = draw(st.sampled_from(_SAMPLE)).split(b"\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["truncate", "insert", "duplicate", "delete", "bytes"]))
        pos = draw(st.integers(0, max(len(lines) - 1, 0)))
        if op == "truncate":
            lines = lines[:pos]
        elif op == "insert":
            lines.insert(pos, draw(_junk_line))
        elif op == "duplicate" and lines:
            lines.insert(pos, lines[pos])
        elif op == "delete" and lines:
            del lines[pos]
        elif op == "bytes" and lines:
            lines[pos] = draw(st.binary(max_size=60))
    return b"\n".join(lines)


def _parse_or_error(data: bytes) -> None:
    try:
        p = parse_milk(data, source="fuzz.milk")
    except PresetError as exc:
        assert str(exc).startswith("fuzz.milk")
        assert "unreadable preset (" not in exc.message  # the catch-all for reader bugs never fires
        return
    again = parse_milk(dump_milk(p))  # anything we read, we can write back
    assert again == p


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_only_raise_preset_error(data):
    _parse_or_error(data)
    _parse_or_error(b"[preset00]\n" + data)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated_files())
def test_mutated_real_files_only_raise_preset_error(data):
    _parse_or_error(data)


_code_line = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=30)


@st.composite
def generated_presets(draw):
    p = Preset()
    for key in draw(st.lists(st.sampled_from(sorted(SCHEMA)), max_size=8, unique=True)):
        spec = SCHEMA[key]
        if spec.type == "float":
            p.params[key] = draw(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))
        else:
            p.params[key] = draw(st.integers(int(spec.valid[0]), int(spec.valid[1])))
    for w in p.waves:
        w.params["enabled"] = draw(st.integers(0, 1))
        w.per_point = draw(st.lists(_code_line, max_size=3))
    for s in p.shapes:
        s.params["sides"] = draw(st.integers(3, 100))
        s.per_frame = draw(st.lists(_code_line, max_size=3))
    p.per_frame_code = draw(st.lists(_code_line, max_size=5))
    p.per_pixel_code = draw(st.lists(_code_line, max_size=3))
    p.warp_shader = "\n".join(draw(st.lists(_code_line, max_size=4)))
    if draw(st.booleans()):
        p.version, p.ps_version_warp, p.ps_version_comp = 201, 2, 3
    return p


@settings(max_examples=150, deadline=2000)
@given(generated_presets())
def test_generated_presets_round_trip(p):
    again = parse_milk(dump_milk(p))
    assert again.params == p.params
    assert [w.params for w in again.waves] == [w.params for w in p.waves]
    assert [s.params for s in again.shapes] == [s.params for s in p.shapes]
    assert again.code_sections() == p.code_sections()
    assert again.warp_shader == p.warp_shader
    assert (again.version, again.ps_version_warp, again.ps_version_comp) == (
        p.version, p.ps_version_warp, p.ps_version_comp)
    assert parse_milk(dump_milk(again)) == again
