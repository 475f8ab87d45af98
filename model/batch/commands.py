"""Click commands for what-if batches: batch, frontier, stress, montecarlo.

Every command journals each finished solve beside its output (model/batch/journal.py), writes what
finished when interrupted (exit 130), and takes the journal back with `--resume`.
"""

from __future__ import annotations

import signal
import sys
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from model.cli_support import guarded, say
from model.status import EXIT_CODES_HELP

if TYPE_CHECKING:
    import pandas as pd

COMMANDS: list = []  # each is also listed in model/cli.py LAZY_COMMANDS (imported on use)

DEFAULT_INPUT = Path("inputs/base_case.xlsx")
EXIT_INTERRUPTED = 130
# Wide help (no truncated option texts) and -h; each command also sets short_help for the list.
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}
EPILOG = (
    EXIT_CODES_HELP
    + " A batch exits 0 when it ran to the end, even if some scenarios failed (each failure is"
    " printed and listed in the workbook); 130 when interrupted (Ctrl-C or SIGTERM) after writing"
    " what finished."
)


workbook_argument = click.argument(
    "workbook", type=click.Path(path_type=Path), default=DEFAULT_INPUT, required=False
)


def _output(default: str):
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        default=Path(default),
        show_default=True,
        help="Output workbook (.xlsx). Finished solves are journalled to <output>.journal.jsonl "
        "as they complete (removed once the workbook is written).",
    )


def _parallel(func):
    func = click.option(
        "--resume",
        is_flag=True,
        help="Take the finished solves from the journal of an interrupted run of the same "
        "command, workbook and options, and solve only the rest.",
    )(func)
    func = click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Send the work to this dask.distributed scheduler (tcp://HOST:PORT, e.g. "
        "tcp://10.0.0.5:8786); no answer within 20 s is an error (exit 2). Default: local.",
    )(func)
    func = click.option(
        "--jobs",
        "-j",
        "jobs",
        type=click.IntRange(1, 1024),
        default=1,
        show_default=True,
        help="Local worker processes (one HiGHS model per worker, 1 thread each; 1-1024, capped "
        "by available memory at about 150 MB per worker). A lost worker's chunk is run once more.",
    )(func)
    return func


def _load(workbook: Path):
    from model.data import load_workbook

    data = load_workbook(workbook)
    for warning in data.warnings:
        say(f"warning: {warning}")
    return data


def _workers(jobs: int, scheduler: str | None) -> int:
    from model.batch.runner import check_scheduler_address, memory_cap

    if scheduler is not None:
        check_scheduler_address(scheduler)  # a bad address is an input error before any work
        return jobs
    workers, why = memory_cap(jobs)
    if why:
        say(f"warning: {why}")
    return workers


def _journal(command: str, workbook: Path, output: Path, options: dict, resume: bool):
    from model.batch.journal import Journal, fingerprint, journal_path

    header = {"command": command, "input_sha256": fingerprint(workbook), "options": options}
    journal = Journal(journal_path(output), header, resume=resume)
    if resume:
        say(f"resuming: {len(journal.kept)} finished solve(s) taken from {journal.path}")
    return journal


@contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler stopping the job, `kill`) stops a batch like Ctrl-C: what finished
    is written and the exit code is 130."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (a notebook's worker thread): leave it alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _finish(report, output: Path, spilled: dict, journal=None) -> None:
    for name, path in spilled.items():
        say(f"{name}: too many rows for Excel; written to {path}")
    done = len(report.results)
    updates = sum(r.model_pass == "update" for r in report.results)
    rebuilds = sum(r.model_pass == "rebuild" for r in report.results)
    failed = sum(bool(r.error) for r in report.results)
    resumed = f", {report.resumed} from the journal" if report.resumed else ""
    say(
        f"{done} solve(s) in {report.seconds:.2f} s ({report.mode}, {report.workers} worker(s); "
        f"{updates} in-place update(s), {rebuilds} model build(s){resumed}"
        + (f"; {failed} failed" if failed else "") + ")"
    )
    if report.interrupted:
        if journal is not None:
            journal.close()
            say(f"the journal {journal.path} keeps them: run again with --resume to finish")
        say(f"interrupted: kept the {done} finished solve(s) in {output}")
        sys.exit(EXIT_INTERRUPTED)
    if journal is not None:
        journal.close(remove=True)
    say(f"written to {output}")


