"""Variation inside EEL code: constants nudged in place, and small equations built from a grammar.

An equation is a whole idea; changing its text at random almost always breaks it. What can be
varied safely is the numbers: ``zoom = 1.02 + 0.05*sin(time*0.7)`` stays a zoom pulse when 0.05
becomes 0.06. The literals are found with the EEL lexer on MilkDrop's joined view of the block and
rewritten in place in the raw lines, so comments, spacing and everything else the author wrote
stay as they were; the result is checked by the EEL compiler and dropped if it does not compile.

New equations come only from the grammar below (targets, signals, operators we choose), so they
are valid by construction and keep each target near its typical range.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from dataclasses import dataclass

from renderer.eel import compile_block
from renderer.milk.params import SCHEMA
from renderer.milk.preset import code_text

_INT_LITERAL = re.compile(r"^[0-9]+$")
_DEC_LITERAL = re.compile(r"^(?:[0-9]+\.?[0-9]*|\.[0-9]+)$")


@dataclass(frozen=True)
class NumberSpan:
    """A number literal that lies wholly on one raw line (``line`` 0-based, ``start:end`` columns)."""

    line: int
    start: int
    end: int
    text: str
    value: float


def number_spans(lines: list[str]) -> list[NumberSpan]:
    """Every plain number literal of a block that can be rewritten in place.

    Skipped: ``$PI``-style and hex constants, exponent forms, and the rare literal that MilkDrop's
    no-separator join assembles from two lines (``.0`` + ``1``). A block the lexer rejects has none.
    """
    from renderer.eel.lexer import tokenize

    text, offsets = code_text(lines)
    try:
        tokens = tokenize(text)
    except Exception:  # noqa: BLE001 - any lexer complaint means: leave this block alone
        return []
    starts, ends, index = [], [], []
    for i, start in enumerate(offsets):
        end = offsets[i + 1] if i + 1 < len(offsets) else len(text)
        if end > start:
            starts.append(start)
            ends.append(end)
            index.append(i)
    out = []
    for tok in tokens:
        if tok.kind != "num" or not _DEC_LITERAL.match(tok.text):
            continue
        j = bisect.bisect_right(starts, tok.pos) - 1
        if j < 0 or tok.pos + len(tok.text) > ends[j]:
            continue
        col = tok.pos - starts[j]
        raw = lines[index[j]]
        if raw[col : col + len(tok.text)] != tok.text:  # pragma: no cover - code_text keeps prefixes
            continue
        out.append(NumberSpan(index[j], col, col + len(tok.text), tok.text, float(tok.text)))
    return out


def format_literal(value: float, integer: bool = False) -> str:
    """Non-negative literal text with about four significant digits, never in exponent form."""
    value = abs(value)
    if integer:
        return str(int(round(value)))
    if value == 0 or not math.isfinite(value):
        return "0.0"
    decimals = max(1, min(8, 3 - math.floor(math.log10(value))))
    text = f"{value:.{decimals}f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def perturb_literal(span: NumberSpan, rng: random.Random, sigma: float) -> str:
    """A new literal near the old one: gaussian step relative to its size (floor 0.05, ints step 1).

    Literals stay non-negative (a sign is an operator in EEL, so ``a-0.5`` must not become ``a--0.3``).
    """
    integer = bool(_INT_LITERAL.match(span.text))
    scale = max(abs(span.value) * sigma, 1.0 if integer else 0.25 * sigma)
    new = abs(span.value + rng.gauss(0.0, scale))
    if integer and int(round(new)) == int(span.value):
        new = span.value + rng.choice((-1, 1))
    text = format_literal(new, integer)
    if text == span.text:
        text = format_literal(new * (1.05 if new else 1.0) + (0 if new else 0.01), integer)
    return text


def perturb_constants(lines: list[str], rng: random.Random, prob: float, sigma: float, section: str = "code") -> tuple[list[str], int]:
    """Each literal changes with probability ``prob``; returns (new lines, literals changed).

    If the new block does not compile the old one is returned with 0 (never a broken child).
    """
    spans = number_spans(lines)
    if not spans:
        return list(lines), 0
    chosen = [s for s in spans if rng.random() < prob]
    if not chosen:
        return list(lines), 0
    out = list(lines)
    for s in sorted(chosen, key=lambda s: (s.line, -s.start)):  # right to left keeps columns valid
        out[s.line] = out[s.line][: s.start] + perturb_literal(s, rng, sigma) + out[s.line][s.end :]
    if not block_compiles(out, section):
        return list(lines), 0
    return out, len(chosen)


def block_compiles(lines: list[str], section: str = "code") -> bool:
    """True when the EEL compiler accepts the block (an empty block always compiles)."""
    if not any(line.strip() for line in lines):
        return True
    try:
        compile_block(lines, section)
    except Exception:  # noqa: BLE001 - EELError or any refusal means "does not compile"
        return False
    return True


# ---------------------------------------------------------------- grammar for new equations

#: Per-frame variable -> the schema key whose typical range it lives in.
FRAME_TARGETS = {
    "zoom": "zoom", "rot": "rot", "warp": "warp", "cx": "cx", "cy": "cy", "dx": "dx", "dy": "dy",
    "sx": "sx", "sy": "sy", "decay": "fDecay", "wave_r": "wave_r", "wave_g": "wave_g", "wave_b": "wave_b",
    "wave_x": "wave_x", "wave_y": "wave_y", "wave_a": "fWaveAlpha", "wave_mystery": "fWaveParam",
    "ob_r": "ob_r", "ob_g": "ob_g", "ob_b": "ob_b", "ob_a": "ob_a", "ib_r": "ib_r", "ib_g": "ib_g",
    "ib_b": "ib_b", "ib_a": "ib_a", "echo_zoom": "fVideoEchoZoom", "echo_alpha": "fVideoEchoAlpha",
}
PIXEL_TARGETS = ("zoom", "rot", "warp", "dx", "dy", "sx", "sy", "cx", "cy")
AUDIO = ("bass", "mid", "treb", "bass_att", "mid_att", "treb_att")


def _num(rng: random.Random, lo: float, hi: float) -> str:
    return format_literal(rng.uniform(lo, hi))


def _frame_signal(rng: random.Random) -> str:
    """A bounded signal in [-1, 1] driven by time and the music."""
    f, g = _num(rng, 0.1, 2.5), _num(rng, 0.1, 2.5)
    p = _num(rng, 0, 6.28)
    band = rng.choice(AUDIO)
    return rng.choice((
        f"sin(time*{f} + {p})",
        f"cos(time*{f} + {p})",
        f"sin(time*{f})*cos(time*{g})",
        f"min(max({band} - 1, -1), 1)",
        f"sin(time*{f} + {band}*{_num(rng, 0.2, 1.5)})",
    ))


def _pixel_signal(rng: random.Random) -> str:
    """A bounded signal in [-1, 1] that varies across the screen."""
    f, g = _num(rng, 1, 12), _num(rng, 0.1, 2)
    k = rng.randint(1, 8)
    return rng.choice((
        f"sin(rad*{f} + time*{g})",
        f"cos(ang*{k} + time*{g})",
        f"sin(x*{f} + time*{g})*cos(y*{_num(rng, 1, 12)})",
        f"(x - 0.5)*2*sin(time*{g})",
        f"(y - 0.5)*2*cos(time*{g})",
        f"rad*sin(ang*{k} - time*{g})",
    ))


def _amplitude(key: str, rng: random.Random, scale: float) -> tuple[float, float]:
    lo, hi = SCHEMA[key].typical
    centre = (lo + hi) / 2
    return centre, (hi - lo) / 2 * rng.uniform(0.2, 1.0) * scale


def random_frame_equation(rng: random.Random) -> str:
    """``target = centre + amp*signal;`` with centre and amplitude from the target's typical range."""
    target = rng.choice(list(FRAME_TARGETS))
    centre, amp = _amplitude(FRAME_TARGETS[target], rng, 0.5)
    signal = _frame_signal(rng)
    if target in ("zoom", "rot", "warp", "dx", "dy", "sx", "sy") and rng.random() < 0.5:
        return f"{target} = {target} + {format_literal(amp)}*{signal};"
    if abs(centre) < 1e-9:
        return f"{target} = {format_literal(amp)}*{signal};"
    sign = "-" if centre < 0 else ""
    return f"{target} = {sign}{format_literal(centre)} + {format_literal(amp)}*{signal};"


