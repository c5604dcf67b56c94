"""Features of a preset's EEL code, read with regular expressions over MilkDrop's view of the
text (comments cut, lines joined), not by compiling it.

Compiling every block of a 10k-preset pack would cost ~100x more and fail on the blocks the
compiler rejects, while the questions asked here (how much code, which built-in variables does
it drive, which functions, does it use q/t variables, loops or megabuf) are lexical. EEL names
are case-insensitive, so the text is lower-cased first.

Columns (all ``code_``-prefixed, see :mod:`evo.mining.dataset`):

    code_lines_<section>       lines in per_frame_init, per_frame, per_pixel, and all custom
                               waves / shapes together (waves, shapes)
    code_statements            statements (';'-separated pieces, loop bodies included) over every block
    code_pf_<var>              per-frame code (init + per-frame) assigns built-in variable <var>
    code_pp_<var>              per-pixel code assigns <var> (the ten a per-pixel block can move)
    code_fn_<name>             calls of built-in function <name> over every block
    code_q_vars, code_t_vars   distinct q1..q32 / t1..t8 the code names
    code_reg_vars              distinct reg00..reg99 (global registers)
    code_loops, code_megabuf   loop/while calls; megabuf/gmegabuf uses
"""

from __future__ import annotations

import re
from collections import Counter

from renderer.eel.parser import FUNCTIONS, SPECIAL
from renderer.frame_state import MILK_TO_VAR
from renderer.milk.params import SCHEMA
from renderer.milk.preset import Preset, code_text

#: Built-in per-frame variables a preset's per-frame code can assign (the names its equations use).
FRAME_VARS: tuple[str, ...] = tuple(sorted({MILK_TO_VAR.get(k, k).lower() for k in SCHEMA if k != "fRating"}))
#: What per-pixel code can move (MilkDrop reads only these back from a per-pixel block).
PIXEL_VARS: tuple[str, ...] = ("zoom", "zoomexp", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy")
#: Built-in functions and special forms counted by name.
FUNCTION_NAMES: tuple[str, ...] = tuple(sorted(set(FUNCTIONS) | set(SPECIAL)))
SECTION_GROUPS: tuple[str, ...] = ("per_frame_init", "per_frame", "per_pixel", "waves", "shapes")

_ASSIGN = re.compile(r"\b([a-z_][a-z0-9_]*)\s*(?:[-+*/%^&|]?=)(?!=)")
_CALL = re.compile(r"\b([a-z_][a-z0-9_]*)\s*\(")
_Q = re.compile(r"\bq([1-9]|[12][0-9]|3[0-2])\b")
_T = re.compile(r"\bt([1-8])\b")
_REG = re.compile(r"\breg([0-9][0-9])\b")
_FRAME_SET = frozenset(FRAME_VARS)
_PF_COLS = [(f"code_pf_{v}", v) for v in FRAME_VARS]
_PP_COLS = [(f"code_pp_{v}", v) for v in PIXEL_VARS]
_FN_COLS = [(f"code_fn_{f}", f) for f in FUNCTION_NAMES]
_PIXEL_SET = frozenset(PIXEL_VARS)


def code_columns() -> list[str]:
    """Every column :func:`code_features` returns, in order."""
    cols = [f"code_lines_{s}" for s in SECTION_GROUPS] + ["code_statements"]
    cols += [f"code_pf_{v}" for v in FRAME_VARS] + [f"code_pp_{v}" for v in PIXEL_VARS]
    cols += [f"code_fn_{f}" for f in FUNCTION_NAMES]
    cols += ["code_q_vars", "code_t_vars", "code_reg_vars", "code_loops", "code_megabuf"]
    return cols


def _joined(lines: list[str]) -> str:
    return code_text(lines)[0].lower() if lines else ""


def assigned(text: str) -> set[str]:
    """Names ``text`` assigns with ``=`` or a compound assignment (``+=`` ...), not ``==``."""
    return {m.group(1) for m in _ASSIGN.finditer(text)}


def count_statements(text: str) -> int:
    """Statements in joined EEL text: its non-blank ';'-separated pieces, those inside loop and
    if bodies included (a split in C: a quarter of the cost of tracking parentheses)."""
    return sum(1 for piece in text.split(";") if piece.strip())


def code_features(preset: Preset) -> dict[str, int | bool]:
    """The ``code_`` columns of one preset."""
    frame_text = _joined(preset.init_code) + ";" + _joined(preset.per_frame_code)
    pixel_text = _joined(preset.per_pixel_code)
    item_texts = [_joined(b) for w in preset.waves for b in (w.init, w.per_frame, w.per_point)]
    item_texts += [_joined(b) for s in preset.shapes for b in (s.init, s.per_frame)]
    everything = ";".join([frame_text, pixel_text, *item_texts])

    out: dict[str, int | bool] = {
        "code_lines_per_frame_init": len(preset.init_code),
        "code_lines_per_frame": len(preset.per_frame_code),
        "code_lines_per_pixel": len(preset.per_pixel_code),
        "code_lines_waves": sum(len(w.init) + len(w.per_frame) + len(w.per_point) for w in preset.waves),
        "code_lines_shapes": sum(len(s.init) + len(s.per_frame) for s in preset.shapes),
        "code_statements": count_statements(everything),
    }
    frame_writes = assigned(frame_text) & _FRAME_SET
    pixel_writes = assigned(pixel_text) & _PIXEL_SET
    out.update({col: v in frame_writes for col, v in _PF_COLS})
    out.update({col: v in pixel_writes for col, v in _PP_COLS})
    calls = Counter(_CALL.findall(everything))
    out.update({col: calls.get(f, 0) for col, f in _FN_COLS})
    out["code_q_vars"] = len(set(_Q.findall(everything)))
    out["code_t_vars"] = len(set(_T.findall(everything)))
    out["code_reg_vars"] = len(set(_REG.findall(everything)))
    out["code_loops"] = calls.get("loop", 0) + calls.get("while", 0)
    out["code_megabuf"] = calls.get("megabuf", 0) + calls.get("gmegabuf", 0)
    return out
