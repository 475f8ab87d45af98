"""Numerics that never lie and honest comparisons (issue 14 items 5, 6, 7, 15, 16; issue 10):
scenario arithmetic held to the cell limit, a failed in-place update re-solved from scratch, a
batch equal to fresh solves in any order, `base` reserved, one bad Scenarios row failing alone,
and comparisons that lead with the objective and never add different units."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.api import solve
from model.batch.commands import batch_jobs, run_batch
from model.batch.frontier import frontier_charts, run_frontier
from model.batch.runner import Job, run_jobs
from model.batch.scenarios import apply_scenario
from model.batch.stress import run_stress
from model.cli import main
from model.data import load_workbook
from model.errors import InputError
from model.formulation.lp import build_lp
from model.schema import MAX_ABS_NUMBER
from model.solve import highs
from model.status import Status
from tests.test_scenarios import sheets
from tests.workbooks import read_sheet, write_workbook

SCENARIOS = [
    ["ga_ban", "Supply", "capacity", "country=CHN;commodity=GA", "set", 0, "export ban"],
    ["huge", "Demand", "quantity", None, "scale", 1e14, "beyond the cell limit"],
    ["cap20", "Commodities", "china_cap", None, "set", 0.2, None],
    ["premium", "Supply", "unit_cost", "country=AUS", "scale", 1.5, None],
    ["risky", "Settings", "value", "setting=risk_weight", "set", 1e6, None],
    ["penalty", "Commodities", "shortfall_penalty", "code=GA", "set", 1e9, None],
    ["no_aus", "Supply", "capacity", "country=AUS", "set", 0, None],
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    book = sheets(SCENARIOS)
    book["Settings"] = [["setting", "value"], ["risk_weight", 0]]
    wb = write_workbook(tmp_path_factory.mktemp("num") / "in.xlsx", book)
    return load_workbook(wb)


def fresh(data, name):
    """The scenario solved alone, in a new session: the reference for every batch result."""
    return solve(apply_scenario(data, name)[0])


# ------------------------------------------------------------------ limits and statuses


def test_scenario_arithmetic_beyond_the_cell_limit_fails_that_scenario_only(data):
    with pytest.raises(InputError) as info:
        apply_scenario(data, "huge")
    text = str(info.value.problems[0])
    assert "Scenarios row 3" in text and "beyond the limit" in text and "1e+15" in text
    _, report = run_batch(data, ["ga_ban", "huge", "premium"], progress=False)
    by = report.by_key
    assert by["huge"].status == "error" and math.isnan(by["huge"].objective)
    assert by["premium"].objective == pytest.approx(fresh(data, "premium").objective, rel=1e-9)


def test_a_failed_in_place_update_is_solved_again_from_scratch(data, monkeypatch):
    session = highs.HighsSession(threads=1)
    base_lp = build_lp(data)
    session.solve(base_lp)
    edited, _ = apply_scenario(data, "premium")
    lp = build_lp(edited)
    assert session.lp.same_structure(lp)  # the update path would be taken

    def refuse(self, old, new):
        raise RuntimeError("HiGHS changeColsCost failed")

    monkeypatch.setattr(highs.HighsSession, "_update", refuse)
    sol = session.solve(lp)
    assert session.fallbacks == 1
    assert sol.status == Status.OPTIMAL
    assert sol.objective == pytest.approx(fresh(data, "premium").objective, rel=1e-9)


def test_a_suspect_status_after_an_update_is_checked_from_scratch(data, monkeypatch):
    session = highs.HighsSession(threads=1)
    session.solve(build_lp(data))
    real = highs.HighsSession._solution
    calls = {"n": 0}

    def trouble_once(self, lp, seconds, iterations, warm):
        calls["n"] += 1
        sol = real(self, lp, seconds, iterations, warm)
        if calls["n"] == 1:  # the in-place update's answer: pretend HiGHS got lost
            sol.status, sol.x = Status.NUMERICAL_TROUBLE, None
        return sol

    monkeypatch.setattr(highs.HighsSession, "_solution", trouble_once)
    sol = session.solve(build_lp(apply_scenario(data, "premium")[0]))
    assert session.fallbacks == 1 and calls["n"] == 2
    assert sol.status == Status.OPTIMAL  # this solve's status, never the previous one's
    assert sol.objective == pytest.approx(fresh(data, "premium").objective, rel=1e-9)


def test_a_recipes_quantity_at_the_cell_limit_solves(tmp_path):
    book = sheets()
    book["Recipes"] = [["output", "input", "quantity"], ["GA", "REO", MAX_ABS_NUMBER]]
    plan = solve(load_workbook(write_workbook(tmp_path / "r.xlsx", book)))
    assert plan.has_plan  # not "HiGHS passModel failed"
    assert plan.objective == pytest.approx(plan.total_cost + plan.shortfall_value + plan.risk_cost,
                                           rel=1e-9)


# ------------------------------------------------------------------ order independence


NAMES = ["ga_ban", "cap20", "premium", "risky", "penalty", "no_aus"]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(NAMES), size=st.integers(1, 4))
def test_a_batch_equals_the_same_scenarios_solved_fresh_in_any_order(data, order, size):
    refs = _references(data)
    jobs = [Job(n, partial(apply_scenario, name=n)) for n in order]
    report = run_jobs(data, jobs, chunk_size=size, progress=False)
    assert [r.key for r in report.results] == list(order)
    for r in report.results:
        ref = refs[r.key]
        assert r.status == str(ref.status), r.key
        assert r.objective == pytest.approx(ref.objective, rel=1e-7), r.key
        assert r.shortfall_value == pytest.approx(ref.shortfall_value, rel=1e-7, abs=1e-6), r.key


_REFS: dict = {}


def _references(data):
    if not _REFS:
        _REFS.update({n: fresh(data, n) for n in NAMES})
    return _REFS


# ------------------------------------------------------------------ names and bad rows


def bad_rows_workbook(tmp_path):
    rows = [
        ["bad_action", "Supply", "capacity", None, "multiply", 2, None],
        [None, "Supply", "capacity", None, "scale", 2, "a row with no name"],
        ["base", "Supply", "capacity", None, "scale", 3, "would edit the baseline"],
        ["ok", "Supply", "unit_cost", None, "scale", 2, None],
    ]
    return write_workbook(tmp_path / "bad.xlsx", sheets(rows))


def test_bad_scenarios_rows_never_stop_solve(tmp_path):
    wb = bad_rows_workbook(tmp_path)
    run = CliRunner().invoke(main, ["solve", str(wb), "-o", str(tmp_path / "p.xlsx")])
    assert run.exit_code == 0, run.output


def test_each_bad_scenarios_row_fails_alone_and_base_is_never_edited(tmp_path):
    wb = bad_rows_workbook(tmp_path)
    data = load_workbook(wb)
    assert [j.key for j in batch_jobs(data)] == [
        "base", "bad_action", "base (Scenarios row 4)", "ok", "(no name, Scenarios row 3)"]
    out = tmp_path / "b.xlsx"
    run = CliRunner().invoke(main, ["batch", str(wb), "-o", str(out)])
    assert run.exit_code == 0, run.output
    rows = {r["scenario"]: r for r in read_sheet(out, "Comparison")}
    assert "action must be set, scale or add" in rows["bad_action"]["error"]
    assert "kept for the unedited baseline" in rows["base (Scenarios row 4)"]["error"]
    assert "name is blank" in rows["(no name, Scenarios row 3)"]["error"]
    assert rows["ok"]["error"] in (None, "")
    # the baseline is the workbook as written: the rows named base changed nothing
    assert rows["base"]["objective"] == pytest.approx(solve(data).objective, rel=1e-9)
    assert rows["base"]["delta_objective"] == 0


# ------------------------------------------------------------------ honest comparisons


def test_comparison_reads_a_disruption_as_a_loss_not_a_saving(data):
    tables, _ = run_batch(data, ["ga_ban", "no_aus"], progress=False)
    comp = tables["Comparison"].set_index("scenario")
    assert list(comp.columns[:5]) == ["status", "objective", "delta_objective", "shortfall_value",
                                      "delta_shortfall_value"]
    for name in ("ga_ban", "no_aus"):
        row = comp.loc[name]
        assert row["delta_objective"] > 0
        # objective = total cost + value of unmet demand + risk, recomputed from the columns
        assert row["objective"] == pytest.approx(
            row["total_cost"] + row["shortfall_value"] + row["risk_cost"], rel=1e-9)
    assert comp.loc["ga_ban", "shortfall_value"] > 0
    row = comp.loc["ga_ban"]  # the unmet demand is counted in the change, at its penalty
    assert row["delta_objective"] == pytest.approx(row["delta_cost"] + row["delta_shortfall_value"],
                                                   rel=1e-9)
    short = tables["ShortfallByCommodity"]
    assert set(short.columns) >= {"scenario", "commodity", "unit", "shortfall", "shortfall_value"}
    assert (short["unit"] == "t").all()


def test_stress_ranks_by_objective_and_keeps_units_apart(tmp_path):
    book = sheets()
    book["Commodities"].append(["CHIP", "Chip", "wafers", None, None])
    book["Supply"].append(["AUS", "CHIP", None, 10, 100])
    book["Demand"].append(["USA", "CHIP", 2026, 8])
    data = load_workbook(write_workbook(tmp_path / "s.xlsx", book))
    table, _ = run_stress(data, progress=False)
    deltas = table["delta_objective"].tolist()
    assert deltas == sorted(deltas, reverse=True) and table["rank"].tolist() == list(
        range(1, len(table) + 1))
    aus = table.set_index("target").loc["AUS"]
    assert aus["unit"] == "mixed" and math.isnan(aus["capacity_removed"])  # t and wafers
    assert "wafers" in aus["capacity_removed_by_unit"] and " t" in aus["capacity_removed_by_unit"]
    chn = table.set_index("target").loc["CHN"]
    assert chn["unit"] == "t" and chn["capacity_removed"] == pytest.approx(200.0)


def test_frontier_charts_the_objective_and_skips_single_points(data):
    table, _ = run_frontier(data, ["REO", "GA"], steps=3, progress=False)
    for code, rows in table.groupby("commodity"):
        obj = rows["objective"].to_numpy()
        assert np.all(np.diff(obj) >= -1e-6 * max(1.0, abs(obj).max())), code  # never falls
    charts = frontier_charts(table)
    assert all(c.y == ("objective",) for c in charts)
    single = table.iloc[[0]].copy()
    assert frontier_charts(single) == []
