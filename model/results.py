"""Turn a solution into the plan's tidy tables (the output workbook contract, model/schema.py)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Literal

import numpy as np
import pandas as pd

import model
from model.content_tables import add_china_content
from model.data import InputData
from model.formulation.lp import LP
from model.formulation.objective import cost_parts
from model.solve.highs import Solution
from model.status import HAS_PLAN, Status

FLOW_TOL = 1e-9  # flows and shortfalls below this are reported as zero
SHARE_TOL = 1e-6  # a share within this of its cap counts as binding


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


TABLE_ORDER = ("Summary", "Flows", "Shares", "ChinaShare", "Shortfalls", "Capacity", "Prices")


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

    @property
    def has_plan(self) -> bool:
        return self.status in HAS_PLAN

    def summary_value(self, metric: str):
        s = self.tables["Summary"]
        return s.loc[s["metric"] == metric, "value"].iloc[0]


def build_plan(data: InputData, lp: LP, sol: Solution, *, extra_summary: dict | None = None,
               detail: Literal["full", "contract"] = "full") -> Plan:
    """The plan: headline figures now, tables on first use. `detail="contract"` (batches) leaves
    out Capacity and Prices."""
    ix = lp.index
    tables = Tables()
    status = sol.status
    if sol.x is not None:
        x = sol.x[lp.cols("flow")]
        u = sol.x[lp.cols("shortfall")]
        parts = cost_parts(ix, x, u)
        shortfall_total = float(u[u > FLOW_TOL].sum())
        if status == Status.OPTIMAL and shortfall_total > 0:
            status = Status.OPTIMAL_WITH_SHORTFALL
        makers = {
            "Flows": lambda: flows_table(lp, x),
            "Shares": lambda: shares_table(data, lp, x),
            "ChinaShare": lambda: china_share_table(data, lp, x, sol.row_dual),
            "Shortfalls": lambda: shortfalls_table(lp, u),
        }
        if detail == "full":
            makers["Capacity"] = lambda: capacity_table(lp, x, sol.row_dual)
            makers["Prices"] = lambda: prices_table(lp, sol.row_dual)
    else:
        parts = dict.fromkeys(("production_cost", "route_cost", "risk_cost", "shortfall_penalty_cost"),
                              float("nan"))
        shortfall_total = float("nan")
        makers = dict.fromkeys(("Flows", "Shares", "ChinaShare", "Shortfalls"), pd.DataFrame)
    total_cost = parts["production_cost"] + parts["route_cost"]
    plan = Plan(status, sol.objective, total_cost, shortfall_total, sol.dual_objective,
                tables, lp, sol, data, shortfall_value=parts["shortfall_penalty_cost"],
                risk_cost=parts["risk_cost"])
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    extra = dict(extra_summary or {})
    tables.lazy("Summary", lambda: summary_table(plan, data, lp, sol, parts, extra, created))
    for name in TABLE_ORDER:
        if name in makers:
            tables.lazy(name, makers[name])
    add_china_content(plan)  # issue 13: the ChinaContent sheet (model/content_tables.py)
    return plan


def flows_table(lp: LP, x: np.ndarray) -> pd.DataFrame:
    ix = lp.index
    keys = ix.structural("results.flows", lambda: _flow_keys(ix))
    on = x[keys["order"]] > FLOW_TOL
    sel = keys["order"][on]
    unit, route = ix.numbers.flow_unit_cost(ix)[sel], ix.numbers.route_cost[sel]
    out = {name: keys[name][on] for name in ("period", "commodity", "origin", "destination")}
    quantity = x[sel]
    return pd.DataFrame({**out, "quantity": quantity, "unit_cost": unit, "route_cost": route,
                         "cost": quantity * (unit + route)})


def _flow_keys(ix) -> dict[str, np.ndarray]:
    """The flows in the Flows sheet's order (period, commodity, origin, destination), as arrays."""
    f = ix.keys["flows"]
    cols = ["period", "commodity", "origin", "destination"]
    order = np.lexsort([f[c].to_numpy() for c in reversed(cols)])
    return {"order": order, **{c: f[c].to_numpy()[order] for c in cols}}


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


