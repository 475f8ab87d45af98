"""Read the contract sheets of a workbook into raw tables that remember every cell's address.

Policies (README "What happens when"):
* Sheet and column names match case-insensitively, ignoring surrounding spaces and treating
  spaces and hyphens as underscores; extra sheets and columns are ignored.
* The header is the first non-blank row of a sheet. Fully blank rows are skipped anywhere
  (trailing formatted rows included); hidden rows are data like any other.
* The `<dimension>` record is not trusted: every row in the sheet is read.
* Two headers naming the same contract column is an error naming both columns.
* Merged cells: only the top-left cell of a merged range holds a value. A data row whose contract
  cell lies under a merge (not its top-left) is an error naming the range, once per range (unmerge
  and fill every cell); merges in other columns or over otherwise blank rows are ignored, and a
  merged header names only its top-left column.
* Formula cells: the value Excel last calculated is used; a formula with no cached value (files
  written by tools other than Excel) is an error naming the cell, never read as blank or zero.
* Error cells (`#REF!`, `#N/A`...) are errors naming the cell.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries

from model.errors import InputError, Problem
from model.io import guard
from model.io.cells import is_blank
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET, Sheet

CONTRACT_SHEETS: tuple[Sheet, ...] = (*INPUT_SHEETS, SCENARIOS_SHEET)
EXCEL_MAX_ROWS = 1_048_576
MAX_SPANNED_CELLS = 50_000_000  # row width x rows walked per sheet (1M rows x 50 columns)


@dataclass
class RawTable:
    """The contract columns of one sheet as raw cell values, with Excel row numbers."""

    sheet: str  # the contract name
    title: str  # the sheet's name in the file
    columns: dict[str, str]  # contract column -> column letter
    rows: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)


def normalise_name(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip()).lower()


def read_workbook(path: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every contract sheet present in the workbook. Missing sheets are the parser's concern."""
    guard.check_input_file(path)
    wb = _open(path, data_only=False)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    formula_cells: dict[str, list[tuple[str, int, str, str]]] = {}
    where = [""]  # the sheet and row being read, for a message if the file turns out damaged
    try:
        titles = _match_sheets(wb.sheetnames, problems)
        for spec in CONTRACT_SHEETS:
            title = titles.get(normalise_name(spec.name))
            if title is None:
                continue
            where[0] = f"sheet '{title}'"
            table, formulas = _read_sheet(wb[title], spec, problems, where)
            tables[spec.name] = table
            if formulas:
                formula_cells[spec.name] = formulas
    except InputError:
        raise
    except Exception as exc:  # a malformed part found while streaming rows
        raise InputError(f"{path.name}: {where[0] or 'the workbook'} is damaged and cannot be read "
                         f"({_plain(exc)})") from None
    finally:
        wb.close()
    if formula_cells:
        _fill_cached_values(path, tables, formula_cells, problems)
    return tables, problems


def _open(path: Path, *, data_only: bool) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions it drops
            return openpyxl.load_workbook(path, read_only=True, data_only=data_only, keep_links=False)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(guard.explain_open_error(path, exc)) from None


def _plain(exc: Exception) -> str:
    return f"{type(exc).__name__}: {guard.one_line(exc, 180)}"


def _match_sheets(titles: list[str], problems: list[Problem]) -> dict[str, str]:
    found: dict[str, str] = {}
    wanted = {normalise_name(s.name) for s in CONTRACT_SHEETS}
    for title in titles:
        key = normalise_name(title)
        if key not in wanted:
            continue
        if key in found:
            problems.append(Problem(title, None, None, None,
                                    f"two sheets are named like this ('{found[key]}' and '{title}'); "
                                    "rename or delete one"))
            continue
        found[key] = title
    return found


