"""Write a solved plan with XlsxWriter in constant-memory mode: the same sheets, number formats,
widths, frozen headers, filters, highlights, native charts and README as the openpyxl path, several
times faster (benchmarks/README.md) and with memory that does not grow with the plan.

Chosen by measurement: openpyxl builds every cell as a Python object and serialises them at save;
XlsxWriter streams each row to disk as it is written. Rows are therefore written strictly in
order, top to bottom, one sheet after another. A table's data rows skip XlsxWriter's per-cell
dispatch: they are rendered a column at a time as row XML into its row stream (rows_xml.py,
~10x cheaper a cell). Column formats come from the declarations in model/schema.py; only
row-dependent formats (Summary values, Sensitivity shares) are per cell. Text is always written
as text: `strings_to_formulas` and `strings_to_urls` are off, and row XML never holds a formula.

Tables longer than an Excel sheet (`--detail full` on a very large workbook) go to Parquet beside
the plan; the sheet then says where.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import xlsxwriter

from model.arrow import to_parquet
from model.io.atomic import write_atomically
from model.io.charts import DATA_COL, china_vs_cap, supply_by_source
from model.io.plan_style import HEADLINES, PERCENT_MEASURES, readme_detail
from model.io.rows_xml import CHUNK_ROWS, FastZipWorkbook, RowBlockSheet, render_column, row_numbers
from model.io.writer import (
    EXCEL_MAX_ROWS,
    MAX_WIDTH,
    OVERVIEW_ROWS,
    _shown_width,
    column_formats,
    declaration,
)
from model.schema import NUMBER_FORMATS, OUTPUTS, SUMMARY_METRICS, OutputSheet

HIGHLIGHTS = {  # sheet -> (column, formula on row {r}, colour): rules on columns, not static fills
    "ChinaShare": ("binding", "=${col}{r}=TRUE", "#F8CBAD"),
    "ChinaContent": ("binding", "=${col}{r}=TRUE", "#F8CBAD"),
    "Shortfalls": ("quantity", "=${col}{r}>0", "#FF9999"),
    "Capacity": ("utilisation", "=${col}{r}>=0.999999", "#FFE699"),
    "Sensitivity": ("cost_change", '=AND(ISNUMBER(${col}{r}),${col}{r}<>0,$A{r}<>"unit cost",'
                    '$A{r}<>"delivered cost")', "#F8CBAD"),
    "Overview": ("shortfall", "=${col}{r}>0", "#FF9999"),
}


class _Book:
    """One XlsxWriter workbook with the house formats, created once each."""

    def __init__(self, handle: BinaryIO):
        self.wb = FastZipWorkbook(handle, {
            "constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "nan_inf_to_errors": False})
        self.wb.worksheet_class = RowBlockSheet  # every sheet takes pre-rendered rows (rows_xml.py)
        self._formats: dict[str, Any] = {}
        self.header = self.wb.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F3864",
                                          "valign": "vcenter"})
        self.bold = self.wb.add_format({"bold": True})
        self.title = self.wb.add_format({"bold": True, "font_size": 13})
        self.italic = self.wb.add_format({"italic": True})

    def fmt(self, number_format: str):
        if number_format not in self._formats:
            self._formats[number_format] = self.wb.add_format({"num_format": number_format})
        return self._formats[number_format]

    def fill(self, color: str):
        key = f"fill:{color}"
        if key not in self._formats:
            self._formats[key] = self.wb.add_format({"bg_color": color})
        return self._formats[key]


def _row_styles(book: _Book, name: str, table: pd.DataFrame) -> dict[int, list[str]]:
    """Column position -> the ` s="N"` of each row's number cell, for the columns whose format
    depends on the row (Summary's value by metric, Sensitivity's value and level by measure)."""
    cols = list(table.columns)

    def style(number_format: str) -> str:
        return f' s="{book.fmt(number_format)._get_xf_index()}"'

    if name == "Summary" and "metric" in cols and "value" in cols:
        by_metric = {m: style(NUMBER_FORMATS[SUMMARY_METRICS.get(m, ("number",))[0]])
                     for m in table["metric"].unique().tolist()}
        return {cols.index("value"): [by_metric[m] for m in table["metric"].tolist()]}
    if name == "Sensitivity" and "measure" in cols:
        pct = table["measure"].isin(PERCENT_MEASURES).to_numpy()
        styles = np.where(pct, style(NUMBER_FORMATS["share"]), style(NUMBER_FORMATS["number"])).tolist()
        return {cols.index(c): styles for c in ("value", "level") if c in cols}
    return {}


def _write_rows(ws: RowBlockSheet, first_row: int, table: pd.DataFrame,
                row_styles: dict[int, list[str]]) -> None:
    """The table's data rows from 0-based `first_row`, rendered a column at a time in chunks
    (rows_xml.py): each cell styled by its column's format, or by `row_styles` for numbers."""
    series = [table.iloc[:, j] for j in range(table.shape[1])]  # once: iloc costs ~0.2 ms a call
    styles = [ws.column_style(j) for j in range(len(series))]
    for lo in range(0, len(table), CHUNK_ROWS):
        hi = min(lo + CHUNK_ROWS, len(table))
        whole = lo == 0 and hi == len(table)
        rows = row_numbers(first_row + lo, hi - lo)
        ws.write_cell_columns(first_row + lo, [
            render_column(col if whole else col.iloc[lo:hi], j, rows, styles[j],
                          row_styles[j][lo:hi] if j in row_styles else None)
            for j, col in enumerate(series)])


