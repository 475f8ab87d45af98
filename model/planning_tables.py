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
from model.solve.highs import Solution

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
    """Each built project's value (0 for the others), for a caller with no Analysis (a batch): the
    what-if of model/solve/marginals.project_values on the LP's parts, solved afresh."""
    from model.solve import marginals
    from model.solve.parts import PartSolver

    solver = PartSolver(lp, threads=threads)
    solver.solve()
    return marginals.run(solver, [marginals.project_values(lp, sol)])[0]


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


def fixed_builds(lp: LP, sol: Solution | None) -> LP:
    """The LP of a MIP with every integer column fixed at its optimum (the MIP itself when it is an
    LP or has no solution): duals and re-solved marginals of a MIP plan are this LP's."""
    if lp.integrality is None or sol is None or sol.x is None:
        return lp
    return builds_fixed_at(lp, sol.x)


def builds_fixed_at(lp: LP, x: np.ndarray) -> LP:
    """`lp` with every integer column fixed at its value in `x` (rounded) and no integrality."""
    if lp.integrality is None:
        return lp
    fixed = np.flatnonzero(lp.integrality)
    lower, upper = lp.lower.copy(), lp.upper.copy()
    lower[fixed] = upper[fixed] = np.round(x[fixed])
    return replace(lp, lower=lower, upper=upper, integrality=None)
