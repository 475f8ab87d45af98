"""Turn a solution into the plan's tidy tables (the output workbook contract, model/schema.py)."""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import numpy as np
import pandas as pd

import model
from model.codes import index_flow_codes, int_codes, rank_codes, text_column
from model.content_tables import china_content_table
from model.data import InputData
from model.formulation import families
from model.formulation.lp import LP
from model.formulation.objective import cost_parts, planning_cost_parts
from model.planning_tables import add_planning_tables
from model.schema import OUTPUTS, SUMMARY_METRICS
from model.solve.highs import Solution
from model.status import HAS_PLAN, Status

FLOW_TOL = families.FLOW_TOL  # flows and shortfalls below this are reported as zero


class Tables(MutableMapping[str, pd.DataFrame]):
    """The plan's tables by sheet name, in sheet order. A table may be registered as a function
    and is built on first use: a what-if batch that reads only the headline figures of a plan
    never pays for its tables, and one that reads them gets exactly the same tables."""

    def __init__(self) -> None:
        self._order: list[str] = []
        self._made: dict[str, pd.DataFrame] = {}
        self._make: dict[str, Callable[[], pd.DataFrame]] = {}

    def lazy(self, name: str, make: Callable[[], pd.DataFrame]) -> None:
        if name not in self._order:
            self._order.append(name)
        self._made.pop(name, None)
        self._make[name] = make

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._made:
            if name not in self._make:
                raise KeyError(name)
            self._made[name] = self._make.pop(name)()
        return self._made[name]

    def __setitem__(self, name: str, table: pd.DataFrame) -> None:
        if name not in self._order:
            self._order.append(name)
        self._make.pop(name, None)
        self._made[name] = table

    def __delitem__(self, name: str) -> None:
        self._order.remove(name)
        self._made.pop(name, None)
        self._make.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._order

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __repr__(self) -> str:
        return f"Tables({self._order})"


TABLE_ORDER = ("Overview", "Summary", "Flows", "Shares", "ChinaShare", "Shortfalls", "Capacity", "Prices",
               "ChinaContent", "Sensitivity", "FlowSensitivity", "AlternateOptima")
CONTRACT_TABLES = ("Summary", "Flows", "Shares", "ChinaShare", "Shortfalls")


@dataclass
class Analysis:
    """Everything the tables need beyond the solution, computed BEFORE any table is built (so no
    module rewrites another's table): exact share marginals, prices at degenerate destinations,
    ranging, alternate optima and the extra Summary figures (api.solve fills it)."""

    share_marginals: dict[str, np.ndarray] | None = None  # family -> +1 pp re-solved; None: duals
    content_marginals: np.ndarray | None = None  # content_rule rows: +1 pp re-solved; None: not re-solved
    prices: Any = None  # model.solve.marginals.Prices, or None: the balance duals
    ranging: Any = None  # model.report.sensitivity.Ranging (--ranging)
    sensitivity: bool = True  # build Sensitivity and FlowSensitivity
    alternate: pd.DataFrame | None = None  # raw alternate optima (--alternate-optima)
    rows: Literal["decisive", "full"] = "full"  # decisive: detail sheets hold what decides the plan
    summary: dict = field(default_factory=dict)  # extra Summary metrics, in order
    project_values: np.ndarray | None = None  # Projects.value: re-solved with each built project forbidden


@dataclass
class Plan:
    """A solved (or failed) plan: its status, headline numbers and tables keyed by sheet name."""

    status: Status
    objective: float
    total_cost: float
    shortfall_total: float
    dual_objective: float
    tables: Tables = field(default_factory=Tables)
    lp: LP | None = field(default=None, repr=False)
    solution: Solution | None = field(default=None, repr=False)
    data: InputData | None = field(default=None, repr=False)
    # Unmet demand valued at its shortfall penalty (currency) and the risk term: with total_cost
    # they add up to the objective. Comparisons lead with these, never with total_cost alone.
    shortfall_value: float = float("nan")
    risk_cost: float = float("nan")
    context: Any = field(default=None, repr=False)  # what the tables share (results._Context)

    @property
    def has_plan(self) -> bool:
        return self.status in HAS_PLAN

    def summary_value(self, metric: str):
        s = self.tables["Summary"]
        return s.loc[s["metric"] == metric, "value"].iloc[0]



