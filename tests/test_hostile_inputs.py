"""Hostile and damaged input files: each is refused with one plain line naming the file, sheet,
row, column or cell, and the command line exits 2 with no traceback and writes nothing."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.data import load_workbook
from model.errors import InputError
from model.io import guard
from tests import hostile_corpus as hc
from tests.hostile_corpus import ErrorValue, Formula


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_workbook(path)
    return [str(p) for p in info.value.problems]


def only_problem(path: Path) -> str:
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


# ------------------------------------------------------------------ XML attacks


def test_openpyxl_runs_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_loader_refuses_to_run_without_defusedxml(tmp_path, monkeypatch):
    import openpyxl.xml

    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)
    message = only_problem(hc.write_sheets(tmp_path / "ok.xlsx"))
    assert "defusedxml is not active" in message


@pytest.mark.parametrize("part, named", [("Countries", "xl/worksheets/sheet1.xml"),
                                         ("Supply", "xl/worksheets/sheet3.xml"),
                                         ("sharedStrings", "xl/sharedStrings.xml"),
                                         ("workbook", "xl/workbook.xml")])
def test_billion_laughs_is_refused_before_parsing(tmp_path, part, named):
    start = time.monotonic()
    message = only_problem(hc.billion_laughs(tmp_path / "lol.xlsx", part))
    assert time.monotonic() - start < 5
    assert message.removeprefix("file: ").startswith("lol.xlsx: part " + named)
    assert "DOCTYPE or ENTITY" in message


def test_external_entity_is_refused_and_nothing_is_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    message = only_problem(hc.external_entity(tmp_path / "xxe.xlsx", target=secret.as_uri()))
    assert "xl/worksheets/sheet1.xml" in message and "TOP-SECRET" not in message


def test_utf16_entity_bomb_is_refused(tmp_path):
    assert "DOCTYPE or ENTITY" in only_problem(hc.utf16_entity_bomb(tmp_path / "u16.xlsx"))


def test_bomb_in_a_part_not_named_xml_is_refused(tmp_path):
    message = only_problem(hc.bomb_in_oddly_named_part(tmp_path / "odd.xlsx"))
    assert "part xl/worksheets/sheet1.dat contains an XML DOCTYPE or ENTITY declaration" in message


def test_svg_picture_with_a_doctype_is_fine(tmp_path):
    assert len(load_workbook(hc.with_svg_picture(tmp_path / "pic.xlsx"))["Supply"]) == 3


@pytest.mark.parametrize("make", [lambda d: hc.external_entity(d / "xxe.xlsx"),
                                  lambda d: hc.billion_laughs(d / "wb.xlsx", "workbook"),
                                  lambda d: hc.bomb_in_oddly_named_part(d / "odd.xlsx")])
def test_without_the_scan_defusedxml_still_refuses_in_one_line(tmp_path, monkeypatch, make):
    """Defence in depth: switch the pre-parse scan off and the parser's refusal still reads plainly."""
    monkeypatch.setattr(guard, "_scan_xml_parts", lambda *args: None)
    message = only_problem(make(tmp_path))
    assert "contains XML entity declarations or external references, which are refused" in message
    assert "\n" not in message


def test_parser_errors_get_plain_words(tmp_path):
    """Belt and braces: if a DTD got past the scan, defusedxml's exception still reads plainly."""
    from defusedxml import EntitiesForbidden

    line = guard.explain_open_error(Path("x.xlsx"), EntitiesForbidden("lol", None, None, None, None, None))
    assert line.startswith("x.xlsx contains XML entity declarations")
    broken = hc.patch_sheet(tmp_path / "broken.xlsx", "Supply", b"<sheetData>", b"<sheetData><row>")
    message = only_problem(broken)
    assert "broken.xlsx" in message and "Supply" in message and "Traceback" not in message


# ------------------------------------------------------------------ zip attacks


