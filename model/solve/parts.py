"""The LP's independent parts: solve each alone, and re-solve a what-if only on the parts it touches.

Why: the sourcing LP falls apart into pieces that share no row (a commodity chain in one period,
say; the base case has 44, the largest holding 8% of the columns). The optimum of the whole is
the sum of the parts' optima, exactly, and so is any change of the optimum: a what-if that edits
rows and columns of one part moves that part's optimum and nothing else. HiGHS spends a fixed cost
per run that grows with the size of the model it holds (assessing the matrix, setting up the
simplex: 3-5 ms on the base case for a one-pivot re-solve), so a re-solve of one part costs that
part's share. The exact Prices, share and content marginals, the cost of the caps and the value of
each project are all such re-solves (model/solve/marginals.py); they are what `sourcing solve`
spends most of its time on, and parts make them several times cheaper.

Parts are found once from the sparsity pattern (connected components of the row-column graph,
`components`), small ones packed together (independent pieces in one HiGHS model
are still independent), and solved on up to two threads: highspy releases the GIL during `run`,
and since HiGHS 1.2 each calling thread gets its own scheduler (HiGHS PR #818), so separate Highs
objects may run at the same time. Every object runs with threads=1: the parts are the parallelism.

A MIP part (binary projects) is solved as a MIP, then its integer columns are fixed at their
optimum and the same object re-solves the LP: x, activities and duals all come from it, so a
plan is one point (api.solve sends every MIP here). What-ifs on the MIP itself (the cost of the caps, a project's
value) go to `mip_deltas`, which re-solves the touched MIP parts from scratch.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np

from model.formulation.lp import LP
from model.solve import highs
from model.solve.highs import INF, Solution, dual_objective, finite, new_highs, pass_lp
from model.sparse import Sparse
from model.status import Status

MIN_PART_NNZ = 2_000  # parts smaller than this are packed together (a HiGHS object per tiny part costs more)
MAX_WORKERS = 2  # threads running parts at once (the machines this runs on have two cores or more)


@dataclass
class Change:
    """A what-if: new bounds for some rows and columns and new values for some matrix entries
    (global indices). Applied to the parts it touches, solved, and undone."""

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    row_lower: np.ndarray = field(default_factory=lambda: np.zeros(0))
    row_upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    col_lower: np.ndarray = field(default_factory=lambda: np.zeros(0))
    col_upper: np.ndarray = field(default_factory=lambda: np.zeros(0))
    coef_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    coef_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    coef_values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @staticmethod
    def row_bounds(rows, lower, upper) -> Change:
        """Rows `rows` get bounds [lower, upper] (scalars apply to every row)."""
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        return Change(rows=rows, row_lower=_each(lower, rows), row_upper=_each(upper, rows))

    @staticmethod
    def col_bounds(cols, lower, upper) -> Change:
        """Columns `cols` get bounds [lower, upper] (scalars apply to every column)."""
        cols = np.atleast_1d(np.asarray(cols, dtype=np.int64))
        return Change(cols=cols, col_lower=_each(lower, cols), col_upper=_each(upper, cols))

    @staticmethod
    def coefficients(rows, cols, values) -> Change:
        return Change(coef_rows=np.asarray(rows, dtype=np.int64), coef_cols=np.asarray(cols, dtype=np.int64),
                      coef_values=np.asarray(values, dtype=float))


@dataclass
class _Local:
    """A Change's share in one part, in the part's own (local) indices, bounds made finite for HiGHS."""

    rows: np.ndarray  # int32
    row_lower: np.ndarray
    row_upper: np.ndarray
    cols: np.ndarray  # int32
    col_lower: np.ndarray
    col_upper: np.ndarray
    coef_rows: np.ndarray
    coef_cols: np.ndarray
    coef_values: np.ndarray


def _split(ch: Change, P: Partition) -> list[tuple[int, _Local]]:
    """`ch` cut into the parts it touches (vectorised once per change: the re-solve loops, which hold
    the GIL between HiGHS runs, only apply it)."""
    rp, cp, ep = P.row_part[ch.rows], P.col_part[ch.cols], P.row_part[ch.coef_rows]
    touched = np.unique(np.concatenate([rp, cp, ep]))
    out = []
    for p in touched.tolist():
        r = rp == p if len(touched) > 1 else slice(None)
        c = cp == p if len(touched) > 1 else slice(None)
        e = ep == p if len(touched) > 1 else slice(None)
        out.append((p, _Local(P.local_row[ch.rows[r]].astype(np.int32), finite(ch.row_lower[r]),
                              finite(ch.row_upper[r]), P.local_col[ch.cols[c]].astype(np.int32),
                              finite(ch.col_lower[c]), finite(ch.col_upper[c]), P.local_row[ch.coef_rows[e]],
                              P.local_col[ch.coef_cols[e]], ch.coef_values[e])))
    return out


@dataclass
class Partition:
    """Which part each row and column belongs to; parts numbered 0..count-1, largest first."""

    col_part: np.ndarray
    row_part: np.ndarray
    count: int
    col_order: np.ndarray  # columns sorted by part (stable): part p's columns are a contiguous run
    row_order: np.ndarray
    col_start: np.ndarray  # part p's columns are col_order[col_start[p]:col_start[p + 1]]
    row_start: np.ndarray
    local_col: np.ndarray  # a column's position inside its part
    local_row: np.ndarray

    def cols(self, p: int) -> np.ndarray:
        return self.col_order[self.col_start[p]:self.col_start[p + 1]]

    def rows(self, p: int) -> np.ndarray:
        return self.row_order[self.row_start[p]:self.row_start[p + 1]]


def components(A: Sparse) -> tuple[np.ndarray, np.ndarray, int]:
    """Connected components of the graph with a node per row and per column and an edge per
    non-zero: (row labels, column labels, count), labels 0..count-1.

    By label propagation with pointer jumping, in numpy: each row starts with its own number,
    columns take the least label of their rows and rows the least of their columns, and a label
    then jumps to its own label's label. At the fixed point labels are constant along every edge,
    so on every component. Why not scipy.sparse.csgraph: importing it loads scipy.linalg and
    scipy.sparse.linalg (0.35 s), more than it saves on any plan `sourcing solve` meets."""
    m, n = A.shape
    A = Sparse.of(A).tocsr()
    csc = A.tocsc()
    row_has, col_has = np.diff(A.indptr) > 0, np.diff(csc.indptr) > 0
    row_starts, col_starts = A.indptr[:-1][row_has], csc.indptr[:-1][col_has]
    row_label = np.arange(m)
    col_label = np.full(n, m, dtype=np.int64)
    while True:
        if len(col_starts):
            col_label[col_has] = np.minimum.reduceat(row_label[csc.indices], col_starts)
        new = row_label.copy()
        if len(row_starts):
            new[row_has] = np.minimum(new[row_has], np.minimum.reduceat(col_label[A.indices], row_starts))
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, row_label):
            break
        row_label = new
    # a column in no row is a component alone
    keys = np.concatenate([row_label, np.where(col_has, col_label, m + np.arange(n))])
    uniq, label = np.unique(keys, return_inverse=True)
    return label[:m], label[m:], len(uniq)


def partition(A: Sparse, *, min_nnz: int = MIN_PART_NNZ) -> Partition:
    """The independent parts of the matrix, the small ones packed together up to `min_nnz`.

    The graph has a node per row and per column and an edge per non-zero; its weakly connected
    components are the parts (a row with no entries, or a column in no row, is a part alone)."""
    m, n = A.shape
    A = Sparse.of(A).tocsr()
    row_label, col_label, count = components(A)
    nnz = np.bincount(row_label, weights=np.diff(A.indptr), minlength=count)
    size = nnz + np.bincount(col_label, minlength=count) + np.bincount(row_label, minlength=count)
    # pack the small ones, vectorised: components largest first, cut into consecutive runs of about
    # `min_nnz` each; a component larger than that stays alone (a run holds at most 2 min_nnz
    # besides). Small parts are what make a re-solve cheap, so nothing larger is packed.
    cap = float(max(min_nnz, 1))
    order = np.argsort(-size, kind="stable")
    start = np.cumsum(size[order]) - size[order]
    bundle = np.empty(count, dtype=np.int64)
    bundle[order] = np.floor(start / cap).astype(np.int64)
    _, bundle = np.unique(bundle, return_inverse=True)  # numbered densely: a large part skips numbers
    k = int(bundle.max(initial=-1)) + 1
    col_part, row_part = bundle[col_label], bundle[row_label]
    col_order = np.argsort(col_part, kind="stable")
    row_order = np.argsort(row_part, kind="stable")
    col_start = np.searchsorted(col_part[col_order], np.arange(k + 1))
    row_start = np.searchsorted(row_part[row_order], np.arange(k + 1))
    local_col = np.empty(n, dtype=np.int64)
    local_col[col_order] = np.arange(n) - col_start[col_part[col_order]]
    local_row = np.empty(m, dtype=np.int64)
    local_row[row_order] = np.arange(m) - row_start[row_part[row_order]]
    return Partition(col_part, row_part, k, col_order, row_order, col_start, row_start, local_col, local_row)


class _Part:
    """One part: its HiGHS object, its base model numbers (to undo a change) and its optimum."""

    def __init__(self, p: int, cols: np.ndarray, rows: np.ndarray, lp: LP, A_csc: Sparse):
        self.p, self.cols, self.rows = p, cols, rows
        self.c = lp.c[cols]
        # bounds as HiGHS takes them (finite: +-inf as +-kHighsInf), once: the re-solves undo from them
        self.lower, self.upper = finite(lp.lower[cols]), finite(lp.upper[cols])
        self.row_lower, self.row_upper = finite(lp.row_lower[rows]), finite(lp.row_upper[rows])
        self.A = A_csc  # the part's matrix, local indices, column-wise
        self.integer = (np.flatnonzero(lp.integrality[cols]) if lp.integrality is not None
                        else np.zeros(0, dtype=np.int64))
        self.h: highspy.Highs | None = None
        self.objective = float("nan")  # the base optimum of the model the object holds
        self.mip_objective = float("nan")  # a MIP part: the optimum with the builds free
        self.status = Status.OPTIMAL
        self.model_status = "Optimal"
        self.iterations = 0
        self.x = self.row_value = self.row_dual = self.col_dual = None
        self.dirty = False  # changed and undone since its last run: re-run before reading ranging or basis
        self._keys: np.ndarray | None = None  # for `entries`

    def entries(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The base matrix's entries at local (rows, cols) (0 where none), looked up all at once."""
        if self._keys is None:  # column-major keys of the stored entries, sorted
            A = self.A = self.A.with_sorted_indices()
            self._keys = A.major() * A.shape[0] + A.indices
        want = np.asarray(cols, dtype=np.int64) * self.A.shape[0] + np.asarray(rows, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._keys, want), max(len(self._keys) - 1, 0))
        hit = (self._keys[at] == want) if len(self._keys) else np.zeros(len(want), dtype=bool)
        return np.where(hit, self.A.data[at] if len(self._keys) else 0.0, 0.0)

    def settle(self) -> None:
        """Back at the base optimum after what-ifs (warm: no iterations) so ranging and basis hold."""
        if self.dirty and self.h is not None:
            self.h.run()
            self.dirty = False

    def pass_to(self, h: highspy.Highs, *, integer: bool) -> highspy.HighsStatus:
        """Give `h` this part's base model: as a MIP (builds free) or as an LP."""
        kinds = None
        if integer and len(self.integer):
            kinds = np.zeros(len(self.cols), dtype=np.int64)
            kinds[self.integer] = 1
        return pass_lp(h, self.c, self.lower, self.upper, self.row_lower, self.row_upper, self.A, kinds)


