"""jaxinit.initializers and jaxinit.haiku with the real Flax (linen, nnx), Haiku and Equinox."""

from __future__ import annotations

import equinox as eqx
import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import jaxinit
import jaxinit.haiku as jhk
import jaxinit.initializers as ji

KEY = jax.random.key(0)
N = 12


def _mask(n_out, n_in, seed=0, p=0.6):
    return (np.random.default_rng(seed).random((n_out, n_in)) < p).astype(np.float32)


def _core(kind, n, *, spec_rad=1.1, alpha=None, mask_psy=None, key=KEY, **cfg):
    config = jaxinit.Config(N_in=1, N_rec=n, N_out=1, spec_rad=spec_rad, alpha=alpha, **cfg)
    given = {} if mask_psy is None else {"rec_connectivity": mask_psy}
    fn = jaxinit.gaussian_spectral_radius if kind == "gsr" else jaxinit.alpha_identity
    return fn(key, config, **given)


def _orient(W, layout):
    return np.asarray(W).T if layout == "flax" else np.asarray(W)


# ---------------------------------------------------------------------------
# The kernels equal jaxinit's own arrays, in the documented layout


@pytest.mark.parametrize("layout", ["flax", "psychrnn"])
@pytest.mark.parametrize("weights", ["effective", "raw"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dale_ratio": 0.75},
        {"dale_ratio": 0.75, "autapses": False, "mask": True},
        {"mask": True, "spectral_radius_of": "raw"},
    ],
)
def test_gaussian_spectral_radius_is_jaxinit_w_rec(layout, weights, options):
    options = dict(options)
    mask_psy = _mask(N, N) if options.pop("mask", False) else None
    sro = options.pop("spectral_radius_of", "effective")
    init = ji.gaussian_spectral_radius(
        1.3,
        connectivity=None if mask_psy is None else _orient(mask_psy, layout),
        spectral_radius_of=sro,
        weights=weights,
        layout=layout,
        **options,
    )
    kernel = init(KEY, (N, N))
    params = _core("gsr", N, spec_rad=1.3, mask_psy=mask_psy, spectral_radius_of=sro, **options)
    expected = jaxinit.effective(params).W_rec if weights == "effective" else params.W_rec
    np.testing.assert_array_equal(kernel, _orient(expected, layout))
    assert kernel.dtype == jnp.float32 and kernel.shape == (N, N)
    if weights == "effective" and sro == "effective":
        assert float(jaxinit.spectral_radius(kernel)) == pytest.approx(1.3, rel=1e-5)