def random_pixel_equation(rng: random.Random) -> str:
    """``target = target + amp*signal;``: per-pixel code modulates the per-frame value."""
    target = rng.choice(PIXEL_TARGETS)
    _, amp = _amplitude(target, rng, 0.3)
    return f"{target} = {target} + {format_literal(amp)}*{_pixel_signal(rng)};"


def random_frame_equations(rng: random.Random, n: int) -> list[str]:
    return [random_frame_equation(rng) for _ in range(n)]


def random_pixel_equations(rng: random.Random, n: int) -> list[str]:
    return [random_pixel_equation(rng) for _ in range(n)]


def random_wave_code(rng: random.Random) -> list[str]:
    """Per-point code for a custom wave: a scope line, a ring or a Lissajous figure."""
    kind = rng.randrange(3)
    a = _num(rng, 0.05, 0.3)
    if kind == 0:
        return ["x = sample;", f"y = {_num(rng, 0.2, 0.8)} + value1*{a};"]
    if kind == 1:
        r, f = _num(rng, 0.1, 0.35), _num(rng, 0, 1.5)
        return [f"rr = {r} + value1*{a};",
                f"x = 0.5 + rr*cos(sample*6.2832 + time*{f});",
                f"y = 0.5 + rr*sin(sample*6.2832 + time*{f});"]
    k1, k2 = rng.randint(1, 7), rng.randint(1, 7)
    return [f"x = 0.5 + {a}*sin(sample*{k1}*6.2832 + time*{_num(rng, 0.1, 1.5)}) + value1*0.1;",
            f"y = 0.5 + {a}*cos(sample*{k2}*6.2832 + time*{_num(rng, 0.1, 1.5)}) + value2*0.1;"]


def random_shape_code(rng: random.Random) -> list[str]:
    """Per-frame code for a custom shape: some of spin, orbit and a pulse with the bass."""
    out = []
    if rng.random() < 0.6:
        out.append(f"ang = time*{_num(rng, 0.1, 2)};")
    if rng.random() < 0.5:
        a = _num(rng, 0.05, 0.35)
        out.append(f"x = 0.5 + {a}*sin(time*{_num(rng, 0.1, 1.5)});")
        out.append(f"y = 0.5 + {a}*cos(time*{_num(rng, 0.1, 1.5)});")
    if rng.random() < 0.5:
        out.append(f"rad = rad*(1 + {_num(rng, 0.05, 0.4)}*min(bass, 2));")
    return out
