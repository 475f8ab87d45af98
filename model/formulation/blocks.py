"""Sparse building blocks: a family of variables or of constraint rows, with their keys.

Each family keeps the tidy key table it is indexed by, so results map straight back to the
workbook's rows without any solver object leaving the modelling layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class VarBlock:
    """Variables `name[keys]` with bounds and objective coefficients."""

    name: str
    keys: pd.DataFrame
    lower: np.ndarray
    upper: np.ndarray
    cost: np.ndarray


@dataclass
class RowBlock:
    """Constraint rows `lower <= sum_j coef * var_j <= upper`, one per row of `keys`.

    `rows` are local row positions (0..len(keys)-1); `cols` are global variable positions.
    """

    name: str
    keys: pd.DataFrame
    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    lower: np.ndarray
    upper: np.ndarray

    @classmethod
    def empty(cls, name: str, keys: pd.DataFrame) -> RowBlock:
        z = np.zeros(0)
        return cls(name, keys.iloc[0:0], z.astype(np.int64), z.astype(np.int64), z, z, z)
