"""Native Excel charts on a `Charts` sheet. Each chart reads a small data block written on the same
sheet (to the right of the charts), so the chart data are real cells an analyst can inspect.

1. Supply to non-China destinations by source country, one bar per commodity, 100% stacked:
   the top sources by quantity (all periods together), the rest grouped as "Other".
2. China group's share against its cap, per capped commodity and period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # openpyxl only where an openpyxl workbook gets its charts
    from openpyxl import Workbook

TOP_SOURCES = 3  # per commodity: a source among the top 3 of any commodity is its own series
MAX_SERIES = 24  # at most this many named series; the rest are "Other"
MAX_CAP_BARS = 60  # categories per China chart (one chart per period)
DATA_COL = 14  # column N: the chart data start here (charts sit in A..M)


def add_charts(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """Add the Charts sheet (second in the workbook) when the plan has anything to chart."""
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.chart.shapes import GraphicalProperties
    from openpyxl.styles import Font

    supply = supply_by_source(tables.get("Shares"))
    china = china_vs_cap(tables.get("ChinaShare"))
    if supply is None and china is None:
        return
    ws = wb.create_sheet("Charts")
    target = wb.sheetnames.index("Summary") + 1 if "Summary" in wb.sheetnames else 1
    wb.move_sheet(ws, offset=target - (len(wb.sheetnames) - 1))  # right after Summary
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
        chart.y_axis.title = "share of supply (%)"
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
    for title, frame in china or []:
        top, bottom = _write_block(ws, row, title, frame)
        row = bottom + 3
        chart = BarChart()
        chart.type = "col"
        chart.grouping = "clustered"
        chart.title = title
        chart.y_axis.title = "share of supply to non-China destinations (%)"
        chart.y_axis.number_format = "0%"
        chart.add_data(Reference(ws, min_col=DATA_COL + 1, min_row=top, max_row=bottom), titles_from_data=True)
        cats = Reference(ws, min_col=DATA_COL, min_row=top + 1, max_row=bottom)
        chart.set_categories(cats)
        chart.series[0].graphicalProperties.solidFill = "8EA9DB"  # the share: a pale bar
        cap = LineChart()
        cap.add_data(Reference(ws, min_col=DATA_COL + 2, min_row=top, max_row=bottom), titles_from_data=True)
        cap.set_categories(cats)
        marker = cap.series[0].marker
        marker.symbol = "dash"
        marker.size = 20
        marker.graphicalProperties = GraphicalProperties(solidFill="C00000")  # the cap: a red bar mark
        marker.graphicalProperties.line.solidFill = "C00000"
        cap.series[0].graphicalProperties.line.noFill = True  # the cap as a marker per bar
        chart += cap
        _axes_visible(chart)
        chart.width = 22
        chart.height = 9
        ws.add_chart(chart, f"A{anchor_row}")
        anchor_row += int(chart.height * 2) + 2
    ws.column_dimensions["N"].width = 18


def supply_by_source(shares: pd.DataFrame | None) -> tuple[str, pd.DataFrame] | None:
    """commodity x source quantities (all periods); a source is its own series when it is among the
    top TOP_SOURCES of any commodity (so chips keep Taiwan, Korea, Japan and the US), the rest 'Other'.
    The chart is 100% stacked: one unit (% of each commodity's supply), never units added together."""
    if shares is None or shares.empty:
        return None
    q = shares.groupby(["commodity", "source"], sort=False)["quantity"].sum().reset_index()
    rank = q.groupby("commodity")["quantity"].rank(ascending=False, method="first")
    weight = q[rank <= TOP_SOURCES].groupby("source")["quantity"].count().sort_values(ascending=False, kind="stable")
    top = list(weight.index[:MAX_SERIES])
    q["series"] = q["source"].where(q["source"].isin(top), "Other")
    wide = q.pivot_table(index="commodity", columns="series", values="quantity", aggfunc="sum", fill_value=0.0,
                         sort=False)
    cols = [c for c in top if c in wide.columns] + (["Other"] if "Other" in wide.columns else [])
    wide = wide[cols]
    wide = wide.div(wide.sum(axis=1).where(lambda v: v > 0, 1.0), axis=0).reset_index()  # shares, one unit
    periods = shares["period"].nunique()
    when = "all periods" if periods > 1 else f"{shares['period'].iloc[0]}"
    title = f"Share of supply to non-China destinations by source ({when})"
    return title, wide


def china_vs_cap(china: pd.DataFrame | None) -> list[tuple[str, pd.DataFrame]] | None:
    """One (title, frame) per period: China share and cap per capped commodity (every period reachable)."""
    if china is None or china.empty or "china_cap" not in china.columns:
        return None
    c = china[china["china_cap"].notna()]
    if c.empty:
        return None
    out = []
    for period, part in c.groupby("period", sort=True):
        part = part.head(MAX_CAP_BARS)
        frame = pd.DataFrame({"commodity": part["commodity"].astype(str).to_numpy(),
                              "China share": part["china_share"].fillna(0.0).to_numpy(),
                              "cap": part["china_cap"].to_numpy(dtype=float)})
        out.append((f"China share against its cap, {period}", frame))
    return out


def _write_block(ws, row: int, title: str, frame: pd.DataFrame) -> tuple[int, int]:
    """Write `frame` with a title line at (row, DATA_COL); return (header row, last row)."""
    from openpyxl.styles import Font

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
            else:
                cell.number_format = "0.0%"  # every charted figure is a share
    return top, top + len(frame)


def _axes_visible(chart) -> None:
    """openpyxl >= 3.1 marks axes deleted unless told; Excel then draws no axis labels."""
    for axis in (chart.x_axis, chart.y_axis):
        axis.delete = False
