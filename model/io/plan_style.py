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


def decorate_plan(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    highlight(wb, tables)
    add_readme(wb, tables)


def highlight(wb: Workbook, tables: dict[str, pd.DataFrame]) -> None:
    """Conditional formatting that survives edits: rules on columns, not static fills."""
    rules = {
        "ChinaShare": ("binding", "=${col}2=TRUE", AT_CAP),
        "Shortfalls": ("quantity", "=${col}2>0", SHORT),
        "Capacity": ("utilisation", "=${col}2>=0.999999", FULL),
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
    for sheet in tables:
        help_text, columns = OUTPUT_SHEETS.get(sheet, ("", {}))
        ws.append([sheet, "", help_text])
        for column in tables[sheet].columns:
            ws.append([sheet, str(column), columns.get(str(column), "")])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 100
