"""Regenerate inputs/base_case.xlsx from the source tables, deterministically.

    python inputs/build_base_case.py            # writes inputs/base_case.xlsx
    python inputs/build_base_case.py OUT.xlsx   # writes elsewhere

Inputs (nothing else is read):
  inputs/sources/public_figures.csv  published figures (USGS, IEA, SIA/BCG, TrendForce, CSET/ETO, ...)
  inputs/sources/assumptions.csv     every judgement, one row per id, with its basis

Every numeric input cell is computed from figures and assumptions that are named where the cell is
written, and the workbook's `Sources` sheet lists, for each such cell, its sheet, row, column, value,
unit, the publication(s) it comes from, year, table/page and a confidence (published, derived,
assumption). docs/base_case.md explains every rule.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

os.environ.setdefault("OPENPYXL_LXML", "False")  # byte-stable: openpyxl's own XML writer, not lxml's

import openpyxl

HERE = Path(__file__).resolve().parent
FIGURES = HERE / "sources" / "public_figures.csv"
ASSUMPTIONS = HERE / "sources" / "assumptions.csv"
OUTPUT = HERE / "base_case.xlsx"
FIXED_TIME = datetime(2026, 1, 1, 0, 0, 0)
PERIODS = (2026, 2027, 2028, 2029, 2030)

# --------------------------------------------------------------------------------------------
# Values that remember where they come from
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    kind: str  # "F" (public_figures.csv line) or "A" (assumptions.csv id)
    key: str


@dataclass
class V:
    """A number with the figures and assumptions it was computed from."""

    value: float
    refs: tuple[Ref, ...] = ()
    computed: bool = False  # True once arithmetic touched it (then it is at best "derived")

    def _join(self, other, value):
        o_refs = other.refs if isinstance(other, V) else ()
        refs = tuple(dict.fromkeys(self.refs + o_refs))
        return V(value, refs, True)

    def __add__(self, o):
        return self._join(o, self.value + _v(o))

    def __sub__(self, o):
        return self._join(o, self.value - _v(o))

    def __mul__(self, o):
        return self._join(o, self.value * _v(o))

    def __truediv__(self, o):
        return self._join(o, self.value / _v(o))

    def __pow__(self, n):
        return V(self.value ** n, self.refs, True)

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, o):
        return self._join(o, _v(o) - self.value)

    def confidence(self) -> str:
        kinds = {r.kind for r in self.refs}
        if kinds == {"F"} and not self.computed:
            return "published"
        return "derived" if "F" in kinds else "assumption"


def _v(x) -> float:
    return x.value if isinstance(x, V) else float(x)


def const(x: float) -> V:
    return V(float(x), (), False)


# --------------------------------------------------------------------------------------------
# Source tables
# --------------------------------------------------------------------------------------------

COUNTRY_ISO = {
    "United States": "USA", "Australia": "AUS", "Chile": "CHL", "China": "CHN", "Zimbabwe": "ZWE",
    "Argentina": "ARG", "Brazil": "BRA", "Canada": "CAN", "Namibia": "NAM", "Portugal": "PRT",
    "DR Congo": "COD", "Indonesia": "IDN", "Russia": "RUS", "Philippines": "PHL", "Cuba": "CUB",
    "Papua New Guinea": "PNG", "Turkey": "TUR", "Madagascar": "MDG", "New Caledonia": "NCL",
    "Mozambique": "MOZ", "India": "IND", "Tanzania": "TZA", "South Korea": "KOR", "Myanmar": "MMR",
    "Nigeria": "NGA", "Thailand": "THA", "Vietnam": "VNM", "Malaysia": "MYS", "Japan": "JPN",
    "Belgium": "BEL", "Peru": "PER", "Germany": "DEU", "Bolivia": "BOL", "Rwanda": "RWA",
    "Austria": "AUT", "Tajikistan": "TJK", "Taiwan": "TWN", "Singapore": "SGP", "Netherlands": "NLD",
}


@dataclass
class Figure:
    line: int  # line number in public_figures.csv (header is line 1)
    row: dict[str, str]

    @property
    def source(self) -> str:
        return self.row["source"]

    @property
    def secondary(self) -> bool:
        return "secondary" in self.row["source"].lower() or "secondary" in self.row["share_of_world"].lower()

    def ref(self) -> Ref:
        return Ref("F", str(self.line))

    def quantity(self) -> V:
        return V(float(self.row["quantity"]), (self.ref(),))

    def share(self) -> V:
        """Share of world in percent; '~70 (secondary)' -> 70. Only exact or '~' values are numbers."""
        text = self.row["share_of_world"].replace("(secondary)", "").replace("~", "").strip()
        return V(float(text), (self.ref(),))

    def price(self) -> V:
        return V(float(self.row["price_usd_per_unit"]), (self.ref(),))


def load_figures() -> list[Figure]:
    with FIGURES.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [Figure(i + 2, r) for i, r in enumerate(rows)]


def load_assumptions() -> dict[str, dict[str, str]]:
    with ASSUMPTIONS.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out: dict[str, dict[str, str]] = {}
    for r in rows:
        if r["id"] in out:
            raise ValueError(f"assumption {r['id']} is defined twice")
        out[r["id"]] = r
    return out


FIGS = load_figures()
ASSUME = load_assumptions()
USED_ASSUMPTIONS: set[str] = set()


def fig(commodity: str, stage: str, country: str, year: str) -> Figure:
    hits = [f for f in FIGS if (f.row["commodity"], f.row["stage"], f.row["country"], f.row["year"])
            == (commodity, stage, country, year)]
    if len(hits) != 1:
        raise KeyError(f"figure {commodity}/{stage}/{country}/{year}: {len(hits)} matches")
    return hits[0]


def figs(commodity: str, stage: str) -> list[Figure]:
    """Per-country rows of one stage (World rows excluded), in file order."""
    return [f for f in FIGS if f.row["commodity"] == commodity and f.row["stage"] == stage
            and not f.row["country"].startswith("World")]


def A(key: str) -> V:
    USED_ASSUMPTIONS.add(key)
    return V(float(ASSUME[key]["value"]), (Ref("A", key),))


def has(key: str) -> bool:
    return key in ASSUME


def A_first(*keys: str) -> V:
    for k in keys:
        if has(k):
            return A(k)
    raise KeyError(keys)


# --------------------------------------------------------------------------------------------
# Countries
# --------------------------------------------------------------------------------------------

PAX_SILICA = ("JPN", "KOR", "SGP", "NLD", "GBR", "ISR", "ARE", "AUS")
ALLIED = ("CAN", "DEU", "BEL", "FIN", "NOR", "EST", "PRT", "AUT", "TWN")
HIGH_RISK = ("RUS", "MMR", "CUB")
NAMES = {
    "USA": "United States", "JPN": "Japan", "KOR": "South Korea", "SGP": "Singapore", "NLD": "Netherlands",
    "GBR": "United Kingdom", "ISR": "Israel", "ARE": "United Arab Emirates", "AUS": "Australia",
    "CHN": "China", "FIN": "Finland", "NOR": "Norway", "EST": "Estonia",
    **{iso: name for name, iso in COUNTRY_ISO.items()},
}


def access_class(iso: str) -> str:
    if iso == "USA" or iso in PAX_SILICA:
        return "partner"
    if iso == "CHN":
        return "china"
    if iso in ALLIED:
        return "allied"
    if iso in HIGH_RISK:
        return "high_risk"
    return "other"


def group(iso: str) -> str:
    return {"USA": "US", "CHN": "China"}.get(iso, "Pax Silica" if iso in PAX_SILICA else "Other")


def risk(iso: str) -> V:
    cls = access_class(iso)
    if iso == "USA":
        return A("risk.US")
    if has(f"risk.{iso}"):
        return A(f"risk.{iso}")
    return A(f"risk.{cls}")


# --------------------------------------------------------------------------------------------
# Commodities: production at the base year, growth, prices, recipes
# --------------------------------------------------------------------------------------------

COMMODITIES = (
    # code, name, unit, base year of its production figures
    ("LI_MINE", "Lithium, mined (Li content)", "t Li", 2024),
    ("LI_REF", "Lithium chemicals, refined (Li content)", "t Li", 2024),
    ("CO_MINE", "Cobalt, mined", "t Co", 2024),
    ("CO_REF", "Cobalt, refined", "t Co", 2024),
    ("NI_MINE", "Nickel, mined", "t Ni", 2024),
    ("NI_REF", "Nickel, refined", "t Ni", 2024),
    ("GR_NAT", "Graphite, natural (flake)", "t", 2024),
    ("GR_BAT", "Graphite, battery grade (spherical, purified)", "t", 2024),
    ("REE_MINE", "Rare earths, mined (REO content)", "t REO", 2024),
    ("REE_SEP", "Rare earths, separated magnet oxides (NdPr, Dy, Tb)", "t REO", 2024),
    ("MAGNET", "NdFeB permanent magnets (sintered)", "t", 2024),
    ("GA_PRI", "Gallium, primary (low purity)", "t Ga", 2024),
    ("GA_HP", "Gallium, high purity (refined)", "t Ga", 2024),
    ("GE", "Germanium, refined (primary)", "t Ge", 2022),
    ("CU_MINE", "Copper, mined", "t Cu", 2024),
    ("CU_REF", "Copper, refined", "t Cu", 2024),
    ("W", "Tungsten, mined (W content)", "t W", 2024),
    ("SB", "Antimony, mined", "t Sb", 2024),
    ("POLYSI", "Polysilicon, semiconductor grade", "t", 2024),
    ("WAFER", "Silicon wafers, prime (300 mm equivalent)", "k wafers", 2024),
    ("LOGIC_LE", "Leading-edge logic (<10 nm), processed wafers", "k wafers", 2024),
    ("LOGIC_MAT", "Mature-node logic (>=10 nm), processed wafers", "k wafers", 2024),
    ("DRAM", "DRAM, processed wafers", "k wafers", 2024),
    ("ATP", "Assembly, test and packaging (packaged chips)", "k wafer-eq.", 2024),
)
UNIT = {c[0]: c[2] for c in COMMODITIES}
BASE_YEAR = {c[0]: c[3] for c in COMMODITIES}

RECIPES = (
    ("LI_REF", "LI_MINE"), ("CO_REF", "CO_MINE"), ("NI_REF", "NI_MINE"), ("GR_BAT", "GR_NAT"),
    ("REE_SEP", "REE_MINE"), ("MAGNET", "REE_SEP"), ("GA_HP", "GA_PRI"), ("CU_REF", "CU_MINE"),
    ("WAFER", "POLYSI"), ("LOGIC_LE", "WAFER"), ("LOGIC_MAT", "WAFER"), ("DRAM", "WAFER"),
    ("ATP", "LOGIC_LE"), ("ATP", "LOGIC_MAT"), ("ATP", "DRAM"),
)

# Whose coalition consumption share sets China's pro-rata access for an ore tier without its own.
C_FROM = {"LI_MINE": "LI_REF", "CO_MINE": "CO_REF", "NI_MINE": "NI_REF"}

# Final (coalition) demand: commodity -> (world-demand basis key, share key, split key)
FINAL_DEMAND = {
    "LI_REF": ("c", "battery"), "CO_REF": ("c", "battery"), "NI_REF": ("c", "battery"),
    "GR_NAT": ("direct", "general"), "GR_BAT": ("c", "battery"), "REE_SEP": ("direct", "magnet"),
    "MAGNET": ("c", "magnet"), "GA_HP": ("c", "general"), "GE": ("c", "general"),
    "CU_REF": ("c", "general"), "W": ("c", "general"), "SB": ("c", "general"), "ATP": ("c", "chips"),
}


def iso(name: str) -> str:
    return COUNTRY_ISO[name]


def world_and_shares() -> tuple[dict[str, V], dict[str, dict[str, V]]]:
    """World output at the base year per commodity, and base-year production per country.

    Production is a figure where USGS/OFR publish tonnages; otherwise share (%) x world output.
    """
    world: dict[str, V] = {}
    prod: dict[str, dict[str, V]] = {}

    def from_stage(code, commodity, stage, world_country="World", year="2024"):
        world[code] = fig(commodity, stage, world_country, year).quantity()
        prod[code] = {iso(f.row["country"]): f.quantity() for f in figs(commodity, stage)}

    def from_shares(code, shares: dict[str, V]):
        prod[code] = {c: world[code] * s / 100 for c, s in shares.items()}

    def assumed_shares(code, isos):
        return {c: A(f"share.{code}.{c}") for c in isos}

    # Lithium: USGS excludes the US (withheld); our world adds the assumed US output.
    from_stage("LI_MINE", "lithium", "mine", "World (excl. US)")
    prod["LI_MINE"]["USA"] = A("mine.LI_MINE.USA")
    world["LI_MINE"] = world["LI_MINE"] + prod["LI_MINE"]["USA"]
    world["LI_REF"] = world["LI_MINE"] * 1
    from_shares("LI_REF", {"CHN": fig("lithium", "refining (chemicals)", "China", "2024").share(),
                           **assumed_shares("LI_REF", ("CHL", "ARG", "AUS", "USA", "KOR", "JPN"))})

    from_stage("CO_MINE", "cobalt", "mine")
    world["CO_REF"] = A("world.CO_REF")
    from_shares("CO_REF", {"CHN": fig("cobalt", "refining", "China", "2024").share(),
                           **assumed_shares("CO_REF", ("FIN", "JPN", "CAN", "BEL", "NOR"))})

    from_stage("NI_MINE", "nickel", "mine")
    world["NI_REF"] = A("world.NI_REF")
    from_shares("NI_REF", {"IDN": fig("nickel", "refining", "Indonesia", "2023").share(),
                           "CHN": fig("nickel", "refining", "China", "2023").share(),
                           **assumed_shares("NI_REF", ("JPN", "RUS", "CAN", "AUS", "NOR", "FIN", "BRA",
                                                       "GBR", "KOR"))})

    from_stage("GR_NAT", "graphite (natural)", "mine")
    world["GR_BAT"] = A("world.GR_BAT")
    gr_cn = A("share.GR_BAT.CHN") * 1 + 0 * fig("graphite", "refining (battery-grade)", "China", "2024").ref_v()
    from_shares("GR_BAT", {"CHN": gr_cn, **assumed_shares("GR_BAT", ("KOR", "JPN", "IND", "USA", "CAN"))})

    from_stage("REE_MINE", "rare earths", "mine")
    d23 = fig("magnet REE", "demand", "World", "2023").quantity()
    d30 = fig("magnet REE", "demand", "World", "2030 APS").quantity()
    world["REE_SEP"] = d23 * (d30 / d23) ** (1 / 7)  # 2024 on the IEA 2023 -> 2030 APS path
    from_shares("REE_SEP", {"CHN": fig("rare earths", "separation/refining", "China", "2024").share(),
                            "MYS": fig("rare earths", "refining (magnet REE)", "Malaysia", "2023").share(),
                            **assumed_shares("REE_SEP", ("USA", "JPN", "EST", "IND", "VNM"))})

    world["MAGNET"] = A("world.MAGNET")
    mag_cn = fig("NdFeB magnets", "manufacturing", "China", "2024").share()
    mag_jp = A("share.MAGNET.JPN") * 1 + 0 * fig("NdFeB magnets", "manufacturing", "China", "2023").ref_v()
    from_shares("MAGNET", {"CHN": mag_cn, "JPN": mag_jp,
                           **assumed_shares("MAGNET", ("VNM", "DEU", "KOR", "USA"))})

    from_stage("GA_PRI", "gallium", "primary (low-purity)")
    prod["GA_PRI"]["AUS"] = const(0)  # replaced by the schedule (Alcoa-Sojitz Wagin, not yet running)
    world["GA_HP"] = fig("gallium", "refined (high-purity)", "World", "2024").quantity()
    from_shares("GA_HP", assumed_shares("GA_HP", ("CHN", "JPN", "CAN", "KOR", "USA")))

    from_stage("GE", "germanium", "refined (primary)", year="2022")

    from_stage("CU_MINE", "copper", "mine")
    world["CU_REF"] = fig("copper", "refined", "World", "2024").quantity()
    prod["CU_REF"] = {iso(f.row["country"]): f.quantity() for f in figs("copper", "refined")}

    from_stage("W", "tungsten", "mine")
    from_stage("SB", "antimony", "mine")

    world["POLYSI"] = A("world.POLYSI")
    ge_us = fig("polysilicon (semi-grade)", "production", "Germany+United States", "2024")
    cn_poly = fig("polysilicon (semi-grade)", "production", "China", "2024")
    shares = assumed_shares("POLYSI", ("DEU", "USA", "CHN", "JPN", "KOR", "MYS"))
    for c in ("DEU", "USA"):
        shares[c] = shares[c] + 0 * ge_us.ref_v()
    shares["CHN"] = shares["CHN"] + 0 * cn_poly.ref_v()
    from_shares("POLYSI", shares)

    world["WAFER"] = A("world.WAFER")
    from_shares("WAFER", {iso(f.row["country"]): f.share() for f in figs("semiconductors",
                                                                      "silicon wafers (by firm HQ)")})
    world["LOGIC_LE"] = A("world.LOGIC_LE")
    world["LOGIC_MAT"] = A("world.LOGIC_MAT")
    world["DRAM"] = A("world.DRAM")
    from_shares("DRAM", {iso(f.row["country"]): f.share() for f in figs("semiconductors", "DRAM output")}
                | assumed_shares("DRAM", ("TWN", "JPN", "USA")))
    world["ATP"] = world["LOGIC_LE"] + world["LOGIC_MAT"] + world["DRAM"]
    from_shares("ATP", assumed_shares("ATP", ("TWN", "CHN", "MYS", "KOR", "SGP", "PHL", "VNM", "JPN",
                                              "USA", "THA")))
    # LOGIC_LE and LOGIC_MAT shares move over time: see share_path().
    return world, prod


def _ref_v(self: Figure) -> V:
    """A zero-weight handle on a figure, to cite it where it informs an assumed point value."""
    return V(0.0, (self.ref(),), True)


Figure.ref_v = _ref_v  # type: ignore[attr-defined]


def le_share(country: str, year: int) -> V:
    """<10 nm share, linear between SIA/BCG 2022 actuals and 2032 projections."""
    def at(y: str) -> V:
        label = "2022" if y == "2022" else "2032 proj"
        name = NAMES[country]
        try:
            return fig("semiconductors", "logic <10nm capacity", name, label).share()
        except KeyError:
            return A(f"share.LOGIC_LE.{country}.{y}")
    s22, s32 = at("2022"), at("2032")
    return s22 + (s32 - s22) * ((year - 2022) / 10)


def mat_shares(year: int) -> dict[str, V]:
    """Mature-node shares: China on the SIA/BCG 33% (2022) -> 37% (2032) path, others pro rata."""
    f = fig("semiconductors", "logic >=28nm capacity", "China", "2022")
    cn22 = f.share()
    cn32 = V(float(re.search(r"2032 proj (\d+)", f.source).group(1)), (f.ref(),))
    cn = cn22 + (cn32 - cn22) * ((year - 2022) / 10)
    others = {c: A(f"share.LOGIC_MAT.{c}") for c in ("TWN", "KOR", "JPN", "USA", "SGP", "DEU", "ISR", "MYS")}
    total = sum(o.value for o in others.values())
    return {"CHN": cn, **{c: s * (100 - cn) / total for c, s in others.items()}}


def prices() -> dict[str, V]:
    """Reference full price per unit (USD) of every commodity."""
    li = fig("lithium", "price", "United States", "2024").price() / A("mass.li_in_li2co3")
    p = {
        "LI_REF": li,
        "LI_MINE": li * A("price.LI_MINE"),
        "CO_REF": fig("cobalt", "price", "LME cash", "2024").price(),
        "NI_REF": fig("nickel", "price", "LME cash", "2024").price(),
        "GR_NAT": fig("graphite (natural)", "price", "US imports flake", "2024").price(),
        "GR_BAT": A("price.GR_BAT"),
        "REE_MINE": A("price.REE_MINE"),
        "REE_SEP": fig("rare earths", "price", "Nd oxide", "2025").price() * 1000,
        "MAGNET": A("price.MAGNET"),
        "GA_PRI": fig("gallium", "price", "low-purity primary", "2024").price() * 1000,
        "GA_HP": fig("gallium", "price", "high-purity refined", "2024").price() * 1000,
        "GE": fig("germanium", "price", "metal", "2024").price() * 1000,
        "CU_REF": fig("copper", "price", "LME grade A cash", "2024").price(),
        "W": fig("tungsten", "price", "USGS series", "2024").price() / A("mass.w_per_mtu") * 1000,
        "SB": fig("antimony", "price", "metal average", "2024").price(),
        "POLYSI": A("price.POLYSI"),
        "WAFER": A("price.WAFER"),
        "LOGIC_LE": A("price.LOGIC_LE"),
        "LOGIC_MAT": A("price.LOGIC_MAT"),
        "DRAM": A("price.DRAM"),
    }
    p["CO_MINE"] = p["CO_REF"] * A("price.CO_MINE")
    p["NI_MINE"] = p["NI_REF"] * A("price.NI_MINE")
    p["CU_MINE"] = p["CU_REF"] * A("price.CU_MINE")
    # ATP is priced as value added; its full price adds its chip inputs.
    atp = A("price.ATP")
    for out, inp in RECIPES:
        if out == "ATP":
            atp = atp + A(f"recipe.ATP.{inp}") * p[inp]
    p["ATP"] = atp
    return p


def recipe_q(out: str, inp: str) -> V:
    return A(f"recipe.{out}.{inp}")


def value_added(code: str, p: dict[str, V]) -> V:
    va = p[code]
    for out, inp in RECIPES:
        if out == code:
            va = va - recipe_q(out, inp) * p[inp]
    return va


def multiplier(code: str, country: str) -> V:
    return A_first(f"mult.{code}.{country}", *( [f"mult.{code}.*"] if country != "CHN" else []), "mult.*.*")


def unit_cost(code: str, country: str, p: dict[str, V]) -> V:
    if code == "LI_REF" and country == "CHN":
        # China's conversion margin implied by its spot carbonate price (USGS MCS 2025).
        cn = fig("lithium", "price", "China spot Li2CO3", "2024-11").price() / A("mass.li_in_li2co3")
        return cn - recipe_q("LI_REF", "LI_MINE") * p["LI_MINE"]
    return value_added(code, p) * multiplier(code, country)


def coalition_share(code: str) -> V:
    return A(f"c.{C_FROM.get(code, code)}")


def access(code: str, country: str) -> V:
    if has(f"access.{code}.{country}"):
        return A(f"access.{code}.{country}")
    cls = access_class(country)
    if cls == "china":
        return coalition_share(code) * A("china.headroom")
    return A(f"access.{cls}")


def growth(code: str, country: str) -> V:
    return A_first(f"growth.{code}.{country}", f"growth.{code}.*")


# --------------------------------------------------------------------------------------------
# Sheet rows with provenance
# --------------------------------------------------------------------------------------------


@dataclass
class Cell:
    value: V
    unit: str
    basis: str


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[list] = field(default_factory=list)
    cells: list[dict[str, Cell]] = field(default_factory=list)  # numeric cells per row

    def add(self, values: list, cells: dict[str, Cell] | None = None):
        self.rows.append(values)
        self.cells.append(cells or {})


def rnd(x: float) -> float:
    """Round to 6 significant digits: input figures are estimates, and stable text matters."""
    if x == 0:
        return 0.0
    return float(f"{x:.6g}")


# CRMA strategic raw materials (Regulation (EU) 2024/1252, Annex I) among the base case's mineral tiers,
# at every stage modelled: lithium, cobalt, nickel, natural graphite, rare earths for magnets, gallium,
# germanium, tungsten, copper.
CRMA_STRATEGIC = ("LI_MINE", "LI_REF", "CO_MINE", "CO_REF", "NI_MINE", "NI_REF", "GR_NAT", "GR_BAT", "REE_MINE",
                  "REE_SEP", "MAGNET", "GA_PRI", "GA_HP", "GE", "W", "CU_MINE", "CU_REF")


def build() -> dict[str, Table]:
    world, prod = world_and_shares()
    p = prices()
    tables: dict[str, Table] = {}

    # Settings
    st = Table("Settings", ["setting", "value"])
    st.add(["china_group", "China"])
    st.add(["unlisted_routes", "allowed"])
    for name in ("risk_weight", "time_limit_s"):
        v = A(f"setting.{name}")
        st.add([name, rnd(v.value)], {"value": Cell(v, ASSUME[f"setting.{name}"]["unit"], "assumption")})
    st.add(["currency", "USD"])
    tables["Settings"] = st

    # Commodities
    cm = Table("Commodities", ["code", "name", "unit", "china_cap", "shortfall_penalty"])
    for code, name, unit, _ in COMMODITIES:
        cells = {}
        cap = None
        if has(f"cap.{code}"):
            cv = A(f"cap.{code}")
            cap = rnd(cv.value)
            cells["china_cap"] = Cell(cv, "share", "policy assumption (see docs/base_case.md)")
        pen = p[code] * A("penalty.multiple")
        cells["shortfall_penalty"] = Cell(pen, f"USD/{unit}", "penalty.multiple x reference price")
        cm.add([code, name, unit, cap, rnd(pen.value)], cells)
    tables["Commodities"] = cm

    # Supply
    sp = Table("Supply", ["country", "commodity", "period", "capacity", "unit_cost"])
    countries_used: set[str] = set()
    for code, _, unit, by in COMMODITIES:
        if code == "LOGIC_LE":
            members = ("TWN", "KOR", "USA", "JPN", "CHN")
        elif code == "LOGIC_MAT":
            members = tuple(mat_shares(2026))
        else:
            members = tuple(prod[code])
        sched = {k.split(".")[2] for k in ASSUME if k.startswith(f"sched.{code}.")}
        for country in sorted(set(members) | sched):
            cost = unit_cost(code, country, p)
            acc = access(code, country)
            for t in PERIODS:
                key = f"sched.{code}.{country}.{t}"
                if has(key):
                    base = A(key)
                    basis = f"scheduled capacity {t} x access share ({access_class(country)})"
                elif code in ("LOGIC_LE", "LOGIC_MAT"):
                    w = world[code] * (1 + growth(code, "*")) ** (t - by)
                    share = le_share(country, t) if code == "LOGIC_LE" else mat_shares(t)[country]
                    base = w * share / 100
                    basis = (f"world {code} {by} x (1+growth)^{t - by} x share in {t} (linear 2022->2032) "
                             f"x access share ({access_class(country)})")
                else:
                    base = prod[code][country] * (1 + growth(code, country)) ** (t - by)
                    basis = (f"production {by} x (1+growth)^{t - by} x access share "
                             f"({access_class(country)})")
                capv = base * acc
                sp.add([country, code, t, rnd(capv.value), rnd(cost.value)], {
                    "capacity": Cell(capv, f"{unit}/year", basis),
                    "unit_cost": Cell(cost, f"USD/{unit}",
                                      "China spot price less input cost" if (code, country) == ("LI_REF", "CHN")
                                      else "value added (reference price less recipe inputs at reference "
                                           "prices) x country cost multiplier"),
                })
            countries_used.add(country)
    tables["Supply"] = sp

    # Demand
    dm = Table("Demand", ["country", "commodity", "period", "quantity"])
    for code, _, unit, by in COMMODITIES:
        if code not in FINAL_DEMAND:
            continue
        basis_key, split = FINAL_DEMAND[code]
        share = A(f"{basis_key}.{code}")
        w = world[code]
        splits = sorted(k.split(".")[2] for k in ASSUME if k.startswith(f"split.{split}."))
        for country in splits:
            for t in PERIODS:
                q = w * (1 + A(f"dgrowth.{code}")) ** (t - by) * share * A(f"split.{split}.{country}")
                dm.add([country, code, t, rnd(q.value)], {"quantity": Cell(
                    q, f"{unit}/year",
                    f"world {by} x (1+demand growth)^{t - by} x coalition {'direct ' if basis_key == 'direct' else ''}"
                    f"share x {split} split")})
                countries_used.add(country)
    tables["Demand"] = dm

    # Routes: listed only so the embargo scenarios have rows to change.
    rt = Table("Routes", ["origin", "destination", "commodity", "cost_per_unit", "max_quantity"])
    for code in ("GA_PRI", "GA_HP", "GE", "SB"):
        v = A("route.cost")
        rt.add(["CHN", "USA", code, rnd(v.value), None], {"cost_per_unit": Cell(v, f"USD/{UNIT[code]}",
                                                                                 "freight not modelled")})
    tables["Routes"] = rt

    # ShareLimits: the US leading-edge floor (CHIPS Act goal), one row per period.
    sl = Table("ShareLimits", ["commodity", "period", "source", "min_share", "max_share"])
    for t in PERIODS:
        v = A(f"sharelimit.LOGIC_LE.USA.{t}")
        sl.add(["LOGIC_LE", t, "USA", rnd(v.value), None],
               {"min_share": Cell(v, "share", "policy floor: linear ramp to the CHIPS Act goal")})
    # CRMA-style single-country rows (issue 13): every origin country separately (`each`), at a share
    # of 1 in the base case (no limit); the crma_single_country_65 scenario lowers it to 65%.
    for code in CRMA_STRATEGIC:
        v = A("crma.base_single_country")
        sl.add([code, None, "each", None, rnd(v.value)],
               {"max_share": Cell(v, "share", "placeholder: the CRMA scenario sets 0.65")})
    tables["ShareLimits"] = sl

    # ContentRules (issue 13): the IRC 30D foreign-entity-of-concern rule for battery materials to the US
    cr = Table("ContentRules", ["commodity", "period", "destination", "max_china_content"])
    feoc = A("content.feoc.battery")
    basis = "IRC 30D FEOC rule (T.D. 9995): no stage in a China-group country"
    for code in ("LI_REF", "CO_REF", "NI_REF"):
        cr.add([code, None, "USA", rnd(feoc.value)], {"max_china_content": Cell(feoc, "share", basis)})
    graphite_from = int(A("content.feoc.graphite_from").value)
    for t in PERIODS:
        if t >= graphite_from:
            cr.add(["GR_BAT", t, "USA", rnd(feoc.value)], {"max_china_content": Cell(
                feoc, "share", f"{basis}; graphite from {graphite_from} (impracticable-to-trace transition)")})
    tables["ContentRules"] = cr

    # Recipes
    rc = Table("Recipes", ["output", "input", "quantity"])
    for out, inp in RECIPES:
        v = recipe_q(out, inp)
        rc.add([out, inp, rnd(v.value)], {"quantity": Cell(v, f"{UNIT[inp]} per {UNIT[out]}", "conversion factor")})
    tables["Recipes"] = rc

    # Countries (only those that appear)
    ct = Table("Countries", ["code", "name", "group", "risk"])
    for c in sorted(countries_used | {"CHN", "USA", *PAX_SILICA}):
        r = risk(c)
        ct.add([c, NAMES[c], group(c), rnd(r.value)], {"risk": Cell(r, "score 0-1",
                                                                   f"risk class {access_class(c)}")})
    tables["Countries"] = ct

    tables["Stocks"], tables["Projects"] = stocks(dm, p), projects(p)
    tables["Scenarios"] = scenarios()
    return tables


# --------------------------------------------------------------------------------------------
# Stocks and Projects (issue 12): national reserves and candidate plants
# --------------------------------------------------------------------------------------------

STOCK_COUNTRIES = ("JPN", "KOR", "USA")
STOCK_COMMODITIES = ("GA_HP", "GE")


def stocks(dm: Table, p: dict[str, V]) -> Table:
    """Japanese and Korean reserves at their targets (assumptions), a candidate US reserve; each
    sized in days of the country's 2026 demand, held at a share of the reference price a year."""
    demand26 = {(r[0], r[1]): c["quantity"].value for r, c in zip(dm.rows, dm.cells, strict=True) if r[2] == 2026}
    sk = Table("Stocks", ["country", "commodity", "initial", "capacity", "holding_cost", "max_release"])
    hold = A("stock.holding")
    for country in STOCK_COUNTRIES:
        for code in STOCK_COMMODITIES:
            q = demand26[(country, code)]
            init = q * A(f"stock.initial_days.{country}") / 365
            cap = q * A(f"stock.capacity_days.{country}") / 365
            h = p[code] * hold
            unit = UNIT[code]
            sk.add([country, code, rnd(init.value), rnd(cap.value), rnd(h.value), None], {
                "initial": Cell(init, unit, "days of 2026 demand / 365 x 2026 demand"),
                "capacity": Cell(cap, unit, "days of 2026 demand / 365 x 2026 demand"),
                "holding_cost": Cell(h, f"USD/{unit}/year", "holding share x reference price"),
            })
    return sk