def _read_sheet(ws: Any, spec: Sheet, problems: list[Problem], where: list[str]):
    ws.reset_dimensions()  # never trust the <dimension> record
    covered = _merged_cells(ws)
    reported: set[str] = set()
    wanted = {normalise_name(c): c for c in spec.column_names}
    table = RawTable(sheet=spec.name, title=ws.title, columns={})
    positions: dict[str, int] = {}
    formulas: list[tuple[str, int, str, str]] = []
    # read-only iter_rows yields every row from 1 in order (missing rows as empty tuples), so the
    # position is the Excel row number even where a row holds no cell we read
    source = ws.iter_rows()
    header = 0
    for row_number, cells in _bounded_rows(ws, spec, source, 1):
        where[0] = f"sheet '{ws.title}' after row {row_number}"
        if all(is_blank(getattr(c, "value", None)) for c in cells):
            continue
        header = row_number
        for idx, cell in enumerate(cells):
            if is_blank(cell.value):
                continue
            name = wanted.get(normalise_name(cell.value))
            if name is None:
                continue
            letter = get_column_letter(idx + 1)
            if name in table.columns:
                problems.append(Problem(spec.name, row_number, name, None,
                                        f"two header cells name this column ({table.columns[name]}"
                                        f"{row_number} and {letter}{row_number}); delete or rename one"))
                continue
            table.columns[name] = letter
            positions[name] = idx
        break
    source.close()  # releases the worksheet part opened by the header search
    table.values = {name: [] for name in table.columns}
    if not positions:
        return table, formulas
    # data rows: only as wide as the contract columns, however far right other cells reach
    width = max(positions.values()) + 1
    gap = None  # openpyxl fills missing rows with one shared tuple of empty cells: skip it at once
    for row_number, cells in _bounded_rows(ws, spec, ws.iter_rows(min_row=header + 1, max_col=width), header + 1):
        if cells is gap:
            continue
        if all(c is EMPTY_CELL for c in cells):
            gap = cells
            continue
        where[0] = f"sheet '{ws.title}' after row {row_number}"
        row_values: dict[str, Any] = {}
        for name, idx in positions.items():
            cell = cells[idx] if idx < len(cells) else None
            value = getattr(cell, "value", None)
            dtype = getattr(cell, "data_type", None)
            if dtype == "e":
                problems.append(Problem(spec.name, row_number, name, value,
                                        f"cell {table.columns[name]}{row_number} holds an Excel error"))
                value = _ErrorCell(str(value))
            elif dtype == "f":
                text = getattr(value, "text", value)  # array formulas carry their text in .text
                formulas.append((name, row_number, table.columns[name], str(text)))
            row_values[name] = value
        if all(is_blank(v) for v in row_values.values()):
            continue
        if covered:
            for name, idx in positions.items():
                merged = covered.get((row_number, idx + 1))
                if merged is None:
                    continue
                if merged not in reported:
                    reported.add(merged)
                    problems.append(Problem(spec.name, row_number, name, None,
                                            f"cell {table.columns[name]}{row_number} is inside the merged cells "
                                            f"{merged}, so it has no value of its own; unmerge them and fill "
                                            "every cell"))
                row_values[name] = _ErrorCell(merged)  # reported once per range, not again as blank
        table.rows.append(row_number)
        for name in table.columns:
            table.values[name].append(row_values.get(name))
    return table, formulas


_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]{1,3}[0-9]{1,7}:[A-Za-z]{1,3}[0-9]{1,7})\"")
_MERGE_TAIL = 200
MAX_MERGED_CELLS = 1_000_000  # covered cells tracked per sheet; beyond this the ranges are ignored


