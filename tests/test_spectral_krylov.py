"""The certified Krylov spectral radius against the full solve."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit import krylov_spectral_radius


def full_radius(W):
    return np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))), axis=-1)


def gaussian(n, seed):
    return np.random.default_rng(seed).standard_normal((n, n)).astype(np.float32) / np.sqrt(n)


def dale_matrix(n, seed, ratio=0.8, density=0.5):
    rng = np.random.default_rng(seed)
    mask = (rng.random((n, n)) < density).astype(np.float32)
    np.fill_diagonal(mask, 0)
    signs = np.where(np.arange(n) < int(ratio * n), 1.0, -1.0).astype(np.float32)
    W = np.abs(rng.standard_normal((n, n))).astype(np.float32) * mask * signs[None, :]
    return W / np.sqrt(n)


def near_degenerate(n, seed):
    """A conjugate pair and a real eigenvalue of nearly equal modulus on top."""
    rng = np.random.default_rng(seed)
    D = np.zeros((n, n))
    D[0:2, 0:2] = [[0.0, -1.0], [1.0, 0.0]]  # eigenvalues ±i, modulus 1
    D[2, 2] = -0.9999  # a real eigenvalue just inside
    D[3:, 3:] = np.diag(rng.uniform(-0.8, 0.8, n - 3))
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (Q @ D @ Q.T).astype(np.float32)


@pytest.mark.parametrize(
    "make",
    [
        lambda s: gaussian(512, s),
        lambda s: dale_matrix(512, s),
        lambda s: dale_matrix(512, s, ratio=0.5),
        lambda s: near_degenerate(512, s),
        lambda s: np.diag(np.linspace(-1.0, 0.99, 512)).astype(np.float32),  # clustered, normal
    ],
    ids=["gaussian", "dale", "dale-balanced", "near-degenerate", "clustered-diagonal"],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy_against_the_full_solve(make, seed):
    W = make(seed)
    result = krylov_spectral_radius(W)
    assert abs(float(result.radius) - full_radius(W)) <= 1e-5 * full_radius(W)
    if bool(result.converged):
        assert float(result.residual) <= 1e-5


def test_small_and_block_matrices_and_batches():
    for W in (np.array([[2.0]], np.float32), np.array([[0.0, 3.0], [-3.0, 0.0]], np.float32)):
        np.testing.assert_allclose(krylov_spectral_radius(W).radius, full_radius(W), rtol=1e-5)
    block = np.zeros((40, 40), np.float32)
    block[:20, :20] = gaussian(20, 3)
    block[20:, 20:] = 2 * gaussian(20, 4)
    np.testing.assert_allclose(krylov_spectral_radius(block).radius, full_radius(block), rtol=1e-5)
    stack = np.stack([gaussian(300, s) for s in range(3)])
    result = krylov_spectral_radius(stack)
    assert result.radius.shape == (3,)
    np.testing.assert_allclose(result.radius, full_radius(stack), rtol=1e-5)


def test_deterministic_bitwise():
    W = gaussian(512, 9)
    a, b = krylov_spectral_radius(W), krylov_spectral_radius(W)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_jit_and_vmap_match_the_eager_call():
    stack = jnp.stack([jnp.asarray(gaussian(300, s)) for s in range(3)])
    eager = krylov_spectral_radius(stack).radius
    jitted = jax.jit(lambda W: krylov_spectral_radius(W).radius)(stack)
    mapped = jax.vmap(lambda W: krylov_spectral_radius(W).radius)(stack)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6)
    np.testing.assert_allclose(mapped, eager, rtol=1e-6)


def test_initializer_with_krylov_scales_exactly():
    cfg = jaxinit.Config(
        N_in=1,
        N_rec=600,
        N_out=1,
        dale_ratio=0.8,
        autapses=False,
        spec_rad=1.1,
        spectral_radius_of="effective",
        spectral_method="krylov",
    )
    p = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
    assert full_radius(jaxinit.effective(p).W_rec) == pytest.approx(1.1, rel=1e-5)


def test_ensemble_with_krylov_matches_single_calls_and_scales_exactly():
    # The ensemble runs the Krylov method inside its own jit and vmap (the
    # traced path, with the fallback compiled in).
    cfg = jaxinit.Config(
        N_in=1, N_rec=520, N_out=1, dale_ratio=0.8, spec_rad=1.3, spectral_method="auto"
    )
    key = jax.random.key(4)
    ens = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 3, cfg)
    np.testing.assert_allclose(full_radius(ens.W_rec), 1.3, rtol=1e-5)
    for i in range(3):
        single = jaxinit.gaussian_spectral_radius(jaxinit.member_key(key, i), cfg)
        np.testing.assert_allclose(ens.W_rec[i], single.W_rec, rtol=1e-5, atol=1e-7)
