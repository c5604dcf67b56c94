"""The MilkDrop preset model and the ``.milk`` reader and writer.

A preset means whatever MilkDrop 2 makes of the file, so the reader does what its reader
(``state.cpp``: ``_GetLineByName``, ``GetFastInt/Float``, ``ReadCode``) does: Latin-1, lines end at
CR or LF; a key runs to the first ``=`` or space and the value is the rest of the line; keys are
case-sensitive; a repeated key resolves as MilkDrop's lookup does (the first occurrence, unless a
later one directly follows the key read before it); integers read like ``%d`` and floats like
``%f`` (``3.000000.500000`` is 3, a bare ``-`` keeps the default); a code block is lines ``1..n`` up
to the first missing number. Code is stored raw, comments and all, so writing a preset back changes
nothing a person wrote; :func:`code_text` applies MilkDrop's comment and line-joining rules. The
model remembers which keys the file set, so :func:`dump_milk` writes those plus what changed.

A corpus scan reads thousands of files, so each distinct key is classified once (memoised) and a
line costs two ``str.partition`` calls and a few dict lookups.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from renderer.milk.syntax import (  # noqa: F401  (re-exported: part of the preset API)
    INT_MAX,
    INT_MIN,
    _CACHE_MAX,
    _CACHEABLE,
    code_text,
    format_number,
    line_of_offset,
    scan_float,
    scan_int,
    strip_comment,
)
from renderer.milk.params import N_SHAPES, N_WAVES, SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA, ParamSpec, keyed_lines, md2_lookup
from renderer.output.files import atomic_write_bytes

MAX_FILE_BYTES = 4 * 1024 * 1024


class PresetError(ValueError):
    """A preset that cannot be read or written; ``str()`` names the file and line."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        where = source or "<preset>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        return (PresetError, (self.message, self.source, self.line))


@dataclass(frozen=True)
class PresetWarning:
    """Something MilkDrop silently tolerates but a preset author would want to hear about."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


@dataclass
class WaveCode:
    index: int
    params: dict[str, float | int] = field(default_factory=lambda: default_params(WAVE_SCHEMA))
    init: list[str] = field(default_factory=list)
    per_frame: list[str] = field(default_factory=list)
    per_point: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.params.get("enabled", 0))

    def code_blocks(self) -> dict[str, list[str]]:
        return {"init": self.init, "per_frame": self.per_frame, "per_point": self.per_point}


@dataclass
class ShapeCode:
    index: int
    params: dict[str, float | int] = field(default_factory=lambda: default_params(SHAPE_SCHEMA))
    init: list[str] = field(default_factory=list)
    per_frame: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.params.get("enabled", 0))

    def code_blocks(self) -> dict[str, list[str]]:
        return {"init": self.init, "per_frame": self.per_frame}


def base_defaults() -> dict[str, float | int]:
    """Base parameters of a file that sets nothing. A file without mv_a gets
    ``bMotionVectorsOn ? 1 : 0`` (state.cpp), so an empty preset has 0."""
    params = default_params(SCHEMA)
    params["mv_a"] = 0.0
    return params


@dataclass
class Preset:
    params: dict[str, float | int] = field(default_factory=base_defaults)
    waves: list[WaveCode] = field(default_factory=lambda: [WaveCode(k) for k in range(N_WAVES)])
    shapes: list[ShapeCode] = field(default_factory=lambda: [ShapeCode(k) for k in range(N_SHAPES)])
    init_code: list[str] = field(default_factory=list)
    per_frame_code: list[str] = field(default_factory=list)
    per_pixel_code: list[str] = field(default_factory=list)
    warp_shader: str = ""
    comp_shader: str = ""
    version: int | None = None
    ps_version: int | None = None
    ps_version_warp: int | None = None
    ps_version_comp: int | None = None
    unknown: list[tuple[str, str]] = field(default_factory=list)
    set_keys: set[str] = field(default_factory=set)
    source: str | None = field(default=None, compare=False)
    line_of: dict[str, int] = field(default_factory=dict, compare=False)
    warnings: list[PresetWarning] = field(default_factory=list, compare=False)

    @property
    def name(self) -> str:
        if not self.source:
            return "untitled"
        return Path(self.source).stem

    @property
    def has_shaders(self) -> bool:
        return bool(self.warp_shader.strip() or self.comp_shader.strip())

    def shader_versions(self) -> tuple[int, int]:
        """(warp, comp) pixel-shader versions as MilkDrop 2 derives them from the header.

        0 means the fixed-function path: files older than version 200 never run shader text.
        """
        version = 100 if self.version is None else self.version
        if version < 200:
            return 0, 0
        if version == 200:
            ps = 2 if self.ps_version is None else self.ps_version
            return ps, ps
        warp = 2 if self.ps_version_warp is None else self.ps_version_warp
        comp = 2 if self.ps_version_comp is None else self.ps_version_comp
        return warp, comp

    def code_sections(self) -> dict[str, list[str]]:
        """Every EEL code block by the section name the compilers and error messages use."""
        out = {
            "per_frame_init": self.init_code,
            "per_frame": self.per_frame_code,
            "per_pixel": self.per_pixel_code,
        }
        for w in self.waves:
            out[f"wave{w.index}_init"] = w.init
            out[f"wave{w.index}_per_frame"] = w.per_frame
            out[f"wave{w.index}_per_point"] = w.per_point
        for s in self.shapes:
            out[f"shape{s.index}_init"] = s.init
            out[f"shape{s.index}_per_frame"] = s.per_frame
        return out

    def section_key(self, section: str, line: int) -> str:
        """The file key of line ``line`` (1-based) of a code section: ('wave2_per_point', 3) ->
        'wave_2_per_point3', so an error can point at the file's own line via :attr:`line_of`."""
        return _SECTION_PREFIX[section] + str(line)


