"""Outage screening: remove each supplier country in turn (capacity 0 on all its Supply rows and
Projects rows, max_release 0 on its Stocks rows: a Taiwan outage leaves no Taiwan plant or reserve
supplying), and optionally each Routes row (max_quantity 0), re-solve, and rank by the change in
objective. `capacity_removed` counts what the outage removes: Supply capacity, each project's
capacity in every period it could produce, and the stock on hand that can no longer be drawn.

Why the objective: it is in currency and counts unmet demand at its penalty, so an outage that
leaves demand unmet ranks as the loss it is. Ranking by total cost reads lost supply as a saving,
and ranking by total shortfall adds tonnes to wafers. Quantities stay per commodity in their unit
(`worst_shortfall`); a country's capacity and base flow are totals only when its supply is in one
unit (`unit`), otherwise blank with the split in `capacity_removed_by_unit`."""

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
    "delta_objective",
    "shortfall_value",
    "delta_shortfall_value",
    "objective",
    "total_cost",
    "delta_cost",
    "shortfall_total",
    "delta_shortfall",
    "unit",
    "capacity_removed",
    "base_flow",
    "capacity_removed_by_unit",
    "worst_shortfall",
    "error",
]


def remove_country(base: InputData, country: str) -> tuple[InputData, None]:
    data = base.copy()
    supply = data.tables["Supply"]
    supply.loc[supply["country"] == country, "capacity"] = 0.0
    projects = data.tables.get("Projects")  # a project there is lost with the country (issue 12)
    if projects is not None and len(projects):
        projects.loc[projects["country"] == country, "capacity"] = 0.0
    stocks = data.tables.get("Stocks")  # and so is its reserve: nothing may be drawn from it
    if stocks is not None and len(stocks):
        stocks.loc[stocks["country"] == country, "max_release"] = 0.0
    return data, None


def removed_capacity(data: InputData, country: str, unit_of: dict) -> pd.DataFrame:
    """What removing `country` takes away, per source (supply, projects, stock) and unit, all
    periods: Supply capacity; each project's capacity times the periods it could produce in; the
    stock held before the first period (`initial`), which can no longer be drawn."""
    from model.formulation.planning import first_periods

    parts = []
    supply = data["Supply"]
    mine = supply[supply["country"] == country]
    parts.append(pd.DataFrame({"source": "supply", "commodity": mine["commodity"].to_numpy(),
                               "quantity": mine["capacity"].to_numpy(dtype=float)}))
    projects = data.tables.get("Projects")
    if projects is not None and len(projects):
        periods = np.asarray(data.periods, dtype=np.int64)
        first = first_periods(data, list(periods))
        n = np.array([(periods >= f).sum() for f in first], dtype=float)
        at = (projects["country"] == country).to_numpy()
        parts.append(pd.DataFrame({"source": "projects", "commodity": projects["commodity"].to_numpy()[at],
                                   "quantity": projects["capacity"].to_numpy(dtype=float)[at] * n[at]}))
    stocks = data.tables.get("Stocks")
    if stocks is not None and len(stocks):
        at = (stocks["country"] == country).to_numpy()
        parts.append(pd.DataFrame({"source": "stock", "commodity": stocks["commodity"].to_numpy()[at],
                                   "quantity": np.nan_to_num(stocks["initial"].to_numpy(dtype=float)[at])}))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else \
        pd.DataFrame({"source": [], "commodity": [], "quantity": []})
    out["unit"] = out["commodity"].map(lambda c: unit_of.get(c, ""))
    return out


def block_route(base: InputData, route_row: int) -> tuple[InputData, None]:
    data = base.copy()
    routes = data.tables["Routes"]
    routes.loc[routes["row"] == route_row, "max_quantity"] = 0.0
    return data, None


def stress_jobs(data: InputData, routes: bool = False) -> tuple[list[Job], dict[str, dict]]:
    from model.batch.output import commodity_units

    jobs = [Job("base", partial(remove_country, country="\x00none"))]
    meta: dict[str, dict] = {}
    supply = data["Supply"]
    units = commodity_units(data)
    countries = list(supply["country"])
    for sheet in ("Projects", "Stocks"):  # a country with only a project or a reserve can fail too
        table = data.tables.get(sheet)
        countries += list(table["country"]) if table is not None and len(table) else []
    for country in dict.fromkeys(countries):
        key = f"country {country}"
        jobs.append(Job(key, partial(remove_country, country=country)))
        lost = removed_capacity(data, country, units)
        by_unit = lost.groupby("unit", sort=False)["quantity"].sum()
        meta[key] = {
            "kind": "country",
            "target": country,
            "units": list(by_unit.index),
            "capacity_removed": float(by_unit.iloc[0]) if len(by_unit) == 1 else np.nan,
            "capacity_removed_by_unit": "; ".join(
                f"{_qty(v)} {u or '(no unit)'}{_parts(lost[lost['unit'] == u])}" for u, v in by_unit.items()),
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
                "units": [],
                "capacity_removed": np.nan,
                "capacity_removed_by_unit": "",
            }
    return jobs, meta


