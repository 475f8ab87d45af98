"""The plan's Stocks and Projects sheets (issue 12), and the duals of a MIP plan.

A workbook without Stocks or Projects rows gets neither sheet. A project's `value` is what the
objective would lose without it: the plan re-solved with the project forbidden, minus the plan.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.formulation.lp import LP
from model.solve.highs import HighsSession, Solution, dual_objective

if TYPE_CHECKING:
    from model.data import InputData
    from model.results import Plan

TOL = 1e-9
MIP_DUALS_NOTE = ("binary projects make this a MIP: duals, prices and shadow prices are those of the LP "
                  "with every build fixed at its optimum")


def add_planning_tables(plan: Plan, extra: dict) -> None:
    """Register the Stocks and Projects tables (built on first use) when the workbook has rows."""
    lp, sol, data = plan.lp, plan.solution, plan.data
    if lp is None or sol is None or data is None or sol.x is None:
        return
    if lp.integrality is not None:
        extra["mip_duals"] = MIP_DUALS_NOTE if sol.row_dual is not None else "none (a MIP)"
    if lp.index.size("stocks"):
        plan.tables.lazy("Stocks", lambda: stocks_table(data, lp, sol.x))
    if lp.index.size("projects"):
        an = getattr(plan.context, "an", None)
        values = an.project_values if an is not None else None
        plan.tables.lazy("Projects", lambda: projects_table(lp, sol, values=values))


def stocks_table(data: InputData, lp: LP, z: np.ndarray) -> pd.DataFrame:
    """Level at the end of each period and its change (+ build-up, - draw) per stock."""
    ix = lp.index
    st = ix.keys["stocks"]
    level = z[lp.cols("stock")]
    prev = ix.key("stocks", "prev")
    before = np.where(prev >= 0, level[np.maximum(prev, 0)], ix.numbers.planning.initial)
    com = data["Commodities"]
    unit = pd.Series(com["unit"].fillna("unit").to_numpy(), index=com["code"].to_numpy())
    out = pd.DataFrame({"period": st["period"].to_numpy(), "country": st["country"].to_numpy(),
                        "commodity": st["commodity"].to_numpy(),
                        "unit": unit.reindex(st["commodity"].to_numpy()).to_numpy(),
                        "level": level + 0.0, "change": level - before + 0.0})
    for c in ("level", "change"):
        out.loc[out[c].abs() < TOL, c] = 0.0
    return out.sort_values(["period", "commodity", "country"], kind="stable").reset_index(drop=True)


def project_values(lp: LP, sol: Solution, *, threads: int | None = None) -> np.ndarray:
    """Each built project's value (0 for the others): api.solve computes it in the Analysis step."""
    y = sol.x[lp.cols("build")]
    pid = lp.index.key("builds", "project_id")
    built = np.bincount(pid, weights=y, minlength=len(lp.index.keys["projects"]))
    value = np.zeros(len(built))
    for p in np.flatnonzero(built > 1e-6):
        value[p] = project_value(lp, sol, p, threads=threads)
    return value


def projects_table(lp: LP, sol: Solution, *, values: np.ndarray | None = None,
                   threads: int | None = None) -> pd.DataFrame:
    """Per project: how much is built and when, the capacity and investment, and its value
    (`values` from the Analysis step; computed here when a caller gives none, e.g. a batch)."""
    ix = lp.index
    pr, b = ix.keys["projects"], ix.keys["builds"]
    pn = ix.numbers.planning
    y = sol.x[lp.cols("build")]
    pid = b["project_id"].to_numpy()
    n = len(pr)
    built = np.bincount(pid, weights=y, minlength=n)
    first = np.full(n, np.nan)
    on = y > 1e-6
    for j in np.flatnonzero(on)[::-1]:  # the earliest period with a build wins
        first[pid[j]] = b["period"].iat[j]
    value = values if values is not None else project_values(lp, sol, threads=threads)
    built = np.where(built < TOL, 0.0, built)
    return pd.DataFrame({
        "project": pr["project"].to_numpy(), "country": pr["country"].to_numpy(),
        "commodity": pr["commodity"].to_numpy(),
        "build": np.where(pn.binary, "binary", "continuous"),
        "built": built, "period_built": pd.array(first, dtype="Int64"),
        "capacity_added": built * pn.capacity,
        "investment_cost": np.bincount(pid, weights=y * pn.build_cost[pid], minlength=n),
        "value": value,
    })


def project_value(lp: LP, sol: Solution, p: int, *, threads: int | None = None) -> float:
    """What the objective loses without project `p`: re-solved with every b[p,τ] = 0."""
    upper = lp.upper.copy()
    cols = lp.cols("build")
    j = np.flatnonzero(lp.index.key("builds", "project_id") == p)
    upper[cols.start + j] = 0.0
    without = HighsSession(threads=threads).solve(replace(lp, upper=upper))
    return float(without.objective - sol.objective) if without.x is not None else float("nan")


def with_mip_duals(lp: LP, sol: Solution, session: HighsSession, *,
                   threads: int | None = None) -> tuple[Solution, HighsSession]:
    """A MIP's solution as the LP whose integer columns are fixed at their optimum gives it (HiGHS
    gives no duals for a MIP): x, activities and duals of one point, and the session holding that
    solved LP (for ranging).
    Unchanged for an LP or when there is no solution."""
    if lp.integrality is None or sol.x is None or sol.row_dual is not None:
        return sol, session
    lp_fixed = fixed_builds(lp, sol)
    # kept on the MIP's session: a batch's next scenario updates it in place (only the fixed
    # bounds and the scenario's edits change) instead of passing and solving a new LP cold
    fixed_session = session.pricing
    if fixed_session is None:
        fixed_session = session.pricing = HighsSession(threads=threads, warm_start=session.warm_start)
    relaxed = fixed_session.solve(lp_fixed)
    if relaxed.row_dual is None:
        return sol, session
    # x and the objective too: the fixed LP may settle the continuous columns on another point of
    # the same optimum, and x, row activities and duals must describe one point
    return replace(sol, x=relaxed.x, objective=relaxed.objective, row_dual=relaxed.row_dual,
                   col_dual=relaxed.col_dual, row_activity=relaxed.row_activity,
                   dual_objective=dual_objective(lp_fixed, relaxed.row_dual, relaxed.col_dual)), fixed_session


def fixed_builds(lp: LP, sol: Solution | None) -> LP:
    """The LP of a MIP with every integer column fixed at its optimum (the MIP itself when it is an
    LP or has no solution): duals and re-solved marginals of a MIP plan are this LP's."""
    if lp.integrality is None or sol is None or sol.x is None:
        return lp
    fixed = np.flatnonzero(lp.integrality)
    lower, upper = lp.lower.copy(), lp.upper.copy()
    lower[fixed] = upper[fixed] = np.round(sol.x[fixed])
    return replace(lp, lower=lower, upper=upper, integrality=None)
