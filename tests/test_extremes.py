"""Spectral radii and scaling at any scale a float32 matrix can hold."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import jaxinit

N = 8
CFG = jaxinit.Config(N_in=2, N_rec=N, N_out=1)
G = np.asarray(jax.random.normal(jax.random.key(1), (N, N)), np.float32)

# Tolerance: float32 geev has a backward error of about N * eps * ||W|| and the
# radius of a random 8 x 8 matrix is about ||W|| / 2, so the radius is good to
# ~ 2 * 8 * 1.2e-7 ~ 2e-6 relative; the Krylov certificate is 1e-5. 1e-4 leaves
# a margin of 10 for other BLAS kernels and thread counts.
RTOL = 1e-4

exponents = st.integers(-35, 35)
methods = st.sampled_from(["eig", "krylov"])


def reference_radius(W) -> float:
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64)))))


@given(k=exponents, method=methods)
def test_radius_is_right_at_any_scale(k, method):
    W = G * np.float32(10.0**k)
    got = float(jaxinit.spectral_radius(W, method=method))
    assert got == pytest.approx(reference_radius(W), rel=RTOL)


@given(k=exponents, method=methods, of=st.sampled_from(["raw", "effective"]))
def test_initializer_sets_the_radius_of_any_given_scale(k, method, of):
    cfg = CFG.replace(spectral_method=method, spectral_radius_of=of, dale_ratio=0.5)
    p = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg, W_rec=G * np.float32(10.0**k))
    measured = p.W_rec if of == "raw" else jaxinit.effective(p).W_rec
    assert reference_radius(measured) == pytest.approx(1.1, rel=RTOL)


@given(k=st.integers(-37, 37))
def test_any_normal_spec_rad_is_reached(k):
    spec_rad = 10.0**k
    p = jaxinit.gaussian_spectral_radius(jax.random.key(0), CFG.replace(spec_rad=spec_rad))
    assert bool(jnp.isfinite(p.W_rec).all())
    assert reference_radius(p.W_rec) == pytest.approx(spec_rad, rel=RTOL)


@given(k=exponents, target=st.sampled_from([1e-30, 1.0, 1e30]))
def test_scale_spectral_radius_at_any_scale(k, target):
    out = jaxinit.scale_spectral_radius(G * np.float32(10.0**k), target)
    assert reference_radius(out) == pytest.approx(target, rel=RTOL)


@pytest.mark.parametrize("spec_rad", [1e-39, 1e-45, 5e-324])
def test_subnormal_spec_rad_is_refused(spec_rad):
    with pytest.raises(ValueError, match=r"spec_rad=.* is below the smallest normal float32"):
        CFG.replace(spec_rad=spec_rad)


def test_spec_rad_too_large_is_refused():
    with pytest.raises(ValueError, match=r"spec_rad=1e\+39 does not fit in float32"):
        CFG.replace(spec_rad=1e39)


def test_batched_radii_are_normalized_per_matrix():
    stack = np.stack([G * np.float32(1e-30), G, G * np.float32(1e30)])
    got = np.asarray(jaxinit.spectral_radius(stack))
    want = np.array([reference_radius(w) for w in stack])
    np.testing.assert_allclose(got, want, rtol=RTOL)
    got_k = np.asarray(jaxinit.spectral_radius(stack, method="krylov"))
    np.testing.assert_allclose(got_k, want, rtol=RTOL)
