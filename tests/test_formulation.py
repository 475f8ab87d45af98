"""The production LP (sparse arrays -> highspy) against the Pyomo statement of the same model,
and in-place re-solves against fresh solves."""

from __future__ import annotations

import pytest

from model.api import solve
from model.data import load_workbook
from model.formulation.lp import build_lp
from model.formulation.pyomo_model import build_pyomo, solve_pyomo
from model.formulation.sets import build_index
from model.solve.highs import HighsSession
from tests.workbooks import write_workbook


def two_tier_sheets() -> dict[str, list[list]]:
    return {
        "Settings": [["setting", "value"], ["risk_weight", 3]],
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", 0.1], ["CHN", "China", "China", 0.9],
                      ["AUS", "Australia", "Pax Silica", 0.2], ["JPN", "Japan", "Pax Silica", 0.1]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"],
                        ["ORE", "ore", "t", None, None], ["OXIDE", "oxide", "t", 0.4, None],
                        ["MAGNET", "magnet", "t", 0.3, 5000]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"],
                   ["CHN", "ORE", None, 500, 5], ["AUS", "ORE", None, 300, 8], ["USA", "ORE", 2027, 100, 9],
                   ["CHN", "OXIDE", None, 400, 20], ["AUS", "OXIDE", None, 50, 35], ["JPN", "OXIDE", None, 100, 40],
                   ["CHN", "MAGNET", None, 300, 60], ["JPN", "MAGNET", None, 80, 90], ["USA", "MAGNET", None, 60, 110]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "MAGNET", 2026, 100],
                   ["USA", "MAGNET", 2027, 150], ["JPN", "MAGNET", None, 60], ["USA", "OXIDE", 2027, 20]],
        "Routes": [["origin", "destination", "commodity", "cost_per_unit", "max_quantity"],
                   ["CHN", "USA", None, 4, None], ["CHN", "USA", "OXIDE", 2, 10], ["AUS", "JPN", None, 1, None]],
        "Recipes": [["output", "input", "quantity"], ["OXIDE", "ORE", 2.0], ["MAGNET", "OXIDE", 0.35]],
        "ShareLimits": [["commodity", "period", "source", "min_share", "max_share"],
                        ["MAGNET", None, "Pax Silica", 0.1, None], [None, 2027, "USA", None, 0.9]],
    }


@pytest.fixture
def data(tmp_path):
    return load_workbook(write_workbook(tmp_path / "two_tier.xlsx", two_tier_sheets()))


def test_pyomo_statement_gives_the_same_optimum(data):
    plan = solve(data)
    termination, objective = solve_pyomo(build_pyomo(build_index(data)))
    assert termination == "optimal"
    assert plan.objective == pytest.approx(objective, rel=1e-9)
    assert plan.dual_objective == pytest.approx(plan.objective, rel=1e-7)


def test_only_existing_combinations_are_indexed(data):
    lp = build_lp(data)
    flows = lp.index.flows
    # every flow links a supply and a need of the same commodity and period
    assert (flows["commodity"] == lp.index.supply.loc[flows["supply_id"], "commodity"].to_numpy()).all()
    assert (flows["commodity"] == lp.index.needs.loc[flows["need_id"], "commodity"].to_numpy()).all()
    # no ORE flows to a country that neither demands ORE nor makes OXIDE from it
    ore_dest = set(flows.loc[flows["commodity"] == "ORE", "destination"])
    assert ore_dest == {"CHN", "AUS", "JPN"}
    # the commodity-specific route (max 10) wins over the blank-commodity one
    chn_usa_oxide = flows[(flows["origin"] == "CHN") & (flows["destination"] == "USA") & (flows["commodity"] == "OXIDE")]
    assert set(chn_usa_oxide["route_max"]) == {10.0} and set(chn_usa_oxide["route_cost"]) == {2.0}


def test_resolve_in_place_equals_fresh_solve(data):
    session = HighsSession()
    solve(data, session=session)
    changed = data.copy()
    sup = changed.tables["Supply"]
    sup.loc[sup["country"] == "CHN", "unit_cost"] *= 1.5
    com = changed.tables["Commodities"]
    com.loc[com["code"] == "MAGNET", "china_cap"] = 0.2
    in_place = solve(changed, session=session)
    fresh = solve(changed)
    assert session.updates == 1 and session.rebuilds == 1
    assert in_place.objective == pytest.approx(fresh.objective, rel=1e-9)


def test_value_only_edits_reuse_the_structure_and_give_the_identical_lp(data):
    base = build_lp(data)
    changed = data.copy()
    t = changed.tables
    t["Supply"].loc[0, ["capacity", "unit_cost"]] = (123.0, 7.5)
    t["Demand"].loc[1, "quantity"] = 999.0
    t["Routes"].loc[1, "max_quantity"] = 0.0  # an embargo on the commodity-specific route
    t["Recipes"].loc[0, "quantity"] = 2.5
    t["Commodities"].loc[t["Commodities"]["code"] == "OXIDE", "china_cap"] = 0.15
    t["ShareLimits"].loc[0, "min_share"] = 0.25
    t["Countries"].loc[0, "risk"] = 0.7
    reused = build_lp(changed, reuse=base.index)
    fresh = build_lp(changed)
    assert reused.index.memo is base.index.memo  # the structure was taken, not rebuilt
    assert fresh.index.memo is not base.index.memo
    for attr in ("c", "lower", "upper", "row_lower", "row_upper"):
        assert (getattr(reused, attr) == getattr(fresh, attr)).all(), attr
    assert reused.same_structure(fresh)
    assert (reused.A.data == fresh.A.data).all()
    assert not (reused.c == base.c).all()  # and the edits did change the numbers


def test_an_edit_to_a_key_column_rebuilds_the_structure(data):
    base = build_lp(data)
    changed = data.copy()
    changed.tables["Supply"].loc[0, "country"] = "JPN"
    rebuilt = build_lp(changed, reuse=base.index)
    assert rebuilt.index.memo is not base.index.memo
    assert not base.index.structure.matches(changed)


def test_summary_states_what_the_china_caps_cost_together(tmp_path):
    # CHN at 10 could serve all 100 (cost 1000); the 40% cap buys 60 from AUS at 30: 400 + 1800
    sheets = {
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", None],
                      ["CHN", "China", "China", None], ["AUS", "Australia", "Pax Silica", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["REO", "oxide", "t", 0.4, None]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"],
                   ["CHN", "REO", 2026, 200, 10], ["AUS", "REO", 2026, 200, 30]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "REO", 2026, 100]],
    }
    plan = solve(load_workbook(write_workbook(tmp_path / "cap.xlsx", sheets)))
    assert plan.objective == pytest.approx(2200.0)
    assert plan.summary_value("cost_of_china_caps") == pytest.approx(1200.0)
    assert plan.summary_value("objective_without_china_caps") == pytest.approx(1000.0)
    assert plan.tables["ChinaShare"]["marginal_cost"].iloc[0] == pytest.approx(-20.0)
