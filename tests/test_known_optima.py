"""Known optima, worked out by hand or taken from the literature, solved through the API and the CLI.

Every case asserts the objective (and total cost) against a number computed outside the engine,
and that the plan passes the engine-independent checker. Alternative optima exist in some cases,
so no test pins one particular flow unless the optimum is unique.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from model.api import solve_workbook
from tests.independent.checker import check_plan
from tests.independent.reference_lp import reference_optimum
from tests.workbooks import write_workbook

SUPPLY_HDR = ["country", "commodity", "period", "capacity", "unit_cost"]
DEMAND_HDR = ["country", "commodity", "period", "quantity"]
ROUTES_HDR = ["origin", "destination", "commodity", "cost_per_unit", "max_quantity"]
COMMODITY_HDR = ["code", "name", "unit", "china_cap", "shortfall_penalty"]
COUNTRY_HDR = ["code", "name", "group", "risk"]


def truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def solve_both(tmp_path: Path, run_cli, name: str, sheets: dict) -> dict:
    """Solve `sheets` through the API and the CLI; both plans must pass check_plan."""
    inp = write_workbook(tmp_path / f"{name}.xlsx", sheets)
    api_out = tmp_path / f"{name}_api_plan.xlsx"
    plan = solve_workbook(inp, api_out)
    assert check_plan(inp, api_out) == []
    cli = run_cli(inp)
    assert cli.returncode == 0, cli.stderr
    assert check_plan(inp, cli.output) == []
    return {"input": inp, "plan": plan, "cli": cli, "summary": cli.summary()}


def assert_objective(res: dict, objective: float, total_cost: float | None = None) -> None:
    plan, summary = res["plan"], res["summary"]
    assert plan.objective == pytest.approx(objective, rel=1e-9, abs=1e-9)
    assert float(summary["objective"]) == pytest.approx(objective, rel=1e-9, abs=1e-9)
    assert reference_optimum(res["input"]) == pytest.approx(objective, rel=1e-9, abs=1e-9)
    if total_cost is not None:
        assert plan.total_cost == pytest.approx(total_cost, rel=1e-9, abs=1e-9)
        assert float(summary["total_cost"]) == pytest.approx(total_cost, rel=1e-9, abs=1e-9)


# --------------------------------------------------------------------------- GAMS trnsport

TRNSPORT_DISTANCE = {
    ("seattle", "new-york"): 2.5, ("seattle", "chicago"): 1.7, ("seattle", "topeka"): 1.8,
    ("san-diego", "new-york"): 2.5, ("san-diego", "chicago"): 1.8, ("san-diego", "topeka"): 1.4,
}


def trnsport_sheets() -> dict:
    """Dantzig's transportation problem as in the GAMS model library (trnsport, SEQ=1)."""
    places = ["seattle", "san-diego", "new-york", "chicago", "topeka"]
    return {
        "Settings": [["setting", "value"], ["unlisted_routes", "blocked"]],
        "Countries": [COUNTRY_HDR, *[[p, p, "US", None] for p in places]],
        "Commodities": [COMMODITY_HDR, ["cases", "cases", "case", None, None]],
        "Supply": [SUPPLY_HDR, ["seattle", "cases", 2026, 350, 0], ["san-diego", "cases", 2026, 600, 0]],
        "Demand": [DEMAND_HDR, ["new-york", "cases", 2026, 325], ["chicago", "cases", 2026, 300],
                   ["topeka", "cases", 2026, 275]],
        "Routes": [ROUTES_HDR, *[[o, d, None, 90 * dist / 1000, None]
                                 for (o, d), dist in TRNSPORT_DISTANCE.items()]],
    }


def test_gams_trnsport_optimum_is_153_675(tmp_path, run_cli):
    res = solve_both(tmp_path, run_cli, "trnsport", trnsport_sheets())
    assert_objective(res, 153.675, total_cost=153.675)
    assert str(res["plan"].status) == "optimal"
    assert res["summary"]["status"] == "optimal"
    # every market is served exactly (no shortfall), nothing beyond the plants' capacities
    flows = res["cli"].sheet("Flows")
    assert sum(r["quantity"] for r in flows) == pytest.approx(900)
    assert res["cli"].sheet("Shortfalls") == []