def test_dale_signs_rows_in_flax_columns_in_psychrnn():
    mask = _mask(N, N, seed=3)
    flax_k = ji.gaussian_spectral_radius(dale_ratio=0.75, connectivity=mask.T)(KEY, (N, N))
    psy_k = ji.gaussian_spectral_radius(dale_ratio=0.75, connectivity=mask, layout="psychrnn")(
        KEY, (N, N)
    )
    np.testing.assert_array_equal(flax_k, psy_k.T)  # same network, transposed
    n_exc = 9  # int(0.75 * 12)
    flax_k, psy_k = np.asarray(flax_k), np.asarray(psy_k)
    # Flax (in, out): row j holds the outgoing weights of presynaptic unit j.
    assert (flax_k[:n_exc] >= 0).all() and (flax_k[n_exc:] <= 0).all()
    assert (flax_k[:n_exc] > 0).any() and (flax_k[n_exc:] < 0).any()
    # PsychRNN (out, in): column j.
    assert (psy_k[:, :n_exc] >= 0).all() and (psy_k[:, n_exc:] <= 0).all()
    # masked entries are zero, in each layout's own orientation
    assert (psy_k[mask == 0] == 0).all() and (flax_k[mask.T == 0] == 0).all()
    # h @ kernel (Flax) == W_rec_eff @ h (PsychRNN)
    h = np.random.default_rng(1).normal(size=(3, N)).astype(np.float32)
    np.testing.assert_allclose(h @ flax_k, (psy_k @ h.T).T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layout", ["flax", "psychrnn"])
def test_alpha_identity_is_jaxinit_w_rec(layout):
    init = ji.alpha_identity(0.9, dale_ratio=0.5, layout=layout)
    kernel = init(KEY, (N, N))
    expected = jaxinit.effective(_core("alpha", N, alpha=0.9, dale_ratio=0.5)).W_rec
    np.testing.assert_array_equal(kernel, _orient(expected, layout))
    assert (np.diag(kernel)[:6] > 0).all() and (np.diag(kernel)[6:] < 0).all()
    raw = ji.alpha_identity(0.9, weights="raw")(KEY, (N, N))
    np.testing.assert_array_equal(raw, 0.9 * np.eye(N, dtype=np.float32))


SCHEMES = {
    "const_unif": (lambda **kw: ji.const_unif(-0.2, 0.3, **kw), {"minval": -0.2, "maxval": 0.3}),
    "const_gauss": (ji.const_gauss, {}),
    "glorot_unif": (ji.glorot_unif, {}),
    "glorot_gauss": (ji.glorot_gauss, {}),
}


@pytest.mark.parametrize("name", sorted(SCHEMES))
@pytest.mark.parametrize("layout", ["flax", "psychrnn"])
def test_schemes_are_jaxinit_schemes(name, layout):
    build, extra = SCHEMES[name]
    mask_psy = _mask(7, 4, seed=5)  # (out, in) = (N_rec, N_in)
    shape = (4, 7) if layout == "flax" else (7, 4)
    raw = build(connectivity=_orient(mask_psy, layout), weights="raw", layout=layout)(KEY, shape)
    expected = jaxinit.SCHEMES[name](KEY, mask_psy, **extra)
    np.testing.assert_array_equal(raw, _orient(expected, layout))
    eff = build(connectivity=_orient(mask_psy, layout), layout=layout)(KEY, shape)
    np.testing.assert_array_equal(eff, _orient(np.asarray(expected) * mask_psy, layout))


def test_scheme_roles_apply_dale_like_effective():
    cfg = jaxinit.Config(N_in=3, N_rec=8, N_out=2, dale_ratio=0.75, which_rand_init="const_gauss")
    m_in, m_rec, m_out = _mask(8, 3, 1), _mask(8, 8, 2), _mask(2, 8, 3)
    k_in, k_rec, k_out = jax.random.split(KEY, 3)
    kw = dict(dale_ratio=0.75)
    W_in = ji.const_gauss(connectivity=m_in.T, role="input", **kw)(k_in, (3, 8))
    W_rec = ji.const_gauss(connectivity=m_rec.T, role="recurrent", **kw)(k_rec, (8, 8))
    W_out = ji.const_gauss(connectivity=m_out.T, role="output", **kw)(k_out, (8, 2))
    params = jaxinit.weight_initializer(
        KEY,
        cfg,
        W_in=jaxinit.schemes.const_gauss(k_in, m_in),
        W_rec=jaxinit.schemes.const_gauss(k_rec, m_rec),
        W_out=jaxinit.schemes.const_gauss(k_out, m_out),
        input_connectivity=m_in,
        rec_connectivity=m_rec,
        output_connectivity=m_out,
    )
    eff = jaxinit.effective(params)
    np.testing.assert_array_equal(W_in, eff.W_in.T)
    np.testing.assert_array_equal(W_rec, eff.W_rec.T)
    np.testing.assert_array_equal(W_out, eff.W_out.T)
    assert (np.asarray(W_in) >= 0).all() and (np.asarray(W_out)[6:] == 0).all()


def test_autapses_false_zeroes_diagonal_and_sets_fan():
    k = ji.glorot_gauss(role="recurrent", autapses=False)(KEY, (5, 5))
    assert (np.diag(k) == 0).all()
    mask = 1 - np.eye(5, dtype=np.float32)
    np.testing.assert_array_equal(k, (jaxinit.schemes.glorot_gauss(KEY, mask) * mask).T)


def test_from_params_gives_each_array():
    cfg = jaxinit.Config(N_in=3, N_rec=8, N_out=2, dale_ratio=0.75)
    params = jaxinit.gaussian_spectral_radius(KEY, cfg)
    eff = jaxinit.effective(params)
    np.testing.assert_array_equal(ji.from_params(params, "W_in")(None, (3, 8)), eff.W_in.T)
    np.testing.assert_array_equal(
        ji.from_params(params, "W_rec", weights="raw", layout="psychrnn")(KEY, (8, 8)),
        params.W_rec,
    )
    np.testing.assert_array_equal(
        ji.from_params(params, "output_connectivity")(None, (8, 2)), params.output_connectivity.T
    )
    with pytest.raises(ValueError, match=r"shape \(2, 8\) does not match W_out"):
        ji.from_params(params, "W_out")(None, (2, 8))
    with pytest.raises(ValueError, match=r"name must be one of .* got 'b_rec'"):
        ji.from_params(params, "b_rec")
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params, got dict"):
        ji.from_params({}, "W_in")
    batch = jax.tree.map(lambda a: jnp.stack([a, a]), params)
    with pytest.raises(ValueError, match=r"single network, got an ensemble of shape \(2,\)"):
        ji.from_params(batch, "W_rec")


# ---------------------------------------------------------------------------
# dtype, determinism, jit, vmap, sharding


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float32])
def test_dtypes(dtype):
    init = ji.gaussian_spectral_radius(dale_ratio=0.5)
    k = init(KEY, (N, N), dtype)
    assert k.dtype == dtype
    np.testing.assert_array_equal(k, init(KEY, (N, N)).astype(dtype))
    assert ji.glorot_unif()(KEY, [3, 4], dtype).dtype == dtype  # Haiku passes lists