def run_stress(
    data: InputData,
    *,
    routes: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
    journal=None,
) -> tuple[pd.DataFrame, RunReport]:
    from model.batch.output import commodity_units

    jobs, meta = stress_jobs(data, routes)
    report = run_jobs(
        data, jobs, workers=workers, scheduler=scheduler, progress=progress, desc="stress",
        journal=journal,
    )
    units = commodity_units(data)
    done = report.by_key
    base = done.get("base")
    base_flows = base.tables.get("Flows") if base is not None else None
    rows = []
    for job in jobs[1:]:
        r = done.get(job.key)
        if r is None:
            continue
        m = meta[job.key]
        single = len(m["units"]) == 1
        used = np.nan
        if single and base_flows is not None and len(base_flows):
            used = float(base_flows.loc[base_flows["origin"] == m["target"], "quantity"].sum())
        elif single and base_flows is not None:
            used = 0.0
        worst = ""
        short = r.tables.get("Shortfalls")
        if short is not None and len(short):
            # the commodity whose unmet demand is worth most (quantities of different units are
            # never compared or added), shown in its own unit
            by = pd.Series(r.shortfall_value_by_commodity).sort_values(ascending=False)
            code = by.index[0] if len(by) and by.iloc[0] > 0 else None
            if code is not None:
                worst = (f"{code}: {_qty(r.shortfall_by_commodity.get(code, np.nan))} "
                         f"{units.get(code, '')}".rstrip())
        b = base if base is not None and not base.error else None

        def delta(name: str, r=r, b=b) -> float:
            return getattr(r, name) - (getattr(b, name) if b is not None else np.nan)

        rows.append(
            {
                "kind": m["kind"],
                "target": m["target"],
                "status": r.status,
                "delta_objective": delta("objective"),
                "shortfall_value": r.shortfall_value,
                "delta_shortfall_value": delta("shortfall_value"),
                "objective": r.objective,
                "total_cost": r.total_cost,
                "delta_cost": delta("total_cost"),
                "shortfall_total": r.shortfall_total,
                "delta_shortfall": delta("shortfall_total"),
                "unit": m["units"][0] if single else ("mixed" if m["units"] else ""),
                "capacity_removed": m["capacity_removed"],
                "base_flow": used,
                "capacity_removed_by_unit": m["capacity_removed_by_unit"],
                "worst_shortfall": worst,
                "error": r.error,
            }
        )
    table = pd.DataFrame(rows, columns=[c for c in STRESS_COLUMNS if c != "rank"])
    table = _clean(table)
    table = table.sort_values(
        ["delta_objective", "delta_shortfall_value"],
        ascending=[False, False],
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table, report


def _parts(lost: pd.DataFrame) -> str:
    """' (of which projects 400, stock 9.2)' when an outage removes more than Supply capacity."""
    extra = lost[lost["source"] != "supply"].groupby("source", sort=False)["quantity"].sum()
    extra = extra[extra > 0]
    return f" (of which {', '.join(f'{s} {_qty(v)}' for s, v in extra.items())})" if len(extra) else ""


def _qty(v: float) -> str:
    """A quantity as text an analyst reads at a glance: no exponent, no noise decimals."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


def _clean(table: pd.DataFrame) -> pd.DataFrame:
    """Round away solver noise (1e-9 of the figures) so 'no change' reads as exactly 0."""
    for col, ref in (
        ("delta_shortfall", "shortfall_total"),
        ("delta_cost", "total_cost"),
        ("delta_objective", "objective"),
        ("delta_shortfall_value", "objective"),
    ):
        scale = (
            max(1.0, float(table[ref].abs().max()))
            if len(table) and table[ref].notna().any()
            else 1.0
        )
        noise = table[col].abs() <= 1e-9 * scale
        table[col] = table[col].mask(noise & table[col].notna(), 0.0)
    return table
