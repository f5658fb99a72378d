"""The Basic RNN on sparse networks: ``jaxinit.basic_rnn`` and every framework's ``BasicRNN``.

A :class:`jaxinit.sparse.SparseParams` runs through the same code as a dense
network, with the recurrent product done by the RowSparse gather on the
effective weights. Checked here: the outputs agree with the dense path on
``todense()`` within a bound derived from float32 rounding; a 10^4-unit
network's forward pass and training gradient hold no ``N x N`` value; training
in each framework (and with ``jaxinit.keep_fixed``) leaves the pattern bit for
bit, keeps padding slots at 0 and the effective weights on Dale's law and the
masks, while the loss goes down; ``jaxinit.trainable`` and ``zero_fixed`` never
treat the index as trainable.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import flax.linen as nn
import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

import jaxinit
import jaxinit.equinox
import jaxinit.haiku
import jaxinit.linen
import jaxinit.nnx
from jaxinit.sparse import RowSparse, SparseParams
from tests.test_sparse import largest_array

N_IN, N_REC, N_OUT, K = 2, 40, 1, 8
DENSE_FIXED = ("input_connectivity", "output_connectivity", "dale_rec_diag", "dale_out_diag")
TRAINABLE = ("W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state")
#: Unit roundoff of float32.
U32 = 2.0**-24


def _sparse_net(seed=0, dale_ratio=0.8, transfer_function="relu", n=N_REC, k=K):
    """A sparse network with Dale's law, an input mask and some padding slots.

    The pattern may hold a unit's own column; ``autapses=False`` turns those
    slots into padding, so several rows hold fewer than ``k`` entries.
    """
    rng = np.random.default_rng(seed)
    cfg = jaxinit.Config(
        N_in=N_IN,
        N_rec=n,
        N_out=N_OUT,
        dale_ratio=dale_ratio,
        autapses=False,
        transfer_function=transfer_function,
        spectral_radius_of="effective",
        spectral_method="krylov",
    )
    pattern = jaxinit.sparse.fixed_in_degree(jax.random.key(seed + 100), (n, n), k)
    return jaxinit.sparse.gaussian_spectral_radius(
        jax.random.key(seed),
        cfg,
        pattern,
        input_connectivity=(rng.random((n, N_IN)) < 0.7).astype(np.float32),
        b_rec=rng.normal(size=n).astype(np.float32) * 0.1,
    )


def _inputs(batch=4, steps=25, seed=1):
    return jax.random.normal(jax.random.key(seed), (batch, steps, N_IN))


def _gamma(n):
    """Higham's gamma_n = n u / (1 - n u): the relative error bound of an n-term float32 sum."""
    return n * U32 / (1 - n * U32)


def _sparse_vs_dense_bound(dense, x, states, alpha, k):
    """How far the sparse and the dense float32 runs of one network may drift apart.

    Returns bounds on ``|states_sparse - states_dense|`` and on the outputs'
    difference, entry by entry, for the dense run's ``states`` on inputs ``x``.

    Per step the two paths compute the same operations except the recurrent
    drive ``sum_j W_ij f(s_j)``: the sparse path sums unit ``i``'s (at most
    ``k``) stored products, the dense one all ``N`` products, but the others
    are exact zeros, which add without rounding. Each drive is thus within
    ``gamma_k * a_i``, ``a_i = sum_j |W_ij| |f(s_j)|``, of the exact value, and
    the two paths within ``2 gamma_k a_i``, times ``alpha`` in the update. The
    few other roundings of the update (``keep * s``, ``alpha * drive``, the
    sums of the terms) see slightly different operands in the two runs: at
    most ``u`` of each intermediate, bounded by ``m_i``, the largest of
    ``|s_i|`` and of the drive's terms; five such. That local error
    ``delta`` is carried to the next step through the update's Jacobian,
    bounded entry by entry by ``|1 - alpha| I + alpha |W|`` (ReLU and tanh are
    1-Lipschitz), so the bound ``e`` on the states' difference follows
    ``e' = |1 - alpha| e + alpha |W| e + delta``. The outputs ``f(s) W_out^T + b``
    differ by ``|W_out| e`` plus the rounding of their ``N``-term sums in
    each run. A factor 2 covers the second-order terms.
    """
    eff = jaxinit.effective(dense)
    w_rec = np.abs(np.asarray(eff.W_rec, np.float64))
    w_out = np.abs(np.asarray(eff.W_out, np.float64))
    alpha = np.asarray(alpha, np.float64)
    drive_in = np.abs(np.asarray(x @ eff.W_in.T, np.float64)) + np.abs(np.asarray(dense.b_rec))
    states = np.asarray(states, np.float64)
    prev = np.broadcast_to(np.asarray(dense.init_state, np.float64), states[:, 0].shape)
    e, bounds = np.zeros_like(prev), []
    for t in range(states.shape[1]):
        a = np.abs(np.asarray(dense.transfer(prev))) @ w_rec.T
        m = np.maximum(np.maximum(np.abs(prev), np.abs(states[:, t])), a + drive_in[:, t])
        delta = 2 * alpha * _gamma(k) * a + 5 * U32 * m
        e = np.abs(1 - alpha) * e + alpha * (e @ w_rec.T) + delta
        bounds.append(e)
        prev = states[:, t]
    state_tol = np.stack(bounds, axis=1)
    rates = np.abs(np.asarray(dense.transfer(states)))
    out_tol = state_tol @ w_out.T + 2 * _gamma(dense.N_rec) * (rates @ w_out.T)
    return 2 * state_tol, 2 * out_tol


