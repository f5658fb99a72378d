"""The batched Krylov radius (jaxinit/_src/batched_krylov.py) and where jaxinit uses it.

Accuracy against the float64 full solve on stacks of random, masked, Dale
(balanced or with an outlier), block and near-degenerate matrices; batches in
which some members are certified and some fall back; the full solve for the
failed members only; determinism; jit and vmap; ensembles and vmapped
initializers with ``spectral_method="auto"`` and ``"krylov"``.
"""

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit._src import batched_krylov as bk
from jaxinit._src.batched_krylov import Sizes, basis_sizes, radii, use_batched
from jaxinit._src.matrices import normalize
from jaxinit._src.spectral import resolve_method
from tests.conftest import krylov_bound
from tests.test_krylov import KINDS, normal_with_spectrum

pytestmark = pytest.mark.numerics

N = 160  # inside the batched window, small enough for many matrices per test
TOL = jnp.float32(1e-5)


def true_radii(W):
    return np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))), axis=-1)


def start(n, seed=0):
    return jax.random.normal(jax.random.key(seed), (n,), jnp.float32)


def run(W, sizes=None, fallback=True, tol=TOL):
    """``radii`` on ``W`` after normalizing it, as jaxinit calls it; radii scaled back."""
    W = jnp.asarray(W, jnp.float32)
    Wn, scale = normalize(W)
    out = radii(Wn, start(W.shape[-1]), tol, sizes or basis_sizes(W.shape[-1]), fallback)
    return out, np.abs(np.asarray(out.theta)) * np.asarray(scale)


def assert_certified_radii(W, out, got):
    """Certified members within their certificate's bound; fallen back ones within eig's."""
    want = true_radii(W)
    for i in range(W.shape[0]):
        err = abs(got[i] - want[i]) / want[i]
        if bool(out.fell_back[i]):
            assert err <= 1e-5, (i, err)
        else:
            assert float(out.residual[i]) <= float(TOL)
            assert err <= krylov_bound(W[i], out.residual[i]), (i, err)


# --- sizes ---------------------------------------------------------------------


def test_basis_sizes_and_window():
    assert basis_sizes(256) == Sizes(64, 112)
    assert basis_sizes(1024) == Sizes(128, 224)
    assert basis_sizes(16) == Sizes(16, 16)  # never more than N
    for n in (64, 100, 300, 4096):
        first, second = basis_sizes(n)
        assert first % 8 == 0 or first == n
        assert first <= second <= n
    assert not use_batched(bk.BATCHED_MIN_N - 1) and use_batched(bk.BATCHED_MIN_N)
    assert use_batched(bk.BATCHED_MAX_N) and not use_batched(bk.BATCHED_MAX_N + 1)
    with pytest.raises(ValueError, match="N must be"):
        basis_sizes(0)


# --- accuracy ------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(kind=st.sampled_from(sorted(KINDS)), seed=st.integers(0, 2**31 - 1))
def test_stack_matches_full_solve(kind, seed):
    W = np.stack([KINDS[kind](N, seed + i) for i in range(6)])
    out, got = run(W)
    assert_certified_radii(W, out, got)


def test_dale_matrices_stop_at_the_first_size():
    # the E/I outlier stands apart: certified after the first basis size
    W = np.stack([KINDS["dale_outlier"](256, s) for s in range(8)])
    out, got = run(W)
    assert not np.asarray(out.fell_back).any()
    np.testing.assert_array_equal(np.asarray(out.matvecs), basis_sizes(256).first + 1)
    assert_certified_radii(W, out, got)


def test_gaussian_matrices_go_on_to_the_second_size():
    W = np.stack([KINDS["gaussian"](256, s) for s in range(8)])
    out, got = run(W)
    assert (np.asarray(out.matvecs) == basis_sizes(256).second + 2).any()
    assert_certified_radii(W, out, got)


def test_block_diagonal_and_invariant_subspaces():
    # a start vector spans every block, and a basis that spans an invariant
    # subspace early (the 1 x 1 and 2 x 2 blocks) ends with exact Ritz values
    rng = np.random.default_rng(0)
    blocks = []
    for n_blocks in (2, 4, 8):
        W = np.zeros((N, N))
        edges = np.linspace(0, N, n_blocks + 1).astype(int)
        for b, (lo, hi) in enumerate(itertools.pairwise(edges)):
            W[lo:hi, lo:hi] = rng.standard_normal((hi - lo, hi - lo)) * (1 + b) / np.sqrt(hi - lo)
        blocks.append(W)
    small = np.zeros((N, N))
    small[0, 0], small[1:3, 1:3] = 0.5, [[0.0, -2.0], [2.0, 0.0]]
    W = np.stack([*blocks, small]).astype(np.float32)
    out, got = run(W)
    assert_certified_radii(W, out, got)
    assert abs(got[-1] - 2.0) <= 1e-6 * 2


