"""Planning ahead (issue 12): stockpiles and capacity projects, as sets, variables, rows and costs.

Sets (added to sets.py's list):

    ST ⊆ N   stocks (d, k, t): a Stocks row (d, k) in every period t; its need (d, k, t) always exists
    P        projects: Projects rows (p, o, k, first_period, build)
    B        builds (p, τ): project p built in period τ >= first_period[p]
    SP ⊆ S   project supplies (o, k, t) of p for t >= first_period[p]: a supply of its own, at the
             project's unit_cost, so every flow, cap and share rule applies to its output

Variables:

    s[d,k,t] in [0, Stocks.capacity]   stock at the end of period t (s before the first period = initial)
    b[p,τ]   in [0, 1]                 project p built in τ (integer when Projects.build = binary)

Rows:

    balance[d,k,t]        ... + s[d,k,t-1] - s[d,k,t]   (terms added to constraints.balance)
    stock_release[d,k,t]  s[d,k,t-1] - s[d,k,t] <= Stocks.max_release   (blank: no limit)
    project_capacity[p,t] sum_d x[p,d,k,t] <= Projects.capacity[p] * sum_{τ <= t} b[p,τ]
    build_once[p]         sum_τ b[p,τ] <= 1

Objective terms:

    + sum s[d,k,t] * Stocks.holding_cost + sum b[p,τ] * (capex[p] * capacity[p] + fixed_cost[p])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.formulation.blocks import RowBlock, VarBlock, take_numbers

if TYPE_CHECKING:
    from model.data import InputData
    from model.formulation.sets import Codes, Index, Numbers

INF = np.inf

# ------------------------------------------------------------------------------------------ sets


def first_periods(data: InputData, periods: list[int]) -> np.ndarray:
    """Projects.first_period, a blank meaning the first period."""
    first = data.values("Projects", "first_period").astype(float, copy=False)
    start = float(periods[0]) if periods else 0.0
    return np.where(np.isnan(first), start, first).astype(np.int64)


def planning_keys(data: InputData, codes: Codes, supply: pd.DataFrame, supply_project: np.ndarray,
                  need_key: np.ndarray) -> dict[str, pd.DataFrame]:
    """The key tables `stocks`, `projects`, `builds` and `project_supply`. The supplies SP and the
    stocks' needs are in S and N already (sets.py); `supply_project` is each supply's Projects
    position (-1: a Supply row) and `need_key` N's node keys (Codes.node)."""
    from model.formulation.sets import key_table, look_up

    st = data["Stocks"]
    n_c, _, n_t = codes.sizes
    c, k = codes.c(data.values("Stocks", "country")), codes.k(data.values("Stocks", "commodity"))
    # every Stocks row in every period, by commodity, country, then period
    pos = np.repeat(np.argsort(k * n_c + c, kind="stable"), n_t)
    t = np.tile(np.arange(n_t, dtype=np.int64), len(st))
    stock_row = data.values("Stocks", "row")[pos].astype(np.int64)
    same = stock_row[1:] == stock_row[:-1]
    prev = np.full(len(pos), -1, dtype=np.int64)
    prev[1:][same] = np.arange(len(pos) - 1)[same]
    stocks = key_table(country=data.values("Stocks", "country")[pos], commodity=data.values("Stocks", "commodity")[pos],
                       stock_row=stock_row, period=codes.periods[t],
                       need_id=look_up(need_key, np.arange(len(need_key)), codes.node(k[pos], t, c[pos])), prev=prev)

    proj = data["Projects"]
    first = first_periods(data, codes.periods.tolist())
    projects = pd.DataFrame({"project": proj["project"].to_numpy(dtype=object),
                             "country": proj["country"].to_numpy(dtype=object),
                             "commodity": proj["commodity"].to_numpy(dtype=object),
                             "first_period": first, "row": proj["row"].to_numpy(dtype=np.int64)})
    builds = [(i, t) for i, f in enumerate(first) for t in codes.periods.tolist() if t >= f]
    builds = pd.DataFrame(builds, columns=["project_id", "period"]).astype("int64")
    builds.insert(0, "project", projects["project"].to_numpy()[builds["project_id"].to_numpy()])
    on = np.flatnonzero(supply_project >= 0)
    project_id = supply_project[on]
    ps = key_table(project=supply["project"].to_numpy()[on], country=supply["country"].to_numpy()[on],
                   commodity=supply["commodity"].to_numpy()[on], period=supply["period"].to_numpy()[on],
                   supply_id=on.astype(np.int64), project_id=project_id,
                   project_row=projects["row"].to_numpy()[project_id])  # its Projects row (Excel)
    return {"stocks": stocks, "projects": projects, "builds": builds, "project_supply": ps}


