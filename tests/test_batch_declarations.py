"""Every batch output table equals its declaration in model/schema.py (issue 10's output contract):
the same columns in the same order, `<CODE>` columns once per commodity, formats from the
contract's vocabulary."""

from __future__ import annotations

import pytest

from model.batch.commands import run_batch
from model.batch.frontier import run_frontier
from model.batch.montecarlo import run_montecarlo
from model.batch.stress import run_stress
from model.data import load_workbook
from model.schema import (
    BATCH_LONG_FORM,
    NUMBER_FORMATS,
    OUTPUTS,
    batch_column,
    long_form_sheet,
)
from tests.test_batch import SCENARIOS
from tests.test_scenarios import sheets
from tests.workbooks import write_workbook

BATCH_SHEETS = ("Comparison", "ShortfallByCommodity", "Diff", "Stress", "Frontier", "MonteCarlo",
                "CapBinding", "Draws")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    data = load_workbook(write_workbook(tmp_path_factory.mktemp("decl") / "in.xlsx",
                                        sheets(SCENARIOS)))
    tables, _ = run_batch(data, progress=False)
    tables["Stress"], _ = run_stress(data, routes=True, progress=False)
    tables["Frontier"], _ = run_frontier(data, steps=2, progress=False)
    mc, _ = run_montecarlo(data, None, draws=3, seed=1, progress=False)
    tables.update(mc)
    return data, tables


def expected_columns(declared, codes: list[str]) -> list[str]:
    out = []
    for col in declared.columns:
        if col.name.endswith("<CODE>"):
            out += [col.name.replace("<CODE>", c) for c in codes]
        else:
            out.append(col.name)
    return out


@pytest.mark.parametrize("name", BATCH_SHEETS)
def test_every_batch_table_equals_its_declaration(built, name):
    data, tables = built
    declared = OUTPUTS[name]
    codes = list(data["Commodities"]["code"])
    assert list(tables[name].columns) == expected_columns(declared, codes)
    for column in tables[name].columns:
        assert batch_column(declared, column).format in NUMBER_FORMATS
    assert declared.commands and declared.help


@pytest.mark.parametrize("name", BATCH_LONG_FORM)
def test_long_form_sheets_are_the_plan_sheets_with_the_scenario_first(built, name):
    _, tables = built
    declared = long_form_sheet(name)
    assert declared.column_names[0] == "scenario"
    # every declared plan column is there, in order (a column the plan adds later comes with it)
    written = list(tables[name].columns)
    assert written[0] == "scenario"
    assert [c for c in declared.column_names if c in written] == [
        c for c in written if c in declared.column_names]


def test_money_columns_are_declared_as_currency():
    for name in BATCH_SHEETS:
        for col in OUTPUTS[name].columns:
            if col.format == "money":
                assert col.unit == "currency", (name, col.name)
            if col.name.startswith(("delta_objective", "objective", "shortfall_value")):
                assert col.format == "money", (name, col.name)
