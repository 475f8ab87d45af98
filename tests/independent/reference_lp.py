"""The sourcing LP re-implemented from the written contract, solved with scipy's linprog.

Nothing here imports the `model` package: the input workbook is read with openpyxl directly
(well-formed input is assumed) and the LP is assembled as sparse matrices by hand, so agreement
with the engine is evidence that both follow the spec, not that they share a bug.

Contract (README / task spec):
    T  periods: every year named in Supply, Demand or ShareLimits
    S  supplies (o,k,t); a Supply row with a period beats a blank-period row (same o,k)
    N  nodes (d,k,t): a Demand row for k in t, or d has a Supply row in t for some k' using k
    x[o,d,k,t] >= 0 for (o,k,t) in S, (d,k,t) in N, o == d or the route o->d is allowed for k
    u[d,k,t] >= 0 for every node
    capacity   sum_d x[o,d,k,t] <= capacity[o,k,t]
    balance    sum_o x[o,d,k,t] + u[d,k,t] = demand[d,k,t] + sum_k' r[k',k] * sum_d' x[d,d',k',t]
    route      x <= max_quantity (0 blocks; unlisted_routes=blocked drops unlisted pairs)
    china cap  sum_{o in C, d not in C} x <= cap[k] * sum_{o, d not in C} x       (each k with a cap, t)
    shares     min * S <= sum_{o in source, d not in C} x <= max * S                (each row, k, t)
               source `each`: one such row per origin o with a Supply row for (k, t), source = {o}
    objective  sum x * (unit_cost + route_cost + risk_weight * risk[o]) + sum u * penalty[k]

Stocks and Projects (issue 12):
    s[d,k,t] in [0, capacity]  stock at the end of t; balance at (d,k,t) gains s[t-1] - s[t]
                               (s before the first period = initial; the node exists for every t)
    s[t-1] - s[t] <= max_release;  objective + holding_cost * s
    b[p,tau] in [0,1] (integer if build = binary), tau >= first_period (blank: first period)
    y[p,d,t] >= 0 output of project p (country o, commodity k) shipped to d in t >= first_period,
             a supply like any other (routes, recipes, caps, shares), cost unit_cost[p] + route cost
    sum_d y[p,d,t] <= capacity[p] * sum_{tau <= t} b[p,tau];  sum_tau b[p,tau] <= 1
    objective + (capex * capacity + fixed_cost) * b
China content (issue 13, ContentRules): a unit is clean when no stage of its chain ran in C.
    R  each rule's commodity and every upstream tier of its Recipes
    xc[f] >= 0 for each flow f = (o,d,k,t) with k in R and o not in C (a China-group origin: none)
    xc[f] <= x[f]
    sum_k r[k,k'] * sum_d xc[o,d,k,t] <= sum_o' xc[o',o,k',t]        (each o, input k', t)
    sum_{d in D} xc[o,d,k,t] >= (1 - max_china_content) * sum_{d in D} x[o,d,k,t]   (each rule, t)
    D: the rule's destination country, its group's countries, or (blank) every country outside C;
    a rule row naming the period replaces a blank-period row of the same commodity and destination.
    Stocks as pooled inventories: sc[d,k',t] >= 0 for each stock outside C of an input k' that
    clean production at d uses (in any period), every period; sc <= s; the clean-input row of
    (d,k',t), which then exists in every period, gains + sc[t] - sc[t-1] (sc before the first
    period = 0: an initial stock's chain is unknown).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import scipy.sparse as sp
from scipy.optimize import linprog

INF = math.inf


# ----------------------------------------------------------------------------- reading


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def _code(v: Any) -> str | None:
    if _blank(v):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _num(v: Any) -> float | None:
    return None if _blank(v) else float(v)


def _or(row: dict[str, Any], name: str, default: float) -> float:
    """A number of `row`, or `default` when the cell is blank."""
    v = _num(row.get(name))
    return default if v is None else v


def _period(v: Any) -> int | None:
    return None if _blank(v) else int(float(v))


def read_rows(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    """Every sheet as a list of row dicts; sheet and column names lower-cased and stripped."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        out: dict[str, list[dict[str, Any]]] = {}
        for ws in wb.worksheets:
            rows = list(ws.iter_rows(values_only=True))
            if not rows:
                out[ws.title.strip().lower()] = []
                continue
            header = [None if _blank(h) else str(h).strip().lower() for h in rows[0]]
            body = []
            for r in rows[1:]:
                if r is None or all(_blank(v) for v in r):
                    continue
                body.append({h: v for h, v in zip(header, r, strict=False) if h is not None})
            out[ws.title.strip().lower()] = body
        return out
    finally:
        wb.close()


