"""Speed and scale benchmark (issues 4 and 6): the project's path against raw highspy and Pyomo.

    python benchmarks/bench.py --quick     # small instances only, < ~2 minutes
    python benchmarks/bench.py             # + the ~1 million variable instance and 100k-row load test

On the same LP it times
  (a) the project: model.api.solve (build_lp + HighsSession + build_plan); scenarios re-solve
      through one HighsSession (only the diffs are pushed to HiGHS);
  (b) raw highspy: the LP built here directly from the generator's numpy arrays (no project code),
      passed with passModel; scenarios push their changes with changeColsCost / changeColsBounds /
      changeRowsBounds / changeCoeff on one Highs object;
  (c) naive Pyomo: build_index + build_pyomo + solve_pyomo, rebuilt for every scenario.
and prints the ratios to (b), the warm-start and time-limit checks, two-worker throughput, peak
memory (each measured in its own subprocess: ru_maxrss) and the load test.
Every figure is printed whether or not it meets its target.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# The options the batch runner uses (model/batch/runner.py): the contract tables, duals for the
# cap marginals, no Sensitivity sheet. Like for like with the raw path, which reports nothing.
WHAT_IF = {"sensitivity": False, "marginals": "dual", "detail": "contract"}
sys.path.insert(0, str(HERE))
import generate as gen  # noqa: E402

BASE_CASE = HERE.parent / "inputs" / "base_case.xlsx"


# ======================================================================= raw highspy (independent)


@dataclass
class RawLP:
    """The LP as plain arrays, plus the maps the scenarios need."""

    c: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray  # column-wise
    index: np.ndarray
    value: np.ndarray
    f_s: np.ndarray  # supply of each flow
    o: np.ndarray
    d: np.ndarray
    k: np.ndarray
    need_k: np.ndarray
    cap_rows: dict  # commodity -> (entry positions in value, china_origin flag of each entry)
    n_flow: int


def raw_lp(inst: gen.Instance) -> RawLP:
    """Build the sourcing LP straight from the instance arrays with numpy."""
    C, K, T = len(inst.countries), len(inst.commodities), len(inst.periods)
    china = inst.group == inst.china_group
    S = inst.n_supply
    # needs: demand keys and the recipe inputs of every producing (country, output, period)
    dem_key = (inst.dem_c * K + inst.dem_k) * T + inst.dem_t
    s_idx, r_idx = np.nonzero(inst.sup_k[:, None] == inst.rec_out[None, :])
    rec_key = (inst.sup_c[s_idx] * K + inst.rec_in[r_idx]) * T + inst.sup_t[s_idx]
    need_keys = np.unique(np.concatenate([dem_key, rec_key]))
    N = len(need_keys)
    qty = np.zeros(N)
    qty[np.searchsorted(need_keys, dem_key)] = inst.dem_q
    need_c, need_k, need_t = need_keys // (K * T), (need_keys // T) % K, need_keys % T
    # flows: every supply x every need of the same (commodity, period)
    gs, gn = inst.sup_k * T + inst.sup_t, need_k * T + need_t
    n_order = np.argsort(gn, kind="stable")
    cnt_n = np.bincount(gn, minlength=K * T)
    start_n = np.cumsum(cnt_n) - cnt_n
    reps = cnt_n[gs]
    f_s = np.repeat(np.arange(S), reps)
    offs = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    f_n = n_order[start_n[gs[f_s]] + offs]
    o, d, k, t = inst.sup_c[f_s], need_c[f_n], inst.sup_k[f_s], inst.sup_t[f_s]
    F = len(f_s)
    rc, rmax = inst.route_cost[o, d].copy(), np.full(F, np.inf)
    sr_key = (inst.sr_o * C + inst.sr_d) * K + inst.sr_k
    order = np.argsort(sr_key)
    fk = (o * C + d) * K + k
    pos = np.searchsorted(sr_key[order], fk).clip(max=len(order) - 1)
    hit = sr_key[order][pos] == fk
    rc[hit] = inst.sr_cost[order][pos[hit]]
    rmax[hit] = inst.sr_max[order][pos[hit]]
    dom = o == d
    rc[dom], rmax[dom] = 0.0, np.inf
    penalty = np.where(np.isnan(inst.penalty), inst.shortfall_penalty, inst.penalty)
    c = np.concatenate([inst.sup_cost[f_s] + rc + inst.risk_weight * inst.risk[o], penalty[need_k]])
    lower, upper = np.zeros(F + N), np.concatenate([rmax, np.full(N, np.inf)])
    rows, cols, vals = [f_s, S + f_n, S + np.arange(N)], [np.arange(F), np.arange(F), F + np.arange(N)], \
        [np.ones(F), np.ones(F), np.ones(N)]
    rl, ru = [np.full(S, -np.inf), qty], [inst.sup_cap, qty]
    m = S + N
    for out, inp, q in zip(inst.rec_out, inst.rec_in, inst.rec_q, strict=True):  # production draws inputs
        j = np.flatnonzero(k == out)
        rows.append(S + np.searchsorted(need_keys, (o[j] * K + inp) * T + t[j]))
        cols.append(j)
        vals.append(np.full(len(j), -q))
    # share rows: China caps and ShareLimits over flows to non-China destinations
    nonchina = ~china[d]
    cap_first = {}
    capped = np.flatnonzero(~np.isnan(inst.china_cap))
    row_of = np.full((K, T), -1)
    row_of[capped] = m + np.arange(len(capped) * T).reshape(len(capped), T)
    for kk in capped:
        cap_first[kk] = row_of[kk, 0]
    m += len(capped) * T
    j = np.flatnonzero(nonchina & (row_of[k, t] >= 0))
    cap_entry = len(np.concatenate(vals)), len(j)
    rows.append(row_of[k[j], t[j]])
    cols.append(j)
    vals.append(china[o[j]] - inst.china_cap[k[j]])
    rl.append(np.full(len(capped) * T, -np.inf))
    ru.append(np.zeros(len(capped) * T))
    for lk, lt, source, lo, hi in inst.limits:
        member = inst.members(source)
        for share, is_min in ((lo, True), (hi, False)):
            if np.isnan(share):
                continue
            ks = np.arange(K) if lk < 0 else np.array([lk])
            ts = np.arange(T) if lt < 0 else np.array([lt])
            row_of = np.full((K, T), -1)
            row_of[np.ix_(ks, ts)] = m + np.arange(len(ks) * len(ts)).reshape(len(ks), len(ts))
            m += len(ks) * len(ts)
            j = np.flatnonzero(nonchina & (row_of[k, t] >= 0))
            rows.append(row_of[k[j], t[j]])
            cols.append(j)
            vals.append(member[o[j]] - share)
            n = len(ks) * len(ts)
            rl.append(np.zeros(n) if is_min else np.full(n, -np.inf))
            ru.append(np.full(n, np.inf) if is_min else np.zeros(n))
    rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(float)
    perm = np.lexsort((rows, cols))
    start = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=F + N))])
    # where each China-cap entry landed in the column-wise arrays (for scenario coefficient changes)
    where = np.empty(len(perm), dtype=np.int64)
    where[perm] = np.arange(len(perm))
    orig = np.arange(cap_entry[0], cap_entry[0] + cap_entry[1])
    cap_rows = {"pos": where[orig], "k": k[cols[orig]]}
    return RawLP(c, lower, upper, np.concatenate(rl), np.concatenate(ru), start.astype(np.int32),
                 rows[perm].astype(np.int32), vals[perm], f_s, o, d, k, need_k, cap_rows, F)


def raw_pass(h, lp: RawLP) -> None:
    import highspy

    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = len(lp.c), len(lp.row_lower)
    model.col_cost_, model.col_lower_, model.col_upper_ = lp.c, lp.lower, lp.upper
    model.row_lower_, model.row_upper_ = lp.row_lower, lp.row_upper
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = lp.start, lp.index, lp.value
    h.passModel(model)


def raw_solve_once(inst: gen.Instance, threads: int | None = None) -> dict:
    """Build from arrays + passModel + run + read the solution (what the project also returns)."""
    from model.solve.highs import new_highs

    t0 = time.perf_counter()
    lp = raw_lp(inst)
    t1 = time.perf_counter()
    h = new_highs()
    h.setOptionValue("output_flag", False)
    if threads:
        h.setOptionValue("threads", threads)
    raw_pass(h, lp)
    h.run()
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    _ = np.asarray(sol.row_dual), np.asarray(sol.col_dual), np.asarray(sol.row_value)
    t2 = time.perf_counter()
    return {"build": t1 - t0, "total": t2 - t0, "objective": h.getInfo().objective_function_value,
            "status": h.modelStatusToString(h.getModelStatus()), "x_sum": float(x.sum()),
            "shape": [len(lp.row_lower), len(lp.c)], "nnz": int(len(lp.value))}


# ======================================================================= scenarios


def scenarios(inst: gen.Instance, n: int, seed: int = 7) -> list[tuple]:
    """What-if edits, each relative to the base: capacity, cost, China cap, demand, embargo."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind = ("capacity", "cost", "china_cap", "demand", "embargo")[i % 5]
        if kind == "capacity":
            s = rng.integers(inst.n_supply)
            out.append((kind, int(inst.sup_c[s]), int(inst.sup_k[s]), float(rng.choice([0.0, 0.5, 1.5]))))
        elif kind == "cost":
            out.append((kind, int(rng.integers(len(inst.countries))), float(rng.uniform(0.7, 1.5))))
        elif kind == "china_cap":
            kk = np.flatnonzero(~np.isnan(inst.china_cap))
            out.append((kind, int(rng.choice(kk)), float(np.round(rng.uniform(0.05, 0.9), 2))))
        elif kind == "demand":
            out.append((kind, int(rng.integers(len(inst.commodities))), float(rng.uniform(0.8, 1.3))))
        else:
            out.append((kind, int(rng.integers(len(inst.sr_o)))))
    return out


