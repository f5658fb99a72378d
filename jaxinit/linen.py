"""PsychRNN's "Basic" rate RNN for Flax linen: a cell for ``flax.linen.RNN``, and a whole model.

Both are made from a jaxinit network (a :class:`~jaxinit.Params`) and keep
only what trains in the ``"params"`` collection: ``W_in``, ``W_rec``,
``W_out``, ``b_rec``, ``b_out`` and ``init_state``, with their PsychRNN
names and shapes, initialised to the network's values. The masks and Dale
signs are constants of the module (its ``network`` attribute), never
variables, so an optimizer over ``variables["params"]`` cannot touch them, and
every step runs on :func:`jaxinit.effective` of the current arrays: whatever
the optimizer does, the network obeys its masks and Dale's law. Entries that
``fixed`` pins (PsychRNN's ``fixed_weights``) are read from ``network`` in the
forward pass, so they get no gradient and :meth:`BasicRNN.to_params` shows
them unchanged.

A :class:`~jaxinit.sparse.SparseParams` network works too: its ``W_rec``
parameter is the RowSparse's ``(N_rec, K)`` values, its pattern (int32 column
indices) stays a constant of ``network``, the recurrent product is the
O(N_rec K) sparse one, and :meth:`BasicRNN.to_params` gives a ``SparseParams``.

The update rule is :func:`jaxinit.basic_rnn`'s (PsychRNN's ``Basic`` model),
computed by the same code, so the cell, the model and every other framework's
``BasicRNN`` give the same numbers.

* :class:`BasicRNNCell` is a ``flax.linen.RNNCellBase``: ``cell(carry, x)``
  returns ``(new_carry, (y, new_carry))``, so ``flax.linen.RNN(cell)(x)``
  returns ``(outputs, states)``. With recurrent noise, pass
  ``split_rngs={"params": False, "noise": True}`` to ``flax.linen.RNN`` so
  that every step draws fresh noise from the ``"noise"`` stream.
* :class:`BasicRNN` runs a whole ``(batch, time, N_in)`` batch at once
  (:func:`jaxinit.basic_rnn` on the current arrays).

This module imports Flax (``pip install 'jaxinit[flax]'``); ``import jaxinit`` does not.

Example:
  >>> import flax.linen as nn, jax, jax.numpy as jnp, jaxinit
  >>> cfg = jaxinit.Config(N_in=2, N_rec=10, N_out=1, dale_ratio=0.8)
  >>> net = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
  >>> rnn = nn.RNN(BasicRNNCell(net))
  >>> x = jnp.ones((4, 30, 2))                         # (batch, time, N_in)
  >>> variables = rnn.init(jax.random.key(1), x)
  >>> sorted(variables["params"]["cell"])
  ['W_in', 'W_out', 'W_rec', 'b_out', 'b_rec', 'init_state']
  >>> outputs, states = rnn.apply(variables, x)
  >>> outputs.shape, states.shape
  ((4, 30, 1), (4, 30, 10))
  >>> bool(jnp.allclose(outputs, jaxinit.basic_rnn(net, x)[0], atol=1e-6))
  True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
from numpy.typing import ArrayLike

try:
    import flax.linen as nn
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.linen needs Flax; install it with: pip install 'jaxinit[flax]'"
    ) from _err

from jaxinit._src import basic_rnn, models
from jaxinit._src.effective import effective
from jaxinit._src.names import TRAINABLE_FIELDS
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams

__all__ = ["BasicRNN", "BasicRNNCell"]

#: The ``rngs`` stream the recurrent noise draws from.
NOISE_STREAM = "noise"


def _find_params(variables: Mapping[str, Any]) -> Mapping[str, Any]:
    """The one dict in ``variables`` that holds the six trainable arrays."""
    if not isinstance(variables, Mapping):
        raise TypeError(
            f"variables must be a Flax variables or params dict, got {type(variables).__name__}"
        )
    found: list[Mapping[str, Any]] = []

    def visit(node: Mapping[str, Any]) -> None:
        if all(name in node for name in TRAINABLE_FIELDS):
            found.append(node)
            return
        for value in node.values():
            if isinstance(value, Mapping):
                visit(value)

    visit(variables)
    if len(found) != 1:
        raise ValueError(
            f"variables must hold the arrays {', '.join(TRAINABLE_FIELDS)} of exactly one "
            f"jaxinit model, found {len(found)}"
        )
    return found[0]


class _Basic(nn.Module):
    """What the cell and the model share: the options, the parameters, ``to_params``."""

    network: Params | SparseParams
    dt: float = basic_rnn.DEFAULT_DT
    tau: Any = basic_rnn.DEFAULT_TAU
    rec_noise: float = 0.0
    fixed: Mapping[str, ArrayLike] | None = None

    def _checked(self) -> tuple[models.Options, dict[str, Any]]:
        return models.setup(
            self.network, dt=self.dt, tau=self.tau, rec_noise=self.rec_noise, fixed=self.fixed
        )

    def setup(self) -> None:
        self.options, self.pinned = self._checked()
        self.arrays = {name: self.param(name, self._initial(name)) for name in TRAINABLE_FIELDS}

    def _initial(self, name: str) -> Callable[[jax.Array], jax.Array]:
        value = jnp.asarray(models.trainable_arrays(self.network)[name])
        return lambda _rng: value

    def current(self) -> Params | SparseParams:
        """The network the module runs now (pinned entries put back)."""
        return self._assemble(self.arrays, self.pinned)

    def _assemble(
        self, arrays: Mapping[str, Any], pinned: Mapping[str, Any]
    ) -> Params | SparseParams:
        return models.on_network(self.network, arrays, pinned)

    def to_params(self, variables: Mapping[str, Any]) -> Params | SparseParams:
        """The trained network as a :class:`~jaxinit.Params`, from ``variables``
        (a :class:`~jaxinit.sparse.SparseParams` when ``network`` is one).

        ``variables`` is what ``init`` returned or the trained ``"params"``
        (of this module, or of a model that holds it: the one dict holding the
        six trainable arrays is found). Masks and Dale signs come from
        ``network``, pinned entries keep their initial values. Works on an
        unbound module.
        """
        _, pinned = self._checked()
        return self._assemble(_find_params(variables), pinned)

    def _noise(self) -> jax.Array | None:
        return self.make_rng(NOISE_STREAM) if self.rec_noise else None


class BasicRNNCell(_Basic, nn.RNNCellBase):
    """One step of PsychRNN's ``Basic`` RNN, for ``flax.linen.RNN``.

    Attributes:
      network: a single network (:class:`~jaxinit.Params` or
        :class:`~jaxinit.sparse.SparseParams`, without ensemble axes): the
        initial values of the parameters, and the masks, Dale signs and
        sparse pattern, which stay constants.
      dt: the time step (PsychRNN's ``dt``, default 10).
      tau: the time constant (default 100), or an ``(N_rec,)`` vector of
        one per unit; ``alpha = dt / tau``.
      rec_noise: standard deviation of the recurrent noise (default 0); when
        positive, each step draws from the ``"noise"`` rngs stream.
      fixed: PsychRNN's ``fixed_weights``: a trainable array's name to a 0/1
        array of its shape, 1 where the entry keeps its initial value (for a
        sparse network, ``fixed["W_rec"]`` has the values' shape ``(N_rec, K)``).
    """

    # Listed here as well, so that the reference documents them on this class.
    to_params = _Basic.to_params
    current = _Basic.current

    def __call__(
        self, carry: jax.Array, inputs: ArrayLike
    ) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        """One step: ``(new_state, (output, new_state))`` from ``(state, input)``.

        Args:
          carry: the state, ``(..., N_rec)``.
          inputs: the input of this step, ``(..., N_in)``.
        """
        net = self.current()
        x = basic_rnn.check_inputs(
            inputs, net.W_in.shape[-1], net.W_rec.dtype, time_axis=False
        )
        eff = effective(net)
        key = self._noise()
        noise = None if key is None else jax.random.normal(key, carry.shape, carry.dtype)
        state = basic_rnn.step(
            eff, net.b_rec, net.transfer, self.options.constants, carry, x, noise
        )
        return state, (basic_rnn.readout(eff, net.b_out, net.transfer, state), state)

    @nn.nowrap
    def initialize_carry(self, rng: jax.Array, input_shape: tuple[int, ...]) -> jax.Array:
        """The initial state, the trainable ``init_state`` for every trial of the batch.

        Args:
          rng: unused (the initial state is a parameter, not a draw).
          input_shape: the shape of one step's input, ``(..., N_in)``.
        """
        del rng
        init_state = self.current().init_state
        return jnp.broadcast_to(init_state, (*tuple(input_shape)[:-1], init_state.shape[-1]))

    @property
    def num_feature_axes(self) -> int:
        """One feature axis (``N_in``), as ``flax.linen.RNN`` asks."""
        return 1


class BasicRNN(_Basic):
    """PsychRNN's ``Basic`` RNN over whole input sequences, as one linen module.

    Attributes: as :class:`BasicRNNCell`.
    """

    to_params = _Basic.to_params
    current = _Basic.current

    def __call__(self, inputs: ArrayLike) -> tuple[jax.Array, jax.Array]:
        """Run the network over ``(batch, time, N_in)`` inputs.

        Returns:
          ``(outputs, states)``: ``(batch, time, N_out)`` and ``(batch, time,
          N_rec)``, as :func:`jaxinit.basic_rnn`.
        """
        return models.run(self.current(), self.options, inputs, self._noise())