@dataclass
class Spec:
    """The input workbook, resolved per the contract (wildcards expanded, defaults applied)."""

    periods: list[int]
    countries: dict[str, dict[str, Any]]  # code -> {group, risk}
    china: set[str]
    commodities: list[str]
    china_cap: dict[str, float]  # only commodities with a cap
    penalty: dict[str, float]
    risk_weight: float
    supply: dict[tuple[str, str, int], tuple[float, float]]  # (o,k,t) -> (capacity, unit_cost)
    demand: dict[tuple[str, str, int], float]
    recipes: dict[tuple[str, str], float]  # (output, input) -> quantity
    nodes: list[tuple[str, str, int]]
    routes_generic: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    routes_specific: dict[tuple[str, str, str], tuple[float, float]] = field(default_factory=dict)
    unlisted_blocked: bool = False
    limits: list[dict[str, Any]] = field(default_factory=list)  # expanded: k, t, members, min, max
    stocks: dict[tuple[str, str], dict[str, float]] = field(default_factory=dict)  # (d, k) -> numbers
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> country, commodity, ...

    def project_periods(self, p: str) -> list[int]:
        return [t for t in self.periods if t >= self.projects[p]["first"]]
    content_rules: list[dict[str, Any]] = field(default_factory=list)  # expanded: k, t, members, max

    def route(self, o: str, d: str, k: str) -> tuple[bool, float, float]:
        """(allowed, cost per unit, max quantity) of shipping k from o to d."""
        if o == d:
            return True, 0.0, INF
        row = self.routes_specific.get((o, d, k)) or self.routes_generic.get((o, d))
        if row is None:
            return (not self.unlisted_blocked), 0.0, INF
        cost, mx = row
        if mx <= 0:
            return False, cost, 0.0
        return True, cost, mx

    def flows(self) -> list[tuple[str, str, str, int]]:
        """Every allowed flow (o, d, k, t), in a deterministic order."""
        by_kt: dict[tuple[str, int], list[str]] = {}
        for d, k, t in self.nodes:
            by_kt.setdefault((k, t), []).append(d)
        out = []
        for o, k, t in sorted(self.supply):
            for d in sorted(by_kt.get((k, t), [])):
                if self.route(o, d, k)[0]:
                    out.append((o, d, k, t))
        return out

    def recipe_users(self, k: str) -> list[tuple[str, float]]:
        """(output k', quantity) for every recipe consuming k."""
        return [(out, q) for (out, inp), q in sorted(self.recipes.items()) if inp == k]


def _expand(rows: list[dict[str, Any]], periods: list[int], value) -> dict[tuple[str, str, int], Any]:
    """(country, commodity, period) -> value; a row naming the period wins over a blank one."""
    specific: dict[tuple[str, str, int], Any] = {}
    generic: dict[tuple[str, str], Any] = {}
    for r in rows:
        c, k, t = _code(r.get("country")), _code(r.get("commodity")), _period(r.get("period"))
        if t is None:
            generic[(c, k)] = value(r)
        else:
            specific[(c, k, t)] = value(r)
    out = dict(specific)
    for (c, k), v in generic.items():
        for t in periods:
            out.setdefault((c, k, t), v)
    return out


