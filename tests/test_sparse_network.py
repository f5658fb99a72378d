"""Sparse networks against the dense ones, and the Krylov radius of sparse matrices."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit._src.krylov import krylov_options
from jaxinit._src.sparse import network as sparse_network
from jaxinit._src.sparse import radius as sparse_radius_module
from jaxinit.sparse import RowSparse, fixed_in_degree, from_dense
from tests.conftest import EPS32, eig_bound, krylov_bound
from tests.test_sparse import largest_array

TOL = 1e-5  # the default certification tolerance

OTHER_FIELDS = ("W_in", "W_out", "b_rec", "b_out", "init_state", "input_connectivity",
                "output_connectivity", "dale_rec_diag", "dale_out_diag")


def full_radius(W):
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64)))))


def random_pattern(seed, n, k):
    return fixed_in_degree(jax.random.key(seed), (n, n), k, autapses=False)


def gaussian_values(pattern, seed):
    return pattern.with_values(jax.random.normal(jax.random.key(seed), pattern.values.shape))


def dale_values(pattern, seed, ratio=0.8):
    n = pattern.n_cols
    signs = jnp.where(jnp.arange(n) < int(ratio * n), 1.0, -ratio / (1 - ratio))
    magnitudes = jnp.abs(jax.random.normal(jax.random.key(seed), pattern.values.shape))
    v = magnitudes * signs[pattern.index]
    return pattern.with_values(v)


def block_values(seed, n=400):
    """Two populations: dense-ish within, sparse across (a mask from jaxinit.connectivity)."""
    p = [[0.3, 0.02], [0.02, 0.3]]
    mask = jaxinit.connectivity.blocks(jax.random.key(seed), [n // 2, n // 2], p, autapses=False)
    values = jax.random.normal(jax.random.key(seed + 1), (n, n)) * mask
    return from_dense(values)


MATRICES = {
    "gaussian": lambda s: gaussian_values(random_pattern(s, 500, 40), s + 100),
    "dale": lambda s: dale_values(random_pattern(s, 500, 40), s + 100),
    "dale-balanced": lambda s: dale_values(random_pattern(s, 500, 40), s + 100, ratio=0.5),
    "sparse-k3": lambda s: gaussian_values(random_pattern(s, 600, 3), s + 100),
    "blocks": lambda s: block_values(s),
}


@pytest.mark.parametrize("make", MATRICES.values(), ids=MATRICES.keys())
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sparse_krylov_radius_against_lapack(make, seed):
    W = make(seed)
    dense = np.asarray(W.todense())
    result = jaxinit.krylov_spectral_radius(W)
    truth = full_radius(dense)
    bound = eig_bound(dense) if bool(result.fell_back) else krylov_bound(dense, result.residual)
    assert abs(float(result.radius) - truth) <= bound * truth
    assert bool(result.converged) and float(result.residual) <= TOL
    assert int(result.restarts) >= 0 and int(result.matvecs) > 0
    # the same through spectral_radius, and the dense Krylov radius agrees
    np.testing.assert_allclose(jaxinit.spectral_radius(W, method="krylov"), result.radius)
    np.testing.assert_allclose(
        jaxinit.spectral_radius(W, method="eig"), truth, rtol=eig_bound(dense)
    )


def test_a_stack_of_sparse_matrices_is_measured_member_by_member():
    members = [gaussian_values(random_pattern(s, 300, 20), s) for s in range(3)]
    stack = jax.tree.map(lambda *a: jnp.stack(a), *members)
    result = jaxinit.krylov_spectral_radius(stack)
    assert result.radius.shape == (3,)
    for i, W in enumerate(members):
        dense = np.asarray(W.todense())
        assert abs(float(result.radius[i]) - full_radius(dense)) <= krylov_bound(
            dense, result.residual[i]
        ) * full_radius(dense)


def test_scale_spectral_radius_keeps_the_pattern():
    W = dale_values(random_pattern(4, 400, 30), 5)
    scaled = jaxinit.scale_spectral_radius(W, 0.9, method="krylov")
    assert isinstance(scaled, RowSparse)
    np.testing.assert_array_equal(scaled.index, W.index)
    dense = np.asarray(scaled.todense())
    assert abs(full_radius(dense) - 0.9) <= 2 * krylov_bound(dense, TOL) * 0.9
    with pytest.raises(
        ValueError, match=r"spec_rad must be finite and positive, got -1.0"
    ):
        jaxinit.scale_spectral_radius(W, -1.0, method="krylov")


def test_uncertified_small_matrix_falls_back_to_the_full_solve():
    W = gaussian_values(random_pattern(0, 300, 30), 1)
    result = jaxinit.krylov_spectral_radius(W, max_matvecs=10)
    assert not bool(result.converged) and bool(result.fell_back)
    dense = np.asarray(W.todense())
    assert abs(float(result.radius) - full_radius(dense)) <= eig_bound(dense) * full_radius(dense)
    kept = jaxinit.krylov_spectral_radius(W, max_matvecs=10, fallback=False)
    assert not bool(kept.converged) and not bool(kept.fell_back)


def test_uncertified_large_matrix_is_never_densified():
    n = 20_000  # a dense float32 copy is 1.6 GB, more than DENSE_FALLBACK_BYTES
    assert not sparse_radius_module.dense_fallback_fits(n, np.float32)
    W = gaussian_values(random_pattern(0, n, 2), 1)
    with pytest.raises(
        ValueError,
        match=r"20000 x 20000 sparse matrix was not certified .*\(1\.49 GiB, more than the 1 GiB",
    ):
        jaxinit.krylov_spectral_radius(W, max_matvecs=10)
    with pytest.raises(ValueError, match=r"method='eig' needs a dense 20000 x 20000 copy"):
        jaxinit.spectral_radius(W, method="eig")


@pytest.mark.parametrize("make", MATRICES.values(), ids=MATRICES.keys())
def test_predicted_radius_of_sparse_matrices_equals_the_dense_prediction(make):
    """The O(nnz) prediction is the dense one of the same matrix: both are the Perron root
    of one variance profile, to the power iteration's 1e-6 and float32 sums of N terms."""
    W = make(0)
    dense = W.todense()
    ours = jaxinit.predicted_radius(W)
    np.testing.assert_allclose(ours, jaxinit.predicted_radius(dense), rtol=1e-5)
    np.testing.assert_allclose(jaxinit.spectral_radius(W, method="predicted"), ours)
    stack = jax.tree.map(lambda a: jnp.stack([a, 2 * a if a.dtype == jnp.float32 else a]), W)
    np.testing.assert_allclose(jaxinit.predicted_radius(stack), [ours, 2 * ours], rtol=1e-5)
    assert not jaxinit.predicted_radius(W, finite_n=False) > ours


