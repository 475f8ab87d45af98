"""Frontier (cost of de-risking), stress (outage screening) and Monte Carlo (reproducible draws)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from model.batch.frontier import run_frontier
from model.batch.montecarlo import apply_draw, run_montecarlo, uncertainty_spec
from model.batch.stress import run_stress
from model.cli import main
from model.data import load_workbook
from model.errors import InputError
from tests.test_scenarios import sheets
from tests.workbooks import read_sheet, write_workbook


@pytest.fixture()
def data(tmp_path):
    return load_workbook(write_workbook(tmp_path / "in.xlsx", sheets()))


def with_idle_supplier(tmp_path):
    s = sheets()
    s["Countries"].append(["JPN", "Japan", "Pax", 0.0])
    s["Supply"].append(["JPN", "REO", None, 500, 900])  # far too expensive to be used
    return s


# ------------------------------------------------------------------ frontier


def test_frontier_cost_never_falls_as_the_cap_tightens_and_marginal_matches_slope(data):
    table, report = run_frontier(data, ["REO", "GA"], steps=4, progress=False)
    assert not report.interrupted
    for code, rows in table.groupby("commodity"):
        rows = rows.sort_values("step")
        assert (np.diff(rows["china_cap"]) < 0).all()
        assert (np.diff(rows["objective"]) >= -1e-7 * rows["objective"].abs().max()).all(), code
        assert rows["china_share"].iloc[-1] == pytest.approx(0.0, abs=1e-9)
    # REO: CHN at 10 vs AUS at 20+2 route and NA at 30 -> linear between breakpoints; the dual
    # (objective change per +1 point of cap) equals the slope measured between neighbouring steps
    # wherever both ends have the same marginal cost (same basis).
    checked = 0
    for _, rows in table.groupby("commodity"):
        m = rows["marginal_cost"].to_numpy()
        slope = rows["slope"].to_numpy()
        for i in range(1, len(rows)):
            if abs(m[i] - m[i - 1]) <= 1e-9 * max(1.0, abs(m[i])):
                assert slope[i] == pytest.approx(m[i], rel=1e-7, abs=1e-7)
                checked += 1
    assert checked >= 4
    reo = table[table["commodity"] == "REO"]
    assert reo["marginal_cost"].iloc[1:].lt(0).all()  # loosening a binding cap saves money


def test_frontier_cli_writes_table_and_line_chart(tmp_path):
    import openpyxl

    wb_path = write_workbook(tmp_path / "in.xlsx", sheets())
    out = tmp_path / "f.xlsx"
    run = CliRunner().invoke(
        main, ["frontier", str(wb_path), "-o", str(out), "--commodity", "REO", "--steps", "3"]
    )
    assert run.exit_code == 0, run.output
    rows = read_sheet(out, "Frontier")
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert len(openpyxl.load_workbook(out)["Frontier"]._charts) == 1
    bad = CliRunner().invoke(main, ["frontier", str(wb_path), "-o", str(out), "--commodity", "XX"])
    assert bad.exit_code == 2


# ------------------------------------------------------------------ stress


def test_removing_a_country_that_supplies_nothing_changes_nothing(tmp_path):
    data = load_workbook(write_workbook(tmp_path / "in.xlsx", with_idle_supplier(tmp_path)))
    table, _ = run_stress(data, routes=True, progress=False)
    jpn = table[table["target"] == "JPN"].iloc[0]
    assert jpn["base_flow"] == 0
    assert jpn["delta_cost"] == 0 and jpn["delta_shortfall"] == 0 and jpn["delta_objective"] == 0
    # ranked by shortfall, then by cost increase
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    keys = list(zip(table["delta_shortfall"], table["delta_cost"], strict=True))
    assert keys == sorted(keys, reverse=True)
    assert table.iloc[0]["delta_shortfall"] > 0
    assert (table["kind"] == "route").sum() == 1


def test_stress_cli(tmp_path):
    wb_path = write_workbook(tmp_path / "in.xlsx", sheets())
    out = tmp_path / "s.xlsx"
    run = CliRunner().invoke(main, ["stress", str(wb_path), "-o", str(out), "--routes"])
    assert run.exit_code == 0, run.output
    assert {r["target"] for r in read_sheet(out, "Stress")} >= {"CHN", "AUS", "NA"}


# ------------------------------------------------------------------ Monte Carlo


def draws_of(tables):
    return tables["Draws"].drop(columns=[])


def test_montecarlo_is_reproducible_from_its_seed(data):
    a, _ = run_montecarlo(data, None, draws=5, seed=7, progress=False)
    b, _ = run_montecarlo(data, None, draws=5, seed=7, progress=False)
    c, _ = run_montecarlo(data, None, draws=2, seed=8, progress=False)
    pd.testing.assert_frame_equal(a["Draws"], b["Draws"], check_exact=True)
    pd.testing.assert_frame_equal(a["MonteCarlo"], b["MonteCarlo"], check_exact=True)
    assert not np.array_equal(a["Draws"]["total_cost"][:2], c["Draws"]["total_cost"])
    s = a["MonteCarlo"].set_index("metric")
    assert s.at["total_cost", "P5"] <= s.at["total_cost", "P50"] <= s.at["total_cost", "P95"]
    assert set(a["CapBinding"]["commodity"]) == {"REO"}
    assert a["CapBinding"]["binding_frequency"].between(0, 1).all()


def test_a_draw_depends_only_on_seed_and_index(data):
    one, _ = apply_draw(data, read_default(), 3, 5)
    again, _ = apply_draw(data, read_default(), 3, 5)
    pd.testing.assert_frame_equal(one["Supply"], again["Supply"], check_exact=True)
    ratio = one["Supply"]["capacity"] / data["Supply"]["capacity"]
    assert ratio.between(0.8, 1.2).all() and not np.allclose(ratio, 1.0)


def read_default():
    from model.batch.montecarlo import DEFAULT_SPEC

    return DEFAULT_SPEC


def test_uncertainty_sheet_with_cutoff_and_its_errors(tmp_path):
    s = sheets()
    s["Uncertainty"] = [
        [
            "country",
            "commodity",
            "target",
            "distribution",
            "low",
            "mode",
            "high",
            "sd",
            "cutoff_probability",
        ],
        ["CHN", "GA", None, None, None, None, None, None, 1],
        ["AUS", None, "unit_cost", "triangular", 0.9, 1.0, 1.3, None, None],
        [None, "REO", "capacity", "normal", None, None, None, 0.1, None],
    ]
    path = write_workbook(tmp_path / "u.xlsx", s)
    data = load_workbook(path)
    spec = uncertainty_spec(data)
    assert len(spec) == 3
    tables, _ = run_montecarlo(data, spec, draws=3, seed=1, progress=False)
    draws = tables["Draws"]
    assert (draws["shortfall_GA"] > 0).all()  # China's gallium is always cut off
    # cell errors are the loader's (the sheet is part of the contract) ...
    s["Uncertainty"].append(["XXX", None, "capacity", "uniform", 0.8, None, 1.2, None, 2])
    with pytest.raises(InputError) as info:
        load_workbook(write_workbook(tmp_path / "bad.xlsx", s))
    text = info.value.report()
    assert "Uncertainty row 5, column country: unknown country" in text
    assert "Uncertainty row 5, column cutoff_probability: must be <= 1 (got 2)" in text
    # ... rules across columns are Monte Carlo's
    s["Uncertainty"][-1] = ["AUS", None, "capacity", "uniform", 1.2, None, 0.8, None, None]
    with pytest.raises(InputError) as info:
        uncertainty_spec(load_workbook(write_workbook(tmp_path / "bad2.xlsx", s)))
    assert "Uncertainty row 5, column low: uniform needs 0 <= low <= high" in info.value.report()
    assert uncertainty_spec(load_workbook(write_workbook(tmp_path / "none.xlsx", sheets()))) is None


def test_montecarlo_serial_equals_two_processes_equals_dask(data):
    from dask.distributed import LocalCluster

    serial, _ = run_montecarlo(data, None, draws=6, seed=11, progress=False)
    local, rep = run_montecarlo(data, None, draws=6, seed=11, workers=2, progress=False)
    assert rep.mode == "processes"
    pd.testing.assert_frame_equal(serial["Draws"], local["Draws"], check_exact=True)
    with LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        remote, rep = run_montecarlo(
            data, None, draws=6, seed=11, scheduler=cluster.scheduler_address, progress=False
        )
    assert rep.mode == "dask"
    pd.testing.assert_frame_equal(local["Draws"], remote["Draws"], check_exact=True)
    pd.testing.assert_frame_equal(local["MonteCarlo"], remote["MonteCarlo"], check_exact=True)


def test_montecarlo_cli_default_applies_without_uncertainty_sheet(tmp_path):
    wb_path = write_workbook(tmp_path / "in.xlsx", sheets())
    out = tmp_path / "m.xlsx"
    run = CliRunner().invoke(
        main, ["montecarlo", str(wb_path), "-o", str(out), "--draws", "2", "--seed", "3"]
    )
    assert run.exit_code == 0, run.output
    assert "default +/-20% uniform" in run.output
    metrics = [r["metric"] for r in read_sheet(out, "MonteCarlo")]
    assert metrics[:4] == ["objective", "shortfall_value", "total_cost", "shortfall_total"]