def read_spec(path: str | Path) -> Spec:
    sheets = read_rows(path)
    get = lambda name: sheets.get(name.lower(), [])  # noqa: E731

    settings: dict[str, Any] = {}
    for r in get("Settings"):
        name = _code(r.get("setting"))
        if name is not None and not _blank(r.get("value")):
            settings[name.lower()] = r.get("value")
    china_group = str(settings.get("china_group", "China")).strip()
    unlisted = str(settings.get("unlisted_routes", "allowed")).strip().lower()
    risk_weight = float(settings.get("risk_weight", 0) or 0)

    countries: dict[str, dict[str, Any]] = {}
    for r in get("Countries"):
        code = _code(r.get("code"))
        group = r.get("group")
        countries[code] = {
            "group": None if _blank(group) else str(group).strip(),
            "risk": _num(r.get("risk")) or 0.0,
        }
    china = {c for c, v in countries.items() if v["group"] == china_group}

    periods: set[int] = set()
    for name in ("Supply", "Demand", "ShareLimits"):
        for r in get(name):
            t = _period(r.get("period"))
            if t is not None:
                periods.add(t)
    T = sorted(periods)

    supply = _expand(get("Supply"), T, lambda r: (float(r["capacity"]), float(r["unit_cost"])))
    demand = _expand(get("Demand"), T, lambda r: float(r["quantity"]))

    recipes: dict[tuple[str, str], float] = {}
    for r in get("Recipes"):
        recipes[(_code(r["output"]), _code(r["input"]))] = float(r["quantity"])

    routes_generic: dict[tuple[str, str], tuple[float, float]] = {}
    routes_specific: dict[tuple[str, str, str], tuple[float, float]] = {}
    route_costs: list[float] = []
    for r in get("Routes"):
        o, d, k = _code(r.get("origin")), _code(r.get("destination")), _code(r.get("commodity"))
        cost = _num(r.get("cost_per_unit"))
        mx = _num(r.get("max_quantity"))
        if cost is not None:
            route_costs.append(cost)
        val = (cost or 0.0, INF if mx is None else mx)
        if k is None:
            routes_generic[(o, d)] = val
        else:
            routes_specific[(o, d, k)] = val

    # default penalty: 1000 x the largest of 1 and every unit or route cost in the workbook
    unit_costs = [float(r["unit_cost"]) for r in get("Supply") if not _blank(r.get("unit_cost"))]
    if "shortfall_penalty" in settings:
        default_penalty = float(settings["shortfall_penalty"])
    else:
        default_penalty = 1000.0 * max([1.0, *unit_costs, *route_costs])

    commodities: list[str] = []
    china_cap: dict[str, float] = {}
    penalty: dict[str, float] = {}
    for r in get("Commodities"):
        k = _code(r.get("code"))
        commodities.append(k)
        cap = _num(r.get("china_cap"))
        if cap is not None:
            china_cap[k] = cap
        p = _num(r.get("shortfall_penalty"))
        penalty[k] = default_penalty if p is None else p

    stocks: dict[tuple[str, str], dict[str, float]] = {}
    for r in get("Stocks"):
        stocks[(_code(r["country"]), _code(r["commodity"]))] = {
            "initial": _or(r, "initial", 0.0), "capacity": _or(r, "capacity", INF),
            "holding_cost": _or(r, "holding_cost", 0.0), "max_release": _or(r, "max_release", INF)}
    projects: dict[str, dict[str, Any]] = {}
    for r in get("Projects"):
        first = _period(r.get("first_period"))
        projects[_code(r["project"])] = {
            "country": _code(r["country"]), "commodity": _code(r["commodity"]),
            "first": T[0] if first is None else first, "capacity": float(r["capacity"]),
            "unit_cost": float(r["unit_cost"]), "capex": _num(r.get("capex")) or 0.0,
            "fixed_cost": _num(r.get("fixed_cost")) or 0.0,
            "binary": str(r.get("build") or "continuous").strip().lower() == "binary"}

    # nodes: Demand rows, plus recipe inputs of every (country, output, period) with a Supply row
    # or a project that may produce then, plus every stock's (d, k, t)
    node_set = set(demand)
    producers = set(supply) | {(v["country"], v["commodity"], t) for v in projects.values() for t in T
                               if t >= v["first"]}
    for (c, k, t) in producers:
        for (out, inp) in recipes:
            if out == k:
                node_set.add((c, inp, t))
    for (d, k) in stocks:
        for t in T:
            node_set.add((d, k, t))
    nodes = sorted(node_set, key=lambda n: (n[1], n[2], n[0]))

    limits: list[dict[str, Any]] = []
    for r in get("ShareLimits"):
        src = _code(r.get("source"))
        members = {src} if src in countries else {c for c, v in countries.items() if v["group"] == src}
        k0, t0 = _code(r.get("commodity")), _period(r.get("period"))
        for k in commodities if k0 is None else [k0]:
            for t in T if t0 is None else [t0]:
                # `each`: one limit per country with a Supply row for (k, t), that country alone
                sources = sorted(o for (o, kk, tt) in supply if (kk, tt) == (k, t)) if src == "each" else [src]
                for one in sources:
                    limits.append({"commodity": k, "period": t, "source": one,
                                   "members": {one} if src == "each" else members,
                                   "min_share": _num(r.get("min_share")),
                                   "max_share": _num(r.get("max_share"))})

    content_rules: list[dict[str, Any]] = []
    rule_rows = get("ContentRules")
    dated = {(_code(r.get("commodity")), _code(r.get("destination")), _period(r.get("period")))
             for r in rule_rows if _period(r.get("period")) is not None}
    for r in rule_rows:
        k, dest, t0 = _code(r.get("commodity")), _code(r.get("destination")), _period(r.get("period"))
        if dest is None:
            members = {c for c in countries if c not in china}
        elif dest in countries:
            members = {dest}
        else:
            members = {c for c, v in countries.items() if v["group"] == dest}
        for t in T if t0 is None else [t0]:
            if t0 is None and (k, dest, t) in dated:
                continue
            content_rules.append({"commodity": k, "period": t, "destination": dest, "members": members,
                                  "max": float(r["max_china_content"])})

    return Spec(
        periods=T, countries=countries, china=china, commodities=commodities, china_cap=china_cap,
        penalty=penalty, risk_weight=risk_weight, supply=supply, demand=demand, recipes=recipes,
        nodes=nodes, routes_generic=routes_generic, routes_specific=routes_specific,
        unlisted_blocked=(unlisted == "blocked"), limits=limits, stocks=stocks, projects=projects,
        content_rules=content_rules,
    )


