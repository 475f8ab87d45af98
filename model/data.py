"""The validated input: tidy tables named and shaped like the workbook's sheets.

`load_workbook` reads, parses and checks everything, then returns `InputData` or raises one
`InputError` listing every problem with its cell. `check` holds the checks that do not need
cell parsing (ranges, references, duplicates), so scenario overrides reuse them unchanged.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import InputError, Problem, printable
from model.io.cells import parse_kind
from model.io.reader import RawTable, is_error_cell, read_workbook
from model.planning_checks import planning_problems, planning_warnings
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET, SETTINGS, SETTINGS_BY_NAME, Sheet
from model.suggest import closest, did_you_mean

NUMERIC_KINDS = {"number", "share", "integer"}


@dataclass(frozen=True)
class Settings:
    """Settings after defaults are applied. `shortfall_penalty` None means the computed default."""

    shortfall_penalty: float | None = None
    china_group: str = "China"
    unlisted_routes: str = "allowed"
    risk_weight: float = 0.0
    currency: str = "USD"
    time_limit_s: float | None = None


@dataclass
class InputData:
    """Every input sheet as a DataFrame with the contract's column names plus `row` (Excel row)."""

    tables: dict[str, pd.DataFrame]
    settings: Settings = field(default_factory=Settings)
    source: str = ""
    sha256: str = ""
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # tables built in code may leave out optional sheets: they are empty, as in a workbook
        for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
            if spec.name not in self.tables:
                self.tables[spec.name] = empty_table(spec)

    def __getitem__(self, sheet: str) -> pd.DataFrame:
        return self.tables[sheet]

    @property
    def scenarios(self) -> pd.DataFrame:
        if "Scenarios" in self.tables:
            return self.tables["Scenarios"]
        return empty_table(SCENARIOS_SHEET)

    @property
    def periods(self) -> list[int]:
        found: set[int] = set()
        for sheet in ("Supply", "Demand", "ShareLimits"):
            col = self.tables[sheet]["period"]
            found.update(int(p) for p in col.dropna().unique())
        return sorted(found)

    def values(self, sheet: str, column: str) -> np.ndarray:
        """One column of one sheet as a numpy array (read only: do not write to it)."""
        return column_values(self.tables[sheet], column)

    def copy(self) -> InputData:
        """An independent copy. Shallow per table: with pandas' copy-on-write (pandas >= 3) an edit
        to either side copies the edited data first, so neither sees the other's edits, and the
        columns a what-if leaves alone keep sharing memory (model/formulation/sets.py uses that)."""
        return replace(self, tables={k: v.copy(deep=False) for k, v in self.tables.items()},
                       warnings=list(self.warnings))


