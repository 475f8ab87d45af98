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


def _fc(ix: Index) -> np.ndarray:
    """Fc of the LP: clean flows of the commodities the ContentRules reach (structure, memoised)."""
    return ix.structural("content.fc", lambda: clean_flows(
        ix.keys["flows"], reached(ix.keys["recipes"], set(ix.keys["rules"]["commodity"]))))


# ------------------------------------------------------------------------------- variables


def clean(ix: Index) -> VarBlock:
    """xc[o,d,k,t] >= 0 for (o,d,k,t) in Fc; cost 0 (tracking, not buying)."""
    fc = _fc(ix)
    n = len(fc)
    return VarBlock("clean", lambda: ix.flows.iloc[fc].reset_index(drop=True), np.zeros(n), np.full(n, INF),
                    np.zeros(n))


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
    """clean_input[o,k',t]:   sum_k Recipes.quantity[k,k'] * sum_d xc[o,d,k,t] - sum_o' xc[o',o,k',t] <= 0"""
    fc = _fc(ix)
    keys, rows, cols, recipe = ix.structural("content.clean_input", lambda: input_pattern(
        ix.keys["flows"], ix.keys["recipes"], fc))
    if not len(keys):
        return RowBlock.empty("clean_input", keys)
    vals = np.where(recipe >= 0, ix.numbers.recipe_quantity[np.maximum(recipe, 0)], -1.0)
    m = len(keys)
    return RowBlock("clean_input", keys, rows, at["clean"] + cols, vals, np.full(m, -INF), np.zeros(m))


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


VARIABLES = (clean,)
CONSTRAINTS = (clean_bound, clean_input, content_rule)


# ------------------------------------------------------------------------------- patterns


def input_pattern(flows: pd.DataFrame, recipes: pd.DataFrame, fc: np.ndarray
                  ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """clean_input rows (country, commodity = input k', period) and their entries: (row, position in
    Fc, Recipes position or -1 for a clean inflow). Production entries first, then inflows."""
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
    keys = made[["origin", "input", "period"]].drop_duplicates().rename(
        columns={"origin": "country", "input": "commodity"}).sort_values(
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