def upstream(spec: Spec, commodities) -> set[str]:
    """The commodities and every upstream tier of their Recipes."""
    seen: set[str] = set()
    todo = list(commodities)
    while todo:
        k = todo.pop()
        if k in seen:
            continue
        seen.add(k)
        todo.extend(inp for (out, inp) in spec.recipes if out == k)
    return seen


def clean_rows(spec: Spec, F: list[tuple[str, str, str, int]], reach: set[str],
               ST: list[tuple[str, str, int]] = ()) -> tuple[list[int], list[dict[int, float]], list[int]]:
    """The clean flows (positions in F), the clean-input rows, each {position in xc followed by sc:
    coefficient} with the row meaning `sum coef * (xc, sc) <= 0`, and the clean stocks (positions
    in ST; their sc follow the len(fc) clean flows)."""
    fc = [j for j, (o, _d, k, _t) in enumerate(F) if k in reach and o not in spec.china]
    rows: dict[tuple[str, str, int], dict[int, float]] = {}
    for c, j in enumerate(fc):
        o, _d, k, t = F[j]
        for (out, inp), q in spec.recipes.items():
            if out == k:
                rows.setdefault((o, inp, t), {})[c] = q
    made = {(o, k) for (o, k, _t) in rows}
    sc = [i for i, (d, k, _t) in enumerate(ST) if (d, k) in made and d not in spec.china]
    at = {ST[i]: n for n, i in enumerate(sc)}
    for n, i in enumerate(sc):  # + sc[t] - sc[t-1] in the clean-input row of (d, k, t)
        d, k, t = ST[i]
        row = rows.setdefault((d, k, t), {})
        row[len(fc) + n] = 1.0
        ti = spec.periods.index(t)
        if ti > 0:
            row[len(fc) + at[(d, k, spec.periods[ti - 1])]] = -1.0
    for c, j in enumerate(fc):
        _o, d, k, t = F[j]
        if (d, k, t) in rows:
            rows[(d, k, t)][c] = -1.0
    return fc, list(rows.values()), sc


# ----------------------------------------------------------------------------- the LP


@dataclass
class Reference:
    objective: float
    flows: dict[tuple[str, str, str, int], float]
    shortfalls: dict[tuple[str, str, int], float]
    status: int
    message: str
    project_flows: dict[tuple[str, str, int], float] = field(default_factory=dict)  # (p, d, t)
    stocks: dict[tuple[str, str, int], float] = field(default_factory=dict)  # (d, k, t) -> level
    builds: dict[tuple[str, int], float] = field(default_factory=dict)  # (p, tau) -> b


