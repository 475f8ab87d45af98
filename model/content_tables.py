"""The ChinaContent sheet (issue 13): China content traced through every tier, beside the direct share.

Attribution of mixed supply at a node (why tracing, not proportional): ContentRules are stated on
two physically separate streams (model/formulation/content.py), so a plan that meets a rule does
so by keeping clean units apart. Proportional (mass-balance) attribution would blend them and could
report a content above the rule the plan provably meets. So the plan's flows x are held fixed and
a small LP routes clean units as far as those flows allow:

    maximise   sum_{f in Fc, d not in C} xc[f] / S[k_f, t_f]      (the clean shares, summed)
    subject to 0 <= xc <= x,  0 <= sc <= s,  clean_input rows,  content_rule rows of the workbook

A stock is a pooled inventory (model/formulation/content.py): its clean part sc, at most its
level s (held fixed too), grows only with clean units bought into it and is drawn as clean input,
so a stock filled from outside the China group passes its clean units on; stock held before the
first period counts as China-touched (its chain is unknown).

over every commodity (Fc: flows from outside the China group). any_stage_share = 1 - clean / supply:
the least Chinese content the plan's flows can carry (where clean units of one input could serve
two outputs, this one optimum is reported). direct_share counts the last stage only, as ChinaShare.

Marginal costs of the rules are found as for China caps (model/solve/marginals.py): each tight rule
is re-solved with max_china_content one point higher.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from model.codes import FlowCodes, index_flow_codes, int_codes, rank_codes
from model.formulation import families
from model.formulation.content import clean_input_pattern, rule_pattern
from model.formulation.lp import LP
from model.schema import OUTPUTS
from model.solve.parts import Arrays, solve_arrays
from model.sparse import Sparse

FLOW_TOL = 1e-9  # as model/results.py
STEP = 0.01  # one percentage point
COLUMNS = OUTPUTS["ChinaContent"].column_names


# ------------------------------------------------------------------------------- tracing


def trace_clean(lp: LP, x: np.ndarray, stock: np.ndarray | None = None) -> np.ndarray:
    """xc per flow (0 for a China-group origin): the plan's flows traced as clean as they allow,
    subject to the workbook's ContentRules (module docstring). `stock`: the plan's stock levels
    (per ix.keys["stocks"]; None: no stock passes clean units on). NaN when the tracing LP fails."""
    ix = lp.index
    flows, recipes, rules = ix.keys["flows"], ix.keys["recipes"], ix.keys["rules"]
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    # every commodity is reached: Fc is every flow from outside the China group
    fc = ix.structural("content.trace_fc", lambda: np.flatnonzero(~ix.key("flows", "china_origin")))
    out = np.zeros(len(flows))
    if not len(fc):
        return out

    (_, rows, cols, recipe), (keys, spos, srows, scols, svals) = ix.structural(
        "content.trace_inputs", lambda: clean_input_pattern(flows, recipes, fc, ix.keys["stocks"], ix.china,
                                                            index_flow_codes(ix)))
    n_in, nc, ns = len(keys), len(fc), len(spos)
    vals = np.where(recipe >= 0, ix.numbers.recipe_quantity[np.maximum(recipe, 0)], -1.0)
    A_in = Sparse.from_coo(np.concatenate([rows, srows]), np.concatenate([cols, nc + scols]),
                           np.concatenate([vals, svals]), (n_in, nc + ns))
    level = np.zeros(ns) if stock is None else np.maximum(np.asarray(stock, dtype=float)[spos], 0.0)
    # weights: 1 / non-China supply of the flow's (commodity, period)
    key = ix.structural("content.trace_group", lambda: _group_codes(index_flow_codes(ix)))
    outside = ~flows["china_dest"].to_numpy(dtype=bool)
    supply = np.bincount(key[outside], weights=x[outside], minlength=int(key.max()) + 1)
    w = np.concatenate([np.where(outside[fc], 1.0 / np.maximum(supply[key[fc]], FLOW_TOL), 0.0), np.zeros(ns)])
    bounds = np.column_stack([np.zeros(nc + ns), np.concatenate([x[fc], level])])
    # the rules: -sum xc <= -(1 - m) sum x  (a hair of slack for the solver's own tolerance)
    A_rule, b_rule = None, None
    if len(rules):
        entry, flow, pos = ix.structural("content.trace_rules", lambda: rule_pattern(flows, rules, fc,
                                                                                     index_flow_codes(ix)))
        need = np.bincount(entry, weights=x[flow], minlength=len(rules))
        need = (1.0 - ix.numbers.max_china_content) * need
        clean = pos >= 0
        A_rule = Sparse.from_coo(entry[clean], pos[clean], -np.ones(int(clean.sum())), (len(rules), nc + ns))
        b_rule = -need
    # the rules exactly, then with a hair of slack for the solver's own tolerance, then without
    slack = 0.0 if A_rule is None else 1e-7 * np.maximum(1.0, -b_rule)
    for with_rules, hair in ((True, 0.0), (True, 1.0), (False, 0.0)) if A_rule is not None else ((False, 0.0),):
        A = Sparse.vstack([A_in, A_rule]) if with_rules else A_in
        b = np.concatenate([np.zeros(n_in), b_rule + hair * slack]) if with_rules else np.zeros(n_in)
        # solved part by part (the tracing LP falls apart like the plan's: by period and chain)
        xc = solve_arrays(Arrays(-w, A, np.full(A.shape[0], -np.inf), b, bounds[:, 0], bounds[:, 1]))
        if xc is not None:
            out[fc] = np.clip(xc[:nc], 0.0, x[fc])
            return out
    return np.full(len(flows), np.nan)


def _group_codes(codes: FlowCodes) -> np.ndarray:
    """A code per flow's (commodity, period) pair, 0..n-1: the flows' rank codes combined."""
    k = codes.commodity * max(len(codes.periods), 1) + codes.period
    return np.unique(k, return_inverse=True)[1]


# ------------------------------------------------------------------------------- the sheet


@dataclass(frozen=True)
class _Targets:
    """The sheet's rows before figures, as arrays: every (period, commodity) for all destinations
    outside the China group, plus one row per rule entry that names a destination, sorted by
    (period, commodity, destination; none first). `entry`: the rule entry of the row (-1: none).
    Each flow's row among the all-destination ones (`grid_row`, -1: into the China group) and the
    (row, flow) pairs of the named rows (`named_row`, `named_flow`, by row then flow)."""

    period: np.ndarray
    commodity: np.ndarray  # object
    destination: np.ndarray  # object, None for all destinations outside the China group
    entry: np.ndarray
    grid_row: np.ndarray
    named_row: np.ndarray
    named_flow: np.ndarray


def _targets(lp: LP, periods: list[int], codes: np.ndarray, china: set[str]) -> _Targets:
    """The sheet's rows and which flows each one sums (_Targets), on rank codes: no DataFrame is
    built, joined or sorted on strings (the rows are the (period, commodity) grid plus the few
    rule entries that name a destination)."""
    ix = lp.index
    fcodes = index_flow_codes(ix)
    rules = ix.keys["rules"]
    periods_ = np.asarray(periods, dtype=np.int64)
    n_grid = len(periods_) * len(codes)
    g_period = np.repeat(periods_, len(codes))
    g_commodity = np.tile(np.asarray(codes, dtype=object), len(periods_))
    entry = np.full(n_grid, -1, dtype=np.int64)
    blank = rules["destination"].isna().to_numpy() if len(rules) else np.zeros(0, dtype=bool)
    named = np.flatnonzero(~blank)
    r_commodity = rules["commodity"].to_numpy(dtype=object)
    r_period = rules["period"].to_numpy().astype(np.int64) if len(rules) else np.zeros(0, dtype=np.int64)
    # (period, commodity) codes shared by the grid, the flows and the rules
    (gk, fk, rk), _ = rank_codes(g_commodity, fcodes.commodity_pair(), r_commodity)
    (gt, ft, rt), pvals = int_codes(g_period, fcodes.period_pair(), r_period)
    nt = len(pvals)
    g_code, f_code, r_code = gk * nt + gt, fk * nt + ft, rk * nt + rt
    by_code = np.argsort(g_code, kind="stable")
    # the first grid row of each code (a commodity listed twice has one row per listing; the
    # first takes the rule entry, as a lookup of the old MultiIndex did)
    def grid_of(code: np.ndarray) -> np.ndarray:
        at = np.minimum(np.searchsorted(g_code[by_code], code), max(n_grid - 1, 0))
        return np.where((n_grid > 0) & (g_code[by_code][at] == code), by_code[at], -1) if n_grid else \
            np.full(len(code), -1, dtype=np.int64)
    if blank.any():
        where = grid_of(r_code[blank])
        ok = where >= 0
        entry[where[ok]] = np.flatnonzero(blank)[ok]
    period = np.concatenate([g_period, r_period[named]])
    commodity = np.concatenate([g_commodity, r_commodity[named]])
    destination = np.concatenate([np.full(n_grid, None, dtype=object),
                                  rules["destination"].to_numpy(dtype=object)[named]])
    entry = np.concatenate([entry, named])
    # sorted by period, commodity, destination ("" for none), stable: as np.lexsort on the strings
    (ck,), _ = rank_codes(commodity.astype(str))
    (dk,), _ = rank_codes(np.where(destination == None, "", destination).astype(str))  # noqa: E711
    order = np.lexsort((dk, ck, period))
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.arange(len(order))
    # each flow outside the China group into its (period, commodity) grid row, in sheet order
    outside = ~np.isin(fcodes.destination, np.flatnonzero(np.isin(fcodes.countries, list(china))))
    f_grid = grid_of(f_code) if len(f_code) else np.zeros(0, dtype=np.int64)
    grid_row = np.where(outside & (f_grid >= 0), inverse[np.maximum(f_grid, 0)], -1)
    named_row, named_flow = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if len(named):
        e, named_flow, _ = rule_pattern(ix.keys["flows"], rules.iloc[named], np.zeros(0, dtype=np.int64), fcodes)
        named_row = inverse[n_grid + e]
        by = np.lexsort((named_flow, named_row))
        named_row, named_flow = named_row[by], named_flow[by]
    return _Targets(period[order], commodity[order], destination[order], entry[order], grid_row.astype(np.int64),
                    named_row, named_flow)


def china_content_table(plan) -> pd.DataFrame:
    """ChinaContent: direct and any-stage China share per (period, commodity, destination), with
    each ContentRules entry's limit, whether it binds and its re-solved marginal cost."""
    lp: LP = plan.lp
    ix = lp.index
    x = plan.solution.x[lp.cols("flow")]
    codes = plan.data["Commodities"]["code"].to_numpy(dtype=object) if plan.data is not None else ix.commodities
    t = _targets(lp, ix.periods, codes, ix.china)
    xc = trace_clean(lp, x, _levels(lp, plan.solution.x))
    n = len(t.period)
    china_x = x * ix.key("flows", "china_origin")
    on = t.grid_row >= 0
    g, nr, nf = t.grid_row[on], t.named_row, t.named_flow

    def total(w: np.ndarray) -> np.ndarray:
        # a row sums either grid flows or named flows, each in flow order: as the pandas pairs did
        return np.bincount(g, weights=w[on], minlength=n) + np.bincount(nr, weights=w[nf], minlength=n)

    qty, china, clean = total(x), total(china_x), total(xc)
    has = qty > FLOW_TOL
    safe = np.where(has, qty, 1.0)
    direct = np.where(has, np.clip(china / safe, 0.0, 1.0), np.nan)
    any_stage = np.where(has, np.clip(1.0 - clean / safe, 0.0, 1.0), np.nan)
    rule = t.entry
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
        "period": t.period, "commodity": t.commodity,
        "destination": t.destination, "quantity": qty, "direct_share": direct,
        "any_stage_share": any_stage, "max_china_content": limit, "binding": binding,
        "marginal_cost": marginal, "rule_row": pd.array(rule_row, dtype="Int64") if ruled.any()
        else pd.array([pd.NA] * n, dtype="Int64"),
    })
    return out[COLUMNS]


