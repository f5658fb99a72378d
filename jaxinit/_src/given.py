"""Checking and converting the arrays a user passes to an initializer."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.names import PSYCHRNN_NAMES, psychrnn_shapes

_MASKS = ("input_connectivity", "rec_connectivity", "output_connectivity")


def expected_shape(config: Config, name: str) -> tuple[int, ...]:
    """Shape of a given array in PsychRNN's conventions."""
    return psychrnn_shapes(config.N_in, config.N_rec, config.N_out)[name]


def _convert(name: str, value: Any, dtype):
    """``value`` as an array of ``dtype``: numpy when concrete, jax when traced."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {value!r}")
    xp = jnp if checks.is_traced(value) else np
    try:
        array = xp.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(value).__name__}: {err}"
        ) from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of numbers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    return array.astype(dtype)


def _xp(array):
    return jnp if checks.is_traced(array) else np


def _check_values(name, array, allowed=None):
    """Finite, and (for masks and Dale diagonals) within ``allowed``."""
    xp = _xp(array)
    checks.require(
        xp.isfinite(array).all(),
        lambda a: f"{name} must be finite, got {checks.first_bad(a, np.isfinite)!r} in it",
        operands=(array,),
    )
    if allowed is not None:
        checks.require(
            xp.isin(array, xp.asarray(allowed, array.dtype)).all(),
            lambda a: (
                f"{name} must hold only {allowed}, got "
                f"{checks.first_bad(a, lambda v: np.isin(v, allowed))!r}"
            ),
            operands=(array,),
        )


def _dale_diagonal(name, matrix, allowed):
    xp = _xp(matrix)
    diag = xp.diagonal(matrix)
    off = matrix - xp.diag(diag)
    checks.require(
        (off == 0).all(),
        lambda m: (
            f"{name} must be a diagonal matrix, got a non-zero off-diagonal entry "
            f"{checks.first_bad(m, lambda v: v == 0)!r}"
        ),
        operands=(off,),
    )
    _check_values(name + " diagonal", diag, allowed)
    return diag


def prepare_given(config: Config, given: dict[str, Any]) -> dict[str, jnp.ndarray]:
    """Check the ``**given`` arrays against ``config`` and convert them.

    Unknown names raise ``TypeError``; wrong shapes, non-finite values, masks
    that are not 0/1 and Dale matrices that are not diagonal (or hold other
    values than +1/-1 for ``Dale_rec`` and 1/0 for ``Dale_out``) raise
    ``ValueError``. ``None`` means "not given". ``init_state`` may have shape
    ``(N_rec,)`` or ``(1, N_rec)`` (as in PsychRNN files). The returned dict
    holds new arrays in ``config.dtype``; the caller's arrays are not touched.
    ``Dale_rec``/``Dale_out`` come back as their diagonals, under the names
    ``dale_rec_diag``/``dale_out_diag``.
    """
    out = {}
    for name, value in given.items():
        if name not in PSYCHRNN_NAMES:
            raise TypeError(
                f"unknown array {name!r}; the arrays an initializer accepts are "
                f"{', '.join(PSYCHRNN_NAMES)}"
            )
        if value is None:
            continue
        array = _convert(name, value, config.dtype)
        shape = expected_shape(config, name)
        if name == "init_state" and array.shape == (1, config.N_rec):
            array = array.reshape(shape)
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {tuple(array.shape)}")
        if name in _MASKS:
            _check_values(name, array, (0, 1))
        elif name == "Dale_rec":
            _check_values(name, array)
            out["dale_rec_diag"] = _dale_diagonal(name, array, (-1, 1))
            continue
        elif name == "Dale_out":
            _check_values(name, array)
            out["dale_out_diag"] = _dale_diagonal(name, array, (0, 1))
            continue
        else:
            _check_values(name, array)
        out[name] = array
    return out