def test_trnsport_with_an_unused_route_blocked_changes_nothing_but_a_used_one_does(tmp_path, run_cli):
    # In the GAMS optimum seattle ships nothing to topeka; in every optimum san-diego -> topeka
    # carries 275 (its only cheaper alternative is full). Blocking seattle -> topeka keeps 153.675.
    sheets = trnsport_sheets()
    sheets["Routes"].append(["seattle", "topeka", "cases", 0.162, 0])
    res = solve_both(tmp_path, run_cli, "trnsport_block", sheets)
    assert_objective(res, 153.675)
    # Capping san-diego -> topeka at 200 forces 75 cases onto seattle -> topeka (+0.036 each);
    # seattle then has 275 left for new-york and chicago, which need 625 with san-diego's 400
    # spare: new-york costs the same from both plants, chicago is 0.009 cheaper from seattle, so
    # seattle sends 275 to chicago and san-diego 25 more there: +75 x 0.036 + 25 x 0.009 = 2.925.
    sheets = trnsport_sheets()
    sheets["Routes"].append(["san-diego", "topeka", "cases", 0.126, 200])
    res = solve_both(tmp_path, run_cli, "trnsport_cap", sheets)
    assert_objective(res, 153.675 + 2.925)


# --------------------------------------------------------------------------- China cap


def china_cap_sheets(cap: float, chn_cost: float = 10.0, aus_capacity: float = 100) -> dict:
    """USA needs 100 REO; CHN (cost 10) and AUS (cost 30) can each ship 100 (CHN also serves
    its own 50, which is outside the cap's denominator). Routes free. With CHN cheaper the cap
    binds: CHN ships cap*100 to USA, AUS the rest."""
    return {
        "Countries": [COUNTRY_HDR, ["USA", "United States", "US", None], ["CHN", "China", "China", 0.9],
                      ["AUS", "Australia", "Pax Silica", 0.1]],
        "Commodities": [COMMODITY_HDR, ["REO", "Rare-earth oxide", "t", cap, None]],
        "Supply": [SUPPLY_HDR, ["CHN", "REO", 2026, 200, chn_cost], ["AUS", "REO", 2026, aus_capacity, 30]],
        "Demand": [DEMAND_HDR, ["USA", "REO", 2026, 100], ["CHN", "REO", 2026, 50]],
    }


def china_row(res: dict) -> dict:
    rows = [r for r in res["cli"].sheet("ChinaShare") if r["commodity"] == "REO" and int(r["period"]) == 2026]
    assert len(rows) == 1
    return rows[0]


def test_binding_china_cap_optimum_and_marginal_cost(tmp_path, run_cli):
    res = solve_both(tmp_path, run_cli, "cap40", china_cap_sheets(0.4))
    # CHN own 50 x 10 = 500; USA: 40 x 10 + 60 x 30 = 2200
    assert_objective(res, 2700.0, total_cost=2700.0)
    row = china_row(res)
    assert float(row["china_share"]) == pytest.approx(0.4, abs=1e-9)
    assert float(row["china_cap"]) == pytest.approx(0.4)
    assert truthy(row["binding"])
    # +1 pp of cap moves 1 t from AUS (30) to CHN (10): objective falls by 20
    assert float(row["marginal_cost"]) == pytest.approx(-20.0, rel=1e-6)
    api = res["plan"].tables["ChinaShare"]
    api_row = api[(api["commodity"] == "REO") & (api["period"] == 2026)].iloc[0]
    assert truthy(api_row["binding"])
    assert float(api_row["marginal_cost"]) == pytest.approx(-20.0, rel=1e-6)
    # the marginal cost agrees with the finite difference of the independent LP
    plus = write_workbook(tmp_path / "cap41.xlsx", china_cap_sheets(0.41))
    assert reference_optimum(plus) - 2700.0 == pytest.approx(-20.0, rel=1e-6)