def _padding(sp):
    return ~np.asarray(sp.W_rec.stored)


# ---------------------------------------------------------------------------
# jaxinit.basic_rnn on a SparseParams
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dale_ratio", [0.8, None])
@pytest.mark.parametrize("transfer_function", ["relu", "tanh"])
def test_sparse_basic_rnn_matches_the_dense_path(dale_ratio, transfer_function):
    sp = _sparse_net(dale_ratio=dale_ratio, transfer_function=transfer_function)
    assert _padding(sp).any()  # padding slots take part
    dense = sp.todense()
    x = _inputs()
    for tau, alpha in ((100.0, 0.1), (np.linspace(50.0, 200.0, N_REC), None)):
        alpha = 10.0 / tau if alpha is None else alpha
        y, s = jaxinit.basic_rnn(sp, x, tau=tau)
        want_y, want_s = jaxinit.basic_rnn(dense, x, tau=tau)
        assert y.shape == want_y.shape == (4, 25, N_OUT) and s.shape == (4, 25, N_REC)
        state_tol, out_tol = _sparse_vs_dense_bound(dense, x, want_s, alpha, K)
        assert (np.abs(np.asarray(s) - np.asarray(want_s)) <= state_tol).all()
        assert (np.abs(np.asarray(y) - np.asarray(want_y)) <= out_tol).all()
        # the bound is far below the signal: a product with the transposed
        # matrix (the classic mistake) lands far outside it
        assert state_tol.max() < 1e-3 * np.abs(want_s).max()
        wrong = jaxinit.basic_rnn(dense.replace(W_rec=dense.W_rec.T), x, tau=tau)[0]
        assert (np.abs(np.asarray(wrong) - np.asarray(want_y)) > 100 * out_tol).any()


def test_sparse_basic_rnn_jits_and_differentiates_the_values():
    sp = _sparse_net()
    x = _inputs(steps=10)
    y = jaxinit.basic_rnn(sp, x)[0]
    np.testing.assert_allclose(jax.jit(jaxinit.basic_rnn)(sp, x)[0], y, rtol=1e-6, atol=1e-6)

    def loss(values):
        net = dataclasses.replace(sp, W_rec=sp.W_rec.with_values(values))
        return jnp.sum(jaxinit.basic_rnn(net, x)[0] ** 2)

    grad = np.asarray(jax.grad(loss)(sp.W_rec.values))
    assert grad.shape == (N_REC, K)
    assert (grad[_padding(sp)] == 0).all() and np.abs(grad[~_padding(sp)]).max() > 0
    # the same gradient as the dense path's, read on the pattern
    dense = sp.todense()

    def dense_loss(W):
        return jnp.sum(jaxinit.basic_rnn(dense.replace(W_rec=W), x)[0] ** 2)

    dense_grad = np.asarray(jax.grad(dense_loss)(dense.W_rec))
    rows = np.arange(N_REC)[:, None]
    index = np.asarray(sp.W_rec.index)
    on_pattern = np.where(_padding(sp), 0.0, dense_grad[rows, np.minimum(index, N_REC - 1)])
    np.testing.assert_allclose(grad, on_pattern, rtol=1e-3, atol=1e-4 * np.abs(grad).max())


