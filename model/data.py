"""The validated input: tidy tables named and shaped like the workbook's sheets.

`load_workbook` reads, parses and checks everything, then returns `InputData` or raises one
`InputError` listing every problem with its cell. `check` holds the checks that do not need
cell parsing (ranges, references, duplicates), so scenario overrides reuse them unchanged.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import InputError, Problem
from model.io.cells import parse_kind
from model.io.reader import RawTable, is_error_cell, read_workbook
from model.schema import INPUT_SHEETS, SCENARIOS_SHEET, SETTINGS, SETTINGS_BY_NAME, Sheet

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
    for spec in (*INPUT_SHEETS, SCENARIOS_SHEET):
        tables[spec.name] = parse_table(spec, raw.get(spec.name), problems)
    data = InputData(tables=tables, source=str(path), sha256=file_sha256(path))
    if not problems:
        problems.extend(check(data))
    if problems:
        raise InputError(problems)
    return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_table(spec: Sheet, raw: RawTable | None, problems: list[Problem]) -> pd.DataFrame:
    """Parse one sheet's cells by the schema; record a Problem for every cell that fails."""
    if raw is None:
        if not spec.optional:
            problems.append(Problem(spec.name, None, None, None, "sheet is missing"))
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


def check(data: InputData, changed: set[tuple[str, str]] | None = None) -> list[Problem]:
    """Ranges, references, duplicates and settings. Also resolves `data.settings`.

    `changed` lists the (sheet, column) cells a what-if edited: only the checks those cells can
    break are run (a new capacity needs its range checked, not every reference in the workbook).
    """
    problems: list[Problem] = []
    data.settings = _resolve_settings(data.tables["Settings"], problems)
    sheets = None if changed is None else {sheet for sheet, _ in changed}
    columns = None if changed is None else {column for _, column in changed}
    for spec in INPUT_SHEETS:
        if spec.name == "Settings" or (sheets is not None and spec.name not in sheets):
            continue
        _check_ranges(spec, data.tables[spec.name], problems, columns)
        if columns is None or columns & set(spec.key):
            _check_duplicates(spec, data.tables[spec.name], problems)
    ref_columns = {c.name for spec in INPUT_SHEETS for c in spec.columns if c.ref} | {"code", "group"}
    if columns is None or columns & ref_columns:
        _check_references(data, problems)
    if sheets is None or "ShareLimits" in sheets:
        _check_share_limits(data.tables["ShareLimits"], problems)
    recipes = data.tables["Recipes"]
    for r in recipes.itertuples() if sheets is None or "Recipes" in sheets else ():
        if r.output == r.input:
            problems.append(Problem("Recipes", r.row, "input", r.input, "a commodity cannot be its own input"))
    if not problems and not data.periods:
        problems.append(Problem("Supply", None, "period", None,
                                "no period is given anywhere; put a year in Supply or Demand"))
    if not problems and changed is None:
        data.warnings = _warnings(data)
    return problems


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
    return out


def _resolve_settings(table: pd.DataFrame, problems: list[Problem]) -> Settings:
    values: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for r in table.itertuples():
        name = str(r.setting).strip().lower()
        spec = SETTINGS_BY_NAME.get(name)
        if spec is None:
            problems.append(Problem("Settings", r.row, "setting", r.setting,
                                    f"unknown setting; known settings: {', '.join(s.name for s in SETTINGS)}"))
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
            problems.append(Problem("Settings", r.row, "value", _num(value), "time_limit_s must be > 0 (blank: no limit)"))
            continue
        if spec.minimum is not None and value < spec.minimum:
            problems.append(Problem("Settings", r.row, "value", r.value, f"{name} must be >= {spec.minimum:g}"))
            continue
        values[name] = value
    return Settings(**values)


def _check_ranges(spec: Sheet, table: pd.DataFrame, problems: list[Problem],
                  only: set[str] | None = None) -> None:
    for col in spec.columns:
        if only is not None and col.name not in only:
            continue
        if col.kind not in NUMERIC_KINDS:
            if col.required:
                for row in table.loc[table[col.name].isna(), "row"]:
                    problems.append(Problem(spec.name, int(row), col.name, None, "is blank; a value is required"))
            continue
        values = table[col.name]
        if col.required:
            for row in table.loc[values.isna(), "row"]:
                problems.append(Problem(spec.name, int(row), col.name, None, "is blank; a value is required"))
        if col.minimum is not None:
            bad = table[values < col.minimum]
            for row, v in zip(bad["row"], bad[col.name], strict=True):
                problems.append(Problem(spec.name, int(row), col.name, _num(v), f"must be >= {col.minimum:g}"))
        if col.maximum is not None:
            bad = table[values > col.maximum]
            for row, v in zip(bad["row"], bad[col.name], strict=True):
                problems.append(Problem(spec.name, int(row), col.name, _num(v), f"must be <= {col.maximum:g}"))
        if col.kind == "integer":
            frac = table[values.notna() & (values != np.round(values))]
            for row, v in zip(frac["row"], frac[col.name], strict=True):
                problems.append(Problem(spec.name, int(row), col.name, _num(v), "must be a whole number"))


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _check_duplicates(spec: Sheet, table: pd.DataFrame, problems: list[Problem]) -> None:
    if not spec.key or table.empty:
        return
    keys = table[list(spec.key)].astype("object").where(table[list(spec.key)].notna(), "")
    dup = keys.duplicated(keep=False)
    if not dup.any():
        return
    first_row: dict[tuple, int] = {}
    for key, row in zip(keys[dup].itertuples(index=False, name=None), table.loc[dup, "row"], strict=True):
        if key in first_row:
            shown = ", ".join(f"{k}={v if v != '' else '(blank)'}" for k, v in zip(spec.key, key, strict=True))
            problems.append(Problem(spec.name, int(row), spec.key[0], None,
                                    f"duplicates row {first_row[key]} ({shown})"))
        else:
            first_row[key] = int(row)


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
            for row, v in zip(table.loc[bad, "row"], values[bad], strict=True):
                hint = difflib.get_close_matches(str(v), [str(k) for k in known[col.ref]], n=1, cutoff=0.6)
                extra = f"; did you mean '{hint[0]}'?" if hint else ""
                problems.append(Problem(spec.name, int(row), col.name, v,
                                        f"unknown {noun[col.ref]}{extra}"))


def _check_share_limits(table: pd.DataFrame, problems: list[Problem]) -> None:
    both = table["min_share"].notna() & table["max_share"].notna() & (table["min_share"] > table["max_share"])
    for r in table[both].itertuples():
        problems.append(Problem("ShareLimits", r.row, "min_share", _num(r.min_share),
                                f"is greater than max_share ({_num(r.max_share)})"))
    neither = table["min_share"].isna() & table["max_share"].isna()
    for r in table[neither].itertuples():
        problems.append(Problem("ShareLimits", r.row, "min_share", None,
                                "min_share and max_share are both blank; give at least one"))
