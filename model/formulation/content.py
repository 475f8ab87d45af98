"""China content traced through every tier (issue 13): supply as two streams, clean and the rest.

A unit is *clean* when no stage of its chain ran in the China group C: it was made outside C, and
only from clean inputs, every input of its recipe. The clean stream is tracked beside the flows:

    R         reached commodities: each ContentRules commodity and every upstream tier of its Recipes
    Fc ⊆ F    clean flows: flows (o,d,k,t) of a commodity k in R from an origin o outside C
              (a flow from the China group carries no clean units: xc = 0, so it has no variable)
    xc[f] >= 0                 clean part of flow f in Fc

    clean_bound[f]:            xc[o,d,k,t] <= x[o,d,k,t]
    clean_input[o,k',t]:       sum_k Recipes.quantity[k,k'] * sum_d xc[o,d,k,t] <= sum_o' xc[o',o,k',t]
                               (clean output of every k made at o from input k' uses clean k' only;
                               one row per input k' the clean production at o draws on)
    content_rule[r,t]:         sum_{o, d in D_r} xc[o,d,k_r,t] >= (1 - max_china_content[r]) * sum_{o, d in D_r} x[o,d,k_r,t]

Stocks (issue 12) are pooled inventories with a clean part of their own:

    STc ⊆ ST  clean stocks: stocks (d,k',t) outside C of an input k' that clean production at d
              draws on (some clean_input row (d,k',.) exists); only there can a clean draw matter
    sc[d,k',t] >= 0            clean part of the stock at the end of t (before the first period: 0,
                               an initial stock's chain is unknown, so it counts as China-touched)
    clean_stock[d,k',t]:       sc[d,k',t] <= s[d,k',t]
    clean_input[d,k',t]        gains + sc[d,k',t] - sc[d,k',t-1]: a clean build-up uses clean
                               inflow, a clean draw is clean input (a row exists in every period
                               of a clean stock, production or not)

Exact and linear: the clean inflow of k' at o is a subset of its inflow, which serves demand and
production alike, and clean production draws only on it. Only commodities a rule reaches get a
clean stream, so a workbook without ContentRules has exactly the LP it had before.

The same patterns, with every commodity reached and the flows held fixed, trace a solved plan's
China content for the ChinaContent sheet (model/content_tables.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from model.formulation.blocks import RowBlock, VarBlock
from model.formulation.sets import Index

INF = np.inf


def reached(recipes: pd.DataFrame, commodities) -> set:
    """R: the given commodities and every upstream tier of their Recipes (transitively)."""
    inputs: dict = {}
    for out, inp in zip(recipes["output"], recipes["input"], strict=True):
        inputs.setdefault(out, []).append(inp)
    seen, stack = set(), list(commodities)
    while stack:
        k = stack.pop()
        if k not in seen:
            seen.add(k)
            stack.extend(inputs.get(k, ()))
    return seen


def clean_flows(flows: pd.DataFrame, commodities: set) -> np.ndarray:
    """Positions (in F) of the clean flows Fc: a commodity in `commodities`, an origin outside C."""
    ok = flows["commodity"].isin(commodities).to_numpy() & ~flows["china_origin"].to_numpy(dtype=bool)
    return np.flatnonzero(ok)


def stock_pattern(keys: pd.DataFrame, stocks: pd.DataFrame, china: set
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clean stocks STc and their clean_input entries, given the clean_input rows `keys` of the
    flows (input_pattern). Returns (keys with a row for every period of each clean stock appended,
    positions in ST of STc, rows, positions in STc, coefficients: +1 for sc[t], -1 for sc[t-1])."""
    z = np.zeros(0, dtype=np.int64)
    if not len(keys) or not len(stocks):
        return keys, z, z, z, np.zeros(0)
    made = pd.MultiIndex.from_frame(keys[["country", "commodity"]])
    on = (pd.MultiIndex.from_frame(stocks[["country", "commodity"]]).isin(made)
          & ~stocks["country"].isin(china).to_numpy())
    pos = np.flatnonzero(on)
    if not len(pos):
        return keys, z, z, z, np.zeros(0)
    sub = stocks.iloc[pos][["country", "commodity", "period"]].reset_index(drop=True)
    have = pd.MultiIndex.from_frame(keys[["country", "commodity", "period"]])
    new = sub[~pd.MultiIndex.from_frame(sub).isin(have)]
    keys = pd.concat([keys, new], ignore_index=True).astype({"period": "int64"})
    row_of = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["country", "commodity", "period"]]))
    r = row_of.reindex(pd.MultiIndex.from_frame(sub)).to_numpy().astype(np.int64)
    local = np.full(len(stocks), -1, dtype=np.int64)
    local[pos] = np.arange(len(pos))
    prev = stocks["prev"].to_numpy()[pos]
    has = prev >= 0
    rows = np.concatenate([r, r[has]])
    cols = np.concatenate([np.arange(len(pos)), local[prev[has]]])
    vals = np.concatenate([np.ones(len(pos)), -np.ones(int(has.sum()))])
    return keys, pos, rows, cols, vals


