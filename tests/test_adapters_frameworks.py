"""jaxinit.initializers and jaxinit.haiku inside the real Flax (linen, nnx), Haiku and Equinox."""

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
from tests.adapter_support import KEY, N, core_network, random_mask

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
    mask = random_mask(N, N, seed=7)
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

    params = core_network("gsr", N, dale_ratio=0.75, spectral_radius_of="effective")
    graphdef, state = nnx.split(Holder(params))
    back = nnx.merge(graphdef, state).params
    assert isinstance(back, jaxinit.Params)
    assert back.dale_ratio == 0.75 and back.transfer_function == "relu"
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(getattr(back, name), value)


# ---------------------------------------------------------------------------
# Haiku


def test_haiku_linear_w_init():
    mask = random_mask(N, N, seed=8)

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
        with jhk.creator({"*/linear_1/w": rec}):
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


def _vanilla(patterns, *, use_context=True):
    """A transformed VanillaRNN whose initializers are set by ``patterns``."""
    holder = {}

    def f(x, h):
        holder["creator"] = made = jhk.creator(patterns)
        if use_context:
            with made:
                return hk.VanillaRNN(N)(x, h)
        with hk.custom_creator(made):
            return hk.VanillaRNN(N)(x, h)

    return hk.transform(f), holder


def test_haiku_creator_unmatched_pattern_is_an_error():
    x, h = jnp.ones((2, 3)), jnp.zeros((2, N))
    rec = jhk.alpha_identity(0.5)
    model, _ = _vanilla({"*/linear_1/w": rec, "*/linaer_1/b": jhk.const_gauss()})
    unmatched = r"patterns \['\*/linaer_1/b'\] matched no parameter"
    with pytest.raises(ValueError, match=unmatched) as err:
        model.init(KEY, x, h)
    assert "vanilla_rnn/linear_1/w" in str(err.value)  # the names that were created
    # a pattern that only matches parameters an earlier pattern took chose nothing
    model, _ = _vanilla({"*/w": jhk.glorot_gauss(), "*/linear_1/w": rec})
    with pytest.raises(ValueError, match=r"\['\*/linear_1/w'\] matched no parameter"):
        model.init(KEY, x, h)


def test_haiku_creator_checks_only_when_parameters_are_created():
    x, h = jnp.ones((2, 3)), jnp.zeros((2, N))
    good, holder = _vanilla({"*/linear_1/w": jhk.alpha_identity(0.5)})
    params = good.init(KEY, x, h)
    made = holder["creator"]
    assert made.unmatched == () and set(made.created) == {
        "vanilla_rnn/linear/w",
        "vanilla_rnn/linear/b",
        "vanilla_rnn/linear_1/w",
        "vanilla_rnn/linear_1/b",
    }
    np.testing.assert_array_equal(params["vanilla_rnn/linear_1"]["w"], 0.5 * np.eye(N))
    # apply creates no parameter (Haiku calls no creator), so a bad pattern is not seen there
    bad, holder = _vanilla({"nothing/*": jhk.const_gauss()})
    out, _ = bad.apply(params, None, x, h)
    assert out.shape == (2, N) and holder["creator"].created == ()
    # handed to hk.custom_creator directly, the creator checks only when asked
    plain, holder = _vanilla({"nothing/*": jhk.const_gauss()}, use_context=False)
    plain.init(KEY, x, h)
    assert holder["creator"].unmatched == ("nothing/*",)
    with pytest.raises(ValueError, match=r"\['nothing/\*'\] matched no parameter"):
        holder["creator"].check()
    assert repr(holder["creator"]) == "jaxinit.haiku.creator(patterns=['nothing/*'])"


def test_haiku_creator_does_not_hide_an_error_of_the_block():
    def f(x):
        with jhk.creator({"nothing/*": jhk.const_gauss()}):
            raise KeyError("from the block")

    with pytest.raises(KeyError, match="from the block"):
        hk.transform(f).init(KEY, jnp.ones((1, 2)))


def test_haiku_creator_is_not_reentrant():
    made = jhk.creator({"*": jhk.const_gauss()})

    def f(x):
        with made, made:
            return hk.Linear(2)(x)

    with pytest.raises(RuntimeError, match="already active"):
        hk.transform(f).init(KEY, jnp.ones((1, 2)))


def test_haiku_from_params_needs_no_key():
    params = core_network("gsr", N, dale_ratio=0.75, spectral_radius_of="effective")
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
    with pytest.raises(ValueError, match="at least one name pattern"):
        jhk.creator({})
    with pytest.raises(TypeError, match="initializer patterns must be strings, got 3"):
        jhk.creator({3: jhk.const_gauss()})
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

    params = core_network("gsr", N, dale_ratio=0.75, spectral_radius_of="effective")
    rec = eqx.nn.Linear(N, N, use_bias=False, key=jax.random.key(8))
    kernel = ji.gaussian_spectral_radius(1.1, dale_ratio=0.75, layout="out_in")(KEY, (N, N))
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