def build_plan(data: InputData, lp: LP, sol: Solution, *, extra_summary: dict | None = None,
               detail: Literal["full", "contract"] = "full", analysis: Analysis | None = None) -> Plan:
    """The plan: headline figures now, tables on first use. `detail="contract"` (batches) leaves
    out everything but the contract tables. Every table is built once from `sol` and `analysis`."""
    ix = lp.index
    tables = Tables()
    status = sol.status
    an = analysis or Analysis(sensitivity=False)
    makers: dict[str, Callable[[], pd.DataFrame]] = {}
    ctx = None
    if sol.x is not None:
        x = sol.x[lp.cols("flow")]
        u = sol.x[lp.cols("shortfall")]
        parts = cost_parts(ix, x, u) | planning_cost_parts(ix, sol.x, lp.col_start)
        shortfall_total = float(u[u > FLOW_TOL].sum())
        if status == Status.OPTIMAL and shortfall_total > 0:
            status = Status.OPTIMAL_WITH_SHORTFALL
        ctx = _Context(data, lp, sol, an)
        makers = {
            "Flows": lambda: flows_table(lp, x, ctx.units),
            "Shares": lambda: shares_table(data, lp, x, ctx.units),
            "ChinaShare": lambda: china_share_table(data, lp, x, sol.row_dual, ctx.binding("china_cap"),
                                                    an.share_marginals),
            "Shortfalls": lambda: shortfalls_table(lp, u, ctx.units),
            "ChinaContent": lambda: china_content_table(plan),
        }
        if detail == "full":
            makers["Capacity"] = lambda: ctx.decisive("Capacity", ctx.capacity_full())
            makers["Prices"] = lambda: prices_table(lp, sol.row_dual, ctx.units, an.prices)
            if an.sensitivity and sol.row_dual is not None:
                makers["Sensitivity"] = lambda: ctx.decisive("Sensitivity", ctx.sensitivity_full(plan))
                makers["FlowSensitivity"] = lambda: ctx.decisive("FlowSensitivity", ctx.lanes_full())
            if an.alternate is not None:
                makers["AlternateOptima"] = lambda: _alternate(plan, an.alternate)
            makers["Overview"] = lambda: overview_table(plan)
    else:
        parts = dict.fromkeys(("production_cost", "route_cost", "risk_cost", "shortfall_penalty_cost",
                               "investment_cost", "holding_cost"), float("nan"))
        shortfall_total = float("nan")
        makers = dict.fromkeys(CONTRACT_TABLES[1:], pd.DataFrame)
        makers["ChinaContent"] = lambda: pd.DataFrame({c: [] for c in OUTPUTS["ChinaContent"].column_names})
    total_cost = parts["production_cost"] + parts["route_cost"] + parts["investment_cost"] + parts["holding_cost"]
    plan = Plan(status, sol.objective, total_cost, shortfall_total, sol.dual_objective,
                tables, lp, sol, data, shortfall_value=parts["shortfall_penalty_cost"],
                risk_cost=parts["risk_cost"], context=ctx)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    extra = {**an.summary, **dict(extra_summary or {})}
    for name in TABLE_ORDER:
        if name == "Summary":
            tables.lazy("Summary", lambda: summary_table(plan, data, lp, sol, parts, extra, created))
        elif name in makers:
            tables.lazy(name, makers[name])
    add_planning_tables(plan, extra)  # Stocks, Projects (issue 12)
    return plan