def test_sparse_radius_program_holds_no_n_by_n_array():
    n = 10_000
    W = gaussian_values(random_pattern(0, n, 100), 1)
    opts = krylov_options(n, jaxinit.sparse.sparse_basis_size(n, 100), None, None)
    jaxpr = jax.make_jaxpr(
        lambda W, v: sparse_radius_module._sparse_core(W, v, jnp.float32(TOL), opts)
    )(W, jnp.ones(n))
    assert largest_array(jaxpr) < n * n // 10


# -- the initializers --------------------------------------------------------------------

CASES = [
    # (dale_ratio, dale_balance, spectral_radius_of)
    (None, None, "raw"),
    (None, None, "effective"),
    (0.8, "psychrnn", "raw"),
    (0.8, "psychrnn", "effective"),
    (0.8, "rows", "raw"),
    (0.8, "rows", "effective"),
    (0.8, None, "effective"),
    (0.5, "psychrnn", "effective"),
]


def network_bound(measured_dense, spectral_method):
    """Relative distance allowed between two networks scaled by radii of the same matrix
    computed by two methods (each certified to TOL, or the full float32 solve)."""
    eig = eig_bound(measured_dense)
    krylov = krylov_bound(measured_dense, TOL)
    return (krylov if spectral_method == "krylov" else eig) + max(eig, krylov) + 16 * EPS32


