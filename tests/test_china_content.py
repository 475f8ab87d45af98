"""China content traced through every tier (issue 13): ContentRules and the ChinaContent sheet,
on hand-worked two- and three-tier cases with known optima.

Two tiers (magnets): USA needs 100 MAG; JPN makes magnets (5/t) from 1 t of ORE each; ORE comes
from CHN (10/t) or AUS (30/t); a Chinese magnet costs 100/t. Least cost: JPN makes 100 from
Chinese ORE, 500 + 1,000 = 1,500. The magnets' direct China share is 0 (made in Japan), their
any-stage share 100% (every one holds Chinese oxide). A rule "at most 30% China content" needs 70
clean magnets, so 70 t of AUS ORE: 500 + 30 x 10 + 70 x 30 = 2,900; one more point of content
allowed swaps 1 t of AUS ORE for CHN ORE and saves 20.

Three tiers with a two-input recipe (like ATP, a packaged chip = die + substrate): USA needs 100
CHIP; MYS packages (3/unit) from 1 WAFER + 1 SUB; TWN makes WAFER (10) from 1 GA; GA from CHN (1)
or DEU (5); SUB from CHN (2) or KOR (4). Least cost 300 + 1,000 + 100 + 200 = 1,600, all chips
touched by China twice over. At most 40% content: 60 clean chips need 60 clean wafers (60 DEU GA,
+4 each) and 60 clean substrates (+2 each): 1,600 + 360 = 1,960; marginal -6 per point.
"""

from __future__ import annotations

import pytest

from model.api import solve_workbook
from model.data import load_workbook
from model.errors import InputError
from model.formulation.lp import build_lp
from model.formulation.pyomo_model import build_pyomo, solve_pyomo
from tests.independent.checker import check_plan
from tests.independent.reference_lp import reference_optimum
from tests.workbooks import read_sheet, write_workbook

RULE_HDR = ["commodity", "period", "destination", "max_china_content"]
COUNTRY_HDR = ["code", "name", "group", "risk"]
COMMODITY_HDR = ["code", "name", "unit", "china_cap", "shortfall_penalty"]
SUPPLY_HDR = ["country", "commodity", "period", "capacity", "unit_cost"]
DEMAND_HDR = ["country", "commodity", "period", "quantity"]


def magnets(*rules: list, demand: list | None = None, mag_cap=None) -> dict:
    book = {
        "Countries": [COUNTRY_HDR, ["USA", None, "US", None], ["DEU", None, "EU", None],
                      ["JPN", None, "Pax Silica", None], ["AUS", None, "Pax Silica", None],
                      ["CHN", None, "China", None]],
        "Commodities": [COMMODITY_HDR, ["ORE", None, "t", None, None], ["MAG", None, "t", mag_cap, None]],
        "Supply": [SUPPLY_HDR, ["CHN", "ORE", None, 1000, 10], ["AUS", "ORE", None, 1000, 30],
                   ["JPN", "MAG", None, 1000, 5], ["CHN", "MAG", None, 1000, 100]],
        "Demand": [DEMAND_HDR, *(demand or [["USA", "MAG", 2026, 100]])],
        "Recipes": [["output", "input", "quantity"], ["MAG", "ORE", 1.0]],
    }
    if rules:
        book["ContentRules"] = [RULE_HDR, *rules]
    return book


def chips(*rules: list) -> dict:
    book = {
        "Countries": [COUNTRY_HDR, ["USA", None, "US", None], ["MYS", None, "Other", None],
                      ["TWN", None, "Pax Silica", None], ["DEU", None, "EU", None],
                      ["KOR", None, "Pax Silica", None], ["CHN", None, "China", None]],
        "Commodities": [COMMODITY_HDR, *[[k, None, "unit", None, None] for k in ("GA", "WAFER", "SUB", "CHIP")]],
        "Supply": [SUPPLY_HDR, ["CHN", "GA", 2026, 1000, 1], ["DEU", "GA", 2026, 1000, 5],
                   ["TWN", "WAFER", 2026, 1000, 10], ["CHN", "SUB", 2026, 1000, 2],
                   ["KOR", "SUB", 2026, 1000, 4], ["MYS", "CHIP", 2026, 1000, 3]],
        "Demand": [DEMAND_HDR, ["USA", "CHIP", 2026, 100]],
        "Recipes": [["output", "input", "quantity"], ["WAFER", "GA", 1.0], ["CHIP", "WAFER", 1.0],
                    ["CHIP", "SUB", 1.0]],
    }
    if rules:
        book["ContentRules"] = [RULE_HDR, *rules]
    return book