class _Context:
    """What several tables share, computed once per plan: units per commodity, the binding rows of
    each family (one definition, model/formulation/families.py), and the full detail tables from
    which the decisive rows are chosen."""

    def __init__(self, data: InputData, lp: LP, sol: Solution, an: Analysis):
        self.data, self.lp, self.sol, self.an = data, lp, sol, an
        self._binding: dict[str, np.ndarray] = {}
        self._full: dict[str, pd.DataFrame] = {}
        self.left_out: dict[str, tuple[int, int]] = {}  # sheet -> (rows kept, rows in all)
        self.units = commodity_units(data)
        self.sensitivity_seconds: float | None = None

    def binding(self, family: str) -> np.ndarray:
        if family not in self._binding:
            self._binding[family] = families.binding(self.lp, self.sol, family)
        return self._binding[family]

    def capacity_full(self) -> pd.DataFrame:
        if "Capacity" not in self._full:
            self._full["Capacity"] = capacity_table(self.lp, self.sol, self.units, self.binding("capacity"),
                                                    self.an.ranging)
        return self._full["Capacity"]

    def sensitivity_full(self, plan: Plan) -> pd.DataFrame:
        from model.report.sensitivity import sensitivity_table

        started = time.perf_counter()
        out = sensitivity_table(plan, self.an.ranging, marginals=self.an.share_marginals,
                                binding=self.binding, units=self.units)
        self.sensitivity_seconds = time.perf_counter() - started
        return out

    def lanes_full(self) -> pd.DataFrame:
        return flow_sensitivity_table(self.lp, self.sol, self.units)

    def decisive(self, sheet: str, table: pd.DataFrame) -> pd.DataFrame:
        """With rows="decisive": the rows that decide the plan (used or binding capacities, every
        cap and share limit, lanes in use or at their limit, and the marginal supplier of each
        commodity and period); the rest are counted for the README and Summary."""
        if self.an.rows == "full" or not len(table):
            return table
        if sheet == "Capacity":
            keep = decisive_suppliers(table)
        elif sheet == "Sensitivity":
            cap = self.capacity_full()
            # a project's supply shares its (period, commodity, country) with the country's own:
            # the decisive suppliers' triples, matched on one int64 code per triple
            chosen = decisive_suppliers(cap)
            (k, ck), commodities = rank_codes(table["commodity"], cap["commodity"])
            (c, cc), countries = rank_codes(table["country"], cap["country"])
            (t, ct), _ = int_codes(table["period"], cap["period"])
            n_c, n_k = len(countries), len(commodities)
            code, cap_code = (t * n_k + k) * n_c + c, (ct * n_k + ck) * n_c + cc
            hit = np.isin(code, cap_code[chosen]) & (k >= 0) & (c >= 0)
            measure = table["measure"].to_numpy(dtype=object)
            per_supplier = (measure == "capacity") | (measure == "unit cost")
            # delivered costs are the Prices sheet's (there checked against re-solves): not repeated
            delivered = measure == families.FAMILIES["balance"].label
            keep = (~per_supplier | hit) & ~delivered
        else:  # FlowSensitivity
            keep = ((table["quantity"] > FLOW_TOL) | (table["route_limit_dual"] != 0)).to_numpy()
        self.left_out[sheet] = (int(keep.sum()), len(table))
        return table[keep].reset_index(drop=True)


def decisive_suppliers(cap: pd.DataFrame) -> np.ndarray:
    """Supply rows that decide the plan: used, at capacity, or the marginal (cheapest to enter)
    unused supplier of each (period, commodity). The least cut per (period, commodity) by
    np.fmin.at on codes (NaN skipped, as a grouped min), not a groupby transform."""
    used = (cap["used"].to_numpy(dtype=float) > FLOW_TOL) | cap["binding"].to_numpy().astype(bool)
    cut = np.where(used, np.nan, cap["cost_cut_to_enter"].to_numpy(dtype=float))
    (k,), commodities = rank_codes(cap["commodity"])
    (t,), periods = int_codes(cap["period"])
    cell = np.where(k >= 0, t * max(len(commodities), 1) + k, 0)
    best = np.full(max(len(periods), 1) * max(len(commodities), 1), np.inf)
    np.fmin.at(best, cell, cut)
    marginal = ~np.isnan(cut) & (k >= 0) & (cut <= best[cell] + 1e-9)
    return used | marginal


def commodity_units(data: InputData | None) -> pd.Series:
    """Commodities.unit by commodity code; a blank unit reads "unit" (the schema's blank meaning)."""
    if data is None or "Commodities" not in data.tables:
        return pd.Series(dtype=object)
    com = data["Commodities"]
    unit = com["unit"] if "unit" in com else pd.Series([None] * len(com), index=com.index)
    text = unit.map(lambda v: str(v).strip() if isinstance(v, str) and str(v).strip() else "unit")
    return pd.Series(text.to_numpy(dtype=object), index=com["code"].to_numpy(dtype=object))


def _unit_of(units: pd.Series, commodities: np.ndarray) -> np.ndarray:
    if not len(commodities):
        return np.zeros(0, dtype=object)
    if not len(units):
        return np.full(len(commodities), "unit", dtype=object)
    return units.reindex(commodities).fillna("unit").to_numpy(dtype=object)


def _alternate(plan: Plan, alt: pd.DataFrame) -> pd.DataFrame:
    from model.report.sensitivity import alternate_optima_table

    return alternate_optima_table(plan, alt)


def flows_table(lp: LP, x: np.ndarray, units: pd.Series | None = None) -> pd.DataFrame:
    ix = lp.index
    keys = ix.structural("results.flows", lambda: _flow_keys(ix))
    on = x[keys["order"]] > FLOW_TOL
    sel = keys["order"][on]
    unit, route = ix.numbers.flow_unit_cost(ix)[sel], ix.numbers.route_cost[sel]
    quantity = x[sel]
    return pd.DataFrame({**_key_columns(ix, sel, keys["period"][on]), "quantity": quantity,
                         "unit": _units_by_code(ix, units, sel), "unit_cost": unit,
                         "route_cost": route, "cost": quantity * (unit + route)})


def _or_empty(units: pd.Series | None) -> pd.Series:
    return units if units is not None else pd.Series(dtype=object)


def _flow_keys(ix) -> dict[str, np.ndarray]:
    """The flows in the Flows sheet's order (period, commodity, origin, destination): positions and
    periods. Sorted on rank codes (model/codes.py), the strings' own order, ties kept in flow order."""
    f = index_flow_codes(ix)
    order = np.lexsort((f.destination, f.origin, f.commodity, f.period))
    return {"order": order, "period": ix.key("flows", "period")[order]}


def _key_columns(ix, sel: np.ndarray, period: np.ndarray) -> dict:
    """period, commodity, origin, destination of the flows `sel`, the text columns taken from their
    few distinct values (what pandas infers from the strings, without converting each one)."""
    f = index_flow_codes(ix)
    return {"period": period, "commodity": text_column(f.commodities, f.commodity[sel]),
            "origin": text_column(f.countries, f.origin[sel]),
            "destination": text_column(f.countries, f.destination[sel])}


def _units_by_code(ix, units: pd.Series | None, sel: np.ndarray) -> pd.api.extensions.ExtensionArray | np.ndarray:
    """_unit_of the flows `sel`'s commodities, looked up once per commodity."""
    f = index_flow_codes(ix)
    per_commodity = _unit_of(_or_empty(units), f.commodities)
    code, texts = pd.factorize(per_commodity)
    return text_column(np.asarray(texts, dtype=object), code[f.commodity[sel]]) if len(sel) else \
        _unit_of(_or_empty(units), np.zeros(0, dtype=object))


def _grid_pattern(data: InputData, lp: LP) -> dict[str, np.ndarray | pd.DataFrame]:
    """Structure-only arrays for the share tables: the (period, commodity) grid, each flow's grid
    position (-1 for flows into the China group) and each grid cell's China-cap row (-1: none)."""
    ix = lp.index
    f = ix.keys["flows"]
    codes = data["Commodities"]["code"].to_numpy(dtype=object)
    grid = pd.DataFrame({"period": np.repeat(np.asarray(ix.periods, dtype=np.int64), len(codes)),
                         "commodity": np.tile(codes, len(ix.periods))})
    grid = grid.sort_values(["period", "commodity"], kind="stable").reset_index(drop=True)
    cell = pd.Series(np.arange(len(grid)), index=pd.MultiIndex.from_frame(grid))
    pos = cell.reindex(pd.MultiIndex.from_arrays([f["period"].to_numpy(), f["commodity"].to_numpy()])).to_numpy()
    pos = np.where(f["china_dest"].to_numpy() | np.isnan(pos), -1, pos).astype(np.int64)
    caps = ix.keys["caps"]
    cap_row = np.full(len(grid), -1, dtype=np.int64)
    if len(caps):
        at = cell.reindex(pd.MultiIndex.from_arrays([caps["period"].to_numpy(), caps["commodity"].to_numpy()]))
        cap_row[at.to_numpy().astype(np.int64)] = np.arange(len(caps))
    origin_code, origins = pd.factorize(f["origin"].to_numpy(dtype=object))
    return {"grid": grid, "pos": pos, "cap_row": cap_row, "origin_code": origin_code,
            "origins": np.asarray(origins, dtype=object)}


def shares_table(data: InputData, lp: LP, x: np.ndarray, units: pd.Series | None = None) -> pd.DataFrame:
    """Each source's share of supply to non-China destinations, per (period, commodity)."""
    g = lp.index.structural("results.grid", lambda: _grid_pattern(data, lp))
    keep = g["pos"] >= 0
    n_orig = len(g["origins"])
    cell = g["pos"][keep] * n_orig + g["origin_code"][keep]
    qty = np.bincount(cell, weights=x[keep], minlength=len(g["grid"]) * n_orig)
    total = qty.reshape(len(g["grid"]), n_orig).sum(axis=1)
    on = np.flatnonzero(qty > FLOW_TOL)
    grid_pos, origin = on // n_orig, on % n_orig
    commodity = g["grid"]["commodity"].to_numpy()[grid_pos]
    out = pd.DataFrame({
        "period": g["grid"]["period"].to_numpy()[grid_pos],
        "commodity": commodity,
        "source": g["origins"][origin],
        "quantity": qty[on],
        "unit": _unit_of(_or_empty(units), commodity),
        "share": qty[on] / total[grid_pos],
    })
    order = np.lexsort((-out["share"].to_numpy(), grid_pos))  # grid is sorted by period, commodity
    return out.iloc[order].reset_index(drop=True)


