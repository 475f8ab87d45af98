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


def test_copies_share_nothing_an_edit_can_reach(data):
    """InputData.copy() is shallow (pandas copy-on-write): edits on either side stay there."""
    copy = data.copy()
    before = data["Supply"]["capacity"].to_numpy().copy()
    copy.tables["Supply"].loc[0, "capacity"] = -1.0
    copy.tables["Supply"]["unit_cost"] *= 2
    assert (data["Supply"]["capacity"].to_numpy() == before).all()
    assert copy["Supply"]["capacity"].iloc[0] == -1.0
    data.tables["Demand"].loc[0, "quantity"] = 12345.0
    assert copy["Demand"]["quantity"].iloc[0] != 12345.0


def test_an_in_place_edit_of_the_built_workbook_is_still_seen(data):
    """The structure check trusts shared memory; an in-place edit of the very tables the LP was
    built from must still count as a change (copy-on-write moves the edited column)."""
    base = build_lp(data)
    data.tables["Supply"].loc[0, "country"] = "JPN"
    assert not base.index.structure.matches(data)
    rebuilt = build_lp(data, reuse=base.index)
    assert rebuilt.index.memo is not base.index.memo
    assert (rebuilt.index.flows["origin"] == "JPN").sum() > (base.index.flows["origin"] == "JPN").sum()


def test_in_place_value_edits_refresh_the_numbers(data):
    base = build_lp(data)
    data.tables["Supply"].loc[0, "unit_cost"] = 1000.0
    reused = build_lp(data, reuse=base.index)
    assert reused.index.memo is base.index.memo
    assert (reused.c == build_lp(data).c).all() and not (reused.c == base.c).all()


def test_refreshed_index_tables_equal_fresh_ones(data):
    base = build_lp(data)
    changed = data.copy()
    changed.tables["Supply"]["unit_cost"] *= 1.3
    changed.tables["Routes"].loc[0, "cost_per_unit"] = 9.0
    reused, fresh = build_lp(changed, reuse=base.index).index, build_lp(changed).index
    for name in ("supply", "needs", "flows", "caps", "limits", "recipes"):
        got, want = getattr(reused, name), getattr(fresh, name)
        assert list(got.columns) == list(want.columns), name
        assert got.drop(columns=["members"], errors="ignore").equals(
            want.drop(columns=["members"], errors="ignore")), name


def test_plan_tables_are_built_on_first_use_and_in_sheet_order(data):
    plan = solve(data, sensitivity=False, marginals="dual")
    tables = plan.tables
    assert list(tables) == ["Overview", "Summary", "Flows", "Shares", "ChinaShare", "Shortfalls", "Capacity",
                            "Prices", "ChinaContent"]
    assert "Flows" in tables and "Nope" not in tables
    flows = tables["Flows"]
    assert flows is tables["Flows"]  # built once
    assert flows["cost"].sum() == pytest.approx(plan.total_cost, rel=1e-9)
    tables["Extra"] = flows.head(1)
    assert list(tables)[-1] == "Extra"
    del tables["Extra"]
    assert "Extra" not in tables


@pytest.mark.parametrize("warm_start", ["always", "auto"])
def test_returning_to_an_earlier_structure_reuses_it_and_matches_fresh_solves(data, warm_start):
    """base -> caps removed (another structure) -> base again with new costs: the third solve
    takes the first structure's sets (no joins) and, warm or not, gives a fresh solve's optimum."""
    session = HighsSession(warm_start=warm_start)
    first = solve(data, session=session, sensitivity=False, marginals="dual")
    uncapped = data.copy()
    uncapped.tables["Commodities"]["china_cap"] = float("nan")
    second = solve(uncapped, session=session, sensitivity=False, marginals="dual")
    assert second.lp.index.memo is not first.lp.index.memo
    again = data.copy()
    again.tables["Supply"]["unit_cost"] *= 1.1
    third = solve(again, session=session, sensitivity=False, marginals="dual")
    assert third.lp.index.memo is first.lp.index.memo
    assert session.rebuilds == 3  # HiGHS still gets the whole model each time the structure changes
    for plan, d in ((second, uncapped), (third, again)):
        assert plan.objective == pytest.approx(solve(d, sensitivity=False, marginals="dual").objective, rel=1e-9)
    assert second.objective <= first.objective + 1e-6  # lifting caps never costs more


def test_column_reads_fall_back_to_public_pandas(data, monkeypatch):
    """data.values() reads pandas' internal column store; if pandas drops that method the public
    path must give the same LP."""
    import pandas as pd

    want = build_lp(data)
    monkeypatch.delattr(pd.DataFrame, "_get_column_array")
    got = build_lp(data.copy(), reuse=want.index)
    assert got.index.memo is want.index.memo
    for attr in ("c", "lower", "upper", "row_lower", "row_upper"):
        assert (getattr(got, attr) == getattr(want, attr)).all(), attr