def default_params(schema: dict[str, ParamSpec]) -> dict[str, float | int]:
    """A fresh dict of every key of ``schema`` at MilkDrop's default."""
    cached = _DEFAULTS.get(id(schema))
    if cached is None:
        cached = _DEFAULTS[id(schema)] = {k: spec.default for k, spec in schema.items()}
    return cached.copy()


_DEFAULTS: dict[int, dict[str, float | int]] = {}


# ---------------------------------------------------------------- key classification

# What a key means, decided once per distinct key and memoised: real files repeat the same few
# hundred keys, so the regexes below run about once per key per process, not once per line.
_BASE, _WAVE_P, _SHAPE_P, _CODE, _HEADER = range(5)
_HEADER_ATTR = {
    "MILKDROP_PRESET_VERSION": "version",
    "PSVERSION": "ps_version",
    "PSVERSION_WARP": "ps_version_warp",
    "PSVERSION_COMP": "ps_version_comp",
}
_NUM = r"([1-9][0-9]{0,8})"  # MilkDrop builds names with "%d": no sign, no leading zero, never 0
_IDX = r"(0|[1-9][0-9]{0,8})"
_CODE_KEY = re.compile(
    rf"(?:(per_frame_init_|per_frame_|per_pixel_|warp_|comp_)"
    rf"|wave_{_IDX}_(init|per_frame|per_point)|shape_{_IDX}_(init|per_frame)){_NUM}\Z"
)
_PLAIN_SECTION = {
    "per_frame_init_": "per_frame_init",
    "per_frame_": "per_frame",
    "per_pixel_": "per_pixel",
    "warp_": "warp",
    "comp_": "comp",
}


def code_key(key: str) -> tuple[str, int] | None:
    """The prefix and line number of a code line's key, as MilkDrop builds them with ``%d``:
    ``per_frame_12`` -> ('per_frame_', 12), ``wave_2_per_point3`` -> ('wave_2_per_point', 3)."""
    m = _CODE_KEY.match(key)
    if not m:
        return None
    plain, wi, wpart, si, spart, num = m.groups()
    prefix = plain or (f"wave_{wi}_{wpart}" if wi is not None else f"shape_{si}_{spart}")
    return prefix, int(num)


_SUB_PARAM = re.compile(rf"(wavecode|shapecode)_{_IDX}_(.+)\Z", re.S)
_SECTION_PREFIX = {v: k for k, v in _PLAIN_SECTION.items()}
_SECTION_PREFIX.update({f"wave{k}_{p}": f"wave_{k}_{p}" for k in range(N_WAVES) for p in ("init", "per_frame", "per_point")})
_SECTION_PREFIX.update({f"shape{k}_{p}": f"shape_{k}_{p}" for k in range(N_SHAPES) for p in ("init", "per_frame")})
_key_cache: dict[str, tuple | None] = {}