def test_zero_china_cap_is_an_embargo_to_non_china_destinations(tmp_path, run_cli):
    res = solve_both(tmp_path, run_cli, "cap0", china_cap_sheets(0.0, aus_capacity=150))
    assert_objective(res, 500.0 + 3000.0, total_cost=3500.0)
    row = china_row(res)
    assert float(row["china_share"]) == pytest.approx(0.0, abs=1e-9)
    assert truthy(row["binding"])
    assert float(row["marginal_cost"]) == pytest.approx(-20.0, rel=1e-6)


def test_zero_china_cap_marginal_cost_when_the_ally_is_exactly_at_capacity(tmp_path, run_cli):
    # primal degeneracy: the cap row's dual is not unique (HiGHS once reported -29990 here);
    # the plan must report what raising the cap by 1 pp really saves: 20
    res = solve_both(tmp_path, run_cli, "cap0_degenerate", china_cap_sheets(0.0, aus_capacity=100))
    assert_objective(res, 500.0 + 3000.0, total_cost=3500.0)
    plus = write_workbook(tmp_path / "cap1.xlsx", china_cap_sheets(0.01, aus_capacity=100))
    assert reference_optimum(plus) - 3500.0 == pytest.approx(-20.0, rel=1e-6)
    assert float(china_row(res)["marginal_cost"]) == pytest.approx(-20.0, rel=1e-6)


def test_slack_china_cap_is_not_binding_and_costs_nothing_at_the_margin(tmp_path, run_cli):
    # CHN dearer than AUS: AUS serves USA, the cap is slack
    res = solve_both(tmp_path, run_cli, "slack", china_cap_sheets(0.4, chn_cost=40.0))
    assert_objective(res, 50 * 40.0 + 100 * 30.0)
    row = china_row(res)
    assert float(row["china_share"]) == pytest.approx(0.0, abs=1e-9)
    assert not truthy(row["binding"])
    assert float(row["marginal_cost"] or 0.0) == pytest.approx(0.0, abs=1e-9)


# --------------------------------------------------------------------------- two-tier recipe


def recipe_sheets(usa_capacity: float = 60) -> dict:
    """Refined metal needs 2 ore per unit, wherever it is refined. Ore: AUS only (5/t).
    USA refines at 20 (+ 2 ore at 5 + route 1)  = 32 per unit delivered in USA, up to usa_capacity.
    JPN refines at 35 (+ 2 ore at 5 + route 0.5) + route 2 to USA = 48 per unit delivered."""
    return {
        "Settings": [["setting", "value"], ["unlisted_routes", "blocked"]],
        "Countries": [COUNTRY_HDR, ["USA", "US", "US", None], ["AUS", "Australia", "Pax Silica", None],
                      ["JPN", "Japan", "Pax Silica", None]],
        "Commodities": [COMMODITY_HDR, ["ORE", "ore", "t", None, None], ["REF", "refined", "t", None, None]],
        "Supply": [SUPPLY_HDR, ["AUS", "ORE", 2026, 1000, 5], ["USA", "REF", 2026, usa_capacity, 20],
                   ["JPN", "REF", 2026, 50, 35]],
        "Demand": [DEMAND_HDR, ["USA", "REF", 2026, 80]],
        "Routes": [ROUTES_HDR, ["AUS", "USA", "ORE", 1, None], ["AUS", "JPN", None, 0.5, None],
                   ["JPN", "USA", "REF", 2, None]],
        "Recipes": [["output", "input", "quantity"], ["REF", "ORE", 2]],
    }


def test_two_tier_recipe_optimum(tmp_path, run_cli):
    res = solve_both(tmp_path, run_cli, "recipe", recipe_sheets())
    # USA 60 x 32 + JPN 20 x 48 = 1920 + 960
    assert_objective(res, 2880.0, total_cost=2880.0)
    flows = {(r["origin"], r["destination"], r["commodity"]): r["quantity"] for r in res["cli"].sheet("Flows")}
    # the optimum is unique: ore moves in exactly the recipe's proportion to where refining happens
    assert flows[("AUS", "USA", "ORE")] == pytest.approx(120)
    assert flows[("AUS", "JPN", "ORE")] == pytest.approx(40)
    assert flows[("JPN", "USA", "REF")] == pytest.approx(20)
    assert flows[("USA", "USA", "REF")] == pytest.approx(60)


