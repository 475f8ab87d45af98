"""Issue 11 and 14: every command's --help in full (no "..."), with defaults, limits and exit
codes; --time-limit refuses nan, inf and non-positive values with a clear message."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from model.cli import main, summary
from model.cli_support import MAX_TIME_LIMIT_S, SECONDS
from model.status import EXIT_CODES_HELP


def help_text(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=72)
    assert result.exit_code == 0, result.output
    return result.output


def flat(text: str) -> str:
    return " ".join(text.split())


COMMANDS = sorted(main.commands)


def test_every_command_is_listed_with_its_whole_description():
    text = help_text()
    listing = flat(text.split("Commands:", 1)[1])
    assert set(COMMANDS) >= {"solve", "validate", "batch", "frontier", "stress", "montecarlo", "template"}
    for name in COMMANDS:
        described = summary(main.commands[name])
        assert described and flat(described) in listing, name
    assert "…" not in text
    assert "..." not in text.replace("COMMAND [ARGS]...", "")  # click's usage line, not a cut
    assert flat(EXIT_CODES_HELP) in flat(text)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_is_whole_and_states_exit_codes_and_defaults(name):
    text = help_text(name)
    assert "…" not in text
    command = main.commands[name]
    # the shared text, unless the command states its own (a watch ends only by Ctrl-C, say)
    own = "Exit codes" in (command.epilog or "") and flat(EXIT_CODES_HELP) not in flat(command.epilog)
    assert ("Exit codes: 0 " in flat(text)) if own else (flat(EXIT_CODES_HELP) in flat(text))
    for param in command.params:  # every option's help in full, wrapped but never cut
        if isinstance(param, click.Option) and param.help:
            assert flat(param.help) in flat(text), (name, param.name)
    for param in command.params:
        default = param.default
        if isinstance(param, click.Option) and not param.is_flag and isinstance(default, (int, float, str)) \
                and not isinstance(default, bool):
            assert f"default: {default}" in flat(text), (name, param.name)
        if isinstance(param, click.Argument) and not param.required and param.default is not None:
            assert str(param.default) in flat(text), (name, param.name)


def test_solve_help_states_the_time_limit_rule_and_write_back_limits():
    text = flat(help_text("solve"))
    assert "at most 2592000 (30 days); nan and inf are refused" in text
    assert "--write-back is refused, with the workbook unchanged, when it holds content that would be lost" in text
    assert "default: outputs/plan.xlsx" in text


@pytest.mark.parametrize(("typed", "says"), [
    ("nan", "'nan' is not a finite number of seconds"),
    ("inf", "'inf' is not a finite number of seconds"),
    ("-inf", "'-inf' is not a finite number of seconds"),
    ("0", "0 must be > 0 seconds"),
    ("-5", "-5 must be > 0 seconds"),
    ("1e9", "1e+09 is more than 2.592e+06 seconds (30 days)"),
    ("soon", "'soon' is not a number of seconds"),
])
def test_time_limit_refuses_what_is_not_a_time(tmp_path, typed, says):
    result = CliRunner().invoke(main, ["solve", str(tmp_path / "none.xlsx"), "--time-limit", typed])
    assert result.exit_code == 2
    assert says in flat(result.output), result.output
    assert "Traceback" not in result.output


def test_time_limit_type_accepts_positive_finite_seconds():
    assert SECONDS.convert("2.5", None, None) == 2.5
    assert SECONDS.convert(60, None, None) == 60.0
    assert SECONDS.convert(str(MAX_TIME_LIMIT_S), None, None) == MAX_TIME_LIMIT_S
