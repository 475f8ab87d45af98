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
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

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
    out: dict[CellKey, Any] = {}
    todo: dict[CellKey, str] = {}
    for key, text in cells.items():
        unknown = _unknown_functions(formulas, text, not_implemented)
        if unknown is not None:
            out[key] = Failure(unknown)
        else:
            todo[key] = _ref(key)
    if not todo:
        return out
    with tempfile.TemporaryDirectory(prefix="sourcing-formulas-") as folder:
        needed = {key[0] for key in todo}
        try:
            _copy_needed_sheets(path, Path(folder) / BOOK, needed)
        except Exception:  # noqa: BLE001 - trimming is only a speed-up: the whole workbook always works
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


_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*>([^<]*)</(?:\w+:)?f>")
_THREE_D = re.compile(r"[\w.' ]+:[\w.' ]+!")  # a reference across a range of sheets


def _unescape(text: str) -> str:
    from xml.sax.saxutils import unescape  # it imports urllib.request, http and ssl

    return unescape(text, {"&apos;": "'", "&quot;": '"'})


def _copy_needed_sheets(source: Path, target: Path, needed: set[str]) -> None:
    """Copy the workbook without the sheets no formula can reach (the engine loads every sheet it
    is given, and a workbook with plan sheets written back into it is mostly plan).

    A sheet is kept when it holds a cell to compute, or its name appears in a kept sheet's formula
    or in a workbook-level defined name; sheet-scoped names (print areas) are dropped with the sheets.
    """
    from model.io.package import open_package, parse_part, workbook_part

    with zipfile.ZipFile(source) as archive:
        package = open_package(archive)
        book = workbook_part(archive)
        root = parse_part(archive, book)
        texts = {entry.title: [_unescape(m.group(1).decode("utf-8", "replace")).upper() for m in _FORMULA.finditer(
            archive.read(entry.part))] if entry.part else [] for entry in package.sheets}
        names = [el.text or "" for el in root.iter("{*}definedName") if el.get("localSheetId") is None]
        keep = {title for title in texts if title in needed}
        spelled = {title: (title.upper() + "!", "'" + title.upper().replace("'", "''") + "'!") for title in texts}
        frontier = [name.upper() for name in names] + [text for title in keep for text in texts[title]]
        while frontier:
            if any(_THREE_D.search(text) for text in frontier):
                keep = set(texts)  # Sheet1:Sheet3!A1 spans sheets by position: keep them all
                break
            grown = {title for title in texts if title not in keep and any(
                mark in text for mark in spelled[title] for text in frontier)}
            keep |= grown
            frontier = [text for title in grown for text in texts[title]]
        if len(keep) == len(texts):
            shutil.copyfile(source, target)
            return
        for sheets in root.iter("{*}sheets"):
            for sheet in list(sheets):
                if sheet.get("name") not in keep:
                    sheets.remove(sheet)
        for name in list(root.iter("{*}definedName")):
            if name.get("localSheetId") is not None:
                name.getparent().remove(name)
        for view in root.iter("{*}workbookView"):
            view.set("activeTab", "0")
            view.set("firstSheet", "0")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True) \
                    if info.filename == book else archive.read(info)
                out.writestr(info.filename, data)


def _ref(key: CellKey) -> str:
    title, letters, row = key
    return "'[{}]{}'!{}{}".format(BOOK, title.upper().replace("'", "''"), letters, row)


def _unknown_functions(formulas: Any, text: str, not_implemented: Any) -> str | None:
    """Why the engine cannot compute `text`, or None. The function table is only loaded for a
    formula that calls a function (loading it imports scipy.stats: about 2 s)."""
    try:
        tokens, _ = formulas.Parser().ast(text)
    except Exception as exc:  # noqa: BLE001 - a formula the parser rejects
        return f"the formula engine cannot parse it ({' '.join(str(exc).split())[:100]})"
    for token in tokens:
        if type(token).__name__ == "Range" and "[" in str(getattr(token, "name", "")):
            return "it refers to another workbook or to a table by name, which the engine does not read"
        if type(token).__name__ != "Function":
            continue
        known = formulas.get_functions()  # cached by the engine after the first call
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
