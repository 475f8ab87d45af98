"""The analyst's reading aids on a plan workbook: a README sheet and highlights.

Charts and the Sensitivity sheet hook in here too, so `write_plan` stays one call.
"""

from __future__ import annotations

import pandas as pd
from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Font, PatternFill

from model.schema import OUTPUT_SHEETS

AT_CAP = PatternFill("solid", fgColor="F8CBAD")  # orange: a China share at its cap
SHORT = PatternFill("solid", fgColor="FF9999")  # red: unmet demand
FULL = PatternFill("solid", fgColor="FFE699")  # yellow: capacity used up


# help for sheets and columns that the report layer adds (model/report/sensitivity.py, charts.py)
EXTRA_HELP: dict[str, tuple[str, dict[str, str]]] = {
    "Sensitivity": (
        "What each limit costs and each input is worth at the optimum. SIGN CONVENTION: cost_change "
        "is the change in the objective when `value` is RAISED by one unit (one percentage point for "
        "shares); negative = the plan gets cheaper.", {
            "measure": "China cap, share maximum/minimum (ShareLimits), capacity, unit cost (a Supply "
                       "row), delivered cost (a destination's demand).",
            "period": "Year.", "commodity": "Commodity code.",
            "country": "Source (caps, limits, supply) or destination (delivered cost).",
            "limit_row": "Row of the input sheet the limit comes from.",
            "value": "The input as given: cap or limit (share), capacity, unit cost or demand.",
            "level": "What the plan does: share reached, capacity used, or demand.",
            "cost_change": "Objective change per +1 unit (per +1 percentage point for shares) of value. "
                           "Capacity: minus the value of one more unit. Unit cost: the quantity shipped. "
                           "Delivered cost: the marginal cost of supply at the destination.",
            "unit": "Unit of cost_change.",
            "cost_cut_to_enter": "Unused suppliers: how much their unit cost must fall before they enter "
                                 "the plan (smallest reduced cost over their routes).",
            "allowable_decrease": "With --ranging: how far value can fall before the optimal basis "
                                  "changes (blank: no limit). Not unique when the Summary's ranging_note "
                                  "says the basis is degenerate.",
            "allowable_increase": "With --ranging: how far value can rise before the optimal basis "
                                  "changes (blank: no limit).",
            "note": "The row in words.",
        }),
    "AlternateOptima": (
        "With --alternate-optima: the least and most each source can supply to non-China destinations "
        "among plans costing no more than the optimum (tolerance in the Summary).", {
            "period": "Year.", "commodity": "Commodity code.", "source": "Supplying country.",
            "quantity": "What this plan supplies.", "share": "This plan's share.",
            "min_quantity": "Least supply at optimal cost.", "max_quantity": "Most supply at optimal cost.",
            "min_share": "Share when supplying the least.", "max_share": "Share when supplying the most.",
            "forced": "TRUE: every least-cost plan uses this amount; FALSE: a tie, other least-cost "
                      "plans differ.",
            "note": "The row in words.",
        }),
    "Capacity": ("Use of every Supply row and the value of more capacity.", {
        "period": "Year.", "commodity": "Commodity code.", "country": "Supplying country.",
        "capacity": "Capacity (Supply sheet).", "unit_cost": "Unit cost (Supply sheet).",
        "used": "Units the plan takes.", "utilisation": "used / capacity.",
        "shadow_price": "Objective saved by one more unit of capacity (where to invest).",
        "cost_cut_to_enter": "Unused suppliers: unit-cost cut needed to enter the plan.",
        "capacity_decrease": "With --ranging: allowable capacity decrease keeping the basis.",
        "capacity_increase": "With --ranging: allowable capacity increase keeping the basis (blank: any).",
        "cost_decrease": "With --ranging: allowable unit-cost decrease keeping the basis (blank: any).",
        "cost_increase": "With --ranging: allowable unit-cost increase keeping the basis (blank: any).",
    }),
    "Prices": ("Marginal cost of supply at each destination.", {
        "period": "Year.", "commodity": "Commodity code.", "country": "Destination.",
        "demand": "Demand (Demand sheet; 0 for recipe inputs only).",
        "marginal_cost": "Objective change for one more unit of demand here (the balance dual).",
    }),
    "Charts": ("Supply by source per commodity and China share against its cap (native Excel charts; "
               "their data are the cells from column N).", {}),
}

PERCENT_MEASURES = ("China cap", "share maximum", "share minimum", "China content")  # + issue 13


def decorate_plan(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    from model.report.charts import add_charts

    highlight(wb, tables)
    format_sensitivity(wb, tables)
    add_charts(wb, tables)
    add_readme(wb, tables)


def highlight(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """Conditional formatting that survives edits: rules on columns, not static fills."""
    rules = {
        "ChinaShare": ("binding", "=${col}2=TRUE", AT_CAP),
        "ChinaContent": ("binding", "=${col}2=TRUE", AT_CAP),  # issue 13
        "Shortfalls": ("quantity", "=${col}2>0", SHORT),
        "Capacity": ("utilisation", "=${col}2>=0.999999", FULL),
        "Sensitivity": ("cost_change", "=AND(ISNUMBER(${col}2),${col}2<>0,$A2<>\"unit cost\","
                        "$A2<>\"delivered cost\")", AT_CAP),
    }
    for sheet, (column, formula, fill) in rules.items():
        table = tables.get(sheet)
        if table is None or column not in table.columns or table.empty or sheet not in wb.sheetnames:
            continue
        letter = _letter(table, column)
        last = _letter(table, table.columns[-1])
        rng = f"A2:{last}{len(table) + 1}"
        wb[sheet].conditional_formatting.add(rng, FormulaRule(formula=[formula.replace("{col}", letter)], fill=fill))


def _letter(table: pd.DataFrame, column: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(list(table.columns).index(column) + 1)


def add_readme(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """A last sheet that explains every sheet and column of this output."""
    ws = wb.create_sheet("README")
    ws.append(["sheet", "column", "meaning"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for sheet in [s for s in wb.sheetnames if s != "README"]:
        help_text, columns = OUTPUT_SHEETS.get(sheet, ("", {}))
        extra_text, extra_columns = EXTRA_HELP.get(sheet, ("", {}))
        ws.append([sheet, "", help_text or extra_text])
        for column in tables[sheet].columns if sheet in tables else []:
            ws.append([sheet, str(column), columns.get(str(column)) or extra_columns.get(str(column), "")])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 100


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
