"""Click commands for what-if batches: batch, frontier, stress, montecarlo."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click
import pandas as pd

from model.cli_support import guarded, say

COMMANDS: list = []

DEFAULT_INPUT = Path("inputs/base_case.xlsx")


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
        help="Output workbook (.xlsx).",
    )


def _parallel(func):
    func = click.option(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Send the work to this dask.distributed scheduler (e.g. tcp://host:8786).",
    )(func)
    func = click.option(
        "--jobs",
        "-j",
        "jobs",
        type=click.IntRange(1),
        default=1,
        show_default=True,
        help="Local worker processes (one HiGHS model per worker, 1 thread each).",
    )(func)
    return func


def _load(workbook: Path):
    from model.data import load_workbook

    data = load_workbook(workbook)
    for warning in data.warnings:
        say(f"warning: {warning}")
    return data


def _finish(report, output: Path, spilled: dict) -> None:
    for name, path in spilled.items():
        say(f"{name}: too many rows for Excel; written to {path}")
    done = len(report.results)
    updates = sum(r.model_pass == "update" for r in report.results)
    rebuilds = sum(r.model_pass == "rebuild" for r in report.results)
    say(
        f"{done} solve(s) in {report.seconds:.2f} s ({report.mode}, {report.workers} worker(s); "
        f"{updates} in-place update(s), {rebuilds} model build(s))"
    )
    if report.interrupted:
        say(f"interrupted: kept the {done} finished solve(s) in {output}")
    else:
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
    if report.interrupted:
        notes.append(("run", "INTERRUPTED (Ctrl-C): only the finished solves are in this workbook"))
    return notes + extra


# ------------------------------------------------------------------ batch


def run_batch(
    data,
    names: list[str] | None = None,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
):
    """Solve base and every scenario (or `names`): returns (tables, report)."""
    from model.batch.output import comparison_table, diff_table, long_tables
    from model.batch.runner import Job, run_jobs
    from model.batch.scenarios import BASE, apply_scenario, scenario_names
    from model.errors import InputError

    known = scenario_names(data)
    if names:
        unknown = [n for n in names if n not in known and n != BASE]
        if unknown:
            raise InputError(
                f"unknown scenario(s): {', '.join(unknown)}; the Scenarios sheet has: "
                f"{', '.join(known) or 'none'}"
            )
        chosen = [n for n in dict.fromkeys(names) if n != BASE]
    else:
        chosen = [n for n in known if n != BASE]
    jobs = [Job(BASE, partial(apply_scenario, name=BASE))] + [
        Job(n, partial(apply_scenario, name=n)) for n in chosen
    ]
    report = run_jobs(
        data, jobs, workers=workers, scheduler=scheduler, progress=progress, desc="scenarios"
    )
    tables = {"Comparison": comparison_table(report.results)}
    tables.update(long_tables(report.results))
    tables["Diff"] = diff_table(report.results)
    return tables, report


def batch_charts(tables: dict[str, pd.DataFrame]):
    from model.batch.output import Chart

    return [
        Chart(
            "Comparison",
            "bar",
            "Total cost by scenario",
            "scenario",
            ("total_cost",),
            "total cost",
            anchor="B" + str(len(tables["Comparison"]) + 4),
        ),
        Chart(
            "Comparison",
            "bar",
            "Shortfall by scenario",
            "scenario",
            ("shortfall_total",),
            "units",
            anchor="K" + str(len(tables["Comparison"]) + 4),
        ),
    ]


@click.command("batch")
@workbook_argument
@_output("outputs/batch.xlsx")
@click.option(
    "--scenarios",
    "names",
    multiple=True,
    metavar="NAME",
    help="Only these scenarios (repeat the option); default: every scenario.",
)
@_parallel
@guarded
def batch(
    workbook: Path, output: Path, names: tuple[str, ...], jobs: int, scheduler: str | None
) -> None:
    """Solve base and every scenario of WORKBOOK's Scenarios sheet; compare them."""
    from model.batch.output import write_batch

    data = _load(workbook)
    tables, report = run_batch(data, list(names), workers=jobs, scheduler=scheduler)
    failed = [r for r in report.results if r.error]
    for r in failed:
        say(f"scenario {r.key} failed: {r.error}")
    notes = _notes(
        workbook,
        report,
        [
            (
                "Comparison",
                "one row per scenario, base first; delta_* against base; china_share_* over all periods",
            ),
            ("Flows/Shares/ChinaShare/Shortfalls", "the plan tables of every scenario, long form"),
            (
                "Diff",
                "per scenario: input cells its overrides changed, then the largest flow moves vs base",
            ),
        ],
    )
    spilled = write_batch(
        tables, output, inputs=[workbook], charts=batch_charts(tables), notes=notes
    )
    for r in report.results:
        if not r.error:
            say(
                f"{r.key}: {r.status}, total cost {r.total_cost:,.2f}, shortfall {r.shortfall_total:,.2f}"
            )
    _finish(report, output, spilled)