def _fc(ix: Index) -> np.ndarray:
    """Fc of the LP: clean flows of the commodities the ContentRules reach (structure, memoised)."""
    return ix.structural("content.fc", lambda: clean_flows(
        ix.keys["flows"], reached(ix.keys["recipes"], set(ix.keys["rules"]["commodity"]))))


def _inputs(ix: Index) -> tuple:
    """clean_input of the LP: (keys, rows, cols, recipe) of the flows, then the clean stocks'
    (keys with their periods, STc positions, rows, STc columns, coefficients). Memoised structure."""
    return ix.structural("content.clean_input", lambda: clean_input_pattern(
        ix.keys["flows"], ix.keys["recipes"], _fc(ix), ix.keys["stocks"], ix.china))


# ------------------------------------------------------------------------------- variables


def clean(ix: Index) -> VarBlock:
    """xc[o,d,k,t] >= 0 for (o,d,k,t) in Fc; cost 0 (tracking, not buying)."""
    fc = _fc(ix)
    n = len(fc)
    return VarBlock("clean", lambda: ix.flows.iloc[fc].reset_index(drop=True), np.zeros(n), np.full(n, INF),
                    np.zeros(n))


def clean_stock(ix: Index) -> VarBlock:
    """sc[d,k,t] >= 0 for (d,k,t) in STc; cost 0."""
    pos = _inputs(ix)[1][1]
    n = len(pos)
    return VarBlock("clean_stock", lambda: ix.keys["stocks"].iloc[pos].reset_index(drop=True), np.zeros(n),
                    np.full(n, INF), np.zeros(n))


# ------------------------------------------------------------------------------- constraints


def clean_bound(ix: Index, at: dict[str, int]) -> RowBlock:
    """clean_bound[f]:   xc[o,d,k,t] - x[o,d,k,t] <= 0   for f in Fc"""
    fc = _fc(ix)
    n = len(fc)
    if not n:
        return RowBlock.empty("clean_bound", lambda: ix.flows.iloc[0:0])
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([at["clean"] + np.arange(n), at["flow"] + fc])
    vals = np.concatenate([np.ones(n), -np.ones(n)])
    return RowBlock("clean_bound", lambda: ix.flows.iloc[fc].reset_index(drop=True), rows, cols, vals,
                    np.full(n, -INF), np.zeros(n))


def clean_input(ix: Index, at: dict[str, int]) -> RowBlock:
    """clean_input[o,k',t]:   sum_k Recipes.quantity[k,k'] * sum_d xc[o,d,k,t] - sum_o' xc[o',o,k',t]
                              + sc[o,k',t] - sc[o,k',t-1] <= 0   (the sc terms where a clean stock is held)"""
    (keys, rows, cols, recipe), (all_keys, _, srows, scols, svals) = _inputs(ix)
    if not len(all_keys):
        return RowBlock.empty("clean_input", keys)
    vals = np.where(recipe >= 0, ix.numbers.recipe_quantity[np.maximum(recipe, 0)], -1.0)
    m = len(all_keys)
    return RowBlock("clean_input", all_keys, np.concatenate([rows, srows]),
                    np.concatenate([at["clean"] + cols, at["clean_stock"] + scols]), np.concatenate([vals, svals]),
                    np.full(m, -INF), np.zeros(m))


def clean_stock_bound(ix: Index, at: dict[str, int]) -> RowBlock:
    """clean_stock[d,k,t]:   sc[d,k,t] - s[d,k,t] <= 0   for (d,k,t) in STc"""
    pos = _inputs(ix)[1][1]
    n = len(pos)
    keys = lambda: ix.keys["stocks"].iloc[pos].reset_index(drop=True)  # noqa: E731
    if not n:
        return RowBlock.empty("clean_stock", keys)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([at["clean_stock"] + np.arange(n), at["stock"] + pos])
    vals = np.concatenate([np.ones(n), -np.ones(n)])
    return RowBlock("clean_stock", keys, rows, cols, vals, np.full(n, -INF), np.zeros(n))