def test_float64_needs_x64():
    with pytest.raises(ValueError, match="dtype float64 needs 64-bit JAX"):
        ji.glorot_gauss()(KEY, (3, 3), jnp.float64)
    with jax.enable_x64(True):
        k = ji.gaussian_spectral_radius(0.9)(KEY, (N, N), jnp.float64)
        assert k.dtype == jnp.float64
        assert float(jaxinit.spectral_radius(k)) == pytest.approx(0.9, rel=1e-12)


def test_determinism_jit_and_vmap():
    init = ji.gaussian_spectral_radius(1.2, dale_ratio=0.8, autapses=False)
    a, b = init(KEY, (N, N)), init(KEY, (N, N))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init(jax.random.key(1), (N, N)))
    jitted = jax.jit(init, static_argnums=(1, 2))
    np.testing.assert_allclose(jitted(KEY, (N, N), jnp.float32), a, rtol=1e-6, atol=1e-7)
    keys = jax.random.split(KEY, 2)
    batch = jax.vmap(init, in_axes=(0, None))(keys, (N, N))
    assert batch.shape == (2, N, N)
    for i in range(2):
        np.testing.assert_allclose(batch[i], init(keys[i], (N, N)), rtol=1e-6, atol=1e-7)
    raw_key = jax.random.PRNGKey(0)  # old-style uint32 keys work too
    assert ji.glorot_gauss()(raw_key, (2, 2)).shape == (2, 2)


