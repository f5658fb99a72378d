"""jaxinit.nnx.BasicRNN: PsychRNN's Basic model as a Flax nnx module, on real Flax and optax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxinit
from jaxinit.nnx import FIXED, TRAINABLE, BasicRNN, Fixed

N_IN, N_REC, N_OUT = 2, 16, 2


def _net(dale_ratio=0.75, transfer_function="relu", seed=0):
    rng = np.random.default_rng(seed)
    mask = (rng.random((N_REC, N_REC)) < 0.6).astype(np.float32)
    cfg = jaxinit.Config(
        N_in=N_IN,
        N_rec=N_REC,
        N_out=N_OUT,
        dale_ratio=dale_ratio,
        autapses=False,
        transfer_function=transfer_function,
        spectral_radius_of="effective",
    )
    return jaxinit.gaussian_spectral_radius(
        jax.random.key(seed),
        cfg,
        rec_connectivity=mask,
        input_connectivity=(rng.random((N_REC, N_IN)) < 0.7).astype(np.float32),
        b_rec=rng.normal(size=N_REC).astype(np.float32) * 0.1,
        b_out=rng.normal(size=N_OUT).astype(np.float32) * 0.1,
    )


def _numpy_basic(params, x, alpha, f):
    """PsychRNN's Basic model in plain numpy (float64), noise off."""
    p = {k: np.asarray(v, np.float64) for k, v in params.arrays().items()}
    if params.dale_ratio is not None:
        W_in = np.abs(p["W_in"]) * p["input_connectivity"]
        W_rec = np.abs(p["W_rec"]) * p["rec_connectivity"] @ np.diag(p["dale_rec_diag"])
        W_out = np.abs(p["W_out"]) * p["output_connectivity"] @ np.diag(p["dale_out_diag"])
    else:
        W_in = p["W_in"] * p["input_connectivity"]
        W_rec = p["W_rec"] * p["rec_connectivity"]
        W_out = p["W_out"] * p["output_connectivity"]
    x = np.asarray(x, np.float64)
    s = np.tile(p["init_state"], (x.shape[0], 1))
    outputs, states = [], []
    for t in range(x.shape[1]):
        s = (1 - alpha) * s + alpha * (f(s) @ W_rec.T + x[:, t] @ W_in.T + p["b_rec"])
        outputs.append(f(s) @ W_out.T + p["b_out"])
        states.append(s)
    return np.stack(outputs, 1), np.stack(states, 1)


NUMPY_F = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}


@pytest.mark.parametrize(("dale_ratio", "transfer"), [(0.75, "relu"), (None, "tanh")])
def test_matches_numpy_update_rule(dale_ratio, transfer):
    params = _net(dale_ratio, transfer)
    model = BasicRNN(params, dt=10.0, tau=50.0)
    x = np.random.default_rng(1).normal(size=(3, 7, N_IN)).astype(np.float32)
    outputs, states = model(x)
    ref_out, ref_states = _numpy_basic(params, x, 0.2, NUMPY_F[transfer])
    assert outputs.shape == (3, 7, N_OUT) and states.shape == (3, 7, N_REC)
    np.testing.assert_allclose(states, ref_states, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs, ref_out, rtol=1e-5, atol=1e-6)
    jitted = nnx.jit(lambda m, x: m(x))(model, x)
    np.testing.assert_allclose(jitted[0], outputs, rtol=1e-5, atol=1e-6)


def test_variables_trainable_and_fixed():
    params = _net()
    model = BasicRNN(params)
    assert set(nnx.state(model, nnx.Param).keys()) == set(TRAINABLE)
    assert set(nnx.state(model, Fixed).keys()) == set(FIXED)
    assert model.dale_ratio == 0.75 and model.transfer_function == "relu"
    assert model.alpha == pytest.approx(0.1)
    # nnx.grad differentiates the nnx.Param variables only
    grads = nnx.grad(lambda m: jnp.sum(m(jnp.ones((1, 3, N_IN)))[0]))(model)
    assert set(grads.keys()) <= set(TRAINABLE)
    assert jnp.abs(grads["W_rec"][...]).sum() > 0


