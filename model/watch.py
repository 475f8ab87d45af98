"""`sourcing watch [WORKBOOK] [-o OUT]`: solve, then re-solve each time the workbook is saved.

The analyst keeps the workbook open in Excel or LibreOffice, edits, saves, and reads the headline
figures in the terminal a moment later; the full plan follows in OUT.

* Saves are noticed by watching the workbook's folder (the `watchfiles` package: inotify, FSEvents
  or ReadDirectoryChangesW), because Excel and LibreOffice save by writing a temporary file and
  renaming it over the workbook: the file watched would be gone after the first save.
* A save is read only once it has settled: the file exists, its size, time and identity have not
  changed for `settle_s`, and it opens as a complete zip. A half-written file is never read.
* A save whose content did not change (the same bytes) is not solved again.
* A bad edit never stops the watch: its problems are printed, the last good plan stays in OUT.
* One HiGHS model is kept across saves (model/solve/highs.py HighsSession), so an edit of values
  re-solves in place from the previous basis; a second session keeps the uncapped model for the
  cost of the China caps.
* The headline (status, objective, total cost, shortfall value, cost of the China caps) is printed
  as soon as the LP is solved; the exact +1 point marginals and the plan workbook follow.
* Ctrl-C (or SIGTERM) ends it: exit 0, the last good plan stays in OUT.
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.errors import InputError

SETTLE_S = 0.3
SETTLE_TIMEOUT_S = 60.0


@dataclass
class Outcome:
    """One solve of the watch: the headline figures and how long each step took."""

    ok: bool
    status: str = ""
    seconds_to_figures: float = math.nan
    seconds_to_plan: float = math.nan


def settled(path: Path, *, quiet_s: float = SETTLE_S, timeout_s: float = SETTLE_TIMEOUT_S,
            poll_s: float = 0.05) -> bool:
    """Wait until `path` exists, has stopped changing for `quiet_s` and is a complete zip.

    False when it did not settle within `timeout_s` (a save still in progress, or a file that is
    not a workbook): the caller waits for the next save."""
    deadline = time.monotonic() + timeout_s
    last = None
    since = time.monotonic()
    while time.monotonic() < deadline:
        try:
            info = os.stat(path)
            key = (info.st_size, info.st_mtime_ns, info.st_ino)
        except OSError:
            key = None
        now = time.monotonic()
        if key != last:
            last, since = key, now
        elif key is not None and now - since >= quiet_s and _complete_zip(path):
            return True
        time.sleep(poll_s)
    return False


def _complete_zip(path: Path) -> bool:
    """A zip whose central directory is readable: a save cut short has none (it is written last)."""
    try:
        with zipfile.ZipFile(path) as archive:
            archive.infolist()
        return True
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def saved_time(path: Path) -> float:
    """When the save finished (the file's modification time; now, if it cannot be read)."""
    try:
        return min(os.stat(path).st_mtime, time.time())
    except OSError:
        return time.time()


def digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class Watcher:
    """Solves `workbook` into `output` on demand, keeping its solver sessions across saves."""

    def __init__(self, workbook: Path, output: Path, *, time_limit_s: float | None = None,
                 say: Callable[[str], None] = print) -> None:
        from model.solve.highs import HighsSession

        self.workbook = workbook
        self.output = output
        self.time_limit_s = time_limit_s
        self.say = say
        self.session = HighsSession()
        self.uncapped = HighsSession()  # keeps the model without caps for the cost of the caps
        self.last_digest: str | None = None
        self.good_plans = 0

    def solve(self, saved_at: float | None = None) -> Outcome:
        """Load, solve, print the headline, write the plan. Never raises for a bad workbook.
        `saved_at` (epoch seconds) is when the save finished, for the timings printed."""
        from model import api
        from model.data import load_workbook
        from model.io.writer import write_plan

        started = saved_at if saved_at is not None else time.time()
        since = "after the save" if saved_at is not None else "to solve"
        self.last_digest = digest(self.workbook)
        try:
            data = load_workbook(self.workbook)
            for warning in data.warnings:
                self.say(f"warning: {warning}")
            updates = getattr(self.session, "updates", 0)
            plan = api.solve(data, session=self.session, time_limit_s=self.time_limit_s, marginals="dual")
            if getattr(self.session, "updates", 0) > updates:
                since += ", re-solved in place"
            if not plan.has_plan:
                self.say(f"{_clock()} status: {plan.status}; no plan, so {self._kept()}")
                return Outcome(False, str(plan.status))
            caps = self._cost_of_caps(plan) if plan.status != "suboptimal" else None
            figures = time.time() - started
            self.say(f"{_clock()} {headline(plan, caps)} ({figures:.1f} s {since})")
            if plan.status != "suboptimal":
                # the written plan as `sourcing solve` writes it: exact marginals and the cost of the
                # caps computed before its tables (the session holds this LP: a warm re-solve)
                plan = api.solve(data, session=self.session, time_limit_s=self.time_limit_s)
            write_plan(plan, self.output, inputs=[self.workbook])
        except InputError as exc:
            for problem in exc.problems:
                self.say(f"error: {problem}")
            self.say(f"{_clock()} {len(exc.problems)} problem(s); {self._kept()}. Fix them and save again.")
            return Outcome(False)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # never stop the watch: say it and wait for the next save
            self.say(f"{_clock()} internal error: {type(exc).__name__}: {exc}; {self._kept()}")
            return Outcome(False)
        total = time.time() - started
        self.good_plans += 1
        self.say(f"{_clock()} plan written to {self.output} ({total:.1f} s {since.split(',')[0]})")
        return Outcome(True, str(plan.status), figures, total)

    def _kept(self) -> str:
        if self.good_plans:
            return f"the last good plan stays in {self.output}"
        return f"nothing written to {self.output} yet"

    def _cost_of_caps(self, plan) -> tuple[float, float] | None:
        """Objective minus the objective with every China cap lifted, re-solved in place."""
        from model.formulation.lp import build_lp

        data = plan.data
        if data is None or data["Commodities"]["china_cap"].isna().all():
            return None
        free = data.copy()
        free.tables["Commodities"]["china_cap"] = np.nan
        sol = self.uncapped.solve(build_lp(free, reuse=self.uncapped.structures))
        if sol.x is None:
            return None
        return plan.objective - sol.objective, sol.objective

    def changed(self) -> bool:
        """Whether the workbook's bytes differ from the last ones solved."""
        now = digest(self.workbook)
        return now is not None and now != self.last_digest


def headline(plan, caps: tuple[float, float] | None) -> str:
    cur = plan.data.settings.currency if plan.data is not None else ""
    parts = [
        f"status {plan.status}",
        f"objective {plan.objective:,.2f} {cur}",
        f"total cost {plan.total_cost:,.2f} {cur}",
        f"shortfall value {_number(plan.shortfall_value)} {cur}",
    ]
    if caps is not None:
        parts.append(f"China caps cost {caps[0]:,.2f} {cur}")
    if plan.shortfall_total > 0:
        parts.append(f"WARNING: {plan.shortfall_total:,.2f} units of demand not met (Shortfalls)")
    return " | ".join(parts)


def _number(value: float) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.2f}"


