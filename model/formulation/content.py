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

from model.codes import FlowCodes, flow_codes, index_flow_codes, int_codes, rank_codes
from model.formulation.blocks import RowBlock, VarBlock
from model.formulation.sets import Index, look_up

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
    # (country, commodity, period) of the rows and the stocks as one int64 code each
    (kc, sc), countries = rank_codes(keys["country"], stocks["country"])
    (kk, sk), commodities = rank_codes(keys["commodity"], stocks["commodity"])
    (kt, st), periods = int_codes(keys["period"], stocks["period"])
    nk, nt = len(commodities) + 1, len(periods) + 1
    key_pair, stock_pair = kc * nk + kk, sc * nk + sk
    on = np.isin(stock_pair, key_pair) & ~stocks["country"].isin(china).to_numpy()
    pos = np.flatnonzero(on)
    if not len(pos):
        return keys, z, z, z, np.zeros(0)
    key_code, sub_code = key_pair * nt + kt, (stock_pair * nt + st)[pos]
    fresh = ~np.isin(sub_code, key_code)
    sub = stocks.iloc[pos][["country", "commodity", "period"]].reset_index(drop=True)
    keys = pd.concat([keys, sub[fresh]], ignore_index=True).astype({"period": "int64"})
    all_code = np.concatenate([key_code, sub_code[fresh]])
    order = np.argsort(all_code, kind="stable")
    r = order[np.searchsorted(all_code[order], sub_code)].astype(np.int64)
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
        ix.keys["flows"], ix.keys["recipes"], _fc(ix), ix.keys["stocks"], ix.china, index_flow_codes(ix)))


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
    entry, flow, clean_pos = ix.structural("content.rule", lambda: rule_pattern(
        ix.keys["flows"], ix.keys["rules"], fc, index_flow_codes(ix)))
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
                        china: set, codes: FlowCodes | None = None) -> tuple[tuple, tuple]:
    """clean_input rows with the clean stocks: input_pattern's (keys, rows, cols, recipe), with a row
    for every period of each clean stock, and stock_pattern's (keys, STc, rows, cols, coefficients)."""
    codes = codes if codes is not None else flow_codes(flows)
    flows_part = input_pattern(flows, recipes, fc, codes=codes)
    stock_part = stock_pattern(flows_part[0], stocks, china)
    pos = stock_part[1]
    if not len(pos):
        return flows_part, stock_part
    # a row in every period of each clean stock, production or not
    flows_part = input_pattern(flows, recipes, fc, stocks.iloc[pos][["country", "commodity", "period"]], codes)
    return flows_part, stock_pattern(flows_part[0], stocks, china)


