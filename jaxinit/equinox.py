"""PsychRNN's "Basic" rate RNN as an Equinox module, safe under Equinox's usual filters.

:class:`BasicRNN` keeps the six arrays PsychRNN trains (``W_in``, ``W_rec``,
``W_out``, ``b_rec``, ``b_out``, ``init_state``) as float fields. The masks,
the Dale signs and the values of entries that ``fixed`` pins are stored as
their raw bits (unsigned integers of the same width), and the pinned entries
as bools, so ``eqx.is_inexact_array``, ``eqx.filter_grad``,
``eqx.partition(model, eqx.is_inexact_array)`` and :func:`jaxinit.trainable`
all leave them out: the usual Equinox training loop cannot move them. They are
read back bit for bit in every forward pass, which runs on
:func:`jaxinit.effective` of the current arrays, so the network always obeys
its masks and Dale's law. The update rule and its code are
:func:`jaxinit.basic_rnn`'s.

Made from a :class:`~jaxinit.sparse.SparseParams`, the model's ``W_rec`` is
the RowSparse's ``(N_rec, K)`` values, its int32 pattern is kept in
:attr:`BasicRNN.frozen` as ``W_rec_index`` (integers: no filter above trains
it), :attr:`BasicRNN.params` is a ``SparseParams`` and the recurrent product is
the O(N_rec K) sparse one.

This module imports Equinox (``pip install 'jaxinit[equinox]'``); ``import jaxinit``
does not.

Example:
  >>> import equinox as eqx, jax, jax.numpy as jnp, jaxinit
  >>> cfg = jaxinit.Config(N_in=2, N_rec=10, N_out=1, dale_ratio=0.8)
  >>> model = BasicRNN(jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg))
  >>> outputs, states = model(jnp.ones((4, 30, 2)))
  >>> outputs.shape, states.shape
  ((4, 30, 1), (4, 30, 10))
  >>> trained, frozen = eqx.partition(model, eqx.is_inexact_array)
  >>> sorted(k for k in ("W_rec", "b_rec") if getattr(trained, k) is not None)
  ['W_rec', 'b_rec']
  >>> len(jax.tree.leaves(eqx.filter(model.frozen, eqx.is_inexact_array)))
  0
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

try:
    import equinox as eqx
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.equinox needs Equinox; install it with: pip install 'jaxinit[equinox]'"
    ) from _err

from jaxinit._src import basic_rnn, models
from jaxinit._src.effective import Effective, SparseEffective, effective
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams

__all__ = ["BasicRNN", "Frozen"]

_UNSIGNED = {2: jnp.uint16, 4: jnp.uint32, 8: jnp.uint64}


def _to_bits(value: jax.Array) -> jax.Array:
    value = jnp.asarray(value)
    if not jnp.issubdtype(value.dtype, jnp.floating):
        return value
    return jax.lax.bitcast_convert_type(value, _UNSIGNED[value.dtype.itemsize])


class Frozen(eqx.Module):
    """Arrays kept out of training: floats stored as their raw bits, read back exactly.

    Attributes:
      bits: name to the stored array (an unsigned integer array for a float
        one, else the array itself).
      dtypes: name to the original dtype's name (static).
    """

    bits: dict[str, jax.Array]
    dtypes: dict[str, str] = eqx.field(static=True)

    @classmethod
    def of(cls, arrays: Mapping[str, ArrayLike]) -> Frozen:
        """Freeze ``arrays`` (name to array)."""
        values = {name: jnp.asarray(a) for name, a in arrays.items()}
        return cls(
            bits={name: _to_bits(a) for name, a in values.items()},
            dtypes={name: str(a.dtype) for name, a in values.items()},
        )

    def __getitem__(self, name: str) -> jax.Array:
        """The array stored under ``name``, bit for bit as it was given."""
        stored, dtype = self.bits[name], jnp.dtype(self.dtypes[name])
        if stored.dtype == dtype:
            return stored
        return jax.lax.bitcast_convert_type(stored, dtype)


class BasicRNN(eqx.Module):
    """PsychRNN's ``Basic`` continuous-time rate RNN on a jaxinit network.

    Args:
      params: a single network (:class:`~jaxinit.Params` or
        :class:`~jaxinit.sparse.SparseParams`, without ensemble axes), e.g.
        from :func:`jaxinit.gaussian_spectral_radius`.
      dt: the time step (PsychRNN's ``dt``, default 10).
      tau: the time constant (default 100), or an ``(N_rec,)`` vector of one
        per unit; ``alpha = dt / tau``.
      rec_noise: standard deviation of the recurrent noise (default 0); when
        positive, a call needs ``key``.
      fixed: PsychRNN's ``fixed_weights``: a trainable array's name to a 0/1
        array of its shape, 1 where the entry keeps its initial value (read
        from :attr:`frozen` in the forward pass, so it gets no gradient).
        For a sparse network ``fixed["W_rec"]`` pins stored slots: shape
        ``(N_rec, K)``.

    Attributes:
      W_in, W_rec, W_out, b_rec, b_out, init_state: the trainable arrays, raw
        (PsychRNN's ``(out, in)`` shapes; a sparse network's ``W_rec`` is its
        ``(N_rec, K)`` values).
      frozen: a :class:`Frozen` of the masks, the Dale signs (for a sparse
        network ``W_rec_index`` in place of ``rec_connectivity``) and, for
        each name in ``fixed``, ``<name>_pinned`` (bools) and
        ``<name>_pinned_value``.
      options, fixed_names, pinned_names, dale_ratio, transfer_function: static.
    """

    W_in: jax.Array
    W_rec: jax.Array
    W_out: jax.Array
    b_rec: jax.Array
    b_out: jax.Array
    init_state: jax.Array
    frozen: Frozen
    options: models.Options = eqx.field(static=True)
    fixed_names: tuple[str, ...] = eqx.field(static=True)
    pinned_names: tuple[str, ...] = eqx.field(static=True)
    dale_ratio: float | None = eqx.field(static=True)
    transfer_function: str = eqx.field(static=True)

    def __init__(
        self,
        params: Params | SparseParams,
        *,
        dt: float = basic_rnn.DEFAULT_DT,
        tau: float | ArrayLike = basic_rnn.DEFAULT_TAU,
        rec_noise: float = 0.0,
        fixed: Mapping[str, ArrayLike] | None = None,
    ) -> None:
        self.options, pinned = models.setup(
            params, dt=dt, tau=tau, rec_noise=rec_noise, fixed=fixed
        )
        trained = models.trainable_arrays(params)
        self.W_in = jnp.asarray(trained["W_in"])
        self.W_rec = jnp.asarray(trained["W_rec"])
        self.W_out = jnp.asarray(trained["W_out"])
        self.b_rec = jnp.asarray(trained["b_rec"])
        self.b_out = jnp.asarray(trained["b_out"])
        self.init_state = jnp.asarray(trained["init_state"])
        self.fixed_names = models.fixed_names(params)
        self.pinned_names = tuple(sorted(pinned))
        frozen: dict[str, Any] = models.fixed_arrays(params)
        for name in self.pinned_names:
            frozen[f"{name}_pinned"] = np.asarray(pinned[name])
            frozen[f"{name}_pinned_value"] = trained[name]
        self.frozen = Frozen.of(frozen)
        self.dale_ratio = params.dale_ratio
        self.transfer_function = params.transfer_function

    @property
    def params(self) -> Params | SparseParams:
        """The network the model runs now, as a :class:`~jaxinit.Params` (raw;
        a :class:`~jaxinit.sparse.SparseParams` for a model made from one).

        Pinned entries hold their initial values, whatever an optimizer did to
        the stored arrays.
        """
        arrays: dict[str, Any] = {
            "W_in": self.W_in,
            "W_rec": self.W_rec,
            "W_out": self.W_out,
            "b_rec": self.b_rec,
            "b_out": self.b_out,
            "init_state": self.init_state,
        }
        arrays.update({name: self.frozen[name] for name in self.fixed_names})
        return models.assemble(
            arrays,
            {name: self.frozen[f"{name}_pinned"] for name in self.pinned_names},
            {name: self.frozen[f"{name}_pinned_value"] for name in self.pinned_names},
            dale_ratio=self.dale_ratio,
            transfer_function=self.transfer_function,
        )

    def effective(self) -> Effective | SparseEffective:
        """The weights the network uses now: :func:`jaxinit.effective` of :attr:`params`."""
        return effective(self.params)

    def __call__(
        self, inputs: ArrayLike, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """Run the network over ``(batch, time, N_in)`` inputs.

        Args:
          inputs: ``(batch, time, N_in)``, cast to the weights' dtype.
          key: a PRNG key for the recurrent noise (needed when ``rec_noise > 0``).

        Returns:
          ``(outputs, states)``: ``(batch, time, N_out)`` and ``(batch, time,
          N_rec)``, as :func:`jaxinit.basic_rnn`.
        """
        return models.run(self.params, self.options, inputs, key)
