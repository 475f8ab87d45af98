"""Verify a plan workbook against its input workbook, from the contract alone (no `model` import).

`check_plan(input_xlsx, plan_xlsx)` returns a list of human-readable violations; empty means the
plan is feasible for the LP of the input workbook and its reported costs add up.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from tests.independent.reference_lp import (
    Spec,
    _blank,
    _code,
    _num,
    _period,
    clean_rows,
    read_rows,
    read_spec,
    upstream,
)

Flow = tuple[str, str, str, int]  # origin, destination, commodity, period


def _close(a: float, b: float, tol: float, scale: float = 1.0) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b), scale)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {str(r.get("metric")).strip(): r.get("value") for r in rows if not _blank(r.get("metric"))}


def check_plan(input_xlsx: str | Path, plan_xlsx: str | Path, tol: float = 1e-6) -> list[str]:
    spec = read_spec(input_xlsx)
    plan = read_rows(plan_xlsx)
    v: list[str] = []

    for sheet in ("summary", "flows"):
        if sheet not in plan:
            v.append(f"plan has no {sheet.capitalize()} sheet")
    if v:
        return v

    # ---------------------------------------------------------------- projects and stocks (issue 12)
    online, investment = _check_projects(spec, plan.get("projects", []), tol, v)
    level, holding = _check_stocks(spec, plan.get("stocks", []), tol, v)

    # ---------------------------------------------------------------- flows: where and how much
    x: dict[Flow, float] = defaultdict(float)
    node_set = set(spec.nodes)
    cost_sum = 0.0
    cost_scale = 0.0
    seen: dict[Flow, int] = {}
    for i, r in enumerate(plan["flows"], start=2):
        o, d, k = _code(r.get("origin")), _code(r.get("destination")), _code(r.get("commodity"))
        t = _period(r.get("period"))
        q = _num(r.get("quantity"))
        where = f"Flows row {i} ({o}->{d}, {k}, {t})"
        if q is None:
            v.append(f"{where}: blank quantity")
            continue
        if q < -tol:
            v.append(f"{where}: negative quantity {q}")
        key = (o, d, k, t)
        # a project's output is a flow of its own: one row per Supply row and active project
        r_uc = _num(r.get("unit_cost"))
        sources = int((o, k, t) in spec.supply) + sum(
            1 for pv in spec.projects.values() if pv["country"] == o and pv["commodity"] == k and t >= pv["first"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > max(1, sources):
            v.append(f"{where}: duplicate flow row")
        x[key] += q
        if abs(q) <= tol:
            continue
        project_costs = [pv["unit_cost"] for pv in spec.projects.values()
                         if pv["country"] == o and pv["commodity"] == k and t >= pv["first"]]
        if (o, k, t) not in spec.supply and not project_costs:
            v.append(f"{where}: origin has no Supply of {k} in {t}")
            continue
        if (d, k, t) not in node_set:
            v.append(f"{where}: destination neither demands {k} in {t} nor uses it in a recipe")
            continue
        allowed, rc, mx = spec.route(o, d, k)
        if not allowed:
            v.append(f"{where}: route not allowed")
        if q > mx + tol * max(1.0, mx):
            v.append(f"{where}: {q} exceeds route max_quantity {mx}")
        costs = ([spec.supply[(o, k, t)][1]] if (o, k, t) in spec.supply else []) + project_costs
        uc = next((c for c in costs if r_uc is not None and _close(r_uc, c, tol)), costs[0])
        r_rc, r_cost = _num(r.get("route_cost")), _num(r.get("cost"))
        if r_uc is None or not _close(r_uc, uc, tol):
            v.append(f"{where}: unit_cost {r_uc} but Supply and Projects say {costs}")
        if r_rc is None or not _close(r_rc, rc, tol):
            v.append(f"{where}: route_cost {r_rc} but Routes say {rc}")
        expected = q * (uc + rc)
        if r_cost is None or not _close(r_cost, expected, tol):
            v.append(f"{where}: cost {r_cost} but quantity*(unit_cost+route_cost) = {expected}")
        cost_sum += expected
        cost_scale += abs(expected)

    # ---------------------------------------------------------------- capacity
    out_of: dict[tuple[str, str, int], float] = defaultdict(float)  # (o, k, t) -> outflow
    into: dict[tuple[str, str, int], float] = defaultdict(float)  # (d, k, t) -> inflow
    for (o, d, k, t), q in x.items():
        out_of[(o, k, t)] += q
        into[(d, k, t)] += q
    for (o, k, t), q in sorted(out_of.items()):
        if (o, k, t) in spec.supply or online.get((o, k, t)):
            cap = spec.supply.get((o, k, t), (0.0, 0.0))[0] + online.get((o, k, t), 0.0)
            if q > cap + tol * max(1.0, cap):
                v.append(f"capacity: {o} ships {q} of {k} in {t}, capacity {cap} (Supply + projects built)")

    # ---------------------------------------------------------------- balance (with recipes)
    implied_u: dict[tuple[str, str, int], float] = {}
    for d, k, t in spec.nodes:
        need = spec.demand.get((d, k, t), 0.0)
        for out, qty in spec.recipe_users(k):
            need += qty * out_of.get((d, out, t), 0.0)
        if (d, k) in spec.stocks:  # a build-up is extra need, a draw extra supply
            ti = spec.periods.index(t)
            before = spec.stocks[(d, k)]["initial"] if ti == 0 else level.get((d, k, spec.periods[ti - 1]), 0.0)
            need += level.get((d, k, t), 0.0) - before
        u = need - into.get((d, k, t), 0.0)
        if u < -tol * max(1.0, need):
            v.append(f"balance: {d} receives {into.get((d, k, t), 0.0)} of {k} in {t} but needs only {need}")
        implied_u[(d, k, t)] = max(u, 0.0)
    # production without a balance row would be unaccounted input use
    for (o, k, t), q in out_of.items():
        for (out, inp), _qty in spec.recipes.items():
            if out == k and q > tol and (o, inp, t) not in node_set:
                v.append(f"balance: {o} produces {k} in {t} without a balance row for input {inp}")

    # ---------------------------------------------------------------- China cap and ShareLimits
    S: dict[tuple[str, int], float] = defaultdict(float)
    by_source: dict[tuple[str, int], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (o, d, k, t), q in x.items():
        if d not in spec.china:
            S[(k, t)] += q
            by_source[(k, t)][o] += q

    def share_of(k: str, t: int, members: set[str]) -> float:
        return sum(q for o, q in by_source[(k, t)].items() if o in members)

    for k, cap in spec.china_cap.items():
        for t in spec.periods:
            total, cn = S[(k, t)], share_of(k, t, spec.china)
            if cn > cap * total + tol * max(1.0, total):
                v.append(f"china cap: {k} in {t}: China group supplies {cn} of {total} non-China supply, cap {cap}")
    for lim in spec.limits:
        k, t = lim["commodity"], lim["period"]
        total, mine = S[(k, t)], share_of(k, t, lim["members"])
        if lim["max_share"] is not None and mine > lim["max_share"] * total + tol * max(1.0, total):
            v.append(f"ShareLimits: {lim['source']} supplies {mine} of {total} of {k} in {t}, "
                     f"max_share {lim['max_share']}")
        if lim["min_share"] is not None and mine < lim["min_share"] * total - tol * max(1.0, total):
            v.append(f"ShareLimits: {lim['source']} supplies {mine} of {total} of {k} in {t}, "
                     f"min_share {lim['min_share']}")

    # ---------------------------------------------------------------- Shortfalls sheet
    reported_u: dict[tuple[str, str, int], float] = defaultdict(float)
    for i, r in enumerate(plan.get("shortfalls", []), start=2):
        key = (_code(r.get("country")), _code(r.get("commodity")), _period(r.get("period")))
        q = _num(r.get("quantity")) or 0.0
        if key not in node_set and q > tol:
            v.append(f"Shortfalls row {i}: {key} is not a balance row")
        reported_u[key] += q
    for key in sorted(set(implied_u) | set(reported_u), key=str):
        a, b = implied_u.get(key, 0.0), reported_u.get(key, 0.0)
        if not _close(a, b, tol, spec.demand.get(key, 0.0)):
            v.append(f"Shortfalls: {key} lists {b} but the flows leave {a} unmet")

    # ---------------------------------------------------------------- Summary
    summary = _summary(plan["summary"])
    total_u = sum(implied_u.values())
    risk = sum(q * spec.risk_weight * spec.countries.get(o, {}).get("risk", 0.0) for (o, _d, _k, _t), q in x.items())
    penalties = sum(spec.penalty[k] * u for (_d, k, _t), u in implied_u.items())
    cost_sum += investment + holding
    objective = cost_sum + risk + penalties
    scale = max(cost_scale, abs(objective))
    tc = _num(summary.get("total_cost"))
    if tc is None or not _close(tc, cost_sum, tol, scale):
        v.append(f"Summary.total_cost {tc} but production+route cost of the flows (+ investment and "
                 f"holding) is {cost_sum}")
    for name, value in (("investment_cost", investment), ("holding_cost", holding)):
        got = _num(summary.get(name))
        if got is not None and not _close(got, value, tol, scale):
            v.append(f"Summary.{name} {got} but the Projects/Stocks sheets give {value}")
    obj = _num(summary.get("objective"))
    if obj is not None and not _close(obj, objective, tol, scale):
        v.append(f"Summary.objective {obj} but costs+risk+penalties of the plan is {objective}")
    st = summary.get("shortfall_total")
    if st is not None and not _close(float(st), total_u, tol, sum(spec.demand.values())):
        v.append(f"Summary.shortfall_total {st} but the flows leave {total_u} unmet")
    status = str(summary.get("status", "")).strip()
    big_u = total_u > tol * max(1.0, sum(spec.demand.values()))
    if status == "optimal" and big_u:
        v.append(f"Summary.status 'optimal' but {total_u} of demand is unmet")
    if status == "optimal_with_shortfall" and total_u <= 1e-9:
        v.append("Summary.status 'optimal_with_shortfall' but all demand is met")

    # ---------------------------------------------------------------- Shares reports
    for i, r in enumerate(plan.get("shares", []), start=2):
        k, t, src = _code(r.get("commodity")), _period(r.get("period")), _code(r.get("source"))
        q, share = _num(r.get("quantity")), _num(r.get("share"))
        actual = by_source[(k, t)].get(src, 0.0)
        if q is None or not _close(q, actual, tol, S.get((k, t), 0.0)):
            v.append(f"Shares row {i}: {src} supplies {q} of {k} in {t} but flows give {actual}")
        total = S.get((k, t), 0.0)
        if share is not None and total > tol and not _close(share, actual / total, tol * 10):
            v.append(f"Shares row {i}: share {share} but flows give {actual / total}")

    # ---------------------------------------------------------------- ChinaShare reports
    for i, r in enumerate(plan.get("chinashare", []), start=2):
        k, t = _code(r.get("commodity")), _period(r.get("period"))
        share = _num(r.get("china_share"))
        total = S.get((k, t), 0.0)
        if share is not None and total > tol:
            actual = share_of(k, t, spec.china) / total
            if not _close(share, actual, tol * 10):
                v.append(f"ChinaShare row {i}: china_share {share} but flows give {actual}")
        cap = _num(r.get("china_cap"))
        if (cap is None) != (k not in spec.china_cap) or (cap is not None and not _close(cap, spec.china_cap[k], tol)):
            v.append(f"ChinaShare row {i}: china_cap {cap} but Commodities say {spec.china_cap.get(k)}")
    v += check_content(spec, x, plan.get("chinacontent"), tol, level)
    return v


# ---------------------------------------------------------------- China content (issue 13)


def _most_clean(spec: Spec, x: dict[Flow, float], reach: set[str], weight, rules: list[dict[str, Any]],
                level: dict[tuple[str, str, int], float] | None = None) -> tuple[bool, dict[Flow, float]]:
    """With the flows and stock levels fixed: a clean stream (0 <= xc <= x, 0 <= sc <= s, clean
    inputs only) meeting `rules` that maximises sum weight(f) * xc[f]. (feasible, xc per flow)."""
    F = sorted(f for f, q in x.items() if q > 0)
    level = level or {}
    ST = [(d, k, t) for (d, k) in sorted(spec.stocks) for t in spec.periods]
    fc, rows, sc = clean_rows(spec, F, reach, ST)
    if not fc:
        return not any(r["max"] < 1 for r in rules if _rule_total(x, r) > 0), {}
    where = {j: i for i, j in enumerate(fc)}
    r_, c_, v_, b = [], [], [], []
    for n, coefs in enumerate(rows):
        for i, q in coefs.items():
            r_.append(n), c_.append(i), v_.append(q)
        b.append(0.0)
    n = len(rows)
    for rule in rules:  # -sum xc <= -(1 - max) X
        total = _rule_total(x, rule)
        for j, (_o, d, k, t) in enumerate(F):
            if k == rule["commodity"] and t == rule["period"] and d in rule["members"] and j in where:
                r_.append(n), c_.append(where[j]), v_.append(-1.0)
        b.append(-(1.0 - rule["max"]) * total + 1e-6 * max(1.0, total))
        n += 1
    A = sp.csr_matrix((v_, (r_, c_)), shape=(n, len(fc) + len(sc))) if n else None
    res = linprog([-weight(F[j]) for j in fc] + [0.0] * len(sc), A_ub=A, b_ub=np.array(b) if n else None,
                  bounds=[(0.0, max(x[F[j]], 0.0)) for j in fc] + [(0.0, max(level.get(ST[i], 0.0), 0.0))
                                                                  for i in sc], method="highs")
    if res.status != 0:
        return False, {}
    return True, {F[j]: float(res.x[i]) for i, j in enumerate(fc)}


def _rule_total(x: dict[Flow, float], rule: dict[str, Any]) -> float:
    return sum(q for (_o, d, k, t), q in x.items()
               if k == rule["commodity"] and t == rule["period"] and d in rule["members"])


def check_content(spec: Spec, x: dict[Flow, float], rows: list[dict[str, Any]] | None, tol: float,
                  level: dict[tuple[str, str, int], float] | None = None) -> list[str]:
    """ContentRules hold (some clean stream meets them with the plan's flows and stock levels),
    and every ChinaContent row's direct share follows from the flows and its any-stage share lies
    between the least the flows allow and the rule."""
    v: list[str] = []
    if spec.content_rules:
        ok, _ = _most_clean(spec, x, upstream(spec, {r["commodity"] for r in spec.content_rules}),
                            lambda f: 0.0, spec.content_rules, level)
        if not ok:
            v.append("ContentRules: no clean stream (made outside the China group from clean inputs) "
                     "meets the rules with the plan's flows")
    by_rule = {(r["commodity"], r["period"], r["destination"]): r for r in spec.content_rules}
    for i, r in enumerate(rows or [], start=2):
        k, t, dest = _code(r.get("commodity")), _period(r.get("period")), _code(r.get("destination"))
        if dest is None:
            members = {c for c in spec.countries if c not in spec.china}
        elif dest in spec.countries:
            members = {dest}
        else:
            members = {c for c, g in spec.countries.items() if g["group"] == dest}
        target = {"commodity": k, "period": t, "members": members}
        total = _rule_total(x, target)
        direct, any_stage = _num(r.get("direct_share")), _num(r.get("any_stage_share"))
        where = f"ChinaContent row {i} ({k}, {t}, {dest or 'outside China'})"
        if total <= tol:
            continue
        china = sum(q for (o, d, kk, tt), q in x.items() if kk == k and tt == t and d in members and o in spec.china)
        if direct is None or not _close(direct, china / total, tol * 10):
            v.append(f"{where}: direct_share {direct} but flows give {china / total}")
        if any_stage is None or any_stage < (direct or 0.0) - tol * 10:
            v.append(f"{where}: any_stage_share {any_stage} below direct_share {direct}")
            continue
        rule = by_rule.get((k, t, dest))
        mx = _num(r.get("max_china_content"))
        if (rule is None) != (mx is None) or (rule is not None and not _close(mx, rule["max"], tol)):
            v.append(f"{where}: max_china_content {mx} but ContentRules say {rule and rule['max']}")
        if rule is not None and any_stage > rule["max"] + 1e-5:
            v.append(f"{where}: any_stage_share {any_stage} above the rule's {rule['max']}")
        if rule is None and len(rows or []) > 60:
            continue  # the least share per row is an LP each: checked for every row of small plans only
        ok, xc = _most_clean(spec, x, upstream(spec, {k}),
                             lambda f, k=k, t=t, m=members: 1.0 if (f[2], f[3]) == (k, t) and f[1] in m else 0.0, [],
                             level)
        least = 1.0 - sum(q for f, q in xc.items() if f[2] == k and f[3] == t and f[1] in members) / total
        if ok and any_stage < least - 1e-5:
            v.append(f"{where}: any_stage_share {any_stage} but the flows cannot carry less than {least}")
    return v


def _check_projects(spec, rows: list[dict[str, Any]], tol: float,
                    v: list[str]) -> tuple[dict[tuple[str, str, int], float], float]:
    """The Projects sheet against the Projects input: capacity online per (o, k, t) and the
    investment cost it implies."""
    online: dict[tuple[str, str, int], float] = defaultdict(float)
    investment = 0.0
    reported = {_code(r.get("project")): r for r in rows}
    for p in spec.projects:
        if p not in reported:
            v.append(f"Projects sheet has no row for project {p}")
    for i, r in enumerate(rows, start=2):
        p = _code(r.get("project"))
        pv = spec.projects.get(p)
        if pv is None:
            v.append(f"Projects row {i}: unknown project {p}")
            continue
        built = _num(r.get("built")) or 0.0
        when = _period(r.get("period_built"))
        if built < -tol or built > 1 + tol:
            v.append(f"Projects row {i}: built {built} outside [0, 1]")
        if pv["binary"] and min(abs(built), abs(built - 1)) > 1e-6:
            v.append(f"Projects row {i}: binary project built {built}")
        if built > tol and (when is None or when < pv["first"]):
            v.append(f"Projects row {i}: built in {when}, before first_period {pv['first']}")
        cost = built * (pv["capex"] * pv["capacity"] + pv["fixed_cost"])
        for name, expected in (("capacity_added", built * pv["capacity"]), ("investment_cost", cost)):
            got = _num(r.get(name))
            if got is None or not _close(got, expected, tol, cost):
                v.append(f"Projects row {i}: {name} {got} but built x the inputs gives {expected}")
        investment += cost
        if built > tol and when is not None:
            for t in spec.periods:
                if t >= when:
                    online[(pv["country"], pv["commodity"], t)] += built * pv["capacity"]
    return online, investment


def _check_stocks(spec, rows: list[dict[str, Any]], tol: float,
                  v: list[str]) -> tuple[dict[tuple[str, str, int], float], float]:
    """The Stocks sheet against the Stocks input: levels per (d, k, t) and their holding cost."""
    level: dict[tuple[str, str, int], float] = {}
    for i, r in enumerate(rows, start=2):
        key = (_code(r.get("country")), _code(r.get("commodity")), _period(r.get("period")))
        if key[:2] not in spec.stocks:
            v.append(f"Stocks row {i}: no Stocks input row for {key[:2]}")
            continue
        level[key] = _num(r.get("level")) or 0.0
    holding = 0.0
    for (d, k), sv in sorted(spec.stocks.items()):
        before = sv["initial"]
        for t in spec.periods:
            if (d, k, t) not in level:
                v.append(f"Stocks sheet has no row for {d} {k} {t}")
                continue
            s = level[(d, k, t)]
            if s < -tol or s > sv["capacity"] + tol * max(1.0, s):
                v.append(f"Stocks: {d} {k} {t} level {s} outside [0, {sv['capacity']}]")
            if before - s > sv["max_release"] + tol * max(1.0, before):
                v.append(f"Stocks: {d} {k} {t} draws {before - s}, max_release {sv['max_release']}")
            holding += sv["holding_cost"] * s
            before = s
    return level, holding