def column_values(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The values of one column as a numpy array, without building a Series.

    Why: a what-if re-solve reads about forty columns (model/formulation/sets.py), and
    `frame[column]` costs about 20 us each, a fifth of a base-case re-solve. This reads the column
    where pandas stores it (a view of its memory). `_get_column_array` is internal to pandas, so
    the public path is kept as the fallback should it change."""
    try:
        values = frame._get_column_array(frame.columns.get_loc(column))
    except (AttributeError, TypeError):
        return frame[column].to_numpy()
    return values if isinstance(values, np.ndarray) else np.asarray(values)


def empty_table(spec: Sheet) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for col in spec.columns:
        data[col.name] = pd.Series([], dtype="float64" if col.kind in NUMERIC_KINDS else "object")
    data["row"] = pd.Series([], dtype="int64")
    return pd.DataFrame(data)


def load_workbook(path: str | Path) -> InputData:
    """Read and validate a workbook. Raises InputError listing every problem found."""
    path = Path(path)
    raw, problems = read_workbook(path)
    tables: dict[str, pd.DataFrame] = {}
    unread: list[Problem] = []  # error cells the reader reported once per range, not per cell
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        tables[spec.name] = parse_table(spec, raw.get(spec.name), problems, unread)
    # the name as text that is safe to print and to write into a cell (escapes, not raw bytes)
    data = InputData(tables=tables, source=printable(str(path)), sha256=file_sha256(path))
    problems, scenario_notes = set_aside_scenario_problems(problems, tables[SCENARIOS_SHEET.name])
    # every sheet and row is checked even when some cells, columns or sheets failed to read:
    # check() skips what those problems already cover, so each mistake is reported once
    problems.extend(check(data, known=problems + unread))
    if problems:
        raise InputError(problems)
    data.warnings = [*scenario_notes, *data.warnings]
    return data


def set_aside_scenario_problems(problems: list[Problem], table: pd.DataFrame) -> tuple[list[Problem], list[str]]:
    """A bad Scenarios cell fails only its scenario (docs/batches.md), never the workbook: `solve`
    ignores the Scenarios sheet, and a batch runs every other scenario (issue 14).

    Returns the other problems, and one warning per Scenarios problem saying what it affects. The
    cell keeps what was typed (not blank), so the batch's own checks refuse that scenario rather
    than read a blank `value` as "set to blank"."""
    kept: list[Problem] = []
    notes: list[str] = []
    for p in sorted(problems, key=Problem.sort_key):
        if p.sheet != SCENARIOS_SHEET.name:
            kept.append(p)
            continue
        at = table.index[table["row"] == p.row] if p.row is not None else table.index[:0]
        if len(at) and p.column in table.columns and p.value is not None:
            table.loc[at, p.column] = str(p.value)
        name = table.at[at[0], "scenario"] if len(at) else None
        if p.row is None:
            notes.append(f"{p}; every scenario will fail in a batch")
        elif name is None or (isinstance(name, float) and np.isnan(name)):
            notes.append(f"{p}; this Scenarios row names no scenario and is ignored")
        else:
            notes.append(f"{p}; scenario '{name}' will fail in a batch")
    return kept, notes


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_table(spec: Sheet, raw: RawTable | None, problems: list[Problem],
                unread: list[Problem] | None = None) -> pd.DataFrame:
    """Parse one sheet's cells by the schema; record a Problem for every cell that fails.

    Error cells were reported by the reader (a merged range once, not once per cell): they are
    noted in `unread` so the later checks do not call them blank."""
    if raw is None:
        if not spec.optional:
            problems.append(Problem(spec.name, None, None, None,
                                    f"sheet is missing; add a sheet named '{spec.name}' with the columns "
                                    f"{', '.join(spec.column_names)} (`sourcing template` writes every sheet)"))
        return empty_table(spec)
    for col in spec.columns:
        if col.name not in raw.columns and col.required:
            problems.append(Problem(spec.name, None, col.name, None,
                                    f"column is missing (the header row of sheet '{raw.title}' must name it)"))
    data: dict[str, Any] = {}
    for col in spec.columns:
        cells = raw.values.get(col.name)
        letter = raw.columns.get(col.name, "?")
        parsed: list[Any] = []
        if cells is None:
            parsed = [None] * len(raw.rows)
        else:
            for row, value in zip(raw.rows, cells, strict=True):
                if is_error_cell(value):
                    parsed.append(None)  # already reported by the reader
                    if unread is not None:
                        unread.append(Problem(spec.name, row, col.name, None, "unread"))
                    continue
                result, error = parse_kind(value, col.kind, col.choices)
                if error:
                    problems.append(Problem(spec.name, row, col.name, value, f"{error} (cell {letter}{row})"))
                elif result is None and col.required:
                    problems.append(Problem(spec.name, row, col.name, None,
                                            f"is blank (cell {letter}{row}); a value is required"))
                parsed.append(result)
        if col.kind in NUMERIC_KINDS:
            data[col.name] = pd.Series([np.nan if v is None else v for v in parsed], dtype="float64")
        else:
            data[col.name] = pd.Series(parsed, dtype="object")
    data["row"] = pd.Series(raw.rows, dtype="int64")
    return pd.DataFrame(data)


# ---------------------------------------------------------------- semantic checks


def check(data: InputData, changed: set[tuple[str, str]] | None = None,
          known: list[Problem] | None = None) -> list[Problem]:
    """Ranges, references, duplicates and settings. Also resolves `data.settings`.

    `changed` lists the (sheet, column) cells a what-if edited: only the checks those cells can
    break are run (a new capacity needs its range checked, not every reference in the workbook).
    `known` are the problems found while reading: cells, columns and sheets they name are not
    reported again (a cell that did not parse is blank here; a missing column is one problem,
    not one per row), and everything else is still checked.
    """
    skip = _Skip(known or ())
    problems: list[Problem] = []
    data.settings, given = _resolve_settings(data.tables["Settings"], problems)
    notes: list[str] = []
    sheets = None if changed is None else {sheet for sheet, _ in changed}
    columns = None if changed is None else {column for _, column in changed}
    for spec in INPUT_SHEETS:
        if spec.name == "Settings" or (sheets is not None and spec.name not in sheets):
            continue
        _check_ranges(spec, data.tables[spec.name], problems, columns)
        if columns is None or columns & set(spec.key):
            _check_duplicates(spec, data.tables[spec.name], problems, skip)
    ref_columns = {c.name for spec in INPUT_SHEETS for c in spec.columns if c.ref} | {"code", "group"}
    if columns is None or columns & ref_columns:
        _check_references(data, problems)
    if sheets is None or sheets & {"Settings", "Countries", "Commodities"}:
        _check_china_group(data, given, problems, notes)
    if sheets is None or "ShareLimits" in sheets:
        _check_share_limits(data.tables["ShareLimits"], problems, skip)
    recipes = data.tables["Recipes"]
    for r in recipes.itertuples() if sheets is None or "Recipes" in sheets else ():
        if r.output == r.input:
            problems.append(Problem("Recipes", r.row, "input", r.input, "a commodity cannot be its own input"))
    problems.extend(planning_problems(data.tables))  # Stocks, Projects (issue 12)
    if not problems and not data.periods:
        problems.append(Problem("Supply", None, "period", None,
                                "no period is given anywhere; put a year in Supply or Demand"))
    problems = [p for p in problems if not skip.covers(p)]  # each mistake once (see `known`)
    if not problems and not known and changed is None:
        data.warnings = [*notes, *_warnings(data), *_mixed_periods(data.periods)]
    return problems


def _mixed_periods(periods: list[int]) -> list[str]:
    """Years and 1..T labels in one workbook are each a period of their own: probably a typo."""
    if not periods or not periods[0] < 1900 <= periods[-1]:
        return []
    small = [p for p in periods if p < 1900]
    return [f"periods mix years and small labels ({', '.join(map(str, small[:5]))} and {periods[-1]}): "
            "each is a period of its own; is one a typo?"]


class _Skip:
    """What the reading problems already cover: bad cells, missing columns, missing sheets."""

    def __init__(self, known: list[Problem] | tuple[()]) -> None:
        self.cells = {(p.sheet, p.row, p.column) for p in known if p.row is not None and p.column}
        self.columns = {(p.sheet, p.column) for p in known if p.row is None and p.column}
        self.sheets = {p.sheet for p in known if p.row is None and p.column is None}
        self.unread = {(p.sheet, p.column) for p in known if p.column}  # columns with any bad cell

    def covers(self, p: Problem) -> bool:
        """Already said: the same cell, a missing column or sheet, or a sheet-wide remark about a
        column some of whose cells did not read."""
        return ((p.sheet, p.row, p.column) in self.cells or (p.sheet, p.column) in self.columns
                or p.sheet in self.sheets or (p.row is None and (p.sheet, p.column) in self.unread))

    def bad_rows(self, sheet: str, columns: tuple[str, ...] | list[str]) -> set[int]:
        """Rows of `sheet` where one of `columns` did not read (its value here is blank)."""
        if not self.cells:
            return set()
        return {row for (s, row, col) in self.cells if s == sheet and col in columns}

    def any_column(self, sheet: str, columns: tuple[str, ...] | list[str]) -> bool:
        return sheet in self.sheets or any((sheet, c) in self.columns for c in columns)


def _warnings(data: InputData) -> list[str]:
    """Legal but probably unintended: said on stderr, never fatal."""
    out = []
    supplied = set(data["Supply"]["commodity"])
    made = set(data["Recipes"]["output"])
    for r in data["Demand"].itertuples():
        if r.commodity not in supplied:
            out.append(f"Demand row {r.row}: nobody supplies {r.commodity}; all of it will be shortfall")
    for r in data["Recipes"].itertuples():
        if r.input not in supplied:
            out.append(f"Recipes row {r.row}: nobody supplies {r.input}, the input of {r.output}")
    unused = set(data["Commodities"]["code"]) - supplied - set(data["Demand"]["commodity"]) - made
    if unused:
        out.append(f"Commodities with no Supply or Demand rows: {', '.join(sorted(map(str, unused)))}")
    out.extend(planning_warnings(data.tables, data.periods))
    return out


def _resolve_settings(table: pd.DataFrame, problems: list[Problem]) -> tuple[Settings, dict[str, int]]:
    """The Settings, and the Excel row of each setting the workbook gives (the rest default)."""
    values: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for r in table.itertuples():
        name = re.sub(r"[\s\-]+", "_", str(r.setting).strip()).lower()  # as sheet and column names match
        spec = SETTINGS_BY_NAME.get(name)
        if spec is None:
            hint = did_you_mean(name, SETTINGS_BY_NAME)
            problems.append(Problem("Settings", r.row, "setting", r.setting,
                                    f"unknown setting{hint}; known settings: {', '.join(s.name for s in SETTINGS)}"))
            continue
        if name in seen:
            problems.append(Problem("Settings", r.row, "setting", r.setting,
                                    f"is set twice (also in row {seen[name]})"))
            continue
        seen[name] = r.row
        value, error = parse_kind(r.value, spec.kind, spec.choices)
        if error:
            problems.append(Problem("Settings", r.row, "value", r.value, f"{name} {error}"))
            continue
        if value is None:
            continue
        if name == "time_limit_s" and value <= 0:
            problems.append(Problem("Settings", r.row, "value", _num(value),
                                    "time_limit_s must be > 0 (blank: no limit)"))
            continue
        if spec.maximum is not None and value > spec.maximum:
            problems.append(Problem("Settings", r.row, "value", _num(value), f"{name} must be <= {_num(spec.maximum)}"))
            continue
        if spec.minimum is not None and value < spec.minimum:
            problems.append(Problem("Settings", r.row, "value", r.value, f"{name} must be >= {spec.minimum:g}"))
            continue
        values[name] = value
    return Settings(**values), {name: row for name, row in seen.items() if name in values}


def _check_ranges(spec: Sheet, table: pd.DataFrame, problems: list[Problem],
                  only: set[str] | None = None) -> None:
    """Blank required cells, magnitudes, minimum, maximum and whole numbers, column by column. The
    masks are numpy's; rows are looked up only where a problem is (a clean workbook pays little)."""
    rows = table["row"].to_numpy()
    for col in spec.columns:
        if only is not None and col.name not in only:
            continue
        if col.kind not in NUMERIC_KINDS:
            if col.required:
                for row in rows[table[col.name].isna().to_numpy()]:
                    problems.append(Problem(spec.name, int(row), col.name, None, "is blank; a value is required"))
            continue
        values = table[col.name].to_numpy(dtype=float, na_value=np.nan)
        rule = PERIOD_RULE.format(minimum=col.minimum, maximum=col.maximum) if col.name.endswith("period") else ""
        blank = np.isnan(values)
        if col.required:
            for row in rows[blank]:
                problems.append(Problem(spec.name, int(row), col.name, None, "is blank; a value is required"))
        with np.errstate(invalid="ignore"):
            # typed cells obey it already (model/io/cells.py); a what-if's scale or add may not (issue 14)
            huge = np.abs(values) > col.max_magnitude
            low = values < col.minimum if col.minimum is not None else None
            high = values > col.maximum if col.maximum is not None else None
            frac = ~blank & (values != np.round(values)) if col.kind == "integer" else None
        for row, v in zip(rows[huge], values[huge], strict=True):
            problems.append(Problem(spec.name, int(row), col.name, _num(v),
                                    f"must be at most {col.max_magnitude:g} in magnitude, like every number"))
        if low is not None:
            for row, v in zip(rows[low], values[low], strict=True):
                problems.append(Problem(spec.name, int(row), col.name, _num(v),
                                        f"must be >= {col.minimum:g}{rule}"))
        if high is not None and high.any():
            bad = table[high]
            plain = f"must be <= {col.maximum:g}{rule}"
            percent = col.name in SHARE_COLUMNS
            for i, (row, v) in enumerate(zip(rows[high], values[high], strict=True)):
                message = plain
                if percent and v <= 100:
                    message = (f"must be <= 1; shares are fractions: did you mean {_fraction(v)}? "
                               f"({_identify(spec, bad.iloc[i])})")
                problems.append(Problem(spec.name, int(row), col.name, _num(v), message))
        if frac is not None:
            for row, v in zip(rows[frac], values[frac], strict=True):
                problems.append(Problem(spec.name, int(row), col.name, _num(v), "must be a whole number"))


# Shares of supply, which analysts often type as percentages (40 for 0.40): the message says so.
SHARE_COLUMNS = {"china_cap", "min_share", "max_share"}

PERIOD_RULE = " (a period is a whole-number label from {minimum:g} to {maximum:g}: a year such as 2026, or 1, 2, ... T)"


def _fraction(percent: float) -> str:
    """40 -> '0.40', 12.5 -> '0.125', 5 -> '0.05': the share a percentage meant."""
    share = percent / 100
    return f"{share:.2f}" if round(share, 2) == share else f"{share:g}"


def _identify(spec: Sheet, row: pd.Series) -> str:
    """The row as the analyst knows it, e.g. 'commodity REO' or 'every commodity, source China'."""
    names = spec.key or tuple(c.name for c in spec.columns if c.ref)
    labels = {("Commodities", "code"): "commodity", ("Countries", "code"): "country"}
    parts = []
    for name in names:
        value = row.get(name)
        if _blank(value):
            parts.append(spec.column(name).blank_means or f"{name} blank")
        else:
            parts.append(f"{labels.get((spec.name, name), name)} {_plain(value)}")
    return ", ".join(parts) if parts else f"row {int(row['row'])}"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _check_duplicates(spec: Sheet, table: pd.DataFrame, problems: list[Problem],
                      skip: _Skip | None = None) -> None:
    if not spec.key or table.empty:
        return
    key_columns = list(spec.key)
    if skip is not None:
        if skip.any_column(spec.name, key_columns):
            return  # a key column is missing: every row would look alike
        bad = skip.bad_rows(spec.name, key_columns)
        if bad:  # a key cell that did not read is blank here, not the blank that means "every"
            table = table[~table["row"].isin(bad)]
    raw = table[key_columns]
    if not raw.duplicated(keep=False).any() and not any(
            not pd.api.types.is_numeric_dtype(raw[c]) and (raw[c] == "").any() for c in key_columns):
        return  # no two keys alike, blanks equal (with no "" a blank can only equal a blank)
    keys = raw.astype("object").where(raw.notna(), "")
    dup = keys.duplicated(keep=False)
    if not dup.any():
        return
    first_row: dict[tuple, int] = {}
    for key, row in zip(keys[dup].itertuples(index=False, name=None), table.loc[dup, "row"], strict=True):
        if key in first_row:
            shown = ", ".join(f"{k}={_plain(v) if v != '' else '(blank)'}"
                              for k, v in zip(spec.key, key, strict=True))
            problems.append(Problem(spec.name, int(row), spec.key[0], None,
                                    f"duplicates row {first_row[key]} ({shown})"))
        else:
            first_row[key] = int(row)


def _plain(value: Any) -> str:
    """A key value in a message: whole numbers as whole numbers (2026, not 2026.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_references(data: InputData, problems: list[Problem]) -> None:
    countries = set(data["Countries"]["code"].dropna())
    commodities = set(data["Commodities"]["code"].dropna())
    groups = set(data["Countries"]["group"].dropna())
    from model.schema import EACH_SOURCE  # ShareLimits.source may also be `each` (issue 13)

    known = {"country": countries, "commodity": commodities, "source": countries | groups,
             "each_source": countries | groups | {EACH_SOURCE}}
    noun = {"country": "country", "commodity": "commodity", "source": "country code or group",
            "each_source": "country code or group"}
    for spec in INPUT_SHEETS:
        table = data.tables[spec.name]
        for col in spec.columns:
            if col.ref is None or table.empty:
                continue
            values = table[col.name]
            bad = values.notna() & ~values.isin(known[col.ref])
            hints: dict[Any, str] = {}  # one suggestion per distinct unknown value
            for row, v in zip(table.loc[bad, "row"], values[bad], strict=True):
                if v not in hints:
                    hints[v] = did_you_mean(v, known[col.ref])
                problems.append(Problem(spec.name, int(row), col.name, v,
                                        f"unknown {noun[col.ref]}{hints[v]}"))


def _check_share_limits(table: pd.DataFrame, problems: list[Problem], skip: _Skip | None = None) -> None:
    both = table["min_share"].notna() & table["max_share"].notna() & (table["min_share"] > table["max_share"])
    for r in table[both].itertuples():
        problems.append(Problem("ShareLimits", r.row, "min_share", _num(r.min_share),
                                f"is greater than max_share ({_num(r.max_share)})"))
    shares = ("min_share", "max_share")
    if skip is not None and skip.any_column("ShareLimits", shares):
        return
    unread = skip.bad_rows("ShareLimits", shares) if skip is not None else set()
    neither = table["min_share"].isna() & table["max_share"].isna() & ~table["row"].isin(unread)
    for r in table[neither].itertuples():
        problems.append(Problem("ShareLimits", r.row, "min_share", None,
                                "min_share and max_share are both blank; give at least one"))


def _group_key(name: str) -> str:
    """How names are matched across the contract: case and runs of spaces ignored."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def _check_china_group(data: InputData, given: dict[str, int], problems: list[Problem],
                       notes: list[str]) -> None:
    """Settings.china_group must name a group of the Countries sheet, or the China caps would
    silently apply to nobody (issue 14: 'china' against 'China' lifted every cap).

    A name that differs only in case or spacing is taken as that group (said in a warning);
    no match at all is an error, unless the default is in force and nothing is capped."""
    name = data.settings.china_group
    column = data["Countries"]["group"]
    if (column.to_numpy() == name).any():  # the usual case, cheap enough for every what-if
        return
    groups = sorted({str(g) for g in column.dropna()})
    same = [g for g in groups if _group_key(g) == _group_key(name)]
    row = given.get("china_group")
    where = ("Settings", row, "value") if row is not None else ("Countries", None, "group")
    if len(same) == 1:
        data.settings = replace(data.settings, china_group=same[0])
        notes.append(f"Settings china_group '{name}' is taken as the Countries group '{same[0]}' "
                     "(group names match ignoring case and spaces)")
        return
    if len(same) > 1:
        problems.append(Problem(*where, name, "matches several Countries groups that differ only in case "
                                f"or spacing ({', '.join(repr(g) for g in same)}); spell the groups one way"))
        return
    capped = data["Commodities"]["china_cap"].notna().any()
    if row is None and not capped:
        return  # the default, and no cap to apply: a workbook without China is fine
    hint = closest(name, groups)
    extra = f"; did you mean '{hint}'?" if hint else (
        f"; the groups are: {', '.join(groups)}" if groups else "; no country has a group")
    setting = "Settings china_group" if row is not None else "Settings china_group (default 'China')"
    problems.append(Problem(*where, name if row is not None else None,
                            f"no country is in the group '{name}' named by {setting}, so the China caps "
                            f"would cap nothing{extra}"))
