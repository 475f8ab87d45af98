"""Monte Carlo over capacities, costs and supply cut-offs, reproducible from a seed.

The optional `Uncertainty` sheet (part of the workbook contract, model/schema.py, so the loader
parses and checks its cells like any other sheet) has one row per uncertainty:

    country       country code; blank = every country
    commodity     commodity code; blank = every commodity
    target        capacity | unit_cost (a multiplier), blank when the row only gives a cut-off
    distribution  uniform (low, high) | triangular (low, mode, high) | normal (mode = mean, sd)
    low, mode, high, sd   the multiplier's parameters (normal: mode blank = 1; draws clipped at 0)
    cutoff_probability    probability in [0, 1] that the matching supply is cut off (capacity 0)

A multiplier is drawn independently for every matching Supply row (and period); several rows
matching the same Supply row multiply. A cut-off is drawn once per matching (country, commodity)
pair and removes that supply in every period. Without the sheet the default is +/-20% uniform on
every capacity and every unit cost, and no cut-offs.

Draw i uses numpy's generator seeded with SeedSequence([seed, i]): the numbers do not depend on
the number of workers or on which worker ran the draw.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from model.batch.runner import Job, RunReport, run_jobs
from model.data import InputData
from model.errors import InputError, Problem
from model.io.cells import parse_code, parse_number
from model.schema import MAX_ABS_NUMBER, UNCERTAINTY_SHEET

SHEET = UNCERTAINTY_SHEET.name
COLUMNS = UNCERTAINTY_SHEET.column_names  # the contract, model/schema.py
TARGETS = UNCERTAINTY_SHEET.column("target").choices
DISTRIBUTIONS = UNCERTAINTY_SHEET.column("distribution").choices
# Without an Uncertainty sheet: +/-20% uniform on every capacity and every unit cost, no cut-offs.
DEFAULT_SPEC = tuple(
    dict.fromkeys(("row", *COLUMNS)) | {"target": target, "distribution": "uniform", "low": 0.8, "high": 1.2}
    for target in TARGETS
)


def uncertainty_spec(data: InputData) -> tuple[dict, ...] | None:
    """The Uncertainty sheet's rows as dicts, or None when it has none (the default applies).

    The loader has already parsed and range-checked every cell (model/schema.py); this adds
    the rules that tie columns together (a distribution's parameters, a cut-off or a target).
    """
    table = data["Uncertainty"]
    if table.empty:
        return None
    problems: list[Problem] = []
    spec = []
    for record in table.to_dict("records"):
        cells = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
        spec.append(_parse_row(cells, int(cells.pop("row")), data, problems))
    if problems:
        raise InputError(problems)
    return tuple(spec)


def _parse_row(cells: dict, row: int, data: InputData | None, problems: list[Problem]) -> dict:
    out: dict[str, Any] = {"row": row}

    def bad(column: str, value: Any, message: str) -> None:
        problems.append(Problem(SHEET, row, column, value, message))

    for col, ref in (("country", "Countries"), ("commodity", "Commodities")):
        value, error = parse_code(cells.get(col))
        if error:
            bad(col, cells.get(col), error)
        elif value is not None and data is not None and value not in set(data[ref]["code"]):
            bad(col, value, f"unknown {col}")
        out[col] = value
    for col in ("target", "distribution"):
        raw = cells.get(col)
        out[col] = str(raw).strip().lower() if raw is not None and str(raw).strip() else None
    for col in ("low", "mode", "high", "sd", "cutoff_probability"):
        value, error = parse_number(cells.get(col), percent=col == "cutoff_probability")
        if error:
            bad(col, cells.get(col), error)
        out[col] = value
    p = out["cutoff_probability"]
    if p is not None and not 0 <= p <= 1:
        bad("cutoff_probability", p, "must be between 0 and 1")
    if out["target"] is None:
        if p is None:
            bad("target", None, "is blank; give capacity or unit_cost, or a cutoff_probability")
        return out
    if out["target"] not in TARGETS:
        bad("target", out["target"], f"must be one of {', '.join(TARGETS)}")
    dist = out["distribution"]
    if dist not in DISTRIBUTIONS:
        bad("distribution", dist, f"must be one of {', '.join(DISTRIBUTIONS)}")
    elif dist == "uniform" and not _ordered(out["low"], out["high"]):
        bad("low", out["low"], "uniform needs 0 <= low <= high")
    elif dist == "triangular" and not _ordered(out["low"], out["mode"], out["high"]):
        bad("mode", out["mode"], "triangular needs 0 <= low <= mode <= high")
    elif dist == "normal" and (out["sd"] is None or out["sd"] < 0):
        bad("sd", out["sd"], "normal needs sd >= 0")
    return out


def _ordered(*values) -> bool:
    return all(v is not None for v in values) and values[0] >= 0 and list(values) == sorted(values)


def _draw(rng: np.random.Generator, spec: dict, n: int) -> np.ndarray:
    dist = spec["distribution"]
    if dist == "uniform":
        return rng.uniform(spec["low"], spec["high"], n)
    if dist == "triangular":
        if spec["low"] == spec["high"]:
            return np.full(n, float(spec["low"]))
        return rng.triangular(spec["low"], spec["mode"], spec["high"], n)
    mean = 1.0 if spec["mode"] is None else spec["mode"]
    return np.clip(rng.normal(mean, spec["sd"], n), 0.0, None)


def _matches(table: pd.DataFrame, spec: dict) -> np.ndarray:
    mask = np.ones(len(table), dtype=bool)
    if spec["country"] is not None:
        mask &= (table["country"] == spec["country"]).to_numpy()
    if spec["commodity"] is not None:
        mask &= (table["commodity"] == spec["commodity"]).to_numpy()
    return mask


def apply_draw(
    base: InputData, spec: tuple[dict, ...], seed: int, draw: int
) -> tuple[InputData, None]:
    """The base data with draw `draw`'s multipliers and cut-offs (a pure function of seed and draw)."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(draw)]))
    data = base.copy()
    supply = data.tables["Supply"]
    capacity = supply["capacity"].to_numpy(dtype=float).copy()
    cost = supply["unit_cost"].to_numpy(dtype=float).copy()
    for s in spec:
        mask = _matches(supply, s)
        n = int(mask.sum())
        if s["target"] is not None:
            factors = _draw(rng, s, n)
            if s["target"] == "capacity":
                capacity[mask] *= factors
            else:
                cost[mask] *= factors
        if s["cutoff_probability"]:
            pairs = supply.loc[mask, ["country", "commodity"]].drop_duplicates()
            cut = rng.random(len(pairs)) < s["cutoff_probability"]
            for country, commodity in pairs[cut].itertuples(index=False, name=None):
                capacity[
                    ((supply["country"] == country) & (supply["commodity"] == commodity)).to_numpy()
                ] = 0.0
    for name, values in (("capacity", capacity), ("unit_cost", cost)):
        beyond = ~np.isfinite(values) | (np.abs(values) > MAX_ABS_NUMBER)
        if beyond.any():
            raise InputError(
                f"draw {draw}: a {name} multiplier gives {values[beyond][0]:.6g}, beyond the "
                f"limit of +/-{MAX_ABS_NUMBER:.0e} that applies to every number"
            )
    supply["capacity"] = capacity
    supply["unit_cost"] = cost
    return data, None


def run_montecarlo(
    data: InputData,
    spec: tuple[dict, ...] | None,
    draws: int = 200,
    seed: int = 0,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | None = None,
    journal=None,
) -> tuple[dict[str, pd.DataFrame], RunReport]:
    if int(seed) < 0:
        raise InputError(f"--seed {seed}: the seed must be 0 or more")
    spec = DEFAULT_SPEC if spec is None else spec
    jobs = [
        Job(f"draw {i}", partial(apply_draw, spec=spec, seed=seed, draw=i), keep_tables=False)
        for i in range(int(draws))
    ]
    report = run_jobs(
        data, jobs, workers=workers, scheduler=scheduler, progress=progress, desc="monte carlo",
        journal=journal,
    )
    return summarise(data, report, seed), report


def draws_table(data: InputData, report: RunReport) -> pd.DataFrame:
    codes = list(data["Commodities"]["code"])
    rows = []
    for r in report.results:
        row = {
            "draw": int(r.key.split()[-1]),
            "status": r.status,
            "objective": r.objective,
            "shortfall_value": r.shortfall_value,
            "total_cost": r.total_cost,
            "shortfall_total": r.shortfall_total,
        }
        for code in codes:
            row[f"shortfall_{code}"] = r.shortfall_by_commodity.get(code, math.nan)
        for code in codes:
            row[f"china_share_{code}"] = r.china_share.get(code, math.nan)
        row["binding_caps"] = ", ".join(f"{k} {t}" for k, t in r.binding)
        row["error"] = r.error
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(data: InputData, report: RunReport, seed: int) -> dict[str, pd.DataFrame]:
    from model.batch.output import commodity_units

    draws = draws_table(data, report)
    codes = list(data["Commodities"]["code"])
    units = commodity_units(data)
    currency = str(getattr(data.settings, "currency", "") or "") or "currency"
    # the objective and the value of unmet demand first (currency); quantities per commodity in
    # their own unit; shortfall_total (a sum over units) is kept for compatibility only
    metric_units = {"objective": currency, "shortfall_value": currency, "total_cost": currency,
                    "shortfall_total": "mixed units",
                    **{f"shortfall_{c}": units.get(c, "") for c in codes}}
    metrics = list(metric_units)
    ok = draws[draws["error"] == ""] if len(draws) else draws
    rows = []
    for m in metrics:
        values = ok[m].dropna().to_numpy(dtype=float) if len(ok) else np.array([])
        p5, p50, p95 = np.percentile(values, [5, 50, 95]) if len(values) else (np.nan,) * 3
        rows.append(
            {
                "metric": m,
                "unit": metric_units[m],
                "P5": p5,
                "P50": p50,
                "P95": p95,
                "mean": values.mean() if len(values) else np.nan,
                "probability_positive": float((values > 1e-9).mean()) if len(values) else np.nan,
                "draws": len(values),
            }
        )
    summary = pd.DataFrame(rows)
    counts: dict[tuple[str, int], int] = {}
    for r in report.results:
        for key in r.binding:
            counts[key] = counts.get(key, 0) + 1
    caps = data["Commodities"]
    capped = caps.loc[caps["china_cap"].notna(), ["code", "china_cap"]]
    n_ok = max(1, len(ok))
    bind_rows = [
        {
            "commodity": code,
            "period": t,
            "china_cap": cap,
            "binding_draws": counts.get((code, t), 0),
            "binding_frequency": counts.get((code, t), 0) / n_ok,
        }
        for code, cap in capped.itertuples(index=False, name=None)
        for t in data.periods
    ]
    binding = pd.DataFrame(
        bind_rows,
        columns=["commodity", "period", "china_cap", "binding_draws", "binding_frequency"],
    )
    return {"MonteCarlo": summary, "CapBinding": binding, "Draws": draws}