def apply_data(base, inst: gen.Instance, sc: tuple):
    """The scenario as an analyst's edit of the input tables (a copy of `base`), written as whole
    column assignments: with pandas' copy-on-write, `t.loc[mask, col] *= f` costs about 1.4 ms
    per edit here against 0.4 ms for the assignment, and that is pandas' time, not this project's."""
    data = base.copy()
    cc, kk = inst.countries, inst.commodities

    def edit(sheet: str, col: str, mask: np.ndarray, new: np.ndarray | float) -> None:
        t = data.tables[sheet]
        old = t[col].to_numpy()
        t[col] = np.where(mask, new, old)

    def column(sheet: str, col: str) -> np.ndarray:
        return data.tables[sheet][col].to_numpy()

    kind = sc[0]
    if kind == "capacity":
        m = (column("Supply", "country") == cc[sc[1]]) & (column("Supply", "commodity") == kk[sc[2]])
        edit("Supply", "capacity", m, column("Supply", "capacity") * sc[3])
    elif kind == "cost":
        edit("Supply", "unit_cost", column("Supply", "country") == cc[sc[1]], column("Supply", "unit_cost") * sc[2])
    elif kind == "china_cap":
        edit("Commodities", "china_cap", column("Commodities", "code") == kk[sc[1]], sc[2])
    elif kind == "demand":
        edit("Demand", "quantity", column("Demand", "commodity") == kk[sc[1]], column("Demand", "quantity") * sc[2])
    else:
        i = sc[1]
        m = ((column("Routes", "origin") == cc[inst.sr_o[i]]) & (column("Routes", "destination") == cc[inst.sr_d[i]])
             & (column("Routes", "commodity") == kk[inst.sr_k[i]]))
        edit("Routes", "max_quantity", m, 0.0)
    return data


