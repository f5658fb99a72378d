"""The three initializers: structure, purity, given arrays, radius, errors."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import jaxinit
from jaxinit import (
    Config,
    alpha_identity,
    effective,
    gaussian_spectral_radius,
    weight_initializer,
)
from tests.conftest import eig_bound, krylov_bound, maybe_jit

KEY = jax.random.key(11)
INITIALIZERS = {
    "weight_initializer": weight_initializer,
    "gaussian_spectral_radius": gaussian_spectral_radius,
    "alpha_identity": alpha_identity,
}

pytestmark = pytest.mark.filterwarnings("ignore::jaxinit.UnregulatedSpectrumWarning")


def numpy_radius(W):
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64)))))


def psychrnn_dale_signs(n, ratio):
    """PsychRNN's ``Dale_rec`` diagonal: ``int(ratio * n)`` leading +1, then -1."""
    signs = np.ones(n)
    signs[int(ratio * n) :] = -1
    return signs


def psychrnn_balance(W, mask, ratio):
    """PsychRNN's ``balance_dale_ratio`` in float64, as PsychRNN 1.0.0 writes it:
    ``W @ (diag(v) / ||rows of mask @ diag(v)||[:, None])`` (no empty mask rows)."""
    n = len(W)
    v = np.ones(n)
    v[int(ratio * n) :] = ratio / (1 - ratio)
    dale = np.diag(v) / np.linalg.norm(np.asarray(mask, np.float64) @ np.diag(v), axis=1)[:, None]
    return np.asarray(W, np.float64) @ dale


def config(**kw):
    base = dict(N_in=3, N_rec=12, N_out=2, alpha=0.9)
    base.update(kw)
    return Config(**base)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_shapes_dtypes_and_defaults(name, dtype, mode):
    cfg = config(dtype=dtype, dale_ratio=0.75, autapses=False)
    p = maybe_jit(INITIALIZERS[name], mode)(KEY, cfg)
    assert isinstance(p, jaxinit.Params)
    shapes = {
        "W_in": (12, 3),
        "W_rec": (12, 12),
        "W_out": (2, 12),
        "b_rec": (12,),
        "b_out": (2,),
        "init_state": (12,),
        "input_connectivity": (12, 3),
        "rec_connectivity": (12, 12),
        "output_connectivity": (2, 12),
        "dale_rec_diag": (12,),
        "dale_out_diag": (12,),
    }
    for field, shape in shapes.items():
        value = getattr(p, field)
        assert value.shape == shape, field
        assert value.dtype == jnp.dtype(dtype), field
    assert (p.N_in, p.N_rec, p.N_out, p.batch_shape) == (3, 12, 2, ())
    assert p.dale_ratio == 0.75 and p.transfer_function == "relu"
    np.testing.assert_array_equal(p.b_rec, 0)
    np.testing.assert_array_equal(p.b_out, 0)
    np.testing.assert_array_equal(p.input_connectivity, 1)
    np.testing.assert_array_equal(p.output_connectivity, 1)
    np.testing.assert_array_equal(p.rec_connectivity, 1 - np.eye(12))
    assert p.dale_rec_diag.tolist() == [1.0] * 9 + [-1.0] * 3
    assert p.dale_out_diag.tolist() == [1.0] * 9 + [0.0] * 3
    np.testing.assert_array_equal(p.Dale_rec, np.diag([1.0] * 9 + [-1.0] * 3))
    np.testing.assert_array_equal(p.Dale_out, np.diag([1.0] * 9 + [0.0] * 3))
    assert np.isfinite(np.asarray(p.init_state)).all()


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_same_key_same_params_bitwise(name):
    cfg = config(dale_ratio=0.5)
    a = INITIALIZERS[name](KEY, cfg)
    b = INITIALIZERS[name](KEY, cfg)
    chex.assert_trees_all_equal(a, b)
    c = INITIALIZERS[name](jax.random.key(12), cfg)
    assert not np.array_equal(a.W_in, c.W_in)
    assert not np.array_equal(a.init_state, c.init_state)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_jit_equals_eager(name, dtype):
    cfg = config(dtype=dtype, dale_ratio=0.8, spectral_radius_of="effective")
    eager = INITIALIZERS[name](KEY, cfg)
    jitted = jax.jit(INITIALIZERS[name], static_argnames="config")(KEY, config=cfg)
    # two compiled programs: W_rec is scaled by a radius from each one's own
    # float32 eigensolve (tests.conftest.eig_bound each); nothing else solves
    rtol = 2 * eig_bound(effective(eager).W_rec)
    chex.assert_trees_all_close(eager, jitted, rtol=rtol, atol=0)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_vmap_member_i_equals_single_call(name, dtype):
    cfg = config(dtype=dtype, dale_ratio=0.8, spectral_radius_of="effective")
    keys = jax.random.split(KEY, 5)
    batch = jax.vmap(lambda k: INITIALIZERS[name](k, cfg))(keys)
    assert batch.batch_shape == (5,)
    for i in range(5):
        single = INITIALIZERS[name](keys[i], cfg)
        member = jax.tree.map(lambda x, i=i: x[i], batch)
        # a batched and a single program: two eigensolves (see test_jit_equals_eager)
        rtol = 2 * eig_bound(effective(single).W_rec)
        chex.assert_trees_all_close(member, single, rtol=rtol, atol=0)


