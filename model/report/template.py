"""`sourcing template OUT`: an input workbook an analyst can fill without reading the docs.

Everything comes from model/schema.py: one sheet per input sheet (header row, help on each header
cell as a comment, the schema's example rows), a Settings sheet listing every setting with its
default and help, drop-down lists for country and commodity codes (named ranges over the
Countries/Commodities code columns, which Excel and LibreOffice both keep as plain validations),
range checks on numeric columns, and a README sheet explaining every sheet and column with units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from model.io.atomic import write_atomically
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET, SETTINGS, Column, Setting, Sheet

TEMPLATE_ROWS = 2000  # drop-downs and range checks cover data rows 2..TEMPLATE_ROWS
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")
EXTRA_FILL = PatternFill("solid", fgColor="D9D9D9")  # columns the model ignores (help, default)
README = "README"

# Named ranges behind the drop-downs: Column.ref -> (name, sheet, code column).
LISTS = {
    "country": ("CountryCodes", "Countries", "code"),
    "commodity": ("CommodityCodes", "Commodities", "code"),
}

KIND_TEXT = {
    "code": "code (text; case matters, outer spaces ignored)",
    "text": "text",
    "number": "number",
    "share": "share, a fraction 0-1 (50% or 0.5)",
    "integer": "whole number",
    "choice": "one of a list",
}


def column_doc(col: Column) -> dict[str, str]:
    """The facts about one column, in words, for the README sheet, header comments and docs."""
    allowed = []
    if col.choices:
        allowed.append("one of: " + ", ".join(col.choices))
    if col.minimum is not None and col.maximum is not None:
        allowed.append(f"{col.minimum:g} to {col.maximum:g}")
    elif col.minimum is not None:
        allowed.append(f">= {col.minimum:g}")
    if col.ref == "country":
        allowed.append("a code from Countries.code")
    elif col.ref == "commodity":
        allowed.append("a code from Commodities.code")
    elif col.ref == "source":
        allowed.append("a Countries.code or a Countries.group")
    elif col.ref == "each_source":
        allowed.append("a Countries.code, a Countries.group, or each (every origin country separately)")
    return {
        "type": KIND_TEXT[col.kind],
        "unit": col.unit,
        "required": "required"
        if col.required
        else f"optional; blank means {col.blank_means or 'blank'}",
        "allowed": "; ".join(allowed),
        "help": col.help,
    }


def setting_default(setting: Setting) -> str:
    return setting.default_text or ("" if setting.default is None else str(setting.default))


def setting_help(setting: Setting) -> str:
    extra = []
    if setting.choices:
        extra.append("one of: " + ", ".join(setting.choices))
    if setting.minimum is not None:
        extra.append(f">= {setting.minimum:g}")
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"{setting.help}{tail} Blank value: {setting_default(setting)}."


def example_rows(sheet: Sheet) -> list[tuple[Any, ...]]:
    """The schema's example rows, plus a bare row for every code the other examples refer to but
    the Countries/Commodities examples do not list, so the filled-in template validates."""
    rows = list(sheet.examples)
    target = {"Countries": "country", "Commodities": "commodity"}.get(sheet.name)
    if target is None:
        return rows
    listed = {r[sheet.column_names.index("code")] for r in rows}
    for other in INPUT_SHEETS:
        for row in other.examples:
            for col, value in zip(other.columns, row, strict=False):
                if col.ref == target and value is not None and value not in listed:
                    listed.add(value)
                    rows.append(tuple(value if c.name == "code" else None for c in sheet.columns))
    return rows


def build_template(*, examples: bool = True) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _readme(wb.create_sheet(README))
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        ws = wb.create_sheet(spec.name)
        if spec.name == "Settings":
            _settings_sheet(ws, spec)
        else:
            _data_sheet(ws, spec, example_rows(spec) if examples else [])
    for name, sheet, column in LISTS.values():
        letter = get_column_letter(_spec(sheet).column_names.index(column) + 1)
        ref = f"'{sheet}'!${letter}$2:${letter}${TEMPLATE_ROWS}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    return wb


def write_template(path: str | Path, *, examples: bool = True) -> Path:
    path = Path(path)
    wb = build_template(examples=examples)
    write_atomically(path, wb.save, create_folder=True)  # the folder only once the output is accepted
    return path


def _spec(name: str) -> Sheet:
    return next(s for s in (*INPUT_SHEETS, SCENARIOS_SHEET) if s.name == name)


def _header(
    ws, names: list[str], comments: list[str | None], extra: set[str] = frozenset()
) -> None:
    ws.append(names)
    for cell, comment in zip(ws[1], comments, strict=True):
        cell.font = HEADER_FONT
        cell.fill = EXTRA_FILL if cell.value in extra else HEADER_FILL
        if cell.value in extra:
            cell.font = Font(bold=True)
        if comment:
            cell.comment = Comment(comment, "sourcing template", width=320, height=140)
    ws.freeze_panes = "A2"


def _comment(col: Column) -> str:
    doc = column_doc(col)
    parts = [doc["help"], f"Type: {doc['type']}."]
    if doc["unit"]:
        parts.append(f"Unit: {doc['unit']}.")
    if doc["allowed"]:
        parts.append(f"Allowed: {doc['allowed']}.")
    parts.append(doc["required"].capitalize() + ".")
    return " ".join(parts)


def _data_sheet(ws, spec: Sheet, rows: list[tuple[Any, ...]]) -> None:
    _header(ws, spec.column_names, [_comment(c) for c in spec.columns])
    for row in rows:
        ws.append(list(row))
    for idx, col in enumerate(spec.columns, start=1):
        letter = get_column_letter(idx)
        ws.column_dimensions[letter].width = max(
            len(col.name) + 4, 14 if col.kind != "text" else 24
        )
        rng = f"{letter}2:{letter}{TEMPLATE_ROWS}"
        for row_cells in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
            for cell in row_cells:
                if col.kind == "share":
                    cell.number_format = "0%"
                elif isinstance(cell.value, str):
                    cell.data_type = "s"
        validation = _validation(col)
        if validation is not None:
            validation.add(rng)
            ws.add_data_validation(validation)


def _validation(col: Column) -> DataValidation | None:
    """A drop-down or range check for one column; blanks are always allowed (the loader decides)."""
    common = {
        "allow_blank": True,
        "showErrorMessage": True,
        "errorTitle": col.name,
        "showInputMessage": True,
        "promptTitle": col.name[:32],
        "prompt": col.help[:255],
    }
    if col.ref in LISTS:
        name = LISTS[col.ref][0]
        return DataValidation(
            type="list",
            formula1=f"={name}",
            error=f"Not in {LISTS[col.ref][1]}.code: add it there first.",
            **common,
        )
    if col.choices:
        return DataValidation(
            type="list",
            formula1='"' + ",".join(col.choices) + '"',
            error="Choose one of: " + ", ".join(col.choices),
            **common,
        )
    if col.kind in ("number", "share", "integer") and (
        col.minimum is not None or col.maximum is not None
    ):
        kind = "whole" if col.kind == "integer" else "decimal"
        low = col.minimum if col.minimum is not None else -1e15
        if col.maximum is not None:
            return DataValidation(
                type=kind,
                operator="between",
                formula1=f"{low:g}",
                formula2=f"{col.maximum:g}",
                error=f"Must be between {low:g} and {col.maximum:g}.",
                **common,
            )
        return DataValidation(
            type=kind,
            operator="greaterThanOrEqual",
            formula1=f"{low:g}",
            error=f"Must be >= {low:g}.",
            **common,
        )
    return None


def _settings_sheet(ws, spec: Sheet) -> None:
    """Every setting, its value pre-filled with the default (blank where the default is computed),
    the default in words and a help column. The model reads only `setting` and `value`."""
    names = [*spec.column_names, "default", "help"]
    comments = [_comment(c) for c in spec.columns] + [
        "The value used when `value` is blank (not read by the model).",
        "What the setting does (not read by the model).",
    ]
    _header(ws, names, comments, extra={"default", "help"})
    for setting in SETTINGS:
        value = setting.default
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ws.append([setting.name, value, setting_default(setting), setting_help(setting)])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            if cell.column > 2:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row_idx, setting in enumerate(SETTINGS, start=2):
        if setting.choices:
            dv = DataValidation(
                type="list",
                formula1='"' + ",".join(setting.choices) + '"',
                allow_blank=True,
                showErrorMessage=True,
                error="Choose one of: " + ", ".join(setting.choices),
            )
            dv.add(f"B{row_idx}")
            ws.add_data_validation(dv)
    for letter, width in zip("ABCD", (22, 14, 40, 90), strict=True):
        ws.column_dimensions[letter].width = width


def readme_rows() -> list[list[str]]:
    """sheet, column, type, unit, required / blank means, allowed values, meaning."""
    rows: list[list[str]] = []
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        status = "optional sheet" if spec.optional else "required sheet"
        key = f" One row per {', '.join(spec.key)}." if spec.key else ""
        rows.append([spec.name, "", "", "", status, "", spec.help + key])
        for col in spec.columns:
            doc = column_doc(col)
            rows.append(
                [
                    spec.name,
                    col.name,
                    doc["type"],
                    doc["unit"],
                    doc["required"],
                    doc["allowed"],
                    doc["help"],
                ]
            )
    for setting in SETTINGS:
        allowed = (
            "one of: " + ", ".join(setting.choices)
            if setting.choices
            else (f">= {setting.minimum:g}" if setting.minimum is not None else "")
        )
        rows.append(
            [
                "Settings",
                f"setting {setting.name}",
                KIND_TEXT[setting.kind],
                "",
                f"optional; blank means {setting_default(setting)}",
                allowed,
                setting.help,
            ]
        )
    return rows


def _readme(ws) -> None:
    intro = [
        "How to fill this workbook",
        "Each sheet below is one table: the first row names the columns, every other row is data. Keep the "
        "header names; extra columns and sheets are ignored.",
        "Replace the example rows with your own. Codes in other sheets must exist in Countries.code and "
        "Commodities.code (the drop-down lists show them). A blank cell is missing, never zero.",
        "Check it with `sourcing validate FILE`, solve it with `sourcing solve FILE`.",
        "",
    ]
    for line in intro:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    header_row = len(intro) + 1
    ws.append(
        ["sheet", "column", "type", "unit", "required / blank means", "allowed values", "meaning"]
    )
    for cell in ws[header_row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for row in readme_rows():
        ws.append(row)
        if not row[1]:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=1):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    for letter, width in zip("ABCDEFG", (14, 26, 22, 18, 34, 30, 90), strict=True):
        ws.column_dimensions[letter].width = width
