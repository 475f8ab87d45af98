"""Explain why strict mode (--no-shortfall) is infeasible: what cannot be covered, and why.

Two questions, two tools:

* What cannot be covered, and by how much: an elastic re-solve of the same LP with shortfall
  allowed again at penalty 1 and every other cost 0, so it minimises the total unmet quantity.
  Every need left short there cannot be met by any plan (the amount is the least possible
  shortfall in total, so one need's amount may shift to another need in a tie).
* Which constraints, and so which input cells, are in conflict: HiGHS's irreducible infeasible
  subset (IIS) of the strict LP where HiGHS finds one in time: remove any one of its rows and
  bounds and that conflict disappears. Where it does not (too large, timed out, failed), the
  constraints with non-zero duals in the elastic re-solve: the capacity, China-cap, ShareLimits, Stocks, Projects
  and route limits whose relaxation would shrink the shortfall, and the demands that compete
  for the same supply. An IIS describes one conflict; needs it does not touch are explained
  by the elastic duals too.

`explain_infeasible(data, lp)` returns one row per finding, with a plain sentence in
`explanation` and the cell it comes from in `sheet` and `row` (Excel row numbers).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from model.content_tables import CONTENT_FAMILIES, content_conflict
from model.data import InputData
from model.formulation.families import FAMILIES
from model.formulation.lp import LP

TOL = 1e-7  # shortfalls and duals smaller than this are solver noise
IIS_MAX_NONZEROS = 20_000  # larger LPs skip HiGHS's full IIS search (it solves many LPs)
IIS_SKIP_NONZEROS = 2_000_000  # beyond this even HiGHS's light IIS (one more solve) is skipped
IIS_TIME_LIMIT_S = 2.0
IIS_IRREDUCIBLE = 3  # HighsIis.status_ kIisModelStatusIrreducible (highspy does not bind the enum)

COLUMNS = ["kind", "constraint", "sheet", "row", "commodity", "period", "country", "quantity",
           "method", "detail", "explanation"]
ELASTIC = "elastic re-solve"
IIS = "HiGHS IIS"


def explain_infeasible(data: InputData, lp: LP, *, use_iis: bool = True) -> pd.DataFrame:
    """One row per need that cannot be covered (kind "cannot_cover") and per constraint in
    conflict (kind "in_conflict"), most important first; see the module docstring."""
    units = _units(data)
    elastic = _solve_elastic(lp)
    if elastic is None:
        return _frame([_row("unknown", "", "", None, None, None, None, None, ELASTIC,
                            "the elastic re-solve did not finish",
                            "No plan meets all demand, and the diagnosis re-solve did not finish, "
                            "so what cannot be covered is unknown.")])
    x, u, row_dual, col_dual = elastic
    found = _cannot_cover(data, lp, u, units)
    short_pairs = {(r["commodity"], r["period"]) for r in found}
    conflicts: list[dict] = []
    short = set(np.flatnonzero(u > TOL).tolist())
    if use_iis and lp.A.nnz <= IIS_SKIP_NONZEROS:
        conflicts = _iis_conflicts(lp, units, short)
    explained = {(r["commodity"], r["period"]) for r in conflicts}
    rest = short_pairs - explained
    if rest or not conflicts:
        extra = _dual_conflicts(lp, u, row_dual, col_dual, units)
        conflicts += [r for r in extra if not conflicts or (r["commodity"], r["period"]) in rest]
    return _frame(found + _dedupe(conflicts))


# ---------------------------------------------------------------------- elastic re-solve


def elastic_lp(lp: LP) -> LP:
    """The same rows with shortfall allowed at cost 1 and every flow free: min total shortfall."""
    c = np.zeros_like(lp.c)
    upper = lp.upper.copy()
    short = lp.cols("shortfall")
    c[short] = 1.0
    upper[short] = np.inf
    return replace(lp, c=c, upper=upper)


def _solve_elastic(lp: LP):
    from model.solve.highs import HighsSession
    from model.status import Status

    sol = HighsSession(time_limit_s=None).solve(elastic_lp(lp))
    if sol.status != Status.OPTIMAL or sol.x is None:
        return None
    m, n = lp.shape
    row_dual = sol.row_dual if sol.row_dual is not None else np.zeros(m)
    col_dual = sol.col_dual if sol.col_dual is not None else np.zeros(n)
    return sol.x[lp.cols("flow")], sol.x[lp.cols("shortfall")], row_dual, col_dual


def _cannot_cover(data: InputData, lp: LP, u: np.ndarray, units: dict) -> list[dict]:
    ix = lp.index
    needs = ix.needs
    reachable = np.zeros(len(needs), dtype=bool)
    f = ix.flows
    open_flow = f["route_max"].to_numpy() > 0
    reachable[f.loc[open_flow, "need_id"].to_numpy()] = True
    out = []
    for i in np.flatnonzero(u > TOL):
        n = needs.iloc[i]
        k, t, d, q = n["commodity"], int(n["period"]), n["country"], float(u[i])
        unit = units.get(k, "")
        no_supplier = not reachable[i]
        if int(n["row"]) >= 0:
            sheet, row = "Demand", int(n["row"])
            demand = float(n["quantity"])
            what = f"Demand for {_q(demand, unit)} of {k} in {d} in {t} (Demand row {row})"
            detail = f"short {_fmt(q)} of {_fmt(demand)}"
        else:
            sheet, row = "Recipes", _recipe_row(ix, d, k, t)
            where = f" (Recipes row {row})" if row is not None else ""
            what = f"{k} needed in {d} in {t} as an input to production there{where}"
            detail = f"short {_fmt(q)}"
        if no_supplier:
            why = f"no supplier can ship {k} to {d} in {t} (no Supply row, or every route there is blocked)"
            sentence = f"{what} cannot be met at all: {why}."
            detail += "; no supplier can reach it"
        else:
            sentence = f"{what} cannot be fully met: the best possible plan leaves {_q(q, unit)} short."
        out.append(_row("cannot_cover", "demand" if sheet == "Demand" else "recipe_input", sheet, row,
                        k, t, d, q, ELASTIC, detail, sentence))
    out.sort(key=lambda r: (r["period"], r["commodity"], r["country"]))
    return out


def _recipe_row(ix, d: str, k: str, t: int) -> int | None:
    """The first Recipes row consuming k whose output d produces in t."""
    r = ix.recipes
    made = set(ix.supply.loc[(ix.supply["country"] == d) & (ix.supply["period"] == t), "commodity"])
    rows = r.loc[(r["input"] == k) & r["output"].isin(made), "row"]
    return int(rows.min()) if len(rows) else None


def _dual_conflicts(lp: LP, u: np.ndarray, row_dual: np.ndarray, col_dual: np.ndarray,
                    units: dict) -> list[dict]:
    out: list[dict] = []
    for family, fam in FAMILIES.items():  # the registry: capacity, caps, share limits, stocks, projects
        if family == "balance":
            continue
        if fam.is_bound:  # a limit held as a column bound: its price is the reduced cost there
            if fam.column not in lp.var_blocks:
                continue
            dual = col_dual[lp.cols(fam.column)]
            at = np.isfinite(lp.upper[lp.cols(fam.column)]) & (dual < -TOL)
            out += [_describe_row(lp, family, int(i), units, ELASTIC) for i in np.flatnonzero(at)]
            continue
        if family not in lp.row_blocks:
            continue
        dual = row_dual[lp.rows(family)]
        for i in np.flatnonzero(np.abs(dual) > TOL):
            out.append(_describe_row(lp, family, int(i), units, ELASTIC))
    # route limits: flows at a finite upper bound whose reduced cost says more would help
    f = lp.index.flows
    dual = col_dual[lp.cols("flow")]
    limited = np.isfinite(f["route_max"].to_numpy()) & (f["route_row"].to_numpy() >= 0)
    for j in np.flatnonzero(limited & (np.abs(dual) > TOL)):
        out.append(_describe_route(lp, int(j), units, ELASTIC))
    return out


# ---------------------------------------------------------------------- IIS


def _iis_conflicts(lp: LP, units: dict, short: set[int]) -> list[dict]:
    """The strict LP's IIS as findings, or [] when HiGHS does not prove one irreducible in time.

    HiGHS's light strategy (bound and activity checks, instant) first; when that finds nothing
    and the LP is small, the full irreducible search under IIS_TIME_LIMIT_S.
    """
    try:
        import highspy

        from model.solve.highs import HighsSession

        session = HighsSession()
        session.load(lp)
        h = session.h
        h.setOptionValue("time_limit", IIS_TIME_LIMIT_S)
        h.setOptionValue("iis_time_limit", IIS_TIME_LIMIT_S)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
            return []
        strategies = [int(highspy.IisStrategy.kIisStrategyLight)]
        if lp.A.nnz <= IIS_MAX_NONZEROS:
            strategies.append(int(highspy.IisStrategy.kIisStrategyIrreducible))
        for strategy in strategies:
            h.setOptionValue("iis_strategy", strategy)
            status, iis = h.getIis()
            found = (status != highspy.HighsStatus.kError and iis.valid_ and iis.status_ == IIS_IRREDUCIBLE
                     and len(iis.row_index_) + len(iis.col_index_) > 0)
            if found:
                break
        if not found:
            return []
        rows = list(iis.row_index_)
        cols = list(iis.col_index_)
        col_bound = list(iis.col_bound_)
    except Exception:  # an IIS is a bonus: the elastic duals still explain the conflict
        return []
    out: list[dict] = []
    starts = sorted(lp.row_start.items(), key=lambda kv: kv[1])
    for r in rows:
        family = next(name for name, start in reversed(starts) if r >= start)
        out.append(_describe_row(lp, family, r - lp.row_start[family], units, IIS, short))
    flow = lp.cols("flow")
    upper = int(highspy.IisBoundStatus.kIisBoundStatusUpper)
    boxed = int(highspy.IisBoundStatus.kIisBoundStatusBoxed)
    stock = lp.cols("stock") if "stock" in lp.var_blocks else slice(0, 0)
    for c, b in zip(cols, col_bound, strict=False):
        # flow upper bounds are route limits; x >= 0 and strict mode's u = 0 are no input cells
        if flow.start <= c < flow.stop and int(b) in (upper, boxed):
            j = c - flow.start
            if lp.index.flows.iloc[j]["route_row"] >= 0:
                out.append(_describe_route(lp, j, units, IIS))
        elif stock.start <= c < stock.stop and int(b) in (upper, boxed):  # Stocks.capacity
            out.append(_describe_row(lp, "stock_capacity", c - stock.start, units, IIS))
    return out


# ---------------------------------------------------------------------- sentences


def _describe_row(lp: LP, family: str, i: int, units: dict, method: str,
                  short: set[int] = frozenset()) -> dict:
    if family in CONTENT_FAMILIES:  # issue 13: ContentRules and the clean stream
        return content_conflict(lp, family, i, method)
    if family in PLANNING_FAMILIES:  # issue 12: Stocks and Projects
        return _describe_planning(lp, family, i, units, method)
    key = lp.row_blocks[family].keys.iloc[i]
    k, t = key["commodity"], int(key["period"])
    unit = units.get(k, "")
    if family == "capacity" and isinstance(key.get("project"), str):  # a project's own supply
        ps = lp.index.keys["project_supply"]
        at = np.flatnonzero((ps["project"] == key["project"]).to_numpy() & (ps["period"] == t).to_numpy())
        if len(at):
            return _describe_planning(lp, "project_capacity", int(at[0]), units, method)
    if family == "capacity":
        cap, o, row = float(key["capacity"]), key["country"], int(key["row"])
        return _row("in_conflict", "capacity", "Supply", row, k, t, o, cap, method, f"capacity {_fmt(cap)}",
                    f"Supply row {row}: {o} can produce at most {_q(cap, unit)} of {k} in {t}, "
                    "and more is needed.")
    if family == "balance":
        d, q, row = key["country"], float(key["quantity"]), int(key["row"])
        if row < 0:
            rrow = _recipe_row(lp.index, d, k, t)
            return _row("in_conflict", "recipe_input", "Recipes", rrow, k, t, d, None, method,
                        "input to production",
                        f"Recipes row {rrow}: making its output in {d} in {t} consumes {k}, "
                        "which competes for the same supply.")
        tail = "." if i in short else ", which competes for the same supply."
        return _row("in_conflict", "demand", "Demand", row, k, t, d, q, method, f"demand {_fmt(q)}",
                    f"Demand row {row}: {d} needs {_q(q, unit)} of {k} in {t}{tail}")
    if family == "china_cap":
        cap, row = float(key["china_cap"]), int(key["row"])
        return _row("in_conflict", "china_cap", "Commodities", row, k, t, None, cap, method,
                    f"china_cap {_pct(cap)}",
                    f"Commodities row {row}: the China cap of {_pct(cap)} on {k} in {t} "
                    "limits how much the China group may supply.")
    source, row = key["source"], int(key["limit_row"])
    if family == "share_min":
        share = float(key["min_share"])
        return _row("in_conflict", "share_min", "ShareLimits", row, k, t, source, share, method,
                    f"min_share {_pct(share)}",
                    f"ShareLimits row {row}: {source} must supply at least {_pct(share)} of {k} "
                    f"in {t}, which limits what the others may add.")
    share = float(key["max_share"])
    return _row("in_conflict", "share_max", "ShareLimits", row, k, t, source, share, method,
                f"max_share {_pct(share)}",
                f"ShareLimits row {row}: {source} may supply at most {_pct(share)} of {k} in {t}.")


PLANNING_FAMILIES = ("stock_capacity", "stock_release", "project_capacity", "build_once")


def _describe_planning(lp: LP, family: str, i: int, units: dict, method: str) -> dict:
    """A finding for a Stocks or Projects limit, in the analyst's words, naming its Excel row."""
    pn = lp.index.numbers.planning
    if family == "build_once":
        pr = lp.index.keys["projects"].iloc[i]
        p, k, o, row = pr["project"], pr["commodity"], pr["country"], int(pr["row"])
        cap = float(pn.capacity[i])
        return _row("in_conflict", "build_once", "Projects", row, k, None, o, cap, method, "built at most once",
                    f"Projects row {row}: project {p} can be built once, adding at most "
                    f"{_q(cap, units.get(k, ''))} of {k} a period in {o}, and more is needed.")
    if family == "project_capacity":
        ps = lp.index.keys["project_supply"].iloc[i]
        p, k, o, t, row = ps["project"], ps["commodity"], ps["country"], int(ps["period"]), int(ps["project_row"])
        cap = float(pn.capacity[int(ps["project_id"])])
        return _row("in_conflict", "project_capacity", "Projects", row, k, t, o, cap, method,
                    f"capacity {_fmt(cap)}",
                    f"Projects row {row}: project {p} in {o} can produce at most {_q(cap, units.get(k, ''))} "
                    f"of {k} in {t} once built, and more is needed.")
    st = lp.index.keys["stocks"].iloc[i]
    k, d, t, row = st["commodity"], st["country"], int(st["period"]), int(st["stock_row"])
    unit = units.get(k, "")
    if family == "stock_release":
        cap = float(pn.max_release[i])
        return _row("in_conflict", "stock_release", "Stocks", row, k, t, d, cap, method, f"max_release {_fmt(cap)}",
                    f"Stocks row {row}: at most {_q(cap, unit)} of the {k} stock in {d} may be drawn in {t}, "
                    "and more is needed.")
    cap = float(pn.stock_capacity[i])
    return _row("in_conflict", "stock_capacity", "Stocks", row, k, t, d, cap, method, f"capacity {_fmt(cap)}",
                f"Stocks row {row}: the {k} stock in {d} may hold at most {_q(cap, unit)} at the end of {t}, "
                "and more must be carried into later periods.")


