"""The plan's output contract (issue 10): every table built equals its declaration in
model/schema.py, the writer formats by declaration, the sheets agree with each other, Summary
figures add up, Prices say what one more unit really costs, and io/ never imports report/."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from model.api import solve
from model.data import load_workbook
from model.formulation.lp import build_lp
from model.io.writer import write_plan
from model.results import DECISION_METRICS, safe_text
from model.schema import NUMBER_FORMATS, OUTPUT_SHEETS, OUTPUTS, SUMMARY_METRICS
from model.solve.highs import HighsSession
from tests.workbooks import write_workbook

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "inputs" / "base_case.xlsx"


def small_sheets() -> dict:
    """Two commodities in different units, a China cap that binds, a share limit, a route limit,
    and a shortfall (MAG demand beyond every capacity)."""
    return {
        "Countries": [["code", "name", "group", "risk"], ["USA", "US", "US", 0.1], ["AUS", "AU", "Pax", 0.2],
                      ["CHN", "CN", "China", 0.8], ["JPN", "JP", "Pax", 0.1]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"],
                        ["REO", "Rare-earth oxide", "t", 0.3, 1000], ["MAG", "Magnet", "k pieces", None, 500]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"],
                   ["AUS", "REO", None, 60, 20], ["CHN", "REO", None, 200, 5], ["JPN", "REO", None, 100, 30],
                   ["JPN", "MAG", None, 40, 50]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "REO", 2026, 100],
                   ["USA", "REO", 2027, 120], ["USA", "MAG", 2026, 50]],
        "Routes": [["origin", "destination", "commodity", "cost_per_unit", "max_quantity"],
                   ["AUS", "USA", "REO", 2, 55]],
        "ShareLimits": [["commodity", "period", "source", "min_share", "max_share"], ["REO", None, "JPN", 0.05, None]],
        "Settings": [["setting", "value"], ["risk_weight", 1]],
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = write_workbook(tmp_path_factory.mktemp("contract") / "small.xlsx", small_sheets())
    return solve(load_workbook(path), ranging=True, alternate_optima=True)


@pytest.fixture(scope="module")
def base_plan():
    return solve(load_workbook(BASE), rows="decisive")


def test_every_table_built_equals_its_declaration(small, base_plan):
    for plan in (small, base_plan):
        for name in plan.tables:
            assert name in OUTPUTS, f"{name} is written but not declared in model/schema.py"
            assert list(plan.tables[name].columns) == OUTPUTS[name].column_names, name
    assert {"Overview", "Summary", "Flows", "Shares", "ChinaShare", "Shortfalls", "Capacity", "Prices",
            "Sensitivity", "FlowSensitivity", "AlternateOptima"} <= set(small.tables)
    # the legacy mapping is derived from the declarations, never typed twice
    for name, (help_text, columns) in OUTPUT_SHEETS.items():
        assert help_text == OUTPUTS[name].help and list(columns) == OUTPUTS[name].column_names


def test_summary_leads_with_decision_figures_that_add_up(small):
    s = small.tables["Summary"]
    metrics = list(s["metric"])
    assert set(metrics) <= set(SUMMARY_METRICS), set(metrics) - set(SUMMARY_METRICS)
    lead = [m for m in metrics if m in DECISION_METRICS]
    assert metrics[:len(lead)] == lead and lead[:4] == ["status", "objective", "total_cost", "shortfall_value"]
    v = s.set_index("metric")["value"]
    assert small.shortfall_value > 0  # MAG demand cannot be met
    assert v["objective"] == pytest.approx(v["total_cost"] + v["shortfall_value"] + v["risk_cost"], rel=1e-9)
    short = small.tables["Shortfalls"]
    assert (short["value"] == short["quantity"] * short["penalty"]).all()
    assert short["value"].sum() == pytest.approx(v["shortfall_value"], rel=1e-9)
    assert int(v["china_caps_binding"]) == int(small.tables["ChinaShare"]["binding"].sum())
    assert s.set_index("metric").loc["total_cost", "unit"] == "USD"


def test_every_quantity_has_its_commodity_unit(small):
    units = {"REO": "t", "MAG": "k pieces"}
    for name in ("Flows", "Shares", "Shortfalls", "Capacity", "Prices", "FlowSensitivity", "Overview"):
        t = small.tables[name]
        assert len(t), name
        assert (t["unit"] == t["commodity"].map(units)).all(), name
    sens = small.tables["Sensitivity"]
    cap = sens[sens["measure"] == "capacity"]
    assert (cap["quantity_unit"] == cap["commodity"].map(units)).all()
    assert (cap["unit"] == "USD per +1 " + cap["commodity"].map(units) + " of capacity").all()


def test_sheets_agree_on_what_binds(base_plan):
    china = base_plan.tables["ChinaShare"]
    sens = base_plan.tables["Sensitivity"]
    caps = sens[sens["measure"] == "China cap"].set_index(["period", "commodity"])["binding"]
    mine = china.dropna(subset=["china_cap"]).set_index(["period", "commodity"])["binding"]
    assert caps.sort_index().equals(mine.sort_index())
    assert int(mine.sum()) == int(base_plan.summary_value("china_caps_binding")) > 0
    # and the marginal of a binding cap in ChinaShare is the Sensitivity cost_change, no re-labelling
    cc = sens[sens["measure"] == "China cap"].set_index(["period", "commodity"])["cost_change"]
    mc = china.dropna(subset=["china_cap"]).set_index(["period", "commodity"])["marginal_cost"]
    assert np.allclose(cc.sort_index().to_numpy(), mc.sort_index().to_numpy())


def test_prices_are_the_cost_of_one_more_unit(base_plan):
    """Independently of the duals: add one unit of demand and re-solve from scratch."""
    data = load_workbook(BASE)
    prices = base_plan.tables["Prices"]
    resolved = prices[prices["note"].str.startswith(("re-solved", "degenerate"))]
    assert len(resolved) > 0  # the base case is degenerate: some duals do not hold for a whole unit
    lp = build_lp(data)
    base = HighsSession().solve(lp)
    rows = lp.rows("balance")
    needs = lp.index.needs.reset_index(drop=True)
    for _, r in resolved.head(3).iterrows():
        j = needs.index[(needs["period"] == r["period"]) & (needs["commodity"] == r["commodity"])
                        & (needs["country"] == r["country"])][0]
        lo, hi = lp.row_lower.copy(), lp.row_upper.copy()
        lo[rows.start + j] += 1
        hi[rows.start + j] += 1
        more = HighsSession().solve(dataclasses.replace(lp, row_lower=lo, row_upper=hi))
        assert r["marginal_cost"] == pytest.approx(more.objective - base.objective, rel=1e-6, abs=1e-3)


def test_flow_sensitivity_is_excel_solvers_variable_report(small):
    lanes = small.tables["FlowSensitivity"]
    limited = lanes[(lanes["origin"] == "AUS") & (lanes["destination"] == "USA") & (lanes["commodity"] == "REO")]
    assert (limited["route_limit"] == 55).all()
    # AUS is cheap: the lane runs at its limit in at least one period, where loosening it saves
    at = limited[limited["quantity"] >= 55 - 1e-9]
    assert len(at) and (at["route_limit_dual"] < 0).all()
    used = lanes[(lanes["quantity"] > 0) & (lanes["route_limit_dual"] == 0)]
    assert (used["reduced_cost"].abs() < 1e-6).all()  # a basic variable has no reduced cost


def test_writer_formats_by_declaration(small, tmp_path):
    out = tmp_path / "plan.xlsx"
    write_plan(small, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Overview"
    flows = wb["Flows"]
    header = [c.value for c in flows[1]]
    assert flows.cell(2, header.index("cost") + 1).number_format == NUMBER_FORMATS["money"]
    assert flows.cell(2, header.index("period") + 1).number_format == NUMBER_FORMATS["period"]
    summary = {r[0].value: r[1] for r in wb["Summary"].iter_rows(min_row=2)}
    assert summary["total_cost"].number_format == NUMBER_FORMATS["money"]
    assert summary["variables"].number_format == NUMBER_FORMATS["integer"]
    shares = wb["Shares"]
    sh = [c.value for c in shares[1]]
    assert "%" in shares.cell(2, sh.index("share") + 1).number_format
    readme = [tuple(c.value for c in r) for r in wb["README"].iter_rows(min_row=2)]
    for name in ("Flows", "Capacity", "FlowSensitivity"):
        for col in OUTPUTS[name].columns:
            assert (name, col.name, col.help, col.unit or None) in readme


def test_decisive_detail_leaves_out_rows_and_says_so(base_plan, tmp_path):
    full = solve(load_workbook(BASE), rows="full")  # the same path, so the same optimum (the base case is degenerate)
    assert len(base_plan.tables["FlowSensitivity"]) < len(full.tables["FlowSensitivity"])
    cap = base_plan.tables["Capacity"]
    assert (cap["used"] > 0).sum() == (full.tables["Capacity"]["used"] > 0).sum()  # nothing used is dropped
    detail = str(base_plan.summary_value("detail"))
    assert "FlowSensitivity" in detail and "--detail full" in detail
    out = tmp_path / "plan.xlsx"
    write_plan(base_plan, out)
    readme = [r[2] for r in openpyxl.load_workbook(out, read_only=True)["README"].iter_rows(values_only=True)]
    assert any(isinstance(t, str) and t.startswith("Left out by default") for t in readme)


def test_io_never_imports_report():
    for path in (ROOT / "model" / "io").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "model.report" not in text, path.name


def test_input_file_name_that_is_not_valid_text_is_escaped():
    name = "plan\udcff\x01.xlsx"  # an undecodable byte (surrogate escape) and a control character
    text = safe_text(name)
    assert text == "plan\\xff\\x01.xlsx"
    text.encode("utf-8")  # valid text now


def test_detail_full_writes_every_row_and_spills_beyond_the_sheet_limit(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import model.io.xlsx_plan as xlsx_plan
    from model.cli import main

    path = write_workbook(tmp_path / "small.xlsx", small_sheets())
    out = tmp_path / "plan.xlsx"
    monkeypatch.setattr(xlsx_plan, "EXCEL_MAX_ROWS", 5)  # a sheet that holds 5 rows: the lanes spill
    result = CliRunner().invoke(main, ["solve", str(path), "-o", str(out), "--detail", "full"])
    assert result.exit_code == 0, result.output
    spilled = tmp_path / "plan.FlowSensitivity.parquet"
    assert spilled.exists()
    import pandas as pd

    lanes = pd.read_parquet(spilled)
    assert list(lanes.columns) == OUTPUTS["FlowSensitivity"].column_names
    full = solve(load_workbook(path), marginals="dual")
    assert len(lanes) == len(full.tables["FlowSensitivity"])  # every lane, none left out
    wb = openpyxl.load_workbook(out, read_only=True)
    note = next(wb["FlowSensitivity"].iter_rows(values_only=True))[0]
    assert "plan.FlowSensitivity.parquet" in note
    summary = pd.read_parquet(tmp_path / "plan.Summary.parquet")  # 39 metrics: more than 5 rows too
    assert "objective" in set(summary["metric"]) and "detail" not in set(summary["metric"])  # nothing left out


def test_planning_ahead_sheets_are_declared_and_formatted(base_plan, tmp_path):
    """Stocks and Projects (solve) and the hedge sheets: built as declared, formatted by declaration."""
    from model.batch.hedge import solve_hedge
    from model.io.writer import write_tables

    assert {"Stocks", "Projects"} <= set(base_plan.tables)
    summary = list(base_plan.tables["Summary"]["metric"])
    assert summary.index("investment_cost") < summary.index("production_cost")
    assert summary.index("holding_cost") < summary.index("production_cost")
    out = tmp_path / "plan.xlsx"
    write_plan(base_plan, out)
    wb = openpyxl.load_workbook(out)
    for name in ("Stocks", "Projects"):
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert header == OUTPUTS[name].column_names
        for col in OUTPUTS[name].columns:
            cell = ws.cell(2, header.index(col.name) + 1)
            if col.format != "text" and cell.value is not None:  # a blank (not built) has no cell
                assert cell.number_format == NUMBER_FORMATS[col.format], (name, col)
    res = solve_hedge(load_workbook(BASE), {"china_ga_ge_sb_ban_us_dec2024": 0.3})
    for name, table in res.tables.items():
        assert name in OUTPUTS, name
        if name != "Summary":
            assert list(table.columns) == OUTPUTS[name].column_names, name
    assert set(res.tables["Summary"]["metric"]) <= set(SUMMARY_METRICS)
    write_tables(res.tables, tmp_path / "hedge.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "hedge.xlsx")
    hedge = wb["Hedge"]
    header = [c.value for c in hedge[1]]
    assert hedge.cell(2, header.index("objective") + 1).number_format == NUMBER_FORMATS["money"]
    assert "%" in hedge.cell(2, header.index("probability") + 1).number_format
def content_sheets() -> dict:
    """Magnets made from ore (issue 13): China ore is cheap, so a content rule on MAG binds."""
    return {
        "Countries": [["code", "name", "group", "risk"], ["USA", None, "US", None], ["JPN", None, "Pax", None],
                      ["AUS", None, "Pax", None], ["CHN", None, "China", None]],
        "Commodities": [["code", "name", "unit", "china_cap", "shortfall_penalty"], ["ORE", None, "t", None, None],
                        ["MAG", None, "t", None, None]],
        "Supply": [["country", "commodity", "period", "capacity", "unit_cost"], ["CHN", "ORE", None, 1000, 10],
                   ["AUS", "ORE", None, 1000, 30], ["JPN", "MAG", None, 1000, 5], ["CHN", "MAG", None, 1000, 100]],
        "Demand": [["country", "commodity", "period", "quantity"], ["USA", "MAG", 2026, 100]],
        "Recipes": [["output", "input", "quantity"], ["MAG", "ORE", 1.0]],
        "ContentRules": [["commodity", "period", "destination", "max_china_content"], ["MAG", None, None, 0.3]],
    }


def test_china_content_follows_its_declaration_the_registry_and_the_analysis(tmp_path):
    from model.formulation.families import FAMILIES, binding

    path = write_workbook(tmp_path / "content.xlsx", content_sheets())
    plan = solve(load_workbook(path))
    names = list(plan.tables)
    assert names[0] == "Overview" and names.index("ChinaContent") == names.index("Prices") + 1
    cc = plan.tables["ChinaContent"]
    assert list(cc.columns) == OUTPUTS["ChinaContent"].column_names
    rule = cc[cc["rule_row"].notna()].iloc[0]
    assert rule["any_stage_share"] == pytest.approx(0.3) and rule["direct_share"] == pytest.approx(0.0)
    # binding is the registry's; the marginal was re-solved before the table (results.Analysis)
    assert bool(rule["binding"]) and binding(plan.lp, plan.solution, "content_rule").tolist() == [True]
    assert plan.context.an.content_marginals is not None
    assert rule["marginal_cost"] == pytest.approx(plan.context.an.content_marginals[0]) and rule["marginal_cost"] < 0
    sens = plan.tables["Sensitivity"]
    row = sens[sens["measure"] == FAMILIES["content_rule"].label].iloc[0]
    assert row["cost_change"] == pytest.approx(rule["marginal_cost"])

    out = tmp_path / "plan.xlsx"
    write_plan(plan, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Overview" and "ChinaContent" in wb.sheetnames
    ws = wb["ChinaContent"]
    header = [c.value for c in ws[1]]
    assert header == OUTPUTS["ChinaContent"].column_names
    for col in ("direct_share", "any_stage_share", "max_china_content"):
        assert "%" in ws.cell(2, header.index(col) + 1).number_format, col
    assert any("binding" in str(r.formula) or "=TRUE" in str(r.formula)
               for cf in ws.conditional_formatting for r in cf.rules)
    ss = wb["Sensitivity"]
    sh = [c.value for c in ss[1]]
    for r in range(2, ss.max_row + 1):
        if ss.cell(r, 1).value == FAMILIES["content_rule"].label:
            assert "%" in ss.cell(r, sh.index("value") + 1).number_format
            break
    else:
        raise AssertionError("no China content row in Sensitivity")
    readme = [tuple(c.value for c in r) for r in wb["README"].iter_rows(min_row=2)]
    for col in OUTPUTS["ChinaContent"].columns:
        assert ("ChinaContent", col.name, col.help, col.unit or None) in readme
