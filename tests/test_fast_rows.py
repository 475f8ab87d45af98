"""Pre-rendered row XML (model/io/rows_xml.py) writes what XlsxWriter's per-cell path wrote.

The per-cell path the product used before lives only here (`per_cell_rows`): each workbook is
written twice, once through the product and once with its data rows written cell by cell through
XlsxWriter's own `write_row` / `write_number`, and the two files are compared cell for cell
through openpyxl (value, data type, number format, font), sheet by sheet (dimension, widths,
frozen panes, filters, conditional formats), and through the project's own reader
(model/io/package.py + sheetxml.py). Numbers may differ only where XlsxWriter's `%.16G` drops a
17th digit: the fast path keeps the exact value (checked against the source table).
"""

from __future__ import annotations

import math
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

import model.io.xlsx_plan as xlsx_plan
from model.api import solve
from model.data import load_workbook
from model.io.package import open_package
from model.io.rows_xml import MAX_TEXT
from model.io.sheetxml import SheetStream
from model.io.writer import write_plan
from model.schema import NUMBER_FORMATS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base_case.xlsx"


# --- the reference: the per-cell path as the product had it (XlsxWriter's write_row per row) ------

def _old_plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, str):
        return value[:MAX_TEXT]
    return str(value)[:MAX_TEXT]


def _old_python_columns(table: pd.DataFrame) -> list[list[Any]]:
    out = []
    for name in table.columns:
        col = table[name]
        if col.dtype.kind == "f":
            v = col.to_numpy(dtype=float)
            values = v.astype(object)
            values[~np.isfinite(v)] = None
            out.append(values.tolist())
        elif col.dtype.kind in "iub" and not col.isna().any():
            out.append(col.to_numpy().tolist())
        elif pd.api.types.infer_dtype(col, skipna=True) == "string":
            values = col.astype(object).where(col.notna(), None)
            if (values.str.len() > MAX_TEXT).any():
                values = values.str.slice(0, MAX_TEXT)
            out.append(values.tolist())
        else:
            out.append([_old_plain(x) for x in col.to_numpy(dtype=object)])
    return out


class _RecordingBook(xlsx_plan._Book):
    """The product's workbook, remembered so the reference can find its per-row Format objects."""

    last: xlsx_plan._Book | None = None

    def __init__(self, handle):
        super().__init__(handle)
        _RecordingBook.last = self


def per_cell_rows(ws, first_row: int, table: pd.DataFrame, row_styles: dict[int, list[str]]) -> None:
    """The data rows as the product wrote them before: XlsxWriter's `write` per cell, then the
    per-row format's write_number over each number cell of Summary/Sensitivity value columns.
    (The product called `write_row`, which also left out the rest of a row after a text cut at
    32,767 UTF-16 units; the fast path writes the whole row, which the hostile test checks.)"""
    book = _RecordingBook.last
    by_style = {f' s="{f.xf_index}"': f for f in book._formats.values() if f.xf_index is not None}
    data = _old_python_columns(table)
    special = sorted(row_styles)
    for i, record in enumerate(zip(*data, strict=True)) if table.shape[1] else ():
        r = first_row + i
        for j, value in enumerate(record):  # write_row itself stops a row at a cut string (-2)
            ws.write(r, j, value)
        for j in special:
            if record[j] is not None and not isinstance(record[j], (str, bool)):
                ws.write_number(r, j, record[j], by_style[row_styles[j][i]])


@pytest.fixture
def both(monkeypatch, tmp_path):
    """Write with `writer(path)` twice: the product's rows, then the per-cell reference's."""
    monkeypatch.setattr(xlsx_plan, "_Book", _RecordingBook)

    def run(writer) -> tuple[Path, Path]:
        fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
        writer(fast)
        with monkeypatch.context() as m:
            m.setattr(xlsx_plan, "_write_rows", per_cell_rows)
            writer(slow)
        return fast, slow

    return run


# --- comparisons --------------------------------------------------------------------------------

def _same_number(fast: Any, slow: Any) -> bool:
    """XlsxWriter writes `%.16G`; the fast path the exact repr: equal once rounded the same way."""
    return float(f"{float(fast):.16G}") == float(slow)


def _same_value(fast: Any, slow: Any) -> bool:
    if isinstance(fast, bool) or isinstance(slow, bool) or isinstance(fast, str) or isinstance(slow, str):
        return type(fast) is type(slow) and fast == slow
    if fast is None or slow is None:
        return fast is slow
    return _same_number(fast, slow)


