"""PsychRNN's "Basic" rate RNN as pure functions: the one numerical core of every model.

:func:`basic_rnn` runs a :class:`~jaxinit.Params` (or a
:class:`~jaxinit.sparse.SparseParams`) over a batch of input sequences. The
framework models (``jaxinit.nnx``, ``jaxinit.linen``, ``jaxinit.haiku``,
``jaxinit.equinox``) are thin wrappers that keep the arrays the way their
framework wants and call :func:`step` and :func:`readout` below,
so they all compute the same numbers.

The update rule, with ``alpha = dt / tau`` (a number, or one per unit when
``tau`` is a vector) and ``f`` the transfer function::

    s'  = (1 - alpha) s + alpha (f(s) W_rec_eff^T + x W_in_eff^T + b_rec)
          + sqrt(2 alpha rec_noise^2) N(0, 1)
    y   = f(s') W_out_eff^T + b_out

from ``s = init_state`` for every trial; the output of a step is read from the
new state. The effective weights are :func:`jaxinit.effective` of the arrays.
A sparse network's recurrent product ``f(s) W_rec_eff^T`` is the
:class:`~jaxinit.sparse.RowSparse` gather product on its effective weights:
O(N_rec K) per trial and step, no ``N_rec x N_rec`` array.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from jaxinit._src import checks
from jaxinit._src.effective import Effective, SparseEffective, effective
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.transfer import TransferFunction

#: PsychRNN's default time step and time constant (ms); ``alpha = dt / tau``.
DEFAULT_DT = 10.0
DEFAULT_TAU = 100.0


class TimeConstants(NamedTuple):
    """``alpha``, ``1 - alpha`` and the noise scale, each a number or an ``(N_rec,)`` array.

    Computed in float64 on the host and rounded once to the weights' dtype
    where used, as PsychRNN's Python floats are.
    """

    alpha: float | NDArray[np.float64]
    keep: float | NDArray[np.float64]
    noise_std: float | NDArray[np.float64]


def time_constants(
    dt: float, tau: float | ArrayLike, rec_noise: float, n_rec: int
) -> TimeConstants:
    """Check ``dt``, ``tau`` (a number or one per unit) and ``rec_noise``; return the constants."""
    dt = checks.finite_float("dt", dt, positive=True)
    rec_noise = checks.finite_float("rec_noise", rec_noise)
    if rec_noise < 0:
        raise ValueError(f"rec_noise must be non-negative, got {rec_noise!r}")
    if isinstance(tau, numbers.Real) or (isinstance(tau, np.ndarray) and tau.ndim == 0):
        tau = checks.finite_float("tau", tau, positive=True)
        alpha = dt / tau
        return TimeConstants(alpha, 1.0 - alpha, float(np.sqrt(2.0 * alpha * rec_noise**2)))
    if checks.is_traced(tau):
        raise TypeError("tau must be a concrete number or array, not a traced value")
    taus = np.asarray(tau)
    if taus.dtype == np.bool_ or not (
        np.issubdtype(taus.dtype, np.floating) or np.issubdtype(taus.dtype, np.integer)
    ):
        raise TypeError(f"tau must be a real number or an array of them, got dtype {taus.dtype}")
    if taus.shape != (n_rec,):
        raise ValueError(
            f"tau must be a number or a vector of one time constant per unit, "
            f"shape ({n_rec},), got shape {taus.shape}"
        )
    taus = taus.astype(np.float64)
    if not checks.positive_finite(taus).all():
        bad = checks.first_bad(taus, checks.positive_finite)
        raise ValueError(f"tau must be finite and positive for every unit, found {bad!r}")
    alphas = dt / taus
    return TimeConstants(alphas, 1.0 - alphas, np.sqrt(2.0 * alphas * rec_noise**2))


def _cast(value: float | NDArray[np.float64], like: jax.Array) -> jax.Array | float:
    """A constant in ``like``'s dtype, with ``like``'s rank (explicit, no rank promotion)."""
    if isinstance(value, float):
        return value
    return _rank(jnp.asarray(value, like.dtype), like.ndim)


def _rank(vector: jax.Array, ndim: int) -> jax.Array:
    """A per-unit vector with leading axes of length 1 up to ``ndim`` dimensions."""
    return vector.reshape((1,) * (ndim - vector.ndim) + vector.shape)


def recurrent_drive(W_rec: jax.Array | RowSparse, rates: jax.Array) -> jax.Array:
    """``rates @ W_rec^T`` for ``rates`` of shape ``(..., N_rec)``.

    A :class:`RowSparse` ``W_rec`` is applied with its own gather product
    (O(N_rec K) per row of ``rates``); the leading axes of ``rates`` become the
    columns of one product and are put back afterwards.
    """
    if not isinstance(W_rec, RowSparse):
        return rates @ W_rec.T
    if rates.ndim == 1:
        return W_rec @ rates
    columns = rates.reshape((-1, rates.shape[-1])).T
    return (W_rec @ columns).T.reshape(rates.shape)


def step(
    eff: Effective | SparseEffective,
    b_rec: jax.Array,
    f: TransferFunction,
    tc: TimeConstants,
    state: jax.Array,
    x: jax.Array,
    noise: jax.Array | None = None,
) -> jax.Array:
    """One time step: the new state from ``state`` ``(..., N_rec)`` and input ``x`` ``(..., N_in)``.

    ``noise`` is a standard normal draw of the state's shape (``None``: no noise).
    """
    drive = recurrent_drive(eff.W_rec, f(state)) + x @ eff.W_in.T + _rank(b_rec, state.ndim)
    new = _cast(tc.keep, state) * state + _cast(tc.alpha, state) * drive
    if noise is not None:
        new = new + _cast(tc.noise_std, state) * noise
    return new


def readout(
    eff: Effective | SparseEffective, b_out: jax.Array, f: TransferFunction, state: jax.Array
) -> jax.Array:
    """The output read from a state: ``f(s) W_out_eff^T + b_out``."""
    return f(state) @ eff.W_out.T + _rank(b_out, state.ndim)


def check_inputs(
    inputs: ArrayLike, n_in: int, dtype: jax.typing.DTypeLike, *, time_axis: bool
) -> jax.Array:
    """``inputs`` as an array of the weights' dtype, after checking its shape and kind."""
    x = jnp.asarray(inputs)
    if time_axis:
        ok, expected = x.ndim == 3 and x.shape[-1] == n_in, f"(batch, time, N_in={n_in})"
    else:
        ok, expected = x.ndim >= 1 and x.shape[-1] == n_in, f"(..., N_in={n_in})"
    if not ok:
        raise ValueError(f"inputs must have shape {expected}, got {tuple(x.shape)}")
    if x.dtype == jnp.bool_ or not (
        jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)
    ):
        raise TypeError(f"inputs must be real numbers, got dtype {x.dtype}")
    return x.astype(dtype)


