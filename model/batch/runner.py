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

Lost workers (killed, out of memory): the chunks they held are run again once on fresh workers;
a chunk lost twice becomes failed results and the batch carries on (processes and Dask alike).
Workers die with their parent (Linux: PR_SET_PDEATHSIG, plus a check that the parent is still
the one that started them), so a `kill -9` of the command leaves no orphans.
"""

from __future__ import annotations

import math
import multiprocessing
import os
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
    shortfall_value: float = math.nan  # unmet demand x its penalty (currency): Plan.shortfall_value
    risk_cost: float = math.nan
    seconds: float = 0.0  # build + solve wall time of this job
    solve_seconds: float = 0.0  # HiGHS run time
    iterations: int = 0
    model_pass: str = ""  # "update" (diffs pushed to HiGHS) or "rebuild" (full passModel)
    error: str = ""
    china_share: dict[str, float] = field(default_factory=dict)  # per commodity, all periods
    shortfall_by_commodity: dict[str, float] = field(default_factory=dict)  # in its own unit
    shortfall_value_by_commodity: dict[str, float] = field(default_factory=dict)  # currency
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
    resumed: int = 0  # results taken from a journal instead of solved again

    @property
    def by_key(self) -> dict[str, Result]:
        return {r.key: r for r in self.results}


# ------------------------------------------------------------------ worker side

_STATE: dict[str, Any] = {}


def _init_worker(base: InputData | None = None, parent: int | None = None, started=None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    die_with_parent(parent)
    if base is not None:
        _STATE["base"] = base
    _STATE["started"] = started


def _tracked_chunk(i: int, jobs: Sequence[Job]) -> list[Result]:
    """run_chunk that first tells the parent chunk `i` has started (so a lost pool can tell the
    chunks that were running from those only queued)."""
    if _STATE.get("started") is not None:
        _STATE["started"].put(i)
    return run_chunk(jobs)


def die_with_parent(parent: int | None) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux prctl PR_SET_PDEATHSIG);
    if the parent is already gone, exit now. Elsewhere a daemon thread polls the parent."""
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            _watch_parent(parent)
    else:
        _watch_parent(parent)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _watch_parent(parent: int) -> None:
    import threading

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _session():
    from model.solve.highs import HighsSession

    if "session" not in _STATE:
        _STATE["session"] = HighsSession(threads=1, warm_start="always")
    return _STATE["session"]


def run_chunk(jobs: Sequence[Job], base: InputData | None = None) -> list[Result]:
    """Solve `jobs` in order with this process's session (the entry point of every worker task)."""
    return list(iter_chunk(jobs, base))


def iter_chunk(jobs: Sequence[Job], base: InputData | None = None):
    """Each job's result as soon as it is solved (a serial run journals them one by one, so a
    Ctrl-C in the middle of a chunk keeps the chunk's finished solves)."""
    base = base if base is not None else _STATE["base"]
    session = _session()
    session.forget_bases()  # every chunk starts cold: results do not depend on who ran what before
    worker = f"pid {os.getpid()}"
    for job in jobs:
        yield _run_one(job, base, session, worker)


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
        shortfall_value=plan.shortfall_value,
        risk_cost=plan.risk_cost,
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
    u = np.where(u > FLOW_TOL, u, 0.0)
    short = np.bincount(k_need, weights=u, minlength=len(codes))
    value = np.bincount(k_need, weights=u * ix.numbers.need_penalty, minlength=len(codes))
    for i, code in enumerate(codes):
        res.china_share[code] = float(cq[i] / q[i]) if q[i] > 1e-9 else math.nan
        res.shortfall_by_commodity[code] = float(short[i])
        res.shortfall_value_by_commodity[code] = float(value[i])
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
    journal=None,
) -> RunReport:
    """Solve every job; return results in job order (only the finished ones if interrupted).

    `chunk_size` is fixed by default so serial and parallel runs cut the same chunks (and give
    the same numbers); pass None to size chunks by the worker count instead. With a `journal`
    (model/batch/journal.py) every result is appended to it as it arrives, and jobs it already
    holds (a resumed run) are taken from it instead of solved again."""
    started = time.perf_counter()
    workers = max(1, int(workers))
    kept: dict[str, Result] = {}
    if journal is not None:
        wanted = {job.key for job in jobs}
        kept = {r.key: r for r in journal.kept if r.key in wanted}
        order = {job.key: n for n, job in enumerate(jobs)}
        jobs = [job for job in jobs if job.key not in kept]
        user_callback = on_result

        def on_result(result: Result) -> None:
            journal.append(result)
            if user_callback is not None:
                user_callback(result)
    size = chunk_size or default_chunk_size(len(jobs), workers)
    chunks = chunked(jobs, size)
    done: dict[int, list[Result]] = {}
    bar = _bar(len(jobs), desc, progress)
    mode = "dask" if scheduler else ("processes" if workers > 1 else "serial")
    interrupted = False

    def finished(i: int, results: list[Result]) -> None:
        done.setdefault(i, []).extend(results)
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
                    for result in iter_chunk(chunk, base):
                        finished(i, [result])
            finally:
                _STATE.pop("base", None)
                _STATE.pop("session", None)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    results = [r for i in sorted(done) for r in done[i]]
    if kept:
        results = sorted([*kept.values(), *results], key=lambda r: order[r.key])
    return RunReport(results, interrupted, time.perf_counter() - started, workers, mode,
                     resumed=len(kept))


