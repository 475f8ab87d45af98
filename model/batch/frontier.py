"""The cost of de-risking: sweep a commodity's China cap from its uncapped share down to 0.

For each commodity: solve with its cap at 100% (the uncapped plan; same LP rows as the sweep, so
every later step is an in-place update), take the largest China share over its periods, then
solve at `steps` + 1 caps evenly spaced from that share down to 0. Every other input stays as in
the base case (including other commodities' caps). Each step records the objective, total cost,
shortfall, achieved China share and the cap's marginal cost from the dual (objective change per
+1 percentage point of cap, summed over periods since one cap covers every period), next to the
slope measured between neighbouring steps.

The charts show the objective (production, routes, risk and unmet demand at its penalty): total
cost alone falls once a tight cap forces unmet demand, which would draw de-risking as a saving.
A commodity with a single point (the China group supplies none of it) gets no chart.
With `content=True` (`sourcing frontier --content`, issue 13) the swept limit is the commodity's
ContentRules max_china_content (every period, every destination outside the China group), from its
uncapped any-stage China share down to 0. Every step shows the any-stage share beside the direct one.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from model.batch.output import Chart
from model.batch.runner import Job, RunReport, run_jobs
from model.data import InputData

FRONTIER_COLUMNS = [
    "commodity",
    "step",
    "china_cap",
    "max_china_content",
    "status",
    "objective",
    "delta_objective",
    "shortfall_value",
    "total_cost",
    "delta_cost",
    "shortfall",
    "unit",
    "shortfall_total",
    "china_share",
    "any_stage_share",
    "marginal_cost",
    "slope",
    "error",
]
DERIVED = ("delta_objective", "delta_cost", "slope")


def set_cap(base: InputData, commodity: str, cap: float) -> tuple[InputData, None]:
    data = base.copy()
    com = data.tables["Commodities"]
    com.loc[com["code"] == commodity, "china_cap"] = float(cap)
    return data, None


def china_commodities(data: InputData) -> list[str]:
    """Commodities the China group can supply at all (the others have a flat frontier)."""
    countries = data["Countries"]
    china = set(countries.loc[countries["group"] == data.settings.china_group, "code"])
    supply = data["Supply"]
    codes = set(supply.loc[supply["country"].isin(china) & (supply["capacity"] > 0), "commodity"])
    return [c for c in data["Commodities"]["code"] if c in codes]


def run_frontier(
    data: InputData,
    commodities: list[str] | None = None,
    steps: int = 10,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
    journal=None,
    content: bool = False,
) -> tuple[pd.DataFrame, RunReport]:
    from model.batch.output import commodity_units
    from model.content_tables import content_commodities, set_content

    units = commodity_units(data)

    swept = "max_china_content" if content else "china_cap"
    set_limit = set_content if content else set_cap
    default = content_commodities if content else china_commodities
    commodities = list(commodities) if commodities else default(data)
    known = set(data["Commodities"]["code"])
    unknown = [c for c in commodities if c not in known]
    if unknown:
        from model.errors import InputError

        raise InputError(f"unknown commodity code(s): {', '.join(unknown)}")
    steps = max(1, int(steps))
    first = run_jobs(
        data,
        [Job(f"{c}|uncapped", partial(set_limit, commodity=c, cap=1.0)) for c in commodities],
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        desc="uncapped",
        journal=journal,
    )
    starts: dict[str, float] = {}
    for c in commodities:
        r = first.by_key.get(f"{c}|uncapped")
        if content and r is not None and c in r.content_peak:
            share = r.content_peak[c]
            starts[c] = 0.0 if pd.isna(share) else float(min(1.0, share))
            continue
        cs = r.tables.get("ChinaShare") if r is not None and not content else None
        if cs is None or not len(cs):
            continue
        share = cs.loc[cs["commodity"] == c, "china_share"].max()
        starts[c] = 0.0 if pd.isna(share) else float(min(1.0, share))
    jobs = []
    plan: list[tuple[str, int, float]] = []
    for c in commodities:
        if c not in starts:
            continue
        caps = np.linspace(starts[c], 0.0, steps + 1) if starts[c] > 0 else np.array([0.0])
        for i, cap in enumerate(caps):
            cap = round(float(cap), 12)
            jobs.append(Job(f"{c}|{i}", partial(set_limit, commodity=c, cap=cap)))
            plan.append((c, i, cap))
    sweep = (run_jobs(data, jobs, workers=workers, scheduler=scheduler, progress=progress,
                      desc="frontier", journal=journal)
             if not first.interrupted else RunReport([], True, 0.0, first.workers, first.mode))
    report = RunReport(
        first.results + sweep.results,
        first.interrupted or sweep.interrupted,
        first.seconds + sweep.seconds,
        sweep.workers,
        sweep.mode,
        resumed=first.resumed + sweep.resumed,
    )
    rows = []
    done = sweep.by_key
    for c, i, cap in plan:
        r = done.get(f"{c}|{i}")
        if r is None:
            continue
        rows.append(
            {
                "commodity": c,
                "step": i,
                "china_cap": np.nan if content else cap,
                "max_china_content": cap if content else np.nan,
                "status": r.status,
                "objective": r.objective,
                "shortfall_value": r.shortfall_value,
                "total_cost": r.total_cost,
                "shortfall": r.shortfall_by_commodity.get(c, np.nan),
                "unit": units.get(c, ""),
                "shortfall_total": r.shortfall_total,
                "china_share": r.china_share.get(c, np.nan),
                "any_stage_share": r.content_share.get(c, np.nan),
                "marginal_cost": (r.content_marginal if content else r.cap_marginal).get(c, np.nan),
                "error": r.error,
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in FRONTIER_COLUMNS if c not in DERIVED])
    if table.empty:
        return pd.DataFrame(columns=FRONTIER_COLUMNS), report
    table["delta_objective"] = table["objective"] - table.groupby("commodity")[
        "objective"].transform("first")
    table["delta_cost"] = table["total_cost"] - table.groupby("commodity")["total_cost"].transform(
        "first"
    )
    # objective change per +1 percentage point of cap, measured between this step and the previous one
    d_obj = table.groupby("commodity")["objective"].diff()
    d_cap = table.groupby("commodity")[swept].diff() * 100.0
    table["slope"] = np.where(d_cap.abs() > 0, d_obj / d_cap.where(d_cap != 0, 1.0), np.nan)
    return table[FRONTIER_COLUMNS], report


def frontier_charts(table: pd.DataFrame) -> list[Chart]:
    """One native line chart per commodity with more than one point: the objective against the
    cap (rows of that commodity). A single point is no curve."""
    charts = []
    content = "max_china_content" in table and table["max_china_content"].notna().any()  # issue 13
    for code, rows in table.groupby("commodity", sort=False):
        if len(rows) < 2:
            continue
        first = int(rows.index.min()) + 2
        last = int(rows.index.max()) + 2
        charts.append(
            Chart(
                "Frontier",
                "line",
                f"{code}: cost of lowering the China {'content' if content else 'cap'} (objective)",
                "max_china_content" if content else "china_cap",
                ("objective",),
                y_title="objective",
                x_title="max China content" if content else "China cap",
                anchor=f"R{2 + 18 * len(charts)}",
                rows=(first, last),
            )
        )
    return charts