def _levels(lp: LP, z: np.ndarray | None) -> np.ndarray | None:
    """The plan's stock levels (per ix.keys["stocks"]), for tracing clean units through stocks."""
    return z[lp.cols("stock")] if z is not None and "stock" in lp.var_blocks else None


def _optimal(plan) -> bool:
    return str(plan.status) in ("optimal", "optimal_with_shortfall")


def any_stage_by_commodity(lp: LP, x: np.ndarray, stock: np.ndarray | None = None) -> dict[str, float]:
    """Per commodity, over all periods: the any-stage China share of supply to destinations
    outside the China group (batches and the frontier show it beside the direct share)."""
    ix = lp.index
    f = ix.keys["flows"]
    xc = trace_clean(lp, x, stock)
    keep = ~f["china_dest"].to_numpy(dtype=bool)
    code, uni = pd.factorize(f["commodity"].to_numpy(dtype=object)[keep])
    q = np.bincount(code, weights=x[keep], minlength=len(uni))
    c = np.bincount(code, weights=xc[keep], minlength=len(uni))
    return {str(k): (float(1.0 - c[i] / q[i]) if q[i] > 1e-9 else math.nan) for i, k in enumerate(uni)}


# ------------------------------------------------------------------------------- marginals


def _dual_marginals(lp: LP, sol) -> np.ndarray:
    """Objective change per +1 percentage point of max_china_content from the content_rule duals:
    the row is sum xc + (m - 1) sum x >= 0, so d objective / d m = -dual * supplied."""
    if sol.row_dual is None:
        return np.full(lp.index.size("rules"), np.nan)
    rows = lp.rows("content_rule")
    dual = sol.row_dual[rows]
    return -0.01 * dual * families._rule_supply(lp, sol) / np.maximum(1.0 - lp.index.numbers.max_china_content,
                                                                      1e-12) + 0.0