def _classify_uncached(key: str) -> tuple | None:
    spec = SCHEMA.get(key)
    if spec is not None:
        return (_BASE, None, spec)
    if key in _HEADER_ATTR:
        return (_HEADER, _HEADER_ATTR[key], None)
    m = _CODE_KEY.match(key)
    if m:
        plain, wi, wpart, si, spart, num = m.groups()
        if plain:
            return (_CODE, _PLAIN_SECTION[plain], int(num))
        if wi is not None and int(wi) < N_WAVES:
            return (_CODE, f"wave{wi}_{wpart}", int(num))
        if si is not None and int(si) < N_SHAPES:
            return (_CODE, f"shape{si}_{spart}", int(num))
        return None
    m = _SUB_PARAM.match(key)
    if m:
        kind, idx, short = m.group(1), int(m.group(2)), m.group(3)
        if kind == "wavecode" and idx < N_WAVES and short in WAVE_SCHEMA:
            return (_WAVE_P, idx, WAVE_SCHEMA[short])
        if kind == "shapecode" and idx < N_SHAPES and short in SHAPE_SCHEMA:
            return (_SHAPE_P, idx, SHAPE_SCHEMA[short])
    return None


def classify_key(key: str) -> tuple | None:
    """(kind, where, spec-or-line) for a key MilkDrop 2 reads, None for one it never looks up."""
    try:
        return _key_cache[key]
    except KeyError:
        pass
    kind = _classify_uncached(key)
    if len(key) <= _CACHEABLE and len(_key_cache) < _CACHE_MAX:
        _key_cache[key] = kind
    return kind


def is_code_key(key: str) -> bool:
    """True for a code line key MilkDrop reads (``per_frame_3``, ``wave_1_per_point12``, ``warp_4``)."""
    kind = classify_key(key)
    return kind is not None and kind[0] == _CODE


# ---------------------------------------------------------------- reading

_SECTION_HEADER = re.compile(r"\[preset(\d+)\]\Z")


def parse_milk(text: str | bytes, source: str | None = None) -> Preset:
    """Read ``.milk`` text. Raises :class:`PresetError` (naming file and line) and nothing else."""
    try:
        return _parse(text, source)
    except PresetError:
        raise
    except Exception as exc:  # a reader bug must still name the file, and never escape as another type
        raise PresetError(f"unreadable preset ({type(exc).__name__}: {exc})", source) from exc


def _decode(text: str | bytes, source: str | None) -> str:
    if isinstance(text, (bytes, bytearray, memoryview)):
        if len(text) > MAX_FILE_BYTES:
            raise PresetError(f"file is {len(text)} bytes; presets are at most {MAX_FILE_BYTES}", source)
        text = bytes(text).decode("latin-1")
    elif not isinstance(text, str):
        raise PresetError(f"expected text or bytes, got {type(text).__name__}", source)
    elif len(text) > MAX_FILE_BYTES:
        raise PresetError(f"text is {len(text)} characters; presets are at most {MAX_FILE_BYTES}", source)
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise PresetError("NUL byte: this is not a text preset", source, line)
    return text


def _parse(raw: str | bytes, source: str | None) -> Preset:
    text = _decode(raw, source)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    preset = Preset(source=source)
    warn = preset.warnings.append
    if text.startswith(("\xef\xbb\xbf", "\ufeff")):  # a UTF-8 byte-order mark: an editor's, not the author's
        text = text[3:] if text[0] == "\xef" else text[1:]
        warn(PresetWarning(1, "UTF-8 byte-order mark ignored"))
    seen: dict[str, int] = {}
    repeats: list[tuple[int, str]] = []
    blocks: dict[str, dict[int, tuple[str, int, str]]] = {}
    unknown: list[tuple[int, str, str]] = []
    section_line = None
    classify = _key_cache.get

    lines = text.split("\n")
    stop = len(lines)
    for lineno, line in enumerate(lines, start=1):
        if not line:
            continue
        key, sep, value = line.partition("=")
        if " " in key:  # MilkDrop ends a key at the first '=' or space; the value is what follows
            key, sep, value = line.partition(" ")
        if not key:
            warn(PresetWarning(lineno, "line starts with a space or '='; MilkDrop ignores it"))
            continue
        if key[0] == "[" and key[-1] == "]" and not value.strip():
            m = _SECTION_HEADER.match(key)
            if section_line is None and m and m.group(1) == "00":
                section_line = lineno
                continue
            if section_line is not None and m:
                warn(PresetWarning(lineno, f"a second section {key}; it and what follows are ignored"))
                stop = lineno - 1
                break
            warn(PresetWarning(lineno, f"section header {key[:60]} ignored"))
            continue
        if not sep:
            warn(PresetWarning(lineno, f"{key[:60]!r} has no '=' or space; MilkDrop ignores the line"))
            continue
        first = seen.get(key)
        if first is not None:
            repeats.append((lineno, key))
            continue
        seen[key] = lineno
        kind = classify(key)
        if kind is None:
            kind = classify_key(key)
            if kind is None:
                unknown.append((lineno, key, value))
                continue
        if kind[0] == _CODE:
            block = blocks.get(kind[1])
            if block is None:
                block = blocks[kind[1]] = {}
            block[kind[2]] = (value, lineno, key)
        else:
            _store(preset, kind, key, value, lineno)

    if repeats:
        _resolve_repeats(preset, lines[:stop], seen, repeats, blocks)
    if section_line is None:
        raise PresetError("no [preset00] section: not a MilkDrop preset", source, 1)
    for section, numbered in blocks.items():
        _assign_block(preset, section, numbered, unknown)
    if len(unknown) > 1:
        unknown.sort()
    preset.unknown = [(k, v) for _, k, v in unknown]
    if "mv_a" not in preset.set_keys:
        preset.params["mv_a"] = mv_a_when_absent(preset)
    return preset


