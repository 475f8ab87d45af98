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

# --- planning-ahead input sheets: Stocks, Projects (issue 12) ---------------------------------
STOCKS_SHEET = Sheet(
    "Stocks",
    "Stockpiles: a stock of the commodity held in the country. The balance there gains the "
    "stock drawn (a build-up is extra demand); purchases into the stock are flows and count in "
    "the shares of the period they are bought. Stock left at the end is free.",
    (
        _country,
        _commodity,
        Column("initial", "number", "Stock held before the first period.", required=False, blank_means="0",
               minimum=0, unit="unit"),
        Column("capacity", "number", "Largest stock at the end of any period.", required=False,
               blank_means="no limit", minimum=0, unit="unit"),
        Column("holding_cost", "number", "Cost per unit held at the end of each period.", required=False,
               blank_means="0", minimum=0, unit="currency/unit"),
        Column("max_release", "number", "Largest draw from the stock in one period.", required=False,
               blank_means="no limit", minimum=0, unit="unit"),
    ),
    key=("country", "commodity"),
    optional=True,
    examples=(("USA", "REO", 2000, 10000, 500, None),),
)
PROJECTS_SHEET = Sheet(
    "Projects",
    "Candidate plants: built at most once, in a period >= first_period; from then on adds "
    "`capacity` of supply of the commodity in the country every period at `unit_cost`. Its "
    "cost, charged once, is capex x capacity + fixed_cost (both scaled by the built fraction).",
    (
        Column("project", "code", "Unique project name."),
        _country,
        _commodity,
        Column("first_period", "integer", "Earliest year it can produce.", required=False,
               blank_means="the first period", minimum=1900, maximum=2200),
        Column("capacity", "number", "Supply it adds every period once built.", minimum=0, unit="unit"),
        Column("unit_cost", "number", "Production cost per unit of its output.", minimum=0,
               unit="currency/unit"),
        Column("capex", "number", "Investment per unit of capacity, charged once.", required=False,
               blank_means="0", minimum=0, unit="currency/unit"),
        Column("fixed_cost", "number", "Investment charged once whatever the size.", required=False,
               blank_means="0", minimum=0, unit="currency"),
        Column("build", "choice", "binary (all or nothing: a MIP) or continuous (any fraction in [0, 1]).",
               required=False, blank_means="continuous", choices=("binary", "continuous")),
    ),
    key=("project",),
    optional=True,
    examples=(("AUS_refinery", "AUS", "REO", 2027, 5000, 65000, 150000, 0, "binary"),),
)
INPUT_SHEETS = (*INPUT_SHEETS, STOCKS_SHEET, PROJECTS_SHEET)

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

