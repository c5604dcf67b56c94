"""MilkDrop's small syntax rules shared by the reader, the writer and the compilers.

Numbers are read the way MilkDrop's C runtime reads them (``sscanf("%f")``, ``%d``), and code
text is what MilkDrop hands its EEL compiler: comments cut per line, lines joined with no
separator. Kept apart from the preset model so the compilers need not import the reader.
"""

from __future__ import annotations

import bisect
import math
import re

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # C int, as MilkDrop's %d reads
# ---------------------------------------------------------------- numbers

_FLOAT_PREFIX = re.compile(r"[ \t\v\f]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_INT_PREFIX = re.compile(r"[ \t\v\f]*([+-]?)(\d+)")
_CACHE_MAX = 100_000  # memo sizes: hostile input must not grow them without bound
_CACHEABLE = 64  # only short texts are memoised (real keys and numbers are)
_float_cache: dict[str, float | None] = {}
_int_cache: dict[str, int | None] = {}


def scan_float(text: str) -> float | None:
    """``sscanf("%f")``: the longest numeric prefix, or None when there is none (or it overflows)."""
    try:
        return _float_cache[text]
    except KeyError:
        pass
    m = _FLOAT_PREFIX.match(text)
    value = None
    if m:
        value = float(m.group(1))
        if not math.isfinite(value):
            value = None
    if len(text) <= _CACHEABLE and len(_float_cache) < _CACHE_MAX:
        _float_cache[text] = value
    return value


def scan_int(text: str) -> int | None:
    """``sscanf("%d")``: leading digits only (``0.5`` is 0, ``.5`` is nothing), clamped to int32."""
    try:
        return _int_cache[text]
    except KeyError:
        pass
    m = _INT_PREFIX.match(text)
    value = None
    if m:
        digits = m.group(2).lstrip("0") or "0"
        # more than 10 digits overflows int32 anyway, and stays clear of Python's int() digit limit
        value = INT_MAX + 1 if len(digits) > 10 else int(digits)
        if m.group(1) == "-":
            value = -value
        value = min(max(value, INT_MIN), INT_MAX)
    if len(text) <= _CACHEABLE and len(_int_cache) < _CACHE_MAX:
        _int_cache[text] = value
    return value


def format_number(value: float | int) -> str:
    """A value as MilkDrop's own files write it (at most 6 decimals, trailing zeros trimmed) when
    that text reads back to exactly the same value, else the shortest exact text (``repr``): the
    file never renders differently from the value it was written from. The GA's operators round
    what they make to 6 decimals, so its presets always get the short form."""
    if isinstance(value, (bool, int)):
        return str(int(value))
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) < 1e15:
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        if text not in ("0", "-0") and float(text) == value:
            return text
    return repr(value)


# ---------------------------------------------------------------- code text

_COMMENT = re.compile(r"//|\\\\")


def strip_comment(line: str) -> str:
    m = _COMMENT.search(line)
    return line[: m.start()] if m else line


def code_text(lines: list[str]) -> tuple[str, list[int]]:
    """MilkDrop 2's view of a code block: one leading backtick dropped (``ReadCode``), ``//`` and
    ``\\\\`` comments cut per line, lines joined with no separator.

    Returns the text and, for each line i (0-based), the offset in the text where line i+1 begins,
    so that a compiler can turn an offset back into the preset's line number.
    """
    parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        if line.startswith("`"):
            line = line[1:]
        piece = strip_comment(line)
        parts.append(piece)
        pos += len(piece)
    return "".join(parts), offsets


def line_of_offset(offsets: list[int], offset: int) -> int:
    """1-based block line for a character offset of :func:`code_text`'s text."""
    return max(bisect.bisect_right(offsets, offset), 1)


