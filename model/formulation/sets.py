"""Sets: which supplies, needs and flows exist. Only combinations that can exist are indexed.

    T        periods: every year named in Supply, Demand or ShareLimits
    S        supplies (o, k, t): Supply rows, a blank period expanded to every period
    N        needs (d, k, t): Demand rows, plus every input k of a recipe whose output d produces in t
    F ⊆ S×N  flows (o, d, k, t): a supply and a need of the same commodity and period, where
             o = d (always allowed, free) or the route o -> d is allowed for k
    C        the China group: Countries whose group is Settings.china_group
    ST, P, B, SP  stocks, projects, builds and project supplies (planning.py: a project's output is
             a supply of its own, so N and F include it and its recipe inputs; every stock's
             (d, k, t) is in N)
    E        ContentRules entries (r, k, t, D): a rule row, each period it covers, its destinations
             D (blank: every country outside C); a row naming the period beats a blank one

Wildcards: a row with a period (Supply, Demand) or a commodity (Routes) takes precedence over a
row that leaves it blank for the same other keys.

Sets and parameters are kept apart, as in GAMS: the key tables (which rows exist) depend only on
the workbook's structure, and `Numbers` holds every parameter as a numpy array aligned with them.
A what-if that changes only numbers (costs, capacities, demand, caps, shares, route limits) gathers
a new `Numbers` from memoised positions and re-uses everything else (GAMS's GUSS works this way).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from model.data import InputData
from model.formulation import planning
from model.formulation.blocks import take_numbers
from model.schema import EACH_SOURCE


@dataclass(frozen=True)
class Numbers:
    """The LP's parameters, each aligned with one key table of the Index (numpy arrays)."""

    capacity: np.ndarray  # per supply: Supply.capacity
    unit_cost: np.ndarray  # per supply: Supply.unit_cost
    quantity: np.ndarray  # per need: Demand.quantity (0 for a need made only by recipes)
    route_cost: np.ndarray  # per flow: Routes.cost_per_unit (0 when no route row applies)
    route_max: np.ndarray  # per flow: Routes.max_quantity (inf when no limit)
    risk: np.ndarray  # per flow: Countries.risk of the origin (0 when blank)
    china_cap: np.ndarray  # per caps entry: Commodities.china_cap
    min_share: np.ndarray  # per limits entry: ShareLimits.min_share (NaN: none)
    max_share: np.ndarray  # per limits entry: ShareLimits.max_share (NaN: none)
    recipe_quantity: np.ndarray  # per recipe: Recipes.quantity
    penalty: np.ndarray  # per Commodities row: the shortfall penalty (see shortfall_penalties)
    need_penalty: np.ndarray  # per need: the penalty of its commodity
    risk_weight: float  # Settings.risk_weight
    planning: Any = None  # planning.PlanningNumbers: stocks and projects
    max_china_content: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per rules entry (issue 13)

    def flow_unit_cost(self, ix: Index) -> np.ndarray:
        """Supply.unit_cost of each flow's supply."""
        return self.unit_cost[ix.key("flows", "supply_id")]


# Which Numbers fill which columns when a key table is shown as a DataFrame.
_TABLE_NUMBERS: dict[str, dict[str, str]] = {
    "supply": {"capacity": "capacity", "unit_cost": "unit_cost"},
    "needs": {"quantity": "quantity"},
    "flows": {"route_cost": "route_cost", "route_max": "route_max", "risk": "risk"},
    "caps": {"china_cap": "china_cap"},
    "limits": {"min_share": "min_share", "max_share": "max_share"},
    "recipes": {"quantity": "recipe_quantity"},
    "rules": {"max_china_content": "max_china_content"},
}