def _write_table(book: _Book, ws, name: str, table: pd.DataFrame, start: int = 0,
                 spec: OutputSheet | None = None) -> None:
    """The table from row `start` (0-based): header, then rows in order; widths fitted, header
    frozen, filters on. Formats by `spec`, else by the declaration of the sheet named `name`."""
    spec = spec if spec is not None else declaration(name)
    columns = [str(c) for c in table.columns]
    formats = column_formats(table, spec)
    per_row = _row_styles(book, name, table)
    for j, column in enumerate(columns):
        shown = _shown_width(table.iloc[:, j], formats[j]) if len(table) else 0
        if j in per_row:
            shown = max(shown, 20)
        width = min(max(len(column), shown), MAX_WIDTH) + 3
        ws.set_column(j, j, width, book.fmt(formats[j]) if formats[j] != "@" else None)
    ws.write_row(start, 0, columns, book.header)
    _write_rows(ws, start + 1, table, per_row)
    ws.freeze_panes(start + 1, 0)
    if len(table) and columns:
        ws.autofilter(start, 0, start + len(table), len(columns) - 1)
    rule = HIGHLIGHTS.get(name)
    if rule and len(table) and rule[0] in columns:
        col = xlsxwriter.utility.xl_col_to_name(columns.index(rule[0]))
        first = start + 2  # the first data row, 1-based
        ws.conditional_format(start + 1, 0, start + len(table), len(columns) - 1, {
            "type": "formula", "criteria": rule[1].format(col=col, r=first), "format": book.fill(rule[2])})


def _headline(book: _Book, ws, tables: dict[str, pd.DataFrame]) -> None:
    """The Overview's first rows: what the plan costs, what the caps cost, what is short."""
    summary = tables["Summary"].set_index("metric")["value"] if "Summary" in tables else pd.Series(dtype=object)
    cur = str(summary.get("currency", ""))
    ws.write_string(0, 0, f"The plan at a glance (status: {summary.get('status', '')}; money in bn {cur}; "
                    "quantities per commodity in its own unit, all periods together)", book.title)
    r = 1
    for label, metric, fmt in HEADLINES:
        if metric not in summary.index:
            continue
        value = summary[metric]
        ws.write_string(r, 0, label, book.bold)
        if value is not None and not (isinstance(value, float) and math.isnan(value)):
            ws.write_number(r, 3, float(value), book.fmt(NUMBER_FORMATS[fmt]))
        if fmt == "money_bn":
            ws.write_string(r, 4, cur)
        r += 1
    ws.write_string(OVERVIEW_ROWS - 2, 0, "Where each commodity comes from (top sources by share of supply to "
                    "non-China destinations); Charts has the shares by period.", book.italic)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _charts(book: _Book, tables: dict[str, pd.DataFrame]) -> bool:
    """The Charts sheet: shares by source per commodity (100% stacked) and, per period, the China
    share against its cap (a red mark per bar). One unit per chart: %."""
    supply = supply_by_source(tables.get("Shares"))
    china = china_vs_cap(tables.get("ChinaShare")) or []
    if supply is None and not china:
        return False
    ws = book.wb.add_worksheet("Charts")
    ws.write_string(0, 0, "Charts: drawn from the data block starting in column N (real cells; edit and the "
                    "charts follow).", book.bold)
    pct = book.fmt("0.0%")
    blocks = ([supply] if supply is not None else []) + list(china)
    row, anchor = 2, 2
    c0 = DATA_COL - 1  # 0-based
    for k, (title, frame) in enumerate(blocks):
        ws.write_string(row, c0, title, book.bold)
        top = row + 1
        ws.write_row(top, c0, [str(c) for c in frame.columns], book.bold)
        for i, rec in enumerate(frame.itertuples(index=False, name=None), start=1):
            ws.write_string(top + i, c0, str(rec[0]))
            for j, v in enumerate(rec[1:], start=1):
                ws.write_number(top + i, c0 + j, float(v), pct)
        bottom = top + len(frame)
        cats = ["Charts", top + 1, c0, bottom, c0]
        if k == 0 and supply is not None:
            chart = book.wb.add_chart({"type": "bar", "subtype": "percent_stacked"})
            for j in range(1, frame.shape[1]):
                chart.add_series({"name": ["Charts", top, c0 + j], "categories": cats,
                                  "values": ["Charts", top + 1, c0 + j, bottom, c0 + j]})
            chart.set_y_axis({"name": "share of supply (%)", "num_format": "0%"})
            height = max(288, 24 * len(frame) + 80)
        else:
            chart = book.wb.add_chart({"type": "column"})
            chart.add_series({"name": ["Charts", top, c0 + 1], "categories": cats,
                              "values": ["Charts", top + 1, c0 + 1, bottom, c0 + 1],
                              "fill": {"color": "#8EA9DB"}})
            cap = book.wb.add_chart({"type": "line"})
            cap.add_series({"name": ["Charts", top, c0 + 2], "categories": cats,
                            "values": ["Charts", top + 1, c0 + 2, bottom, c0 + 2], "line": {"none": True},
                            "marker": {"type": "dash", "size": 20, "fill": {"color": "#C00000"},
                                       "border": {"color": "#C00000"}}})
            chart.combine(cap)
            chart.set_y_axis({"name": "share of supply to non-China destinations (%)", "num_format": "0%"})
            height = 340
        chart.set_title({"name": title})
        chart.set_size({"width": 820, "height": height})
        ws.insert_chart(anchor, 0, chart)
        anchor += int(height / 20) + 2
        row = bottom + 3
    ws.set_column(c0, c0, 18)
    return True


