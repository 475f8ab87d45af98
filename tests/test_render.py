"""Every output kind, rendered as an analyst sees it: LibreOffice prints each workbook to PDF at
default column widths and no cell may show `###` (a number too wide for its column).

The input is the template scaled to large magnitudes (capacities and demand in the millions, costs
in the thousands), so money reaches trillions as in the base case. Skipped without soffice or
pdftotext (CI installs libreoffice-calc and poppler-utils)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from model.cli import main
from model.report.template import write_template

SOFFICE = shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")

COMMANDS = {
    "solve": ["solve"],
    "batch": ["batch"],
    "stress": ["stress"],
    "montecarlo": ["montecarlo", "--draws", "8"],
    "frontier": ["frontier", "--steps", "3"],
}


def _scaled_template(path: Path) -> Path:
    write_template(path)
    wb = openpyxl.load_workbook(path)
    for sheet, factors in {"Supply": {"capacity": 1e6, "unit_cost": 1e3}, "Demand": {"quantity": 1e6}}.items():
        ws = wb[sheet]
        header = [c.value for c in ws[1]]
        for name, factor in factors.items():
            col = header.index(name) + 1
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                if isinstance(cell.value, (int, float)):
                    cell.value = cell.value * factor
    wb.save(path)
    return path


@pytest.mark.skipif(SOFFICE is None or PDFTOTEXT is None, reason="LibreOffice or pdftotext is not installed")
def test_no_output_shows_hashes_in_libreoffice(tmp_path: Path):
    workbook = _scaled_template(tmp_path / "in.xlsx")
    outputs = []
    for kind, args in COMMANDS.items():
        out = tmp_path / f"{kind}.xlsx"
        result = CliRunner().invoke(main, [*args, str(workbook), "-o", str(out)])
        assert result.exit_code == 0, (kind, result.output)
        outputs.append(out)
    profile = tmp_path / f"lo_{uuid.uuid4().hex}"
    proc = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                           "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), *map(str, outputs)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for out in outputs:
        pdf = tmp_path / "pdf" / f"{out.stem}.pdf"
        assert pdf.exists(), out.name
        text = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, timeout=120).stdout
        assert text.strip(), out.name
        hashes = [line for line in text.splitlines() if "###" in line]
        assert not hashes, (out.name, hashes[:5])