def _merged_cells(ws: Any) -> dict[tuple[int, int], str]:
    """(row, column) of every cell hidden under a merge (all but the top-left) -> its range.

    openpyxl's read-only mode does not report merged ranges, so the `<mergeCell ref=...>`
    records are found by one streaming scan of the worksheet part. If the private attributes
    this needs ever disappear, merged cells simply read as blank (the previous policy).
    """
    archive = getattr(getattr(ws, "parent", None), "_archive", None)
    part = getattr(ws, "_worksheet_path", None)
    if archive is None or part is None:
        return {}
    covered: dict[tuple[int, int], str] = {}
    tail = b""
    with archive.open(part) as source:
        while chunk := source.read(1 << 20):
            window = tail + chunk
            for match in _MERGE.finditer(window):
                if match.end() <= len(tail):
                    continue  # seen in the previous window
                ref = match.group(1).decode().upper()
                min_col, min_row, max_col, max_row = range_boundaries(ref)
                if (max_row - min_row + 1) * (max_col - min_col + 1) + len(covered) > MAX_MERGED_CELLS:
                    continue
                for row in range(min_row, max_row + 1):
                    for col in range(min_col, max_col + 1):
                        if (row, col) != (min_row, min_col):
                            covered[(row, col)] = ref
            tail = window[-_MERGE_TAIL:]
    return covered


def _bounded_rows(ws: Any, spec: Sheet, rows: Any, first: int):
    """Number the rows and stop crafted sheets that would take forever to walk: a row numbered
    beyond Excel's last row, or more than MAX_SPANNED_CELLS cells spanned in all."""
    spanned = 0
    for row_number, cells in enumerate(rows, start=first):
        if row_number > EXCEL_MAX_ROWS:
            raise InputError([Problem(spec.name, None, None, None,
                                      f"sheet '{ws.title}' has rows numbered beyond Excel's last row "
                                      f"({EXCEL_MAX_ROWS:,}); the file was not saved by Excel and cannot be read")])
        spanned += len(cells)
        if spanned > MAX_SPANNED_CELLS:
            raise InputError([Problem(spec.name, row_number, None, None,
                                      f"sheet '{ws.title}' spans more than {MAX_SPANNED_CELLS:,} cells by this "
                                      "row (cells far to the right or far down); delete the stray cells")])
        yield row_number, cells


class _ErrorCell(str):
    """An Excel error value (#REF!...), already reported; parsers must not read it as data."""


def _fill_cached_values(path: Path, tables: dict[str, RawTable],
                        formula_cells: dict[str, list[tuple[str, int, str, str]]],
                        problems: list[Problem]) -> None:
    """Replace formulas by the values Excel cached for them; name formulas that have none.

    One streaming pass per sheet that holds formulas (read-only random access would re-parse the
    sheet for every cell), over the rows from the first to the last formula only.
    """
    wb = _open(path, data_only=True)
    try:
        for sheet, cells in formula_cells.items():
            table = tables[sheet]
            ws = wb[table.title]
            ws.reset_dimensions()
            index = {row: i for i, row in enumerate(table.rows)}
            by_row: dict[int, list[tuple[str, int, str, str]]] = {}
            for item in cells:
                by_row.setdefault(item[1], []).append(item)
            first, last = min(by_row), max(by_row)
            width = max(column_index_from_string(item[2]) for item in cells)
            for row, row_cells in enumerate(ws.iter_rows(min_row=first, max_row=last, max_col=width), start=first):
                for name, _, letter, formula in by_row.get(row, ()):
                    idx = column_index_from_string(letter) - 1
                    cell = row_cells[idx] if idx < len(row_cells) else None
                    cached = getattr(cell, "value", None)
                    if cached is None:
                        problems.append(Problem(sheet, row, name, formula,
                                                f"cell {letter}{row} is a formula with no saved value (the file "
                                                "was written by a program that does not calculate); open and "
                                                "save it in Excel or LibreOffice, or type the value"))
                        cached = _ErrorCell(formula)
                    elif getattr(cell, "data_type", None) == "e":
                        problems.append(Problem(sheet, row, name, cached,
                                                f"cell {letter}{row} is a formula whose result is an Excel error"))
                        cached = _ErrorCell(str(cached))
                    if row in index:
                        table.values[name][index[row]] = cached
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path.name}: the workbook is damaged and cannot be read ({_plain(exc)})") from None
    finally:
        wb.close()


def is_error_cell(value: Any) -> bool:
    return isinstance(value, _ErrorCell)


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()
