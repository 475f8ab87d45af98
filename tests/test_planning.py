"""Stocks and Projects (issue 12): hand-worked known optima, checked three ways.

Every case asserts the objective against a number worked out below by hand, that the engine's
plan passes the engine-independent checker (tests/independent/checker.py, which reads the Stocks
and Projects sheets) and that the scipy reference LP (tests/independent/reference_lp.py) finds
the same optimum.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from model.api import solve_workbook
from model.data import load_workbook
from model.errors import InputError
from tests.independent.checker import check_plan
from tests.independent.reference_lp import reference_solve
from tests.workbooks import write_workbook

SUPPLY = ["country", "commodity", "period", "capacity", "unit_cost"]
DEMAND = ["country", "commodity", "period", "quantity"]
STOCKS = ["country", "commodity", "initial", "capacity", "holding_cost", "max_release"]
PROJECTS = ["project", "country", "commodity", "first_period", "capacity", "unit_cost", "capex", "fixed_cost",
            "build"]


def base_sheets(penalty: float = 1000) -> dict:
    return {
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", None], ["AUS", "AU", "Pax", None],
                      ["CHN", "CN", "China", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["GA", "gallium", "t", None, penalty]],
    }


def solved(tmp_path: Path, name: str, sheets: dict):
    """Solve through the API, write the plan, check it independently; return (plan, reference)."""
    inp = write_workbook(tmp_path / f"{name}.xlsx", sheets)
    out = tmp_path / f"{name}_plan.xlsx"
    plan = solve_workbook(inp, out)
    assert check_plan(inp, out) == []
    ref = reference_solve(inp)
    assert ref.objective == pytest.approx(plan.objective, rel=1e-9, abs=1e-9)
    return plan, ref


# ------------------------------------------------------------------------------------ stocks


def stock_sheets(stock_row: list) -> dict:
    """USA needs 40 t of gallium in 2026 and 50 t in 2027; Australia sells 100 t at 10 in 2026 and
    nothing in 2027: the 2027 demand can only come from a stock bought in 2026."""
    return base_sheets() | {
        "Supply": [SUPPLY, ["AUS", "GA", 2026, 100, 10], ["AUS", "GA", 2027, 0, 10]],
        "Demand": [DEMAND, ["USA", "GA", 2026, 40], ["USA", "GA", 2027, 50]],
        "Stocks": [STOCKS, stock_row],
    }


def test_a_stock_carries_supply_into_the_next_period(tmp_path):
    # initial 5: buy 40 - 5 + 50 = 85 t at 10 (850), hold 50 t through 2026 at 1 (50): 900
    plan, ref = solved(tmp_path, "stock", stock_sheets(["USA", "GA", 5, 100, 1, None]))
    assert plan.objective == pytest.approx(900)
    assert plan.total_cost == pytest.approx(900)  # holding cost is inside total_cost
    assert plan.summary_value("holding_cost") == pytest.approx(50)
    stocks = plan.tables["Stocks"]
    assert stocks["level"].tolist() == pytest.approx([50, 0])
    assert stocks["change"].tolist() == pytest.approx([45, -50])
    assert stocks["unit"].tolist() == ["t", "t"]
    assert ref.stocks[("USA", "GA", 2026)] == pytest.approx(50)


def test_stock_capacity_limits_the_carry_and_the_rest_is_shortfall(tmp_path):
    # at most 40 t at the end of 2026: buy 75 (750), hold 40 (40), 10 t short in 2027 (10,000)
    plan, _ = solved(tmp_path, "stock_cap", stock_sheets(["USA", "GA", 5, 40, 1, None]))
    assert plan.objective == pytest.approx(10_790)
    assert plan.shortfall_total == pytest.approx(10)


def test_max_release_limits_the_draw(tmp_path):
    # at most 30 t drawn per period: hold 30 into 2027, 20 t short: 65*10 + 30 + 20*1000
    plan, _ = solved(tmp_path, "release", stock_sheets(["USA", "GA", 5, None, 1, 30]))
    assert plan.objective == pytest.approx(650 + 30 + 20_000)


def test_a_stock_where_nothing_is_demanded_has_its_balance_row(tmp_path):
    # Japan holds 20 t and demands nothing: with nowhere to go, the stock stays and is paid for
    # (2 a tonne a period: 80); stocks sit at their country, they are not a supplier
    sheets = stock_sheets(["USA", "GA", 5, 100, 1, None])
    sheets["Countries"].append(["JPN", "JP", "Pax", None])
    sheets["Stocks"].append(["JPN", "GA", 20, 20, 2, None])
    plan, _ = solved(tmp_path, "nodemand", sheets)
    assert plan.objective == pytest.approx(900 + 80)
    jpn = plan.tables["Stocks"].query("country == 'JPN'")
    assert jpn["level"].tolist() == pytest.approx([20, 20])
    assert jpn["change"].tolist() == pytest.approx([0, 0])


def test_stock_purchases_count_in_the_china_share_of_the_period_they_are_bought(tmp_path):
    # China sells at 1, Australia at 10; a 50% cap: in 2026 China may supply at most half of all
    # non-China supply, including the 50 t bought for the stock
    sheets = stock_sheets(["USA", "GA", 0, 100, 0, None])
    sheets["Commodities"][1][3] = 0.5
    sheets["Supply"].append(["CHN", "GA", 2026, 1000, 1])
    plan, _ = solved(tmp_path, "stock_cap_share", sheets)
    # 90 t bought in 2026, 45 from each: 45*1 + 45*10 = 495
    assert plan.objective == pytest.approx(495)
    china = plan.tables["ChinaShare"].set_index("period")
    assert china.at[2026, "china_share"] == pytest.approx(0.5)


def test_initial_above_capacity_is_an_input_error(tmp_path):
    inp = write_workbook(tmp_path / "bad.xlsx", stock_sheets(["USA", "GA", 50, 40, 1, None]))
    with pytest.raises(InputError) as err:
        load_workbook(inp)
    assert "Stocks row 2, column initial" in str(err.value)


# ------------------------------------------------------------------------------------ projects


def project_sheets(build: str, first_period: int | None = 2026, penalty: float = 100) -> dict:
    """USA needs 100 t in 2026 and 2027; Australia sells 60 t at 10; unmet demand costs 100 a
    tonne. A US plant of 50 t a year at 20 a tonne costs capex 1 x 50 + fixed 100 = 150."""
    return base_sheets(penalty) | {
        "Supply": [SUPPLY, ["AUS", "GA", None, 60, 10]],
        "Demand": [DEMAND, ["USA", "GA", 2026, 100], ["USA", "GA", 2027, 100]],
        "Projects": [PROJECTS, ["US_plant", "USA", "GA", first_period, 50, 20, 1, 100, build]],
    }


def test_continuous_project_builds_just_what_is_needed(tmp_path):
    # without it: 2 x (600 + 40 x 100) = 9200. With y = 0.8 (40 t a year): 2 x 600 + 2 x 800
    # + 0.8 x 150 = 2920; more capacity than 40 t is never used
    plan, ref = solved(tmp_path, "continuous", project_sheets("continuous"))
    assert plan.objective == pytest.approx(2920)
    assert plan.summary_value("investment_cost") == pytest.approx(120)
    row = plan.tables["Projects"].iloc[0]
    assert row["built"] == pytest.approx(0.8)
    assert row["period_built"] == 2026
    assert row["capacity_added"] == pytest.approx(40)
    assert row["investment_cost"] == pytest.approx(120)
    assert row["value"] == pytest.approx(9200 - 2920)
    assert sum(ref.builds.values()) == pytest.approx(0.8)


def test_binary_project_is_all_or_nothing(tmp_path):
    # all of it (150) with the same 40 t a year used: 2950; the MIP's duals come from the fixed LP
    plan, ref = solved(tmp_path, "binary", project_sheets("binary"))
    assert plan.objective == pytest.approx(2950)
    row = plan.tables["Projects"].iloc[0]
    assert row["built"] == pytest.approx(1.0)
    assert row["value"] == pytest.approx(9200 - 2950)
    assert "fixed at its optimum" in plan.summary_value("mip_duals")
    assert plan.dual_objective == pytest.approx(2950)  # strong duality of the fixed LP
    assert ref.objective == pytest.approx(2950)
    assert reference_solve(plan.data.source, relax=True).objective == pytest.approx(2920)


def test_project_starts_no_earlier_than_its_first_period(tmp_path):
    # only from 2027: 2026 as without it (4600), 2027 at 600 + 800 + 0.8 x 150 = 1520
    plan, _ = solved(tmp_path, "late", project_sheets("continuous", first_period=2027))
    assert plan.objective == pytest.approx(4600 + 1520)
    assert plan.tables["Projects"].iloc[0]["period_built"] == 2027


def test_a_project_not_worth_building_is_left_out_with_value_zero(tmp_path):
    # a cheap shortfall (penalty 15 < 20 unit cost) makes the plant worthless
    plan, _ = solved(tmp_path, "unbuilt", project_sheets("binary", penalty=15))
    assert plan.objective == pytest.approx(2 * (600 + 40 * 15))
    row = plan.tables["Projects"].iloc[0]
    assert row["built"] == 0 and row["value"] == 0 and pd.isna(row["period_built"])


def test_china_cap_applies_to_project_output(tmp_path):
    # a Chinese plant at 5 a tonne, no capex; cap 50%: China's project may supply at most what
    # Australia does: 60 + 60 per year, 0 short (demand 100: 50 + 50): 2 x (500 + 250)
    sheets = project_sheets("continuous")
    sheets["Commodities"][1][3] = 0.5
    sheets["Projects"] = [PROJECTS, ["CN_plant", "CHN", "GA", None, 100, 5, 0, 0, "continuous"]]
    plan, _ = solved(tmp_path, "cn_project", sheets)
    assert plan.objective == pytest.approx(2 * (50 * 10 + 50 * 5))
    assert plan.tables["ChinaShare"]["china_share"].tolist() == pytest.approx([0.5, 0.5])


def test_project_output_uses_recipes_like_any_supply(tmp_path):
    # a US refinery (output REF) needs 2 t of GA per tonne: its inputs are a balance row of its own
    sheets = project_sheets("continuous")
    sheets["Commodities"].append(["REF", "refined", "t", None, 1000])
    sheets["Recipes"] = [["output", "input", "quantity"], ["REF", "GA", 2]]
    sheets["Demand"].append(["USA", "REF", 2027, 10])
    sheets["Projects"].append(["US_ref", "USA", "REF", 2027, 10, 3, 0, 0, "continuous"])
    plan, _ = solved(tmp_path, "recipe", sheets)
    flows = plan.tables["Flows"]
    made = flows.query("commodity == 'REF'")["quantity"].sum()
    assert made == pytest.approx(10)


def test_plan_workbook_has_the_declared_sheets(tmp_path):
    from model.schema import OUTPUTS

    inp = write_workbook(tmp_path / "both.xlsx", stock_sheets(["USA", "GA", 5, 100, 1, None])
                         | {"Projects": project_sheets("binary")["Projects"]})
    out = tmp_path / "both_plan.xlsx"
    proc = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(inp), "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    for name in ("Stocks", "Projects"):
        header = [c.value for c in next(wb[name].iter_rows(max_row=1))]
        assert header == OUTPUTS[name].column_names
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(min_row=2, values_only=True)}
    assert "investment_cost" in summary and "holding_cost" in summary
    assert check_plan(inp, out) == []


def test_a_workbook_without_stocks_or_projects_gets_neither_sheet(tmp_path):
    sheets = base_sheets() | {"Supply": [SUPPLY, ["AUS", "GA", 2026, 100, 10]],
                              "Demand": [DEMAND, ["USA", "GA", 2026, 40]]}
    plan, _ = solved(tmp_path, "plain", sheets)
    assert "Stocks" not in plan.tables and "Projects" not in plan.tables
    assert plan.summary_value("investment_cost") == 0 and plan.summary_value("holding_cost") == 0


def test_a_mip_plan_has_ranging_from_the_fixed_lp(tmp_path):
    from model.api import solve

    plan = solve(load_workbook(write_workbook(tmp_path / "rng.xlsx", project_sheets("binary"))), ranging=True)
    assert plan.objective == pytest.approx(2950)
    assert "ranging_seconds" in set(plan.tables["Summary"]["metric"])
    prices = plan.tables["Prices"]
    # with the plant built, one more tonne in the US costs its unit cost (20): the fixed LP's dual
    assert prices["marginal_cost"].tolist() == pytest.approx([20, 20])
