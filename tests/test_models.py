"""The Basic RNN in every framework: one numerical core, constraints kept through training.

``jaxinit.basic_rnn`` is checked against an independent float64 NumPy loop of
PsychRNN's update rule (scalar and per-unit ``tau``); the framework models
(nnx, linen cell and model, Haiku core, Equinox module) against it. Then each
is trained the usual way of its framework with AdamW (weight decay moves every
leaf it is given) and the masks, Dale signs and pinned entries must come out
bit for bit as they went in, while the rest trains.
"""

from __future__ import annotations

import equinox as eqx
import flax.linen as nn
import haiku as hk
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from hypothesis import given, settings

import jaxinit
import jaxinit.equinox
import jaxinit.haiku
import jaxinit.linen
import jaxinit.nnx
from jaxinit._src.names import FIXED_FIELDS, TRAINABLE_FIELDS

N_IN, N_REC, N_OUT = 3, 12, 2
DT = 10.0
# float32 results of the same rule computed by differently fused programs, over
# 20 steps of sums of at most N_REC + N_IN terms: a few hundred ulps at most.
RTOL, ATOL = 2e-5, 2e-6


def _net(seed=0, dale_ratio=0.75, transfer_function="relu", masks=True):
    cfg = jaxinit.Config(
        N_in=N_IN,
        N_rec=N_REC,
        N_out=N_OUT,
        dale_ratio=dale_ratio,
        transfer_function=transfer_function,
        autapses=False,
    )
    key, mask_key = jax.random.split(jax.random.key(seed))
    extra = {}
    if masks:
        extra["rec_connectivity"] = jaxinit.connectivity.bernoulli(
            mask_key, (N_REC, N_REC), 0.6, autapses=False
        )
    net = jaxinit.gaussian_spectral_radius(key, cfg, **extra)
    # non-zero biases and initial state, so that every term of the rule is exercised
    k1, k2, k3 = jax.random.split(jax.random.key(seed + 100), 3)
    return net.replace(
        b_rec=0.1 * jax.random.normal(k1, (N_REC,)),
        b_out=0.1 * jax.random.normal(k2, (N_OUT,)),
        init_state=0.5 * jax.random.normal(k3, (N_REC,)),
    )


def _inputs(batch=4, steps=20, seed=1):
    return jax.random.normal(jax.random.key(seed), (batch, steps, N_IN))


def _reference(params, x, dt, tau, noise=None):
    """PsychRNN's Basic forward pass in float64 NumPy (noise: (time, batch, N_rec) or None)."""
    eff = [np.asarray(w, np.float64) for w in jaxinit.effective(params)]
    W_in, W_rec, W_out = eff
    f = {
        "relu": lambda v: np.maximum(v, 0),
        "tanh": np.tanh,
        "identity": lambda v: v,
        "retanh": lambda v: np.maximum(np.tanh(v), 0),
    }[
        params.transfer_function
    ]
    alpha = dt / np.asarray(tau, np.float64)
    x = np.asarray(x, np.float64)
    s = np.tile(np.asarray(params.init_state, np.float64), (x.shape[0], 1))
    ys, ss = [], []
    for t in range(x.shape[1]):
        s = (1 - alpha) * s + alpha * (
            f(s) @ W_rec.T + x[:, t] @ W_in.T + np.asarray(params.b_rec, np.float64)
        )
        if noise is not None:
            s = s + noise[t]
        ys.append(f(s) @ W_out.T + np.asarray(params.b_out, np.float64))
        ss.append(s)
    return np.stack(ys, 1), np.stack(ss, 1)


# ---------------------------------------------------------------------------
# jaxinit.basic_rnn against the float64 reference
# ---------------------------------------------------------------------------


