"""The workbook contract, defined once.

Every sheet, column, type, default and help text of the input and output workbooks lives here.
The reader, the validator, the template (`sourcing template`), the README sheet of every output
and `docs/workbook.md` are all generated from these definitions, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["code", "text", "number", "share", "integer", "choice"]


@dataclass(frozen=True)
class Column:
    """One column of a sheet: its type, whether a blank is allowed and what a blank means."""

    name: str
    kind: Kind
    help: str
    required: bool = True  # a blank cell is an error (blank is missing, never zero)
    blank_means: str | None = None  # documented meaning of a blank cell when it is allowed
    minimum: float | None = None
    maximum: float | None = None
    ref: str | None = None  # "country", "commodity", "source" (country or group)
    choices: tuple[str, ...] = ()
    unit: str = ""


@dataclass(frozen=True)
class Sheet:
    """One input sheet: its columns, the columns that identify a row, and example rows."""

    name: str
    help: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    optional: bool = False
    examples: tuple[tuple[Any, ...], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class Setting:
    """One row of the Settings sheet."""

    name: str
    kind: Kind
    help: str
    default: Any = None
    default_text: str = ""
    minimum: float | None = None
    choices: tuple[str, ...] = ()


EACH_SOURCE = "each"  # ShareLimits.source: one limit per origin country (issue 13)

# Limits that apply to every cell: one documented rule (README "What happens when").
MAX_ABS_NUMBER = 1e15  # larger magnitudes are almost always a typo or an overflow
MAX_CODE_LENGTH = 64
MAX_TEXT_LENGTH = 1000

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "shortfall_penalty",
        "number",
        "Cost per unit of unmet demand, for commodities without their own penalty.",
        default=None,
        default_text="1000 x the largest of 1 and every unit or route cost in the workbook",
        minimum=0,
    ),
    Setting(
        "china_group",
        "text",
        "The Countries.group whose share is capped by Commodities.china_cap.",
        default="China",
        default_text="China",
    ),
    Setting(
        "unlisted_routes",
        "choice",
        "Whether an origin-destination pair missing from Routes may ship (at zero route cost).",
        default="allowed",
        default_text="allowed",
        choices=("allowed", "blocked"),
    ),
    Setting(
        "risk_weight",
        "number",
        "Cost per unit of flow from an origin of risk 1 (the risk term is risk_weight x risk x flow).",
        default=0.0,
        default_text="0",
        minimum=0,
    ),
    Setting("currency", "text", "Currency of every cost in the workbook.", default="USD", default_text="USD"),
    Setting(
        "time_limit_s",
        "number",
        "Solver time limit in seconds for one solve.",
        default=None,
        default_text="no limit",
        minimum=0,
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

_country = Column("country", "code", "Country code (Countries.code).", ref="country")
_commodity = Column("commodity", "code", "Commodity code (Commodities.code).", ref="commodity")
_period_any = Column(
    "period", "integer", "Year.", required=False, blank_means="every period", minimum=1900, maximum=2200
)

INPUT_SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Settings",
        "Model-wide settings, one per row. A missing setting takes its default.",
        (
            Column("setting", "code", "Setting name (see the list below)."),
            Column("value", "text", "Setting value.", required=False, blank_means="the default"),
        ),
        key=("setting",),
        optional=True,
        examples=(("china_group", "China"), ("unlisted_routes", "allowed"), ("risk_weight", 0)),
    ),
    Sheet(
        "Countries",
        "Every country that supplies or demands anything.",
        (
            Column("code", "code", "Unique country code (ISO 3166 alpha-3 recommended)."),
            Column("name", "text", "Country name.", required=False, blank_means="the code"),
            Column("group", "text", "Group such as 'Pax Silica', 'China', 'Other'.", required=False,
                   blank_means="no group"),
            Column("risk", "share", "Supply risk score in [0, 1], used with Settings.risk_weight.",
                   required=False, blank_means="0", minimum=0, maximum=1),
        ),
        key=("code",),
        examples=(("USA", "United States", "US", 0.0), ("CHN", "China", "China", 0.8),
                  ("AUS", "Australia", "Pax Silica", 0.1)),
    ),
    Sheet(
        "Commodities",
        "Every mineral, material or chip product, one row per tier.",
        (
            Column("code", "code", "Unique commodity code."),
            Column("name", "text", "Commodity name.", required=False, blank_means="the code"),
            Column("unit", "text", "Physical unit of every quantity of this commodity.", required=False,
                   blank_means="unit"),
            Column("china_cap", "share",
                   "Largest share of supply to non-China destinations that may come from the China group.",
                   required=False, blank_means="no cap", minimum=0, maximum=1),
            Column("shortfall_penalty", "number", "Cost per unit of unmet demand of this commodity.",
                   required=False, blank_means="Settings.shortfall_penalty", minimum=0, unit="currency/unit"),
        ),
        key=("code",),
        examples=(("REO", "Rare-earth oxide", "t", 0.5, None), ("MAGNET", "NdFeB magnet", "t", 0.7, None)),
    ),
    Sheet(
        "Supply",
        "What each country can produce of each commodity, and at what cost.",
        (
            _country,
            _commodity,
            _period_any,
            Column("capacity", "number", "Most that can be produced in the period.", minimum=0, unit="unit"),
            Column("unit_cost", "number", "Production cost per unit.", minimum=0, unit="currency/unit"),
        ),
        key=("country", "commodity", "period"),
        examples=(("AUS", "REO", 2026, 13000, 60000),),
    ),
    Sheet(
        "Demand",
        "Final demand at each destination country.",
        (
            _country,
            _commodity,
            _period_any,
            Column("quantity", "number", "Quantity demanded in the period.", minimum=0, unit="unit"),
        ),
        key=("country", "commodity", "period"),
        examples=(("USA", "REO", 2026, 10000),),
    ),
    Sheet(
        "Routes",
        "Shipping lanes: cost and limit per unit. Shipping inside one country is always allowed at zero cost.",
        (
            Column("origin", "code", "Origin country code.", ref="country"),
            Column("destination", "code", "Destination country code.", ref="country"),
            Column("commodity", "code", "Commodity code.", required=False, blank_means="every commodity",
                   ref="commodity"),
            Column("cost_per_unit", "number", "Route cost per unit shipped.", required=False,
                   blank_means="0", minimum=0, unit="currency/unit"),
            Column("max_quantity", "number", "Most that may be shipped per commodity and period; 0 blocks "
                   "the route (an embargo).", required=False, blank_means="no limit", minimum=0,
                   unit="unit"),
        ),
        key=("origin", "destination", "commodity"),
        optional=True,
        examples=(("CHN", "USA", None, 0, 0),),
    ),
    Sheet(
        "Recipes",
        "Tier links: producing one unit of output in a country consumes `quantity` units of input "
        "delivered to that country.",
        (
            Column("output", "code", "Commodity produced.", ref="commodity"),
            Column("input", "code", "Commodity consumed.", ref="commodity"),
            Column("quantity", "number", "Units of input per unit of output.", minimum=0,
                   unit="input unit/output unit"),
        ),
        key=("output", "input"),
        optional=True,
        examples=(("MAGNET", "REO", 0.3),),
    ),
    Sheet(
        "ShareLimits",
        "Floors and caps on a source's share of supply to non-China destinations.",
        (
            Column("commodity", "code", "Commodity code.", required=False, blank_means="every commodity",
                   ref="commodity"),
            Column("period", "integer", "Year.", required=False, blank_means="every period",
                   minimum=1900, maximum=2200),
            Column("source", "code", "A country code, a Countries.group name, or `each`: the limit applies to "
                   "every origin country that can supply the commodity, separately (the EU CRMA's 'no more "
                   "than 65% from a single third country').", ref="each_source"),
            Column("min_share", "share", "Smallest share the source must supply.", required=False,
                   blank_means="no floor", minimum=0, maximum=1),
            Column("max_share", "share", "Largest share the source may supply.", required=False,
                   blank_means="no cap", minimum=0, maximum=1),
        ),
        key=("commodity", "period", "source"),
        optional=True,
        examples=((None, None, "Pax Silica", 0.2, None),),
    ),
)
UNCERTAINTY_SHEET = Sheet(
    "Uncertainty",
    "Optional, read by `sourcing montecarlo`: multipliers on capacities and unit costs, and the "
    "chance that a country's supply of a commodity is cut off. Without it: +/-20% uniform on "
    "every capacity and unit cost, no cut-offs.",
    (
        Column("country", "code", "Country code.", required=False, blank_means="every country", ref="country"),
        Column("commodity", "code", "Commodity code.", required=False, blank_means="every commodity",
               ref="commodity"),
        Column("target", "choice", "What the multiplier scales: capacity or unit_cost.", required=False,
               blank_means="no multiplier (the row gives only a cut-off)", choices=("capacity", "unit_cost")),
        Column("distribution", "choice", "uniform (low, high), triangular (low, mode, high) or normal "
               "(mean = mode, sd; draws clipped at 0).", required=False, blank_means="none (cut-off rows)",
               choices=("uniform", "triangular", "normal")),
        Column("low", "number", "Smallest multiplier.", required=False, blank_means="not used", minimum=0),
        Column("mode", "number", "Most likely multiplier (normal: the mean).", required=False,
               blank_means="not used (normal: 1)", minimum=0),
        Column("high", "number", "Largest multiplier.", required=False, blank_means="not used", minimum=0),
        Column("sd", "number", "Standard deviation of a normal multiplier.", required=False,
               blank_means="not used", minimum=0),
        Column("cutoff_probability", "share", "Probability that the matching supply is cut off "
               "(capacity 0) in a draw.", required=False, blank_means="0", minimum=0, maximum=1),
    ),
    optional=True,
    examples=(("CHN", "REO", "capacity", "uniform", 0.5, None, 1.0, None, 0.1),),
)

INPUT_SHEETS = (*INPUT_SHEETS, UNCERTAINTY_SHEET)

CONTENT_RULES_SHEET = Sheet(  # issue 13: China content traced through every tier
    "ContentRules",
    "Caps on China content traced through every tier: of the supply of `commodity` delivered to "
    "`destination`, the share whose chain ran any stage (this commodity's production or any upstream "
    "tier of its Recipes) in a China-group country is at most max_china_content. A clean unit is made "
    "outside the China group from clean inputs only, every input of its recipe.",
    (
        Column("commodity", "code", "Commodity code.", ref="commodity"),
        Column("period", "integer", "Year.", required=False, blank_means="every period", minimum=1900,
               maximum=2200),
        Column("destination", "code", "A country code or a Countries.group name: the supply delivered there.",
               required=False, blank_means="every destination outside the China group", ref="source"),
        Column("max_china_content", "share", "Largest share of that supply whose chain touched the China "
               "group at any tier.", minimum=0, maximum=1),
    ),
    key=("commodity", "period", "destination"),
    optional=True,
    examples=(("MAGNET", None, None, 0.5),),
)
INPUT_SHEETS = (*INPUT_SHEETS, CONTENT_RULES_SHEET)
INPUT_BY_NAME = {s.name: s for s in INPUT_SHEETS}

SCENARIOS_SHEET = Sheet(
    "Scenarios",
    "What-if overrides: a scenario is all rows with its name, applied in order to a copy of the base data.",
    (
        Column("scenario", "text", "Scenario name."),
        Column("sheet", "text", "Input sheet to change."),
        Column("column", "text", "Column to change."),
        Column("where", "text", "Conditions column=value joined by ';' (a condition may list values "
               "with ','); blank means every row.", required=False, blank_means="every row"),
        Column("action", "choice", "set, scale or add.", choices=("set", "scale", "add")),
        Column("value", "text", "The value to set, the factor to scale by, or the amount to add.",
               required=False, blank_means="blank (set only)"),
        Column("note", "text", "Why: the event or assumption behind the scenario.", required=False,
               blank_means="no note"),
    ),
    optional=True,
)

# ---------------------------------------------------------------------------------------------
# Output declarations (issue 10): every output sheet of every command is an OutputSheet in OUTPUTS.
# The writer formats by OutputColumn.format, README sheets and docs/workbook.md are generated from
# these, and a test checks that every table built equals its declaration. Sections below are
# grouped by the command family that writes them, so each family's sheets live together.
# ---------------------------------------------------------------------------------------------

Format = Literal[
    "text",      # free text or a code, left-aligned
    "integer",   # counts, ranks, periods: 0 decimals, no separator for periods
    "period",    # a period label (year or 1..T): shown as written, no thousands separator
    "quantity",  # a physical quantity in the commodity's unit: #,##0 (2 decimals below 100)
    "money",     # currency: #,##0 (no cents)
    "money_bn",  # currency shown in billions: 0.0,,, with "(bn)" in the header help
    "per_unit",  # currency per unit (prices, marginal costs): #,##0.00 below 1,000, else #,##0
    "share",     # a fraction shown as a percentage: 0.0%
    "number",    # any other number: general with separators
    "flag",      # TRUE/FALSE
]

# Excel number formats per Format (one place: the writer, the template and the docs read these).
NUMBER_FORMATS: dict[str, str] = {
    "text": "@",
    "integer": "#,##0",
    "period": "0",
    "quantity": "#,##0.##",
    "money": "#,##0",
    "money_bn": '#,##0.0,,,"bn"',
    "per_unit": "#,##0.00",
    "share": "0.0%",
    "number": "#,##0.####",
    "flag": "General",
}


@dataclass(frozen=True)
class OutputColumn:
    """One column of an output sheet: name (never renamed once shipped), help, format and unit.

    `unit` is a literal ("currency", "%", "t") or where the unit comes from ("Commodities.unit")."""

    name: str
    help: str
    format: Format = "text"
    unit: str = ""


@dataclass(frozen=True)
class OutputSheet:
    """One output sheet: which commands write it, its columns in order and what a row is."""

    name: str
    help: str
    columns: tuple[OutputColumn, ...]
    commands: tuple[str, ...] = ("solve",)
    row: str = ""  # what one row is, e.g. "one (period, commodity, origin, destination) flow"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> OutputColumn:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


OUTPUTS: dict[str, OutputSheet] = {}


def declare(*sheets: OutputSheet) -> None:
    """Register output sheets (a name may be declared once)."""
    for sheet in sheets:
        if sheet.name in OUTPUTS:
            raise ValueError(f"output sheet {sheet.name} declared twice")
        OUTPUTS[sheet.name] = sheet


# --- plan sheets: written by `solve` (and as `Plan ...` sheets by write-back) ----------------
# (declared below the legacy OUTPUT_SHEETS mapping while it is being replaced)


# Output workbook contract: analysts build formulas and pivots on these names.
OUTPUT_SHEETS: dict[str, tuple[str, dict[str, str]]] = {
    "Summary": ("Run status, costs and provenance.", {
        "metric": "What is measured.",
        "value": "Its value.",
    }),
    "Flows": ("Every non-zero flow of the plan.", {
        "period": "Year.", "commodity": "Commodity code.", "origin": "Supplying country.",
        "destination": "Receiving country.", "quantity": "Units shipped.",
        "unit_cost": "Production cost per unit at the origin.", "route_cost": "Route cost per unit.",
        "cost": "quantity x (unit_cost + route_cost).",
    }),
    "Shares": ("Each source country's share of supply to non-China destinations.", {
        "period": "Year.", "commodity": "Commodity code.", "source": "Supplying country.",
        "quantity": "Units supplied to non-China destinations.", "share": "Share of that supply (0-1).",
    }),
    "ChinaShare": ("China group's share against its cap.", {
        "period": "Year.", "commodity": "Commodity code.",
        "china_share": "China group's share of supply to non-China destinations (0-1).",
        "china_cap": "The cap (blank: none).", "binding": "TRUE where the cap limits the plan.",
        "marginal_cost": "Objective change if the cap is raised by one percentage point "
                         "(negative: loosening the cap saves this much).",
    }),
    "Shortfalls": ("Demand the plan cannot meet.", {
        "period": "Year.", "commodity": "Commodity code.", "country": "Destination.",
        "quantity": "Units not supplied.",
    }),
}


# --- batch sheets: written by `batch`, `frontier`, `stress`, `montecarlo` --------------------



# --- planning-ahead sheets: Stocks, Projects, Hedge (`solve`, `hedge`) -----------------------



# --- content-tracing sheets: ChinaContent ----------------------------------------------------

declare(OutputSheet(
    "ChinaContent",
    "China content traced through every tier, beside the direct China share. direct_share counts only "
    "the last stage (origin in the China group, as ChinaShare); any_stage_share counts a unit whose chain "
    "ran any stage in the China group (its own production or any upstream tier of its Recipes). Mixed "
    "supply at a node is attributed by tracing, not proportionally: the plan's flows are held fixed and "
    "clean units (made outside the China group from clean inputs only) are routed to make the supply as "
    "clean as those flows allow (the least any-stage share the plan can claim; with ContentRules, subject "
    "to them). One row per (period, commodity) for all destinations outside the China group, plus one per "
    "ContentRules row that names a destination.",
    (
        OutputColumn("period", "Year.", "period"),
        OutputColumn("commodity", "Commodity code.", "text"),
        OutputColumn("destination", "The destination (blank: every destination outside the China group).",
                     "text"),
        OutputColumn("quantity", "Supply of the commodity delivered there.", "quantity", "Commodities.unit"),
        OutputColumn("direct_share", "Share from an origin in the China group (0-1).", "share", "%"),
        OutputColumn("any_stage_share", "Share whose chain touched the China group at any tier (0-1).",
                     "share", "%"),
        OutputColumn("max_china_content", "ContentRules.max_china_content (blank: no rule).", "share", "%"),
        OutputColumn("binding", "TRUE where the rule limits the plan (any_stage_share at the limit).", "flag"),
        OutputColumn("marginal_cost", "Objective change if max_china_content is raised by one percentage "
                     "point (negative: loosening saves this much), found by re-solving.", "per_unit",
                     "currency"),
        OutputColumn("rule_row", "The ContentRules row (blank: no rule).", "integer"),
    ),
    row="one (period, commodity, destination): every destination outside the China group, or a rule's",
))



# --- end of output declarations ---------------------------------------------------------------
