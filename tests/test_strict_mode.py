"""Strict mode (--no-shortfall, issue 6): unmet demand forbidden; infeasibility explained.

Each case is small enough to work out by hand: what cannot be covered (and by how much at
least) and which input cells (sheet, row) are in conflict.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from model.api import solve
from model.data import load_workbook
from model.diagnose import explain_infeasible
from model.formulation.lp import build_lp
from model.status import Status
from tests.workbooks import read_sheet, write_workbook

COUNTRY_HDR = ["code", "name", "group", "risk"]
COMMODITY_HDR = ["code", "name", "unit", "china_cap", "shortfall_penalty"]
SUPPLY_HDR = ["country", "commodity", "period", "capacity", "unit_cost"]
DEMAND_HDR = ["country", "commodity", "period", "quantity"]
ROUTES_HDR = ["origin", "destination", "commodity", "cost_per_unit", "max_quantity"]
RECIPES_HDR = ["output", "input", "quantity"]
LIMITS_HDR = ["commodity", "period", "source", "min_share", "max_share"]
COUNTRIES = [COUNTRY_HDR, ["USA", "United States", "US", None], ["CHN", "China", "China", 0.9],
             ["AUS", "Australia", "Pax Silica", 0.1], ["JPN", "Japan", "Pax Silica", None],
             ["TWN", "Taiwan", "Pax Silica", None]]
REQUIRED = {"kind", "sheet", "row", "commodity", "period", "country", "detail", "explanation"}


def capped_sheets(cap: float | None = 0.3) -> dict:
    """USA needs 100 t REO (Demand row 2), CHN its own 50 (row 3). CHN can make 200 (Supply row 2),
    AUS 50 (Supply row 3). With a China cap of 30% (Commodities row 2) USA gets at most
    AUS 50 + CHN c with c <= 0.3 (50 + c): c <= 150/7, so 50/0.7 = 71.43 t: 28.57 t short."""
    return {
        "Countries": COUNTRIES,
        "Commodities": [COMMODITY_HDR, ["REO", "Rare-earth oxide", "t", cap, None]],
        "Supply": [SUPPLY_HDR, ["CHN", "REO", 2026, 200, 10], ["AUS", "REO", 2026, 50, 30]],
        "Demand": [DEMAND_HDR, ["USA", "REO", 2026, 100], ["CHN", "REO", 2026, 50]],
    }


SHORT = 100 - 50 / 0.7


def strict(tmp_path: Path, sheets: dict, name: str = "case"):
    data = load_workbook(write_workbook(tmp_path / f"{name}.xlsx", sheets))
    return data, solve(data, no_shortfall=True)


def cells(table: pd.DataFrame, kind: str) -> set[tuple[str, int]]:
    t = table[table["kind"] == kind]
    return {(s, int(r)) for s, r in zip(t["sheet"], t["row"], strict=True)}


# --------------------------------------------------------------------------- feasible: no change


def test_strict_mode_changes_nothing_when_all_demand_can_be_met(tmp_path):
    data, plan = strict(tmp_path, capped_sheets(cap=0.5))
    loose = solve(data)
    assert plan.status == loose.status == Status.OPTIMAL
    assert plan.objective == pytest.approx(loose.objective)
    assert "Infeasibility" not in plan.tables
    assert plan.summary_value("strict_no_shortfall") is True


# --------------------------------------------------------------------------- China cap + capacity


def test_china_cap_conflict_names_the_demand_the_capacity_and_the_cap(tmp_path):
    _, plan = strict(tmp_path, capped_sheets())
    assert plan.status == Status.INFEASIBLE
    assert not plan.has_plan
    table = plan.tables["Infeasibility"]
    assert set(table.columns) >= REQUIRED
    short = table[table["kind"] == "cannot_cover"]
    assert len(short) == 1
    row = short.iloc[0]
    assert (row["sheet"], row["row"], row["commodity"], row["period"], row["country"]) == (
        "Demand", 2, "REO", 2026, "USA")
    assert row["quantity"] == pytest.approx(SHORT, rel=1e-6)
    assert "28.5714 t short" in row["explanation"]
    # the IIS: AUS's capacity, the cap and USA's demand; CHN's own demand and capacity are not in it
    assert cells(table, "in_conflict") == {("Supply", 3), ("Commodities", 2), ("Demand", 2)}
    assert set(table.loc[table["kind"] == "in_conflict", "method"]) == {"HiGHS IIS"}
    for sentence in table["explanation"]:
        assert sentence.endswith(".") and "\n" not in sentence


def test_elastic_fallback_names_the_binding_capacity_and_cap(tmp_path):
    data, _ = strict(tmp_path, capped_sheets())
    table = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=False)
    assert cells(table, "cannot_cover") == {("Demand", 2)}
    assert cells(table, "in_conflict") == {("Supply", 3), ("Commodities", 2)}
    assert set(table.loc[table["kind"] == "in_conflict", "method"]) == {"elastic re-solve"}
    cap = table[table["sheet"] == "Commodities"].iloc[0]
    assert "China cap of 30% on REO in 2026" in cap["explanation"]


def test_least_shortfall_equals_the_loose_plans_shortfall(tmp_path):
    # with the default (large) penalty the loose plan leaves exactly what strict mode cannot cover
    data, plan = strict(tmp_path, capped_sheets())
    loose = solve(data)
    assert loose.status == Status.OPTIMAL_WITH_SHORTFALL
    short = plan.tables["Infeasibility"]
    assert short.loc[short["kind"] == "cannot_cover", "quantity"].sum() == pytest.approx(loose.shortfall_total)


# --------------------------------------------------------------------------- routes, share limits, no supplier


def test_blocked_route_is_named_with_its_routes_row(tmp_path):
    sheets = {
        "Countries": COUNTRIES,
        "Commodities": [COMMODITY_HDR, ["GA", "Gallium", "kg", None, None]],
        "Supply": [SUPPLY_HDR, ["AUS", "GA", 2026, 50, 30]],
        "Demand": [DEMAND_HDR, ["JPN", "GA", 2026, 10], ["USA", "GA", 2026, 5]],
        "Routes": [ROUTES_HDR, ["AUS", "USA", None, 1, None], ["AUS", "JPN", "GA", 1, 0]],
    }
    _, plan = strict(tmp_path, sheets)
    table = plan.tables["Infeasibility"]
    assert cells(table, "cannot_cover") == {("Demand", 2)}
    short = table[table["kind"] == "cannot_cover"].iloc[0]
    assert short["quantity"] == pytest.approx(10)
    assert "cannot be met at all" in short["explanation"]
    assert ("Routes", 3) in cells(table, "in_conflict")
    route = table[table["sheet"] == "Routes"].iloc[0]
    assert route["country"] == "AUS->JPN"
    assert "blocked" in route["explanation"]


def test_route_limit_below_demand(tmp_path):
    sheets = {
        "Countries": COUNTRIES,
        "Commodities": [COMMODITY_HDR, ["GA", "Gallium", "kg", None, None]],
        "Supply": [SUPPLY_HDR, ["AUS", "GA", 2026, 50, 30]],
        "Demand": [DEMAND_HDR, ["JPN", "GA", 2026, 10]],
        "Routes": [ROUTES_HDR, ["AUS", "JPN", None, 1, 4]],
    }
    data, plan = strict(tmp_path, sheets)
    for table in (plan.tables["Infeasibility"],
                  explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=False)):
        assert table[table["kind"] == "cannot_cover"]["quantity"].sum() == pytest.approx(6)
        assert ("Routes", 2) in cells(table, "in_conflict")
        assert "at most 4 kg of GA" in table[table["sheet"] == "Routes"].iloc[0]["explanation"]


def test_min_share_conflict_names_the_sharelimits_row(tmp_path):
    # AUS must supply >= 80% of REO but can make only 50: at most 62.5 t reach anyone outside China
    sheets = capped_sheets(cap=None)
    sheets["ShareLimits"] = [LIMITS_HDR, ["REO", None, "AUS", 0.8, None]]
    data, plan = strict(tmp_path, sheets)
    table = plan.tables["Infeasibility"]
    assert table[table["kind"] == "cannot_cover"]["quantity"].sum() == pytest.approx(100 - 62.5)
    assert {("ShareLimits", 2), ("Supply", 3)} <= cells(table, "in_conflict")
    elastic = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=False)
    assert {("ShareLimits", 2), ("Supply", 3)} <= cells(elastic, "in_conflict")
    assert "at least 80% of REO" in elastic[elastic["sheet"] == "ShareLimits"].iloc[0]["explanation"]


def test_demand_nobody_supplies(tmp_path):
    sheets = capped_sheets(cap=None)
    sheets["Commodities"].append(["GE", "Germanium", "kg", None, None])
    sheets["Demand"].append(["USA", "GE", 2026, 7])
    _, plan = strict(tmp_path, sheets)
    table = plan.tables["Infeasibility"]
    row = table[table["kind"] == "cannot_cover"].iloc[0]
    assert (row["sheet"], row["row"], row["commodity"], row["quantity"]) == ("Demand", 4, "GE", 7)
    assert "no supplier" in row["explanation"]


def test_recipe_shortage_points_at_the_scarce_input(tmp_path):
    # TWN makes CHIP from 2 WAF each (Recipes row 2); only JPN makes WAF, 60 of them: 30 chips
    sheets = {
        "Countries": COUNTRIES,
        "Commodities": [COMMODITY_HDR, ["CHIP", "Chip", "unit", None, None], ["WAF", "Wafer", "unit", None, None]],
        "Supply": [SUPPLY_HDR, ["TWN", "CHIP", 2026, 100, 5], ["JPN", "WAF", 2026, 60, 1]],
        "Demand": [DEMAND_HDR, ["USA", "CHIP", 2026, 50]],
        "Recipes": [RECIPES_HDR, ["CHIP", "WAF", 2]],
    }
    data, plan = strict(tmp_path, sheets)
    assert plan.status == Status.INFEASIBLE
    table = plan.tables["Infeasibility"]
    # the least shortfall in units: 20 chips (short 40 wafers instead would be more units)
    assert table[table["kind"] == "cannot_cover"]["quantity"].sum() == pytest.approx(20)
    assert ("Supply", 3) in cells(table, "in_conflict")  # JPN's wafer capacity
    elastic = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=False)
    assert ("Supply", 3) in cells(elastic, "in_conflict")


# --------------------------------------------------------------------------- the command


def run(tmp_path: Path, sheets: dict, *args: str):
    from model.cli import main

    inp = write_workbook(tmp_path / "in.xlsx", sheets)
    out = tmp_path / "plan.xlsx"
    return CliRunner().invoke(main, ["solve", str(inp), "-o", str(out), *args]), out


def test_cli_strict_infeasible_exits_6_prints_why_and_writes_nothing(tmp_path):
    res, out = run(tmp_path, capped_sheets(), "--no-shortfall")
    assert res.exit_code == 6, res.output
    err = res.stderr
    assert "status: infeasible" in err
    assert "nothing was written" in err
    assert "Demand for 100 t of REO in USA in 2026 (Demand row 2) cannot be fully met" in err
    assert "Supply row 3" in err and "Commodities row 2" in err
    assert not out.exists()


def test_cli_without_strict_mode_writes_the_plan_with_shortfall_and_exits_0(tmp_path):
    res, out = run(tmp_path, capped_sheets())
    assert res.exit_code == 0, res.output
    assert "WARNING: demand not met" in res.stderr
    summary = {r["metric"]: r["value"] for r in read_sheet(out, "Summary")}
    assert summary["status"] == "optimal_with_shortfall"


def test_cli_strict_feasible_exits_0(tmp_path):
    res, out = run(tmp_path, capped_sheets(cap=0.5), "--no-shortfall")
    assert res.exit_code == 0, res.output
    assert {r["metric"]: r["value"] for r in read_sheet(out, "Summary")}["status"] == "optimal"


def test_cli_lists_20_findings_then_says_how_many_more(tmp_path):
    countries = [COUNTRY_HDR, *[[f"C{i:02d}", None, None, None] for i in range(25)]]
    sheets = {
        "Countries": countries,
        "Commodities": [COMMODITY_HDR, ["GE", "Germanium", "kg", None, None]],
        "Supply": [SUPPLY_HDR, ["C00", "GE", 2026, 1, 1]],
        "Demand": [DEMAND_HDR, *[[f"C{i:02d}", "GE", 2026, 5] for i in range(1, 25)]],
    }
    res, _ = run(tmp_path, sheets, "--no-shortfall")
    assert res.exit_code == 6, res.output
    listed = [line for line in res.stderr.splitlines() if line.startswith("  - ")]
    assert len(listed) == 20
    assert "more; run without --no-shortfall" in res.stderr


def test_a_failed_diagnosis_still_says_so_in_one_sentence(tmp_path, monkeypatch):
    import model.diagnose as diagnose

    data, _ = strict(tmp_path, capped_sheets())
    monkeypatch.setattr(diagnose, "_solve_elastic", lambda lp: None)
    table = explain_infeasible(data, build_lp(data, no_shortfall=True))
    assert list(table["kind"]) == ["unknown"]
    assert table["explanation"].iloc[0].startswith("No plan meets all demand")
