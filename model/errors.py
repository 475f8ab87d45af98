"""Problems with the analyst's input, reported all at once with their cell addresses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
            return self.message
        where = self.sheet
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        got = "" if self.value is None else f" (got {_show(self.value)})"
        return f"{where}: {self.message}{got}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


class InputError(Exception):
    """The input cannot be used. Carries every problem found, so one run reports them all."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("file", None, None, None, problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = list(problems)
        super().__init__(self.report())

    def report(self) -> str:
        return "\n".join(str(p) for p in self.problems)
