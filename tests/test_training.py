"""Training keeps the constraints: trainable(), zero_fixed(), keep_fixed().

The failure these guard against, reproduced first with real Equinox and optax:
an optimizer over every float leaf moves the masks and the Dale signs. With
jaxinit's filter spec or optimizer wrapper, masks, Dale signs and PsychRNN-style
fixed entries come out bit-identical after any number of steps (compared as
raw bits, so a weight stored as -0.0 must keep its sign), while the other
weights train.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit._src.names import ARRAY_FIELDS, FIXED_FIELDS, TRAINABLE_FIELDS
from tests.conftest import require_module

optax = require_module("optax", "flax")


def network(seed=0, n=6, dale_ratio=0.5, **config):
    cfg = jaxinit.Config(N_in=2, N_rec=n, N_out=1, dale_ratio=dale_ratio, autapses=False, **config)
    return jaxinit.gaussian_spectral_radius(jax.random.key(seed), cfg)


def bits(x):
    """The raw bits of a float array (signed zeros differ)."""
    x = np.asarray(x)
    return x.view(np.dtype(f"u{x.dtype.itemsize}"))


def same_bits(a, b):
    return np.array_equal(bits(a), bits(b))


def loss(params, inputs):
    """A real loss through the network's effective weights, touching every array."""
    eff = jaxinit.effective(params)
    state = params.init_state
    outs = []
    for x in inputs:
        state = jax.nn.relu(eff.W_rec @ state + eff.W_in @ x + params.b_rec)
        outs.append(eff.W_out @ state + params.b_out)
    return jnp.sum(jnp.stack(outs) ** 2) + jnp.sum(params.rec_connectivity * params.W_rec**2)


INPUTS = jnp.ones((4, 2))


def train(optimizer, params, steps):
    state = optimizer.init(params)

    @jax.jit
    def step(params, state):
        grads = jax.grad(loss)(params, INPUTS)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for _ in range(steps):
        params, state = step(params, state)
    return params


def test_fields_split_into_trainable_and_fixed():
    assert set(TRAINABLE_FIELDS) | set(FIXED_FIELDS) == set(ARRAY_FIELDS)
    assert not set(TRAINABLE_FIELDS) & set(FIXED_FIELDS)


def test_trainable_marks_every_params_in_any_pytree():
    params = network()
    tree = {"net": params, "nets": [params, params], "scale": jnp.ones(3), "count": 3,
            "ints": jnp.arange(3)}
    spec = jaxinit.trainable(tree)
    assert jax.tree.structure(spec) == jax.tree.structure(tree)
    for p in (spec["net"], *spec["nets"]):
        assert isinstance(p, jaxinit.Params)
        assert p.dale_ratio == params.dale_ratio
        for name in ARRAY_FIELDS:
            assert getattr(p, name) is (name in TRAINABLE_FIELDS), name
    assert spec["scale"] is True and spec["count"] is False and spec["ints"] is False
    # the input is left as it was
    assert isinstance(tree["net"].W_rec, jax.Array)


def test_plain_optax_moves_the_constraints_and_keep_fixed_does_not():
    params = network()
    plain = train(optax.adam(0.05), params, 5)
    assert not same_bits(plain.rec_connectivity, params.rec_connectivity)
    kept = train(jaxinit.keep_fixed(optax.adam(0.05)), params, 5)
    for name in FIXED_FIELDS:
        assert same_bits(getattr(kept, name), getattr(params, name)), name
    for name in TRAINABLE_FIELDS:
        assert not same_bits(getattr(kept, name), getattr(params, name)), name


def test_equinox_filter_spec_keeps_masks_and_dale_signs():
    eqx = require_module("equinox", "equinox")

    class Model(eqx.Module):
        net: jaxinit.Params
        gain: jax.Array

        def __call__(self, inputs):
            return self.gain * loss(self.net, inputs)

    model = Model(network(seed=3), jnp.asarray(1.5))
    optimizer = optax.adam(0.05)

    def run(filter_spec, steps=5):
        m = model
        state = optimizer.init(eqx.filter(m, filter_spec))
        for _ in range(steps):
            diff, static = eqx.partition(m, filter_spec)
            grads = jax.grad(lambda d, s: eqx.combine(d, s)(INPUTS))(diff, static)
            updates, state = optimizer.update(grads, state, diff)
            m = eqx.combine(eqx.apply_updates(diff, updates), static)
        return m

    naive = run(eqx.is_inexact_array)  # the usual Equinox recipe: masks move
    assert not same_bits(naive.net.rec_connectivity, model.net.rec_connectivity)
    assert not same_bits(naive.net.dale_rec_diag, model.net.dale_rec_diag)
    kept = run(jaxinit.trainable(model))
    for name in FIXED_FIELDS:
        assert same_bits(getattr(kept.net, name), getattr(model.net, name)), name
    assert not same_bits(kept.net.W_rec, model.net.W_rec)
    assert not same_bits(kept.gain, model.gain)  # other float leaves train