@pytest.mark.numerics
@pytest.mark.parametrize("transfer_function", ["relu", "tanh", "identity", "retanh"])
@pytest.mark.parametrize("dale_ratio", [None, 0.75])
@pytest.mark.parametrize("per_unit", [False, True])
def test_basic_rnn_matches_the_update_rule(transfer_function, dale_ratio, per_unit):
    params = _net(dale_ratio=dale_ratio, transfer_function=transfer_function)
    tau = np.linspace(40.0, 250.0, N_REC) if per_unit else 100.0
    x = _inputs()
    y, s = jaxinit.basic_rnn(params, x, dt=DT, tau=tau)
    want_y, want_s = _reference(params, x, DT, tau)
    assert y.dtype == s.dtype == jnp.float32
    np.testing.assert_allclose(y, want_y, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(s, want_s, rtol=RTOL, atol=ATOL)


def test_per_unit_tau_gives_each_unit_its_own_speed():
    params = _net()
    x = _inputs()
    tau = np.full(N_REC, 100.0)
    np.testing.assert_array_equal(
        jaxinit.basic_rnn(params, x, tau=tau)[1], jaxinit.basic_rnn(params, x, tau=100.0)[1]
    )
    # units 0-5 fast, 6-11 slow: each half equals the run with that scalar tau
    tau = np.r_[np.full(6, 20.0), np.full(6, 400.0)]
    mixed = jaxinit.basic_rnn(params, x, tau=tau)[1]
    fast = jaxinit.basic_rnn(params, x, tau=20.0)[1]
    assert not np.allclose(mixed, fast)  # the slow units feed back into the fast ones
    want = _reference(params, x, DT, tau)[1]
    np.testing.assert_allclose(mixed, want, rtol=RTOL, atol=ATOL)


@pytest.mark.numerics
def test_recurrent_noise_is_scaled_per_unit_and_seeded():
    params = _net()
    x = _inputs(batch=2, steps=5)
    tau = np.linspace(50.0, 200.0, N_REC)
    key = jax.random.key(7)
    _, noisy = jaxinit.basic_rnn(params, x, tau=tau, rec_noise=0.2, key=key)
    draws = np.stack(
        [np.asarray(jax.random.normal(k, (2, N_REC))) for k in jax.random.split(key, 5)]
    )
    scale = np.sqrt(2 * (DT / tau) * 0.2**2)
    want = _reference(params, x, DT, tau, noise=scale * draws)[1]
    np.testing.assert_allclose(noisy, want, rtol=RTOL, atol=ATOL)
    again = jaxinit.basic_rnn(params, x, tau=tau, rec_noise=0.2, key=key)[1]
    np.testing.assert_array_equal(again, noisy)


@settings(max_examples=10, deadline=None)
@given(
    batch=st.integers(1, 3),
    steps=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    tau=st.floats(15.0, 500.0),
)
def test_basic_rnn_property(batch, steps, seed, tau):
    params = _net(seed=seed % 7)
    x = jax.random.normal(jax.random.key(seed), (batch, steps, N_IN))
    y, s = jaxinit.basic_rnn(params, x, tau=tau)
    want_y, want_s = _reference(params, x, DT, tau)
    np.testing.assert_allclose(y, want_y, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(s, want_s, rtol=RTOL, atol=ATOL)


def test_basic_rnn_jits_vmaps_and_differentiates():
    params = _net()
    x = _inputs()
    y = jaxinit.basic_rnn(params, x)[0]
    np.testing.assert_allclose(jax.jit(jaxinit.basic_rnn)(params, x)[0], y, rtol=RTOL, atol=ATOL)
    nets = jaxinit.ensemble(
        jaxinit.gaussian_spectral_radius,
        jax.random.key(3),
        3,
        jaxinit.Config(N_in=N_IN, N_rec=N_REC, N_out=N_OUT),
    )
    ys = jax.vmap(lambda p: jaxinit.basic_rnn(p, x)[0])(nets)
    for i in range(3):
        one = jaxinit.basic_rnn(jaxinit.member(nets, i), x)[0]
        np.testing.assert_allclose(ys[i], one, rtol=RTOL, atol=ATOL)
    grads = jax.grad(lambda p: jnp.sum(jaxinit.basic_rnn(p, x)[0] ** 2))(params)
    assert float(jnp.abs(grads.W_rec).sum()) > 0
    # the effective weights are |W| * mask: no gradient reaches masked-out entries
    off = np.asarray(params.rec_connectivity) == 0
    assert (np.asarray(grads.W_rec)[off] == 0).all()


def test_basic_rnn_errors():
    params = _net()
    x = _inputs()
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params or jaxinit\.sparse"):
        jaxinit.basic_rnn({}, x)
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, time, N_in=3\)"):
        jaxinit.basic_rnn(params, x[0])
    with pytest.raises(ValueError, match=r"tau must be a number or a vector .*\(12,\), got"):
        jaxinit.basic_rnn(params, x, tau=np.ones(5))
    with pytest.raises(ValueError, match=r"tau must be finite and positive for every unit"):
        jaxinit.basic_rnn(params, x, tau=np.r_[np.ones(11), -1.0])
    with pytest.raises(TypeError, match=r"tau must be a real number or an array of them"):
        jaxinit.basic_rnn(params, x, tau=np.ones(N_REC, bool))
    with pytest.raises(ValueError, match=r"tau must be positive, got 0.0"):
        jaxinit.basic_rnn(params, x, tau=0.0)
    with pytest.raises(ValueError, match=r"dt must be finite, got inf"):
        jaxinit.basic_rnn(params, x, dt=float("inf"))
    with pytest.raises(ValueError, match=r"rec_noise=0\.1 is positive: pass key="):
        jaxinit.basic_rnn(params, x, rec_noise=0.1)
    with pytest.raises(TypeError, match=r"key must be a JAX PRNG key"):
        jaxinit.basic_rnn(params, x, rec_noise=0.1, key=3)
    with pytest.raises(TypeError, match=r"inputs must be real numbers, got dtype bool"):
        jaxinit.basic_rnn(params, x > 0)
    batch = jax.tree.map(lambda a: jnp.stack([a, a]), params)
    with pytest.raises(ValueError, match=r"one network, got an ensemble"):
        jaxinit.basic_rnn(batch, x)


# ---------------------------------------------------------------------------
# Every framework computes what jaxinit.basic_rnn computes
# ---------------------------------------------------------------------------


def _linen_cell_run(params, x, **options):
    rnn = nn.RNN(jaxinit.linen.BasicRNNCell(params, **options))
    return rnn.apply(rnn.init(jax.random.key(0), x), x)


def _linen_run(params, x, **options):
    model = jaxinit.linen.BasicRNN(params, **options)
    return model.apply(model.init(jax.random.key(0), x), x)


def _haiku_run(params, x, **options):
    def forward(x):
        core = jaxinit.haiku.BasicRNN(params, **options)
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False)[0]

    f = hk.transform(forward)
    return f.apply(f.init(jax.random.key(0), x), None, x)


