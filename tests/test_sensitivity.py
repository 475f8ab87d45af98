"""Sensitivity, ranging and alternate optima checked against finite-difference re-solves.

The base case: USA needs 100 t. AUS (10/t, capacity 60) is cheapest and saturated, CAN (25/t,
capacity 200) is the marginal supplier, JPN (40/t) is unused. Non-degenerate: the price at USA
is 25, AUS capacity is worth 15 a unit, JPN must get 15 cheaper to enter.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from model.api import solve
from model.data import load_workbook
from tests.workbooks import write_workbook

SUPPLY_HDR = ["country", "commodity", "period", "capacity", "unit_cost"]
COUNTRY_HDR = ["code", "name", "group", "risk"]
COMMODITY_HDR = ["code", "name", "unit", "china_cap", "shortfall_penalty"]
LIMIT_HDR = ["commodity", "period", "source", "min_share", "max_share"]


def sheets(aus_cap=60.0, aus_cost=10.0, jpn_cost=40.0, can_cost=25.0, limits=None, china_cap=None,
           chn=False, demand=100.0) -> dict:
    countries = [["USA", "US", "US", None], ["AUS", "AU", "Pax Silica", None], ["CAN", "CA", "Pax Silica", None],
                 ["JPN", "JP", "Pax Silica", None], ["CHN", "CN", "China", None]]
    supply = [["AUS", "REO", 2026, aus_cap, aus_cost], ["CAN", "REO", 2026, 200, can_cost],
              ["JPN", "REO", 2026, 100, jpn_cost]]
    if chn:
        supply.append(["CHN", "REO", 2026, 200, 5])
    out = {
        "Countries": [COUNTRY_HDR, *countries],
        "Commodities": [COMMODITY_HDR, ["REO", "Rare-earth oxide", "t", china_cap, None]],
        "Supply": [SUPPLY_HDR, *supply],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "REO", 2026, demand]],
    }
    if limits:
        out["ShareLimits"] = [LIMIT_HDR, *limits]
    return out


_n = [0]


def run(tmp_path: Path, **kw):
    _n[0] += 1
    path = write_workbook(tmp_path / f"case{_n[0]}.xlsx", sheets(**{k: v for k, v in kw.items()
                                                                     if k not in ("ranging", "alternate_optima")}))
    return solve(load_workbook(path), ranging=kw.get("ranging", False),
                 alternate_optima=kw.get("alternate_optima", False))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """The base case with everything on (one solve shared by the tests below)."""
    return run(tmp_path_factory.mktemp("base"), ranging=True, alternate_optima=True)


def sens(plan, measure: str, country: str | None = None) -> pd.Series:
    t = plan.tables["Sensitivity"]
    t = t[t["measure"] == measure]
    if country is not None:
        t = t[t["country"] == country]
    assert len(t) == 1, t
    return t.iloc[0]


def flows(plan) -> dict:
    f = plan.tables["Flows"]
    return {(r.origin, r.destination): round(r.quantity, 9) for r in f.itertuples()}


def test_capacity_shadow_price_equals_finite_difference(tmp_path, base):
    assert base.objective == pytest.approx(60 * 10 + 40 * 25)
    plus = run(tmp_path, aus_cap=61.0)
    fd = plus.objective - base.objective
    assert fd == pytest.approx(-15.0)
    assert sens(base, "capacity", "AUS")["cost_change"] == pytest.approx(fd)
    cap = base.tables["Capacity"].set_index("country")
    assert cap.loc["AUS", "shadow_price"] == pytest.approx(-fd)
    assert sens(base, "capacity", "CAN")["cost_change"] == pytest.approx(0.0)
    # delivered cost at USA = the price of the marginal supplier, and the finite difference of demand
    more = run(tmp_path, demand=101.0)
    assert sens(base, "delivered cost", "USA")["cost_change"] == pytest.approx(more.objective - base.objective)
    assert sens(base, "delivered cost", "USA")["cost_change"] == pytest.approx(25.0)
    # unit cost: d objective / d unit cost = the quantity shipped
    dearer = run(tmp_path, can_cost=26.0)
    assert sens(base, "unit cost", "CAN")["cost_change"] == pytest.approx(dearer.objective - base.objective)


def test_unused_supplier_enters_only_below_its_cost_cut(tmp_path, base):
    cut = sens(base, "unit cost", "JPN")["cost_cut_to_enter"]
    assert cut == pytest.approx(15.0)
    assert base.tables["Capacity"].set_index("country").loc["JPN", "cost_cut_to_enter"] == pytest.approx(15.0)
    assert pd.isna(sens(base, "unit cost", "CAN")["cost_cut_to_enter"])  # in the plan: no cut needed
    below = run(tmp_path, jpn_cost=40.0 - cut - 0.5)
    above = run(tmp_path, jpn_cost=40.0 - cut + 0.5)
    assert ("JPN", "USA") in flows(below)
    assert ("JPN", "USA") not in flows(above)


def test_china_cap_marginal_cost_matches_finite_difference(tmp_path):
    # CHN (5/t) capped at 30%: AUS 60 at 10, CHN 30 at 5, CAN 10 at 25; +1 pp swaps 1 t CAN -> CHN
    base = run(tmp_path, chn=True, china_cap=0.3)
    plus = run(tmp_path, chn=True, china_cap=0.31)
    fd = plus.objective - base.objective
    assert fd == pytest.approx(-20.0)
    row = sens(base, "China cap")
    assert row["cost_change"] == pytest.approx(fd)
    assert row["level"] == pytest.approx(0.3)
    assert "binding" in row["note"]


@pytest.mark.parametrize("limit, bumped, expected", [
    (["REO", 2026, "AUS", None, 0.5], ["REO", 2026, "AUS", None, 0.51], -15.0),  # max binds: raising saves
    (["REO", 2026, "JPN", 0.2, None], ["REO", 2026, "JPN", 0.21, None], 15.0),  # min binds: raising costs
])
def test_share_limit_marginal_cost_matches_finite_difference(tmp_path, limit, bumped, expected):
    base = run(tmp_path, limits=[limit])
    plus = run(tmp_path, limits=[bumped])
    fd = plus.objective - base.objective
    assert fd == pytest.approx(expected)
    measure = "share maximum" if limit[4] is not None else "share minimum"
    row = sens(base, measure)
    assert row["cost_change"] == pytest.approx(fd)
    assert row["unit"].endswith("per +1 percentage point of the limit")


def test_ranging_cost_and_capacity_ranges_hold_and_end_where_the_plan_changes(tmp_path, base):
    assert "not degenerate" in base.summary_value("ranging_note")
    cost = sens(base, "unit cost", "AUS")
    assert cost["allowable_increase"] == pytest.approx(15.0)  # AUS stays cheapest until 25
    assert pd.isna(cost["allowable_decrease"])  # any decrease keeps it in
    assert flows(run(tmp_path, aus_cost=10 + 14.5)) == flows(base)
    assert flows(run(tmp_path, aus_cost=10 + 15.5)) != flows(base)
    jpn = sens(base, "unit cost", "JPN")
    assert jpn["allowable_decrease"] == pytest.approx(jpn["cost_cut_to_enter"])
    cap = sens(base, "capacity", "AUS")
    assert cap["allowable_increase"] == pytest.approx(40.0)  # until AUS covers all demand
    assert cap["allowable_decrease"] == pytest.approx(60.0)
    outside = run(tmp_path, aus_cap=60 + 41)
    assert sens(outside, "capacity", "AUS")["cost_change"] == pytest.approx(0.0)
    caprow = base.tables["Capacity"].set_index("country").loc["AUS"]
    assert caprow["capacity_increase"] == pytest.approx(40.0)


def test_ranging_states_degeneracy(tmp_path):
    # AUS capacity exactly equals demand: a basic variable sits at a bound
    plan = run(tmp_path, aus_cap=100.0, ranging=True)
    assert "degenerate" in plan.summary_value("ranging_note")
    assert "not degenerate" not in plan.summary_value("ranging_note")


def test_alternate_optima_forced_and_tied(tmp_path, base):
    alt = base.tables["AlternateOptima"].set_index("source")
    assert (alt["min_share"] <= alt["share"] + 1e-9).all() and (alt["share"] <= alt["max_share"] + 1e-9).all()
    assert alt["forced"].all()
    assert alt.loc["AUS", "min_share"] == pytest.approx(0.6, abs=1e-6)
    # a known tie: CAN and JPN both cost 25, so the 40 t above AUS can go either way
    tie = run(tmp_path, jpn_cost=25.0, alternate_optima=True)
    alt = tie.tables["AlternateOptima"].set_index("source")
    assert alt.loc["AUS", "forced"]
    for src in ("CAN", "JPN"):
        assert not alt.loc[src, "forced"]
        assert alt.loc[src, "min_share"] == pytest.approx(0.0, abs=1e-6)
        assert alt.loc[src, "max_share"] == pytest.approx(0.4, abs=1e-6)
        assert alt.loc[src, "min_share"] - 1e-9 <= alt.loc[src, "share"] <= alt.loc[src, "max_share"] + 1e-9
    assert "alternate_optima_tolerance" in set(tie.tables["Summary"]["metric"])


def test_sensitivity_can_be_switched_off(tmp_path):
    path = write_workbook(tmp_path / "off.xlsx", sheets())
    plan = solve(load_workbook(path), sensitivity=False)
    assert "Sensitivity" not in plan.tables


def test_share_limit_levels_equal_the_sources_share_of_the_plans_flows():
    """Sensitivity's `level` of every ShareLimits row (read off the row's activity) equals the
    source's share of non-China supply summed from the plan's flows, member by member."""
    from pathlib import Path

    from model.api import solve
    from model.data import load_workbook

    plan = solve(load_workbook(Path(__file__).resolve().parents[1] / "inputs" / "base_case.xlsx"), rows="full")
    lp, sens = plan.lp, plan.tables["Sensitivity"]
    f, x = lp.index.flows, plan.solution.x[lp.cols("flow")]
    keep = ~f["china_dest"].to_numpy()
    total = f.loc[keep, ["period", "commodity"]].assign(q=x[keep]).groupby(["period", "commodity"])["q"].sum()
    by = f.loc[keep, ["period", "commodity", "origin"]].assign(q=x[keep]).groupby(
        ["period", "commodity", "origin"])["q"].sum()
    members = {(r.limit_row, r.commodity, r.period, r.source): r.members for r in lp.index.limits.itertuples()}
    checked = 0
    for r in sens[sens["measure"].isin(["share maximum", "share minimum"])].itertuples():
        s = total.get((r.period, r.commodity), 0.0)
        if s <= 1e-9:
            continue
        inside = sum(by.get((r.period, r.commodity, o), 0.0) for o in members[(r.limit_row, r.commodity, r.period,
                                                                              r.country)])
        assert r.level == pytest.approx(inside / s, abs=1e-9)
        checked += 1
    assert checked > 100
