"""The predicted spectral radius: variance profiles, accuracy, and no eigensolve."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit._src.predicted import edge_factor

pytestmark = pytest.mark.numerics


def exact_radius(W) -> float:
    return float(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))).max())


def test_bulk_radius_is_the_root_of_the_perron_root():
    rng = np.random.default_rng(0)
    # A block profile (two modules with their own within/between variances).
    N = 120
    S = np.where(rng.random((N, N)) < 0.3, 1.0, 0.0) * rng.random((N, N))
    S[:60, :60] *= 4.0
    want = np.sqrt(np.abs(np.linalg.eigvals(S)).max())  # Perron root is the largest
    got = float(jaxinit.bulk_radius(jnp.asarray(S, jnp.float32), finite_n=False))
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_allclose(
        float(jaxinit.bulk_radius(jnp.asarray(S, jnp.float32))), want * edge_factor(N), rtol=1e-5
    )


def test_bulk_radius_of_a_reducible_profile_never_underestimates():
    S = np.ones((6, 6), np.float32)
    S[2, :] = 0  # unit 2 receives nothing
    S[:, 4] = 0  # unit 4 sends nothing
    want = np.sqrt(np.abs(np.linalg.eigvals(S.astype(np.float64))).max())
    got = float(jaxinit.bulk_radius(S, finite_n=False))
    assert want * (1 - 1e-6) <= got <= want * (1 + 1e-4)
    assert float(jaxinit.bulk_radius(np.zeros((3, 3)), finite_n=False)) == 0.0


def test_bulk_radius_of_e_i_columns_is_rajan_abbotts_formula():
    N, f = 500, 0.8
    var_e, var_i = 0.5 / N, 3.0 / N
    n_e = int(f * N)
    S = np.concatenate([np.full((N, n_e), var_e), np.full((N, N - n_e), var_i)], axis=1)
    want = np.sqrt(N * (f * var_e + (1 - f) * var_i))
    got = float(jaxinit.bulk_radius(S.astype(np.float32), finite_n=False))
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_edge_factor():
    assert edge_factor(1) == 1.0
    np.testing.assert_allclose(edge_factor(1024), 1 + 0.25 * np.sqrt(np.log(1024) / 1024))
    assert edge_factor(64) > edge_factor(256) > edge_factor(4096) > 1


def test_predicted_radius_of_gaussian_matrices():
    """Mean over 12 seeds within 2.5% (the per-matrix sd is 2.3% at N = 256, so
    the mean's sd is 0.7%), and every seed within 9% (about 4 sd)."""
    ratios = []
    for seed in range(12):
        W = jax.random.normal(jax.random.key(seed), (256, 256))
        ratios.append(float(jaxinit.predicted_radius(W)) / exact_radius(W))
    ratios = np.array(ratios)
    assert abs(ratios.mean() - 1) < 0.025, ratios
    assert np.all(np.abs(ratios - 1) < 0.09), ratios


def test_predicted_radius_sees_the_mean_outlier():
    """Dale's law without balancing: the radius is the mean's eigenvalue, N mu."""
    cfg = jaxinit.Config(N_in=1, N_rec=300, N_out=1, dale_ratio=0.8, dale_balance=None)
    for seed in range(3):
        p = jaxinit.gaussian_spectral_radius(jax.random.key(seed), cfg)
        W = jaxinit.effective(p).W_rec
        np.testing.assert_allclose(float(jaxinit.predicted_radius(W)), exact_radius(W), rtol=0.03)


def test_predicted_radius_is_scale_free_and_batched():
    W = jax.random.normal(jax.random.key(1), (4, 64, 64))
    base = np.asarray(jaxinit.predicted_radius(W))
    assert base.shape == (4,)
    for scale in (1e-30, 1e30):
        scaled = np.asarray(jaxinit.predicted_radius(W * scale))
        np.testing.assert_allclose(scaled, base * scale, rtol=4 * np.finfo(np.float32).eps)
    one_by_one = np.array([float(jaxinit.predicted_radius(w)) for w in W])
    np.testing.assert_array_equal(base, one_by_one)
    np.testing.assert_array_equal(np.asarray(jax.vmap(jaxinit.predicted_radius)(W)), base)
    np.testing.assert_array_equal(np.asarray(jax.jit(jaxinit.predicted_radius)(W)), base)
    assert float(jaxinit.spectral_radius(W[0], method="predicted")) == base[0]
    # A 1 x 1 matrix is its own eigenvalue.
    assert float(jaxinit.predicted_radius(jnp.array([[-3.0]]))) == 3.0


def test_predicted_method_does_not_solve_an_eigenproblem():
    cfg = jaxinit.Config(
        N_in=2, N_rec=64, N_out=1, dale_ratio=0.8, dale_balance="rows",
        spectral_radius_of="effective", spectral_method="predicted",
    )
    text = str(jax.make_jaxpr(lambda k: jaxinit.gaussian_spectral_radius(k, cfg))(
        jax.random.key(0)
    ))
    assert "eig" not in text
    eig_cfg = cfg.replace(spectral_method="eig")
    eig_text = str(jax.make_jaxpr(lambda k: jaxinit.gaussian_spectral_radius(k, eig_cfg))(
        jax.random.key(0)
    ))
    assert "eig" in eig_text  # the check can see an eigensolve when there is one


@pytest.mark.parametrize("balance", ["rows", None])
def test_predicted_networks_get_close_to_the_target(balance):
    """Measured errors (benchmarks/structure.py) are within a few percent at
    N = 512; each seed is allowed 12%, the mean over 4 seeds 6%."""
    cfg = jaxinit.Config(
        N_in=1, N_rec=512, N_out=1, dale_ratio=0.8, dale_balance=balance, autapses=False,
        spectral_radius_of="effective", spectral_method="predicted", spec_rad=1.5,
    )
    radii = []
    for seed in range(4):
        p = jaxinit.gaussian_spectral_radius(jax.random.key(seed), cfg)
        radii.append(exact_radius(jaxinit.effective(p).W_rec) / 1.5)
    radii = np.array(radii)
    assert np.all(np.abs(radii - 1) < 0.12), radii
    assert abs(radii.mean() - 1) < 0.06, radii


def test_predicted_radius_errors():
    with pytest.raises(ValueError, match="variance must hold finite, nonnegative"):
        jaxinit.bulk_radius(-jnp.ones((3, 3)))
    with pytest.raises(ValueError, match="variance must hold finite, nonnegative"):
        jaxinit.bulk_radius(jnp.full((3, 3), jnp.nan))
    with pytest.raises(ValueError, match="square"):
        jaxinit.predicted_radius(jnp.ones((3, 4)))
    with pytest.raises(ValueError, match="method must be one of"):
        jaxinit.spectral_radius(jnp.ones((3, 3)), method="guess")