def reference_solve(input_xlsx: str | Path, *, relax: bool = False) -> Reference:
    """Solve the workbook's LP (a MIP with binary projects; `relax` drops integrality)."""
    spec = read_spec(input_xlsx)
    F = spec.flows()
    N = spec.nodes
    dests: dict[tuple[str, int], list[str]] = {}
    for d, k, t in N:
        dests.setdefault((k, t), []).append(d)
    FP = [(p, v["country"], d, v["commodity"], t) for p, v in sorted(spec.projects.items())
          for t in spec.project_periods(p) for d in sorted(dests.get((v["commodity"], t), []))
          if spec.route(v["country"], d, v["commodity"])[0]]
    ST = [(d, k, t) for (d, k) in sorted(spec.stocks) for t in spec.periods]
    B = [(p, t) for p in sorted(spec.projects) for t in spec.project_periods(p)]
    nf, nfp, nn, ns, nb = len(F), len(FP), len(N), len(ST), len(B)
    o_fp, o_u, o_s, o_b = nf, nf + nfp, nf + nfp + nn, nf + nfp + nn + ns
    nvar = o_b + nb
    if nvar == 0:
        return Reference(0.0, {}, {}, 0, "empty LP")
    node_id = {n: i for i, n in enumerate(N)}
    st_id = {s_: i for i, s_ in enumerate(ST)}
    # every flow as (origin, destination, commodity, period, column, unit cost)
    shipped = [(o, d, k, t, j, spec.supply[(o, k, t)][1]) for j, (o, d, k, t) in enumerate(F)]
    shipped += [(o, d, k, t, o_fp + j, spec.projects[p]["unit_cost"]) for j, (p, o, d, k, t) in enumerate(FP)]

    c = np.zeros(nvar)
    ub = np.full(nvar, np.inf)
    integrality = np.zeros(nvar)
    for o, d, k, _t, j, uc in shipped:
        _, rc, mx = spec.route(o, d, k)
        c[j] = uc + rc + spec.risk_weight * spec.countries.get(o, {}).get("risk", 0.0)
        ub[j] = mx
    for i, (_d, k, _t) in enumerate(N):
        c[o_u + i] = spec.penalty[k]
    for i, (d, k, _t) in enumerate(ST):
        c[o_s + i] = spec.stocks[(d, k)]["holding_cost"]
        ub[o_s + i] = spec.stocks[(d, k)]["capacity"]
    for i, (p, _t) in enumerate(B):
        v = spec.projects[p]
        c[o_b + i] = v["capex"] * v["capacity"] + v["fixed_cost"]
        ub[o_b + i] = 1.0
        integrality[o_b + i] = 1 if v["binary"] and not relax else 0

    # equality: balance (+ s[t-1] - s[t]; the initial stock moves to the right-hand side)
    er, ec, ev = [], [], []
    b_eq = np.array([spec.demand.get(n, 0.0) for n in N])
    for o, d, k, t, j, _uc in shipped:
        er.append(node_id[(d, k, t)]), ec.append(j), ev.append(1.0)
        # production of k at o consumes recipe inputs at o
        for (out, inp), q in spec.recipes.items():
            if out == k:
                er.append(node_id[(o, inp, t)]), ec.append(j), ev.append(-q)
    for i in range(nn):
        er.append(i), ec.append(o_u + i), ev.append(1.0)
    for i, (d, k, t) in enumerate(ST):
        er.append(node_id[(d, k, t)]), ec.append(o_s + i), ev.append(-1.0)
        ti = spec.periods.index(t)
        if ti == 0:
            b_eq[node_id[(d, k, t)]] -= spec.stocks[(d, k)]["initial"]
        else:
            er.append(node_id[(d, k, t)]), ec.append(o_s + st_id[(d, k, spec.periods[ti - 1])]), ev.append(1.0)
    A_eq = sp.csr_matrix((ev, (er, ec)), shape=(nn, nvar))

    # inequalities: capacity, china cap, share limits, stock release, project capacity, build once
    ur, uc, uv, b_ub = [], [], [], []
    row = 0
    for s_ in sorted(spec.supply):
        cols = [j for j, f in enumerate(F) if (f[0], f[2], f[3]) == s_]
        if not cols:
            continue
        for j in cols:
            ur.append(row), uc.append(j), uv.append(1.0)
        b_ub.append(spec.supply[s_][0])
        row += 1

    def share_row(k: str, t: int, members: set[str], share: float, sign: float) -> None:
        nonlocal row
        any_col = False
        for o, d, kk, tt, j, _uc in shipped:
            if kk == k and tt == t and d not in spec.china:
                ur.append(row), uc.append(j), uv.append(sign * ((1.0 if o in members else 0.0) - share))
                any_col = True
        if any_col:
            b_ub.append(0.0)
            row += 1

    for k, cap in spec.china_cap.items():
        for t in spec.periods:
            share_row(k, t, spec.china, cap, 1.0)
    for lim in spec.limits:
        if lim["max_share"] is not None:
            share_row(lim["commodity"], lim["period"], lim["members"], lim["max_share"], 1.0)
        if lim["min_share"] is not None:
            share_row(lim["commodity"], lim["period"], lim["members"], lim["min_share"], -1.0)
    for i, (d, k, t) in enumerate(ST):
        mx = spec.stocks[(d, k)]["max_release"]
        if math.isinf(mx):
            continue
        ti = spec.periods.index(t)
        ur.append(row), uc.append(o_s + i), uv.append(-1.0)
        if ti == 0:
            b_ub.append(mx - spec.stocks[(d, k)]["initial"])
        else:
            ur.append(row), uc.append(o_s + st_id[(d, k, spec.periods[ti - 1])]), uv.append(1.0)
            b_ub.append(mx)
        row += 1
    for p, v in sorted(spec.projects.items()):
        for t in spec.project_periods(p):
            for j, (pp, _o, _d, _k, tt) in enumerate(FP):
                if pp == p and tt == t:
                    ur.append(row), uc.append(o_fp + j), uv.append(1.0)
            for i, (pb, tau) in enumerate(B):
                if pb == p and tau <= t:
                    ur.append(row), uc.append(o_b + i), uv.append(-v["capacity"])
            b_ub.append(0.0)
            row += 1
        for i, (pb, _tau) in enumerate(B):
            if pb == p:
                ur.append(row), uc.append(o_b + i), uv.append(1.0)
        b_ub.append(1.0)
        row += 1
    # China content: clean columns after x and u, their rows appended to the inequalities
    fc, crow, sc = clean_rows(spec, F, upstream(spec, {r["commodity"] for r in spec.content_rules}), ST)
    if spec.content_rules:
        base = nvar
        nvar += len(fc) + len(sc)
        c = np.concatenate([c, np.zeros(len(fc) + len(sc))])
        ub = np.concatenate([ub, np.full(len(fc) + len(sc), np.inf)])
        integrality = np.concatenate([integrality, np.zeros(len(fc) + len(sc))])
        for i, j in enumerate(fc):  # xc - x <= 0
            ur.append(row), uc.append(base + i), uv.append(1.0)
            ur.append(row), uc.append(j), uv.append(-1.0)
            b_ub.append(0.0)
            row += 1
        for n, i in enumerate(sc):  # sc - s <= 0
            ur.append(row), uc.append(base + len(fc) + n), uv.append(1.0)
            ur.append(row), uc.append(o_s + i), uv.append(-1.0)
            b_ub.append(0.0)
            row += 1
        for coefs in crow:
            for i, q in coefs.items():
                ur.append(row), uc.append(base + i), uv.append(q)
            b_ub.append(0.0)
            row += 1
        where = {j: i for i, j in enumerate(fc)}
        for rule in spec.content_rules:  # (1 - max) x - xc <= 0 over the rule's flows
            sel = [j for j, (_o, d, k, t) in enumerate(F)
                   if k == rule["commodity"] and t == rule["period"] and d in rule["members"]]
            for j in sel:
                ur.append(row), uc.append(j), uv.append(1.0 - rule["max"])
                if j in where:
                    ur.append(row), uc.append(base + where[j]), uv.append(-1.0)
            if sel:
                b_ub.append(0.0)
                row += 1
        A_eq = sp.csr_matrix((A_eq.data, A_eq.indices, A_eq.indptr), shape=(nn, nvar))
    A_ub = sp.csr_matrix((uv, (ur, uc)), shape=(row, nvar)) if row else None

    res = linprog(
        c, A_ub=A_ub, b_ub=np.array(b_ub) if row else None, A_eq=A_eq if nn else None,
        b_eq=b_eq if nn else None, bounds=list(zip(np.zeros(nvar), ub, strict=True)), method="highs",
        integrality=integrality if integrality.any() else None,
        # a MIP solved to a zero gap: the reference is the optimum itself, so an engine plan may
        # match it within the engine's own MIP gap but never beat it
        options={"mip_rel_gap": 0.0} if integrality.any() else None,
    )
    if res.status != 0:
        raise RuntimeError(f"reference LP not solved: {res.message}")
    x = res.x
    return Reference(
        objective=float(res.fun),
        flows={f: float(x[j]) for j, f in enumerate(F)},
        shortfalls={n: float(x[o_u + i]) for i, n in enumerate(N)},
        status=res.status,
        message=res.message,
        project_flows={(p, d, t): float(x[o_fp + j]) for j, (p, _o, d, _k, t) in enumerate(FP)},
        stocks={n: float(x[o_s + i]) for i, n in enumerate(ST)},
        builds={b: float(x[o_b + i]) for i, b in enumerate(B)},
    )


def reference_optimum(input_xlsx: str | Path) -> float:
    """The optimal objective (costs + risk term + shortfall penalties) of the workbook's LP."""
    return reference_solve(input_xlsx).objective
