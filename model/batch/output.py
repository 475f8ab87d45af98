"""Write batch workbooks: long tables, native charts, and Parquet for what Excel cannot hold.

Written by XlsxWriter in constant-memory mode through the plan writer's machinery
(model/io/xlsx_plan.py): rows stream to disk in order, formats come from the declarations in
model/schema.py (`long_form_sheet` for the long-form plan sheets, `batch_column` for per-commodity
columns), text is never a formula, NaN and inf are blank cells. openpyxl wrote these cell by cell:
a 365-scenario batch spent most of its time writing (benchmarks/README.md).

A table longer than an Excel sheet (1,048,576 rows with the header) is written in full to
`<output stem>.<sheet>.parquet` next to the workbook, and its sheet then holds one row saying where.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

from model.arrow import to_parquet
from model.io.atomic import write_atomically
from model.io.writer import EXCEL_MAX_ROWS, declaration
from model.io.xlsx_plan import open_book, write_table
from model.schema import BATCH_LONG_FORM, OutputSheet, batch_column, long_form_sheet

MAX_SHEET_ROWS = (
    EXCEL_MAX_ROWS - 1
)  # data rows under the header (module constant so tests can shrink it)

CHART_SIZE = {"width": 605, "height": 302}  # 16 x 8 cm, as the openpyxl charts were


@dataclass(frozen=True)
class Chart:
    """A native chart of `y` columns against `x` on `sheet`, placed at `anchor` on that sheet.

    `y_format` is the value axis' number format; by default a chart of currency columns (declared
    `money`) shows its axis in bn (or m) so labels read 2,000bn rather than 2,000,000,000,000."""

    sheet: str
    kind: str  # "bar" or "line"
    title: str
    x: str
    y: tuple[str, ...]
    y_title: str = ""
    x_title: str = ""
    anchor: str | None = None
    rows: tuple[int, int] | None = (
        None  # 1-based data rows (inclusive) when a sheet holds several series
    )
    y_format: str | None = None
    currency: bool | None = None  # None: currency when every y column is declared money


def sheet_spec(name: str) -> OutputSheet | None:
    """The declaration a batch sheet is formatted by: the long-form plan sheets have `scenario` first."""
    return long_form_sheet(name) if name in BATCH_LONG_FORM else declaration(name)


def currency_axis_format(values: np.ndarray) -> str:
    """A readable value-axis format for currency: bn, m or whole units by the largest magnitude."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    big = float(np.abs(v).max()) if len(v) else 0.0
    if big >= 1e9:
        return '#,##0.0,,,"bn"' if big < 1e10 else '#,##0,,,"bn"'
    if big >= 1e6:
        return '#,##0.0,,"m"' if big < 1e7 else '#,##0,,"m"'
    return "#,##0"


def spill_to_parquet(tables: dict[str, pd.DataFrame], output: Path,
                     inputs: Sequence[Path] = ()) -> dict[str, Path]:
    """Move tables too long for a sheet to Parquet; their sheet keeps one row pointing at the file."""
    spilled: dict[str, Path] = {}
    for name, table in list(tables.items()):
        if len(table) <= MAX_SHEET_ROWS:
            continue
        target = output.with_name(f"{output.stem}.{name}.parquet")
        frame = table.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: None if v is None else str(v))
        write_atomically(target, lambda h, f=frame: to_parquet(f, h), inputs=inputs,
                         suffixes=(".parquet",), create_folder=True)
        spilled[name] = target
        tables[name] = pd.DataFrame(
            {
                "note": [
                    f"{len(table):,} rows: more than an Excel sheet holds; the full table is in Parquet"
                ],
                "parquet_file": [str(target)],
            }
        )
    return spilled