def _store(preset: Preset, kind: tuple, key: str, value: str, lineno: int) -> None:
    """Set a header key or parameter from its text; an unreadable number keeps the default."""
    what, where, spec = kind
    preset.line_of[key] = lineno
    if what == _HEADER:
        number = scan_int(value)
        if number is None:
            preset.warnings.append(PresetWarning(lineno, f"{key}={value.strip()[:40]!r} is not a number; ignored"))
        setattr(preset, where, number)
        return
    target = preset.params if what == _BASE else (preset.waves if what == _WAVE_P else preset.shapes)[where].params
    if spec.type == "float":
        number = scan_float(value)
    else:
        number = scan_int(value)
        if number is not None and spec.type == "bool":
            number = 1 if number else 0
    if number is None:
        preset.warnings.append(PresetWarning(lineno, f"{key}={value.strip()[:40]!r} is not a number; default kept"))
        target[spec.key] = spec.default
        preset.set_keys.discard(key)
        return
    target[spec.key] = number
    preset.set_keys.add(key)


def _resolve_repeats(preset: Preset, lines: list[str], seen: dict[str, int], repeats: list, blocks: dict) -> None:
    """A repeated key means what MilkDrop 2 reads: usually the first occurrence, but the later one when
    it directly follows the key MilkDrop read just before (8 BrainStain files: ``per_frame_8``)."""
    entries = keyed_lines(lines)
    chosen = md2_lookup(entries)
    values = {lineno: value for _, lineno, value in entries}
    for lineno, key in repeats:
        read = chosen.get(key, seen[key])
        other = seen[key] if read == lineno else lineno
        preset.warnings.append(PresetWarning(other, f"{key} is repeated (lines {seen[key]} and {lineno}); "
                                                    f"MilkDrop reads line {read}"))
        if read != lineno:
            continue
        kind = classify_key(key)
        if kind is None:
            continue  # MilkDrop never reads unknown keys; the first one is kept verbatim
        if kind[0] == _CODE:
            blocks[kind[1]][kind[2]] = (values[lineno], lineno, key)
        else:
            _store(preset, kind, key, values[lineno], lineno)
    preset.warnings.sort(key=lambda w: w.line or 0)


def _assign_block(preset: Preset, section: str, numbered: dict, unknown: list) -> None:
    lines: list[str] = []
    n = 1
    while n in numbered:
        value, lineno, key = numbered.pop(n)
        lines.append(value)
        preset.line_of[key] = lineno
        preset.set_keys.add(key)
        n += 1
    for value, lineno, key in numbered.values():
        unknown.append((lineno, key, value))
        preset.warnings.append(
            PresetWarning(lineno, f"{key} comes after a gap in the numbering (no line {n}); MilkDrop ignores it")
        )
    if section in ("warp", "comp"):
        shader = "\n".join(v[1:] if v.startswith("`") else v for v in lines)
        setattr(preset, f"{section}_shader", shader)
    elif section == "per_frame_init":
        preset.init_code = lines
    elif section == "per_frame":
        preset.per_frame_code = lines
    elif section == "per_pixel":
        preset.per_pixel_code = lines
    else:  # wave{k}_{part} / shape{k}_{part}
        owner = preset.waves if section[0] == "w" else preset.shapes
        index = int(section[4 if section[0] == "w" else 5])
        part = section[section.index("_") + 1 :]
        setattr(owner[index], part, lines)


