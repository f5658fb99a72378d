"""The certified Krylov spectral radius against the full solve."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit import krylov_spectral_radius
from tests.conftest import EPS32, eig_bound, krylov_bound

TOL = 1e-5  # the default certification tolerance: converged means residual <= TOL


def full_radius(W):
    return np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))), axis=-1)


def bound(W, result):
    """Relative accuracy of a float32 radius of ``W`` from ``krylov_spectral_radius``:
    certified (tests.conftest.krylov_bound), or, after a fallback, that of the
    full float32 solve (tests.conftest.eig_bound)."""
    if bool(result.fell_back):
        return eig_bound(W)
    return krylov_bound(W, result.residual)


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
    assert abs(float(result.radius) - full_radius(W)) <= bound(W, result) * full_radius(W)
    if bool(result.converged):
        assert float(result.residual) <= TOL


def test_small_and_block_matrices_and_batches():
    # 1 x 1 and 2 x 2: the Ritz values are the eigenvalues, up to a few roundings
    for W in (np.array([[2.0]], np.float32), np.array([[0.0, 3.0], [-3.0, 0.0]], np.float32)):
        np.testing.assert_allclose(krylov_spectral_radius(W).radius, full_radius(W), rtol=8 * EPS32)
    block = np.zeros((40, 40), np.float32)
    block[:20, :20] = gaussian(20, 3)
    block[20:, 20:] = 2 * gaussian(20, 4)
    result = krylov_spectral_radius(block)
    np.testing.assert_allclose(result.radius, full_radius(block), rtol=bound(block, result))
    stack = np.stack([gaussian(300, s) for s in range(3)])
    result = krylov_spectral_radius(stack)
    assert result.radius.shape == (3,)
    for i, W in enumerate(stack):
        member = jaxinit.KrylovResult(*(x[i] for x in result))
        np.testing.assert_allclose(member.radius, full_radius(W), rtol=bound(W, member))


def test_deterministic_bitwise():
    # the same compiled program on the same input, twice: the same bits
    W = gaussian(512, 9)
    a, b = krylov_spectral_radius(W), krylov_spectral_radius(W)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_jit_and_vmap_match_the_eager_call():
    # Other compiled programs round the products differently, so each radius
    # is only certified: within `bound` of the true one (results kept whole,
    # for their residuals), and within the two bounds of each other.
    stack = jnp.stack([jnp.asarray(gaussian(300, s)) for s in range(3)])
    eager = krylov_spectral_radius(stack)
    jitted = jax.jit(krylov_spectral_radius)(stack)
    mapped = jax.vmap(krylov_spectral_radius)(stack)
    for i in range(3):
        W, rho = np.asarray(stack[i]), full_radius(stack[i])
        want = jaxinit.KrylovResult(*(x[i] for x in eager))
        for other in (jitted, mapped):
            got = jaxinit.KrylovResult(*(x[i] for x in other))
            assert abs(float(got.radius) - rho) <= bound(W, got) * rho
            gap = abs(float(got.radius) - float(want.radius))
            assert gap <= (bound(W, got) + bound(W, want)) * rho


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
    W = jaxinit.effective(p).W_rec
    # scaled by a certified radius (residual <= TOL) of this matrix
    assert full_radius(W) == pytest.approx(1.1, rel=krylov_bound(W, TOL))


def test_ensemble_with_krylov_matches_single_calls_and_scales_exactly():
    # The ensemble runs the Krylov method inside its own jit and vmap (the
    # traced path, with the fallback compiled in).
    cfg = jaxinit.Config(
        N_in=1, N_rec=520, N_out=1, dale_ratio=0.8, spec_rad=1.3, spectral_method="auto"
    )
    key = jax.random.key(4)
    ens = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 3, cfg)
    for i in range(3):
        # each member scaled by a certified radius (residual <= TOL) of its matrix
        W = np.asarray(ens.W_rec[i])
        tol = krylov_bound(W, TOL)
        assert full_radius(W) == pytest.approx(1.3, rel=tol)
        # the single call's radius is certified too: W_rec (the same balanced
        # matrix times 1.3 / radius) within both bounds, entry by entry
        single = jaxinit.gaussian_spectral_radius(jaxinit.member_key(key, i), cfg)
        np.testing.assert_allclose(W, single.W_rec, rtol=2 * tol, atol=0)