def solve(tmp_path, name: str, book: dict):
    """Solve through the API (plan written), check it independently, compare with the scipy
    reference and the Pyomo statement."""
    inp = write_workbook(tmp_path / f"{name}.xlsx", book)
    out = tmp_path / f"{name}_plan.xlsx"
    plan = solve_workbook(inp, out)
    assert check_plan(inp, out) == []
    assert reference_optimum(inp) == pytest.approx(plan.objective, rel=1e-9)
    term, pyomo_obj = solve_pyomo(build_pyomo(build_lp(load_workbook(inp)).index))
    assert "optimal" in term
    assert pyomo_obj == pytest.approx(plan.objective, rel=1e-9)
    return inp, out, plan


def content(out, commodity: str, destination=None) -> dict:
    rows = [r for r in read_sheet(out, "ChinaContent") if r["commodity"] == commodity
            and r["destination"] == destination]
    assert len(rows) == 1
    return rows[0]


def test_two_tiers_without_a_rule_show_the_hidden_content(tmp_path):
    inp, out, plan = solve(tmp_path, "mag_free", magnets())
    assert plan.objective == pytest.approx(1500)
    mag = content(out, "MAG")
    assert mag["direct_share"] == pytest.approx(0.0)
    assert mag["any_stage_share"] == pytest.approx(1.0)
    assert mag["max_china_content"] is None and mag["binding"] in (False, "FALSE", 0)
    ore = content(out, "ORE")  # ORE delivered to JPN: all Chinese, both ways
    assert ore["direct_share"] == pytest.approx(1.0) and ore["any_stage_share"] == pytest.approx(1.0)
    # without rules the LP is exactly the one without China-content tracing
    lp = build_lp(load_workbook(inp))
    assert lp.var_blocks["clean"].size == 0 and lp.row_blocks["content_rule"].size == 0


def test_two_tiers_with_a_rule(tmp_path):
    _, out, plan = solve(tmp_path, "mag_rule", magnets(["MAG", None, None, 0.3]))
    assert plan.objective == pytest.approx(2900)
    mag = content(out, "MAG")
    assert mag["direct_share"] == pytest.approx(0.0)
    assert mag["any_stage_share"] == pytest.approx(0.3)
    assert mag["max_china_content"] == pytest.approx(0.3)
    assert mag["binding"] in (True, "TRUE", 1)
    assert mag["marginal_cost"] == pytest.approx(-20, abs=1e-6)
    assert mag["rule_row"] == 2
    sens = [r for r in read_sheet(out, "Sensitivity") if r["measure"] == "China content"]
    assert len(sens) == 1 and sens[0]["cost_change"] == pytest.approx(-20, abs=1e-6)
    assert sens[0]["level"] == pytest.approx(0.3) and sens[0]["limit_row"] == 2


def test_a_slack_rule_reads_not_binding_on_both_sheets(tmp_path):
    # at most 100% China content changes nothing (objective 1,500): the rule is slack on ChinaContent
    # and on Sensitivity alike (Sensitivity once read every content row as binding: its part had no
    # `binding` column, and a blank cast to bool is True)
    _, out, plan = solve(tmp_path, "mag_slack", magnets(["MAG", None, None, 1.0]))
    assert plan.objective == pytest.approx(1500)
    assert content(out, "MAG")["binding"] in (False, "FALSE", 0)
    sens = [r for r in read_sheet(out, "Sensitivity") if r["measure"] == "China content"]
    assert len(sens) == 1 and sens[0]["binding"] in (False, "FALSE", 0)
    assert sens[0]["note"] == "not binding" and sens[0]["cost_change"] == pytest.approx(0, abs=1e-9)
    table = plan.tables["Sensitivity"]
    assert not table.loc[table["measure"] == "China content", "binding"].any()


