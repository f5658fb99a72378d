"""What every framework's ``BasicRNN`` shares: checking its options and rebuilding a network.

A model is made from an initial :class:`~jaxinit.Params` and the options
``dt``, ``tau``, ``rec_noise`` and ``fixed``. :func:`setup` checks them once
and returns the hashable :class:`Options` (static in every framework) and the
pinned entries; :func:`assemble` turns a model's arrays back into a ``Params``
with the pinned entries put back, which the forward pass of
:mod:`jaxinit._src.basic_rnn` then runs. Each framework keeps the arrays its
own way (variables, parameters, fields); the numbers are computed here and
there only.

A sparse network (:class:`~jaxinit.sparse.SparseParams`) goes the same way:
its trainable ``W_rec`` array is the ``(N_rec, K)`` ``values`` of the
RowSparse, and its pattern, the int32 ``index``, is kept with the fixed
arrays under the name :data:`SPARSE_INDEX` (there is no ``rec_connectivity``
array: the pattern is the mask). :func:`trainable_arrays` and
:func:`fixed_arrays` give a network's arrays by these names, and
:func:`assemble` builds a ``SparseParams`` back when the index is among them.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from jaxinit._src import basic_rnn, checks
from jaxinit._src.names import FIXED_FIELDS, TRAINABLE_FIELDS
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse
from jaxinit._src.training import fixed_for

#: The name under which a model keeps a sparse ``W_rec``'s pattern (its int32
#: column indices), with the fixed arrays.
SPARSE_INDEX = "W_rec_index"

#: The fixed arrays of a sparse network, by the names a model keeps them under.
SPARSE_FIXED = (*(name for name in FIXED_FIELDS if name != "rec_connectivity"), SPARSE_INDEX)

#: A dense or a sparse network.
Network = Params | SparseParams

#: A time constant as a model keeps it: a number, or one per unit (hashable).
Tau = float | tuple[float, ...]


@dataclasses.dataclass(frozen=True)
class Options:
    """A model's checked static options (hashable, so frameworks can keep them static)."""

    dt: float
    tau: Tau
    rec_noise: float
    n_rec: int

    @property
    def constants(self) -> basic_rnn.TimeConstants:
        """``alpha``, ``1 - alpha`` and the noise scale."""
        tau = self.tau if isinstance(self.tau, float) else np.asarray(self.tau)
        return basic_rnn.time_constants(self.dt, tau, self.rec_noise, self.n_rec)

    def noise(self, key: jax.Array | None) -> jax.Array | None:
        """The noise key: needed, and checked, only when ``rec_noise > 0``."""
        return basic_rnn.noise_key(self.rec_noise, key)


def _tau(tau: float | ArrayLike, n_rec: int) -> Tau:
    if isinstance(tau, numbers.Real) or (isinstance(tau, np.ndarray) and tau.ndim == 0):
        return checks.finite_float("tau", tau, positive=True)
    basic_rnn.time_constants(basic_rnn.DEFAULT_DT, tau, 0.0, n_rec)  # checks tau
    return tuple(float(t) for t in np.asarray(tau, np.float64))


def trainable_arrays(params: Network) -> dict[str, jax.Array]:
    """The arrays that train, by field name (a sparse ``W_rec`` gives its ``values``)."""
    arrays = {name: getattr(params, name) for name in TRAINABLE_FIELDS}
    if isinstance(params, SparseParams):
        arrays["W_rec"] = params.W_rec.values
    return arrays


def fixed_arrays(params: Network) -> dict[str, jax.Array]:
    """The arrays that never train, by name: the masks and Dale signs, and a sparse
    ``W_rec``'s index under :data:`SPARSE_INDEX` (in place of ``rec_connectivity``)."""
    if isinstance(params, SparseParams):
        arrays = {name: getattr(params, name) for name in SPARSE_FIXED if name != SPARSE_INDEX}
        return {**arrays, SPARSE_INDEX: params.W_rec.index}
    return {name: getattr(params, name) for name in FIXED_FIELDS}


def fixed_names(params: Network) -> tuple[str, ...]:
    """The names :func:`fixed_arrays` gives for ``params``."""
    return SPARSE_FIXED if isinstance(params, SparseParams) else FIXED_FIELDS


def setup(
    params: Network,
    *,
    dt: float,
    tau: float | ArrayLike,
    rec_noise: float,
    fixed: Mapping[str, ArrayLike] | None,
) -> tuple[Options, dict[str, NDArray[np.bool_]]]:
    """Check a model's network and options; return them and the pinned entries by name.

    For a sparse network, ``fixed["W_rec"]`` pins stored slots: it has the
    shape of ``W_rec.values``, ``(N_rec, K)``.
    """
    params = basic_rnn.check_network(params)
    n_rec = int(params.W_rec.shape[-1])
    options = Options(
        dt=checks.finite_float("dt", dt, positive=True),
        tau=_tau(tau, n_rec),
        rec_noise=checks.finite_float("rec_noise", rec_noise),
        n_rec=n_rec,
    )
    options.constants  # noqa: B018 - checks rec_noise >= 0 with the others
    return options, fixed_for(params, fixed)


def assemble(
    arrays: Mapping[str, Any],
    pinned: Mapping[str, Any],
    pinned_values: Mapping[str, Any],
    *,
    dale_ratio: float | None,
    transfer_function: str,
) -> Network:
    """A network of ``arrays`` (the trainable and fixed ones, by name).

    With :data:`SPARSE_INDEX` among ``arrays`` the network is a
    :class:`~jaxinit.sparse.SparseParams` whose ``W_rec`` holds
    ``arrays["W_rec"]`` on that index; otherwise a :class:`~jaxinit.Params`.
    The entries ``pinned[name]`` marks are set to ``pinned_values[name]``.
    """
    current: Network
    if SPARSE_INDEX in arrays:
        fields = {name: jnp.asarray(arrays[name]) for name in (*TRAINABLE_FIELDS, *SPARSE_FIXED)}
        index = fields.pop(SPARSE_INDEX)
        values = fields.pop("W_rec")
        current = SparseParams(
            W_rec=RowSparse(values, index, int(values.shape[-2])),
            **fields,
            dale_ratio=dale_ratio,
            transfer_function=transfer_function,
        )
    else:
        dense = {name: jnp.asarray(arrays[name]) for name in (*TRAINABLE_FIELDS, *FIXED_FIELDS)}
        current = Params(**dense, dale_ratio=dale_ratio, transfer_function=transfer_function)
    return basic_rnn.pin(current, pinned, pinned_values)


def on_network(
    network: Network, trained: Mapping[str, Any], pinned: Mapping[str, Any]
) -> Network:
    """:func:`assemble` of ``trained``, the constraints and pinned values from ``network``.

    ``trained`` maps each trainable field's name to its array (for a sparse
    network, ``W_rec`` is the ``(N_rec, K)`` values).
    """
    initial = trainable_arrays(network)
    values = {name: initial[name] for name in pinned}
    trained_arrays = {name: trained[name] for name in TRAINABLE_FIELDS}
    return assemble(
        {**trained_arrays, **fixed_arrays(network)},
        pinned,
        values,
        dale_ratio=network.dale_ratio,
        transfer_function=network.transfer_function,
    )


def run(
    net: Network, options: Options, inputs: ArrayLike, key: jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """A model's whole forward pass over ``(batch, time, N_in)`` inputs."""
    x = basic_rnn.check_inputs(inputs, net.W_in.shape[-1], net.W_rec.dtype, time_axis=True)
    return basic_rnn.scan(net, x, options.constants, options.noise(key))