# ------------------------------------------------------------------------------- Sensitivity


def content_sensitivity(plan) -> list[pd.DataFrame]:
    """Sensitivity rows for the ContentRules (measure "China content"), in the sheet's convention:
    cost_change per +1 percentage point of max_china_content (re-solved)."""
    if "ChinaContent" not in plan.tables or plan.lp is None or not plan.lp.index.size("rules"):
        return []
    cc = plan.tables["ChinaContent"]
    cc = cc[cc["rule_row"].notna()]
    if not len(cc):
        return []
    cur = plan.data.settings.currency if plan.data is not None else ""
    group = plan.data.settings.china_group if plan.data is not None else "China"
    return [pd.DataFrame({
        "measure": families.FAMILIES["content_rule"].label, "period": cc["period"].to_numpy(),
        "commodity": cc["commodity"].to_numpy(),
        "country": cc["destination"].fillna(f"outside {group}").to_numpy(),
        "limit_row": cc["rule_row"].astype(float).to_numpy(), "value": cc["max_china_content"].to_numpy(),
        "level": cc["any_stage_share"].to_numpy(), "cost_change": cc["marginal_cost"].to_numpy(),
        "unit": f"{cur} per +1 percentage point of max_china_content",
        "note": np.where(cc["binding"].to_numpy(), "binding: the content rule shapes the plan", "not binding"),
        "binding": cc["binding"].to_numpy(dtype=bool),
    })]