def _clock() -> str:
    return time.strftime("[%H:%M:%S]")


def watch(workbook: Path, output: Path, *, time_limit_s: float | None = None, settle_s: float = SETTLE_S,
          say: Callable[[str], None] = print) -> None:
    """Solve now, then after every save of `workbook`, until Ctrl-C or SIGTERM."""
    import watchfiles

    from model.io.atomic import refuse_if_input

    workbook = Path(os.path.realpath(workbook)) if Path(workbook).is_symlink() else Path(workbook)
    refuse_if_input(output, [workbook])
    if not workbook.parent.is_dir():
        raise InputError(f"the folder of {workbook} does not exist")
    watcher = Watcher(workbook, output, time_limit_s=time_limit_s, say=say)
    previous = signal.signal(signal.SIGTERM, _interrupt) if hasattr(signal, "SIGTERM") else None
    try:
        if workbook.exists() and settled(workbook, quiet_s=0.0, timeout_s=10):
            watcher.solve()
        else:
            say(f"{workbook} is not there (or not a complete workbook) yet; waiting for it to be saved")
        say(f"watching {workbook} (Ctrl-C to stop)")
        name = workbook.name

        def ours(_change, path: str) -> bool:
            return os.path.basename(path) == name

        for _changes in watchfiles.watch(workbook.parent, watch_filter=ours, debounce=400, step=50,
                                         recursive=False, raise_interrupt=True):
            if not settled(workbook, quiet_s=settle_s):
                say(f"{_clock()} {workbook.name} did not settle into a complete workbook; waiting for the "
                    "next save")
                continue
            if not watcher.changed():
                continue
            say(f"{_clock()} saved: solving again")
            watcher.solve(saved_time(workbook))
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt
