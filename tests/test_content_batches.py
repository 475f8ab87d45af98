"""Batches, Comparison and the frontier show the any-stage China share beside the direct one, and
`frontier --content` sweeps the content limit (issue 13). The magnet case of test_china_content:
every magnet is made in Japan from Chinese oxide unless 20/t more buys Australian oxide."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from model.batch.commands import run_batch
from model.batch.frontier import run_frontier
from model.cli import main
from model.data import load_workbook
from tests.test_china_content import magnets
from tests.workbooks import read_sheet, write_workbook

SCENARIO_HDR = ["scenario", "sheet", "column", "where", "action", "value", "note"]


def test_comparison_shows_any_stage_beside_direct(tmp_path):
    book = magnets(["MAG", None, None, 1.0])
    book["Scenarios"] = [SCENARIO_HDR, ["clean70", "ContentRules", "max_china_content", "commodity=MAG", "set",
                                        0.3, "at most 30% China content"]]
    tables, _ = run_batch(load_workbook(write_workbook(tmp_path / "b.xlsx", book)), progress=False)
    comp = tables["Comparison"].set_index("scenario")
    cols = list(comp.columns)
    direct = [c for c in cols if c.startswith("china_share_")]
    traced = [c for c in cols if c.startswith("any_stage_share_")]
    # the any-stage shares follow the direct ones, commodity for commodity (as declared)
    assert [c.removeprefix("any_stage_share_") for c in traced] == [c.removeprefix("china_share_") for c in direct]
    assert cols.index(traced[0]) == cols.index(direct[-1]) + 1 and "any_stage_share_MAG" in traced
    assert comp.at["base", "china_share_MAG"] == pytest.approx(0.0)
    assert comp.at["base", "any_stage_share_MAG"] == pytest.approx(1.0)
    assert comp.at["clean70", "any_stage_share_MAG"] == pytest.approx(0.3)
    assert comp.at["clean70", "delta_objective"] == pytest.approx(70 * 20)


def test_frontier_content_sweeps_the_traced_share(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "f.xlsx", magnets()))
    table, _ = run_frontier(data, ["MAG"], steps=2, progress=False, content=True)
    assert table["max_china_content"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert table["china_cap"].isna().all()
    assert table["objective"].tolist() == pytest.approx([1500, 2500, 3500])
    assert table["any_stage_share"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert table["china_share"].tolist() == pytest.approx([0.0, 0.0, 0.0])
    assert table["slope"].tolist()[1:] == pytest.approx([-20, -20])
    assert table["marginal_cost"].tolist()[1] == pytest.approx(-20)
    # the direct frontier shows the any-stage share too; MAG's direct share is 0 from the start
    direct, _ = run_frontier(data, ["ORE"], steps=1, progress=False)
    assert direct["any_stage_share"].notna().all() and direct["max_china_content"].isna().all()


def test_cli_frontier_content(tmp_path):
    inp = write_workbook(tmp_path / "f.xlsx", magnets())
    out = tmp_path / "frontier.xlsx"
    result = CliRunner().invoke(main, ["frontier", str(inp), "-o", str(out), "--content", "--steps", "2"])
    assert result.exit_code == 0, result.output
    rows = read_sheet(out, "Frontier")
    assert {r["commodity"] for r in rows} == {"MAG", "ORE"}  # both chains touch China
    mag = [r for r in rows if r["commodity"] == "MAG"]
    assert [r["any_stage_share"] for r in mag] == pytest.approx([1.0, 0.5, 0.0])
