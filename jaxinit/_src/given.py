"""Checking and converting the arrays a user passes to an initializer.

One function, :func:`prepare_array`, checks and converts one array; it
serves single networks (:func:`prepare_given`) and ensembles, whose
per-member arrays carry a leading member axis (``members=m``), so both give
the same messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.names import MASK_NAMES, PSYCHRNN_NAMES, psychrnn_shapes
from jaxinit._src.typing import DTypeLike, HostOrDeviceArray

#: The allowed values of each Dale diagonal.
DALE_VALUES = {"Dale_rec": (-1, 1), "Dale_out": (0, 1)}

#: The :class:`~jaxinit.Params` field that holds each Dale diagonal.
DALE_FIELD = {"Dale_rec": "dale_rec_diag", "Dale_out": "dale_out_diag"}


def expected_shape(config: Config, name: str) -> tuple[int, ...]:
    """Shape of a given array in PsychRNN's conventions."""
    return psychrnn_shapes(config.N_in, config.N_rec, config.N_out)[name]


def convert_array(name: str, value: Any, dtype: DTypeLike) -> HostOrDeviceArray:
    """``value`` as an array of ``dtype``: numpy when concrete, jax when traced.

    Raises ``TypeError`` naming ``name`` for strings, ``None``, objects that
    are not arrays of real numbers, and complex arrays.

    Example:
      >>> convert_array("W_rec", [[1, 2], [3, 4]], "float32").dtype
      dtype('float32')
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {value!r}")
    xp = jnp if checks.is_traced(value) else np
    try:
        array: HostOrDeviceArray = xp.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(value).__name__}: {err}"
        ) from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of numbers, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    return array.astype(dtype)


def _xp(array: HostOrDeviceArray) -> ModuleType:
    return jnp if checks.is_traced(array) else np


def check_values(
    name: str, array: HostOrDeviceArray, allowed: tuple[int, ...] | None = None
) -> None:
    """Raise ``ValueError`` unless ``array`` is finite (and holds only ``allowed``).

    Concrete arrays are checked at once; traced ones when the program runs.

    Example:
      >>> check_values("rec_connectivity", np.array([0.0, 2.0]), (0, 1))
      Traceback (most recent call last):
      ...
      ValueError: rec_connectivity must hold only (0, 1), got 2.0
    """
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


def dale_diagonal(name: str, matrix: HostOrDeviceArray) -> HostOrDeviceArray:
    """The diagonal of a Dale matrix (``(..., N, N)``), after checking that it
    is diagonal and holds the allowed values (+1/-1 for ``Dale_rec``, 1/0 for
    ``Dale_out``)."""
    xp = _xp(matrix)
    n = matrix.shape[-1]
    off = matrix * (1 - xp.eye(n, dtype=matrix.dtype))
    checks.require(
        (off == 0).all(),
        lambda m: checks.not_diagonal_message(name, checks.first_bad(m, lambda v: v == 0)),
        operands=(off,),
    )
    diag: HostOrDeviceArray = xp.diagonal(matrix, axis1=-2, axis2=-1)
    check_values(name + " diagonal", diag, DALE_VALUES[name])
    return diag


def prepare_array(
    config: Config, name: str, value: Any, members: int | None = None
) -> tuple[str, HostOrDeviceArray]:
    """``(field, array)``: one given array checked and converted.

    ``members=m`` expects a leading member axis of length ``m`` (an
    ensemble's per-member array). ``init_state`` may also have PsychRNN's
    file shape ``(1, N_rec)`` (``(m, 1, N_rec)`` per member). Dale matrices
    come back as their diagonals, under the :class:`~jaxinit.Params` field
    names ``dale_rec_diag``/``dale_out_diag``.
    """
    array = convert_array(name, value, config.dtype)
    lead = () if members is None else (members,)
    shape = (*lead, *expected_shape(config, name))
    if name == "init_state" and array.shape == (*lead, 1, config.N_rec):
        array = array.reshape(shape)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {tuple(array.shape)}")
    if name in DALE_FIELD:
        check_values(name, array)
        return DALE_FIELD[name], dale_diagonal(name, array)
    check_values(name, array, (0, 1) if name in MASK_NAMES else None)
    return name, array


def prepare_given(config: Config, given: Mapping[str, Any]) -> dict[str, HostOrDeviceArray]:
    """Check the ``**given`` arrays against ``config`` and convert them.

    Unknown names raise ``TypeError``; wrong shapes, non-finite values, masks
    that are not 0/1 and Dale matrices that are not diagonal (or hold other
    values than +1/-1 for ``Dale_rec`` and 1/0 for ``Dale_out``) raise
    ``ValueError``. ``None`` means "not given". The returned dict holds new
    arrays in ``config.dtype``; the caller's arrays are not touched.
    """
    out: dict[str, HostOrDeviceArray] = {}
    for name, value in given.items():
        check_name(name)
        if value is None:
            continue
        field, array = prepare_array(config, name, value)
        out[field] = array
    return out


def check_name(name: str) -> None:
    """Raise ``TypeError`` unless ``name`` is one of PsychRNN's array names."""
    if name not in PSYCHRNN_NAMES:
        raise TypeError(
            f"unknown array {name!r}; the arrays an initializer accepts are "
            f"{', '.join(PSYCHRNN_NAMES)}"
        )