def test_compression_ratio_bomb(tmp_path):
    message = only_problem(hc.zip_ratio_bomb(tmp_path / "bomb.xlsx", 16))
    assert "part xl/media/padding.bin is compressed" in message and "limit is 200:1" in message


def test_too_many_parts(tmp_path):
    assert "parts; the limit is 10000" in only_problem(hc.zip_many_entries(tmp_path / "many.xlsx"))


def test_declared_unpacked_size_limit(tmp_path):
    assert "unpacks to 3072 MiB; the limit is 1024 MiB" in only_problem(
        hc.zip_declared_huge(tmp_path / "huge.xlsx"))


def test_part_larger_than_declared_is_damage_not_a_bomb(tmp_path):
    message = only_problem(hc.zip_lying_size(tmp_path / "liar.xlsx"))
    assert "liar.xlsx is not a valid .xlsx workbook" in message and "sheet1.xml" in message


def test_file_size_limit_uses_a_sparse_file(tmp_path):
    big = hc.sparse_oversized(tmp_path / "big.xlsx", guard.MAX_FILE_BYTES + 1)
    assert "the limit is 200 MiB" in only_problem(big)


def test_real_formatting_compresses_far_below_the_ratio_limit(tmp_path):
    """The ratio limit leaves room: a sheet of formatted blank rows compresses about 15:1."""
    def tweak(wb):
        ws = wb["Supply"]
        for row in range(10, 2000):
            ws.cell(row, 1).number_format = "0.00"
    path = hc.write_sheets(tmp_path / "fmt.xlsx", tweak=tweak)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet3.xml")
    assert info.file_size / info.compress_size < guard.MAX_COMPRESSION_RATIO / 4
    assert len(load_workbook(path)["Supply"]) == 3


# ------------------------------------------------------------------ not a workbook


@pytest.mark.parametrize("kind, words", [
    ("csv", "not an .xlsx workbook (it looks like text or CSV)"),
    ("html", "not an .xlsx workbook (it looks like an HTML page)"),
    ("xls", "is a legacy .xls"),
    ("empty", "is empty (0 bytes)"),
    ("pdf", "it looks like a PDF"),
    ("xml2003", "Excel 2003 XML"),
    ("zip", "is a zip archive but not an Excel workbook"),
    ("xlsb", "is a binary .xlsb workbook"),
])
def test_other_files_renamed_to_xlsx(tmp_path, kind, words):
    message = only_problem(hc.renamed(tmp_path / f"{kind}.xlsx", kind))
    assert f"{kind}.xlsx" in message and words in message


def test_truncated_workbook(tmp_path):
    assert "is not a valid .xlsx workbook" in only_problem(hc.truncated(tmp_path / "half.xlsx"))


def test_excel_lock_file(tmp_path):
    message = only_problem(hc.lock_file(tmp_path, "base_case.xlsx"))
    assert "~$base_case.xlsx is an Excel lock file" in message and "use 'base_case.xlsx'" in message


def test_folder_missing_path_and_pipe(tmp_path):
    (tmp_path / "dir.xlsx").mkdir()
    assert "is a folder, not a workbook" in only_problem(tmp_path / "dir.xlsx")
    assert "no such file" in only_problem(tmp_path / "nowhere.xlsx")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.xlsx")  # opening it to read would block forever
        assert "not a regular file" in only_problem(tmp_path / "pipe.xlsx")


def test_unreadable_file_detected_by_opening_it(tmp_path, monkeypatch):
    """os.access says yes to root; the guard opens the file instead. As root the real case cannot be
    built, so it is simulated by making the open itself fail as the kernel would."""
    path = hc.write_sheets(tmp_path / "locked.xlsx")
    path.chmod(0)
    try:
        try:
            with path.open("rb"):
                readable = True
        except PermissionError:
            readable = False
        if readable:  # running as root (or with CAP_DAC_OVERRIDE)
            real_open = Path.open

            def deny(self, *args, **kwargs):
                if self == path:
                    raise PermissionError(13, "Permission denied", str(self))
                return real_open(self, *args, **kwargs)

            monkeypatch.setattr(Path, "open", deny)
        assert "permission denied (the file cannot be read)" in only_problem(path)
    finally:
        path.chmod(0o644)


