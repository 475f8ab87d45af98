"""Write batch workbooks: long tables, native openpyxl charts, and Parquet for what Excel cannot hold.

A table longer than an Excel sheet (1,048,576 rows with the header) is written in full to
`<output stem>.<sheet>.parquet` next to the workbook, and its sheet then holds one row saying where.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font

from model.io.atomic import write_atomically
from model.io.writer import EXCEL_MAX_ROWS, write_tables

MAX_SHEET_ROWS = (
    EXCEL_MAX_ROWS - 1
)  # data rows under the header (module constant so tests can shrink it)


@dataclass(frozen=True)
class Chart:
    """A native chart of `y` columns against `x` on `sheet`, placed at `anchor` on that sheet."""

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


def spill_to_parquet(tables: dict[str, pd.DataFrame], output: Path) -> dict[str, Path]:
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
        write_atomically(target, lambda h, f=frame: f.to_parquet(h, index=False), suffixes=(".parquet",))
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
    extra: Callable[[Workbook, dict[str, pd.DataFrame]], None] | None = None,
) -> dict[str, Path]:
    """Write `tables` (in order) with `charts`, plus a README sheet of `notes` (sheet, text).

    Returns the Parquet files written for tables longer than a sheet."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tables = dict(tables)
    spilled = spill_to_parquet(tables, output)
    notes = list(notes) + [(name, f"full table in {path}") for name, path in spilled.items()]

    def decorate(wb: Workbook, written: dict[str, pd.DataFrame]) -> None:
        for chart in charts:
            if chart.sheet in spilled:
                continue
            add_chart(wb, written, chart)
        if extra is not None:
            extra(wb, written)
        ws = wb.create_sheet("README")
        ws.append(["sheet", "note"])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for sheet, text in notes:
            ws.append([sheet, text])
            for cell in ws[ws.max_row]:
                cell.data_type = "s"
        ws.column_dimensions["A"].width = 16
        ws.column_dimensions["B"].width = 110

    write_tables(tables, output, inputs=list(inputs), decorate=decorate)
    return spilled


def add_chart(wb: Workbook, tables: dict[str, pd.DataFrame], spec: Chart) -> None:
    table = tables.get(spec.sheet)
    if table is None or table.empty or spec.sheet not in wb.sheetnames:
        return
    cols = list(table.columns)
    if spec.x not in cols or any(y not in cols for y in spec.y):
        return
    ws = wb[spec.sheet]
    first, last = spec.rows if spec.rows else (2, len(table) + 1)
    chart = BarChart() if spec.kind == "bar" else LineChart()
    chart.title = spec.title
    chart.y_axis.title = spec.y_title
    chart.x_axis.title = spec.x_title or spec.x
    chart.height, chart.width = 8, 16
    for y in spec.y:
        ci = cols.index(y) + 1
        data = Reference(ws, min_col=ci, min_row=first, max_row=last)
        chart.add_data(data, titles_from_data=False)
        chart.series[-1].tx = None
        from openpyxl.chart.series import SeriesLabel

        chart.series[-1].tx = SeriesLabel(v=y)
    xi = cols.index(spec.x) + 1
    chart.set_categories(Reference(ws, min_col=xi, min_row=first, max_row=last))
    # openpyxl >= 3.1 hides axes unless told otherwise
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    anchor = spec.anchor or f"{_col_letter(len(cols) + 2)}2"
    ws.add_chart(chart, anchor)


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


# ------------------------------------------------------------------ the batch workbook

TOP_MOVES = (
    10  # flows listed per scenario in Diff (largest cost moves, then largest quantity moves)
)


def comparison_table(results, base_key: str = "base") -> pd.DataFrame:
    """One row per scenario, base first: status, costs and their change, shortfall, China shares."""
    base = next((r for r in results if r.key == base_key), None)
    base_cost = base.total_cost if base is not None else float("nan")
    base_obj = base.objective if base is not None else float("nan")
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
            "total_cost": r.total_cost,
            "delta_cost": r.total_cost - base_cost,
            "objective": r.objective,
            "delta_objective": r.objective - base_obj,
            "shortfall_total": r.shortfall_total,
        }
        for code in codes:
            row[f"china_share_{code}"] = r.china_share.get(code, float("nan"))
            if getattr(r, "content_share", None):  # issue 13: the any-stage share beside the direct one
                row[f"any_stage_share_{code}"] = r.content_share.get(code, float("nan"))
        row["solve_seconds"] = round(r.solve_seconds, 4)
        row["seconds"] = round(r.seconds, 4)
        row["model_pass"] = r.model_pass
        row["error"] = r.error
        rows.append(row)
    return pd.DataFrame(rows)


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
        b = base_flows[cols] if len(base_flows) else pd.DataFrame(columns=cols)
        s = flows[cols] if len(flows) else pd.DataFrame(columns=cols)
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
