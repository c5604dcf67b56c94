"""Edits of EEL code blocks that the repairs make: leave out what MilkDrop leaves out, and guard a
variable that can go NaN or infinite. Pure functions on a block's lines (a new list each time)."""

from __future__ import annotations

from evo.doctor.probe import Statement, guard_statement, statements


def compiles(lines: list[str], section: str) -> tuple[bool, int]:
    """(the block compiles, statements MilkDrop 2 would leave out of it)."""
    from renderer.eel import EELError, compile_block

    try:
        block = compile_block(lines, section, skip_bad_statements=True)
    except EELError:
        return False, 0
    except Exception:  # noqa: BLE001 - a compiler crash counts as not compiling
        return False, 0
    return True, len(block.skipped)


def without_bad_statements(lines: list[str], section: str) -> tuple[list[str], list[Statement]]:
    """The block with every statement MilkDrop 2 would leave out removed (one statement per line
    afterwards: the statements are re-joined, comments go), and the statements removed."""
    from renderer.eel import EELError, compile_block

    keep, dropped = [], []
    for s in statements(lines):
        try:
            ok = not compile_block([s.text + ";"], section, skip_bad_statements=True).skipped
        except EELError:
            ok = False
        except Exception:  # noqa: BLE001
            ok = False
        (keep if ok else dropped).append(s)
    return [s.text + ";" for s in keep], dropped


def with_guard(lines: list[str], section: str, variable: str, fallback: float, after: Statement | None) -> list[str]:
    """The block with a guard for ``variable`` inserted after the line where ``after`` starts
    when that still compiles with no new skipped statements; else appended at the end."""
    guard = guard_statement(variable, fallback)
    before_ok, before_skipped = compiles(lines, section)
    if after is not None:
        end_line = _end_line(lines, after)
        if end_line is not None:
            trial = list(lines[:end_line]) + [guard] + list(lines[end_line:])
            ok, skipped = compiles(trial, section)
            if ok and skipped <= before_skipped:
                return trial
    tail = list(lines)
    if tail and not tail[-1].rstrip().endswith(";"):
        tail[-1] = tail[-1] + ";"
    return tail + [guard]


def _end_line(lines: list[str], stmt: Statement) -> int | None:
    """The 1-based line on which ``stmt`` ends when the statement's ';' ends that line too (only
    then is a new line after it a new statement); None otherwise."""
    from renderer.milk.preset import code_text, line_of_offset

    text, offsets = code_text(lines)
    pos = text.find(stmt.text, offsets[stmt.line - 1] if stmt.line - 1 < len(offsets) else 0)
    if pos < 0:
        return None
    end = text.find(";", pos + len(stmt.text))
    if end < 0:
        return len(lines)
    line = line_of_offset(offsets, end)
    line_end = offsets[line] if line < len(offsets) else len(text)
    rest = text[end + 1:line_end]
    return line if not rest.strip() else None