RUNNERS = {
    "nnx": lambda p, x, **o: jaxinit.nnx.BasicRNN(p, **o)(x),
    "linen_cell": _linen_cell_run,
    "linen": _linen_run,
    "haiku": _haiku_run,
    "equinox": lambda p, x, **o: jaxinit.equinox.BasicRNN(p, **o)(x),
}


@pytest.mark.numerics
@pytest.mark.parametrize("framework", sorted(RUNNERS))
@pytest.mark.parametrize("per_unit", [False, True])
def test_frameworks_agree_with_basic_rnn(framework, per_unit):
    params = _net(transfer_function="tanh")
    tau = np.linspace(40.0, 250.0, N_REC) if per_unit else 100.0
    x = _inputs()
    want_y, want_s = jaxinit.basic_rnn(params, x, dt=DT, tau=tau)
    y, s = RUNNERS[framework](params, x, dt=DT, tau=tau)
    assert y.shape == (4, 20, N_OUT) and s.shape == (4, 20, N_REC)
    np.testing.assert_allclose(y, want_y, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(s, want_s, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------------------
# Training in each framework's own way keeps the constraints and pinned entries
# ---------------------------------------------------------------------------

STEPS = 4
FIXED = {
    "W_rec": np.eye(N_REC, k=1),  # one off-diagonal band pinned
    "W_in": np.r_[[np.ones(N_IN)], np.zeros((N_REC - 1, N_IN))],  # unit 0's inputs
    "b_out": np.array([1.0, 0.0]),
}


def _optimizer():
    return optax.adamw(0.05, weight_decay=0.5)


def _loss_of(outputs):
    return jnp.mean((outputs - 0.3) ** 2)


def _train_nnx(params, x):
    model = jaxinit.nnx.BasicRNN(params, fixed=FIXED)
    opt = nnx.Optimizer(model, _optimizer(), wrt=nnx.Param)

    @nnx.jit
    def step(model, opt):
        grads = nnx.grad(lambda m: _loss_of(m(x)[0]))(model)
        opt.update(model, grads)
        return grads

    grads = [step(model, opt) for _ in range(STEPS)][-1]
    grad_of = {name: grads[name][...] for name in TRAINABLE_FIELDS}
    return model.params, grad_of


def _train_linen(params, x):
    model = jaxinit.linen.BasicRNN(params, fixed=FIXED)
    variables = model.init(jax.random.key(0), x)
    assert set(variables) == {"params"}
    assert set(variables["params"]) == set(TRAINABLE_FIELDS)
    p, grads = _train_linen_params(model, variables["params"], x)
    return model.to_params({"params": p}), dict(grads)


def _train_linen_cell(params, x):
    cell = jaxinit.linen.BasicRNNCell(params, fixed=FIXED)
    rnn = nn.RNN(cell)
    p, grads = _train_linen_params(rnn, rnn.init(jax.random.key(0), x)["params"], x)
    return cell.to_params(p), dict(grads["cell"])


def _train_linen_params(module, p, x):
    """STEPS of the plain optimizer on a linen module's whole "params" collection."""
    opt = _optimizer()
    state = opt.init(p)

    @jax.jit
    def step(p, state):
        grads = jax.grad(lambda p: _loss_of(module.apply({"params": p}, x)[0]))(p)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, grads

    for _ in range(STEPS):
        p, state, grads = step(p, state)
    return p, grads


def _train_haiku(params, x):
    def forward(x):
        core = jaxinit.haiku.BasicRNN(params, fixed=FIXED)
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False)[0]

    f = hk.without_apply_rng(hk.transform(forward))
    p = f.init(jax.random.key(0), x)
    assert set(p["basic_rnn"]) == set(TRAINABLE_FIELDS)
    opt = _optimizer()
    state = opt.init(p)

    @jax.jit
    def step(p, state):
        grads = jax.grad(lambda p: _loss_of(f.apply(p, x)[0]))(p)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, grads

    for _ in range(STEPS):
        p, state, grads = step(p, state)
    return jaxinit.haiku.to_params(p, params, fixed=FIXED), dict(grads["basic_rnn"])


def _train_equinox(params, x):
    model = jaxinit.equinox.BasicRNN(params, fixed=FIXED)
    opt = _optimizer()
    state = opt.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, state):
        grads = eqx.filter_grad(lambda m: _loss_of(m(x)[0]))(model)
        updates, state = opt.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), state, grads

    for _ in range(STEPS):
        model, state, grads = step(model, state)
    assert jax.tree.leaves(grads.frozen) == []  # no gradient of any constraint at all
    return model.params, {name: getattr(grads, name) for name in TRAINABLE_FIELDS}


