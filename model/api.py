"""The Python API for notebooks and scripts: load a workbook, solve it, write the plan.

Results are pandas DataFrames with the same columns as the output sheets; no solver object
leaves the modelling layer.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np

from model.content_tables import resolve_content_marginals
from model.data import InputData, load_workbook
from model.formulation.lp import build_lp
from model.planning_tables import fixed_builds, project_values, with_mip_duals
from model.results import Analysis, Plan, build_plan
from model.solve.highs import HighsSession
from model.solve.marginals import (
    balance_ranges,
    objective_without,
    resolve_marginals,
    resolve_prices,
)
from model.status import Status


def solve(data: InputData, *, no_shortfall: bool = False, time_limit_s: float | None = None,
          session: HighsSession | None = None, threads: int | None = None, sensitivity: bool = True,
          ranging: bool = False, alternate_optima: bool = False,
          marginals: Literal["resolve", "dual"] = "resolve",
          detail: Literal["full", "contract"] = "full",
          rows: Literal["decisive", "full"] = "full") -> Plan:
    """Build and solve the LP for `data`. Pass a `session` to re-solve in place (what-if batches).

    `marginals="resolve"` re-solves each binding China cap and ShareLimits row with its share one
    point higher and reports that exact change, and re-solves the Prices of destinations whose dual
    does not hold for a whole unit (model/solve/marginals.py); "dual" uses the duals alone (fast,
    but not unique when the optimum is degenerate), for batches. `detail="contract"` leaves out
    every table but the contract ones (batches). `rows="decisive"` keeps in Capacity, Sensitivity
    and FlowSensitivity only the rows that decide the plan (the command line's default).

    `sensitivity` adds the Sensitivity and FlowSensitivity sheets (duals, reduced costs); `ranging`
    adds HiGHS basis ranges; `alternate_optima` adds the AlternateOptima sheet (re-solves: slower).
    Everything is computed before the tables are built: no table is rewritten afterwards.
    """
    started = time.perf_counter()
    # the loaded structure first (an in-place update), then others this session has met
    lp = build_lp(data, no_shortfall=no_shortfall, reuse=session.structures if session is not None else None)
    build_seconds = time.perf_counter() - started
    limit = time_limit_s if time_limit_s is not None else data.settings.time_limit_s
    own_session = session is None
    if session is None:
        session = HighsSession(time_limit_s=limit, threads=threads)
    else:
        session.time_limit_s = limit
    # a MIP (binary projects): duals, prices, marginals, ranging and alternate optima are those of
    # the LP with every build fixed at its optimum (`fixed`, solved in `priced`); an LP is its own
    sol, priced = with_mip_duals(lp, session.solve(lp), session, threads=threads)
    fixed = fixed_builds(lp, sol)
    an = Analysis(sensitivity=(sensitivity or ranging or alternate_optima) and detail == "full", rows=rows)
    solved = sol.x is not None and sol.row_dual is not None
    # marginals and the cost of caps compare with the optimum: meaningless for a suboptimal stop
    exact = marginals == "resolve" and solved and sol.status == Status.OPTIMAL
    if solved and detail == "full":
        if exact:  # needs the solved basis: before anything else touches the session
            t0 = time.perf_counter()
            an.prices = resolve_prices(fixed, sol, *balance_ranges(priced.h, fixed), h=priced.h, threads=threads)
            an.summary["prices_seconds"] = round(time.perf_counter() - t0, 4)
        if ranging or alternate_optima:
            from model.report.sensitivity import prepare

            got = prepare(priced, fixed, sol, ranging=ranging, alternate=alternate_optima, threads=threads)
            an.ranging, an.alternate = got["ranging"], got["alternate"]
            an.summary.update(got["summary"])
    if exact:
        t0 = time.perf_counter()
        # a session of our own that solved lp re-solves every what-if warm from its basis (and is
        # left holding lp); a caller's session is left as it was
        if priced is not session:  # a MIP: the session holding the fixed LP
            warm = priced
        else:
            warm = session if own_session else HighsSession(threads=threads, warm_start="always")
        an.share_marginals = resolve_marginals(fixed, sol, threads=threads, session=warm)
        an.content_marginals = resolve_content_marginals(fixed, sol, threads=threads, session=warm)
        an.summary["marginals"] = "re-solved: objective change for +1 percentage point of each binding share limit"
        an.summary["marginals_seconds"] = round(time.perf_counter() - t0, 4)
        # lifting the caps may change what a MIP builds: re-solved as a MIP from the workbook
        mip = lp.integrality is not None
        an.summary.update(cost_of_caps(data, sol.objective, lp=None if mip else fixed, session=None if mip else warm,
                                       no_shortfall=no_shortfall, threads=threads))
    if solved and detail == "full" and lp.index.size("projects"):
        # each built project's value: the plan re-solved with it forbidden (Projects.value)
        an.project_values = project_values(lp, sol, threads=threads)
    plan = build_plan(data, lp, sol, detail=detail, analysis=an, extra_summary={
        "build_seconds": round(build_seconds, 4),
        "strict_no_shortfall": no_shortfall,
    })
    if no_shortfall and sol.status == "infeasible":
        from model.diagnose import explain_infeasible

        plan.tables["Infeasibility"] = explain_infeasible(data, lp)
    return plan


def cost_of_caps(data: InputData, objective: float, *, lp=None, session: HighsSession | None = None,
                 no_shortfall: bool = False, threads: int | None = None) -> dict[str, float]:
    """What the China caps cost together: the objective minus the objective with every cap lifted.

    The caps interact, so this is not the sum of the per-cap marginal costs; it answers the
    first question an analyst asks of a plan. One extra solve: with `lp` and a `session`, the cap
    rows are lifted in place (same structure, warm from the base basis); otherwise the workbook is
    rebuilt without caps.
    """
    if data["Commodities"]["china_cap"].isna().all():
        return {}
    if lp is not None and session is not None and lp.row_blocks["china_cap"].size:
        free = objective_without(lp, "china_cap", session)
    else:
        uncapped = data.copy()
        uncapped.tables["Commodities"]["china_cap"] = np.nan
        solved = HighsSession(threads=threads).solve(build_lp(uncapped, no_shortfall=no_shortfall))
        free = solved.objective if solved.x is not None else None
    if free is None:
        return {}
    return {"cost_of_china_caps": objective - free, "objective_without_china_caps": free}


def solve_workbook(workbook: str | Path, output: str | Path | None = None, **options) -> Plan:
    """Load, solve and (when `output` is given) write the plan workbook. Raises InputError on bad input."""
    data = load_workbook(workbook)
    plan = solve(data, **options)
    if output is not None:
        from model.io.writer import write_plan

        write_plan(plan, Path(output), inputs=[Path(workbook)])
    return plan
