"""Shared fixtures: solve a workbook through the API and through the command line."""

from __future__ import annotations

import os

os.environ.setdefault("OPENPYXL_LXML", "False")  # as model/__init__.py: openpyxl keeps its usual XML path

if os.environ.get("SOURCING_TESTS_WITHOUT_PYARROW"):
    # Every test as `sourcing solve` runs: pandas without pyarrow (model/arrow.py). CI runs the
    # solve-path tests this way too (.ci/run).
    from model import arrow

    arrow.defer()

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.workbooks import read_sheet


@dataclass
class CliRun:
    returncode: int
    stderr: str
    output: Path

    def summary(self) -> dict[str, Any]:
        return {r["metric"]: r["value"] for r in read_sheet(self.output, "Summary")}

    def sheet(self, name: str) -> list[dict[str, Any]]:
        return read_sheet(self.output, name)


@pytest.fixture
def run_cli(tmp_path: Path):
    """run_cli(input_xlsx) -> CliRun: `python -m model.cli solve IN -o OUT` in a subprocess."""

    def run(input_xlsx: Path, output: Path | None = None) -> CliRun:
        out = output or tmp_path / f"{Path(input_xlsx).stem}_cli_plan.xlsx"
        proc = subprocess.run(
            [sys.executable, "-m", "model.cli", "solve", str(input_xlsx), "-o", str(out)],
            capture_output=True, text=True, timeout=120,
        )
        return CliRun(proc.returncode, proc.stderr, out)

    return run
