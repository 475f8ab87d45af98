"""`sourcing batch`: base plus every scenario, failures isolated, Diff, charts, Parquet, Ctrl-C."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from model.batch import output as batch_output
from model.batch.commands import run_batch
from model.batch.runner import Job, run_jobs
from model.batch.scenarios import apply_scenario
from model.cli import main
from model.data import load_workbook
from tests.test_scenarios import sheets
from tests.workbooks import read_sheet, write_workbook

SCENARIOS = [
    ["ga_ban", "Supply", "capacity", "country=CHN;commodity=GA", "set", 0, "export ban"],
    ["broken", "Supply", "capacity", "country=JPN", "set", 0, "no such supplier"],
    ["cap20", "Commodities", "china_cap", None, "set", 0.2, "all caps 20%"],
    ["premium", "Supply", "unit_cost", "country=AUS", "scale", 1.5, None],
]


@pytest.fixture()
def workbook(tmp_path):
    return write_workbook(tmp_path / "in.xlsx", sheets(SCENARIOS))


def test_batch_solves_base_and_every_scenario_and_isolates_failures(workbook):
    data = load_workbook(workbook)
    tables, report = run_batch(data, progress=False)
    comp = tables["Comparison"]
    assert comp["scenario"].tolist() == ["base", "ga_ban", "broken", "cap20", "premium"]
    by = comp.set_index("scenario")
    assert by.at["broken", "status"] == "error"
    assert "Scenarios row 3" in by.at["broken", "error"]
    assert by.at["base", "delta_cost"] == 0
    assert by.at["ga_ban", "shortfall_total"] > 0
    assert by.at["premium", "delta_cost"] > 0
    assert by.at["cap20", "china_share_REO"] <= 0.2 + 1e-9
    # the long tables lead with the scenario
    assert list(tables["Flows"].columns[:2]) == ["scenario", "period"]
    assert set(tables["Flows"]["scenario"]) == {"base", "ga_ban", "cap20", "premium"}
    diff = tables["Diff"]
    inputs = diff[(diff["scenario"] == "ga_ban") & (diff["kind"] == "input")]
    assert inputs[["sheet", "row", "column", "old", "new"]].values.tolist() == [
        ["Supply", 5, "capacity", 100.0, 0.0]
    ]
    assert (diff[diff["scenario"] == "ga_ban"]["kind"] == "flow cost").any()
    # the warm session updates in place when only values change
    passes = dict(zip(comp["scenario"], comp["model_pass"], strict=True))
    assert passes["base"] == "rebuild" and passes["ga_ban"] == "update"


def test_scenario_solved_in_a_batch_equals_a_fresh_solve(workbook):
    from model.api import solve

    data = load_workbook(workbook)
    _, report = run_batch(data, ["premium", "cap20"], progress=False)
    assert [r.key for r in report.results] == ["base", "premium", "cap20"]
    for r in report.results:
        fresh = solve(apply_scenario(data, r.key)[0])
        assert r.objective == pytest.approx(fresh.objective, rel=1e-9)


def test_cli_batch_writes_every_sheet_and_charts(workbook, tmp_path):
    out = tmp_path / "out" / "batch.xlsx"
    run = CliRunner().invoke(main, ["batch", str(workbook), "-o", str(out)])
    assert run.exit_code == 0, run.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:6] == [
        "Comparison",
        "Flows",
        "Shares",
        "ChinaShare",
        "Shortfalls",
        "Diff",
    ]
    assert len(wb["Comparison"]._charts) == 2
    rows = read_sheet(out, "Comparison")
    assert rows[0]["scenario"] == "base"
    assert "scenario broken failed: Scenarios row 3" in run.output


def test_cli_batch_unknown_scenario_is_an_input_error(workbook, tmp_path):
    run = CliRunner().invoke(
        main, ["batch", str(workbook), "-o", str(tmp_path / "o.xlsx"), "--scenarios", "nope"]
    )
    assert run.exit_code == 2
    assert "unknown scenario(s): nope" in run.output


def test_long_tables_beyond_the_sheet_limit_go_to_parquet(workbook, tmp_path, monkeypatch):
    monkeypatch.setattr(batch_output, "MAX_SHEET_ROWS", 3)
    out = tmp_path / "b.xlsx"
    run = CliRunner().invoke(main, ["batch", str(workbook), "-o", str(out)])
    assert run.exit_code == 0, run.output
    parquet = tmp_path / "b.Flows.parquet"
    assert parquet.exists()
    flows = pd.read_parquet(parquet)
    assert len(flows) > 3 and flows.columns[0] == "scenario"
    note = read_sheet(out, "Flows")
    assert note[0]["parquet_file"] == str(parquet)


def test_ctrl_c_keeps_what_finished(workbook):
    data = load_workbook(workbook)
    seen = []

    def interrupt_after_two(result):
        seen.append(result.key)
        if len(seen) == 2:
            raise KeyboardInterrupt

    jobs = [Job(n, batch_output_partial(n)) for n in ["base", "ga_ban", "cap20", "premium"]]
    report = run_jobs(data, jobs, chunk_size=1, progress=False, on_result=interrupt_after_two)
    assert report.interrupted
    assert [r.key for r in report.results] == ["base", "ga_ban"]  # the finished ones, nothing after


def batch_output_partial(name):
    from functools import partial

    return partial(apply_scenario, name=name)


def test_write_batch_formats_by_declaration_text_never_formula_and_currency_axes(tmp_path):
    """XlsxWriter path: long-form Flows formatted by long_form_sheet, china_share_<CODE> as %,
    '=...' text stays text, NaN/inf blank, chart value axes of currency in bn, README notes."""
    import zipfile

    import numpy as np
    import pandas as pd

    from model.batch.output import Chart, write_batch

    comparison = pd.DataFrame({"scenario": ["base", "=1+1"], "status": ["optimal", "optimal"],
                               "objective": [2.0e12, 2.5e12], "china_share_REO": [0.5, np.inf],
                               "error": [None, "=HYPERLINK(\"x\")"]})
    flows = pd.DataFrame({"scenario": ["base"], "period": [2026], "commodity": ["REO"],
                          "origin": ["CHN"], "destination": ["USA"], "quantity": [np.nan],
                          "cost": [1.5e9]})
    out = tmp_path / "new" / "b.xlsx"
    write_batch({"Comparison": comparison, "Flows": flows}, out, notes=[("Comparison", "=note")],
                charts=[Chart("Comparison", "bar", "Objective", "scenario", ("objective",), "USD")])
    wb = openpyxl.load_workbook(out)
    ws = wb["Comparison"]
    assert ws["A3"].value == "=1+1" and ws["A3"].data_type == "s"
    assert ws["E3"].data_type == "s"
    assert ws["D2"].number_format.endswith("%") and ws["D3"].value is None
    assert wb["Flows"]["F2"].value is None
    assert wb["README"]["B2"].value == "=note" and wb["README"]["B2"].data_type == "s"
    assert len(ws._charts) == 1
    with zipfile.ZipFile(out) as z:
        chart = z.read("xl/charts/chart1.xml").decode()
        assert ',,,&quot;bn&quot;' in chart and "Objective" in chart
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode()
