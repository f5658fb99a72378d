"""A PsychRNN-style "Basic" rate RNN as a Flax nnx module, built from jaxinit ``Params``.

:class:`BasicRNN` is a small reference model to import or copy. It keeps a
:class:`~jaxinit.Params` inside an nnx module the way PsychRNN keeps its TF
variables: the six arrays PsychRNN trains (``W_in``, ``W_rec``, ``W_out``,
``b_rec``, ``b_out``, ``init_state``) are ``nnx.Param`` variables, and the
masks and Dale sign vectors are :class:`Fixed` variables, which
``nnx.grad``, ``nnx.Optimizer(..., wrt=nnx.Param)`` and ``nnx.split(model,
nnx.Param, ...)`` leave alone. ``dale_ratio``, ``transfer_function``, ``dt``,
``tau`` and ``rec_noise`` are static attributes. ``model.params`` gives the
network back as a ``Params`` (e.g. for :func:`jaxinit.save_npz`, which writes
a file PsychRNN loads).

Every forward pass starts from :func:`jaxinit.effective` of the current
arrays, so after any number of optimizer steps the weights the network uses
still obey the masks and Dale's law: ``|W| * mask`` times the Dale signs.

The update rule is PsychRNN's ``Basic`` model, with ``alpha = dt / tau`` and
``f`` the transfer function (ReLU by default)::

    s'  = (1 - alpha) s + alpha (f(s) W_rec_eff^T + x W_in_eff^T + b_rec)
          + sqrt(2 alpha rec_noise^2) N(0, 1)
    y   = f(s') W_out_eff^T + b_out

starting from ``s = init_state`` for every trial of the batch; the output of a
step is read from the new state.

This module imports Flax (``pip install 'jaxinit[flax]'``); ``import jaxinit`` does not.

Example:
  >>> import jax, jax.numpy as jnp, jaxinit
  >>> cfg = jaxinit.Config(N_in=2, N_rec=20, N_out=1, dale_ratio=0.8,
  ...                      spectral_radius_of="effective")
  >>> model = BasicRNN(jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg))
  >>> outputs, states = model(jnp.ones((4, 30, 2)))   # (batch, time, N_in)
  >>> outputs.shape, states.shape
  ((4, 30, 1), (4, 30, 20))
"""

from __future__ import annotations

import math
import numbers
from typing import TypeVar

import jax
import jax.numpy as jnp

try:
    from flax import nnx
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.nnx needs Flax; install it with: pip install 'jaxinit[flax]'"
    ) from _err

from jaxinit._src import checks
from jaxinit._src.effective import Effective, effective
from jaxinit._src.names import FIXED_FIELDS, TRAINABLE_FIELDS
from jaxinit._src.params import Params

__all__ = ["FIXED", "TRAINABLE", "BasicRNN", "Fixed"]

#: The arrays PsychRNN trains: ``nnx.Param`` variables of :class:`BasicRNN`
#: (the weights, the biases and ``init_state``).
TRAINABLE: tuple[str, ...] = TRAINABLE_FIELDS

#: The arrays PsychRNN keeps fixed: :class:`Fixed` variables of :class:`BasicRNN`
#: (the masks and the Dale sign vectors).
FIXED: tuple[str, ...] = FIXED_FIELDS


_A = TypeVar("_A")


class Fixed(nnx.Variable[_A]):
    """A non-trainable array of a network: a connectivity mask or a Dale sign vector."""


def _number(name: str, value: object, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"{name} must be finite and {kind}, got {value!r}")
    return value