def test_unreadable_file_for_a_real_unprivileged_user():
    """The real thing as root: a forked child drops to user 'nobody' (everything it needs is
    already imported) and asks the guard about a root-only file."""
    if not hasattr(os, "fork") or os.geteuid() != 0:
        pytest.skip("covered by test_unreadable_file_detected_by_opening_it as a normal user")
    folder = Path("/tmp") / f"hostile-perm-{os.getpid()}"
    folder.mkdir(mode=0o755, exist_ok=True)
    folder.chmod(0o755)
    path = hc.write_sheets(folder / "locked.xlsx")
    path.chmod(0o600)
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # child: never returns into pytest
            code = 1
            try:
                os.close(read_end)
                os.setgid(65534)
                os.setuid(65534)
                try:
                    guard.check_input_file(path)
                    message = "accepted"
                except InputError as exc:
                    message = str(exc)
                os.write(write_end, message.encode())
                code = 0
            finally:
                os._exit(code)
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
    finally:
        path.unlink()
        folder.rmdir()
    assert os.waitstatus_to_exitcode(status) == 0
    assert message.removeprefix("file: ") == f"{path}: permission denied (the file cannot be read)"


# ------------------------------------------------------------------ macros


def test_macro_workbook_is_read_and_nothing_runs(tmp_path):
    path = hc.macro_workbook(tmp_path / "macros.xlsm")
    data = load_workbook(path)
    assert "NA" in set(data["Countries"]["code"])


# ------------------------------------------------------------------ error and formula cells


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?"])
def test_error_cells_are_named_never_blank_or_zero(tmp_path, error):
    path = hc.with_cell(tmp_path / "err.xlsx", "Supply", 3, 4, ErrorValue(error))
    assert only_problem(path) == f"Supply row 3, column capacity: cell D3 holds an Excel error (got '{error}')"


def test_error_cell_in_an_optional_column_is_still_an_error(tmp_path):
    path = hc.with_cell(tmp_path / "err.xlsx", "Countries", 2, 4, ErrorValue("#N/A"))
    assert only_problem(path).startswith("Countries row 2, column risk: cell D2 holds an Excel error")


def test_formula_without_cached_value_is_computed_never_zero(tmp_path):
    path = hc.with_cell(tmp_path / "f.xlsx", "Supply", 2, 4, Formula("=10*10"))
    assert load_workbook(path)["Supply"]["capacity"].tolist()[0] == 100


def test_formula_the_engine_cannot_compute_is_named_with_its_function(tmp_path):
    path = hc.with_cell(tmp_path / "f.xlsx", "Supply", 2, 4, Formula("=NOSUCHFUNC(10)"))
    message = only_problem(path)
    assert message.startswith("Supply row 2, column capacity: cell D2 is a formula with no saved value that "
                              "cannot be computed (the formula engine does not know the function NOSUCHFUNC)")
    assert message.endswith("(got '=NOSUCHFUNC(10)')")


def test_formula_with_cached_value_uses_it(tmp_path):
    base = hc.with_cell(tmp_path / "base.xlsx", "Supply", 2, 4, Formula("=10*10"))
    path = hc.patch_sheet(tmp_path / "cached.xlsx", "Supply", b"<f>10*10</f><v />",
                          b"<f>10*10</f><v>100</v>", source=base)
    data = load_workbook(path)
    assert data["Supply"]["capacity"].tolist()[0] == 100


