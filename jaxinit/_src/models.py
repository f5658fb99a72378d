"""What every framework's ``BasicRNN`` shares: checking its options and rebuilding a network.

A model is made from an initial :class:`~jaxinit.Params` and the options
``dt``, ``tau``, ``rec_noise`` and ``fixed``. :func:`setup` checks them once
and returns the hashable :class:`Options` (static in every framework) and the
pinned entries; :func:`assemble` turns a model's arrays back into a ``Params``
with the pinned entries put back, which the forward pass of
:mod:`jaxinit._src.basic_rnn` then runs. Each framework keeps the arrays its
own way (variables, parameters, fields); the numbers are computed here and
there only.
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
from jaxinit._src.training import fixed_for

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


def setup(
    params: Params,
    *,
    dt: float,
    tau: float | ArrayLike,
    rec_noise: float,
    fixed: Mapping[str, ArrayLike] | None,
) -> tuple[Options, dict[str, NDArray[np.bool_]]]:
    """Check a model's network and options; return them and the pinned entries by name."""
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    checks.single_network(params)
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
) -> Params:
    """A ``Params`` of ``arrays`` (the trainable and fixed ones, by field name).

    The entries ``pinned[name]`` marks are set to ``pinned_values[name]``.
    """
    fields = {name: jnp.asarray(arrays[name]) for name in (*TRAINABLE_FIELDS, *FIXED_FIELDS)}
    current = Params(**fields, dale_ratio=dale_ratio, transfer_function=transfer_function)
    return basic_rnn.pin(current, pinned, pinned_values)


def on_network(
    network: Params, trained: Mapping[str, Any], pinned: Mapping[str, Any]
) -> Params:
    """:func:`assemble` of ``trained``, the constraints and pinned values from ``network``."""
    fixed = {name: getattr(network, name) for name in FIXED_FIELDS}
    values = {name: getattr(network, name) for name in pinned}
    trained_arrays = {name: trained[name] for name in TRAINABLE_FIELDS}
    return assemble(
        {**trained_arrays, **fixed},
        pinned,
        values,
        dale_ratio=network.dale_ratio,
        transfer_function=network.transfer_function,
    )


def run(
    net: Params, options: Options, inputs: ArrayLike, key: jax.Array | None
) -> tuple[jax.Array, jax.Array]:
    """A model's whole forward pass over ``(batch, time, N_in)`` inputs."""
    x = basic_rnn.check_inputs(inputs, net.W_in.shape[-1], net.W_rec.dtype, time_axis=True)
    return basic_rnn.scan(net, x, options.constants, options.noise(key))