def test_sparse_noise_is_seeded():
    sp = _sparse_net()
    x = _inputs(steps=5)
    a = jaxinit.basic_rnn(sp, x, rec_noise=0.1, key=jax.random.key(3))[1]
    b = jaxinit.basic_rnn(sp, x, rec_noise=0.1, key=jax.random.key(3))[1]
    c = jaxinit.basic_rnn(sp, x, rec_noise=0.1, key=jax.random.key(4))[1]
    assert np.array_equal(a, b) and not np.allclose(a, c)


def _cheap_sparse_net(n, k):
    """A SparseParams of ``n`` units built directly (no radius), for shape-only checks."""
    rows = np.arange(n)[:, None]
    index = ((rows + 1 + 37 * np.arange(k)[None, :]) % n).astype(np.int32)
    signs = np.where(np.arange(n) < 0.8 * n, 1.0, -1.0).astype(np.float32)
    return SparseParams(
        W_in=jnp.ones((n, N_IN)),
        W_rec=RowSparse(jnp.full((n, k), 0.01), jnp.asarray(index), n),
        W_out=jnp.ones((N_OUT, n)),
        b_rec=jnp.zeros(n),
        b_out=jnp.zeros(N_OUT),
        init_state=jnp.zeros(n),
        input_connectivity=jnp.ones((n, N_IN)),
        output_connectivity=jnp.ones((N_OUT, n)),
        dale_rec_diag=jnp.asarray(signs),
        dale_out_diag=jnp.asarray((signs > 0).astype(np.float32)),
        dale_ratio=0.8,
    )


def test_no_n_by_n_value_in_a_10k_unit_forward_pass_or_training_step():
    n, k, batch, steps = 10_000, 16, 2, 3
    sp = _cheap_sparse_net(n, k)
    x = jnp.ones((batch, steps, N_IN))
    # the largest value of a step is the gather of the rates, (N, K, batch); the
    # gradient's scan keeps it for every step: (steps, N, K, batch), still O(nnz)
    forward = jax.make_jaxpr(lambda p, x: jaxinit.basic_rnn(p, x))(sp, x)
    assert largest_array(forward) <= n * k * batch
    bound = n * k * batch * steps
    assert bound < n * n // 100

    model = jaxinit.nnx.BasicRNN(sp)
    graphdef, trained, rest = nnx.split(model, nnx.Param, ...)

    def loss(trained, rest, x):
        return jnp.mean(nnx.merge(graphdef, trained, rest)(x)[0] ** 2)

    grad = jax.make_jaxpr(jax.grad(loss))(trained, rest, x)
    assert largest_array(grad) <= bound
    # the same check sees the N x N matrix of the dense path (shapes only, nothing allocated)
    dense = jax.eval_shape(lambda p: p.todense(), sp)
    assert largest_array(jax.make_jaxpr(jaxinit.basic_rnn)(dense, x)) >= n * n


# ---------------------------------------------------------------------------
# Training in every framework keeps the pattern, the padding and the constraints
# ---------------------------------------------------------------------------

STEPS = 6
PINNED = {
    "W_rec": np.r_[[np.ones(K)], np.zeros((N_REC - 1, K))],  # unit 0's stored slots
    "b_out": np.array([1.0]),
}


def _target(x):
    """A small task: the output should follow a leaky running mean of x0 - x1."""
    drive = x[..., 0] - x[..., 1]
    return (
        0.2
        * jnp.cumsum(drive, axis=1)[..., None]
        / jnp.sqrt(jnp.arange(1, x.shape[1] + 1))[None, :, None]
    )


def _loss(outputs, x):
    return jnp.mean((outputs - _target(x)) ** 2)


def _optimizer():
    return optax.adamw(0.02, weight_decay=0.1)


def _train_nnx(sp, x, steps=STEPS):
    model = jaxinit.nnx.BasicRNN(sp, fixed=PINNED)
    assert isinstance(model.W_rec, nnx.Param) and model.W_rec[...].shape == (N_REC, K)
    assert isinstance(model.W_rec_index, jaxinit.nnx.Fixed)
    assert not hasattr(model, "rec_connectivity")
    opt = nnx.Optimizer(model, _optimizer(), wrt=nnx.Param)

    @nnx.jit
    def step(model, opt):
        loss, grads = nnx.value_and_grad(lambda m: _loss(m(x)[0], x))(model)
        opt.update(model, grads)
        return loss, grads

    losses = []
    for _ in range(steps):
        loss, grads = step(model, opt)
        losses.append(float(loss))
    # the gradient state holds the six trainable arrays only: no index, no mask
    assert set(grads) == set(TRAINABLE)
    assert model.W_rec_index[...].dtype == jnp.int32
    grad_of = {name: np.asarray(grads[name][...]) for name in PINNED}
    return model.params, grad_of, losses


