"""Sets: which supplies, needs and flows exist. Only combinations that can exist are indexed.

    T        periods: every year named in Supply, Demand or ShareLimits
    S        supplies (o, k, t): Supply rows, a blank period expanded to every period
    N        needs (d, k, t): Demand rows, plus every input k of a recipe whose output d produces in t
    F ⊆ S×N  flows (o, d, k, t): a supply and a need of the same commodity and period, where
             o = d (always allowed, free) or the route o -> d is allowed for k
    C        the China group: Countries whose group is Settings.china_group

Wildcards: a row with a period (Supply, Demand) or a commodity (Routes) takes precedence over a
row that leaves it blank for the same other keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from model.data import InputData


@dataclass
class Index:
    """The index tables of the LP; every table is long-form with the workbook's column names."""

    periods: list[int]
    china: set[str]
    supply: pd.DataFrame  # country, commodity, period, capacity, unit_cost, row
    needs: pd.DataFrame  # country, commodity, period, quantity, row (Demand row or -1)
    flows: pd.DataFrame  # origin, destination, commodity, period, supply_id, need_id, unit_cost,
    #                      route_cost, route_max, route_row, risk, china_origin, china_dest
    recipes: pd.DataFrame  # output, input, quantity, row
    caps: pd.DataFrame  # commodity, period, china_cap, row
    limits: pd.DataFrame  # limit_row, commodity, period, source, min_share, max_share
    penalty: pd.Series  # shortfall penalty per commodity code
    risk_weight: float
    structure: Structure | None = field(default=None, repr=False)  # what it was built from
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # structure-only arrays, shared

    def structural(self, name: str, make: Callable[[], Any]) -> Any:
        """Arrays that depend only on the structure (which rows exist), computed once and shared
        by every Index refreshed from this one: what-if re-solves skip the joins."""
        if name not in self.memo:
            self.memo[name] = make()
        return self.memo[name]


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
}
BLANK_MATTERS: dict[str, tuple[str, ...]] = {  # a blank here removes rows: its pattern is structure
    "Commodities": ("china_cap",),
    "ShareLimits": ("min_share", "max_share"),
}


@dataclass(frozen=True)
class Structure:
    """What decides the LP's shape (not its numbers): the settings that shape it and, per sheet,
    the key columns and the blank pattern of BLANK_MATTERS columns, as they were at build time."""

    settings: tuple[str, str]
    columns: dict[tuple[str, str], pd.Series]

    def matches(self, data: InputData) -> bool:
        if self.settings != _shaping_settings(data):
            return False
        return all(_structure_column(data, sheet, col).equals(kept) for (sheet, col), kept in self.columns.items())


def _shaping_settings(data: InputData) -> tuple[str, str]:
    return (data.settings.china_group, data.settings.unlisted_routes)


def _structure_column(data: InputData, sheet: str, col: str) -> pd.Series:
    if col.endswith("_blank"):
        return data[sheet][col.removesuffix("_blank")].isna()
    return data[sheet][col]


def structure_of(data: InputData) -> Structure | None:
    """The structure of `data`; None when rows cannot be told apart (a table without unique `row`
    numbers), so nothing is re-used."""
    if not all(data[sheet]["row"].is_unique for sheet in STRUCTURE_COLUMNS):
        return None
    names = [(sheet, col) for sheet, cols in STRUCTURE_COLUMNS.items() for col in cols]
    names += [(sheet, col + "_blank") for sheet, cols in BLANK_MATTERS.items() for col in cols]
    return Structure(_shaping_settings(data), {n: _structure_column(data, *n).copy() for n in names})