def write_batch(
    tables: dict[str, pd.DataFrame],
    output: Path,
    *,
    inputs: Sequence[Path] = (),
    charts: Sequence[Chart] = (),
    notes: Sequence[tuple[str, str]] = (),
) -> dict[str, Path]:
    """Write `tables` (in order) with `charts`, plus a README sheet of `notes` (sheet, text).

    Returns the Parquet files written for tables longer than a sheet."""
    output = Path(output)
    tables = dict(tables)
    spilled = spill_to_parquet(tables, output, inputs)
    notes = list(notes) + [(name, f"full table in {path}") for name, path in spilled.items()]

    def write(handle: BinaryIO) -> None:
        book = open_book(handle)
        sheets = {}
        for name, table in tables.items():
            ws = book.wb.add_worksheet(name[:31])
            sheets[name] = ws
            write_table(book, ws, name, table, None if name in spilled else sheet_spec(name))
        for chart in charts:
            if chart.sheet in spilled or chart.sheet not in sheets:
                continue
            add_chart(book, sheets[chart.sheet], tables, chart)
        ws = book.wb.add_worksheet("README")
        ws.set_column(0, 0, 16)
        ws.set_column(1, 1, 110)
        ws.write_row(0, 0, ["sheet", "note"], book.bold)
        for r, (sheet, text) in enumerate(notes, start=1):
            ws.write_string(r, 0, str(sheet))
            ws.write_string(r, 1, str(text))
        ws.freeze_panes(1, 0)
        book.wb.close()

    # the folder is created only once the output is accepted (model/io/atomic.py)
    write_atomically(output, write, inputs=list(inputs), suffixes=(".xlsx",), create_folder=True)
    return spilled


def _is_currency(spec: Chart, sheet: OutputSheet | None) -> bool:
    if spec.currency is not None:
        return spec.currency
    if sheet is None:
        return False
    try:
        return all(batch_column(sheet, y).format in ("money", "money_bn") for y in spec.y)
    except KeyError:
        return False


def add_chart(book, ws, tables: dict[str, pd.DataFrame], spec: Chart) -> None:
    """A native XlsxWriter chart of `spec` on the sheet `ws` (already holding its table)."""
    table = tables.get(spec.sheet)
    if table is None or table.empty:
        return
    cols = list(table.columns)
    if spec.x not in cols or any(y not in cols for y in spec.y):
        return
    first, last = spec.rows if spec.rows else (2, len(table) + 1)
    name = ws.get_name()
    chart = book.wb.add_chart({"type": "column" if spec.kind == "bar" else "line"})
    xi = cols.index(spec.x)
    for y in spec.y:
        ci = cols.index(y)
        chart.add_series({
            "name": y,
            "categories": [name, first - 1, xi, last - 1, xi],
            "values": [name, first - 1, ci, last - 1, ci],
        })
    chart.set_title({"name": spec.title})
    x_axis = {"name": spec.x_title or spec.x}
    sheet = sheet_spec(spec.sheet)
    try:
        if sheet is not None and batch_column(sheet, spec.x).format == "share":
            x_axis["num_format"] = "0%"  # a cap of 0.6 reads 60%
    except KeyError:
        pass
    chart.set_x_axis(x_axis)
    y_axis = {"name": spec.y_title}
    y_format = spec.y_format
    if y_format is None and _is_currency(spec, sheet):
        values = table[list(spec.y)].iloc[first - 2:last - 1].to_numpy(dtype=float, na_value=np.nan)
        y_format = currency_axis_format(values)
    if y_format:
        y_axis["num_format"] = y_format
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom"} if len(spec.y) > 1 else {"none": True})
    # long category labels are drawn slanted below the plot: give them room instead of the plot
    labels = table[spec.x].iloc[first - 2:last - 1].map(str)
    longest = int(labels.str.len().max()) if len(labels) else 0
    chart.set_size({**CHART_SIZE, "height": CHART_SIZE["height"] + min(6 * max(longest - 10, 0), 240)})
    anchor = spec.anchor or xl_rowcol_to_cell(1, len(cols) + 1)
    row, col = xl_cell_to_rowcol(anchor)
    ws.insert_chart(row, col, chart)


