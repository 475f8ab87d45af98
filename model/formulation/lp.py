"""Assemble the LP in standard form  min c'z  s.t.  row_lower <= A z <= row_upper,  lower <= z <= upper.

The blocks come from variables.py and constraints.py in a fixed order; the column and row ranges
of each family are kept so the solution maps back to the tidy key tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.data import InputData
from model.formulation import constraints, planning, variables
from model.formulation.blocks import RowBlock, VarBlock
from model.formulation.sets import Index, build_index
from model.sparse import Sparse, csr_order


@dataclass
class LP:
    index: Index
    var_blocks: dict[str, VarBlock]
    row_blocks: dict[str, RowBlock]
    col_start: dict[str, int]
    row_start: dict[str, int]
    c: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    A: Sparse  # by rows (model/sparse.py); a scipy matrix given here is taken as its arrays
    row_lower: np.ndarray
    row_upper: np.ndarray
    integrality: np.ndarray | None = None  # 1 for integer columns (binary projects); None: an LP

    def __post_init__(self) -> None:
        self.A = Sparse.of(self.A).tocsr()

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    def cols(self, name: str) -> slice:
        start = self.col_start[name]
        return slice(start, start + self.var_blocks[name].size)

    def rows(self, name: str) -> slice:
        start = self.row_start[name]
        return slice(start, start + self.row_blocks[name].size)

    def same_structure(self, other: LP) -> bool:
        """True when only values differ, so a solver can be updated in place."""
        return (
            self.A.shape == other.A.shape
            and np.array_equal(self.A.indptr, other.A.indptr)
            and np.array_equal(self.A.indices, other.A.indices)
        )


def build_lp(data: InputData, *, no_shortfall: bool = False, reuse: Index | Sequence[Index] | None = None) -> LP:
    """The LP of `data`. With `reuse` (the Index of an earlier LP of the same structure) only the
    numbers are gathered anew and the sparsity pattern is taken as it was: what-ifs skip the joins."""
    return assemble(build_index(data, reuse=reuse), no_shortfall=no_shortfall)


def assemble(ix: Index, *, no_shortfall: bool = False) -> LP:
    var_blocks: dict[str, VarBlock] = {}
    col_start: dict[str, int] = {}
    n = 0
    for make in variables.VARIABLES:
        block = make(ix)
        var_blocks[block.name] = block
        col_start[block.name] = n
        n += block.size
    if no_shortfall:
        var_blocks["shortfall"].upper = np.zeros(var_blocks["shortfall"].size)
    row_blocks: dict[str, RowBlock] = {}
    row_start: dict[str, int] = {}
    m = 0
    for make in constraints.CONSTRAINTS:
        block = make(ix, col_start)
        row_blocks[block.name] = block
        row_start[block.name] = m
        m += block.size
    vals = np.concatenate([b.vals for b in row_blocks.values()])
    # the sparsity pattern is structure: computed once, then only the values are placed
    order, indptr, indices = ix.structural("csr", lambda: _csr_pattern(
        np.concatenate([b.rows + row_start[b.name] for b in row_blocks.values()]),
        np.concatenate([b.cols for b in row_blocks.values()]), m, n))
    A = Sparse(indptr, indices, vals[order], (m, n))

    def cat(attr: str, blocks) -> np.ndarray:
        parts = [np.asarray(getattr(b, attr), dtype=float) for b in blocks.values()]
        return np.concatenate(parts) if parts else np.zeros(0)

    return LP(
        index=ix, var_blocks=var_blocks, row_blocks=row_blocks, col_start=col_start,
        row_start=row_start, c=cat("cost", var_blocks), lower=cat("lower", var_blocks),
        upper=cat("upper", var_blocks), A=A, row_lower=cat("lower", row_blocks),
        row_upper=cat("upper", row_blocks), integrality=planning.integrality(ix, col_start, n),
    )


def _csr_pattern(rows: np.ndarray, cols: np.ndarray, m: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The permutation that sorts COO entries into CSR order, with the CSR index arrays. Every
    (row, column) pair appears once by construction (see constraints.py): a pair seen twice would be
    summed by a solver, so it is refused."""
    order, repeat, indptr, indices = csr_order(rows, cols, (m, n))
    if repeat.any():
        raise AssertionError("a (row, column) pair appears twice in the constraint matrix")
    return order, indptr, indices