def china_share_table(data: InputData, lp: LP, x: np.ndarray, row_dual: np.ndarray | None,
                      binding: np.ndarray | None = None,
                      marginals: dict[str, np.ndarray] | None = None) -> pd.DataFrame:
    """China group's share of supply to non-China destinations against its cap, per (period,
    commodity). `binding` (per cap row) is families.binding; `marginals` the re-solved +1 pp costs."""
    ix = lp.index
    g = ix.structural("results.grid", lambda: _grid_pattern(data, lp))
    keep = g["pos"] >= 0
    n = len(g["grid"])
    total = np.bincount(g["pos"][keep], weights=x[keep], minlength=n)
    china = np.bincount(g["pos"][keep], weights=(x * ix.key("flows", "china_origin"))[keep], minlength=n)
    share = np.where(total > FLOW_TOL, china / np.where(total > 0, total, 1.0), np.nan)
    has_cap = g["cap_row"] >= 0
    rows = g["cap_row"][has_cap]
    cap = np.full(n, np.nan)
    cap[has_cap] = ix.numbers.china_cap[rows]
    marginal = np.full(n, np.nan)
    if marginals is not None and "china_cap" in marginals:
        marginal[has_cap] = marginals["china_cap"][rows] + 0.0
    elif ix.size("caps"):
        # d objective / d cap = dual * S (the row is sum (inside - cap) x <= 0); per percentage point: / 100
        dual = row_dual[lp.rows("china_cap")][rows] if row_dual is not None else np.zeros(len(rows))
        marginal[has_cap] = 0.01 * dual * total[has_cap] + 0.0
    bind = np.zeros(n, dtype=bool)
    if binding is None and ix.size("caps"):
        binding = (np.nan_to_num(share[has_cap]) >= cap[has_cap] - 1e-6) & (total[has_cap] > FLOW_TOL)
        bind[has_cap] = binding
    elif binding is not None and len(rows):
        bind[has_cap] = binding[rows]
    out = g["grid"].copy()
    out["china_share"] = share
    out["china_cap"] = cap
    out["binding"] = bind
    out["marginal_cost"] = marginal
    return out


def shortfalls_table(lp: LP, u: np.ndarray, units: pd.Series | None = None) -> pd.DataFrame:
    ix = lp.index
    n = ix.keys["needs"]  # sorted by commodity, period, country; the sheet wants period first
    order = ix.structural("results.needs_order", lambda: np.lexsort(
        [n[c].to_numpy() for c in ("country", "commodity", "period")]))
    sel = order[u[order] > FLOW_TOL]
    out = pd.DataFrame({c: n[c].to_numpy()[sel] for c in ("period", "commodity", "country")} | {"quantity": u[sel]})
    out["unit"] = _unit_of(_or_empty(units), out["commodity"].to_numpy())
    penalty = np.asarray(ix.numbers.need_penalty, dtype=float)[sel]
    out["penalty"] = penalty
    out["value"] = u[sel] * penalty
    return out


def capacity_table(lp: LP, sol: Solution, units: pd.Series | None = None, binding: np.ndarray | None = None,
                   ranging=None) -> pd.DataFrame:
    """Use of every Supply row, the value of one more unit of its capacity (the shadow price) and
    what an unused supplier's cost must fall by to enter; with ranging, the basis ranges."""
    from model.report.sensitivity import cost_cut_to_enter

    x = sol.x[lp.cols("flow")]
    row_dual = sol.row_dual
    s = lp.index.supply
    used = np.bincount(lp.index.flows["supply_id"].to_numpy(), weights=x, minlength=len(s))
    out = s[["period", "commodity", "country", "capacity", "unit_cost"]].copy()
    out["used"] = used
    out["utilisation"] = np.where(out["capacity"] > 0, used / out["capacity"].where(out["capacity"] > 0, 1), np.nan)
    dual = row_dual[lp.rows("capacity")] if row_dual is not None else np.full(len(s), np.nan)
    out["shadow_price"] = -dual + 0.0  # objective saved per extra unit of capacity (>= 0)
    out["cost_cut_to_enter"] = cost_cut_to_enter(lp, sol) if sol.col_dual is not None else np.nan
    nan = np.full(len(s), np.nan)
    for col, attr in (("capacity_decrease", "capacity_decrease"), ("capacity_increase", "capacity_increase"),
                      ("cost_decrease", "cost_decrease"), ("cost_increase", "cost_increase")):
        values = getattr(ranging, attr) if ranging is not None else nan
        out[col] = np.where(np.isinf(values), np.nan, values)
    out["unit"] = _unit_of(_or_empty(units), out["commodity"].to_numpy())
    out["binding"] = binding if binding is not None else (out["utilisation"] >= 1 - 1e-9).to_numpy()
    return out.sort_values(["period", "commodity", "country"]).reset_index(drop=True)


