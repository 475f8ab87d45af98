"""Compute formulas the file holds no trustworthy value for, with the `formulas` engine.

Workbooks written by scripts (openpyxl, pandas) save formulas without values, and XlsxWriter
saves placeholder zeros and asks Excel to recalculate on load. Such cells are computed here,
only when they exist, and only they and the cells they depend on (`ExcelModel.from_ranges`),
so a workbook without them never pays for this. A cell the engine cannot compute is named with
the reason: the function it does not know, or the Excel error the formula evaluates to.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CellKey = tuple[str, str, int]  # (sheet title, column letters, row)
BOOK = "book.xlsx"  # the engine names cells by file name: a copy under a plain name avoids quoting trouble


@dataclass(frozen=True)
class Failure:
    """Why a formula could not be computed, in words for the analyst."""

    reason: str
    error: str | None = None  # the Excel error value the formula evaluates to, when that is why


def compute(path: Path, cells: dict[CellKey, str]) -> dict[CellKey, Any]:
    """Value (or Failure) of every cell in `cells` (key -> its formula text)."""
    try:
        import formulas
        from formulas.functions import not_implemented
        from formulas.tokens.operand import XlError
    except ImportError:  # pragma: no cover - a declared dependency
        return {key: Failure("the formula engine (the 'formulas' package) is not installed") for key in cells}
    known = formulas.get_functions()
    out: dict[CellKey, Any] = {}
    todo: dict[CellKey, str] = {}
    for key, text in cells.items():
        unknown = _unknown_functions(formulas, text, known, not_implemented)
        if unknown is not None:
            out[key] = Failure(unknown)
        else:
            todo[key] = _ref(key)
    if not todo:
        return out
    with tempfile.TemporaryDirectory(prefix="sourcing-formulas-") as folder:
        shutil.copyfile(path, Path(folder) / BOOK)
        try:
            with _quiet():
                model = formulas.ExcelModel()
                model.basedir = folder
                model.from_ranges(*todo.values())
                model.finish()
                solution = model.calculate()
        except Exception as exc:  # noqa: BLE001 - the engine's own failure becomes a message per cell
            reason = f"the formula engine stopped ({type(exc).__name__}: {' '.join(str(exc).split())[:120]})"
            return out | {key: Failure(reason) for key in todo}
    for key, ref in todo.items():
        result = solution.get(ref)
        value = getattr(result, "value", result)
        with contextlib.suppress(IndexError, TypeError):
            value = value[0][0] if hasattr(value, "__getitem__") and not isinstance(value, str) else value
        if result is None:
            out[key] = Failure("the formula engine returned no value for it")
        elif isinstance(value, XlError):
            out[key] = Failure(f"it evaluates to the Excel error {value}", str(value))
        else:
            out[key] = _plain(value)
    return out


def _ref(key: CellKey) -> str:
    title, letters, row = key
    return "'[{}]{}'!{}{}".format(BOOK, title.upper().replace("'", "''"), letters, row)


def _unknown_functions(formulas: Any, text: str, known: Any, not_implemented: Any) -> str | None:
    try:
        tokens, _ = formulas.Parser().ast(text)
    except Exception as exc:  # noqa: BLE001 - a formula the parser rejects
        return f"the formula engine cannot parse it ({' '.join(str(exc).split())[:100]})"
    for token in tokens:
        if type(token).__name__ == "Range" and "[" in str(getattr(token, "name", "")):
            return "it refers to another workbook or to a table by name, which the engine does not read"
        if type(token).__name__ != "Function":
            continue
        name = str(token.name).upper()
        if known.get(name) in (None, not_implemented) and known.get(name.replace("_XLFN.", "")) in (
                None, not_implemented):
            return f"the formula engine does not know the function {name.replace('_XLFN.', '')}"
    return None


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers; the engine's empty cell to None."""
    if type(value).__name__ == "EmptyValue" or value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            return value.item()
        except (ValueError, TypeError):
            return value
    return value


@contextlib.contextmanager
def _quiet():
    """The engine shows progress bars and logs evaluation tracebacks; neither is for the analyst."""
    loggers = [logging.getLogger(name) for name in ("schedula", "formulas")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
