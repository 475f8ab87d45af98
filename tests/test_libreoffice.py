"""Every output opens in LibreOffice Calc: converted to CSV (one file per sheet), the content is there.

Skipped only where LibreOffice is not installed (CI installs libreoffice-calc)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from model.cli import main
from model.report.template import write_template
from model.schema import INPUT_SHEETS, SETTINGS

SOFFICE = shutil.which("soffice")
# CSV filter: comma, double quote, UTF-8, from row 1, ..., last token -1 = every sheet to its own file
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


def _to_csv(files: list[Path], outdir: Path, profile: Path) -> dict[str, list[list[str]]]:
    """Convert `files` with one soffice run; return {"<stem>-<sheet>": rows}."""
    proc = subprocess.run(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(outdir),
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    out = {}
    for path in outdir.glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            out[path.stem] = list(csv.reader(handle))
    return out


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")
def test_outputs_open_in_libreoffice_calc(tmp_path: Path):
    template = write_template(tmp_path / "template.xlsx")
    plan = tmp_path / "plan.xlsx"
    solved = CliRunner().invoke(main, ["solve", str(template), "-o", str(plan)])
    assert solved.exit_code == 0, solved.output
    analyst = tmp_path / "analyst.xlsx"
    shutil.copy(template, analyst)
    written = CliRunner().invoke(main, ["solve", str(analyst), "--write-back"])
    assert written.exit_code == 0, written.output

    sheets = _to_csv(
        [plan, template, analyst], tmp_path / "csv", tmp_path / f"lo_{uuid.uuid4().hex}"
    )

    summary = dict(row[:2] for row in sheets["plan-Summary"][1:] if len(row) >= 2)
    assert summary["status"] == "optimal"
    assert float(summary["total_cost"]) > 0
    flows = sheets["plan-Flows"]
    assert flows[0][:5] == ["period", "commodity", "origin", "destination", "quantity"]
    assert len(flows) > 1

    settings = sheets["template-Settings"]
    assert settings[0] == ["setting", "value", "default", "help"]
    assert [r[0] for r in settings[1:]] == [s.name for s in SETTINGS]
    for spec in INPUT_SHEETS:
        assert sheets[f"template-{spec.name}"][0][: len(spec.columns)] == spec.column_names
    assert any("Countries" in r[:1] for r in sheets["template-README"])

    back = dict(row[:2] for row in sheets["analyst-Plan Summary"][1:] if len(row) >= 2)
    assert back["status"] == "optimal"
    assert sheets["analyst-Countries"] == sheets["template-Countries"]
