"""Write tidy tables to a readable .xlsx: one sheet per table, frozen bold header, filters,
number formats and widths. Every text cell is written as text (never a formula), and the file
is written atomically: a crash leaves the previous output as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from model.formulation.families import FAMILIES, PERCENT_FAMILIES
from model.io.atomic import write_atomically
from model.schema import NUMBER_FORMATS, OUTPUTS, SUMMARY_METRICS, OutputSheet, batch_column

if TYPE_CHECKING:  # openpyxl is imported by the functions that write through it, not by write_plan
    from openpyxl import Workbook

OVERVIEW_ROWS = 13  # the Overview's headline block: title, len(plan_style.HEADLINES) lines, note, blank

EXCEL_MAX_ROWS = 1_048_576
HEADER_FILL_COLOR, HEADER_FONT_COLOR = "1F3864", "FFFFFF"

SHARE_COLUMNS = {"share", "china_share", "china_cap", "min_share", "max_share", "utilisation"}
INTEGER_COLUMNS = {"row", "simplex_iterations", "variables", "constraints", "rank", "runs", "count"}
MAX_WIDTH = 60
PREFIXES = ("Plan ",)  # write-back names plan sheets "Plan <sheet>"
TABLE_START_ROW = {"Overview": OVERVIEW_ROWS + 1}  # the front sheet's headline block sits above its table


def declaration(title: str) -> OutputSheet | None:
    """The declared output sheet behind a sheet title (write-back's `Plan ...` titles included)."""
    if title in OUTPUTS:
        return OUTPUTS[title]
    for prefix in PREFIXES:
        if title.startswith(prefix) and title[len(prefix):] in OUTPUTS:
            return OUTPUTS[title[len(prefix):]]
    return None


def number_format(column: str) -> str:
    """Fallback for undeclared tables only (declared ones format by OutputColumn.format)."""
    if column in SHARE_COLUMNS or column.startswith("share_") or column.endswith("_share"):
        return NUMBER_FORMATS["share"]
    if column in INTEGER_COLUMNS or column.endswith("_rank") or column.startswith("n_"):
        return NUMBER_FORMATS["integer"]
    if column == "period":
        return NUMBER_FORMATS["period"]
    return NUMBER_FORMATS["number"]


def column_formats(table: pd.DataFrame, spec: OutputSheet | None) -> list[str]:
    """The Excel number format of each column: by declaration, else by name."""
    out = []
    for column in (str(c) for c in table.columns):
        try:
            # batch_column: exact names, and per-commodity columns declared as `china_share_<CODE>`
            out.append(NUMBER_FORMATS[batch_column(spec, column).format] if spec is not None
                       else number_format(column))
        except KeyError:
            out.append(number_format(column))
    return out


def _shown_width(values: pd.Series, fmt: str) -> int:
    """About how many characters the widest value of a column shows with `fmt` (no ### at this width)."""
    if values.dtype == bool:  # shown as TRUE / FALSE; sized as str() spells them
        return 0 if not len(values) else 5 if not values.all() else 4
    if isinstance(values.dtype, pd.StringDtype):  # lengths computed by the string array itself
        widest = values.str.len().max()
        return 0 if pd.isna(widest) else int(widest)
    if values.dtype == object:
        # str() of each value only where the column is not all text: the widest of a large text
        # column is a C-level max over lengths, not a pandas map per value
        texts = values.dropna().tolist()
        if pd.api.types.infer_dtype(texts, skipna=False) != "string":
            texts = list(map(str, texts))
        return max(map(len, texts), default=0)
    if values.dtype.kind in "fiu":
        v = values.to_numpy(dtype=float, na_value=np.nan)
    else:
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return 0
    big = float(np.abs(v).max())
    if "%" in fmt:
        return len(f"{big * 100:,.1f}%") + 1
    if ",,," in fmt:
        return len(f"{big / 1e9:,.1f}bn") + 1
    decimals = 2 if ("0.00" in fmt and (big < 1000 or (v < 0).any())) else 0
    return len(f"{big:,.{decimals}f}") + (1 if (v < 0).any() else 0) + 1


def cell_value(value: Any) -> Any:
    """A value openpyxl can store: NaN and None become blank, numpy scalars plain Python."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def fill_sheet(ws, table: pd.DataFrame, spec: OutputSheet | None = None, *, start_row: int = 1) -> None:
    """Write `table` into the empty worksheet `ws` with the house formatting: formats and units by
    the sheet's declaration (model/schema.py; looked up by title when not given), widths fitted to
    what each column shows, header frozen, filters on."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    spec = spec if spec is not None else declaration(ws.title)
    columns = [str(c) for c in table.columns]
    for _ in range(start_row - 1):
        ws.append([])
    ws.append(columns)
    header_font = Font(bold=True, color=HEADER_FONT_COLOR)
    header_fill = PatternFill("solid", fgColor=HEADER_FILL_COLOR)
    for cell in ws[start_row]:
        cell.font = header_font
        cell.fill = header_fill
        cell.alignment = Alignment(vertical="center")
    formats = column_formats(table, spec)
    per_row = _row_formats(table, spec)
    for record in table.itertuples(index=False, name=None):
        ws.append([cell_value(v) for v in record])
    for col_idx, column in enumerate(columns, start=1):
        fmt = formats[col_idx - 1]
        rows = per_row.get(column)
        for i, (cell,) in enumerate(ws.iter_rows(min_row=start_row + 1, min_col=col_idx, max_col=col_idx)):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # literal text: '=...' is never a formula here
            elif isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = rows[i] if rows is not None else fmt
        shown = _shown_width(table.iloc[:, col_idx - 1], fmt) if len(table) else 0
        if rows is not None:
            shown = max(shown, 20)
        width = min(max(len(column), shown), MAX_WIDTH)
        ws.column_dimensions[get_column_letter(col_idx)].width = width + 3
    ws.freeze_panes = f"A{start_row + 1}"
    if len(table):
        ws.auto_filter.ref = f"A{start_row}:{get_column_letter(max(len(columns), 1))}{len(table) + start_row}"


def _row_formats(table: pd.DataFrame, spec: OutputSheet | None) -> dict[str, list[str]]:
    """Columns whose format depends on the row: the Summary's value (by metric) and Sensitivity's
    value and level (percentages for share limits)."""
    name = spec.name if spec is not None else ""
    if name == "Summary" and "metric" in table.columns:
        fmts = [NUMBER_FORMATS[SUMMARY_METRICS.get(m, ("number",))[0]] for m in table["metric"]]
        return {"value": fmts}
    if name == "Sensitivity" and "measure" in table.columns:
        pct = table["measure"].isin([FAMILIES[f].label for f in PERCENT_FAMILIES]).to_numpy()
        fmts = [NUMBER_FORMATS["share"] if p else NUMBER_FORMATS["number"] for p in pct]
        return {c: fmts for c in ("value", "level") if c in table.columns}
    return {}


def build_workbook(tables: dict[str, pd.DataFrame]) -> Workbook:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, table in tables.items():
        if len(table) + 1 > EXCEL_MAX_ROWS:
            raise ValueError(f"table {name} has {len(table)} rows, more than an Excel sheet holds")
        fill_sheet(wb.create_sheet(title=name[:31]), table, start_row=TABLE_START_ROW.get(name, 1))
    return wb


def write_tables(tables: dict[str, pd.DataFrame], path: Path, *, inputs: Sequence[Path] = (),
                 decorate: Callable[[Workbook, dict[str, pd.DataFrame]], None] | None = None) -> None:
    """Write `tables` to `path` atomically; `decorate` adds charts and highlights before saving."""
    wb = build_workbook(tables)
    if decorate is not None:
        decorate(wb, tables)
    # the folder is created only once the output is accepted (model/io/atomic.py)
    write_atomically(path, wb.save, inputs=inputs, suffixes=(".xlsx",), create_folder=True)


def write_plan(plan, path: Path, *, inputs: Sequence[Path] = ()) -> None:
    """Write a solved plan: Overview, the contract sheets, the analyst's extras, Charts and README.

    Through XlsxWriter in constant-memory mode (model/io/xlsx_plan.py), chosen by measurement
    (benchmarks/README.md); `write_tables` with `decorate_plan` is the openpyxl equivalent."""
    from model.io.xlsx_plan import write_plan_fast

    write_plan_fast(plan.tables, path, inputs=inputs)
