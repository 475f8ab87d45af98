"""The notebooks run top to bottom (nbclient, kernel python3) and are stored without outputs.

They read inputs/base_case.xlsx from the repository root. Where that file is not there yet, the
test runs them on a small workbook (the template's examples plus China supply and two scenarios)
by replacing the `parameters` cell; the notebooks themselves are not changed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import nbformat
import openpyxl
import pytest
from nbclient import NotebookClient

from model.report.template import write_template

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BASE_CASE = ROOT / "inputs" / "base_case.xlsx"


def _small_workbook(path: Path) -> Path:
    write_template(path)
    wb = openpyxl.load_workbook(path)
    wb["Supply"].append(["CHN", "REO", 2026, 20000, 40000])
    wb["Routes"].delete_rows(2)  # the example blocks CHN -> USA
    for row in (
        ["AUS outage", "Supply", "capacity", "country=AUS", "scale", 0.5, "half of AUS lost"],
        ["tight cap", "Commodities", "china_cap", "code=REO", "set", 0.2, "cap at 20%"],
    ):
        wb["Scenarios"].append(row)
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> str:
    if BASE_CASE.exists():
        return "inputs/base_case.xlsx"
    return str(_small_workbook(tmp_path_factory.mktemp("nb") / "small.xlsx"))


def test_notebooks_are_stored_without_outputs():
    assert [p.name for p in NOTEBOOKS] == ["01_quickstart.ipynb", "02_what_if.ipynb"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


async def _execute(path: Path, workbook: str) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and 'WORKBOOK = "inputs/base_case.xlsx"' in params[0].source
    params[0].source = f"WORKBOOK = {workbook!r}"
    started = time.perf_counter()
    client = NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(ROOT)}}
    )
    await client.async_execute()
    return nb, time.perf_counter() - started


def test_notebooks_run(workbook: str):
    """Both notebooks at once (two kernels), so the suite waits for the slower one only."""

    async def both():
        return await asyncio.gather(*(_execute(p, workbook) for p in NOTEBOOKS))

    for path, (nb, seconds) in zip(NOTEBOOKS, asyncio.run(both()), strict=True):
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        text = "".join(o.get("text", "") for o in outputs)
        images = sum("image/png" in o.get("data", {}) for o in outputs)
        print(f"{path.name}: {seconds:.1f} s, {images} chart(s)")
        assert images >= 2, path.name
        assert ("status: optimal" if path.name.startswith("01") else "scenario(s)") in text, (
            path.name
        )
