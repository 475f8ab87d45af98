"""Click commands for analyst tools: template, watch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from model.cli_support import guarded, say, time_limit_option
from model.status import EXIT_CODES_HELP

COMMANDS: list = []  # each is also listed in model/cli.py LAZY_COMMANDS (imported on use)

@click.command(epilog=EXIT_CODES_HELP,
               short_help="Write an input workbook to fill in (README, example rows, code lists).")
@click.argument(
    "out", type=click.Path(path_type=Path), default=Path("inputs/template.xlsx"), required=False
)
@click.option("--no-examples", is_flag=True, help="Leave the data sheets empty (headers only); "
              "default: one example row per sheet, which solves as it is.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists (default: refuse, exit 2). A "
              "read-only OUT, or one open in Excel or LibreOffice, is never replaced.")
@guarded
def template(out: Path, no_examples: bool, force: bool) -> None:
    """Write an input workbook to fill in at OUT (default inputs/template.xlsx, must end in .xlsx): a
    README sheet, every input sheet with example rows, drop-down code lists and the Settings with
    their defaults. The folder is created if needed; the file is written atomically.

    \b
    Then: sourcing validate OUT, and sourcing solve OUT.
    """
    from model.errors import InputError
    from model.report.template import write_template

    if out.suffix.lower() != ".xlsx":
        raise InputError(f"{out}: the template must be an .xlsx file")
    if out.exists() and not force:
        raise InputError(f"{out} exists; pass --force to replace it, or choose another name")
    write_template(out, examples=not no_examples)
    say(f"template written to {out}; fill it in, then `sourcing validate {out}`")


COMMANDS.append(template)


WATCH_EXIT_CODES = (
    "Exit codes: 0 stopped with Ctrl-C or SIGTERM, the normal way to end a watch (the last good plan "
    "stays in OUTPUT); 1 internal error; 2 refused before watching (OUTPUT is not .xlsx, is the "
    "workbook itself, is read-only or open in Excel). A save with mistakes, a solve without a plan "
    "or a time limit never ends the watch: it is printed and the watch goes on."
)


@click.command(epilog=WATCH_EXIT_CODES,
               short_help="Solve, then solve again on every save of WORKBOOK (headline figures).")
@click.argument("workbook", type=click.Path(path_type=Path), default=Path("inputs/base_case.xlsx"),
                required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("outputs/plan.xlsx"),
              show_default=True, help="Plan workbook (.xlsx), rewritten atomically after each good solve; "
              "never the workbook watched.")
@time_limit_option()
@click.option("--settle", type=click.FloatRange(min=0, max=10), default=0.3, show_default=True,
              help="Seconds a saved file must stay unchanged (and be a complete zip) before it is read; "
              "0 to 10.")
@guarded
def watch(workbook: Path, output: Path, time_limit: float | None, settle: float) -> None:
    """Solve WORKBOOK (default inputs/base_case.xlsx), then solve again each time it is saved.

    After each solve the headline figures are printed (status, objective, total cost, shortfall
    value, what the China caps cost) and the plan is written to OUTPUT. Excel and LibreOffice save
    through temporary and lock files: each save is read only once the file has settled. A save
    with mistakes prints them and keeps the last good plan; the watch goes on. One solver model is
    kept across saves, so an edit of values re-solves in place (about a second on the base case).
    """
    from model.errors import InputError
    from model.watch import watch as run_watch

    if output.suffix.lower() != ".xlsx":
        raise InputError(f"the output {output} must end in .xlsx")
    try:
        run_watch(workbook, output, time_limit_s=time_limit, settle_s=settle, say=say)
    except KeyboardInterrupt:
        say(f"stopped watching {workbook}; the last good plan is in {output}")
    sys.exit(0)


COMMANDS.append(watch)