# ------------------------------------------------------------------------------------ numbers


@dataclass(frozen=True)
class PlanningNumbers:
    """Parameters of stocks (per stocks entry) and projects (per Projects row)."""

    initial: np.ndarray  # per stock: Stocks.initial (0 when blank)
    stock_capacity: np.ndarray  # per stock: Stocks.capacity (inf when blank)
    holding_cost: np.ndarray  # per stock: Stocks.holding_cost (0 when blank)
    max_release: np.ndarray  # per stock: Stocks.max_release (inf when blank)
    capacity: np.ndarray  # per project: Projects.capacity
    unit_cost: np.ndarray  # per project: Projects.unit_cost
    build_cost: np.ndarray  # per project: capex * capacity + fixed_cost
    binary: np.ndarray  # per project: build == "binary"


def positions(keys: dict[str, pd.DataFrame], data: InputData) -> dict[str, np.ndarray]:
    """Where each stock and project entry's numbers sit in Stocks and Projects (-1: nowhere)."""
    def at(sheet: str, rows: pd.Series) -> np.ndarray:
        return pd.Index(data[sheet]["row"]).get_indexer(rows.to_numpy())

    pid = np.full(len(keys["supply"]), -1, dtype=np.int64)
    ps = keys["project_supply"]
    pid[ps["supply_id"].to_numpy()] = ps["project_id"].to_numpy()
    return {"Stocks": at("Stocks", keys["stocks"]["stock_row"]), "Projects": at("Projects", keys["projects"]["row"]),
            "supply_project": pid}


def with_planning_numbers(numbers: Numbers, data: InputData, pos: dict[str, np.ndarray]) -> Numbers:
    """`numbers` with the planning parameters, and each project supply's capacity and unit cost."""
    take = functools.partial(take_numbers, data)

    s, p = pos["Stocks"], pos["Projects"]
    cap = take("Projects", "capacity", p, 0.0)
    build = data.values("Projects", "build")
    pn = PlanningNumbers(
        initial=take("Stocks", "initial", s, 0.0), stock_capacity=take("Stocks", "capacity", s, INF),
        holding_cost=take("Stocks", "holding_cost", s, 0.0), max_release=take("Stocks", "max_release", s, INF),
        capacity=cap, unit_cost=take("Projects", "unit_cost", p, 0.0),
        build_cost=take("Projects", "capex", p, 0.0) * cap + take("Projects", "fixed_cost", p, 0.0),
        binary=np.array([build[i] == "binary" if i >= 0 else False for i in p], dtype=bool))
    sp = pos["supply_project"]
    on = sp >= 0
    if not on.any():
        return replace(numbers, planning=pn)
    capacity, unit_cost = numbers.capacity.copy(), numbers.unit_cost.copy()
    capacity[on], unit_cost[on] = cap[sp[on]], pn.unit_cost[sp[on]]
    return replace(numbers, capacity=capacity, unit_cost=unit_cost, planning=pn)


# ---------------------------------------------------------------------------------- variables


def stock(ix: Index) -> VarBlock:
    """s[d,k,t] in [0, Stocks.capacity]; cost = Stocks.holding_cost."""
    pn = ix.numbers.planning
    return VarBlock("stock", lambda: ix.keys["stocks"], np.zeros(len(pn.initial)), pn.stock_capacity,
                    pn.holding_cost)


def build(ix: Index) -> VarBlock:
    """b[p,τ] in [0, 1]; cost = capex[p] * capacity[p] + fixed_cost[p] (integer if build = binary)."""
    pn = ix.numbers.planning
    p = ix.key("builds", "project_id")
    n = len(p)
    return VarBlock("build", lambda: ix.keys["builds"], np.zeros(n), np.ones(n), pn.build_cost[p])


def integrality(ix: Index, col_start: dict[str, int], n: int) -> np.ndarray | None:
    """1 for every b[p,τ] of a binary project, 0 elsewhere; None when the model is an LP."""
    if "build" not in col_start:
        return None
    binary = ix.numbers.planning.binary[ix.key("builds", "project_id")]
    if not binary.any():
        return None
    out = np.zeros(n, dtype=np.int64)
    out[col_start["build"] + np.flatnonzero(binary)] = 1
    return out


# --------------------------------------------------------------------------------------- rows