@pytest.mark.parametrize(("dale_ratio", "dale_balance", "of"), CASES)
@pytest.mark.parametrize("method", ["eig", "krylov"])
def test_gaussian_spectral_radius_equals_the_dense_network(dale_ratio, dale_balance, of, method):
    n = 300
    P = random_pattern(3, n, 30)
    V = gaussian_values(P, 9)
    cfg = jaxinit.Config(N_in=2, N_rec=n, N_out=3, dale_ratio=dale_ratio, dale_balance=dale_balance,
                         spectral_radius_of=of, spectral_method=method)
    key = jax.random.key(0)
    sp = jaxinit.sparse.gaussian_spectral_radius(key, cfg, P, W_rec=V)
    dense = jaxinit.gaussian_spectral_radius(
        key, cfg, W_rec=V.todense(), rec_connectivity=P.todense()
    )
    as_dense = sp.todense()
    for name in OTHER_FIELDS:
        np.testing.assert_array_equal(getattr(as_dense, name), getattr(dense, name), err_msg=name)
    np.testing.assert_array_equal(as_dense.rec_connectivity, dense.rec_connectivity)
    measured = jaxinit.effective(dense).W_rec if of == "effective" else dense.W_rec
    tol = network_bound(np.asarray(measured), method)
    np.testing.assert_allclose(as_dense.W_rec, dense.W_rec, rtol=0,
                               atol=tol * float(jnp.abs(dense.W_rec).max()))
    eff = jaxinit.effective(sp).W_rec
    np.testing.assert_allclose(eff.todense(), jaxinit.effective(dense).W_rec, rtol=0,
                               atol=tol * float(jnp.abs(dense.W_rec).max()))
    # the radius asked for, on the matrix asked for
    got = full_radius(np.asarray(eff.todense() if of == "effective" else as_dense.W_rec))
    assert abs(got - cfg.spec_rad) <= network_bound(np.asarray(measured), method) * cfg.spec_rad


@pytest.mark.parametrize("balance", ["rows", None])
def test_predicted_method_equals_the_dense_network(balance):
    n = 300
    P = random_pattern(6, n, 30)
    V = gaussian_values(P, 2)
    cfg = jaxinit.Config(N_in=2, N_rec=n, N_out=1, dale_ratio=0.8, dale_balance=balance,
                         spectral_radius_of="effective", spectral_method="predicted")
    sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P, W_rec=V)
    dense = jaxinit.gaussian_spectral_radius(
        jax.random.key(0), cfg, W_rec=V.todense(), rec_connectivity=P.todense()
    )
    largest = float(jnp.abs(dense.W_rec).max())
    np.testing.assert_allclose(sp.W_rec.todense(), dense.W_rec, rtol=0, atol=1e-5 * largest)


def test_gaussian_spectral_radius_draws_its_own_values_with_the_key_rule():
    n = 200
    P = random_pattern(1, n, 10)
    cfg = jaxinit.Config(N_in=2, N_rec=n, N_out=1, spectral_method="krylov")
    key = jax.random.key(4)
    sp = jaxinit.sparse.gaussian_spectral_radius(key, cfg, P)
    drawn = jax.random.normal(jax.random.split(key, 4)[1], (n, 10))
    same = jaxinit.sparse.gaussian_spectral_radius(key, cfg, P, W_rec=P.with_values(drawn))
    np.testing.assert_array_equal(sp.W_rec.values, same.W_rec.values)
    dense = jaxinit.gaussian_spectral_radius(key, cfg)
    for name in ("W_in", "W_out", "init_state"):
        np.testing.assert_array_equal(getattr(sp, name), getattr(dense, name))


def test_autapses_false_drops_diagonal_entries_of_the_pattern():
    n = 50
    P = fixed_in_degree(jax.random.key(0), (n, n), 10, autapses=True)
    assert bool((P.index == jnp.arange(n)[:, None]).any())
    cfg = jaxinit.Config(N_in=1, N_rec=n, N_out=1, autapses=False)
    sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(1), cfg, P)
    assert float(jnp.abs(jnp.diagonal(sp.W_rec.todense())).max()) == 0
    assert float(jnp.diagonal(sp.rec_connectivity.todense()).max()) == 0
    assert np.asarray(P.index).max() < n  # the pattern given is not changed


def test_alpha_identity_equals_the_dense_network():
    n = 40
    P = fixed_in_degree(jax.random.key(2), (n, n), 8, autapses=True)
    for autapses in (True, False):
        cfg = jaxinit.Config(N_in=1, N_rec=n, N_out=2, alpha=0.7, dale_ratio=0.8, autapses=autapses)
        sp = jaxinit.sparse.alpha_identity(jax.random.key(0), cfg, P)
        dense = jaxinit.alpha_identity(jax.random.key(0), cfg, rec_connectivity=P.todense())
        np.testing.assert_allclose(jaxinit.effective(sp).W_rec.todense(),
                                   jaxinit.effective(dense).W_rec, rtol=4 * EPS32, atol=0)
        for name in OTHER_FIELDS:
            np.testing.assert_array_equal(getattr(sp, name), getattr(dense, name))


