"""model/sparse.py against scipy.sparse, the reference, on random matrices: every operation the
solve path uses gives the same matrix (or product) scipy gives."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from model.formulation.lp import _csr_pattern
from model.sparse import Sparse

SEEDS = range(12)


def random_matrix(seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    m, n = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    A = sp.random(m, n, density=float(rng.uniform(0.0, 0.3)), random_state=seed, format="csr")
    A.data = np.round(A.data * 10 - 5, 3)
    return A


def dense(S: Sparse) -> np.ndarray:
    """Through scipy, so the comparison does not lean on Sparse.toarray."""
    return S.to_scipy().toarray()


@pytest.mark.parametrize("seed", SEEDS)
def test_orientation_transpose_and_products_equal_scipy(seed):
    A = random_matrix(seed)
    S = Sparse.of(A)
    ref = A.toarray()
    assert np.array_equal(dense(S), ref)
    csc = S.tocsc()
    assert not csc.rowwise and np.array_equal(dense(csc), ref)
    assert np.array_equal(csc.indptr, A.tocsc().indptr) and np.array_equal(csc.indices, A.tocsc().indices)
    assert np.array_equal(dense(csc.tocsr()), ref) and np.array_equal(csc.tocsr().indices, S.indices)
    assert np.array_equal(dense(S.T), ref.T) and np.array_equal(dense(csc.T), ref.T)
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=A.shape[1]), rng.normal(size=A.shape[0])
    assert np.allclose(S @ x, A @ x) and np.allclose(csc @ x, A @ x)
    assert np.allclose(S.T @ y, A.T @ y) and np.allclose(csc.T @ y, A.T @ y)


@pytest.mark.parametrize("seed", SEEDS)
def test_columns_rows_and_stacking_equal_scipy(seed):
    A = random_matrix(seed)
    S = Sparse.of(A)
    rng = np.random.default_rng(seed + 100)
    n, m = A.shape[1], A.shape[0]
    pick = rng.permutation(n)[: int(rng.integers(0, n + 1))]
    assert np.array_equal(dense(S.columns(pick)), A[:, pick].toarray())
    assert np.array_equal(dense(S.tocsc().columns(pick)), A[:, pick].toarray())
    mask = rng.random(n) < 0.5
    assert np.array_equal(dense(S.columns(mask)), A[:, mask].toarray())
    a, b = sorted(rng.integers(0, m + 1, 2))
    assert np.array_equal(dense(S.row_range(a, b)), A[a:b].toarray())
    B = sp.random(int(rng.integers(1, 20)), n, density=0.2, random_state=seed, format="csr")
    assert np.array_equal(dense(Sparse.vstack([S, Sparse.of(B)])), sp.vstack([A, B]).toarray())


@pytest.mark.parametrize("seed", SEEDS)
def test_from_coo_sums_repeated_pairs_as_scipy_does(seed):
    rng = np.random.default_rng(seed)
    m, n, k = int(rng.integers(1, 15)), int(rng.integers(1, 15)), int(rng.integers(0, 80))
    rows, cols = rng.integers(0, m, k), rng.integers(0, n, k)
    vals = rng.normal(size=k)
    S = Sparse.from_coo(rows, cols, vals, (m, n))
    ref = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))
    assert np.allclose(dense(S), ref.toarray())
    assert all(np.all(np.diff(S.indices[S.indptr[i]:S.indptr[i + 1]]) > 0) for i in range(m))


@pytest.mark.parametrize("seed", SEEDS)
def test_sorted_indices_and_the_lp_pattern(seed):
    A = random_matrix(seed)
    rng = np.random.default_rng(seed)
    S = Sparse.of(A).tocsc()
    shuffled_rows = rng.permutation(A.shape[0])
    local = Sparse(S.indptr, shuffled_rows[S.indices], S.data, S.shape, rowwise=False)
    fixed = local.with_sorted_indices()
    assert np.array_equal(dense(fixed), dense(local))
    assert all(np.all(np.diff(fixed.indices[fixed.indptr[j]:fixed.indptr[j + 1]]) > 0) for j in range(A.shape[1]))
    # the LP's pattern: a permutation of COO entries into CSR order, as scipy's conversion orders them
    coo = A.tocoo()
    perm = rng.permutation(coo.nnz)
    order, indptr, indices = _csr_pattern(coo.row[perm], coo.col[perm], *A.shape)
    ref = A.tocsr()
    assert np.array_equal(indptr, ref.indptr) and np.array_equal(indices, ref.indices)
    assert np.array_equal(coo.data[perm][order], ref.data)


def test_a_repeated_pair_in_the_lp_pattern_is_refused():
    with pytest.raises(AssertionError, match="appears twice"):
        _csr_pattern(np.array([0, 1, 0]), np.array([2, 0, 2]), 2, 3)