def test_formula_with_cached_error_is_named(tmp_path):
    base = hc.with_cell(tmp_path / "base.xlsx", "Supply", 3, 5, Formula("=1/0"))
    path = hc.patch_sheet(tmp_path / "div0.xlsx", "Supply", b'<c r="E3"><f>1/0</f><v />',
                          b'<c r="E3" t="e"><f>1/0</f><v>#DIV/0!</v>', source=base)
    assert only_problem(path) == ("Supply row 3, column unit_cost: cell E3 is a formula whose result is an "
                                  "Excel error (got '#DIV/0!')")


def test_many_formula_cells_are_read_in_one_pass(tmp_path):
    """Thousands of formulas the engine cannot compute: every one named, in linear time."""
    sheets = hc.valid_sheets()
    sheets["Supply"] = [sheets["Supply"][0]] + [["AUS", "REO", 2000 + i % 100, Formula(f"=NOSUCH(ROW()*{i})"), 1]
                                                for i in range(2000)]
    path = hc.write_sheets(tmp_path / "formulas.xlsx", sheets)
    start = time.monotonic()
    found = problems(path)
    assert time.monotonic() - start < 20
    formulas = [p for p in found if "is a formula with no saved value" in p]
    assert len(formulas) == 2000
    assert formulas[-1].startswith("Supply row 2001, column capacity: cell D2001 is a formula")
    # the rows repeat 100 (country, commodity, period) keys: checked in the same run
    assert sum("duplicates row" in p for p in found) == 1900


# ------------------------------------------------------------------ cell values


@pytest.mark.parametrize("value, expected", [("1,000", 1000), (" 42 ", 42), ("1e3", 1000), (7, 7),
                                             ("12,500.5", 12500.5)])
def test_numbers_as_text_are_accepted(tmp_path, value, expected):
    data = load_workbook(hc.with_cell(tmp_path / "n.xlsx", "Supply", 2, 4, value))
    assert data["Supply"]["capacity"].tolist()[0] == expected


@pytest.mark.parametrize("value, words", [
    (True, "must be a number, not TRUE/FALSE"),
    (dt.datetime(2026, 1, 2), "must be a number, not a date or time"),
    (1e300, "must be at most 1e+15 in magnitude"),
    ("1.000,5", "must be a number"),
    ("nan", "must be a number"),
    ("inf", "must be a number"),
    ("12 t", "must be a number"),
])
def test_values_that_are_not_numbers_are_named(tmp_path, value, words):
    message = only_problem(hc.with_cell(tmp_path / "n.xlsx", "Supply", 2, 4, value))
    assert message.startswith(f"Supply row 2, column capacity: {words} (cell D2)")


def test_infinite_number_in_the_xml_is_named(tmp_path):
    path = hc.patch_sheet(tmp_path / "inf.xlsx", "Supply", b"<v>100</v>", b"<v>1E999</v>")
    assert only_problem(path).startswith("Supply row 2, column capacity: must be a finite number (cell D2)")


def test_unparseable_number_in_the_xml_names_the_sheet_and_row(tmp_path):
    path = hc.patch_sheet(tmp_path / "nan.xlsx", "Supply", b'<c r="D3" t="n"><v>100</v>',
                          b'<c r="D3" t="n"><v>NaN</v>')
    message = only_problem(path)
    assert message.startswith("Supply row 3, column capacity: must be a finite number (cell D3)")


@pytest.mark.parametrize("code", ["NA", "NULL", "None", "nan", "N/A", "null", "#N/A text"])
def test_codes_pandas_would_call_missing_stay_text(tmp_path, code):
    sheets = hc.valid_sheets()
    sheets["Countries"][4][0] = code
    sheets["Supply"][3][0] = code
    sheets["Demand"].append([code, "REO", 2026, 1])
    data = load_workbook(hc.write_sheets(tmp_path / "codes.xlsx", sheets))
    assert code in data["Countries"]["code"].tolist()
    assert data["Supply"]["country"].tolist()[2] == code
    assert data["Demand"]["country"].tolist()[1] == code


