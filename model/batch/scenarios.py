"""Scenario overrides: apply the rows of the `Scenarios` sheet to a copy of the base data.

A scenario is every Scenarios row with its name, applied in sheet order to `data.copy()`.
Each row names a sheet and a column (case-insensitive), an optional `where` filter
(`column=value` conditions joined by `;`, a condition may list values with `,`; blank means every
row) and an action: `set` (value parsed like a cell of that column), `scale` (multiply) or `add`.

Every number scenario arithmetic produces is held to the limit of every cell
(`model.schema.MAX_ABS_NUMBER`): beyond it HiGHS would read the bound as infinite and answer a
different question, so the scenario fails instead. The name `base` is kept for the unedited
baseline: rows named `base` (any case) fail as their own scenario and never edit the baseline.
A row with a blank name or an unknown action fails only itself (it is checked here, not by the
loader, so one bad row never stops `sourcing solve` or the rest of the batch).

An override that matches no row, names an unknown sheet or column, or leaves the data invalid
(`model.data.check` on the modified copy) raises `InputError` whose problems name the Scenarios
row; the batch records it for that scenario only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.data import NUMERIC_KINDS, InputData, check, column_values
from model.errors import InputError, Problem
from model.io.cells import parse_kind, parse_number
from model.schema import INPUT_BY_NAME, MAX_ABS_NUMBER, Sheet

BASE = "base"
CHANGE_COLUMNS = ["scenario", "scenarios_row", "sheet", "row", "column", "old", "new"]


@dataclass(frozen=True)
class Override:
    """One Scenarios row, as the loader parsed it."""

    scenario: str
    sheet: str
    column: str
    where: str | None
    action: str
    value: Any
    row: int  # Excel row on the Scenarios sheet


def scenario_names(data: InputData) -> list[str]:
    """Scenario names in order of first appearance (blank names are skipped; see unnamed_rows)."""
    names: list[str] = []
    for name in data.scenarios["scenario"]:
        if isinstance(name, str) and name.strip() and name not in names:
            names.append(name)
    return names


def is_reserved(name: str) -> bool:
    """`base` in any case or spacing names the unedited baseline, never a scenario."""
    return str(name).strip().lower() == BASE


def unnamed_rows(data: InputData) -> list[int]:
    """Excel rows of the Scenarios sheet whose scenario name is blank (each fails on its own)."""
    table = data.scenarios
    blank = [not (isinstance(n, str) and n.strip()) for n in table["scenario"]]
    return [int(r) for r, b in zip(table["row"], blank, strict=True) if b]


def baseline(base: InputData) -> tuple[InputData, pd.DataFrame]:
    """The unedited base data: the reference of every delta (Scenarios rows named base never apply)."""
    return base.copy(), pd.DataFrame([], columns=CHANGE_COLUMNS)


def reserved_name(base: InputData, name: str) -> tuple[InputData, pd.DataFrame]:
    """A scenario named like the baseline: refused, so the baseline is never edited silently."""
    rows = [ov.row for ov in overrides_for(base, name)]
    raise InputError(
        [Problem("Scenarios", r, "scenario", name,
                 f"the name '{name}' is kept for the unedited baseline; rename this scenario")
         for r in rows]
    )


def unnamed_row(base: InputData, row: int) -> tuple[InputData, pd.DataFrame]:
    """A Scenarios row without a name belongs to no scenario: it fails on its own."""
    raise InputError(
        Problem("Scenarios", row, "scenario", None,
                "the scenario name is blank, so this row belongs to no scenario; give it a name")
    )


def overrides_for(data: InputData, name: str) -> list[Override]:
    table = data.scenarios
    rows = table[table["scenario"] == name]
    return [
        Override(
            r.scenario,
            r.sheet,
            r.column,
            _blank_to_none(r.where),
            str(r.action or "").strip().lower(),
            _blank_to_none(r.value),
            int(r.row),
        )
        for r in rows.itertuples(index=False)
    ]


def _blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def apply_scenario(base: InputData, name: str) -> tuple[InputData, pd.DataFrame]:
    """The base data with scenario `name` applied, and the cells it changed (CHANGE_COLUMNS).

    `name == "base"` returns an unchanged copy: Scenarios rows named base never edit the baseline
    (a batch reports them as a failed scenario, `reserved_name`)."""
    if name == BASE:
        return baseline(base)
    overrides = overrides_for(base, name)
    if not overrides:
        raise InputError(
            Problem("Scenarios", None, "scenario", name, "no Scenarios row has this name")
        )
    return apply_overrides(base, overrides)


def apply_overrides(base: InputData, overrides: list[Override]) -> tuple[InputData, pd.DataFrame]:
    data = base.copy()
    changes: list[dict] = []
    problems: list[Problem] = []
    for ov in overrides:
        try:
            changes.extend(_apply_one(data, ov))
        except _OverrideError as exc:
            problems.append(
                Problem(
                    "Scenarios", ov.row, exc.column, exc.value, f"scenario '{ov.scenario}': {exc}"
                )
            )
    if problems:
        raise InputError(problems)
    if overrides:
        invalid = check(data, changed={(c["sheet"], c["column"]) for c in changes})
        if invalid:
            raise InputError([_blame(p, overrides, changes) for p in invalid])
    return data, pd.DataFrame(net_changes(changes), columns=CHANGE_COLUMNS)


def net_changes(changes: list[dict]) -> list[dict]:
    """One record per changed cell, in order of its first change: the base value and the final
    value (cells set back are dropped). Plain records: a scenario changes tens to thousands of
    cells, and a pandas groupby here cost more than the re-solve."""
    net: dict[tuple, dict] = {}
    for c in changes:
        key = (c["sheet"], c["row"], c["column"])
        if key in net:
            net[key]["new"] = c["new"]
            net[key]["scenarios_row"] = c["scenarios_row"]
        else:
            net[key] = dict(c)
    return [c for c in net.values() if not _same(c["old"], c["new"])]


def _same(a: Any, b: Any) -> bool:
    if _isblank(a) and _isblank(b):
        return True
    if _isblank(a) or _isblank(b):
        return False
    return a == b


def _isblank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _blame(problem: Problem, overrides: list[Override], changes: list[dict]) -> Problem:
    """Name the Scenarios row whose change made `problem` (the last one touching that cell or row)."""
    rows = [
        c["scenarios_row"]
        for c in changes
        if c["sheet"] == problem.sheet
        and c["row"] == problem.row
        and (problem.column is None or c["column"] == problem.column)
    ]
    if not rows:
        rows = [
            c["scenarios_row"]
            for c in changes
            if c["sheet"] == problem.sheet and c["row"] == problem.row
        ]
    if not rows:
        rows = [c["scenarios_row"] for c in changes if c["sheet"] == problem.sheet] or [
            overrides[-1].row
        ]
    name = overrides[0].scenario
    return Problem(
        "Scenarios", rows[-1], None, None, f"scenario '{name}' makes the data invalid: {problem}"
    )


class _OverrideError(Exception):
    def __init__(self, message: str, column: str | None = None, value: Any = None):
        super().__init__(message)
        self.column = column
        self.value = value


def _sheet_spec(name: str, data: InputData) -> Sheet:
    wanted = str(name or "").strip().lower()
    for sheet in data.tables:
        if sheet.lower() == wanted and sheet in INPUT_BY_NAME:
            return INPUT_BY_NAME[sheet]
    known = ", ".join(INPUT_BY_NAME)
    raise _OverrideError(f"unknown sheet; scenarios can change: {known}", "sheet", name)


def _column(spec: Sheet, name: Any, what: str = "column") -> str:
    wanted = str(name or "").strip().lower()
    for col in spec.column_names:
        if col.lower() == wanted:
            return col
    raise _OverrideError(
        f"unknown column of sheet {spec.name}; its columns: {', '.join(spec.column_names)}",
        what,
        name,
    )


def parse_where(spec: Sheet, table: pd.DataFrame, where: str | None) -> np.ndarray:
    """Boolean mask of the rows of `table` that satisfy every `column=v1,v2` condition of `where`."""
    mask = np.ones(len(table), dtype=bool)
    if where is None:
        return mask
    for cond in str(where).split(";"):
        if not cond.strip():
            continue
        if "=" not in cond:
            raise _OverrideError(
                f"condition '{cond.strip()}' must look like column=value", "where", where
            )
        left, right = cond.split("=", 1)
        col = _column(spec, left.strip(), "where")
        kind = spec.column(col).kind
        values = [v.strip() for v in right.split(",")]
        hit = np.zeros(len(table), dtype=bool)
        cells = column_values(table, col)
        texts = None
        for text in values:
            if text == "":
                hit |= pd.isna(cells)
            elif kind in NUMERIC_KINDS:
                number, error = parse_number(text, percent=kind == "share")
                if error:
                    raise _OverrideError(f"condition {col}={text}: {error}", "where", where)
                hit |= np.isclose(cells.astype(float), number, rtol=0, atol=1e-9)
            else:
                if texts is None:  # each cell as the text an analyst would type
                    texts = np.array([None if v is None else str(v) for v in cells], dtype=object)
                hit |= texts == text
        mask &= hit
    return mask


def _apply_one(data: InputData, ov: Override) -> list[dict]:
    spec = _sheet_spec(ov.sheet, data)
    col = _column(spec, ov.column)
    kind = spec.column(col).kind
    table = data.tables[spec.name]
    mask = parse_where(spec, table, ov.where)
    if not mask.any():
        raise _OverrideError(
            f"where '{ov.where or ''}' matches no row of sheet {spec.name}", "where", ov.where
        )
    column = column_values(table, col)
    old = column[mask]
    if ov.action == "set":
        value, error = parse_kind(ov.value, kind, spec.column(col).choices)
        if error:
            raise _OverrideError(f"value for {spec.name}.{col} {error}", "value", ov.value)
        if kind in NUMERIC_KINDS:
            value = np.nan if value is None else float(value)
        new = np.full(int(mask.sum()), value, dtype=float if kind in NUMERIC_KINDS else object)
    elif ov.action in ("scale", "add"):
        if kind not in NUMERIC_KINDS:
            raise _OverrideError(
                f"{ov.action} needs a numeric column; {spec.name}.{col} is {kind}",
                "action",
                ov.action,
            )
        number, error = parse_number(ov.value)
        if error or number is None:
            raise _OverrideError(
                f"{ov.action} needs a number ({error or 'blank'})", "value", ov.value
            )
        current = old.astype(float)
        if np.isnan(current).any():
            raise _OverrideError(
                f"cannot {ov.action} a blank {spec.name}.{col} cell (a blank is not zero); use set",
                "action",
                ov.action,
            )
        with np.errstate(over="ignore", invalid="ignore"):
            new = current * number if ov.action == "scale" else current + number
        _within_limits(new, current, ov)
    else:
        raise _OverrideError("action must be set, scale or add", "action", ov.action)
    # one assignment of the whole column: with copy-on-write, .loc edits cost milliseconds each
    edited = column.astype(float if kind in NUMERIC_KINDS else object, copy=True)
    edited[mask] = new
    table[col] = edited
    rows = column_values(table, "row")[mask]
    return [
        {
            "scenario": ov.scenario,
            "scenarios_row": ov.row,
            "sheet": spec.name,
            "row": int(r),
            "column": col,
            "old": _plain(o),
            "new": _plain(n),
        }
        for r, o, n in zip(rows, old, new, strict=True)
    ]


def _within_limits(new: np.ndarray, old: np.ndarray, ov: Override) -> None:
    """Scenario arithmetic obeys the limit of every cell: beyond it, fail this scenario."""
    bad = ~np.isfinite(new) | (np.abs(new) > MAX_ABS_NUMBER)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _OverrideError(
            f"{ov.action} {ov.value} turns {old[i]:.6g} into {new[i]:.6g}, beyond the limit of "
            f"+/-{MAX_ABS_NUMBER:.0e} that applies to every number ({int(bad.sum())} cell(s))",
            "value", ov.value,
        )


def _plain(v: Any) -> Any:
    if isinstance(v, np.floating):
        v = float(v)
    if isinstance(v, float) and math.isnan(v):
        return None
    return v