def _train_params(apply, p, x, steps=STEPS):
    """Plain AdamW on a whole params pytree; the loss of each step."""
    opt = _optimizer()
    state = opt.init(p)

    @jax.jit
    def step(p, state):
        loss, grads = jax.value_and_grad(lambda p: _loss(apply(p), x))(p)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss, grads

    losses = []
    for _ in range(steps):
        p, state, loss, grads = step(p, state)
        losses.append(float(loss))
    return p, grads, losses


def _train_linen(sp, x):
    model = jaxinit.linen.BasicRNN(sp, fixed=PINNED)
    variables = model.init(jax.random.key(0), x)
    assert set(variables["params"]) == set(TRAINABLE)
    assert variables["params"]["W_rec"].shape == (N_REC, K)
    p, grads, losses = _train_params(
        lambda p: model.apply({"params": p}, x)[0], variables["params"], x
    )
    return model.to_params({"params": p}), {k: grads[k] for k in PINNED}, losses


def _train_linen_cell(sp, x):
    cell = jaxinit.linen.BasicRNNCell(sp, fixed=PINNED)
    rnn = nn.RNN(cell)
    p0 = rnn.init(jax.random.key(0), x)["params"]
    p, grads, losses = _train_params(lambda p: rnn.apply({"params": p}, x)[0], p0, x)
    return cell.to_params(p), {k: grads["cell"][k] for k in PINNED}, losses


def _train_haiku(sp, x):
    def forward(x):
        core = jaxinit.haiku.BasicRNN(sp, fixed=PINNED)
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False)[0]

    f = hk.without_apply_rng(hk.transform(forward))
    p0 = f.init(jax.random.key(0), x)
    assert p0["basic_rnn"]["W_rec"].shape == (N_REC, K)
    p, grads, losses = _train_params(lambda p: f.apply(p, x)[0], p0, x)
    trained = jaxinit.haiku.to_params(p, sp, fixed=PINNED)
    return trained, {k: grads["basic_rnn"][k] for k in PINNED}, losses