# Only the name, sheet, column and action shape a row; each is checked per scenario (model/batch/
# scenarios.py), not by the loader, so one bad row fails only its scenario (a blank name fails only
# that row) and never stops `sourcing solve` or the rest of a batch.
SCENARIOS_SHEET = Sheet(
    "Scenarios",
    "What-if overrides: a scenario is all rows with its name, applied in order to a copy of the base data.",
    (
        Column("scenario", "text", "Scenario name (`base` is kept for the unedited baseline).",
               required=False, blank_means="not allowed: the row fails on its own"),
        Column("sheet", "text", "Input sheet to change.", required=False,
               blank_means="not allowed: fails this scenario only"),
        Column("column", "text", "Column to change.", required=False,
               blank_means="not allowed: fails this scenario only"),
        Column("where", "text", "Conditions column=value joined by ';' (a condition may list values "
               "with ','); blank means every row.", required=False, blank_means="every row"),
        Column("action", "text", "set, scale or add.", required=False, choices=("set", "scale", "add"),
               blank_means="not allowed: fails this scenario only"),
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
    # decimals only below 100 / 1,000; a negative number always shows its sign and two decimals
    # (a third, unconditioned section loses the minus sign in LibreOffice: -4.98 showed as 4.98)
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
    "total_cost": ("money", "currency", "Production, route, investment and holding cost of the plan (no "
                   "penalties)."),
    "shortfall_value": ("money", "currency", "Unmet demand valued at its shortfall penalty."),
    "cost_of_china_caps": ("money", "currency", "Objective with the China caps minus objective without "
                           "them (one extra solve; the caps interact, so not the sum of marginals)."),
    "china_caps_binding": ("integer", "count", "(period, commodity) pairs whose China share is at its cap."),
    "shortfalls": ("integer", "count", "(period, commodity, destination) rows with unmet demand."),
    "investment_cost": ("money", "currency", "Projects built x (capex x capacity + fixed_cost), charged once; "
                        "inside total_cost (Projects sheet)."),
    "holding_cost": ("money", "currency", "Stock held at the end of each period x its holding cost; inside "
                     "total_cost (Stocks sheet)."),
    "projects_built": ("integer", "count", "Projects rows the plan builds (any fraction; when and how much: "
                       "Projects sheet). Only when the workbook has Projects."),
    "stocks_held": ("integer", "count", "Stocks rows the plan buys into in some period or that hold stock at "
                    "the end of the last period (quantities, each in its own unit: Stocks sheet). Only when "
                    "the workbook has Stocks."),
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
    # `sourcing hedge` (issue 12, docs/planning_ahead.md)
    "expected_objective": ("money", "currency", "The hedged plan's probability-weighted scenario objective."),
    "worst_case_objective": ("money", "currency", "The hedged plan's largest scenario objective (--worst-case)."),
    "value_of_hedging": ("money", "currency", "What hedging saves over the base plan's first stage carried "
                         "into every scenario (text: infinite when it cannot be carried out)."),
    "evpi": ("money", "currency", "Expected value of perfect information: hedged objective minus the "
             "weighted objectives each scenario reaches planned alone."),
    "objective_basis": ("text", "", "expected or worst case."),
    "first_stage": ("text", "", "What is decided now, shared by every scenario."),
    "scenarios_strike": ("text", "", "When the scenarios start to apply."),
    "scenarios_as_written": ("text", "", "Scenarios that change the structure, applied from the first period."),
    "scenarios": ("integer", "count", "Scenarios in the hedge, base included."),
    "unmatched_first_stage": ("integer", "count", "First-stage columns of a scenario with no match in base."),
    "mip_duals": ("text", "", "Binary projects make the plan a MIP: duals, prices, marginals, ranging and "
                  "alternate optima are those of the LP with every build fixed at its optimum."),
    "input_file": ("text", "", "The workbook solved."),
    "input_sha256": ("text", "", "SHA-256 of the input file."),
    "solver": ("text", "", "Solver and interface."),
    "solver_status": ("text", "", "HiGHS model status."),
    "pyomo_version": ("text", "", "Pyomo version (the reference statement of the model)."),
    "tool_version": ("text", "", "Version of this tool."),
    "solve_seconds": ("number", "s", "HiGHS time."),
    "build_seconds": ("number", "s", "Time to build the LP."),
    "marginals": ("text", "", "How marginal costs of share limits were found."),
    "marginals_seconds": ("number", "s", "Time for the marginal re-solves, the cost of the caps and the projects' "
                          "values (one batch)."),
    "prices_seconds": ("number", "s", "Time for the Prices re-solves at degenerate destinations."),
    "independent_parts": ("integer", "count", "Parts the LP falls into (no row shared): solved, and re-solved "
                          "for marginals and prices, one part at a time (model/solve/parts.py)."),
    "parts_seconds": ("number", "s", "Time to load the parts at a session's optimum (API with a session)."),
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
# Column names ending in `<CODE>` stand for one column per commodity (china_share_REO, ...);
# `batch_column` resolves them. The long-form plan sheets of `batch` (Flows, Shares, ChinaShare,
# Shortfalls) are the plan sheets with `scenario` first: `long_form_sheet` derives them from the
# plan declarations (same names, so they are not registered twice).

_MONEY = "currency"


def _money(name: str, text: str) -> OutputColumn:
    return OutputColumn(name, text, "money", _MONEY)


_RUN_COLUMNS = (
    OutputColumn("solve_seconds", "HiGHS run time of this solve.", "number", "s"),
    OutputColumn("seconds", "Edit + build + solve + tables of this solve.", "number", "s"),
    OutputColumn("model_pass", "update (changed numbers pushed to HiGHS) or rebuild (model passed again)."),
    OutputColumn("error", "Why this solve failed (blank when it did not)."),
)

declare(
    OutputSheet(
        "Comparison",
        "One row per scenario, base first; every delta against base (never edited by the "
        "Scenarios sheet). Leads with the objective and the value of unmet demand: total cost alone "
        "would read a disruption as a saving.",
        (
            OutputColumn("scenario", "Scenario name (base: the workbook as written)."),
            OutputColumn("status", "Run status of this scenario, or error."),
            _money("objective", "total_cost + shortfall_value + risk_cost."),
            _money("delta_objective", "objective minus base's: the scenario's cost, unmet demand included."),
            _money("shortfall_value", "Unmet demand valued at its shortfall penalty."),
            _money("delta_shortfall_value", "shortfall_value minus base's."),
            _money("total_cost", "Production and route cost (leaves out unmet demand)."),
            _money("delta_cost", "total_cost minus base's."),
            _money("risk_cost", "The risk term: risk_weight x risk x flow."),
            OutputColumn("shortfall_total", "Unmet demand summed over commodities of different "
                         "units (kept for compatibility; see ShortfallByCommodity).", "quantity",
                         "mixed units"),
            OutputColumn("china_share_<CODE>", "China group's share of supply to non-China "
                         "destinations, all periods, one column per commodity.", "share", "%"),
            OutputColumn("any_stage_share_<CODE>", "Share of that supply whose chain touched the China "
                         "group at any tier (ChinaContent), one column per commodity.", "share", "%"),
            *_RUN_COLUMNS,
        ),
        commands=("batch",),
        row="one scenario",
    ),
    OutputSheet(
        "ShortfallByCommodity",
        "Unmet demand per scenario and commodity, in the commodity's unit (never added across "
        "units), with its value at the shortfall penalty.",
        (
            OutputColumn("scenario", "Scenario name."),
            OutputColumn("commodity", "Commodity code."),
            OutputColumn("unit", "The commodity's unit (Commodities.unit)."),
            OutputColumn("shortfall", "Unmet demand, all periods and destinations.", "quantity",
                         "Commodities.unit"),
            OutputColumn("delta_shortfall", "shortfall minus base's.", "quantity", "Commodities.unit"),
            _money("shortfall_value", "shortfall x its penalty."),
            _money("delta_shortfall_value", "shortfall_value minus base's."),
        ),
        commands=("batch",),
        row="one (scenario, commodity) with unmet demand in the scenario or in base",
    ),
    OutputSheet(
        "Diff",
        "Per scenario: every input cell its overrides changed, then its 10 largest flow cost "
        "moves and 10 largest flow quantity moves against base.",
        (
            OutputColumn("scenario", "Scenario name."),
            OutputColumn("kind", "input, flow cost or flow quantity."),
            OutputColumn("sheet", "Input sheet (input) or Flows."),
            OutputColumn("row", "Excel row of the changed input cell.", "integer"),
            OutputColumn("column", "Changed column."),
            OutputColumn("item", "The Scenarios row (input) or the flow (period commodity origin->destination)."),
            OutputColumn("old", "Base value.", "number", "the column's unit"),
            OutputColumn("new", "Scenario value.", "number", "the column's unit"),
            OutputColumn("change", "new - old.", "number", "the column's unit"),
        ),
        commands=("batch",),
        row="one changed input cell or one moved flow",
    ),
    OutputSheet(
        "Stress",
        "Outages ranked by the change in objective (currency), largest first.",
        (
            OutputColumn("rank", "1 = the outage that raises the objective most.", "integer"),
            OutputColumn("kind", "country or route."),
            OutputColumn("target", "The country removed, or the route blocked (with its Routes row)."),
            OutputColumn("status", "Run status, or error."),
            _money("delta_objective", "objective minus base's (the ranking)."),
            _money("shortfall_value", "Unmet demand valued at its penalty."),
            _money("delta_shortfall_value", "shortfall_value minus base's."),
            _money("objective", "total_cost + shortfall_value + risk_cost."),
            _money("total_cost", "Production and route cost."),
            _money("delta_cost", "total_cost minus base's."),
            OutputColumn("shortfall_total", "Unmet demand summed over units (compatibility).",
                         "quantity", "mixed units"),
            OutputColumn("delta_shortfall", "shortfall_total minus base's (compatibility).",
                         "quantity", "mixed units"),
            OutputColumn("unit", "Unit of capacity_removed and base_flow; mixed: they are blank."),
            OutputColumn("capacity_removed", "Capacity removed, all periods (one unit only).",
                         "quantity", "unit column"),
            OutputColumn("base_flow", "What the country shipped in the base plan (one unit only).",
                         "quantity", "unit column"),
            OutputColumn("capacity_removed_by_unit", "Capacity removed per unit, as text."),
            OutputColumn("worst_shortfall", "The commodity whose unmet demand is worth most, with "
                         "its quantity in its unit."),
            OutputColumn("error", "Why this solve failed (blank when it did not)."),
        ),
        commands=("stress",),
        row="one outage",
    ),
    OutputSheet(
        "Frontier",
        "Per commodity: caps from its uncapped China share down to 0, every other input as in base.",
        (
            OutputColumn("commodity", "Commodity whose cap is swept."),
            OutputColumn("step", "0 = the uncapped share.", "integer"),
            OutputColumn("china_cap", "The cap of this step.", "share", "%"),
            OutputColumn("max_china_content", "With --content: the ContentRules limit of this step "
                         "(blank otherwise).", "share", "%"),
            OutputColumn("status", "Run status, or error."),
            _money("objective", "total_cost + shortfall_value + risk_cost (the chart)."),
            _money("delta_objective", "objective minus step 0's: the cost of the cap."),
            _money("shortfall_value", "Unmet demand valued at its penalty."),
            _money("total_cost", "Production and route cost."),
            _money("delta_cost", "total_cost minus step 0's."),
            OutputColumn("shortfall", "Unmet demand of this commodity.", "quantity", "Commodities.unit"),
            OutputColumn("unit", "The commodity's unit."),
            OutputColumn("shortfall_total", "Unmet demand summed over units (compatibility).",
                         "quantity", "mixed units"),
            OutputColumn("china_share", "China share achieved.", "share", "%"),
            OutputColumn("any_stage_share", "China content at any tier achieved (ChinaContent).", "share", "%"),
            OutputColumn("marginal_cost", "Objective change per +1 percentage point of cap (dual, "
                         "summed over periods).", "per_unit", "currency per point"),
            OutputColumn("slope", "The same, measured between this step and the previous.",
                         "per_unit", "currency per point"),
            OutputColumn("error", "Why this solve failed (blank when it did not)."),
        ),
        commands=("frontier",),
        row="one (commodity, cap) step",
    ),
    OutputSheet(
        "MonteCarlo",
        "P5/P50/P95, mean and probability > 0 of each figure over the successful draws.",
        (
            OutputColumn("metric", "objective, shortfall_value, total_cost, shortfall_total, "
                         "shortfall_<CODE>."),
            OutputColumn("unit", "The metric's unit (currency, or the commodity's unit)."),
            OutputColumn("P5", "5th percentile.", "number", "unit column"),
            OutputColumn("P50", "Median.", "number", "unit column"),
            OutputColumn("P95", "95th percentile.", "number", "unit column"),
            OutputColumn("mean", "Mean.", "number", "unit column"),
            OutputColumn("probability_positive", "Share of draws where the metric is > 0.", "share", "%"),
            OutputColumn("draws", "Successful draws counted.", "integer"),
        ),
        commands=("montecarlo",),
        row="one metric",
    ),
    OutputSheet(
        "CapBinding",
        "How often each China cap binds over the successful draws.",
        (
            OutputColumn("commodity", "Capped commodity."),
            OutputColumn("period", "Period.", "period"),
            OutputColumn("china_cap", "The cap.", "share", "%"),
            OutputColumn("binding_draws", "Draws where the cap is at its limit.", "integer"),
            OutputColumn("binding_frequency", "binding_draws / successful draws.", "share", "%"),
        ),
        commands=("montecarlo",),
        row="one (capped commodity, period)",
    ),
    OutputSheet(
        "Draws",
        "One row per draw.",
        (
            OutputColumn("draw", "Draw index i (uses SeedSequence([seed, i])).", "integer"),
            OutputColumn("status", "Run status, or error."),
            _money("objective", "total_cost + shortfall_value + risk_cost."),
            _money("shortfall_value", "Unmet demand valued at its penalty."),
            _money("total_cost", "Production and route cost."),
            OutputColumn("shortfall_total", "Unmet demand summed over units (compatibility).",
                         "quantity", "mixed units"),
            OutputColumn("shortfall_<CODE>", "Unmet demand per commodity.", "quantity",
                         "Commodities.unit"),
            OutputColumn("china_share_<CODE>", "China share per commodity, all periods.", "share", "%"),
            OutputColumn("binding_caps", "The (commodity period) caps at their limit."),
            OutputColumn("error", "Why this draw failed (blank when it did not)."),
        ),
        commands=("montecarlo",),
        row="one draw",
    ),
)

BATCH_LONG_FORM = ("Flows", "Shares", "ChinaShare", "Shortfalls")


def long_form_sheet(name: str) -> OutputSheet:
    """A plan sheet of every scenario in one table (batch): `scenario` first, then the plan
    sheet's columns as declared (or as the legacy OUTPUT_SHEETS mapping names them)."""
    scenario = OutputColumn("scenario", "Scenario name.")
    if name in OUTPUTS:
        plan = OUTPUTS[name]
        return OutputSheet(name, f"{plan.help} Every scenario, long form.",
                           (scenario, *plan.columns), commands=("batch",),
                           row=f"{plan.row} of one scenario".strip())
    help_text, columns = OUTPUT_SHEETS[name]
    return OutputSheet(name, f"{help_text} Every scenario, long form.",
                       (scenario, *(OutputColumn(c, h) for c, h in columns.items())),
                       commands=("batch",))


def batch_column(sheet: OutputSheet, name: str) -> OutputColumn:
    """The declared column of `sheet` for a written column name, `<CODE>` patterns included."""
    for col in sheet.columns:
        if col.name == name:
            return col
        if col.name.endswith("<CODE>") and name.startswith(col.name[: -len("<CODE>")]):
            return col
    raise KeyError(f"{sheet.name}.{name}")




# --- planning-ahead sheets: Stocks, Projects, Hedge (`solve`, `hedge`) -----------------------

declare(
    OutputSheet("Stocks", "Stockpile level at the end of each period (Stocks input sheet).", (
        OutputColumn("period", "Year.", "period"),
        OutputColumn("country", "Where the stock is held."),
        OutputColumn("commodity", "Commodity code."),
        OutputColumn("unit", "Commodities.unit of the quantities."),
        OutputColumn("level", "Stock at the end of the period.", "quantity", "Commodities.unit"),
        OutputColumn("change", "Level minus the level before (initial for the first period): "
                     "+ a build-up, - a draw.", "quantity", "Commodities.unit"),
    ), commands=("solve",), row="one (period, country, commodity) stock"),
    OutputSheet("Projects", "Candidate plants (Projects input sheet): what the plan builds, when, and "
                "what each is worth.", (
        OutputColumn("project", "Project name."),
        OutputColumn("country", "Where it produces."),
        OutputColumn("commodity", "What it produces."),
        OutputColumn("build", "binary (all or nothing) or continuous (any fraction)."),
        OutputColumn("built", "Fraction built (0-1; 1 = the whole project).", "share"),
        OutputColumn("period_built", "First period it is built in (blank: not built).", "period"),
        OutputColumn("capacity_added", "Capacity added every period from then on: built x capacity.",
                     "quantity", "Commodities.unit"),
        OutputColumn("investment_cost", "Charged once: built x (capex x capacity + fixed_cost); inside "
                     "total_cost.", "money", "currency"),
        OutputColumn("value", "What the objective would lose without it: the plan re-solved with the "
                     "project forbidden, minus the plan (0: not built).", "money", "currency"),
    ), commands=("solve",), row="one Projects row"),
    OutputSheet("Hedge", "The hedged plan: one first stage (first-period flows and stocks, every "
                "project build) shared by every scenario, each scenario's own later periods.", (
        OutputColumn("scenario", "Scenario name (base: the workbook as it is)."),
        OutputColumn("probability", "Its weight in the expected objective.", "share"),
        OutputColumn("objective", "Its objective under the hedged plan.", "money", "currency"),
        OutputColumn("total_cost", "Its total cost under the hedged plan.", "money", "currency"),
        OutputColumn("shortfall_value", "Its unmet demand x penalty under the hedged plan.", "money",
                     "currency"),
        OutputColumn("shortfall_total", "Its unmet demand, all commodities.", "quantity"),
        OutputColumn("own_optimum", "Its objective planned alone with perfect foresight (for EVPI).",
                     "money", "currency"),
        OutputColumn("base_first_stage", "Its objective with the first stage fixed at the base plan's "
                     "(blank: the base plan's first stage cannot be carried out in it).", "money", "currency"),
    ), commands=("hedge",), row="one scenario"),
    OutputSheet("FirstStage", "The decisions taken now, before knowing which scenario comes: first-period "
                "flows, first-period stock levels and project builds.", (
        OutputColumn("kind", "flow, stock or build."),
        OutputColumn("period", "Year.", "period"),
        OutputColumn("commodity", "Commodity code."),
        OutputColumn("origin", "Supplying country (stock, build: where it is)."),
        OutputColumn("destination", "Receiving country (build: the project name)."),
        OutputColumn("quantity", "Units shipped, the stock level, or the fraction built.", "quantity"),
    ), commands=("hedge",), row="one first-stage decision"),
    OutputSheet("ScenarioFlows", "Every non-zero flow of every scenario under the hedged plan.", (
        OutputColumn("scenario", "Scenario name."),
        OutputColumn("period", "Year.", "period"),
        OutputColumn("commodity", "Commodity code."),
        OutputColumn("origin", "Supplying country."),
        OutputColumn("destination", "Receiving country."),
        OutputColumn("quantity", "Units shipped.", "quantity", "Commodities.unit"),
        OutputColumn("unit_cost", "Production cost per unit at the origin.", "per_unit", "currency/unit"),
    ), commands=("hedge",), row="one (scenario, period, commodity, origin, destination) flow"),
    OutputSheet("ScenarioStocks", "Every stock's level in every scenario under the hedged plan: how each "
                "disruption draws the stocks bought now.", (
        OutputColumn("scenario", "Scenario name."),
        OutputColumn("period", "Year.", "period"),
        OutputColumn("country", "Where the stock is held."),
        OutputColumn("commodity", "Commodity code."),
        OutputColumn("level", "Stock at the end of the period.", "quantity", "Commodities.unit"),
        OutputColumn("change", "+ a build-up, - a draw.", "quantity", "Commodities.unit"),
    ), commands=("hedge",), row="one (scenario, period, country, commodity) stock"),
)



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
