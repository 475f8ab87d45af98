"""Run many re-solves of one base case: serially, on local worker processes, or on a Dask cluster.

A `Job` is a key plus a picklable `edit(base) -> (data, changes)` (a module-level function or a
functools.partial of one). Jobs are cut into fixed chunks in job order. Each worker process keeps
one `HighsSession` (threads=1) for its whole life, so a re-solve whose LP has the same sparsity
only pushes the changed costs, bounds and coefficients to HiGHS.

Determinism: the basis is cleared at the start of every chunk and warm starts are used inside a
chunk only, and the chunks are the same whatever runs them. So the serial run, any number of local
workers and a Dask cluster produce the same numbers.

A job that fails (bad overrides, invalid data, a solver error) becomes a result with `error` set;
it never stops the batch. Ctrl-C cancels what has not started and returns what has finished.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from model.data import InputData
from model.errors import InputError

DETAIL_TABLES = ("Flows", "Shares", "ChinaShare", "Shortfalls")


@dataclass(frozen=True)
class Job:
    key: str
    edit: Callable[[InputData], tuple[InputData, pd.DataFrame | None]]
    keep_tables: bool = (
        True  # return the plan's detail tables (batch) or only the figures (Monte Carlo)
    )


@dataclass
class Result:
    key: str
    status: str
    objective: float = math.nan
    total_cost: float = math.nan
    shortfall_total: float = math.nan
    seconds: float = 0.0  # build + solve wall time of this job
    solve_seconds: float = 0.0  # HiGHS run time
    iterations: int = 0
    model_pass: str = ""  # "update" (diffs pushed to HiGHS) or "rebuild" (full passModel)
    error: str = ""
    china_share: dict[str, float] = field(default_factory=dict)  # per commodity, all periods
    shortfall_by_commodity: dict[str, float] = field(default_factory=dict)
    binding: list[tuple[str, int]] = field(
        default_factory=list
    )  # (commodity, period) caps at limit
    cap_marginal: dict[str, float] = field(
        default_factory=dict
    )  # per commodity, summed over periods
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    # issue 13 (model/content_tables.content_figures): any-stage China share per commodity over all
    # periods and its largest over periods; ContentRules marginal per commodity (dual, summed)
    content_share: dict[str, float] = field(default_factory=dict)
    content_peak: dict[str, float] = field(default_factory=dict)
    content_marginal: dict[str, float] = field(default_factory=dict)
    changes: pd.DataFrame | None = None
    worker: str = ""


@dataclass
class RunReport:
    results: list[Result]
    interrupted: bool
    seconds: float
    workers: int
    mode: str  # serial, processes, dask

    @property
    def by_key(self) -> dict[str, Result]:
        return {r.key: r for r in self.results}


# ------------------------------------------------------------------ worker side

_STATE: dict[str, Any] = {}


def _init_worker(base: InputData | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    if base is not None:
        _STATE["base"] = base


def _session():
    from model.solve.highs import HighsSession

    if "session" not in _STATE:
        _STATE["session"] = HighsSession(threads=1, warm_start="always")
    return _STATE["session"]


def run_chunk(jobs: Sequence[Job], base: InputData | None = None) -> list[Result]:
    """Solve `jobs` in order with this process's session (the entry point of every worker task)."""
    base = base if base is not None else _STATE["base"]
    session = _session()
    session.forget_bases()  # every chunk starts cold: results do not depend on who ran what before
    import os

    worker = f"pid {os.getpid()}"
    return [_run_one(job, base, session, worker) for job in jobs]


def _run_one(job: Job, base: InputData, session, worker: str) -> Result:
    from model.api import solve

    started = time.perf_counter()

    def failed(error: str, changes=None) -> Result:
        kwargs = {} if changes is None else {"changes": changes}
        return Result(job.key, "error", error=error, seconds=time.perf_counter() - started, worker=worker,
                      **kwargs)

    try:
        data, changes = job.edit(base)
    except InputError as exc:
        return failed("; ".join(str(p) for p in exc.problems))
    except Exception as exc:  # a bug in an edit must not stop the batch either
        return failed(f"{type(exc).__name__}: {exc}")
    rebuilds = session.rebuilds
    try:
        plan = solve(data, session=session, sensitivity=False, marginals="dual", detail="contract")
    except Exception as exc:
        return failed(f"solve failed: {type(exc).__name__}: {exc}", changes)
    sol = plan.solution
    res = Result(
        job.key,
        str(plan.status),
        plan.objective,
        plan.total_cost,
        plan.shortfall_total,
        seconds=time.perf_counter() - started,
        solve_seconds=sol.seconds if sol else 0.0,
        iterations=sol.iterations if sol else 0,
        model_pass="rebuild" if session.rebuilds > rebuilds else "update",
        changes=changes,
        worker=worker,
    )
    if plan.has_plan:
        _figures(res, plan)
        if job.keep_tables:  # issue 13: the any-stage share (a small tracing LP; not for Monte Carlo)
            from model.content_tables import content_figures

            content_figures(res, plan)
        if job.keep_tables:
            res.tables = {name: plan.tables[name] for name in DETAIL_TABLES if name in plan.tables}
    return res