def _new(log: bool = False) -> highspy.Highs:
    h = new_highs()
    h.setOptionValue("output_flag", log)
    h.setOptionValue("threads", 1)
    h.setOptionValue("large_matrix_value", float(INF))
    return h


class PartSolver:
    """Solve an LP (or a MIP with its builds then fixed) part by part, then answer what-ifs.

    `solve()` solves every part; or pass `basis` (HiGHS column and row statuses of an optimum of
    `lp`, e.g. from a whole-model session) and each part starts at that optimum. `deltas(changes)`
    gives each change's objective change against the optimum (None where a re-solve fails)."""

    def __init__(self, lp: LP, *, threads: int | None = None, time_limit_s: float | None = None,
                 parts: Partition | None = None, log: bool = False):
        self.lp = lp
        self.log = log
        self.time_limit_s = time_limit_s
        self.workers = 1 if threads == 1 else max(1, min(MAX_WORKERS, os.cpu_count() or 1))
        self.partition = parts if parts is not None else partition(lp.A)
        P = self.partition
        # one permutation makes the matrix block diagonal; each part is then a run of columns
        A = Sparse.of(lp.A).tocsc().columns(P.col_order)
        local = P.local_row[A.indices]
        self.parts: list[_Part] = []
        for p in range(P.count):
            a, b = P.col_start[p], P.col_start[p + 1]
            s, e = A.indptr[a], A.indptr[b]
            block = Sparse(A.indptr[a:b + 1] - s, local[s:e], A.data[s:e], (len(P.rows(p)), b - a), rowwise=False)
            self.parts.append(_Part(p, P.cols(p), P.rows(p), lp, block))
        self.mip = lp.integrality is not None and bool(np.any(lp.integrality))

    # ------------------------------------------------------------------ the base solve

    def solve(self) -> Solution:
        """Solve every part (MIP parts as MIPs, then priced with their builds fixed) and put the
        whole solution together: x, activities, duals and objective of one point."""
        started = time.perf_counter()
        deadline = started + self.time_limit_s if self.time_limit_s is not None else None
        for part in self.parts:
            part.h = _new(self.log)
            part.pass_to(part.h, integer=True)
        self._run_all([(part, lambda part=part: self._solve_part(part, deadline)) for part in self.parts])
        return self._assemble(time.perf_counter() - started)

    def start_from(self, col_status, row_status, x: np.ndarray) -> None:
        """Load every part at a known optimum `x` of the whole (HiGHS column and row statuses of the
        LP with the builds fixed, as a whole-model session gives them): no re-solve from scratch."""
        col_status, row_status = list(col_status), list(row_status)
        for part in self.parts:
            part.h = _new(self.log)
            part.pass_to(part.h, integer=False)
            if len(part.integer):
                idx = part.integer.astype(np.int32)
                built = np.round(x[part.cols[part.integer]])
                part.h.changeColsBounds(len(idx), idx, built, built)
            basis = highspy.HighsBasis()
            basis.col_status = [col_status[j] for j in part.cols]
            basis.row_status = [row_status[i] for i in part.rows]
            basis.valid = True
            part.h.setBasis(basis)
        self._run_all([(part, lambda part=part: part.h.run()) for part in self.parts])
        for part in self.parts:
            self._record(part)

    def basis(self) -> highspy.HighsBasis:
        """The whole model's optimal basis, put together from the parts (for a whole-model session:
        ranging and alternate optima, which the command line asks for only on request)."""
        m, n = self.lp.shape
        cols: list = [None] * n
        rows: list = [None] * m
        self._settle(self.parts)
        for part in self.parts:
            b = part.h.getBasis()
            for j, v in zip(part.cols, b.col_status, strict=True):
                cols[j] = v
            for i, v in zip(part.rows, b.row_status, strict=True):
                rows[i] = v
        basis = highspy.HighsBasis()
        basis.col_status, basis.row_status, basis.valid = cols, rows, True
        return basis

    def part_columns(self, rows: np.ndarray) -> np.ndarray:
        """For each row, how many columns its part holds: what a re-solve of it costs, roughly."""
        return np.diff(self.partition.col_start)[self.partition.row_part[rows]]

    def _solve_part(self, part: _Part, deadline: float | None) -> None:
        h = part.h
        if deadline is not None:
            h.setOptionValue("time_limit", max(0.0, deadline - time.perf_counter()))
        h.run()
        if len(part.integer):
            info = h.getInfo()
            status = highs.status_from_highs(h.getModelStatus(), info.primal_solution_status == 2)
            if status not in (Status.OPTIMAL, Status.SUBOPTIMAL):
                self._record(part)
                return
            x = np.asarray(h.getSolution().col_value, dtype=float)
            part.mip_objective = float(info.objective_function_value)
            mip_iterations = int(info.simplex_iteration_count)
            built = np.round(x[part.integer])
            idx = part.integer.astype(np.int32)
            h.changeColsIntegrality(len(idx), idx, np.zeros(len(idx), dtype=np.uint8))
            h.changeColsBounds(len(idx), idx, built, built)
            h.run()
            self._record(part, mip_status=status)
            part.iterations += mip_iterations
        else:
            self._record(part)

    def _record(self, part: _Part, *, mip_status: Status | None = None) -> None:
        h = part.h
        info = h.getInfo()
        ms = h.getModelStatus()
        part.model_status = h.modelStatusToString(ms)
        part.status = highs.status_from_highs(ms, info.primal_solution_status == 2)
        part.iterations = int(info.simplex_iteration_count) + int(info.ipm_iteration_count)
        part.objective = float(info.objective_function_value)
        if part.status not in (Status.OPTIMAL, Status.SUBOPTIMAL):
            part.x = None
            return
        sol = h.getSolution()
        # a MIP part: x, row values and duals all from the LP with the builds fixed (its optimum is
        # the MIP's, up to the MIP gap, and may differ in the continuous columns: one consistent point)
        part.x = np.asarray(sol.col_value, dtype=float)
        part.row_value = np.asarray(sol.row_value, dtype=float)
        duals = sol.dual_valid and info.dual_solution_status == 2
        part.row_dual = np.asarray(sol.row_dual, dtype=float) if duals else None
        part.col_dual = np.asarray(sol.col_dual, dtype=float) if duals else None
        if mip_status is not None:
            part.status = mip_status
        if np.isnan(part.mip_objective):
            part.mip_objective = part.objective

    _WORST = (Status.INFEASIBLE, Status.NUMERICAL_TROUBLE, Status.TIME_LIMIT_NO_PLAN, Status.SUBOPTIMAL,
              Status.OPTIMAL)

    def _assemble(self, seconds: float) -> Solution:
        m, n = self.lp.shape
        worst = min(self.parts, key=lambda q: self._WORST.index(q.status)) if self.parts else None
        status = worst.status if worst is not None else Status.OPTIMAL
        name = worst.model_status if worst is not None else "Empty"
        iterations = sum(q.iterations for q in self.parts)
        if status not in (Status.OPTIMAL, Status.SUBOPTIMAL):
            return Solution(status, name, None, None, None, None, float("nan"), float("nan"), iterations, seconds, False)
        x, row_value = np.zeros(n), np.zeros(m)
        duals = all(q.row_dual is not None for q in self.parts)
        row_dual, col_dual = (np.zeros(m), np.zeros(n)) if duals else (None, None)
        for q in self.parts:
            x[q.cols] = q.x
            row_value[q.rows] = q.row_value
            if duals:
                row_dual[q.rows] = q.row_dual
                col_dual[q.cols] = q.col_dual
        objective = float(sum(q.objective for q in self.parts))  # of x (builds fixed)
        from model.planning_tables import builds_fixed_at

        priced = builds_fixed_at(self.lp, x) if self.mip else self.lp
        dual_obj = dual_objective(priced, row_dual, col_dual) if duals else float("nan")
        return Solution(status, name, x, row_value, row_dual, col_dual, objective, dual_obj, iterations, seconds, False)

    # ------------------------------------------------------------------ ranging

    def row_bound_ranges(self, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        """HiGHS row-bound ranging (the values up to which each row's bound may rise and fall while
        its dual holds) for the rows `rows` of the whole, gathered from the parts holding them."""
        up = np.full(self.lp.shape[0], np.nan)
        dn = np.full(self.lp.shape[0], np.nan)
        want = np.zeros(self.partition.count, dtype=bool)
        want[np.unique(self.partition.row_part[rows])] = True
        self._settle([part for part in self.parts if want[part.p]])
        for part in self.parts:
            if not want[part.p] or part.h is None:
                continue
            status, rng = part.h.getRanging()
            if status == highspy.HighsStatus.kError or not rng.valid:
                continue
            up[part.rows] = np.asarray(rng.row_bound_up.value_, dtype=float)
            dn[part.rows] = np.asarray(rng.row_bound_dn.value_, dtype=float)
        return up[rows], dn[rows]

    # ------------------------------------------------------------------ what-ifs

    def deltas(self, changes: list[Change]) -> np.ndarray:
        """The objective change of each what-if (NaN where a touched part does not solve to
        optimality), each part re-solving its share warm from where its last re-solve ended."""
        return self._deltas(changes, mip=False)

    def mip_deltas(self, changes: list[Change]) -> np.ndarray:
        """As `deltas`, on the MIP (builds free): each touched MIP part re-solved from scratch, LP
        parts warm. For an LP this is `deltas`."""
        return self._deltas(changes, mip=self.mip)

    def _deltas(self, changes: list[Change], *, mip: bool) -> np.ndarray:
        P = self.partition
        out = np.zeros(len(changes))
        work: dict[int, list[tuple[int, _Local]]] = {}
        for k, ch in enumerate(changes):
            for p, local in _split(ch, P):
                work.setdefault(p, []).append((k, local))
        results: dict[int, list[tuple[int, float]]] = {}

        def run(p: int) -> None:
            results[p] = self._part_deltas(self.parts[p], work[p], mip=mip and len(self.parts[p].integer) > 0)

        self._run_all([(self.parts[p], lambda p=p: run(p)) for p in work])
        for got in results.values():
            for k, d in got:
                out[k] += d
        return out

    def _part_deltas(self, part: _Part, todo: list[tuple[int, _Local]], *, mip: bool) -> list[tuple[int, float]]:
        if mip:  # the MIP of this part, builds free: a fresh object, solved from scratch each time
            h = _new(self.log)
            part.pass_to(h, integer=True)
            base = part.mip_objective
        else:
            h, base = part.h, part.objective
        out = []
        for k, ch in todo:
            lr, lc = ch.rows, ch.cols
            if len(lr):
                h.changeRowsBounds(len(lr), lr, ch.row_lower, ch.row_upper)
            if len(lc):
                h.changeColsBounds(len(lc), lc, ch.col_lower, ch.col_upper)
            for i, j, v in zip(ch.coef_rows.tolist(), ch.coef_cols.tolist(), ch.coef_values.tolist(), strict=True):
                h.changeCoeff(i, j, v)
            h.run()
            ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
            out.append((k, h.getInfo().objective_function_value - base if ok else float("nan")))
            # undo: the part holds its base model again (the next run starts from this basis)
            if len(lr):
                h.changeRowsBounds(len(lr), lr, part.row_lower[lr], part.row_upper[lr])
            if len(lc):
                lower, upper = self._held_bounds(part, lc, mip)
                h.changeColsBounds(len(lc), lc, lower, upper)
            if len(ch.coef_rows):
                held = part.entries(ch.coef_rows, ch.coef_cols)
                for i, j, v in zip(ch.coef_rows.tolist(), ch.coef_cols.tolist(), held.tolist(), strict=True):
                    h.changeCoeff(i, j, v)
        if not mip:
            part.dirty = True
        return out

    def _held_bounds(self, part: _Part, lc: np.ndarray, mip: bool) -> tuple[np.ndarray, np.ndarray]:
        """The column bounds the part's object holds at its base: with builds fixed after a MIP solve."""
        lower, upper = part.lower[lc].copy(), part.upper[lc].copy()
        if not mip and len(part.integer) and part.x is not None:
            fixed = np.isin(lc, part.integer)
            lower[fixed] = upper[fixed] = np.round(part.x[lc[fixed]])
        return lower, upper

    # ------------------------------------------------------------------ threads

    def _settle(self, parts: list[_Part]) -> None:
        self._run_all([(part, part.settle) for part in parts if part.dirty])

    def _run_all(self, tasks: list) -> None:
        """Run each part's task; parts on up to `workers` threads, largest parts first."""
        tasks = sorted(tasks, key=lambda t: -t[0].A.nnz - len(t[0].cols))
        if not tasks:
            return
        # always on pool threads, even one: HiGHS sizes a scheduler per calling thread at its first
        # run, and the main thread's may already be sized by a whole-model session (threads=None)
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(tasks)))) as pool:
            for future in [pool.submit(fn) for _, fn in tasks]:
                future.result()


