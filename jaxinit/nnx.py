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

A :class:`~jaxinit.sparse.SparseParams` works the same way: ``W_rec`` is
then the ``nnx.Param`` of the RowSparse's ``(N_rec, K)`` values, its int32
column indices (the pattern, which is also the recurrent mask) are the
:class:`Fixed` variable ``W_rec_index``, there is no ``rec_connectivity``
variable, ``model.params`` is a ``SparseParams`` and the recurrent product is
the O(N_rec K) sparse one.

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

from collections.abc import Mapping
from typing import TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike, NDArray

try:
    from flax import nnx
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.nnx needs Flax; install it with: pip install 'jaxinit[flax]'"
    ) from _err

from jaxinit._src import models
from jaxinit._src.basic_rnn import DEFAULT_DT, DEFAULT_TAU
from jaxinit._src.effective import Effective, SparseEffective, effective
from jaxinit._src.names import FIXED_FIELDS, TRAINABLE_FIELDS
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams

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


class BasicRNN(nnx.Module):
    """PsychRNN's ``Basic`` continuous-time rate RNN on a jaxinit network.

    Args:
      params: a single network (:class:`~jaxinit.Params` or
        :class:`~jaxinit.sparse.SparseParams`, without ensemble axes), e.g.
        from :func:`jaxinit.gaussian_spectral_radius`. Its arrays are copied
        into the module's variables.
      dt: the simulation time step (PsychRNN's ``dt``, default 10).
      tau: the units' time constant (PsychRNN's ``tau``, default 100), or an
        ``(N_rec,)`` vector of one per unit; ``alpha = dt / tau``.
      rec_noise: standard deviation of the recurrent noise (PsychRNN's
        ``rec_noise``, default 0). When positive, a call needs ``key`` or
        ``rngs``.
      fixed: PsychRNN's ``fixed_weights``: a trainable array's name to a 0/1
        array of its shape, 1 where the entry keeps its initial value. The
        forward pass uses the initial value there, so those entries get no
        gradient and :attr:`params` shows them unchanged. For a sparse
        network ``fixed["W_rec"]`` pins stored slots: shape ``(N_rec, K)``.

    Attributes:
      W_in, W_rec, W_out, b_rec, b_out, init_state: ``nnx.Param``, raw
        (PsychRNN's ``(out, in)`` shapes; a sparse network's ``W_rec`` is
        its ``(N_rec, K)`` values).
      input_connectivity, rec_connectivity, output_connectivity,
        dale_rec_diag, dale_out_diag: :class:`Fixed`; so are
        ``<name>_pinned`` and ``<name>_pinned_value`` for each name in
        ``fixed``. A sparse network has the int32 ``W_rec_index`` instead
        of ``rec_connectivity``.
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
        self,
        params: Params | SparseParams,
        *,
        dt: float = DEFAULT_DT,
        tau: float | ArrayLike = DEFAULT_TAU,
        rec_noise: float = 0.0,
        fixed: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        options, pinned = models.setup(params, dt=dt, tau=tau, rec_noise=rec_noise, fixed=fixed)
        self.options = options
        trained = models.trainable_arrays(params)
        for name in TRAINABLE:
            setattr(self, name, nnx.Param(jnp.asarray(trained[name])))
        # The masks, the Dale signs and a sparse pattern's index: never trained.
        self.fixed_names = models.fixed_names(params)
        for name, value in models.fixed_arrays(params).items():
            setattr(self, name, Fixed(jnp.asarray(value)))
        # Pinned entries and their values, as Fixed variables next to the array.
        self.pinned_names = tuple(sorted(pinned))
        for name in self.pinned_names:
            setattr(self, f"{name}_pinned", Fixed(jnp.asarray(pinned[name])))
            setattr(self, f"{name}_pinned_value", Fixed(jnp.asarray(trained[name])))
        self.dale_ratio = params.dale_ratio
        self.transfer_function = params.transfer_function

    @property
    def dt(self) -> float:
        """The time step."""
        return self.options.dt

    @property
    def tau(self) -> float | tuple[float, ...]:
        """The time constant, or one per unit."""
        return self.options.tau

    @property
    def rec_noise(self) -> float:
        """The standard deviation of the recurrent noise."""
        return self.options.rec_noise

    @property
    def alpha(self) -> float | NDArray[np.float64]:
        """``dt / tau``: a number, or one per unit."""
        return self.options.constants.alpha

    @property
    def params(self) -> Params | SparseParams:
        """The network the model runs now, as a :class:`~jaxinit.Params` (raw).

        A model made from a :class:`~jaxinit.sparse.SparseParams` gives one
        back (its ``W_rec`` the trained values on the fixed pattern). Pinned
        entries (``fixed``) hold their initial values, whatever the optimizer
        did to the stored arrays.
        """
        arrays = {name: getattr(self, name)[...] for name in (*TRAINABLE, *self.fixed_names)}
        pinned = {name: getattr(self, f"{name}_pinned")[...] for name in self.pinned_names}
        values = {name: getattr(self, f"{name}_pinned_value")[...] for name in self.pinned_names}
        return models.assemble(
            arrays,
            pinned,
            values,
            dale_ratio=self.dale_ratio,
            transfer_function=self.transfer_function,
        )

    def effective(self) -> Effective | SparseEffective:
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
        return models.run(self.params, self.options, inputs, self._noise_key(key, rngs))

    def _noise_key(self, key: jax.Array | None, rngs: nnx.Rngs | None) -> jax.Array | None:
        if key is not None and rngs is not None:
            raise TypeError("pass either key or rngs for the recurrent noise, not both")
        if self.rec_noise == 0 or rngs is None:
            return key
        if not isinstance(rngs, nnx.Rngs):
            raise TypeError(f"rngs must be an nnx.Rngs, got {type(rngs).__name__}")
        noise: jax.Array = rngs.noise()  # the noise stream, else the default one
        return noise