# ------------------------------------------------------------------------------- strict mode

CONTENT_FAMILIES = ("clean_bound", "clean_input", "content_rule", "clean_stock")


def content_conflict(lp: LP, family: str, i: int, method: str) -> dict:
    """A strict-mode finding (model/diagnose.py's row shape) for a row of the China-content families."""
    key = lp.row_blocks[family].keys.iloc[i]
    k, t = key["commodity"], int(key["period"])
    if family == "content_rule":
        cap, row, dest = float(key["max_china_content"]), int(key["rule_row"]), key["destination"]
        where = dest if isinstance(dest, str) else "destinations outside the China group"
        pct = f"{100 * cap:.4g}%"
        return _finding("content_rule", "ContentRules", row, k, t, dest if isinstance(dest, str) else None, cap,
                        method, f"max_china_content {pct}",
                        f"ContentRules row {row}: at most {pct} of the {k} delivered to {where} in {t} may "
                        "have touched the China group at any tier, and too little clean supply (made "
                        "outside it from clean inputs) can reach them.")
    if family == "clean_stock":
        d, row = key["country"], int(key["stock_row"])
        return _finding("clean_stock", "Stocks", row, k, t, d, None, method, "clean part of a stock",
                        f"China-content tracing: the clean part of the {k} stock in {d} (Stocks row {row}) at the "
                        f"end of {t} cannot exceed the stock.")
    if family == "clean_input":
        o = key["country"]
        return _finding("clean_input", "Recipes", None, k, t, o, None, method, "clean inputs only",
                        f"China-content tracing: clean output made in {o} in {t} needs clean {k} "
                        "(made outside the China group from clean inputs), which is short.")
    o, d = key["origin"], key["destination"]
    return _finding("clean_bound", "Recipes", None, k, t, f"{o}->{d}", None, method, "clean part of a flow",
                    f"China-content tracing: the clean part of {k} from {o} to {d} in {t} cannot exceed the flow.")