def test_raw_keys_and_typed_keys_agree():
    cfg = config()
    raw = jax.random.PRNGKey(3)
    chex.assert_trees_all_equal(
        gaussian_spectral_radius(raw, cfg),
        gaussian_spectral_radius(jax.random.wrap_key_data(raw), cfg),
    )


def test_gaussian_draw_uses_the_documented_key_slot():
    # Slots: split(key, 4) -> W_in, W_rec, W_out, init_state.
    cfg = config(dale_ratio=0.8)
    z = jax.random.normal(jax.random.split(KEY, 4)[1], (12, 12))
    drawn, given = gaussian_spectral_radius(KEY, cfg), gaussian_spectral_radius(KEY, cfg, W_rec=z)
    # Two compiled programs: the radius each divides by comes from its own
    # float32 eigensolve. Its relative error is at most about N * eps * kappa *
    # ||W||_2 / rho = 12 * 1.19e-7 * 2.5 * 2.8 ~ 1e-5 (kappa: the condition of
    # the top eigenvalue of this matrix, from float64 scipy); twice that for
    # the few roundings of the balance and the scaling. A wrong slot differs by O(1).
    np.testing.assert_allclose(drawn.W_rec, given.W_rec, rtol=2e-5)
    for name in ("W_in", "W_out", "init_state"):  # no eigensolve on their path: same bits
        np.testing.assert_array_equal(getattr(drawn, name), getattr(given, name))


def test_gaussian_W_rec_is_standard_normal_before_scaling():
    cfg = Config(N_in=1, N_rec=300, N_out=1, spec_rad=2.0)
    p = gaussian_spectral_radius(KEY, cfg)
    z = np.asarray(jax.random.normal(jax.random.split(KEY, 4)[1], (300, 300)))
    factor = 2.0 / numpy_radius(z)
    # the float32 radius (tests.conftest.eig_bound) and a few roundings of the scaling
    np.testing.assert_allclose(p.W_rec, factor * z, rtol=eig_bound(z) + 4 * 1.19e-7, atol=0)
    assert stats.kstest(np.asarray(p.W_rec).ravel() / factor, "norm").pvalue > 1e-3


def test_init_state_distribution():
    p = weight_initializer(KEY, Config(N_in=1, N_rec=5000, N_out=1), W_rec=np.eye(5000))
    z = (np.asarray(p.init_state, np.float64) - 0.1) / 0.01
    assert stats.kstest(z, "norm").pvalue > 1e-3


