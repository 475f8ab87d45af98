"""The plan workbook an analyst opens: charts with real data ranges, conditional formatting on the
right columns, the Sensitivity and README sheets, provenance in Summary, and a reproducible plan."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from model.api import solve, solve_workbook
from model.data import load_workbook
from tests.test_sensitivity import sheets
from tests.workbooks import write_workbook


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = tmp_path_factory.mktemp("plan")
    inp = write_workbook(d / "in.xlsx", sheets(chn=True, china_cap=0.3))
    out = d / "plan.xlsx"
    plan = solve_workbook(inp, out)
    return inp, out, plan


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def test_charts_are_native_and_read_real_cells(written):
    _, out, _ = written
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
    assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["Overview", "Summary", "Charts"]  # seen first, without reading docs
    ws = wb["Charts"]
    assert len(ws._charts) == 2
    # every series reference points at cells on the Charts sheet that hold numbers
    with zipfile.ZipFile(out) as z:
        xml = z.read("xl/charts/chart1.xml").decode() + z.read("xl/charts/chart2.xml").decode()
    import re

    refs = re.findall(r"<(?:c:)?f>'?Charts'?!\$?([A-Z]+)\$?(\d+)(?::\$?([A-Z]+)\$?(\d+))?</(?:c:)?f>", xml)
    assert len(refs) >= 5, xml[:500]
    numeric = 0
    for c1, r1, c2, r2 in refs:
        for row in ws[f"{c1}{r1}:{c2 or c1}{r2 or r1}"]:
            for cell in row:
                assert cell.value is not None
                numeric += isinstance(cell.value, (int, float))
    assert numeric > 0
    # the supply chart: one bar per commodity, sources as series (AUS, CHN, ... here)
    titles = [str(s.tx.strRef.f) for ch in ws._charts for s in ch.series]
    assert len(titles) >= 3


def test_conditional_formatting_points_at_the_right_columns(written):
    _, out, plan = written
    wb = openpyxl.load_workbook(out)
    expected = {"ChinaShare": "binding", "Capacity": "utilisation", "Sensitivity": "cost_change"}
    for sheet, column in expected.items():
        ws = wb[sheet]
        letter = openpyxl.utils.get_column_letter(header(ws).index(column) + 1)
        formulas = [f for cf in ws.conditional_formatting for rule in cf.rules for f in rule.formula]
        assert any(f"${letter}2" in f for f in formulas), (sheet, formulas)
        ranges = [str(cf.sqref) for cf in ws.conditional_formatting]
        assert any(r.endswith(str(ws.max_row)) for r in ranges), (sheet, ranges, ws.max_row)
    # the cap binds here (CHN cheapest): the rule must fire on a row whose binding cell is TRUE
    ws = wb["ChinaShare"]
    col = header(ws).index("binding")
    assert any(row[col] is True for row in ws.iter_rows(min_row=2, values_only=True))
    # AUS capacity is saturated: the Capacity rule's threshold is met in the written cells
    ws = wb["Capacity"]
    col = header(ws).index("utilisation")
    assert any((row[col] or 0) >= 0.999999 for row in ws.iter_rows(min_row=2, values_only=True))


def test_sensitivity_and_readme_sheets_explain_themselves(written):
    _, out, _ = written
    wb = openpyxl.load_workbook(out)
    ws = wb["Sensitivity"]
    cols = header(ws)
    assert {"measure", "cost_change", "unit", "cost_cut_to_enter"} <= set(cols)
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    measures = {r[cols.index("measure")] for r in rows}
    assert {"China cap", "capacity", "unit cost", "delivered cost"} <= measures
    cap = next(r for r in rows if r[cols.index("measure")] == "China cap")
    assert cap[cols.index("cost_change")] == pytest.approx(-20.0)
    assert "percentage point" in cap[cols.index("unit")]
    value_cell = ws.cell(row=rows.index(cap) + 2, column=cols.index("value") + 1)
    assert "%" in value_cell.number_format
    readme = [r for r in wb["README"].iter_rows(min_row=2, values_only=True)]
    sens_help = next(r[2] for r in readme if r[0] == "Sensitivity" and not r[1])
    assert "SIGN CONVENTION" in sens_help and "negative" in sens_help
    assert all(r[2] for r in readme if r[0] == "Sensitivity" and r[1]), "every Sensitivity column explained"
    assert any(r[0] == "Charts" for r in readme)


def test_summary_records_provenance(written):
    inp, _, plan = written
    s = dict(zip(plan.tables["Summary"]["metric"], plan.tables["Summary"]["value"], strict=True))
    assert s["input_sha256"] == hashlib.sha256(Path(inp).read_bytes()).hexdigest()
    for key in ("tool_version", "pyomo_version", "solver", "solve_seconds", "build_seconds",
                "sensitivity_seconds", "setting risk_weight", "setting china_group"):
        assert key in s and s[key] not in (None, "", "unknown"), key
    assert "HiGHS" in s["solver"]


def test_rerun_gives_the_same_plan(written):
    inp, _, plan = written
    again = solve(load_workbook(inp))
    pd.testing.assert_frame_equal(plan.tables["Flows"], again.tables["Flows"])
    pd.testing.assert_frame_equal(plan.tables["Sensitivity"], again.tables["Sensitivity"])


def test_cli_flags_add_ranging_and_alternate_optima(tmp_path):
    import subprocess
    import sys

    inp = write_workbook(tmp_path / "in.xlsx", sheets(jpn_cost=25.0))
    out = tmp_path / "plan.xlsx"
    proc = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(inp), "-o", str(out), "--ranging",
                           "--alternate-optima"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    assert {"Sensitivity", "AlternateOptima", "Charts"} <= set(wb.sheetnames)
    alt = list(wb["AlternateOptima"].iter_rows(values_only=True))
    cols = list(alt[0])
    forced = {r[cols.index("source")]: r[cols.index("forced")] for r in alt[1:]}
    assert forced == {"AUS": True, "CAN": False, "JPN": False}
    sens = list(wb["Sensitivity"].iter_rows(values_only=True))
    assert sens[0][sens[0].index("allowable_increase")] == "allowable_increase"
    wb.close()