def test_two_tier_recipe_with_enough_local_refining(tmp_path, run_cli):
    res = solve_both(tmp_path, run_cli, "recipe_local", recipe_sheets(usa_capacity=100))
    assert_objective(res, 80 * 32.0, total_cost=80 * 32.0)


# --------------------------------------------------------------------------- shortfall


def shortfall_sheets(settings_penalty=None, commodity_penalty=None, extra_supply=(), extra_routes=()) -> dict:
    """USA needs 100; AUS can ship only 70 at 10 + route 2."""
    sheets = {
        "Settings": [["setting", "value"], ["unlisted_routes", "blocked"]],
        "Countries": [COUNTRY_HDR, ["USA", "US", "US", None], ["AUS", "Australia", "Pax Silica", None],
                      ["JPN", "Japan", "Pax Silica", None]],
        "Commodities": [COMMODITY_HDR, ["LI", "lithium", "t", None, commodity_penalty]],
        "Supply": [SUPPLY_HDR, ["AUS", "LI", 2026, 70, 10], *extra_supply],
        "Demand": [DEMAND_HDR, ["USA", "LI", 2026, 100]],
        "Routes": [ROUTES_HDR, ["AUS", "USA", "LI", 2, None], *extra_routes],
    }
    if settings_penalty is not None:
        sheets["Settings"].append(["shortfall_penalty", settings_penalty])
    return sheets


def assert_shortfall(res: dict, quantity: float) -> None:
    assert str(res["plan"].status) == "optimal_with_shortfall"
    assert res["summary"]["status"] == "optimal_with_shortfall"
    assert float(res["summary"]["shortfall_total"]) == pytest.approx(quantity)
    rows = res["cli"].sheet("Shortfalls")
    assert [(r["country"], r["commodity"], int(r["period"])) for r in rows] == [("USA", "LI", 2026)]
    assert rows[0]["quantity"] == pytest.approx(quantity)


def test_shortfall_with_default_penalty(tmp_path, run_cli):
    # default penalty: 1000 x max(1, 10, 2) = 10000
    res = solve_both(tmp_path, run_cli, "short", shortfall_sheets())
    assert_objective(res, 70 * 12 + 30 * 10_000, total_cost=840.0)
    assert_shortfall(res, 30)


def test_default_penalty_counts_every_unit_and_route_cost_even_unused(tmp_path, run_cli):
    # JPN's supply (unit cost 40) has no route to USA and the USA<-JPN lane is blocked (cost 55),
    # yet both costs enter the default: 1000 x max(1, 10, 2, 40, 55) = 55000
    res = solve_both(tmp_path, run_cli, "short_default", shortfall_sheets(
        extra_supply=[["JPN", "LI", 2026, 500, 40]], extra_routes=[["JPN", "USA", None, 55, 0]]))
    assert_objective(res, 840 + 30 * 55_000, total_cost=840.0)
    assert_shortfall(res, 30)


def test_default_penalty_is_at_least_1000(tmp_path, run_cli):
    # every cost below 1: the default is 1000 x 1
    sheets = shortfall_sheets()
    sheets["Supply"][1][4] = 0.5
    sheets["Routes"][1][3] = 0.25
    res = solve_both(tmp_path, run_cli, "short_small", sheets)
    assert_objective(res, 70 * 0.75 + 30 * 1000.0, total_cost=52.5)
    assert_shortfall(res, 30)


def test_settings_penalty_and_commodity_penalty(tmp_path, run_cli):
    res = solve_both(tmp_path, run_cli, "short_settings", shortfall_sheets(settings_penalty=100))
    assert_objective(res, 840 + 30 * 100.0, total_cost=840.0)
    assert_shortfall(res, 30)
    # the commodity's own penalty beats the Settings one
    res = solve_both(tmp_path, run_cli, "short_commodity", shortfall_sheets(settings_penalty=100,
                                                                            commodity_penalty=50))
    assert_objective(res, 840 + 30 * 50.0, total_cost=840.0)
    assert_shortfall(res, 30)


