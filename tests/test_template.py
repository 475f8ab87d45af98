"""`sourcing template`: generated from the schema, self-explaining, and it validates and solves as is."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from click.testing import CliRunner

from model.api import solve
from model.cli import main
from model.data import load_workbook
from model.report.template import LISTS, README, write_template
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET, SETTINGS


def test_template_with_examples_validates_and_solves(tmp_path: Path):
    path = write_template(tmp_path / "t.xlsx")
    data = load_workbook(path)
    for spec in INPUT_SHEETS:
        if spec.name != "Settings":
            assert len(data[spec.name]) >= len(spec.examples), spec.name
    plan = solve(data)
    assert plan.has_plan
    assert plan.total_cost > 0


def test_template_without_examples_has_headers_only(tmp_path: Path):
    path = write_template(tmp_path / "empty.xlsx", examples=False)
    wb = openpyxl.load_workbook(path)
    for spec in INPUT_SHEETS:
        if spec.name != "Settings":
            assert wb[spec.name].max_row == 1
            assert [c.value for c in wb[spec.name][1]] == spec.column_names


def test_sheets_columns_help_and_defaults_come_from_the_schema(tmp_path: Path):
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))
    assert wb.sheetnames == [README, *(s.name for s in INPUT_SHEETS), SCENARIOS_SHEET.name]
    readme = [tuple(r) for r in wb[README].iter_rows(values_only=True)]
    documented = {(r[0], r[1]) for r in readme if r[0]}
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        header = [c.value for c in wb[spec.name][1]]
        assert header[: len(spec.columns)] == spec.column_names
        for col, cell in zip(spec.columns, wb[spec.name][1], strict=False):
            assert (spec.name, col.name) in documented
            assert col.help in cell.comment.text
            if col.unit:
                assert f"Unit: {col.unit}" in cell.comment.text
    settings = {r[0]: r for r in wb["Settings"].iter_rows(min_row=2, values_only=True)}
    assert [c.value for c in wb["Settings"][1]] == ["setting", "value", "default", "help"]
    assert list(settings) == [s.name for s in SETTINGS]
    for s in SETTINGS:
        _, value, default, help_text = settings[s.name]
        assert value == s.default or (value is None and s.default is None)
        assert default == (s.default_text or str(s.default))
        assert s.help in help_text


def test_code_columns_have_drop_downs_on_the_code_lists(tmp_path: Path):
    wb = openpyxl.load_workbook(write_template(tmp_path / "t.xlsx"))
    names = wb.defined_names
    for ref, (name, sheet, _column) in LISTS.items():
        assert f"'{sheet}'!$A$2" in names[name].attr_text
        for spec in INPUT_SHEETS:
            for idx, col in enumerate(spec.columns, start=1):
                if col.ref != ref:
                    continue
                letter = openpyxl.utils.get_column_letter(idx)
                found = [
                    dv
                    for dv in wb[spec.name].data_validations.dataValidation
                    if dv.type == "list" and f"{letter}2" in str(dv.sqref)
                ]
                assert found and found[0].formula1 == f"={name}", (spec.name, col.name)


def test_cli_template_refuses_to_overwrite(tmp_path: Path):
    out = str(tmp_path / "t.xlsx")
    runner = CliRunner()
    first = runner.invoke(main, ["template", out])
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["template", out])
    assert second.exit_code == 2 and "--force" in second.output
    assert runner.invoke(main, ["template", out, "--force"]).exit_code == 0
    check = runner.invoke(main, ["validate", out])
    assert check.exit_code == 0, check.output
