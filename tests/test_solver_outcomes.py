"""Solver outcomes (issue 6): every status, its exit code, and what is (not) written.

Time limits are not deterministic, so the "stopped early" statuses are provoked with HiGHS's
simplex_iteration_limit (deterministic), set through a session hook: the API takes a `session`;
the command line solves part by part (model/solve/parts.py), so the CLI tests swap the HiGHS
objects the parts use (`parts._new`) for ones with the same options. Numerical
trouble is tested through the pure mapping `status_from_highs` from every HiGHS model status.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import highspy
import pytest
from click.testing import CliRunner

import model.api
import model.solve.highs as highs_mod
import model.solve.parts as parts_mod
from model.api import solve
from model.data import load_workbook
from model.io.writer import write_plan
from model.solve.highs import HighsSession, status_from_highs
from model.status import EXIT_CODES, HAS_PLAN, Status
from tests.independent.checker import check_plan
from tests.workbooks import read_sheet, write_workbook

MS = highspy.HighsModelStatus
DOC = Path(__file__).resolve().parents[1] / "docs" / "solver_outcomes.md"


# --------------------------------------------------------------------------- a generated LP


def generated_sheets(n: int = 12, k: int = 3, seed: int = 1) -> dict:
    """n countries x k commodities, every country supplying and demanding every commodity, all
    routes open at random costs, a China cap of 30%: ~450 flows, large enough that the simplex
    needs about a hundred iterations (so an iteration limit stops it part-way)."""
    rnd = random.Random(seed)
    cs = [f"C{i:02d}" for i in range(n)]
    return {
        "Countries": [["code", "name", "group", "risk"],
                      *[[c, c, "China" if i == 0 else "Other", None] for i, c in enumerate(cs)]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"],
                        *[[f"K{j}", None, "t", 0.3, None] for j in range(k)]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"],
                   *[[c, f"K{j}", 2026, rnd.randint(50, 150), rnd.randint(1, 30)] for c in cs for j in range(k)]],
        "Demand": [["country", "commodity", "period", "quantity"],
                   *[[c, f"K{j}", 2026, rnd.randint(40, 120)] for c in cs for j in range(k)]],
        "Routes": [["origin", "destination", "commodity", "cost_per_unit", "max_quantity"],
                   *[[o, d, None, rnd.randint(1, 20), None] for o in cs for d in cs if o != d]],
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return write_workbook(tmp_path_factory.mktemp("outcomes") / "generated.xlsx", generated_sheets())


@pytest.fixture(scope="module")
def data(generated):
    return load_workbook(generated)


def limited_session(iterations: int) -> HighsSession:
    """Primal simplex without presolve: deterministic, and feasible from the end of phase 1 on."""
    s = HighsSession()
    set_limits(s, iterations)
    return s


def set_limits(session: HighsSession, iterations: int) -> None:
    session.h.setOptionValue("presolve", "off")
    session.h.setOptionValue("solver", "simplex")
    session.h.setOptionValue("simplex_strategy", 4)  # primal
    session.h.setOptionValue("simplex_iteration_limit", int(iterations))


@pytest.fixture(scope="module")
def optimum(data):
    """The optimal plan with the same (primal, no presolve) settings and no limit."""
    plan = solve(data, session=limited_session(10**9))
    assert plan.status in (Status.OPTIMAL, Status.OPTIMAL_WITH_SHORTFALL)
    assert plan.solution.iterations > 10
    return plan


# --------------------------------------------------------------------------- the mapping


@pytest.mark.parametrize("has_primal", [True, False])
@pytest.mark.parametrize("ms", list(MS.__members__.values()), ids=list(MS.__members__))
def test_only_a_proven_optimum_is_labelled_optimal(ms, has_primal):
    status = status_from_highs(ms, has_primal)
    assert isinstance(status, Status)
    if status == Status.OPTIMAL:
        assert (ms == MS.kOptimal and has_primal) or ms == MS.kModelEmpty
    assert status != Status.OPTIMAL_WITH_SHORTFALL  # decided later, from the shortfall itself


@pytest.mark.parametrize(("ms", "has_primal", "expected"), [
    (MS.kOptimal, True, Status.OPTIMAL),
    (MS.kOptimal, False, Status.NUMERICAL_TROUBLE),
    (MS.kInfeasible, False, Status.INFEASIBLE),
    (MS.kUnboundedOrInfeasible, False, Status.INFEASIBLE),
    (MS.kTimeLimit, True, Status.SUBOPTIMAL),
    (MS.kTimeLimit, False, Status.TIME_LIMIT_NO_PLAN),
    (MS.kIterationLimit, True, Status.SUBOPTIMAL),
    (MS.kIterationLimit, False, Status.TIME_LIMIT_NO_PLAN),
    (MS.kInterrupt, True, Status.SUBOPTIMAL),
    (MS.kUnknown, True, Status.NUMERICAL_TROUBLE),  # e.g. optimal only for the scaled model
    (MS.kUnknown, False, Status.NUMERICAL_TROUBLE),
    (MS.kSolveError, False, Status.NUMERICAL_TROUBLE),
    (MS.kUnbounded, True, Status.NUMERICAL_TROUBLE),  # impossible for this LP: costs, flows >= 0
    (MS.kPostsolveError, True, Status.NUMERICAL_TROUBLE),
    (MS.kModelEmpty, False, Status.OPTIMAL),
])
def test_status_mapping(ms, has_primal, expected):
    assert status_from_highs(ms, has_primal) == expected


def test_exit_codes_are_distinct_and_documented():
    assert EXIT_CODES[Status.OPTIMAL] == EXIT_CODES[Status.OPTIMAL_WITH_SHORTFALL] == 0
    others = [EXIT_CODES[s] for s in Status if s not in (Status.OPTIMAL, Status.OPTIMAL_WITH_SHORTFALL)]
    assert sorted(others) == [3, 4, 5, 6]
    assert {Status.OPTIMAL, Status.OPTIMAL_WITH_SHORTFALL, Status.SUBOPTIMAL} == HAS_PLAN
    doc = DOC.read_text()
    for status in Status:
        row = next((line for line in doc.splitlines() if f"`{status}`" in line and line.startswith("|")), None)
        assert row is not None, f"{status} missing from the table in {DOC.name}"
        assert re.search(rf"\|\s*{EXIT_CODES[status]}\s*\|", row), row


# --------------------------------------------------------------------------- stopped early, via the API


def test_iteration_limit_before_any_feasible_point_gives_no_plan(data):
    plan = solve(data, session=limited_session(0))
    assert plan.status == Status.TIME_LIMIT_NO_PLAN
    assert not plan.has_plan
    assert plan.tables["Flows"].empty
    assert plan.summary_value("status") == "time_limit_no_plan"
    assert plan.summary_value("solver_status") == "Iteration limit reached"


def test_iteration_limit_after_a_feasible_point_gives_a_suboptimal_plan(data, generated, optimum, tmp_path):
    # primal simplex is primal feasible from the end of phase 1; one iteration short of the
    # optimum it has a feasible, unproven point
    plan = solve(data, session=limited_session(optimum.solution.iterations - 1))
    assert plan.status == Status.SUBOPTIMAL
    assert plan.has_plan
    assert plan.summary_value("status") == "suboptimal"
    assert plan.summary_value("solver_status") == "Iteration limit reached"
    assert plan.objective >= optimum.objective - 1e-6
    # a basis that is not dual feasible prices nothing: no shadow prices or marginal costs
    assert plan.tables["Capacity"]["shadow_price"].isna().all()
    assert plan.tables["Prices"]["marginal_cost"].isna().all()
    assert optimum.tables["Capacity"]["shadow_price"].notna().all()
    out = tmp_path / "suboptimal.xlsx"
    write_plan(plan, out, inputs=[generated])
    assert check_plan(generated, out) == []  # feasible, costs add up
    assert {r["metric"]: r["value"] for r in read_sheet(out, "Summary")}["status"] == "suboptimal"


def test_suboptimal_is_never_relabelled_even_with_shortfall(data):
    # a suboptimal point may carry shortfall: it stays "suboptimal", not "optimal_with_shortfall"
    for limit in (1, 60):
        plan = solve(data, session=limited_session(limit))
        assert plan.status in (Status.SUBOPTIMAL, Status.TIME_LIMIT_NO_PLAN)


def test_a_tiny_time_limit_never_yields_a_false_optimal(data):
    # time limits are not deterministic: whatever happens, the status must be consistent
    plan = solve(data, time_limit_s=1e-6)
    assert plan.status in (Status.OPTIMAL, Status.OPTIMAL_WITH_SHORTFALL, Status.SUBOPTIMAL,
                           Status.TIME_LIMIT_NO_PLAN)
    if not plan.has_plan:
        assert plan.tables["Flows"].empty
    if plan.status in (Status.OPTIMAL, Status.OPTIMAL_WITH_SHORTFALL):
        assert plan.summary_value("solver_status") == "Optimal"


# --------------------------------------------------------------------------- exit codes, via the CLI


def limited_highs(iterations: int):
    """The HiGHS objects of the parts, with the options of `set_limits`."""
    real = parts_mod._new

    def make(log: bool = False) -> highspy.Highs:
        h = real(log)
        h.setOptionValue("presolve", "off")
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 4)  # primal
        h.setOptionValue("simplex_iteration_limit", int(iterations))
        return h

    return make


@pytest.fixture(scope="module")
def largest_part_iterations(data):
    """Iterations the largest part needs with those options: one fewer stops it part-way."""
    from model.formulation.lp import build_lp

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parts_mod, "_new", limited_highs(10**9))
        solver = parts_mod.PartSolver(build_lp(data))
        assert solver.solve().status == Status.OPTIMAL
    return max(p.iterations for p in solver.parts)


def run_solve(monkeypatch, workbook: Path, output: Path, *, iterations: int | None = None,
              extra: tuple[str, ...] = ()):
    if iterations is not None:
        class Limited(HighsSession):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                set_limits(self, iterations)

        monkeypatch.setattr(model.api, "HighsSession", Limited)
        monkeypatch.setattr(parts_mod, "_new", limited_highs(iterations))
    from model.cli import main

    return CliRunner().invoke(main, ["solve", str(workbook), "-o", str(output), *extra])


def test_cli_exit_0_when_optimal(monkeypatch, generated, tmp_path):
    out = tmp_path / "plan.xlsx"
    res = run_solve(monkeypatch, generated, out)
    assert res.exit_code == 0, res.output
    assert out.exists()


def test_cli_exit_3_and_a_suboptimal_plan_at_the_iteration_limit(monkeypatch, generated, largest_part_iterations,
                                                                 tmp_path):
    out = tmp_path / "plan.xlsx"
    res = run_solve(monkeypatch, generated, out, iterations=largest_part_iterations - 1)
    assert res.exit_code == 3, res.output
    assert "status: suboptimal" in res.stderr
    assert "not proven optimal" in res.stderr
    assert {r["metric"]: r["value"] for r in read_sheet(out, "Summary")}["status"] == "suboptimal"


def test_cli_exit_4_and_nothing_written_without_a_feasible_point(monkeypatch, generated, tmp_path):
    out = tmp_path / "plan.xlsx"
    res = run_solve(monkeypatch, generated, out, iterations=0)
    assert res.exit_code == 4, res.output
    assert "status: time_limit_no_plan" in res.stderr
    assert "nothing was written" in res.stderr
    assert not out.exists()


def test_cli_exit_5_and_nothing_written_on_numerical_trouble(monkeypatch, generated, tmp_path):
    monkeypatch.setattr(highs_mod, "status_from_highs", lambda ms, has_primal: Status.NUMERICAL_TROUBLE)
    out = tmp_path / "plan.xlsx"
    res = run_solve(monkeypatch, generated, out)
    assert res.exit_code == 5, res.output
    assert "status: numerical_trouble" in res.stderr
    assert "nothing was written" in res.stderr
    assert not out.exists()
