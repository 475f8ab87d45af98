"""The plan tables' builders as they were before they moved to integer codes (main at 8d05ecb),
frozen so tests/test_tables_codes.py can check that the rewrite changes no value, dtype or row
order. Straight pandas (merge, MultiIndex, lexsort on strings): slow, but easy to read.
Only the parts the rewrite replaced are here; the rest (tracing LP, marginals) is shared. A
reference, not a second implementation: when one of these tables changes on purpose, change it
here the same way (or drop the affected comparison) in the same commit."""

# ruff: noqa: E501
from __future__ import annotations

import numpy as np
import pandas as pd

from model.content_tables import COLUMNS, FLOW_TOL, _dual_marginals, _levels, _optimal, trace_clean
from model.formulation import families
from model.formulation.lp import LP
from model.report.sensitivity import COLUMNS as SENS_COLUMNS
from model.report.sensitivity import (
    Ranging,
    _clean,
    _source_share,
    content_sensitivity,
    cost_cut_to_enter,
    planning_sensitivity,
)
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


def sensitivity_table(plan, ranging: Ranging | None = None, *, marginals: dict[str, np.ndarray] | None = None,
                      binding=None, units: pd.Series | None = None) -> pd.DataFrame:
    """The Sensitivity sheet: one row per limit or input, in one sign convention (module doc).

    `marginals` are the re-solved +1 pp costs of share rows (model/solve/marginals.py; None: from
    the duals); `binding(family)` is the one definition of a binding row (families.binding)."""
    from model.formulation.families import FAMILIES
    from model.formulation.families import binding as family_binding

    lp: LP = plan.lp
    sol = plan.solution
    ix = lp.index
    if binding is None:
        def binding(family: str) -> np.ndarray:
            return family_binding(lp, sol, family)
    unit_of = units if units is not None else pd.Series(dtype=object)

    def qunit(commodities: np.ndarray) -> np.ndarray:
        return unit_of.reindex(commodities).fillna("unit").to_numpy(dtype=object) if len(commodities) else \
            np.zeros(0, dtype=object)

    cur = plan.data.settings.currency if plan.data is not None else ""
    x = sol.x[lp.cols("flow")]
    y = sol.row_dual
    f = ix.flows
    parts = []

    # non-China supply S and per-source supply per (commodity, period)
    keep = ~f["china_dest"].to_numpy()
    s_tot = (f.loc[keep, ["period", "commodity"]].assign(q=x[keep])
             .groupby(["period", "commodity"])["q"].sum())

    def S(frame: pd.DataFrame) -> np.ndarray:
        idx = pd.MultiIndex.from_frame(frame[["period", "commodity"]])
        return s_tot.reindex(idx).fillna(0.0).to_numpy()

    def share_cost(family: str, dual: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
        if marginals is not None and family in marginals:
            return _clean(marginals[family])
        return _clean(0.01 * dual * S(frame))

    def share_note(bind: np.ndarray, cost: np.ndarray, what: str) -> np.ndarray:
        return np.where(bind & (cost != 0), f"binding: the {what} shapes the plan",
                        np.where(bind, f"binding, but one more point changes nothing (the {what} is at its "
                                       "bound; another limit decides)", "not binding"))

    # China caps
    caps = ix.caps
    if len(caps):
        dual = _clean(y[lp.rows("china_cap")])
        china = plan.tables["ChinaShare"].set_index(["period", "commodity"])["china_share"]
        level = china.reindex(pd.MultiIndex.from_frame(caps[["period", "commodity"]])).to_numpy()
        ch = plan.data.settings.china_group if plan.data is not None else "China"
        bind = binding("china_cap")
        cost = share_cost("china_cap", dual, caps)
        parts.append(pd.DataFrame({
            "measure": FAMILIES["china_cap"].label, "period": caps["period"].to_numpy(),
            "commodity": caps["commodity"].to_numpy(),
            "country": ch, "limit_row": caps["row"].to_numpy(), "value": caps["china_cap"].to_numpy(dtype=float),
            "level": level, "cost_change": cost,
            "unit": f"{cur} per +1 percentage point of the cap",
            "note": share_note(bind, cost, "cap"), "quantity_unit": "%", "binding": bind,
        }))

    # ShareLimits rows
    for name, col in (("share_min", "min_share"), ("share_max", "max_share")):
        keys = lp.row_blocks[name].keys
        if not len(keys):
            continue
        dual = _clean(y[lp.rows(name)])
        level = _source_share(lp, sol, name, keys[col].to_numpy(dtype=float), S(keys))
        bind = binding(name)
        cost = share_cost(name, dual, keys)
        parts.append(pd.DataFrame({
            "measure": FAMILIES[name].label, "period": keys["period"].to_numpy(),
            "commodity": keys["commodity"].to_numpy(),
            "country": keys["source"].to_numpy(), "limit_row": keys["limit_row"].to_numpy(),
            "value": keys[col].to_numpy(dtype=float), "level": level,
            "cost_change": cost,
            "unit": f"{cur} per +1 percentage point of the limit",
            "note": share_note(bind, cost, "limit"), "quantity_unit": "%", "binding": bind,
        }))

    # capacity and unit cost per supplier
    sup = ix.supply
    used = np.bincount(f["supply_id"].to_numpy(), weights=x, minlength=len(sup))
    cap_dual = _clean(y[lp.rows("capacity")])
    cap_bind = binding("capacity")
    cut = cost_cut_to_enter(lp, sol)
    su = qunit(sup["commodity"].to_numpy())
    base = {"period": sup["period"].to_numpy(), "commodity": sup["commodity"].to_numpy(),
            "country": sup["country"].to_numpy(), "limit_row": sup["row"].to_numpy()}
    cap_df = pd.DataFrame({"measure": "capacity", **base, "value": sup["capacity"].to_numpy(dtype=float),
                           "level": used, "cost_change": cap_dual,
                           "unit": [f"{cur} per +1 {u} of capacity" for u in su],
                           "note": np.where(cap_dual < 0, "saturated: more capacity here saves money",
                                            np.where(cap_bind, "used up, but more would not save",
                                                     np.where(used > 1e-9, "spare capacity", "unused"))),
                           "quantity_unit": su, "binding": cap_bind})
    cost_df = pd.DataFrame({"measure": "unit cost", **base, "value": sup["unit_cost"].to_numpy(dtype=float),
                            "level": used, "cost_change": _clean(used),
                            "unit": f"{cur} per +1 {cur} of unit cost", "cost_cut_to_enter": cut,
                            "note": np.where(used > 1e-9, "in the plan",
                                             "not in the plan: enters if its unit cost falls by more than "
                                             "cost_cut_to_enter"),
                            "quantity_unit": [f"{cur}/{u}" for u in su], "binding": False})
    if ranging is not None:
        cap_df["allowable_decrease"] = ranging.capacity_decrease
        cap_df["allowable_increase"] = ranging.capacity_increase
        cost_df["allowable_decrease"] = ranging.cost_decrease
        cost_df["allowable_increase"] = ranging.cost_increase
    parts += [cap_df, cost_df]

    # delivered cost per need (balance duals)
    needs = ix.needs
    bal = _clean(y[lp.rows("balance")])
    nu = qunit(needs["commodity"].to_numpy())
    parts.append(pd.DataFrame({
        "measure": FAMILIES["balance"].label, "period": needs["period"].to_numpy(),
        "commodity": needs["commodity"].to_numpy(), "country": needs["country"].to_numpy(),
        "limit_row": needs["row"].to_numpy(), "value": needs["quantity"].to_numpy(dtype=float),
        "level": needs["quantity"].to_numpy(dtype=float), "cost_change": bal,
        "unit": [f"{cur} per +1 {u} of demand" for u in nu],
        "note": "marginal cost of supply at this destination (the dual; Prices says where one unit more "
                "or less costs otherwise)", "quantity_unit": nu, "binding": False,
    }))
    parts += content_sensitivity(plan)  # issue 13: ContentRules (model/content_tables.py)
    parts += planning_sensitivity(plan, binding, qunit, cur)  # issue 12: Stocks and Projects
    out = pd.concat([p for p in parts if len(p)], ignore_index=True)
    for col in SENS_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["limit_row"] = out["limit_row"].where(out["limit_row"] >= 0)
    out["binding"] = out["binding"].astype(bool)
    for col in ("allowable_decrease", "allowable_increase"):
        out[col] = out[col].replace([np.inf], np.nan) if ranging is not None else out[col]
    order = {"China cap": 0, "share maximum": 1, "share minimum": 2, "capacity": 3, "unit cost": 4,
             "delivered cost": 5, FAMILIES["content_rule"].label: 6, FAMILIES["stock_capacity"].label: 7,
             FAMILIES["stock_release"].label: 8, FAMILIES["project_capacity"].label: 9}
    out = out.assign(_o=out["measure"].map(order)).sort_values(
        ["_o", "period", "commodity", "country"], kind="stable").drop(columns="_o")
    return out[SENS_COLUMNS].reset_index(drop=True)


def decisive(self, sheet: str, table: pd.DataFrame) -> pd.DataFrame:
    """_Context.decisive as it was (self: the plan's _Context; left_out is not recorded).
    With rows="decisive": the rows that decide the plan (used or binding capacities, every
    cap and share limit, lanes in use or at their limit, and the marginal supplier of each
    commodity and period); the rest are counted for the README and Summary."""
    if self.an.rows == "full" or not len(table):
        return table
    if sheet == "Capacity":
        keep = decisive_suppliers(table)
    elif sheet == "Sensitivity":
        cap = self.capacity_full()
        # a project's supply shares its (period, commodity, country) with the country's own
        chosen = cap.loc[decisive_suppliers(cap), ["period", "commodity", "country"]].drop_duplicates()
        per_supplier = table["measure"].isin(["capacity", "unit cost"]).to_numpy()
        hit = table[["period", "commodity", "country"]].merge(chosen.assign(_k=True), how="left")["_k"]
        # delivered costs are the Prices sheet's (there checked against re-solves): not repeated
        delivered = (table["measure"] == families.FAMILIES["balance"].label).to_numpy()
        keep = (~per_supplier | hit.notna().to_numpy()) & ~delivered
    else:  # FlowSensitivity
        keep = ((table["quantity"] > FLOW_TOL) | (table["route_limit_dual"] != 0)).to_numpy()
    return table[keep].reset_index(drop=True)


def decisive_suppliers(cap: pd.DataFrame) -> np.ndarray:
    """Supply rows that decide the plan: used, at capacity, or the marginal (cheapest to enter)
    unused supplier of each (period, commodity)."""
    used = (cap["used"] > FLOW_TOL) | cap["binding"].astype(bool)
    cut = cap["cost_cut_to_enter"].where(~used)
    best = cut.groupby([cap["period"], cap["commodity"]]).transform("min")
    marginal = cut.notna() & (cut <= best + 1e-9)
    return (used | marginal).to_numpy(dtype=bool)
