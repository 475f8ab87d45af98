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

The sets are built on integer codes (Codes: each name's rank among the sorted names, each period's
position in T): joins and wildcard precedence are numpy operations on int64 keys such as
(k * |T| + t) * |countries| + c, which sort exactly as the names do, and the names are put back
only in the key tables, whose columns, dtypes and row order are those the pandas joins gave
(tests/test_index_codes.py checks the LP against them).

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

from model.data import InputData, column_values
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
    return _gather(data, ix.structural("numbers.positions",
                                       lambda: _positions(ix.keys, ix.commodities, data, index_codes(ix))))


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


def _positions(keys: dict[str, pd.DataFrame], commodities: np.ndarray, data: InputData,
               ic: IndexCodes) -> dict[str, np.ndarray]:
    """Where each index entry's numbers sit in the input tables (-1: nowhere, take the default).
    The same for every workbook of this structure, so computed once; the flows' and needs' names
    are looked up once per code, not once per entry."""

    def at(sheet: str, rows: pd.Series) -> np.ndarray:
        table_rows = column_values(data[sheet], "row").astype(np.int64)
        return look_up(table_rows, np.arange(len(table_rows)), rows.to_numpy().astype(np.int64))

    country_at = pd.Index(data["Countries"]["code"]).get_indexer(ic.codes.country)
    commodity_at = pd.Index(commodities).get_indexer(ic.codes.commodity)
    return {
        "Supply": at("Supply", keys["supply"]["row"]),
        "Demand": at("Demand", keys["needs"]["row"]),
        "Routes": at("Routes", keys["flows"]["route_row"]),
        "Countries": country_at[ic.flows.o],
        "Commodities": at("Commodities", keys["caps"]["row"]),
        "ShareLimits": at("ShareLimits", keys["limits"]["limit_row"]) if len(keys["limits"]) else np.zeros(0, int),
        "Recipes": at("Recipes", keys["recipes"]["row"]),
        "need_commodity": commodity_at[ic.codes.split(ic.need_key)[0]],
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
    codes = Codes.of(data, periods)
    supply = _supply(data, codes)
    needs = _needs(data, codes, supply)
    flows = _flows(data, codes, supply, needs, china)
    keys = {"supply": supply.frame(codes), "needs": needs.frame(codes), "flows": flows.frame(codes),
            "caps": _caps(data, periods), "limits": _limits(data, codes, supply), "recipes": _recipes(data)}
    keys.update(planning.planning_keys(data, codes, keys["supply"], supply.project, needs.key))
    keys["rules"] = content_rules(data, codes, flows, china)
    commodities = data["Commodities"]["code"].to_numpy(dtype=object)
    ic = IndexCodes(codes, needs.key, flows)
    pos = _positions(keys, commodities, data, ic)
    return Index(periods=periods, china=china, keys=keys, numbers=_gather(data, pos), commodities=commodities,
                 memo={"numbers.positions": pos, "codes": ic})


# ------------------------------------------------------------------------- sets on integer codes


@dataclass(frozen=True)
class Codes:
    """Every country and commodity name as an integer code (its rank among the sorted names) and
    every period as its position in T.

    Ranks keep the names' order, so a key made of codes, e.g. (k * |T| + t) * |countries| + c, sorts
    and matches exactly as the names would: the sets are joined on int64 keys with numpy, and the
    names are put back only when a key table is written out."""

    country: np.ndarray  # sorted names (object)
    commodity: np.ndarray  # sorted names (object)
    periods: np.ndarray  # T (int64)

    @classmethod
    def of(cls, data: InputData, periods: list[int]) -> Codes:
        def names(*columns: tuple[str, str]) -> np.ndarray:
            found = pd.unique(np.concatenate([data.values(s, c).astype(object, copy=False) for s, c in columns]))
            return np.array(sorted(v for v in found if isinstance(v, str)), dtype=object)

        return cls(names(("Countries", "code"), ("Supply", "country"), ("Demand", "country"), ("Routes", "origin"),
                         ("Routes", "destination"), ("Stocks", "country"), ("Projects", "country")),
                   names(("Commodities", "code"), ("Supply", "commodity"), ("Demand", "commodity"),
                         ("Routes", "commodity"), ("Recipes", "output"), ("Recipes", "input"),
                         ("Stocks", "commodity"), ("Projects", "commodity"), ("ShareLimits", "commodity"),
                         ("ContentRules", "commodity")),
                   np.asarray(periods, dtype=np.int64))

    @functools.cached_property
    def _code_of(self) -> tuple[dict[str, int], dict[str, int]]:
        # a dict, not pd.Index.get_indexer: most look-ups are a few names, where pandas costs 0.2 ms each
        return {v: i for i, v in enumerate(self.country)}, {v: i for i, v in enumerate(self.commodity)}

    def c(self, names: np.ndarray) -> np.ndarray:
        """Country codes of `names` (-1 for a blank or an unknown name)."""
        return _codes(self._code_of[0], names)

    def k(self, names: np.ndarray) -> np.ndarray:
        """Commodity codes of `names` (-1 for a blank)."""
        return _codes(self._code_of[1], names)

    def t(self, years: np.ndarray) -> np.ndarray:
        """Positions in T of `years` (each one a period of T)."""
        return np.searchsorted(self.periods, np.asarray(years).astype(np.int64)).astype(np.int64)

    def cell(self, commodities: np.ndarray, years: np.ndarray) -> np.ndarray:
        """The (commodity, period) cell k * |T| + t of each pair; -1 for a name or year not in the sets."""
        _, _, n_t = self.sizes
        k, years = self.k(commodities), np.asarray(years).astype(np.int64)
        if not n_t:
            return np.full(len(k), -1, dtype=np.int64)
        t = np.minimum(np.searchsorted(self.periods, years), n_t - 1)
        return np.where((k >= 0) & (self.periods[t] == years), k * n_t + t, -1)

    @property
    def sizes(self) -> tuple[int, int, int]:
        """(|countries|, |commodities|, |T|): the radixes of the combined keys."""
        return len(self.country), len(self.commodity), len(self.periods)

    def node(self, k: np.ndarray, t: np.ndarray, c: np.ndarray) -> np.ndarray:
        """The int64 key of (commodity, period, country), in the order N is sorted by."""
        n_c, _, n_t = self.sizes
        return (k.astype(np.int64) * n_t + t) * n_c + c

    def split(self, node: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(k, t, c) of node keys."""
        n_c, _, n_t = self.sizes
        return node // (n_c * n_t), (node // n_c) % n_t, node % n_c


def _codes(code_of: dict[str, int], names: np.ndarray) -> np.ndarray:
    """The code of each name (-1: blank or unknown)."""
    get = code_of.get
    return np.fromiter((get(v, -1) for v in np.asarray(names, dtype=object).tolist()), np.int64, count=len(names))


def key_table(**columns: np.ndarray) -> pd.DataFrame:
    """A key table from arrays; names stay `object`, as the workbook's tables hold them."""
    return pd.DataFrame({name: pd.Series(v, dtype=v.dtype, copy=False) for name, v in columns.items()})


def match_codes(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with left[i] == right[j] (non-negative int codes), i ascending and, for each i,
    j ascending: an inner join in the order DataFrame.merge gives, without a hash join."""
    n = int(max(left.max(initial=-1), right.max(initial=-1))) + 1
    order = np.argsort(right, kind="stable")
    counts = np.bincount(right, minlength=n)
    starts = np.cumsum(counts) - counts
    reps = counts[left]
    i = np.repeat(np.arange(len(left)), reps)
    offset = np.arange(len(i)) - np.repeat(np.cumsum(reps) - reps, reps)
    return i, order[starts[left][i] + offset]


def look_up(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[j] where keys[j] == query (keys unique), -1 where no key matches."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    at = np.minimum(np.searchsorted(sk, queries), max(len(sk) - 1, 0))
    hit = sk[at] == queries if len(sk) else np.zeros(len(queries), dtype=bool)
    return np.where(hit, values[order][at] if len(sk) else -1, -1).astype(np.int64)


def _expand(table: pd.DataFrame, codes: Codes) -> tuple[np.ndarray, np.ndarray]:
    """Supply or Demand rows with a blank period repeated for every period of T, a row naming the
    period winning over them: (row position, period position) per entry, in (country, commodity,
    period) order."""
    _, n_k, n_t = codes.sizes
    c, k = codes.c(column_values(table, "country")), codes.k(column_values(table, "commodity"))
    year = column_values(table, "period").astype(float, copy=False)
    named, blank = np.flatnonzero(~np.isnan(year)), np.flatnonzero(np.isnan(year))
    pos = np.concatenate([named, np.repeat(blank, n_t)])
    t = np.concatenate([codes.t(year[named]), np.tile(np.arange(n_t, dtype=np.int64), len(blank))])
    key = (c[pos] * n_k + k[pos]) * n_t + t
    keep = np.ones(len(pos), dtype=bool)
    keep[len(named):] = ~np.isin(key[len(named):], key[:len(named)])
    order = np.argsort(key[keep], kind="stable")
    return pos[keep][order], t[keep][order]


@dataclass(frozen=True)
class SupplySet:
    """S as codes, in key-table order: Supply rows (blank periods expanded), then project supplies."""

    c: np.ndarray
    k: np.ndarray
    t: np.ndarray
    row: np.ndarray  # Supply row (Excel); -1 for a project's supply
    project: np.ndarray  # Projects position; -1 for a Supply row
    project_name: np.ndarray  # object: Projects.project, None for a Supply row

    def frame(self, codes: Codes) -> pd.DataFrame:
        return key_table(country=codes.country[self.c], commodity=codes.commodity[self.k],
                         period=codes.periods[self.t], row=self.row, project=self.project_name)


def _supply(data: InputData, codes: Codes) -> SupplySet:
    """S: Supply rows expanded over T, then each project's supply in every period from its first
    (SP, planning.py)."""
    table, proj = data["Supply"], data["Projects"]
    pos, t = _expand(table, codes)
    n_t = len(codes.periods)
    first = planning.first_periods(data, codes.periods.tolist())
    p = np.repeat(np.arange(len(proj), dtype=np.int64), n_t)
    pt = np.tile(np.arange(n_t, dtype=np.int64), len(proj))
    on = codes.periods[pt] >= first[p]
    p, pt = p[on], pt[on]
    return SupplySet(
        c=np.concatenate([codes.c(column_values(table, "country"))[pos], codes.c(column_values(proj, "country"))[p]]),
        k=np.concatenate([codes.k(column_values(table, "commodity"))[pos],
                          codes.k(column_values(proj, "commodity"))[p]]),
        t=np.concatenate([t, pt]),
        row=np.concatenate([column_values(table, "row")[pos].astype(np.int64), np.full(len(p), -1, np.int64)]),
        project=np.concatenate([np.full(len(pos), -1, np.int64), p]),
        project_name=np.concatenate([np.full(len(pos), None, dtype=object),
                                     column_values(proj, "project").astype(object, copy=False)[p]]))


@dataclass(frozen=True)
class NeedSet:
    """N as sorted node keys (Codes.node), with the Demand row of each (-1: none)."""

    key: np.ndarray
    row: np.ndarray

    def frame(self, codes: Codes) -> pd.DataFrame:
        k, t, c = codes.split(self.key)
        return key_table(country=codes.country[c], commodity=codes.commodity[k], period=codes.periods[t], row=self.row)


def _needs(data: InputData, codes: Codes, supply: SupplySet) -> NeedSet:
    """N: final demand, the recipe inputs of every supply (its country makes the output there),
    and every stock's (d, k, t) (planning.py), each once, sorted by commodity, period, country."""
    demand = data["Demand"]
    pos, t = _expand(demand, codes)
    demand_key = codes.node(codes.k(column_values(demand, "commodity"))[pos], t,
                            codes.c(column_values(demand, "country"))[pos])
    recipes = data["Recipes"]
    s, r = match_codes(supply.k, codes.k(column_values(recipes, "output")))
    input_key = codes.node(codes.k(column_values(recipes, "input"))[r], supply.t[s], supply.c[s])
    stocks = data["Stocks"]
    n_t = len(codes.periods)
    stock_key = codes.node(np.repeat(codes.k(column_values(stocks, "commodity")), n_t),
                           np.tile(np.arange(n_t, dtype=np.int64), len(stocks)),
                           np.repeat(codes.c(column_values(stocks, "country")), n_t))
    key = np.unique(np.concatenate([demand_key, input_key, stock_key]))
    rows = column_values(demand, "row")[pos].astype(np.int64)
    return NeedSet(key, look_up(demand_key, rows, key))


@dataclass(frozen=True)
class FlowSet:
    """F as positions in S and N, in key-table order (commodity, period, origin, destination)."""

    supply: np.ndarray
    need: np.ndarray
    route_row: np.ndarray  # the Routes row that applies (Excel), -1 for none
    o: np.ndarray  # origin, destination, commodity and period codes
    d: np.ndarray
    k: np.ndarray
    t: np.ndarray
    china_origin: np.ndarray
    china_dest: np.ndarray

    def frame(self, codes: Codes) -> pd.DataFrame:
        return key_table(origin=codes.country[self.o], commodity=codes.commodity[self.k], period=codes.periods[self.t],
                         supply_id=self.supply, destination=codes.country[self.d], need_id=self.need,
                         route_row=self.route_row, china_origin=self.china_origin, china_dest=self.china_dest)


def _flows(data: InputData, codes: Codes, supply: SupplySet, needs: NeedSet, china: set[str]) -> FlowSet:
    """F: every supply with every need of its (commodity, period), where o = d or a route allows it.

    N is sorted by (commodity, period, country), so the needs of one (k, t) are a run sorted by
    destination: taking the supplies in (k, t, o) order and each one's run gives F in its order."""
    n_c, _, n_t = codes.sizes
    cell = supply.k * n_t + supply.t
    k_n, t_n, _ = codes.split(needs.key)
    s_key = cell * n_c + supply.c
    by_origin = np.argsort(s_key, kind="stable")
    i, need = match_codes(cell[by_origin], k_n * n_t + t_n)
    sid = by_origin[i]
    if len(s_key) and np.unique(s_key).size < len(s_key):  # two supplies of one (o, k, t): by destination first
        order = np.lexsort((sid, needs.key[need], s_key[sid]))
        sid, need = sid[order], need[order]
    o, d = supply.c[sid], codes.split(needs.key)[2][need]
    k, t = supply.k[sid], supply.t[sid]
    route_row = _route_rows(data, codes, o, d, k)
    domestic = o == d
    route_row[domestic] = -1
    if data.settings.unlisted_routes == "blocked":
        keep = domestic | (route_row >= 0)
        sid, need, route_row, o, d, k, t = (a[keep] for a in (sid, need, route_row, o, d, k, t))
    in_china = np.isin(codes.country, np.array(sorted(china), dtype=object))
    return FlowSet(sid.astype(np.int64), need.astype(np.int64), route_row, o, d, k, t, in_china[o], in_china[d])


def _route_rows(data: InputData, codes: Codes, o: np.ndarray, d: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The Routes row of each flow: a row naming the commodity beats a blank-commodity row."""
    routes = data["Routes"]
    if routes.empty:
        return np.full(len(o), -1, dtype=np.int64)
    n_c, n_k, _ = codes.sizes
    pair = codes.c(column_values(routes, "origin")) * n_c + codes.c(column_values(routes, "destination"))
    rk = codes.k(column_values(routes, "commodity"))
    row = column_values(routes, "row").astype(np.int64)
    generic = rk < 0
    flow_pair = o * n_c + d
    specific = look_up(pair[~generic] * n_k + rk[~generic], row[~generic], flow_pair * n_k + k)
    return np.where(specific >= 0, specific, look_up(pair[generic], row[generic], flow_pair))


def _recipes(data: InputData) -> pd.DataFrame:
    return data["Recipes"][["output", "input", "row"]].reset_index(drop=True)


def _caps(data: InputData, periods: list[int]) -> pd.DataFrame:
    """One entry per capped commodity (Commodities order) and period."""
    com = data["Commodities"]
    capped = np.flatnonzero(~np.isnan(column_values(com, "china_cap").astype(float, copy=False)))
    n_t = len(periods)
    return key_table(commodity=column_values(com, "code").astype(object, copy=False)[np.repeat(capped, n_t)],
                     period=np.tile(np.asarray(periods, dtype=np.int64), len(capped)),
                     row=column_values(com, "row")[np.repeat(capped, n_t)].astype(np.int64))


LIMIT_COLUMNS = ["limit_row", "commodity", "period", "source", "members"]


def _limits(data: InputData, codes: Codes, supply: SupplySet) -> pd.DataFrame:
    """One entry per ShareLimits row and (commodity, period) it covers (a blank: every commodity in
    Commodities order, every period), with the source's members: the country itself when `source`
    is a country code, every country of that group, or for `each` one entry per origin country with
    a supply of that (commodity, period), in name order (issue 13: the limit applies to every single
    country separately, as in the EU CRMA's "no more than 65% from a single third country")."""
    lim = data["ShareLimits"]
    if lim.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in LIMIT_COLUMNS})
    countries = data["Countries"]
    code, group = column_values(countries, "code"), column_values(countries, "group")
    all_k = column_values(data["Commodities"], "code").astype(object, copy=False)
    n_c, _, n_t = codes.sizes
    # the origins of each (commodity, period): a run of sorted node keys per cell
    origin = np.unique(codes.node(supply.k, supply.t, supply.c))
    origin_cell = origin // n_c
    parts: list[tuple] = []
    for r_row, r_k, r_t, source in zip(column_values(lim, "row"), column_values(lim, "commodity"),
                                       column_values(lim, "period"), column_values(lim, "source"), strict=True):
        ks = all_k if pd.isna(r_k) else np.array([r_k], dtype=object)
        ts = codes.periods if np.isnan(r_t) else np.array([int(r_t)], dtype=np.int64)
        k = np.repeat(ks, len(ts))
        t = np.tile(ts, len(ks))
        if source != EACH_SOURCE:
            members = frozenset([source]) if source in set(code) else frozenset(code[group == source])
            parts.append((np.full(len(k), r_row), k, t, _objects([source] * len(k)), _objects([members] * len(k))))
            continue
        cell = codes.k(k) * n_t + codes.t(t)
        lo, hi = np.searchsorted(origin_cell, cell), np.searchsorted(origin_cell, cell, side="right")
        i = np.repeat(np.arange(len(k)), hi - lo)
        at = lo[i] + np.arange(len(i)) - np.repeat(np.cumsum(hi - lo) - (hi - lo), hi - lo)
        names = codes.country[origin[at] % n_c]
        parts.append((np.full(len(i), r_row), k[i], t[i], names, _objects([frozenset([c]) for c in names])))
    out = {name: np.concatenate([p[j] for p in parts]) for j, name in enumerate(LIMIT_COLUMNS)}
    # the old joins left the names as `str` unless `each` rows were expanded (kept for equal tables)
    text = object if (column_values(lim, "source") == EACH_SOURCE).any() else "str"
    return pd.DataFrame({"limit_row": pd.Series(out["limit_row"].astype(np.int64)),
                         "commodity": pd.Series(out["commodity"], dtype=text),
                         "period": pd.Series(out["period"].astype(np.int64)),
                         "source": pd.Series(out["source"], dtype=text),
                         "members": pd.Series(out["members"], dtype=object)})


def _objects(values: list) -> np.ndarray:
    """A 1-d object array of `values` (each frozenset one element, not a sequence to unpack)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@dataclass(frozen=True)
class IndexCodes:
    """The sets as codes, kept with the Index (memo "codes") for the constraint patterns."""

    codes: Codes
    need_key: np.ndarray  # N's node keys (sorted)
    flows: FlowSet


def index_codes(ix: Index) -> IndexCodes:
    """The Index's sets as codes: kept from the build, or (an Index made otherwise) from its tables."""
    return ix.structural("codes", lambda: _codes_of_tables(ix))


def _codes_of_tables(ix: Index) -> IndexCodes:
    f, n = ix.keys["flows"], ix.keys["needs"]
    def names(*cols: pd.Series) -> np.ndarray:
        return np.array(sorted(set().union(*(set(c) for c in cols))), dtype=object)

    codes = Codes(names(f["origin"], f["destination"], n["country"]), names(f["commodity"], n["commodity"]),
                  np.asarray(ix.periods, dtype=np.int64))
    need_key = codes.node(codes.k(n["commodity"].to_numpy()), codes.t(n["period"].to_numpy()),
                          codes.c(n["country"].to_numpy()))
    flows = FlowSet(f["supply_id"].to_numpy(np.int64), f["need_id"].to_numpy(np.int64),
                    f["route_row"].to_numpy(np.int64), codes.c(f["origin"].to_numpy()),
                    codes.c(f["destination"].to_numpy()), codes.k(f["commodity"].to_numpy()),
                    codes.t(f["period"].to_numpy()), f["china_origin"].to_numpy(bool), f["china_dest"].to_numpy(bool))
    return IndexCodes(codes, need_key, flows)


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


def content_rules(data: InputData, codes: Codes, flows: FlowSet, china: set[str]) -> pd.DataFrame:
    """One entry per ContentRules row and period it covers (issue 13), with the destination's members:
    the country itself, every country of a group, or (blank) every country outside the China group.
    A row naming the period wins over a blank-period row of the same (commodity, destination); only
    entries that some flow reaches exist.
        rules: rule_row, commodity, period, destination, members"""
    rules = data["ContentRules"]
    if rules.empty:
        return _no_rules()
    countries = data["Countries"]
    names = set(countries["code"])
    everyone = set(names) - china
    n_c = codes.sizes[0]
    reached = set(np.unique(codes.node(flows.k, flows.t, flows.d)).tolist())  # (k, t, d) some flow reaches
    named = {(r.commodity, r.destination if isinstance(r.destination, str) else None, int(r.period))
             for r in rules.itertuples() if pd.notna(r.period)}
    rows = []
    for r in rules.itertuples():
        dest = r.destination if isinstance(r.destination, str) else None
        if dest is None:
            members = everyone
        elif dest in names:
            members = {dest}
        else:
            members = set(countries.loc[countries["group"] == dest, "code"])
        d = codes.c(np.array(sorted(members), dtype=object))
        d = d[d >= 0]
        for t in codes.periods.tolist() if pd.isna(r.period) else [int(r.period)]:
            if pd.isna(r.period) and (r.commodity, dest, t) in named:
                continue
            cell = int(codes.cell(np.array([r.commodity], dtype=object), np.array([t]))[0])
            if cell >= 0 and not reached.isdisjoint((cell * n_c + d).tolist()):
                rows.append((int(r.row), r.commodity, t, dest, frozenset(members)))
    if not rows:
        return _no_rules()
    return pd.DataFrame(rows, columns=RULE_COLUMNS).astype({"rule_row": "int64", "period": "int64"})


RULE_COLUMNS = ["rule_row", "commodity", "period", "destination", "members"]


def _no_rules() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c in ("rule_row", "period") else "object")
                         for c in RULE_COLUMNS})