def test_long_text_and_control_characters_are_named(tmp_path):
    sheets = hc.valid_sheets()
    sheets["Countries"][1][1] = "x" * 1001
    sheets["Countries"][2][0] = "C" * 65
    sheets["Countries"][3][1] = "Aus_x0007_tralia"
    sheets["Countries"][4][1] = "Namibia\u202e"
    found = problems(hc.write_sheets(tmp_path / "text.xlsx", sheets))
    assert any(p.startswith("Countries row 2, column name: is longer than 1000 characters (cell B2)")
               for p in found)
    assert any(p.startswith("Countries row 3, column code: is longer than 64 characters (cell A3)") for p in found)
    assert any(p.startswith("Countries row 4, column name: contains a control character (Excel escape _x0007_)"
                            " (cell B4)") for p in found)
    assert any(p.startswith("Countries row 5, column name: contains a control character (U+202E) (cell B5)")
               for p in found)


def test_carriage_return_in_a_code_is_named(tmp_path):
    base = hc.with_cell(tmp_path / "base.xlsx", "Supply", 2, 1, "AUSCR")
    path = hc.patch_sheet(tmp_path / "cr.xlsx", "Supply", b"AUSCR", b"AU&#13;S", source=base)
    assert only_problem(path).startswith("Supply row 2, column country: contains a control or invisible "
                                         "character (U+000D) (cell A2)")


def test_zero_width_space_in_a_code_is_named(tmp_path):
    path = hc.with_cell(tmp_path / "zw.xlsx", "Supply", 2, 1, "AU\u200bS")
    assert only_problem(path).startswith("Supply row 2, column country: contains a control or invisible "
                                         "character (U+200B) (cell A2)")


# ------------------------------------------------------------------ layout policies


def test_merged_cells_in_data_rows_are_named_once_per_range(tmp_path):
    def merge(wb):
        ws = wb["Supply"]
        ws["A3"] = None
        ws.merge_cells("A2:A3")  # country typed once for two rows
        ws.merge_cells("D3:E4")  # capacity and unit cost across two rows
        ws.merge_cells("G1:H4")  # decoration outside the contract columns
    found = problems(hc.write_sheets(tmp_path / "merged.xlsx", tweak=merge))
    assert found == [
        "Supply row 3, column country: cell A3 is inside the merged cells A2:A3, so it has no value of its "
        "own; unmerge them and fill every cell",
        "Supply row 3, column unit_cost: cell E3 is inside the merged cells D3:E4, so it has no value of its "
        "own; unmerge them and fill every cell",
    ]


def test_merged_header_names_only_its_first_column(tmp_path):
    def merge(wb):
        wb["Demand"]["D1"] = None
        wb["Demand"].merge_cells("C1:D1")
    assert "Demand, column quantity: column is missing (the header row of sheet 'Demand' must name it)" in \
        problems(hc.write_sheets(tmp_path / "mh.xlsx", tweak=merge))


def test_row_numbered_beyond_excel_is_refused_quickly(tmp_path):
    far = (b'<row r="900000000"><c r="A900000000" t="inlineStr"><is><t>USA</t></is></c></row>'
           b"</sheetData>")
    path = hc.patch_sheet(tmp_path / "far.xlsx", "Demand", b"</sheetData>", far)
    start = time.monotonic()
    message = only_problem(path)
    assert time.monotonic() - start < 20  # walking to row 900,000,000 would never end
    assert message == ("Demand: sheet 'Demand' has rows numbered beyond Excel's last row (1,048,576); the file "
                       "was not saved by Excel and cannot be read")


def test_stray_cells_far_right_do_not_slow_the_data_rows(tmp_path):
    def stray(wb):
        ws = wb["Supply"]
        for row in range(2, 3000):
            ws.cell(row, 16384).number_format = "0"  # formatted empty cells in column XFD
    data = load_workbook(hc.write_sheets(tmp_path / "wide.xlsx", tweak=stray))
    assert data["Supply"]["row"].tolist() == [2, 3, 4]


