"""Native Excel charts on a `Charts` sheet. Each chart reads a small data block written on the same
sheet (to the right of the charts), so the chart data are real cells an analyst can inspect.

1. Supply to non-China destinations by source country, one bar per commodity, 100% stacked:
   the top sources by quantity (all periods together), the rest grouped as "Other".
2. China group's share against its cap, per capped commodity and period.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font

TOP_SOURCES = 7  # series in the supply chart; the rest are "Other"
MAX_CAP_BARS = 40  # categories in the China chart; more: only the first period is charted
DATA_COL = 14  # column N: the chart data start here (charts sit in A..M)


def add_charts(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """Add the Charts sheet (second in the workbook) when the plan has anything to chart."""
    supply = supply_by_source(tables.get("Shares"))
    china = china_vs_cap(tables.get("ChinaShare"))
    if supply is None and china is None:
        return
    ws = wb.create_sheet("Charts")
    wb.move_sheet(ws, offset=-(len(wb.sheetnames) - 2))  # right after Summary
    ws["A1"] = "Charts: drawn from the data block starting in column N (real cells; edit and the charts follow)."
    ws["A1"].font = Font(bold=True)
    row = 3
    anchor_row = 3
    if supply is not None:
        title, frame = supply
        top, bottom = _write_block(ws, row, title, frame)
        chart = BarChart()
        chart.type = "bar"
        chart.grouping = "percentStacked"
        chart.overlap = 100
        chart.title = title
        chart.y_axis.title = "share of supply"
        chart.y_axis.number_format = "0%"
        data = Reference(ws, min_col=DATA_COL + 1, max_col=DATA_COL + frame.shape[1] - 1, min_row=top,
                         max_row=bottom)
        cats = Reference(ws, min_col=DATA_COL, min_row=top + 1, max_row=bottom)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(cats)
        _axes_visible(chart)
        chart.height = max(7.5, 1.0 + 0.6 * len(frame))
        chart.width = 22
        ws.add_chart(chart, f"A{anchor_row}")
        anchor_row += int(chart.height * 2) + 3
        row = bottom + 3
    if china is not None:
        title, frame = china
        top, bottom = _write_block(ws, row, title, frame)
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
        chart.title = title
        chart.y_axis.title = "share of supply to non-China destinations"
        chart.y_axis.number_format = "0%"
        chart.add_data(Reference(ws, min_col=DATA_COL + 1, min_row=top, max_row=bottom), titles_from_data=True)
        cats = Reference(ws, min_col=DATA_COL, min_row=top + 1, max_row=bottom)
        chart.set_categories(cats)
        cap = LineChart()
        cap.add_data(Reference(ws, min_col=DATA_COL + 2, min_row=top, max_row=bottom), titles_from_data=True)
        cap.set_categories(cats)
        cap.series[0].marker.symbol = "dash"
        cap.series[0].marker.size = 12
        cap.series[0].graphicalProperties.line.noFill = True  # the cap as a marker per bar
        chart += cap
        _axes_visible(chart)
        chart.width = 22
        chart.height = 9
        ws.add_chart(chart, f"A{anchor_row}")
    ws.column_dimensions["N"].width = 18


def supply_by_source(shares: pd.DataFrame | None) -> tuple[str, pd.DataFrame] | None:
    """commodity x source quantities (all periods), top sources as columns, the rest 'Other'."""
    if shares is None or shares.empty:
        return None
    q = shares.groupby(["commodity", "source"])["quantity"].sum().reset_index()
    totals = q.groupby("source")["quantity"].sum().sort_values(ascending=False, kind="stable")
    top = list(totals.index[:TOP_SOURCES])
    q["series"] = q["source"].where(q["source"].isin(top), "Other")
    wide = q.pivot_table(index="commodity", columns="series", values="quantity", aggfunc="sum", fill_value=0.0)
    cols = [c for c in top if c in wide.columns] + (["Other"] if "Other" in wide.columns else [])
    wide = wide[cols].reset_index()
    periods = shares["period"].nunique()
    when = "all periods" if periods > 1 else f"{shares['period'].iloc[0]}"
    title = f"Supply to non-China destinations by source ({when})"
    return title, wide


def china_vs_cap(china: pd.DataFrame | None) -> tuple[str, pd.DataFrame] | None:
    if china is None or china.empty or "china_cap" not in china.columns:
        return None
    c = china[china["china_cap"].notna()]
    if c.empty:
        return None
    title = "China share against its cap"
    if len(c) > MAX_CAP_BARS:
        first = c["period"].min()
        c = c[c["period"] == first].head(MAX_CAP_BARS)
        title += f" ({first})"
    label = c["commodity"].astype(str) + (" " + c["period"].astype(str) if c["period"].nunique() > 1 else "")
    frame = pd.DataFrame({"commodity": label.to_numpy(), "China share": c["china_share"].fillna(0.0).to_numpy(),
                          "cap": c["china_cap"].to_numpy(dtype=float)})
    return title, frame


def _write_block(ws, row: int, title: str, frame: pd.DataFrame) -> tuple[int, int]:
    """Write `frame` with a title line at (row, DATA_COL); return (header row, last row)."""
    ws.cell(row=row, column=DATA_COL, value=title).font = Font(bold=True)
    top = row + 1
    for j, name in enumerate(frame.columns):
        cell = ws.cell(row=top, column=DATA_COL + j, value=str(name))
        cell.font = Font(bold=True)
        cell.data_type = "s"
    for i, record in enumerate(frame.itertuples(index=False, name=None), start=1):
        for j, value in enumerate(record):
            cell = ws.cell(row=top + i, column=DATA_COL + j, value=value if j else str(value))
            if j == 0:
                cell.data_type = "s"
            elif "share" in str(frame.columns[j]).lower() or frame.columns[j] == "cap":
                cell.number_format = "0.0%"
            else:
                cell.number_format = "#,##0.00"
    return top, top + len(frame)


def _axes_visible(chart) -> None:
    """openpyxl >= 3.1 marks axes deleted unless told; Excel then draws no axis labels."""
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False