def test_weight_initializer_uses_the_schemes():
    cfg = config(
        which_rand_init="const_unif",
        which_rand_W_rec_init="const_gauss",
        init_minval=0.2,
        init_maxval=0.3,
    )
    p = weight_initializer(KEY, cfg)
    k_in, k_rec, k_out, _ = jax.random.split(KEY, 4)
    np.testing.assert_array_equal(
        p.W_in, jaxinit.schemes.const_unif(k_in, jnp.ones((12, 3)), minval=0.2, maxval=0.3)
    )
    np.testing.assert_array_equal(p.W_rec, jaxinit.schemes.const_gauss(k_rec, jnp.ones((12, 12))))
    np.testing.assert_array_equal(
        p.W_out, jaxinit.schemes.const_unif(k_out, jnp.ones((2, 12)), minval=0.2, maxval=0.3)
    )


def test_weight_initializer_warns_only_when_it_draws_W_rec():
    with pytest.warns(jaxinit.UnregulatedSpectrumWarning, match=r"eigenvalues"):
        weight_initializer(KEY, config())
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weight_initializer(KEY, config(), W_rec=np.eye(12))


def test_alpha_identity_values():
    p = alpha_identity(KEY, Config(N_in=1, N_rec=10, N_out=1, alpha=2.0))
    np.testing.assert_array_equal(p.W_rec, 2.0 * np.eye(10))
    # With Dale 0.8 and a full mask: v = 1 (E) or 0.8 / 0.2 = 4 (I); every
    # row norm is sqrt(8 * 1 + 2 * 16) = sqrt(40); column j gets v_j / sqrt(40).
    p = alpha_identity(KEY, Config(N_in=1, N_rec=10, N_out=1, alpha=2.0, dale_ratio=0.8))
    expected = np.diag([2.0 / np.sqrt(40)] * 8 + [8.0 / np.sqrt(40)] * 2)
    # float32 sum of 10 squares, sqrt, division, product: <= ~8 roundings of 6e-8
    np.testing.assert_allclose(p.W_rec, expected, rtol=1e-6)


def test_given_arrays_replace_defaults_and_leave_other_draws_alone():
    cfg = config(dale_ratio=0.5)
    rng = np.random.default_rng(0)
    given = {
        "W_in": rng.standard_normal((12, 3)),
        "W_out": rng.standard_normal((2, 12)),
        "b_rec": rng.standard_normal(12),
        "b_out": rng.standard_normal(2),
        "init_state": rng.standard_normal((1, 12)),
        "input_connectivity": (rng.random((12, 3)) < 0.5).astype(float),
        "output_connectivity": (rng.random((2, 12)) < 0.5).astype(float),
        "Dale_out": np.diag([1.0, 0.0] * 6),
        "Dale_rec": np.diag([1.0, -1.0] * 6),
    }
    copies = {k: v.copy() for k, v in given.items()}
    base = alpha_identity(KEY, cfg)
    p = alpha_identity(KEY, cfg, **given)
    for name, value in given.items():
        np.testing.assert_array_equal(given[name], copies[name])  # not mutated
        if name == "Dale_rec":
            np.testing.assert_array_equal(p.dale_rec_diag, np.diag(value))
        elif name == "Dale_out":
            np.testing.assert_array_equal(p.dale_out_diag, np.diag(value))
        else:  # float64 given, float32 kept: one rounding, <= 6e-8 relative
            np.testing.assert_allclose(
                getattr(p, name), value.reshape(getattr(p, name).shape), rtol=1e-6
            )
    np.testing.assert_array_equal(p.W_rec, base.W_rec)
    # One given array does not change the others' draws.
    q = alpha_identity(KEY, cfg, W_in=given["W_in"])
    np.testing.assert_array_equal(q.W_out, base.W_out)
    np.testing.assert_array_equal(q.init_state, base.init_state)


def test_given_mask_is_copied_before_autapses_are_removed():
    mask = np.ones((12, 12))
    p = gaussian_spectral_radius(KEY, config(autapses=False), rec_connectivity=mask)
    np.testing.assert_array_equal(mask, np.ones((12, 12)))  # PsychRNN zeroes it in place
    np.testing.assert_array_equal(np.diagonal(p.rec_connectivity), 0)


