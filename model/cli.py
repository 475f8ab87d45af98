"""The `sourcing` command. Progress and warnings go to stderr; exit codes are in model/status.py."""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path

import click

from model.cli_support import guarded, say, say_warnings, time_limit_option
from model.status import EXIT_CODES, EXIT_CODES_HELP

DEFAULT_INPUT = Path("inputs/base_case.xlsx")
DEFAULT_OUTPUT = Path("outputs/plan.xlsx")

# Help is wrapped to the terminal (at most this wide) and never cut short with "..." (issue 11).
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110, "show_default": True}


def summary(command: click.Command) -> str:
    """A command's first help paragraph in full (click would cut it to fit one line)."""
    if command.short_help:
        return inspect.cleandoc(command.short_help)
    text = inspect.cleandoc(command.help or "")
    first = text.split("\n\n", 1)[0].replace("\b\n", "")
    return " ".join(first.split())


# The commands that live with their feature, imported only when one runs or its --help is shown:
# `sourcing solve` never pays for the batch, hedge or watch modules (issue 10: start-up counts).
# name -> ("module:attr", the summary `sourcing --help` lists). tests/test_startup_imports.py
# checks each summary is the command's own, and that every feature command is in this table.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("model.batch.commands:batch",
              "Solve base and every scenario of the Scenarios sheet; compare them."),
    "frontier": ("model.batch.commands:frontier",
                 "The cost of de-risking: the objective as each China cap tightens to 0."),
    "hedge": ("model.batch.hedge:hedge",
              "The hedged plan: one first stage (first-period flows and stocks, every project build) "
              "that holds up across base and every scenario; reports its value and the EVPI."),
    "montecarlo": ("model.batch.commands:montecarlo",
                   "Uncertain capacities, costs, cut-offs: P5/P50/P95 of the objective."),
    "stress": ("model.batch.commands:stress",
               "Outage screening: remove each supplier (and route) in turn; rank by objective."),
    "template": ("model.report.commands:template",
                 "Write an input workbook to fill in (README, example rows, code lists)."),
    "watch": ("model.report.commands:watch",
              "Solve, then solve again on every save of WORKBOOK (headline figures)."),
}


def import_command(target: str) -> click.Command:
    """The command object named by "module:attr"."""
    module, _, attr = target.partition(":")
    command = getattr(importlib.import_module(module), attr)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyCommands(MutableMapping[str, click.Command]):
    """click.Group.commands whose entries from `table` are imported on first lookup.

    click's Group reads `commands` only by key (get_command), by iteration (list_commands, "did
    you mean"), and writes it in add_command, so listing names never imports a feature module and
    `main.commands[name]` still gives the command (imported then)."""

    def __init__(self, table: dict[str, tuple[str, str]],
                 register: Callable[[click.Command, str], None]) -> None:
        self.table = table
        self.register = register  # the group's add_command: every command gets the same help additions
        self.loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self.loaded:
            if name not in self.table:
                raise KeyError(name)
            self.register(import_command(self.table[name][0]), name)
        return self.loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self.loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self.loaded and name not in self.table:
            raise KeyError(name)
        self.loaded.pop(name, None)
        self.table = {k: v for k, v in self.table.items() if k != name}

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self.loaded, *self.table]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*self.loaded, *self.table]))