def test_params_round_trip_split_merge_and_tree():
    params = _net()
    model = BasicRNN(params, dt=5.0, tau=100.0)
    back = model.params
    assert isinstance(back, jaxinit.Params) and back.dale_ratio == params.dale_ratio
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(getattr(back, name), value)
    graphdef, trainable, fixed = nnx.split(model, nnx.Param, Fixed)
    merged = nnx.merge(graphdef, trainable, fixed)
    assert merged.dt == 5.0
    for name, value in params.arrays().items():
        np.testing.assert_array_equal(getattr(merged.params, name), value)
    # Params itself is a pytree: jax.tree and jit see through it
    leaves, treedef = jax.tree.flatten(back)
    assert len(leaves) == 11
    rebuilt = jax.tree.unflatten(treedef, leaves)
    assert rebuilt.transfer_function == "relu"
    eff = jax.jit(jaxinit.effective)(back)
    np.testing.assert_array_equal(eff.W_rec, model.effective().W_rec)


def test_model_params_save_and_load(tmp_path):
    model = BasicRNN(_net())
    path = jaxinit.save_npz(tmp_path / "net.npz", model.params)
    loaded = jaxinit.load_npz(path)
    for name, value in model.params.arrays().items():
        np.testing.assert_array_equal(getattr(loaded, name), value)


def test_recurrent_noise():
    params = _net()
    model = BasicRNN(params, dt=10.0, tau=100.0, rec_noise=0.3)
    quiet = BasicRNN(params, dt=10.0, tau=100.0)
    x = jnp.ones((2, 4, N_IN))
    key = jax.random.key(3)
    _, noisy_states = model(x, key=key)
    _, quiet_states = quiet(x)
    # first step: the noise term is sqrt(2 alpha rec_noise^2) N(0, 1) with the first sub-key
    draw = jax.random.normal(jax.random.split(key, 4)[0], (2, N_REC))
    np.testing.assert_allclose(
        noisy_states[:, 0] - quiet_states[:, 0],
        np.sqrt(2 * 0.1 * 0.3**2) * draw,
        rtol=1e-4,
        atol=1e-6,
    )
    np.testing.assert_array_equal(model(x, key=key)[1], noisy_states)  # deterministic
    assert not np.array_equal(model(x, key=jax.random.key(4))[1], noisy_states)
    assert model(x, rngs=nnx.Rngs(noise=0))[0].shape == (2, 4, N_OUT)
    assert model(x, rngs=nnx.Rngs(0))[0].shape == (2, 4, N_OUT)  # default stream


def test_errors():
    params = _net()
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params or jaxinit\.sparse"):
        BasicRNN({})
    batch = jax.tree.map(lambda a: jnp.stack([a, a]), params)
    with pytest.raises(ValueError, match=r"one network, got an ensemble of shape \(2,\)"):
        BasicRNN(batch)
    with pytest.raises(ValueError, match=r"dt must be positive, got 0\.0"):
        BasicRNN(params, dt=0)
    with pytest.raises(ValueError, match="tau must be finite, got nan"):
        BasicRNN(params, tau=float("nan"))
    with pytest.raises(ValueError, match=r"rec_noise must be non-negative, got -0\.1"):
        BasicRNN(params, rec_noise=-0.1)
    with pytest.raises(TypeError, match="dt must be a real number, got '10'"):
        BasicRNN(params, dt="10")
    model = BasicRNN(params)
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, time, N_in=2\), got"):
        model(jnp.ones((3, N_IN)))
    with pytest.raises(ValueError, match=r"got \(1, 3, 5\)"):
        model(jnp.ones((1, 3, 5)))
    with pytest.raises(TypeError, match="inputs must be real numbers"):
        model(jnp.ones((1, 3, N_IN), jnp.complex64))
    with pytest.raises(TypeError, match="either key or rngs"):
        model(jnp.ones((1, 3, N_IN)), key=jax.random.key(0), rngs=nnx.Rngs(0))
    noisy = BasicRNN(params, rec_noise=0.1)
    with pytest.raises(ValueError, match=r"rec_noise=0\.1 is positive: pass key="):
        noisy(jnp.ones((1, 3, N_IN)))
    with pytest.raises(TypeError, match=r"rngs must be an nnx\.Rngs"):
        noisy(jnp.ones((1, 3, N_IN)), rngs=jax.random.key(0))


# ---------------------------------------------------------------------------
# Training on a perceptual-discrimination task keeps Dale's law and the masks

T, STIM, RESP, BATCH = 40, (5, 25), 25, 64


