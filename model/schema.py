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

    @property
    def max_magnitude(self) -> float:
        """The limit every number obeys, typed or made by a scenario's scale or add (MAX_ABS_NUMBER)."""
        return MAX_ABS_NUMBER

    def __post_init__(self) -> None:
        # Periods are labels, one rule for every period column of every sheet (`period`,
        # `first_period`, ...): whole numbers from MIN_PERIOD to MAX_PERIOD, years or 1..T.
        if self.kind == "integer" and (self.name == "period" or self.name.endswith("_period")):
            object.__setattr__(self, "minimum", MIN_PERIOD)
            object.__setattr__(self, "maximum", MAX_PERIOD)
            if self.help == "Year.":
                object.__setattr__(self, "help", PERIOD_HELP)


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
    maximum: float | None = None
    choices: tuple[str, ...] = ()


EACH_SOURCE = "each"  # ShareLimits.source: one limit per origin country (issue 13)

# Limits that apply to every cell: one documented rule (README "What happens when").
MAX_ABS_NUMBER = 1e15  # larger magnitudes are almost always a typo or an overflow
MAX_CODE_LENGTH = 64
MAX_TEXT_LENGTH = 1000
# Periods are labels: years (2026) are the documented case, 1..T works the same. The limits only
# catch typos (a negative period, 20260 for 2026); blank means every period.
MIN_PERIOD = 1
MAX_PERIOD = 2200
PERIOD_HELP = f"Period: a year such as 2026, or 1, 2, ... T (a whole number from {MIN_PERIOD} to {MAX_PERIOD})."

# The longest solver time limit accepted (Settings time_limit_s, --time-limit): 30 days. A larger
# number is a typo (milliseconds typed as seconds); leave the setting blank for no limit.
MAX_TIME_LIMIT_S = 30 * 24 * 3600.0

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
        "Solver time limit in seconds for one solve (> 0, at most 2592000 = 30 days).",
        default=None,
        default_text="no limit",
        minimum=0,
        maximum=MAX_TIME_LIMIT_S,
    ),
)
SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

