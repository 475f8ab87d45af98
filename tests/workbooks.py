"""Build small input workbooks in tests, straight with openpyxl (no `model` code involved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl


def write_workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    """Write `sheets` (name -> rows, the first row being the header) to an .xlsx file."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


def read_sheet(path: Path, sheet: str) -> list[dict[str, Any]]:
    """Read one sheet of a written workbook as a list of dicts keyed by the header row."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return []
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]