def _notes(workbook: Path, report, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    notes = [
        ("input", str(workbook)),
        (
            "run",
            f"{len(report.results)} solve(s), {report.mode}, {report.workers} worker(s), "
            f"{report.seconds:.2f} s",
        ),
    ]
    if report.resumed:
        notes.append(("run", f"resumed: {report.resumed} solve(s) taken from the journal"))
    if report.interrupted:
        notes.append(("run", "INTERRUPTED (Ctrl-C): only the finished solves are in this workbook"))
    return notes + extra


def _money(value: float) -> str:
    """Currency at a readable scale (model/headline.py): 1,468.22 bn."""
    from model.headline import money

    return money(value)


# ------------------------------------------------------------------ batch


def batch_jobs(data, names: list[str] | None = None):
    """base (never edited) first, then each chosen scenario in sheet order. A scenario named like
    the baseline and a row with no name each become a job that fails on its own."""
    from model.batch.runner import Job
    from model.batch.scenarios import (
        BASE,
        apply_scenario,
        baseline,
        is_reserved,
        overrides_for,
        reserved_name,
        scenario_names,
        unnamed_row,
        unnamed_rows,
    )
    from model.errors import InputError

    known = scenario_names(data)
    if names:
        unknown = [n for n in names if n not in known and not is_reserved(n)]
        if unknown:
            raise InputError(
                f"unknown scenario(s): {', '.join(unknown)}; the Scenarios sheet has: "
                f"{', '.join(known) or 'none'}"
            )
        chosen = [n for n in dict.fromkeys(names) if not is_reserved(n)]
        chosen += [n for n in known if is_reserved(n) and n in names and n != BASE]
        blank = []
    else:
        chosen = list(known)
        blank = unnamed_rows(data)
    jobs = [Job(BASE, baseline)]
    for name in chosen:
        if is_reserved(name):
            first = overrides_for(data, name)[0].row
            jobs.append(Job(f"{name} (Scenarios row {first})", partial(reserved_name, name=name)))
        else:
            jobs.append(Job(name, partial(apply_scenario, name=name)))
    jobs += [Job(f"(no name, Scenarios row {row})", partial(unnamed_row, row=row)) for row in blank]
    return jobs


def run_batch(
    data,
    names: list[str] | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
    journal=None,
):
    """Solve base and every scenario (or `names`): returns (tables, report)."""
    from model.batch.output import (
        commodity_units,
        comparison_table,
        diff_table,
        long_tables,
        shortfall_by_commodity_table,
    )
    from model.batch.runner import run_jobs

    jobs = batch_jobs(data, names)
    report = run_jobs(
        data, jobs, workers=workers, scheduler=scheduler, progress=progress, desc="scenarios",
        journal=journal,
    )
    tables = {"Comparison": comparison_table(report.results)}
    tables.update(long_tables(report.results))
    tables["Diff"] = diff_table(report.results)
    tables["ShortfallByCommodity"] = shortfall_by_commodity_table(
        report.results, commodity_units(data))
    return tables, report


def batch_charts(tables: dict[str, pd.DataFrame], currency: str = ""):
    """Currency only: a total across commodities of different units means nothing."""
    from model.batch.output import Chart

    unit = f" ({currency})" if currency else ""
    return [
        Chart(
            "Comparison",
            "bar",
            "Objective by scenario (cost + value of unmet demand + risk)",
            "scenario",
            ("objective",),
            "objective" + unit,
            anchor="B" + str(len(tables["Comparison"]) + 4),
        ),
        Chart(
            "Comparison",
            "bar",
            "Value of unmet demand by scenario (at its shortfall penalty)",
            "scenario",
            ("shortfall_value",),
            "shortfall value" + unit,
            anchor="K" + str(len(tables["Comparison"]) + 4),
        ),
    ]


@click.command(
    "batch",
    short_help="Solve base and every scenario of the Scenarios sheet; compare them.",
    context_settings=CONTEXT,
    epilog=EPILOG,
)
@workbook_argument
@_output("outputs/batch.xlsx")
@click.option(
    "--scenarios",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only these scenarios (repeat the option). Default: every scenario.",
)
@_parallel
@guarded
def batch(
    workbook: Path, output: Path, names: tuple[str, ...], jobs: int, scheduler: str | None,
    resume: bool = False,
) -> None:
    """Solve base and every scenario of WORKBOOK's Scenarios sheet (default
    inputs/base_case.xlsx) and compare them, leading with the change in objective and the value
    of unmet demand (total cost alone would read a disruption as a saving).

    A scenario that fails (a bad Scenarios row, data left invalid, a number beyond +/-1e15, the
    reserved name `base`, a lost worker) fails alone: the batch carries on and lists it."""
    from model.batch.output import write_batch

    data = _load(workbook)
    workers = _workers(jobs, scheduler)
    journal = _journal("batch", workbook, output, {"scenarios": list(names)}, resume)
    with _sigterm_as_interrupt():
        tables, report = run_batch(data, list(names), workers=workers, scheduler=scheduler,
                                   journal=journal)
    failed = [r for r in report.results if r.error]
    for r in failed:
        say(f"scenario {r.key} failed: {r.error}")
    notes = _notes(
        workbook,
        report,
        [
            (
                "Comparison",
                "one row per scenario, base first; delta_* against base (base is never edited by "
                "the Scenarios sheet); objective = total_cost + shortfall_value + risk_cost, in "
                "currency; china_share_* over all periods",
            ),
            ("Flows/Shares/ChinaShare/Shortfalls", "the plan tables of every scenario, long form"),
            (
                "Diff",
                "per scenario: input cells its overrides changed, then the largest flow moves vs base",
            ),
            ("ShortfallByCommodity", "unmet demand per scenario and commodity, in its own unit"),
        ],
    )
    currency = str(getattr(data.settings, "currency", "") or "")
    spilled = write_batch(
        tables, output, inputs=[workbook], charts=batch_charts(tables, currency), notes=notes
    )
    for r in report.results:
        if not r.error:
            say(
                f"{r.key}: {r.status}, objective {_money(r.objective)}, total cost "
                f"{_money(r.total_cost)}, unmet demand valued at {_money(r.shortfall_value)} {currency}"
            )
    _finish(report, output, spilled, journal)


COMMANDS.append(batch)


# ------------------------------------------------------------------ frontier


@click.command(
    "frontier",
    short_help="The cost of de-risking: the objective as each China cap tightens to 0.",
    context_settings=CONTEXT,
    epilog=EPILOG,
)
@workbook_argument
@_output("outputs/frontier.xlsx")
@click.option(
    "--commodity",
    "commodities",
    multiple=True,
    metavar="CODE",
    help="Commodities to sweep (repeat). Default: every commodity the China group supplies.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Steps from the uncapped China share down to 0 (1-1000).",
)
@click.option("--content", is_flag=True, help="Sweep the China content traced through every tier (ContentRules "
              "max_china_content) instead of the direct China cap.")
@_parallel
@guarded
def frontier(
    workbook: Path,
    output: Path,
    commodities: tuple[str, ...],
    steps: int,
    jobs: int,
    scheduler: str | None,
    resume: bool = False,
    content: bool = False,
) -> None:
    """The cost of de-risking: for each commodity, the objective (cost + value of unmet demand +
    risk) as its China cap tightens from the uncapped share to 0, every other input as in
    WORKBOOK (default inputs/base_case.xlsx). One chart per commodity with more than one point."""
    from model.batch.frontier import frontier_charts, run_frontier
    from model.batch.output import write_batch

    data = _load(workbook)
    workers = _workers(jobs, scheduler)
    journal = _journal("frontier", workbook, output,
                       {"commodity": list(commodities), "steps": steps, "content": content}, resume)
    with _sigterm_as_interrupt():
        table, report = run_frontier(data, list(commodities), steps, workers=workers,
                                     scheduler=scheduler, journal=journal, content=content)
    notes = _notes(
        workbook,
        report,
        [
            (
                "Frontier",
                "per commodity: caps from its uncapped China share (largest over periods) down to 0; "
                "other inputs as in the base case; charts show the objective (total cost alone "
                "falls when the cap forces unmet demand)",
            ),
            (
                "Frontier",
                "marginal_cost: objective change per +1 percentage point of cap, from the dual "
                "(summed over periods); slope: the same measured between this step and the previous",
            ),
            (
                "Frontier",
                "any_stage_share: the share whose chain touched the China group at any tier, beside the "
                "direct china_share; with --content the swept limit is ContentRules.max_china_content",
            ),
        ],
    )
    spilled = write_batch(
        {"Frontier": table}, output, inputs=[workbook], charts=frontier_charts(table), notes=notes
    )
    _finish(report, output, spilled, journal)


COMMANDS.append(frontier)


# ------------------------------------------------------------------ stress


def stress_charts(table: pd.DataFrame, currency: str = ""):
    """The top outages by change in objective (currency): never a sum of tonnes and wafers."""
    from model.batch.output import Chart

    top = min(len(table), 15)
    unit = f" ({currency})" if currency else ""
    if not top:
        return []
    return [
        Chart(
            "Stress",
            "bar",
            "Objective increase by outage (top 15)",
            "target",
            ("delta_objective",),
            "change in objective" + unit,
            anchor="R2",
            rows=(2, top + 1),
        ),
        Chart(
            "Stress",
            "bar",
            "Value of unmet demand added by outage (top 15)",
            "target",
            ("delta_shortfall_value",),
            "change in shortfall value" + unit,
            anchor="R20",
            rows=(2, top + 1),
        ),
    ]


@click.command(
    "stress",
    short_help="Outage screening: remove each supplier (and route) in turn; rank by objective.",
    context_settings=CONTEXT,
    epilog=EPILOG,
)
@workbook_argument
@_output("outputs/stress.xlsx")
@click.option("--routes", is_flag=True, help="Also block each Routes row in turn. Default: off.")
@_parallel
@guarded
def stress(workbook: Path, output: Path, routes: bool, jobs: int, scheduler: str | None,
           resume: bool = False) -> None:
    """Outage screening: remove each supplier country (and, with --routes, each route) of WORKBOOK
    (default inputs/base_case.xlsx) in turn and rank the outages by the change in objective
    (cost + value of unmet demand + risk, in currency), largest first."""
    from model.batch.output import write_batch
    from model.batch.stress import run_stress

    data = _load(workbook)
    workers = _workers(jobs, scheduler)
    journal = _journal("stress", workbook, output, {"routes": routes}, resume)
    with _sigterm_as_interrupt():
        table, report = run_stress(data, routes=routes, workers=workers, scheduler=scheduler,
                                   journal=journal)
    currency = str(getattr(data.settings, "currency", "") or "")
    notes = _notes(
        workbook,
        report,
        [
            (
                "Stress",
                "country: capacity 0 on all its Supply rows; route: max_quantity 0 on that Routes row; "
                "ranked by delta_objective (currency), largest first; shortfall per commodity in "
                "worst_shortfall, in its unit",
            ),
        ],
    )
    spilled = write_batch({"Stress": table}, output, inputs=[workbook],
                          charts=stress_charts(table, currency), notes=notes)
    for r in table.head(5).itertuples(index=False):
        say(
            f"#{r.rank} {r.kind} {r.target}: objective {r.delta_objective:+,.0f} {currency}, of "
            f"which unmet demand {r.delta_shortfall_value:+,.0f}"
            + (f" ({r.worst_shortfall})" if r.worst_shortfall else "")
        )
    _finish(report, output, spilled, journal)


COMMANDS.append(stress)


# ------------------------------------------------------------------ montecarlo

MAX_DRAWS = 100_000  # a stated limit, checked before anything is allocated


@click.command(
    "montecarlo",
    short_help="Uncertain capacities, costs, cut-offs: P5/P50/P95 of the objective.",
    context_settings=CONTEXT,
    epilog=EPILOG,
)
@workbook_argument
@_output("outputs/montecarlo.xlsx")
@click.option(
    "--draws",
    type=click.IntRange(1, MAX_DRAWS),
    default=200,
    show_default=True,
    help=f"Number of draws (1-{MAX_DRAWS:,}).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Random seed, 0 or more (same seed, same numbers, whatever the number of workers).",
)
@_parallel
@guarded
def montecarlo(
    workbook: Path, output: Path, draws: int, seed: int, jobs: int, scheduler: str | None,
    resume: bool = False,
) -> None:
    """Uncertain capacities, costs and cut-offs of WORKBOOK (default inputs/base_case.xlsx):
    P5/P50/P95 of the objective, the value of unmet demand, total cost and unmet demand per
    commodity (in its unit), and how often each China cap binds.

    Uncertainties come from the optional Uncertainty sheet; without it the default is a uniform
    multiplier of +/-20% (0.8 to 1.2) on every capacity and every unit cost, and no cut-offs."""
    from model.batch.montecarlo import run_montecarlo, uncertainty_spec
    from model.batch.output import Chart, write_batch

    data = _load(workbook)
    spec = uncertainty_spec(data)
    if spec is None:
        say(
            "no Uncertainty sheet: using the default +/-20% uniform on every capacity and unit cost"
        )
    workers = _workers(jobs, scheduler)
    journal = _journal("montecarlo", workbook, output, {"draws": draws, "seed": seed}, resume)
    with _sigterm_as_interrupt():
        tables, report = run_montecarlo(data, spec, draws, seed, workers=workers,
                                        scheduler=scheduler, journal=journal)
    currency = str(getattr(data.settings, "currency", "") or "")
    charts = [
        Chart(
            "MonteCarlo",
            "bar",
            "Objective P5 / P50 / P95",
            "metric",
            ("P5", "P50", "P95"),
            "objective" + (f" ({currency})" if currency else ""),
            anchor="K2",
            rows=(2, 2),
            currency=True,  # the objective row: currency, declared `number` as other rows are not
        )
    ]
    notes = _notes(
        workbook,
        report,
        [
            (
                "MonteCarlo",
                f"seed {seed}, {draws} draws; draw i uses SeedSequence([seed, i]); "
                "uncertainty: "
                + (
                    "default +/-20% uniform on capacity and unit_cost"
                    if spec is None
                    else f"Uncertainty sheet ({len(spec)} rows)"
                ),
            ),
            ("CapBinding", "share of successful draws in which each China cap is at its limit"),
            ("Draws", "one row per draw"),
        ],
    )
    spilled = write_batch(tables, output, inputs=[workbook], charts=charts, notes=notes)
    s = tables["MonteCarlo"].set_index("metric")
    failed = sum(bool(r.error) for r in report.results)
    if failed:
        say(f"warning: {failed} of {len(report.results)} draw(s) failed; see the Draws sheet")
    if s.at["objective", "draws"]:
        say(
            f"objective P5 {_money(s.at['objective', 'P5'])}  P50 {_money(s.at['objective', 'P50'])}  "
            f"P95 {_money(s.at['objective', 'P95'])} {currency}"
        )
    _finish(report, output, spilled, journal)


COMMANDS.append(montecarlo)