def test_penalty_below_cost_leaves_all_demand_unmet(tmp_path, run_cli):
    # supplying costs 12 per unit, not supplying 5: the optimum ships nothing (unique)
    res = solve_both(tmp_path, run_cli, "short_cheap", shortfall_sheets(commodity_penalty=5))
    assert_objective(res, 100 * 5.0, total_cost=0.0)
    assert_shortfall(res, 100)
    assert res["cli"].sheet("Flows") == []


# --------------------------------------------------------------------------- nothing to do


def test_workbook_without_demand_is_an_optimal_empty_plan(tmp_path, run_cli):
    # no Demand: the LP has no rows or columns (HiGHS: "Model empty"); still an optimal plan
    sheets = shortfall_sheets()
    sheets["Demand"] = [DEMAND_HDR]
    res = solve_both(tmp_path, run_cli, "no_demand", sheets)
    assert_objective(res, 0.0, total_cost=0.0)
    assert res["summary"]["status"] == "optimal"


# --------------------------------------------------------------------------- the checker has teeth


def edited(plan: Path, out: Path, sheet: str, edit) -> Path:
    """A copy of the plan workbook with `edit(rows)` applied to one sheet's rows (header first)."""
    wb = openpyxl.load_workbook(plan)
    ws = wb[sheet]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    edit(rows)
    ws.delete_rows(1, ws.max_row)
    for r in rows:
        ws.append(r)
    wb.save(out)
    return out


def set_flow(rows: list[list], origin: str, dest: str, commodity: str, quantity: float) -> None:
    h = rows[0]
    for r in rows[1:]:
        if (r[h.index("origin")], r[h.index("destination")], r[h.index("commodity")]) == (origin, dest, commodity):
            r[h.index("quantity")] = quantity
            r[h.index("cost")] = quantity * (r[h.index("unit_cost")] + r[h.index("route_cost")])
            return
    raise AssertionError("no such flow")


def add_flow(rows: list[list], **values) -> None:
    rows.append([values.get(h) for h in rows[0]])


def set_metric(rows: list[list], metric: str, value) -> None:
    for r in rows[1:]:
        if r[0] == metric:
            r[1] = value


@pytest.fixture
def cap_plan(tmp_path):
    inp = write_workbook(tmp_path / "cap.xlsx", china_cap_sheets(0.4))
    out = tmp_path / "cap_plan.xlsx"
    solve_workbook(inp, out)
    assert check_plan(inp, out) == []
    return inp, out


def test_checker_flags_a_broken_china_cap(cap_plan, tmp_path):
    inp, plan = cap_plan

    def shift(rows):
        set_flow(rows, "CHN", "USA", "REO", 45)
        set_flow(rows, "AUS", "USA", "REO", 55)

    bad = edited(plan, tmp_path / "bad.xlsx", "Flows", shift)
    problems = check_plan(inp, bad)
    assert any(p.startswith("china cap") for p in problems), problems
    assert any("total_cost" in p for p in problems), problems  # the Summary no longer adds up


def test_checker_flags_share_limits_capacity_and_costs(cap_plan, tmp_path):
    inp, plan = cap_plan
    # the same plan against a tighter input: AUS may supply at most half, and only 50
    sheets = china_cap_sheets(0.4)
    sheets["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                             [None, None, "Pax Silica", None, 0.5], ["REO", 2026, "CHN", 0.45, None]]
    sheets["Supply"][2][3] = 50
    tighter = write_workbook(tmp_path / "tighter.xlsx", sheets)
    problems = check_plan(tighter, plan)
    assert sum(p.startswith("ShareLimits") for p in problems) == 2, problems
    assert any(p.startswith("capacity: AUS") for p in problems), problems
    # a cost cell that does not equal quantity x (unit_cost + route_cost)
    bad = edited(plan, tmp_path / "bad_cost.xlsx", "Flows", lambda rows: rows[1].__setitem__(rows[0].index("cost"), 1))
    assert any("cost 1" in p for p in check_plan(inp, bad))
    bad = edited(plan, tmp_path / "bad_total.xlsx", "Summary", lambda rows: set_metric(rows, "total_cost", 2701))
    assert any("total_cost" in p for p in check_plan(inp, bad))


def test_checker_flags_unknown_and_blocked_flows_and_missing_shortfalls(tmp_path):
    inp = write_workbook(tmp_path / "recipe.xlsx", recipe_sheets())
    plan = tmp_path / "recipe_plan.xlsx"
    solve_workbook(inp, plan)
    # JPN ships ore it does not have; USA refines more than its capacity with ore it never got
    bad = edited(plan, tmp_path / "bad1.xlsx", "Flows", lambda rows: add_flow(
        rows, period=2026, commodity="ORE", origin="JPN", destination="USA", quantity=5, unit_cost=0,
        route_cost=0, cost=0))
    assert any("no Supply of ORE" in p for p in check_plan(inp, bad))

    def overproduce(rows):
        set_flow(rows, "USA", "USA", "REF", 70)
        set_flow(rows, "JPN", "USA", "REF", 10)

    problems = check_plan(inp, edited(plan, tmp_path / "bad2.xlsx", "Flows", overproduce))
    assert any(p.startswith("capacity: USA") for p in problems), problems
    assert any(p.startswith("Shortfalls: ('USA', 'ORE', 2026)") for p in problems), problems
    # a route the workbook does not list, with unlisted_routes=blocked
    bad = edited(plan, tmp_path / "bad3.xlsx", "Flows", lambda rows: add_flow(
        rows, period=2026, commodity="REF", origin="USA", destination="JPN", quantity=1, unit_cost=20,
        route_cost=0, cost=20))
    assert any("neither demands" in p for p in check_plan(inp, bad))  # JPN needs no REF
    sheets = recipe_sheets()
    sheets["Demand"].append(["JPN", "REF", 2026, 1])
    inp2 = write_workbook(tmp_path / "recipe2.xlsx", sheets)
    assert any("route not allowed" in p for p in check_plan(inp2, bad))


def test_checker_flags_a_hidden_shortfall(tmp_path):
    inp = write_workbook(tmp_path / "short.xlsx", shortfall_sheets())
    plan = tmp_path / "short_plan.xlsx"
    solve_workbook(inp, plan)
    assert check_plan(inp, plan) == []
    bad = edited(plan, tmp_path / "bad.xlsx", "Shortfalls", lambda rows: rows.__delitem__(slice(1, None)))
    problems = check_plan(inp, bad)
    assert any(p.startswith("Shortfalls: ('USA', 'LI', 2026)") for p in problems), problems
    bad = edited(plan, tmp_path / "bad2.xlsx", "Summary", lambda rows: set_metric(rows, "status", "optimal"))
    assert any("status 'optimal'" in p for p in check_plan(inp, bad))


# --------------------------------------------------------------------------- share floors, risk


def test_share_floor_forces_the_dearer_ally(tmp_path, run_cli):
    # cap 0.4 alone gives CHN 40 / AUS 60; a Pax Silica floor of 70% moves 10 more to AUS (+20 each)
    sheets = china_cap_sheets(0.4)
    sheets["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                             [None, None, "Pax Silica", 0.7, None]]
    res = solve_both(tmp_path, run_cli, "floor", sheets)
    assert_objective(res, 500 + 30 * 10 + 70 * 30, total_cost=2900.0)
    row = china_row(res)
    assert float(row["china_share"]) == pytest.approx(0.3, abs=1e-9)
    assert not truthy(row["binding"])  # the floor, not the cap, limits the plan


def test_risk_term_is_in_the_objective_not_in_total_cost(tmp_path, run_cli):
    # risk_weight 100: CHN costs 10 + 100 x 0.9 = 100 per unit, AUS 30 + 100 x 0.1 = 40, so AUS
    # (capacity 150) serves USA 100 and CHN's own 50: objective 150 x 40, total cost 150 x 30
    sheets = china_cap_sheets(None, aus_capacity=150)
    sheets["Settings"] = [["setting", "value"], ["risk_weight", 100]]
    res = solve_both(tmp_path, run_cli, "risk", sheets)
    assert_objective(res, 6000.0, total_cost=4500.0)
