"""krylov_spectral_radius: accuracy, certificate, fallback, transformations, errors."""

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxinit._src.krylov import (
    KRYLOV_MIN_N,
    KrylovResult,
    auto_method,
    default_basis_size,
    krylov_spectral_radius,
)
from jaxinit._src.spectral import spectral_radius
from tests.conftest import eig_bound, krylov_bound

N = 96
# A basis much smaller than N, so that these small matrices restart many times.
OPTS = {"m": 24, "max_matvecs": 2000}
krylov = functools.partial(krylov_spectral_radius, **OPTS)
jitted = jax.jit(krylov)  # one compiled program, shared by the tests that use it


def true_radius(W):
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64)))))


def rel_err(result, W):
    rho = true_radius(W)
    return abs(float(result.radius) - rho) / rho


def certified_bound(W, result):
    """The certificate of ``result`` (see tests.conftest.krylov_bound)."""
    return krylov_bound(W, result.residual)


def gaussian(n, seed):
    return (np.random.default_rng(seed).standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)


def masked(n, seed):
    rng = np.random.default_rng(seed)
    mask = rng.random((n, n)) < 0.5
    np.fill_diagonal(mask, False)
    return (rng.standard_normal((n, n)) * mask / np.sqrt(n)).astype(np.float32)


def dale(n, seed, balanced):
    """|W| * mask with 80% excitatory columns, optionally balanced the PsychRNN way."""
    rng = np.random.default_rng(seed)
    n_exc = int(0.8 * n)
    mask = rng.random((n, n)) < 0.5
    np.fill_diagonal(mask, False)
    W = np.abs(rng.standard_normal((n, n))) * mask
    signs = np.where(np.arange(n) < n_exc, 1.0, -1.0)
    if balanced:  # column j times v_j / n_j, n_j = ||row j of mask * v||
        v = np.where(np.arange(n) < n_exc, 1.0, 0.8 / 0.2)
        W = W * (v / np.sqrt(mask.astype(float) ** 2 @ v**2))[None, :]
    else:
        W = W / np.sqrt(n)
    return (W * signs[None, :]).astype(np.float32)


KINDS = {
    "gaussian": gaussian,
    "masked": masked,
    "dale_balanced": functools.partial(dale, balanced=True),
    "dale_outlier": functools.partial(dale, balanced=False),
}


def normal_with_spectrum(eigs, seed):
    """Real normal matrix Q D Q^T with the given eigenvalues (conjugate pairs listed once)."""
    blocks = []
    for lam in eigs:
        lam = complex(lam)
        if lam.imag == 0:
            blocks.append(np.array([[lam.real]]))
        else:
            blocks.append(np.array([[lam.real, -lam.imag], [lam.imag, lam.real]]))
    n = sum(b.shape[0] for b in blocks)
    D = np.zeros((n, n))
    i = 0
    for b in blocks:
        D[i : i + b.shape[0], i : i + b.shape[0]] = b
        i += b.shape[0]
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return Q @ D @ Q.T


def disk_eigs(count, radius, seed):
    """``count`` conjugate pairs uniform in the disk of the given radius."""
    rng = np.random.default_rng(seed)
    r = radius * np.sqrt(rng.random(count))
    phi = rng.uniform(0.1, np.pi - 0.1, count)
    return list(r * np.exp(1j * phi))


# --- accuracy ------------------------------------------------------------------


@given(kind=st.sampled_from(sorted(KINDS)), seed=st.integers(0, 2**31 - 1))
def test_matches_full_solve(kind, seed):
    W = KINDS[kind](N, seed)
    res = krylov(W)
    ev = np.linalg.eigvals(W.astype(np.float64))
    rho = np.max(np.abs(ev))
    # certified: kappa * (residual + rounding); a fallback is the full float32 solve
    bound = eig_bound(W) if res.fell_back else certified_bound(W, res)
    assert abs(float(res.radius) - rho) <= bound * rho
    assert bool(res.converged) == bool(res.residual <= 1e-5)
    assert bool(res.converged or res.fell_back)
    # the eigenvalue is (close to) a true eigenvalue of largest modulus
    assert np.min(np.abs(ev - complex(res.eigenvalue))) <= 1e-4 * rho


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_converges_without_fallback(kind):
    for seed in range(4):
        W = KINDS[kind](N, seed)
        res = krylov(W)
        assert bool(res.converged) and not bool(res.fell_back), (kind, seed, res)
        assert float(res.residual) <= 1e-5
        assert rel_err(res, W) <= certified_bound(W, res)
        assert 0 < int(res.matvecs) <= OPTS["max_matvecs"] + N


