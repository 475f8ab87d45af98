"""The row families of the LP, named once: their key columns, the input sheet a row comes from, the
words an analyst reads, and the one test of whether a row binds.

Marginals, sensitivity, diagnosis, highlighting and the printout all read this registry, so a
cap that one sheet calls binding is binding on every sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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
)}
SHARE_FAMILIES = ("china_cap", "share_min", "share_max")  # rows on a source's share of non-China supply
PERCENT_FAMILIES = (*SHARE_FAMILIES, "content_rule")  # rows whose limit is a share (shown as %)


def binding(lp, sol, family: str) -> np.ndarray:
    """The one definition of "binding": the row sits at its bound (within TIGHT_TOL of the largest
    flow) or carries a non-zero dual. Share rows whose supply is zero bind nothing (0 <= 0 holds
    trivially), so they are binding only when their dual says so."""
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
    return at_bound | dual


def _share_supply(lp, sol, family: str) -> np.ndarray:
    """Non-China supply S[k,t] behind each row of a share family (the row's denominator)."""
    ix = lp.index
    f = ix.keys["flows"]
    x = sol.x[lp.cols("flow")]
    keep = ~f["china_dest"].to_numpy()
    tot = ix.structural("families.supply_cell", lambda: _cells(f))
    s = np.bincount(tot["cell"][keep], weights=x[keep], minlength=tot["n"])
    keys = lp.row_blocks[family].keys
    if not len(keys) or not len(s):
        return np.zeros(len(keys))
    at = tot["cells"].get_indexer(pd.MultiIndex.from_arrays([keys["period"].to_numpy(),
                                                              keys["commodity"].to_numpy()]))
    return np.where(at >= 0, s[np.maximum(at, 0)], 0.0)


def _rule_supply(lp, sol) -> np.ndarray:
    """|(max_china_content - 1) * supply| behind each content_rule row: the row's flow part."""
    rows, flows = lp.rows("content_rule"), lp.cols("flow")
    part = lp.A[rows.start:rows.stop][:, flows.start:flows.stop] @ sol.x[flows]
    return np.abs(np.asarray(part).ravel())


def _cells(flows) -> dict:
    """Each flow's (period, commodity) cell, vectorised (no Python loop over flows)."""
    cell, cells = pd.MultiIndex.from_arrays([flows["period"].to_numpy(), flows["commodity"].to_numpy()]).factorize()
    return {"cell": np.asarray(cell, dtype=np.int64), "n": len(cells), "cells": cells}