def pinned_with_negative_zeros(params, seed):
    """A 0/1 pin pattern for W_rec, and the network with -0.0 at some pinned entries."""
    n = params.N_rec
    pins = np.random.default_rng(seed).random((n, n)) < 0.4
    pins[0, 1] = pins[1, 0] = True
    w = np.asarray(params.W_rec).copy()
    w[0, 1] = w[1, 0] = -0.0
    return pins.astype(np.float32), params.replace(W_rec=jnp.asarray(w))


@pytest.mark.parametrize("make", [
    lambda: optax.adamw(0.05, weight_decay=0.5),       # decay moves every entry it sees
    lambda: optax.chain(optax.add_decayed_weights(0.3), optax.sgd(0.1, momentum=0.9)),
    lambda: optax.rmsprop(0.05),
])
def test_fixed_entries_stay_bit_identical_under_any_optimizer(make):
    pins, params = pinned_with_negative_zeros(network(seed=5), seed=1)
    fixed_in = np.zeros((params.N_rec, 2), np.float32)
    fixed_in[:, 0] = 1
    fixed = {"W_rec": pins, "W_in": fixed_in}
    before = {k: v.copy() for k, v in fixed.items()}
    kept = train(jaxinit.keep_fixed(make(), fixed=fixed), params, 7)
    grads = jax.grad(loss)(params, INPUTS)
    for name, pin in fixed.items():
        old, new = np.asarray(getattr(params, name)), np.asarray(getattr(kept, name))
        assert np.array_equal(bits(new)[pin == 1], bits(old)[pin == 1]), name
        # every free entry that the loss reaches trained (the masked-out
        # diagonal of W_rec has a zero gradient, so only decay would move it)
        free = (pin == 0) & (np.asarray(getattr(grads, name)) != 0)
        assert free.sum() >= pin.size // 3, name
        assert np.all(new[free] != old[free]), name
    assert bits(kept.W_rec)[0, 1] == bits(np.float32(-0.0))
    for name in FIXED_FIELDS:
        assert same_bits(getattr(kept, name), getattr(params, name)), name
    for name, value in fixed.items():  # the caller's arrays are not mutated
        assert np.array_equal(value, before[name])


def test_set_to_zero_alone_would_flip_negative_zeros():
    # Why keep_fixed writes -0.0 as the update of a fixed entry: +0.0 does not
    # leave a stored -0.0 unchanged.
    w = jnp.asarray([-0.0, 1.0], jnp.float32)
    assert not same_bits(optax.apply_updates(w, jnp.zeros(2)), w)
    assert same_bits(optax.apply_updates(w, jnp.full(2, -0.0)), w)


def test_keep_fixed_follows_psychrnn_gradient_masking_exactly_with_sgd():
    # PsychRNN: grad * (1 - fixed_weights), then the optimizer. With plain SGD
    # the step is w - lr * grad * (1 - fixed), entry by entry.
    params = network(seed=2)
    pins = (np.arange(params.N_rec**2).reshape(params.N_rec, -1) % 3 == 0).astype(np.float32)
    lr = 0.01
    grads = jax.grad(loss)(params, INPUTS)
    kept = train(jaxinit.keep_fixed(optax.sgd(lr), fixed={"W_rec": pins}), params, 1)
    expected = np.where(pins == 1, params.W_rec, params.W_rec - lr * grads.W_rec * (1 - pins))
    np.testing.assert_allclose(kept.W_rec, expected, rtol=0, atol=4 * np.finfo(np.float32).eps)
    assert same_bits(np.asarray(kept.W_rec)[pins == 1], np.asarray(params.W_rec)[pins == 1])


