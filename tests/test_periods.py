"""Issue 11: periods are labels. Years are the documented case; 1..T works the same through the
formulation, the plan, the checker and batches. Typos (0, negative, 20260) are refused."""

from __future__ import annotations

import copy

import pytest

from model.api import solve
from model.batch.commands import run_batch
from model.data import load_workbook
from model.schema import MAX_PERIOD
from tests.independent.checker import check_plan
from tests.independent.reference_lp import reference_optimum
from tests.test_known_optima import assert_objective, solve_both, trnsport_sheets
from tests.test_validation import base_sheets, problems_for
from tests.workbooks import write_workbook


def with_period(sheets: dict, period: int | None) -> dict:
    out = copy.deepcopy(sheets)
    for name in ("Supply", "Demand"):
        for row in out[name][1:]:
            row[2] = period
    return out


def test_textbook_transportation_model_with_period_1(tmp_path, run_cli):
    """GAMS trnsport (Dantzig) as the one-period model it is: optimum 153.675, plan in period 1."""
    res = solve_both(tmp_path, run_cli, "trnsport_t1", with_period(trnsport_sheets(), 1))
    assert_objective(res, 153.675, total_cost=153.675)
    assert str(res["plan"].status) == "optimal"
    flows = res["cli"].sheet("Flows")
    assert {r["period"] for r in flows} == {1}
    assert sum(r["quantity"] for r in flows) == pytest.approx(900)


GROWTH = {1: 1.0, 2: 0.9, 3: 1.05}


def three_periods() -> dict:
    """trnsport over periods 1..3: plants every period (blank period), markets at 100%, 90% and
    105% of the textbook demand (capacity is 950); seattle capped at 30% in period 2 only."""
    sheets = with_period(trnsport_sheets(), None)
    sheets["Demand"] = [sheets["Demand"][0]] + [[row[0], row[1], t, row[3] * GROWTH[t]]
                                                for t in (1, 2, 3) for row in sheets["Demand"][1:]]
    sheets["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                             ["cases", 2, "seattle", None, 0.3]]
    sheets["Scenarios"] = [["scenario", "sheet", "column", "where", "action", "value", "note"],
                           ["seattle_down", "Supply", "capacity", "country=seattle", "scale", 0.5, None]]
    return sheets


def test_periods_1_to_3_solve_check_and_batch(tmp_path):
    path = write_workbook(tmp_path / "t3.xlsx", three_periods())
    data = load_workbook(path)
    assert data.periods == [1, 2, 3]
    assert not any("periods mix" in w for w in data.warnings)
    plan = solve(data)
    assert str(plan.status) == "optimal"
    out = tmp_path / "t3_plan.xlsx"
    from model.io.writer import write_plan

    write_plan(plan, out, inputs=[path])
    assert check_plan(path, out) == []  # the engine-independent checker agrees, period by period
    flows = plan.tables["Flows"]
    assert sorted(flows["period"].unique()) == [1, 2, 3]
    per = flows.groupby("period")["quantity"].sum()
    assert per.to_dict() == pytest.approx({1: 900, 2: 810, 3: 945})
    seattle_2 = flows[(flows["period"] == 2) & (flows["origin"] == "seattle")]["quantity"].sum()
    assert seattle_2 == pytest.approx(0.3 * 810)  # binds: seattle ships all 350 when it may
    assert reference_optimum(path) == pytest.approx(plan.objective, rel=1e-9)  # scipy, from the file alone
    tables, _ = run_batch(data, progress=False)
    comp = tables["Comparison"].set_index("scenario")
    assert list(comp.index) == ["base", "seattle_down"]
    assert comp.at["base", "total_cost"] == pytest.approx(plan.total_cost)
    assert comp.at["seattle_down", "status"] in ("optimal", "optimal_with_shortfall")
    assert set(tables["Flows"]["period"]) == {1, 2, 3}


@pytest.mark.parametrize(("period", "message"), [
    (0, "must be >= 1"), (-1, "must be >= 1"), (20260, f"must be <= {MAX_PERIOD}"),
])
def test_period_typos_are_refused_with_the_rule(tmp_path, period, message):
    sheets = base_sheets()
    sheets["Demand"][1][2] = period
    found = problems_for(tmp_path, sheets)
    assert found == [f"Demand row 2, column period: {message} (a period is a whole-number label from 1 to "
                     f"{MAX_PERIOD}: a year such as 2026, or 1, 2, ... T) (got {period})"]


def test_mixing_years_and_small_labels_is_a_warning(tmp_path):
    sheets = base_sheets()
    sheets["Supply"].append(["AUS", "REO", 3, 1, 1])
    data = load_workbook(write_workbook(tmp_path / "mixed.xlsx", sheets))
    assert data.periods == [3, 2026]
    assert any("periods mix years and small labels (3 and 2026)" in w for w in data.warnings)
