"""China content through stocks (issue 13 x issue 12): a stock is a pooled inventory whose clean
part follows what was bought into it, in the engine, its Pyomo statement, the scipy reference and
the independent checker alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.api import solve_workbook
from model.data import load_workbook
from model.formulation.lp import build_lp
from model.formulation.pyomo_model import build_pyomo, solve_pyomo
from tests.independent.checker import check_plan
from tests.independent.reference_lp import reference_optimum
from tests.workbooks import write_workbook

STOCKS = ["country", "commodity", "initial", "capacity", "holding_cost", "max_release"]


def book(seller: str, *, rule: float | None = None, initial: float = 0) -> dict:
    """The US makes high-purity gallium (GAHP) from gallium (GA), 1 t each, and needs 50 t of it in
    2027, when nobody sells GA: the GA must come from a US stock bought into in 2026 from `seller`
    (the other seller's GA costs 100 more)."""
    other = "CHN" if seller == "AUS" else "AUS"
    out = {
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", None], ["AUS", "AU", "Pax", None],
                      ["CHN", "CN", "China", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["GA", "gallium", "t", None, 1e4],
                        ["GAHP", "high-purity gallium", "t", None, 1e5]],
        "Recipes": [["output", "input", "quantity"], ["GAHP", "GA", 1]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"], [seller, "GA", 2026, 100, 10],
                   [other, "GA", 2026, 100, 110], ["AUS", "GA", 2027, 0, 10], ["USA", "GAHP", 2026, 100, 1],
                   ["USA", "GAHP", 2027, 100, 1]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "GAHP", 2027, 50]],
        "Stocks": [STOCKS, ["USA", "GA", initial, 100, 0.1, None]],
    }
    if rule is not None:
        out["ContentRules"] = [["commodity", "period", "destination", "max_china_content"],
                               ["GAHP", 2027, "USA", rule]]
    return out


def content(plan, commodity: str, period: int) -> dict:
    cc = plan.tables["ChinaContent"]
    row = cc[(cc["commodity"] == commodity) & (cc["period"] == period) & cc["destination"].isna()]
    assert len(row) == 1
    return row.iloc[0].to_dict()


def solved(tmp_path: Path, name: str, sheets: dict):
    inp = write_workbook(tmp_path / f"{name}.xlsx", sheets)
    out = tmp_path / f"{name}_plan.xlsx"
    plan = solve_workbook(inp, out)
    assert check_plan(inp, out) == []
    assert reference_optimum(inp) == pytest.approx(plan.objective, rel=1e-9)
    term, obj = solve_pyomo(build_pyomo(build_lp(load_workbook(inp)).index))
    assert "optimal" in term and obj == pytest.approx(plan.objective, rel=1e-9)
    return plan


def test_a_stock_filled_outside_china_passes_clean_units_on(tmp_path):
    plan = solved(tmp_path, "clean", book("AUS"))
    assert plan.tables["Stocks"]["level"].tolist() == pytest.approx([50, 0])
    c = content(plan, "GAHP", 2027)
    assert c["direct_share"] == 0 and c["any_stage_share"] == pytest.approx(0.0)


def test_a_stock_filled_from_china_carries_its_china_content(tmp_path):
    plan = solved(tmp_path, "dirty", book("CHN"))
    assert content(plan, "GA", 2026)["direct_share"] == pytest.approx(1.0)
    assert content(plan, "GAHP", 2027)["any_stage_share"] == pytest.approx(1.0)


def test_an_initial_stock_of_unknown_origin_counts_as_china_touched(tmp_path):
    # 50 t already held: nothing is bought, and the GAHP made from it has no traceable clean chain
    plan = solved(tmp_path, "initial", book("AUS", initial=50))
    assert plan.tables["Flows"]["commodity"].tolist() == ["GAHP"]
    assert content(plan, "GAHP", 2027)["any_stage_share"] == pytest.approx(1.0)


def test_a_content_rule_is_met_through_a_clean_stock(tmp_path):
    # the rule (no China content in the US's 2027 GAHP) is met by stocking Australian GA in 2026;
    # without clean units passing through the stock it could only be met by shortfall
    plan = solved(tmp_path, "rule", book("AUS", rule=0.0))
    assert plan.shortfall_total == 0
    c = content(plan, "GAHP", 2027)
    assert c["any_stage_share"] == pytest.approx(0.0)
    lp = plan.lp
    assert lp.row_blocks["clean_stock"].size == 2  # (USA, GA) in 2026 and 2027
    m = build_pyomo(lp.index)  # the Pyomo statement has the same rows, family by family
    for family in ("clean_bound", "clean_input", "clean_stock", "content_rule"):
        assert lp.row_blocks[family].size == len(getattr(m, family)), family
    assert lp.row_blocks["clean_input"].size == 2  # GA at USA in 2027 (production) and 2026 (the stock)
    # a rule that forces China-free GA from the stock when the stock can only be filled from China:
    # the plan must leave the demand short rather than break the rule
    short = solved(tmp_path, "rule_short", book("CHN", rule=0.0) | {"Supply": [
        ["country", "commodity", "period", "capacity", "unit_cost"], ["CHN", "GA", 2026, 100, 10],
        ["AUS", "GA", 2027, 0, 10], ["USA", "GAHP", 2026, 100, 1], ["USA", "GAHP", 2027, 100, 1]]})
    assert short.shortfall_total == pytest.approx(50)


def test_strict_mode_explains_a_rule_the_stock_cannot_meet(tmp_path):
    from model.diagnose import explain_infeasible

    sheets = book("CHN", rule=0.0) | {"Supply": [
        ["country", "commodity", "period", "capacity", "unit_cost"], ["CHN", "GA", 2026, 100, 10],
        ["AUS", "GA", 2027, 0, 10], ["USA", "GAHP", 2026, 100, 1], ["USA", "GAHP", 2027, 100, 1]]}
    data = load_workbook(write_workbook(tmp_path / "strict.xlsx", sheets))
    for use_iis in (False, True):
        table = explain_infeasible(data, build_lp(data, no_shortfall=True), use_iis=use_iis)
        assert "content_rule" in set(table["constraint"]), table
        assert table["explanation"].str.len().min() > 0
