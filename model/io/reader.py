"""Read the contract sheets of a workbook into raw tables that remember every cell's address.

The worksheets are streamed straight from the zip with lxml (model/io/sheetxml.py): 100,000 rows
read in about a second, only the cells present in the file touched, every promise below kept.

Policies (docs/what_happens_when.md):
* Sheet and column names match case-insensitively, ignoring surrounding spaces and treating
  spaces and hyphens as underscores; extra sheets and columns are ignored. A chart sheet named
  like a contract sheet is skipped with a message naming it. Hidden sheets are read.
* The header is the first row that names at least one of the sheet's columns, so title rows
  (and rows holding only invisible characters) above it are skipped. When none of the first
  HEADER_SEARCH_ROWS non-blank rows names one, the first non-blank row is the header.
* Fully blank rows are skipped anywhere (trailing formatted rows included); hidden rows are data.
* The `<dimension>` record is not trusted: every row in the sheet is read.
* A row numbered 0, twice, or out of order in the file's XML (never written by Excel) is an
  error naming the row: no row is dropped or merged silently.
* Two headers naming the same contract column is an error naming both columns.
* Merged cells: only the top-left cell of a merged range holds a value. A data row whose contract
  cell lies under a merge (not its top-left) is an error naming the range, once per range (unmerge
  and fill every cell); merges in other columns or over otherwise blank rows are ignored, and a
  merged header names only its top-left column.
* Formula cells: the value Excel last calculated is used. A formula with no saved value (files
  written by scripts), and every formula of a file that asks to be recalculated on load (its saved
  values are placeholders), is computed by the formula engine (model/io/compute.py); one it cannot
  compute is an error naming the cell and the reason, never read as blank or zero.
* Error cells (`#REF!`, `#N/A`...) are errors naming the cell.
* Strict OOXML files are read like any other.
"""

from __future__ import annotations

import bisect
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from model.errors import InputError, Problem
from model.io import guard
from model.io.cells import _SPACES, is_blank
from model.io.compute import Failure, compute
from model.io.package import DTDForbidden, Package, SheetEntry, open_package
from model.io.sheetxml import (
    EXCEL_MAX_ROWS,
    ErrorCell,
    NoValue,
    Placeholder,
    SheetStream,
    TooFarError,
    _letters,
)
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET, Sheet

CONTRACT_SHEETS: tuple[Sheet, ...] = (*INPUT_SHEETS, SCENARIOS_SHEET)
MAX_SPANNED_CELLS = 50_000_000  # cells present in one sheet (1M rows x 50 columns)
HEADER_SEARCH_ROWS = 20  # non-blank rows searched for the header (title rows above it)
MAX_ORDER_PROBLEMS = 5  # row-numbering problems named per sheet
# invisible characters a "blank-looking" cell may hold above the header (zero-width, BOM, fillers)
_INVISIBLE = re.compile(r"[\s\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u2028-\u202f\u205f-\u206f\u3164"
                        r"\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]+")

__all__ = ["EXCEL_MAX_ROWS", "RawTable", "is_error_cell", "normalise_name", "read_workbook", "zip_names"]

_ErrorCell = ErrorCell  # the name parsers knew


@dataclass
class RawTable:
    """The contract columns of one sheet as raw cell values, with Excel row numbers."""

    sheet: str  # the contract name
    title: str  # the sheet's name in the file
    columns: dict[str, str]  # contract column -> column letter
    rows: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)


# (contract sheet, sheet title, row, column letter, contract column, formula text)
_Pending = tuple[str, str, int, str, str, NoValue]


def normalise_name(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip()).lower()


