"""The MilkDrop preset model and the ``.milk`` reader and writer.

The reader follows what MilkDrop 2 itself does with the 4,188 real files of projectm-data (see the
census): Latin-1, CR stripped, the first occurrence of a key wins, a key also ends at a space,
code blocks run from line 1 up to the first missing number, numbers are read like ``sscanf("%f")``
(``3.000000.500000`` is 3, a bare ``-`` keeps the default). Code is stored raw, comments and all,
so that writing a preset back changes nothing a person wrote; :func:`code_text` applies MilkDrop's
comment and line-joining rules for the compilers.

The model remembers which keys the file set, so :func:`dump_milk` writes those plus whatever
differs from MilkDrop's defaults, not 300 lines of defaults.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from renderer.params import (
    HEADER_KEYS,
    N_SHAPES,
    N_WAVES,
    SCHEMA,
    SHAPE_SCHEMA,
    WAVE_SCHEMA,
)

MAX_FILE_BYTES = 4 * 1024 * 1024


class PresetError(ValueError):
    """A preset that cannot be read; ``str()`` names the file and line."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None):
        self.message = message
        self.source = source
        self.line = line
        where = source or "<preset>"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}")


@dataclass
class WaveCode:
    index: int
    params: dict[str, float | int] = field(default_factory=lambda: _defaults(WAVE_SCHEMA))
    init: list[str] = field(default_factory=list)
    per_frame: list[str] = field(default_factory=list)
    per_point: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.params.get("enabled", 0))


@dataclass
class ShapeCode:
    index: int
    params: dict[str, float | int] = field(default_factory=lambda: _defaults(SHAPE_SCHEMA))
    init: list[str] = field(default_factory=list)
    per_frame: list[str] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.params.get("enabled", 0))


@dataclass
class Preset:
    params: dict[str, float | int] = field(default_factory=lambda: _defaults(SCHEMA))
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
    warnings: list[str] = field(default_factory=list, compare=False)

    @property
    def name(self) -> str:
        if not self.source:
            return "untitled"
        return Path(self.source).stem

    @property
    def has_shaders(self) -> bool:
        return bool(self.warp_shader.strip() or self.comp_shader.strip())

    def code_sections(self) -> dict[str, list[str]]:
        """Every code block by the section name the compilers and error messages use."""
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


def _defaults(schema) -> dict[str, float | int]:
    return {k: spec.default for k, spec in schema.items()}


# ---------------------------------------------------------------- numbers