class RawSession:
    """One Highs object; a scenario pushes only its changes (undoing the previous scenario's)."""

    def __init__(self, inst: gen.Instance, threads: int | None = 1):
        from model.solve.highs import new_highs

        self.inst, self.lp = inst, raw_lp(inst)
        self.h = new_highs()
        self.h.setOptionValue("output_flag", False)
        if threads:
            self.h.setOptionValue("threads", threads)
        raw_pass(self.h, self.lp)
        self.prev: dict[str, tuple[np.ndarray, ...]] = {}
        lp = self.lp
        self.by_country = np.argsort(lp.o, kind="stable")
        self.country_start = np.searchsorted(lp.o[self.by_country], np.arange(len(inst.countries) + 1))

    def changes(self, sc: tuple) -> dict[str, tuple[np.ndarray, ...]]:
        inst, lp = self.inst, self.lp
        kind = sc[0]
        if kind == "capacity":
            s = np.flatnonzero((inst.sup_c == sc[1]) & (inst.sup_k == sc[2]))
            return {"rows": (s, lp.row_lower[s], lp.row_upper[s] * sc[3])}
        if kind == "cost":
            j = self.by_country[self.country_start[sc[1]]:self.country_start[sc[1] + 1]]
            return {"cost": (j, lp.c[j] + inst.sup_cost[lp.f_s[j]] * (sc[2] - 1))}
        if kind == "china_cap":
            sel = lp.cap_rows["pos"][lp.cap_rows["k"] == sc[1]]
            return {"coef": (sel, lp.value[sel] + inst.china_cap[sc[1]] - sc[2])}
        if kind == "demand":
            r = inst.n_supply + np.flatnonzero(lp.need_k == sc[1])
            return {"rows": (r, lp.row_lower[r] * sc[2], lp.row_upper[r] * sc[2])}
        i = sc[1]
        j = np.flatnonzero((lp.o == inst.sr_o[i]) & (lp.d == inst.sr_d[i]) & (lp.k == inst.sr_k[i]))
        return {"cols": (j, lp.lower[j], np.zeros(len(j)))}

    def solve(self, sc: tuple | None) -> float:
        lp, h = self.lp, self.h
        new = self.changes(sc) if sc else {}
        for key in set(self.prev) | set(new):
            base = {"rows": (lp.row_lower, lp.row_upper), "cost": (lp.c,), "cols": (lp.lower, lp.upper),
                    "coef": (lp.value,)}[key]
            idx_old = self.prev.get(key, (np.zeros(0, dtype=np.int64),))[0]
            idx_new = new.get(key, (np.zeros(0, dtype=np.int64),))[0]
            idx = np.union1d(idx_old, idx_new).astype(np.int64)
            vals = [b[idx].copy() for b in base]
            if len(idx_new):
                at = np.searchsorted(idx, idx_new)
                for v, nv in zip(vals, new[key][1:], strict=True):
                    v[at] = nv
            if not len(idx):
                continue
            if key == "rows":
                h.changeRowsBounds(len(idx), idx.astype(np.int32), vals[0], vals[1])
            elif key == "cost":
                h.changeColsCost(len(idx), idx.astype(np.int32), vals[0])
            elif key == "cols":
                h.changeColsBounds(len(idx), idx.astype(np.int32), vals[0], vals[1])
            else:
                col = np.searchsorted(lp.start, idx, side="right") - 1
                for r, cj, v in zip(lp.index[idx], col, vals[0], strict=True):
                    h.changeCoeff(int(r), int(cj), float(v))
        self.prev = new
        h.run()
        sol = h.getSolution()
        _ = np.asarray(sol.col_value), np.asarray(sol.row_dual), np.asarray(sol.col_dual)
        return float(h.getInfo().objective_function_value)