def test_a_china_cap_alone_moves_the_last_stage_not_the_content(tmp_path):
    # A Chinese magnet would be cheapest if it cost 4: a 0% direct cap moves magnet making to Japan,
    # which still uses Chinese oxide. Direct share 0, any-stage share 100%: the first point.
    book = magnets(mag_cap=0.0)
    book["Supply"][4] = ["CHN", "MAG", None, 1000, 4]
    _, out, plan = solve(tmp_path, "mag_cap", book)
    assert plan.objective == pytest.approx(1500)
    mag = content(out, "MAG")
    assert (mag["direct_share"], mag["any_stage_share"]) == pytest.approx((0.0, 1.0))


def test_a_rule_for_one_destination(tmp_path):
    # USA and DEU each need 100 magnets; only supply to the USA must be clean: 100 t AUS ORE
    book = magnets(["MAG", 2026, "USA", 0.0],
                   demand=[["USA", "MAG", 2026, 100], ["DEU", "MAG", 2026, 100]])
    _, out, plan = solve(tmp_path, "mag_usa", book)
    assert plan.objective == pytest.approx(200 * 5 + 100 * 30 + 100 * 10)
    usa = content(out, "MAG", "USA")
    assert usa["any_stage_share"] == pytest.approx(0.0) and usa["binding"] in (True, "TRUE", 1)
    assert usa["marginal_cost"] == pytest.approx(-20, abs=1e-6)  # 1 of 100 t may be Chinese
    everyone = content(out, "MAG")
    assert everyone["any_stage_share"] == pytest.approx(0.5) and everyone["max_china_content"] is None


def test_a_rule_for_a_group_and_a_period_that_beats_the_blank_one(tmp_path):
    book = magnets(["MAG", None, "Pax Silica", 0.0], ["MAG", None, None, 0.5], ["MAG", 2027, None, 1.0],
                   demand=[["USA", "MAG", 2026, 100], ["USA", "MAG", 2027, 100]])
    inp, out, plan = solve(tmp_path, "mag_group", book)
    # Pax Silica is a destination only of ORE flows, not of MAG: that rule reaches nothing.
    # 2026: 50 clean magnets (+20 each = 1,000); 2027: the 100% row replaces the 50% one.
    assert plan.objective == pytest.approx(2 * 1500 + 50 * 20)
    rules = build_lp(load_workbook(inp)).index.rules
    assert sorted(zip(rules["rule_row"], rules["period"], strict=True)) == [(3, 2026), (4, 2027)]


def test_three_tiers_and_a_recipe_with_two_inputs(tmp_path):
    _, out, plan = solve(tmp_path, "chip_free", chips())
    assert plan.objective == pytest.approx(1600)
    chip = content(out, "CHIP")
    assert (chip["direct_share"], chip["any_stage_share"]) == pytest.approx((0.0, 1.0))
    wafer = content(out, "WAFER")
    assert (wafer["direct_share"], wafer["any_stage_share"]) == pytest.approx((0.0, 1.0))

    _, out, plan = solve(tmp_path, "chip_rule", chips(["CHIP", 2026, None, 0.4]))
    assert plan.objective == pytest.approx(1960)
    chip = content(out, "CHIP")
    assert chip["any_stage_share"] == pytest.approx(0.4)
    assert chip["marginal_cost"] == pytest.approx(-6, abs=1e-6)
    # both inputs had to be cleaned: 60 of each from outside China
    flows = plan.tables["Flows"].groupby(["commodity", "origin"])["quantity"].sum()
    assert flows[("GA", "DEU")] == pytest.approx(60) and flows[("SUB", "KOR")] == pytest.approx(60)


def test_a_rule_on_a_middle_tier_reaches_only_upstream(tmp_path):
    # a rule on WAFER cleans GA but leaves SUB (not upstream of WAFER) alone
    inp, _, plan = solve(tmp_path, "wafer_rule", chips(["WAFER", None, None, 0.0]))
    assert plan.objective == pytest.approx(1600 + 100 * 4)
    lp = build_lp(load_workbook(inp))
    assert set(lp.var_blocks["clean"].keys["commodity"]) == {"WAFER", "GA"}