@dataclass
class Index:
    """The index (key) tables of the LP and the parameters aligned with them.

    `supply`, `needs`, `flows`, `caps`, `limits` and `recipes` are long-form DataFrames with the
    workbook's column names, numbers included; they are assembled on first use, so a what-if
    re-solve that only needs the arrays never pays for them.
        supply:  country, commodity, period, capacity, unit_cost, row
        needs:   country, commodity, period, quantity, row (Demand row or -1)
        flows:   origin, destination, commodity, period, supply_id, need_id, unit_cost,
                 route_cost, route_max, route_row, risk, china_origin, china_dest
        recipes: output, input, quantity, row
        caps:    commodity, period, china_cap, row
        limits:  limit_row, commodity, period, source, min_share, max_share, members
        rules:   rule_row, commodity, period, destination, members, max_china_content
    """

    periods: list[int]
    china: set[str]
    keys: dict[str, pd.DataFrame] = field(repr=False)  # the key tables (structure; shared)
    numbers: Numbers = field(repr=False)
    commodities: np.ndarray = field(repr=False)  # Commodities.code, in sheet order
    structure: Structure | None = field(default=None, repr=False)  # what it was built from
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # structure-only arrays, shared
    _tables: dict[str, pd.DataFrame] = field(init=False, default_factory=dict, repr=False)

    def structural(self, name: str, make: Callable[[], Any]) -> Any:
        """Arrays that depend only on the structure (which rows exist), computed once and shared
        by every Index refreshed from this one: what-if re-solves skip the joins."""
        if name not in self.memo:
            self.memo[name] = make()
        return self.memo[name]

    def key(self, table: str, column: str) -> np.ndarray:
        """A key column as a numpy array (memoised: keys never change within a structure)."""
        return self.structural(f"key.{table}.{column}", lambda: self.keys[table][column].to_numpy())

    def size(self, table: str) -> int:
        return len(self.keys[table])

    def table(self, name: str) -> pd.DataFrame:
        """Key table `name` with its current numbers, as a DataFrame (built once per Index)."""
        if name not in self._tables:
            out = self.keys[name].copy()
            for column, attr in _TABLE_NUMBERS[name].items():
                out[column] = getattr(self.numbers, attr)
            if name == "flows":
                out["unit_cost"] = self.numbers.flow_unit_cost(self)
            self._tables[name] = out
        return self._tables[name]

    supply = property(lambda self: self.table("supply"))
    needs = property(lambda self: self.table("needs"))
    flows = property(lambda self: self.table("flows"))
    caps = property(lambda self: self.table("caps"))
    limits = property(lambda self: self.table("limits"))
    recipes = property(lambda self: self.table("recipes"))
    rules = property(lambda self: self.table("rules"))  # ContentRules entries (issue 13)

    @property
    def penalty(self) -> pd.Series:
        """Shortfall penalty per commodity code."""
        return pd.Series(self.numbers.penalty, index=self.commodities)

    @property
    def risk_weight(self) -> float:
        return self.numbers.risk_weight


# The columns that decide which variables, rows and matrix entries exist. A what-if that changes
# none of them (costs, capacities, demand, caps, shares, route limits) re-uses the structure.
STRUCTURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "Countries": ("code", "group"),
    "Commodities": ("code", "row"),
    "Supply": ("country", "commodity", "period", "row"),
    "Demand": ("country", "commodity", "period", "row"),
    "Routes": ("origin", "destination", "commodity", "row"),
    "Recipes": ("output", "input", "row"),
    "ShareLimits": ("commodity", "period", "source", "row"),
    "Stocks": ("country", "commodity", "row"),
    "Projects": ("project", "country", "commodity", "first_period", "row"),
    "ContentRules": ("commodity", "period", "destination", "row"),
}
BLANK_MATTERS: dict[str, tuple[str, ...]] = {  # a blank here removes rows: its pattern is structure
    "Commodities": ("china_cap",),
    "ShareLimits": ("min_share", "max_share"),
}


@dataclass(frozen=True)
class Structure:
    """What decides the LP's shape (not its numbers): the settings that shape it and, per sheet,
    the key columns and the blank pattern of BLANK_MATTERS columns, as they were at build time.

    The kept key columns are pandas Series, which pandas' copy-on-write never changes after they
    are taken (an edit to the table copies first). So a column that still shares their memory
    (one that a shallow `InputData.copy()` and its edits left alone) is equal without comparing
    a single value; any other column is compared value by value."""

    settings: tuple[str, str]
    columns: dict[tuple[str, str], pd.Series]
    blanks: dict[tuple[str, str], np.ndarray]

    def matches(self, data: InputData) -> bool:
        if self.settings != _shaping_settings(data):
            return False
        for (sheet, col), kept in self.columns.items():
            if not _equal(data.values(sheet, col), kept.to_numpy()):
                return False
        return all(np.array_equal(_blank(data, sheet, col), kept) for (sheet, col), kept in self.blanks.items())


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.size == 0 or (a.ctypes.data == b.ctypes.data and a.strides == b.strides):
        return True  # the same memory: the same values
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    if a.dtype == object:
        na_a, na_b = pd.isna(a), pd.isna(b)
        return bool(np.array_equal(na_a, na_b) and (a[~na_a] == b[~na_b]).all())
    return bool(np.array_equal(a, b))


def _shaping_settings(data: InputData) -> tuple[str, str]:
    return (data.settings.china_group, data.settings.unlisted_routes)


def _blank(data: InputData, sheet: str, col: str) -> np.ndarray:
    return pd.isna(data.values(sheet, col))


def structure_of(data: InputData) -> Structure | None:
    """The structure of `data`; None when rows cannot be told apart (a table without unique `row`
    numbers), so nothing is re-used."""
    if not all(data[sheet]["row"].is_unique for sheet in STRUCTURE_COLUMNS):
        return None
    columns = {(sheet, col): data[sheet][col] for sheet, cols in STRUCTURE_COLUMNS.items() for col in cols}
    blanks = {(sheet, col): _blank(data, sheet, col) for sheet, cols in BLANK_MATTERS.items() for col in cols}
    return Structure(_shaping_settings(data), columns, blanks)


