"""The plan tables' builders as they were before they moved to integer codes (main at 8d05ecb),
frozen so tests/test_tables_codes.py can check that the rewrite changes no value, dtype or row
order. Straight pandas (merge, MultiIndex, lexsort on strings): slow, but easy to read.
Only the parts the rewrite replaced are here; the rest (tracing LP, marginals) is shared."""

# ruff: noqa: E501
from __future__ import annotations

import numpy as np
import pandas as pd

from model.content_tables import COLUMNS, FLOW_TOL, _dual_marginals, _levels, _optimal, trace_clean
from model.formulation import families
from model.formulation.lp import LP
from model.results import _LANE_NOTES, _or_empty, _unit_of
from model.solve.highs import Solution


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


def _targets(lp: LP, periods: list[int], codes: np.ndarray, china: set[str]) -> pd.DataFrame:
    """The sheet's rows before figures: every (period, commodity) for all destinations outside the
    China group, plus one row per rule entry that names a destination; with the rule entry (-1: none)."""
    ix = lp.index
    grid = pd.DataFrame({"period": np.repeat(np.asarray(periods, dtype=np.int64), len(codes)),
                         "commodity": np.tile(codes, len(periods))})
    grid["destination"] = None
    everyone = frozenset(c for c in set(ix.keys["flows"]["destination"]) if c not in china)
    grid["members"] = [everyone] * len(grid)
    grid["entry"] = -1
    rules = ix.keys["rules"]
    if len(rules):
        blank = rules["destination"].isna().to_numpy()
        at = pd.Series(np.arange(len(grid)), index=pd.MultiIndex.from_frame(grid[["period", "commodity"]]))
        where = at.reindex(pd.MultiIndex.from_arrays([rules["period"].to_numpy()[blank],
                                                      rules["commodity"].to_numpy()[blank]])).to_numpy()
        ok = ~np.isnan(where)
        grid.loc[where[ok].astype(np.int64), "entry"] = np.flatnonzero(blank)[ok]
        named = rules[~blank][["period", "commodity", "destination", "members"]].assign(
            entry=np.flatnonzero(~blank))
        grid = pd.concat([grid, named], ignore_index=True)
    grid = grid.astype({"period": "int64"})
    order = np.lexsort((grid["destination"].fillna("").to_numpy(dtype=str), grid["commodity"].to_numpy(dtype=str),
                        grid["period"].to_numpy()))
    return grid.iloc[order].reset_index(drop=True)


def china_content_table(plan) -> pd.DataFrame:
    """ChinaContent: direct and any-stage China share per (period, commodity, destination), with
    each ContentRules entry's limit, whether it binds and its re-solved marginal cost."""
    lp: LP = plan.lp
    ix = lp.index
    x = plan.solution.x[lp.cols("flow")]
    codes = plan.data["Commodities"]["code"].to_numpy(dtype=object) if plan.data is not None else ix.commodities
    t = _targets(lp, ix.periods, codes, ix.china)
    f = ix.keys["flows"]
    entry, flow, _ = rule_pattern(f, t[["commodity", "period", "members"]], np.zeros(0, dtype=np.int64))
    xc = trace_clean(lp, x, _levels(lp, plan.solution.x))
    n = len(t)
    qty = np.bincount(entry, weights=x[flow], minlength=n)
    china = np.bincount(entry, weights=(x * ix.key("flows", "china_origin"))[flow], minlength=n)
    clean = np.bincount(entry, weights=xc[flow], minlength=n)
    has = qty > FLOW_TOL
    safe = np.where(has, qty, 1.0)
    direct = np.where(has, np.clip(china / safe, 0.0, 1.0), np.nan)
    any_stage = np.where(has, np.clip(1.0 - clean / safe, 0.0, 1.0), np.nan)
    rule = t["entry"].to_numpy()
    ruled = rule >= 0
    limit = np.full(n, np.nan)
    limit[ruled] = ix.numbers.max_china_content[rule[ruled]]
    # binding and the marginal are the content_rule row's: the registry's one definition
    # (model/formulation/families.py) and the re-solve done before any table (results.Analysis)
    binding = np.zeros(n, dtype=bool)
    marginal = np.full(n, np.nan)
    if ruled.any():
        binding[ruled] = families.binding(lp, plan.solution, "content_rule")[rule[ruled]]
        an = plan.context.an if plan.context is not None else None
        exact = an.content_marginals if an is not None else None
        if exact is None:  # not re-solved (marginals="dual", or a suboptimal stop)
            exact = _dual_marginals(lp, plan.solution) if _optimal(plan) else np.full(ix.size("rules"), np.nan)
        marginal[ruled] = exact[rule[ruled]]
    rule_row = np.full(n, np.nan)
    if ruled.any():
        rule_row[ruled] = ix.keys["rules"]["rule_row"].to_numpy()[rule[ruled]]
    out = pd.DataFrame({
        "period": t["period"].to_numpy(), "commodity": t["commodity"].to_numpy(),
        "destination": t["destination"].to_numpy(), "quantity": qty, "direct_share": direct,
        "any_stage_share": any_stage, "max_china_content": limit, "binding": binding,
        "marginal_cost": marginal, "rule_row": pd.array(rule_row, dtype="Int64") if ruled.any()
        else pd.array([pd.NA] * n, dtype="Int64"),
    })
    return out[COLUMNS]