def _train_equinox(sp, x):
    model = jaxinit.equinox.BasicRNN(sp, fixed=PINNED)
    opt = _optimizer()
    state = opt.init(eqx.filter(model, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(model, state):
        loss, grads = eqx.filter_value_and_grad(lambda m: _loss(m(x)[0], x))(model)
        updates, state = opt.update(grads, state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), state, loss, grads

    losses = []
    for _ in range(STEPS):
        model, state, loss, grads = step(model, state)
        losses.append(float(loss))
    assert jax.tree.leaves(grads.frozen) == []  # neither the index nor a mask has a gradient
    assert model.frozen["W_rec_index"].dtype == jnp.int32
    return model.params, {k: getattr(grads, k) for k in PINNED}, losses


def _train_keep_fixed(sp, x):
    opt = jaxinit.keep_fixed(_optimizer(), fixed=PINNED)
    state = opt.init(sp)
    # the wrapped optimizer keeps no state for the pattern: no integer leaf at all
    assert all(
        jnp.issubdtype(leaf.dtype, jnp.inexact) or leaf.ndim == 0 for leaf in jax.tree.leaves(state)
    )

    @jax.jit
    def step(p, state):
        loss_of = jax.value_and_grad(lambda p: _loss(jaxinit.basic_rnn(p, x)[0], x), allow_int=True)
        loss, grads = loss_of(p)
        updates, state = opt.update(grads, state, p)
        return optax.apply_updates(p, updates), state, loss, grads

    p, losses = sp, []
    for _ in range(STEPS):
        p, state, loss, grads = step(p, state)
        losses.append(float(loss))
    grads = jaxinit.zero_fixed(grads, fixed=PINNED)
    return p, {"W_rec": grads.W_rec.values, "b_out": grads.b_out}, losses


TRAINERS = {
    "nnx": _train_nnx,
    "linen": _train_linen,
    "linen_cell": _train_linen_cell,
    "haiku": _train_haiku,
    "equinox": _train_equinox,
    "keep_fixed": _train_keep_fixed,
}


def _check_constraints(sp, trained):
    """The pattern, padding, masks and Dale signs of ``trained`` are ``sp``'s."""
    assert isinstance(trained, SparseParams)
    before, after = np.asarray(sp.W_rec.index), np.asarray(trained.W_rec.index)
    assert after.dtype == np.int32 and before.tobytes() == after.tobytes()
    assert trained.W_rec.n_cols == N_REC
    for name in DENSE_FIXED:
        assert (
            np.asarray(getattr(sp, name)).tobytes() == np.asarray(getattr(trained, name)).tobytes()
        )
    assert (np.asarray(trained.W_rec.values)[_padding(sp)] == 0).all()
    eff = jaxinit.effective(trained)
    assert isinstance(eff.W_rec, RowSparse)
    assert (np.asarray(eff.W_rec.values)[_padding(sp)] == 0).all()
    signs = np.asarray(trained.dale_rec_diag)
    W = np.asarray(eff.W_rec.todense())  # small: N_REC x N_REC
    assert (W[:, signs > 0] >= 0).all() and (W[:, signs < 0] <= 0).all()
    assert (W[np.asarray(sp.rec_connectivity.todense()) == 0] == 0).all()
    assert (np.asarray(eff.W_in)[np.asarray(sp.input_connectivity) == 0] == 0).all()
    assert (np.asarray(eff.W_out)[:, signs < 0] == 0).all()


@pytest.mark.parametrize("framework", sorted(TRAINERS))
def test_training_keeps_pattern_padding_and_constraints(framework):
    sp = _sparse_net()
    initial_values = np.asarray(sp.W_rec.values).copy()
    x = _inputs(batch=8, steps=20)
    trained, grads, losses = TRAINERS[framework](sp, x)
    _check_constraints(sp, trained)
    # training moved the stored values, but not the pinned ones, which got no gradient
    values = np.asarray(trained.W_rec.values)
    pinned = PINNED["W_rec"].astype(bool)
    assert values[pinned].tobytes() == initial_values[pinned].tobytes()
    assert not np.array_equal(values[~pinned], initial_values[~pinned])
    assert (np.asarray(grads["W_rec"])[pinned] == 0).all()
    assert np.asarray(trained.b_out).tobytes() == np.asarray(sp.b_out).tobytes()
    assert losses[-1] < losses[0]
    # the user's network is untouched, and the trained one runs the same in basic_rnn
    assert np.asarray(sp.W_rec.values).tobytes() == initial_values.tobytes()
    np.testing.assert_allclose(
        jaxinit.basic_rnn(trained, x)[0],
        jaxinit.basic_rnn(trained.todense(), x)[0],
        rtol=1e-4,
        atol=1e-5,
    )


def test_nnx_fits_a_small_task_on_a_sparse_network():
    sp = _sparse_net(seed=2)
    x = _inputs(batch=16, steps=20, seed=5)
    trained, _, losses = _train_nnx(sp, x, steps=60)
    assert losses[-1] < 0.5 * losses[0]
    _check_constraints(sp, trained)
    assert isinstance(jaxinit.nnx.BasicRNN(sp).effective().W_rec, RowSparse)


RUNNERS = {
    "nnx": lambda p, x: jaxinit.nnx.BasicRNN(p)(x),
    "linen": lambda p, x: jaxinit.linen.BasicRNN(p).apply(
        jaxinit.linen.BasicRNN(p).init(jax.random.key(0), x), x
    ),
    "linen_cell": lambda p, x: nn.RNN(jaxinit.linen.BasicRNNCell(p)).apply(
        nn.RNN(jaxinit.linen.BasicRNNCell(p)).init(jax.random.key(0), x), x
    ),
    "equinox": lambda p, x: jaxinit.equinox.BasicRNN(p)(x),
}


def _haiku_forward(p, x):
    def forward(x):
        core = jaxinit.haiku.BasicRNN(p)
        return hk.dynamic_unroll(core, x, core.initial_state(x.shape[0]), time_major=False)[0]

    f = hk.without_apply_rng(hk.transform(forward))
    return f.apply(f.init(jax.random.key(0), x), x)


RUNNERS["haiku"] = _haiku_forward


@pytest.mark.parametrize("framework", sorted(RUNNERS))
def test_frameworks_run_sparse_networks_as_basic_rnn_does(framework):
    sp = _sparse_net(transfer_function="tanh")
    x = _inputs(steps=15)
    want_y, want_s = jaxinit.basic_rnn(sp, x)
    y, s = RUNNERS[framework](sp, x)
    np.testing.assert_allclose(y, want_y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(s, want_s, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------
# trainable / zero_fixed / keep_fixed on a SparseParams
# ---------------------------------------------------------------------------


def test_trainable_marks_the_values_and_never_the_index():
    sp = _sparse_net()
    spec = jaxinit.trainable({"net": sp, "extra": jnp.ones(3), "count": jnp.arange(3)})
    flags = spec["net"]
    assert isinstance(flags, SparseParams) and isinstance(flags.W_rec, RowSparse)
    assert flags.W_rec.values is True and flags.W_rec.index is False
    assert all(getattr(flags, name) is True for name in TRAINABLE if name != "W_rec")
    assert all(getattr(flags, name) is False for name in DENSE_FIXED)
    assert spec["extra"] is True and spec["count"] is False
    # as an Equinox filter spec: the index and the constraints land in the frozen half
    trained, frozen = eqx.partition(sp, flags)
    assert trained.W_rec.index is None and trained.input_connectivity is None
    assert frozen.W_rec.values is None and frozen.W_rec.index is sp.W_rec.index


def test_zero_fixed_zeroes_constraints_and_pinned_slots_and_leaves_the_index():
    sp = _sparse_net()
    x = _inputs(steps=5)
    grads = jax.grad(lambda p: jnp.sum(jaxinit.basic_rnn(p, x)[0] ** 2), allow_int=True)(sp)
    ones = jax.tree.map(
        lambda g: jnp.ones_like(g) if jnp.issubdtype(g.dtype, jnp.inexact) else g, grads
    )
    out = jaxinit.zero_fixed(ones, fixed={"W_rec": PINNED["W_rec"]})
    values = np.asarray(out.W_rec.values)
    assert (values[0] == 0).all() and (values[1:] == 1).all()
    assert out.W_rec.index is ones.W_rec.index  # the float0 gradient of the index, as given
    for name in DENSE_FIXED:
        assert (np.asarray(getattr(out, name)) == 0).all()
    assert (np.asarray(out.W_in) == 1).all()
    assert jnp.abs(grads.W_rec.values).max() > 0


def test_keep_fixed_adds_an_integer_zero_to_the_index():
    sp = _sparse_net()
    opt = jaxinit.keep_fixed(optax.sgd(1.0))
    state = opt.init(sp)
    # integer "gradients" of the index (as a hand-made tree may hold) move nothing
    grads = jax.tree.map(jnp.ones_like, sp)
    updates, _ = opt.update(grads, state, sp)
    assert updates.W_rec.index.dtype == jnp.int32 and not np.asarray(updates.W_rec.index).any()
    new = optax.apply_updates(sp, updates)
    assert np.asarray(new.W_rec.index).tobytes() == np.asarray(sp.W_rec.index).tobytes()
    np.testing.assert_array_equal(new.W_rec.values, sp.W_rec.values - 1.0)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_sparse_errors():
    sp = _sparse_net()
    x = _inputs(steps=3)
    bad_index = dataclasses.replace(
        sp, W_rec=RowSparse(sp.W_rec.values, sp.W_rec.index.astype(jnp.int16), N_REC)
    )
    with pytest.raises(TypeError, match=r"params\.W_rec\.index must be int32, got dtype int16"):
        jaxinit.basic_rnn(bad_index, x)
    out_of_range = dataclasses.replace(
        sp, W_rec=RowSparse(sp.W_rec.values, sp.W_rec.index.at[0, 0].set(N_REC + 5), N_REC)
    )
    with pytest.raises(ValueError, match=r"params\.W_rec\.index must lie in 0\.\.40 .*got 45"):
        jaxinit.nnx.BasicRNN(out_of_range)
    ensemble = jax.tree.map(lambda a: jnp.stack([a, a]), sp)
    with pytest.raises(ValueError, match=r"params must be one network, got an ensemble"):
        jaxinit.basic_rnn(ensemble, x)
    with pytest.raises(
        TypeError,
        match=r"params must be a jaxinit\.Params or jaxinit\.sparse\.SparseParams, got Row",
    ):
        jaxinit.basic_rnn(sp.W_rec, x)
    with pytest.raises(
        ValueError,
        match=r"fixed\['W_rec'\] has shape \(40, 40\); a sparse W_rec's values have shape \(40, 8",
    ):
        jaxinit.nnx.BasicRNN(sp, fixed={"W_rec": np.zeros((N_REC, N_REC))})
    with pytest.raises(ValueError, match=r"fixed\['W_rec'\] has shape \(40, 40\)"):
        jaxinit.keep_fixed(optax.sgd(0.1), fixed={"W_rec": np.zeros((N_REC, N_REC))}).init(sp)