def test_certified_with_tighter_tol():
    # Each restart perturbs a float32 decomposition by ~1e-6 (LAPACK's float32
    # eigenvectors of the small matrix), so with this many (~10) restarts a
    # few 1e-6 is about as tight as it gets. The error is then bounded by the
    # certificate, kappa * (residual + rounding) (kappa ~ 2-4 here: up to
    # ~1.5e-5), not by a fixed 1e-6: which side of 1e-6 it lands on depends on
    # the BLAS kernel (1.2e-6 with OPENBLAS_CORETYPE=Haswell, seed 1).
    for seed in range(4):
        W = gaussian(N, seed)
        res = krylov(W, tol=4e-6)
        assert bool(res.converged) and float(res.residual) <= 4e-6
        assert int(res.restarts) > 3
        assert rel_err(res, W) <= certified_bound(W, res)


@pytest.mark.parametrize(
    "eigs",
    [
        # a conjugate pair and a real eigenvalue of nearly equal modulus
        [1.0 + 1e-6, np.exp(0.7j), 0.2, *disk_eigs(46, 0.8, 0)],
        [-(1.0 - 1e-6), np.exp(2.0j), 0.2, *disk_eigs(46, 0.8, 1)],
        # eight clustered top eigenvalues (four pairs) within 1e-4 in modulus
        [
            *((1 - 2.5e-5 * i) * np.exp(1j * (0.3 + 0.6 * i)) for i in range(4)),
            *disk_eigs(44, 0.9, 2),
        ],
        # a nearly defective top: two real eigenvalues 1e-6 apart
        [1.0, 1.0 - 1e-6, -0.999, *disk_eigs(46, 0.7, 3)[:-1], 0.5, -0.4, 0.3],
    ],
    ids=["pair-vs-real-above", "pair-vs-real-below", "cluster", "near-double"],
)
@pytest.mark.parametrize("normal", [True, False], ids=["normal", "nonnormal"])
def test_near_degenerate_top(eigs, normal):
    W = normal_with_spectrum(eigs, seed=len(eigs))
    if not normal:  # similar to the normal one, well conditioned
        S = np.eye(len(W)) + 0.2 * np.random.default_rng(5).standard_normal(W.shape) / np.sqrt(
            len(W)
        )
        W = S @ W @ np.linalg.inv(S)
    W = W.astype(np.float32)
    assert W.shape == (N, N)
    res = krylov(W)
    assert bool(res.converged), res
    assert rel_err(res, W) <= 1e-5


