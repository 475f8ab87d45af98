"""Ordinary mistakes in a workbook: every problem is reported at once, naming sheet, row, column
and value, and nothing is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from model.data import load_workbook
from model.errors import InputError
from tests.workbooks import write_workbook


def base_sheets() -> dict[str, list[list]]:
    return {
        "Countries": [["code", "name", "group", "risk"], ["USA", "United States", "US", 0.1],
                      ["CHN", "China", "China", 0.8], ["AUS", "Australia", "Pax Silica", 0.1],
                      ["NA", "Namibia", "Other", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"],
                        ["REO", "Rare-earth oxide", "t", 0.5, None]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"],
                   ["CHN", "REO", 2026, 100, 10], ["AUS", "REO", 2026, 100, 20], ["NA", "REO", None, 5, 15]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "REO", 2026, 80]],
    }


def problems_for(tmp_path: Path, sheets: dict) -> list[str]:
    path = write_workbook(tmp_path / "in.xlsx", sheets)
    with pytest.raises(InputError) as info:
        load_workbook(path)
    return [str(p) for p in info.value.problems]


def test_valid_workbook_loads_and_namibia_stays_text(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", base_sheets()))
    assert "NA" in set(data["Countries"]["code"])
    assert "NA" in set(data["Supply"]["country"])
    assert data.periods == [2026]


def test_negative_capacity_names_sheet_row_column_value(tmp_path):
    sheets = base_sheets()
    sheets["Supply"][2][3] = -50
    assert "Supply row 3, column capacity: must be >= 0 (got -50)" in problems_for(tmp_path, sheets)


def test_every_problem_is_reported_in_one_run(tmp_path):
    sheets = base_sheets()
    sheets["Supply"][1][3] = "lots"  # non-numeric
    sheets["Supply"][2][0] = "AUSS"  # unknown country
    sheets["Demand"][1][3] = None  # blank required
    found = problems_for(tmp_path, sheets)
    assert any(p.startswith("Supply row 2, column capacity: must be a number (cell D2)") for p in found)
    assert any(p.startswith("Demand row 2, column quantity: is blank (cell D2)") for p in found)
    # references are checked once the cells parse, so fix the cells and look again
    sheets["Supply"][1][3] = 100
    sheets["Demand"][1][3] = 80
    found = problems_for(tmp_path, sheets)
    assert "Supply row 3, column country: unknown country; did you mean 'AUS'? (got 'AUSS')" in found


def test_unknown_commodity_is_named(tmp_path):
    sheets = base_sheets()
    sheets["Demand"][1][1] = "GALLIUM"
    found = problems_for(tmp_path, sheets)
    assert any("Demand row 2, column commodity: unknown commodity" in p and "'GALLIUM'" in p for p in found)


def test_missing_sheet_and_missing_column(tmp_path):
    sheets = base_sheets()
    del sheets["Demand"]
    sheets["Supply"] = [[c for c in row if c != "unit_cost"][:4] for row in sheets["Supply"]]
    found = problems_for(tmp_path, sheets)
    assert ("Demand: sheet is missing; add a sheet named 'Demand' with the columns country, commodity, period, "
            "quantity (`sourcing template` writes every sheet)") in found
    assert any(p.startswith("Supply, column unit_cost: column is missing") for p in found)


def test_duplicate_keys(tmp_path):
    sheets = base_sheets()
    sheets["Supply"].append(["CHN", "REO", 2026, 5, 1])
    found = problems_for(tmp_path, sheets)
    assert any(p.startswith("Supply row 5, column country: duplicates row 2") for p in found)


def test_shares_out_of_range_and_min_above_max(tmp_path):
    sheets = base_sheets()
    sheets["Commodities"][1][3] = 1.5
    sheets["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                             ["REO", None, "Pax Silica", 0.6, 0.4]]
    found = problems_for(tmp_path, sheets)
    assert ("Commodities row 2, column china_cap: must be <= 1; shares are fractions: did you mean 0.015? "
            "(commodity REO) (got 1.5)") in found
    assert "ShareLimits row 2, column min_share: is greater than max_share (0.4) (got 0.6)" in found


def test_unknown_share_limit_source(tmp_path):
    sheets = base_sheets()
    sheets["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                             [None, None, "Pax Silicon", 0.2, None]]
    found = problems_for(tmp_path, sheets)
    assert any(p.startswith("ShareLimits row 2, column source: unknown country code or group; did you mean "
                            "'Pax Silica'?") for p in found)


def test_numbers_as_text_follow_the_documented_rule(tmp_path):
    sheets = base_sheets()
    sheets["Supply"][1][3] = "1,000"
    sheets["Supply"][2][3] = " 42 "
    sheets["Demand"][1][3] = "8e1"
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", sheets))
    assert list(data["Supply"]["capacity"][:2]) == [1000.0, 42.0]
    assert data["Demand"]["quantity"].iloc[0] == 80.0


def test_headers_match_case_insensitively_and_extra_columns_are_ignored(tmp_path):
    sheets = base_sheets()
    sheets["supply "] = [["Country", " COMMODITY", "Period", "Capacity", "Unit Cost", "comment"],
                         *[[*r, "note"] for r in sheets.pop("Supply")[1:]]]
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", sheets))
    assert len(data["Supply"]) == 3


def test_unknown_setting_and_bad_setting_value(tmp_path):
    sheets = base_sheets()
    sheets["Settings"] = [["setting", "value"], ["unlisted_route", "blocked"], ["risk_weight", "high"]]
    found = problems_for(tmp_path, sheets)
    assert any(p.startswith("Settings row 2, column setting: unknown setting") for p in found)
    assert any(p.startswith("Settings row 3, column value: risk_weight must be a number") for p in found)


def test_cli_validate_reports_and_solve_writes_nothing(tmp_path):
    sheets = base_sheets()
    sheets["Supply"][2][3] = -50
    path = write_workbook(tmp_path / "bad.xlsx", sheets)
    out = tmp_path / "plan.xlsx"
    for args in (["validate", str(path)], ["solve", str(path), "-o", str(out)]):
        run = subprocess.run([sys.executable, "-m", "model.cli", *args], capture_output=True, text=True)
        assert run.returncode == 2, run.stderr
        assert "Supply row 3, column capacity: must be >= 0 (got -50)" in run.stderr
        assert "Traceback" not in run.stderr
    assert not out.exists()


def test_output_may_never_be_the_input(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", base_sheets())
    before = path.read_bytes()
    run = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(path), "-o", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert path.read_bytes() == before


def test_time_limit_must_be_positive(tmp_path):
    sheets = base_sheets()
    sheets["Settings"] = [["setting", "value"], ["time_limit_s", 0]]
    assert "Settings row 2, column value: time_limit_s must be > 0 (blank: no limit) (got 0)" in problems_for(
        tmp_path, sheets)
    path = write_workbook(tmp_path / "ok.xlsx", base_sheets())
    run = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(path), "-o", str(tmp_path / "p.xlsx"),
                          "--time-limit", "0"], capture_output=True, text=True)
    assert run.returncode == 2 and "Traceback" not in run.stderr
