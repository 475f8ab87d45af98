"""Issue 11 and 14: every problem in one run, in contract order, capped when printed; messages an
analyst can act on (suggestions, shares typed as percentages, whole numbers); china_group must
name a group; file names are never echoed raw."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from model.api import solve
from model.batch.scenarios import apply_scenario
from model.data import load_workbook
from model.errors import MAX_PRINTED, InputError, Problem, printable
from model.suggest import closest
from tests.test_validation import base_sheets, problems_for
from tests.workbooks import write_workbook


def cli(*args: str | bytes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model.cli", *args], capture_output=True, timeout=120)


# ------------------------------------------------------------------ A. every problem in one run


def five_mistakes() -> dict:
    sheets = base_sheets()
    sheets["Supply"] = [row[:4] for row in sheets["Supply"]]  # 1. Supply.unit_cost is missing
    sheets["Supply"][2][3] = -50  # 2. negative capacity (row 3)
    sheets["Supply"].append(["CHN", "REO", 2026, 7])  # 3. duplicates row 2 (row 5)
    sheets["Demand"][1][0] = "usa"  # 4. unknown country (case)
    sheets["Commodities"][1][3] = 40  # 5. a China cap typed as a percentage
    return sheets


FIVE = [
    "Commodities row 2, column china_cap: must be <= 1; shares are fractions: did you mean 0.40? "
    "(commodity REO) (got 40)",
    "Supply, column unit_cost: column is missing (the header row of sheet 'Supply' must name it)",
    "Supply row 3, column capacity: must be >= 0 (got -50)",
    "Supply row 5, column country: duplicates row 2 (country=CHN, commodity=REO, period=2026)",
    "Demand row 2, column country: unknown country; did you mean 'USA'? (codes and names are "
    "case-sensitive) (got 'usa')",
]


def test_five_different_mistakes_give_five_messages_in_one_run(tmp_path):
    # one message each, in contract order (Commodities, Supply, Demand), then by row; the missing
    # column is one problem, not one per row, and does not hide the rest of the sheet
    assert problems_for(tmp_path, five_mistakes()) == FIVE


def test_five_mistakes_through_the_command_line(tmp_path):
    path = write_workbook(tmp_path / "five.xlsx", five_mistakes())
    out = tmp_path / "plan.xlsx"
    for args in (["validate", str(path)], ["solve", str(path), "-o", str(out)]):
        run = cli(*args)
        stderr = run.stderr.decode()
        assert run.returncode == 2, stderr
        assert [line.removeprefix("error: ") for line in stderr.splitlines() if line.startswith("error: ")] == FIVE
        assert "5 problems found; nothing was written." in stderr
        assert "Traceback" not in stderr
    assert not out.exists()


def test_a_missing_sheet_does_not_stop_the_other_sheets(tmp_path):
    sheets = base_sheets()
    del sheets["Countries"]
    sheets["Supply"][1][3] = "lots"
    sheets["Supply"][2][1] = "REOO"
    sheets["Demand"][1][3] = -1
    found = problems_for(tmp_path, sheets)
    assert found[0] == ("Countries: sheet is missing; add a sheet named 'Countries' with the columns code, name, "
                        "group, risk (`sourcing template` writes every sheet)")
    assert "Supply row 2, column capacity: must be a number (cell D2) (got 'lots')" in found
    assert "Supply row 3, column commodity: unknown commodity; did you mean 'REO'? (got 'REOO')" in found
    assert "Demand row 2, column quantity: must be >= 0 (got -1)" in found


def test_a_cell_that_does_not_parse_is_reported_once_not_again_as_blank(tmp_path):
    sheets = base_sheets()
    sheets["Supply"][1][3] = "lots"
    sheets["Supply"][1][2] = "soon"  # a bad period is not the blank that means "every period"
    sheets["Supply"].append(["CHN", "REO", "later", 1, 1])
    found = problems_for(tmp_path, sheets)
    assert [p for p in found if p.startswith("Supply row 2")] == [
        "Supply row 2, column period: must be a number (cell C2) (got 'soon')",
        "Supply row 2, column capacity: must be a number (cell D2) (got 'lots')",
    ]
    assert not any("duplicates" in p or "is blank" in p for p in found), found


def test_problems_are_sorted_by_contract_sheet_then_row_then_column(tmp_path):
    sheets = base_sheets()
    sheets["Supply"][3][3] = "lots"  # row 4, found while reading cells
    sheets["Supply"][1][0] = "AUSS"  # row 2, found by the reference check afterwards
    sheets["Demand"][1][3] = None  # a later sheet
    sheets["Countries"].append(["USA", "again", "US", 0])  # an earlier sheet, found last
    found = problems_for(tmp_path, sheets)
    order = [(p.split(",")[0]) for p in found]
    assert order == ["Countries row 6", "Supply row 2", "Supply row 4", "Demand row 2"], found


def test_problem_sort_key_puts_file_problems_first_and_unknown_sheets_last():
    problems = [Problem("Zebra", 1, None, None, "z"), Problem("Demand", 9, "quantity", None, "d"),
                Problem("Supply", 3, "unit_cost", None, "u"), Problem("Supply", 3, "country", None, "c"),
                Problem("Supply", None, "capacity", None, "missing"), Problem("file", None, None, None, "f")]
    got = [p.message for p in InputError(problems).problems]
    assert got == ["f", "missing", "c", "u", "d", "z"]


def test_printed_problems_are_capped_with_a_count_of_the_rest(tmp_path):
    sheets = base_sheets()
    for i in range(120):
        sheets["Supply"].append(["AUS", "REO", 1901 + i, -1, 1])
    path = write_workbook(tmp_path / "many.xlsx", sheets)
    run = cli("validate", str(path))
    lines = run.stderr.decode().splitlines()
    assert run.returncode == 2
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == MAX_PRINTED
    assert errors[0] == "error: Supply row 5, column capacity: must be >= 0 (got -1)"
    assert f"... and {120 - MAX_PRINTED} more problems (not shown)" in lines
    assert lines[-1] == "120 problems found; nothing was written."
    with pytest.raises(InputError) as info:
        load_workbook(path)
    assert len(info.value.problems) == 120  # the API keeps them all
    assert len(str(info.value).splitlines()) == MAX_PRINTED + 1


# ------------------------------------------------------------------ B. messages


@pytest.mark.parametrize(("typed", "known", "meant"), [
    ("AGR", ["GBR", "ARG", "USA"], "ARG"),  # a swap is one edit (difflib said GBR)
    ("usa", ["GBR", "ARG", "USA"], "USA"),  # case alone
    ("AUSS", ["AUS", "USA", "NA"], "AUS"),
    ("Pax Silicon", ["Pax Silica", "China", "US"], "Pax Silica"),
    ("chn", ["CHN", "CHL"], "CHN"),  # case beats a one-letter difference
    ("GALLIUM", ["REO", "GA"], None),  # nothing close: no suggestion
    ("X", [], None),
])
def test_suggestions_count_swaps_and_case(typed, known, meant):
    assert closest(typed, known) == meant


def test_unknown_codes_get_the_near_code(tmp_path):
    sheets = base_sheets()
    sheets["Countries"].append(["ARG", "Argentina", "Other", 0.2])
    sheets["Countries"].append(["GBR", "United Kingdom", "Other", 0.1])
    sheets["Supply"][1][0] = "AGR"
    sheets["Demand"][1][1] = "reo"
    found = problems_for(tmp_path, sheets)
    assert "Supply row 2, column country: unknown country; did you mean 'ARG'? (got 'AGR')" in found
    assert ("Demand row 2, column commodity: unknown commodity; did you mean 'REO'? (codes and names are "
            "case-sensitive) (got 'reo')") in found


def test_shares_typed_as_percentages_name_the_row(tmp_path):
    sheets = base_sheets()
    sheets["Commodities"][1][3] = 40
    sheets["Countries"][2][3] = 80  # CHN risk
    sheets["ShareLimits"] = [["commodity", "period", "source", "min_share", "max_share"],
                             [None, None, "Pax Silica", 20, None], ["REO", 2026, "China", None, 12.5],
                             ["REO", 2027, "China", None, 250]]
    found = problems_for(tmp_path, sheets)
    assert "Countries row 3, column risk: must be <= 1 (got 80)" in found  # a score, not a share
    assert ("Commodities row 2, column china_cap: must be <= 1; shares are fractions: did you mean 0.40? "
            "(commodity REO) (got 40)") in found
    assert ("ShareLimits row 2, column min_share: must be <= 1; shares are fractions: did you mean 0.20? "
            "(every commodity, every period, source Pax Silica) (got 20)") in found
    assert ("ShareLimits row 3, column max_share: must be <= 1; shares are fractions: did you mean 0.125? "
            "(commodity REO, period 2026, source China) (got 12.5)") in found
    # more than 100 cannot be a percentage
    assert "ShareLimits row 4, column max_share: must be <= 1 (got 250)" in found


def test_whole_numbers_print_as_whole_numbers(tmp_path):
    sheets = base_sheets()
    sheets["Supply"].append(["CHN", "REO", 2026.0, 5.0, 1.5])
    sheets["Demand"][1][3] = -80.0
    found = problems_for(tmp_path, sheets)
    assert "Supply row 5, column country: duplicates row 2 (country=CHN, commodity=REO, period=2026)" in found
    assert "Demand row 2, column quantity: must be >= 0 (got -80)" in found
    assert not any(".0" in p for p in found), found


# ------------------------------------------------------------------ D. china_group


def china_sheets(group_setting: str | None, groups: tuple[str, ...] = ("US", "China", "Pax Silica", "Other"),
                 cap: float | None = 0.5) -> dict:
    sheets = base_sheets()
    for row, group in zip(sheets["Countries"][1:], groups, strict=True):
        row[2] = group
    sheets["Commodities"][1][3] = cap
    if group_setting is not None:
        sheets["Settings"] = [["setting", "value"], ["china_group", group_setting]]
    return sheets


def test_china_group_differing_in_case_is_that_group_and_the_caps_hold(tmp_path):
    exact = load_workbook(write_workbook(tmp_path / "exact.xlsx", china_sheets("China")))
    loose = load_workbook(write_workbook(tmp_path / "loose.xlsx", china_sheets("  china ")))
    assert loose.settings.china_group == "China"
    assert any("china_group 'china' is taken as the Countries group 'China'" in w for w in loose.warnings)
    plan, reference = solve(loose), solve(exact)
    assert plan.objective == pytest.approx(reference.objective, rel=1e-12)
    share = plan.tables["ChinaShare"]
    assert float(share["china_share"].max()) <= 0.5 + 1e-9
    # the cap binds: CHN (cost 10) would otherwise take 80 of the 80 units
    flows = plan.tables["Flows"]
    assert float(flows.loc[flows["origin"] == "CHN", "quantity"].sum()) == pytest.approx(40)


def test_china_group_that_names_no_group_is_an_error_with_a_suggestion(tmp_path):
    found = problems_for(tmp_path, china_sheets("Chna"))
    assert found == ["Settings row 2, column value: no country is in the group 'Chna' named by Settings "
                     "china_group, so the China caps would cap nothing; did you mean 'China'? (got 'Chna')"]


def test_default_china_group_missing_while_caps_are_set(tmp_path):
    found = problems_for(tmp_path, china_sheets(None, groups=("US", "PRC", "Pax Silica", "Other")))
    assert len(found) == 1 and found[0].startswith(
        "Countries, column group: no country is in the group 'China' named by Settings china_group "
        "(default 'China'), so the China caps would cap nothing; the groups are: Other, PRC, Pax Silica, US")
    # without any cap there is nothing to apply: a workbook without China is fine
    data = load_workbook(write_workbook(tmp_path / "nochina.xlsx",
                                        china_sheets(None, groups=("US", "PRC", "Pax Silica", "Other"), cap=None)))
    assert data.settings.china_group == "China"


def test_china_group_matching_two_spellings_is_ambiguous(tmp_path):
    found = problems_for(tmp_path, china_sheets("china", groups=("US", "China", "CHINA", "Other")))
    assert found == ["Settings row 2, column value: matches several Countries groups that differ only in case "
                     "or spacing ('CHINA', 'China'); spell the groups one way (got 'china')"]


def test_a_scenario_that_points_china_group_nowhere_fails_that_scenario(tmp_path):
    sheets = china_sheets(None)
    sheets["Settings"] = [["setting", "value"], ["china_group", "China"]]
    sheets["Scenarios"] = [["scenario", "sheet", "column", "where", "action", "value", "note"],
                           ["lowercase", "Settings", "value", "setting=china_group", "set", "china", None],
                           ["nowhere", "Countries", "group", "code=CHN", "set", "Other", None]]
    data = load_workbook(write_workbook(tmp_path / "scen.xlsx", sheets))
    edited, _ = apply_scenario(data, "lowercase")
    assert edited.settings.china_group == "China"
    with pytest.raises(InputError) as info:
        apply_scenario(data, "nowhere")
    assert "no country is in the group 'China'" in info.value.report()


# ------------------------------------------------------------------ E. names never echoed raw


def test_printable_escapes_controls_bidi_and_undecodable_bytes():
    assert printable("in\x1b[31mred.xlsx") == "in\\x1b[31mred.xlsx"
    assert printable("a\u202eb") == "a\\u202eb"
    assert printable(os.fsdecode(b"in\xffx.xlsx")) == "in\\xffx.xlsx"
    assert printable("tab\tand\nline") == "tab\tand\nline"


def test_a_file_name_with_control_characters_is_never_echoed_raw(tmp_path):
    path = write_workbook(tmp_path / "in\x1b[31mred.xlsx", base_sheets())
    run = cli("validate", str(path))
    assert run.returncode == 0, run.stderr
    assert b"\x1b" not in run.stderr and b"\\x1b[31mred.xlsx: valid" in run.stderr
    run = cli("solve", str(tmp_path / "gone\x07\x1b.xlsx"))
    assert run.returncode == 2 and b"\x1b" not in run.stderr and b"\x07" not in run.stderr
    assert b"Traceback" not in run.stderr


def test_a_file_name_that_is_not_text_is_escaped_in_the_plan(tmp_path):
    raw = os.fsencode(tmp_path) + b"/in\xffx.xlsx"
    write_workbook(Path(os.fsdecode(raw)), base_sheets())
    out = tmp_path / "plan.xlsx"
    run = cli("solve", raw, "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert b"\xff" not in run.stderr
    wb = openpyxl.load_workbook(out, read_only=True)
    try:
        summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True)}
    finally:
        wb.close()
    assert str(summary["input_file"]).endswith("in\\xffx.xlsx")


def test_unknown_setting_gets_the_near_setting(tmp_path):
    sheets = base_sheets()
    sheets["Settings"] = [["setting", "value"], ["unlisted_route", "blocked"]]
    found = problems_for(tmp_path, sheets)
    assert found[0].startswith("Settings row 2, column setting: unknown setting; did you mean 'unlisted_routes'?")


def test_printed_warnings_are_capped_too(tmp_path):
    sheets = base_sheets()
    sheets["Commodities"] += [[f"C{i}", f"c{i}", "t", None, None] for i in range(60)]
    sheets["Demand"] += [["USA", f"C{i}", 2026, 1] for i in range(60)]  # nobody supplies C0..C59
    run = cli("validate", str(write_workbook(tmp_path / "warn.xlsx", sheets)))
    lines = run.stderr.decode().splitlines()
    assert run.returncode == 0, lines
    assert sum(line.startswith("warning: Demand row") for line in lines) == MAX_PRINTED
    assert f"... and {60 - MAX_PRINTED:,} more warnings (not shown)" in lines


def test_settings_time_limit_has_the_command_line_limits(tmp_path):
    sheets = base_sheets()
    sheets["Settings"] = [["setting", "value"], ["time_limit_s", 1e9]]
    assert problems_for(tmp_path, sheets) == [
        "Settings row 2, column value: time_limit_s must be <= 2592000 (got 1000000000)"]


def test_setting_names_match_like_column_names(tmp_path):
    sheets = china_sheets(None)
    sheets["Settings"] = [["setting", "value"], [" China Group ", "China"], ["Unlisted-Routes", "blocked"]]
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", sheets))
    assert data.settings.china_group == "China" and data.settings.unlisted_routes == "blocked"