def test_sheet_spanning_too_many_cells_before_its_header_is_refused(tmp_path, monkeypatch):
    from model.io import reader

    monkeypatch.setattr(reader, "MAX_SPANNED_CELLS", 22)

    def stray(wb):
        ws = wb["Demand"]
        ws.insert_rows(1, 20)
        for row in range(1, 20):
            ws.cell(row, 16384).number_format = "0"
    message = only_problem(hc.write_sheets(tmp_path / "wide.xlsx", tweak=stray))
    assert message.startswith("Demand row 21: sheet 'Demand' holds more than 22 cells by this row")


def test_hidden_rows_are_data(tmp_path):
    def hide(wb):
        wb["Supply"].row_dimensions[3].hidden = True
    data = load_workbook(hc.write_sheets(tmp_path / "hidden.xlsx", tweak=hide))
    assert data["Supply"]["row"].tolist() == [2, 3, 4]


def test_trailing_formatted_blank_rows_are_ignored(tmp_path):
    def format_rows(wb):
        ws = wb["Demand"]
        for row in range(3, 1500):
            ws.cell(row, 4).number_format = "#,##0"
            ws.cell(row, 1).value = "   "  # spaces only: blank
    data = load_workbook(hc.write_sheets(tmp_path / "trailing.xlsx", tweak=format_rows))
    assert data["Demand"]["row"].tolist() == [2]


def test_wrong_dimension_record_is_ignored(tmp_path):
    path = hc.patch_sheet(tmp_path / "dim.xlsx", "Supply", b'<dimension ref="A1:E4" />',
                          b'<dimension ref="A1:B2" />')
    assert load_workbook(path)["Supply"]["unit_cost"].tolist() == [10, 20, 15]


def test_header_case_spaces_and_hyphens(tmp_path):
    sheets = hc.valid_sheets()
    sheets["Supply"][0] = [" Country", "COMMODITY ", "Period", "capacity", "Unit-Cost"]
    sheets["Demand"][0] = ["country", "commodity", "period", "Quantity"]
    sheets[" supply "] = sheets.pop("Supply")  # sheet names follow the same rule
    data = load_workbook(hc.write_sheets(tmp_path / "headers.xlsx", sheets))
    assert data["Supply"]["unit_cost"].tolist() == [10, 20, 15]


def test_duplicate_headers_name_both_columns(tmp_path):
    sheets = hc.valid_sheets()
    for row in sheets["Supply"]:
        row.append(row[3])
    sheets["Supply"][0][5] = "Capacity"
    assert "Supply row 1, column capacity: two header cells name this column (D1 and F1); delete or rename one" \
        in problems(hc.write_sheets(tmp_path / "dup.xlsx", sheets))


def test_duplicate_extra_headers_are_ignored(tmp_path):
    sheets = hc.valid_sheets()
    for i, row in enumerate(sheets["Supply"]):
        row.extend(["note", "note"] if i == 0 else ["a", "b"])
    assert len(load_workbook(hc.write_sheets(tmp_path / "extra.xlsx", sheets))["Supply"]) == 3


def test_two_sheets_with_the_same_normalised_name(tmp_path):
    sheets = hc.valid_sheets()
    sheets["supply "] = sheets["Supply"]
    assert any("two sheets are named like this ('Supply' and 'supply ')" in p
               for p in problems(hc.write_sheets(tmp_path / "twice.xlsx", sheets)))


def test_header_is_the_first_non_blank_row(tmp_path):
    sheets = hc.valid_sheets()
    sheets["Demand"] = [[None] * 4, [None] * 4, *sheets["Demand"]]
    assert load_workbook(hc.write_sheets(tmp_path / "late.xlsx", sheets))["Demand"]["row"].tolist() == [4]


# ------------------------------------------------------------------ command line


def cli(*args: str):
    """The command line in-process (fast); one test below runs it as a real subprocess too."""
    from click.testing import CliRunner

    from model.cli import main

    return CliRunner().invoke(main, list(args))