def balance_terms(ix: Index, at: dict[str, int], block: RowBlock) -> RowBlock:
    """balance[d,k,t] gains s[d,k,t-1] - s[d,k,t]; s before the first period is the constant
    `initial`, moved to the right-hand side."""
    if "stock" not in at or not ix.size("stocks"):
        return block
    st = ix.keys["stocks"]
    need, prev = ix.key("stocks", "need_id"), ix.key("stocks", "prev")
    col = at["stock"] + np.arange(len(st))
    has = prev >= 0
    rows = np.concatenate([block.rows, need, need[has]])
    cols = np.concatenate([block.cols, col, at["stock"] + prev[has]])
    vals = np.concatenate([block.vals, -np.ones(len(st)), np.ones(int(has.sum()))])
    shift = np.zeros(block.size)
    np.add.at(shift, need[~has], ix.numbers.planning.initial[~has])
    return RowBlock(block.name, block._keys, rows, cols, vals, block.lower - shift, block.upper - shift)


def stock_release(ix: Index, at: dict[str, int]) -> RowBlock:
    """stock_release[d,k,t]:   s[d,k,t-1] - s[d,k,t] <= Stocks.max_release   (s[t0-1] = initial)"""
    pn = ix.numbers.planning
    n = len(pn.initial)
    prev = ix.key("stocks", "prev")
    has = prev >= 0
    rows = np.concatenate([np.arange(n), np.flatnonzero(has)])
    cols = np.concatenate([at["stock"] + np.arange(n), at["stock"] + prev[has]])
    vals = np.concatenate([-np.ones(n), np.ones(int(has.sum()))])
    upper = pn.max_release - np.where(has, 0.0, pn.initial)
    return RowBlock("stock_release", lambda: ix.keys["stocks"], rows, cols, vals, np.full(n, -INF), upper)


def project_capacity(ix: Index, at: dict[str, int]) -> RowBlock:
    """project_capacity[p,t]:   sum_d x[p,d,k,t] - Projects.capacity[p] * sum_{τ <= t} b[p,τ] <= 0"""
    rows, fcols, brows, bcols, bproj = ix.structural("project_capacity", lambda: _project_pattern(ix))
    n = ix.size("project_supply")
    cap = ix.numbers.planning.capacity
    return RowBlock("project_capacity", lambda: ix.keys["project_supply"],
                    np.concatenate([rows, brows]), np.concatenate([at["flow"] + fcols, at["build"] + bcols]),
                    np.concatenate([np.ones(len(fcols)), -cap[bproj]]), np.full(n, -INF), np.zeros(n))


def _project_pattern(ix: Index) -> tuple[np.ndarray, ...]:
    """Flow entries (row, flow) and build entries (row, build, project) of project_capacity."""
    ps = ix.keys["project_supply"]
    row_of = np.full(ix.size("supply"), -1, dtype=np.int64)
    row_of[ps["supply_id"].to_numpy()] = np.arange(len(ps))
    sid = ix.key("flows", "supply_id")
    fcols = np.flatnonzero(row_of[sid] >= 0)
    from model.formulation.sets import match_codes

    # every build b[p,τ] with τ <= t, for each project supply (p, t)
    proj = ps["project_id"].to_numpy(np.int64)
    r, j = match_codes(proj, ix.key("builds", "project_id").astype(np.int64))
    on = ix.key("builds", "period")[j] <= ps["period"].to_numpy()[r]
    return row_of[sid[fcols]], fcols, r[on].astype(np.int64), j[on].astype(np.int64), proj[r[on]]


def build_once(ix: Index, at: dict[str, int]) -> RowBlock:
    """build_once[p]:   sum_τ b[p,τ] <= 1"""
    p = ix.key("builds", "project_id")
    n = ix.size("projects")
    return RowBlock("build_once", lambda: ix.keys["projects"], p.astype(np.int64), at["build"] + np.arange(len(p)),
                    np.ones(len(p)), np.full(n, -INF), np.ones(n))


# ------------------------------------------------------------------------------------ costs


def cost_parts(ix: Index, z: np.ndarray, col_start: dict[str, int]) -> dict[str, float]:
    """holding_cost = sum s * Stocks.holding_cost; investment_cost = sum b * (capex * capacity + fixed_cost)."""
    pn = ix.numbers.planning
    s = z[col_start["stock"]:col_start["stock"] + len(pn.initial)]
    nb = ix.size("builds")
    b = z[col_start["build"]:col_start["build"] + nb]
    return {"investment_cost": float(pn.build_cost[ix.key("builds", "project_id")] @ b),
            "holding_cost": float(pn.holding_cost @ s)}