# ------------------------------------------------------------------ the batch workbook

TOP_MOVES = (
    10  # flows listed per scenario in Diff (largest cost moves, then largest quantity moves)
)


def comparison_table(results, base_key: str = "base") -> pd.DataFrame:
    """One row per scenario, base first. It leads with the objective and the value of unmet demand
    (currency) and their change against base: total_cost alone leaves out unmet demand, so a
    disruption that cuts supply would read as a saving. China shares per commodity follow."""
    base = next((r for r in results if r.key == base_key), None)
    nan = float("nan")
    ref = {name: (getattr(base, name) if base is not None else nan)
           for name in ("objective", "shortfall_value", "total_cost")}
    codes: list[str] = []
    for r in results:
        for code in r.china_share:
            if code not in codes:
                codes.append(code)
    rows = []
    for r in results:
        row = {
            "scenario": r.key,
            "status": r.status,
            "objective": r.objective,
            "delta_objective": r.objective - ref["objective"],
            "shortfall_value": r.shortfall_value,
            "delta_shortfall_value": r.shortfall_value - ref["shortfall_value"],
            "total_cost": r.total_cost,
            "delta_cost": r.total_cost - ref["total_cost"],
            "risk_cost": r.risk_cost,
            "shortfall_total": r.shortfall_total,
        }
        for code in codes:
            row[f"china_share_{code}"] = r.china_share.get(code, float("nan"))
        if getattr(r, "content_share", None):  # issue 13: the any-stage shares after the direct ones
            for code in codes:
                row[f"any_stage_share_{code}"] = r.content_share.get(code, float("nan"))
        row["solve_seconds"] = round(r.solve_seconds, 4)
        row["seconds"] = round(r.seconds, 4)
        row["model_pass"] = r.model_pass
        row["error"] = r.error
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else COMPARISON_FIXED)


COMPARISON_FIXED = ["scenario", "status", "objective", "delta_objective", "shortfall_value",
                    "delta_shortfall_value", "total_cost", "delta_cost", "risk_cost",
                    "shortfall_total", "solve_seconds", "seconds", "model_pass", "error"]

SHORTFALL_BY_COMMODITY_COLUMNS = ["scenario", "commodity", "unit", "shortfall", "delta_shortfall",
                                  "shortfall_value", "delta_shortfall_value"]


def shortfall_by_commodity_table(results, units: dict[str, str], base_key: str = "base") -> pd.DataFrame:
    """Unmet demand per scenario and commodity, each in its own unit (never added across units),
    with its value at the shortfall penalty (currency). Only commodities short in the scenario or
    in base are listed."""
    base = next((r for r in results if r.key == base_key), None)
    rows = []
    for r in results:
        if r.error or not r.shortfall_by_commodity:
            continue
        for code, qty in r.shortfall_by_commodity.items():
            b_qty = base.shortfall_by_commodity.get(code, 0.0) if base is not None else float("nan")
            if qty <= 0 and not b_qty > 0:
                continue
            value = r.shortfall_value_by_commodity.get(code, float("nan"))
            b_value = (base.shortfall_value_by_commodity.get(code, 0.0) if base is not None
                       else float("nan"))
            rows.append({"scenario": r.key, "commodity": code, "unit": units.get(code, ""),
                         "shortfall": qty, "delta_shortfall": qty - b_qty,
                         "shortfall_value": value, "delta_shortfall_value": value - b_value})
    return pd.DataFrame(rows, columns=SHORTFALL_BY_COMMODITY_COLUMNS)


def commodity_units(data) -> dict[str, str]:
    """Commodities.unit by code (blank when the workbook leaves it out)."""
    com = data["Commodities"]
    if "unit" not in com.columns:
        return {}
    return {str(k): ("" if v is None or (isinstance(v, float) and v != v) else str(v))
            for k, v in zip(com["code"], com["unit"], strict=True)}