def _train_optax(params, x):
    opt = jaxinit.keep_fixed(_optimizer(), fixed=FIXED)
    state = opt.init(params)

    @jax.jit
    def step(p, state):
        grads = jax.grad(lambda p: _loss_of(jaxinit.basic_rnn(p, x)[0]))(p)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, grads

    p = params
    for _ in range(STEPS):
        p, state, grads = step(p, state)
    grads = jaxinit.zero_fixed(grads, fixed=FIXED)
    return p, {name: getattr(grads, name) for name in TRAINABLE_FIELDS}


TRAINERS = {
    "nnx": _train_nnx,
    "linen": _train_linen,
    "linen_cell": _train_linen_cell,
    "haiku": _train_haiku,
    "equinox": _train_equinox,
    "optax": _train_optax,
}


@pytest.mark.parametrize("framework", sorted(TRAINERS))
def test_training_keeps_constraints_and_pinned_entries(framework):
    params = _net()
    x = _inputs()
    trained, grads = TRAINERS[framework](params, x)
    assert isinstance(trained, jaxinit.Params)
    for name in FIXED_FIELDS:  # masks and Dale signs: bit for bit
        before, after = np.asarray(getattr(params, name)), np.asarray(getattr(trained, name))
        assert before.tobytes() == after.tobytes(), name
    for name, pinned in FIXED.items():
        pinned = pinned.astype(bool)
        before, after = np.asarray(getattr(params, name)), np.asarray(getattr(trained, name))
        assert before[pinned].tobytes() == after[pinned].tobytes(), name
        assert not np.array_equal(before[~pinned], after[~pinned]), f"{name} did not train"
        assert (np.asarray(grads[name])[pinned] == 0).all(), f"gradient reached pinned {name}"
    for name in ("W_out", "b_rec", "init_state"):
        assert not np.array_equal(getattr(params, name), getattr(trained, name)), name
    # the trained network still obeys Dale's law and the masks, and runs the same
    eff = jaxinit.effective(trained)
    signs = np.asarray(trained.dale_rec_diag)
    assert (np.asarray(eff.W_rec) * signs[None, :] >= 0).all()
    assert (np.asarray(eff.W_rec)[np.asarray(trained.rec_connectivity) == 0] == 0).all()
    assert np.all(np.diag(np.asarray(eff.W_rec)) == 0)


