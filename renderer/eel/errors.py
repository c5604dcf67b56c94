"""The one error type the EEL compiler raises: it names the code section, line and column."""
from __future__ import annotations


class EELError(Exception):
    """A code block that does not compile. MilkDrop treats such a block as empty; so do we.

    `line` is the preset's own line number within the section (per_frame_7 -> 7) when the
    block came as a list of numbered lines, else the 1-based line in the given text.
    `col` is 1-based within that line (0 when unknown).
    """

    def __init__(self, section: str, line: int, col: int, message: str):
        self.section = section
        self.line = line
        self.col = col
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.section} line {self.line}" if self.line else self.section
        if self.col:
            where += f" col {self.col}"
        return f"{where}: {self.message}"

    def __reduce__(self):
        return (EELError, (self.section, self.line, self.col, self.message))


class EELSyntax(Exception):
    """Internal: a parse failure at a char offset, turned into EELError by compile_block."""

    def __init__(self, pos: int, message: str):
        self.pos = pos
        self.message = message
        super().__init__(message)
