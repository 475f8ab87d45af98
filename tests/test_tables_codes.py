"""The plan's costliest tables on integer codes (ChinaContent, Flows, FlowSensitivity, Sensitivity)
are the very tables the pandas builders made: every value, dtype and row order, checked against
the builders as they were (tests/independent/frozen_tables.py), and the China-content patterns
(which also build the LP's clean stream) entry for entry.

Workbooks: the shipped base case (ContentRules with and without a destination, clean stocks), a
generated workbook given ContentRules, and two hand-built ones (a stock passing clean units on,
a three-tier chip with a two-input recipe)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model import api
from model.data import InputData, load_workbook
from model.formulation import content
from model.formulation.lp import build_lp
from tests.independent import frozen_tables as old
from tests.workbooks import write_workbook

ROOT = Path(__file__).resolve().parents[1]


def _generated_with_rules(tmp: Path) -> Path:
    """The generator's base-case-sized instance (it has no ContentRules) with three rules: every
    destination, one destination, one period; written and read back so they are validated."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate as gen
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    data: InputData = gen.to_inputdata(gen.small(), run_check=False)
    dest = str(data["Demand"]["country"].iloc[0])
    period = int(pd.to_numeric(data["Demand"]["period"], errors="coerce").dropna().iloc[0])
    rules = pd.DataFrame({"commodity": ["P00", "P01", "P02"], "period": [np.nan, np.nan, period],
                          "destination": [None, dest, None], "max_china_content": [0.6, 0.5, 0.7],
                          "row": [2, 3, 4]})
    data.tables["ContentRules"] = rules
    out = tmp / "generated_rules.xlsx"
    gen.write_xlsx(data, str(out))
    return out


def _stock_book(tmp: Path) -> Path:
    from tests.test_stock_content import book

    return write_workbook(tmp / "stock_rule.xlsx", book("AUS", rule=0.5))


def _chips_book(tmp: Path) -> Path:
    from tests.test_china_content import chips

    return write_workbook(tmp / "chips_rule.xlsx", chips(["CHIP", None, None, 0.4], ["WAFER", 2026, "MYS", 0.5]))


@pytest.fixture(scope="module", params=["base_case", "generated", "stock", "chips"])
def solved(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    path = {"base_case": lambda: ROOT / "inputs" / "base_case.xlsx", "generated": lambda: _generated_with_rules(tmp),
            "stock": lambda: _stock_book(tmp), "chips": lambda: _chips_book(tmp)}[request.param]()
    data = load_workbook(path)
    return request.param, data, api.solve(data, rows="decisive")


def test_the_fixtures_have_rules(solved):
    """Each workbook exercises the rule paths (a fixture without rules would test nothing)."""
    name, data, plan = solved
    rules = plan.lp.index.keys["rules"]
    assert len(rules)
    assert rules["destination"].notna().any()
    if name in ("generated", "chips"):
        assert rules["destination"].isna().any()
    if name in ("base_case", "stock"):
        assert len(plan.lp.index.keys["stocks"])


def _same_pattern(new: tuple, ref: tuple) -> None:
    for a, b in zip(new, ref, strict=True):
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_exact=True)
        else:
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_content_patterns_are_the_frames_ones(solved):
    """clean_input (flows and stocks) and content_rule entries, for the LP's clean stream and for
    the tracing LP (every commodity reached), equal the merge-built ones entry for entry."""
    _, data, plan = solved
    ix = plan.lp.index
    f, rec, st = ix.keys["flows"], ix.keys["recipes"], ix.keys["stocks"]
    for fc in (content._fc(ix), content.clean_flows(f, set(f["commodity"]))):
        new = content.clean_input_pattern(f, rec, fc, st, ix.china)
        ref = old.clean_input_pattern(f, rec, fc, st, ix.china)
        _same_pattern(new[0], ref[0])
        _same_pattern(new[1], ref[1])
        _same_pattern(content.rule_pattern(f, ix.keys["rules"], fc), old.rule_pattern(f, ix.keys["rules"], fc))
    codes = data["Commodities"]["code"].to_numpy(dtype=object)
    t = old._targets(plan.lp, ix.periods, codes, ix.china)
    z = np.zeros(0, dtype=np.int64)
    _same_pattern(content.rule_pattern(f, t, z), old.rule_pattern(f, t, z))


def test_extra_rows_without_production(solved):
    """input_pattern's extra rows (clean stocks' periods) where nothing is made: same rows."""
    _, _, plan = solved
    ix = plan.lp.index
    f, rec = ix.keys["flows"], ix.keys["recipes"]
    fc = content.clean_flows(f, set(f["commodity"]))
    extra = f.iloc[::7][["destination", "commodity", "period"]].rename(columns={"destination": "country"})
    _same_pattern(content.input_pattern(f, rec, fc, extra), old.input_pattern(f, rec, fc, extra))


def test_china_content_table(solved):
    _, _, plan = solved
    ref = old.china_content_table(plan)
    pd.testing.assert_frame_equal(plan.tables["ChinaContent"], ref, check_exact=True)
    assert len(ref) and ref["rule_row"].notna().any()


