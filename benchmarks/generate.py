"""Generate benchmark instances: numpy arrays first, then the workbook-shaped InputData.

The arrays (`Instance`) are the ground truth. `to_inputdata(inst)` turns them into the tidy tables
the project reads (contract columns + `row`), with the shortcuts an analyst would use (blank
periods for constant supply rows, blank-commodity routes and share limits), so the project's
wildcard expansion is exercised. `benchmarks/bench.py` builds the raw highspy LP from the same
arrays without any project code, so the two paths can be compared on the same LP.

    python benchmarks/generate.py --countries 300 --out big.xlsx     # ~1 million variables

Sizes (defaults, `scale=1`): 300 countries, 20 raw materials + 10 products (two tiers, two
inputs per product), 4 periods -> about 1.0 million flow variables.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from model.data import InputData, check, empty_table
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET

FIRST_YEAR = 2026


@dataclass
class Instance:
    """Every input as numpy arrays (indices into `countries`, `commodities`, `periods`)."""

    countries: list[str]
    group: np.ndarray  # object: group name per country
    risk: np.ndarray
    commodities: list[str]
    china_cap: np.ndarray  # nan = no cap
    penalty: np.ndarray  # nan = Settings.shortfall_penalty
    periods: list[int]
    # supply, one entry per (country, commodity, period); blank_period marks rows written once
    sup_c: np.ndarray
    sup_k: np.ndarray
    sup_t: np.ndarray
    sup_cap: np.ndarray
    sup_cost: np.ndarray
    sup_blank: np.ndarray  # bool: the (c, k) row is written with a blank period
    # demand
    dem_c: np.ndarray
    dem_k: np.ndarray
    dem_t: np.ndarray
    dem_q: np.ndarray
    # recipes
    rec_out: np.ndarray
    rec_in: np.ndarray
    rec_q: np.ndarray
    # generic routes (every commodity): dense cost matrix, listed mask
    route_cost: np.ndarray  # (C, C)
    route_listed: np.ndarray  # (C, C) bool
    # commodity-specific routes
    sr_o: np.ndarray
    sr_d: np.ndarray
    sr_k: np.ndarray
    sr_cost: np.ndarray
    sr_max: np.ndarray  # inf = no limit
    # share limits: commodity (-1 = all), period index (-1 = all), source name, min, max (nan = blank)
    limits: list[tuple[int, int, str, float, float]] = field(default_factory=list)
    china_group: str = "China"
    risk_weight: float = 1.0
    shortfall_penalty: float = 1e5

    @property
    def n_supply(self) -> int:
        return len(self.sup_c)

    def members(self, source: str) -> np.ndarray:
        """Boolean per country: belongs to `source` (a country code or a group name)."""
        if source in self.countries:
            out = np.zeros(len(self.countries), dtype=bool)
            out[self.countries.index(source)] = True
            return out
        return self.group == source


def generate(countries: int = 300, raw: int = 20, products: int = 10, periods: int = 4,
             raw_suppliers: int = 30, product_suppliers: int = 60, product_demanders: int | None = None,
             raw_demanders: int = 60, route_density: float = 0.1, seed: int = 1) -> Instance:
    """A random two-tier instance. Flows ~ periods * (raw * raw_suppliers * raw_needs
    + products * product_suppliers * product_demanders)."""
    rng = np.random.default_rng(seed)
    C, K, T = countries, raw + products, periods
    product_demanders = countries if product_demanders is None else product_demanders
    codes = ["CHN", "HKG"] + [f"C{i:03d}" for i in range(2, C)]
    group = np.array(["China", "China"] + list(rng.choice(["Pax Silica", "Other", "Other"], size=C - 2)),
                     dtype=object)
    risk = np.round(rng.uniform(0, 1, C), 2)
    risk[:2] = 0.8
    com = [f"R{k:02d}" for k in range(raw)] + [f"P{k:02d}" for k in range(products)]
    china_cap = np.full(K, np.nan)
    china_cap[::3] = np.round(rng.uniform(0.2, 0.6, len(china_cap[::3])), 2)
    penalty = np.full(K, np.nan)
    penalty[raw:] = 2e5  # products have their own penalty
    years = [FIRST_YEAR + t for t in range(T)]

    # recipes: each product uses two raw materials
    rec_out = np.repeat(np.arange(raw, K), 2)
    rec_in = np.concatenate([rng.choice(raw, 2, replace=False) for _ in range(products)])
    rec_q = np.round(rng.uniform(0.3, 2.0, len(rec_out)), 2)

    # demand: products by many countries, raw materials by some
    dc, dk, dt_, dq = [], [], [], []
    for k in range(K):
        n = product_demanders if k >= raw else raw_demanders
        who = rng.choice(C, min(n, C), replace=False)
        for t in range(T):
            dc.append(who)
            dk.append(np.full(len(who), k))
            dt_.append(np.full(len(who), t))
            dq.append(np.round(rng.uniform(10, 1000, len(who)) * (1 + 0.05 * t), 1))
    dem_c, dem_k, dem_t, dem_q = (np.concatenate(a) for a in (dc, dk, dt_, dq))
    need_total = np.bincount(dem_k, weights=dem_q, minlength=K)
    for o, i, q in zip(rec_out, rec_in, rec_q, strict=True):
        need_total[i] += q * need_total[o]

    # supply: China supplies most commodities cheaply; capacity ~ 1.25 x what is needed
    sc, sk, st, scap, scost, sblank = [], [], [], [], [], []
    for k in range(K):
        n = product_suppliers if k >= raw else raw_suppliers
        who = np.concatenate([[0, 1], rng.choice(np.arange(2, C), n - 2, replace=False)])
        share = rng.dirichlet(np.ones(n)) * 1.25 * need_total[k] / T
        base_cost = rng.uniform(50, 500, n) * (3 if k >= raw else 1)
        base_cost[:2] *= 0.6
        blank = rng.random(n) < 0.5
        for t in range(T):
            sc.append(who)
            sk.append(np.full(n, k))
            st.append(np.full(n, t))
            growth = np.where(blank, 1.0, 1 + 0.08 * t)
            scap.append(np.round(share * 1.6 * growth, 1))  # per-period cap; total ~ 2x period need
            scost.append(np.round(base_cost * np.where(blank, 1.0, 1 + 0.02 * t), 2))
            sblank.append(blank)
    sup = [np.concatenate(a) for a in (sc, sk, st, scap, scost, sblank)]

    # routes: a share of origin-destination pairs listed with a cost; a few commodity limits
    listed = rng.random((C, C)) < route_density
    np.fill_diagonal(listed, False)
    route_cost = np.where(listed, np.round(rng.uniform(1, 40, (C, C)), 2), 0.0)
    n_sr = max(20, C)
    sr_o = rng.choice(C, n_sr)
    sr_d = (sr_o + 1 + rng.choice(C - 1, n_sr)) % C
    sr_k = rng.choice(K, n_sr)
    key = pd.DataFrame({"o": sr_o, "d": sr_d, "k": sr_k}).drop_duplicates()
    sr_o, sr_d, sr_k = (key[c].to_numpy() for c in ("o", "d", "k"))
    sr_cost = np.round(rng.uniform(1, 60, len(sr_o)), 2)
    sr_max = np.where(rng.random(len(sr_o)) < 0.3, 0.0, np.round(rng.uniform(50, 500, len(sr_o)), 1))
    sr_max[rng.random(len(sr_o)) < 0.3] = np.inf

    limits = [
        (-1, -1, "Pax Silica", 0.05, np.nan),
        (raw, -1, codes[2], np.nan, 0.3),
        (3 % K, 0, "Other", np.nan, 0.9),
    ]
    return Instance(codes, group, risk, com, china_cap, penalty, years, *sup, dem_c, dem_k, dem_t, dem_q,
                    rec_out, rec_in, rec_q, route_cost, listed, sr_o, sr_d, sr_k, sr_cost, sr_max, limits)


def _frame(sheet: str, columns: dict) -> pd.DataFrame:
    spec = next(s for s in INPUT_SHEETS if s.name == sheet)
    base = empty_table(spec)
    n = len(next(iter(columns.values()))) if columns else 0
    out = {}
    for col in spec.column_names:
        if col in columns:
            out[col] = pd.Series(columns[col], dtype=base[col].dtype)
        else:
            out[col] = pd.Series([None] * n if base[col].dtype == object else np.full(n, np.nan),
                                 dtype=base[col].dtype)
    out["row"] = pd.Series(np.arange(2, n + 2), dtype="int64")
    return pd.DataFrame(out)


def to_inputdata(inst: Instance, *, run_check: bool = True) -> InputData:
    """The workbook-shaped tables for `inst` (what load_workbook would return)."""
    cc = np.array(inst.countries, dtype=object)
    kk = np.array(inst.commodities, dtype=object)
    years = np.array(inst.periods, dtype=float)
    # supply: blank-period rows written once (period 0), the others once per period
    once = ~inst.sup_blank | (inst.sup_t == 0)
    sup_period = np.where(inst.sup_blank, np.nan, years[inst.sup_t])
    supply = _frame("Supply", {
        "country": cc[inst.sup_c[once]], "commodity": kk[inst.sup_k[once]], "period": sup_period[once],
        "capacity": inst.sup_cap[once], "unit_cost": inst.sup_cost[once]})
    demand = _frame("Demand", {"country": cc[inst.dem_c], "commodity": kk[inst.dem_k],
                               "period": years[inst.dem_t], "quantity": inst.dem_q})
    o, d = np.nonzero(inst.route_listed)
    routes = _frame("Routes", {
        "origin": np.concatenate([cc[o], cc[inst.sr_o]]),
        "destination": np.concatenate([cc[d], cc[inst.sr_d]]),
        "commodity": np.concatenate([np.full(len(o), None, dtype=object), kk[inst.sr_k]]),
        "cost_per_unit": np.concatenate([inst.route_cost[o, d], inst.sr_cost]),
        "max_quantity": np.concatenate([np.full(len(o), np.nan),
                                        np.where(np.isinf(inst.sr_max), np.nan, inst.sr_max)])})
    recipes = _frame("Recipes", {"output": kk[inst.rec_out], "input": kk[inst.rec_in], "quantity": inst.rec_q})
    limits = _frame("ShareLimits", {
        "commodity": np.array([None if k < 0 else kk[k] for k, *_ in inst.limits], dtype=object),
        "period": np.array([np.nan if t < 0 else years[t] for _, t, *_ in inst.limits], dtype=float),
        "source": np.array([s for _, _, s, _, _ in inst.limits], dtype=object),
        "min_share": np.array([lo for *_, lo, _ in inst.limits], dtype=float),
        "max_share": np.array([hi for *_, hi in inst.limits], dtype=float)})
    tables = {
        "Settings": _frame("Settings", {
            "setting": np.array(["china_group", "risk_weight", "shortfall_penalty"], dtype=object),
            "value": np.array([inst.china_group, str(inst.risk_weight), str(inst.shortfall_penalty)],
                              dtype=object)}),
        "Countries": _frame("Countries", {"code": cc, "name": cc, "group": inst.group, "risk": inst.risk}),
        "Commodities": _frame("Commodities", {"code": kk, "name": kk, "unit": np.full(len(kk), "t", dtype=object),
                                              "china_cap": inst.china_cap, "shortfall_penalty": inst.penalty}),
        "Supply": supply, "Demand": demand, "Routes": routes, "Recipes": recipes, "ShareLimits": limits,
        "Scenarios": empty_table(SCENARIOS_SHEET),
    }
    data = InputData(tables=tables, source="generated")
    if run_check:
        problems = check(data)
        if problems:
            raise ValueError(f"generated instance is invalid: {problems[:5]}")
    return data


def small(seed: int = 1) -> Instance:
    """A base-case-sized instance (~2k variables) used until inputs/base_case.xlsx exists."""
    return generate(countries=25, raw=6, products=3, periods=3, raw_suppliers=6, product_suppliers=8,
                    raw_demanders=8, route_density=0.3, seed=seed)


def big(seed: int = 1) -> Instance:
    """About one million variables."""
    return generate(seed=seed)


def medium(seed: int = 1) -> Instance:
    """About 100k variables."""
    return generate(countries=100, raw=12, products=6, periods=3, raw_suppliers=15, product_suppliers=30,
                    raw_demanders=30, seed=seed)


def supply_rows(n_rows: int = 100_000, seed: int = 2) -> Instance:
    """An instance whose Supply sheet has about `n_rows` rows (load test)."""
    # every supplier row written per period (no blanks): rows = periods * (raw*rs + products*ps)
    inst = generate(countries=500, raw=30, products=20, periods=4, raw_suppliers=500, product_suppliers=500,
                    product_demanders=100, raw_demanders=50, route_density=0.01, seed=seed)
    inst.sup_blank[:] = False
    keep = np.arange(inst.n_supply) < n_rows
    for name in ("sup_c", "sup_k", "sup_t", "sup_cap", "sup_cost", "sup_blank"):
        setattr(inst, name, getattr(inst, name)[keep])
    return inst


def write_xlsx(data: InputData, path: str | Path) -> Path:
    """Write the tables as a workbook the project reads (openpyxl write-only: fast for 100k rows)."""
    import openpyxl

    path = Path(path)
    wb = openpyxl.Workbook(write_only=True)
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        table = data.tables.get(spec.name)
        if table is None or (spec.optional and table.empty):
            continue
        ws = wb.create_sheet(spec.name)
        cols = spec.column_names
        ws.append(cols)
        arrays = [table[c].to_numpy(dtype=object) for c in cols]
        for values in zip(*arrays, strict=True):
            ws.append([None if (isinstance(v, float) and np.isnan(v)) else
                       (int(v) if isinstance(v, float) and c == "period" else v)
                       for c, v in zip(cols, values, strict=True)])
    wb.save(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=["small", "medium", "big", "supply100k"], default="big")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, help="write the instance as .xlsx")
    args = ap.parse_args()
    inst = {"small": small, "medium": medium, "big": big, "supply100k": lambda seed: supply_rows(seed=seed)}[
        args.size](args.seed)
    data = to_inputdata(inst)
    print({k: len(v) for k, v in data.tables.items()})
    if args.out:
        write_xlsx(data, args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
