"""What every `sourcing` command shares: stderr messages, the error-to-exit-code policy and the
option types whose limits every command states the same way.

Kept apart from model/cli.py so feature command modules import it without a circular import.
"""

from __future__ import annotations

import functools
import math
import os
import sys
import traceback
from typing import Any

import click

from model.errors import MAX_PRINTED, InputError, printable
from model.schema import MAX_TIME_LIMIT_S
from model.status import EXIT_INPUT, EXIT_INTERNAL


def say(message: str) -> None:
    """One message on stderr. Control characters (an ESC in a file name) are shown escaped."""
    click.echo(printable(message), err=True)


def say_warnings(warnings: list[str], limit: int = MAX_PRINTED) -> None:
    """Each warning on its own line, at most `limit` of them and a count of the rest."""
    for warning in warnings[:limit]:
        say(f"warning: {warning}")
    if len(warnings) > limit:
        say(f"... and {len(warnings) - limit:,} more warnings (not shown)")


def guarded(func):
    """Input problems: one line each (the first MAX_PRINTED, then a count), exit 2. Anything
    else: one line, exit 1 (traceback with SOURCING_DEBUG=1). Never a traceback for the
    analyst's mistakes."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            lines = exc.lines(MAX_PRINTED)
            for line in lines[:MAX_PRINTED]:
                say(f"error: {line}")
            for line in lines[MAX_PRINTED:]:
                say(line)
            count = len(exc.problems)
            say(f"{count:,} problem{'s' if count != 1 else ''} found; nothing was written.")
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt:
            say("interrupted; nothing more was written.")
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except SystemExit:
            raise
        except Exception as exc:  # a bug or an environment problem, not the analyst's input
            if os.environ.get("SOURCING_DEBUG"):
                traceback.print_exc()
            say(f"internal error: {type(exc).__name__}: {exc} (set SOURCING_DEBUG=1 for details)")
            sys.exit(EXIT_INTERNAL)

    return wrapper


class Seconds(click.ParamType):
    """A time limit in seconds: a finite number > 0 and at most `maximum`.

    Why not click.FloatRange: 'nan' passes every range comparison and 'inf' passes an open upper
    bound, so both were accepted. Leaving the option out means no limit."""

    name = "seconds"

    def __init__(self, maximum: float = MAX_TIME_LIMIT_S) -> None:
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(str(value).strip())
            except ValueError:
                self.fail(f"{printable(repr(value))} is not a number of seconds", param, ctx)
        if math.isnan(number) or math.isinf(number):
            self.fail(f"{value!r} is not a finite number of seconds; leave the option out for no limit",
                      param, ctx)
        if number <= 0:
            self.fail(f"{number:g} must be > 0 seconds; leave the option out for no limit", param, ctx)
        if number > self.maximum:
            self.fail(f"{number:g} is more than {self.maximum:g} seconds (30 days); leave the option out "
                      "for no limit", param, ctx)
        return number

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "SECONDS"

    def __repr__(self) -> str:
        return "SECONDS"


SECONDS = Seconds()
TIME_LIMIT_HELP = ("Solver time limit in seconds, > 0 and at most 2592000 (30 days); nan and inf are "
                   "refused. Default: Settings time_limit_s, else no limit.")


def time_limit_option(help: str = TIME_LIMIT_HELP):
    """`--time-limit SECONDS`, checked the same way by every command that takes one."""
    return click.option("--time-limit", type=SECONDS, default=None, help=help)
