"""The exact cost of loosening a share limit by one percentage point, found by re-solving.

Why not the dual alone: when the optimum is degenerate (a supplier exactly at capacity, say) the
dual of a cap row is not unique, and HiGHS may return one that is off by orders of magnitude from
what raising the cap actually saves (tests/test_known_optima.py has such a case: the dual says
-29,990 per point, the re-solve says -20). An analyst reads `marginal_cost` as "what does one
more point of cap buy me", so for every tight share row we re-solve with the share raised by one
point and report the objective change. Slack rows cost nothing at the margin and keep 0.

Every entry of a share row is (inside - share), so raising the share by d subtracts d from each
entry of that row: one row's coefficients change per re-solve, which HighsSession pushes in place.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from model.formulation.lp import LP
from model.solve.highs import HighsSession, Solution

STEP = 0.01  # one percentage point
TIGHT_TOL = 1e-7  # a row within this (relative to supply) of its bound is tight

SHARE_FAMILIES = {"china_cap": "china_cap", "share_min": "min_share", "share_max": "max_share"}


def tight_rows(lp: LP, sol: Solution, family: str) -> np.ndarray:
    """Local indices of the family's rows that sit at their bound (or carry a non-zero dual)."""
    rows = lp.rows(family)
    activity = sol.row_activity[rows]
    bound = np.where(np.isfinite(lp.row_upper[rows]), lp.row_upper[rows], lp.row_lower[rows])
    scale = 1.0 + np.abs(sol.x).max(initial=0.0)
    at_bound = np.abs(activity - bound) <= TIGHT_TOL * scale
    nonzero = np.abs(sol.row_dual[rows]) > 1e-9
    return np.flatnonzero(at_bound | nonzero)


def resolve_marginals(lp: LP, sol: Solution, *, threads: int | None = None) -> dict[str, np.ndarray]:
    """Objective change per +1 percentage point for every row of every share family.

    Rows that are slack get 0; a share already at 1 cannot be raised and gets 0.
    """
    out = {name: np.zeros(lp.row_blocks[name].size) for name in SHARE_FAMILIES}
    work = [(name, j) for name in SHARE_FAMILIES if name in lp.row_blocks and lp.row_blocks[name].size
            for j in tight_rows(lp, sol, name)]
    if not work:
        return out
    session = HighsSession(threads=threads, warm_start="always")
    base = session.solve(lp)
    if base.x is None:
        return out
    for name, j in work:
        share = float(lp.row_blocks[name].keys[SHARE_FAMILIES[name]].iloc[j])
        step = min(STEP, 1.0 - share)
        if step <= 0:
            continue
        trial = _raise_share(lp, lp.row_start[name] + j, step)
        result = session.solve(trial)
        if result.x is not None:
            out[name][j] = (result.objective - base.objective) * (STEP / step) / (100 * STEP)
    return out


def _raise_share(lp: LP, row: int, step: float) -> LP:
    """A copy of `lp` whose share row `row` has its share raised by `step`."""
    A = lp.A.copy()
    A.data[A.indptr[row]:A.indptr[row + 1]] -= step
    return dataclasses.replace(lp, A=A)