def shares_table(data: InputData, lp: LP, x: np.ndarray) -> pd.DataFrame:
    """Each source's share of supply to non-China destinations, per (period, commodity)."""
    g = lp.index.structural("results.grid", lambda: _grid_pattern(data, lp))
    keep = g["pos"] >= 0
    n_orig = len(g["origins"])
    cell = g["pos"][keep] * n_orig + g["origin_code"][keep]
    qty = np.bincount(cell, weights=x[keep], minlength=len(g["grid"]) * n_orig)
    total = qty.reshape(len(g["grid"]), n_orig).sum(axis=1)
    on = np.flatnonzero(qty > FLOW_TOL)
    grid_pos, origin = on // n_orig, on % n_orig
    out = pd.DataFrame({
        "period": g["grid"]["period"].to_numpy()[grid_pos],
        "commodity": g["grid"]["commodity"].to_numpy()[grid_pos],
        "source": g["origins"][origin],
        "quantity": qty[on],
        "share": qty[on] / total[grid_pos],
    })
    order = np.lexsort((-out["share"].to_numpy(), grid_pos))  # grid is sorted by period, commodity
    return out.iloc[order].reset_index(drop=True)


def china_share_table(data: InputData, lp: LP, x: np.ndarray, row_dual: np.ndarray | None) -> pd.DataFrame:
    """China group's share of supply to non-China destinations against its cap, per (period, commodity)."""
    ix = lp.index
    g = ix.structural("results.grid", lambda: _grid_pattern(data, lp))
    keep = g["pos"] >= 0
    n = len(g["grid"])
    total = np.bincount(g["pos"][keep], weights=x[keep], minlength=n)
    china = np.bincount(g["pos"][keep], weights=(x * ix.key("flows", "china_origin"))[keep], minlength=n)
    share = np.where(total > FLOW_TOL, china / np.where(total > 0, total, 1.0), np.nan)
    has_cap = g["cap_row"] >= 0
    cap = np.full(n, np.nan)
    cap[has_cap] = ix.numbers.china_cap[g["cap_row"][has_cap]]
    dual = np.zeros(n)
    if row_dual is not None and ix.size("caps"):
        dual[has_cap] = row_dual[lp.rows("china_cap")][g["cap_row"][has_cap]]
    # d objective / d cap = dual * S (the row is sum (inside - cap) x <= 0); per percentage point: / 100
    marginal = np.where(has_cap, 0.01 * dual * total + 0.0, np.nan)
    binding = has_cap & (total > FLOW_TOL) & (np.nan_to_num(share) >= cap - SHARE_TOL)
    out = g["grid"].copy()
    out["china_share"] = share
    out["china_cap"] = cap
    out["binding"] = binding
    out["marginal_cost"] = marginal
    return out


def shortfalls_table(lp: LP, u: np.ndarray) -> pd.DataFrame:
    n = lp.index.keys["needs"]  # sorted by commodity, period, country; the sheet wants period first
    order = lp.index.structural("results.needs_order", lambda: np.lexsort(
        [n[c].to_numpy() for c in ("country", "commodity", "period")]))
    sel = order[u[order] > FLOW_TOL]
    return pd.DataFrame({c: n[c].to_numpy()[sel] for c in ("period", "commodity", "country")} | {"quantity": u[sel]})


def capacity_table(lp: LP, x: np.ndarray, row_dual: np.ndarray | None) -> pd.DataFrame:
    """Use of every Supply row and the value of one more unit of its capacity (the shadow price)."""
    s = lp.index.supply
    used = np.bincount(lp.index.flows["supply_id"].to_numpy(), weights=x, minlength=len(s))
    out = s[["period", "commodity", "country", "capacity", "unit_cost"]].copy()
    out["used"] = used
    out["utilisation"] = np.where(out["capacity"] > 0, used / out["capacity"].where(out["capacity"] > 0, 1), np.nan)
    dual = row_dual[lp.rows("capacity")] if row_dual is not None else np.full(len(s), np.nan)
    out["shadow_price"] = -dual + 0.0  # objective saved per extra unit of capacity (>= 0)
    return out.sort_values(["period", "commodity", "country"]).reset_index(drop=True)


def prices_table(lp: LP, row_dual: np.ndarray | None) -> pd.DataFrame:
    """Marginal cost of one more unit delivered at each destination (the balance duals)."""
    n = lp.index.needs
    out = n[["period", "commodity", "country", "quantity"]].rename(columns={"quantity": "demand"}).copy()
    out["marginal_cost"] = row_dual[lp.rows("balance")] + 0.0 if row_dual is not None else np.nan
    return out.sort_values(["period", "commodity", "country"]).reset_index(drop=True)


@functools.cache
def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def summary_table(plan: Plan, data: InputData, lp: LP, sol: Solution, parts: dict, extra: dict,
                  created: str) -> pd.DataFrame:
    st = data.settings
    m, n = lp.shape
    rows = [
        ("status", str(plan.status)),
        ("total_cost", plan.total_cost),
        ("objective", plan.objective),
        ("dual_objective", plan.dual_objective),
        ("shortfall_total", plan.shortfall_total),
        *parts.items(),
        ("currency", st.currency),
        ("input_file", data.source),
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
    return pd.DataFrame(rows, columns=["metric", "value"])