def test_block_diagonal():
    A, B = gaussian(N // 2, 1) * 0.5, gaussian(N // 2, 2)
    W = np.zeros((N, N), np.float32)
    W[: N // 2, : N // 2], W[N // 2 :, N // 2 :] = A, B
    assert rel_err(krylov(W), W) <= 1e-5
    # repeated eigenvalues: two copies of one block
    W[N // 2 :, N // 2 :] = A
    res = krylov(W)
    assert bool(res.converged) and rel_err(res, W) <= 1e-5
    # a dominant 2 x 2 rotation block hidden among small entries
    W = gaussian(N, 3) * 0.1
    W[:2, :] = 0
    W[:, :2] = 0
    W[:2, :2] = [[0.0, -2.0], [2.0, 0.0]]
    res = krylov(W)
    assert float(res.radius) == pytest.approx(2.0, rel=1e-5)


def test_special_matrices():
    zero = krylov(np.zeros((N, N), np.float32))
    assert float(zero.radius) == 0.0 and bool(zero.converged)
    assert float(zero.residual) == 0.0
    scaled_identity = krylov(-3.0 * np.eye(N, dtype=np.float32))
    assert float(scaled_identity.radius) == pytest.approx(3.0, rel=1e-6)
    assert bool(scaled_identity.converged)
    diagonal = krylov(np.diag(np.arange(1.0, N + 1.0)).astype(np.float32))
    assert float(diagonal.radius) == pytest.approx(N, rel=1e-5)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_tiny_sizes(n):
    W = gaussian(n, n)
    res = krylov_spectral_radius(W)
    assert bool(res.converged) and not bool(res.fell_back)
    assert rel_err(res, W) <= 1e-5
    assert int(res.matvecs) <= n + 1


def test_tiny_known_values():
    # 1 x 1: the Ritz value is v . (W v) = -2.5 |v|^2 with v a normalised float32
    # start vector, |v|^2 = 1 to a few roundings (it is 1 - 1e-7 with some kernels)
    eps = float(np.finfo(np.float32).eps)
    assert float(krylov_spectral_radius(np.array([[-2.5]])).radius) == pytest.approx(
        2.5, rel=4 * eps
    )
    rotation = krylov_spectral_radius(np.array([[0.0, -3.0], [3.0, 0.0]]))
    assert float(rotation.radius) == pytest.approx(3.0, rel=1e-6)
    assert abs(complex(rotation.eigenvalue).imag) == pytest.approx(3.0, rel=1e-6)


# --- determinism, jit, vmap, batches -----------------------------------------------


def test_deterministic():
    # the same compiled program on the same input, twice: the same bits
    W = gaussian(N, 7)
    a, b = krylov(W), krylov(W)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_key_gives_another_start_vector():
    W = gaussian(N, 8)
    default = krylov(W)
    other = krylov(W, key=jax.random.key(3))
    assert bool(other.converged)
    assert float(other.radius) == pytest.approx(float(default.radius), rel=1e-5)
    again = krylov(W, key=jax.random.key(3))  # same program, same input: same bits
    np.testing.assert_array_equal(np.asarray(again.radius), np.asarray(other.radius))


def test_jit_matches_eager():
    W = gaussian(N, 9)
    eager = krylov(W)
    res = jitted(W)
    assert isinstance(res, KrylovResult)
    # Two compiled programs (the eager batch and the traced path) round the
    # products differently, so the iterations may part in the last bits and
    # take another number of restarts: the product counts need not match,
    # and each radius is only certified, within certified_bound of the truth.
    assert bool(res.converged) and not bool(res.fell_back)
    rho = true_radius(W)
    gap = abs(float(res.radius) - float(eager.radius)) / rho
    assert gap <= certified_bound(W, res) + certified_bound(W, eager)
    assert rel_err(res, W) <= certified_bound(W, res)
    assert 0 < int(res.matvecs) <= OPTS["max_matvecs"] + N


def test_vmap_matches_single_calls():
    Ws = np.stack([gaussian(N, 1), masked(N, 2), dale(N, 3, balanced=True)])
    batched = jax.vmap(krylov)(Ws)
    assert batched.radius.shape == (3,)
    for i, W in enumerate(Ws):
        single = krylov(W)
        # batched products round differently from single ones: certified
        # radii (see test_jit_matches_eager), product counts may differ
        member = KrylovResult(*(x[i] for x in batched))
        assert bool(member.converged) and not bool(member.fell_back)
        assert rel_err(member, W) <= certified_bound(W, member)
        gap = abs(float(member.radius) - float(single.radius)) / true_radius(W)
        assert gap <= certified_bound(W, member) + certified_bound(W, single)


def test_dtypes():
    W = gaussian(N, 4)
    res = krylov(W)
    assert res.radius.dtype == jnp.float32 and res.eigenvalue.dtype == jnp.complex64
    assert res.matvecs.dtype == jnp.int32 and res.converged.dtype == jnp.bool_
    assert krylov(W.astype(jnp.bfloat16)).radius.dtype == jnp.float32
    ints = krylov(np.round(W * 10).astype(np.int32))
    assert ints.radius.dtype == jnp.float32
    assert rel_err(ints, np.round(W * 10)) <= 1e-5


def test_float64_stays_float64():
    with jax.enable_x64(True):
        W = jnp.asarray(gaussian(N, 5), jnp.float64)
        res = krylov(W, tol=1e-10)
        assert res.radius.dtype == jnp.float64 and res.eigenvalue.dtype == jnp.complex128
        assert bool(res.converged) and float(res.residual) <= 1e-10
        assert rel_err(res, W) <= 1e-9


# --- fallback ---------------------------------------------------------------------

STARVED = {"m": 8, "max_matvecs": 8}  # far too few products to certify a Gaussian matrix


def outlier_matrix(seed):
    """Small noise plus a rank-one term: one real eigenvalue near 5, found in a few steps."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(N)
    u /= np.linalg.norm(u)
    return (0.1 * gaussian(N, seed) + 5.0 * np.outer(u, u)).astype(np.float32)


def test_fallback_eager():
    W = gaussian(N, 6)
    res = krylov_spectral_radius(W, **STARVED)
    assert not bool(res.converged) and bool(res.fell_back)
    assert float(res.residual) > 1e-5
    # fixed by the budget (8 in the basis and one for the residual check)
    assert int(res.matvecs) == 9
    # the fallback is the same LAPACK solve of the same float32 matrix as
    # spectral_radius: equal, but for the last bits of the final abs
    np.testing.assert_allclose(float(res.radius), float(spectral_radius(W)), rtol=1e-6)
    assert abs(complex(res.eigenvalue)) == pytest.approx(float(res.radius), rel=1e-6)


def test_fallback_off():
    W = gaussian(N, 6)
    res = krylov_spectral_radius(W, fallback=False, **STARVED)
    assert not bool(res.converged) and not bool(res.fell_back)
    assert 0.3 < float(res.radius) / true_radius(W) <= 1.0 + 1e-5


def test_fallback_only_for_failed_members():
    Ws = np.stack([outlier_matrix(0), gaussian(N, 6)])
    eager = krylov_spectral_radius(Ws, **STARVED)
    # inside a transformation the fallback is compiled in (jit and vmap share it)
    traced = jax.jit(jax.vmap(functools.partial(krylov_spectral_radius, **STARVED)))(Ws)
    full = spectral_radius(Ws)
    for res in (eager, traced):
        assert res.converged.tolist() == [True, False]
        assert res.fell_back.tolist() == [False, True]
        assert rel_err(KrylovResult(*(x[0] for x in res)), Ws[0]) <= 1e-5
        # the same LAPACK solve of the same matrix (see test_fallback_eager)
        np.testing.assert_allclose(float(res.radius[1]), float(full[1]), rtol=1e-6)


def test_leading_axes():
    Ws = np.stack([outlier_matrix(1), gaussian(N, 7)]).reshape(2, 1, N, N)
    res = krylov_spectral_radius(Ws, **STARVED)
    for field in res:
        assert field.shape == (2, 1)
    for i in range(2):
        single = krylov_spectral_radius(Ws[i, 0], **STARVED)
        member = KrylovResult(*(x[i, 0] for x in res))
        assert bool(member.converged) == bool(single.converged) == (i == 0)
        assert bool(member.fell_back) == bool(single.fell_back) == (i == 1)
        if i == 0:  # converged in a batch of 2 and alone: certified radii
            # (batched products round differently, see test_jit_matches_eager)
            gap = abs(float(member.radius) - float(single.radius)) / true_radius(Ws[i, 0])
            assert gap <= certified_bound(Ws[i, 0], member) + certified_bound(Ws[i, 0], single)
        else:  # fell back: the same LAPACK solve of the same matrix; budget-fixed count
            np.testing.assert_allclose(float(member.radius), float(single.radius), rtol=1e-6)
            assert int(member.matvecs) == int(single.matvecs) == 9
    assert res.fell_back[:, 0].tolist() == [False, True]


# --- input checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("W", "error", "match"),
    [
        (np.ones((3, 4)), ValueError, r"W must be a square.*\(3, 4\)"),
        (np.ones(5), ValueError, r"W must be a square.*\(5,\)"),
        (np.ones((0, 0)), ValueError, r"W must not be empty.*\(0, 0\)"),
        (np.ones((3, 3), np.complex64), TypeError, r"W must be real.*complex64"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), ValueError, r"W must be finite"),
        (np.array([[1.0, 0.0], [np.inf, 1.0]]), ValueError, r"W must be finite"),
    ],
)
def test_bad_matrix(W, error, match):
    with pytest.raises(error, match=match):
        krylov_spectral_radius(W)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tol": 0.0}, ValueError, r"tol must be positive, got 0\.0"),
        ({"tol": -1e-3}, ValueError, r"tol must be positive, got -0\.001"),
        ({"tol": 1.0}, ValueError, r"tol must be in \(0, 1\), got 1\.0"),
        ({"tol": float("nan")}, ValueError, r"tol must be finite, got nan"),
        ({"tol": "small"}, TypeError, r"tol must be a real number, got 'small'"),
        ({"m": 1}, ValueError, r"m must be at least 2, got 1"),
        ({"m": 0}, ValueError, r"m must be a positive integer, got 0"),
        ({"m": 2.5}, TypeError, r"m must be a positive integer, got 2\.5"),
        ({"k": 0}, ValueError, r"k must be between 1 and m - 2 = 14, got 0"),
        ({"k": 15}, ValueError, r"k must be between 1 and m - 2 = 14, got 15"),
        ({"k": 3.0}, TypeError, r"k must be a positive integer, got 3\.0"),
        ({"max_matvecs": 0}, ValueError, r"max_matvecs must be a positive integer, got 0"),
        ({"key": 0}, TypeError, r"key must be a JAX PRNG key"),
        ({"fallback": "yes"}, TypeError, r"fallback must be True or False, got 'yes'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    kwargs = {"m": 16, **kwargs}
    with pytest.raises(error, match=match):
        krylov_spectral_radius(np.eye(32, dtype=np.float32), **kwargs)


def test_non_finite_under_jit_is_reported():
    W = gaussian(N, 0)
    W[1, 2] = np.nan
    with pytest.raises(Exception, match="W must be finite"):
        jax.block_until_ready(jitted(W))


# --- method choice ------------------------------------------------------------------


def test_auto_method():
    assert auto_method(1) == "eig"
    assert auto_method(KRYLOV_MIN_N - 1) == "eig"
    assert auto_method(KRYLOV_MIN_N) == "krylov"
    assert auto_method(8192) == "krylov"
    with pytest.raises(ValueError, match="N must be a positive integer, got 0"):
        auto_method(0)
    with pytest.raises(TypeError, match=r"N must be a positive integer, got 3\.5"):
        auto_method(3.5)


def test_default_basis_size():
    assert default_basis_size(5) == 5
    assert [default_basis_size(n) for n in (1024, 2048, 4096)] == [208, 296, 416]
    assert all(default_basis_size(n) % 8 == 0 for n in (100, 500, 5000))


def test_error_bounded_by_condition_times_residual():
    # The residual is a backward error; for a non-normal W the radius error is
    # bounded by about kappa * residual, kappa the top eigenvalue's condition.
    import scipy.linalg

    rng = np.random.default_rng(0)
    diag = np.concatenate([[1.0, -0.8], rng.uniform(-0.7, 0.7, N - 2)])
    W = (np.diag(diag) + np.triu(rng.standard_normal((N, N)), 1) * 2 / np.sqrt(N)).astype(
        np.float32
    )
    res = krylov(W)
    assert bool(res.converged)
    ev, vl, vr = scipy.linalg.eig(W.astype(np.float64), left=True, right=True)
    top = np.argmax(np.abs(ev))
    kappa = 1 / abs(np.vdot(vl[:, top], vr[:, top]))  # unit columns
    assert kappa > 10  # really non-normal
    err = abs(float(res.radius) - abs(ev[top])) / abs(ev[top])
    assert err <= 2 * kappa * float(res.residual)


def test_full_solve_stays_inside_its_loop_when_traced():
    # Inside a caller's jit the fallback (a full N x N eigensolve) and the
    # confirming small solves sit in loops that run zero or one time. XLA
    # hoists loop-invariant work out of loops, which would run the full solve
    # on every call; the compiled program must keep it inside.
    hlo = jax.jit(lambda W: krylov(W).radius).lower(jnp.zeros((N, N))).compile().as_text()
    computations = re.split(r"\n(?=\S)", hlo)
    full_solves = [c for c in computations if re.search(rf"c64\[(1,)?{N},{N}\].*sgeev", c)]
    assert full_solves, "no full eigensolve found in the compiled program"
    for computation in full_solves:
        assert not computation.startswith("ENTRY"), computation.splitlines()[0]
        name = computation.split()[0]
        assert re.search(rf"while\(.*body={re.escape(name)}\b", hlo) or re.search(
            rf"conditional\(.*{re.escape(name)}\b", hlo
        ), name
