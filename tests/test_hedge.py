"""The hedged plan (issue 12): hand-worked two-stage optima, expected and worst case.

USA needs 100 t in 2026 and in 2027. China sells at 10, Australia at 30; a US stock costs 5 a
tonne a period to hold. Scenario `ban`: China sells nothing in 2027. The first stage (the 2026
flows and stock level) is shared; with a stock of s tonnes carried into 2027:

    base:  2026  10 (100 + s) + 5 s,  2027  10 (100 - s)   ->  2000 +  5 s
    ban:   2026  the same,            2027  30 (100 - s)   ->  4000 - 15 s

Equal odds: expected 3000 - 5 s, so s = 100 and 2500; base alone 2000, ban alone 2500 (stock
100), so EVPI = 2500 - 2250 = 250; the base plan (s = 0) gives 2000 and 4000: worth 500 less.
Ban at 10%: 2200 + 3 s, so s = 0 (the base plan): 2200, value of hedging 0, EVPI 2200 - 2050.
Worst case: min max(2000 + 5 s, 4000 - 15 s) at s = 100: 2500; the base plan's worst is 4000.
"""

from __future__ import annotations

import subprocess
import sys

import openpyxl
import pytest

from model.batch.hedge import solve_hedge
from model.data import load_workbook
from model.errors import InputError
from model.schema import OUTPUTS
from tests.workbooks import write_workbook

SCENARIOS = ["scenario", "sheet", "column", "where", "action", "value", "note"]


def sheets(extra_scenarios: list | None = None) -> dict:
    return {
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", None], ["AUS", "AU", "Pax", None],
                      ["CHN", "CN", "China", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["GA", "gallium", "t", None, 1000]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"], ["CHN", "GA", 2026, 200, 10],
                   ["CHN", "GA", 2027, 200, 10], ["AUS", "GA", None, 200, 30]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "GA", 2026, 100], ["USA", "GA", 2027, 100]],
        "Stocks": [["country", "commodity", "initial", "capacity", "holding_cost"], ["USA", "GA", 0, None, 5]],
        "Scenarios": [SCENARIOS, ["ban", "Supply", "capacity", "country=CHN;period=2027", "set", 0, "export ban"],
                      *(extra_scenarios or [])],
    }


@pytest.fixture
def data(tmp_path):
    return load_workbook(write_workbook(tmp_path / "hedge.xlsx", sheets()))


def first_stock(res) -> float:
    first = res.tables["FirstStage"]
    return float(first.loc[first["kind"] == "stock", "quantity"].sum())


def test_expected_hedge_stocks_up_before_the_ban(data):
    res = solve_hedge(data)
    assert res.objective == pytest.approx(2500)
    assert first_stock(res) == pytest.approx(100)
    hedge = res.tables["Hedge"].set_index("scenario")
    assert hedge["probability"].tolist() == pytest.approx([0.5, 0.5])
    assert hedge.at["base", "objective"] == pytest.approx(2500)
    assert hedge.at["ban", "objective"] == pytest.approx(2500)
    assert hedge["own_optimum"].tolist() == pytest.approx([2000, 2500])
    assert hedge["base_first_stage"].tolist() == pytest.approx([2000, 4000])
    assert res.evpi == pytest.approx(250)
    assert res.value_of_hedging == pytest.approx(500)
    summary = dict(zip(res.tables["Summary"]["metric"], res.tables["Summary"]["value"], strict=True))
    assert summary["expected_objective"] == pytest.approx(2500)
    # per-scenario flows in long form: the ban scenario buys nothing from China in 2027
    flows = res.tables["ScenarioFlows"]
    ban27 = flows[(flows["scenario"] == "ban") & (flows["period"] == 2027)]
    assert ban27["quantity"].sum() == pytest.approx(0)
    # the stock bought now is drawn in 2027 in both scenarios
    stocks = res.tables["ScenarioStocks"].set_index(["scenario", "period"])
    assert stocks.loc[("ban", 2026), "level"] == pytest.approx(100)
    assert stocks.loc[("ban", 2027), "change"] == pytest.approx(-100)
    assert list(res.tables["ScenarioStocks"].columns) == OUTPUTS["ScenarioStocks"].column_names


