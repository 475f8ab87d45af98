"""The same LP as a Pyomo model, for reading, exporting (.lp/.mps) and cross-checking.

It is built from the same index tables (sets.py) and states each constraint as a Pyomo rule, in
the GAMS `trnsport` order: sets, parameters, variables, equations, objective. The production path
(lp.py + solve/highs.py) assembles the identical model as sparse arrays for speed; the tests
assert both give the same optimum, and the benchmark times it as the naive rebuild-per-scenario path.
Export it for another solver with `build_pyomo(ix).write("model.lp")`. The China-content
families (issue 13) are added by add_content_tracing, restated here from the same key tables.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from model.formulation.sets import Index


def build_pyomo(ix: Index, *, no_shortfall: bool = False) -> pyo.ConcreteModel:
    m = pyo.ConcreteModel("sourcing")
    f, n, s = ix.flows, ix.needs, ix.supply

    # ---- sets (only combinations that exist)
    m.F = pyo.Set(initialize=range(len(f)), doc="flows (o,d,k,t)")
    m.N = pyo.Set(initialize=range(len(n)), doc="needs (d,k,t)")
    m.S = pyo.Set(initialize=range(len(s)), doc="supplies (o,k,t)")
    m.CAP = pyo.Set(initialize=range(len(ix.caps)), doc="China caps (k,t)")
    m.LIM = pyo.Set(initialize=range(len(ix.limits)), doc="ShareLimits entries (r,k,t)")

    # ---- parameters
    cost = (f["unit_cost"] + f["route_cost"] + ix.risk_weight * f["risk"]).to_numpy()
    m.cost = pyo.Param(m.F, initialize=dict(enumerate(cost)))
    m.penalty = pyo.Param(m.N, initialize=dict(enumerate(n["commodity"].map(ix.penalty).to_numpy())))
    m.capacity_limit = pyo.Param(m.S, initialize=dict(enumerate(s["capacity"].to_numpy())))
    m.demand = pyo.Param(m.N, initialize=dict(enumerate(n["quantity"].to_numpy())))

    # ---- variables
    route_max = f["route_max"].to_numpy()
    m.x = pyo.Var(m.F, domain=pyo.NonNegativeReals,
                  bounds=lambda m, i: (0, None if route_max[i] == float("inf") else route_max[i]))
    m.u = pyo.Var(m.N, domain=pyo.NonNegativeReals, bounds=(0, 0) if no_shortfall else (0, None))
    draw = add_planning_variables(m, ix)  # stocks s and builds b (issue 12)

    # ---- index maps
    by_supply, into, out_of = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, (sid, nid, o, k, t) in enumerate(zip(f["supply_id"], f["need_id"], f["origin"], f["commodity"],
                                                 f["period"], strict=True)):
        by_supply[sid].append(i)
        into[nid].append(i)
        out_of[(o, k, t)].append(i)
    recipe = defaultdict(list)
    for r in ix.recipes.itertuples():
        recipe[r.input].append((r.output, r.quantity))
    non_china = defaultdict(list)
    for i, (k, t, dest_china) in enumerate(zip(f["commodity"], f["period"], f["china_dest"], strict=True)):
        if not dest_china:
            non_china[(k, t)].append(i)
    origin = f["origin"].to_numpy()
    china_origin = f["china_origin"].to_numpy()

    # ---- equations
    @m.Constraint(m.S)
    def capacity(m, j):
        """sum_d x[o,d,k,t] <= Supply.capacity[o,k,t]"""
        return sum(m.x[i] for i in by_supply[j]) <= m.capacity_limit[j] if by_supply[j] else pyo.Constraint.Skip

    @m.Constraint(m.N)
    def balance(m, j):
        """sum_o x[o,d,k,t] + u[d,k,t] = demand[d,k,t] + sum_k' recipe[k',k] * production[d,k',t]"""
        d, k, t = n.at[j, "country"], n.at[j, "commodity"], n.at[j, "period"]
        production = sum(q * m.x[i] for out, q in recipe[k] for i in out_of[(d, out, t)])
        return sum(m.x[i] for i in into[j]) + m.u[j] + draw(j) == m.demand[j] + production

    @m.Constraint(m.CAP)
    def china_cap(m, j):
        """sum_{o in C, d not in C} x <= china_cap[k] * sum_{d not in C} x"""
        k, t, cap = ix.caps.at[j, "commodity"], ix.caps.at[j, "period"], ix.caps.at[j, "china_cap"]
        flows = non_china[(k, t)]
        if not flows:
            return pyo.Constraint.Skip
        return sum(m.x[i] for i in flows if china_origin[i]) <= cap * sum(m.x[i] for i in flows)

    @m.Constraint(m.LIM, [0, 1])
    def share_limit(m, j, side):
        """min_share * S <= sum_{o in source, d not in C} x <= max_share * S"""
        row = ix.limits.iloc[j]
        share = row["min_share"] if side == 0 else row["max_share"]
        flows = non_china[(row["commodity"], row["period"])]
        if share != share or not flows:  # NaN: that side is blank
            return pyo.Constraint.Skip
        inside = sum(m.x[i] for i in flows if origin[i] in row["members"])
        total = sum(m.x[i] for i in flows)
        return inside >= share * total if side == 0 else inside <= share * total

    add_planning_rows(m, ix, by_supply)

    # ---- objective
    m.total = pyo.Objective(
        expr=sum(m.cost[i] * m.x[i] for i in m.F) + sum(m.penalty[j] * m.u[j] for j in m.N)
        + m.planning_cost,
        sense=pyo.minimize,
    )
    add_content_tracing(m, ix)  # issue 13: the clean stream and ContentRules
    return m


# ---------------------------------------------------------------- planning ahead (issue 12)


def add_planning_variables(m: pyo.ConcreteModel, ix: Index):
    """Stocks s[d,k,t] in [0, capacity] and builds b[p,τ] in [0, 1] (binary projects: {0, 1}), the
    one-off costs, and draw(need) = s[d,k,t-1] - s[d,k,t] for the balance (s[t0-1] = initial)."""
    st, b = ix.keys["stocks"], ix.keys["builds"]
    pn = ix.numbers.planning
    m.ST = pyo.Set(initialize=range(len(st)), doc="stocks (d,k,t)")
    m.B = pyo.Set(initialize=range(len(b)), doc="builds (p,tau)")
    cap = pn.stock_capacity
    m.s = pyo.Var(m.ST, domain=pyo.NonNegativeReals,
                  bounds=lambda m, i: (0, None if cap[i] == float("inf") else cap[i]))
    pid = b["project_id"].to_numpy()
    m.b = pyo.Var(m.B, domain=lambda m, i: pyo.Binary if pn.binary[pid[i]] else pyo.UnitInterval)
    m.planning_cost = pyo.Expression(expr=sum(pn.holding_cost[i] * m.s[i] for i in m.ST)
                                     + sum(pn.build_cost[pid[i]] * m.b[i] for i in m.B))
    at_need = defaultdict(list)
    for i, n in enumerate(st["need_id"]):
        at_need[n].append(i)
    prev = st["prev"].to_numpy()

    def draw(j):
        return sum((m.s[prev[i]] if prev[i] >= 0 else pn.initial[i]) - m.s[i] for i in at_need.get(j, ()))

    return draw


def add_planning_rows(m: pyo.ConcreteModel, ix: Index, by_supply: dict) -> None:
    """stock_release, project_capacity and build_once (model/formulation/planning.py)."""
    pn = ix.numbers.planning
    prev = ix.keys["stocks"]["prev"].to_numpy()

    @m.Constraint(m.ST)
    def stock_release(m, i):
        """s[d,k,t-1] - s[d,k,t] <= max_release"""
        if pn.max_release[i] == float("inf"):
            return pyo.Constraint.Skip
        before = m.s[prev[i]] if prev[i] >= 0 else pn.initial[i]
        return before - m.s[i] <= pn.max_release[i]

    ps, b = ix.keys["project_supply"], ix.keys["builds"]
    m.PS = pyo.Set(initialize=range(len(ps)), doc="project supplies (p,t)")

    @m.Constraint(m.PS)
    def project_capacity(m, r):
        """sum_d x[p,d,k,t] <= capacity[p] * sum_{tau <= t} b[p,tau]"""
        p, t = ps.at[r, "project_id"], ps.at[r, "period"]
        built = [j for j in m.B if b.at[j, "project_id"] == p and b.at[j, "period"] <= t]
        flows = by_supply.get(ps.at[r, "supply_id"], [])
        if not flows and not built:
            return pyo.Constraint.Skip
        return sum(m.x[i] for i in flows) <= pn.capacity[p] * sum(m.b[j] for j in built)

    m.P = pyo.Set(initialize=range(ix.size("projects")), doc="projects")

    @m.Constraint(m.P)
    def build_once(m, p):
        """sum_tau b[p,tau] <= 1"""
        built = [j for j in m.B if b.at[j, "project_id"] == p]
        return sum(m.b[j] for j in built) <= 1 if built else pyo.Constraint.Skip
def add_content_tracing(m: pyo.ConcreteModel, ix: Index) -> None:
    """China content traced through every tier (model/formulation/content.py), as Pyomo rules.

    R: each ContentRules commodity and every upstream tier of its Recipes; FC: flows of R from an
    origin outside the China group; xc[f] the clean part of flow f."""
    rules = ix.rules
    if not len(rules):
        return
    f = ix.flows
    inputs_of = defaultdict(list)  # output k -> [(input k', quantity)]
    for r in ix.recipes.itertuples():
        inputs_of[r.output].append((r.input, r.quantity))
    R, stack = set(), list(rules["commodity"])
    while stack:
        k = stack.pop()
        if k not in R:
            R.add(k)
            stack.extend(k2 for k2, _ in inputs_of[k])
    keys = list(zip(f["origin"], f["destination"], f["commodity"], f["period"], f["china_origin"], strict=True))
    fc = [i for i, (_o, _d, k, _t, cn) in enumerate(keys) if k in R and not cn]
    m.FC = pyo.Set(initialize=fc, doc="clean flows (o,d,k,t): k in R, o not in C")
    m.xc = pyo.Var(m.FC, domain=pyo.NonNegativeReals)

    @m.Constraint(m.FC)
    def clean_bound(m, i):
        """xc[o,d,k,t] <= x[o,d,k,t]"""
        return m.xc[i] <= m.x[i]

    clean_out, clean_in = defaultdict(list), defaultdict(list)
    for i in fc:
        o, d, k, t, _ = keys[i]
        clean_out[(o, k, t)].append(i)
        clean_in[(d, k, t)].append(i)
    uses: dict[tuple, list] = defaultdict(list)  # (o, k', t) -> [(quantity, clean flow of an output)]
    for (o, k, t), outs in clean_out.items():
        for k2, q in inputs_of[k]:
            uses[(o, k2, t)].extend((q, i) for i in outs)
    # clean stocks: pooled inventories of an input k' that clean production at d uses, outside C
    st = ix.keys["stocks"]
    made = {(o, k2) for (o, k2, _t) in uses}
    stock_keys = list(zip(st["country"], st["commodity"], st["period"], strict=True))
    sc = [i for i, (d, k2, _t) in enumerate(stock_keys) if (d, k2) in made and d not in ix.china]
    m.SC = pyo.Set(initialize=sc, doc="clean stocks (d,k',t)")
    m.sc = pyo.Var(m.SC, domain=pyo.NonNegativeReals)
    prev = st["prev"].to_numpy()
    held = {stock_keys[i]: i for i in sc}

    @m.Constraint(m.SC)
    def clean_stock(m, i):
        """sc[d,k',t] <= s[d,k',t]"""
        return m.sc[i] <= m.s[i]

    input_keys = sorted(set(uses) | set(held), key=str)
    m.CI = pyo.Set(initialize=range(len(input_keys)), doc="clean inputs (o,k',t)")

    @m.Constraint(m.CI)
    def clean_input(m, j):
        """sum_k recipe[k,k'] * sum_d xc[o,d,k,t] + sc[o,k',t] - sc[o,k',t-1] <= sum_o' xc[o',o,k',t]"""
        key = input_keys[j]
        i = held.get(key)
        change = 0 if i is None else m.sc[i] - (m.sc[prev[i]] if prev[i] >= 0 else 0)
        return sum(q * m.xc[i2] for q, i2 in uses[key]) + change <= sum(m.xc[i2] for i2 in clean_in[key])

    fc_set = set(fc)
    m.RULE = pyo.Set(initialize=range(len(rules)), doc="ContentRules entries (r,t)")

    @m.Constraint(m.RULE)
    def content_rule(m, j):
        """sum_{d in D} xc[o,d,k,t] >= (1 - max_china_content) * sum_{d in D} x[o,d,k,t]"""
        row = rules.iloc[j]
        sel = [i for i, (_o, d, k, t, _) in enumerate(keys)
               if k == row["commodity"] and t == row["period"] and d in row["members"]]
        if not sel:
            return pyo.Constraint.Skip
        return (sum(m.xc[i] for i in sel if i in fc_set)
                >= (1 - row["max_china_content"]) * sum(m.x[i] for i in sel))


def solve_pyomo(m: pyo.ConcreteModel, *, time_limit_s: float | None = None) -> tuple[str, float]:
    """Solve with HiGHS through Pyomo's highspy interface; return (termination, objective)."""
    solver = pyo.SolverFactory("appsi_highs")
    if time_limit_s:
        solver.config.time_limit = time_limit_s
    result = solver.solve(m, load_solutions=True)
    return str(result.solver.termination_condition), float(pyo.value(m.total))