def prices_table(lp: LP, row_dual: np.ndarray | None, units: pd.Series | None = None,
                 prices=None) -> pd.DataFrame:
    """Cost of one more unit delivered at each destination: the balance dual where it holds for a
    whole unit (HiGHS ranging), else re-solved (`prices`, model/solve/marginals.py)."""
    n = lp.index.needs
    out = n[["period", "commodity", "country", "quantity"]].rename(columns={"quantity": "demand"}).copy()
    dual = row_dual[lp.rows("balance")] + 0.0 if row_dual is not None else np.full(len(n), np.nan)
    if prices is not None:
        out["marginal_cost"] = prices.marginal_cost
        saving, note = prices.marginal_saving, prices.note
    else:
        out["marginal_cost"] = dual
        saving = np.where(out["demand"].to_numpy(dtype=float) >= 1, dual, np.nan)
        note = np.full(len(n), "dual (not checked against a re-solve)", dtype=object)
    out["unit"] = _unit_of(_or_empty(units), out["commodity"].to_numpy())
    out["marginal_saving"] = saving
    out["dual"] = dual
    out["note"] = note
    return out.sort_values(["period", "commodity", "country"]).reset_index(drop=True)


_LANE_NOTES = np.array(["blocked: route limit 0",
                        "in use at its route limit: a higher limit saves -route_limit_dual",
                        "in use",
                        "unused but tied: another least-cost plan may use it",
                        "unused: must get reduced_cost cheaper to enter"], dtype=object)


def flow_sensitivity_table(lp: LP, sol: Solution, units: pd.Series | None = None) -> pd.DataFrame:
    """Every lane as Excel Solver reports a variable cell: final value, objective coefficient,
    reduced cost, and the dual of its route limit (the reduced cost of a lane at its limit)."""
    ix = lp.index
    keys = ix.structural("results.flows", lambda: _flow_keys(ix))
    order = keys["order"]
    cols = lp.cols("flow")
    x = sol.x[cols][order]
    rc = sol.col_dual[cols][order] + 0.0 if sol.col_dual is not None else np.full(len(order), np.nan)
    rc = np.where(np.abs(rc) <= 1e-9, 0.0, rc)
    limit = np.asarray(lp.upper[cols], dtype=float)[order]
    at_limit = np.isfinite(limit) & (x >= limit - 1e-9) & (limit > 0)
    limit_dual = np.where(at_limit & (rc < 0), rc, 0.0)
    # the notes by code, taken from the five strings (np.where on text would build a fixed-width
    # string array per branch: 280 MB each at a million lanes)
    note = text_column(_LANE_NOTES, np.select([limit == 0, at_limit & (rc < 0), x > FLOW_TOL, rc == 0],
                                              [0, 1, 2, 3], 4))
    return pd.DataFrame({
        **_key_columns(ix, order, keys["period"]), "quantity": np.where(x > FLOW_TOL, x, 0.0),
        "unit": _units_by_code(ix, units, order), "cost_per_unit": lp.c[cols][order],
        "reduced_cost": rc, "route_limit": np.where(np.isfinite(limit), limit, np.nan),
        "route_limit_dual": limit_dual + 0.0, "note": note,
    })