class BasicRNN(nnx.Module):
    """PsychRNN's ``Basic`` continuous-time rate RNN on a jaxinit network.

    Args:
      params: a single network (:class:`~jaxinit.Params` without ensemble
        axes), e.g. from :func:`jaxinit.gaussian_spectral_radius`. Its arrays
        are copied into the module's variables.
      dt: the simulation time step (PsychRNN's ``dt``, default 10).
      tau: the units' time constant (PsychRNN's ``tau``, default 100);
        ``alpha = dt / tau``.
      rec_noise: standard deviation of the recurrent noise (PsychRNN's
        ``rec_noise``, default 0). When positive, a call needs ``key`` or
        ``rngs``.

    Attributes:
      W_in, W_rec, W_out, b_rec, b_out, init_state: ``nnx.Param``, raw
        (PsychRNN's ``(out, in)`` shapes).
      input_connectivity, rec_connectivity, output_connectivity,
        dale_rec_diag, dale_out_diag: :class:`Fixed`.
      dale_ratio, transfer_function, dt, tau, rec_noise: static.
    """

    # Set in __init__ by name (setattr); declared here for type checkers only.
    W_in: nnx.Param[jax.Array]
    W_rec: nnx.Param[jax.Array]
    W_out: nnx.Param[jax.Array]
    b_rec: nnx.Param[jax.Array]
    b_out: nnx.Param[jax.Array]
    init_state: nnx.Param[jax.Array]
    input_connectivity: Fixed[jax.Array]
    rec_connectivity: Fixed[jax.Array]
    output_connectivity: Fixed[jax.Array]
    dale_rec_diag: Fixed[jax.Array]
    dale_out_diag: Fixed[jax.Array]

    def __init__(
        self, params: Params, *, dt: float = 10.0, tau: float = 100.0, rec_noise: float = 0.0
    ) -> None:
        if not isinstance(params, Params):
            raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
        checks.single_network(params)
        self.dt = _number("dt", dt, positive=True)
        self.tau = _number("tau", tau, positive=True)
        self.rec_noise = _number("rec_noise", rec_noise, positive=False)
        for name in TRAINABLE:
            setattr(self, name, nnx.Param(jnp.asarray(getattr(params, name))))
        for name in FIXED:
            setattr(self, name, Fixed(jnp.asarray(getattr(params, name))))
        self.dale_ratio = params.dale_ratio
        self.transfer_function = params.transfer_function

    @property
    def alpha(self) -> float:
        """``dt / tau``."""
        return self.dt / self.tau

    @property
    def params(self) -> Params:
        """The current arrays as a :class:`~jaxinit.Params` (raw, as trained)."""
        arrays = {name: getattr(self, name)[...] for name in (*TRAINABLE, *FIXED)}
        return Params(
            **arrays, dale_ratio=self.dale_ratio, transfer_function=self.transfer_function
        )

    def effective(self) -> Effective:
        """The weights the network uses now: :func:`jaxinit.effective` of :attr:`params`."""
        return effective(self.params)

    def __call__(
        self,
        inputs: jax.typing.ArrayLike,
        *,
        key: jax.Array | None = None,
        rngs: nnx.Rngs | None = None,
    ) -> tuple[jax.Array, jax.Array]:
        """Run the network over a batch of input sequences.

        Args:
          inputs: ``(batch, time, N_in)`` array, cast to the weights' dtype.
          key: a PRNG key for the recurrent noise (needed only when
            ``rec_noise > 0``; one fresh normal draw per step).
          rngs: alternatively an ``nnx.Rngs``; its ``noise`` stream (or its
            default stream) gives the key.

        Returns:
          ``(outputs, states)`` of shapes ``(batch, time, N_out)`` and
          ``(batch, time, N_rec)``: the output and the state after each step.
        """
        W_rec = self.W_rec[...]
        x = jnp.asarray(inputs)
        if x.ndim != 3 or x.shape[-1] != self.W_in.shape[-1]:
            raise ValueError(
                f"inputs must have shape (batch, time, N_in={self.W_in.shape[-1]}), "
                f"got {tuple(x.shape)}"
            )
        if not (jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)):
            raise TypeError(f"inputs must be real numbers, got dtype {x.dtype}")
        x = x.astype(W_rec.dtype)
        noise_key = self._noise_key(key, rngs)

        eff = self.effective()
        f = self.params.transfer
        a = self.alpha
        b_rec = self.b_rec[...][None, :]
        b_out = self.b_out[...][None, :]
        batch, steps = x.shape[0], x.shape[1]
        state = jnp.broadcast_to(self.init_state[...][None, :], (batch, W_rec.shape[-1]))
        scale = math.sqrt(2.0 * a * self.rec_noise**2)

        def step(
            s: jax.Array, xs: tuple[jax.Array, jax.Array | None]
        ) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
            x_t, k_t = xs
            s = (1 - a) * s + a * (f(s) @ eff.W_rec.T + x_t @ eff.W_in.T + b_rec)
            if k_t is not None:
                s = s + scale * jax.random.normal(k_t, s.shape, s.dtype)
            y = f(s) @ eff.W_out.T + b_out
            return s, (y, s)

        keys = None if noise_key is None else jax.random.split(noise_key, steps)
        _, (ys, ss) = jax.lax.scan(step, state, (jnp.swapaxes(x, 0, 1), keys))
        return jnp.swapaxes(ys, 0, 1), jnp.swapaxes(ss, 0, 1)

    def _noise_key(self, key: jax.Array | None, rngs: nnx.Rngs | None) -> jax.Array | None:
        if key is not None and rngs is not None:
            raise TypeError("pass either key or rngs for the recurrent noise, not both")
        if self.rec_noise == 0:
            return None
        if rngs is not None:
            if not isinstance(rngs, nnx.Rngs):
                raise TypeError(f"rngs must be an nnx.Rngs, got {type(rngs).__name__}")
            noise: jax.Array = rngs.noise()  # the noise stream, else the default one
            return noise
        if key is None:
            raise ValueError(
                f"rec_noise={self.rec_noise!r} is positive: pass key=jax.random.key(...) "
                "or rngs=nnx.Rngs(...) to draw the recurrent noise"
            )
        return key