def test_flows_and_flow_sensitivity(solved):
    name, _, plan = solved
    lp, ctx = plan.lp, plan.context
    x = plan.solution.x[lp.cols("flow")]
    pd.testing.assert_frame_equal(plan.tables["Flows"], old.flows_table(lp, x, ctx.units), check_exact=True)
    lanes = old.flow_sensitivity_table(lp, plan.solution, ctx.units)
    pd.testing.assert_frame_equal(ctx.lanes_full(), lanes, check_exact=True)
    pd.testing.assert_frame_equal(plan.tables["FlowSensitivity"], old.decisive(ctx, "FlowSensitivity", lanes),
                                  check_exact=True)
    assert 0 < len(plan.tables["FlowSensitivity"]) <= len(lanes)
    if name in ("base_case", "generated"):
        assert len(plan.tables["FlowSensitivity"]) < len(lanes)


def _old_sensitivity(plan, ranging=None):
    ctx = plan.context
    return old.sensitivity_table(plan, ranging, marginals=ctx.an.share_marginals, binding=ctx.binding,
                                 units=ctx.units)


def test_sensitivity_full_and_decisive(solved):
    """Every row of the full table (all measures, the sheet's order), then the decisive rows."""
    name, _, plan = solved
    ctx = plan.context
    ref = _old_sensitivity(plan)
    pd.testing.assert_frame_equal(ctx.sensitivity_full(plan), ref, check_exact=True)
    measures = set(ref["measure"])
    assert {"capacity", "unit cost", "delivered cost", "China content"} <= measures
    if name == "base_case":
        assert {"China cap", "share maximum", "share minimum", "stock capacity", "project capacity"} <= measures
    pd.testing.assert_frame_equal(plan.tables["Sensitivity"], old.decisive(ctx, "Sensitivity", ref), check_exact=True)
    cap = ctx.capacity_full()
    pd.testing.assert_frame_equal(plan.tables["Capacity"], old.decisive(ctx, "Capacity", cap), check_exact=True)
    from model.results import decisive_suppliers

    np.testing.assert_array_equal(decisive_suppliers(cap), old.decisive_suppliers(cap))


def test_sensitivity_with_ranging(tmp_path):
    """With HiGHS ranging (allowable ranges, infinite ones blank) and duals for the share
    marginals: the generated workbook with rules."""
    data = load_workbook(_generated_with_rules(tmp_path))
    plan = api.solve(data, ranging=True, marginals="dual")
    ranging = plan.context.an.ranging
    assert ranging is not None
    ref = _old_sensitivity(plan, ranging)
    assert ref["allowable_increase"].notna().any() and ref["allowable_decrease"].notna().any()
    pd.testing.assert_frame_equal(plan.tables["Sensitivity"], ref, check_exact=True)


def test_flows_without_units_or_flows(solved):
    """No units (a plan read without its Commodities sheet) and an all-zero plan (empty sheet)."""
    from model.results import flow_sensitivity_table, flows_table

    _, _, plan = solved
    lp = plan.lp
    x = plan.solution.x[lp.cols("flow")]
    pd.testing.assert_frame_equal(flows_table(lp, x), old.flows_table(lp, x), check_exact=True)
    zero = np.zeros_like(x)
    pd.testing.assert_frame_equal(flows_table(lp, zero), old.flows_table(lp, zero), check_exact=True)
    pd.testing.assert_frame_equal(flow_sensitivity_table(lp, plan.solution), old.flow_sensitivity_table(lp, plan.solution),
                                  check_exact=True)


def _trace_both(plan, monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    """The tracing LP's clean flows solved without its fixed-at-zero columns (as the table does)
    and whole (as main did)."""
    import model.content_tables as ct

    lp = plan.lp
    x = plan.solution.x[lp.cols("flow")]
    levels = ct._levels(lp, plan.solution.x)
    open_ = ct.trace_clean(lp, x, levels)
    def whole_lp(arrays):  # solve_arrays as it was: every column passed to HiGHS
        from model.solve.parts import PartSolver
        from model.status import Status

        sol = PartSolver(arrays).solve()
        return sol.x if sol.status == Status.OPTIMAL else None

    with monkeypatch.context() as m:
        m.setattr(ct, "solve_arrays", whole_lp)
        whole = ct.trace_clean(lp, x, levels)
    return open_, whole


def test_tracing_without_fixed_columns_is_the_same_optimum(solved, monkeypatch):
    """Dropping the columns fixed at 0 (unused flows and stocks) leaves the same LP; the solver
    returns the very same optimum, bit for bit, on every workbook here (rules, stocks, chips)."""
    _, _, plan = solved
    open_, whole = _trace_both(plan, monkeypatch)
    assert np.isfinite(whole).all() and whole.sum() > 0
    np.testing.assert_array_equal(open_, whole)


def test_tracing_without_fixed_columns_on_medium(monkeypatch):
    """The same on the generator's medium workbook (80k flows, 96% unused: where it pays)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate as gen
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    plan = api.solve(gen.to_inputdata(gen.medium(), run_check=False))
    open_, whole = _trace_both(plan, monkeypatch)
    assert np.isfinite(whole).all() and whole.sum() > 0
    np.testing.assert_array_equal(open_, whole)


def test_lp_unchanged_by_codes(solved):
    """The clean stream's rows (keys and matrix) are what the merge-built patterns give."""
    _, data, plan = solved
    lp = build_lp(data)
    ix = lp.index
    f = ix.keys["flows"]
    (keys, *_), (all_keys, *_) = old.clean_input_pattern(f, ix.keys["recipes"], content._fc(ix), ix.keys["stocks"], ix.china)
    block = lp.row_blocks["clean_input"]
    pd.testing.assert_frame_equal(block.keys.reset_index(drop=True), all_keys if len(all_keys) else keys, check_exact=True)