def load_milk(path: str | os.PathLike) -> Preset:
    """Read a ``.milk`` file; any problem is a :class:`PresetError` naming the path."""
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise PresetError(f"file is {size} bytes; presets are at most {MAX_FILE_BYTES}", path)
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PresetError(f"cannot read: {exc.strerror or exc}", path) from exc
    return parse_milk(data, source=path)


# ---------------------------------------------------------------- writing


def mv_a_when_absent(preset: Preset) -> float:
    """The mv_a MilkDrop uses when a file has none: ``bMotionVectorsOn ? 1 : 0`` (read with ``%d``)."""
    return mv_a_default(preset.unknown)


def mv_a_default(unknown: list[tuple[str, str]]) -> float:
    """``bMotionVectorsOn ? 1 : 0`` from a preset's unknown keys: the first occurrence, read with
    ``%d`` as MilkDrop reads it (so "0.5" is 0)."""
    for key, value in unknown:
        if key == "bMotionVectorsOn":
            return 1.0 if scan_int(value) else 0.0
    return 0.0


def _param_lines(preset: Preset) -> list[str]:
    out = []
    for key, spec in SCHEMA.items():
        value = preset.params.get(key, spec.default)
        default = mv_a_when_absent(preset) if key == "mv_a" else spec.default
        if key in preset.set_keys or value != default:
            out.append(f"{key}={format_number(value)}")
    return out


def _sub_lines(prefix: str, params: dict, schema: dict, set_keys: set[str]) -> list[str]:
    out = []
    for short, spec in schema.items():
        key = f"{prefix}{short}"
        value = params.get(short, spec.default)
        if key in set_keys or value != spec.default:
            out.append(f"{key}={format_number(value)}")
    return out


def _code_lines(prefix: str, lines: list[str]) -> list[str]:
    out = []
    for i, line in enumerate(lines, start=1):
        if "\n" in line or "\r" in line or "\x00" in line:
            raise PresetError(f"{prefix}{i} contains a line break or NUL; one code line per key")
        out.append(f"{prefix}{i}={line}")
    return out


def _shader_lines(prefix: str, shader: str) -> list[str]:
    text = shader.replace("\r\n", "\n").replace("\r", "\n")
    return _code_lines(prefix, ["`" + ln for ln in text.split("\n")])


def dump_milk(preset: Preset) -> str:
    """``.milk`` text for a preset, CRLF line ends as MilkDrop writes them.

    Raises :class:`PresetError` for a model no file can express (a code line with a line break,
    an unknown key with '=' or a space in it).
    """
    out: list[str] = []
    for key, attr in _HEADER_ATTR.items():
        value = getattr(preset, attr)
        if value is not None:
            out.append(f"{key}={int(value)}")
    out.append("[preset00]")
    out += _param_lines(preset)
    for w in preset.waves:
        out += _sub_lines(f"wavecode_{w.index}_", w.params, WAVE_SCHEMA, preset.set_keys)
        out += _code_lines(f"wave_{w.index}_init", w.init)
        out += _code_lines(f"wave_{w.index}_per_frame", w.per_frame)
        out += _code_lines(f"wave_{w.index}_per_point", w.per_point)
    for s in preset.shapes:
        out += _sub_lines(f"shapecode_{s.index}_", s.params, SHAPE_SCHEMA, preset.set_keys)
        out += _code_lines(f"shape_{s.index}_init", s.init)
        out += _code_lines(f"shape_{s.index}_per_frame", s.per_frame)
    out += _code_lines("per_frame_init_", preset.init_code)
    out += _code_lines("per_frame_", preset.per_frame_code)
    out += _code_lines("per_pixel_", preset.per_pixel_code)
    # "warp_1=`" alone is a shader of one empty line, not no shader: keep what the file said
    if preset.warp_shader or "warp_1" in preset.set_keys:
        out += _shader_lines("warp_", preset.warp_shader)
    if preset.comp_shader or "comp_1" in preset.set_keys:
        out += _shader_lines("comp_", preset.comp_shader)
    for key, value in preset.unknown:
        if not key or any(c in key for c in "= \r\n\x00") or any(c in value for c in "\r\n\x00"):
            raise PresetError(f"unknown key {key!r} cannot be written as one 'key=value' line")
        out.append(f"{key}={value}")
    return "\r\n".join(out) + "\r\n"


def save_milk(preset: Preset, path: str | os.PathLike) -> None:
    """Write atomically (temp file + rename): a crash never leaves half a preset."""
    data = dump_milk(preset).encode("latin-1", errors="replace")
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise PresetError(f"cannot write: {exc.strerror or exc}", str(path)) from exc
