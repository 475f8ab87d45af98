"""Sparse building blocks: a family of variables or of constraint rows, with their keys.

Each family keeps the tidy key table it is indexed by, so results map straight back to the
workbook's rows without any solver object leaving the modelling layer. The key table may be
given as a function: it is built on first use, so a what-if re-solve that never reads it
(a batch that only wants figures) does not pay for it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

Keys = pd.DataFrame | Callable[[], pd.DataFrame]


class _Block:
    def __init__(self, name: str, keys: Keys, lower: np.ndarray, upper: np.ndarray):
        self.name = name
        self._keys = keys
        self.lower = lower
        self.upper = upper

    @property
    def keys(self) -> pd.DataFrame:
        if callable(self._keys):
            self._keys = self._keys()
        return self._keys

    @property
    def size(self) -> int:
        return len(self.lower)


class VarBlock(_Block):
    """Variables `name[keys]` with bounds and objective coefficients."""

    def __init__(self, name: str, keys: Keys, lower: np.ndarray, upper: np.ndarray, cost: np.ndarray):
        super().__init__(name, keys, lower, upper)
        self.cost = cost


class RowBlock(_Block):
    """Constraint rows `lower <= sum_j coef * var_j <= upper`, one per row of `keys`.

    `rows` are local row positions (0..size-1); `cols` are global variable positions.
    """

    def __init__(self, name: str, keys: Keys, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray):
        super().__init__(name, keys, lower, upper)
        self.rows = rows
        self.cols = cols
        self.vals = vals

    @classmethod
    def empty(cls, name: str, keys: Keys) -> RowBlock:
        z = np.zeros(0)
        none = (lambda: keys().iloc[0:0]) if callable(keys) else keys.iloc[0:0]
        return cls(name, none, z.astype(np.int64), z.astype(np.int64), z, z, z)


def take_numbers(data, sheet: str, col: str, where: np.ndarray, missing: float) -> np.ndarray:
    """Column `col` of input `sheet` at row positions `where` (-1, or a blank cell: `missing`).
    Every parameter array of the Index (sets.py, planning.py) is gathered this one way."""
    values = data.values(sheet, col).astype(float, copy=False)
    out = np.full(len(where), missing)
    ok = where >= 0
    out[ok] = values[where[ok]]
    return np.where(np.isnan(out), missing, out)
