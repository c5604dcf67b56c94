"""Tokens of EEL2 text (one joined code block).

MilkDrop joins a block's lines with no separator after cutting `//` and `\\\\` comments per
line (see `join_lines`), so a token may span two preset lines (`.0` + `1`). Numbers follow
ns-eel2: `5`, `5.`, `.5`, `1e3`; `$PI`, `$E`, `$PHI`, `$X1F` (hex) and `$'c'` are constants.
A `.` that no digit follows is a number too: MilkDrop 2's ns-eel2 lexer reads it as a
floating-point constant and `atof(".")` is 0, so `x = .;` sets 0 and `below(rad,.-53)` compares
with -53. Identifiers are case-insensitive and returned lower-case.

``tokenize(text, lenient=True)`` turns a character no token starts with into a 'bad' token
instead of raising, so the parser can drop just the statement holding it (see parser.py).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import EELSyntax

_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEX = re.compile(r"\$[xX]([0-9A-Fa-f]+)")
_OPS = ("&&", "||", "<=", ">=", "==", "!=", "+=", "-=", "*=", "/=", "%=", "^=", "&=", "|=")
_SINGLE = set("+-*/%^&|<>=!?:;,()[]")
_CONSTANTS = {"$pi": math.pi, "$e": math.e, "$phi": 1.618033988749895}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str      # 'num', 'name', 'op', 'eof', 'bad' (lenient: text is the problem)
    text: str      # operator text, lower-case name, or source text of a number
    pos: int
    value: float = 0.0


def tokenize(text: str, lenient: bool = False) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c <= " ":
            i += 1
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise EELSyntax(i, "unterminated /* comment")
            i = j + 2
            continue
        if "0" <= c <= "9" or (c == "." and i + 1 < n and "0" <= text[i + 1] <= "9"):  # ASCII digits only
            m = _NUMBER.match(text, i)
            tokens.append(Token("num", m.group(0), i, float(m.group(0))))
            i = m.end()
            continue
        if c == ".":  # MilkDrop 2's lexer reads a lone '.' as the number 0
            tokens.append(Token("num", ".", i, 0.0))
            i += 1
            continue
        if c.isascii() and (c.isalpha() or c == "_"):  # a Unicode letter is an unexpected character
            m = _NAME.match(text, i)
            tokens.append(Token("name", m.group(0).lower(), i))
            i = m.end()
            continue
        if c == "$":
            try:
                i = _constant(text, i, tokens)
            except EELSyntax:
                if not lenient:
                    raise
                tokens.append(Token("bad", "unknown $ constant", i))
                i += 1
            continue
        two = text[i:i + 2]
        if two in _OPS:
            tokens.append(Token("op", two, i))
            i += 2
            continue
        if c in _SINGLE:
            tokens.append(Token("op", c, i))
            i += 1
            continue
        if lenient:
            tokens.append(Token("bad", f"unexpected character {c!r}", i))
            i += 1
            continue
        raise EELSyntax(i, f"unexpected character {c!r}")
    tokens.append(Token("eof", "", n))
    return tokens


def _constant(text: str, i: int, tokens: list[Token]) -> int:
    m = _HEX.match(text, i)
    if m:
        tokens.append(Token("num", m.group(0), i, float(int(m.group(1), 16))))
        return m.end()
    if text.startswith("$'", i) and i + 3 < len(text) and text[i + 3] == "'":
        tokens.append(Token("num", text[i:i + 4], i, float(ord(text[i + 2]))))
        return i + 4
    m = _NAME.match(text, i + 1)
    if m and ("$" + m.group(0).lower()) in _CONSTANTS:
        tokens.append(Token("num", "$" + m.group(0), i, _CONSTANTS["$" + m.group(0).lower()]))
        return m.end()
    raise EELSyntax(i, "unknown $ constant")


def strip_line_comment(line: str) -> str:
    """Cut a `//` or `\\\\` comment, as MilkDrop does per line before joining."""
    cut = len(line)
    for marker in ("//", "\\\\"):
        j = line.find(marker)
        if 0 <= j < cut:
            cut = j
    return line[:cut]


def join_lines(lines: list[str]) -> tuple[str, list[int]]:
    """MilkDrop 2's join: comments cut per line, lines concatenated with NO separator.

    Returns (text, offsets) with offsets[i] = where line i+1 begins in text. Used when
    renderer.milk.preset.code_text is unavailable; same contract.
    """
    parts, offsets, at = [], [], 0
    for line in lines:
        offsets.append(at)
        body = strip_line_comment(line.replace("\r", "").replace("\n", ""))
        parts.append(body)
        at += len(body)
    return "".join(parts), offsets
