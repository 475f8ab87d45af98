"""Sensitivity of a solved plan: what each limit costs, what each input is worth, and which
allocations are forced.

Sign convention (one for the whole Sensitivity sheet): `cost_change` is the change in the
objective (total cost incl. risk and shortfall penalties) when the row's `value` is RAISED by
one unit, or by one percentage point for shares. Negative = the plan gets cheaper.

Derivations (HiGHS: row_dual = d objective / d row bound):

* China cap row  sum_{d not in C} (inside - cap) x <= 0. Raising cap by h changes the row's
  activity by -h*S (S = non-China supply), i.e. it is the same as raising the row bound by h*S:
  d obj / d cap = dual * S, per percentage point 0.01 * dual * S. ShareLimits rows have the same
  form (min rows with >= 0, max rows with <= 0), so the same formula holds for both: a binding
  max limit has dual <= 0 (raising it saves), a binding min limit dual >= 0 (raising it costs).
* Capacity: d obj / d capacity = row dual (<= 0: one more unit saves -dual).
* Unit cost of a supplier: d obj / d unit_cost = the quantity it ships (all its flow columns move
  together). An unused supplier enters the plan once its unit cost falls by more than the
  smallest reduced cost over its flow columns (`cost_cut_to_enter`).
* Delivered cost: d obj / d demand = balance row dual.

These are derivatives at the reported optimum. Under primal degeneracy the duals are one valid
choice among several (left and right derivatives differ); the optional ranging says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd

from model.codes import index_flow_codes, int_codes, rank_codes, text_column
from model.content_tables import content_sensitivity
from model.formulation.lp import LP
from model.solve.highs import HighsSession, new_highs

ZERO = 1e-9  # a dual or reduced cost below this is reported as zero
DEGEN_TOL = 1e-7  # a basic variable this close to a bound makes the basis degenerate
TIE_REL = 1e-7  # alternate optima: objective <= optimum + TIE_REL * |optimum| + TIE_ABS
TIE_ABS = 1e-9
FORCED_SHARE = 1e-5  # min and max shares closer than this (0.001 pp): forced

COLUMNS = ["measure", "period", "commodity", "country", "limit_row", "value", "level", "cost_change",
           "unit", "cost_cut_to_enter", "allowable_decrease", "allowable_increase", "note", "quantity_unit",
           "binding"]


# ---------------------------------------------------------------------------------- ranging


@dataclass
class Ranging:
    """Ranges of the optimal basis, captured from HiGHS right after the solve (plain arrays)."""

    cost_decrease: np.ndarray  # per supplier (index.supply order): allowable unit-cost decrease
    cost_increase: np.ndarray
    capacity_decrease: np.ndarray  # per supplier: allowable capacity decrease
    capacity_increase: np.ndarray
    primal_degenerate: int  # basic variables at a bound
    dual_degenerate: int  # nonbasic variables with a zero reduced cost (ties in cost)
    seconds: float

    @property
    def note(self) -> str:
        parts = []
        if self.primal_degenerate:
            parts.append(f"basis is degenerate ({self.primal_degenerate} basic variable(s) at a bound): "
                         "shadow prices and ranges are one valid set, not unique")
        if self.dual_degenerate:
            parts.append(f"{self.dual_degenerate} unused option(s) cost exactly the same at the margin: "
                         "alternate optima may exist (see --alternate-optima)")
        return "; ".join(parts) if parts else "basis not degenerate: ranges are unique"


def compute_ranging(h: highspy.Highs, lp: LP, row_activity: np.ndarray, x: np.ndarray) -> Ranging:
    """Ranges from the basis HiGHS holds now (call right after the solve, before any change).

    Capacities: HiGHS's row-bound ranging. Unit costs: a supplier's cost enters every one of its
    flow columns at once, so per-column ranging does not apply; the exact range comes from the
    basis: a cost change t*d moves the row duals by t*w with B'w = d_B, and every reduced cost by
    t*(d_j - a_j'w); the basis stays optimal until the first one changes sign.
    """
    started = time.perf_counter()
    m, n = lp.shape
    s = lp.index.supply
    cap_rows = np.arange(lp.rows("capacity").start, lp.rows("capacity").stop)
    status, rng = h.getRanging()
    if status == highspy.HighsStatus.kError or not rng.valid:
        raise RuntimeError("HiGHS ranging is not available for this solve")
    cap = s["capacity"].to_numpy(dtype=float)
    cap_up = np.asarray(rng.row_bound_up.value_, dtype=float)[cap_rows] - cap
    cap_dn = cap - np.asarray(rng.row_bound_dn.value_, dtype=float)[cap_rows]

    basis = h.getBasis()
    col_status = np.array([int(v) for v in basis.col_status])
    row_status = np.array([int(v) for v in basis.row_status])
    # a capacity row with spare room (basic slack): any increase, a decrease down to the use
    slack = row_status[cap_rows] == 1
    cap_up = np.where(slack, np.inf, np.maximum(cap_up, 0.0))
    cap_dn = np.where(slack, np.maximum(cap - row_activity[cap_rows], 0.0), np.maximum(cap_dn, 0.0))
    _, basic = h.getBasicVariables()
    basic = np.asarray(basic)
    sol = h.getSolution()
    col_dual = np.asarray(sol.col_dual, dtype=float)
    row_dual = np.asarray(sol.row_dual, dtype=float)
    BASIC, LOWER, UPPER = 1, 0, 2

    # which dual values must keep a sign: nonbasic at a bound of a non-fixed variable
    col_free_dual = (col_status == BASIC) | (lp.lower == lp.upper)
    row_free_dual = (row_status == BASIC) | (lp.row_lower == lp.row_upper)
    col_sign = np.where(col_free_dual, 0, np.where(col_status == UPPER, -1, 1))  # dual*sign >= 0
    row_sign = np.where(row_free_dual, 0, np.where(row_status == UPPER, -1, 1))
    col_sign[(col_status != LOWER) & (col_status != UPPER)] = 0
    row_sign[(row_status != LOWER) & (row_status != UPPER)] = 0

    flow0 = lp.cols("flow").start
    supply_of_col = np.full(n, -1)
    supply_of_col[lp.cols("flow")] = lp.index.flows["supply_id"].to_numpy()
    AT = lp.A.T
    cost_dn = np.full(len(s), np.inf)
    cost_up = np.full(len(s), np.inf)
    basic_supply = np.where(basic >= 0, supply_of_col[np.maximum(basic, 0)], -1)
    cols_of = pd.Series(np.arange(len(lp.index.flows)) + flow0).groupby(
        lp.index.flows["supply_id"].to_numpy()).apply(np.asarray)
    for sid in range(len(s)):
        d = np.zeros(n)
        mine = cols_of.get(sid, np.zeros(0, dtype=int))
        d[mine] = 1.0
        d_basic = (basic_supply == sid).astype(float)
        if d_basic.any():
            _, w = h.getBasisTransposeSolve(d_basic)
            w = np.asarray(w, dtype=float)
            col_rate = d - AT @ w
            row_rate = w
        else:
            col_rate = d
            row_rate = np.zeros(m)
        dn, up = _ratio(col_dual * col_sign, col_rate * col_sign)
        rdn, rup = _ratio(row_dual * row_sign, row_rate * row_sign)
        cost_dn[sid], cost_up[sid] = min(dn, rdn), min(up, rup)

    act = row_activity
    basic_cols = col_status == BASIC
    basic_rows = row_status == BASIC
    at_bound_col = (np.abs(x - lp.lower) <= DEGEN_TOL) | (np.abs(x - lp.upper) <= DEGEN_TOL)
    at_bound_row = (np.abs(act - lp.row_lower) <= DEGEN_TOL) | (np.abs(act - lp.row_upper) <= DEGEN_TOL)
    primal_degenerate = int(np.sum(basic_cols & at_bound_col) + np.sum(basic_rows & at_bound_row))
    dual_degenerate = int(np.sum((col_sign != 0) & (np.abs(col_dual) <= ZERO)))
    return Ranging(cost_dn, cost_up, cap_dn, cap_up, primal_degenerate, dual_degenerate,
                   time.perf_counter() - started)


def _ratio(value: np.ndarray, rate: np.ndarray) -> tuple[float, float]:
    """Largest t>=0 with value + t*rate >= 0 (increase) and value - t*rate >= 0 (decrease)."""
    value = np.maximum(value, 0.0)
    neg = rate < -1e-12
    pos = rate > 1e-12
    up = float(np.min(value[neg] / -rate[neg])) if neg.any() else np.inf
    dn = float(np.min(value[pos] / rate[pos])) if pos.any() else np.inf
    return dn, up


# --------------------------------------------------------------------------- alternate optima


def alternate_optima(lp: LP, objective: float, *, basis: highspy.HighsBasis | None = None,
                     threads: int | None = None) -> pd.DataFrame:
    """For each source country, commodity and period: the least and most it can supply to
    non-China destinations among plans that cost no more than the optimum (+ tolerance)."""
    session = HighsSession(threads=threads)
    session.load(lp)
    h = session.h
    if basis is not None:
        h.setBasis(basis)
    n = lp.shape[1]
    nz = np.flatnonzero(lp.c)
    limit = objective + TIE_REL * abs(objective) + TIE_ABS
    h.addRow(-highspy.kHighsInf, limit, len(nz), nz.astype(np.int32), lp.c[nz].astype(float))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.zeros(n))

    f = lp.index.flows
    flow0 = lp.cols("flow").start
    keep = np.flatnonzero(~f["china_dest"].to_numpy())
    sub = f.iloc[keep]
    groups = sub.groupby(["period", "commodity", "origin"], sort=True).indices
    total_of = sub.groupby(["period", "commodity"], sort=True).indices
    rows = []
    for (t, k, o), pos in groups.items():
        cols = (flow0 + keep[pos]).astype(np.int32)
        all_cols = flow0 + keep[total_of[(t, k)]]
        result = {}
        for sense, sign in (("min", 1.0), ("max", -1.0)):
            h.changeColsCost(len(cols), cols, np.full(len(cols), sign))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                result[sense] = (np.nan, np.nan)
                continue
            xv = np.asarray(h.getSolution().col_value)
            q = float(xv[cols].sum())
            total = float(xv[all_cols].sum())
            result[sense] = (q, q / total if total > 1e-9 else np.nan)
        h.changeColsCost(len(cols), cols, np.zeros(len(cols)))
        rows.append((t, k, o, result["min"][0], result["max"][0], result["min"][1], result["max"][1]))
    out = pd.DataFrame(rows, columns=["period", "commodity", "source", "min_quantity", "max_quantity",
                                      "min_share", "max_share"])
    return out


def alternate_optima_table(plan, alt: pd.DataFrame) -> pd.DataFrame:
    """Join the ranges with the plan's own shares and say which allocations are forced."""
    shares = plan.tables["Shares"][["period", "commodity", "source", "quantity", "share"]]
    out = alt.merge(shares, how="left", on=["period", "commodity", "source"])
    out["quantity"] = out["quantity"].fillna(0.0)
    out["share"] = out["share"].fillna(0.0)
    # forced: the share cannot move by more than FORCED_SHARE (the tie tolerance lets it drift a bit)
    share_width = (out["max_share"] - out["min_share"]).abs()
    q_width = out["max_quantity"] - out["min_quantity"]
    out["forced"] = np.where(share_width.notna(), share_width <= FORCED_SHARE, q_width <= 1e-6)
    out["note"] = np.where(out["forced"], "forced: every least-cost plan uses this amount",
                           "tie: other least-cost plans use between min and max")
    cols = ["period", "commodity", "source", "quantity", "share", "min_quantity", "max_quantity",
            "min_share", "max_share", "forced", "note"]
    return out[cols].sort_values(["period", "commodity", "source"]).reset_index(drop=True)


# ------------------------------------------------------------------------------ the table


TEXT = ("measure", "commodity", "country", "unit", "note", "quantity_unit")  # the sheet's text columns
MEASURE_ORDER = ("China cap", "share maximum", "share minimum", "capacity", "unit cost", "delivered cost")


def sensitivity_table(plan, ranging: Ranging | None = None, *, marginals: dict[str, np.ndarray] | None = None,
                      binding=None, units: pd.Series | None = None) -> pd.DataFrame:
    """The Sensitivity sheet: one row per limit or input, in one sign convention (module doc).

    `marginals` are the re-solved +1 pp costs of share rows (model/solve/marginals.py; None: from
    the duals); `binding(family)` is the one definition of a binding row (families.binding).

    Each part is a dict of column arrays; the sheet is put together once, ordered on integer
    codes, and its text columns taken from their distinct values (_assemble): no DataFrame per
    part, no concat, no sort on strings."""
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

    def qunit_fast(commodities: np.ndarray) -> np.ndarray:
        # qunit looked up once per distinct commodity
        code, distinct = pd.factorize(np.asarray(commodities, dtype=object))
        return qunit(np.asarray(distinct, dtype=object))[code] if len(commodities) else np.zeros(0, dtype=object)

    cur = plan.data.settings.currency if plan.data is not None else ""
    x = sol.x[lp.cols("flow")]
    y = sol.row_dual
    f = ix.flows
    parts: list[dict] = []

    # non-China supply S per (period, commodity): grouped by the two keys' rank codes as the strings
    # were (the same groups in the same order, so pandas' compensated sums are bit for bit the
    # same), then looked up on codes
    fk = index_flow_codes(ix)
    keep = ~f["china_dest"].to_numpy()
    n_com = len(fk.commodities)
    s_tot = pd.Series(x[keep]).groupby([fk.period[keep], fk.commodity[keep]]).sum()
    supply = np.zeros(len(fk.periods) * n_com)
    present = np.zeros(len(supply), dtype=bool)
    at = s_tot.index.get_level_values(0).to_numpy() * n_com + s_tot.index.get_level_values(1).to_numpy()
    supply[at], present[at] = s_tot.to_numpy(), True

    def S(frame: pd.DataFrame) -> np.ndarray:
        k = _find(fk.commodities, frame["commodity"].to_numpy(dtype=object))
        t = _find(fk.periods, frame["period"].to_numpy())
        cell = np.where((k >= 0) & (t >= 0), t * n_com + k, 0)
        return np.where((k >= 0) & (t >= 0) & present[cell], supply[cell], 0.0) if len(supply) else \
            np.zeros(len(frame))

    def share_cost(family: str, dual: np.ndarray, frame: pd.DataFrame) -> np.ndarray:
        if marginals is not None and family in marginals:
            return _clean(marginals[family])
        return _clean(0.01 * dual * S(frame))

    def share_note(bind: np.ndarray, cost: np.ndarray, what: str) -> np.ndarray:
        return np.where(bind & (cost != 0), f"binding: the {what} shapes the plan",
                        np.where(bind, f"binding, but one more point changes nothing (the {what} is at its "
                                       "bound; another limit decides)", "not binding")).astype(object)

    # China caps
    caps = ix.caps
    if len(caps):
        dual = _clean(y[lp.rows("china_cap")])
        cs = plan.tables["ChinaShare"]
        level = _lookup_pairs(cs["period"].to_numpy(), cs["commodity"].to_numpy(dtype=object),
                              cs["china_share"].to_numpy(dtype=float), caps["period"].to_numpy(),
                              caps["commodity"].to_numpy(dtype=object))
        ch = plan.data.settings.china_group if plan.data is not None else "China"
        bind = binding("china_cap")
        cost = share_cost("china_cap", dual, caps)
        parts.append({
            "measure": FAMILIES["china_cap"].label, "period": caps["period"].to_numpy(),
            "commodity": caps["commodity"].to_numpy(dtype=object),
            "country": ch, "limit_row": caps["row"].to_numpy(), "value": caps["china_cap"].to_numpy(dtype=float),
            "level": level, "cost_change": cost,
            "unit": f"{cur} per +1 percentage point of the cap",
            "note": share_note(bind, cost, "cap"), "quantity_unit": "%", "binding": bind,
        })

    # ShareLimits rows
    for name, col in (("share_min", "min_share"), ("share_max", "max_share")):
        keys = lp.row_blocks[name].keys
        if not len(keys):
            continue
        dual = _clean(y[lp.rows(name)])
        level = _source_share(lp, sol, name, keys[col].to_numpy(dtype=float), S(keys))
        bind = binding(name)
        cost = share_cost(name, dual, keys)
        parts.append({
            "measure": FAMILIES[name].label, "period": keys["period"].to_numpy(),
            "commodity": keys["commodity"].to_numpy(dtype=object),
            "country": keys["source"].to_numpy(dtype=object), "limit_row": keys["limit_row"].to_numpy(),
            "value": keys[col].to_numpy(dtype=float), "level": level,
            "cost_change": cost,
            "unit": f"{cur} per +1 percentage point of the limit",
            "note": share_note(bind, cost, "limit"), "quantity_unit": "%", "binding": bind,
        })

    # capacity and unit cost per supplier
    sup = ix.supply
    used = np.bincount(f["supply_id"].to_numpy(), weights=x, minlength=len(sup))
    cap_dual = _clean(y[lp.rows("capacity")])
    cap_bind = binding("capacity")
    cut = cost_cut_to_enter(lp, sol)
    su = qunit_fast(sup["commodity"].to_numpy())
    base = {"period": sup["period"].to_numpy(), "commodity": sup["commodity"].to_numpy(dtype=object),
            "country": sup["country"].to_numpy(dtype=object), "limit_row": sup["row"].to_numpy()}
    cap_part = {"measure": "capacity", **base, "value": sup["capacity"].to_numpy(dtype=float),
                "level": used, "cost_change": cap_dual,
                "unit": _each_unit(su, lambda u: f"{cur} per +1 {u} of capacity"),
                "note": np.where(cap_dual < 0, "saturated: more capacity here saves money",
                                 np.where(cap_bind, "used up, but more would not save",
                                          np.where(used > 1e-9, "spare capacity", "unused"))).astype(object),
                "quantity_unit": su, "binding": cap_bind}
    cost_part = {"measure": "unit cost", **base, "value": sup["unit_cost"].to_numpy(dtype=float),
                 "level": used, "cost_change": _clean(used),
                 "unit": f"{cur} per +1 {cur} of unit cost", "cost_cut_to_enter": cut,
                 "note": np.where(used > 1e-9, "in the plan",
                                  "not in the plan: enters if its unit cost falls by more than "
                                  "cost_cut_to_enter").astype(object),
                 "quantity_unit": _each_unit(su, lambda u: f"{cur}/{u}"), "binding": False}
    if ranging is not None:
        cap_part["allowable_decrease"] = ranging.capacity_decrease
        cap_part["allowable_increase"] = ranging.capacity_increase
        cost_part["allowable_decrease"] = ranging.cost_decrease
        cost_part["allowable_increase"] = ranging.cost_increase
    parts += [cap_part, cost_part]

    # delivered cost per need (balance duals)
    needs = ix.needs
    bal = _clean(y[lp.rows("balance")])
    nu = qunit_fast(needs["commodity"].to_numpy())
    parts.append({
        "measure": FAMILIES["balance"].label, "period": needs["period"].to_numpy(),
        "commodity": needs["commodity"].to_numpy(dtype=object), "country": needs["country"].to_numpy(dtype=object),
        "limit_row": needs["row"].to_numpy(), "value": needs["quantity"].to_numpy(dtype=float),
        "level": needs["quantity"].to_numpy(dtype=float), "cost_change": bal,
        "unit": _each_unit(nu, lambda u: f"{cur} per +1 {u} of demand"),
        "note": "marginal cost of supply at this destination (the dual; Prices says where one unit more "
                "or less costs otherwise)", "quantity_unit": nu, "binding": False,
    })
    parts += [_frame_part(p) for p in content_sensitivity(plan)]  # issue 13: ContentRules (model/content_tables.py)
    parts += [_frame_part(p) for p in planning_sensitivity(plan, binding, qunit, cur)]  # issue 12: Stocks, Projects
    order = dict(zip(MEASURE_ORDER, range(6), strict=True)) | {
        FAMILIES["content_rule"].label: 6, FAMILIES["stock_capacity"].label: 7,
        FAMILIES["stock_release"].label: 8, FAMILIES["project_capacity"].label: 9}
    return _assemble([p for p in parts if _rows(p)], order, ranging is not None)


def _each_unit(units: np.ndarray, text: Callable[[str], str]) -> np.ndarray:
    """text(u) per row, made once per distinct unit."""
    code, distinct = pd.factorize(np.asarray(units, dtype=object))
    return np.array([text(u) for u in distinct], dtype=object)[code] if len(units) else np.zeros(0, dtype=object)


def _find(vocab: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted distinct `vocab`, -1 where it is not there."""
    if not len(vocab) or not len(values):
        return np.full(len(values), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(vocab, values), len(vocab) - 1)
    return np.where(vocab[at] == values, at, -1).astype(np.int64)


def _lookup_pairs(period: np.ndarray, commodity: np.ndarray, value: np.ndarray, at_period: np.ndarray,
                  at_commodity: np.ndarray) -> np.ndarray:
    """value of each (at_period, at_commodity) pair among (period, commodity), NaN where absent:
    a reindex on a MultiIndex, on codes."""
    (k, ak), _ = rank_codes(commodity, at_commodity)
    (t, at_), periods = int_codes(period, at_period)
    key, at_key = k * len(periods) + t, ak * len(periods) + at_
    by = np.argsort(key, kind="stable")
    hit = _find(key[by], at_key)
    return np.where(hit >= 0, value[by][np.maximum(hit, 0)], np.nan) if len(key) else np.full(len(at_key), np.nan)


def _rows(part: dict) -> int:
    return max((len(v) for v in part.values() if isinstance(v, np.ndarray)), default=0)


def _frame_part(frame: pd.DataFrame) -> dict:
    """A part given as a DataFrame (ContentRules, Stocks, Projects: a few rows each) as arrays."""
    return {c: frame[c].to_numpy(dtype=object) if c in TEXT else frame[c].to_numpy() for c in frame.columns}


def _assemble(parts: list[dict], order: dict[str, int], ranged: bool) -> pd.DataFrame:
    """The sheet from its parts, as pd.concat of one frame per part then a stable sort by
    (measure order, period, commodity, country) gave it: a column a part lacks is blank (NaN; and
    `binding` False: every part states its own), limit_row below 0 is blank, an infinite allowable
    range blank."""
    sizes = [_rows(p) for p in parts]

    def column(name: str, blank, dtype=None) -> np.ndarray:
        pieces = []
        for p, n in zip(parts, sizes, strict=True):
            v = p.get(name, blank)
            pieces.append(np.asarray(v, dtype=dtype) if isinstance(v, np.ndarray) else np.full(n, v, dtype=dtype))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype)

    text = {c: column(c, np.nan, object) for c in TEXT}
    # each text column factorised once (sorted: codes order as the strings), for the order and the column
    coded = {c: pd.factorize(text[c], sort=True) for c in TEXT}
    period = column("period", np.nan)
    # measure order, period, commodity, country; blanks (and a measure not listed) last, as sort_values
    m_code, m_distinct = coded["measure"]
    measure_rank = np.append(np.array([order.get(m, len(order)) for m in m_distinct], dtype=np.int64),
                             len(order))[m_code]  # a blank measure (-1) takes the last rank
    last = {c: np.where(coded[c][0] < 0, np.iinfo(np.int64).max, coded[c][0]) for c in ("commodity", "country")}
    rows = np.lexsort((last["country"], last["commodity"], period, measure_rank))
    out = {"period": period}
    limit_row = column("limit_row", np.nan, float)
    out["limit_row"] = np.where(limit_row >= 0, limit_row, np.nan)
    for c in ("value", "level", "cost_change", "cost_cut_to_enter", "allowable_decrease", "allowable_increase"):
        out[c] = column(c, np.nan, float)
        if ranged and c.startswith("allowable"):
            out[c] = np.where(out[c] == np.inf, np.nan, out[c])
    out["binding"] = column("binding", False, bool)
    return pd.DataFrame({c: text_column(coded[c][1], coded[c][0][rows], text[c][rows]) if c in TEXT else out[c][rows]
                         for c in COLUMNS})


def planning_sensitivity(plan, binding, qunit, cur: str) -> list[pd.DataFrame]:
    """Sensitivity rows of the planning limits (issue 12), per period, in the sheet's convention
    (cost_change = objective change per +1 unit of the limit in that period; negative saves):

    * stock capacity  s[d,k,t] <= Stocks.capacity: the reduced cost of s at its upper bound
      (d objective / d bound). The cell holds for every period, so +1 on it costs the sum over them.
    * stock release   s[d,k,t-1] - s[d,k,t] <= Stocks.max_release: the row dual; level is the draw.
    * project capacity  sum_d x[p,d,k,t] <= capacity[p] * sum_{tau<=t} b[p,tau], and the project
      supply's own capacity row sum_d x[p,d,k,t] <= capacity[p]: Projects.capacity is in both, so
      one more unit of it in t changes the objective by dual_capacity + dual_project * built_t
      (raising the coefficient by h moves the row like raising its bound by h * built_t); capex
      on the extra unit is not included (+ capex * built when the cell itself is raised).
    Stocks without a capacity or max_release (no limit) have no row here."""
    from model.formulation.families import FAMILIES, project_available

    lp: LP = plan.lp
    sol = plan.solution
    ix = lp.index
    out: list[pd.DataFrame] = []
    if ix.size("stocks"):
        st = ix.keys["stocks"]
        pn = ix.numbers.planning
        z = sol.x[lp.cols("stock")]
        prev = ix.key("stocks", "prev")
        before = np.where(prev >= 0, z[np.maximum(prev, 0)], pn.initial)
        su = qunit(st["commodity"].to_numpy())
        base = {"period": st["period"].to_numpy(), "commodity": st["commodity"].to_numpy(),
                "country": st["country"].to_numpy(), "limit_row": st["stock_row"].to_numpy()}
        bind = binding("stock_capacity")
        rc = sol.col_dual[lp.cols("stock")] if sol.col_dual is not None else np.zeros(len(st))
        cost = _clean(np.where(np.isfinite(pn.stock_capacity), np.minimum(rc, 0.0), 0.0))
        frame = pd.DataFrame({"measure": FAMILIES["stock_capacity"].label, **base,
                              "value": pn.stock_capacity, "level": z + 0.0, "cost_change": cost,
                              "unit": [f"{cur} per +1 {u} of stock capacity in the period" for u in su],
                              "note": np.where(cost < 0, "binding: a larger reserve would save money",
                                               np.where(bind, "full, but more room would not save",
                                                        "room to spare")),
                              "quantity_unit": su, "binding": bind})
        out.append(frame[np.isfinite(pn.stock_capacity)])
        bind = binding("stock_release")
        dual = _clean(sol.row_dual[lp.rows("stock_release")])
        frame = pd.DataFrame({"measure": FAMILIES["stock_release"].label, **base,
                              "value": pn.max_release, "level": np.maximum(before - z, 0.0) + 0.0,
                              "cost_change": dual,
                              "unit": [f"{cur} per +1 {u} of release in the period" for u in su],
                              "note": np.where(dual < 0, "binding: drawing more from the stock would save money",
                                               np.where(bind, "drawn to its limit, but more would not save",
                                                        "below its release limit")),
                              "quantity_unit": su, "binding": bind})
        out.append(frame[np.isfinite(pn.max_release)])
    if ix.size("project_supply"):
        ps = ix.keys["project_supply"]
        x = sol.x[lp.cols("flow")]
        made = np.bincount(ix.key("flows", "supply_id"), weights=x, minlength=ix.size("supply"))
        level = made[ps["supply_id"].to_numpy()]
        cap = ix.numbers.planning.capacity[ps["project_id"].to_numpy()]
        built = np.where(cap > 0, project_available(lp, sol) / np.where(cap > 0, cap, 1.0), 0.0)
        sid = ps["supply_id"].to_numpy()
        dual = _clean(sol.row_dual[lp.rows("capacity")][sid] + sol.row_dual[lp.rows("project_capacity")] * built)
        bind = binding("project_capacity") | binding("capacity")[sid]
        pu = qunit(ps["commodity"].to_numpy())
        names = ps["project"].to_numpy(dtype=object)

        def note(p: str, d: float, b: bool, f: float) -> str:
            part = "" if f >= 1 - 1e-9 or f <= FLOW_ZERO else f" (built {f:.0%} by this period)"
            what = ("binding: more capacity would save money" if d < 0 else
                    "built and used up, but more would not save" if b else
                    "not built by this period" if f <= FLOW_ZERO else "spare capacity")
            return f"project {p}: {what}{part}"

        out.append(pd.DataFrame({
            "measure": FAMILIES["project_capacity"].label, "period": ps["period"].to_numpy(),
            "commodity": ps["commodity"].to_numpy(), "country": ps["country"].to_numpy(),
            "limit_row": ps["project_row"].to_numpy(), "value": cap + 0.0,
            "level": level + 0.0, "cost_change": dual,
            "unit": [f"{cur} per +1 {u} of project capacity in the period (capex not included)" for u in pu],
            "note": [note(p, d, b, f) for p, d, b, f in zip(names, dual, bind, built, strict=True)],
            "quantity_unit": pu, "binding": bind}))
    return [f for f in out if len(f)]


FLOW_ZERO = 1e-9  # an available project capacity below this is "not built"


def cost_cut_to_enter(lp: LP, sol) -> np.ndarray:
    """Per supplier with zero use: the smallest reduced cost over its flow columns (how much its
    unit cost must fall before it can enter the plan). NaN for suppliers in the plan."""
    f = lp.index.flows
    x = sol.x[lp.cols("flow")]
    rc = sol.col_dual[lp.cols("flow")] if sol.col_dual is not None else np.full(len(f), np.nan)
    # only columns that could grow (not capped at a route maximum of 0)
    open_ = f["route_max"].to_numpy(dtype=float) > 0
    rc = np.where(open_, np.maximum(rc, 0.0), np.inf)
    sid = f["supply_id"].to_numpy()
    n_sup = len(lp.index.supply)
    best = np.full(n_sup, np.inf)
    np.minimum.at(best, sid, rc)
    used = np.bincount(sid, weights=x, minlength=n_sup)
    best = np.where(used > 1e-9, np.nan, best)
    best[np.isinf(best)] = np.nan
    return _clean(best)


def _source_share(lp: LP, sol, family: str, share: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """Each ShareLimits row's source share of non-China supply, read off the row itself: its entries
    are (inside - share), so its activity is inside supply - share x S and the level is
    activity / S + share (NaN where nothing is supplied)."""
    act = sol.row_activity[lp.rows(family)]
    some = supply > 1e-9
    return np.where(some, act / np.where(some, supply, 1.0) + share, np.nan)


def _clean(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float) + 0.0
    return np.where(np.abs(v) <= ZERO, 0.0, v)


# --------------------------------------------------------------------------- hooking in


def prepare(session: HighsSession, lp: LP, sol, *, ranging: bool = False, alternate: bool = False,
            threads: int | None = None) -> dict:
    """What Sensitivity and AlternateOptima need from the solver, taken right after the solve (before
    any table is built): {"ranging": Ranging | None, "alternate": DataFrame | None, "summary": {...}}."""
    out: dict = {"ranging": None, "alternate": None, "summary": {}}
    if sol is None or sol.x is None or sol.row_dual is None:
        return out
    if ranging:
        rng = compute_ranging(session.h, lp, sol.row_activity, sol.x)
        out["ranging"] = rng
        out["summary"]["ranging_seconds"] = round(rng.seconds, 4)
        out["summary"]["ranging_note"] = rng.note
    if alternate:
        started = time.perf_counter()
        basis = session.h.getBasis()
        out["alternate"] = alternate_optima(lp, sol.objective, basis=basis, threads=threads)
        out["summary"]["alternate_optima_seconds"] = round(time.perf_counter() - started, 4)
        out["summary"]["alternate_optima_tolerance"] = f"objective <= optimum + {TIE_REL:g} x |optimum| + {TIE_ABS:g}"
    return out


__all__ = ["Ranging", "prepare", "alternate_optima", "compute_ranging", "sensitivity_table",
           "cost_cut_to_enter", "new_highs"]
