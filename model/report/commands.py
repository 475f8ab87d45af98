"""Click commands for analyst tools: template."""

from __future__ import annotations

import functools
from pathlib import Path

import click

COMMANDS: list = []

# model.cli imports this module while it is itself being imported (also as `python -m model.cli`),
# so its helpers are looked up when a command runs, not at import time.


def _guarded(func):
    """model.cli.guarded, resolved at call time."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from model.cli import guarded

        return guarded(func)(*args, **kwargs)

    return wrapper


@click.command()
@click.argument(
    "out", type=click.Path(path_type=Path), default=Path("inputs/template.xlsx"), required=False
)
@click.option("--no-examples", is_flag=True, help="Leave the data sheets empty (headers only).")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@_guarded
def template(out: Path, no_examples: bool, force: bool) -> None:
    """Write an input workbook to fill in (default inputs/template.xlsx): a README sheet, every input
    sheet with example rows, drop-down code lists and the Settings with their defaults."""
    from model.cli import say
    from model.errors import InputError
    from model.report.template import write_template

    if out.suffix.lower() != ".xlsx":
        raise InputError(f"{out}: the template must be an .xlsx file")
    if out.exists() and not force:
        raise InputError(f"{out} exists; pass --force to replace it, or choose another name")
    write_template(out, examples=not no_examples)
    say(f"template written to {out}; fill it in, then `sourcing validate {out}`")


COMMANDS.append(template)