COMMANDS.append(batch)


# ------------------------------------------------------------------ frontier


@click.command("frontier")
@workbook_argument
@_output("outputs/frontier.xlsx")
@click.option(
    "--commodity",
    "commodities",
    multiple=True,
    metavar="CODE",
    help="Commodities to sweep (repeat); default: every commodity the China group supplies.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="Steps from the uncapped China share down to 0.",
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
    content: bool = False,
) -> None:
    """The cost of de-risking: total cost as each China cap tightens to 0."""
    from model.batch.frontier import frontier_charts, run_frontier
    from model.batch.output import write_batch

    data = _load(workbook)
    table, report = run_frontier(data, list(commodities), steps, workers=jobs, scheduler=scheduler,
                                 content=content)
    notes = _notes(
        workbook,
        report,
        [
            (
                "Frontier",
                "per commodity: caps from its uncapped China share (largest over periods) down to 0; "
                "other inputs as in the base case",
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
    _finish(report, output, spilled)


COMMANDS.append(frontier)


# ------------------------------------------------------------------ stress


@click.command("stress")
@workbook_argument
@_output("outputs/stress.xlsx")
@click.option("--routes", is_flag=True, help="Also block each Routes row in turn.")
@_parallel
@guarded
def stress(workbook: Path, output: Path, routes: bool, jobs: int, scheduler: str | None) -> None:
    """Outage screening: remove each supplier country (and route) in turn; rank by shortfall, then cost."""
    from model.batch.output import Chart, write_batch
    from model.batch.stress import run_stress

    data = _load(workbook)
    table, report = run_stress(data, routes=routes, workers=jobs, scheduler=scheduler)
    top = min(len(table), 15)
    charts = (
        [
            Chart(
                "Stress",
                "bar",
                "Shortfall increase by outage (top 15)",
                "target",
                ("delta_shortfall",),
                "units",
                anchor="O2",
                rows=(2, top + 1),
            )
        ]
        if top
        else []
    )
    notes = _notes(
        workbook,
        report,
        [
            (
                "Stress",
                "country: capacity 0 on all its Supply rows; route: max_quantity 0 on that Routes row; "
                "ranked by shortfall increase, then cost increase",
            ),
        ],
    )
    spilled = write_batch({"Stress": table}, output, inputs=[workbook], charts=charts, notes=notes)
    for r in table.head(5).itertuples(index=False):
        say(
            f"#{r.rank} {r.kind} {r.target}: shortfall +{r.delta_shortfall:,.2f}, cost {r.delta_cost:+,.2f}"
        )
    _finish(report, output, spilled)


COMMANDS.append(stress)


# ------------------------------------------------------------------ montecarlo


@click.command("montecarlo")
@workbook_argument
@_output("outputs/montecarlo.xlsx")
@click.option(
    "--draws", type=click.IntRange(1), default=200, show_default=True, help="Number of draws."
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same numbers)."
)
@_parallel
@guarded
def montecarlo(
    workbook: Path, output: Path, draws: int, seed: int, jobs: int, scheduler: str | None
) -> None:
    """Uncertain capacities, costs and cut-offs: P5/P50/P95 of cost and shortfall, cap binding rates."""
    from model.batch.montecarlo import run_montecarlo, uncertainty_spec
    from model.batch.output import Chart, write_batch

    data = _load(workbook)
    spec = uncertainty_spec(data)
    if spec is None:
        say(
            "no Uncertainty sheet: using the default +/-20% uniform on every capacity and unit cost"
        )
    tables, report = run_montecarlo(data, spec, draws, seed, workers=jobs, scheduler=scheduler)
    charts = [
        Chart(
            "MonteCarlo",
            "bar",
            "Total cost P5 / P50 / P95",
            "metric",
            ("P5", "P50", "P95"),
            anchor="J2",
            rows=(2, 2),
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
    say(
        f"total cost P5 {s.at['total_cost', 'P5']:,.2f}  P50 {s.at['total_cost', 'P50']:,.2f}  "
        f"P95 {s.at['total_cost', 'P95']:,.2f}"
    )
    _finish(report, output, spilled)


COMMANDS.append(montecarlo)
