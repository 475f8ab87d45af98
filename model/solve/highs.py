"""A persistent HiGHS session: pass the LP once, then re-solve after changing only what differs.

Why not re-pass the model every time: for what-if batches most scenarios change a handful of
costs, capacities or caps. Pushing just those changes keeps HiGHS's model and, when it helps, its
basis (a warm start). `warm_start="auto"` measures: if a warm solve ever needs more simplex
iterations than the cold solve of the same session's first model, later solves start cold.
HiGHS's time limit counts the whole life of the object, so each solve sets it relative to the
run time already used.

An in-place update is only a shortcut: if HiGHS refuses a change, fails the run, or ends with
anything but a plan after an update or a warm start, the LP is passed again from scratch and
solved cold, and that solve's status is the one reported (issue 14: a status is never carried
over from a previous solve, and a result never depends on what this session solved before).
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from typing import Literal

import highspy
import numpy as np

from model.formulation.lp import LP
from model.sparse import Sparse
from model.status import Status

INF = highspy.kHighsInf


@dataclass
class Solution:
    """What a solve produced, as plain arrays (no solver objects leak out)."""

    status: Status
    model_status: str
    x: np.ndarray | None
    row_activity: np.ndarray | None
    row_dual: np.ndarray | None
    col_dual: np.ndarray | None
    objective: float
    dual_objective: float
    iterations: int
    seconds: float
    warm: bool
    mip_gap: float = 0.0


@dataclass
class _Known:
    """A structure this session has loaded: its Index and its last optimal basis (or None)."""

    index: object
    basis: highspy.HighsBasis | None = None


class HighsSession:
    """One HiGHS object holding one LP; `solve(lp)` updates it in place when the structure allows."""

    def __init__(self, *, threads: int | None = None, time_limit_s: float | None = None,
                 warm_start: Literal["auto", "always", "never"] = "auto", log: bool = False):
        self.h = new_highs()
        self.log = bool(log)
        self.threads = None if threads is None else int(threads)
        self._options()
        self.time_limit_s = time_limit_s
        self.warm_start = warm_start
        self.lp: LP | None = None
        self._cold_iterations: int | None = None
        self.rebuilds = 0
        self.updates = 0
        # The structures this session has loaded, newest first, each with its last optimal basis:
        # a scenario that returns to an earlier structure (the base after "no caps") refreshes
        # that Index's numbers instead of redoing the joins (the LP is the same either way,
        # tests/test_formulation.py) and, with warm_start="always", restarts from its basis.
        self._known: list[_Known] = []

    MAX_STRUCTURES = 4
    # Matrix coefficients HiGHS accepts: its default (1e15) refuses a Recipes quantity of exactly
    # the cell limit (model.schema.MAX_ABS_NUMBER) with "passModel failed"; every number a cell
    # allows must reach the solver, so the bound is HiGHS's infinity.
    LARGE_MATRIX_VALUE = INF
    fallbacks = 0  # solves redone from scratch after a failed update or warm start

    def _options(self) -> None:
        h = self.h
        h.setOptionValue("output_flag", self.log)
        h.setOptionValue("large_matrix_value", float(self.LARGE_MATRIX_VALUE))
        if self.threads is not None:
            h.setOptionValue("threads", self.threads)

    @property
    def structures(self) -> list:
        """Index objects of the structures met, newest (the loaded one) first; api.solve reuses them."""
        return [k.index for k in self._known]

    def forget_bases(self) -> None:
        """Start the next solve cold and drop saved bases: what follows no longer depends on what
        this session solved before (batch chunks do this, so any worker gives the same numbers)."""
        self.h.clearSolver()
        for k in self._known:
            k.basis = None

    def _entry(self, lp: LP | None) -> _Known | None:
        return None if lp is None else next((k for k in self._known if k.index.memo is lp.index.memo), None)

    # -------------------------------------------------------------- model passing

    def load(self, lp: LP) -> None:
        """Pass `lp` to HiGHS, or only its differences from the LP already loaded."""
        if self.lp is not None and self.lp.same_structure(lp):
            self._update(self.lp, lp)
            self.updates += 1
        else:
            self._save_basis()
            self._pass(lp)
            self._restore_basis(lp)
            self.rebuilds += 1
        self.remember(lp)
        self.lp = lp

    def remember(self, lp: LP) -> None:
        """Note `lp`'s structure as the newest met, so the next build reuses its Index (api.solve also
        calls this for an LP it solves by parts, which this session does not load)."""
        entry = self._entry(lp) or _Known(lp.index)
        entry.index = lp.index
        self._known = [entry, *(k for k in self._known if k is not entry)][:self.MAX_STRUCTURES]

    # With warm_start="always" a structure met again starts from its last optimal basis (a batch
    # that alternates between capped and uncapped scenarios stays warm). "auto" does not: it
    # measures the first solve after a pass as its cold reference.
    def _save_basis(self) -> None:
        entry = self._entry(self.lp)
        if entry is not None and self.warm_start == "always":
            basis = self.h.getBasis()
            entry.basis = basis if basis.valid else None

    def _restore_basis(self, lp: LP) -> None:
        entry = self._entry(lp)
        if self.warm_start != "always" or entry is None or entry.basis is None:
            return
        if self.h.setBasis(entry.basis) != highspy.HighsStatus.kError:
            self._cold_iterations = 0  # a basis is loaded: the next solve is warm

    def _pass(self, lp: LP) -> None:
        self.h.clearModel()
        self._check(pass_lp(self.h, lp.c, lp.lower, lp.upper, lp.row_lower, lp.row_upper, lp.A.tocsc(),
                            lp.integrality), "passModel")
        self._cold_iterations = None

    def _update(self, old: LP, new: LP) -> None:
        """Push only the numbers that differ; any change HiGHS refuses raises (the caller then
        passes the whole model again)."""
        h = self.h
        idx = np.flatnonzero(old.c != new.c)
        if len(idx):
            self._check(h.changeColsCost(len(idx), idx.astype(np.int32), new.c[idx]), "changeColsCost")
        idx = np.flatnonzero((old.lower != new.lower) | (old.upper != new.upper))
        if len(idx):
            self._check(h.changeColsBounds(len(idx), idx.astype(np.int32), new.lower[idx],
                                           finite(new.upper[idx])), "changeColsBounds")
        idx = np.flatnonzero((old.row_lower != new.row_lower) | (old.row_upper != new.row_upper))
        if len(idx):
            self._check(h.changeRowsBounds(len(idx), idx.astype(np.int32), finite(new.row_lower[idx]),
                                           finite(new.row_upper[idx])), "changeRowsBounds")
        n = new.shape[1]
        was, now = (np.zeros(n, np.uint8) if v is None else v.astype(np.uint8) for v in (old.integrality, new.integrality))
        idx = np.flatnonzero(was != now)
        if len(idx):
            self._check(h.changeColsIntegrality(len(idx), idx.astype(np.int32), now[idx]), "changeColsIntegrality")
        changed = np.flatnonzero(old.A.data != new.A.data)
        if len(changed):
            rows = np.searchsorted(new.A.indptr, changed, side="right") - 1
            for r, c, v in zip(rows, new.A.indices[changed], new.A.data[changed], strict=True):
                self._check(h.changeCoeff(int(r), int(c), float(v)), "changeCoeff")

    # -------------------------------------------------------------- solving

    def solve(self, lp: LP) -> Solution:
        """Solve `lp`, reusing the loaded model and basis where that is safe. A failure after an
        in-place update or from a warm start is never reported: the model is passed again from
        scratch and solved cold, and that answer (whatever its status) is the one returned."""
        shortcut = self.lp is not None and self.lp.same_structure(lp)
        try:
            solution = self._solve(lp)
        except RuntimeError:
            if not shortcut:
                raise  # the whole model was just passed: nothing to fall back to
            return self._fresh(lp)
        if solution.status in _SUSPECT and (shortcut or solution.warm):
            return self._fresh(lp)
        return solution

    def _fresh(self, lp: LP) -> Solution:
        """A new HiGHS object, the whole model passed again, a cold solve: as if solved alone."""
        self.fallbacks += 1
        self.h = new_highs()
        self._options()
        self.lp = None
        self._known = []
        self._cold_iterations = None
        self._warm_is_slower = False
        return self._solve(lp)

    def _solve(self, lp: LP) -> Solution:
        self.load(lp)
        h = self.h
        warm = self._cold_iterations is not None and self.warm_start != "never"
        if self.warm_start == "auto" and warm and self._warm_is_slower:
            warm = False
        if not warm and self._cold_iterations is not None:
            h.clearSolver()  # forget the basis: a true cold start
        _use_scheduler(self.threads)
        limit = self.time_limit_s
        h.setOptionValue("time_limit", float(h.getRunTime() + limit) if limit is not None else INF)
        start = time.perf_counter()
        self._check(h.run(), "run")
        seconds = time.perf_counter() - start
        info = h.getInfo()
        iterations = int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
        if self._cold_iterations is None:
            self._cold_iterations = iterations
            self._warm_is_slower = False
        elif warm and iterations > self._cold_iterations:
            self._warm_is_slower = True
        return self._solution(lp, seconds, iterations, warm)

    _warm_is_slower = False

    def _solution(self, lp: LP, seconds: float, iterations: int, warm: bool) -> Solution:
        h = self.h
        ms = h.getModelStatus()
        info = h.getInfo()
        name = h.modelStatusToString(ms)
        has_primal = info.primal_solution_status == 2  # kSolutionStatusFeasible
        status = status_from_highs(ms, has_primal)
        if status not in (Status.OPTIMAL, Status.SUBOPTIMAL):
            return Solution(status, name, None, None, None, None, float("nan"), float("nan"),
                            iterations, seconds, warm)
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        # duals of a basis that is not dual feasible (a suboptimal stop) price nothing: report none
        duals = sol.dual_valid and info.dual_solution_status == 2  # kSolutionStatusFeasible
        row_dual = np.asarray(sol.row_dual, dtype=float) if duals else None
        col_dual = np.asarray(sol.col_dual, dtype=float) if duals else None
        objective = float(info.objective_function_value)
        dual_obj = dual_objective(lp, row_dual, col_dual) if row_dual is not None else float("nan")
        return Solution(status, name, x, np.asarray(sol.row_value, dtype=float), row_dual, col_dual,
                        objective, dual_obj, iterations, seconds, warm)

    @staticmethod
    def _check(status: highspy.HighsStatus, what: str) -> None:
        if status == highspy.HighsStatus.kError:
            raise RuntimeError(f"HiGHS {what} failed")


_MS = highspy.HighsModelStatus
# Outcomes that a stale model or basis can cause: checked again from scratch before reporting.
_SUSPECT = (Status.NUMERICAL_TROUBLE, Status.INFEASIBLE)
_STOPPED_EARLY = {_MS.kTimeLimit, _MS.kIterationLimit, _MS.kInterrupt, _MS.kHighsInterrupt, _MS.kSolutionLimit}


def status_from_highs(model_status: highspy.HighsModelStatus, has_primal: bool) -> Status:
    """Our run status from HiGHS's model status (docs/solver_outcomes.md). A pure function.

    Only a proven optimum is OPTIMAL (optimal_with_shortfall is decided later from the shortfall).
    A solver stopped early (time or iteration limit, interrupt) with a primal feasible point is
    SUBOPTIMAL, without one TIME_LIMIT_NO_PLAN. This LP is never unbounded (costs >= 0, flows >= 0),
    so "unbounded or infeasible" is infeasible. Anything else (kUnknown: e.g. optimal only for the
    scaled model, kSolveError, kUnbounded, limits we never set) is NUMERICAL_TROUBLE: no plan.
    """
    if model_status == _MS.kOptimal:
        return Status.OPTIMAL if has_primal else Status.NUMERICAL_TROUBLE
    if model_status == _MS.kModelEmpty:
        return Status.OPTIMAL  # nothing to decide: the empty plan is optimal
    if model_status in (_MS.kInfeasible, _MS.kUnboundedOrInfeasible):
        return Status.INFEASIBLE
    if model_status in _STOPPED_EARLY:
        return Status.SUBOPTIMAL if has_primal else Status.TIME_LIMIT_NO_PLAN
    return Status.NUMERICAL_TROUBLE


_banner_shown = False
_UNSET = object()
_scheduler_threads: object = _UNSET


def _use_scheduler(threads: int | None) -> None:
    """HiGHS keeps one thread pool per process, sized by the first run; a later run asking for
    another size fails ("HiGHS run failed"). Reset the pool when the size changes, e.g. a
    notebook that solves once with the default and then runs a batch with one thread a worker."""
    global _scheduler_threads
    if _scheduler_threads is not _UNSET and _scheduler_threads != threads:
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads = threads


def new_highs() -> highspy.Highs:
    """A Highs object. The first one in a process prints a banner on stdout; keep stdout clean."""
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    _banner_shown = True
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def dual_objective(lp: LP, row_dual: np.ndarray, col_dual: np.ndarray) -> float:
    """The dual objective from HiGHS's duals: each dual times the bound it is active at.

    With HiGHS's sign convention a positive dual prices the lower bound and a negative one the
    upper bound; strong duality says this equals the primal objective at an optimum.
    """

    def priced(dual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
        bound = np.where(dual > 0, lower, upper)
        finite = np.isfinite(bound)
        # a dual on an infinite bound must be zero up to solver tolerance; larger means dual infeasible
        if np.any(np.abs(dual[~finite]) > 1e-7):
            return float("nan")
        return float(np.sum(dual[finite] * bound[finite]))

    return priced(row_dual, lp.row_lower, lp.row_upper) + priced(col_dual, lp.lower, lp.upper)


def pass_lp(h: highspy.Highs, c, lower, upper, row_lower, row_upper, A: Sparse,
            integrality: np.ndarray | None = None) -> highspy.HighsStatus:
    """Give `h` the model min c'x, row_lower <= A x <= row_upper, lower <= x <= upper (A column-wise);
    `integrality` 1 for integer columns (binary projects, issue 12: a MIP), None for an LP.

    Through passModel's array form: numpy arrays go to HiGHS as they are, where a HighsLp's
    attributes convert element by element (0.07 s for the 383k entries of an 83k-variable LP, 3 ms
    this way). All-continuous integrality is an LP to HiGHS (duals, ranging)."""
    A = A.tocsc()
    n_row, n_col = A.shape
    kinds = (np.zeros(n_col, dtype=np.int32) if integrality is None
             else np.asarray(integrality, dtype=np.int32))
    return h.passModel(int(n_col), int(n_row), int(A.nnz), int(highspy.MatrixFormat.kColwise),
                       int(highspy.ObjSense.kMinimize), 0.0, np.asarray(c, dtype=float), finite(lower),
                       finite(upper), finite(row_lower), finite(row_upper), A.indptr.astype(np.int32),
                       A.indices.astype(np.int32), A.data.astype(float), kinds)


def finite(values: np.ndarray) -> np.ndarray:
    """Bounds as HiGHS takes them: +-inf as +-kHighsInf."""
    return np.clip(np.asarray(values, dtype=float), -INF, INF)  # a new array (HiGHS may keep it)
