"""spectral_radius and scale_spectral_radius."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxinit import scale_spectral_radius, spectral_radius


def numpy_radius(W):
    return np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))), axis=-1)


@given(n=st.integers(1, 16), seed=st.integers(0, 2**31 - 1))
def test_radius_matches_numpy(n, seed):
    W = np.random.default_rng(seed).standard_normal((n, n)).astype(np.float32)
    np.testing.assert_allclose(spectral_radius(W), numpy_radius(W), rtol=1e-4)


def test_known_radii():
    rotation = jnp.array([[0.0, -3.0], [3.0, 0.0]])  # eigenvalues ±3i
    assert float(spectral_radius(rotation)) == pytest.approx(3.0, rel=1e-6)
    triangular = jnp.array([[1.0, 100.0], [0.0, -2.0]])
    assert float(spectral_radius(triangular)) == pytest.approx(2.0, rel=1e-6)


def test_batched_over_leading_axes():
    W = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    rho = spectral_radius(W)
    assert rho.shape == (2, 3)
    np.testing.assert_allclose(rho, numpy_radius(W), rtol=1e-4)


def test_dtypes(dtype):
    W = jnp.asarray(np.random.default_rng(1).standard_normal((5, 5)), dtype)
    assert spectral_radius(W).dtype == jnp.dtype(dtype)
    assert spectral_radius(W.astype(jnp.bfloat16)).dtype == jnp.float32
    assert spectral_radius(jnp.eye(3, dtype=jnp.int32) * 2) == 2.0


def test_radius_jit_and_vmap():
    W = np.random.default_rng(2).standard_normal((4, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(jax.jit(spectral_radius)(W), spectral_radius(W), rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(spectral_radius)(W), spectral_radius(W), rtol=1e-6)


@given(n=st.integers(1, 12), seed=st.integers(0, 2**31 - 1), target=st.floats(0.1, 10.0))
def test_scale_hits_the_target(n, seed, target):
    W = np.random.default_rng(seed).standard_normal((n, n)).astype(np.float32)
    scaled = scale_spectral_radius(W, target)
    np.testing.assert_allclose(numpy_radius(scaled), target, rtol=1e-4)
    # PsychRNN's formula: spec_rad * W / max|eig(W)|
    np.testing.assert_allclose(scaled, target * W / numpy_radius(W), rtol=1e-4, atol=1e-6)


def test_scale_batched_with_per_member_targets():
    W = np.random.default_rng(3).standard_normal((3, 5, 5)).astype(np.float32)
    scaled = scale_spectral_radius(W, jnp.array([0.5, 1.0, 2.0]))
    np.testing.assert_allclose(numpy_radius(scaled), [0.5, 1.0, 2.0], rtol=1e-4)


def test_scale_zero_radius_is_an_error():
    with pytest.raises(ValueError, match=r"spectral radius of W is 0.0; it must be finite"):
        scale_spectral_radius(jnp.zeros((3, 3)), 1.0)
    nilpotent = jnp.triu(jnp.ones((4, 4)), k=1)
    with pytest.raises(ValueError, match=r"spectral radius of W is 0.0"):
        scale_spectral_radius(nilpotent, 1.0)


def test_scale_non_finite_matrix_is_an_error():
    W = jnp.array([[1.0, jnp.nan], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"could not be computed"):
        scale_spectral_radius(W, 1.0)


def test_scale_overflow_is_an_error():
    W = jnp.array([[1.0, 10.0], [0.0, 0.5]])  # radius 1, largest entry 10
    with pytest.raises(ValueError, match=r"overflowed"):
        scale_spectral_radius(W, 3e38)


def test_scale_under_jit_raises_at_run_time():
    f = jax.jit(scale_spectral_radius)
    np.testing.assert_allclose(numpy_radius(f(jnp.eye(3) * 2, 1.5)), 1.5, rtol=1e-6)
    with pytest.raises(Exception, match=r"spectral radius of W is 0.0") as info:
        jax.block_until_ready(f(jnp.zeros((3, 3)), 1.0))
    assert "ValueError" in str(info.value)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_scale_bad_target(bad):
    with pytest.raises(ValueError, match=r"spec_rad must be finite and positive, got"):
        scale_spectral_radius(jnp.eye(2), bad)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"square matrix or a stack .* got shape \(2, 3\)"):
        spectral_radius(jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"got shape \(4,\)"):
        spectral_radius(jnp.ones(4))
    with pytest.raises(ValueError, match=r"must not be empty, got shape \(0, 0\)"):
        spectral_radius(jnp.ones((0, 0)))
    with pytest.raises(TypeError, match=r"W must be real, got dtype complex64"):
        spectral_radius(jnp.eye(2, dtype=jnp.complex64))


def test_methods_agree_and_auto_picks_by_size():
    W = np.random.default_rng(7).standard_normal((600, 600)).astype(np.float32) / np.sqrt(600)
    full = float(spectral_radius(W))
    assert float(spectral_radius(W, method="krylov")) == pytest.approx(full, rel=1e-5)
    assert float(spectral_radius(W, method="auto")) == pytest.approx(full, rel=1e-5)
    small = np.diag([3.0, -1.0]).astype(np.float32)
    assert float(spectral_radius(small, method="auto")) == pytest.approx(3.0, rel=1e-6)
    scaled = scale_spectral_radius(W, 1.3, method="krylov")
    assert numpy_radius(scaled) == pytest.approx(1.3, rel=1e-5)
    with pytest.raises(
        ValueError,
        match=r"method must be one of \['auto', 'eig', 'krylov', 'predicted'\], got 'qr'",
    ):
        spectral_radius(W, method="qr")