def input_pattern(flows: pd.DataFrame, recipes: pd.DataFrame, fc: np.ndarray, extra: pd.DataFrame | None = None,
                  codes: FlowCodes | None = None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """clean_input rows (country, commodity = input k', period) and their entries: (row, position in
    Fc, Recipes position or -1 for a clean inflow). Production entries first, then inflows. `extra`
    rows (country, commodity, period) are added to the production rows (clean stocks' periods).

    On rank codes (model/codes.py): a row is one int64 (commodity, period, country) code, so the
    rows sorted by commodity, period, country are the sorted distinct codes. `codes`: the flows'
    (index_flow_codes), else computed here."""
    empty = pd.DataFrame({"country": [], "commodity": [], "period": pd.Series([], dtype="int64")})
    z = np.zeros(0, dtype=np.int64)
    if not len(fc) or not len(recipes):
        return empty, z, z, z
    ex = extra if extra is not None else pd.DataFrame({"country": [], "commodity": [], "period": []})
    fk = codes if codes is not None else flow_codes(flows)
    (o, d, ec), countries = rank_codes(fk.country_pair("origin", fc), fk.country_pair("destination", fc),
                                       ex["country"])
    (k, r_out, r_in, ek), commodities = rank_codes(fk.commodity_pair(fc), recipes["output"], recipes["input"],
                                                   ex["commodity"])
    (t, et), periods = int_codes(fk.period_pair(fc), ex["period"])
    # clean output of k draws each input k': every (flow, recipe of its output), flows in order,
    # a flow's recipes in Recipes order (an inner merge of the flows on the recipes)
    by_out = np.argsort(r_out, kind="stable")
    first = np.searchsorted(r_out[by_out], k, side="left")
    count = np.searchsorted(r_out[by_out], k, side="right") - first
    total = int(count.sum())
    if not total:
        return empty, z, z, z
    made_pos = np.repeat(np.arange(len(fc), dtype=np.int64), count)
    start = np.cumsum(count) - count
    made_recipe = by_out[np.repeat(first, count) + np.arange(total) - np.repeat(start, count)].astype(np.int64)
    nt, nc = len(periods), len(countries)
    made_code = (r_in[made_recipe] * nt + t[made_pos]) * nc + o[made_pos]
    row_code = np.unique(np.concatenate([made_code, (ek * nt + et) * nc + ec]) if extra is not None else made_code)
    kt, c = np.divmod(row_code, nc)
    kk, tt = np.divmod(kt, nt)
    keys = pd.DataFrame({"country": pd.Series(countries[c], dtype=object),
                         "commodity": pd.Series(commodities[kk], dtype=object),
                         "period": pd.Series(periods[tt], dtype="int64")})
    position = np.arange(len(row_code), dtype=np.int64)
    prod_rows = look_up(row_code, position, made_code)
    inflow = look_up(row_code, position, (k * nt + t) * nc + d)
    into = inflow >= 0
    rows = np.concatenate([prod_rows, inflow[into]])
    cols = np.concatenate([made_pos, np.flatnonzero(into)]).astype(np.int64)
    recipe = np.concatenate([made_recipe, np.full(int(into.sum()), -1)]).astype(np.int64)
    return keys, rows, cols, recipe


def rule_pattern(flows: pd.DataFrame, rules: pd.DataFrame, fc: np.ndarray, codes: FlowCodes | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, flow, position of the flow in Fc or -1) for every flow of each rule entry's
    (commodity, period) into one of its destinations; by entry, then flow.

    On codes: the flows sorted by one int64 (commodity, period, destination) code, each (entry,
    member) pair finds its run of flows by np.searchsorted."""
    z = np.zeros(0, dtype=np.int64)
    if not len(rules):
        return z, z, z
    members = [list(m) if isinstance(m, (set, frozenset, list, tuple)) else [m] for m in rules["members"]]
    size = np.array([len(m) for m in members], dtype=np.int64)
    entry = np.repeat(np.arange(len(rules), dtype=np.int64), size)
    dest = np.array([d for m in members for d in m], dtype=object)
    fcodes = codes if codes is not None else flow_codes(flows)
    (fk, rk), _ = rank_codes(fcodes.commodity_pair(), rules["commodity"].to_numpy(dtype=object)[entry])
    (fd, rd), dests = rank_codes(fcodes.country_pair("destination"), dest)
    (ft, rt), periods = int_codes(fcodes.period_pair(), rules["period"].to_numpy()[entry])
    nt, nd = len(periods), len(dests) + 1
    f_code = (fk * nt + ft) * nd + fd
    e_code = (rk * nt + rt) * nd + rd
    order = np.argsort(f_code, kind="stable")
    sorted_code = f_code[order]
    lo = np.searchsorted(sorted_code, e_code, side="left")
    count = np.searchsorted(sorted_code, e_code, side="right") - lo
    count[(rd < 0) | (rk < 0)] = 0  # a blank member or commodity matches nothing
    total = int(count.sum())
    start = np.cumsum(count) - count
    flow = order[np.repeat(lo, count) + np.arange(total) - np.repeat(start, count)].astype(np.int64)
    entry = np.repeat(entry, count)
    by = np.lexsort((flow, entry))
    entry, flow = entry[by], flow[by]
    pos = np.full(len(flows), -1, dtype=np.int64)
    pos[fc] = np.arange(len(fc))
    return entry, flow, pos[flow]