def _describe_route(lp: LP, j: int, units: dict, method: str) -> dict:
    fl = lp.index.flows.iloc[j]
    k, t, o, d = fl["commodity"], int(fl["period"]), fl["origin"], fl["destination"]
    cap, row = float(fl["route_max"]), int(fl["route_row"])
    if cap <= 0:
        sentence = f"Routes row {row}: the route {o} -> {d} is blocked for {k} (max_quantity 0)."
    else:
        sentence = (f"Routes row {row}: the route {o} -> {d} may carry at most "
                    f"{_q(cap, units.get(k, ''))} of {k} in {t}.")
    return _row("in_conflict", "route_limit", "Routes", row, k, t, f"{o}->{d}", cap, method,
                f"max_quantity {_fmt(cap)}", sentence)


def _row(kind, constraint, sheet, row, commodity, period, country, quantity, method, detail,
         explanation) -> dict:
    return {"kind": kind, "constraint": constraint, "sheet": sheet, "row": row, "commodity": commodity,
            "period": period, "country": country, "quantity": quantity, "method": method,
            "detail": detail, "explanation": explanation}


def _dedupe(rows: list[dict]) -> list[dict]:
    """One finding per cell and (commodity, period, country); IIS findings first, in sheet order."""
    order = {"Supply": 0, "Routes": 1, "Commodities": 2, "ShareLimits": 3, "Stocks": 4, "Projects": 5,
             "Demand": 6, "Recipes": 7}
    seen, out = set(), []
    for r in sorted(rows, key=lambda r: (r["method"] != IIS, order.get(r["sheet"], 9),
                                         r["row"] if r["row"] is not None else -1,
                                         r["period"] if r["period"] is not None else -1)):
        key = (r["sheet"], r["row"], r["commodity"], r["period"], r["country"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def _frame(rows: list[dict]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["row"] = out["row"].astype("Int64")
    out["period"] = out["period"].astype("Int64")
    return out


def _units(data: InputData) -> dict:
    com = data["Commodities"]
    if "unit" not in com:
        return {}
    return {c: (str(u) if isinstance(u, str) and u.strip() else "") for c, u in zip(com["code"], com["unit"],
                                                                                     strict=True)}


def _fmt(q: float) -> str:
    return f"{q:,.6g}"


def _q(q: float, unit: str) -> str:
    return f"{_fmt(q)} {unit}".strip()


def _pct(share: float) -> str:
    return f"{100 * share:.4g}%"
