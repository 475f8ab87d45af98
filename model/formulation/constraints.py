"""Constraints of the LP: one function per family; each docstring is its equation.

Notation: x flows, u shortfalls (see variables.py); C is the China group; "non-China supply"
S[k,t] = sum_{o, d not in C} x[o,d,k,t] is the supply of k to destinations outside the China group,
the denominator of the China cap and of every ShareLimits row. The China-content families
(clean_bound, clean_input, content_rule) are stated in content.py and appended to CONSTRAINTS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.formulation import planning
from model.formulation.blocks import RowBlock
from model.formulation.sets import Index, index_codes, look_up, match_codes

INF = np.inf


def capacity(ix: Index, at: dict[str, int]) -> RowBlock:
    """capacity[o,k,t]:   sum_d x[o,d,k,t] <= Supply.capacity[o,k,t]"""
    rows = ix.key("flows", "supply_id")
    cols = at["flow"] + np.arange(len(rows))
    cap = ix.numbers.capacity
    return RowBlock("capacity", lambda: ix.supply, rows, cols, np.ones(len(rows)), np.full(len(cap), -INF), cap)


def balance(ix: Index, at: dict[str, int]) -> RowBlock:
    """balance[d,k,t]:   sum_o x[o,d,k,t] + u[d,k,t]
                           = Demand.quantity[d,k,t] + sum_k' Recipes.quantity[k',k] * sum_d' x[d,d',k',t]
                           (+ s[d,k,t] - s[d,k,t-1] where a stock is held: planning.balance_terms)

    The last term is production: making one unit of k' in d consumes the recipe's inputs there.
    """
    rows, cols, recipe = ix.structural("balance", lambda: _balance_pattern(ix, at))
    quantity = ix.numbers.recipe_quantity[recipe]
    rhs = ix.numbers.quantity
    n_flow, n_need = ix.size("flows"), ix.size("needs")
    return planning.balance_terms(ix, at, RowBlock("balance", lambda: ix.needs, rows, cols,
                    np.concatenate([np.ones(n_flow), np.ones(n_need), -quantity]), rhs, rhs.copy()))


def _balance_pattern(ix: Index, at: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of the balance entries: inflows, shortfalls, then production draws (every
    flow out of d of an output k' draws each recipe input k from need (d, k, t)), with the Recipes
    position of each production entry. Joined on the sets' integer codes (sets.IndexCodes)."""
    ic = index_codes(ix)
    f, codes = ic.flows, ic.codes
    inflow_cols = at["flow"] + np.arange(len(f.supply))
    short_rows = np.arange(ix.size("needs"))
    recipes = ix.keys["recipes"]
    out_k, in_k = codes.k(recipes["output"].to_numpy()), codes.k(recipes["input"].to_numpy())
    known = np.flatnonzero(out_k >= 0)  # an output no flow carries draws nothing
    flow, r = match_codes(f.k, out_k[known])
    recipe = known[r]
    prod_rows = look_up(ic.need_key, np.arange(len(ic.need_key)), codes.node(in_k[recipe], f.t[flow], f.o[flow]))
    return (np.concatenate([f.need, short_rows, prod_rows]),
            np.concatenate([inflow_cols, at["shortfall"] + short_rows, inflow_cols[flow]]),
            recipe.astype(np.int64))


def china_cap(ix: Index, at: dict[str, int]) -> RowBlock:
    """china_cap[k,t]:   sum_{o in C, d not in C} x[o,d,k,t] <= Commodities.china_cap[k] * S[k,t]

    written as  sum_{d not in C} ((1 - cap) * x[o in C] - cap * x[o not in C]) <= 0.
    """
    return _share_rows("china_cap", ix, at, ix.key("flows", "china_origin"), ix.numbers.china_cap, upper=True)


def share_min(ix: Index, at: dict[str, int]) -> RowBlock:
    """share_min[r,k,t]:   sum_{o in source, d not in C} x[o,d,k,t] >= ShareLimits.min_share[r] * S[k,t]"""
    return _limit_rows("share_min", ix, at, "min_share", upper=False)


def share_max(ix: Index, at: dict[str, int]) -> RowBlock:
    """share_max[r,k,t]:   sum_{o in source, d not in C} x[o,d,k,t] <= ShareLimits.max_share[r] * S[k,t]"""
    return _limit_rows("share_max", ix, at, "max_share", upper=True)