# ======================================================================= timed paths


def project_scenarios(base, inst, scs, *, warm_start="auto", threads=1):
    from model import api
    from model.solve.highs import HighsSession

    session = HighsSession(threads=threads, warm_start=warm_start)
    api.solve(base, session=session, **WHAT_IF)
    times, objs, iters = [], [], []
    for sc in scs:
        t0 = time.perf_counter()
        plan = api.solve(apply_data(base, inst, sc), session=session, **WHAT_IF)
        times.append(time.perf_counter() - t0)
        objs.append(plan.objective)
        iters.append(plan.solution.iterations)
    return np.array(times), np.array(objs), np.array(iters), session


def raw_scenarios(inst, scs, threads=1):
    rs = RawSession(inst, threads)
    rs.solve(None)
    times, objs = [], []
    for sc in scs:
        t0 = time.perf_counter()
        objs.append(rs.solve(sc))
        times.append(time.perf_counter() - t0)
    return np.array(times), np.array(objs)


def pyomo_scenarios(base, inst, scs):
    from model.formulation.pyomo_model import build_pyomo, solve_pyomo
    from model.formulation.sets import build_index

    times, objs = [], []
    for sc in scs:
        t0 = time.perf_counter()
        m = build_pyomo(build_index(apply_data(base, inst, sc)))
        _, obj = solve_pyomo(m)
        times.append(time.perf_counter() - t0)
        objs.append(obj)
    return np.array(times), np.array(objs)


