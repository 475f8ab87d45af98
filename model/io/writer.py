"""Write tidy tables to a readable .xlsx: one sheet per table, frozen bold header, filters,
number formats and widths. Every text cell is written as text (never a formula), and the file
is written atomically: a crash leaves the previous output as it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from model.io.atomic import write_atomically

EXCEL_MAX_ROWS = 1_048_576
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")

SHARE_COLUMNS = {"share", "china_share", "china_cap", "min_share", "max_share", "utilisation"}
INTEGER_COLUMNS = {"period", "row", "simplex_iterations", "variables", "constraints"}


def number_format(column: str) -> str:
    if column in SHARE_COLUMNS or column.startswith("share_") or column.endswith("_share"):
        return "0.0%"
    if column in INTEGER_COLUMNS:
        return "0"
    return "#,##0.00"


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


def fill_sheet(ws, table: pd.DataFrame) -> None:
    """Write `table` into the empty worksheet `ws` with the house formatting."""
    columns = [str(c) for c in table.columns]
    ws.append(columns)
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    formats = [number_format(c) for c in columns]
    for record in table.itertuples(index=False, name=None):
        ws.append([cell_value(v) for v in record])
    for col_idx, column in enumerate(columns, start=1):
        fmt = formats[col_idx - 1]
        width = len(column)
        for (cell,) in ws.iter_rows(min_row=2, min_col=col_idx, max_col=col_idx):
            if isinstance(cell.value, str):
                cell.data_type = "s"  # literal text: '=...' is never a formula here
                width = max(width, min(len(cell.value), 60))
            elif isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
                width = max(width, 12)
        ws.column_dimensions[get_column_letter(col_idx)].width = width + 2
    ws.freeze_panes = "A2"
    if len(table):
        ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{len(table) + 1}"


def build_workbook(tables: dict[str, pd.DataFrame]) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for name, table in tables.items():
        if len(table) + 1 > EXCEL_MAX_ROWS:
            raise ValueError(f"table {name} has {len(table)} rows, more than an Excel sheet holds")
        fill_sheet(wb.create_sheet(title=name[:31]), table)
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
    """Write a solved plan: the contract sheets, then the analyst's extras."""
    from model.io.plan_style import decorate_plan

    write_tables(plan.tables, path, inputs=inputs, decorate=decorate_plan)