def test_out_sharding():
    mesh = jax.make_mesh((1,), ("x",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    k = ji.const_gauss()(KEY, (4, 4), jnp.float32, out_sharding=sharding)
    assert k.sharding.is_equivalent_to(sharding, 2)


# ---------------------------------------------------------------------------
# Flax linen


def test_linen_simple_cell_and_rnn():
    rec = ji.gaussian_spectral_radius(1.1, dale_ratio=0.75, autapses=False)
    seen = []

    def spy(key, shape, dtype=jnp.float32):
        seen.append((key, tuple(shape), dtype))
        return rec(key, shape, dtype)

    cell = nn.SimpleCell(
        features=N,
        recurrent_kernel_init=spy,
        kernel_init=ji.glorot_gauss(role="input", dale_ratio=0.75),
        activation_fn=nn.relu,
    )
    x = jnp.ones((2, 5, 3))
    variables = nn.RNN(cell).init(jax.random.key(1), x)
    kernel = variables["params"]["cell"]["h"]["kernel"]
    (key, shape, dtype), *_ = seen
    assert shape == (N, N) and dtype == jnp.float32
    np.testing.assert_array_equal(kernel, rec(key, shape, dtype))
    assert float(jaxinit.spectral_radius(kernel)) == pytest.approx(1.1, rel=1e-5)
    assert (np.diag(kernel) == 0).all()
    assert (variables["params"]["cell"]["i"]["kernel"] >= 0).all()
    # One step of the cell is PsychRNN's W_rec_eff @ h with W_rec_eff = kernel.T.
    h = jax.random.normal(jax.random.key(2), (2, N))
    xt = jax.random.normal(jax.random.key(3), (2, 3))
    new_h, _ = cell.apply({"params": variables["params"]["cell"]}, h, xt)
    p = variables["params"]["cell"]
    manual = jax.nn.relu(
        (p["i"]["kernel"].T @ xt.T).T + p["i"]["bias"][None, :] + (kernel.T @ h.T).T
    )
    np.testing.assert_allclose(new_h, manual, rtol=1e-5, atol=1e-6)
    assert nn.RNN(cell).apply(variables, x).shape == (2, 5, N)


def test_linen_lstm_and_dense():
    init = ji.gaussian_spectral_radius(0.9)
    cell = nn.OptimizedLSTMCell(features=N, recurrent_kernel_init=init)
    x = jnp.ones((1, 2))
    variables = cell.init(KEY, cell.initialize_carry(KEY, x.shape), x)
    for gate in ("hi", "hf", "hg", "ho"):
        k = variables["params"][gate]["kernel"]
        assert float(jaxinit.spectral_radius(k)) == pytest.approx(0.9, rel=1e-5)
    dense = nn.Dense(3, kernel_init=ji.glorot_gauss(dale_ratio=0.5, role="output"))
    w = dense.init(KEY, jnp.ones((1, 6)))["params"]["kernel"]
    assert w.shape == (6, 3) and (w[3:] == 0).all() and (w[:3] >= 0).all()


# ---------------------------------------------------------------------------
# Flax nnx


def test_nnx_linear():
    mask = _mask(N, N, seed=7)
    init = ji.gaussian_spectral_radius(1.1, dale_ratio=0.75, connectivity=mask)
    layer = nnx.Linear(N, N, kernel_init=init, use_bias=False, rngs=nnx.Rngs(0))
    k = layer.kernel[...]
    assert float(jaxinit.spectral_radius(k)) == pytest.approx(1.1, rel=1e-5)
    assert (k[mask == 0] == 0).all() and (k[:9] >= 0).all() and (k[9:] <= 0).all()
    h = jnp.arange(N, dtype=jnp.float32)[None, :] / N
    np.testing.assert_allclose(layer(h), (k.T @ h.T).T, rtol=1e-5, atol=1e-6)
    layer2 = nnx.Linear(N, N, kernel_init=init, use_bias=False, rngs=nnx.Rngs(0))
    np.testing.assert_array_equal(layer2.kernel[...], k)  # deterministic per seed


def test_params_inside_nnx_module_split_merge():
    class Holder(nnx.Module):
        def __init__(self, params):
            self.params = nnx.data(params)

    params = _core("gsr", N, dale_ratio=0.75, spectral_radius_of="effective")
    graphdef, state = nnx.split(Holder(params))
    back = nnx.merge(graphdef, state).params
    assert isinstance(back, jaxinit.Params)
    assert back.dale_ratio == 0.75 and back.transfer_function == "relu"
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(getattr(back, name), value)


# ---------------------------------------------------------------------------
# Haiku


def test_haiku_linear_w_init():
    mask = _mask(N, N, seed=8)

    def f(h):
        w_init = jhk.gaussian_spectral_radius(1.1, dale_ratio=0.75, connectivity=mask)
        return hk.Linear(N, with_bias=False, w_init=w_init)(h)

    model = hk.transform(f)
    h = jnp.ones((2, N))
    params = model.init(jax.random.key(4), h)
    w = params["linear"]["w"]
    assert float(jaxinit.spectral_radius(w)) == pytest.approx(1.1, rel=1e-5)
    assert (w[mask == 0] == 0).all() and (w[:9] >= 0).all() and (w[9:] <= 0).all()
    np.testing.assert_array_equal(model.init(jax.random.key(4), h)["linear"]["w"], w)
    assert not np.array_equal(model.init(jax.random.key(5), h)["linear"]["w"], w)
    jitted = jax.jit(model.init)(jax.random.key(4), h)["linear"]["w"]
    np.testing.assert_allclose(jitted, w, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.apply(params, None, h), h @ w, rtol=1e-6)


def test_haiku_key_is_next_rng_key():
    init = jhk.glorot_gauss(role="input", dale_ratio=0.5)

    def f():
        return hk.next_rng_key(), init((3, 5), jnp.float32)

    def two_keys():
        return hk.next_rng_key(), hk.next_rng_key()

    _, sample = hk.transform(f).apply({}, jax.random.key(6))
    _, second = hk.transform(two_keys).apply({}, jax.random.key(6))
    # The Haiku initializer is the jaxinit one called with hk.next_rng_key().
    np.testing.assert_array_equal(sample, init.initializer(second, (3, 5), jnp.float32))
    assert (sample >= 0).all()
    assert isinstance(init, jhk.HaikuInitializer)
    assert isinstance(init.initializer, ji.KernelInitializer)


def test_haiku_vanilla_rnn_with_creator():
    rec = jhk.gaussian_spectral_radius(1.05, dale_ratio=0.75)

    def f(x, h):
        with hk.custom_creator(jhk.creator({"*/linear_1/w": rec})):
            return hk.VanillaRNN(N)(x, h)

    model = hk.transform(f)
    x, h = jnp.ones((2, 3)), jnp.zeros((2, N))
    params = model.init(jax.random.key(7), x, h)
    w = params["vanilla_rnn/linear_1"]["w"]
    assert float(jaxinit.spectral_radius(w)) == pytest.approx(1.05, rel=1e-5)
    assert (w[:9] >= 0).all() and (w[9:] <= 0).all()
    # the input weights kept Haiku's own initializer
    assert (params["vanilla_rnn/linear"]["w"] < 0).any()
    out, _ = model.apply(params, None, x, h)
    assert out.shape == (2, N)


def test_haiku_from_params_needs_no_key():
    params = _core("gsr", N, dale_ratio=0.75, spectral_radius_of="effective")
    init = jhk.from_params(params, "W_rec")

    def f():
        return hk.get_parameter("w", (N, N), init=init)

    w = hk.transform(f).init(None)["~"]["w"]
    np.testing.assert_array_equal(w, jaxinit.effective(params).W_rec.T)


def test_haiku_errors():
    with pytest.raises(TypeError, match="initializer must be a callable"):
        jhk.wrap(3)
    with pytest.raises(TypeError, match="initializers must be a dict"):
        jhk.creator([("*", jhk.const_gauss())])
    with pytest.raises(TypeError, match=r"the initializer for '\*' must be callable"):
        jhk.creator({"*": 1})
    with pytest.raises(ValueError, match=r"spec_rad must be positive, got -1\.0"):
        jhk.gaussian_spectral_radius(-1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'spec'"):
        jhk.gaussian_spectral_radius(spec=1.0)


# ---------------------------------------------------------------------------
# Equinox


def test_params_in_equinox_module_and_psychrnn_layout_linear():
    class Net(eqx.Module):
        params: jaxinit.Params
        rec: eqx.nn.Linear

    params = _core("gsr", N, dale_ratio=0.75, spectral_radius_of="effective")
    rec = eqx.nn.Linear(N, N, use_bias=False, key=jax.random.key(8))
    kernel = ji.gaussian_spectral_radius(1.1, dale_ratio=0.75, layout="psychrnn")(KEY, (N, N))
    net = Net(params, eqx.tree_at(lambda lin: lin.weight, rec, kernel))
    np.testing.assert_array_equal(net.rec.weight, jaxinit.effective(params).W_rec)

    @eqx.filter_jit
    def run(net, h):
        return net.rec(h), net.params, jaxinit.effective(net.params).W_rec @ h

    h = jnp.linspace(-1.0, 1.0, N)
    out, back, manual = run(net, h)
    np.testing.assert_allclose(out, manual, rtol=1e-5, atol=1e-6)
    assert isinstance(back, jaxinit.Params) and back.dale_ratio == 0.75
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(getattr(back, name), value)
    doubled = jax.tree.map(lambda a: 2 * a if eqx.is_array(a) else a, net)
    np.testing.assert_array_equal(doubled.params.W_rec, 2 * params.W_rec)
    assert doubled.params.transfer_function == "relu"


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: ji.gaussian_spectral_radius(0.0), ValueError, "spec_rad must be positive"),
        (lambda: ji.gaussian_spectral_radius("1"), TypeError, "spec_rad must be a real number"),
        (lambda: ji.gaussian_spectral_radius(dale_ratio=1.5), ValueError, "dale_ratio must be in"),
        (lambda: ji.gaussian_spectral_radius(layout="keras"), ValueError, "layout must be one of"),
        (lambda: ji.gaussian_spectral_radius(weights="x"), ValueError, "weights must be one of"),
        (
            lambda: ji.gaussian_spectral_radius(spectral_radius_of="both"),
            ValueError,
            "spectral_radius_of must be one of",
        ),
        (lambda: ji.gaussian_spectral_radius(autapses=1), TypeError, "autapses must be True"),
        (
            lambda: ji.gaussian_spectral_radius(connectivity=np.ones((2, 3))),
            ValueError,
            r"must be square, got shape \(2, 3\)",
        ),
        (
            lambda: ji.gaussian_spectral_radius(connectivity=np.full((2, 2), 0.5)),
            ValueError,
            r"connectivity must hold only \(0, 1\), got 0.5",
        ),
        (
            lambda: ji.glorot_gauss(connectivity=np.ones(3)),
            ValueError,
            r"connectivity must be a 2-D mask",
        ),
        (lambda: ji.glorot_gauss(connectivity="ones"), TypeError, "connectivity must be an array"),
        (lambda: ji.alpha_identity(None), ValueError, "alpha must be a finite number"),
        (lambda: ji.alpha_identity(float("nan")), ValueError, "alpha must be finite"),
        (
            lambda: ji.const_unif(0.2, 0.1),
            ValueError,
            r"minval must not exceed maxval, got minval=0\.2 > maxval=0\.1",
        ),
        (lambda: ji.const_unif(maxval=float("inf")), ValueError, "maxval must be finite"),
        (lambda: ji.const_unif(minval=None), TypeError, "minval must be a real number"),
        (lambda: ji.const_gauss(dale_ratio=0.5), ValueError, "role must be one of"),
        (lambda: ji.const_gauss(role="hidden"), ValueError, "role must be one of"),
        (lambda: ji.const_gauss(autapses=False), ValueError, "autapses=False applies to"),
    ],
)
def test_builder_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda i: i(KEY, (3, 4)), ValueError, r"recurrent kernel must be square, got shape"),
        (lambda i: i(KEY, (3, 3, 3)), ValueError, "shape must have two dimensions"),
        (lambda i: i(KEY, 3), TypeError, "shape must be a pair of positive integers, got 3"),
        (lambda i: i(KEY, (3.0, 3)), TypeError, "shape must be a pair of positive integers"),
        (lambda i: i(KEY, (0, 0)), ValueError, "shape must be a pair of positive integers"),
        (lambda i: i(KEY, (3, 3), jnp.int32), TypeError, "dtype must be a floating dtype"),
        (lambda i: i(KEY, (3, 3), "nope"), TypeError, "dtype must be a floating dtype"),
        (lambda i: i(0, (3, 3)), TypeError, "key must be a JAX PRNG key"),
        (lambda i: i(jax.random.split(KEY), (3, 3)), ValueError, "key must be a single key"),
    ],
)
def test_call_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(ji.gaussian_spectral_radius())


