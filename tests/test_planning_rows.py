"""Stocks and Projects limits on every sheet that should show them (issue 10 "sheets agree").

Each Sensitivity figure is checked against the objective change of a re-solve with the input
cell one unit higher (an independent number: two optima, no duals), and the strict-mode diagnosis
is checked to name the Stocks or Projects row in the analyst's words.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.api import solve, solve_workbook
from model.data import load_workbook
from model.diagnose import explain_infeasible
from model.formulation.families import FAMILIES, binding
from model.formulation.lp import build_lp
from tests.workbooks import write_workbook

SUPPLY = ["country", "commodity", "period", "capacity", "unit_cost"]
DEMAND = ["country", "commodity", "period", "quantity"]
STOCKS = ["country", "commodity", "initial", "capacity", "holding_cost", "max_release"]
PROJECTS = ["project", "country", "commodity", "first_period", "capacity", "unit_cost", "capex", "fixed_cost",
            "build"]


def sheets(supply: list, demand: list, stocks: list | None = None, projects: list | None = None) -> dict:
    out = {
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", None], ["AUS", "AU", "Pax", None],
                      ["CHN", "CN", "China", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["GA", "gallium", "t", None, 1000]],
        "Supply": [SUPPLY, *supply], "Demand": [DEMAND, *demand],
    }
    if stocks:
        out["Stocks"] = [STOCKS, *stocks]
    if projects:
        out["Projects"] = [PROJECTS, *projects]
    return out


def objective(tmp_path: Path, name: str, book: dict) -> float:
    return solve_workbook(write_workbook(tmp_path / f"{name}.xlsx", book)).objective


def rows(plan, measure: str):
    s = plan.tables["Sensitivity"]
    return s[s["measure"] == measure].reset_index(drop=True)


def release_book(max_release: float) -> dict:
    # USA needs 50 t in 2026; Australia sells 10 t at 10; a US stock of 100 t may release max_release
    return sheets([["AUS", "GA", 2026, 10, 10]], [["USA", "GA", 2026, 50]],
                  stocks=[["USA", "GA", 100, None, 1, max_release]])


def test_a_binding_release_limit_is_priced_as_a_re_solve_with_one_more_unit(tmp_path):
    plan = solve_workbook(write_workbook(tmp_path / "rel.xlsx", release_book(30)))
    # by hand: draw 30, buy 10 (100), hold 70 (70), 10 t short (10,000)
    assert plan.objective == pytest.approx(10_170)
    r = rows(plan, FAMILIES["stock_release"].label)
    assert len(r) == 1 and bool(r.loc[0, "binding"]) and r.loc[0, "limit_row"] == 2
    assert r.loc[0, "value"] == 30 and r.loc[0, "level"] == pytest.approx(30)
    delta = objective(tmp_path, "rel31", release_book(31)) - plan.objective
    assert delta == pytest.approx(-1001)
    assert r.loc[0, "cost_change"] == pytest.approx(delta)


def capacity_book(capacity: float) -> dict:
    # the 2027 demand can only come from a stock bought in 2026, which holds at most `capacity`
    return sheets([["AUS", "GA", 2026, 100, 10], ["AUS", "GA", 2027, 0, 10]], [["USA", "GA", 2027, 50]],
                  stocks=[["USA", "GA", 0, capacity, 1, None]])


def test_a_full_reserve_is_priced_per_period_and_sums_to_a_re_solve_of_the_cell(tmp_path):
    plan = solve_workbook(write_workbook(tmp_path / "cap.xlsx", capacity_book(40)))
    r = rows(plan, FAMILIES["stock_capacity"].label)
    assert r["period"].tolist() == [2026, 2027]
    assert r["binding"].tolist() == [True, False]
    assert binding(plan.lp, plan.solution, "stock_capacity").tolist() == [True, False]
    delta = objective(tmp_path, "cap41", capacity_book(41)) - plan.objective
    assert delta == pytest.approx(-1000 + 10 + 1)  # one less short, one more bought and held
    assert r["cost_change"].sum() == pytest.approx(delta)
    assert "binding" in r.loc[0, "note"]


def project_book(capacity: float) -> dict:
    # USA needs 100 t; Australia sells at 50; a US plant of `capacity` t makes it at 10 (capex 2 a t)
    return sheets([["AUS", "GA", 2026, 1000, 50]], [["USA", "GA", 2026, 100]],
                  projects=[["P1", "USA", "GA", 2026, capacity, 10, 2, None, "continuous"]])


def test_a_binding_project_capacity_is_worth_what_one_more_unit_saves_before_capex(tmp_path):
    plan = solve_workbook(write_workbook(tmp_path / "prj.xlsx", project_book(30)))
    assert plan.objective == pytest.approx(30 * 10 + 70 * 50 + 30 * 2)
    r = rows(plan, FAMILIES["project_capacity"].label)
    assert len(r) == 1 and bool(r.loc[0, "binding"]) and r.loc[0, "limit_row"] == 2
    assert r.loc[0, "value"] == pytest.approx(30) and r.loc[0, "level"] == pytest.approx(30)
    delta = objective(tmp_path, "prj31", project_book(31)) - plan.objective
    assert delta == pytest.approx(-40 + 2)
    assert r.loc[0, "cost_change"] + 2 == pytest.approx(delta)  # the row's price leaves capex out
    assert r.loc[0, "note"].startswith("project P1: binding")


def test_an_unbuilt_project_binds_nothing(tmp_path):
    book = sheets([["AUS", "GA", 2026, 1000, 5]], [["USA", "GA", 2026, 100]],
                  projects=[["P1", "USA", "GA", 2026, 30, 10, 2, None, "continuous"]])
    plan = solve_workbook(write_workbook(tmp_path / "unbuilt.xlsx", book))
    r = rows(plan, FAMILIES["project_capacity"].label)
    assert r["binding"].tolist() == [False] and r["note"].tolist() == ["project P1: not built by this period"]


def test_strict_mode_names_the_stock_release_row(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "strict.xlsx", release_book(30)))
    table = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=False)
    hit = table[table["constraint"] == "stock_release"]
    assert len(hit) == 1 and hit.iloc[0]["sheet"] == "Stocks" and hit.iloc[0]["row"] == 2
    assert "Stocks row 2: at most 30 t of the GA stock in USA may be drawn in 2026" in hit.iloc[0]["explanation"]


def test_strict_mode_names_the_stock_capacity_and_the_project(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "strict_cap.xlsx", capacity_book(40)))
    table = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=False)
    assert "stock_capacity" in set(table["constraint"])
    book = sheets([["AUS", "GA", 2026, 10, 50]], [["USA", "GA", 2026, 100]],
                  projects=[["P1", "USA", "GA", 2026, 30, 10, 2, None, "continuous"]])
    data = load_workbook(write_workbook(tmp_path / "strict_prj.xlsx", book))
    for use_iis in (False, True):
        table = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=use_iis)
        found = table[table["sheet"] == "Projects"]
        assert len(found), table
        assert "project P1" in " ".join(found["explanation"])


def test_solve_through_the_api_lists_the_limits_in_decisive_detail(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "dec.xlsx", release_book(30)))
    plan = solve(data, rows="decisive")
    assert FAMILIES["stock_release"].label in set(plan.tables["Sensitivity"]["measure"])


# ------------------------------------------------------------------------------ the front sheet


def test_summary_counts_what_the_plan_builds_and_stockpiles(tmp_path):
    stock = solve_workbook(write_workbook(tmp_path / "c.xlsx", capacity_book(40)))
    v = stock.tables["Summary"].set_index("metric")["value"]
    assert int(v["stocks_held"]) == 1 and "projects_built" not in v.index  # no Projects sheet: no line
    assert v["holding_cost"] == pytest.approx(40)  # 40 t held through 2026 at 1
    # a stock drawn to empty and never bought into is not "held": the release case draws 30 of 100
    # and keeps 70 to the end, so it is held
    assert int(solve_workbook(write_workbook(tmp_path / "r.xlsx", release_book(30))).summary_value(
        "stocks_held")) == 1
    drawn = sheets([["AUS", "GA", 2026, 10, 10]], [["USA", "GA", 2026, 50]],
                   stocks=[["USA", "GA", 40, None, 1, None]])
    assert int(solve_workbook(write_workbook(tmp_path / "d.xlsx", drawn)).summary_value("stocks_held")) == 0
    built = solve_workbook(write_workbook(tmp_path / "p.xlsx", project_book(30)))
    assert int(built.summary_value("projects_built")) == 1
    assert built.summary_value("investment_cost") == pytest.approx(60)


def test_the_overview_shows_every_headline_above_the_table(tmp_path):
    import openpyxl

    from model.io.plan_style import HEADLINES
    from model.io.writer import OVERVIEW_ROWS

    assert 1 + len(HEADLINES) + 2 <= OVERVIEW_ROWS  # title, lines, note, blank: nothing overwritten
    inp = write_workbook(tmp_path / "both.xlsx", sheets(
        [["AUS", "GA", 2026, 100, 10], ["AUS", "GA", 2027, 0, 10]], [["USA", "GA", 2027, 50]],
        stocks=[["USA", "GA", 0, 40, 1, None]],
        projects=[["P1", "USA", "GA", 2027, 5, 10, 2, None, "continuous"]]))
    plan = solve_workbook(inp, tmp_path / "both_plan.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "both_plan.xlsx")["Overview"]
    summary = plan.tables["Summary"].set_index("metric")["value"]
    labels = {ws.cell(r, 1).value: ws.cell(r, 4).value for r in range(2, 2 + len(HEADLINES))}
    shown = [(label, metric) for label, metric, _ in HEADLINES if metric in summary.index]
    assert len(shown) == len(HEADLINES) - 1  # all but the caps' cost: this workbook has no China cap
    for label, metric in shown:
        assert labels[label] == pytest.approx(float(summary[metric])), label
    assert labels["Projects built (count; when and how much: Projects sheet)"] == 1
    assert labels["Stocks bought into or held at the end (count; levels per unit: Stocks sheet)"] == 1
    assert ws.cell(OVERVIEW_ROWS + 1, 1).value == "commodity"  # the table's header, where it always was


# ------------------------------------------------------------------------------ outage screening


def outage_book() -> dict:
    # Australia sells 50 t at 20, has a cheap plant project (30 t at 10) and a 20 t reserve for its
    # own 20 t demand; China sells any amount at 100; the US needs 100 t
    return sheets([["AUS", "GA", 2026, 50, 20], ["CHN", "GA", 2026, 1000, 100]],
                  [["USA", "GA", 2026, 100], ["AUS", "GA", 2026, 20]],
                  stocks=[["AUS", "GA", 20, None, 1, None]],
                  projects=[["P1", "AUS", "GA", 2026, 30, 10, 0, None, "continuous"]])


def test_an_outage_leaves_the_country_s_project_and_reserve_idle(tmp_path):
    from model.batch.stress import remove_country

    data = load_workbook(write_workbook(tmp_path / "out.xlsx", outage_book()))
    base = solve(data)
    assert base.tables["Stocks"]["change"].tolist() == pytest.approx([-20])  # the reserve is drawn
    assert int(base.summary_value("projects_built")) == 1
    out = solve(remove_country(data, "AUS")[0])
    lp, x = out.lp, out.solution.x
    project_flow = x[lp.cols("flow")][lp.index.keys["flows"]["supply_id"].isin(
        lp.index.keys["project_supply"]["supply_id"]).to_numpy()]
    assert project_flow.sum() == 0
    assert out.tables["Stocks"]["change"].tolist() == [0]  # held, not drawn
    assert out.tables["Flows"]["origin"].tolist() == ["CHN", "CHN"]  # only China supplies
    # by hand: 120 t from China at 100, the reserve held at 1
    assert out.objective == pytest.approx(120 * 100 + 20)


def test_stress_counts_projects_and_stock_in_what_a_country_loses(tmp_path):
    from model.batch.stress import run_stress

    data = load_workbook(write_workbook(tmp_path / "stress.xlsx", outage_book()))
    table, _ = run_stress(data, progress=False)
    aus = table[table["target"] == "AUS"].iloc[0]
    assert aus["capacity_removed"] == pytest.approx(50 + 30 + 20)
    assert aus["capacity_removed_by_unit"] == "100 t (of which projects 30, stock 20)"
    assert aus["delta_objective"] == pytest.approx(120 * 100 + 20 - solve(data).objective)