def long_tables(
    results, names: Sequence[str] = ("Flows", "Shares", "ChinaShare", "Shortfalls")
) -> dict:
    out = {}
    for name in names:
        parts = [
            r.tables[name].assign(scenario=r.key)
            for r in results
            if name in r.tables and len(r.tables[name])
        ]
        if parts:
            table = pd.concat(parts, ignore_index=True)
            out[name] = table[["scenario", *[c for c in table.columns if c != "scenario"]]]
        else:
            out[name] = pd.DataFrame({"scenario": pd.Series([], dtype=object)})
    return out


DIFF_COLUMNS = ["scenario", "kind", "sheet", "row", "column", "item", "old", "new", "change"]


def _by_key(flows: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    """Flows summed per key (quantity and cost), in first-seen order."""
    return flows.groupby(key, as_index=False, sort=False, dropna=False)[["quantity", "cost"]].sum()


def diff_table(results, base_key: str = "base", top: int = TOP_MOVES) -> pd.DataFrame:
    """Per scenario: every input cell its overrides changed, then its largest flow and cost moves."""
    base = next((r for r in results if r.key == base_key), None)
    base_flows = base.tables.get("Flows") if base is not None else None
    key = ["period", "commodity", "origin", "destination"]
    rows: list[dict] = []
    for r in results:
        if r.key == base_key:
            continue
        if r.changes is not None:
            for c in r.changes.itertuples(index=False):
                change = (c.new - c.old) if _numbers(c.old, c.new) else None
                rows.append(
                    {
                        "scenario": r.key,
                        "kind": "input",
                        "sheet": c.sheet,
                        "row": c.row,
                        "column": c.column,
                        "item": f"Scenarios row {c.scenarios_row}",
                        "old": _text_or_number(c.old),
                        "new": _text_or_number(c.new),
                        "change": change,
                    }
                )
        flows = r.tables.get("Flows")
        if flows is None or base_flows is None or not len(base_flows) and not len(flows):
            continue
        cols = [*key, "quantity", "cost"]
        # a project's output shares its key with the same country's Supply flow (issue 12): one
        # row per key, summed, before the merge
        b = _by_key(base_flows[cols], key) if len(base_flows) else pd.DataFrame(columns=cols)
        s = _by_key(flows[cols], key) if len(flows) else pd.DataFrame(columns=cols)
        m = b.merge(s, how="outer", on=key, suffixes=("_old", "_new"))
        for c in ("quantity", "cost"):
            m[f"{c}_old"] = m[f"{c}_old"].astype(float).fillna(0.0)
            m[f"{c}_new"] = m[f"{c}_new"].astype(float).fillna(0.0)
            m[f"d_{c}"] = m[f"{c}_new"] - m[f"{c}_old"]
        m = m[(m["d_quantity"].abs() > 1e-9) | (m["d_cost"].abs() > 1e-9)]
        by_cost = m.reindex(
            m["d_cost"].abs().sort_values(ascending=False, kind="stable").index
        ).head(top)
        by_qty = m.reindex(
            m["d_quantity"].abs().sort_values(ascending=False, kind="stable").index
        ).head(top)
        for kind, part, col in (
            ("flow cost", by_cost, "cost"),
            ("flow quantity", by_qty, "quantity"),
        ):
            for f in part.itertuples(index=False):
                rows.append(
                    {
                        "scenario": r.key,
                        "kind": kind,
                        "sheet": "Flows",
                        "row": None,
                        "column": col,
                        "item": f"{int(f.period)} {f.commodity} {f.origin}->{f.destination}",
                        "old": getattr(f, f"{col}_old"),
                        "new": getattr(f, f"{col}_new"),
                        "change": getattr(f, f"d_{col}"),
                    }
                )
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def _numbers(a, b) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))


def _text_or_number(v):
    if v is None or isinstance(v, (int, float)):
        return v
    return str(v)
