"""ShareLimits.source = `each` (issue 13): one limit per origin country, worked by hand.

USA needs 100 t of cobalt; COD (10/t), AUS (20/t) and CAN (30/t) can each ship 200. Without a
limit COD ships everything (1,000). `each` with max_share 0.4 caps every single country at 40 t:
COD 40 + AUS 40 + CAN 20 = 400 + 800 + 600 = 1,800, the unique optimum.
"""

from __future__ import annotations

import pytest

from model.api import solve_workbook
from model.data import load_workbook
from model.errors import InputError
from model.formulation.lp import build_lp
from tests.independent.checker import check_plan
from tests.independent.reference_lp import reference_optimum, reference_solve
from tests.workbooks import read_sheet, write_workbook

LIMIT_HDR = ["commodity", "period", "source", "min_share", "max_share"]


def sheets(*limits: list) -> dict:
    return {
        "Countries": [["code", "name", "group", "risk"], ["USA", None, "US", None], ["COD", None, "Other", None],
                      ["AUS", None, "Pax Silica", None], ["CAN", None, "Pax Silica", None],
                      ["CHN", None, "China", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["COB", None, "t", None, None]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"], ["COD", "COB", 2026, 200, 10],
                   ["AUS", "COB", 2026, 200, 20], ["CAN", "COB", 2026, 200, 30]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "COB", 2026, 100]],
        "ShareLimits": [LIMIT_HDR, *limits],
    }


def solve(tmp_path, name: str, book: dict):
    inp = write_workbook(tmp_path / f"{name}.xlsx", book)
    out = tmp_path / f"{name}_plan.xlsx"
    plan = solve_workbook(inp, out)
    assert check_plan(inp, out) == []
    assert reference_optimum(inp) == pytest.approx(plan.objective, rel=1e-9)
    return inp, out, plan


def shipped(plan) -> dict[str, float]:
    flows = plan.tables["Flows"]
    return flows.groupby("origin")["quantity"].sum().to_dict()


def test_each_caps_every_single_country(tmp_path):
    inp, out, plan = solve(tmp_path, "each_max", sheets([None, None, "each", None, 0.4]))
    assert plan.objective == pytest.approx(1800)
    assert shipped(plan) == pytest.approx({"COD": 40, "AUS": 40, "CAN": 20})
    # one row per origin that can supply cobalt, nothing for USA or CHN (no Supply rows)
    lp = build_lp(load_workbook(inp))
    assert sorted(lp.row_blocks["share_max"].keys["source"]) == ["AUS", "CAN", "COD"]
    # the marginal of each country's limit, re-solved: one more point for COD displaces 1 t of
    # CAN (saves 20), for AUS 1 t of CAN at 10 cheaper (saves 10); CAN's limit is slack
    sens = [r for r in read_sheet(out, "Sensitivity") if r["measure"] == "share maximum"]
    cost = {r["country"]: r["cost_change"] for r in sens}
    assert cost == pytest.approx({"COD": -20, "AUS": -10, "CAN": 0}, abs=1e-6)
    level = {r["country"]: r["level"] for r in sens}
    assert level == pytest.approx({"COD": 0.4, "AUS": 0.4, "CAN": 0.2})


def test_each_at_one_half_and_as_a_floor(tmp_path):
    _, _, plan = solve(tmp_path, "each_half", sheets(["COB", 2026, "each", None, 0.5]))
    assert plan.objective == pytest.approx(50 * 10 + 50 * 20)
    # a floor of 20% for every country: CAN must ship 20, AUS 20, COD the other 60
    _, _, plan = solve(tmp_path, "each_min", sheets([None, None, "each", 0.2, None]))
    assert plan.objective == pytest.approx(600 + 400 + 600)
    assert shipped(plan) == pytest.approx({"COD": 60, "AUS": 20, "CAN": 20})


def test_each_beside_a_named_source(tmp_path):
    # each at 60% and Pax Silica (AUS + CAN) at least 50%: COD 50, AUS 50 (CAN costs more)
    inp, _, plan = solve(tmp_path, "each_and_group", sheets([None, None, "each", None, 0.6],
                                                            [None, None, "Pax Silica", 0.5, None]))
    assert plan.objective == pytest.approx(500 + 1000)
    flows = reference_solve(inp).flows
    assert flows[("COD", "USA", "COB", 2026)] == pytest.approx(50)


def test_each_is_accepted_and_a_typo_is_named(tmp_path):
    ok = write_workbook(tmp_path / "ok.xlsx", sheets([None, None, "each", None, 0.4]))
    assert len(load_workbook(ok)["ShareLimits"]) == 1
    bad = write_workbook(tmp_path / "bad.xlsx", sheets([None, None, "eachh", None, 0.4]))
    with pytest.raises(InputError) as err:
        load_workbook(bad)
    text = str(err.value)
    assert "ShareLimits row 2, column source: unknown country code or group" in text and "eachh" in text


def test_each_in_the_pyomo_statement(tmp_path):
    from model.formulation.pyomo_model import build_pyomo, solve_pyomo

    inp = write_workbook(tmp_path / "each_pyomo.xlsx", sheets([None, None, "each", None, 0.4]))
    term, objective = solve_pyomo(build_pyomo(build_lp(load_workbook(inp)).index))
    assert "optimal" in term and objective == pytest.approx(1800)
