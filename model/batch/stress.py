"""Outage screening: remove each supplier country in turn (capacity 0 on all its Supply rows),
and optionally each Routes row (max_quantity 0), re-solve, and rank by shortfall then cost."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from model.batch.runner import Job, RunReport, run_jobs
from model.data import InputData

STRESS_COLUMNS = [
    "rank",
    "kind",
    "target",
    "status",
    "shortfall_total",
    "delta_shortfall",
    "total_cost",
    "delta_cost",
    "delta_objective",
    "capacity_removed",
    "base_flow",
    "worst_shortfall",
    "error",
]


def remove_country(base: InputData, country: str) -> tuple[InputData, None]:
    data = base.copy()
    supply = data.tables["Supply"]
    supply.loc[supply["country"] == country, "capacity"] = 0.0
    return data, None


def block_route(base: InputData, route_row: int) -> tuple[InputData, None]:
    data = base.copy()
    routes = data.tables["Routes"]
    routes.loc[routes["row"] == route_row, "max_quantity"] = 0.0
    return data, None


def stress_jobs(data: InputData, routes: bool = False) -> tuple[list[Job], dict[str, dict]]:
    jobs = [Job("base", partial(remove_country, country="\x00none"))]
    meta: dict[str, dict] = {}
    supply = data["Supply"]
    for country in dict.fromkeys(supply["country"]):
        key = f"country {country}"
        jobs.append(Job(key, partial(remove_country, country=country)))
        meta[key] = {
            "kind": "country",
            "target": country,
            "capacity_removed": float(supply.loc[supply["country"] == country, "capacity"].sum()),
        }
    if routes:
        for r in data["Routes"].itertuples(index=False):
            what = f"{r.origin}->{r.destination}" + (
                f" {r.commodity}" if isinstance(r.commodity, str) else ""
            )
            key = f"route row {r.row}"
            jobs.append(Job(key, partial(block_route, route_row=int(r.row))))
            meta[key] = {
                "kind": "route",
                "target": f"{what} (Routes row {r.row})",
                "capacity_removed": np.nan,
            }
    return jobs, meta


def run_stress(
    data: InputData,
    *,
    routes: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, RunReport]:
    jobs, meta = stress_jobs(data, routes)
    report = run_jobs(
        data, jobs, workers=workers, scheduler=scheduler, progress=progress, desc="stress"
    )
    done = report.by_key
    base = done.get("base")
    base_flows = base.tables.get("Flows") if base is not None else None
    rows = []
    for job in jobs[1:]:
        r = done.get(job.key)
        if r is None:
            continue
        m = meta[job.key]
        used = np.nan
        if base_flows is not None and len(base_flows):
            if m["kind"] == "country":
                used = float(base_flows.loc[base_flows["origin"] == m["target"], "quantity"].sum())
        elif base_flows is not None:
            used = 0.0
        worst = ""
        short = r.tables.get("Shortfalls")
        if short is not None and len(short):
            by = short.groupby("commodity")["quantity"].sum().sort_values(ascending=False)
            worst = f"{by.index[0]}: {by.iloc[0]:,.6g}"
        rows.append(
            {
                "kind": m["kind"],
                "target": m["target"],
                "status": r.status,
                "shortfall_total": r.shortfall_total,
                "delta_shortfall": r.shortfall_total - (base.shortfall_total if base else np.nan),
                "total_cost": r.total_cost,
                "delta_cost": r.total_cost - (base.total_cost if base else np.nan),
                "delta_objective": r.objective - (base.objective if base else np.nan),
                "capacity_removed": m["capacity_removed"],
                "base_flow": used,
                "worst_shortfall": worst,
                "error": r.error,
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in STRESS_COLUMNS if c != "rank"])
    table = _clean(table)
    table = table.sort_values(
        ["delta_shortfall", "delta_cost"],
        ascending=[False, False],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table, report


def _clean(table: pd.DataFrame) -> pd.DataFrame:
    """Round away solver noise (1e-9 of the figures) so 'no change' reads as exactly 0."""
    for col, ref in (
        ("delta_shortfall", "shortfall_total"),
        ("delta_cost", "total_cost"),
        ("delta_objective", "total_cost"),
    ):
        scale = (
            max(1.0, float(table[ref].abs().max()))
            if len(table) and table[ref].notna().any()
            else 1.0
        )
        noise = table[col].abs() <= 1e-9 * scale
        table[col] = table[col].mask(noise & table[col].notna(), 0.0)
    return table
