"""Click commands for analyst tools: template."""

from __future__ import annotations

from pathlib import Path

import click

from model.cli_support import guarded, say

COMMANDS: list = []

@click.command()
@click.argument(
    "out", type=click.Path(path_type=Path), default=Path("inputs/template.xlsx"), required=False
)
@click.option("--no-examples", is_flag=True, help="Leave the data sheets empty (headers only).")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@guarded
def template(out: Path, no_examples: bool, force: bool) -> None:
    """Write an input workbook to fill in (default inputs/template.xlsx): a README sheet, every input
    sheet with example rows, drop-down code lists and the Settings with their defaults."""
    from model.errors import InputError
    from model.report.template import write_template

    if out.suffix.lower() != ".xlsx":
        raise InputError(f"{out}: the template must be an .xlsx file")
    if out.exists() and not force:
        raise InputError(f"{out} exists; pass --force to replace it, or choose another name")
    write_template(out, examples=not no_examples)
    say(f"template written to {out}; fill it in, then `sourcing validate {out}`")


COMMANDS.append(template)