class Commands(click.Group):
    """The `sourcing` group: lists every command's description in full, gives every command,
    including those registered by feature modules, the exit codes in its --help, and imports a
    feature command only when it runs or its --help is shown (LAZY_COMMANDS)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands(LAZY_COMMANDS, self.add_command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        lazy = self.commands if isinstance(self.commands, LazyCommands) else None
        for name in self.list_commands(ctx):
            if lazy is not None and name not in lazy.loaded and name in lazy.table:
                rows.append((name, lazy.table[name][1]))  # listed without importing it
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        for param in cmd.params:  # arguments have no help line of their own: state their default
            if isinstance(param, click.Argument) and not param.required and param.default is not None:
                said = f"{param.human_readable_name} defaults to {param.default}."
                if str(param.default) not in (cmd.help or ""):
                    cmd.help = f"{cmd.help or ''}\n\n{said}".strip()
        if "Exit codes" not in (cmd.epilog or ""):
            cmd.epilog = f"{cmd.epilog}\n\n{EXIT_CODES_HELP}" if cmd.epilog else EXIT_CODES_HELP
        super().add_command(cmd, name)


@click.group(cls=Commands, context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="sourcing-model")
def main() -> None:
    """Least-cost sourcing of critical minerals and chips under a China-share cap.

    Run `sourcing COMMAND --help` for a command's options, defaults and limits."""


def output_option(default: Path):
    return click.option("-o", "--output", type=click.Path(path_type=Path), default=default,
                        show_default=True, help="Output workbook (.xlsx).")


workbook_argument = click.argument("workbook", type=click.Path(path_type=Path), default=DEFAULT_INPUT,
                                   required=False)


@main.command(epilog="Unmet demand is allowed at its penalty unless --no-shortfall. Input problems are "
              "listed (the first 50, then a count) and nothing is written. --write-back is refused, with "
              "the workbook unchanged, when it holds content that would be lost (charts, drawings, pivot "
              "tables, macros: the refusal names them) or cannot be written.")
@workbook_argument
@output_option(DEFAULT_OUTPUT)
@click.option("--no-shortfall", is_flag=True, help="Strict mode: forbid unmet demand; explain infeasibility.")
@time_limit_option()
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
    from model import arrow

    # pandas without pyarrow until a Parquet file is written: ~0.1 s of a ~1.2 s base-case run. Only
    # here: batch commands hand DataFrames to spawned workers, which load pandas as it comes.
    arrow.defer()
    from model.api import solve as solve_data
    from model.data import load_workbook
    from model.io.writer import write_plan

    if write_back:
        from model.report.writeback import check_write_back, write_back_and_report

        check_write_back(workbook)  # refuse before solving when the workbook cannot take the plan
    data = load_workbook(workbook)
    say_warnings(data.warnings)
    plan = solve_data(data, no_shortfall=no_shortfall, time_limit_s=time_limit, ranging=ranging,
                      alternate_optima=alternate_optima, rows=detail)
    if plan.has_plan and write_back:
        output = write_back_and_report(plan, workbook)
    elif plan.has_plan:
        write_plan(plan, output, inputs=[workbook])
    report(plan, output if plan.has_plan else None)
    sys.exit(EXIT_CODES[plan.status])


def report(plan, output: Path | None) -> None:
    from model.headline import headline_lines

    for line in headline_lines(plan):
        say(line)
    if plan.has_plan:
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
    """Check WORKBOOK against the contract without solving.

    Lists every problem (the first 50, then a count) by sheet, row and column, and the warnings
    (legal but probably unintended), then applies each scenario of the Scenarios sheet and says
    which would fail in a batch (a warning: the workbook itself is valid). Exit 0 when the
    workbook is valid, 2 otherwise."""
    from model.data import load_workbook

    data = load_workbook(workbook)
    warnings = [*data.warnings, *scenario_failures(data)]
    say_warnings(warnings)
    counts = ", ".join(f"{name} {len(t)}" for name, t in data.tables.items() if len(t))
    say(f"{workbook}: valid ({counts} rows)")


def scenario_failures(data) -> list[str]:
    """One line per problem of each scenario that a batch would fail (its overrides applied to a
    copy, and the copy checked), so `validate` reports every problem a batch would meet."""
    from model.batch.scenarios import apply_scenario, scenario_names
    from model.errors import InputError

    out: list[str] = []
    for name in scenario_names(data):
        try:
            apply_scenario(data, name)
        except InputError as exc:
            out.extend(f"scenario '{name}' would fail in a batch: {p}" for p in exc.problems)
    return out


if __name__ == "__main__":
    main()