def _readme(book: _Book, tables: dict[str, pd.DataFrame], sheets: list[str]) -> None:
    ws = book.wb.add_worksheet("README")
    ws.set_column(0, 0, 16)
    ws.set_column(1, 1, 34)
    ws.set_column(2, 2, 100)
    ws.set_column(3, 3, 24)
    ws.write_row(0, 0, ["sheet", "column", "meaning", "unit"], book.bold)
    detail = readme_detail(tables)
    r = 1
    for sheet in sheets:
        spec = OUTPUTS.get(sheet)
        ws.write_row(r, 0, [sheet, "", spec.help if spec is not None else "", ""])
        r += 1
        if sheet in detail:
            ws.write_row(r, 0, [sheet, "", detail[sheet], ""])
            r += 1
        for column in tables[sheet].columns if sheet in tables else []:
            try:
                col = spec.column(str(column)) if spec is not None else None
            except KeyError:
                col = None
            ws.write_row(r, 0, [sheet, str(column), col.help if col is not None else "",
                                col.unit if col is not None else ""])
            r += 1
    if "Summary" in tables:
        for metric in tables["Summary"]["metric"]:
            _, unit, meaning = SUMMARY_METRICS.get(metric, ("", "", ""))
            ws.write_row(r, 0, ["Summary", f"metric {metric}", meaning, unit])
            r += 1
    ws.freeze_panes(1, 0)


def open_book(handle: BinaryIO) -> _Book:
    """A workbook with the house formats, streaming rows to `handle` (for batch workbooks too)."""
    return _Book(handle)


def write_table(book: _Book, ws, name: str, table: pd.DataFrame, spec: OutputSheet | None = None) -> None:
    """One table on its own sheet, formatted by `spec` (or the declaration named `name`)."""
    _write_table(book, ws, name, table, spec=spec)


def _parquet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """Parquet wants one type per column: a text column holding numbers too is written as text."""
    mixed = {c: "str" for c in table.columns if table[c].dtype == object
             and not table[c].map(lambda v: v is None or isinstance(v, str)).all()}
    return table.astype(mixed) if mixed else table


def write_plan_fast(tables: dict[str, pd.DataFrame], path: Path, *, inputs: Sequence[Path] = ()) -> None:
    """Write the plan's tables to `path` atomically (README last, Charts after Summary)."""
    tables = {name: tables[name] for name in tables}
    spilled: dict[str, Path] = {}
    for name, table in tables.items():
        start = OVERVIEW_ROWS if name == "Overview" else 0
        if len(table) + start + 1 > EXCEL_MAX_ROWS:
            target = path.with_name(f"{path.stem}.{name}.parquet")
            write_atomically(target, lambda out, t=table: to_parquet(_parquet_safe(t), out),
                             inputs=inputs, suffixes=(".parquet",), create_folder=True)
            spilled[name] = target

    def write(handle: BinaryIO) -> None:
        book = _Book(handle)
        sheets: list[str] = []
        for name, table in tables.items():
            ws = book.wb.add_worksheet(name[:31])
            sheets.append(name)
            if name in spilled:
                ws.write_string(0, 0, f"{len(table):,} rows: more than an Excel sheet holds; written to "
                                f"{spilled[name].name} beside this workbook (Parquet, same columns).", book.bold)
                continue
            if name == "Overview":
                _headline(book, ws, tables)
                _write_table(book, ws, name, table, start=OVERVIEW_ROWS)
            else:
                _write_table(book, ws, name, table)
            if name == "Summary" and _charts(book, tables):
                sheets.append("Charts")
        _readme(book, tables, sheets)
        book.wb.close()

    # the folder is created only once the output is accepted (model/io/atomic.py)
    write_atomically(path, write, inputs=inputs, suffixes=(".xlsx",), create_folder=True)