def time_limit_check(base) -> dict:
    """HiGHS's time limit counts the object's whole life: a session must set it relative to the
    run time used so far. Cold-solve repeatedly until the accumulated run time is several times
    the limit; every solve must still be optimal. The raw object with an absolute limit is shown
    for contrast."""
    from model import api
    from model.formulation.lp import build_lp
    from model.solve.highs import HighsSession, new_highs

    lp = build_lp(base)
    probe = HighsSession(threads=1)
    t0 = time.perf_counter()
    probe.solve(lp)
    one = time.perf_counter() - t0
    limit = max(0.05, 3 * one)
    session = HighsSession(threads=1, warm_start="never", time_limit_s=limit)
    statuses = []
    while session.h.getRunTime() < 3 * limit or len(statuses) < 4:
        statuses.append(str(api.solve(base, session=session, time_limit_s=limit, **WHAT_IF).status))
    h = new_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", limit)
    HighsSession._pass(type("S", (), {"h": h, "_check": staticmethod(lambda *a: None)})(), lp)
    raw = []
    for _ in range(len(statuses)):
        h.clearSolver()
        h.run()
        raw.append(h.modelStatusToString(h.getModelStatus()))
    return {"limit_s": limit, "solves": len(statuses), "run_time_s": session.h.getRunTime(),
            "session_statuses": sorted(set(statuses)), "raw_absolute_limit_statuses": sorted(set(raw)),
            "ok": all(s.startswith("optimal") for s in statuses)}


# ======================================================================= subprocess children


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(task: str, arg: str) -> dict:
    """Run one measured task in this (fresh) process and return its figures."""
    size = {"small": gen.small, "medium": gen.medium, "big": gen.big}
    if task == "baseline":
        import model.api  # noqa: F401
        import model.solve.highs  # noqa: F401

        size[arg]()
        return {"rss_mb": _maxrss_mb()}
    if task == "project":
        from model import api
        inst = size[arg]()
        data = gen.to_inputdata(inst)
        rss0 = _maxrss_mb()
        t0 = time.perf_counter()
        plan = api.solve(data, threads=1, **WHAT_IF)
        total = time.perf_counter() - t0
        out = {"total": total, "objective": plan.objective, "status": str(plan.status),
               "build": plan.summary_value("build_seconds"), "solve": plan.summary_value("solve_seconds"),
               "rss_mb": _maxrss_mb(), "rss_before_mb": rss0}
        return out
    if task == "raw":
        inst = size[arg]()
        rss0 = _maxrss_mb()
        out = raw_solve_once(inst, threads=1)
        out.update(rss_mb=_maxrss_mb(), rss_before_mb=rss0)
        return out
    if task == "load":
        from model.data import load_workbook

        t0 = time.perf_counter()
        data = load_workbook(arg)
        return {"seconds": time.perf_counter() - t0, "rows": len(data["Supply"]), "rss_mb": _maxrss_mb()}
    if task == "batch":
        from model import api
        from model.solve.highs import HighsSession

        n = int(arg)
        inst = gen.small()
        base = gen.to_inputdata(inst)
        session = HighsSession(threads=1)
        t0 = time.perf_counter()
        ok = 0
        for sc in scenarios(inst, n, seed=11):
            plan = api.solve(apply_data(base, inst, sc), session=session, **WHAT_IF)
            ok += plan.has_plan
        return {"scenarios": n, "solved": ok, "seconds": time.perf_counter() - t0, "rss_mb": _maxrss_mb(),
                "rebuilds": session.rebuilds, "updates": session.updates}
    raise SystemExit(f"unknown task {task}")


def run_child(task: str, arg: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", task, arg], capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"child {task} {arg} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ======================================================================= throughput


def _worker(share: list, barrier, queue) -> None:
    from model import api
    from model.solve.highs import HighsSession

    inst = gen.small()
    base = gen.to_inputdata(inst)
    session = HighsSession(threads=1)
    api.solve(base, session=session, **WHAT_IF)
    barrier.wait()
    t0 = time.time()
    for sc in share:
        api.solve(apply_data(base, inst, sc), session=session, **WHAT_IF)
    queue.put((t0, time.time()))


def throughput(scs: list, workers: int) -> float:
    """Scenarios per second with `workers` processes each running a share (after their setup)."""
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(scs[i::workers], barrier, queue)) for i in range(workers)]
    for p in procs:
        p.start()
    spans = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    return len(scs) / (max(e for _, e in spans) - min(s for s, _ in spans))


# ======================================================================= main


def fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def shipped_base_case_batch() -> None:
    """The analyst's path on the shipped workbook: the batch runner over its Scenarios sheet
    (overrides applied and checked, re-solve, Comparison figures, contract tables), three times.
    No raw yardstick here (the raw path needs the generator's arrays): it says where time goes."""
    import functools

    from model.batch import runner, scenarios
    from model.data import load_workbook

    if not BASE_CASE.exists():
        return
    data = load_workbook(BASE_CASE)
    names = ["base", *scenarios.scenario_names(data)]
    jobs = [runner.Job(n, functools.partial(scenarios.apply_scenario, name=n)) for n in names]
    runs = [runner.run_jobs(data, jobs, progress=False, chunk_size=len(jobs)) for _ in range(3)]
    last = runs[-1].results
    upd = [r for r in last if r.model_pass == "update"]
    print(f"\n== shipped base case ({BASE_CASE.name}), sourcing batch path, {len(jobs)} solves in one chunk: "
          f"{', '.join(f'{r.seconds:.2f}' for r in runs)} s per run")
    if upd:
        total = np.median([r.seconds for r in upd]) * 1e3
        highs = np.median([r.solve_seconds for r in upd]) * 1e3
        print(f"  in-place updates ({len(upd)}): median {total:.1f} ms per scenario, of which HiGHS {highs:.1f} ms; "
              f"structure changes: {', '.join(r.key for r in last if r.model_pass == 'rebuild')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small instances only (< ~2 minutes)")
    ap.add_argument("--scenarios", type=int, default=40)
    ap.add_argument("--child", nargs=2, metavar=("TASK", "ARG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    started = time.perf_counter()
    verdicts: list[tuple[str, str, bool]] = []
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    from model.solve.highs import new_highs

    new_highs()  # swallow the banner

    # ---------------------------------------------------------------- base case: per scenario
    inst = gen.small()
    base = gen.to_inputdata(inst)
    if BASE_CASE.exists():
        print(f"note: {BASE_CASE} exists, but the raw path needs the generator's arrays; "
              "per-scenario ratios use the generated base-case-sized instance")
    scs = scenarios(inst, 15 if args.quick else args.scenarios)
    lp_shape = raw_lp(inst)
    print(f"\n== base-case-sized instance (generated): {len(lp_shape.row_lower)} rows x {len(lp_shape.c)} cols, "
          f"{len(lp_shape.value)} nonzeros; {len(scs)} scenarios")
    proj_t, proj_obj, proj_it, session = project_scenarios(base, inst, scs)
    raw_t, raw_obj = raw_scenarios(inst, scs)
    same = np.allclose(proj_obj, raw_obj, rtol=1e-6)
    print(f"objectives agree (project vs raw, all scenarios): {same}")
    n_py = min(len(scs), 10)
    py_t, py_obj = pyomo_scenarios(base, inst, scs[:n_py])
    print(f"objectives agree (pyomo vs raw, first {n_py}): {np.allclose(py_obj, raw_obj[:n_py], rtol=1e-6)}")
    r = np.median(proj_t) / np.median(raw_t)
    print(f"per scenario (median ms): project {1e3 * np.median(proj_t):.1f}  raw highspy {1e3 * np.median(raw_t):.1f}  "
          f"pyomo rebuild {1e3 * np.median(py_t):.1f}")
    print(f"  ratio project/raw = {r:.2f} (target <= 2)   pyomo/raw = {np.median(py_t) / np.median(raw_t):.1f}  "
          f"pyomo/project = {np.median(py_t) / np.median(proj_t):.1f}")
    print(f"  session: {session.updates} in-place updates, {session.rebuilds} full passes")
    verdicts.append(("per-scenario time, base case, <= 2x raw", f"{r:.2f}x", r <= 2))

    # warm start: auto vs never on the same scenarios
    cold_t, cold_obj, cold_it, _ = project_scenarios(base, inst, scs, warm_start="never")
    slower = int(np.sum(proj_it > cold_it))
    print(f"warm start (auto) vs cold: median {fmt(np.median(proj_t))} vs {fmt(np.median(cold_t))} s, total "
          f"{fmt(proj_t.sum())} vs {fmt(cold_t.sum())} s; iterations {int(proj_it.sum())} vs {int(cold_it.sum())}; "
          f"scenarios where warm needed more iterations than cold: {slower}/{len(scs)}; "
          f"auto fell back to cold: {session._warm_is_slower}")
    warm_ok = proj_t.sum() <= 1.05 * cold_t.sum()
    verdicts.append(("warm start total not slower than cold (auto)", f"{proj_t.sum() / cold_t.sum():.2f}x", warm_ok))

    tl = time_limit_check(base)
    print(f"time limit check: limit {tl['limit_s']:.3f} s, {tl['solves']} solves on one session, "
          f"{tl['run_time_s']:.2f} s accumulated run time -> statuses {tl['session_statuses']}; "
          f"raw Highs with an absolute limit -> {tl['raw_absolute_limit_statuses']}")
    verdicts.append(("time limit relative to elapsed run time", "all optimal" if tl["ok"] else "FAILED", tl["ok"]))

    # ---------------------------------------------------------------- throughput
    tp_scs = scenarios(inst, 30 if args.quick else 200, seed=3)
    one = throughput(tp_scs, 1)
    two = throughput(tp_scs, 2)
    print(f"\n== throughput ({len(tp_scs)} scenarios): 1 worker {one:.1f}/s, 2 workers {two:.1f}/s "
          f"-> {two / one:.2f}x (target >= 1.8)")
    verdicts.append(("two workers >= 1.8x one", f"{two / one:.2f}x", two / one >= 1.8))

    # ---------------------------------------------------------------- big instance
    size = "medium" if args.quick else "big"
    print(f"\n== {size} instance: single build-and-solve and peak memory (each in its own subprocess)")
    base_rss = run_child("baseline", size)
    pr = run_child("project", size)
    rw = run_child("raw", size)
    print(f"  raw LP: {rw['shape'][0]} rows x {rw['shape'][1]} cols, {rw['nnz']} nonzeros, status {rw['status']}")
    print(f"  objectives agree: {np.isclose(pr['objective'], rw['objective'], rtol=1e-6)} "
          f"(project {pr['objective']:.6g}, raw {rw['objective']:.6g})")
    rt = pr["total"] / rw["total"]
    print(f"  time: project api.solve {fmt(pr['total'])} s (build_lp {fmt(pr['build'])}, HiGHS {fmt(pr['solve'])}); "
          f"raw {fmt(rw['total'])} s (arrays {fmt(rw['build'])})")
    print(f"  ratio api.solve/raw = {rt:.2f} (target <= 1.5)")
    mem = pr["rss_mb"] / rw["rss_mb"]
    print(f"  peak RSS: project {pr['rss_mb']:.0f} MB, raw {rw['rss_mb']:.0f} MB -> {mem:.2f}x (target <= 2); "
          f"imports + instance arrays alone {base_rss['rss_mb']:.0f} MB")
    verdicts.append((f"single build-and-solve ({size}) <= 1.5x raw", f"{rt:.2f}x", rt <= 1.5))
    verdicts.append((f"peak memory ({size}) <= 2x raw", f"{mem:.2f}x", mem <= 2))

    # ---------------------------------------------------------------- load test
    n_rows = 5_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"supply{n_rows}.xlsx"
        t0 = time.perf_counter()
        gen.write_xlsx(gen.to_inputdata(gen.supply_rows(n_rows), run_check=False), path)
        wrote = time.perf_counter() - t0
        ld = run_child("load", str(path))
    print(f"\n== load test: {ld['rows']} Supply rows ({path.name}, written in {wrote:.1f} s): "
          f"load_workbook {fmt(ld['seconds'])} s, peak RSS {ld['rss_mb']:.0f} MB")
    verdicts.append((f"load {ld['rows']} Supply rows (stated: < 120 s, < 2 GB)", f"{ld['seconds']:.1f} s, "
                     f"{ld['rss_mb']:.0f} MB", ld["seconds"] < 120 and ld["rss_mb"] < 2048))
    bt = run_child("batch", "40" if args.quick else "200")
    print(f"== batch: {bt['solved']}/{bt['scenarios']} scenarios solved in {fmt(bt['seconds'])} s "
          f"({bt['updates']} in-place updates), peak RSS {bt['rss_mb']:.0f} MB")
    verdicts.append((f"{bt['scenarios']}-scenario batch (stated: < 60 s, < 1 GB)", f"{bt['seconds']:.1f} s, {bt['rss_mb']:.0f} MB",
                     bt["seconds"] < 60 and bt["rss_mb"] < 1024))

    shipped_base_case_batch()

    print("\n== targets")
    for name, figure, ok in verdicts:
        print(f"  [{'met' if ok else 'NOT MET'}] {name}: {figure}")
    print(f"\nbenchmark wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
