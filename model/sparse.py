"""Sparse matrices as the three numpy arrays HiGHS takes, for the solve path.

Why not scipy.sparse here: importing it costs ~0.09 s (its array-API shim loads numpy.f2py and
numpy.testing), 7% of `sourcing solve` on the base case, and the solve path needs only a few
operations on the arrays it hands to HiGHS anyway: change orientation, take columns, stack, multiply
by a vector. `tests/test_sparse.py` checks each against scipy on random matrices. Where a matrix's
algebra is needed (hedged plans' block matrices, the tests), `to_scipy()` hands over the same arrays.

A `Sparse` is compressed by rows (CSR) or by columns (CSC): `indptr` delimits each row's (column's)
entries in `indices` (their columns, rows) and `data`; minor indices are sorted within each.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Sparse:
    indptr: np.ndarray  # int64, one more than the rows (CSR) or columns (CSC)
    indices: np.ndarray  # int64: each entry's column (CSR) or row (CSC)
    data: np.ndarray  # float64
    shape: tuple[int, int]
    rowwise: bool = True  # CSR; False: CSC

    # ------------------------------------------------------------------ making one

    @staticmethod
    def of(matrix: Any) -> Sparse:
        """A `Sparse` (as it is) or anything with scipy's `tocsr()` (by rows, indices sorted)."""
        if isinstance(matrix, Sparse):
            return matrix
        csr = matrix.tocsr()
        if not csr.has_canonical_format:  # repeated pairs summed, each row's columns sorted
            csr = csr.copy()  # the caller's matrix is left as it was
            csr.sum_duplicates()
        return Sparse(csr.indptr.astype(np.int64), csr.indices.astype(np.int64), csr.data.astype(float),
                      (int(csr.shape[0]), int(csr.shape[1])))

    @staticmethod
    def from_coo(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> Sparse:
        """By rows from (row, column, value) triples; a pair given twice is summed, as scipy does."""
        order, repeat, indptr, cols = csr_order(rows, cols, shape)
        vals = np.asarray(vals, dtype=float)[order]
        if repeat.any():
            first = ~repeat
            vals, cols = np.add.reduceat(vals, np.flatnonzero(first)), cols[first]
            indptr = _indptr(np.bincount(np.asarray(rows, dtype=np.int64)[order][first], minlength=int(shape[0])))
        return Sparse(indptr, cols, vals, (int(shape[0]), int(shape[1])))

    @staticmethod
    def vstack(blocks: list[Sparse]) -> Sparse:
        """The blocks' rows one under another (all with the same number of columns), by rows."""
        blocks = [b.tocsr() for b in blocks]
        n = blocks[0].shape[1]
        offsets = np.cumsum([0] + [b.nnz for b in blocks[:-1]])
        indptr = np.concatenate([[0]] + [b.indptr[1:] + o for b, o in zip(blocks, offsets, strict=True)])
        return Sparse(indptr.astype(np.int64), np.concatenate([b.indices for b in blocks]),
                      np.concatenate([b.data for b in blocks]), (sum(b.shape[0] for b in blocks), n))

    def copy(self) -> Sparse:
        return Sparse(self.indptr.copy(), self.indices.copy(), self.data.copy(), self.shape, self.rowwise)

    # ------------------------------------------------------------------ reading one

    @property
    def nnz(self) -> int:
        return len(self.data)

    def major(self) -> np.ndarray:
        """Each entry's row (CSR) or column (CSC)."""
        return np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int64), np.diff(self.indptr))

    @property
    def T(self) -> Sparse:
        """The transpose: the same arrays read the other way (no copy)."""
        return Sparse(self.indptr, self.indices, self.data, (self.shape[1], self.shape[0]), not self.rowwise)

    def tocsr(self) -> Sparse:
        return self if self.rowwise else self._flipped()

    def tocsc(self) -> Sparse:
        return self._flipped() if self.rowwise else self

    def _flipped(self) -> Sparse:
        """The same matrix compressed the other way: a stable counting sort by minor index, so the
        old major indices (ascending) come out sorted within each new major."""
        n_minor = self.shape[1] if self.rowwise else self.shape[0]
        order = np.argsort(self.indices, kind="stable")
        return Sparse(_indptr(np.bincount(self.indices, minlength=n_minor)), self.major()[order],
                      self.data[order], self.shape, not self.rowwise)

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        """The product with a vector."""
        x = np.asarray(x, dtype=float)
        if self.rowwise:
            return np.bincount(self.major(), weights=self.data * x[self.indices], minlength=self.shape[0])
        return np.bincount(self.indices, weights=self.data * x[self.major()], minlength=self.shape[0])

    def row_range(self, start: int, stop: int) -> Sparse:
        """Rows start..stop-1 of a CSR matrix, by rows (the arrays' own slices, no copy)."""
        assert self.rowwise
        a, b = int(self.indptr[start]), int(self.indptr[stop])
        return Sparse(self.indptr[start:stop + 1] - a, self.indices[a:b], self.data[a:b],
                      (stop - start, self.shape[1]))

    def columns(self, cols: np.ndarray) -> Sparse:
        """The matrix of the given columns in the given order (indices or a boolean mask), kept in
        this one's orientation."""
        cols = np.asarray(cols)
        if cols.dtype == bool:
            cols = np.flatnonzero(cols)
        cols = cols.astype(np.int64)
        if not self.rowwise:  # gather each column's run of entries
            lengths = np.diff(self.indptr)[cols]
            indptr = _indptr(lengths)
            at = np.repeat(self.indptr[cols] - indptr[:-1], lengths) + np.arange(indptr[-1])
            return Sparse(indptr, self.indices[at], self.data[at], (self.shape[0], len(cols)), False)
        return self.tocsc().columns(cols).tocsr()

    def with_sorted_indices(self) -> Sparse:
        """The same matrix with each row's (column's) minor indices ascending."""
        order = np.lexsort((self.indices, self.major()))
        return Sparse(self.indptr, self.indices[order], self.data[order], self.shape, self.rowwise)

    def to_scipy(self):
        """A scipy.sparse csr_matrix or csc_matrix on the same arrays (imports scipy)."""
        import scipy.sparse as sp

        make = sp.csr_matrix if self.rowwise else sp.csc_matrix
        return make((self.data, self.indices, self.indptr), shape=self.shape)


def csr_order(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, column) pairs put in CSR order (by row, then column): the permutation, whether each
    pair in that order repeats the one before it, the row pointer and the columns in that order."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    key = rows * max(int(shape[1]), 1) + cols
    order = np.argsort(key, kind="stable")  # timsort: the LP's blocks arrive in sorted runs
    key = key[order]
    repeat = np.zeros(len(key), dtype=bool)
    repeat[1:] = key[1:] == key[:-1]
    return order, repeat, _indptr(np.bincount(rows, minlength=int(shape[0]))), cols[order]


def _indptr(counts: np.ndarray) -> np.ndarray:
    """The pointer array of runs of these lengths: 0, then their running sum."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out