def _figures(res: Result, plan) -> None:
    """The Comparison figures of one plan, from the solution arrays (numpy: no table needed)."""
    from model.results import FLOW_TOL

    lp, x = plan.lp, plan.solution.x
    ix = lp.index
    codes = ix.commodities
    k_flow, k_need = ix.structural("batch.commodity_of", lambda: (
        pd.Index(codes).get_indexer(ix.key("flows", "commodity")),
        pd.Index(codes).get_indexer(ix.key("needs", "commodity"))))
    fx = x[lp.cols("flow")]
    keep = ~ix.key("flows", "china_dest")  # shares count supply to destinations outside the group
    q = np.bincount(k_flow[keep], weights=fx[keep], minlength=len(codes))
    cq = np.bincount(k_flow[keep], weights=(fx * ix.key("flows", "china_origin"))[keep], minlength=len(codes))
    u = x[lp.cols("shortfall")]
    short = np.bincount(k_need, weights=np.where(u > FLOW_TOL, u, 0.0), minlength=len(codes))
    for i, code in enumerate(codes):
        res.china_share[code] = float(cq[i] / q[i]) if q[i] > 1e-9 else math.nan
        res.shortfall_by_commodity[code] = float(short[i])
    cs = plan.tables["ChinaShare"]
    if len(cs):
        res.binding = [
            (str(k), int(t))
            for k, t in cs.loc[cs["binding"], ["commodity", "period"]].itertuples(
                index=False, name=None
            )
        ]
        capped = cs[cs["china_cap"].notna()]
        res.cap_marginal = {
            str(k): float(v) for k, v in capped.groupby("commodity")["marginal_cost"].sum().items()
        }


# ------------------------------------------------------------------ parent side


def chunked(jobs: Sequence[Job], size: int) -> list[list[Job]]:
    return [list(jobs[i : i + size]) for i in range(0, len(jobs), size)]


def default_chunk_size(n_jobs: int, workers: int) -> int:
    """About four chunks per worker (balance) but at most 16 jobs per chunk (progress, Ctrl-C)."""
    return max(1, min(16, math.ceil(n_jobs / max(1, 4 * workers))))


def run_jobs(
    base: InputData,
    jobs: Sequence[Job],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int | None = 4,
    progress: bool | None = None,
    desc: str = "solving",
    on_result: Callable[[Result], None] | None = None,
) -> RunReport:
    """Solve every job; return results in job order (only the finished ones if interrupted).

    `chunk_size` is fixed by default so serial and parallel runs cut the same chunks (and give
    the same numbers); pass None to size chunks by the worker count instead."""
    started = time.perf_counter()
    workers = max(1, int(workers))
    size = chunk_size or default_chunk_size(len(jobs), workers)
    chunks = chunked(jobs, size)
    done: dict[int, list[Result]] = {}
    bar = _bar(len(jobs), desc, progress)
    mode = "dask" if scheduler else ("processes" if workers > 1 else "serial")
    interrupted = False

    def finished(i: int, results: list[Result]) -> None:
        done[i] = results
        for r in results:
            if on_result is not None:
                on_result(r)
        if bar is not None:
            bar.update(len(results))

    try:
        if scheduler:
            workers = _run_dask(base, chunks, scheduler, finished)
        elif workers > 1:
            _run_processes(base, chunks, workers, finished)
        else:
            _STATE["base"] = base
            _STATE.pop("session", None)  # this run is one worker with its own session
            try:
                for i, chunk in enumerate(chunks):
                    finished(i, run_chunk(chunk, base))
            finally:
                _STATE.pop("base", None)
                _STATE.pop("session", None)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    results = [r for i in sorted(done) for r in done[i]]
    return RunReport(results, interrupted, time.perf_counter() - started, workers, mode)


def _bar(total: int, desc: str, progress: bool | None):
    if progress is False or total == 0:
        return None
    from tqdm import tqdm

    # shown on stderr with rate and ETA; hidden automatically when stderr is not a terminal
    return tqdm(
        total=total,
        desc=desc,
        unit="solve",
        file=sys.stderr,
        disable=None if progress is None else False,
        dynamic_ncols=True,
    )


def _run_processes(base: InputData, chunks: list[list[Job]], workers: int, finished) -> None:
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(
        max_workers=min(workers, max(1, len(chunks))),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(base,),
    )
    futures = {}
    try:
        futures = {pool.submit(run_chunk, chunk): i for i, chunk in enumerate(chunks)}
        pending = set(futures)
        while pending:
            ready, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in ready:
                finished(futures[fut], fut.result())
    except BaseException:
        for fut in futures:
            fut.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _run_dask(base: InputData, chunks: list[list[Job]], address: str, finished) -> int:
    from dask.distributed import Client, as_completed

    with Client(address) as client:
        n = len(client.scheduler_info().get("workers", {})) or 1
        scattered = client.scatter(base, broadcast=True)
        futures = [
            client.submit(
                run_chunk, chunk, scattered, pure=False, key=f"sourcing-chunk-{i}-{id(chunks)}"
            )
            for i, chunk in enumerate(chunks)
        ]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures):
                finished(index[fut.key], fut.result())
        except BaseException:
            client.cancel(futures)
            raise
    return n
