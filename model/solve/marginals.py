"""The exact cost of loosening a share limit by one percentage point, found by re-solving.

Why not the dual alone: when the optimum is degenerate (a supplier exactly at capacity, say) the
dual of a cap row is not unique, and HiGHS may return one that is off by orders of magnitude from
what raising the cap actually saves (tests/test_known_optima.py has such a case: the dual says
-29,990 per point, the re-solve says -20). An analyst reads `marginal_cost` as "what does one
more point of cap buy me", so for every tight share row we re-solve with the share raised by one
point and report the objective change. Slack rows cost nothing at the margin and keep 0.

Every entry of a share row is (inside - share), so raising the share by d subtracts d from each
entry of that row: one row's coefficients change per re-solve. Every re-solve here goes through
model/solve/parts.py, which re-solves only the independent part of the LP holding the row.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from model.formulation.families import FAMILIES, binding
from model.formulation.families import SHARE_FAMILIES as _SHARE
from model.formulation.lp import LP
from model.solve.highs import Solution
from model.solve.parts import Change, PartSolver

STEP = 0.01  # one percentage point

# family -> the key column holding its share (from the registry, model/formulation/families.py)
SHARE_FAMILIES = {name: FAMILIES[name].share_column for name in _SHARE}


def tight_rows(lp: LP, sol: Solution, family: str) -> np.ndarray:
    """Local indices of the family's binding rows (the one definition: families.binding)."""
    return np.flatnonzero(binding(lp, sol, family))


@dataclasses.dataclass
class WhatIfs:
    """Re-solves of one kind: the changes, and how to read their objective changes into a result.
    Kinds are run together (`run`), so the parts' threads stay busy across kinds."""

    changes: list[Change]
    read: Callable[[np.ndarray], Any]
    mip: bool = False  # re-solved with the builds free (PartSolver.mip_deltas)


def run(solver: PartSolver, kinds: list[WhatIfs]) -> list[Any]:
    """Each kind's result, its re-solves run in one batch per mode (LP, MIP)."""
    out: list[Any] = [None] * len(kinds)
    for mip in (False, True):
        chosen = [i for i, k in enumerate(kinds) if k.mip == mip]
        changes = [c for i in chosen for c in kinds[i].changes]
        d = (solver.mip_deltas if mip else solver.deltas)(changes) if changes else np.zeros(0)
        at = 0
        for i in chosen:
            n = len(kinds[i].changes)
            out[i] = kinds[i].read(d[at:at + n])
            at += n
    return out


def share_marginals(lp: LP, sol: Solution) -> WhatIfs:
    """Objective change per +1 percentage point for every row of every share family.

    Rows that are slack get 0; a share already at 1 cannot be raised and gets 0, and so does a row
    whose re-solve fails (raising a minimum share can make the plan infeasible)."""
    out = {name: np.zeros(lp.row_blocks[name].size) for name in SHARE_FAMILIES if name in lp.row_blocks}
    where, changes, steps = [], [], []
    for name in out:
        for j in tight_rows(lp, sol, name) if lp.row_blocks[name].size else ():
            share = float(lp.row_blocks[name].keys[SHARE_FAMILIES[name]].iloc[j])
            step = min(STEP, 1.0 - share)
            if step <= 0:
                continue
            # every entry of a share row is (inside - share): raising the share subtracts from each
            row = lp.row_start[name] + int(j)
            seg = slice(lp.A.indptr[row], lp.A.indptr[row + 1])
            changes.append(Change.coefficients(np.full(seg.stop - seg.start, row), lp.A.indices[seg],
                                               lp.A.data[seg] - step))
            where.append((name, int(j)))
            steps.append(step)

    def read(deltas: np.ndarray) -> dict[str, np.ndarray]:
        for (name, j), step, d in zip(where, steps, deltas, strict=True):
            if np.isfinite(d):
                out[name][j] = d * (STEP / step) / (100 * STEP)
        return out

    return WhatIfs(changes, read)


def content_marginals(lp: LP, sol: Solution) -> WhatIfs:
    """Objective change per +1 percentage point of max_china_content, per rule entry: each binding
    content_rule row (families.binding) re-solved with its limit one point higher (others: 0).

    The row is sum xc + (m - 1) sum x >= 0: raising m by h adds h to each flow entry of the row."""
    block = lp.row_blocks.get("content_rule")
    out = np.zeros(block.size if block is not None else 0)
    where, changes = [], []
    if block is not None and block.size:
        flows = lp.cols("flow")
        limit = lp.index.numbers.max_china_content
        for j in tight_rows(lp, sol, "content_rule"):
            step = min(STEP, 1.0 - float(limit[j]))
            if step <= 0:
                continue
            r = lp.row_start["content_rule"] + int(j)
            seg = slice(lp.A.indptr[r], lp.A.indptr[r + 1])
            cols = lp.A.indices[seg]
            flow = (cols >= flows.start) & (cols < flows.stop)
            changes.append(Change.coefficients(np.full(int(flow.sum()), r), cols[flow],
                                               lp.A.data[seg][flow] + step))
            where.append((int(j), step))

    def read(deltas: np.ndarray) -> np.ndarray:
        for (j, step), d in zip(where, deltas, strict=True):
            if np.isfinite(d):
                out[j] = d / (100 * step)
        return out

    return WhatIfs(changes, read)