WORKER_MEMORY_MB = 150  # measured: one spawned worker with the base case and its HiGHS model


def memory_cap(workers: int) -> tuple[int, str]:
    """`workers`, capped so that about WORKER_MEMORY_MB per worker fits in available memory;
    the message says why when it caps (empty otherwise)."""
    import psutil

    available = psutil.virtual_memory().available / 2**20
    fits = max(1, int(available // WORKER_MEMORY_MB))
    if workers <= fits:
        return workers, ""
    return fits, (f"--jobs {workers} capped at {fits}: each worker needs about "
                  f"{WORKER_MEMORY_MB} MB and {available:,.0f} MB of memory is available")


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


LOST = "worker lost twice while solving this chunk (killed, or out of memory); not solved"
MAX_ATTEMPTS = 2  # a lost chunk is run once more on a fresh worker, then reported failed


def lost_chunk(chunk: Sequence[Job], why: str = LOST) -> list[Result]:
    return [Result(job.key, "error", error=why) for job in chunk]


def _run_processes(base: InputData, chunks: list[list[Job]], workers: int, finished) -> None:
    """Run chunks on spawned workers, at most one chunk in flight per worker.

    When a worker dies the pool is broken and every chunk in flight is lost, the culprit's and its
    neighbours'. Those chunks become suspects and run again one at a time on a fresh pool, so the
    one that kills its worker again is known exactly: it is reported failed, the others are
    solved, and the rest of the batch goes on in parallel."""
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    size = min(workers, max(1, len(chunks)))
    todo = list(range(len(chunks)))
    suspects: list[int] = []
    while todo or suspects:
        alone = bool(suspects)  # suspects run one at a time: a second loss is theirs alone
        queue = suspects if alone else todo
        limit = 1 if alone else size
        started = ctx.SimpleQueue()
        pool = ProcessPoolExecutor(max_workers=limit, mp_context=ctx, initializer=_init_worker,
                                   initargs=(base, os.getpid(), started))
        running: dict = {}
        broken = False
        try:
            while (queue or running) and not broken:
                while queue and len(running) < limit:
                    i = queue.pop(0)
                    running[pool.submit(_tracked_chunk, i, chunks[i])] = i
                ready, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in ready:
                    i = running.pop(fut)
                    try:
                        results = fut.result()
                    except BrokenProcessPool:
                        broken = True
                        running[fut] = i  # lost with the others still in flight
                        continue
                    finished(i, results)
        except BaseException:
            for fut in running:
                fut.cancel()
            _stop(pool)
            started.close()
            raise
        if not broken:
            pool.shutdown(wait=True)
            started.close()
            continue
        _stop(pool)
        ran = set()
        while not started.empty():
            ran.add(started.get())
        started.close()
        lost = sorted(running.values())
        queued = [i for i in lost if i not in ran]  # never started: not suspect, just run again
        todo[:0] = sorted(queued)
        lost = [i for i in lost if i in ran]
        if alone:
            for i in lost:
                finished(i, lost_chunk(chunks[i]))
            if lost:
                print(f"warning: a worker died again on chunk(s) {lost}: reported failed; the "
                      "batch goes on", file=sys.stderr)
        else:
            suspects.extend(lost)
            say_lost(len(lost) + len(queued), "a worker process died")


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut a pool down now and make sure none of its workers outlives it."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.kill()
    for p in procs:
        p.join(timeout=5)


def say_lost(n: int, why: str) -> None:
    print(f"warning: {why}; running its {n} unfinished chunk(s) again (a chunk lost twice is "
          "reported failed)", file=sys.stderr)


# Dask: how long to wait for a scheduler to answer, and for a worker to appear.
DASK_CONNECT_TIMEOUT_S = 20.0
DASK_NO_WORKER_TIMEOUT_S = 60.0


def check_scheduler_address(address: str) -> str:
    """`tcp://host:port` (or tls://, ws://, wss://, inproc://, or host:port): anything else is an
    input error before any connection is tried."""
    from urllib.parse import urlsplit

    from model.errors import InputError

    text = str(address).strip()
    probe = text if "://" in text else f"tcp://{text}"
    try:
        parts = urlsplit(probe)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (parts is None or parts.scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx")
            or (parts.scheme != "inproc" and (not parts.hostname or port is None))
            or any(c.isspace() for c in text)):
        raise InputError(
            f"--scheduler {address!r} is not a dask.distributed scheduler address; give "
            "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)"
        )
    return probe


def _connect(address: str):
    """A Client, or a clear error within DASK_CONNECT_TIMEOUT_S: a server that does not speak the
    Dask protocol (an HTTP server, a closed port) must not hang the command. The attempt runs in
    a daemon thread that is abandoned at the limit (dask's own timeout does not cover a peer that
    accepts the connection and never answers the handshake)."""
    import threading

    from dask.distributed import Client

    from model.errors import InputError

    address = check_scheduler_address(address)
    limit = DASK_CONNECT_TIMEOUT_S
    outcome: dict = {}

    def connect() -> None:
        try:
            outcome["client"] = Client(address, timeout=f"{limit}s")
        except BaseException as exc:  # reported below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=connect, daemon=True, name="dask-connect")
    thread.start()
    thread.join(limit)
    if "client" in outcome:
        return outcome["client"]
    exc = outcome.get("error")
    why = f"{type(exc).__name__}: {exc}" if exc is not None else "no answer"
    raise InputError(
        f"--scheduler {address}: no dask.distributed scheduler answered within {limit:.0f} s "
        f"({why}); is it running, and is this its address (the scheduler port, usually 8786, "
        "not the dashboard)?"
    )


def _run_dask(base: InputData, chunks: list[list[Job]], address: str, finished) -> int:
    """Chunks as Dask tasks; a task that fails because its worker was lost (or was cancelled)
    runs once more, then is reported failed. With no worker for DASK_NO_WORKER_TIMEOUT_S the
    remaining chunks are reported failed rather than waited for forever."""
    client = _connect(address)
    with client:
        n = len(client.scheduler_info().get("workers", {})) or 1
        shared = {"base": client.scatter(base, broadcast=True)}
        attempts = dict.fromkeys(range(len(chunks)), 0)
        tag = f"{os.getpid()}-{id(chunks)}"

        def submit(i: int):
            attempts[i] += 1
            if shared["base"].status != "finished":  # its last holder died: send it again
                shared["base"] = client.scatter(base, broadcast=True)
            return client.submit(run_chunk, chunks[i], shared["base"], pure=False,
                                 key=f"sourcing-chunk-{i}-{attempts[i]}-{tag}")

        index = {}
        futures = []
        for i in range(len(chunks)):
            f = submit(i)
            index[f.key] = i
            futures.append(f)
        pending = set(futures)
        try:
            while pending:
                batch = _next_done(pending, client)
                if batch is None:  # no worker for too long: the rest cannot be solved
                    for f in pending:
                        finished(index[f.key], lost_chunk(
                            chunks[index[f.key]],
                            f"no Dask worker for {DASK_NO_WORKER_TIMEOUT_S:.0f} s; not solved"))
                    client.cancel(list(pending))
                    break
                for fut in batch:
                    pending.discard(fut)
                    i = index[fut.key]
                    try:
                        results = fut.result()
                    except Exception as exc:  # KilledWorker, CancelledError, a lost worker
                        if attempts[i] >= MAX_ATTEMPTS:
                            finished(i, lost_chunk(chunks[i], f"{LOST} ({type(exc).__name__})"))
                        else:
                            say_lost(1, f"a Dask task failed ({type(exc).__name__})")
                            g = submit(i)
                            index[g.key] = i
                            pending.add(g)
                        continue
                    finished(i, results)
        except BaseException:
            client.cancel(futures + list(pending))
            raise
    return n


def _next_done(pending: set, client) -> list | None:
    """The next finished futures, or None when no worker has been connected for too long."""
    from dask.distributed import wait as dask_wait

    without_workers = 0.0
    step = 1.0
    while True:
        try:
            done = dask_wait(list(pending), timeout=step, return_when="FIRST_COMPLETED").done
        except TimeoutError:  # nothing finished within the step (dask raises the builtin)
            done = set()
        except Exception:  # some were cancelled (their data was lost with a worker)
            done = {f for f in pending if f.status != "pending"}
        if done:
            return list(done)
        if client.nthreads():
            without_workers = 0.0
        else:
            without_workers += step
            if without_workers >= DASK_NO_WORKER_TIMEOUT_S:
                return None
