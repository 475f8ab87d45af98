"""`sourcing solve WORKBOOK --write-back`: plan sheets into the analyst's workbook, inputs untouched,
refused when the re-save would lose something."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from model.cli import main
from model.report.template import write_template
from model.report.writeback import PREFIX, README_SHEET, backup_path, what_would_be_lost


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _analyst_workbook(path: Path) -> Path:
    """The template, dressed up the way analysts do: formulas, fills, formats, notes, rules."""
    write_template(path)
    wb = openpyxl.load_workbook(path)
    supply = wb["Supply"]
    supply["F1"] = "value"
    supply["F2"] = "=D2*E2"
    supply["D2"].fill = PatternFill("solid", fgColor="FFFF00")
    supply["E2"].number_format = "#,##0.00 [$USD]"
    supply["E2"].font = Font(italic=True, color="C00000")
    supply.column_dimensions["F"].width = 31
    supply["A2"].comment = Comment("checked with USGS 2025", "analyst")
    notes = wb.create_sheet("Notes")
    notes["A1"] = "Source notes"
    notes.merge_cells("A1:C1")
    notes["A2"] = "=SUM(Supply!D:D)"
    dv = DataValidation(type="list", formula1='"yes,no"')
    dv.add("B2")
    notes.add_data_validation(dv)
    notes.conditional_formatting.add(
        "A2",
        CellIsRule(
            operator="greaterThan", formula=["0"], fill=PatternFill("solid", fgColor="00FF00")
        ),
    )
    wb.save(path)
    return path


def _snapshot(path: Path) -> dict:
    """Every cell value/formula and style of every non-plan sheet, plus sheet-level features."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        if ws.title.startswith(PREFIX):
            continue
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                cells[c.coordinate] = (
                    c.value,
                    c.number_format,
                    c.font.i,
                    c.font.color and c.font.color.rgb,
                    c.fill.fgColor.rgb,
                    c.comment.text if c.comment else None,
                )
        out[ws.title] = {
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": sorted(
                (dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation
            ),
            "conditional": sorted(str(r.sqref) for r in ws.conditional_formatting),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "freeze": ws.freeze_panes,
        }
    out["_names"] = sorted((n, d.attr_text) for n, d in wb.defined_names.items())
    out["_order"] = [t for t in wb.sheetnames if not t.startswith(PREFIX)]
    return out


def test_write_back_adds_plan_sheets_and_keeps_every_input(tmp_path: Path):
    path = _analyst_workbook(tmp_path / "analysis.xlsx")
    before = _snapshot(path)
    original = path.read_bytes()
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 0, result.output
    assert "formula cell(s)" not in result.output  # saved formula results are kept: no re-save needed
    assert backup_path(path).read_bytes() == original
    assert _snapshot(path) == before
    wb = openpyxl.load_workbook(path)
    plan_sheets = [t for t in wb.sheetnames if t.startswith(PREFIX)]
    assert (
        plan_sheets[0] == "Plan Overview"
        and "Plan Flows" in plan_sheets
        and plan_sheets[-1] == README_SHEET
    )
    summary = {r[0]: r[1] for r in wb["Plan Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "optimal"
    assert wb["Supply"]["F2"].value == "=D2*E2"

    # A second run replaces the plan sheets instead of adding more (the formula, now without a
    # cached value, is in an extra column the model does not read, so the file still loads).
    again = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert again.exit_code == 0, again.output
    wb = openpyxl.load_workbook(path)
    assert [t for t in wb.sheetnames if t.startswith(PREFIX)] == plan_sheets
    assert _snapshot(path) == before


def test_write_back_keeps_charts_on_input_sheets(tmp_path: Path):
    path = write_template(tmp_path / "charted.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Supply"]
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=4, min_row=1, max_row=2), titles_from_data=True)
    ws.add_chart(chart, "H2")
    wb.save(path)
    with zipfile.ZipFile(path) as archive:
        chart_xml = archive.read("xl/charts/chart1.xml")
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as archive:
        assert archive.read("xl/charts/chart1.xml") == chart_xml
    assert backup_path(path).exists()


def _with_part(src: Path, dst: Path, extra: dict[str, bytes], sheet_suffix: bytes = b"") -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if sheet_suffix and item.filename == "xl/worksheets/sheet2.xml":
                data = data.replace(b"</worksheet>", sheet_suffix + b"</worksheet>")
            zout.writestr(item, data)
        for name, data in extra.items():
            zout.writestr(name, data)
    return dst


X14 = (
    b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    b'<x14:dataValidations count="0"/></ext></extLst>'
)


@pytest.mark.parametrize(
    ("extra", "suffix"),
    [
        ({"xl/vbaProject.bin": b"x"}, b""),
        ({"xl/media/image1.png": b"x"}, b""),
        ({"xl/pivotTables/pivotTable1.xml": b"<x/>"}, b""),
        ({"xl/slicers/slicer1.xml": b"<x/>"}, b""),
        ({}, X14),
    ],
)
def test_parts_write_back_does_not_understand_are_kept(tmp_path: Path, extra, suffix):
    base = write_template(tmp_path / "base.xlsx")
    path = _with_part(base, tmp_path / "lossy.xlsx", extra, suffix)
    with zipfile.ZipFile(path) as archive:
        before = {n: archive.read(n) for n in archive.namelist()}
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(path) as archive:
        for name in [*extra, "xl/worksheets/sheet2.xml"]:
            assert archive.read(name) == before[name]


def test_plain_workbook_and_comments_are_not_lossy(tmp_path: Path):
    # the template has header notes (legacy comments: xl/drawings/vmlDrawing*.vml), which openpyxl keeps
    assert what_would_be_lost(write_template(tmp_path / "t.xlsx")) == []


def test_write_back_refused_while_excel_has_the_file_open(tmp_path: Path):
    path = write_template(tmp_path / "open.xlsx")
    (tmp_path / "~$open.xlsx").write_bytes(b"lock")
    digest = _sha(path)
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 2 and "~$open.xlsx" in result.output
    assert _sha(path) == digest