def test_trained_network_survives_a_file(tmp_path):
    params = _net()
    x = _inputs()
    trained, _ = _train_equinox(params, x)
    jaxinit.save_npz(tmp_path / "trained.npz", trained)
    loaded = jaxinit.load_npz(tmp_path / "trained.npz")
    for name in (*TRAINABLE_FIELDS, *FIXED_FIELDS):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(trained, name), name)
    np.testing.assert_array_equal(
        jaxinit.basic_rnn(loaded, x)[0], jaxinit.basic_rnn(trained, x)[0]
    )


def test_equinox_keeps_constraints_bit_exact_even_for_signed_zeros():
    params = _net()
    weird = params.replace(dale_rec_diag=params.dale_rec_diag.at[0].set(-0.0))
    model = jaxinit.equinox.BasicRNN(weird)
    stored = np.asarray(model.params.dale_rec_diag)
    assert stored.tobytes() == np.asarray(weird.dale_rec_diag).tobytes()
    assert all(
        not jnp.issubdtype(leaf.dtype, jnp.inexact) for leaf in jax.tree.leaves(model.frozen)
    )
    spec = jaxinit.trainable(model)
    assert spec.W_rec is True and not any(jax.tree.leaves(spec.frozen))


def test_model_errors():
    params = _net()
    x = _inputs()
    for make in (
        jaxinit.nnx.BasicRNN,
        jaxinit.equinox.BasicRNN,
        lambda p, **o: jaxinit.linen.BasicRNN(p, **o).init(jax.random.key(0), x),
    ):
        with pytest.raises(ValueError, match=r"fixed\['W_rec'\] has shape \(2, 2\)"):
            make(params, fixed={"W_rec": np.eye(2)})
        with pytest.raises(ValueError, match=r"fixed\['rec_connectivity'\]: fixed entries"):
            make(params, fixed={"rec_connectivity": np.eye(N_REC)})
        with pytest.raises(ValueError, match=r"fixed\['W_rec'\] must hold only 0 and 1"):
            make(params, fixed={"W_rec": 2 * np.eye(N_REC)})
        with pytest.raises(ValueError, match=r"tau must be a number or a vector"):
            make(params, tau=np.ones(3))
        with pytest.raises(ValueError, match=r"rec_noise must be non-negative"):
            make(params, rec_noise=-1.0)
    with pytest.raises(ValueError, match=r"exactly one jaxinit model, found 0"):
        jaxinit.linen.BasicRNN(params).to_params({"params": {}})
    with pytest.raises(ValueError, match=r"exactly one jaxinit BasicRNN, found \[\]"):
        jaxinit.haiku.to_params({}, params)
    with pytest.raises(ValueError, match=r"rec_noise=0\.5 is positive"):
        jaxinit.equinox.BasicRNN(params, rec_noise=0.5)(x)
    cell = jaxinit.linen.BasicRNNCell(params)
    rnn = nn.RNN(cell)
    variables = rnn.init(jax.random.key(0), x)
    with pytest.raises(ValueError, match=r"inputs must have shape \(\.\.\., N_in=3\)"):
        cell.apply({"params": variables["params"]["cell"]}, jnp.zeros((4, N_REC)), x[:, 0, :2])


def test_noise_in_every_framework_is_seeded():
    params = _net()
    x = _inputs(batch=2, steps=6)
    quiet = jaxinit.basic_rnn(params, x)[1]
    eq = jaxinit.equinox.BasicRNN(params, rec_noise=0.2)
    np.testing.assert_array_equal(
        eq(x, key=jax.random.key(1))[1],
        jaxinit.basic_rnn(params, x, rec_noise=0.2, key=jax.random.key(1))[1],
    )
    model = jaxinit.linen.BasicRNN(params, rec_noise=0.2)
    v = model.init(jax.random.key(0), x)
    a = model.apply(v, x, rngs={"noise": jax.random.key(1)})[1]
    b = model.apply(v, x, rngs={"noise": jax.random.key(1)})[1]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, quiet)
    rnn = nn.RNN(
        jaxinit.linen.BasicRNNCell(params, rec_noise=0.2),
        split_rngs={"params": False, "noise": True},
    )
    c = rnn.apply(v_cell := rnn.init(jax.random.key(0), x), x, rngs={"noise": jax.random.key(1)})
    assert not np.allclose(c[1], quiet)
    steps = np.asarray(c[1][:, 1:] - c[1][:, :-1])
    assert len({round(float(np.std(steps[:, t])), 6) for t in range(5)}) > 1  # fresh each step
    assert v_cell["params"]["cell"]["W_rec"].shape == (N_REC, N_REC)

    def forward(x):
        core = jaxinit.haiku.BasicRNN(params, rec_noise=0.2)
        return hk.dynamic_unroll(core, x, core.initial_state(2), time_major=False)[0]

    f = hk.transform(forward)
    p = f.init(jax.random.key(0), x)
    h1 = f.apply(p, jax.random.key(1), x)[1]
    np.testing.assert_array_equal(h1, f.apply(p, jax.random.key(1), x)[1])
    assert not np.allclose(h1, quiet)