def _finding(constraint, sheet, row, commodity, period, country, quantity, method, detail, explanation) -> dict:
    return {"kind": "in_conflict", "constraint": constraint, "sheet": sheet, "row": row, "commodity": commodity,
            "period": period, "country": country, "quantity": quantity, "method": method, "detail": detail,
            "explanation": explanation}


# ------------------------------------------------------------------------------- batches and the frontier


def content_figures(res, plan) -> None:
    """Per commodity, for the Comparison and the frontier (batch Result fields, issue 13): the
    any-stage China share over all periods and its largest over periods, and each content rule's
    marginal cost from the dual (objective change per +1 point, summed over its periods)."""
    lp = plan.lp
    ix = lp.index
    x = plan.solution.x[lp.cols("flow")]
    f = ix.keys["flows"]
    xc = trace_clean(lp, x, _levels(lp, plan.solution.x))
    keep = ~f["china_dest"].to_numpy(dtype=bool)
    frame = pd.DataFrame({"commodity": f["commodity"].to_numpy()[keep], "period": f["period"].to_numpy()[keep],
                          "q": x[keep], "c": xc[keep]})
    per = frame.groupby(["commodity", "period"])[["q", "c"]].sum()
    share = (1.0 - per["c"] / per["q"]).where(per["q"] > FLOW_TOL)
    total = frame.groupby("commodity")[["q", "c"]].sum()
    overall = (1.0 - total["c"] / total["q"]).where(total["q"] > FLOW_TOL)
    res.content_share = {str(k): float(v) for k, v in overall.items()}
    res.content_peak = {str(k): float(v) for k, v in share.groupby(level="commodity").max().items()}
    res.content_marginal = {}
    if ix.size("rules") and plan.solution.row_dual is not None:
        from model.formulation.content import _fc

        entry, flow, _ = ix.structural("content.rule", lambda: rule_pattern(f, ix.keys["rules"], _fc(ix)))
        supplied = np.bincount(entry, weights=x[flow], minlength=ix.size("rules"))
        dual = plan.solution.row_dual[lp.rows("content_rule")]
        # the row is sum xc + (m - 1) sum x >= 0: d objective / d m = -dual * supplied
        marginal = pd.Series(-0.01 * dual * supplied + 0.0).groupby(ix.keys["rules"]["commodity"].to_numpy()).sum()
        res.content_marginal = {str(k): float(v) for k, v in marginal.items()}


def content_commodities(data) -> list[str]:
    """Commodities whose chain the China group can touch: it supplies them or any upstream tier."""
    countries = data["Countries"]
    china = set(countries.loc[countries["group"] == data.settings.china_group, "code"])
    supply = data["Supply"]
    touched = set(supply.loc[supply["country"].isin(china) & (supply["capacity"] > 0), "commodity"])
    from model.formulation.content import reached

    recipes = data["Recipes"]
    return [k for k in data["Commodities"]["code"] if reached(recipes, [k]) & touched]


def set_content(base, commodity: str, cap: float):
    """A copy of `base` whose ContentRules cap `commodity` at `cap` in every period and for every
    destination outside the China group (the row is added when the workbook has none)."""
    data = base.copy()
    rules = data.tables["ContentRules"]
    mine = ((rules["commodity"] == commodity) & rules["period"].isna() & rules["destination"].isna()).to_numpy()
    if mine.any():
        rules = rules.assign(max_china_content=np.where(mine, float(cap), rules["max_china_content"]))
    else:
        row = int(rules["row"].max()) + 1 if len(rules) else 2
        extra = pd.DataFrame({"commodity": [commodity], "period": [np.nan], "destination": [None],
                              "max_china_content": [float(cap)], "row": [row]})
        rules = pd.concat([rules, extra.astype(rules.dtypes.to_dict())], ignore_index=True) if len(rules) else extra
    data.tables["ContentRules"] = rules
    return data, None
