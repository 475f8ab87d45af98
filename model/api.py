"""The Python API for notebooks and scripts: load a workbook, solve it, write the plan.

Results are pandas DataFrames with the same columns as the output sheets; no solver object
leaves the modelling layer.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from model.data import InputData, load_workbook
from model.formulation.lp import build_lp
from model.results import Plan, build_plan
from model.solve.highs import HighsSession


def solve(data: InputData, *, no_shortfall: bool = False, time_limit_s: float | None = None,
          session: HighsSession | None = None, threads: int | None = None, sensitivity: bool = True,
          ranging: bool = False, alternate_optima: bool = False,
          marginals: Literal["resolve", "dual"] = "resolve",
          detail: Literal["full", "contract"] = "full") -> Plan:
    """Build and solve the LP for `data`. Pass a `session` to re-solve in place (what-if batches).

    `marginals="resolve"` re-solves each tight China cap and ShareLimits row with its share one
    point higher and reports that exact change (model/solve/marginals.py); "dual" uses the duals
    alone (fast, but not unique when the optimum is degenerate), for batches. `detail="contract"`
    leaves out the Capacity and Prices tables (batches write only the contract tables).

    `sensitivity` adds the Sensitivity sheet (duals, reduced costs); `ranging` adds HiGHS basis
    ranges to it; `alternate_optima` adds the AlternateOptima sheet (re-solves: slower).
    """
    started = time.perf_counter()
    # the loaded structure first (an in-place update), then others this session has met
    lp = build_lp(data, no_shortfall=no_shortfall, reuse=session.structures if session is not None else None)
    build_seconds = time.perf_counter() - started
    limit = time_limit_s if time_limit_s is not None else data.settings.time_limit_s
    if session is None:
        session = HighsSession(time_limit_s=limit, threads=threads)
    else:
        session.time_limit_s = limit
    sol = session.solve(lp)
    plan = build_plan(data, lp, sol, detail=detail, extra_summary={
        "build_seconds": round(build_seconds, 4),
        "strict_no_shortfall": no_shortfall,
    })
    if no_shortfall and sol.status == "infeasible":
        from model.diagnose import explain_infeasible

        plan.tables["Infeasibility"] = explain_infeasible(data, lp)
    if sensitivity or ranging or alternate_optima:
        from model.report.sensitivity import add_sensitivity

        add_sensitivity(plan, session=session, ranging=ranging, alternate=alternate_optima, threads=threads)
    # marginals and the cost of caps compare with the optimum: meaningless for a suboptimal stop
    if marginals == "resolve" and plan.has_plan and plan.status != "suboptimal":
        apply_resolved_marginals(plan, threads=threads)
        add_cost_of_caps(plan, no_shortfall=no_shortfall, threads=threads)
    return plan


def add_cost_of_caps(plan: Plan, *, no_shortfall: bool = False, threads: int | None = None) -> None:
    """What the China caps cost together: the objective minus the objective with every cap lifted.

    The caps interact, so this is not the sum of the per-cap marginal costs; it answers the
    first question an analyst asks of a plan. One extra solve (no caps means another structure).
    """
    data = plan.data
    if data is None or data["Commodities"]["china_cap"].isna().all():
        return
    uncapped = data.copy()
    uncapped.tables["Commodities"]["china_cap"] = np.nan
    free = HighsSession(threads=threads).solve(build_lp(uncapped, no_shortfall=no_shortfall))
    if free.x is None:
        return
    _summary_rows(plan, [
        ("cost_of_china_caps", plan.objective - free.objective),
        ("objective_without_china_caps", free.objective),
    ])


def _summary_rows(plan: Plan, rows: list[tuple[str, object]]) -> None:
    """Add metrics to Summary, keeping `created` last."""
    summary = plan.tables["Summary"]
    created = summary[summary["metric"] == "created"]
    extra = pd.DataFrame(rows, columns=["metric", "value"])
    plan.tables["Summary"] = pd.concat([summary[summary["metric"] != "created"], extra, created],
                                       ignore_index=True)


def apply_resolved_marginals(plan: Plan, *, threads: int | None = None) -> None:
    """Replace dual-based share marginals in ChinaShare and Sensitivity by re-solved ones."""
    from model.solve.marginals import resolve_marginals

    started = time.perf_counter()
    lp = plan.lp
    exact = resolve_marginals(lp, plan.solution, threads=threads)
    caps = lp.row_blocks["china_cap"].keys.assign(marginal=exact["china_cap"])
    china = plan.tables["ChinaShare"]
    if len(china) and len(caps):
        merged = china[["period", "commodity"]].merge(caps[["period", "commodity", "marginal"]], how="left")
        china["marginal_cost"] = merged["marginal"].to_numpy()
    sens = plan.tables.get("Sensitivity")
    if sens is not None and len(sens):
        for family, measure in (("china_cap", "China cap"), ("share_min", "share minimum"),
                                ("share_max", "share maximum")):
            keys = lp.row_blocks[family].keys
            mask = (sens["measure"] == measure).to_numpy()
            if not len(keys) or not mask.any():
                continue
            row_col = "row" if family == "china_cap" else "limit_row"
            lookup = keys[["period", "commodity", row_col]].rename(columns={row_col: "limit_row"})
            on = ["period", "commodity", "limit_row"]
            if family != "china_cap":  # ShareLimits `each` entries share a limit_row: source tells them apart
                lookup["country"], on = keys["source"].to_numpy(), [*on, "country"]
            lookup = lookup.assign(marginal=exact[family])
            rows = sens.loc[mask, on].merge(lookup, how="left")
            sens.loc[mask, "cost_change"] = rows["marginal"].to_numpy()
    _summary_rows(plan, [
        ("marginals", "re-solved: objective change for +1 percentage point of each tight share limit"),
        ("marginals_seconds", round(time.perf_counter() - started, 4)),
    ])


def solve_workbook(workbook: str | Path, output: str | Path | None = None, **options) -> Plan:
    """Load, solve and (when `output` is given) write the plan workbook. Raises InputError on bad input."""
    data = load_workbook(workbook)
    plan = solve(data, **options)
    if output is not None:
        from model.io.writer import write_plan

        write_plan(plan, Path(output), inputs=[Path(workbook)])
    return plan
