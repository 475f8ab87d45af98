"""Scenario overrides (issue 4): each action, the where filter, and every error path."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.api import solve
from model.batch.scenarios import apply_scenario, scenario_names
from model.data import load_workbook
from model.errors import InputError
from tests.workbooks import write_workbook

HEADER = ["scenario", "sheet", "column", "where", "action", "value", "note"]


def sheets(scenarios: list[list] | None = None) -> dict[str, list[list]]:
    out = {
        "Countries": [
            ["code", "name", "group", "risk"],
            ["USA", "United States", "US", 0.0],
            ["CHN", "China", "China", 0.8],
            ["AUS", "Australia", "Pax", 0.1],
            ["NA", "Namibia", "Other", 0.0],
        ],
        "Commodities": [
            ["code", "name", "unit", "china_cap", "shortfall_penalty"],
            ["REO", "Rare-earth oxide", "t", 0.5, None],
            ["GA", "Gallium", "t", None, None],
        ],
        "Supply": [
            ["country", "commodity", "period", "capacity", "unit_cost"],
            ["CHN", "REO", 2026, 100, 10],
            ["AUS", "REO", 2026, 100, 20],
            ["NA", "REO", None, 50, 30],
            ["CHN", "GA", None, 100, 5],
            ["AUS", "GA", None, 30, 9],
        ],
        "Demand": [
            ["country", "commodity", "period", "quantity"],
            ["USA", "REO", 2026, 80],
            ["USA", "GA", 2026, 60],
            ["USA", "REO", 2027, 40],
        ],
        "Routes": [
            ["origin", "destination", "commodity", "cost_per_unit", "max_quantity"],
            ["AUS", "USA", None, 2, None],
        ],
    }
    if scenarios is not None:
        out["Scenarios"] = [HEADER, *scenarios]
    return out


def load(tmp_path: Path, scenarios: list[list], name: str = "in.xlsx"):
    return load_workbook(write_workbook(tmp_path / name, sheets(scenarios)))


def supply(data, country: str, commodity: str, column: str) -> list:
    t = data["Supply"]
    return t.loc[(t["country"] == country) & (t["commodity"] == commodity), column].tolist()


def test_set_scale_add_and_the_changed_cells(tmp_path):
    data = load(
        tmp_path,
        [
            ["s", "Supply", "capacity", "country=CHN;commodity=GA", "set", 0, "ban"],
            ["s", "Supply", "unit_cost", "country=AUS,NA", "scale", 1.5, "premium"],
            ["s", "Demand", "quantity", "period=2026", "add", 10, "growth"],
        ],
    )
    new, changes = apply_scenario(data, "s")
    assert supply(new, "CHN", "GA", "capacity") == [0.0]
    assert supply(new, "CHN", "REO", "capacity") == [100.0]
    assert supply(new, "AUS", "REO", "unit_cost") == [30.0]
    assert supply(new, "NA", "REO", "unit_cost") == [45.0]
    assert supply(new, "CHN", "REO", "unit_cost") == [10.0]
    assert new["Demand"]["quantity"].tolist() == [90.0, 70.0, 40.0]
    # the base data is untouched
    assert supply(data, "CHN", "GA", "capacity") == [100.0]
    cells = {
        (c.sheet, c.row, c.column): (c.old, c.new, c.scenarios_row) for c in changes.itertuples()
    }
    assert cells[("Supply", 5, "capacity")] == (100.0, 0.0, 2)
    assert cells[("Supply", 3, "unit_cost")] == (20.0, 30.0, 3)
    assert cells[("Demand", 2, "quantity")] == (80.0, 90.0, 4)
    assert len(changes) == 1 + 3 + 2


def test_names_are_case_insensitive_and_where_is_type_aware(tmp_path):
    data = load(
        tmp_path,
        [
            ["s", "supply", "CAPACITY", "Period=2026.0; COUNTRY = AUS", "scale", 2, None],
            ["s", "commodities", "China_Cap", None, "set", "20%", None],
        ],
    )
    new, _ = apply_scenario(data, "s")
    assert supply(new, "AUS", "REO", "capacity") == [200.0]
    assert supply(new, "AUS", "GA", "capacity") == [30.0]  # period blank: not 2026
    assert new["Commodities"]["china_cap"].tolist() == [0.2, 0.2]


def test_codes_compare_as_text_and_blank_where_value_matches_blank_cells(tmp_path):
    data = load(tmp_path, [["s", "Supply", "capacity", "country=NA;period=", "set", 7, None]])
    new, _ = apply_scenario(data, "s")
    assert supply(new, "NA", "REO", "capacity") == [7.0]


def test_set_blank_removes_a_cap(tmp_path):
    data = load(tmp_path, [["s", "Commodities", "china_cap", "code=REO", "set", None, None]])
    new, _ = apply_scenario(data, "s")
    assert new["Commodities"]["china_cap"].isna().all()


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ["s", "Supply", "capacity", "country=JPN", "set", 0, None],
            "Scenarios row 2, column where: scenario 's': where 'country=JPN' matches no row",
        ),
        (
            ["s", "Supplies", "capacity", None, "set", 0, None],
            "Scenarios row 2, column sheet: scenario 's': unknown sheet",
        ),
        (
            ["s", "Supply", "capacit", None, "set", 0, None],
            "Scenarios row 2, column column: scenario 's': unknown column",
        ),
        (
            ["s", "Supply", "capacity", "colour=red", "set", 0, None],
            "Scenarios row 2, column where: scenario 's': unknown column",
        ),
        (["s", "Supply", "capacity", "country", "set", 0, None], "must look like column=value"),
        (["s", "Supply", "country", None, "scale", 2, None], "scale needs a numeric column"),
        (["s", "Supply", "capacity", None, "add", "lots", None], "add needs a number"),
        (
            ["s", "Supply", "capacity", None, "set", "lots", None],
            "Supply.capacity must be a number",
        ),
        (
            ["s", "Supply", "capacity", "country=AUS", "add", -1000, None],
            "Scenarios row 2: scenario 's' makes the data invalid: Supply row 3, column capacity: must be >= 0",
        ),
        (
            ["s", "Supply", "country", "country=AUS", "set", "XYZ", None],
            "makes the data invalid: Supply row 3, column country: unknown country",
        ),
    ],
)
def test_error_paths_name_the_scenarios_row(tmp_path, row, expected):
    data = load(tmp_path, [row])
    with pytest.raises(InputError) as info:
        apply_scenario(data, "s")
    assert any(expected in str(p) for p in info.value.problems), info.value.report()


def test_invalid_data_blames_the_row_that_broke_it(tmp_path):
    data = load(
        tmp_path,
        [
            ["s", "Supply", "unit_cost", None, "scale", 2, None],
            ["s", "Commodities", "china_cap", "code=REO", "add", 0.7, None],
        ],
    )
    with pytest.raises(InputError) as info:
        apply_scenario(data, "s")
    assert [p.row for p in info.value.problems] == [3]
    assert "Commodities row 2, column china_cap: must be <= 1" in str(info.value.problems[0])


def test_unknown_scenario_and_base(tmp_path):
    data = load(tmp_path, [["a", "Supply", "capacity", None, "scale", 2, None]])
    assert scenario_names(data) == ["a"]
    base, changes = apply_scenario(data, "base")
    assert changes.empty and base["Supply"].equals(data["Supply"])
    with pytest.raises(InputError):
        apply_scenario(data, "nope")


def test_a_scenario_equals_the_same_edit_made_by_hand(tmp_path):
    data = load(
        tmp_path,
        [
            ["s", "Supply", "capacity", "country=CHN;commodity=GA", "set", 10, None],
            ["s", "Supply", "unit_cost", "country=AUS", "scale", 1.25, None],
            ["s", "Commodities", "china_cap", "code=REO", "set", 0.3, None],
            ["s", "Routes", "cost_per_unit", None, "add", 3, None],
        ],
    )
    edited = sheets()
    edited["Supply"][4][3] = 10
    edited["Supply"][2][4] = 25
    edited["Supply"][5][4] = 9 * 1.25
    edited["Commodities"][1][3] = 0.3
    edited["Routes"][1][3] = 5
    by_hand = load_workbook(write_workbook(tmp_path / "hand.xlsx", edited))
    new, _ = apply_scenario(data, "s")
    a, b = solve(new), solve(by_hand)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    assert a.total_cost == pytest.approx(b.total_cost, rel=1e-12)
    assert a.objective != pytest.approx(solve(data).objective)


def test_a_text_override_equals_the_same_edit_by_hand(tmp_path):
    """Moving Australia into the China group: a text `set` that changes the LP's structure."""
    data = load(tmp_path, [["aus_aligned", "Countries", "group", "code=AUS", "set", "China", None]])
    changed, cells = apply_scenario(data, "aus_aligned")
    assert cells[["sheet", "column", "old", "new"]].values.tolist() == [["Countries", "group", "Pax", "China"]]
    assert data["Countries"]["group"].tolist() == ["US", "China", "Pax", "Other"]  # the base is untouched
    by_hand = load(tmp_path, [], name="hand.xlsx")
    by_hand.tables["Countries"].loc[by_hand["Countries"]["code"] == "AUS", "group"] = "China"
    assert solve(changed).objective == pytest.approx(solve(by_hand).objective, rel=1e-12)
    assert solve(changed).objective != pytest.approx(solve(data).objective, rel=1e-6)
