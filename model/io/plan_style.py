"""The analyst's reading aids on a plan workbook: the Overview's headline block, highlights,
charts and a README sheet generated from the declarations in model/schema.py.

Everything here reads the tables; nothing rewrites them. `write_plan` stays one call.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd

from model.formulation.families import FAMILIES, PERCENT_FAMILIES
from model.io.writer import OVERVIEW_ROWS
from model.schema import NUMBER_FORMATS, OUTPUTS, SUMMARY_METRICS

if TYPE_CHECKING:  # openpyxl only in the functions that decorate an openpyxl workbook
    from openpyxl import Workbook

AT_CAP = "F8CBAD"  # orange: a China share at its cap
SHORT = "FF9999"  # red: unmet demand
FULL = "FFE699"  # yellow: capacity used up


PERCENT_MEASURES = tuple(FAMILIES[f].label for f in PERCENT_FAMILIES)  # rows whose value is a share


def decorate_plan(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    from model.io.charts import add_charts

    headline(wb, tables)
    highlight(wb, tables)
    format_sensitivity(wb, tables)
    add_charts(wb, tables)
    add_readme(wb, tables)


HEADLINES = (  # (label, Summary metric, format) on the Overview, money in bn of the currency
    ("Plan cost (objective)", "objective", "money_bn"),
    ("Total cost (production, routes, investment, stocks)", "total_cost", "money_bn"),
    ("Unmet demand, valued at its penalty", "shortfall_value", "money_bn"),
    ("What the China caps cost together", "cost_of_china_caps", "money_bn"),
    ("China caps at their limit ((period, commodity) pairs)", "china_caps_binding", "integer"),
    ("Places with unmet demand", "shortfalls", "integer"),
    # planning ahead (issue 12): what the plan invests and stockpiles; counts, not tonnes of
    # different things added together (Projects and Stocks sheets give each in its own unit)
    ("Investment in new capacity", "investment_cost", "money_bn"),
    ("Projects built (count; when and how much: Projects sheet)", "projects_built", "integer"),
    ("Stockpile holding cost", "holding_cost", "money_bn"),
    ("Stocks bought into or held at the end (count; levels per unit: Stocks sheet)", "stocks_held", "integer"),
)


def headline(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """The Overview's first rows: what the plan costs, what the caps cost, what is short."""
    from openpyxl.styles import Font

    if "Overview" not in wb.sheetnames or "Summary" not in tables:
        return
    ws = wb["Overview"]
    summary = tables["Summary"].set_index("metric")["value"]
    cur = str(summary.get("currency", ""))
    ws.cell(row=1, column=1, value=f"The plan at a glance (status: {summary.get('status', '')}; money in bn "
            f"{cur}; quantities per commodity in its own unit, all periods together)").font = Font(bold=True, size=13)
    for i, (label, metric, fmt) in enumerate(HEADLINES, start=2):
        if metric not in summary.index:
            continue
        ws.cell(row=i, column=1, value=label).font = Font(bold=True)
        value = summary[metric]
        cell = ws.cell(row=i, column=4, value=float(value) if fmt != "integer" else int(value))
        cell.number_format = NUMBER_FORMATS[fmt]
        if fmt == "money_bn":
            ws.cell(row=i, column=5, value=cur)
    ws.page_setup.orientation = "landscape"  # the front sheet prints on one page wide
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.cell(row=OVERVIEW_ROWS - 1, column=1, value="Where each commodity comes from (top sources by share of "
            "supply to non-China destinations); Charts has the shares by period.").font = Font(italic=True)


def highlight(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """Conditional formatting that survives edits: rules on columns, not static fills."""
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import PatternFill

    rules = {
        "ChinaShare": ("binding", "=${col}2=TRUE", AT_CAP),
        "ChinaContent": ("binding", "=${col}2=TRUE", AT_CAP),
        "Shortfalls": ("quantity", "=${col}2>0", SHORT),
        "Capacity": ("utilisation", "=${col}2>=0.999999", FULL),
        "Overview": ("shortfall", "=${col}{first}>0", SHORT),
        "Sensitivity": ("cost_change", "=AND(ISNUMBER(${col}2),${col}2<>0,$A2<>\"unit cost\","
                        "$A2<>\"delivered cost\")", AT_CAP),
    }
    for sheet, (column, formula, fill) in rules.items():
        table = tables.get(sheet)
        if table is None or column not in table.columns or table.empty or sheet not in wb.sheetnames:
            continue
        letter = _letter(table, column)
        last = _letter(table, table.columns[-1])
        first = OVERVIEW_ROWS + 2 if sheet == "Overview" else 2
        rng = f"A{first}:{last}{len(table) + first - 1}"
        formula = formula.replace("{col}", letter).replace("{first}", str(first))
        wb[sheet].conditional_formatting.add(
            rng, FormulaRule(formula=[formula], fill=PatternFill("solid", fgColor=fill)))


def _letter(table: pd.DataFrame, column: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(list(table.columns).index(column) + 1)


def add_readme(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """A last sheet that explains every sheet and column of this output (from the declarations)."""
    from openpyxl.styles import Font

    ws = wb.create_sheet("README")
    ws.append(["sheet", "column", "meaning", "unit"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    detail = readme_detail(tables)
    for sheet in [s for s in wb.sheetnames if s != "README"]:
        spec = OUTPUTS.get(sheet)
        ws.append([sheet, "", spec.help if spec is not None else "", ""])
        if sheet in detail:
            ws.append([sheet, "", detail[sheet], ""])
        for column in tables[sheet].columns if sheet in tables else []:
            try:
                col = spec.column(str(column)) if spec is not None else None
            except KeyError:
                col = None
            ws.append([sheet, str(column), col.help if col is not None else "", col.unit if col is not None else ""])
    if "Summary" in tables:
        for metric in tables["Summary"]["metric"]:
            fmt, unit, meaning = SUMMARY_METRICS.get(metric, ("", "", ""))
            ws.append(["Summary", f"metric {metric}", meaning, unit])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 34
    ws.column_dimensions["C"].width = 100
    ws.column_dimensions["D"].width = 24
    ws.freeze_panes = "A2"


def readme_detail(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Per sheet, what the default detail left out (from the Summary's `detail` metric)."""
    if "Summary" not in tables:
        return {}
    s = tables["Summary"].set_index("metric")["value"]
    text = str(s.get("detail", ""))
    out = {}
    for sheet in ("Capacity", "Sensitivity", "FlowSensitivity"):
        found = re.search(rf"(?<![A-Za-z]){sheet} ([\d,]+ of [\d,]+ rows)", text)
        if found:
            part = found.group(1)
            out[sheet] = (f"Left out by default: this sheet holds {part} (the rows that decide the plan); "
                          "`sourcing solve --detail full` writes every row.")
    return out


def format_sensitivity(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """Shares as percentages on the Sensitivity sheet (one column holds shares and units)."""
    table = tables.get("Sensitivity")
    if table is None or table.empty or "Sensitivity" not in wb.sheetnames:
        return
    ws = wb["Sensitivity"]
    cols = [list(table.columns).index(c) + 1 for c in ("value", "level") if c in table.columns]
    for i in (table["measure"].isin(PERCENT_MEASURES)).to_numpy().nonzero()[0]:
        for c in cols:
            ws.cell(row=int(i) + 2, column=c).number_format = "0.0%"
    ws.column_dimensions[_letter(table, "note")].width = 60 if "note" in table.columns else 12