CONSTRAINTS = (capacity, balance, china_cap, share_min, share_max)
CONSTRAINTS = (*CONSTRAINTS, planning.stock_release, planning.project_capacity, planning.build_once)


# ------------------------------------------------------------------ shared share-row assembly


def _limit_rows(name: str, ix: Index, at: dict[str, int], col: str, *, upper: bool) -> RowBlock:
    """Rows `sum_{d not in C} (member - share) x` per ShareLimits entry with a `col` share
    (vectorised: no loop over entries). Which entries have one is structure (a blank removes it)."""
    values = getattr(ix.numbers, col)
    chosen = ix.structural(f"{name}.entries", lambda: np.flatnonzero(~np.isnan(values)))

    def keys() -> pd.DataFrame:
        return ix.limits.iloc[chosen].reset_index(drop=True).drop(columns="members")

    if not len(chosen):
        return RowBlock.empty(name, keys)
    entry, flow, inside = ix.structural(
        name, lambda: _limit_pattern(ix, ix.keys["limits"].iloc[chosen].reset_index(drop=True)))
    share = values[chosen]
    n = len(chosen)
    lower, upp = (np.full(n, -INF), np.zeros(n)) if upper else (np.zeros(n), np.full(n, INF))
    return RowBlock(name, keys, entry, at["flow"] + flow, inside.astype(float) - share[entry], lower, upp)


def _limit_pattern(ix: Index, lim: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, flow, inside) triples: every flow to a non-China destination of each entry's
    (commodity, period), and whether its origin belongs to the entry's source."""
    ic = index_codes(ix)
    f, codes = ic.flows, ic.codes
    _, n_k, n_t = codes.sizes
    sel = np.flatnonzero(~f.china_dest)
    # (commodity, period) cell of every flow to a non-China destination and of every limit entry
    g_flow = f.k[sel] * n_t + f.t[sel]
    g_lim = codes.cell(lim["commodity"].to_numpy(dtype=object), lim["period"].to_numpy())
    g_lim[g_lim < 0] = n_k * n_t  # a cell no flow is in
    # each entry i takes every flow of its cell, in flow order
    entry, at = match_codes(g_lim, g_flow)
    flow = sel[at]
    # membership of each origin in each entry's source: a small (source x country) table
    s_code, s_uni = pd.factorize(lim["source"].to_numpy(dtype=object))
    first = pd.Series(np.arange(len(lim))).groupby(s_code).first().to_numpy()
    member = np.zeros((len(s_uni), len(codes.country)), dtype=bool)
    for s, i in enumerate(first):
        c = codes.c(np.array(list(lim["members"].iat[i]), dtype=object))
        member[s, c[c >= 0]] = True
    return entry, flow, member[s_code[entry], f.o[flow]]


def _share_rows(name: str, ix: Index, at: dict[str, int], inside: np.ndarray, share: np.ndarray, *,
                upper: bool) -> RowBlock:
    """Rows `sum_{d not in C} (inside - share) x <= 0` per (commodity, period) of the caps (vectorised)."""
    if not ix.size("caps"):
        return RowBlock.empty(name, ix.keys["caps"])
    sel, rows = ix.structural(name, lambda: _share_pattern(ix, ix.keys["caps"]))
    vals = inside[sel].astype(float) - share[rows]
    n = ix.size("caps")
    lower, upp = (np.full(n, -INF), np.zeros(n)) if upper else (np.zeros(n), np.full(n, INF))
    return RowBlock(name, lambda: ix.caps, rows, at["flow"] + sel, vals, lower, upp)


def _share_pattern(ix: Index, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Flows to non-China destinations and the (commodity, period) row of `keys` each falls in."""
    ic = index_codes(ix)
    f, codes = ic.flows, ic.codes
    _, n_k, n_t = codes.sizes
    cell = codes.cell(keys["commodity"].to_numpy(dtype=object), keys["period"].to_numpy())
    row_of = np.full(n_k * n_t + 1, -1, dtype=np.int64)  # by cell; the last: a cell no flow is in
    row_of[np.where(cell >= 0, cell, n_k * n_t)] = np.arange(len(keys))
    row_of[-1] = -1
    sel = np.flatnonzero(~f.china_dest)
    rows = row_of[f.k[sel] * n_t + f.t[sel]]
    return sel[rows >= 0], rows[rows >= 0]

# issue 13: clean_bound, clean_input, content_rule (model/formulation/content.py)
from model.formulation import content as _content  # noqa: E402

CONSTRAINTS = (*CONSTRAINTS, *_content.CONSTRAINTS)
