"""The `sourcing` program runs pandas without pyarrow until it writes Parquet (model/arrow.py): the
plan it writes is the one the same command writes with pyarrow loaded, cell for cell, and its
Parquet files are complete and readable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from model import arrow
from model.api import solve
from model.cli import main
from model.data import load_workbook
from model.schema import OUTPUTS
from tests.test_output_contract import small_sheets, write_workbook

pytestmark = pytest.mark.skipif(bool(os.environ.get("SOURCING_TESTS_WITHOUT_PYARROW")),
                                reason="compares runs with and without pyarrow: this run has none")

ROOT = Path(__file__).resolve().parents[1]
BASE_CASE = ROOT / "inputs" / "base_case.xlsx"
RUN_FACTS = ("_seconds", "created")  # Summary metrics that differ between any two runs (times, clock)


def program(script: str) -> dict:
    """Run `script` in a fresh interpreter (a program of its own: `sourcing solve` defers pyarrow
    there); what it reports as JSON on its last line."""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT=")]
    assert lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("REPORT="):])


def run_program(args: list[str], before: str = "") -> dict:
    return program(
        "import sys, json\n" + before +
        "from model.cli import main\n"
        f"try:\n    main({args!r}, standalone_mode=False)\n    code = 0\n"
        "except SystemExit as exc:\n    code = exc.code or 0\n"
        "print('REPORT=' + json.dumps({'code': code, 'pyarrow': sys.modules.get('pyarrow', 'absent') is not None\n"
        "      and 'pyarrow' in sys.modules, 'string_storage': __import__('pandas').Series(['a']).dtype.storage}))\n")


def cells(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    out = {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    wb.close()
    return out


def test_the_program_writes_the_api_plan_cell_for_cell_without_pyarrow(tmp_path):
    out = tmp_path / "program.xlsx"
    report = run_program(["solve", str(BASE_CASE), "-o", str(out)])
    assert report["code"] == 0
    assert report["pyarrow"] is False and report["string_storage"] == "python"  # it did run without
    ref = tmp_path / "in_process.xlsx"  # the same command in this process, pyarrow loaded
    assert pd.Series(["a"]).dtype.storage == "pyarrow"
    assert CliRunner().invoke(main, ["solve", str(BASE_CASE), "-o", str(ref)]).exit_code == 0
    got, want = cells(out), cells(ref)
    assert list(got) == list(want)
    for sheet in want:
        rows_got = [r for r in got[sheet] if not (sheet == "Summary" and str(r[0]).endswith(RUN_FACTS))]
        rows_want = [r for r in want[sheet] if not (sheet == "Summary" and str(r[0]).endswith(RUN_FACTS))]
        assert rows_got == rows_want, sheet


def test_parquet_written_by_the_program_is_complete(tmp_path):
    """With a sheet that holds 5 rows, `--detail full` spills: pyarrow is loaded for the Parquet
    files only, and every lane is in them."""
    path = write_workbook(tmp_path / "small.xlsx", small_sheets())
    out = tmp_path / "plan.xlsx"
    report = run_program(["solve", str(path), "-o", str(out), "--detail", "full"],
                         before="from model import arrow\narrow.defer()\nimport model.io.xlsx_plan as X\nX.EXCEL_MAX_ROWS = 5\n")
    assert report["code"] == 0 and report["pyarrow"] is True and report["string_storage"] == "python"
    lanes = pd.read_parquet(tmp_path / "plan.FlowSensitivity.parquet")
    assert list(lanes.columns) == OUTPUTS["FlowSensitivity"].column_names
    full = solve(load_workbook(path), marginals="dual").tables["FlowSensitivity"]
    assert len(lanes) == len(full)
    pd.testing.assert_frame_equal(lanes[["commodity", "origin", "destination"]].astype(object),
                                  full[["commodity", "origin", "destination"]].astype(object))


def test_deferral_never_unloads_a_loaded_pyarrow():
    assert "pandas" in sys.modules and arrow.defer() is False
    assert sys.modules["pyarrow"] is not None
    arrow.allow()  # nothing to lift: still loaded
    assert sys.modules["pyarrow"] is not None


def test_only_solve_defers():
    """Batch commands hand DataFrames to spawned workers, which load pandas with pyarrow: the other
    commands leave pandas as it comes (here `validate`, which loads pandas too)."""
    report = run_program(["validate", str(BASE_CASE)])
    assert report["code"] == 0 and report["pyarrow"] is True and report["string_storage"] == "pyarrow"