def read_workbook(path: Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Read every contract sheet present in the workbook. Missing sheets are the parser's concern.

    Every sheet is read whatever problems another has, so one run names every problem.
    """
    path = Path(path)
    guard.check_input_file(path)
    problems: list[Problem] = []
    tables: dict[str, RawTable] = {}
    pending: list[_Pending] = []
    where = [""]  # the sheet being read, for a message if the file turns out damaged
    spec_name = ""
    try:
        with zipfile.ZipFile(path) as archive:
            package = open_package(archive)
            entries = _match_sheets(package.sheets, problems)
            for spec in CONTRACT_SHEETS:
                entry = entries.get(normalise_name(spec.name))
                if entry is None:
                    continue
                spec_name = spec.name
                if entry.kind != "worksheet" or entry.part is None:
                    problems.append(_not_a_worksheet(spec, entry))
                    continue
                where[0] = f"sheet '{entry.title}'"
                tables[spec.name] = _read_sheet(package, entry, spec, problems, pending, where)
    except InputError:
        raise
    except TooFarError as exc:
        raise InputError([Problem(spec_name, None, None, None,
                                  f"{where[0]} has {exc}; the file was not saved by Excel and cannot be read")]
                         ) from None
    except DTDForbidden as exc:
        raise InputError(guard.explain_open_error(path, exc)) from None
    except etree.XMLSyntaxError as exc:
        if "entit" in str(exc).lower():  # the parser met an entity the pre-parse scan did not (defence in depth)
            raise InputError(guard.explain_open_error(path, DTDForbidden(str(exc)))) from None
        raise InputError(f"{guard.shown(path.name)}: {where[0] or 'the workbook'} is damaged and cannot be read "
                         f"({_plain(exc)})") from None
    except Exception as exc:  # a malformed part found while streaming rows
        raise InputError(f"{guard.shown(path.name)}: {where[0] or 'the workbook'} is damaged and cannot be read "
                         f"({_plain(exc)})") from None
    if pending:
        _compute_formulas(path, tables, pending, problems)
    return tables, problems


def _plain(exc: Exception) -> str:
    return f"{type(exc).__name__}: {guard.one_line(exc, 180)}"


def _match_sheets(sheets: list[SheetEntry], problems: list[Problem]) -> dict[str, SheetEntry]:
    """Contract name -> the sheet read for it; worksheets win over chart sheets of the same name."""
    found: dict[str, SheetEntry] = {}
    wanted = {normalise_name(s.name): s.name for s in CONTRACT_SHEETS}
    for entry in sheets:
        key = normalise_name(entry.title)
        if key not in wanted:
            continue
        previous = found.get(key)
        if previous is None:
            found[key] = entry
        elif previous.kind != "worksheet" and entry.kind == "worksheet":
            found[key] = entry  # the chart sheet is simply another sheet
        elif entry.kind == "worksheet":
            problems.append(Problem(wanted[key], None, None, None,
                                    f"two sheets are named like this ('{previous.title}' and '{entry.title}'); "
                                    "rename or delete one"))
    return found


def _not_a_worksheet(spec: Sheet, entry: SheetEntry) -> Problem:
    if entry.kind == "chartsheet":
        what = "a chart sheet (it holds a chart, not cells)"
    elif entry.part is None:
        what = "listed in the workbook but its part is missing from the file"
    else:
        what = f"a {entry.kind} (not a worksheet of cells)"
    return Problem(spec.name, None, None, None,
                   f"sheet '{entry.title}' is {what}, so it is skipped; rename it, and put the "
                   f"{spec.name} table on a worksheet named '{spec.name}'")


def _looks_blank(value: Any) -> bool:
    """Blank, or text of spaces and invisible characters only (above the header)."""
    if is_blank(value):
        return True
    return isinstance(value, str) and _INVISIBLE.sub("", value) == ""


def _read_sheet(package: Package, entry: SheetEntry, spec: Sheet, problems: list[Problem],
                pending: list[_Pending], where: list[str]) -> RawTable:
    stream = SheetStream(package, entry.part or "")
    wanted = {normalise_name(c): c for c in spec.column_names}
    table = RawTable(sheet=spec.name, title=entry.title, columns={})
    rows = iter(stream)
    searched: list[tuple[int, list]] = []
    header_cells: list | None = None
    header = 0
    for number, cells in rows:
        if stream.cells_seen > MAX_SPANNED_CELLS:
            _too_many_cells(spec, entry, number)
        if all(_looks_blank(value) for _, value, _ in cells):
            continue
        shown = [(col, v.saved if isinstance(v, Placeholder) else v, f) for col, v, f in cells]  # a header
        if any(isinstance(v, str) and normalise_name(v) in wanted for _, v, _ in shown):
            header, header_cells = number, shown
            break
        searched.append((number, cells))
        if len(searched) >= HEADER_SEARCH_ROWS:
            break
    if header_cells is None and searched:
        (header, header_cells), searched = searched[0], searched[1:]
    else:
        searched = []
    positions: dict[int, str] = {}  # column index -> contract column
    for col, value, _ in header_cells or ():
        if not isinstance(value, str) or is_blank(value):
            continue
        name = wanted.get(normalise_name(value))
        if name is None:
            continue
        letter = _letters(col)
        if name in table.columns:
            problems.append(Problem(spec.name, header, name, None,
                                    f"two header cells name this column ({table.columns[name]}{header} and "
                                    f"{letter}{header}); delete or rename one"))
            continue
        table.columns[name] = letter
        positions[col] = name
    table.values = {name: [] for name in table.columns}
    if positions:
        _read_data(stream, rows, searched, spec, entry, table, positions, problems, pending)
    else:
        for _ in rows:  # read to the end: row-numbering problems are still named
            if stream.cells_seen > MAX_SPANNED_CELLS:
                _too_many_cells(spec, entry, _)
    _report_order(stream, spec, problems)
    return table


def _too_many_cells(spec: Sheet, entry: SheetEntry, row: Any) -> None:
    raise InputError([Problem(spec.name, row if isinstance(row, int) else None, None, None,
                              f"sheet '{entry.title}' holds more than {MAX_SPANNED_CELLS:,} cells by this row "
                              "(cells far to the right or far down); delete the stray cells")])


def _read_data(stream: SheetStream, rows: Any, searched: list, spec: Sheet, entry: SheetEntry, table: RawTable,
               positions: dict[int, str], problems: list[Problem], pending: list[_Pending]) -> None:
    names = list(table.columns)
    values = table.values
    row_list = table.rows
    limit = MAX_SPANNED_CELLS

    def all_rows():
        yield from searched
        yield from rows

    for number, cells in all_rows():
        if stream.cells_seen > limit:
            _too_many_cells(spec, entry, number)
        row_values: dict[str, Any] = {}
        blank = True
        for col, value, formula in cells:
            name = positions.get(col)
            if name is None:
                continue
            kind = value.__class__
            if kind is str:
                if blank and value.strip(_SPACES):
                    blank = False
            elif value is None:
                pass
            elif kind is ErrorCell:
                blank = False
                letter = table.columns[name]
                text = ("is a formula whose result is an Excel error" if formula is not None
                        else "holds an Excel error")
                problems.append(Problem(spec.name, number, name, str(value), f"cell {letter}{number} {text}"))
            elif isinstance(value, NoValue):
                blank = False
                pending.append((spec.name, entry.title, number, table.columns[name], name, value))
            else:
                blank = False
            row_values[name] = value
        if blank:
            continue
        row_list.append(number)
        for name in names:
            values[name].append(row_values.get(name))
    if stream.merges and row_list:
        _check_merges(stream.merges, spec, table, positions, problems)


def _check_merges(merges: list[str], spec: Sheet, table: RawTable, positions: dict[int, str],
                  problems: list[Problem]) -> None:
    """A contract cell under a merge (not its top-left) has no value of its own: name the range once."""
    from openpyxl.utils import range_boundaries

    order = sorted((row, i) for i, row in enumerate(table.rows))
    keys = [row for row, _ in order]
    found: list[tuple[int, int, Problem]] = []
    for ref in dict.fromkeys(merges):
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except (ValueError, TypeError):
            continue
        if min_col is None or min_row is None:
            continue
        cols = [c for c in positions if min_col <= c <= max_col]
        if not cols:
            continue
        first: tuple[int, int] | None = None
        start = bisect.bisect_left(keys, min_row)
        for row, index in order[start:bisect.bisect_right(keys, max_row)]:
            for col in sorted(cols):
                if (row, col) == (min_row, min_col):
                    continue
                name = positions[col]
                table.values[name][index] = ErrorCell(ref)
                if first is None:
                    first = (row, col)
                    problems_entry = Problem(spec.name, row, name, None,
                                             f"cell {table.columns[name]}{row} is inside the merged cells {ref}, "
                                             "so it has no value of its own; unmerge them and fill every cell")
                    found.append((row, col, problems_entry))
    problems.extend(p for _, _, p in sorted(found, key=lambda item: item[:2]))


def _report_order(stream: SheetStream, spec: Sheet, problems: list[Problem]) -> None:
    found = stream.order_problems
    for item in found[:MAX_ORDER_PROBLEMS]:
        problems.append(Problem(spec.name, item.row or None, None, None,
                                f"{item.message}, which Excel never writes (the file was made by another "
                                "program); rows could be lost or doubled, so open and save it in Excel or "
                                "LibreOffice"))
    if len(found) > MAX_ORDER_PROBLEMS:
        problems.append(Problem(spec.name, None, None, None,
                                f"{len(found) - MAX_ORDER_PROBLEMS:,} more rows are numbered out of order"))


def _compute_formulas(path: Path, tables: dict[str, RawTable], pending: list[_Pending],
                      problems: list[Problem]) -> None:
    """Replace each formula without a trustworthy saved value by its computed value, or name it."""
    cells = {(title, letter, row): str(formula) for _, title, row, letter, _, formula in pending}
    results = compute(path, cells)
    indexes = {name: {row: i for i, row in enumerate(table.rows)} for name, table in tables.items()}
    for sheet, title, row, letter, name, formula in pending:
        index = indexes[sheet].get(row)
        if index is None:
            continue
        value = results.get((title, letter, row), Failure("the formula engine returned no value for it"))
        if isinstance(value, Failure):
            if value.error is not None:
                problems.append(Problem(sheet, row, name, value.error,
                                        f"cell {letter}{row} is a formula whose result is an Excel error"))
            else:
                what = ("whose saved value is a placeholder (the file asks to be recalculated when opened)"
                        if isinstance(formula, Placeholder) else "with no saved value")
                problems.append(Problem(sheet, row, name, str(formula),
                                        f"cell {letter}{row} is a formula {what} that cannot be computed "
                                        f"({value.reason}); open and save the file in Excel or LibreOffice, "
                                        "or type the value"))
            value = ErrorCell(str(formula))
        tables[sheet].values[name][index] = value


def is_error_cell(value: Any) -> bool:
    return isinstance(value, ErrorCell)


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()