def projects(p: dict[str, V]) -> Table:
    """Announced partner projects not already in the capacity schedule, with public sizes and money."""
    pj = Table("Projects", ["project", "country", "commodity", "first_period", "capacity", "unit_cost", "capex",
                            "fixed_cost", "build"])
    rows = (
        ("AUS_Wagerup_gallium", "AUS", "GA_PRI", fig("gallium", "project", "Australia", "2025").quantity(),
         fig("gallium", "project finance", "Australia", "2025").quantity(), "binary"),
        ("USA_MP_heavy_REE", "USA", "REE_SEP", A("project.capacity.USA_MP_heavy_REE"),
         fig("rare earths", "project finance", "United States", "2025").quantity(), "continuous"),
    )
    for name, country, code, cap, money, build_kind in rows:
        first = A(f"project.first.{name}")
        capex = money / cap
        cost = unit_cost(code, country, p)
        unit = UNIT[code]
        pj.add([name, country, code, int(first.value), rnd(cap.value), rnd(cost.value), rnd(capex.value), None,
                build_kind], {
            "first_period": Cell(first, "year", "announced timing (assumption)"),
            "capacity": Cell(cap, f"{unit}/year", "announced capacity"),
            "unit_cost": Cell(cost, f"USD/{unit}", "value added x country cost multiplier, as for Supply"),
            "capex": Cell(capex, f"USD per {unit}/year of capacity", "public financing / capacity"),
        })
    return pj