def overview_table(plan: Plan) -> pd.DataFrame:
    """The front sheet's table: one row per commodity, every period together, in its own unit."""
    data = plan.data
    com = data["Commodities"]
    codes = com["code"].to_numpy(dtype=object)
    names = com["name"].where(com["name"].notna(), com["code"]).to_numpy(dtype=object) if "name" in com else codes
    units = commodity_units(data)
    shares = plan.tables["Shares"]
    china = plan.tables["ChinaShare"]
    flows = plan.tables["Flows"]
    short = plan.tables["Shortfalls"]
    com_code, com_uni = pd.factorize(shares["commodity"].to_numpy(dtype=object))
    src_code, src_uni = pd.factorize(shares["source"].to_numpy(dtype=object))
    q = shares["quantity"].to_numpy(dtype=float)
    # quantity per (commodity, source), sources of a commodity largest first (ties: first met)
    pair = com_code.astype(np.int64) * max(len(src_uni), 1) + src_code
    key, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    pair_q = np.bincount(inverse, weights=q, minlength=len(key))
    pair_com, pair_src = key // max(len(src_uni), 1), key % max(len(src_uni), 1)
    order = np.lexsort((first, -pair_q, pair_com))
    supply_of = pd.Series(np.bincount(com_code, weights=q, minlength=len(com_uni)), index=com_uni)
    total = supply_of.to_numpy()
    named: dict[str, list[str]] = {}
    for c, s_, v in zip(pair_com[order].tolist(), pair_src[order].tolist(), pair_q[order].tolist(), strict=True):
        got = named.setdefault(com_uni[c], [])
        if total[c] > 0 and len(got) < TOP_SOURCES:
            got.append(f"{src_uni[s_]} {v / total[c]:.0%}")
    top = {code: ", ".join(got) for code, got in named.items()}
    supply = supply_of
    ch = china.assign(china_q=china["china_share"].fillna(0.0))
    # the China share over all periods = China's supply / all supply, from Shares (same denominators)
    china_members = set(plan.lp.index.keys["flows"].loc[plan.lp.index.key("flows", "china_origin"), "origin"])
    in_china = np.isin(src_uni[src_code], list(china_members)) if len(src_uni) else np.zeros(0, dtype=bool)
    china_q = pd.Series(np.bincount(com_code[in_china], weights=q[in_china], minlength=len(com_uni)), index=com_uni)
    cap = ch.groupby("commodity")["china_cap"].max()
    caps_binding = ch.groupby("commodity")["binding"].sum()
    shortfall = short.groupby("commodity")["quantity"].sum() if len(short) else pd.Series(dtype=float)
    cost = flows.groupby("commodity")["cost"].sum() if len(flows) else pd.Series(dtype=float)
    sup = supply.reindex(codes).fillna(0.0).to_numpy()
    out = pd.DataFrame({
        "commodity": codes, "name": names, "unit": _unit_of(units, codes), "supply": sup,
        "top_sources": [top.get(c, "") for c in codes],
        "china_share": np.where(sup > FLOW_TOL, china_q.reindex(codes).fillna(0.0).to_numpy() / np.where(
            sup > 0, sup, 1.0), np.nan),
        "china_cap": cap.reindex(codes).to_numpy(dtype=float),
        "caps_binding": caps_binding.reindex(codes).fillna(0).to_numpy(dtype=np.int64),
        "shortfall": shortfall.reindex(codes).fillna(0.0).to_numpy(dtype=float),
        "cost_bn": cost.reindex(codes).fillna(0.0).to_numpy(dtype=float),
    })
    return out


TOP_SOURCES = 4  # sources named per commodity on the Overview


@functools.cache
def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def safe_text(value: object) -> str:
    """Text that any .xlsx can hold: undecodable bytes of a file name (surrogate escapes) and
    control characters are written as backslash escapes instead of failing or vanishing."""
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if (c >= " " or c in "\t") and not 0xD800 <= ord(c) <= 0xDFFF and c not in "\ufffe\uffff"
                   else f"\\x{ord(c):02x}" for c in text)


DECISION_METRICS = ("status", "objective", "total_cost", "shortfall_value", "investment_cost", "holding_cost",
                    "projects_built", "stocks_held", "cost_of_china_caps",
                    "china_caps_binding", "shortfalls", "currency")


def planning_counts(lp: LP, sol: Solution) -> dict[str, int]:
    """What the plan invests in and stockpiles, as counts for the front sheet (quantities of
    different commodities are never added: the Stocks and Projects sheets give them per unit).
    projects_built: Projects rows built to any fraction; stocks_held: Stocks rows bought into in
    some period or holding stock at the end. A workbook without the sheet has no such metric."""
    ix = lp.index
    out: dict[str, int] = {}
    if ix.size("projects"):
        b = sol.x[lp.cols("build")]
        built = np.bincount(ix.key("builds", "project_id"), weights=b, minlength=ix.size("projects"))
        out["projects_built"] = int((built > 1e-6).sum())
    if ix.size("stocks"):
        level = sol.x[lp.cols("stock")]
        prev = ix.key("stocks", "prev")
        before = np.where(prev >= 0, level[np.maximum(prev, 0)], ix.numbers.planning.initial)
        last = np.r_[prev[1:] < 0, True]  # each stock's last period (stocks are sorted by stock, then period)
        used = (level - before > FLOW_TOL) | (last & (level > FLOW_TOL))
        out["stocks_held"] = int(np.unique(ix.key("stocks", "stock_row")[used]).size)
    return out