def refresh_index(ix: Index, data: InputData) -> Index:
    """The Index of `data`, whose structure equals `ix`'s: only the numbers are gathered anew."""
    return replace(ix, numbers=gather_numbers(ix, data))


def gather_numbers(ix: Index, data: InputData) -> Numbers:
    """Every parameter of the LP, gathered from `data` at the positions of `ix`'s key tables.

    The one place numbers enter the model, for a fresh build and a what-if alike. The defaults
    say what a blank or a missing row means: no route row costs 0 and limits nothing, a blank
    risk is 0, a need without a Demand row (recipe inputs only) asks for 0."""
    return _gather(data, ix.structural("numbers.positions", lambda: _positions(ix.keys, ix.commodities, data)))


def _gather(data: InputData, pos: dict[str, np.ndarray]) -> Numbers:
    """The Numbers of `data` at positions `pos` (see _positions)."""

    take = functools.partial(take_numbers, data)

    penalty = _penalties(data)
    return planning.with_planning_numbers(Numbers(
        capacity=take("Supply", "capacity", pos["Supply"], np.nan),
        unit_cost=take("Supply", "unit_cost", pos["Supply"], np.nan),
        quantity=take("Demand", "quantity", pos["Demand"], 0.0),
        route_cost=take("Routes", "cost_per_unit", pos["Routes"], 0.0),
        route_max=take("Routes", "max_quantity", pos["Routes"], np.inf),
        risk=take("Countries", "risk", pos["Countries"], 0.0),
        china_cap=take("Commodities", "china_cap", pos["Commodities"], np.nan),
        min_share=take("ShareLimits", "min_share", pos["ShareLimits"], np.nan),
        max_share=take("ShareLimits", "max_share", pos["ShareLimits"], np.nan),
        recipe_quantity=take("Recipes", "quantity", pos["Recipes"], np.nan),
        penalty=penalty,
        need_penalty=penalty[pos["need_commodity"]],
        risk_weight=float(data.settings.risk_weight),
        max_china_content=take("ContentRules", "max_china_content", pos["ContentRules"], np.nan),
    ), data, pos)


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
        **planning.positions(keys, data),
        "ContentRules": at("ContentRules", keys["rules"]["rule_row"]) if len(keys["rules"]) else np.zeros(0, int),
    }


def build_index(data: InputData, *, reuse: Index | Sequence[Index] | None = None) -> Index:
    """The LP's index tables. If `reuse` (one Index or several) has one of the same structure,
    only the numbers are refreshed; otherwise the sets are built from scratch."""
    candidates = [reuse] if isinstance(reuse, Index) else list(reuse or [])
    for known in candidates:
        if known.structure is not None and known.structure.matches(data):
            return refresh_index(known, data)
    index = _build_index(data)
    index.structure = structure_of(data)
    return index


def _build_index(data: InputData) -> Index:
    periods = data.periods
    countries = data["Countries"]
    china = set(countries.loc[countries["group"] == data.settings.china_group, "code"])
    supply = expand_periods(data["Supply"], periods, ["country", "commodity"])
    supply = planning.with_project_supply(supply, data, periods)
    demand = expand_periods(data["Demand"], periods, ["country", "commodity"])
    recipes = data["Recipes"][["output", "input", "quantity", "row"]].reset_index(drop=True)
    needs = planning.with_stock_needs(_needs(supply, demand, recipes), data, periods)
    flows = _flows(supply, needs, data)
    flows["china_origin"] = flows["origin"].isin(china).to_numpy()
    flows["china_dest"] = flows["destination"].isin(china).to_numpy()
    keys = {"supply": supply, "needs": needs, "flows": flows, "caps": _caps(data, periods),
            "limits": each_origin(_limits(data, periods), supply), "recipes": recipes}
    keys.update(planning.planning_keys(data, periods, supply, needs))
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


def shortfall_penalties(data: InputData) -> pd.Series:
    """Per commodity code: its own penalty, else Settings.shortfall_penalty, else the documented
    default 1000 x the largest of 1 and every unit or route cost in the workbook."""
    return pd.Series(_penalties(data), index=data["Commodities"]["code"].to_numpy())


def _penalties(data: InputData) -> np.ndarray:
    """shortfall_penalties as an array in Commodities order (numpy only: it runs every what-if)."""
    default = data.settings.shortfall_penalty
    if default is None:
        costs = np.concatenate([[1.0], data.values("Supply", "unit_cost").astype(float, copy=False),
                                data.values("Routes", "cost_per_unit").astype(float, copy=False)])
        default = 1000.0 * float(np.nanmax(costs))
    own = data.values("Commodities", "shortfall_penalty").astype(float, copy=False)
    return np.where(np.isnan(own), default, own)


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


RULE_COLUMNS = ["rule_row", "commodity", "period", "destination", "members"]


def _no_rules() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c in ("rule_row", "period") else "object")
                         for c in RULE_COLUMNS})