# --------------------------------------------------------------------------------------------
# Scenarios: what-ifs grounded in events (values are documented in the note and in Sources)
# --------------------------------------------------------------------------------------------

SCENARIOS = (
    # scenario, sheet, column, where, action, value, note
    ("china_ree_controls_oct2025", "Supply", "capacity", "country=CHN;commodity=REE_SEP,MAGNET", "scale", 0.25,
     "China's rare-earth export controls (MOFCOM April 2025 list, widened 9 Oct 2025 to technologies and "
     "foreign-made items with Chinese REE content; the October measures were suspended for a year in Nov 2025). "
     "Magnet exports fell about 75% year on year in May 2025 under licensing: China's coalition access x0.25."),
    ("china_ga_ge_sb_ban_us_dec2024", "Routes", "max_quantity",
     "origin=CHN;destination=USA;commodity=GA_PRI,GA_HP,GE,SB", "set", 0,
     "MOFCOM announcement No. 46 (3 Dec 2024): ban on gallium, germanium and antimony exports to the US "
     "(suspended Nov 2025 to Nov 2026). Direct China->US flows blocked; transshipment via partners still allowed."),
    ("drc_cobalt_suspension_feb2025", "Supply", "capacity", "country=COD;commodity=CO_MINE", "set", 0,
     "DR Congo suspended cobalt exports on 22 Feb 2025 (extended in June): no Congolese cobalt for 2026-2030."),
    ("drc_cobalt_quota_2026", "Supply", "capacity", "country=COD;commodity=CO_MINE;period=2026,2027", "scale",
     0.44, "DR Congo replaced the suspension (Oct 2025) with export quotas of about 96.6 kt a year for "
           "2026-2027, about 44% of 2024 mine output (220 kt, USGS MCS 2025)."),
    ("taiwan_strait_disruption", "Supply", "capacity", "country=TWN;commodity=LOGIC_LE", "set", 0,
     "Quarantine or blockade of Taiwan: no Taiwanese leading-edge logic reaches the coalition."),
    ("china_caps_20", "Commodities", "china_cap", "", "set", 0.2,
     "Tighten every China cap (and add one to the ore tiers) to 20%."),
    ("no_china_caps", "Commodities", "china_cap", "", "set", None,
     "Remove every China cap: the unconstrained least-cost plan. Base total cost minus this one is what the "
     "caps cost."),
    ("partner_expansion", "Supply", "capacity", "country=AUS;commodity=REE_SEP;period=2028,2029,2030", "add", 3000,
     "Australian separation beyond the base schedule: Lynas Kalgoorlie/Iluka Eneabba stage 2 (assumption)."),
    ("partner_expansion", "Supply", "capacity", "country=AUS;commodity=LI_REF;period=2028,2029,2030", "add",
     10000, "Australian lithium hydroxide: Kwinana train 2 and Kemerton restart (assumption, t Li)."),
    ("partner_expansion", "Supply", "capacity", "country=AUS;commodity=GA_PRI;period=2027,2028,2029,2030", "add",
     50, "Alcoa-Sojitz gallium recovery at Wagin, WA (US-Australia critical minerals framework, Oct 2025; up to "
         "100 t/yr, 50 t assumed)."),
    ("partner_expansion", "Supply", "capacity", "country=JPN;commodity=MAGNET;period=2028,2029,2030", "add", 3000,
     "Japanese magnet makers (Shin-Etsu, Proterial, TDK) add lines for non-China customers (assumption)."),
    ("partner_expansion", "Supply", "capacity", "country=USA;commodity=MAGNET;period=2029,2030", "add", 5000,
     "Further US magnet plants (Vulcan Elements, Noveon, e-VAC phase 2) (assumption)."),
    ("partner_expansion", "Supply", "capacity", "country=USA;commodity=REE_SEP;period=2028,2029,2030", "add", 3000,
     "US heavy and light REE separation beyond MP's base ramp (assumption)."),
    ("crma_single_country_65", "ShareLimits", "max_share", "source=each", "set", 0.65,
     "EU Critical Raw Materials Act (Regulation (EU) 2024/1252, Art. 5(1)(b)): by 2030 no more than 65% of annual "
     "consumption of each strategic raw material, at any relevant stage of processing, from a single third "
     "country. Applied CRMA-style to the coalition: no single origin country above 65% of supply of each "
     "strategic mineral tier (lithium, cobalt, nickel, graphite, rare earths and magnets, gallium, germanium, "
     "tungsten, copper)."),
    ("us_fab_premium_high", "Supply", "unit_cost", "country=USA;commodity=LOGIC_LE,LOGIC_MAT,DRAM", "scale",
     1.083333, "US fab premium 30% instead of 20% (SIA/BCG 2020: ~30% higher 10-year TCO): x1.30/1.20."),
    ("us_fab_premium_low", "Supply", "unit_cost", "country=USA;commodity=LOGIC_LE,LOGIC_MAT,DRAM", "scale",
     0.916667, "US fab premium 10% instead of 20% (TechInsights 2025: <10% wafer processing premium): "
               "x1.10/1.20."),
)


