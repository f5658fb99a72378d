"""The sparse Krylov operator: both layouts, Dale signs and the scale applied in the product."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit._src.sparse import operator as operator_module
from jaxinit._src.sparse.operator import SparseOperator, largest_stored, operator
from jaxinit._src.sparse.params import effective_rec
from jaxinit._src.sparse.radius import sparse_radius
from jaxinit.sparse import RowSparse
from tests.conftest import krylov_bound
from tests.test_sparse import dense_reference, random_row_sparse
from tests.test_sparse_network import dale_values, full_radius, random_pattern


def reference(W, signs):
    """The dense operator by a plain loop: ``(|W| * sign_j) / s`` or ``W / s``, in float64."""
    values = np.where(W.stored, W.values, 0).astype(np.float64)
    if signs is not None:
        values = np.abs(values)
    dense = dense_reference(values, W.index, W.n_cols)
    if signs is not None:
        dense = dense * np.asarray(signs, np.float64)[None, :]
    s = np.max(np.abs(np.where(W.stored, W.values, 0)), initial=0.0)
    return dense / (s if s > 0 else 1.0)


def row_layout(monkeypatch, block):
    monkeypatch.setattr(operator_module, "SLOT_MAJOR_BYTES", 0)
    monkeypatch.setattr(operator_module, "ROW_BLOCK", block)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 14),
    slots=st.integers(1, 7),
    seed=st.integers(0, 2**31 - 1),
    dale=st.booleans(),
    layout=st.sampled_from(["slot", "row-blocks", "one-block"]),
)
def test_both_layouts_give_the_product_of_a_loop(n, slots, seed, dale, layout):
    rng = np.random.default_rng(seed)
    W = random_row_sparse(rng, n, n, slots)
    W = W.with_values(jnp.where(W.stored, W.values, jnp.nan))  # padding must read nothing
    signs = jnp.asarray(rng.choice([1.0, -1.0], n), jnp.float32) if dale else None
    with pytest.MonkeyPatch.context() as mp:
        if layout != "slot":
            row_layout(mp, 3 if layout == "row-blocks" else 10**6)
        op = operator(W, signs, largest_stored(W))
    assert op.slot_major == (layout == "slot")
    ref = reference(W, signs)
    x = rng.standard_normal(n).astype(np.float32)
    X = rng.standard_normal((n, 2)).astype(np.float32)
    bound = 4 * slots * np.finfo(np.float32).eps * (1 + np.abs(ref).sum(axis=1).max()) * 4
    np.testing.assert_allclose(jax.jit(lambda o, x: o @ x)(op, x), ref @ x, rtol=0, atol=bound)
    np.testing.assert_allclose(op @ jnp.asarray(X), ref @ X, rtol=0, atol=bound)


def test_a_stack_of_operators_vmaps_member_by_member(monkeypatch):
    rng = np.random.default_rng(3)
    members = [random_row_sparse(rng, 20, 20, 5) for _ in range(3)]
    stack = jax.tree.map(lambda *a: jnp.stack(a), *members)
    signs = jnp.asarray(rng.choice([1.0, -1.0], (3, 20)), jnp.float32)
    x = jnp.asarray(rng.standard_normal(20), jnp.float32)
    for layout in ("slot", "row"):
        if layout == "row":
            row_layout(monkeypatch, 6)
        op = operator(stack, signs, largest_stored(stack))
        assert op.values.shape[0] == 3
        out = jax.vmap(lambda o: o @ x)(op)
        for i, W in enumerate(members):
            np.testing.assert_allclose(out[i], reference(W, signs[i]) @ np.asarray(x), atol=1e-5)


@pytest.mark.parametrize("layout", ["slot", "row"])
@pytest.mark.parametrize("seed", [0, 1])
def test_radius_with_signs_is_the_radius_of_the_effective_matrix(monkeypatch, layout, seed):
    W = dale_values(random_pattern(seed, 500, 40), seed + 10)
    n = W.n_cols
    signs = jnp.where(jnp.arange(n) < 400, 1.0, -1.0)
    if layout == "row":
        row_layout(monkeypatch, 128)
    result = sparse_radius(W, tol=1e-5, signs=signs)
    dense = np.asarray(effective_rec(W, signs, True).todense())
    truth = full_radius(dense)
    assert bool(result.converged) and not bool(result.fell_back)
    assert abs(float(result.radius) - truth) <= krylov_bound(dense, result.residual) * truth
    # the stored values are the raw ones: |W| * sign_j is applied in the product only
    assert bool(jnp.any(W.values < 0))


def test_an_uncertified_effective_matrix_falls_back_to_its_own_full_solve():
    W = dale_values(random_pattern(2, 300, 30), 3)
    signs = jnp.where(jnp.arange(300) < 240, 1.0, -1.0)
    result = sparse_radius(W, tol=1e-5, max_matvecs=10, signs=signs)
    assert not bool(result.converged) and bool(result.fell_back)
    truth = full_radius(np.asarray(effective_rec(W, signs, True).todense()))
    np.testing.assert_allclose(float(result.radius), truth, rtol=1e-5)


def temporary_bytes(W, signs, x):
    """Bytes of the temporaries of the compiled program that makes the operator and a product."""

    def product(W, signs, scale, x):
        return operator(W, signs, scale) @ x

    compiled = jax.jit(product).lower(W, signs, largest_stored(W), x).compile()
    return compiled.memory_analysis().temp_size_in_bytes


def test_the_row_layout_copies_nothing_of_size_nk(monkeypatch):
    """Without room for the slot-major copy, making the operator and a product
    need no temporary of ``N K`` entries (the matrix is only read), measured on
    the compiled program; with room, the copy is there."""
    n, k = 4096, 64
    W = jaxinit.sparse.fixed_in_degree(jax.random.key(0), (n, n), k)
    W = W.with_values(jax.random.normal(jax.random.key(1), (n, k)))
    signs = jnp.where(jnp.arange(n) < 3000, 1.0, -1.0)
    x = jnp.ones((n,))
    copy = n * k * 8  # values and indices
    assert temporary_bytes(W, signs, x) >= copy
    row_layout(monkeypatch, 512)
    op = operator(W, signs, largest_stored(W))
    assert not op.slot_major and op.values is W.values and op.index is W.index
    # a few blocks of 512 x K entries and a few N-vectors, whatever N
    assert temporary_bytes(W, signs, x) <= 4 * (512 * k * 4) + 4 * (n * 4)


def test_operator_is_a_pytree():
    W = RowSparse(jnp.array([[2.0, 0.0]]), jnp.array([[0, 1]], jnp.int32), 1)
    op = operator(W, None, largest_stored(W))
    leaves, tree = jax.tree.flatten(op)
    again = jax.tree.unflatten(tree, leaves)
    assert isinstance(again, SparseOperator) and again.shape == (1, 1)
    np.testing.assert_allclose(again @ jnp.array([3.0]), [3.0])  # (2 / 2) * 3
