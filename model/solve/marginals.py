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
import time

import highspy
import numpy as np

from model.formulation.families import FAMILIES, binding
from model.formulation.families import SHARE_FAMILIES as _SHARE
from model.formulation.lp import LP
from model.solve.highs import HighsSession, Solution

STEP = 0.01  # one percentage point

# family -> the key column holding its share (from the registry, model/formulation/families.py)
SHARE_FAMILIES = {name: FAMILIES[name].share_column for name in _SHARE}


def tight_rows(lp: LP, sol: Solution, family: str) -> np.ndarray:
    """Local indices of the family's binding rows (the one definition: families.binding)."""
    return np.flatnonzero(binding(lp, sol, family))


def resolve_marginals(lp: LP, sol: Solution, *, threads: int | None = None,
                      session: HighsSession | None = None) -> dict[str, np.ndarray]:
    """Objective change per +1 percentage point for every row of every share family.

    Rows that are slack get 0; a share already at 1 cannot be raised and gets 0. `session` (a
    warm_start="always" session that has solved `lp`, or None for a new one) is left holding `lp`.
    """
    out = {name: np.zeros(lp.row_blocks[name].size) for name in SHARE_FAMILIES}
    work = [(name, j) for name in SHARE_FAMILIES if name in lp.row_blocks and lp.row_blocks[name].size
            for j in tight_rows(lp, sol, name)]
    if not work:
        return out
    session = session if session is not None else HighsSession(threads=threads, warm_start="always")
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
    session.solve(lp)  # back at the base (warm: no iterations)
    return out


def objective_without(lp: LP, family: str, session: HighsSession) -> float | None:
    """The optimum with every row of `family` lifted (upper bound +inf: the rows no longer bind),
    on the same structure, so the session re-solves warm from the base basis. The session is left
    holding `lp`."""
    rows = lp.rows(family)
    upper = lp.row_upper.copy()
    upper[rows] = np.inf
    result = session.solve(dataclasses.replace(lp, row_upper=upper))
    session.solve(lp)
    return result.objective if result.x is not None else None


def _raise_share(lp: LP, row: int, step: float) -> LP:
    """A copy of `lp` whose share row `row` has its share raised by `step`."""
    A = lp.A.copy()
    A.data[A.indptr[row]:A.indptr[row + 1]] -= step
    return dataclasses.replace(lp, A=A)


MAX_PRICE_RESOLVES = 2000  # beyond this many degenerate destinations, the rest keep their dual
PRICE_WORK = 2e6  # re-solves allowed ~ PRICE_WORK / columns (deterministic: the same plan every run)


def price_resolve_limit(lp: LP) -> int:
    """How many Prices re-solves a plan of this size affords: 250 at the base case's 8,000 columns
    (it needs 267), 20 at 100,000 columns, 10 from 200,000 columns on."""
    return max(10, min(MAX_PRICE_RESOLVES, int(PRICE_WORK / max(lp.shape[1], 1))))


@dataclasses.dataclass
class Prices:
    """The cost of one more and the saving of one less unit delivered at each need (balance row)."""

    marginal_cost: np.ndarray
    marginal_saving: np.ndarray
    note: np.ndarray  # how each figure was found, in words
    resolves: int


def balance_ranges(h, lp: LP) -> tuple[np.ndarray, np.ndarray]:
    """How far each balance row's right-hand side (demand) can rise and fall while its dual holds
    (HiGHS row-bound ranging; call right after the solve, on the object that solved `lp`)."""
    rows = lp.rows("balance")
    b = lp.row_lower[rows]
    status, rng = h.getRanging()
    if not rng.valid:
        n = rows.stop - rows.start
        return np.zeros(n), np.zeros(n)
    up = np.asarray(rng.row_bound_up.value_, dtype=float)[rows] - b
    dn = b - np.asarray(rng.row_bound_dn.value_, dtype=float)[rows]
    return up, dn


def resolve_prices(lp: LP, sol: Solution, up: np.ndarray, dn: np.ndarray, *, h=None,
                   threads: int | None = None, limit: int | None = None, budget_s: float | None = None) -> Prices:
    """marginal_cost = the dual where it holds for a whole unit more (ranging), else a re-solve with
    demand + 1; marginal_saving likewise for one unit less (only where demand >= 1).

    Re-solves are warm (one HiGHS object, one bound changed and restored each time) and stop at
    `limit` (default: price_resolve_limit, by size, so a plan is the same on every run) or after
    `budget_s` seconds when given; the rows left keep their dual and say so in `note`. `h` is the
    HiGHS object that has just solved `lp` (re-solves start from its optimal basis; each bound is
    restored, so it holds `lp` again afterwards), or None for a new one."""
    rows = lp.rows("balance")
    dual = sol.row_dual[rows] + 0.0
    demand = lp.row_lower[rows]
    cost, saving = dual.copy(), np.where(demand >= 1, dual, np.nan)
    n = len(dual)
    note = np.full(n, "dual (holds for one unit either way)", dtype=object)
    todo_up = np.flatnonzero(up < 1 - 1e-9)
    todo_dn = np.flatnonzero((dn < 1 - 1e-9) & (demand >= 1))
    if not len(todo_up) and not len(todo_dn):
        return Prices(cost, saving, note, 0)
    if h is None:
        session = HighsSession(threads=threads, warm_start="always")
        if session.solve(lp).x is None:
            return Prices(cost, saving, note, 0)
        h = session.h
    base_objective = sol.objective
    done = 0
    resolved = np.zeros(n, dtype=bool)
    limit = price_resolve_limit(lp) if limit is None else limit
    deadline = time.perf_counter() + budget_s if budget_s is not None else float("inf")
    for j_list, step, out in ((todo_up, 1.0, cost), (todo_dn, -1.0, saving)):
        for j in j_list:
            if done >= limit or time.perf_counter() > deadline:
                note[j] = "dual (does not hold for a whole unit; not re-solved: beyond the re-solve budget)"
                continue
            i = rows.start + int(j)
            h.changeRowBounds(i, float(demand[j] + step), float(demand[j] + step))
            h.run()
            ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            if ok:
                out[j] = (h.getInfo().objective_function_value - base_objective) / step
            h.changeRowBounds(i, float(demand[j]), float(demand[j]))
            resolved[j] = ok
            done += 1
    if done:
        h.run()  # back at the base optimum (no iterations: the base basis is optimal again)
    differs = np.abs(cost - np.nan_to_num(saving, nan=cost)) > 1e-6 * (1 + np.abs(cost))
    note[resolved] = "re-solved: the dual does not hold for a whole unit"
    note[resolved & differs] = ("degenerate: one more unit costs marginal_cost, one less saves "
                                "marginal_saving")
    return Prices(cost + 0.0, saving, note, done)