# ---------------------------------------------------------------------------
# PsychRNN's losses and regularizers (against PsychRNN itself: test_tf_psychrnn)
# ---------------------------------------------------------------------------


def test_losses_match_their_formulas():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.02, 0.98, size=(3, 5, 2)).astype(np.float32)
    y = rng.uniform(size=(3, 5, 2)).astype(np.float32)
    mask = (rng.uniform(size=(3, 5, 2)) < 0.5).astype(np.float32)
    p64, y64, m64 = (a.astype(np.float64) for a in (p, y, mask))
    np.testing.assert_allclose(
        jaxinit.mean_squared_error(p, y, mask), np.mean((m64 * (p64 - y64)) ** 2), rtol=1e-6
    )
    np.testing.assert_allclose(
        jaxinit.mean_squared_error(p, y), np.mean((p64 - y64) ** 2), rtol=1e-6
    )
    # a per-time-step mask broadcasts over the outputs
    per_step = mask[..., :1]
    np.testing.assert_allclose(
        jaxinit.mean_squared_error(p, y, per_step),
        np.mean((per_step.astype(np.float64) * (p64 - y64)) ** 2),
        rtol=1e-6,
    )
    eps = 1e-7
    bce = -(y64 * np.log(p64 + eps) + (1 - y64) * np.log(1 - p64 + eps))
    np.testing.assert_allclose(
        jaxinit.binary_cross_entropy(p, y, mask), np.mean(m64 * bce), rtol=1e-5
    )
    # predictions outside (0, 1) are clipped to [eps, 1 - eps] (in float32), never NaN
    wild = np.array([-3.0, 0.0, 1.0, 7.0], np.float32)
    ones = np.ones(4, np.float32)
    got = np.asarray(jaxinit.binary_cross_entropy(wild, ones))
    q = np.clip(wild, np.float32(eps), np.float32(1 - eps))
    want = np.mean(-np.log(q + np.float32(eps)))
    assert np.isfinite(got)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match=r"predictions and targets must have the same shape"):
        jaxinit.mean_squared_error(p, y[:, :2])
    with pytest.raises(ValueError, match=r"output_mask of shape \(4,\) does not broadcast"):
        jaxinit.mean_squared_error(p, y, np.ones(4))
    with pytest.raises(TypeError, match=r"targets must be a float array, got dtype int"):
        jaxinit.binary_cross_entropy(p, np.ones(p.shape, int))


def test_regularization_matches_its_formula():
    params = _net()
    x = _inputs()
    _, states = jaxinit.basic_rnn(params, x)
    weights = {"L1_in": 0.3, "L1_rec": 0.7, "L1_out": 1.1, "L2_in": 0.2, "L2_rec": 0.5,
               "L2_out": 0.9, "L2_firing_rate": 1.3}
    parts = zip(("in", "rec", "out"), jaxinit.effective(params), strict=True)
    eff = {k: np.asarray(w, np.float64) for k, w in parts}
    want = sum(
        weights[f"L1_{k}"] * np.mean(np.abs(w)) + weights[f"L2_{k}"] * np.mean(w**2)
        for k, w in eff.items()
    ) + 1.3 * np.mean(np.maximum(np.asarray(states, np.float64), 0) ** 2)
    np.testing.assert_allclose(jaxinit.regularization(params, states, **weights), want, rtol=1e-5)
    assert float(jaxinit.regularization(params)) == 0.0
    grads = jax.grad(lambda p: jaxinit.regularization(p, L1_rec=1.0))(params)
    assert (np.asarray(grads.W_rec)[np.asarray(params.rec_connectivity) == 0] == 0).all()
    with pytest.raises(ValueError, match=r"L2_firing_rate is not 0: pass the network's states"):
        jaxinit.regularization(params, L2_firing_rate=1.0)
    with pytest.raises(ValueError, match=r"L1_rec must be non-negative, got -1"):
        jaxinit.regularization(params, L1_rec=-1)
    with pytest.raises(ValueError, match=r"states must be a float array whose last axis is N_rec"):
        jaxinit.regularization(params, states[..., :3], L2_firing_rate=1.0)
