"""The Python API for notebooks and scripts: load a workbook, solve it, write the plan.

Results are pandas DataFrames with the same columns as the output sheets; no solver object
leaves the modelling layer.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from model.data import InputData, load_workbook
from model.formulation.lp import build_lp
from model.planning_tables import fixed_builds, project_values
from model.results import Analysis, Plan, build_plan
from model.solve import marginals as marginals_of
from model.solve.highs import HighsSession
from model.solve.marginals import balance_ranges
from model.solve.parts import PartSolver
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
    exact_wanted = marginals == "resolve" and detail == "full"
    parts: PartSolver | None = None
    mip = lp.integrality is not None and bool(lp.integrality.any())
    if (session is None and exact_wanted) or mip:
        # the command line's path, and every MIP: solved part by part (model/solve/parts.py), and
        # the same part objects then answer every exact re-solve below. A MIP goes by parts in a
        # batch too: HiGHS's MIP machinery on the whole base case costs 0.25 s a scenario, on the
        # part holding the builds a fraction of that, and a session's in-place update does not
        # help a MIP (it is solved from scratch each time)
        parts = PartSolver(lp, threads=threads, time_limit_s=limit)
        sol = parts.solve()
        priced = None
        if session is not None:
            session.remember(lp)  # the next what-if reuses this structure's Index
            session.rebuilds += 1  # the parts were passed to HiGHS anew: a rebuild in a batch's terms
    else:
        if session is None:
            session = HighsSession(time_limit_s=limit, threads=threads)
        else:
            session.time_limit_s = limit
        sol, priced = session.solve(lp), session  # an LP (every MIP goes by parts, above)
    fixed = fixed_builds(lp, sol)
    an = Analysis(sensitivity=(sensitivity or ranging or alternate_optima) and detail == "full", rows=rows)
    solved = sol.x is not None and sol.row_dual is not None
    # marginals and the cost of caps compare with the optimum: meaningless for a suboptimal stop
    exact = exact_wanted and solved and sol.status == Status.OPTIMAL
    if exact and parts is None:  # a caller's session solved it: its parts start at that optimum
        t0 = time.perf_counter()
        parts = PartSolver(lp, threads=threads)
        basis = priced.h.getBasis()
        parts.start_from(basis.col_status, basis.row_status, sol.x)
        an.summary["parts_seconds"] = round(time.perf_counter() - t0, 4)
    if exact:
        an.summary["independent_parts"] = parts.partition.count
        t0 = time.perf_counter()
        an.prices = marginals_of.run(parts, [marginals_of.prices(fixed, sol, *balance_ranges(parts, fixed), parts)])[0]
        an.summary["prices_seconds"] = round(time.perf_counter() - t0, 4)
        t0 = time.perf_counter()
        # the other re-solves in one batch (the parts' threads stay busy across kinds); lifting the
        # caps may change what a MIP builds, so with builds they are re-solved as MIPs, as are the
        # projects' values (each built project forbidden: Projects.value)
        kinds = [marginals_of.share_marginals(fixed, sol), marginals_of.content_marginals(fixed, sol),
                 marginals_of.caps_cost(lp, sol.objective, mip=parts.mip)]
        if lp.index.size("projects"):
            kinds.append(marginals_of.project_values(lp, sol))
        got = marginals_of.run(parts, kinds)
        an.share_marginals, an.content_marginals = got[0], got[1]
        an.summary.update(got[2])
        if len(got) > 3:
            an.project_values = got[3]
        an.summary["marginals"] = "re-solved: objective change for +1 percentage point of each binding share limit"
        an.summary["marginals_seconds"] = round(time.perf_counter() - t0, 4)
    elif solved and detail == "full" and lp.index.size("projects"):
        an.project_values = project_values(lp, sol, threads=threads)
    if solved and detail == "full" and (ranging or alternate_optima):
        from model.report.sensitivity import prepare

        if priced is None:  # solved by parts: one whole-model object at the same optimum
            priced = HighsSession(threads=threads)
            priced.load(fixed)
            priced.h.setBasis(parts.basis())
            priced.h.run()
        got = prepare(priced, fixed, sol, ranging=ranging, alternate=alternate_optima, threads=threads)
        an.ranging, an.alternate = got["ranging"], got["alternate"]
        an.summary.update(got["summary"])
    plan = build_plan(data, lp, sol, detail=detail, analysis=an, extra_summary={
        "build_seconds": round(build_seconds, 4),
        "strict_no_shortfall": no_shortfall,
    })
    if no_shortfall and sol.status == "infeasible":
        from model.diagnose import explain_infeasible

        plan.tables["Infeasibility"] = explain_infeasible(data, lp)
    return plan


def solve_workbook(workbook: str | Path, output: str | Path | None = None, **options) -> Plan:
    """Load, solve and (when `output` is given) write the plan workbook. Raises InputError on bad input."""
    data = load_workbook(workbook)
    plan = solve(data, **options)
    if output is not None:
        from model.io.writer import write_plan

        write_plan(plan, Path(output), inputs=[Path(workbook)])
    return plan
