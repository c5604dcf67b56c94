"""What a preset sets and how its code fares: the questions ``liandan info``/``scan``, the
Preset page and the preset doctor all ask of one parsed preset.

Pure functions over a :class:`~renderer.milk.preset.Preset`; nothing here prints or renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from renderer.milk.params import SCHEMA
from renderer.milk.preset import Preset, PresetError, code_text, format_number, load_milk, mv_a_when_absent


def count_statements(text: str) -> int:
    """Statements in joined EEL text: non-empty pieces between top-level ';' (a ';' inside
    parentheses belongs to a loop or if body, not to the block)."""
    count, depth, pending = 0, 0, False
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == ";" and depth == 0:
            count += pending
            pending = False
            continue
        if not ch.isspace():
            pending = True
    return count + pending


@dataclass
class SectionInfo:
    name: str
    lines: int
    statements: int
    first_line: int | None  # line in the file of the section's line 1


def section_infos(preset: Preset) -> list[SectionInfo]:
    """Non-empty EEL sections with their size, in MilkDrop's order."""
    out = []
    for name, lines in preset.code_sections().items():
        if not lines:
            continue
        text, _ = code_text(lines)
        first = preset.line_of.get(preset.section_key(name, 1))
        out.append(SectionInfo(name, len(lines), count_statements(text), first))
    return out


def compile_sections(preset: Preset) -> list[dict]:
    """Compile every non-blank EEL section; one record per failure, pointing into the file
    (``section``, ``line`` within it, ``file_line``, ``col``, ``error``). A statement MilkDrop 2
    would leave out while compiling the rest of its block gets a record with ``skipped`` True.

    MilkDrop skips blocks that are only blanks, so they are never compile errors here either.
    """
    from renderer.eel import EELError, compile_block

    failures = []
    for name, lines in preset.code_sections().items():
        if not code_text(lines)[0].strip():
            continue
        try:
            block = compile_block(lines, name, skip_bad_statements=True)
        except EELError as exc:
            failures.append(_failure(preset, name, exc, getattr(exc, "message", str(exc))))
            continue
        except Exception as exc:  # a compiler bug must not stop a scan of 4,000 files
            failures.append({"section": name, "line": None, "file_line": None, "col": None,
                             "error": f"compiler crashed: {type(exc).__name__}: {exc}"})
            continue
        failures.extend(_failure(preset, name, exc, f"{exc.message} (statement skipped; the rest compiles, "
                                 "as in MilkDrop 2)", skipped=True) for exc in block.skipped)
    return failures


def _failure(preset: Preset, section: str, exc, message: str, skipped: bool = False) -> dict:
    line = getattr(exc, "line", 0) or None
    file_line = preset.line_of.get(preset.section_key(section, line)) if line else None
    out = {"section": section, "line": line, "file_line": file_line, "col": getattr(exc, "col", 0) or None,
           "error": message}
    if skipped:
        out["skipped"] = True
    return out


def changed_params(preset: Preset) -> list[tuple[str, float | int, float | int, str]]:
    """(key, value, default, note) for every base parameter that differs from MilkDrop's default;
    the note says when the value is outside the valid range."""
    out = []
    for key, spec in SCHEMA.items():
        value = preset.params.get(key, spec.default)
        default = mv_a_when_absent(preset) if key == "mv_a" else spec.default
        if value != default:
            lo, hi = spec.valid
            note = "" if lo <= value <= hi else f"outside {format_number(lo)}..{format_number(hi)}"
            out.append((key, value, default, note))
    return out


def changed_sub_params(params: dict, schema: dict) -> str:
    """A wave's or shape's parameters away from their defaults, as ``key=value`` words."""
    return " ".join(f"{k}={format_number(v)}" for k, v in params.items() if k != "enabled" and v != schema[k].default)


@dataclass
class ScanResult:
    files: int = 0
    parsed: int = 0
    failed: list[dict] = field(default_factory=list)
    warned: int = 0
    compile: list[dict] | None = None
    render: dict | None = None

    def as_json(self) -> dict:
        out = {"files": self.files, "parsed": self.parsed, "failed": self.failed, "warned": self.warned}
        if self.compile is not None:
            out["compile_failed"] = len(self.compile)
            out["compile"] = self.compile
        if self.render is not None:
            out["render"] = self.render
        return out


def scan_presets(files: list[Path], compile_code: bool = False,
                 on_file: Callable[[Path], None] | None = None) -> tuple[ScanResult, list[Path]]:
    """Parse (and optionally compile) each file; one bad file is a record, never a stop. Returns
    the result and the paths that parsed (for a render step)."""
    result = ScanResult(files=len(files), compile=[] if compile_code else None)
    ok_paths = []
    for path in files:
        try:
            preset = load_milk(path)
        except PresetError as exc:
            result.failed.append({"file": str(path), "line": exc.line, "error": exc.message})
        else:
            result.parsed += 1
            result.warned += bool(preset.warnings)
            ok_paths.append(path)
            if compile_code:
                failures = compile_sections(preset)
                if failures:
                    result.compile.append({"file": str(path), "sections": failures})
        if on_file is not None:
            on_file(path)
    return result, ok_paths