_FLOAT_PREFIX = re.compile(r"[ \t]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def scan_float(text: str) -> float | None:
    """``sscanf("%f")``: the longest numeric prefix, or None when there is none."""
    m = _FLOAT_PREFIX.match(text)
    if not m:
        return None
    try:
        value = float(m.group(1))
    except ValueError:  # pragma: no cover - the regex only admits valid literals
        return None
    return value if math.isfinite(value) else None


def format_number(value: float | int) -> str:
    """Shortest text that reads back to the same value (``repr`` of a float, plain ints)."""
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# ---------------------------------------------------------------- code text

_COMMENT = re.compile(r"//|\\\\")


def strip_comment(line: str) -> str:
    m = _COMMENT.search(line)
    return line[: m.start()] if m else line


def code_text(lines: list[str]) -> tuple[str, list[int]]:
    """MilkDrop 2's view of a code block: comments cut per line, lines joined with no separator.

    Returns the text and, for each line i (0-based), the offset in the text where line i+1 begins,
    so that a compiler can turn an offset back into the preset's line number.
    """
    parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        piece = strip_comment(line)
        parts.append(piece)
        pos += len(piece)
    return "".join(parts), offsets


def line_of_offset(offsets: list[int], offset: int) -> int:
    """1-based block line for a character offset of :func:`code_text`'s text."""
    line = 1
    for i, start in enumerate(offsets):
        if start <= offset:
            line = i + 1
        else:
            break
    return line


# ---------------------------------------------------------------- reading

_SECTION = re.compile(r"^\[preset(\d+)\]\s*$")

# Code block key patterns: prefix -> (target, regex with the line number)
_CODE_KEYS = [
    (re.compile(r"^per_frame_init_(\d+)$"), ("init", None)),
    (re.compile(r"^per_frame_(\d+)$"), ("per_frame", None)),
    (re.compile(r"^per_pixel_(\d+)$"), ("per_pixel", None)),
    (re.compile(r"^warp_(\d+)$"), ("warp", None)),
    (re.compile(r"^comp_(\d+)$"), ("comp", None)),
]
_WAVE_CODE = re.compile(r"^wave_(\d+)_(init|per_frame|per_point)(\d+)$")
_SHAPE_CODE = re.compile(r"^shape_(\d+)_(init|per_frame)(\d+)$")
_WAVE_PARAM = re.compile(r"^wavecode_(\d+)_(\w+)$")
_SHAPE_PARAM = re.compile(r"^shapecode_(\d+)_(\w+)$")


def _split_key(line: str) -> tuple[str, str | None]:
    """Key and raw value of one line; MilkDrop ends a key at '=' or at a space."""
    eq = line.find("=")
    head = line if eq < 0 else line[:eq]
    head = head.strip()
    sp = head.find(" ")
    if sp >= 0:
        head = head[:sp]
    head = head.split("\t")[0]
    value = None if eq < 0 else line[eq + 1 :]
    return head, value


def _code_block_key(key: str) -> tuple[tuple, int] | None:
    """(block id, line number) for any code line key, else None."""
    for rx, (target, _) in _CODE_KEYS:
        m = rx.match(key)
        if m:
            return (target,), int(m.group(1))
    m = _WAVE_CODE.match(key)
    if m:
        return ("wave", int(m.group(1)), m.group(2)), int(m.group(3))
    m = _SHAPE_CODE.match(key)
    if m:
        return ("shape", int(m.group(1)), m.group(2)), int(m.group(3))
    return None


def parse_milk(text: str | bytes, source: str | None = None) -> Preset:
    """Read ``.milk`` text. Raises :class:`PresetError` (naming file and line) and nothing else."""
    try:
        return _parse(text, source)
    except PresetError:
        raise
    except Exception as exc:  # a reader bug must still name the file
        raise PresetError(f"unreadable preset ({type(exc).__name__}: {exc})", source) from exc


def _decode(text: str | bytes, source: str | None) -> str:
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise PresetError(f"file is {len(text)} bytes; presets are at most {MAX_FILE_BYTES}", source)
        text = text.decode("latin-1")
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        raise PresetError("NUL byte: this is not a text preset", source, line)
    return text


def _parse(raw: str | bytes, source: str | None) -> Preset:
    text = _decode(raw, source)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    preset = Preset(source=source)
    seen: dict[str, tuple[str, int]] = {}
    order: list[str] = []
    section_line = None
    header_vals: dict[str, tuple[str, int]] = {}
    for lineno, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        m = _SECTION.match(stripped)
        if m:
            if section_line is None:
                if m.group(1) != "00":
                    raise PresetError(f"section [{stripped[1:-1]}] where [preset00] was expected", source, lineno)
                section_line = lineno
                continue
            # A second preset section: MilkDrop reads only [preset00], and so do we.
            preset.warnings.append(f"line {lineno}: a second section {stripped!r}; it and what follows are ignored")
            break
        if stripped.startswith("[") and stripped.endswith("]"):
            raise PresetError(f"unexpected section header {stripped!r}", source, lineno)
        key, value = _split_key(line)
        if not key:
            preset.warnings.append(f"line {lineno}: no key, ignored")
            continue
        if section_line is None:
            if key in HEADER_KEYS:
                header_vals.setdefault(key, (value or "", lineno))
                continue
            preset.warnings.append(f"line {lineno}: {key!r} before the [preset00] header, ignored")
            continue
        if value is None:
            value = ""
        if key in seen:
            continue  # first occurrence wins
        seen[key] = (value, lineno)
        order.append(key)
    if section_line is None:
        raise PresetError("no [preset00] section: not a MilkDrop preset", source, 1)
    for key in HEADER_KEYS:
        if key in seen and key not in header_vals:  # header keys after the section line also count
            header_vals[key] = seen.pop(key)
            order.remove(key)
    _apply_header(preset, header_vals)
    _apply_body(preset, seen, order)
    return preset


def _apply_header(preset: Preset, header: dict[str, tuple[str, int]]) -> None:
    names = {
        "MILKDROP_PRESET_VERSION": "version",
        "PSVERSION": "ps_version",
        "PSVERSION_WARP": "ps_version_warp",
        "PSVERSION_COMP": "ps_version_comp",
    }
    for key, attr in names.items():
        if key in header:
            value, lineno = header[key]
            number = scan_float(value)
            if number is None:
                preset.warnings.append(f"line {lineno}: {key}={value.strip()!r} is not a number")
                continue
            setattr(preset, attr, int(number))
            preset.line_of[key] = lineno


def _apply_body(preset: Preset, seen: dict[str, tuple[str, int]], order: list[str]) -> None:
    blocks: dict[tuple, dict[int, tuple[str, int, str]]] = {}
    for key in order:
        value, lineno = seen[key]
        code = _code_block_key(key)
        if code is not None:
            block_id, number = code
            blocks.setdefault(block_id, {})[number] = (value, lineno, key)
            continue
        if _set_param(preset, key, value, lineno):
            continue
        preset.unknown.append((key, value))
    for block_id, numbered in blocks.items():
        _assign_block(preset, block_id, numbered)
    if "mv_a" not in preset.set_keys:
        preset.params["mv_a"] = _mv_a_default(preset)


def _set_param(preset: Preset, key: str, value: str, lineno: int) -> bool:
    """Store a parameter; False when the key is not one MilkDrop 2 reads."""
    target = None
    spec = SCHEMA.get(key)
    if spec is not None:
        target = preset.params
    else:
        m = _WAVE_PARAM.match(key)
        if m and int(m.group(1)) < N_WAVES and m.group(2) in WAVE_SCHEMA:
            spec = WAVE_SCHEMA[m.group(2)]
            target = preset.waves[int(m.group(1))].params
        m = None if target is not None else _SHAPE_PARAM.match(key)
        if m and int(m.group(1)) < N_SHAPES and m.group(2) in SHAPE_SCHEMA:
            spec = SHAPE_SCHEMA[m.group(2)]
            target = preset.shapes[int(m.group(1))].params
    if target is None:
        return False
    preset.line_of[key] = lineno
    number = scan_float(value)
    if number is None:
        preset.warnings.append(f"line {lineno}: {key}={value.strip()!r} is not a number; default kept")
        return True  # MilkDrop keeps its default; the key is known, not unknown
    target[spec.key] = spec.coerce(number)
    preset.set_keys.add(key)
    return True


def _assign_block(preset: Preset, block_id: tuple, numbered: dict[int, tuple[str, int, str]]) -> None:
    lines: list[str] = []
    n = 1
    while n in numbered:
        value, lineno, key = numbered[n]
        lines.append(value)
        preset.line_of[key] = lineno
        preset.set_keys.add(key)
        n += 1
    for extra in sorted(k for k in numbered if k >= n):
        value, lineno, key = numbered[extra]
        preset.unknown.append((key, value))
        preset.warnings.append(f"line {lineno}: {key} comes after a gap in the numbering; MilkDrop ignores it")
    kind = block_id[0]
    if kind == "init":
        preset.init_code = lines
    elif kind == "per_frame":
        preset.per_frame_code = lines
    elif kind == "per_pixel":
        preset.per_pixel_code = lines
    elif kind in ("warp", "comp"):
        shader = "\n".join(v[1:] if v.startswith("`") else v for v in lines)
        setattr(preset, f"{kind}_shader", shader)
    elif kind == "wave":
        index, part = block_id[1], block_id[2]
        if index < N_WAVES:
            setattr(preset.waves[index], part, lines)
        else:
            _keep_unknown_block(preset, f"wave_{index}_{part}", lines)
    elif kind == "shape":
        index, part = block_id[1], block_id[2]
        if index < N_SHAPES:
            setattr(preset.shapes[index], part, lines)
        else:
            _keep_unknown_block(preset, f"shape_{index}_{part}", lines)


def _keep_unknown_block(preset: Preset, prefix: str, lines: list[str]) -> None:
    for i, value in enumerate(lines, start=1):
        preset.unknown.append((f"{prefix}{i}", value))


def load_milk(path: str | os.PathLike) -> Preset:
    """Read a ``.milk`` file; any problem is a :class:`PresetError` naming the path."""
    path = str(path)
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise PresetError(f"file is {size} bytes; presets are at most {MAX_FILE_BYTES}", path)
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise PresetError(f"cannot read: {exc.strerror or exc}", path) from exc
    return parse_milk(data, source=path)


# ---------------------------------------------------------------- writing


def _mv_a_default(preset: Preset) -> float:
    on = dict(preset.unknown).get("bMotionVectorsOn")
    number = scan_float(on) if on is not None else None
    return 1.0 if number else 0.0


def _param_lines(preset: Preset) -> list[str]:
    out = []
    for key, spec in SCHEMA.items():
        value = preset.params.get(key, spec.default)
        default = spec.default
        if key == "mv_a" and "mv_a" not in preset.set_keys:
            default = _mv_a_default(preset)
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
    return [f"{prefix}{i}={line}" for i, line in enumerate(lines, start=1)]


def dump_milk(preset: Preset) -> str:
    """``.milk`` text for a preset, CRLF line ends as MilkDrop writes them."""
    out: list[str] = []
    if preset.version is not None:
        out.append(f"MILKDROP_PRESET_VERSION={preset.version}")
    if preset.ps_version is not None:
        out.append(f"PSVERSION={preset.ps_version}")
    if preset.ps_version_warp is not None:
        out.append(f"PSVERSION_WARP={preset.ps_version_warp}")
    if preset.ps_version_comp is not None:
        out.append(f"PSVERSION_COMP={preset.ps_version_comp}")
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
    if preset.warp_shader:
        out += _code_lines("warp_", ["`" + ln for ln in preset.warp_shader.split("\n")])
    if preset.comp_shader:
        out += _code_lines("comp_", ["`" + ln for ln in preset.comp_shader.split("\n")])
    for key, value in preset.unknown:
        out.append(f"{key}={value}")
    return "\r\n".join(out) + "\r\n"


def save_milk(preset: Preset, path: str | os.PathLike) -> None:
    """Write atomically (temp file + rename): a crash never leaves half a preset."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_bytes(dump_milk(preset).encode("latin-1", errors="replace"))
    os.replace(tmp, path)
