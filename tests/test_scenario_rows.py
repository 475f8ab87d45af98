"""Issue 14: one bad Scenarios row fails only its scenario. `sourcing solve` ignores the Scenarios
sheet, so it solves; a batch runs every other scenario; each bad row is a warning naming the
scenario it affects. The typed value is kept, so a bad `value` is never read as "set to blank"."""

from __future__ import annotations

import subprocess
import sys

from model.api import solve
from model.batch.commands import run_batch
from model.data import load_workbook
from tests.test_scenarios import sheets
from tests.workbooks import write_workbook

ROWS = [
    ["bad_action", "Supply", "capacity", "country=CHN;commodity=REO", "multiply", 0, None],
    [None, "Supply", "capacity", "country=CHN", "set", 0, "a row without a scenario name"],
    ["no_sheet", None, "capacity", "country=CHN", "set", 0, None],
    ["bad_value", "Routes", "max_quantity", None, "set", "1_x0007_", None],  # would be blank = no limit
    ["good", "Supply", "unit_cost", "country=AUS", "scale", 1.5, None],
]


def test_bad_scenario_rows_are_warnings_and_fail_only_their_scenario(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", sheets(ROWS)))
    notes = [w for w in data.warnings if w.startswith("Scenarios")]
    # a cell that cannot be read at all is a load warning; the rest is checked per scenario
    # (model/batch/scenarios.py), so `solve` never stops on them and `validate` names them
    assert notes == [
        "Scenarios row 5, column value: contains a control character (Excel escape _x0007_) (cell F5) "
        "(got '1_x0007_'); scenario 'bad_value' will fail in a batch",
    ]
    assert str(solve(data).status) == "optimal"
    tables, _ = run_batch(data, progress=False)
    by = tables["Comparison"].set_index("scenario")
    assert list(by.index) == ["base", "bad_action", "no_sheet", "bad_value", "good",
                              "(no name, Scenarios row 3)"]
    assert by.at["(no name, Scenarios row 3)", "status"] == "error"
    assert by.at["good", "status"] == "optimal" and by.at["good", "delta_cost"] > 0
    for name, says in [("bad_action", "action must be set, scale or add (got 'multiply')"),
                       ("no_sheet", "Scenarios row 4, column sheet"),
                       ("bad_value", "value for Routes.max_quantity must be a number")]:
        assert by.at[name, "status"] == "error", name
        assert says in by.at[name, "error"], (name, by.at[name, "error"])


def test_solve_on_the_command_line_is_not_stopped_by_a_bad_scenario_row(tmp_path):
    path = write_workbook(tmp_path / "in.xlsx", sheets(ROWS[:1]))
    out = tmp_path / "plan.xlsx"
    run = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(path), "-o", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert out.exists()
    check = subprocess.run([sys.executable, "-m", "model.cli", "validate", str(path)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    assert ("warning: scenario 'bad_action' would fail in a batch: Scenarios row 2, column action: "
            "scenario 'bad_action': action must be set, scale or add (got 'multiply')") in check.stderr


def test_scenario_arithmetic_obeys_the_cell_limit(tmp_path):
    """Issue 14: a demand scaled to 8e31 was solved with the previous result. The numbers a
    scenario makes are checked against the same limit as typed cells, failing that scenario."""
    from model.batch.scenarios import apply_scenario
    from model.errors import InputError

    rows = [["huge", "Demand", "quantity", None, "scale", 1e15, None],
            ["inf", "Supply", "unit_cost", "country=AUS", "scale", 1e15, None],
            ["inf", "Supply", "unit_cost", "country=AUS", "scale", 1e15, None],
            ["fine", "Demand", "quantity", None, "scale", 1e10, None]]
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", sheets(rows)))
    for name in ("huge", "inf"):
        try:
            apply_scenario(data, name)
        except InputError as exc:
            assert "beyond the limit of +/-1e+15 that applies to every number" in exc.report(), exc.report()
        else:
            raise AssertionError(f"scenario {name} was accepted")
    edited, _ = apply_scenario(data, "fine")
    assert float(edited["Demand"]["quantity"].max()) <= 1e15
    tables, _ = run_batch(data, progress=False)
    by = tables["Comparison"].set_index("scenario")
    assert by.at["huge", "status"] == "error" and by.at["inf", "status"] == "error"
    assert by.at["base", "status"] == "optimal"


def test_validate_says_which_scenarios_would_fail_in_a_batch(tmp_path):
    rows = [["ghost", "Supply", "capacity", "country=JPN", "set", 0, "no such supplier"],
            ["negative", "Supply", "capacity", "country=AUS", "add", -1000, None],
            ["good", "Supply", "unit_cost", "country=AUS", "scale", 1.5, None]]
    path = write_workbook(tmp_path / "in.xlsx", sheets(rows))
    run = subprocess.run([sys.executable, "-m", "model.cli", "validate", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if "would fail in a batch" in line]
    assert len(lines) == 3, run.stderr  # ghost once; negative for each of AUS's two Supply rows
    assert lines[0].startswith("warning: scenario 'ghost' would fail in a batch: Scenarios row 2, column where")
    for line, row in zip(lines[1:], (3, 6), strict=True):
        assert line.startswith("warning: scenario 'negative' would fail in a batch: Scenarios row 3")
        assert f"Supply row {row}, column capacity: must be >= 0" in line
    assert "'good'" not in run.stderr
    assert run.stderr.rstrip().endswith("rows)")  # and the workbook itself is valid