def content_rule(ix: Index, at: dict[str, int]) -> RowBlock:
    """content_rule[r,t]:   sum_{d in D_r} xc[o,d,k,t] - (1 - max_china_content[r]) * sum_{d in D_r} x[o,d,k,t] >= 0"""
    fc = _fc(ix)
    entry, flow, clean_pos = ix.structural("content.rule", lambda: rule_pattern(ix.keys["flows"],
                                                                               ix.keys["rules"], fc))
    n = ix.size("rules")
    if not n:
        return RowBlock.empty("content_rule", lambda: ix.rules)
    m = ix.numbers.max_china_content
    has_clean = clean_pos >= 0
    rows = np.concatenate([entry, entry[has_clean]])
    cols = np.concatenate([at["flow"] + flow, at["clean"] + clean_pos[has_clean]])
    vals = np.concatenate([m[entry] - 1.0, np.ones(int(has_clean.sum()))])
    return RowBlock("content_rule", lambda: ix.rules.drop(columns="members"), rows, cols, vals,
                    np.zeros(n), np.full(n, INF))


VARIABLES = (clean, clean_stock)
CONSTRAINTS = (clean_bound, clean_input, content_rule, clean_stock_bound)


# ------------------------------------------------------------------------------- patterns


def clean_input_pattern(flows: pd.DataFrame, recipes: pd.DataFrame, fc: np.ndarray, stocks: pd.DataFrame,
                        china: set) -> tuple[tuple, tuple]:
    """clean_input rows with the clean stocks: input_pattern's (keys, rows, cols, recipe), with a row
    for every period of each clean stock, and stock_pattern's (keys, STc, rows, cols, coefficients)."""
    flows_part = input_pattern(flows, recipes, fc)
    stock_part = stock_pattern(flows_part[0], stocks, china)
    pos = stock_part[1]
    if not len(pos):
        return flows_part, stock_part
    # a row in every period of each clean stock, production or not
    flows_part = input_pattern(flows, recipes, fc, stocks.iloc[pos][["country", "commodity", "period"]])
    return flows_part, stock_pattern(flows_part[0], stocks, china)


def input_pattern(flows: pd.DataFrame, recipes: pd.DataFrame, fc: np.ndarray, extra: pd.DataFrame | None = None
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """clean_input rows (country, commodity = input k', period) and their entries: (row, position in
    Fc, Recipes position or -1 for a clean inflow). Production entries first, then inflows. `extra`
    rows (country, commodity, period) are added to the production rows (clean stocks' periods)."""
    empty = pd.DataFrame({"country": [], "commodity": [], "period": pd.Series([], dtype="int64")})
    z = np.zeros(0, dtype=np.int64)
    if not len(fc) or not len(recipes):
        return empty, z, z, z
    sub = flows.iloc[fc][["origin", "destination", "commodity", "period"]].reset_index(drop=True)
    sub["pos"] = np.arange(len(fc))
    rec = recipes[["output", "input"]].assign(recipe=np.arange(len(recipes)))
    made = sub.merge(rec, left_on="commodity", right_on="output")  # clean output of k draws each input k'
    if made.empty:
        return empty, z, z, z
    keys = made[["origin", "input", "period"]].rename(columns={"origin": "country", "input": "commodity"})
    if extra is not None:
        keys = pd.concat([keys, extra[["country", "commodity", "period"]]], ignore_index=True)
    keys = keys.drop_duplicates().astype({"period": "int64"}).sort_values(
        ["commodity", "period", "country"], kind="stable").reset_index(drop=True)
    row_of = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys))
    prod_rows = row_of.reindex(pd.MultiIndex.from_arrays(
        [made["origin"], made["input"], made["period"]])).to_numpy().astype(np.int64)
    inflow_rows = row_of.reindex(pd.MultiIndex.from_arrays(
        [sub["destination"], sub["commodity"], sub["period"]])).to_numpy()
    into = ~np.isnan(inflow_rows)
    rows = np.concatenate([prod_rows, inflow_rows[into].astype(np.int64)])
    cols = np.concatenate([made["pos"].to_numpy(), sub["pos"].to_numpy()[into]]).astype(np.int64)
    recipe = np.concatenate([made["recipe"].to_numpy(), np.full(int(into.sum()), -1)]).astype(np.int64)
    return keys, rows, cols, recipe


def rule_pattern(flows: pd.DataFrame, rules: pd.DataFrame, fc: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, flow, position of the flow in Fc or -1) for every flow of each rule entry's
    (commodity, period) into one of its destinations."""
    z = np.zeros(0, dtype=np.int64)
    if not len(rules):
        return z, z, z
    dest = rules[["commodity", "period", "members"]].assign(entry=np.arange(len(rules))).explode("members")
    dest = dest.rename(columns={"members": "destination"}).astype({"period": "int64"})
    f = flows[["commodity", "period", "destination"]].assign(flow=np.arange(len(flows)))
    pairs = dest.merge(f, on=["commodity", "period", "destination"]).sort_values(["entry", "flow"])
    pos = np.full(len(flows), -1, dtype=np.int64)
    pos[fc] = np.arange(len(fc))
    flow = pairs["flow"].to_numpy().astype(np.int64)
    return pairs["entry"].to_numpy().astype(np.int64), flow, pos[flow]