@pytest.mark.parametrize("scheme", ["const_unif", "const_gauss", "glorot_unif", "glorot_gauss"])
def test_weight_initializer_schemes_on_the_pattern(scheme):
    n, k = 400, 25
    P = fixed_in_degree(jax.random.key(5), (n, n), k, autapses=False)
    cfg = jaxinit.Config(N_in=3, N_rec=n, N_out=2, which_rand_W_rec_init=scheme,
                         which_rand_init=scheme)
    with pytest.warns(jaxinit.UnregulatedSpectrumWarning):
        sp = jaxinit.sparse.weight_initializer(jax.random.key(0), cfg, P)
    with pytest.warns(jaxinit.UnregulatedSpectrumWarning):
        dense = jaxinit.weight_initializer(jax.random.key(0), cfg, rec_connectivity=P.todense())
    for name in OTHER_FIELDS:
        np.testing.assert_array_equal(getattr(sp, name), getattr(dense, name))
    values = np.asarray(sp.W_rec.values)
    if scheme.startswith("glorot"):
        # PsychRNN's per-entry fan (row sum + column sum of the mask), read at each entry
        fan = np.asarray(jaxinit.schemes.glorot_fan(P.todense()))
        fan_at = fan[np.arange(n)[:, None], np.asarray(P.index)]
        unit = values / np.sqrt((6.0 if scheme == "glorot_unif" else 2.0) / fan_at)
    else:
        unit = values
    if scheme.endswith("unif"):
        lo, hi = (-1.0, 1.0) if scheme == "glorot_unif" else (cfg.init_minval, cfg.init_maxval)
        assert lo <= unit.min() and unit.max() < hi
        assert abs(unit.mean() - (lo + hi) / 2) < 6 * (hi - lo) / np.sqrt(12 * unit.size)
    else:
        assert abs(unit.mean()) < 6 / np.sqrt(unit.size)
        assert abs(unit.std() - 1) < 6 / np.sqrt(2 * unit.size)
    # given values are kept, and then nothing warns
    V = gaussian_values(P, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = jaxinit.sparse.weight_initializer(jax.random.key(0), cfg, P, W_rec=V)
    np.testing.assert_array_equal(kept.W_rec.values, V.values)


def test_sparse_params_is_a_pytree_and_knows_its_size():
    n, k = 1000, 20
    P = random_pattern(0, n, k)
    cfg = jaxinit.Config(N_in=2, N_rec=n, N_out=1, dale_ratio=0.8, spectral_method="krylov")
    sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P)
    leaves = jax.tree_util.tree_leaves(sp)
    assert sum(x.size for x in leaves) == 2 * n * k + 2 * n + n + 1 + 2 * n + n + 2 * n + n + n
    assert sp.nbytes == sum(x.nbytes for x in leaves)
    assert sp.N_rec == n and sp.N_in == 2 and sp.N_out == 1 and sp.batch_shape == () and sp.dale
    doubled = jax.tree.map(lambda x: x * 2 if jnp.issubdtype(x.dtype, jnp.floating) else x, sp)
    np.testing.assert_array_equal(doubled.W_rec.values, 2 * sp.W_rec.values)
    np.testing.assert_array_equal(doubled.W_rec.index, sp.W_rec.index)
    with pytest.raises(
        ValueError, match=r"a dense copy of W_rec \(\(1000, 1000\)\) would take 4000000 bytes"
    ):
        sp.todense(max_bytes=10**6)
    shown = "SparseParams(W_in=float32[1000, 2], W_rec=RowSparse(shape=(1000, 1000), slots=20"
    assert shown in repr(sp)


def test_initializer_program_holds_no_n_by_n_array():
    n = 10_000
    P = random_pattern(0, n, 100)
    cfg = jaxinit.Config(N_in=2, N_rec=n, N_out=1, dale_ratio=0.8, dale_balance="rows",
                         spectral_radius_of="effective", spectral_method="krylov")
    plan, scalars, given, pattern = sparse_network.prepare_sparse(
        "gaussian_spectral_radius", jax.random.key(0), cfg, P, {}
    )
    jaxpr = jax.make_jaxpr(
        lambda key, s, p: sparse_network.draw_values(plan, key, s, given, p)
    )(jax.random.key(0), scalars, pattern)
    assert largest_array(jaxpr) <= 2 * n * 100


