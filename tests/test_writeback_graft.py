"""Write-back grafts the plan into the analyst's package: every other part is kept byte for byte, so
the next solve reads the same saved formula results, and write-back can run again and again, for
files saved by openpyxl, XlsxWriter and LibreOffice (issue 11; issue 14 item 4)."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.chart import BarChart, Reference

from model.cli import main
from model.io import graft
from model.report.template import write_template
from model.report.writeback import PREFIX, README_SHEET, backup_path

SOFFICE = shutil.which("soffice")
# the parts write-back edits (plus _rels/.rels when it has to create docProps/custom.xml)
EDITED = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml", "[Content_Types].xml",
          "docProps/custom.xml", "_rels/.rels"}
EXPECTED_COST = 600_000_000.0  # the template's example: 10,000 t of REO at 60,000 USD/t


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def solve_cost(path: Path) -> float:
    """Solve `path` into a separate plan and return the total cost (fails on any error)."""
    out = path.with_name(f"plan_{uuid.uuid4().hex[:6]}.xlsx")
    result = CliRunner().invoke(main, ["solve", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(out)["Summary"].iter_rows(min_row=2, values_only=True)}
    return float(summary["total_cost"])


def write_back(path: Path) -> str:
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 0, result.output
    return result.output


def plan_sheets(path: Path) -> list[str]:
    return [t for t in openpyxl.load_workbook(path, read_only=True).sheetnames if t.startswith(PREFIX)]


def assert_kept(before: dict[str, bytes], after: dict[str, bytes], plan_parts: set[str] = frozenset()) -> None:
    """Every part of the analyst's file is still there, byte for byte, except the lists write-back
    edits (and parts of the earlier plan sheets it replaced)."""
    for name, data in before.items():
        if name in EDITED or name in plan_parts:
            continue
        assert name in after, f"{name} was dropped"
        assert after[name] == data, f"{name} changed"


def old_plan_parts(package: dict[str, bytes]) -> set[str]:
    """The parts of the `Plan ...` sheets (and their .rels) in a package, found through its rels."""
    pkg = graft.Package(package)
    wb_part = pkg.workbook_part()
    sheets = graft.sheets_of(pkg, wb_part, graft._xml(package[wb_part]))
    found = pkg.closure([s.part for s in sheets if s.name.startswith(PREFIX) and s.part])
    return found | {graft.rels_name(p) for p in found}


def formula_template(path: Path) -> Path:
    """The template with the capacity typed as a formula (=6500*2, i.e. the example's 13,000)."""
    write_template(path)
    wb = openpyxl.load_workbook(path)
    wb["Supply"]["D2"] = "=6500*2"
    wb.save(path)
    return path


def xlsxwriter_workbook(path: Path) -> Path:
    """The template's data written by XlsxWriter (Excel-like: formula results saved), with a formula
    in an input cell, rich text in a name, and a chart on an extra sheet."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    source = openpyxl.load_workbook(write_template(path.with_name("src_template.xlsx")))
    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    for ws in source.worksheets:
        sheet = book.add_worksheet(ws.title)
        for r, row in enumerate(ws.iter_rows(values_only=True)):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if ws.title == "Supply" and (r, c) == (1, 3):
                    sheet.write_formula(r, c, "=6500*2", None, 13000)
                elif ws.title == "Countries" and r == 1 and c == 1 and isinstance(value, str):
                    sheet.write_rich_string(r, c, "United ", bold, "States")
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write(r, c, value)
    notes = book.add_worksheet("Notes")
    notes.write_column(0, 0, [1, 2, 3])
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Notes!$A$1:$A$3", "name": "my series"})
    notes.insert_chart("C2", chart)
    book.close()
    return path


def test_openpyxl_workbook_twice_keeps_every_part_and_solves_again(tmp_path: Path):
    path = formula_template(tmp_path / "scripted.xlsx")
    # a script-written formula has no saved value; the loader may compute or refuse it, but
    # write-back must leave the file exactly as readable as it was: type the value instead here
    wb = openpyxl.load_workbook(path)
    wb["Supply"]["D2"] = 13000
    wb["Supply"]["F1"] = "note"
    wb["Supply"]["F2"] = "=D2*E2"  # an extra column: a formula the model does not read
    wb.save(path)
    before = parts(path)
    original = path.read_bytes()
    first = write_back(path)
    assert "formula" not in first  # nothing to re-save any more
    assert backup_path(path).read_bytes() == original
    assert_kept(before, parts(path))
    sheets = plan_sheets(path)
    assert sheets[0] == "Plan Overview" and "Plan Flows" in sheets and sheets[-1] == README_SHEET
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)
    once = parts(path)
    write_back(path)
    assert plan_sheets(path) == sheets  # replaced, not added again
    assert_kept(before, parts(path))
    twice = parts(path)
    assert len(twice) == len(once)  # the old plan's parts went with it
    summary = {r[0]: r[1] for r in openpyxl.load_workbook(path)["Plan Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["status"] == "optimal" and float(summary["total_cost"]) == pytest.approx(EXPECTED_COST)
    readme = [r[0] for r in openpyxl.load_workbook(path)[README_SHEET].iter_rows(min_row=2, values_only=True)]
    assert "Plan Flows" in readme and "Flows" not in readme


def test_xlsxwriter_workbook_keeps_saved_results_rich_text_and_charts(tmp_path: Path):
    path = xlsxwriter_workbook(tmp_path / "excel_like.xlsx")
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)
    before = parts(path)
    assert any(n.startswith("xl/charts/") for n in before)
    write_back(path)
    write_back(path)
    after = parts(path)
    assert_kept(before, after)  # the chart, the rich text (sharedStrings) and the saved result
    values = openpyxl.load_workbook(path, data_only=True)
    assert values["Supply"]["D2"].value == 13000  # the formula's saved result is still there
    assert openpyxl.load_workbook(path)["Supply"]["D2"].value == "=6500*2"
    assert b"<b/>" in after["xl/sharedStrings.xml"] or b"<b " in after["xl/sharedStrings.xml"]
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)


def test_unknown_parts_are_kept_byte_for_byte(tmp_path: Path):
    """customXml/, xl/metadata.xml, xl/richData/, xl/webextensions/: never understood, never lost."""
    base = write_template(tmp_path / "base.xlsx")
    path = tmp_path / "extended.xlsx"
    extra = {
        "customXml/item1.xml": b'<?xml version="1.0"?><root xmlns="urn:test">label</root>',
        "customXml/_rels/item1.xml.rels": b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>',
        "xl/metadata.xml": b'<?xml version="1.0"?><metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
        "xl/richData/rdrichvalue.xml": b'<?xml version="1.0"?><rvData xmlns="http://schemas.microsoft.com/office/spreadsheetml/2017/richdata" count="0"/>',
        "xl/webextensions/webextension1.xml": b'<?xml version="1.0"?><we:webextension xmlns:we="http://schemas.microsoft.com/office/webextensions/webextension/2010/11" id="{1}"/>',
    }
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        for name, data in extra.items():
            zout.writestr(name, data)
    write_back(path)
    after = parts(path)
    for name, data in extra.items():
        assert after[name] == data
    assert_kept(parts(base) | extra, after)


def test_chart_on_an_input_sheet_is_kept_not_refused(tmp_path: Path):
    path = write_template(tmp_path / "charted.xlsx")
    wb = openpyxl.load_workbook(path)
    chart = BarChart()
    chart.add_data(Reference(wb["Supply"], min_col=4, min_row=1, max_row=2), titles_from_data=True)
    wb["Supply"].add_chart(chart, "H2")
    wb.save(path)
    before = parts(path)
    write_back(path)
    assert_kept(before, parts(path))
    assert len(openpyxl.load_workbook(path)["Supply"]._charts) == 1


def test_an_object_the_analyst_put_on_a_plan_sheet_is_named_and_refused(tmp_path: Path):
    path = write_template(tmp_path / "plan_chart.xlsx")
    write_back(path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Plan Flows"]
    chart = BarChart()
    chart.title = "my flows"
    chart.add_data(Reference(ws, min_col=5, min_row=1, max_row=2), titles_from_data=True)
    ws.add_chart(chart, "K2")
    wb.save(path)
    digest = path.read_bytes()
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 2, result.output
    assert "'Plan Flows'" in result.output and "a chart" in result.output
    assert path.read_bytes() == digest


def test_an_analyst_sheet_with_a_plan_name_is_refused(tmp_path: Path):
    path = write_template(tmp_path / "mine.xlsx")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Plan Mine")
    wb.save(path)
    write_back(path)  # an unknown 'Plan ...' name is the analyst's: kept
    assert "Plan Mine" in openpyxl.load_workbook(path).sheetnames


def _soffice_convert(src: Path, outdir: Path, profile: Path) -> Path:
    outdir.mkdir(exist_ok=True)
    proc = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(outdir), str(src)],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return outdir / src.name


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_loop_formula_write_back_resave_write_back(tmp_path: Path):
    """Issue 11's loop: a LibreOffice-saved workbook with a formula in Supply; write-back, solve,
    re-save in LibreOffice (which leaves empty drawing parts on sheets), write-back, solve."""
    profile = tmp_path / f"lo_{uuid.uuid4().hex}"
    scripted = formula_template(tmp_path / "scripted.xlsx")
    path = _soffice_convert(scripted, tmp_path / "lo1", profile)  # LibreOffice computes and saves =6500*2
    assert openpyxl.load_workbook(path, data_only=True)["Supply"]["D2"].value == 13000
    before = parts(path)
    write_back(path)
    assert_kept(before, parts(path))
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)
    write_back(path)
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)

    resaved = _soffice_convert(path, tmp_path / "lo2", profile)
    names = parts(resaved)
    assert "Plan Flows" in openpyxl.load_workbook(resaved, read_only=True).sheetnames
    assert sum(n.startswith("xl/drawings/drawing") for n in names) >= 1  # the charts (LibreOffice no longer adds empty ones)
    before = parts(resaved)
    write_back(resaved)
    assert solve_cost(resaved) == pytest.approx(EXPECTED_COST)
    after = parts(resaved)
    plan_parts = old_plan_parts(before)
    assert plan_parts and all(n.startswith(("xl/worksheets/", "xl/drawings/", "xl/charts/")) for n in plan_parts)
    assert_kept(before, after, plan_parts)
    assert plan_sheets(resaved).count("Plan Summary") == 1
    # and LibreOffice opens the result
    third = _soffice_convert(resaved, tmp_path / "lo3", profile)
    assert "Plan Summary" in openpyxl.load_workbook(third, read_only=True).sheetnames


MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def excel_like_namespaces(src: Path, dst: Path) -> Path:
    """The template with what Excel puts in workbook.xml and styles.xml: prefixes named only in
    mc:Ignorable, an mc:AlternateContent block, extension attributes."""
    wb_root = (f'xmlns:mc="{MC}" mc:Ignorable="x15 xr xr6" '
               'xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
               'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
               'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" ')
    alternate = ('<mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath '
                 'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac" '
                 'url="C:\\data\\"/></mc:Choice></mc:AlternateContent>')
    st_root = (f'xmlns:mc="{MC}" mc:Ignorable="x14ac x16r2" '
               'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
               'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main" ')
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename).decode("utf-8")
            if item.filename == "xl/workbook.xml":
                data = data.replace("<workbook ", "<workbook " + wb_root, 1)
                data = re.sub(r"(<workbookPr[^>]*/>)", lambda m: m.group(1) + alternate, data, count=1)
                assert alternate in data
            elif item.filename == "xl/styles.xml":
                data = data.replace("<styleSheet ", "<styleSheet " + st_root, 1)
                data = data.replace("<fonts ", '<fonts x14ac:knownFonts="1" ', 1)
            zout.writestr(item, data.encode("utf-8"))
    return dst


def root_tag(xml: bytes) -> str:
    text = xml.decode("utf-8")
    start = text.index("<", text.index("?>") + 2 if text.startswith("<?xml") else 0)
    return text[start: text.index(">", start) + 1]


def test_prefixes_excel_declares_for_mc_ignorable_survive(tmp_path: Path):
    path = excel_like_namespaces(write_template(tmp_path / "t.xlsx"), tmp_path / "excel.xlsx")
    write_back(path)
    write_back(path)
    after = parts(path)
    for part, prefixes in (("xl/workbook.xml", ("x15", "xr", "xr6", "mc")), ("xl/styles.xml", ("x14ac", "x16r2", "mc"))):
        tag = root_tag(after[part])
        assert 'mc:Ignorable="' in tag, tag
        for prefix in prefixes:
            assert f"xmlns:{prefix}=" in tag, (part, prefix, tag)
    assert b"absPath" in after["xl/workbook.xml"] and b'Requires="x15"' in after["xl/workbook.xml"]
    assert b'x14ac:knownFonts="1"' in after["xl/styles.xml"]
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)
    assert plan_sheets(path)[0] == "Plan Overview"


LIBREOFFICE_EMPTY_DRAWING = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
    b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"></xdr:wsDr>'
)


def test_an_empty_drawing_part_is_not_an_object_but_a_chart_or_picture_is(tmp_path: Path):
    assert graft.drawing_objects(LIBREOFFICE_EMPTY_DRAWING) == []
    path = write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(path)
    chart = BarChart()
    chart.add_data(Reference(wb["Supply"], min_col=4, min_row=1, max_row=2), titles_from_data=True)
    wb["Supply"].add_chart(chart, "H2")
    wb.save(path)
    drawing = parts(path)["xl/drawings/drawing1.xml"]
    assert graft.drawing_objects(drawing) == ["a chart 'Chart 1'"]


def test_macro_workbook_keeps_its_macros_and_extension(tmp_path: Path):
    base = write_template(tmp_path / "t.xlsx")
    path = tmp_path / "macros.xlsm"
    vba = b"\xd0\xcf\x11\xe0 a VBA project stands here"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                data = data.replace(b"</Types>", b'<Default Extension="bin" '
                                    b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdVba" Type="http://schemas.'
                                    b'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/>'
                                    b"</Relationships>")
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", vba)
    write_back(path)
    after = parts(path)
    assert after["xl/vbaProject.bin"] == vba
    assert b"macroEnabled.main+xml" in after["[Content_Types].xml"]
    assert b"vbaProject" in after["xl/_rels/workbook.xml.rels"]
    assert backup_path(path).name == "macros.bak.xlsm"
    assert solve_cost(path) == pytest.approx(EXPECTED_COST)


def test_a_plan_named_sheet_the_property_does_not_list_is_the_analysts(tmp_path: Path):
    """After a write-back the custom property lists the plan sheets; a `Plan Flows` it does not
    list was made by the analyst and is never replaced: write-back refuses, naming it."""
    path = write_template(tmp_path / "t.xlsx")
    write_back(path)
    edited_path = tmp_path / "edited.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(edited_path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "docProps/custom.xml":
                data = re.sub(rb"<vt:lpwstr>.*?</vt:lpwstr>", b"<vt:lpwstr>Plan Summary</vt:lpwstr>", data, flags=re.S)
            zout.writestr(item, data)
    before = edited_path.read_bytes()
    result = CliRunner().invoke(main, ["solve", str(edited_path), "--write-back"])
    assert result.exit_code == 2, result.output
    assert "already has a sheet 'Plan Overview' that write-back did not create" in result.output
    assert edited_path.read_bytes() == before


def test_strict_open_xml_is_refused_by_name(tmp_path: Path):
    base = write_template(tmp_path / "t.xlsx")
    path = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
                                    b"http://purl.oclc.org/ooxml/spreadsheetml/main")
            zout.writestr(item, data)
    before = path.read_bytes()
    result = CliRunner().invoke(main, ["solve", str(path), "--write-back"])
    assert result.exit_code == 2 and "Strict Open XML" in result.output
    assert path.read_bytes() == before
