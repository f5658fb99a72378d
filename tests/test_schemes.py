"""The four random schemes: distributions (KS tests), fan formula, edge cases."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import jaxinit
from jaxinit.schemes import const_gauss, const_unif, glorot_fan, glorot_gauss, glorot_unif

KEY = jax.random.key(2024)


def random_mask(seed, shape, density=0.5):
    return (np.random.default_rng(seed).random(shape) < density).astype(np.float32)


def psychrnn_fan(mask):
    """The fan exactly as PsychRNN's glorot functions tile it, written with numpy."""
    init = np.zeros(mask.shape)
    init += np.tile(np.sum(mask, axis=1), (mask.shape[1], 1)).T
    init += np.tile(np.sum(mask, axis=0), (mask.shape[0], 1))
    return init


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (40, 40), (9, 2)])
def test_glorot_fan_matches_psychrnn_formula(shape):
    mask = random_mask(1, shape)
    np.testing.assert_array_equal(glorot_fan(mask), psychrnn_fan(mask))


def test_const_gauss_is_standard_normal(dtype):
    w = np.asarray(const_gauss(KEY, jnp.ones((200, 200)), dtype=dtype))
    assert w.dtype == np.dtype(dtype)
    assert stats.kstest(w.ravel(), "norm").pvalue > 1e-3


def test_const_unif_is_uniform_on_the_bounds(dtype):
    w = np.asarray(const_unif(KEY, jnp.ones((200, 200)), minval=-0.3, maxval=0.7, dtype=dtype))
    assert w.min() >= -0.3 and w.max() < 0.7
    assert stats.kstest(w.ravel(), "uniform", args=(-0.3, 1.0)).pvalue > 1e-3


def test_glorot_gauss_has_per_entry_std(dtype):
    mask = random_mask(3, (150, 250))
    w = np.asarray(glorot_gauss(KEY, mask, dtype=dtype))
    std = np.sqrt(2.0 / psychrnn_fan(mask))
    assert stats.kstest((w / std).ravel(), "norm").pvalue > 1e-3
    # A wrong fan (say fan_in only) would be caught: the std is not the plain one.
    assert stats.kstest((w / np.sqrt(2.0 / 125)).ravel(), "norm").pvalue < 1e-3


def test_glorot_unif_has_per_entry_limit(dtype):
    mask = random_mask(4, (150, 250))
    w = np.asarray(glorot_unif(KEY, mask, dtype=dtype))
    limit = np.sqrt(6.0 / psychrnn_fan(mask))
    assert (np.abs(w) <= limit + 1e-7).all()
    assert stats.kstest((w / limit).ravel(), "uniform", args=(-1.0, 2.0)).pvalue > 1e-3


@pytest.mark.parametrize("scheme", [glorot_gauss, glorot_unif])
def test_empty_fan_gives_zero_not_inf(scheme):
    mask = np.ones((4, 5), np.float32)
    mask[2, :] = 0
    mask[:, 3] = 0  # entry (2, 3) has fan 0: PsychRNN gives inf/NaN there
    w = np.asarray(scheme(KEY, mask))
    assert np.isfinite(w).all()
    assert w[2, 3] == 0.0
    assert (w[mask > 0] != 0).all()
    assert np.isfinite(np.asarray(scheme(KEY, np.zeros((3, 3))))).all()


@given(
    rows=st.sampled_from([1, 3, 12]),  # few shapes: each new shape compiles
    cols=st.sampled_from([1, 5, 12]),
    seed=st.integers(0, 2**31 - 1),
    density=st.floats(0.0, 1.0),
)
def test_schemes_are_finite_and_shaped_for_any_mask(rows, cols, seed, density):
    mask = random_mask(seed, (rows, cols), density)
    key = jax.random.key(seed)
    for name, fn in jaxinit.SCHEMES.items():
        w = np.asarray(fn(key, mask))
        assert w.shape == (rows, cols), name
        assert np.isfinite(w).all(), name
    limit = np.sqrt(6.0 / np.maximum(psychrnn_fan(mask), 1e-30))
    assert (np.abs(np.asarray(glorot_unif(key, mask))) <= limit + 1e-6).all()


@pytest.mark.parametrize("name", sorted(jaxinit.SCHEMES))
def test_schemes_deterministic_jit_and_vmap(name):
    fn = jaxinit.SCHEMES[name]
    mask = random_mask(5, (6, 8))
    a = fn(KEY, mask)
    b = fn(KEY, mask)
    np.testing.assert_array_equal(a, b)
    jitted = jax.jit(lambda k, m: fn(k, m))(KEY, mask)
    np.testing.assert_allclose(jitted, a, rtol=1e-6, atol=1e-7)
    keys = jax.random.split(KEY, 3)
    batched = jax.vmap(lambda k: fn(k, mask))(keys)
    for i in range(3):
        np.testing.assert_allclose(batched[i], fn(keys[i], mask), rtol=1e-6, atol=1e-7)
    assert not np.array_equal(batched[0], batched[1])


def test_raw_uint32_keys_work_like_typed_keys():
    raw = jax.random.PRNGKey(7)
    typed = jax.random.wrap_key_data(raw)
    np.testing.assert_array_equal(
        const_gauss(raw, jnp.ones((3, 3))), const_gauss(typed, jnp.ones((3, 3)))
    )


def test_scheme_errors():
    with pytest.raises(ValueError, match=r"connectivity must be a 2-D mask, got .* shape \(3,\)"):
        glorot_gauss(KEY, jnp.ones(3))
    with pytest.raises(TypeError, match=r"dtype must be a floating dtype, got int32"):
        const_gauss(KEY, jnp.ones((2, 2)), dtype=jnp.int32)
    with pytest.raises(
        ValueError, match=r"minval must not exceed maxval, got minval=1.0 > maxval=0.0"
    ):
        const_unif(KEY, jnp.ones((2, 2)), minval=1.0, maxval=0.0)
    with pytest.raises(ValueError, match=r"minval must be finite, got nan"):
        const_unif(KEY, jnp.ones((2, 2)), minval=float("nan"))