def noise_key(rec_noise: float, key: jax.Array | None) -> jax.Array | None:
    """The key for the recurrent noise: required when ``rec_noise > 0``, else unused."""
    if rec_noise == 0:
        return None
    if key is None:
        raise ValueError(
            f"rec_noise={rec_noise!r} is positive: pass key=jax.random.key(...) "
            "to draw the recurrent noise"
        )
    checks.check_key(key)
    return key


def check_network(params: object, name: str = "params") -> Params | SparseParams:
    """``params`` if it is one dense or sparse network; ``TypeError``/``ValueError`` if not.

    A sparse network's ``W_rec`` is checked too (types, shapes, and the index
    range when concrete).
    """
    if not isinstance(params, (Params, SparseParams)):
        raise TypeError(
            f"{name} must be a jaxinit.Params or jaxinit.sparse.SparseParams, "
            f"got {type(params).__name__}"
        )
    if isinstance(params, SparseParams):
        # A model may hold a concrete pattern while its caller traces (linen's
        # setup runs inside apply): evaluate the range check eagerly there too.
        with jax.ensure_compile_time_eval():
            check_row_sparse(params.W_rec, f"{name}.W_rec")
    checks.single_network(params, name)
    return params


def basic_rnn(
    params: Params | SparseParams,
    inputs: ArrayLike,
    *,
    dt: float = DEFAULT_DT,
    tau: float | ArrayLike = DEFAULT_TAU,
    rec_noise: float = 0.0,
    key: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Run PsychRNN's ``Basic`` rate RNN over a batch of input sequences.

    The network uses :func:`jaxinit.effective` of ``params``: ``|W| * mask``
    times the Dale signs, so whatever the raw arrays hold (after any number
    of optimizer steps) the masks and Dale's law are obeyed. The update rule,
    with ``alpha = dt / tau`` and ``f`` the network's transfer function::

        s'  = (1 - alpha) s + alpha (f(s) W_rec_eff^T + x W_in_eff^T + b_rec)
              + sqrt(2 alpha rec_noise^2) N(0, 1)
        y   = f(s') W_out_eff^T + b_out

    from ``s = init_state`` for every trial, as PsychRNN's ``Basic`` model
    computes it (its outputs agree to float32 rounding on the same weights and
    inputs when ``rec_noise=0``). A pure function: jit it, differentiate it,
    ``jax.vmap`` it over an ensemble's members.

    Args:
      params: one network (no ensemble axes; ``jax.vmap`` for ensembles),
        dense (:class:`~jaxinit.Params`) or sparse
        (:class:`~jaxinit.sparse.SparseParams`: the recurrent product then
        gathers each unit's ``K`` inputs, O(N_rec K) per trial and step, and
        no ``N_rec x N_rec`` array is made).
      inputs: ``(batch, time, N_in)``, PsychRNN's layout; cast to the
        weights' dtype.
      dt: the time step (PsychRNN's ``dt``, default 10).
      tau: the time constant (PsychRNN's ``tau``, default 100), or one per
        unit: an ``(N_rec,)`` array, giving each unit its own ``alpha``.
      rec_noise: standard deviation of the recurrent noise (default 0).
      key: a PRNG key for the noise, needed when ``rec_noise > 0``; step
        ``t`` draws from ``jax.random.split(key, time)[t]``.

    Returns:
      ``(outputs, states)``: ``(batch, time, N_out)`` and ``(batch, time,
      N_rec)``, the output and the state after each step.

    Example:
      >>> import jax, jax.numpy as jnp, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, dale_ratio=0.75)
      >>> net = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> outputs, states = jaxinit.basic_rnn(net, jnp.ones((3, 5, 2)))
      >>> outputs.shape, states.shape
      ((3, 5, 1), (3, 5, 8))
      >>> tau = jnp.linspace(50.0, 200.0, 8)        # one time constant per unit
      >>> jaxinit.basic_rnn(net, jnp.ones((3, 5, 2)), tau=tau)[1].shape
      (3, 5, 8)
      >>> pattern = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (8, 8), 3)
      >>> sparse_cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, dale_ratio=0.75,
      ...                             spectral_method="krylov")
      >>> sparse = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), sparse_cfg, pattern)
      >>> outputs = jaxinit.basic_rnn(sparse, jnp.ones((3, 5, 2)))[0]   # O(N K) per step
      >>> dense = jaxinit.basic_rnn(sparse.todense(), jnp.ones((3, 5, 2)))[0]
      >>> bool(jnp.allclose(outputs, dense, atol=1e-6))
      True
    """
    params = check_network(params)
    n_rec = params.W_rec.shape[-1]
    tc = time_constants(dt, tau, rec_noise, n_rec)
    x = check_inputs(inputs, params.W_in.shape[-1], params.W_rec.dtype, time_axis=True)
    return scan(params, x, tc, noise_key(rec_noise, key))


def scan(
    params: Params | SparseParams, x: jax.Array, tc: TimeConstants, key: jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """:func:`basic_rnn` after its checks: ``x`` is ``(batch, time, N_in)`` of the right dtype."""
    eff = effective(params)
    f = params.transfer
    batch, steps = x.shape[0], x.shape[1]
    state = jnp.broadcast_to(params.init_state, (batch, params.init_state.shape[-1]))

    def one(
        s: jax.Array, xs: tuple[jax.Array, jax.Array | None]
    ) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        x_t, k_t = xs
        noise = None if k_t is None else jax.random.normal(k_t, s.shape, s.dtype)
        s = step(eff, params.b_rec, f, tc, s, x_t, noise)
        return s, (readout(eff, params.b_out, f, s), s)

    keys = None if key is None else jax.random.split(key, steps)
    _, (ys, ss) = jax.lax.scan(one, state, (jnp.swapaxes(x, 0, 1), keys))
    return jnp.swapaxes(ys, 0, 1), jnp.swapaxes(ss, 0, 1)


def pin(
    current: Params | SparseParams,
    masks: Mapping[str, jax.Array | NDArray[np.bool_]],
    values: Mapping[str, Any],
) -> Params | SparseParams:
    """``current`` with the entries ``masks[name]`` pins set to ``values[name]``.

    The models apply this before every forward pass, so pinned entries take
    no gradient and keep their values whatever the optimizer does to the
    stored arrays. For a sparse ``W_rec`` the mask and the value are per
    stored slot, of the shape of its ``values`` (a RowSparse value gives its
    ``values``).
    """
    if not masks:
        return current
    arrays: dict[str, Any] = {
        name: _pin_one(mask, values[name], getattr(current, name))
        for name, mask in masks.items()
    }
    if isinstance(current, Params):
        return current.replace(**arrays)
    return dataclasses.replace(current, **arrays)


def _pin_one(mask: Any, value: Any, current: Any) -> Any:
    if isinstance(current, RowSparse):
        slots = value.values if isinstance(value, RowSparse) else value
        return current.with_values(jnp.where(mask, slots, current.values))
    return jnp.where(mask, value, current)
