"""The Index, patterns and assembly as they were before the index moved to integer codes (frozen).

A verbatim copy of main's code at 8d05ecb (model/formulation/sets.py, planning.py, constraints.py
and lp.py: only the functions that decide which rows, columns and entries exist and in which
order), kept so tests/test_index_codes.py can check that the code-based index builds exactly the
same LP. It is a reference, not a second implementation to maintain: when the formulation changes
on purpose, change the LP here the same way (or drop the affected comparison) in the same commit.
The parameters are gathered by the live `sets._gather` from this copy's positions, and the block
functions (variables.py, constraints.py, content.py) are the live ones; what is frozen is the
structure: key tables, positions, the memoised patterns and the CSR assembly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from model.data import InputData
from model.formulation import constraints, planning, variables
from model.formulation.blocks import RowBlock, VarBlock
from model.formulation.lp import LP
from model.formulation.sets import _TABLE_NUMBERS, Index, _gather, structure_of
from model.schema import EACH_SOURCE


def build_lp(data: InputData, *, no_shortfall: bool = False) -> LP:
    """The LP of `data` as the code before the integer index built it."""
    return assemble(build_index(data), no_shortfall=no_shortfall)


def build_index(data: InputData) -> Index:
    """A fresh Index of `data` (no reuse), as the old code built it."""
    index = _build_index(data)
    index.structure = structure_of(data)
    return index


def _seed_patterns(ix: Index, at: dict[str, int]) -> None:
    """The memoised sparsity patterns the constraint functions would compute, the old way."""
    ix.memo["balance"] = _balance_pattern(ix, at)
    if ix.size("caps"):
        ix.memo["china_cap"] = _share_pattern(ix, ix.keys["caps"])
    for name, col in (("share_min", "min_share"), ("share_max", "max_share")):
        chosen = np.flatnonzero(~np.isnan(getattr(ix.numbers, col)))
        ix.memo[f"{name}.entries"] = chosen
        if len(chosen):
            ix.memo[name] = _limit_pattern(ix, ix.keys["limits"].iloc[chosen].reset_index(drop=True))
    ix.memo["project_capacity"] = _project_pattern(ix)


def _build_index(data: InputData) -> Index:
    periods = data.periods
    countries = data["Countries"]
    china = set(countries.loc[countries["group"] == data.settings.china_group, "code"])
    supply = expand_periods(data["Supply"], periods, ["country", "commodity"])
    supply = with_project_supply(supply, data, periods)
    demand = expand_periods(data["Demand"], periods, ["country", "commodity"])
    recipes = data["Recipes"][["output", "input", "quantity", "row"]].reset_index(drop=True)
    needs = with_stock_needs(_needs(supply, demand, recipes), data, periods)
    flows = _flows(supply, needs, data)
    flows["china_origin"] = flows["origin"].isin(china).to_numpy()
    flows["china_dest"] = flows["destination"].isin(china).to_numpy()
    keys = {"supply": supply, "needs": needs, "flows": flows, "caps": _caps(data, periods),
            "limits": each_origin(_limits(data, periods), supply), "recipes": recipes}
    keys.update(planning_keys(data, periods, supply, needs))
    keys["rules"] = content_rules(data, periods, flows, china)
    # the key tables carry no numbers: Numbers holds them (see Index.table)
    for name, columns in _TABLE_NUMBERS.items():
        drop = [*columns, "unit_cost"] if name == "flows" else list(columns)
        keys[name] = keys[name].drop(columns=[c for c in drop if c in keys[name]])
    commodities = data["Commodities"]["code"].to_numpy(dtype=object)
    pos = _positions(keys, commodities, data)
    return Index(periods=periods, china=china, keys=keys, numbers=_gather(data, pos), commodities=commodities,
                 memo={"numbers.positions": pos})


def expand_periods(table: pd.DataFrame, periods: list[int], keys: list[str]) -> pd.DataFrame:
    """Repeat blank-period rows for every period; a row naming the period wins over them."""
    specific = table[table["period"].notna()]
    blank = table[table["period"].isna()]
    if not blank.empty:
        repeated = blank.drop(columns="period").merge(pd.DataFrame({"period": periods}), how="cross")
        taken = pd.MultiIndex.from_frame(specific[[*keys, "period"]].astype({"period": "int64"}))
        mine = pd.MultiIndex.from_frame(repeated[[*keys, "period"]].astype({"period": "int64"}))
        repeated = repeated[~mine.isin(taken)]
        specific = pd.concat([specific, repeated[table.columns]], ignore_index=True)
    out = specific.astype({"period": "int64"})
    return out.sort_values([*keys, "period"], kind="stable").reset_index(drop=True)


def _needs(supply: pd.DataFrame, demand: pd.DataFrame, recipes: pd.DataFrame) -> pd.DataFrame:
    """Balance rows: final demand plus the recipe inputs of every producing country."""
    inputs = supply[["country", "commodity", "period"]].merge(
        recipes[["output", "input"]], left_on="commodity", right_on="output"
    )[["country", "input", "period"]].rename(columns={"input": "commodity"})
    keys = pd.concat([demand[["country", "commodity", "period"]], inputs], ignore_index=True)
    keys = keys.drop_duplicates().reset_index(drop=True)
    needs = keys.merge(demand[["country", "commodity", "period", "quantity", "row"]], how="left",
                       on=["country", "commodity", "period"])
    needs["quantity"] = needs["quantity"].fillna(0.0)
    needs["row"] = needs["row"].fillna(-1).astype("int64")
    return needs.sort_values(["commodity", "period", "country"], kind="stable").reset_index(drop=True)


def _flows(supply: pd.DataFrame, needs: pd.DataFrame, data: InputData) -> pd.DataFrame:
    s = supply[["country", "commodity", "period", "unit_cost"]].rename(columns={"country": "origin"})
    s["supply_id"] = np.arange(len(s))
    n = needs[["country", "commodity", "period"]].rename(columns={"country": "destination"})
    n["need_id"] = np.arange(len(n))
    flows = s.merge(n, on=["commodity", "period"])
    routes = data["Routes"]
    blocked_unlisted = data.settings.unlisted_routes == "blocked"
    flows["route_cost"] = 0.0
    flows["route_max"] = np.inf
    flows["route_row"] = -1
    if not routes.empty:
        flows = _attach_routes(flows, routes)
    domestic = flows["origin"] == flows["destination"]
    flows.loc[domestic, ["route_cost", "route_max", "route_row"]] = (0.0, np.inf, -1)
    if blocked_unlisted:
        flows = flows[domestic | (flows["route_row"] >= 0)]
    flows = flows.sort_values(["commodity", "period", "origin", "destination"], kind="stable")
    return flows.reset_index(drop=True)


def _attach_routes(flows: pd.DataFrame, routes: pd.DataFrame) -> pd.DataFrame:
    """Route cost and limit per flow: a row naming the commodity beats a blank-commodity row."""
    cols = ["origin", "destination", "cost_per_unit", "max_quantity", "row"]
    generic = routes.loc[routes["commodity"].isna(), cols]
    specific = routes.loc[routes["commodity"].notna(), [*cols, "commodity"]]
    flows = flows.drop(columns=["route_cost", "route_max", "route_row"])
    flows = flows.merge(generic, how="left", on=["origin", "destination"])
    flows = flows.merge(specific, how="left", on=["origin", "destination", "commodity"], suffixes=("_g", ""))
    has_specific = flows["row"].notna()
    for out, col in (("route_cost", "cost_per_unit"), ("route_max", "max_quantity"), ("route_row", "row")):
        flows[out] = np.where(has_specific, flows[col], flows[f"{col}_g"])
    flows["route_cost"] = flows["route_cost"].fillna(0.0).astype("float64")
    listed = flows["route_row"].notna()
    flows["route_max"] = np.where(listed, flows["route_max"].fillna(np.inf), np.inf).astype("float64")
    flows["route_row"] = flows["route_row"].fillna(-1).astype("int64")
    return flows.drop(columns=[c for c in flows.columns if c.endswith("_g")] + ["cost_per_unit", "max_quantity", "row"])


def _caps(data: InputData, periods: list[int]) -> pd.DataFrame:
    com = data["Commodities"]
    capped = com.loc[com["china_cap"].notna(), ["code", "china_cap", "row"]].rename(columns={"code": "commodity"})
    caps = capped.merge(pd.DataFrame({"period": periods}), how="cross")
    return caps[["commodity", "period", "china_cap", "row"]].reset_index(drop=True)


def _limits(data: InputData, periods: list[int]) -> pd.DataFrame:
    """One entry per ShareLimits row and (commodity, period) it covers, with the source's members:
    the country itself when `source` is a country code, otherwise every country of that group."""
    lim = data["ShareLimits"].rename(columns={"row": "limit_row"})
    countries = data["Countries"]
    codes = set(countries["code"])
    com = pd.DataFrame({"commodity": data["Commodities"]["code"].to_numpy()})
    per = pd.DataFrame({"period": periods})
    parts = []
    for r in lim.itertuples(index=False):
        ks = com if pd.isna(r.commodity) else pd.DataFrame({"commodity": [r.commodity]})
        ts = per if pd.isna(r.period) else pd.DataFrame({"period": [int(r.period)]})
        part = ks.merge(ts, how="cross")
        part["limit_row"] = r.limit_row
        part["source"] = r.source
        part["min_share"] = r.min_share
        part["max_share"] = r.max_share
        members = {r.source} if r.source in codes else set(countries.loc[countries["group"] == r.source, "code"])
        part["members"] = [frozenset(members)] * len(part)
        parts.append(part)
    cols = ["limit_row", "commodity", "period", "source", "min_share", "max_share", "members"]
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in cols})
    return pd.concat(parts, ignore_index=True)[cols]


def each_origin(limits: pd.DataFrame, supply: pd.DataFrame) -> pd.DataFrame:
    """ShareLimits entries whose source is `each` (issue 13), one per origin country that can supply
    the entry's (commodity, period): the limit applies to every single country separately, as in
    the EU CRMA's "no more than 65% from a single third country". Only combinations that exist
    (a Supply row) get an entry; its `source` is the country."""
    if not len(limits):
        return limits
    each = (limits["source"] == EACH_SOURCE).to_numpy()
    if not each.any():
        return limits
    origins = supply[["commodity", "period", "country"]].drop_duplicates().rename(columns={"country": "source"})
    entries = limits.drop(columns=["source", "members"]).assign(_pos=np.arange(len(limits)))[each]
    entries = entries.astype({"period": "int64"}).merge(origins.astype({"period": "int64"}),
                                                        on=["commodity", "period"])
    entries["members"] = [frozenset([c]) for c in entries["source"]]
    kept = limits[~each].assign(_pos=np.flatnonzero(~each))
    out = pd.concat([kept, entries[kept.columns]], ignore_index=True)
    return out.sort_values(["_pos", "source"], kind="stable").drop(columns="_pos").reset_index(drop=True)


def content_rules(data: InputData, periods: list[int], flows: pd.DataFrame, china: set[str]) -> pd.DataFrame:
    """One entry per ContentRules row and period it covers (issue 13), with the destination's members:
    the country itself, every country of a group, or (blank) every country outside the China group.
    A row naming the period wins over a blank-period row of the same (commodity, destination); only
    entries that some flow reaches exist.
        rules: rule_row, commodity, period, destination, members"""
    rules = data["ContentRules"]
    if rules.empty:
        return _no_rules()
    countries = data["Countries"]
    codes = set(countries["code"])
    everyone = set(codes) - china
    reached = set(zip(flows["commodity"], flows["period"], flows["destination"], strict=True))
    named = {(r.commodity, r.destination if isinstance(r.destination, str) else None, int(r.period))
             for r in rules.itertuples() if pd.notna(r.period)}
    rows = []
    for r in rules.itertuples():
        dest = r.destination if isinstance(r.destination, str) else None
        if dest is None:
            members = everyone
        elif dest in codes:
            members = {dest}
        else:
            members = set(countries.loc[countries["group"] == dest, "code"])
        for t in periods if pd.isna(r.period) else [int(r.period)]:
            if pd.isna(r.period) and (r.commodity, dest, t) in named:
                continue
            if any((r.commodity, t, d) in reached for d in members):
                rows.append((int(r.row), r.commodity, t, dest, frozenset(members)))
    if not rows:
        return _no_rules()
    return pd.DataFrame(rows, columns=RULE_COLUMNS).astype({"rule_row": "int64", "period": "int64"})


def _no_rules() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c in ("rule_row", "period") else "object")
                         for c in RULE_COLUMNS})


def _positions(keys: dict[str, pd.DataFrame], commodities: np.ndarray, data: InputData) -> dict[str, np.ndarray]:
    """Where each index entry's numbers sit in the input tables (-1: nowhere, take the default).
    The same for every workbook of this structure, so computed once."""

    def at(sheet: str, rows: pd.Series) -> np.ndarray:
        return pd.Index(data[sheet]["row"]).get_indexer(rows.to_numpy())

    countries = pd.Index(data["Countries"]["code"])
    return {
        "Supply": at("Supply", keys["supply"]["row"]),
        "Demand": at("Demand", keys["needs"]["row"]),
        "Routes": at("Routes", keys["flows"]["route_row"]),
        "Countries": countries.get_indexer(keys["flows"]["origin"].to_numpy()),
        "Commodities": at("Commodities", keys["caps"]["row"]),
        "ShareLimits": at("ShareLimits", keys["limits"]["limit_row"]) if len(keys["limits"]) else np.zeros(0, int),
        "Recipes": at("Recipes", keys["recipes"]["row"]),
        "need_commodity": pd.Index(commodities).get_indexer(keys["needs"]["commodity"].to_numpy()),
        **_planning_positions(keys, data),
        "ContentRules": at("ContentRules", keys["rules"]["rule_row"]) if len(keys["rules"]) else np.zeros(0, int),
    }


def first_periods(data: InputData, periods: list[int]) -> np.ndarray:
    """Projects.first_period, a blank meaning the first period."""
    first = data.values("Projects", "first_period").astype(float, copy=False)
    start = float(periods[0]) if periods else 0.0
    return np.where(np.isnan(first), start, first).astype(np.int64)


def with_project_supply(supply: pd.DataFrame, data: InputData, periods: list[int]) -> pd.DataFrame:
    """S plus one supply (o, k, t) per project p and period t >= first_period[p] (column `project`:
    the project's name, None for a Supply row)."""
    supply = supply.assign(project=pd.Series([None] * len(supply), dtype=object, index=supply.index))
    proj = data["Projects"]
    if proj.empty:
        return supply
    first = first_periods(data, periods)
    rows = [(c, k, t, np.nan, np.nan, -1, p)
            for p, c, k, f in zip(proj["project"], proj["country"], proj["commodity"], first, strict=True)
            for t in periods if t >= f]
    if not rows:
        return supply
    extra = pd.DataFrame(rows, columns=["country", "commodity", "period", "capacity", "unit_cost", "row", "project"])
    extra = extra.astype({"period": "int64", "row": "int64"})
    return pd.concat([supply, extra[supply.columns]], ignore_index=True)


def with_stock_needs(needs: pd.DataFrame, data: InputData, periods: list[int]) -> pd.DataFrame:
    """N plus every stock's (d, k, t), so a stock can be filled or drawn where nothing is demanded."""
    st = data["Stocks"]
    if st.empty:
        return needs
    keys = st[["country", "commodity"]].merge(pd.DataFrame({"period": periods}), how="cross")
    have = pd.MultiIndex.from_frame(needs[["country", "commodity", "period"]])
    new = keys[~pd.MultiIndex.from_frame(keys).isin(have)].assign(quantity=0.0, row=-1)
    if new.empty:
        return needs
    out = pd.concat([needs, new.astype({"period": "int64", "row": "int64"})], ignore_index=True)
    return out.sort_values(["commodity", "period", "country"], kind="stable").reset_index(drop=True)


def planning_keys(data: InputData, periods: list[int], supply: pd.DataFrame,
                  needs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The key tables `stocks`, `projects`, `builds` and `project_supply`."""
    st = data["Stocks"][["country", "commodity", "row"]].rename(columns={"row": "stock_row"})
    stocks = st.merge(pd.DataFrame({"period": pd.Series(periods, dtype="int64")}), how="cross")
    stocks = stocks.sort_values(["commodity", "country", "period"], kind="stable").reset_index(drop=True)
    need_id = pd.Series(np.arange(len(needs)), index=pd.MultiIndex.from_frame(needs[["country", "commodity", "period"]]))
    stocks["need_id"] = need_id.reindex(pd.MultiIndex.from_frame(stocks[["country", "commodity", "period"]])
                                        ).to_numpy().astype(np.int64)
    same = (stocks["stock_row"].to_numpy()[1:] == stocks["stock_row"].to_numpy()[:-1])
    prev = np.full(len(stocks), -1, dtype=np.int64)
    prev[1:][same] = np.arange(len(stocks) - 1)[same]
    stocks["prev"] = prev

    proj = data["Projects"]
    first = first_periods(data, periods)
    projects = pd.DataFrame({"project": proj["project"].to_numpy(dtype=object),
                             "country": proj["country"].to_numpy(dtype=object),
                             "commodity": proj["commodity"].to_numpy(dtype=object),
                             "first_period": first, "row": proj["row"].to_numpy(dtype=np.int64)})
    builds = [(i, t) for i, f in enumerate(first) for t in periods if t >= f]
    builds = pd.DataFrame(builds, columns=["project_id", "period"]).astype("int64")
    builds.insert(0, "project", projects["project"].to_numpy()[builds["project_id"].to_numpy()])
    on = np.flatnonzero(supply["project"].notna().to_numpy())
    proj_id = pd.Series(np.arange(len(projects)), index=projects["project"].to_numpy())
    ps = supply.iloc[on][["project", "country", "commodity", "period"]].reset_index(drop=True)
    ps["supply_id"] = on
    ps["project_id"] = proj_id.reindex(ps["project"].to_numpy()).to_numpy().astype(np.int64)
    ps["project_row"] = projects["row"].to_numpy()[ps["project_id"].to_numpy()]  # its Projects row (Excel)
    return {"stocks": stocks, "projects": projects, "builds": builds, "project_supply": ps}


def _planning_positions(keys: dict[str, pd.DataFrame], data: InputData) -> dict[str, np.ndarray]:
    """Where each stock and project entry's numbers sit in Stocks and Projects (-1: nowhere)."""
    def at(sheet: str, rows: pd.Series) -> np.ndarray:
        return pd.Index(data[sheet]["row"]).get_indexer(rows.to_numpy())

    pid = np.full(len(keys["supply"]), -1, dtype=np.int64)
    ps = keys["project_supply"]
    pid[ps["supply_id"].to_numpy()] = ps["project_id"].to_numpy()
    return {"Stocks": at("Stocks", keys["stocks"]["stock_row"]), "Projects": at("Projects", keys["projects"]["row"]),
            "supply_project": pid}


def _project_pattern(ix: Index) -> tuple[np.ndarray, ...]:
    """Flow entries (row, flow) and build entries (row, build, project) of project_capacity."""
    ps = ix.keys["project_supply"]
    row_of = np.full(ix.size("supply"), -1, dtype=np.int64)
    row_of[ps["supply_id"].to_numpy()] = np.arange(len(ps))
    sid = ix.key("flows", "supply_id")
    fcols = np.flatnonzero(row_of[sid] >= 0)
    b = ix.keys["builds"]
    pairs = ps[["project_id", "period"]].assign(r=np.arange(len(ps))).merge(
        b[["project_id", "period"]].assign(j=np.arange(len(b))), on="project_id", suffixes=("", "_b"))
    pairs = pairs[pairs["period_b"] <= pairs["period"]]
    return (row_of[sid[fcols]], fcols, pairs["r"].to_numpy(np.int64), pairs["j"].to_numpy(np.int64),
            pairs["project_id"].to_numpy(np.int64))


def _balance_pattern(ix: Index, at: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of the balance entries: inflows, shortfalls, then production draws, with
    the Recipes position of each production entry."""
    f, n = ix.keys["flows"], ix.keys["needs"]
    inflow_cols = at["flow"] + np.arange(len(f))
    short_rows = np.arange(len(n))
    # production: every flow out of d of an output k' draws recipe inputs k into need (d, k, t)
    out = f[["origin", "commodity", "period"]].assign(col=inflow_cols)
    recipes = ix.keys["recipes"][["output", "input"]].assign(recipe=np.arange(ix.size("recipes")))
    out = out.merge(recipes, left_on="commodity", right_on="output")
    need_id = pd.Series(np.arange(len(n)), index=pd.MultiIndex.from_frame(n[["country", "commodity", "period"]]))
    keys = pd.MultiIndex.from_arrays([out["origin"], out["input"], out["period"]])
    prod_rows = need_id.reindex(keys).to_numpy().astype(np.int64)
    return (np.concatenate([f["need_id"].to_numpy(), short_rows, prod_rows]),
            np.concatenate([inflow_cols, at["shortfall"] + short_rows, out["col"].to_numpy()]),
            out["recipe"].to_numpy())


def _limit_pattern(ix: Index, lim: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(entry, flow, inside) triples: every flow to a non-China destination of each entry's
    (commodity, period), and whether its origin belongs to the entry's source."""
    f = ix.keys["flows"]
    sel = np.flatnonzero(~f["china_dest"].to_numpy())
    # (commodity, period) group of every flow to a non-China destination and of every limit entry
    k_code, _ = pd.factorize(np.concatenate([f["commodity"].to_numpy(dtype=object)[sel],
                                             lim["commodity"].to_numpy(dtype=object)]))
    t_code, t_uni = pd.factorize(np.concatenate([f["period"].to_numpy(dtype=np.int64)[sel],
                                                 lim["period"].to_numpy().astype(np.int64)]))
    group = k_code.astype(np.int64) * len(t_uni) + t_code
    g_flow, g_lim = group[:len(sel)], group[len(sel):]
    # each entry i takes every flow of its group: expand (entry, flow) pairs without a Python loop
    order = np.argsort(g_flow, kind="stable")
    counts = np.bincount(g_flow, minlength=int(group.max()) + 1)
    starts = np.cumsum(counts) - counts
    reps = counts[g_lim]
    entry = np.repeat(np.arange(len(lim)), reps)
    offset = np.arange(len(entry)) - np.repeat(np.cumsum(reps) - reps, reps)
    flow = sel[order[starts[g_lim][entry] + offset]]
    # membership of each flow's origin in each entry's source: a small (source x country) table
    o_code, o_uni = pd.factorize(f["origin"].to_numpy(dtype=object))
    s_code, s_uni = pd.factorize(lim["source"].to_numpy(dtype=object))
    first = pd.Series(np.arange(len(lim))).groupby(s_code).first().to_numpy()
    member = np.array([np.isin(o_uni, list(lim["members"].iat[i])) for i in first], dtype=bool).reshape(
        len(s_uni), len(o_uni))
    return entry, flow, member[s_code[entry], o_code[flow]]


def _share_pattern(ix: Index, keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Flows to non-China destinations and the (commodity, period) row of `keys` each falls in."""
    f = ix.keys["flows"]
    row_of = pd.Series(np.arange(len(keys)), index=pd.MultiIndex.from_frame(keys[["commodity", "period"]]))
    sel = np.flatnonzero(~f["china_dest"].to_numpy())
    fk = pd.MultiIndex.from_arrays([f["commodity"].to_numpy()[sel], f["period"].to_numpy()[sel]])
    rows = row_of.reindex(fk).to_numpy()
    ok = ~np.isnan(rows)
    return sel[ok], rows[ok].astype(np.int64)


def assemble(ix: Index, *, no_shortfall: bool = False) -> LP:
    """lp.assemble as it was, with the old patterns placed in the memo once the columns are known."""
    var_blocks: dict[str, VarBlock] = {}
    col_start: dict[str, int] = {}
    n = 0
    for make in variables.VARIABLES:
        block = make(ix)
        var_blocks[block.name] = block
        col_start[block.name] = n
        n += block.size
    _seed_patterns(ix, col_start)
    if no_shortfall:
        var_blocks["shortfall"].upper = np.zeros(var_blocks["shortfall"].size)
    row_blocks: dict[str, RowBlock] = {}
    row_start: dict[str, int] = {}
    m = 0
    for make in constraints.CONSTRAINTS:
        block = make(ix, col_start)
        row_blocks[block.name] = block
        row_start[block.name] = m
        m += block.size
    vals = np.concatenate([b.vals for b in row_blocks.values()])
    # the sparsity pattern is structure: computed once, then only the values are placed
    order, indptr, indices = ix.structural("csr", lambda: _csr_pattern(
        np.concatenate([b.rows + row_start[b.name] for b in row_blocks.values()]),
        np.concatenate([b.cols for b in row_blocks.values()]), m))
    A = sp.csr_matrix((vals[order], indices, indptr), shape=(m, n))

    def cat(attr: str, blocks) -> np.ndarray:
        parts = [np.asarray(getattr(b, attr), dtype=float) for b in blocks.values()]
        return np.concatenate(parts) if parts else np.zeros(0)

    return LP(
        index=ix, var_blocks=var_blocks, row_blocks=row_blocks, col_start=col_start,
        row_start=row_start, c=cat("cost", var_blocks), lower=cat("lower", var_blocks),
        upper=cat("upper", var_blocks), A=A, row_lower=cat("lower", row_blocks),
        row_upper=cat("upper", row_blocks), integrality=planning.integrality(ix, col_start, n),
    )


def _csr_pattern(rows: np.ndarray, cols: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The permutation that sorts COO entries into CSR order, with the CSR index arrays.

    Every (row, column) pair appears once by construction (see constraints.py), so no summing.
    """
    order = np.lexsort((cols, rows))
    r, c = rows[order], cols[order]
    if len(r) > 1 and np.any((r[1:] == r[:-1]) & (c[1:] == c[:-1])):
        raise AssertionError("a (row, column) pair appears twice in the constraint matrix")
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=m), out=indptr[1:])
    return order, indptr, cols[order].astype(np.int64)


RULE_COLUMNS = ["rule_row", "commodity", "period", "destination", "members"]
INF = np.inf
