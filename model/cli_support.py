"""What every `sourcing` command shares: stderr messages and the error-to-exit-code policy.

Kept apart from model/cli.py so feature command modules import it without a circular import.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback

import click

from model.errors import InputError
from model.status import EXIT_INPUT, EXIT_INTERNAL


def say(message: str) -> None:
    click.echo(message, err=True)


def guarded(func):
    """Input problems: one line each, exit 2. Anything else: one line, exit 1 (traceback with
    SOURCING_DEBUG=1). Never a traceback for the analyst's mistakes."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            for problem in exc.problems:
                say(f"error: {problem}")
            say(f"{len(exc.problems)} problem(s) found; nothing was written.")
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