def test_sparse_initializer_errors():
    n = 30
    P = random_pattern(0, n, 4)
    cfg = jaxinit.Config(N_in=1, N_rec=n, N_out=1, spectral_method="krylov")
    key = jax.random.key(0)
    init = jaxinit.sparse.gaussian_spectral_radius
    with pytest.raises(
        ValueError, match=r"rec_connectivity must have shape \(31, 31\) like config.N_rec"
    ):
        init(key, cfg.replace(N_rec=31), P)
    stack = jax.tree.map(lambda a: jnp.stack([a, a]), P)
    with pytest.raises(
        ValueError, match=r"rec_connectivity must be one pattern \(N_rec, K\), got a stack \(2,\)"
    ):
        init(key, cfg, stack)
    with pytest.raises(TypeError, match="a sparse initializer does not take 'Dale_rec'"):
        init(key, cfg, P, Dale_rec=np.eye(n))
    other = random_pattern(1, n, 4)
    with pytest.raises(ValueError, match=r"W_rec must be stored on the pattern rec_connectivity"):
        init(key, cfg, P, W_rec=other)
    with pytest.raises(
        TypeError, match=r"W_rec must be a jaxinit.sparse.RowSparse, got ndarray"
    ):
        init(key, cfg, P, W_rec=np.ones((n, n)))
    with pytest.raises(ValueError, match="W_rec must be finite"):
        init(key, cfg, P, W_rec=P.with_values(P.values.at[0, 0].set(jnp.nan)))
    with pytest.raises(
        TypeError, match=r"alpha_identity builds W_rec from config.alpha"
    ):
        jaxinit.sparse.alpha_identity(key, jaxinit.Config(N_in=1, N_rec=n, N_out=1, alpha=1.0),
                                      P, W_rec=P)
    with pytest.raises(ValueError, match=r"W_in must have shape \(30, 1\), got \(2, 2\)"):
        init(key, cfg, P, W_in=np.ones((2, 2)))
    with pytest.raises(
        TypeError, match=r"config must be a jaxinit.Config, got dict"
    ):
        init(key, {}, P)
    big = 20_000
    with pytest.raises(
        ValueError, match=r"spectral_method='eig' solves a dense 20000 x 20000 matrix"
    ):
        init(key, jaxinit.Config(N_in=1, N_rec=big, N_out=1), random_pattern(0, big, 2))
    # nothing the user passed was changed
    np.testing.assert_array_equal(P.values, 1.0)


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16])
def test_a_half_precision_pattern_makes_the_same_network(dtype):
    """The pattern's ones are never read: a bfloat16/float16 pattern (half the memory)
    gives the float32 pattern's network bit for bit."""
    cfg = jaxinit.Config(N_in=2, N_rec=300, N_out=1, dale_ratio=0.8, autapses=False,
                         spectral_radius_of="effective", spectral_method="krylov")
    key = jax.random.key(7)
    half = fixed_in_degree(key, (300, 300), 20, autapses=False, dtype=dtype)
    full = fixed_in_degree(key, (300, 300), 20, autapses=False)
    assert half.values.dtype == dtype and half.values.nbytes * 2 == full.values.nbytes
    np.testing.assert_array_equal(half.index, full.index)
    a = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(1), cfg, half)
    b = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(1), cfg, full)
    assert a.W_rec.values.dtype == jnp.float32
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match=r"dtype must be bfloat16, float16, float32 or float64, "
                                          r"got .*int8"):
        fixed_in_degree(key, (300, 300), 20, dtype=jnp.int8)


def test_the_network_holds_the_patterns_own_index():
    """No copy of the (N, K) index: the network's W_rec reads the pattern's array."""
    P = random_pattern(3, 400, 20)
    cfg = jaxinit.Config(N_in=2, N_rec=400, N_out=1, dale_ratio=0.8, autapses=False, alpha=0.5,
                         spectral_radius_of="effective", spectral_method="krylov")
    for init in (jaxinit.sparse.gaussian_spectral_radius, jaxinit.sparse.alpha_identity):
        net = init(jax.random.key(0), cfg, P)
        assert net.W_rec.index is P.index
    # a pattern with diagonal entries loses them first (a new index, without autapses)
    with_diagonal = fixed_in_degree(jax.random.key(3), (400, 400), 20, autapses=True)
    net = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, with_diagonal)
    rows = np.arange(400)[:, None]
    assert not np.any(np.asarray(net.W_rec.index) == rows)