def summary_table(plan: Plan, data: InputData, lp: LP, sol: Solution, parts: dict, extra: dict,
                  created: str) -> pd.DataFrame:
    """Decision figures first (status, objective, total_cost, shortfall_value, cost_of_china_caps,
    caps binding), run details after; each metric with its unit and meaning (model/schema.py)."""
    st = data.settings
    m, n = lp.shape
    extra = dict(extra)
    china = plan.tables["ChinaShare"] if plan.has_plan else pd.DataFrame()
    short = plan.tables["Shortfalls"] if plan.has_plan else pd.DataFrame()
    decision = {
        "status": str(plan.status),
        "objective": plan.objective,
        "total_cost": plan.total_cost,
        "shortfall_value": plan.shortfall_value,
        # decisions taken ahead (issue 12): inside total_cost
        "investment_cost": parts["investment_cost"],
        "holding_cost": parts["holding_cost"],
        **(planning_counts(lp, sol) if plan.has_plan else {}),
        "cost_of_china_caps": extra.pop("cost_of_china_caps", None),
        "china_caps_binding": int(china["binding"].sum()) if len(china) else 0,
        "shortfalls": len(short),
        "currency": st.currency,
    }
    if decision["cost_of_china_caps"] is None:
        del decision["cost_of_china_caps"]
    rows = [*decision.items()]
    if "objective_without_china_caps" in extra:
        rows.append(("objective_without_china_caps", extra.pop("objective_without_china_caps")))
    rows += [
        ("risk_cost", parts["risk_cost"]),
        ("production_cost", parts["production_cost"]),
        ("route_cost", parts["route_cost"]),
        ("shortfall_penalty_cost", parts["shortfall_penalty_cost"]),
        ("shortfall_total", plan.shortfall_total),
        ("dual_objective", plan.dual_objective),
    ]
    ctx = getattr(plan, "context", None)
    if ctx is not None and ctx.an.rows == "decisive" and plan.has_plan:
        for name in ("Capacity", "Sensitivity", "FlowSensitivity"):
            if name in plan.tables:
                plan.tables[name]  # noqa: B018 - built now so its left-out count is known
        parts_text = [f"{sheet} {kept:,} of {total:,} rows" for sheet, (kept, total) in ctx.left_out.items()
                      if kept < total]
        rows.append(("detail", "decisive rows only" + (f" ({'; '.join(parts_text)})" if parts_text else "")
                     + ": used or binding capacities, every limit, lanes in use or at a limit, "
                     "marginal suppliers; delivered costs are on Prices; `--detail full` writes every row"))
    if ctx is not None and "Sensitivity" in plan.tables:
        plan.tables["Sensitivity"]  # noqa: B018 - built now (once) so its time is known
        extra["sensitivity_seconds"] = round(ctx.sensitivity_seconds or 0.0, 4)
    rows += [
        ("input_file", safe_text(data.source)),
        ("input_sha256", data.sha256),
        ("solver", f"HiGHS {_version('highspy')} via highspy"),
        ("solver_status", sol.model_status),
        ("pyomo_version", _version("pyomo")),
        ("tool_version", model.__version__),
        ("solve_seconds", round(sol.seconds, 4)),
        ("simplex_iterations", sol.iterations),
        ("variables", n),
        ("constraints", m),
        ("periods", ", ".join(str(p) for p in lp.index.periods)),
        ("setting china_group", st.china_group),
        ("setting unlisted_routes", st.unlisted_routes),
        ("setting risk_weight", st.risk_weight),
        ("setting shortfall_penalty", st.shortfall_penalty if st.shortfall_penalty is not None else "default"),
        ("setting time_limit_s", st.time_limit_s if st.time_limit_s is not None else "none"),
        *extra.items(),
        ("created", created),
    ]
    cur = st.currency
    meta = [SUMMARY_METRICS.get(k, ("number", "", "")) for k, _ in rows]
    unit = [(mt[1].replace("currency", cur) if mt[1] else "") for mt in meta]
    return pd.DataFrame({"metric": [k for k, _ in rows], "value": [v for _, v in rows], "unit": unit,
                         "meaning": [mt[2] for mt in meta]})
