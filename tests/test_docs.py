"""docs/workbook.md is generated from model/schema.py; the committed file must match."""

from __future__ import annotations

from model.report.docs import DOC_PATH, render
from model.schema import INPUT_SHEETS, OUTPUT_SHEETS, SETTINGS


def test_committed_workbook_doc_is_generated_from_the_schema():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/workbook.md is out of date: run `python -m model.report.docs`"
    )


def test_doc_names_every_sheet_column_and_setting():
    text = render()
    for spec in INPUT_SHEETS:
        assert f"### {spec.name}" in text
        for col in spec.columns:
            assert f"`{col.name}`" in text
    for s in SETTINGS:
        assert f"`{s.name}`" in text
    for name in OUTPUT_SHEETS:
        assert f"### {name}" in text