def test_zero_fixed_zeroes_exactly_the_fixed_parts():
    params = network(seed=4)
    grads = jax.grad(loss)(params, INPUTS)
    pins = np.zeros((params.N_rec, params.N_rec), np.int32)
    pins[:, -1] = 1
    zeroed = jaxinit.zero_fixed(grads, fixed={"W_rec": pins, "b_out": [1]})
    for name in FIXED_FIELDS:
        assert not np.any(np.asarray(getattr(zeroed, name))), name
    assert not np.any(np.asarray(zeroed.W_rec)[:, -1]) and not np.any(zeroed.b_out)
    np.testing.assert_array_equal(np.asarray(zeroed.W_rec)[:, :-1], np.asarray(grads.W_rec)[:, :-1])
    for name in ("W_in", "W_out", "b_rec", "init_state"):
        np.testing.assert_array_equal(getattr(zeroed, name), getattr(grads, name))
    # something to zero: the loss does reach the fixed arrays
    assert np.any(np.asarray(grads.rec_connectivity)) and np.any(np.asarray(grads.W_rec)[:, -1])


def test_an_ensemble_takes_one_pin_pattern_for_every_member():
    cfg = jaxinit.Config(N_in=2, N_rec=5, N_out=1, dale_ratio=0.6, autapses=False)
    nets = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, jax.random.key(1), 3, cfg)
    pins = np.eye(5, dtype=np.float32)
    opt = jaxinit.keep_fixed(optax.adam(0.1), fixed={"W_rec": pins})
    state = opt.init(nets)
    grads = jax.tree.map(jnp.ones_like, nets)
    updates, state = jax.jit(opt.update)(grads, state, nets)
    new = optax.apply_updates(nets, updates)
    diag = np.diagonal(np.asarray(new.W_rec), axis1=-2, axis2=-1)
    assert same_bits(diag, np.diagonal(np.asarray(nets.W_rec), axis1=-2, axis2=-1))
    off = ~np.eye(5, dtype=bool)
    assert np.all(np.asarray(new.W_rec)[:, off] != np.asarray(nets.W_rec)[:, off])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), steps=st.integers(1, 6), density=st.floats(0, 1))
def test_fixed_entries_never_move_property(seed, steps, density):
    params = network(seed=seed % 1000, n=4)
    pins = (np.random.default_rng(seed).random((4, 4)) < density).astype(np.float32)
    kept = train(jaxinit.keep_fixed(optax.adam(0.1), fixed={"W_rec": pins}), params, steps)
    assert np.array_equal(bits(kept.W_rec)[pins == 1], bits(params.W_rec)[pins == 1])
    for name in FIXED_FIELDS:
        assert same_bits(getattr(kept, name), getattr(params, name)), name


@pytest.mark.parametrize(("fixed", "error", "match"), [
    ([[1, 0]], TypeError, "fixed must be a mapping"),
    ({"W_recc": np.zeros((6, 6))}, ValueError, r"fixed\['W_recc'\]"),
    ({"rec_connectivity": np.zeros((6, 6))}, ValueError, "masks and Dale signs never train"),
    ({"W_rec": np.full((6, 6), 0.5)}, ValueError, r"only 0 and 1, found .*0\.5"),
    ({"W_rec": np.zeros((6, 5))}, ValueError, r"shape \(6, 5\).*\(6, 6\)"),
    ({"W_rec": np.array([["a"]])}, TypeError, "dtype <U1"),
])
def test_bad_fixed_is_refused_naming_it(fixed, error, match):
    params = network()
    with pytest.raises(error, match=match):
        jaxinit.keep_fixed(optax.sgd(0.1), fixed=fixed).init(params)
    with pytest.raises(error, match=match):
        jaxinit.zero_fixed(params, fixed=fixed)


def test_fixed_without_a_network_and_a_bad_optimizer_are_refused():
    with pytest.raises(ValueError, match=r"hold no jaxinit\.Params"):
        jaxinit.zero_fixed({"w": jnp.ones(3)}, fixed={"W_rec": np.eye(3)})
    with pytest.raises(TypeError, match=r"optax\.GradientTransformation"):
        jaxinit.keep_fixed(lambda g: g)
    with pytest.raises(TypeError, match="concrete array"):
        jax.jit(lambda f: jaxinit.zero_fixed(network(), fixed={"W_rec": f}))(jnp.eye(6))
