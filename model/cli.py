"""The `sourcing` command. Progress and warnings go to stderr; exit codes are in model/status.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.cli_support import guarded, say
from model.status import EXIT_CODES

DEFAULT_INPUT = Path("inputs/base_case.xlsx")
DEFAULT_OUTPUT = Path("outputs/plan.xlsx")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sourcing-model")
def main() -> None:
    """Least-cost sourcing of critical minerals and chips under a China-share cap."""


def output_option(default: Path):
    return click.option("-o", "--output", type=click.Path(path_type=Path), default=default,
                        show_default=True, help="Output workbook (.xlsx).")


workbook_argument = click.argument("workbook", type=click.Path(path_type=Path), default=DEFAULT_INPUT,
                                   required=False)


@main.command()
@workbook_argument
@output_option(DEFAULT_OUTPUT)
@click.option("--no-shortfall", is_flag=True, help="Strict mode: forbid unmet demand; explain infeasibility.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Solver time limit in seconds (> 0).")
@click.option("--ranging", is_flag=True, help="Add HiGHS ranging (allowable cost/capacity changes) to Sensitivity.")
@click.option("--alternate-optima", is_flag=True,
              help="Add AlternateOptima: each source's least and most share at the optimal cost (re-solves).")
@click.option("--detail", type=click.Choice(["decisive", "full"]), default="decisive", show_default=True,
              help="decisive: Capacity, Sensitivity and FlowSensitivity hold the rows that decide the plan; "
              "full: every row (tables beyond Excel's row limit go to Parquet beside the plan).")
@click.option("--write-back", is_flag=True, help="Add the plan as 'Plan ...' sheets to WORKBOOK itself "
              "(earlier plan sheets replaced, input sheets untouched, backup WORKBOOK.bak.xlsx); -o is ignored.")
@guarded
def solve(workbook: Path, output: Path, no_shortfall: bool, time_limit: float | None, ranging: bool = False,
          alternate_optima: bool = False, write_back: bool = False, detail: str = "decisive") -> None:
    """Solve WORKBOOK (default inputs/base_case.xlsx) and write the plan (default outputs/plan.xlsx)."""
    from model.api import solve as solve_data
    from model.data import load_workbook
    from model.io.writer import write_plan

    if write_back:
        from model.report.writeback import check_write_back, write_back_and_report

        check_write_back(workbook)  # refuse before solving when the workbook cannot take the plan
    data = load_workbook(workbook)
    for warning in data.warnings:
        say(f"warning: {warning}")
    plan = solve_data(data, no_shortfall=no_shortfall, time_limit_s=time_limit, ranging=ranging,
                      alternate_optima=alternate_optima, rows=detail)
    if plan.has_plan and write_back:
        output = write_back_and_report(plan, workbook)
    elif plan.has_plan:
        write_plan(plan, output, inputs=[workbook])
    report(plan, output if plan.has_plan else None)
    sys.exit(EXIT_CODES[plan.status])


def report(plan, output: Path | None) -> None:
    cur = plan.data.settings.currency if plan.data else ""
    say(f"status: {plan.status}")
    if plan.has_plan:
        say(f"total cost: {plan.total_cost:,.2f} {cur} (objective {plan.objective:,.2f})")
        if plan.shortfall_total > 0:
            short = plan.tables["Shortfalls"]
            say(f"WARNING: demand not met in {len(short)} place(s), {plan.shortfall_total:,.2f} units in all; "
                "see the Shortfalls sheet")
        summary = plan.tables["Summary"].set_index("metric")["value"]
        if "cost_of_china_caps" in summary:
            say(f"the China caps cost {float(summary['cost_of_china_caps']):,.2f} {cur} together "
                "(objective with the caps minus objective without them)")
        binding = plan.tables["ChinaShare"]
        binding = binding[binding["binding"]]
        if len(binding):
            say(f"China caps at their limit: {len(binding)} (commodity, period) pair(s); see ChinaShare")
    explain_outcome(plan)
    if "Infeasibility" in plan.tables:
        say("no plan meets all demand (strict mode). What cannot be covered, and the input cells in conflict:")
        lines = plan.tables["Infeasibility"]["explanation"]
        for line in lines.head(20):
            say(f"  - {line}")
        if len(lines) > 20:
            say(f"  ... and {len(lines) - 20} more; run without --no-shortfall to see the least shortfall "
                "in the Shortfalls sheet")
    if output is not None:
        say(f"plan written to {output}")


def explain_outcome(plan) -> None:
    """One line on what a status other than optimal means (docs/solver_outcomes.md)."""
    from model.status import Status

    solver = f"HiGHS: {plan.solution.model_status}" if plan.solution is not None else "HiGHS"
    if plan.status == Status.SUBOPTIMAL:
        say(f"WARNING: the solver stopped at its limit ({solver}) with a feasible plan that is not proven "
            "optimal; it is written with status suboptimal. Raise --time-limit (or Settings time_limit_s).")
    elif plan.status == Status.TIME_LIMIT_NO_PLAN:
        say(f"the solver stopped at its limit ({solver}) before finding any feasible plan; nothing was "
            "written. Raise --time-limit (or Settings time_limit_s).")
    elif plan.status == Status.NUMERICAL_TROUBLE:
        say(f"the solver ran into numerical trouble ({solver}); nothing was written. Look for extreme "
            "magnitudes (huge or tiny capacities, costs, penalties) and rescale units.")
    elif plan.status == Status.INFEASIBLE:
        say("nothing was written.")


@main.command()
@click.argument("workbook", type=click.Path(path_type=Path))
@guarded
def validate(workbook: Path) -> None:
    """Check WORKBOOK against the contract without solving."""
    from model.data import load_workbook

    data = load_workbook(workbook)
    for warning in data.warnings:
        say(f"warning: {warning}")
    counts = ", ".join(f"{name} {len(t)}" for name, t in data.tables.items() if len(t))
    say(f"{workbook}: valid ({counts} rows)")


def _register_commands() -> None:
    """Commands that live with their feature: what-if batches and analyst tools."""
    from model.batch.commands import COMMANDS as batch_commands
    from model.report.commands import COMMANDS as report_commands

    for command in (*batch_commands, *report_commands):
        main.add_command(command)


_register_commands()

if __name__ == "__main__":
    main()
