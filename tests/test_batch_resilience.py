"""Batches keep finished work under every failure (issue 14 items 1, 2, 12, 13, 14) and their
messages (items 15, 16): journal and --resume, Ctrl-C, lost workers, orphans, Dask timeouts,
--jobs capped by memory, refused options, help texts. Each case is generated here by code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner

from model.batch import runner as batch_runner
from model.batch.journal import Journal, journal_path
from model.batch.runner import Job, run_jobs
from model.batch.scenarios import apply_scenario
from model.cli import main
from model.data import load_workbook
from tests.test_scenarios import sheets
from tests.workbooks import read_sheet, write_workbook

FACTORS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.3, 1.5, 2.0)


def many_scenarios(n: int) -> list[list]:
    """n scenarios, each scaling every capacity by a different factor (all solvable)."""
    return [[f"s{i}", "Supply", "capacity", None, "scale", FACTORS[i % len(FACTORS)] + i / 1000,
             None] for i in range(n)]


@pytest.fixture()
def workbook(tmp_path):
    return write_workbook(tmp_path / "in.xlsx", sheets(many_scenarios(6)))


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# ------------------------------------------------------------------ journal and --resume


def test_every_result_is_journalled_and_resume_solves_only_the_rest(workbook, tmp_path):
    data = load_workbook(workbook)
    path = tmp_path / "j.journal.jsonl"
    header = {"command": "batch", "input_sha256": "x", "options": {}}
    jobs = [Job(n, partial(apply_scenario, name=n)) for n in ["base", "s0", "s1", "s2", "s3"]]
    seen = []

    def stop_after_two(result):
        seen.append(result.key)
        if len(seen) == 2:
            raise KeyboardInterrupt

    journal = Journal(path, header)
    first = run_jobs(data, jobs, chunk_size=1, progress=False, on_result=stop_after_two,
                     journal=journal)
    journal.close()
    assert first.interrupted and [r.key for r in first.results] == ["base", "s0"]
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["command"] == "batch" and len(lines) == 3
    # a line cut short by kill -9 is ignored: that solve is simply redone
    with open(path, "a") as handle:
        handle.write('{"key": "s1", "status": "opt')
    solved = []
    journal = Journal(path, header, resume=True)
    assert journal.done == {"base", "s0"}
    second = run_jobs(data, jobs, progress=False, journal=journal,
                      on_result=lambda r: solved.append(r.key))
    journal.close()
    assert solved == ["s1", "s2", "s3"] and second.resumed == 2
    assert [r.key for r in second.results] == ["base", "s0", "s1", "s2", "s3"]
    fresh = run_jobs(data, jobs, progress=False)
    for a, b in zip(second.results, fresh.results, strict=True):
        assert a.objective == pytest.approx(b.objective, rel=1e-9)
        assert a.shortfall_value == pytest.approx(b.shortfall_value, rel=1e-9, abs=1e-9)
        assert a.china_share == pytest.approx(b.china_share, nan_ok=True)
        assert a.binding == b.binding
        assert set(a.tables) == set(b.tables)
        for name in a.tables:  # the journal gives back the same tables, dtypes included
            assert list(a.tables[name].dtypes) == list(b.tables[name].dtypes), name
            assert a.tables[name].shape == b.tables[name].shape


def test_resume_refuses_another_workbook_and_a_missing_journal(workbook, tmp_path):
    out = tmp_path / "o.xlsx"
    run = invoke("batch", workbook, "-o", out, "--resume")
    assert run.exit_code == 2 and "no journal" in run.output
    Journal(journal_path(out), {"command": "batch", "input_sha256": "other", "options": {"scenarios": []}}).close()
    run = invoke("batch", workbook, "-o", out, "--resume")
    assert run.exit_code == 2 and "another version of the input workbook" in run.output
    assert not out.exists()


def interrupting(monkeypatch, after: int) -> None:
    """Make the (serial) batch raise KeyboardInterrupt when it starts job number `after`."""
    original = batch_runner._run_one
    count = {"n": 0}

    def run_one(job, base, session, worker):
        count["n"] += 1
        if count["n"] == after + 1:
            raise KeyboardInterrupt
        return original(job, base, session, worker)

    monkeypatch.setattr(batch_runner, "_run_one", run_one)


def test_ctrl_c_writes_what_finished_exits_130_and_resume_finishes(workbook, tmp_path, monkeypatch):
    out = tmp_path / "o.xlsx"
    interrupting(monkeypatch, after=3)
    run = invoke("batch", workbook, "-o", out)
    assert run.exit_code == 130, run.output
    assert "interrupted: kept the 3 finished solve(s)" in run.output
    assert [r["scenario"] for r in read_sheet(out, "Comparison")] == ["base", "s0", "s1"]
    assert any("INTERRUPTED" in str(r["note"]) for r in read_sheet(out, "README"))
    assert journal_path(out).exists()
    monkeypatch.undo()
    solved = []
    original = batch_runner._run_one
    monkeypatch.setattr(batch_runner, "_run_one",
                        lambda job, *a: solved.append(job.key) or original(job, *a))
    run = invoke("batch", workbook, "-o", out, "--resume")
    assert run.exit_code == 0, run.output
    assert solved == ["s2", "s3", "s4", "s5"]  # only what the journal did not hold
    assert "3 from the journal" in run.output
    assert [r["scenario"] for r in read_sheet(out, "Comparison")] == [
        "base", "s0", "s1", "s2", "s3", "s4", "s5"]
    assert not journal_path(out).exists()  # the workbook holds everything now


@pytest.mark.parametrize("command", ["stress", "montecarlo", "frontier"])
def test_every_batch_command_exits_130_when_interrupted(workbook, tmp_path, monkeypatch, command):
    interrupting(monkeypatch, after=2)
    out = tmp_path / f"{command}.xlsx"
    run = invoke(command, workbook, "-o", out, *(["--draws", 5] if command == "montecarlo" else []))
    assert run.exit_code == 130, run.output
    assert out.exists() and journal_path(out).exists()


# ------------------------------------------------------------------ lost workers


def kill_own_worker(base, name, marker: str | None = None):
    """An edit that SIGKILLs the worker running it: every time, or only while `marker` is absent."""
    if marker is None or not os.path.exists(marker):
        if marker is not None:
            Path(marker).write_text("killed once")
        os.kill(os.getpid(), signal.SIGKILL)
    return apply_scenario(base, name)


def test_a_lost_worker_is_retried_once_then_reported_and_the_batch_carries_on(workbook, tmp_path):
    data = load_workbook(workbook)
    marker = str(tmp_path / "marker")
    jobs = [Job(n, partial(apply_scenario, name=n)) for n in ["base", "s0", "s1", "s2"]]
    jobs.insert(2, Job("once", partial(kill_own_worker, name="s3", marker=marker)))
    jobs.insert(4, Job("always", partial(kill_own_worker, name="s4")))
    report = run_jobs(data, jobs, workers=2, chunk_size=1, progress=False)
    by = report.by_key
    assert [r.key for r in report.results] == [j.key for j in jobs]  # nothing lost, job order
    assert by["once"].error == "" and by["once"].status.startswith("optimal")  # the retry ran it
    assert "worker lost twice" in by["always"].error and by["always"].status == "error"
    fresh = run_jobs(data, [Job("s3", partial(apply_scenario, name="s3"))], progress=False)
    assert by["once"].objective == pytest.approx(fresh.results[0].objective, rel=1e-9)
    assert all(by[k].error == "" for k in ("base", "s0", "s1", "s2"))


def test_kill_9_of_the_command_leaves_no_orphan_workers(tmp_path):
    wb = write_workbook(tmp_path / "big.xlsx", sheets(many_scenarios(400)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "model.cli", "batch", str(wb), "-o", str(tmp_path / "o.xlsx"),
         "--jobs", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path(__file__).parents[1],
    )
    parent = psutil.Process(proc.pid)
    children: list[psutil.Process] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        children = parent.children(recursive=True)
        if len(children) >= 3:  # the resource tracker and both workers
            break
        time.sleep(0.2)
    assert len(children) >= 2, "the workers never started"
    time.sleep(1.0)  # let the workers run their initializer
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"orphans left: {[p.pid for p in alive]}"


# ------------------------------------------------------------------ Dask, --jobs, options


def test_a_scheduler_address_that_is_not_a_url_is_an_input_error(workbook, tmp_path):
    run = invoke("batch", workbook, "-o", tmp_path / "o.xlsx", "--scheduler", "not a url")
    assert run.exit_code == 2, run.output
    assert "not a dask.distributed scheduler address" in run.output
    assert not (tmp_path / "o.xlsx").exists()


class _Http(BaseHTTPRequestHandler):
    timeout = 5  # a handshake that never ends a line does not hold the server

    def do_GET(self):  # noqa: N802 (the http.server API)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def test_a_scheduler_that_does_not_speak_dask_fails_within_the_timeout(workbook, tmp_path,
                                                                       monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Http)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(batch_runner, "DASK_CONNECT_TIMEOUT_S", 3.0)
    try:
        started = time.monotonic()
        run = invoke("batch", workbook, "-o", tmp_path / "o.xlsx", "--scheduler",
                     f"tcp://127.0.0.1:{server.server_port}")
        took = time.monotonic() - started
    finally:
        server.shutdown()
    assert run.exit_code == 2, run.output
    assert "no dask.distributed scheduler answered within 3 s" in run.output
    assert took < 3.0 + 10
    assert not (tmp_path / "o.xlsx").exists()


def test_jobs_are_capped_by_available_memory(workbook, tmp_path, monkeypatch):
    class Memory:
        available = 330 * 2**20  # room for two workers of 150 MB

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory())
    assert batch_runner.memory_cap(8)[0] == 2
    assert batch_runner.memory_cap(2) == (2, "")
    run = invoke("batch", workbook, "-o", tmp_path / "o.xlsx", "--jobs", 8)
    assert run.exit_code == 0, run.output
    assert "--jobs 8 capped at 2" in run.output and "150 MB" in run.output
    assert "2 worker(s)" in run.output


@pytest.mark.parametrize(
    "args, expected",
    [
        (["montecarlo", "--seed", "-1"], "--seed"),
        (["montecarlo", "--draws", "1000000000"], "--draws"),
        (["batch", "--jobs", "0"], "--jobs"),
        (["frontier", "--steps", "0"], "--steps"),
    ],
)
def test_options_out_of_range_are_refused_before_any_work(workbook, tmp_path, args, expected):
    started = time.monotonic()
    run = invoke(*args[:1], workbook, "-o", tmp_path / "o.xlsx", *args[1:])
    assert run.exit_code == 2 and expected in run.output
    assert time.monotonic() - started < 5  # refused, not allocated
    assert not (tmp_path / "o.xlsx").exists()


@pytest.mark.parametrize("command", ["batch", "frontier", "stress", "montecarlo"])
def test_help_shows_defaults_limits_and_every_exit_code(command):
    from model.status import EXIT_CODES_HELP

    run = invoke(command, "--help")
    assert run.exit_code == 0
    text = " ".join(run.output.split())
    assert " ".join(EXIT_CODES_HELP.split()) in text
    assert "130" in text and "[default: 1;" in text and "1-1024" in text
    assert "--resume" in text and "20 s" in text
    if command == "montecarlo":
        assert "+/-20%" in text and "[default: 200;" in text and "1-100,000" in text
    listing = invoke("--help").output
    assert "..." not in listing.split(command, 1)[1].splitlines()[0]  # the list is not truncated


def test_dask_with_its_worker_killed_keeps_every_finished_scenario(workbook, tmp_path):
    from dask.distributed import LocalCluster

    data = load_workbook(workbook)
    marker = str(tmp_path / "marker")
    jobs = [Job(n, partial(apply_scenario, name=n)) for n in ["base", "s0", "s1"]]
    jobs.insert(1, Job("once", partial(kill_own_worker, name="s2", marker=marker)))
    with LocalCluster(n_workers=1, processes=True, threads_per_worker=1,
                      dashboard_address=None) as cluster:
        report = run_jobs(data, jobs, scheduler=cluster.scheduler_address, chunk_size=1,
                          progress=False)
    assert Path(marker).exists()  # the worker was killed once
    assert [r.key for r in report.results] == [j.key for j in jobs]
    assert all(r.error == "" for r in report.results), [r.error for r in report.results]
    fresh = run_jobs(data, [Job("s2", partial(apply_scenario, name="s2"))], progress=False)
    assert report.by_key["once"].objective == pytest.approx(fresh.results[0].objective, rel=1e-9)