def _flow_keys(ix) -> dict[str, np.ndarray]:
    """The flows in the Flows sheet's order (period, commodity, origin, destination), as arrays."""
    f = ix.keys["flows"]
    cols = ["period", "commodity", "origin", "destination"]
    order = np.lexsort([f[c].to_numpy() for c in reversed(cols)])
    return {"order": order, **{c: f[c].to_numpy()[order] for c in cols}}


def flows_table(lp: LP, x: np.ndarray, units: pd.Series | None = None) -> pd.DataFrame:
    ix = lp.index
    keys = _flow_keys(ix)
    on = x[keys["order"]] > FLOW_TOL
    sel = keys["order"][on]
    unit, route = ix.numbers.flow_unit_cost(ix)[sel], ix.numbers.route_cost[sel]
    out = {name: keys[name][on] for name in ("period", "commodity", "origin", "destination")}
    quantity = x[sel]
    return pd.DataFrame({**out, "quantity": quantity,
                         "unit": _unit_of(_or_empty(units), out["commodity"]), "unit_cost": unit,
                         "route_cost": route, "cost": quantity * (unit + route)})


def flow_sensitivity_table(lp: LP, sol: Solution, units: pd.Series | None = None) -> pd.DataFrame:
    """Every lane as Excel Solver reports a variable cell: final value, objective coefficient,
    reduced cost, and the dual of its route limit (the reduced cost of a lane at its limit)."""
    ix = lp.index
    keys = _flow_keys(ix)
    order = keys["order"]
    cols = lp.cols("flow")
    x = sol.x[cols][order]
    rc = sol.col_dual[cols][order] + 0.0 if sol.col_dual is not None else np.full(len(order), np.nan)
    rc = np.where(np.abs(rc) <= 1e-9, 0.0, rc)
    limit = np.asarray(lp.upper[cols], dtype=float)[order]
    at_limit = np.isfinite(limit) & (x >= limit - 1e-9) & (limit > 0)
    limit_dual = np.where(at_limit & (rc < 0), rc, 0.0)
    # the notes by code, then one object array of five shared strings: np.where on text would
    # build a fixed-width string array per branch (280 MB each at a million lanes)
    note = _LANE_NOTES[np.select([limit == 0, at_limit & (rc < 0), x > FLOW_TOL, rc == 0], [0, 1, 2, 3], 4)]
    return pd.DataFrame({
        "period": keys["period"], "commodity": keys["commodity"], "origin": keys["origin"],
        "destination": keys["destination"], "quantity": np.where(x > FLOW_TOL, x, 0.0),
        "unit": _unit_of(_or_empty(units), keys["commodity"]), "cost_per_unit": lp.c[cols][order],
        "reduced_cost": rc, "route_limit": np.where(np.isfinite(limit), limit, np.nan),
        "route_limit_dual": limit_dual + 0.0, "note": note,
    })
