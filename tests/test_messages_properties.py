"""Property: any mix of independent mistakes in one workbook gives exactly one message per
mistake, in one run, in contract order (issue 11: "a file with five different mistakes gets
five messages in one run", generalised to every subset of ten kinds of mistake)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.data import load_workbook
from model.errors import InputError, Problem
from tests.test_validation import base_sheets
from tests.workbooks import write_workbook

Sheets = dict[str, list[list]]


def _no_unit_cost(s: Sheets) -> None:
    s["Supply"] = [row[:4] for row in s["Supply"]]


def _negative_capacity(s: Sheets) -> None:
    s["Supply"][2][3] = -50


def _duplicate_supply(s: Sheets) -> None:
    s["Supply"].append(list(s["Supply"][1]))


def _unknown_country(s: Sheets) -> None:
    s["Demand"][1][0] = "usa"


def _quantity_as_words(s: Sheets) -> None:
    s["Demand"][1][3] = "lots"


def _cap_as_percent(s: Sheets) -> None:
    s["Commodities"][1][3] = 40


def _duplicate_country(s: Sheets) -> None:
    s["Countries"].append(["AUS", "Australia again", "Pax Silica", 0.1])


def _unknown_setting(s: Sheets) -> None:
    s.setdefault("Settings", [["setting", "value"]]).append(["unlisted_route", "blocked"])


def _bad_route(s: Sheets) -> None:
    s["Routes"] = [["origin", "destination", "commodity", "cost_per_unit", "max_quantity"],
                   ["AGR", "USA", None, 1, None]]


def _share_limits_crossed(s: Sheets) -> None:
    s["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                        ["REO", None, "Pax Silica", 0.6, 0.4]]


# each mistake, and how its one message starts (sheet, row, column)
MISTAKES: dict[str, tuple[Callable[[Sheets], None], str]] = {
    "no_unit_cost": (_no_unit_cost, "Supply, column unit_cost: column is missing"),
    "negative_capacity": (_negative_capacity, "Supply row 3, column capacity: must be >= 0"),
    "duplicate_supply": (_duplicate_supply, "Supply row 5, column country: duplicates row 2"),
    "unknown_country": (_unknown_country, "Demand row 2, column country: unknown country; did you mean 'USA'?"),
    "quantity_as_words": (_quantity_as_words, "Demand row 2, column quantity: must be a number"),
    "cap_as_percent": (_cap_as_percent, "Commodities row 2, column china_cap: must be <= 1; shares are "
                                        "fractions: did you mean 0.40?"),
    "duplicate_country": (_duplicate_country, "Countries row 6, column code: duplicates row 4"),
    "unknown_setting": (_unknown_setting, "Settings row 2, column setting: unknown setting; did you mean "
                                          "'unlisted_routes'?"),
    "bad_route": (_bad_route, "Routes row 2, column origin: unknown country"),
    "share_limits_crossed": (_share_limits_crossed, "ShareLimits row 2, column min_share: is greater than "
                                                    "max_share"),
}

EXAMPLES = int(os.environ.get("SOURCING_PROPERTY_EXAMPLES", "0")) or 25


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(sorted(MISTAKES)), min_size=1))
def test_each_mistake_gives_exactly_one_message_in_contract_order(chosen):
    sheets = base_sheets()
    for name in sorted(chosen):
        MISTAKES[name][0](sheets)
    with tempfile.TemporaryDirectory() as folder:
        path = write_workbook(Path(folder) / "mistakes.xlsx", sheets)
        with pytest.raises(InputError) as info:
            load_workbook(path)
    problems = info.value.problems
    found = [str(p) for p in problems]
    assert len(found) == len(chosen), (sorted(chosen), found)
    for name in chosen:
        assert sum(p.startswith(MISTAKES[name][1]) for p in found) == 1, (name, found)
    assert [p.sort_key() for p in problems] == sorted(Problem.sort_key(p) for p in problems)


def test_the_workbook_without_mistakes_is_valid(tmp_path):
    assert load_workbook(write_workbook(tmp_path / "ok.xlsx", base_sheets())).periods == [2026]