def _dimensions(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        names = sorted((n for n in z.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                       key=lambda n: int(re.findall(r"\d+", n)[0]))
        return [re.search(rb'<dimension ref="([^"]+)"', z.read(n)).group(1).decode() for n in names]


def assert_same_workbook(fast: Path, slow: Path) -> int:
    """Cell for cell through openpyxl, sheet settings, and the project's reader; returns cells compared."""
    assert _dimensions(fast) == _dimensions(slow)
    a, b = openpyxl.load_workbook(fast), openpyxl.load_workbook(slow)
    assert a.sheetnames == b.sheetnames
    cells = 0
    for name in a.sheetnames:
        wa, wb_ = a[name], b[name]
        assert (wa.max_row, wa.max_column) == (wb_.max_row, wb_.max_column), name
        assert wa.freeze_panes == wb_.freeze_panes and wa.auto_filter.ref == wb_.auto_filter.ref, name
        assert [str(r.sqref) for r in wa.conditional_formatting] == [str(r.sqref) for r in wb_.conditional_formatting]
        assert {k: d.width for k, d in wa.column_dimensions.items()} == \
            {k: d.width for k, d in wb_.column_dimensions.items()}, name
        for ra, rb in zip(wa.iter_rows(), wb_.iter_rows(), strict=True):
            for ca, cb in zip(ra, rb, strict=True):
                where = f"{name}!{ca.coordinate}"
                assert ca.data_type == cb.data_type, where
                assert _same_value(ca.value, cb.value), (where, ca.value, cb.value)
                assert ca.number_format == cb.number_format, where
                assert ca.font.b == cb.font.b, where
                cells += ca.value is not None
    # the project's own reader (write-back and load paths) reads both the same
    with zipfile.ZipFile(fast) as za, zipfile.ZipFile(slow) as zb:
        pa, pb = open_package(za), open_package(zb)
        assert [s.title for s in pa.sheets] == [s.title for s in pb.sheets]
        for sa, sb in zip(pa.sheets, pb.sheets, strict=True):
            rows_a, rows_b = list(SheetStream(pa, sa.part)), list(SheetStream(pb, sb.part))
            assert [r for r, _ in rows_a] == [r for r, _ in rows_b], sa.title
            for (_, ca), (_, cb) in zip(rows_a, rows_b, strict=True):
                assert [c for c, _, _ in ca] == [c for c, _, _ in cb]
                assert all(_same_value(x, y) for (_, x, _), (_, y, _) in zip(ca, cb, strict=True)), sa.title
    return cells


def assert_exact_numbers(path: Path, sheet: str, table: pd.DataFrame, start_row: int = 1) -> None:
    """Every finite float of `table` reads back from the fast file bit for bit (XlsxWriter's own
    `%.16G` does not promise that)."""
    ws = openpyxl.load_workbook(path, read_only=True)[sheet]
    rows = list(ws.iter_rows(min_row=start_row + 1, values_only=True))
    for j, name in enumerate(table.columns):
        if table[name].dtype.kind != "f":
            continue
        for i, x in enumerate(table[name].to_numpy(dtype=float)):
            if math.isfinite(x):
                assert float(rows[i][j]) == x and math.copysign(1, float(rows[i][j])) == math.copysign(1, x), \
                    (sheet, name, i, x, rows[i][j])


# --- the workbooks ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base_plan():
    return solve(load_workbook(BASE), rows="decisive")


def test_base_case_plan_equals_the_per_cell_path(both, base_plan):
    fast, slow = both(lambda p: write_plan(base_plan, p))
    assert assert_same_workbook(fast, slow) > 70_000  # the whole plan, not a corner of it
    assert_exact_numbers(fast, "Flows", base_plan.tables["Flows"])
    assert_exact_numbers(fast, "Overview", base_plan.tables["Overview"], start_row=xlsx_plan.OVERVIEW_ROWS + 1)


def test_batch_workbook_equals_the_per_cell_path(both):
    from model.batch.commands import batch_charts, run_batch
    from model.batch.output import write_batch

    data = load_workbook(BASE)
    tables, report = run_batch(data, workers=1, progress=False)
    assert len(report.results) > 5
    fast, slow = both(lambda p: write_batch(tables, p, charts=batch_charts(tables)))
    assert assert_same_workbook(fast, slow) > 10_000
    with zipfile.ZipFile(fast) as z:  # the charts are still there
        assert sum(n.startswith("xl/charts/chart") for n in z.namelist()) == len(batch_charts(tables))


def hostile_table() -> pd.DataFrame:
    long_text = "x" * 40_000
    astral = "\U0001F600" * 20_000  # 40,000 UTF-16 units in 20,000 characters: cut by UTF-16 length
    text = ["=1+1", "=HYPERLINK(\"http://evil\")", "+SUM(A1)", "-2+3", "@cmd", "<&>\"'", "a\x00b\x01c\x1f",
            "_x0041_ literal", "  leading", "trailing\t", " ", "", None, "\ufffe\uffff", "line\nbreak",
            long_text, astral, "\x1cx", "ok", "naïve – ünïcode"]
    n = len(text)
    floats = [0.1 + 0.2, -0.0, 1e-300, math.nan, math.inf, -math.inf, 1e22, 123456789.12345678, 2.0 ** 53 + 2,
              -1.5, 5e-324, 1.7976931348623157e308, 0.0, 3.0, 100.0, math.pi, -1e-7, 1 / 3, 42.0, 7.25]
    ints = [0, -1, 2 ** 53 + 1, 2 ** 62, -(2 ** 62), 1, 2, 3, 10 ** 15, 12, 2026, 2027, 5, 6, 7, 8, 9, 10, 11, 13]
    mixed = [1, "two", 3.5, True, None, math.nan, pd.NA, np.int64(7), np.float64(math.inf), "=A1",
             False, np.bool_(True), "", "  pad ", 2 ** 60, -0.0, pd.Timestamp("2026-01-01"), 1e-300, "<b>", 0]
    return pd.DataFrame({
        "text": pd.array(text, dtype=object),
        "text_str": pd.array([t if t is not None else None for t in text], dtype="str"),
        "quantity": floats,
        "period": ints,
        "binding": [i % 3 == 0 for i in range(n)],
        "flag_na": pd.array([True, None, False] * 6 + [True, False], dtype="boolean"),
        "count": pd.array([1, None] * 10, dtype="Int64"),
        "mixed": pd.array(mixed, dtype=object),
        "all_missing": [math.nan] * n,
    })


def test_hostile_text_and_numbers_equal_the_per_cell_path(both):
    from model.batch.output import write_batch

    table = hostile_table()
    summary = pd.DataFrame({"metric": ["total_cost", "variables", "status", "cost_of_china_caps", "nope"],
                            "value": pd.array([1.5e12, 10045, "optimal", math.nan, 0.1 + 0.2], dtype=object),
                            "unit": ["USD"] * 5, "meaning": ["m"] * 5})
    sens = pd.DataFrame({"measure": ["China cap", "capacity", "China cap", "share maximum"],
                         "period": [2026, 2026, 2027, 2028], "value": [0.3, 1200.0, math.nan, -0.0],
                         "level": [0.25, 1000.0, 0.5, 1e-300]})
    repeated = [0.0, 1.5, 0.1 + 0.2, math.nan, 640000.0, 1e-300] * 50  # spelled once per value
    signed = repeated[:-1] + [-0.0]  # -0.0 equals 0.0 as a dict key: its sign must survive
    many = pd.DataFrame({"repeated": repeated, "signed": signed, "count": list(range(300))})
    tables = {"Hostile": table, "Summary": summary, "Sensitivity": sens, "Empty": table.iloc[:0],
              "Repeated": many}
    fast, slow = both(lambda p: write_batch(tables, p))
    assert_same_workbook(fast, slow)
    wb = openpyxl.load_workbook(fast)
    ws = wb["Hostile"]
    header = [c.value for c in ws[1]]
    col = {h: header.index(h) + 1 for h in header}
    for i, t in enumerate(table["text"], start=2):
        cell = ws.cell(i, col["text"])
        if not isinstance(t, str) or t == "":
            assert cell.value is None
        else:  # never a formula, the characters kept (openpyxl reads _xHHHH_ back as the character)
            assert cell.data_type == "s", (i, t)
            assert len(cell.value.encode("utf-16-le")) // 2 <= MAX_TEXT
    assert ws.cell(2, col["text"]).value == "=1+1"
    assert ws.cell(10, col["text"]).value == "  leading" and ws.cell(11, col["text"]).value == "trailing\t"
    assert ws.cell(17, col["text"]).value == "x" * MAX_TEXT
    assert ws.cell(18, col["text"]).value == "\U0001F600" * (MAX_TEXT // 2)
    assert ws.cell(18, col["quantity"]).value == -1e-7  # the row goes on after a cut text
    assert [ws.cell(i, col["quantity"]).value for i in (5, 6, 7)] == [None, None, None]  # NaN, inf, -inf
    assert ws.cell(2, col["quantity"]).value == 0.1 + 0.2  # exact (XlsxWriter's %.16G reads back 0.3)
    assert openpyxl.load_workbook(slow)["Hostile"].cell(2, col["quantity"]).value == 0.3
    assert ws.cell(4, col["period"]).value == 2 ** 53 + 1
    assert ws.cell(2, col["binding"]).value is True and ws.cell(2, col["binding"]).data_type == "b"
    assert all(ws.cell(i, col["all_missing"]).value is None for i in range(2, 22))
    assert_exact_numbers(fast, "Hostile", table)
    assert_exact_numbers(fast, "Repeated", many)
    assert math.copysign(1, wb["Repeated"]["B301"].value) == -1 and wb["Repeated"]["A5"].value is None
    with zipfile.ZipFile(fast) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml  # no formula anywhere
    assert "_x0000_" in xml and "_x005F_x0041_" in xml and 'xml:space="preserve"' in xml
    assert "&lt;&amp;&gt;" in xml
    values = [(c.value, c.number_format) for c in wb["Sensitivity"]["C"][1:]]  # per-row formats
    assert values == [(0.3, "0.0%"), (1200.0, NUMBER_FORMATS["number"]), (None, "General"), (-0.0, "0.0%")]
    summary_formats = [c.number_format for c in wb["Summary"]["B"][1:3]]
    assert summary_formats == [NUMBER_FORMATS["money"], NUMBER_FORMATS["integer"]]


def test_shown_width_sizes_text_numbers_and_flags():
    from model.io.writer import _shown_width

    assert _shown_width(pd.Series(["ab", None, "abcdef"], dtype="str"), "@") == 6
    assert _shown_width(pd.Series(["ab", None, 12345678, True], dtype=object), "@") == 8  # str() of each
    assert _shown_width(pd.Series([None, math.nan], dtype=object), "@") == 0
    assert _shown_width(pd.Series([True, True]), "General") == 4
    assert _shown_width(pd.Series([True, False]), "General") == 5
    assert _shown_width(pd.Series([1234.5, math.nan, -2.0]), "#,##0.00") == len("1,234.50") + 2
    assert _shown_width(pd.Series([0.256]), "0.0%") == len("25.6%") + 1
    assert _shown_width(pd.Series([3, 12345], dtype="Int64"), "#,##0") == len("12,345") + 1


def test_row_blocks_keep_xlsxwriter_bookkeeping(tmp_path):
    """A block flushes the row XlsxWriter holds, sets the dimension, and closes its rows to
    later writes (XlsxWriter would emit them twice); a block over written rows is refused."""
    import xlsxwriter

    from model.io.rows_xml import RowBlockSheet, render_column, row_numbers

    path = tmp_path / "block.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("S", worksheet_class=RowBlockSheet)
    ws.write_row(2, 1, ["a", "b"])
    ws.write_cell_columns(3, [[""] * 3, render_column(pd.Series([1.5, math.nan, 3.0]), 1, row_numbers(3, 3), ""),
                              render_column(pd.Series(["x", "", None], dtype=object), 2, row_numbers(3, 3), "")])
    assert ws.write_number(5, 1, 9.0) != 0  # inside the block: refused, not written twice
    with pytest.raises(RuntimeError):
        ws.write_cell_columns(4, [["<c/>"]])
    assert ws.write_string(7, 0, "after") == 0
    wb.close()
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<dimension ref="A3:C8"/>' in xml
    assert re.findall(r'<row r="(\d+)"', xml) == ["3", "4", "6", "8"]  # row 5 has no cell: no row
    rows = list(openpyxl.load_workbook(path)["S"].iter_rows(min_row=3, values_only=True))
    assert rows == [(None, "a", "b"), (None, 1.5, "x"), (None, None, None), (None, 3.0, None), (None,) * 3,
                    ("after", None, None)]