def test_cli_real_process_refuses_an_xml_bomb_with_exit_2(tmp_path):
    out = tmp_path / "plan.xlsx"
    proc = run_cli("solve", str(hc.billion_laughs(tmp_path / "lol.xlsx")), "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "lol.xlsx: part xl/worksheets/sheet1.xml contains an XML DOCTYPE" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.parametrize("make, words", [
    (lambda d: hc.renamed(d / "csv.xlsx", "csv"), "csv.xlsx is not an .xlsx workbook"),
    (lambda d: hc.zip_ratio_bomb(d / "bomb.xlsx", 8), "possible zip bomb"),
    (lambda d: hc.with_cell(d / "err.xlsx", "Supply", 3, 4, ErrorValue("#REF!")), "cell D3 holds an Excel error"),
    (lambda d: hc.with_cell(d / "f.xlsx", "Demand", 2, 4, Formula("=NOSUCH(1)")),
     "cell D2 is a formula with no saved value that cannot be computed"),
    (lambda d: d / "missing.xlsx", "no such file"),
    (lambda d: hc.lock_file(d, "in.xlsx"), "is an Excel lock file"),
])
def test_cli_exit_2_one_line_reason_nothing_written(tmp_path, make, words):
    path = make(tmp_path)
    out = tmp_path / "out" / "plan.xlsx"
    for args in (("validate", str(path)), ("solve", str(path), "-o", str(out))):
        result = cli(*args)
        assert result.exit_code == 2, result.output
        assert words in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def test_cli_solves_a_macro_workbook_and_writes_plain_xlsx(tmp_path):
    out = tmp_path / "plan.xlsx"
    result = cli("solve", str(hc.macro_workbook(tmp_path / "macros.xlsm")), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        types = archive.read("[Content_Types].xml")
    assert not any("vba" in n.lower() for n in names)
    assert b"macroEnabled" not in types
    openpyxl.load_workbook(out, read_only=True).close()


# ------------------------------------------------------------------ fuzzing: InputError or success, nothing else

_FUZZ_BASE: dict[str, bytes] = {}


def _fuzz_parts(tmp_dir: Path) -> dict[str, bytes]:
    if not _FUZZ_BASE:
        _FUZZ_BASE.update(hc.parts_of(hc.write_sheets(tmp_dir / "fuzz-base.xlsx")))
    return dict(_FUZZ_BASE)


def _load_or_input_error(path: Path) -> None:
    try:
        load_workbook(path)
    except InputError as exc:
        assert exc.problems and all("\n" not in str(p) for p in exc.problems)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_worksheet_xml_gives_input_error_or_loads(tmp_path, data):
    parts = _fuzz_parts(tmp_path)
    name = data.draw(st.sampled_from([f"xl/worksheets/sheet{i}.xml" for i in range(1, 5)] + ["xl/workbook.xml"]))
    body = bytearray(parts[name])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            body[at] = data.draw(st.sampled_from(b'<>/"=&;#x0-9aArcvtf .EeN'))
        elif action == "delete":
            del body[at: at + data.draw(st.integers(1, 20))]
        else:
            body[at:at] = data.draw(st.sampled_from([b"<", b"&amp;", b"&#0;", b'r="A0"', b'r="XFD9999999"', b"<v>",
                                                     b"</row>", b'<c r="D2" t="e"><v>#N/A</v></c>', b"\xff\xfe",
                                                     b'<mergeCell ref="A1:A9"/>', b't="d"', b"<f>1/0</f>"]))
    parts[name] = bytes(body)
    _load_or_input_error(hc.write_parts(tmp_path / "fuzz.xlsx", parts))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_zip_bytes_give_input_error_or_load(tmp_path, data):
    base = tmp_path / "zip-base.xlsx"
    if not base.exists():
        hc.write_sheets(base)
    raw = bytearray(base.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "fuzz-zip.xlsx"
    path.write_bytes(bytes(raw))
    _load_or_input_error(path)