def refresh_index(ix: Index, data: InputData) -> Index:
    """The Index of `data`, whose structure equals `ix`'s: only the numbers are gathered anew."""
    pos = ix.structural("refresh.positions", lambda: _positions(ix, data))

    def take(sheet: str, col: str, where: np.ndarray, missing: float) -> np.ndarray:
        values = data[sheet][col].to_numpy(dtype=float)
        out = np.full(len(where), missing)
        ok = where >= 0
        out[ok] = values[where[ok]]
        return np.where(np.isnan(out), missing, out)

    supply = ix.supply.copy()
    supply["capacity"] = take("Supply", "capacity", pos["Supply"], np.nan)
    supply["unit_cost"] = take("Supply", "unit_cost", pos["Supply"], np.nan)
    needs = ix.needs.copy()
    needs["quantity"] = take("Demand", "quantity", pos["Demand"], 0.0)
    flows = ix.flows.copy()
    flows["unit_cost"] = supply["unit_cost"].to_numpy()[flows["supply_id"].to_numpy()]
    flows["route_cost"] = take("Routes", "cost_per_unit", pos["Routes"], 0.0)
    flows["route_max"] = take("Routes", "max_quantity", pos["Routes"], np.inf)
    flows["risk"] = take("Countries", "risk", pos["Countries"], 0.0)
    caps = ix.caps.copy()
    caps["china_cap"] = take("Commodities", "china_cap", pos["Commodities"], np.nan)
    limits = ix.limits.copy()
    if len(limits):
        limits["min_share"] = take("ShareLimits", "min_share", pos["ShareLimits"], np.nan)
        limits["max_share"] = take("ShareLimits", "max_share", pos["ShareLimits"], np.nan)
    recipes = data["Recipes"][["output", "input", "quantity", "row"]].reset_index(drop=True)
    return replace(ix, supply=supply, needs=needs, flows=flows, caps=caps, limits=limits, recipes=recipes,
                   penalty=shortfall_penalties(data), risk_weight=float(data.settings.risk_weight))


def _positions(ix: Index, data: InputData) -> dict[str, np.ndarray]:
    """Where each index entry's numbers sit in the input tables (-1: nowhere, take the default).
    The same for every workbook of this structure, so computed once."""

    def at(sheet: str, rows: pd.Series) -> np.ndarray:
        return pd.Index(data[sheet]["row"]).get_indexer(rows.to_numpy())

    countries = pd.Index(data["Countries"]["code"])
    return {
        "Supply": at("Supply", ix.supply["row"]),
        "Demand": at("Demand", ix.needs["row"]),
        "Routes": at("Routes", ix.flows["route_row"]),
        "Countries": countries.get_indexer(ix.flows["origin"].to_numpy()),
        "Commodities": at("Commodities", ix.caps["row"]),
        "ShareLimits": at("ShareLimits", ix.limits["limit_row"]) if len(ix.limits) else np.zeros(0, int),
    }


def build_index(data: InputData, *, reuse: Index | None = None) -> Index:
    """The LP's index tables. With `reuse` of the same structure, only the numbers are refreshed."""
    if reuse is not None and reuse.structure is not None and reuse.structure.matches(data):
        return refresh_index(reuse, data)
    index = _build_index(data)
    index.structure = structure_of(data)
    return index


def _build_index(data: InputData) -> Index:
    periods = data.periods
    countries = data["Countries"]
    china = set(countries.loc[countries["group"] == data.settings.china_group, "code"])
    supply = expand_periods(data["Supply"], periods, ["country", "commodity"])
    demand = expand_periods(data["Demand"], periods, ["country", "commodity"])
    recipes = data["Recipes"][["output", "input", "quantity", "row"]].reset_index(drop=True)
    needs = _needs(supply, demand, recipes)
    flows = _flows(supply, needs, data)
    risk = countries.set_index("code")["risk"].fillna(0.0)
    flows["risk"] = flows["origin"].map(risk).fillna(0.0).to_numpy()
    flows["china_origin"] = flows["origin"].isin(china).to_numpy()
    flows["china_dest"] = flows["destination"].isin(china).to_numpy()
    return Index(
        periods=periods,
        china=china,
        supply=supply,
        needs=needs,
        flows=flows,
        recipes=recipes,
        caps=_caps(data, periods),
        limits=_limits(data, periods),
        penalty=shortfall_penalties(data),
        risk_weight=float(data.settings.risk_weight),
    )


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
    """Per commodity: its own penalty, else Settings.shortfall_penalty, else the documented default
    1000 x the largest of 1 and every unit or route cost in the workbook."""
    default = data.settings.shortfall_penalty
    if default is None:
        costs = [1.0, data["Supply"]["unit_cost"].max(), data["Routes"]["cost_per_unit"].max()]
        default = 1000.0 * max(float(c) for c in costs if pd.notna(c))
    com = data["Commodities"]
    return pd.Series(com["shortfall_penalty"].fillna(default).to_numpy(), index=com["code"].to_numpy())
