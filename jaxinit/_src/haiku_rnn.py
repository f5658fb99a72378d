"""PsychRNN's "Basic" rate RNN as a Haiku ``hk.RNNCore`` (re-exported by :mod:`jaxinit.haiku`).

Imported only by ``jaxinit.haiku``, which checks that Haiku is installed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import haiku as hk
import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

from jaxinit._src import basic_rnn, models
from jaxinit._src.effective import effective
from jaxinit._src.names import TRAINABLE_FIELDS
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams


class BasicRNN(hk.RNNCore):
    """PsychRNN's ``Basic`` RNN as a Haiku core, for ``hk.dynamic_unroll``.

    Only what trains is a Haiku parameter: ``W_in``, ``W_rec``, ``W_out``,
    ``b_rec``, ``b_out`` and ``init_state`` (PsychRNN's names and shapes),
    initialised to ``network``'s values. The masks and Dale signs are
    constants taken from ``network``, never parameters, and every step runs on
    :func:`jaxinit.effective` of the current arrays, so training cannot break
    the masks or Dale's law. Entries that ``fixed`` pins are read from
    ``network``, so they get no gradient. The update rule and its code are
    :func:`jaxinit.basic_rnn`'s. A :class:`~jaxinit.sparse.SparseParams`
    network works too: its ``W_rec`` parameter is the ``(N_rec, K)`` values
    of the RowSparse, its pattern stays a constant of ``network``, and the
    recurrent product is the O(N_rec K) sparse one.

    A call returns ``((output, new_state), new_state)``, so
    ``hk.dynamic_unroll(core, x, core.initial_state(batch), time_major=False)``
    returns ``((outputs, states), final_state)``. With ``rec_noise > 0`` each
    step draws its noise with ``hk.next_rng_key()`` (pass a key to ``apply``).
    Get the trained network back with :func:`to_params`.

    Args:
      network: a single network (:class:`~jaxinit.Params` or
        :class:`~jaxinit.sparse.SparseParams`, without ensemble axes).
      dt: the time step (PsychRNN's ``dt``, default 10).
      tau: the time constant (default 100), or an ``(N_rec,)`` vector of one
        per unit; ``alpha = dt / tau``.
      rec_noise: standard deviation of the recurrent noise (default 0).
      fixed: PsychRNN's ``fixed_weights``: a trainable array's name to a 0/1
        array of its shape, 1 where the entry keeps its initial value (for a
        sparse network, ``fixed["W_rec"]`` has the values' shape ``(N_rec, K)``).
      name: the Haiku module name (default ``"basic_rnn"``).
    """

    def __init__(
        self,
        network: Params | SparseParams,
        *,
        dt: float = basic_rnn.DEFAULT_DT,
        tau: float | ArrayLike = basic_rnn.DEFAULT_TAU,
        rec_noise: float = 0.0,
        fixed: Mapping[str, ArrayLike] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.options, self.pinned = models.setup(
            network, dt=dt, tau=tau, rec_noise=rec_noise, fixed=fixed
        )
        self.network = network

    def _current(self) -> Params | SparseParams:
        arrays = {}
        initial = models.trainable_arrays(self.network)
        for name in TRAINABLE_FIELDS:
            value = jnp.asarray(initial[name])
            arrays[name] = hk.get_parameter(
                name, value.shape, value.dtype, init=lambda *_, v=value: v
            )
        return models.on_network(self.network, arrays, self.pinned)

    def __call__(
        self, inputs: ArrayLike, prev_state: jax.Array
    ) -> tuple[tuple[jax.Array, jax.Array], jax.Array]:
        """One step: ``((output, state), state)`` from an input ``(..., N_in)`` and a state."""
        net = self._current()
        x = basic_rnn.check_inputs(inputs, net.W_in.shape[-1], net.W_rec.dtype, time_axis=False)
        eff = effective(net)
        noise = None
        if self.options.rec_noise:
            noise = jax.random.normal(hk.next_rng_key(), prev_state.shape, prev_state.dtype)
        state = basic_rnn.step(
            eff, net.b_rec, net.transfer, self.options.constants, prev_state, x, noise
        )
        return (basic_rnn.readout(eff, net.b_out, net.transfer, state), state), state

    def initial_state(self, batch_size: int | None) -> jax.Array:
        """The trainable ``init_state`` for each of ``batch_size`` trials (``None``: unbatched)."""
        init_state = self._current().init_state
        if batch_size is None:
            return init_state
        return jnp.broadcast_to(init_state, (batch_size, init_state.shape[-1]))


def to_params(
    params: Mapping[str, Any],
    network: Params | SparseParams,
    *,
    fixed: Mapping[str, ArrayLike] | None = None,
    name: str | None = None,
) -> Params | SparseParams:
    """The trained network of a :class:`BasicRNN` as a :class:`~jaxinit.Params`
    (a :class:`~jaxinit.sparse.SparseParams` when ``network`` is one).

    Args:
      params: the Haiku parameters (what ``init`` returned, or trained).
      network: the network the core was made from (its masks and Dale signs,
        and the values of pinned entries).
      fixed: the ``fixed`` the core was made with.
      name: the core's full module name, when ``params`` holds more than one
        ``BasicRNN``.
    """
    pinned = models.setup(network, dt=1.0, tau=1.0, rec_noise=0.0, fixed=fixed)[1]
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a Haiku params dict, got {type(params).__name__}")
    owners = [key for key, value in params.items() if set(TRAINABLE_FIELDS) <= set(value)]
    if name is not None:
        owners = [key for key in owners if key == name]
    if len(owners) != 1:
        raise ValueError(
            f"params must hold exactly one jaxinit BasicRNN{f' named {name!r}' if name else ''}"
            f", found {owners}; pass name= to choose"
        )
    return models.on_network(network, params[owners[0]], pinned)