def scenarios() -> Table:
    sc = Table("Scenarios", ["scenario", "sheet", "column", "where", "action", "value", "note"])
    for name, sheet, column, where, action, value, note in SCENARIOS:
        cells = {}
        if value is not None:
            cells["value"] = Cell(V(float(value), (Ref("S", name),)), "see note", note)
        sc.add([name, sheet, column, where or None, action, value, note], cells)
    return sc


# --------------------------------------------------------------------------------------------
# Sources sheet
# --------------------------------------------------------------------------------------------

INPUT_ORDER = ("Settings", "Countries", "Commodities", "Supply", "Demand", "Routes", "Recipes", "ShareLimits",
               "Stocks", "Projects", "ContentRules", "Scenarios")
SOURCE_HEADER = ["sheet", "row", "column", "item", "value", "unit", "confidence", "publication", "year",
                 "table_page", "secondary", "refs", "basis"]


def _pub_year(source: str) -> str:
    m = re.search(r"\b(20\d\d)\b", source)
    return m.group(1) if m else ""


def _table_page(source: str) -> str:
    found = re.findall(r"(p\.\s?\d+|Table [\d.]+|provision\.csv|salient statistics|Events & Trends)", source)
    return "; ".join(found) if found else "n/a (figure quoted without table/page)"


