"""The Python API for notebooks and scripts: load a workbook, solve it, write the plan.

Results are pandas DataFrames with the same columns as the output sheets; no solver object
leaves the modelling layer.
"""

from __future__ import annotations

import time
from pathlib import Path

from model.data import InputData, load_workbook
from model.formulation.lp import build_lp
from model.results import Plan, build_plan
from model.solve.highs import HighsSession


def solve(data: InputData, *, no_shortfall: bool = False, time_limit_s: float | None = None,
          session: HighsSession | None = None, threads: int | None = None, sensitivity: bool = True,
          ranging: bool = False, alternate_optima: bool = False) -> Plan:
    """Build and solve the LP for `data`. Pass a `session` to re-solve in place (what-if batches).

    `sensitivity` adds the Sensitivity sheet (duals, reduced costs); `ranging` adds HiGHS basis
    ranges to it; `alternate_optima` adds the AlternateOptima sheet (re-solves: slower).
    """
    started = time.perf_counter()
    lp = build_lp(data, no_shortfall=no_shortfall)
    build_seconds = time.perf_counter() - started
    limit = time_limit_s if time_limit_s is not None else data.settings.time_limit_s
    if session is None:
        session = HighsSession(time_limit_s=limit, threads=threads)
    else:
        session.time_limit_s = limit
    sol = session.solve(lp)
    plan = build_plan(data, lp, sol, extra_summary={
        "build_seconds": round(build_seconds, 4),
        "strict_no_shortfall": no_shortfall,
    })
    if no_shortfall and sol.status == "infeasible":
        from model.diagnose import explain_infeasible

        plan.tables["Infeasibility"] = explain_infeasible(data, lp)
    if sensitivity or ranging or alternate_optima:
        from model.report.sensitivity import add_sensitivity

        add_sensitivity(plan, session=session, ranging=ranging, alternate=alternate_optima, threads=threads)
    return plan


def solve_workbook(workbook: str | Path, output: str | Path | None = None, **options) -> Plan:
    """Load, solve and (when `output` is given) write the plan workbook. Raises InputError on bad input."""
    data = load_workbook(workbook)
    plan = solve(data, **options)
    if output is not None:
        from model.io.writer import write_plan

        write_plan(plan, Path(output), inputs=[Path(workbook)])
    return plan
