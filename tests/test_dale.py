"""Dale vectors and balance_dale_ratio, including PsychRNN's failing ratios 0 and 1."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxinit import balance_dale_ratio, dale_vectors, n_excitatory


def psychrnn_balance(W_rec, mask, dale_ratio):
    """PsychRNN's balance_dale_ratio, restated with numpy's dense matrices."""
    n = W_rec.shape[0]
    vec = np.ones(n)
    vec[int(dale_ratio * n) :] = dale_ratio / (1 - dale_ratio)
    dale = np.diag(vec) / np.linalg.norm(np.matmul(mask, np.diag(vec)), axis=1)[:, np.newaxis]
    return np.matmul(W_rec, dale)


@pytest.mark.parametrize(
    ("n", "ratio", "n_exc"),
    [(10, 0.8, 8), (100, 0.29, 28), (7, 0.5, 3), (5, 0.0, 0), (5, 1.0, 5), (3, 0.99, 2)],
)
def test_n_excitatory_uses_python_floor(n, ratio, n_exc):
    assert n_excitatory(n, ratio) == n_exc == int(ratio * n)


def test_dale_vectors_are_the_psychrnn_diagonals(dtype):
    rec, out = dale_vectors(10, 0.8, dtype)
    assert rec.dtype == out.dtype == jnp.dtype(dtype)
    assert rec.tolist() == [1.0] * 8 + [-1.0] * 2
    assert out.tolist() == [1.0] * 8 + [0.0] * 2
    rec, out = dale_vectors(4, None)
    assert rec.tolist() == out.tolist() == [1.0] * 4
    assert dale_vectors(3, 0.0)[0].tolist() == [-1.0] * 3
    assert dale_vectors(3, 1.0)[1].tolist() == [1.0] * 3


@given(
    n=st.integers(2, 12),
    ratio=st.floats(0.05, 0.95),
    seed=st.integers(0, 2**31 - 1),
    density=st.floats(0.3, 1.0),
)
def test_balance_matches_psychrnn_formula(n, ratio, seed, density):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n))
    mask = (rng.random((n, n)) < density).astype(float)
    mask[:, 0] = 1  # keep every row non-empty, where PsychRNN's formula is finite
    n_exc = int(ratio * n)
    if n_exc == 0:  # PsychRNN's v cancels there; jaxinit uses v = 1 (same result)
        expected = W / np.linalg.norm(mask, axis=1)[None, :]
    else:
        expected = psychrnn_balance(W, mask, ratio)
    got = balance_dale_ratio(jnp.asarray(W, jnp.float32), mask, ratio)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)


def test_balance_in_float64_is_exact_to_rounding():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        W = rng.standard_normal((30, 30))
        mask = (rng.random((30, 30)) < 0.6).astype(float)
        mask[:, 0] = 1
        got = balance_dale_ratio(jnp.asarray(W), mask, 0.8)
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(got, psychrnn_balance(W, mask, 0.8), rtol=1e-12)


def test_balance_is_a_no_op_without_dale():
    W = jnp.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(balance_dale_ratio(W, jnp.ones((3, 3)), None), W)


@pytest.mark.parametrize("ratio", [0.0, 1.0])
def test_ratio_zero_and_one_are_finite(ratio):
    # PsychRNN: ZeroDivisionError at 1, NaN at 0.
    W = jnp.asarray(np.random.default_rng(1).standard_normal((6, 6)), jnp.float32)
    got = np.asarray(balance_dale_ratio(W, jnp.ones((6, 6)), ratio))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, np.asarray(W) / np.sqrt(6.0), rtol=1e-6)


def test_empty_mask_row_keeps_finite_factor():
    mask = np.ones((4, 4))
    mask[1, :] = 0  # unit 1 receives nothing: PsychRNN divides by zero
    got = np.asarray(balance_dale_ratio(jnp.ones((4, 4)), mask, 0.5))
    assert np.isfinite(got).all()
    v = np.array([1.0, 1.0, 1.0, 1.0])  # ratio 0.5: r / (1 - r) = 1
    norms = np.linalg.norm(mask * v, axis=1)
    np.testing.assert_allclose(got[:, 1], v[1])
    np.testing.assert_allclose(got[:, 0], v[0] / norms[0], rtol=1e-6)


def test_balance_batches_over_leading_axes_and_does_not_mutate():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 5, 5)).astype(np.float32)
    mask = np.ones((5, 5), np.float32)
    before = W.copy()
    got = balance_dale_ratio(W, mask, 0.6)
    for i in range(3):
        np.testing.assert_allclose(got[i], balance_dale_ratio(W[i], mask, 0.6), rtol=1e-6)
    np.testing.assert_array_equal(W, before)


def test_balance_errors():
    with pytest.raises(ValueError, match=r"W_rec must be square, got shape \(2, 3\)"):
        balance_dale_ratio(jnp.ones((2, 3)), jnp.ones((2, 3)), 0.5)
    with pytest.raises(ValueError, match=r"rec_connectivity must have shape \(3, 3\).*\(2, 2\)"):
        balance_dale_ratio(jnp.ones((3, 3)), jnp.ones((2, 2)), 0.5)
    with pytest.raises(ValueError, match=r"dale_ratio must be in \[0, 1\] or None, got 2.0"):
        balance_dale_ratio(jnp.ones((3, 3)), jnp.ones((3, 3)), 2.0)