def test_mask_shape_mismatch_and_nilpotent():
    init = ji.glorot_gauss(connectivity=np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(4, 3\) does not match the connectivity mask"):
        init(KEY, (4, 3))
    assert init(KEY, (3, 4)).shape == (3, 4)
    with pytest.raises(ValueError, match="does not match the connectivity mask"):
        ji.gaussian_spectral_radius(connectivity=np.ones((3, 3)))(KEY, (N, N))
    with pytest.raises(ValueError, match="spectral radius of effective W_rec is 0"):
        ji.gaussian_spectral_radius(connectivity=np.triu(np.ones((N, N)), 1))(KEY, (N, N))


def test_repr_and_options():
    mask = np.ones((3, 4))
    init = ji.glorot_gauss(connectivity=mask)
    assert repr(init).startswith("jaxinit.initializers.glorot_gauss(connectivity=<mask 3x4>")
    np.testing.assert_array_equal(init.options["connectivity"], mask)
    init = ji.gaussian_spectral_radius(1.2, connectivity=np.ones((3, 3)))
    assert repr(init).startswith("jaxinit.initializers.gaussian_spectral_radius(spec_rad=1.2")
    assert init.options["layout"] == "flax" and init.name == "gaussian_spectral_radius"
    assert "jaxinit.haiku.wrap(jaxinit.initializers.glorot_gauss(" in repr(jhk.glorot_gauss())


def test_importing_initializers_does_not_import_flax_or_haiku():
    import subprocess
    import sys

    code = (
        "import sys, jaxinit.initializers; "
        "print(any(m.split('.')[0] in ('flax', 'haiku') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