def source_rows(tables: dict[str, Table]) -> list[list]:
    out = []
    figs_by_line = {str(f.line): f for f in FIGS}
    for name in INPUT_ORDER:
        t = tables[name]
        for i, (row, cells) in enumerate(zip(t.rows, t.cells, strict=True)):
            excel_row = i + 2
            item = " / ".join(str(v) for v in row[:3] if v is not None)
            for col, cell in cells.items():
                v = cell.value
                f_refs = [figs_by_line[r.key] for r in v.refs if r.kind == "F"]
                a_refs = [r.key for r in v.refs if r.kind == "A"]
                if name == "Scenarios":
                    confidence = "assumption" if "assumption" in cell.basis else "derived"
                    pubs = ["Scenario note (event as reported; see docs/base_case.md)"]
                else:
                    confidence = v.confidence()
                    pubs = []
                pubs += [("Secondary summary of: " if f.secondary else "") + f.source for f in f_refs]
                pubs += [f"Assumption {a}: {ASSUME[a]['statement']} ({ASSUME[a]['basis']})" for a in a_refs]
                years = sorted({_pub_year(f.source) for f in f_refs} - {""})
                pages = sorted({_table_page(f.source) for f in f_refs})
                refs = [f"public_figures.csv:{f.line}" for f in f_refs] + [f"assumptions.csv:{a}" for a in a_refs]
                col_idx = t.header.index(col)
                out.append([
                    name, excel_row, col, item, row[col_idx], cell.unit, confidence, " | ".join(pubs),
                    ", ".join(years) if years else ("2026 (this base case)" if a_refs else ""),
                    "; ".join(pages) if pages else ("inputs/sources/assumptions.csv" if a_refs else "Scenarios note"),
                    "yes" if any(f.secondary for f in f_refs) else "no",
                    "; ".join(refs), cell.basis,
                ])
    return out


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