def test_an_impossible_rule_leaves_shortfall_not_an_error(tmp_path):
    # no clean ORE at all: the rule can only be met by delivering fewer magnets
    book = magnets(["MAG", None, None, 0.0])
    book["Supply"] = [r for r in book["Supply"] if r[0] != "AUS"]
    inp = write_workbook(tmp_path / "impossible.xlsx", book)
    out = tmp_path / "impossible_plan.xlsx"
    plan = solve_workbook(inp, out)
    assert str(plan.status) == "optimal_with_shortfall"
    assert check_plan(inp, out) == []
    assert reference_optimum(inp) == pytest.approx(plan.objective, rel=1e-9)


def test_content_rules_are_validated(tmp_path):
    book = magnets(["MAGG", None, None, 0.3], ["MAG", None, "Narnia", 1.5], ["MAG", None, None, 0.2],
                   ["MAG", None, None, 0.4])
    inp = write_workbook(tmp_path / "bad.xlsx", book)
    with pytest.raises(InputError) as err:
        load_workbook(inp)
    text = str(err.value)
    assert "ContentRules row 2, column commodity: unknown commodity" in text
    assert "ContentRules row 3, column destination: unknown country code or group" in text
    assert "ContentRules row 3, column max_china_content: must be <= 1" in text
    assert "ContentRules row 5" in text and "duplicates row 4" in text


def test_a_what_if_on_the_limit_updates_in_place_and_matches_a_fresh_solve(tmp_path):
    from model.api import solve as api_solve
    from model.solve.highs import HighsSession

    data = load_workbook(write_workbook(tmp_path / "whatif.xlsx", magnets(["MAG", None, None, 0.3])))
    session = HighsSession()
    first = api_solve(data, session=session, sensitivity=False, marginals="dual")
    assert first.objective == pytest.approx(2900)
    looser = data.copy()
    looser.tables["ContentRules"] = looser.tables["ContentRules"].assign(max_china_content=0.8)
    again = api_solve(looser, session=session, sensitivity=False, marginals="dual")
    assert again.lp.index.keys is first.lp.index.keys  # same structure: only the numbers changed
    assert again.objective == pytest.approx(1500 + 20 * 20)  # 20 clean magnets, +20 each
    assert api_solve(looser, sensitivity=False).objective == pytest.approx(again.objective, rel=1e-9)


def test_strict_mode_names_an_impossible_rule_without_crashing(tmp_path, run_cli):
    import subprocess
    import sys

    book = magnets(["MAG", None, None, 0.0])
    book["Supply"] = [r for r in book["Supply"] if r[0] != "AUS"]
    inp = write_workbook(tmp_path / "strict.xlsx", book)
    proc = subprocess.run([sys.executable, "-m", "model.cli", "solve", str(inp), "-o", str(tmp_path / "o.xlsx"),
                           "--no-shortfall"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "ContentRules row 2: at most 0% of the MAG" in proc.stderr


def test_the_checker_catches_a_broken_rule_and_a_misreported_share(tmp_path):
    import openpyxl

    # the plan without a rule, checked against the workbook with one: no clean stream meets it
    free = write_workbook(tmp_path / "free.xlsx", magnets())
    free_plan = tmp_path / "free_plan.xlsx"
    solve_workbook(free, free_plan)
    ruled = write_workbook(tmp_path / "ruled.xlsx", magnets(["MAG", None, None, 0.3]))
    found = check_plan(ruled, free_plan)
    assert any(v.startswith("ContentRules: no clean stream") for v in found)
    # a reported any-stage share below what the flows allow is caught
    wb = openpyxl.load_workbook(free_plan)
    ws = wb["ChinaContent"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[header.index("commodity")].value == "MAG":
            row[header.index("any_stage_share")].value = 0.5
    wb.save(tmp_path / "tampered.xlsx")
    found = check_plan(free, tmp_path / "tampered.xlsx")
    assert any("any_stage_share 0.5 but the flows cannot carry less than 1" in v for v in found), found