def caps_cost(lp: LP, objective: float, *, mip: bool) -> WhatIfs:
    """What the China caps cost together: the objective minus the objective with every cap lifted.

    The caps interact, so this is not the sum of the per-cap marginal costs; it answers the first
    question an analyst asks of a plan. Lifting the caps may change what a MIP builds (`mip`: the
    parts holding builds are re-solved as MIPs)."""
    rows = lp.rows("china_cap")
    if rows.stop == rows.start:
        return WhatIfs([], lambda deltas: {})
    idx = np.arange(rows.start, rows.stop)

    def read(deltas: np.ndarray) -> dict[str, float]:
        if not np.isfinite(deltas[0]):
            return {}
        free = objective + float(deltas[0])
        return {"cost_of_china_caps": objective - free, "objective_without_china_caps": free}

    return WhatIfs([Change.row_bounds(idx, lp.row_lower[idx], np.full(len(idx), np.inf))], read, mip)


def project_values(lp: LP, sol: Solution) -> WhatIfs:
    """Each built project's value (0 for the others): what the objective loses with every b[p,t] of
    the project at 0, re-solved as a MIP on the parts holding it (Projects.value)."""
    cols = lp.cols("build")
    pid = lp.index.key("builds", "project_id")
    built = np.bincount(pid, weights=sol.x[cols], minlength=len(lp.index.keys["projects"]))
    value = np.zeros(len(built))
    todo = np.flatnonzero(built > 1e-6)
    changes = []
    for p in todo:
        j = cols.start + np.flatnonzero(pid == p)
        changes.append(Change.col_bounds(j, np.zeros(len(j)), np.zeros(len(j))))

    def read(deltas: np.ndarray) -> np.ndarray:
        value[todo] = deltas
        return value

    return WhatIfs(changes, read, mip=True)


MAX_PRICE_RESOLVES = 2000  # beyond this many degenerate destinations, the rest keep their dual
PRICE_WORK = 5e5  # re-solves allowed: the sum of their parts' columns (deterministic: the same plan every run)


@dataclasses.dataclass
class Prices:
    """The cost of one more and the saving of one less unit delivered at each need (balance row)."""

    marginal_cost: np.ndarray
    marginal_saving: np.ndarray
    note: np.ndarray  # how each figure was found, in words
    resolves: int


def balance_ranges(solver: PartSolver, lp: LP) -> tuple[np.ndarray, np.ndarray]:
    """How far each balance row's right-hand side (demand) can rise and fall while its dual holds
    (HiGHS row-bound ranging, from the parts holding `lp` at its optimum)."""
    rows = lp.rows("balance")
    b = lp.row_lower[rows]
    up, dn = solver.row_bound_ranges(rows)
    return np.nan_to_num(up - b, nan=0.0), np.nan_to_num(b - dn, nan=0.0)


def prices(lp: LP, sol: Solution, up: np.ndarray, dn: np.ndarray, solver: PartSolver, *,
           work: float = PRICE_WORK) -> WhatIfs:
    """marginal_cost = the dual where it holds for a whole unit more (ranging), else a re-solve with
    demand + 1; marginal_saving likewise for one unit less (only where demand >= 1).

    Each re-solve touches only the part holding its row (model/solve/parts.py) and costs about
    that part's size, so the re-solves stop when their parts' columns add up to `work` (or at
    MAX_PRICE_RESOLVES): the base case re-solves every one it needs; a very large plan keeps the
    dual for the rest and says so in `note`. The order is the sheet's, so a plan is the same on
    every run."""
    rows = lp.rows("balance")
    dual = sol.row_dual[rows] + 0.0
    demand = lp.row_lower[rows]
    cost, saving = dual.copy(), np.where(demand >= 1, dual, np.nan)
    n = len(dual)
    note = np.full(n, "dual (holds for one unit either way)", dtype=object)
    todo_up = np.flatnonzero(up < 1 - 1e-9)
    todo_dn = np.flatnonzero((dn < 1 - 1e-9) & (demand >= 1))
    size = solver.part_columns(np.arange(rows.start, rows.stop))
    changes, targets = [], []
    spent = 0.0
    for j_list, step, out in ((todo_up, 1.0, cost), (todo_dn, -1.0, saving)):
        for j in j_list:
            if len(changes) >= MAX_PRICE_RESOLVES or spent + size[j] > work:
                note[j] = "dual (does not hold for a whole unit; not re-solved: beyond the re-solve budget)"
                continue
            spent += size[j]
            i = rows.start + int(j)
            changes.append(Change.row_bounds(i, demand[j] + step, demand[j] + step))
            targets.append((int(j), step, out))

    def read(deltas: np.ndarray) -> Prices:
        resolved = np.zeros(n, dtype=bool)
        for (j, step, out), d in zip(targets, deltas, strict=True):
            if np.isfinite(d):
                out[j] = d / step
                resolved[j] = True
        differs = np.abs(cost - np.nan_to_num(saving, nan=cost)) > 1e-6 * (1 + np.abs(cost))
        note[resolved] = "re-solved: the dual does not hold for a whole unit"
        note[resolved & differs] = ("degenerate: one more unit costs marginal_cost, one less saves "
                                    "marginal_saving")
        return Prices(cost + 0.0, saving, note, len(changes))

    return WhatIfs(changes, read)