def test_unlikely_ban_keeps_the_base_plan(data):
    res = solve_hedge(data, {"ban": 0.1})
    assert dict(zip(res.tables["Hedge"]["scenario"], res.tables["Hedge"]["probability"], strict=True)) == \
        pytest.approx({"base": 0.9, "ban": 0.1})
    assert res.objective == pytest.approx(2200)
    assert first_stock(res) == pytest.approx(0)
    assert res.value_of_hedging == pytest.approx(0, abs=1e-9)
    assert res.evpi == pytest.approx(2200 - 2050)


def test_worst_case_hedge(data):
    res = solve_hedge(data, {"ban": 0.1}, worst_case=True)
    assert res.objective == pytest.approx(2500)
    assert first_stock(res) == pytest.approx(100)
    assert res.value_of_hedging == pytest.approx(4000 - 2500)
    summary = dict(zip(res.tables["Summary"]["metric"], res.tables["Summary"]["value"], strict=True))
    assert summary["worst_case_objective"] == pytest.approx(2500)


def test_hedge_with_a_binary_project_is_one_mip(tmp_path):
    # a US plant from 2027 (100 t a year at 12, 300 once, all or nothing), decided now.
    # Built: base 1000 + 1000 (China beats 12) + 300 = 2300; ban 1000 + 1200 + 300 = 2500;
    # expected 2400 < 2500 (the stock plan), and a stock only adds cost (5 + 10 > 12)
    s = sheets()
    s["Projects"] = [["project", "country", "commodity", "first_period", "capacity", "unit_cost", "capex",
                      "fixed_cost", "build"], ["US_plant", "USA", "GA", 2027, 100, 12, 0, 300, "binary"]]
    res = solve_hedge(load_workbook(write_workbook(tmp_path / "mip.xlsx", s)))
    assert res.objective == pytest.approx(2400)
    first = res.tables["FirstStage"]
    assert first.loc[first["kind"] == "build", "quantity"].tolist() == pytest.approx([1.0])
    assert first_stock(res) == pytest.approx(0)


def test_bad_probabilities_are_input_errors(data):
    with pytest.raises(InputError, match="add up to"):
        solve_hedge(data, {"base": 0.7, "ban": 0.7})
    with pytest.raises(InputError, match="unknown scenario"):
        solve_hedge(data, {"typo": 0.5})


def test_cli_writes_the_hedge_workbook(tmp_path):
    inp = write_workbook(tmp_path / "hedge.xlsx", sheets())
    out = tmp_path / "hedge_out.xlsx"
    proc = subprocess.run([sys.executable, "-m", "model.cli", "hedge", str(inp), "--scenario", "ban=0.5",
                           "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "value of hedging 500.00" in proc.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["Summary", "Hedge", "FirstStage", "ScenarioFlows", "ScenarioStocks"]
    for name in ("Hedge", "FirstStage", "ScenarioFlows", "ScenarioStocks"):
        header = [c.value for c in next(wb[name].iter_rows(max_row=1))]
        assert header == OUTPUTS[name].column_names
    bad = subprocess.run([sys.executable, "-m", "model.cli", "hedge", str(inp), "--scenario", "ban", "-o",
                          str(tmp_path / "x.xlsx")], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "NAME=PROBABILITY" in bad.stderr


def test_a_scenario_strikes_after_the_first_stage_unless_told_otherwise(tmp_path):
    # `ban_all` cuts China in 2026 too. By default scenarios strike after the first stage, so it
    # hedges like `ban` (2500). As written (--from-first-period) the shared 2026 purchases cannot
    # use China in any scenario: base 30 (100 + s) + 5 s + 10 (100 - s), ban 3000 + 35 s +
    # 30 (100 - s): s = 0, expected (4000 + 6000) / 2 = 5000, and the base plan (100 t from
    # China in 2026) cannot be carried out under the ban: value of hedging infinite.
    s = sheets()
    s["Scenarios"] = [SCENARIOS, ["ban_all", "Supply", "capacity", "country=CHN", "set", 0, "ban from now"]]
    data = load_workbook(write_workbook(tmp_path / "all.xlsx", s))
    later = solve_hedge(data)
    assert later.objective == pytest.approx(2500)
    now = solve_hedge(data, from_first_period=True)
    assert now.objective == pytest.approx(5000)
    assert first_stock(now) == pytest.approx(0)
    assert now.value_of_hedging == float("inf")
    summary = dict(zip(now.tables["Summary"]["metric"], now.tables["Summary"]["value"], strict=True))
    assert "cannot be carried out in ban_all" in summary["value_of_hedging"]