_country = Column("country", "code", "Country code (Countries.code).", ref="country")
_commodity = Column("commodity", "code", "Commodity code (Commodities.code).", ref="commodity")
_period_any = Column(
    "period", "integer", PERIOD_HELP, required=False, blank_means="every period", minimum=MIN_PERIOD,
    maximum=MAX_PERIOD,
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
# Every negative goes to the last section, whose "-" is explicit: a conditioned section shows no
# sign of its own, and LibreOffice drew -20 as "20.00" under the old [<=-1000]-#,##0;#,##0.00.
NUMBER_FORMATS: dict[str, str] = {
    "text": "@",
    "integer": "#,##0",
    "period": "0",
    "quantity": "[>=100]#,##0;[>=0]#,##0.00;-#,##0.00",
    "money": "#,##0",
    "money_bn": '#,##0.0,,,"bn"',
    "per_unit": "[>=1000]#,##0;[>=0]#,##0.00;-#,##0.00",
    "share": "0.0%",
    "number": "[>=1000]#,##0;[>=0]#,##0.00;-#,##0.00",
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

_Q = "Commodities.unit"  # quantities are in their commodity's unit
_period = OutputColumn("period", "Year.", "period")
_commodity_out = OutputColumn("commodity", "Commodity code.", "text")
_unit_out = OutputColumn("unit", "Unit of every quantity on this row (Commodities.unit).", "text")

# Summary metrics: name -> (format, unit, meaning). Decision figures first, run details after;
# names are never renamed (analysts look them up). The writer formats each value by its metric.
SUMMARY_METRICS: dict[str, tuple[Format, str, str]] = {
    "status": ("text", "", "optimal, optimal_with_shortfall or suboptimal (docs/solver_outcomes.md)."),
    "objective": ("money", "currency", "What the plan minimises: total_cost + shortfall_value + risk_cost."),
    "total_cost": ("money", "currency", "Production and route cost of the plan (no penalties)."),
    "shortfall_value": ("money", "currency", "Unmet demand valued at its shortfall penalty."),
    "cost_of_china_caps": ("money", "currency", "Objective with the China caps minus objective without "
                           "them (one extra solve; the caps interact, so not the sum of marginals)."),
    "china_caps_binding": ("integer", "count", "(period, commodity) pairs whose China share is at its cap."),
    "shortfalls": ("integer", "count", "(period, commodity, destination) rows with unmet demand."),
    "currency": ("text", "", "Currency of every cost (Settings.currency)."),
    "objective_without_china_caps": ("money", "currency", "The objective with every China cap lifted."),
    "risk_cost": ("money", "currency", "Risk term: risk_weight x risk x flow."),
    "production_cost": ("money", "currency", "Sum of quantity x unit_cost."),
    "route_cost": ("money", "currency", "Sum of quantity x route cost."),
    "shortfall_penalty_cost": ("money", "currency", "Same as shortfall_value (kept for compatibility)."),
    "shortfall_total": ("number", "mixed units", "Sum of unmet quantities across commodities: adds different "
                        "units, so read Shortfalls per commodity instead (kept for compatibility)."),
    "dual_objective": ("money", "currency", "The dual bound HiGHS proved (equals objective when optimal)."),
    "detail": ("text", "", "What the detail sheets hold (--detail)."),
    "input_file": ("text", "", "The workbook solved."),
    "input_sha256": ("text", "", "SHA-256 of the input file."),
    "solver": ("text", "", "Solver and interface."),
    "solver_status": ("text", "", "HiGHS model status."),
    "pyomo_version": ("text", "", "Pyomo version (the reference statement of the model)."),
    "tool_version": ("text", "", "Version of this tool."),
    "solve_seconds": ("number", "s", "HiGHS time."),
    "build_seconds": ("number", "s", "Time to build the LP."),
    "marginals": ("text", "", "How marginal costs of share limits were found."),
    "marginals_seconds": ("number", "s", "Time for the marginal re-solves."),
    "prices_seconds": ("number", "s", "Time for the Prices re-solves at degenerate destinations."),
    "sensitivity_seconds": ("number", "s", "Time to build the Sensitivity sheets."),
    "ranging_seconds": ("number", "s", "Time for HiGHS ranging (--ranging)."),
    "ranging_note": ("text", "", "Whether the basis is degenerate (ranges not unique)."),
    "alternate_optima_seconds": ("number", "s", "Time for --alternate-optima."),
    "alternate_optima_tolerance": ("text", "", "Objective tolerance of an alternate optimum."),
    "simplex_iterations": ("integer", "count", "Simplex iterations."),
    "variables": ("integer", "count", "LP columns."),
    "constraints": ("integer", "count", "LP rows."),
    "periods": ("text", "", "Periods of the plan."),
    "strict_no_shortfall": ("flag", "", "TRUE with --no-shortfall."),
    "setting china_group": ("text", "", "Settings.china_group."),
    "setting unlisted_routes": ("text", "", "Settings.unlisted_routes."),
    "setting risk_weight": ("number", "currency/unit", "Settings.risk_weight."),
    "setting shortfall_penalty": ("number", "currency/unit", "Settings.shortfall_penalty."),
    "setting time_limit_s": ("number", "s", "Settings.time_limit_s."),
    "created": ("text", "", "When the plan was written (UTC)."),
}

_ranging_cols = (
    OutputColumn("capacity_decrease", "With --ranging: allowable capacity decrease keeping the basis.",
                 "quantity", _Q),
    OutputColumn("capacity_increase", "With --ranging: allowable capacity increase keeping the basis "
                 "(blank: any).", "quantity", _Q),
    OutputColumn("cost_decrease", "With --ranging: allowable unit-cost decrease keeping the basis "
                 "(blank: any).", "per_unit", "currency/unit"),
    OutputColumn("cost_increase", "With --ranging: allowable unit-cost increase keeping the basis "
                 "(blank: any).", "per_unit", "currency/unit"),
)

PLAN_SHEETS: tuple[OutputSheet, ...] = (
    OutputSheet("Overview", "The plan on one screen: what it costs, what the China caps cost, what is "
                "short and where each commodity comes from (top sources per commodity, all periods).", (
        OutputColumn("commodity", "Commodity code.", "text"),
        OutputColumn("name", "Commodity name.", "text"),
        OutputColumn("unit", "Unit of the quantities on this row.", "text"),
        OutputColumn("supply", "Supply to non-China destinations, all periods.", "quantity", _Q),
        OutputColumn("top_sources", "Largest sources with their share of that supply.", "text"),
        OutputColumn("china_share", "China group's share of that supply, all periods.", "share", "%"),
        OutputColumn("china_cap", "The cap (blank: none).", "share", "%"),
        OutputColumn("caps_binding", "Periods in which the China share is at its cap.", "integer", "count"),
        OutputColumn("shortfall", "Unmet demand, all periods.", "quantity", _Q),
        OutputColumn("cost_bn", "Production and route cost of this commodity, all periods.", "money_bn",
                     "bn currency"),
    ), row="one commodity"),
    OutputSheet("Summary", "Run status, costs and provenance: decision figures first, run details after.", (
        OutputColumn("metric", "What is measured (names never change).", "text"),
        OutputColumn("value", "Its value, formatted per metric.", "number"),
        OutputColumn("unit", "Its unit.", "text"),
        OutputColumn("meaning", "What it means.", "text"),
    ), row="one metric"),
    OutputSheet("Flows", "Every non-zero flow of the plan.", (
        _period, _commodity_out,
        OutputColumn("origin", "Supplying country.", "text"),
        OutputColumn("destination", "Receiving country.", "text"),
        OutputColumn("quantity", "Units shipped.", "quantity", _Q),
        _unit_out,
        OutputColumn("unit_cost", "Production cost per unit at the origin.", "per_unit", "currency/unit"),
        OutputColumn("route_cost", "Route cost per unit.", "per_unit", "currency/unit"),
        OutputColumn("cost", "quantity x (unit_cost + route_cost).", "money", "currency"),
    ), row="one (period, commodity, origin, destination) flow"),
    OutputSheet("Shares", "Each source country's share of supply to non-China destinations.", (
        _period, _commodity_out,
        OutputColumn("source", "Supplying country.", "text"),
        OutputColumn("quantity", "Units supplied to non-China destinations.", "quantity", _Q),
        _unit_out,
        OutputColumn("share", "Share of that supply.", "share", "%"),
    ), row="one (period, commodity, source)"),
    OutputSheet("ChinaShare", "China group's share against its cap.", (
        _period, _commodity_out,
        OutputColumn("china_share", "China group's share of supply to non-China destinations.", "share", "%"),
        OutputColumn("china_cap", "The cap (blank: none).", "share", "%"),
        OutputColumn("binding", "TRUE where the share is at its cap (the same test as Sensitivity and the "
                     "printout).", "flag"),
        OutputColumn("marginal_cost", "Objective change if the cap is raised by one percentage point "
                     "(negative: loosening the cap saves this much); re-solved, not a dual.", "money",
                     "currency per percentage point"),
    ), row="one (period, commodity)"),
    OutputSheet("Shortfalls", "Demand the plan cannot meet.", (
        _period, _commodity_out,
        OutputColumn("country", "Destination.", "text"),
        OutputColumn("quantity", "Units not supplied.", "quantity", _Q),
        _unit_out,
        OutputColumn("penalty", "Shortfall penalty per unit.", "per_unit", "currency/unit"),
        OutputColumn("value", "quantity x penalty (part of the objective).", "money", "currency"),
    ), row="one (period, commodity, destination) with unmet demand"),
    OutputSheet("Capacity", "Use of the Supply rows and the value of more capacity.", (
        _period, _commodity_out,
        OutputColumn("country", "Supplying country.", "text"),
        OutputColumn("capacity", "Capacity (Supply sheet).", "quantity", _Q),
        OutputColumn("unit_cost", "Unit cost (Supply sheet).", "per_unit", "currency/unit"),
        OutputColumn("used", "Units the plan takes.", "quantity", _Q),
        OutputColumn("utilisation", "used / capacity.", "share", "%"),
        OutputColumn("shadow_price", "Objective saved by one more unit of capacity (where to invest).",
                     "per_unit", "currency/unit"),
        OutputColumn("cost_cut_to_enter", "Unused suppliers: unit-cost cut needed to enter the plan.",
                     "per_unit", "currency/unit"),
        *_ranging_cols,
        _unit_out,
        OutputColumn("binding", "TRUE where the capacity is used up.", "flag"),
    ), row="one Supply row (by default: used, binding or marginal suppliers; --detail full: all)"),
    OutputSheet("Prices", "Marginal cost of supply at each destination.", (
        _period, _commodity_out,
        OutputColumn("country", "Destination.", "text"),
        OutputColumn("demand", "Demand (Demand sheet; 0 for recipe inputs only).", "quantity", _Q),
        OutputColumn("marginal_cost", "Objective change for one more unit of demand here.", "per_unit",
                     "currency/unit"),
        _unit_out,
        OutputColumn("marginal_saving", "Objective saved by one unit less demand here; differs from "
                     "marginal_cost only where the optimum is degenerate.", "per_unit", "currency/unit"),
        OutputColumn("dual", "The balance row's dual as HiGHS reports it.", "per_unit", "currency/unit"),
        OutputColumn("note", "How marginal_cost was found (dual, or re-solved where the dual does not "
                     "hold for a whole unit).", "text"),
    ), row="one (period, commodity, destination) need"),
    OutputSheet("Sensitivity", "What each limit costs and each input is worth at the optimum. SIGN "
                "CONVENTION: cost_change is the change in the objective when `value` is RAISED by one "
                "unit (one percentage point for shares); negative = the plan gets cheaper.", (
        OutputColumn("measure", "China cap, share maximum/minimum (ShareLimits), capacity, unit cost (a "
                     "Supply row), delivered cost (a destination's demand).", "text"),
        _period, _commodity_out,
        OutputColumn("country", "Source (caps, limits, supply) or destination (delivered cost).", "text"),
        OutputColumn("limit_row", "Row of the input sheet the limit comes from.", "integer"),
        OutputColumn("value", "The input as given: cap or limit (share), capacity, unit cost or demand.",
                     "number", "see quantity_unit"),
        OutputColumn("level", "What the plan does: share reached, capacity used, or demand.", "number",
                     "see quantity_unit"),
        OutputColumn("cost_change", "Objective change per +1 unit (per +1 percentage point for shares) of "
                     "value. Capacity: minus the value of one more unit. Unit cost: the quantity shipped. "
                     "Delivered cost: the marginal cost of supply at the destination.", "per_unit",
                     "see unit"),
        OutputColumn("unit", "Unit of cost_change.", "text"),
        OutputColumn("cost_cut_to_enter", "Unused suppliers: how much their unit cost must fall before "
                     "they enter the plan (smallest reduced cost over their routes).", "per_unit",
                     "currency/unit"),
        OutputColumn("allowable_decrease", "With --ranging: how far value can fall before the optimal "
                     "basis changes (blank: no limit).", "number"),
        OutputColumn("allowable_increase", "With --ranging: how far value can rise before the optimal "
                     "basis changes (blank: no limit).", "number"),
        OutputColumn("note", "The row in words.", "text"),
        OutputColumn("quantity_unit", "Unit of value and level: % for shares, else Commodities.unit "
                     "(currency/unit for unit cost).", "text"),
        OutputColumn("binding", "TRUE where the limit is at its bound (one definition for every sheet).",
                     "flag"),
    ), row="one limit or input (by default: every limit, used or marginal suppliers, delivered costs left to Prices; --detail full: all)"),
    OutputSheet("FlowSensitivity", "Every lane as Excel Solver's sensitivity report shows a variable cell: "
                "its final value, its cost, its reduced cost and the dual of its route limit.", (
        _period, _commodity_out,
        OutputColumn("origin", "Supplying country.", "text"),
        OutputColumn("destination", "Receiving country.", "text"),
        OutputColumn("quantity", "Final value: units shipped.", "quantity", _Q),
        _unit_out,
        OutputColumn("cost_per_unit", "Objective coefficient: unit cost + route cost + risk term.",
                     "per_unit", "currency/unit"),
        OutputColumn("reduced_cost", "Objective change per unit forced onto this lane (0 for lanes in use "
                     "below their limit; > 0: how much cheaper it must get to be used).", "per_unit",
                     "currency/unit"),
        OutputColumn("route_limit", "Routes.max_quantity (blank: no limit).", "quantity", _Q),
        OutputColumn("route_limit_dual", "Objective change per +1 unit of route limit (< 0: the limit "
                     "binds and loosening it saves).", "per_unit", "currency/unit"),
        OutputColumn("note", "The lane in words.", "text"),
    ), row="one lane (by default: lanes in use or at their route limit; --detail full: every lane)"),
    OutputSheet("AlternateOptima", "With --alternate-optima: the least and most each source can supply to "
                "non-China destinations among plans costing no more than the optimum (tolerance in the "
                "Summary).", (
        _period, _commodity_out,
        OutputColumn("source", "Supplying country.", "text"),
        OutputColumn("quantity", "What this plan supplies.", "quantity", _Q),
        OutputColumn("share", "This plan's share.", "share", "%"),
        OutputColumn("min_quantity", "Least supply at optimal cost.", "quantity", _Q),
        OutputColumn("max_quantity", "Most supply at optimal cost.", "quantity", _Q),
        OutputColumn("min_share", "Share when supplying the least.", "share", "%"),
        OutputColumn("max_share", "Share when supplying the most.", "share", "%"),
        OutputColumn("forced", "TRUE: every least-cost plan uses this amount; FALSE: a tie, other "
                     "least-cost plans differ.", "flag"),
        OutputColumn("note", "The row in words.", "text"),
    ), row="one (period, commodity, source)"),
    OutputSheet("Infeasibility", "Strict mode (--no-shortfall) only: what cannot be covered and which "
                "input rows conflict.", (
        OutputColumn("kind", "cannot_cover or in_conflict.", "text"),
        OutputColumn("constraint", "Constraint family.", "text"),
        OutputColumn("sheet", "Input sheet.", "text"),
        OutputColumn("row", "Excel row.", "integer"),
        _commodity_out, _period,
        OutputColumn("country", "Country.", "text"),
        OutputColumn("quantity", "Quantity involved.", "quantity", _Q),
        OutputColumn("method", "HiGHS IIS or elastic re-solve.", "text"),
        OutputColumn("detail", "The input value in words.", "text"),
        OutputColumn("explanation", "The finding in words.", "text"),
    ), row="one finding"),
    OutputSheet("Charts", "Charts with one unit each: supply shares by source per commodity, and the China "
                "share against its cap per period (native Excel charts; their data are the cells from "
                "column N).", (), row=""),
    OutputSheet("README", "Every sheet and column of this output in words (generated from model/schema.py).", (
        OutputColumn("sheet", "Sheet.", "text"),
        OutputColumn("column", "Column.", "text"),
        OutputColumn("meaning", "Meaning.", "text"),
        OutputColumn("unit", "Unit, or where it comes from.", "text"),
    ), row="one sheet or column"),
)
declare(*PLAN_SHEETS)


def plan_sheet_help() -> dict[str, tuple[str, dict[str, str]]]:
    """The legacy mapping {sheet: (help, {column: help})} derived from the declarations."""
    return {s.name: (s.help, {c.name: c.help for c in s.columns}) for s in PLAN_SHEETS
            if s.name not in ("Charts", "README")}


# Legacy name kept for importers (write-back, docs): derived from OUTPUTS, never typed twice.
OUTPUT_SHEETS: dict[str, tuple[str, dict[str, str]]] = plan_sheet_help()


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