def test_near_degenerate_top():
    # two conjugate pairs of almost the same modulus at the top
    eigs = [1.0 * np.exp(0.9j), 0.99999 * np.exp(2.0j), *0.5 * np.exp(1j * np.linspace(0.2, 3, 78))]
    W = np.stack([normal_with_spectrum(eigs, s) for s in range(4)]).astype(np.float32)
    _, got = run(W)
    np.testing.assert_allclose(got, true_radii(W), rtol=2e-5)


def test_nilpotent_member_falls_back_to_zero():
    # strictly lower triangular: radius 0, no Ritz value to certify
    W = np.stack([np.tril(KINDS["gaussian"](N, 1), -1), KINDS["gaussian"](N, 2)])
    out, got = run(W)
    assert bool(out.fell_back[0]) and got[0] == 0.0
    assert_certified_radii(W[1:], jax.tree.map(lambda x: x[1:], out), got[1:])


# --- fallback ------------------------------------------------------------------


def outlier(n, seed, strength=4.0):
    """A Gaussian bulk of radius 1 and one real eigenvalue near ``strength``."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(n)
    u /= np.linalg.norm(u)
    return (rng.standard_normal((n, n)) / np.sqrt(n) + strength * np.outer(u, u)).astype(np.float32)


def test_only_the_failed_members_fall_back():
    # with 16- and 24-vector bases the outliers are certified and the plain
    # Gaussian matrices (crowded edge) are not: they, and only they, get the
    # full solve, and every radius is right
    W = np.stack([outlier(N, 0), KINDS["gaussian"](N, 1), outlier(N, 2), KINDS["gaussian"](N, 3)])
    out, got = run(W, Sizes(16, 24))
    np.testing.assert_array_equal(np.asarray(out.fell_back), [False, True, False, True])
    assert (np.asarray(out.residual)[[0, 2]] <= float(TOL)).all()
    assert (np.asarray(out.residual)[[1, 3]] > float(TOL)).all()
    assert_certified_radii(W, out, got)

    # without the fallback the failed members keep their (uncertified) Ritz values
    out_off, got_off = run(W, Sizes(16, 24), fallback=False)
    assert not np.asarray(out_off.fell_back).any()
    np.testing.assert_array_equal(got_off[[0, 2]], got[[0, 2]])
    assert (np.abs(got_off[[1, 3]] - got[[1, 3]]) > 0).all()


def test_full_solve_runs_once_per_failed_member(monkeypatch):
    # the loop of full solves has one trip per failed member: count the trips
    # on the host from inside the loop body
    trips = []
    solve = bk.top_eigenvalue_of

    def counted(w):
        jax.debug.callback(lambda: trips.append(1))
        return solve(w)

    monkeypatch.setattr(bk, "top_eigenvalue_of", counted)
    W = np.stack([outlier(N, 0), KINDS["gaussian"](N, 1), outlier(N, 2), outlier(N, 3)])
    Wn, _ = normalize(jnp.asarray(W))
    # a program of its own (radii is jitted with the original function)
    out = radii.__wrapped__(Wn, start(N), TOL, Sizes(16, 24), True)
    jax.block_until_ready(out)
    assert np.asarray(out.fell_back).tolist() == [False, True, False, False]
    assert len(trips) == 1


# --- determinism and transformations --------------------------------------------


def test_deterministic_and_jit_equals_eager():
    W = np.stack([KINDS["masked"](N, s) for s in range(4)])
    a, got_a = run(W)
    b, got_b = run(W)
    np.testing.assert_array_equal(got_a, got_b)
    np.testing.assert_array_equal(np.asarray(a.residual), np.asarray(b.residual))
    jitted = jax.jit(lambda w: jaxinit.krylov_spectral_radius(w).radius)(jnp.asarray(W))
    eager = jaxinit.krylov_spectral_radius(jnp.asarray(W)).radius
    # one program against another (the normalization fused into the caller's
    # jit): the matrices differ in the last bit, and each radius is certified
    # to a residual of 1e-5; as in tests/test_ensemble.py, 2e-5 for the pair
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=2e-5)
    again = jax.jit(lambda w: jaxinit.krylov_spectral_radius(w).radius)(jnp.asarray(W))
    np.testing.assert_array_equal(np.asarray(again), np.asarray(jitted))


def test_vmap_of_single_calls_runs_the_batch():
    W = jnp.asarray(np.stack([KINDS["dale_balanced"](N, s) for s in range(5)]))
    stacked = jaxinit.krylov_spectral_radius(W)
    vmapped = jax.jit(jax.vmap(jaxinit.krylov_spectral_radius))(W)
    # the same batched method, whether the stack is given or vmapped over (two
    # programs, so the last bits may differ: see the test above)
    np.testing.assert_allclose(np.asarray(vmapped.radius), np.asarray(stacked.radius), rtol=2e-5)
    np.testing.assert_array_equal(np.asarray(vmapped.matvecs), np.asarray(stacked.matvecs))
    np.testing.assert_array_equal(np.asarray(vmapped.restarts), 0)  # no restarts: batched
    single = jaxinit.krylov_spectral_radius(W[0])  # one matrix: a batch of one
    assert int(single.restarts) == 0 and bool(single.converged)
    np.testing.assert_allclose(float(single.radius), float(stacked.radius[0]), rtol=2e-5)
    want = true_radii(W)
    np.testing.assert_allclose(np.asarray(vmapped.radius), want, rtol=2e-5)


def test_nested_vmap_is_right():
    W = jnp.asarray(np.stack([KINDS["gaussian"](N, s) for s in range(6)]).reshape(2, 3, N, N))
    got = jax.vmap(jax.vmap(functools.partial(jaxinit.spectral_radius, method="krylov")))(W)
    np.testing.assert_allclose(np.asarray(got), true_radii(W), rtol=2e-5)


def test_options_other_than_the_defaults_keep_the_restarted_method():
    W = jnp.asarray(np.stack([KINDS["gaussian"](N, s) for s in range(3)]))
    out = jaxinit.krylov_spectral_radius(W, m=32, max_matvecs=4000)
    assert (np.asarray(out.restarts) > 0).all()  # a 32-vector basis restarts
    np.testing.assert_allclose(np.asarray(out.radius), true_radii(W), rtol=2e-5)


# --- "auto" and the initializers ------------------------------------------------


def test_auto_is_decided_by_the_batch_in_the_window():
    assert resolve_method("auto", 64) == "eig"
    assert resolve_method("auto", bk.AUTO_BATCHED_MIN_N - 1) == "eig"
    assert resolve_method("auto", bk.AUTO_BATCHED_MIN_N) == "auto"
    assert resolve_method("auto", 256) == "auto"
    assert resolve_method("auto", 1024) == "krylov"
    W = jnp.asarray(np.stack([KINDS["masked"](N, s) for s in range(4)]))
    # one matrix: the full solve, bit for bit
    for i in range(2):
        assert float(jaxinit.spectral_radius(W[i], method="auto")) == float(
            jaxinit.spectral_radius(W[i])
        )
    one_jitted = jax.jit(functools.partial(jaxinit.spectral_radius, method="auto"))(W[0])
    assert float(one_jitted) == float(jaxinit.spectral_radius(W[0]))
    # a stack or a vmap: the batched Krylov radius, the same in both
    stacked = jaxinit.spectral_radius(W, method="auto")
    vmapped = jax.vmap(functools.partial(jaxinit.spectral_radius, method="auto"))(W)
    np.testing.assert_array_equal(np.asarray(stacked), np.asarray(vmapped))
    np.testing.assert_allclose(np.asarray(stacked), true_radii(W), rtol=2e-5)


@pytest.mark.parametrize("method", ["auto", "krylov"])
def test_ensemble_uses_the_batched_radius(method):
    cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8, autapses=False,
                         spectral_radius_of="effective", spectral_method=method, spec_rad=1.3)
    eig_cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8, autapses=False,
                             spectral_radius_of="effective", spec_rad=1.3)
    key = jax.random.key(7)
    members = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 6, cfg)
    by_eig = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 6, eig_cfg)
    radii_now = true_radii(jaxinit.effective(members).W_rec)
    np.testing.assert_allclose(radii_now, 1.3, rtol=2e-5)
    # the same draws, scaled by a radius that agrees with the full solve's
    np.testing.assert_allclose(np.asarray(members.W_rec), np.asarray(by_eig.W_rec), rtol=2e-5)
    for name in ("W_in", "W_out", "rec_connectivity", "dale_rec_diag"):
        np.testing.assert_array_equal(getattr(members, name), getattr(by_eig, name))
    # a vmapped initializer gets the same batched radius as the ensemble
    keys = jnp.stack([jaxinit.member_key(key, i) for i in range(6)])
    vmapped = jax.vmap(lambda k: jaxinit.gaussian_spectral_radius(k, cfg))(keys)
    np.testing.assert_allclose(np.asarray(vmapped.W_rec), np.asarray(members.W_rec), rtol=2e-5)


def test_single_auto_network_is_the_eig_network():
    cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8, spectral_method="auto")
    eig_cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8)
    key = jax.random.key(2)
    a = jaxinit.gaussian_spectral_radius(key, cfg)
    b = jaxinit.gaussian_spectral_radius(key, eig_cfg)
    np.testing.assert_array_equal(np.asarray(a.W_rec), np.asarray(b.W_rec))
