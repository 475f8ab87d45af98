"""Problems with the analyst's input, reported all at once with their cell addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from model.schema import INPUT_SHEETS, SCENARIOS_SHEET

# How many problems a command prints before "... and N more" (issue 14: a million bad rows once
# printed 92 MB). Every problem stays in InputError.problems for code that wants them all.
MAX_PRINTED = 50

# Contract order: problems are listed sheet by sheet in this order, then by row, then by column.
_SHEET_ORDER = {"file": -1} | {s.name: i for i, s in enumerate((*INPUT_SHEETS, SCENARIOS_SHEET))}
_COLUMN_ORDER = {s.name: {c: i for i, c in enumerate(s.column_names)} for s in (*INPUT_SHEETS, SCENARIOS_SHEET)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located by sheet, Excel row and column."""

    sheet: str
    row: int | None
    column: str | None
    value: Any
    message: str

    def __str__(self) -> str:
        if self.sheet == "file" and self.row is None and self.column is None and self.value is None:
            return printable(self.message)
        where = self.sheet
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        got = "" if self.value is None else f" (got {show(self.value)})"
        return printable(f"{where}: {self.message}{got}")

    def sort_key(self) -> tuple[int, int, int]:
        """Contract sheet order (unknown sheets last), then Excel row (sheet-wide first), then column."""
        sheet = _SHEET_ORDER.get(self.sheet, len(_SHEET_ORDER))
        column = _COLUMN_ORDER.get(self.sheet, {}).get(self.column or "", -1)
        return sheet, -1 if self.row is None else self.row, column


def show(value: Any) -> str:
    """A cell value as a message shows it: text quoted, whole numbers without '.0', long text cut."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


# C0 and C1 controls (tab and line feed kept), bidi overrides and isolates, lone surrogates (the
# bytes of a file name that is not valid UTF-8, kept by Python's surrogateescape)
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` safe for a terminal or a cell: control characters (an ESC in a file name would
    drive the terminal) and undecodable bytes become visible escapes such as \\x1b."""
    return _UNPRINTABLE.sub(_escape, text)


class InputError(Exception):
    """The input cannot be used. Carries every problem found, so one run reports them all, in
    contract order (sheet, then row, then column)."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("file", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = sorted(problems, key=Problem.sort_key)
        super().__init__(self.report())

    def report(self, limit: int | None = MAX_PRINTED) -> str:
        """One line per problem, at most `limit` of them and a count of the rest."""
        return "\n".join(self.lines(limit))

    def lines(self, limit: int | None = MAX_PRINTED) -> list[str]:
        shown = self.problems if limit is None else self.problems[:limit]
        lines = [str(p) for p in shown]
        rest = len(self.problems) - len(shown)
        if rest:
            lines.append(f"... and {rest:,} more problem{'s' if rest != 1 else ''} (not shown)")
        return lines