def _each(values, like: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=float), like.shape).copy()


@dataclass
class Arrays:
    """An LP as bare arrays (min c'x, row_lower <= A x <= row_upper, lower <= x <= upper): what
    PartSolver needs of an `LP`, for LPs built outside the formulation (content tracing)."""

    c: np.ndarray
    A: Sparse  # or a scipy matrix, taken as its arrays
    row_lower: np.ndarray
    row_upper: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    integrality: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.A = Sparse.of(self.A).tocsr()

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


def solve_arrays(lp: Arrays, *, threads: int | None = None) -> np.ndarray | None:
    """x of an optimum of `lp`, solved part by part; None unless every part solves to optimality.

    A column whose bounds are [0, 0] is 0 in every feasible point, so it is left out of the solve:
    the same feasible set and objective, and HiGHS is spared its model (content tracing fixes the
    flows a plan does not use: 96% of the medium workbook's 73k columns, 0.16 -> 0.01 s)."""
    fixed = (lp.lower == 0) & (lp.upper == 0)
    keep = np.flatnonzero(~fixed)
    if fixed.any() and len(keep):
        lp = Arrays(lp.c[keep], lp.A.columns(keep), lp.row_lower, lp.row_upper, lp.lower[keep],
                    lp.upper[keep])
    sol = PartSolver(lp, threads=threads).solve()  # type: ignore[arg-type]
    if sol.status != Status.OPTIMAL:
        return None
    if not (fixed.any() and len(keep)):
        return sol.x
    x = np.zeros(len(fixed))
    x[keep] = sol.x
    return x
