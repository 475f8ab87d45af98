"""The hedged plan (issue 12): a two-stage stochastic program over the Scenarios sheet.

One extensive-form LP (a MIP with binary projects) for HiGHS: the scenario LPs side by side
(scipy.sparse.block_diag) plus nonanticipativity rows  z_s[j] - z_base[j] = 0  for every
first-stage column j: the first period's flows and stock levels and every project build. Each
scenario keeps its own decisions for the later periods.

    expected:    min  sum_s p_s c_s' z_s
    worst case:  min  w   s.t.  c_s' z_s - w <= 0  for every s

When does a disruption strike? By default after the first stage: each scenario's changes apply
from the second period on (its first-period costs, bounds and rows are the base's), the textbook
two-stage setting: decide now, learn which scenario comes, adapt. A scenario that changes the
LP's structure (e.g. removes a cap) cannot be split by period and applies as written; the
Summary names it. With `from_first_period` every scenario applies as written, so a disruption
that starts now constrains the shared first-period decisions in every scenario.

Reported beside the hedged objective:
  value_of_hedging  the same measure (expected or worst) with the first stage fixed at the base
                    plan's, minus the hedged one (>= 0; infinite when the base plan's first stage
                    cannot be carried out in some scenario);
  evpi              expected value of perfect information: the hedged expected objective minus
                    sum_s p_s (scenario s planned alone), one small solve per scenario.

Scale: the extensive form grows linearly with the scenarios (docs/hedge.md has the timings);
for hundreds of scenarios decomposition (progressive hedging, Pyomo's mpi-sppy) takes over.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
import numpy as np
import pandas as pd
import scipy.sparse as sp

from model.cli_support import guarded, say
from model.data import InputData
from model.errors import InputError, Problem
from model.formulation.lp import LP, build_lp
from model.results import Plan, build_plan
from model.solve.highs import HighsSession, Solution
from model.status import EXIT_CODES, Status

BASE = "base"
FIRST_STAGE_TOL = 1e-9


@dataclass
class Member:
    """One scenario of the hedge: its data, LP, weight and column offset in the extensive form."""

    name: str
    probability: float
    data: InputData
    lp: LP
    offset: int = 0
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # first-stage columns
    keys: list = field(default_factory=list)  # their keys, to match across scenarios
    as_written: bool = False  # its changes also apply to the first period


@dataclass
class HedgeResult:
    status: Status
    worst_case: bool
    objective: float  # expected (or worst-case) objective of the hedged plan
    value_of_hedging: float
    evpi: float
    members: list[Member]
    plans: list[Plan]
    own: list[float]
    fixed: list[float]
    seconds: float
    shape: tuple[int, int]
    unmatched: int
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# ----------------------------------------------------------------------------- probabilities


def probabilities(names: list[str], given: dict[str, float]) -> dict[str, float]:
    """Equal weights over base and every scenario, or the given ones (base takes what is left
    when it is not named). Raises InputError naming what does not add up."""
    if not given:
        return {n: 1.0 / len(names) for n in names}
    unknown = [n for n in given if n not in names]
    if unknown:
        raise InputError(f"--scenario: unknown scenario(s) {', '.join(unknown)}; the Scenarios sheet has: "
                         f"{', '.join(n for n in names if n != BASE) or 'none'}")
    bad = [f"{n}={p}" for n, p in given.items() if not (0 <= p <= 1)]
    if bad:
        raise InputError(f"--scenario: a probability must be in [0, 1] (got {', '.join(bad)})")
    out = dict(given)
    total = sum(out.values())
    if BASE not in out and total < 1 - 1e-9:
        out = {BASE: 1.0 - total, **out}
    total = sum(out.values())
    if abs(total - 1.0) > 1e-6:
        raise InputError(f"--scenario: the probabilities add up to {total:g}, not 1")
    return {n: p for n, p in out.items() if p > 0}


def parse_scenario_options(values: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    problems = []
    for v in values:
        name, eq, p = v.rpartition("=")
        try:
            if not eq or not name:
                raise ValueError
            out[name.strip()] = float(p)
        except ValueError:
            problems.append(Problem("--scenario", None, None, v, "must be NAME=PROBABILITY, e.g. taiwan=0.1"))
    if problems:
        raise InputError(problems)
    return out


# ----------------------------------------------------------------------------- first stage


def first_stage(lp: LP) -> tuple[np.ndarray, list]:
    """First-stage columns of one scenario LP and their keys: flows and stocks of the first period,
    every build."""
    ix = lp.index
    t0 = ix.periods[0]
    f = ix.keys["flows"]
    sup_project = ix.keys["supply"]["project"].to_numpy()[f["supply_id"].to_numpy()]
    fsel = np.flatnonzero(f["period"].to_numpy() == t0)
    fkeys = [("flow", o, d, k, t, p) for o, d, k, t, p in zip(
        f["origin"].to_numpy()[fsel], f["destination"].to_numpy()[fsel], f["commodity"].to_numpy()[fsel],
        f["period"].to_numpy()[fsel], sup_project[fsel], strict=True)]
    st = ix.keys["stocks"]
    ssel = np.flatnonzero(st["period"].to_numpy() == t0)
    skeys = [("stock", c, k, t) for c, k, t in zip(st["country"].to_numpy()[ssel], st["commodity"].to_numpy()[ssel],
                                                   st["period"].to_numpy()[ssel], strict=True)]
    b = ix.keys["builds"]
    bkeys = [("build", p, t) for p, t in zip(b["project"], b["period"], strict=True)]
    cols = np.concatenate([lp.cols("flow").start + fsel, lp.cols("stock").start + ssel,
                           lp.cols("build").start + np.arange(len(b))]).astype(np.int64)
    return cols, fkeys + skeys + bkeys


# ----------------------------------------------------------------------------- the solve


def _periods_of(blocks: dict, size: int, t0: int) -> np.ndarray:
    """True for every column (or row) of a block whose key table has period t0."""
    out = np.zeros(size, dtype=bool)
    at = 0
    for block in blocks.values():
        keys = block.keys
        if block.size and "period" in keys:
            out[at:at + block.size] = keys["period"].to_numpy() == t0
        at += block.size
    return out


def from_second_period(lp: LP, base: LP) -> LP | None:
    """`lp` with the first period's costs, bounds, row bounds and coefficients taken from `base`
    (the scenario strikes after the first stage); None when the structures differ."""
    if lp.shape != base.shape or not lp.same_structure(base):
        return None
    t0 = lp.index.periods[0]
    cols = _periods_of(lp.var_blocks, lp.shape[1], t0)
    rows = _periods_of(lp.row_blocks, lp.shape[0], t0)
    c, lower, upper = lp.c.copy(), lp.lower.copy(), lp.upper.copy()
    c[cols], lower[cols], upper[cols] = base.c[cols], base.lower[cols], base.upper[cols]
    rl, ru = lp.row_lower.copy(), lp.row_upper.copy()
    rl[rows], ru[rows] = base.row_lower[rows], base.row_upper[rows]
    A = lp.A.copy()
    entry_row = np.repeat(np.arange(lp.shape[0]), np.diff(A.indptr))
    mask = rows[entry_row]
    A.data[mask] = base.A.data[mask]
    return replace(lp, c=c, lower=lower, upper=upper, row_lower=rl, row_upper=ru, A=A)


def scenario_members(data: InputData, weights: dict[str, float], *, from_first_period: bool = False) -> list[Member]:
    from model.batch.scenarios import apply_scenario

    members = []
    base_lp = None
    for name, p in weights.items():
        d = apply_scenario(data, name)[0]
        lp = build_lp(d, reuse=base_lp.index if base_lp is not None else None)
        as_written = from_first_period
        if base_lp is None:
            base_lp = lp
        elif not from_first_period:
            split = from_second_period(lp, base_lp)
            as_written = split is None
            lp = split or lp
        members.append(Member(name, p, d, lp, as_written=as_written))
    t0 = {m.lp.index.periods[0] for m in members}
    if len(t0) > 1:
        raise InputError("hedge: every scenario must start in the same first period")
    offset = 0
    for m in members:
        m.offset = offset
        offset += m.lp.shape[1]
        m.first, m.keys = first_stage(m.lp)
    return members


def extensive_form(members: list[Member], *, worst_case: bool) -> tuple[LP, int]:
    """The extensive form as an LP (index: the first member's), and how many first-stage columns
    of a scenario have no counterpart in the reference scenario (left free)."""
    ref = members[0]
    ref_col = dict(zip(ref.keys, ref.first, strict=True))
    n = sum(m.lp.shape[1] for m in members) + (1 if worst_case else 0)
    rows, cols, vals = [], [], []
    unmatched = 0
    for m in members[1:]:
        mine = []
        for key, j in zip(m.keys, m.first, strict=True):
            r = ref_col.get(key)
            if r is None:
                unmatched += 1
            else:
                mine.append((ref.offset + r, m.offset + j))
        if mine:
            a = np.asarray(mine, dtype=np.int64)
            start = len(rows) and (rows[-1][-1] + 1)
            idx = start + np.arange(len(a))
            rows += [idx, idx]
            cols += [a[:, 0], a[:, 1]]
            vals += [np.ones(len(a)), -np.ones(len(a))]
    n_na = int(rows[-1][-1] + 1) if rows else 0
    na = sp.csr_matrix((np.concatenate(vals) if vals else [], (np.concatenate(rows) if rows else [],
                        np.concatenate(cols) if cols else [])), shape=(n_na, n))
    blocks = sp.block_diag([m.lp.A.to_scipy() for m in members], format="csr")
    c = np.concatenate([m.probability * m.lp.c for m in members])
    lower = np.concatenate([m.lp.lower for m in members])
    upper = np.concatenate([m.lp.upper for m in members])
    rl = np.concatenate([m.lp.row_lower for m in members])
    ru = np.concatenate([m.lp.row_upper for m in members])
    if worst_case:
        blocks = sp.hstack([blocks, sp.csr_matrix((blocks.shape[0], 1))], format="csr")
        worst = sp.hstack([sp.block_diag([m.lp.c.reshape(1, -1) for m in members], format="csr"),
                           sp.csr_matrix(-np.ones((len(members), 1)))], format="csr")
        blocks = sp.vstack([blocks, worst], format="csr")
        c = np.concatenate([np.zeros(len(c)), [1.0]])
        lower, upper = np.append(lower, -np.inf), np.append(upper, np.inf)
        rl = np.concatenate([rl, np.full(len(members), -np.inf)])
        ru = np.concatenate([ru, np.zeros(len(members))])
    A = sp.vstack([blocks, na], format="csr")
    rl, ru = np.concatenate([rl, np.zeros(n_na)]), np.concatenate([ru, np.zeros(n_na)])
    ints = [m.lp.integrality if m.lp.integrality is not None else np.zeros(m.lp.shape[1], np.int64)
            for m in members]
    integ = np.concatenate([*ints, np.zeros(1 if worst_case else 0, np.int64)])
    lp = LP(index=ref.lp.index, var_blocks={}, row_blocks={}, col_start={}, row_start={}, c=c, lower=lower,
            upper=upper, A=A, row_lower=rl, row_upper=ru, integrality=integ if integ.any() else None)
    return lp, unmatched


def _member_solution(m: Member, z: np.ndarray, like: Solution) -> Solution:
    x = z[m.offset:m.offset + m.lp.shape[1]]
    return Solution(like.status, like.model_status, x, m.lp.A @ x, None, None, float(m.lp.c @ x), float("nan"),
                    like.iterations, like.seconds, False)


def _fixed_objective(m: Member, base_x: np.ndarray, base: Member, threads: int | None) -> float:
    """Scenario m's optimum with its first stage fixed at the base plan's (inf if impossible)."""
    ref = dict(zip(base.keys, base_x[base.first], strict=True))
    lower, upper = m.lp.lower.copy(), m.lp.upper.copy()
    for key, j in zip(m.keys, m.first, strict=True):
        v = ref.get(key)
        if v is not None:
            lower[j] = upper[j] = v
    sol = HighsSession(threads=threads).solve(replace(m.lp, lower=lower, upper=upper))
    return sol.objective if sol.x is not None else math.inf


def solve_hedge(data: InputData, given: dict[str, float] | None = None, *, worst_case: bool = False,
                from_first_period: bool = False, threads: int | None = None, evaluate: bool = True) -> HedgeResult:
    """The hedged plan over base and the Scenarios sheet (or the scenarios `given` with weights)."""
    from model.batch.scenarios import scenario_names

    names = [BASE, *[n for n in scenario_names(data) if n != BASE]]
    weights = probabilities(names, given or {})
    members = scenario_members(data, weights, from_first_period=from_first_period)
    lp, unmatched = extensive_form(members, worst_case=worst_case)
    started = time.perf_counter()
    sol = HighsSession(threads=threads).solve(lp)
    seconds = time.perf_counter() - started
    plans: list[Plan] = []
    if sol.x is None:
        return HedgeResult(sol.status, worst_case, math.nan, math.nan, math.nan, members, plans, [], [],
                           seconds, lp.shape, unmatched)
    for m in members:
        plans.append(build_plan(m.data, m.lp, _member_solution(m, sol.x, sol), detail="contract"))
    objective = float(sol.objective)
    own, fixed = [], []
    evpi = voh = math.nan
    if evaluate:
        alone = [HighsSession(threads=threads).solve(m.lp) for m in members]
        own = [a.objective if a.x is not None else math.nan for a in alone]
        base = next((m for m, a in zip(members, alone, strict=True) if m.name == BASE), None)
        if base is not None:
            base_x = alone[members.index(base)].x
            fixed = [_fixed_objective(m, base_x, base, threads) for m in members]
        p = np.array([m.probability for m in members])
        if worst_case:
            voh = max(fixed) - objective if fixed else math.nan
            evpi = objective - max(own)
        else:
            voh = float(p @ np.array(fixed)) - objective if fixed else math.nan
            evpi = objective - float(p @ np.array(own))
        if not math.isinf(voh):
            voh = max(voh, 0.0) if voh > -1e-6 * max(1.0, abs(objective)) else voh
    status = sol.status
    if status == Status.OPTIMAL and any(pl.shortfall_total > 0 for pl in plans):
        status = Status.OPTIMAL_WITH_SHORTFALL
    res = HedgeResult(status, worst_case, objective, voh, evpi, members, plans, own, fixed, seconds, lp.shape,
                      unmatched)
    res.tables = hedge_tables(res, sol)
    return res


# ----------------------------------------------------------------------------- tables


def hedge_tables(res: HedgeResult, sol: Solution) -> dict[str, pd.DataFrame]:
    members, plans = res.members, res.plans
    hedge = pd.DataFrame({
        "scenario": [m.name for m in members],
        "probability": [m.probability for m in members],
        "objective": [pl.objective for pl in plans],
        "total_cost": [pl.total_cost for pl in plans],
        "shortfall_value": [pl.shortfall_value for pl in plans],
        "shortfall_total": [pl.shortfall_total for pl in plans],
        "own_optimum": res.own or [math.nan] * len(members),
        "base_first_stage": [v if math.isfinite(v) else math.nan for v in res.fixed] or [math.nan] * len(members),
    })
    ref = members[0]
    z = sol.x[ref.offset:ref.offset + ref.lp.shape[1]]
    rows = []
    for key, j in zip(ref.keys, ref.first, strict=True):
        v = float(z[j])
        if abs(v) <= FIRST_STAGE_TOL and key[0] != "build":
            continue
        if key[0] == "flow":
            _, o, d, k, t, _p = key
            rows.append(("flow", t, k, o, d, v))
        elif key[0] == "stock":
            _, c, k, t = key
            rows.append(("stock", t, k, c, c, v))
        elif v > FIRST_STAGE_TOL:
            _, p, t = key
            pr = ref.lp.index.keys["projects"].set_index("project")
            rows.append(("build", t, pr.at[p, "commodity"], pr.at[p, "country"], p, v))
    first = pd.DataFrame(rows, columns=["kind", "period", "commodity", "origin", "destination", "quantity"])
    flows = []
    for m, pl in zip(members, plans, strict=True):
        f = pl.tables["Flows"]
        flows.append(pd.DataFrame({"scenario": m.name, **{c: f[c] for c in
                                   ("period", "commodity", "origin", "destination", "quantity", "unit_cost")}}))
    label = "worst_case_objective" if res.worst_case else "expected_objective"
    summary = pd.DataFrame([
        ("status", str(res.status)),
        (label, res.objective),
        ("value_of_hedging", res.value_of_hedging if math.isfinite(res.value_of_hedging) else "infinite: the base "
         "plan's first stage cannot be carried out in " + ", ".join(
             m.name for m, v in zip(members, res.fixed, strict=True) if math.isinf(v))),
        ("evpi", res.evpi),
        ("objective_basis", "worst case: the largest scenario objective" if res.worst_case
         else "expected: probability-weighted scenario objectives"),
        ("first_stage", f"period {ref.lp.index.periods[0]} flows and stock levels, every project build"),
        ("scenarios_strike", "in the first period (as written)" if all(m.as_written for m in members[1:])
         else "from the second period, after the first stage"),
        ("scenarios_as_written", ", ".join(m.name for m in members[1:] if m.as_written) or "none"),
        ("scenarios", len(members)),
        ("variables", res.shape[1]),
        ("constraints", res.shape[0]),
        ("unmatched_first_stage", res.unmatched),
        ("solve_seconds", round(res.seconds, 4)),
    ], columns=["metric", "value"])
    out = {"Summary": summary, "Hedge": hedge, "FirstStage": first,
           "ScenarioFlows": pd.concat(flows, ignore_index=True)}
    if "Stocks" in plans[0].tables:  # how each scenario draws the stocks bought now
        out["ScenarioStocks"] = pd.concat(
            [pl.tables["Stocks"].assign(scenario=m.name)[["scenario", "period", "country", "commodity", "level",
                                                          "change"]] for m, pl in zip(members, plans, strict=True)],
            ignore_index=True)
    return out


# ----------------------------------------------------------------------------- the command


@click.command("hedge")
@click.argument("workbook", type=click.Path(path_type=Path), default=Path("inputs/base_case.xlsx"), required=False)
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME=PROBABILITY",
              help="Hedge over these scenarios with these probabilities (base takes what is left "
                   "unless named). Default: base and every scenario, equally likely.")
@click.option("--worst-case", is_flag=True, help="Minimise the largest scenario objective instead of the expected one.")
@click.option("--from-first-period", is_flag=True,
              help="Scenarios strike in the first period too (default: from the second period, after "
                   "the first-stage decisions).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=Path("outputs/hedge.xlsx"),
              show_default=True, help="Output workbook (.xlsx).")
@guarded
def hedge(workbook: Path, scenarios: tuple[str, ...], worst_case: bool, from_first_period: bool,
          output: Path) -> None:
    """The hedged plan: one first stage (first-period flows and stocks, every project build) that
    holds up across base and every scenario; reports its value and the EVPI.

    Exit codes: 0 a plan (optimal, or optimal with shortfall); 1 internal error; 2 input problem
    (nothing written); 3 time limit with a feasible plan; 4 time limit without a plan; 5 numerical
    trouble; 130 interrupted.
    """
    from model.data import load_workbook
    from model.io.writer import write_tables

    data = load_workbook(workbook)
    for warning in data.warnings:
        say(f"warning: {warning}")
    res = solve_hedge(data, parse_scenario_options(scenarios), worst_case=worst_case,
                      from_first_period=from_first_period)
    if res.plans == []:
        say(f"no hedged plan: {res.status}")
        sys.exit(EXIT_CODES.get(res.status, 1))
    write_tables(res.tables, output, inputs=[workbook])  # formatted by declaration (model/schema.py)
    label = "worst-case" if worst_case else "expected"
    voh = res.value_of_hedging
    say(f"{len(res.members)} scenario(s), {res.shape[1]:,} variables, {res.shape[0]:,} constraints, "
        f"solved in {res.seconds:.2f} s")
    say(f"{label} objective {res.objective:,.2f}; value of hedging "
        + (f"{voh:,.2f}" if math.isfinite(voh) else "infinite (the base plan's first stage is infeasible "
           "in some scenario)") + f"; EVPI {res.evpi:,.2f}")
    say(f"written to {output}")
    sys.exit(EXIT_CODES.get(res.status, 0))


def time_copies(data: InputData, n: int, *, threads: int | None = None) -> dict[str, float]:
    """Seconds to assemble and solve the extensive form of `n` equally likely copies of `data`
    (the scaling measurement in docs/hedge.md: `python -m model.batch.hedge WORKBOOK 1 5 10 20`)."""
    started = time.perf_counter()
    lp = build_lp(data)
    members = []
    for i in range(n):
        m = Member(f"copy{i + 1}", 1.0 / n, data, lp)
        members.append(m)
    offset = 0
    for m in members:
        m.offset, offset = offset, offset + lp.shape[1]
        m.first, m.keys = first_stage(lp)
    ef, _ = extensive_form(members, worst_case=False)
    built = time.perf_counter()
    sol = HighsSession(threads=threads).solve(ef)
    done = time.perf_counter()
    return {"scenarios": n, "variables": ef.shape[1], "constraints": ef.shape[0], "nonzeros": ef.A.nnz,
            "build_s": round(built - started, 2), "solve_s": round(done - built, 2),
            "objective": sol.objective, "status": str(sol.status)}


if __name__ == "__main__":  # python -m model.batch.hedge WORKBOOK N ...
    from model.data import load_workbook

    wb = load_workbook(sys.argv[1])
    for count in sys.argv[2:]:
        print(time_copies(wb, int(count)), flush=True)