def _task(key):
    """Two noisy input channels whose difference is the coherence; answer after the stimulus.

    As in PsychRNN's PerceptualDiscrimination: the output channel of the
    stronger input should go to 1 and the other to 0.2 in the response
    period; the loss is masked to the fixation and response periods.
    """
    k_coh, k_sign, k_noise = jax.random.split(key, 3)
    sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, (BATCH,)), 1.0, -1.0)
    coh = sign * jax.random.uniform(k_coh, (BATCH,), minval=0.1, maxval=0.5)
    t = jnp.arange(T)
    stim = ((t >= STIM[0]) & (t < STIM[1])).astype(jnp.float32)
    mean = jnp.stack([0.5 + coh, 0.5 - coh], -1)
    x = stim[None, :, None] * mean[:, None, :] + 0.1 * jax.random.normal(k_noise, (BATCH, T, 2))
    answer = jnp.stack([jnp.where(coh > 0, 1.0, 0.2), jnp.where(coh > 0, 0.2, 1.0)], -1)
    y = (t >= RESP).astype(jnp.float32)[None, :, None] * answer[:, None, :]
    weight = ((t < STIM[0]) | (t >= RESP)).astype(jnp.float32)
    return x, y, jnp.broadcast_to(weight[None, :, None], y.shape), coh


def _loss(model, x, y, weight, key):
    outputs, _ = model(x, key=key)
    return jnp.sum(weight * (outputs - y) ** 2) / jnp.sum(weight)


def test_training_lowers_loss_and_keeps_dale_and_masks():
    n_rec = 40
    rng = np.random.default_rng(0)
    mask = (rng.random((n_rec, n_rec)) < 0.5).astype(np.float32)
    out_mask = (rng.random((2, n_rec)) < 0.8).astype(np.float32)
    cfg = jaxinit.Config(
        N_in=2,
        N_rec=n_rec,
        N_out=2,
        dale_ratio=0.8,
        autapses=False,
        spec_rad=1.1,
        spectral_radius_of="effective",
    )
    initial = jaxinit.gaussian_spectral_radius(
        jax.random.key(0), cfg, rec_connectivity=mask, output_connectivity=out_mask
    )
    model = BasicRNN(initial, dt=10.0, tau=100.0, rec_noise=0.05)
    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)

    @nnx.jit
    def train_step(model, optimizer, key):
        k_data, k_noise = jax.random.split(key)
        x, y, weight, _ = _task(k_data)
        loss, grads = nnx.value_and_grad(_loss)(model, x, y, weight, k_noise)
        optimizer.update(model, grads)
        return loss

    @nnx.jit
    def evaluate(model):
        x, y, weight, coh = _task(jax.random.key(123))
        outputs, _ = model(x, key=jax.random.key(7))
        loss = jnp.sum(weight * (outputs - y) ** 2) / jnp.sum(weight)
        choice = outputs[:, -1, 0] > outputs[:, -1, 1]
        return loss, jnp.mean(choice == (coh > 0))

    loss_before, _ = evaluate(model)
    losses = [
        float(train_step(model, optimizer, k)) for k in jax.random.split(jax.random.key(1), 150)
    ]
    loss_after, accuracy = evaluate(model)
    assert float(loss_after) < 0.25 * float(loss_before)
    assert np.mean(losses[-10:]) < 0.5 * losses[0]
    assert float(accuracy) > 0.9

    trained = model.params
    assert not np.array_equal(trained.W_rec, initial.W_rec)  # it did train
    for name in FIXED:  # masks and Dale vectors are untouched
        np.testing.assert_array_equal(getattr(trained, name), getattr(initial, name))
    eff, eff0 = jaxinit.effective(trained), jaxinit.effective(initial)
    signs = np.asarray(trained.dale_rec_diag)
    n_exc = 32
    assert (signs[:n_exc] == 1).all() and (signs[n_exc:] == -1).all()
    # Dale's law on the trained values: column j of W_rec_eff has the sign of unit j
    W_rec = np.asarray(eff.W_rec)
    assert (W_rec[:, :n_exc] >= 0).all() and (W_rec[:, n_exc:] <= 0).all()
    W_rec0 = np.asarray(eff0.W_rec)
    live = W_rec != 0
    np.testing.assert_array_equal(np.sign(W_rec)[live], np.sign(W_rec0)[live])
    assert live.sum() == (W_rec0 != 0).sum()
    assert (W_rec[:, :n_exc] > 0).any() and (W_rec[:, n_exc:] < 0).any()
    # inhibitory units do not reach the output; excitatory ones do, positively
    W_out = np.asarray(eff.W_out)
    assert (W_out[:, n_exc:] == 0).all() and (W_out[:, :n_exc] >= 0).all()
    np.testing.assert_array_equal(np.sign(W_out), np.sign(np.asarray(eff0.W_out)))
    assert (np.asarray(eff.W_in) >= 0).all()
    # masks still zero, autapses still absent
    assert (W_rec[mask == 0] == 0).all() and (np.diag(W_rec) == 0).all()
    assert (W_out[out_mask == 0] == 0).all()