ABOUT = (
    "Base case: US and Pax Silica sourcing of critical minerals and chips, 2026-2030.",
    "Built by inputs/build_base_case.py from inputs/sources/public_figures.csv (USGS MCS 2025/2026, USGS OFR "
    "2024-1057, IEA GCMO 2024/2025, SIA/BCG 2020/2024, TrendForce 2023, CSET/ETO) and "
    "inputs/sources/assumptions.csv.",
    "Figures are public estimates for exploration, not decision-grade numbers.",
    "Every numeric input cell has a row in the Sources sheet (sheet, row, column, publication, year, "
    "table/page, confidence). Rules and assumptions: docs/base_case.md.",
    "Capacities are what each country can make available to the coalition (production x access share); "
    "demand is coalition (US + Pax Silica) demand only.",
)


def write(path: Path) -> None:
    tables = build()
    unused = sorted(set(ASSUME) - USED_ASSUMPTIONS)
    if unused:
        raise SystemExit(f"assumptions.csv rows not used: {unused}")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    about = wb.create_sheet("About")
    for line in ABOUT:
        about.append([line])
    for name in INPUT_ORDER:
        ws = wb.create_sheet(name)
        ws.append(tables[name].header)
        for row in tables[name].rows:
            ws.append(row)
    ws = wb.create_sheet("Sources")
    ws.append(SOURCE_HEADER)
    for row in source_rows(tables):
        ws.append(row)
    for ws in wb.worksheets:
        ws.freeze_panes = "A2" if ws.title != "About" else None
    wb.properties.creator = "inputs/build_base_case.py"
    wb.properties.created = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_normalise(buf.getvalue()))


def _normalise(data: bytes) -> bytes:
    """Fixed zip timestamps and document dates, so the same inputs give the same bytes."""
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = body.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rf"\g<1>{stamp}\g<3>", text)
                body = text.encode("utf-8")
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def main(argv: list[str]) -> None:
    target = Path(argv[1]) if len(argv) > 1 else OUTPUT
    write(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(sys.argv)