def test_given_W_rec_is_balanced_and_scaled_by_gaussian_spectral_radius():
    W = np.random.default_rng(5).standard_normal((12, 12))
    cfg = config(dale_ratio=0.75, spec_rad=1.3)
    p = gaussian_spectral_radius(KEY, cfg, W_rec=W)
    balanced = psychrnn_balance(W, np.ones((12, 12)), 0.75)
    # float32 result against a float64 reference: the float32 radius is off by
    # at most about N * eps * kappa * ||W||_2 / rho ~ 12 * 1.19e-7 * 10 ~ 1.4e-5
    # (kappa * ||W|| / rho below 10 for this matrix); 1e-4 leaves room for the
    # condition factor, while a wrong balance (rows for columns, E for I) is O(1).
    np.testing.assert_allclose(p.W_rec, 1.3 * balanced / numpy_radius(balanced), rtol=1e-4)


@settings(max_examples=20)
@given(
    n=st.sampled_from([2, 7, 24]),  # few shapes: each new shape compiles
    ratio=st.one_of(st.none(), st.floats(0.0, 1.0)),
    density=st.floats(0.3, 1.0),
    autapses=st.booleans(),
    spec_rad=st.floats(0.2, 3.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_effective_radius_is_exact(n, ratio, density, autapses, spec_rad, seed):
    mask = (np.random.default_rng(seed).random((n, n)) < density).astype(np.float32)
    mask[np.arange(n), (np.arange(n) + 1) % n] = 1  # a cycle: the radius cannot be 0
    cfg = Config(
        N_in=1,
        N_rec=n,
        N_out=1,
        dale_ratio=ratio,
        autapses=autapses,
        spec_rad=spec_rad,
        spectral_radius_of="effective",
    )
    p = gaussian_spectral_radius(jax.random.key(seed), cfg, rec_connectivity=mask)
    # the float32 radius jaxinit divided by (tests.conftest.eig_bound) and a
    # few roundings of the scaling; the reference is float64
    W = effective(p).W_rec
    assert numpy_radius(W) == pytest.approx(spec_rad, rel=eig_bound(W) + 4e-7)
    raw = gaussian_spectral_radius(
        jax.random.key(seed), cfg.replace(spectral_radius_of="raw"), rec_connectivity=mask
    )
    assert numpy_radius(raw.W_rec) == pytest.approx(spec_rad, rel=eig_bound(raw.W_rec) + 4e-7)


def test_raw_and_effective_differ_as_documented():
    # PsychRNN scales the raw matrix: the network then runs at another radius.
    cfg = Config(N_in=2, N_rec=200, N_out=1, dale_ratio=0.8, spec_rad=1.5)
    raw = gaussian_spectral_radius(KEY, cfg)
    eff = gaussian_spectral_radius(KEY, cfg.replace(spectral_radius_of="effective"))
    assert abs(numpy_radius(effective(raw).W_rec) - 1.5) > 0.1
    # float32 radii: tests.conftest.eig_bound, plus a few roundings of the scaling
    bound_eff, bound_raw = eig_bound(effective(eff).W_rec) + 4e-7, eig_bound(raw.W_rec) + 4e-7
    assert numpy_radius(effective(eff).W_rec) == pytest.approx(1.5, rel=bound_eff)
    assert numpy_radius(raw.W_rec) == pytest.approx(1.5, rel=bound_raw)
    ratio = np.asarray(eff.W_rec, np.float64) / np.asarray(raw.W_rec)
    # same balanced matrix times another scale: the radii's errors are common to
    # all entries, so the ratio varies only by the roundings of the two float32
    # scalings (two each): 4 * 1.19e-7 ~ 5e-7
    np.testing.assert_allclose(ratio, ratio.flat[0], rtol=1e-6)


@pytest.mark.parametrize("ratio", [0.0, 1.0])
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_all_inhibitory_and_all_excitatory_are_finite_and_signed(name, ratio):
    cfg = config(dale_ratio=ratio, spectral_radius_of="effective")
    p = INITIALIZERS[name](KEY, cfg)
    for leaf in jax.tree.leaves(p):
        assert np.isfinite(np.asarray(leaf)).all()
    W = np.asarray(effective(p).W_rec)
    assert (W <= 0).all() if ratio == 0.0 else (W >= 0).all()
    assert np.asarray(effective(p).W_out).any() == (ratio == 1.0)


@settings(max_examples=15)
@given(
    n=st.sampled_from([1, 4, 9]),
    ratio=st.one_of(st.none(), st.floats(0.0, 1.0)),
    density=st.floats(0.0, 1.0),
    scheme=st.sampled_from(sorted(jaxinit.SCHEMES)),
    seed=st.integers(0, 2**31 - 1),
)
def test_never_nan_or_inf(n, ratio, density, scheme, seed):
    rng = np.random.default_rng(seed)
    masks = {
        "input_connectivity": (rng.random((n, 2)) < density).astype(float),
        "rec_connectivity": (rng.random((n, n)) < density).astype(float),
        "output_connectivity": (rng.random((1, n)) < density).astype(float),
    }
    rec = masks["rec_connectivity"]
    # zero or strictly triangular: nothing on or below, or nothing on or above,
    # the diagonal, so the effective W_rec is nilpotent whatever the weights
    no_recurrence = not np.tril(rec).any() or not np.triu(rec).any()
    cfg = Config(N_in=2, N_rec=n, N_out=1, dale_ratio=ratio, which_rand_init=scheme, alpha=1.0)
    for init in (weight_initializer, alpha_identity, gaussian_spectral_radius):
        if init is gaussian_spectral_radius and no_recurrence:
            # refused (raw mode too) instead of returning a network without dynamics
            with pytest.raises(ValueError, match="rec_connectivity is zero or strictly triangular"):
                init(jax.random.key(seed), cfg, **masks)
            continue
        p = init(jax.random.key(seed), cfg, **masks)
        for leaf in jax.tree.leaves(p):
            assert np.isfinite(np.asarray(leaf)).all()


@settings(max_examples=15)
@given(
    n=st.sampled_from([5, 12]),
    ratio=st.floats(0.2, 0.8),  # int(ratio * 5) in [1, 4]: both E and I units
    density=st.floats(0.3, 1.0),
    alternate=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_effective_weights_follow_psychrnn_formula(n, ratio, density, alternate, seed):
    # PsychRNN's RNN: W_rec_eff = |W_rec| * mask @ Dale_rec, W_out_eff =
    # |W_out| * m_out @ Dale_out, W_in_eff = |W_in| * m_in. The Dale signs scale
    # the columns (the presynaptic unit). Written here in numpy with dense
    # diagonal matrices; abs, 0/1 masks and +-1/0 signs only move and flip
    # float bits, so the reference is exact and the comparison is bitwise.
    rng = np.random.default_rng(seed)
    mask = (rng.random((n, n)) < density).astype(np.float32)
    mask[np.arange(n), (np.arange(n) + 1) % n] = 1  # a cycle: the radius cannot be 0
    m_in = (rng.random((n, 2)) < density).astype(np.float32)
    m_out = (rng.random((3, n)) < density).astype(np.float32)
    cfg = Config(N_in=2, N_rec=n, N_out=3, dale_ratio=ratio, spectral_radius_of="effective")
    given = dict(rec_connectivity=mask, input_connectivity=m_in, output_connectivity=m_out)
    signs = psychrnn_dale_signs(n, ratio)
    if alternate:  # a given sign pattern that is not E-block-then-I
        signs = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
        given.update(Dale_rec=np.diag(signs), Dale_out=np.diag((signs > 0).astype(float)))
    p = gaussian_spectral_radius(jax.random.key(seed), cfg, **given)
    eff = effective(p)
    W_rec, W_in, W_out = (np.asarray(x, np.float64) for x in (p.W_rec, p.W_in, p.W_out))
    dale_out = np.diag((signs > 0).astype(float))
    np.testing.assert_array_equal(eff.W_rec, np.abs(W_rec) * mask @ np.diag(signs))
    np.testing.assert_array_equal(eff.W_out, np.abs(W_out) * m_out @ dale_out)
    np.testing.assert_array_equal(eff.W_in, np.abs(W_in) * m_in)
    # column j carries the sign of unit j (and the rows mix E and I)
    W = np.asarray(eff.W_rec)
    assert ((W * signs[None, :]) >= 0).all()
    assert (W[:, signs > 0] > 0).any() and (W[:, signs < 0] < 0).any()
    # and the effective radius is the one asked for (a float64 check of float32
    # scaling: relative error a few N * eps * kappa, far below 1e-3 here)
    assert numpy_radius(W) == pytest.approx(cfg.spec_rad, rel=1e-3)


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_dale_balance_is_psychrnns_column_scaling(name):
    # Balanced W_rec = W @ diag(v_j / n_j): column j is scaled, with n_j the
    # norm of row j of mask @ diag(v). An independent float64 numpy reference;
    # float32 elementwise products and a float32 norm of N terms: relative error
    # a few N * eps = 12 * 1.19e-7 ~ 1.4e-6, so 1e-5 (scaled by the radius
    # for gaussian_spectral_radius, whose ratio is compared instead).
    rng = np.random.default_rng(1)
    mask = (rng.random((12, 12)) < 0.6).astype(np.float32)
    mask[:, 0] = 1  # no empty rows: PsychRNN's formula is finite
    W = rng.standard_normal((12, 12)).astype(np.float32)
    cfg = config(dale_ratio=0.75)
    init = INITIALIZERS[name]
    if name == "alpha_identity":
        got = init(KEY, cfg, rec_connectivity=mask).W_rec
        want = psychrnn_balance(0.9 * np.eye(12), mask, 0.75)
    else:
        got = init(KEY, cfg, rec_connectivity=mask, W_rec=W).W_rec
        want = W if name == "weight_initializer" else psychrnn_balance(W, mask, 0.75)
    got = np.asarray(got, np.float64)
    if name == "gaussian_spectral_radius":  # the same matrix up to the radius scale
        got, want = got / got[0, 0], want / want[0, 0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6 * np.abs(want).max())


def test_params_is_a_frozen_pytree():
    p = alpha_identity(KEY, config(dale_ratio=0.5))
    leaves, treedef = jax.tree.flatten(p)
    assert len(leaves) == 11
    doubled = jax.tree.map(lambda x: 2 * x, p)
    assert doubled.dale_ratio == 0.5 and isinstance(doubled, jaxinit.Params)
    np.testing.assert_array_equal(doubled.W_rec, 2 * p.W_rec)
    assert jax.tree.unflatten(treedef, leaves).transfer_function == "relu"
    with pytest.raises(AttributeError):
        p.W_rec = None
    assert "W_rec=float32[12, 12]" in repr(p)
    assert p.replace(b_rec=jnp.ones(12)).b_rec.tolist() == [1.0] * 12
    assert p.transfer(jnp.array([-2.0])).tolist() == [0.0]


def test_zero_effective_radius_is_an_error():
    cfg = Config(N_in=1, N_rec=1, N_out=1, autapses=False, spectral_radius_of="effective")
    with pytest.raises(ValueError, match=r"spectral radius of effective W_rec is 0.0"):
        gaussian_spectral_radius(KEY, cfg)
    lower = np.tril(np.ones((5, 5)), k=-1)  # nilpotent mask
    cfg = Config(N_in=1, N_rec=5, N_out=1, spectral_radius_of="effective")
    with pytest.raises(ValueError, match=r"spectral radius of effective W_rec is 0.0"):
        gaussian_spectral_radius(KEY, cfg, rec_connectivity=lower)
    with pytest.raises(ValueError, match=r"spectral radius of W_rec is 0.0"):
        gaussian_spectral_radius(KEY, cfg.replace(spectral_radius_of="raw"), W_rec=np.zeros((5, 5)))


def test_zero_radius_under_user_jit_fails_at_run_time():
    f = jax.jit(gaussian_spectral_radius, static_argnames="config")
    # raw mode, full mask, a zero W_rec: only the radius check fails
    cfg = Config(N_in=1, N_rec=5, N_out=1)
    with pytest.raises(Exception, match=r"spectral radius of W_rec is 0\.0"):
        jax.block_until_ready(f(KEY, config=cfg, W_rec=jnp.zeros((5, 5))))
    # raw mode, a strictly triangular mask: only the recurrence check fails
    upper = np.triu(np.ones((5, 5), np.float32), k=1)
    with pytest.raises(Exception, match=r"rec_connectivity is zero or strictly triangular"):
        jax.block_until_ready(f(KEY, config=cfg, rec_connectivity=upper))
    # effective mode, an empty 1 x 1 mask: both checks fail, and the compiled
    # run-time checks are unordered callbacks, so either message may come first
    cfg = Config(N_in=1, N_rec=1, N_out=1, autapses=False, spectral_radius_of="effective")
    with pytest.raises(
        Exception,
        match=r"spectral radius of effective W_rec is 0\.0|rec_connectivity is zero or strictly",
    ):
        jax.block_until_ready(f(KEY, config=cfg))


@pytest.mark.parametrize(
    ("given", "error", "needle"),
    [
        ({"W_in": np.ones((3, 12))}, ValueError, r"W_in must have shape \(12, 3\), got \(3, 12\)"),
        ({"W_rec": np.ones((12, 11))}, ValueError, r"W_rec must have shape \(12, 12\)"),
        ({"W_out": np.ones(12)}, ValueError, r"W_out must have shape \(2, 12\), got \(12,\)"),
        ({"b_rec": np.ones(11)}, ValueError, r"b_rec must have shape \(12,\), got \(11,\)"),
        ({"b_out": np.ones((2, 1))}, ValueError, r"b_out must have shape \(2,\)"),
        ({"init_state": np.ones((2, 12))}, ValueError, r"init_state must have shape \(12,\)"),
        ({"rec_connectivity": np.ones((3, 3))}, ValueError, "rec_connectivity must have shape"),
        ({"Dale_rec": np.ones(12)}, ValueError, r"Dale_rec must have shape \(12, 12\)"),
        ({"W_in": np.full((12, 3), np.nan)}, ValueError, "W_in must be finite, got nan"),
        ({"b_rec": np.full(12, np.inf)}, ValueError, "b_rec must be finite, got inf"),
        (
            {"rec_connectivity": np.full((12, 12), 0.5)},
            ValueError,
            r"rec_connectivity must hold only \(0, 1\), got 0.5",
        ),
        (
            {"input_connectivity": -np.ones((12, 3))},
            ValueError,
            r"input_connectivity must hold only \(0, 1\), got -1.0",
        ),
        (
            {"Dale_rec": np.ones((12, 12))},
            ValueError,
            "Dale_rec must be a diagonal matrix, got a non-zero off-diagonal entry 1.0",
        ),
        (
            {"Dale_rec": np.diag([2.0] * 12)},
            ValueError,
            r"Dale_rec diagonal must hold only \(-1, 1\), got 2.0",
        ),
        (
            {"Dale_out": np.diag([-1.0] * 12)},
            ValueError,
            r"Dale_out diagonal must hold only \(0, 1\), got -1.0",
        ),
        ({"W_recurrent": np.ones((12, 12))}, TypeError, "unknown array 'W_recurrent'"),
        ({"W_in": "weights"}, TypeError, "W_in must be an array of numbers, got 'weights'"),
        ({"W_in": np.ones((12, 3), complex)}, TypeError, "W_in must be real"),
    ],
)
def test_bad_given_arrays(given, error, needle):
    with pytest.raises(error, match=needle):
        alpha_identity(KEY, config(), **given)


def test_bad_keys_and_configs():
    cfg = config()
    with pytest.raises(
        TypeError, match=r"key must be a JAX PRNG key .* got 0; .*jax.random.key\(seed\)"
    ):
        gaussian_spectral_radius(0, cfg)
    with pytest.raises(ValueError, match=r"single key, got a batch of shape \(3,\)"):
        gaussian_spectral_radius(jax.random.split(KEY, 3), cfg)
    with pytest.raises(TypeError, match=r"dtype float32 and shape"):
        gaussian_spectral_radius(jnp.zeros(2), cfg)
    with pytest.raises(TypeError, match=r"config must be a jaxinit.Config, got dict"):
        gaussian_spectral_radius(KEY, {"N_rec": 3})
    with pytest.raises(ValueError, match=r"alpha_identity needs config.alpha"):
        alpha_identity(KEY, Config(N_in=1, N_rec=2, N_out=1))
    with pytest.raises(TypeError, match=r"alpha_identity builds W_rec from config.alpha"):
        alpha_identity(KEY, cfg, W_rec=np.eye(12))


def test_overflowing_alpha_identity_is_an_error():
    cfg = Config(N_in=1, N_rec=2, N_out=1, alpha=3e38, dale_ratio=0.5)
    mask = np.array([[1.0, 0.0], [0.0, 1.0]])
    # balance divides by row norms of 1: no overflow, still finite
    assert np.isfinite(np.asarray(alpha_identity(KEY, cfg, rec_connectivity=mask).W_rec)).all()
    with pytest.raises(ValueError, match=r"W_rec came out non-finite"):
        gaussian_spectral_radius(
            KEY,
            Config(N_in=1, N_rec=2, N_out=1, spec_rad=3e38),
            W_rec=np.array([[1.0, 10.0], [0.0, 0.5]]),
        )


@pytest.mark.parametrize("method", ["krylov", "auto"])
def test_spectral_method_on_config(method):
    cfg = Config(
        N_in=2,
        N_rec=520,
        N_out=1,
        dale_ratio=0.8,
        spectral_radius_of="effective",
        spec_rad=1.2,
        spectral_method=method,
    )
    p = gaussian_spectral_radius(KEY, cfg)
    W = effective(p).W_rec
    # scaled by a certified Krylov radius (residual <= 1e-5) of this matrix
    krylov_rtol = krylov_bound(W, 1e-5)
    assert numpy_radius(W) == pytest.approx(1.2, rel=krylov_rtol)
    exact = gaussian_spectral_radius(KEY, cfg.replace(spectral_method="eig"))
    # the same balanced matrix over two radii: within both bounds of each other
    rtol = krylov_rtol + eig_bound(effective(exact).W_rec)
    np.testing.assert_allclose(p.W_rec, exact.W_rec, rtol=rtol, atol=0)
    with pytest.raises(ValueError, match="spectral_method must be one of"):
        cfg.replace(spectral_method="power")


def test_no_dense_dale_matmul_on_the_initialization_path():
    # Dale signs are vectors: the only matrix products allowed are the
    # mask-by-vector balance product (N x N times N), never N x N times N x N.
    cfg = Config(
        N_in=2, N_rec=16, N_out=1, dale_ratio=0.8, autapses=False, spectral_radius_of="effective"
    )
    mask = np.ones((16, 16), np.float32)
    jaxpr = jax.make_jaxpr(lambda k: gaussian_spectral_radius(k, cfg, rec_connectivity=mask))(KEY)
    text = str(jaxpr)
    products = [line for line in text.splitlines() if "dot_general" in line]
    assert all("f32[16,16]" not in line.split("=")[0] for line in products), products
    eff = str(jax.make_jaxpr(effective)(gaussian_spectral_radius(KEY, cfg)))
    assert "dot_general" not in eff
