"""jaxinit.sparse: the RowSparse type, its checks, and patterns drawn without N x N arrays."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st

import jaxinit
from jaxinit._src.sparse import patterns
from jaxinit.sparse import RowSparse, fixed_in_degree, from_dense


def random_row_sparse(rng, n_rows, n_cols, slots, pad=0.3):
    """A RowSparse with random values, random columns (repeats allowed) and some padding."""
    index = rng.integers(0, n_cols, (n_rows, slots)).astype(np.int32)
    index[rng.random((n_rows, slots)) < pad] = n_cols
    values = rng.standard_normal((n_rows, slots)).astype(np.float32)
    return RowSparse(jnp.asarray(values), jnp.asarray(index), n_cols)


def dense_reference(values, index, n_cols):
    """The dense matrix of (values, index) by a plain loop: repeats add up, padding is dropped."""
    values, index = np.asarray(values, np.float64), np.asarray(index)
    dense = np.zeros((index.shape[0], n_cols))
    for i in range(index.shape[0]):
        for s in range(index.shape[1]):
            if index[i, s] < n_cols:
                dense[i, index[i, s]] += values[i, s]
    return dense


@given(
    n_rows=st.integers(1, 12),
    n_cols=st.integers(1, 12),
    slots=st.integers(0, 6),
    seed=st.integers(0, 2**31 - 1),
)
def test_todense_and_products_match_a_loop(n_rows, n_cols, slots, seed):
    rng = np.random.default_rng(seed)
    W = random_row_sparse(rng, n_rows, n_cols, slots)
    # garbage in padding slots must be ignored by every operation
    W = W.with_values(jnp.where(W.stored, W.values, 123.0))
    ref = dense_reference(np.where(W.stored, W.values, 0), W.index, n_cols)
    np.testing.assert_allclose(W.todense(), ref, rtol=0, atol=1e-6 * (1 + np.abs(ref).max()))
    x = rng.standard_normal(n_cols).astype(np.float32)
    X = rng.standard_normal((n_cols, 3)).astype(np.float32)
    scale = 1 + np.abs(ref).sum(axis=1).max() * 4
    np.testing.assert_allclose(W @ x, ref @ x, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(W @ X, ref @ X, rtol=0, atol=1e-6 * scale)
    assert W.shape == (n_rows, n_cols) and W.slots == slots


def test_gather_reads_per_column_values_and_zero_on_padding():
    W = RowSparse(jnp.ones((2, 3)), jnp.array([[0, 2, 3], [1, 1, 3]], jnp.int32), 3)
    read = W.gather(jnp.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(read, [[10, 30, 0], [20, 20, 0]])
    stack = RowSparse(jnp.ones((2, 2, 3)), jnp.stack([W.index, W.index]), 3)
    out = stack.gather(jnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(out, [[[1, 3, 0], [2, 2, 0]], [[4, 6, 0], [5, 5, 0]]])


def test_row_sparse_is_a_pytree_through_jit_and_vmap():
    rng = np.random.default_rng(0)
    W = random_row_sparse(rng, 5, 5, 3)
    x = jnp.arange(5.0)
    np.testing.assert_allclose(jax.jit(lambda W, x: W @ x)(W, x), W @ x, rtol=1e-6)
    stack = jax.tree.map(lambda a: jnp.stack([a, a]), W)
    assert stack.batch_shape == (2,) and stack.shape == (2, 5, 5)
    np.testing.assert_allclose(jax.vmap(lambda W: W @ x)(stack), jnp.stack([W @ x] * 2), rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"W @ x takes one matrix; this RowSparse holds a stack \(2,\)"
    ):
        stack @ x
    with pytest.raises(ValueError, match=r"x must have shape \(5,\) or \(5, c\), got \(4,\)"):
        W @ jnp.ones(4)


ONES, ZEROS = np.ones((3, 2)), np.zeros((3, 2), np.int32)


@pytest.mark.parametrize(
    ("values", "index", "n_cols", "error", "match"),
    [
        (ONES, np.zeros((3, 2), np.int64), 3, TypeError, "W.index must be int32, got dtype int64"),
        (ONES.astype(np.int32), ZEROS, 3, TypeError, "W.values must be a real floating"),
        (ONES, np.zeros((3, 1), np.int32), 3, ValueError, r"one shape .* \(3, 2\) and \(3, 1\)"),
        (ONES, np.array([[0, 1], [4, 0], [1, 1]], np.int32), 3, ValueError, r"in 0..3 .* got 4"),
        (ONES, np.array([[0, -1], [0, 0], [1, 1]], np.int32), 3, ValueError, r"got -1"),
        (ONES, ZEROS, 4, ValueError, r"must be square: 3 rows but n_cols=4"),
        (ONES, ZEROS, 0, ValueError, r"n_cols must be a positive integer, got 0"),
        (ONES, ZEROS, True, ValueError, r"n_cols must be a positive integer, got True"),
        (np.ones(3), np.zeros(3, np.int32), 3, ValueError, r"must have one shape"),
    ],
)
def test_crafted_row_sparse_is_refused(values, index, n_cols, error, match):
    W = RowSparse(values, index, n_cols)  # numpy arrays as given (an int64 index stays int64)
    with pytest.raises(error, match=match):
        jaxinit.spectral_radius(W, method="krylov")


def test_a_dense_matrix_where_a_row_sparse_is_needed_is_refused():
    with pytest.raises(
        TypeError, match=r"rec_connectivity must be a jaxinit.sparse.RowSparse, got ndarray"
    ):
        jaxinit.sparse.gaussian_spectral_radius(
            jax.random.key(0), jaxinit.Config(N_in=1, N_rec=4, N_out=1), np.ones((4, 4))
        )


def test_from_dense_round_trip_and_slots():
    rng = np.random.default_rng(3)
    dense = rng.standard_normal((7, 9)) * (rng.random((7, 9)) < 0.3)
    S = from_dense(dense.astype(np.float32))
    assert S.slots == int((dense != 0).sum(axis=1).max())
    np.testing.assert_array_equal(S.todense(), dense.astype(np.float32))
    wider = from_dense(dense.astype(np.float32), slots=S.slots + 2)
    np.testing.assert_array_equal(wider.todense(), dense.astype(np.float32))
    with pytest.raises(ValueError, match=rf"slots must be at least {S.slots}"):
        from_dense(dense, slots=S.slots - 1)
    with pytest.raises(ValueError, match=r"W must be a matrix \(2 axes\), got shape \(3,\)"):
        from_dense(np.ones(3))
    with pytest.raises(TypeError, match="W must be real, got dtype complex128"):
        from_dense(np.ones((2, 2)) * 1j)
    with pytest.raises(TypeError, match="from_dense needs a concrete array"):
        jax.jit(from_dense)(jnp.ones((2, 2)))


def test_a_connectivity_mask_becomes_a_pattern():
    mask = jaxinit.connectivity.fixed_in_degree(jax.random.key(0), (50, 50), 7)
    P = from_dense(mask)
    assert P.slots == 7
    np.testing.assert_array_equal(P.todense(), mask)


# -- fixed_in_degree -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "k", "autapses"),
    [(1, 0, False), (1, 1, True), (2, 1, False), (10, 9, False), (10, 10, True), (40, 3, False),
     (200, 50, False), (300, 60, True), (1000, 1, False)],
)
def test_fixed_in_degree_rows_hold_k_distinct_sorted_columns(n, k, autapses):
    """Also checks the default: autapses=True, as in jaxinit.connectivity.fixed_in_degree."""
    P = fixed_in_degree(jax.random.key(n + k), (n, n), k, autapses=autapses)
    index = np.asarray(P.index)
    assert P.shape == (n, n) and index.shape == (n, k) and index.dtype == np.int32
    assert (np.asarray(P.values) == 1).all()
    assert ((index >= 0) & (index < n)).all()
    assert (np.diff(index, axis=1) > 0).all()  # sorted and distinct
    if not autapses:
        assert not (index == np.arange(n)[:, None]).any()
    dense = np.asarray(P.todense())
    np.testing.assert_array_equal(dense.sum(axis=1), k)


def test_fixed_in_degree_rectangular():
    P = fixed_in_degree(jax.random.key(2), (5, 300), 40)
    assert P.shape == (5, 300) and P.slots == 40
    np.testing.assert_array_equal(np.asarray(P.todense()).sum(axis=1), 40)


def test_fixed_in_degree_is_deterministic_and_rows_do_not_depend_on_chunks():
    key = jax.random.key(7)
    a = fixed_in_degree(key, (300, 300), 20)
    np.testing.assert_array_equal(a.index, fixed_in_degree(key, (300, 300), 20).index)
    assert not np.array_equal(a.index, fixed_in_degree(jax.random.key(8), (300, 300), 20).index)
    # row i comes from fold_in(key, i): the first rows of a matrix of more rows
    # than one chunk equal those of a matrix drawn in one chunk
    few = patterns._indices(key, 12, 20_000, 5, False)
    many = patterns._indices(key, patterns.CHUNK_ROWS + 100, 20_000, 5, False)
    np.testing.assert_array_equal(few, many[:12])


@pytest.mark.parametrize(("c", "k"), [(9, 2), (6, 3)], ids=["draws", "permutation"])
def test_fixed_in_degree_subsets_are_uniform(c, k):
    """Every k-subset of the c candidates equally likely (chi-square, alpha 1e-6),
    in the regime of independent draws (4k <= c) and of permutations (4k > c)."""
    assert (patterns.draws_per_row(k, c) == 0) == (c == 6)
    keys = jax.random.split(jax.random.key(11), 3000)
    index = jax.vmap(lambda key: patterns._indices(key, c, c, k, True))(keys)
    rows = np.asarray(index).reshape(-1, k)
    codes = (rows * (c ** np.arange(k))).sum(axis=1)
    _, counts = np.unique(codes, return_counts=True)
    n_subsets = math.comb(c, k)
    assert counts.size == n_subsets
    p = scipy.stats.chisquare(counts).pvalue
    assert p > 1e-6, (p, counts)


def test_fixed_in_degree_errors():
    key = jax.random.key(0)
    with pytest.raises(
        ValueError, match=r"k must be at most 9 \(the candidate inputs per unit\), got 10"
    ):
        fixed_in_degree(key, (10, 10), 10, autapses=False)
    with pytest.raises(
        ValueError, match=r"k must be at most 10 \(the candidate inputs per unit\), got 11"
    ):
        fixed_in_degree(key, (10, 10), 11)
    with pytest.raises(
        ValueError, match=r"autapses=False needs a square shape \(a recurrent mask\), got shape"
    ):
        fixed_in_degree(key, (3, 4), 1, autapses=False)
    with pytest.raises(ValueError, match="k must be non-negative, got -1"):
        fixed_in_degree(key, (10, 10), -1)
    with pytest.raises(
        TypeError, match=r"k must be an integer, got 2.5"
    ):
        fixed_in_degree(key, (10, 10), 2.5)
    with pytest.raises(ValueError, match=r"shape\[0\] must be a positive integer, got 0"):
        fixed_in_degree(key, (0, 0), 0)
    with pytest.raises(TypeError, match="shape must be a pair"):
        fixed_in_degree(key, 10, 0)
    with pytest.raises(TypeError, match="autapses must be True or False, got 1"):
        fixed_in_degree(key, (10, 10), 2, autapses=1)
    with pytest.raises(TypeError, match="key must be a JAX PRNG key"):
        fixed_in_degree(3, (10, 10), 2)
    with pytest.raises(
        ValueError, match="dtype must be bfloat16, float16, float32 or float64, got 'int32'"
    ):
        fixed_in_degree(key, (10, 10), 2, dtype="int32")


def largest_array(jaxpr):
    """The largest number of elements of any value in a (closed) jaxpr, sub-jaxprs included."""
    sizes = [0]

    def walk(jx):
        for var in (*jx.invars, *jx.outvars, *jx.constvars):
            sizes.append(math.prod(getattr(var.aval, "shape", ())))
        for eqn in jx.eqns:
            for var in (*eqn.invars, *eqn.outvars):
                sizes.append(math.prod(getattr(getattr(var, "aval", None), "shape", ())))
            for sub in jax.core.subjaxprs(eqn) if hasattr(jax.core, "subjaxprs") else ():
                walk(sub)
            for param in eqn.params.values():
                for item in param if isinstance(param, (tuple, list)) else (param,):
                    inner = getattr(item, "jaxpr", None)
                    if inner is not None:
                        walk(getattr(inner, "jaxpr", inner))

    walk(jaxpr.jaxpr)
    return max(sizes)


def test_no_n_by_n_array_when_drawing_a_pattern_of_10k_units():
    n = 10_000
    jaxpr = jax.make_jaxpr(lambda key: patterns._indices(key, n, n, 100, False))(jax.random.key(0))
    # the output (n x k) or one chunk of draws, far below the 10^8 entries of an n x n mask
    bound = max(n * 100, patterns.CHUNK_ROWS * patterns.draws_per_row(100, n - 1))
    assert largest_array(jaxpr) <= bound < n * n // 50
