"""The row families of the LP, named once: their key columns, the input sheet a row comes from, the
words an analyst reads, and the one test of whether a row binds.

Marginals, sensitivity, diagnosis, highlighting and the printout all read this registry, so a
cap that one sheet calls binding is binding on every sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.formulation.sets import index_codes

FLOW_TOL = 1e-9  # flows and shortfalls below this are zero
TIGHT_TOL = 1e-7  # a row within this (relative to the largest flow) of its bound is tight
DUAL_TOL = 1e-9  # a dual below this is zero


@dataclass(frozen=True)
class Family:
    """One family of constraint rows."""

    name: str  # the LP's row-block name
    keys: tuple[str, ...]  # key columns of lp.row_blocks[name].keys
    sheet: str  # the input sheet a row comes from
    row_column: str  # the key column holding that sheet's Excel row
    label: str  # the measure in Sensitivity and in messages
    share_column: str = ""  # share families: the key column holding the share
    column: str = ""  # bound families: the variable block whose upper bound is the limit (no row)

    @property
    def is_bound(self) -> bool:
        """A limit held as a column's upper bound, not a row: its price is the column's reduced cost."""
        return bool(self.column)


FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("capacity", ("period", "commodity", "country"), "Supply", "row", "capacity"),
    Family("balance", ("period", "commodity", "country"), "Demand", "row", "delivered cost"),
    Family("china_cap", ("period", "commodity"), "Commodities", "row", "China cap", "china_cap"),
    Family("share_max", ("period", "commodity", "source"), "ShareLimits", "limit_row", "share maximum",
           "max_share"),
    Family("share_min", ("period", "commodity", "source"), "ShareLimits", "limit_row", "share minimum",
           "min_share"),
    # issue 13: sum xc - (1 - max_china_content) sum x >= 0 over a ContentRules entry's supply
    Family("content_rule", ("period", "commodity", "destination"), "ContentRules", "rule_row", "China content",
           "max_china_content"),
    # issue 12, planning ahead: the limits an analyst sets on Stocks and Projects
    Family("stock_capacity", ("period", "commodity", "country"), "Stocks", "stock_row", "stock capacity",
           column="stock"),  # s[d,k,t] <= Stocks.capacity: the reserve ceiling, a bound on s
    Family("stock_release", ("period", "commodity", "country"), "Stocks", "stock_row", "stock release"),
    Family("project_capacity", ("period", "commodity", "country", "project"), "Projects", "project_row",
           "project capacity"),
    # sum_tau b <= 1: structure (a project is built once), named by diagnosis, not priced in Sensitivity
    Family("build_once", ("project",), "Projects", "row", "project built once"),
)}
SHARE_FAMILIES = ("china_cap", "share_min", "share_max")  # rows on a source's share of non-China supply
PERCENT_FAMILIES = (*SHARE_FAMILIES, "content_rule")  # rows whose limit is a share (shown as %)


def binding(lp, sol, family: str) -> np.ndarray:
    """The one definition of "binding": the row sits at its bound (within TIGHT_TOL of the largest
    flow) or carries a non-zero dual. Share rows whose supply is zero bind nothing (0 <= 0 holds
    trivially), so they are binding only when their dual says so; a stock capacity of 0 likewise.
    A project's capacity row binds only once the project is built: before, 0 <= 0 holds and its
    dual prices the build decision, not the capacity."""
    if FAMILIES[family].is_bound:
        return _bound_binding(lp, sol, FAMILIES[family].column)
    if family not in lp.row_blocks:
        return np.zeros(0, dtype=bool)
    rows = lp.rows(family)
    if sol is None or sol.row_activity is None or rows.stop == rows.start:
        return np.zeros(rows.stop - rows.start, dtype=bool)
    activity = sol.row_activity[rows]
    upper, lower = lp.row_upper[rows], lp.row_lower[rows]
    scale = 1.0 + np.abs(sol.x).max(initial=0.0)
    at_upper = np.isfinite(upper) & (np.abs(activity - upper) <= TIGHT_TOL * scale)
    at_lower = np.isfinite(lower) & (np.abs(activity - lower) <= TIGHT_TOL * scale)
    at_bound = at_upper | at_lower
    if family in SHARE_FAMILIES:
        at_bound &= _share_supply(lp, sol, family) > FLOW_TOL
    elif family == "content_rule":  # likewise: a rule on no supply (or at 100%) binds nothing
        at_bound &= _rule_supply(lp, sol) > FLOW_TOL
    dual = np.abs(sol.row_dual[rows]) > DUAL_TOL if sol.row_dual is not None else False
    if family == "project_capacity":  # capacity * built: a plant not built is at no capacity, whatever
        return (at_bound | dual) & (project_available(lp, sol) > FLOW_TOL)  # its dual (the build cost) says
    return at_bound | dual


def _bound_binding(lp, sol, column: str) -> np.ndarray:
    """A column at a finite, positive upper bound (within TIGHT_TOL of the largest flow), or with a
    non-zero reduced cost there: the bound families' "binding"."""
    if column not in lp.var_blocks or sol is None or sol.x is None:
        return np.zeros(lp.var_blocks[column].size if column in lp.var_blocks else 0, dtype=bool)
    cols = lp.cols(column)
    upper, z = lp.upper[cols], sol.x[cols]
    scale = 1.0 + np.abs(sol.x).max(initial=0.0)
    at_upper = np.isfinite(upper) & (upper > FLOW_TOL) & (np.abs(z - upper) <= TIGHT_TOL * scale)
    if sol.col_dual is None:
        return at_upper
    return at_upper | ((sol.col_dual[cols] < -DUAL_TOL) & np.isfinite(upper))


def project_available(lp, sol) -> np.ndarray:
    """Capacity[p] * sum_{tau <= t} b[p,tau] behind each project_capacity row: what it may produce."""
    rows, builds = lp.rows("project_capacity"), lp.cols("build")
    return -_rows_times(lp, rows, builds, sol.x)


def _share_supply(lp, sol, family: str) -> np.ndarray:
    """Non-China supply S[k,t] behind each row of a share family (the row's denominator), summed
    on the sets' (commodity, period) cell codes (model/formulation/sets.py Codes)."""
    ic = index_codes(lp.index)
    fl, codes = ic.flows, ic.codes
    x = sol.x[lp.cols("flow")]
    keep = ~fl.china_dest
    _, n_k, n_t = codes.sizes
    s = np.bincount((fl.k * n_t + fl.t)[keep], weights=x[keep], minlength=n_k * n_t)
    keys = lp.row_blocks[family].keys
    if not len(keys) or not len(s):
        return np.zeros(len(keys))
    at = codes.cell(keys["commodity"].to_numpy(), keys["period"].to_numpy())
    return np.where(at >= 0, s[np.maximum(at, 0)], 0.0)


def _rule_supply(lp, sol) -> np.ndarray:
    """|(max_china_content - 1) * supply| behind each content_rule row: the row's flow part."""
    rows, flows = lp.rows("content_rule"), lp.cols("flow")
    return np.abs(_rows_times(lp, rows, flows, sol.x))


def _rows_times(lp, rows: slice, cols: slice, x: np.ndarray) -> np.ndarray:
    """A[rows, cols] @ x[cols]: one family's rows times one variable family's values."""
    part = np.zeros(len(x))
    part[cols] = x[cols]
    return lp.A.row_range(rows.start, rows.stop) @ part


