"""Argument checks shared by the connectivity generators.

Sizes and counts are static: they must be Python (or NumPy) integers and are
checked at call time, also while a caller's ``jax.jit`` traces the function.
Probabilities, scales and positions may be traced arrays; concrete ones are
checked at once, traced ones are not checked at all (their values are unknown
until the program runs). Every message names the argument and the bad value.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks

#: The dtypes a mask can be returned in.
MASK_DTYPES = ("float32", "float64")

#: The value dtypes of a sparse pattern (its ones): a half-precision pattern
#: takes half the memory (200 MB instead of 400 MB at N = 10^6, in-degree 100).
PATTERN_DTYPES = ("bfloat16", "float16", "float32", "float64")


def key(value: Any) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is one PRNG key."""
    checks.check_key(value)


def mask_dtype(value: Any, allowed: tuple[str, ...] = MASK_DTYPES) -> np.dtype[Any]:
    """``value`` as ``np.dtype`` after checking it is one of ``allowed``
    (float32 or float64 for dense masks).

    float64 needs 64-bit JAX (``jax_enable_x64``).
    """
    names = " or ".join(filter(None, (", ".join(allowed[:-1]), allowed[-1])))
    try:
        dtype: np.dtype[Any] = np.dtype(value)
    except TypeError:
        raise TypeError(f"dtype must be {names}, got {value!r}") from None
    if dtype.name not in allowed:
        raise ValueError(f"dtype must be {names}, got {value!r}")
    if dtype == np.float64:
        checks.x64_enabled("dtype float64")
    return dtype


def in_dtype(mask: jax.Array, dtype: np.dtype[Any]) -> jax.Array:
    """A float32 mask from a generator's program, in the requested ``dtype``.

    The programs compute float32 masks (one program serves both dtypes); only
    float64 needs a cast.
    """
    return mask if dtype == np.float32 else mask.astype(dtype)


def flag(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` after checking it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def count(name: str, value: Any, most: int, what: str) -> int:
    """``value`` as an ``int`` after checking ``0 <= value <= most``.

    ``what`` says what ``most`` counts, for the message.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    number = int(value)
    if number < 0:
        raise ValueError(f"{name} must be non-negative, got {number!r}")
    if number > most:
        raise ValueError(f"{name} must be at most {most} ({what}), got {number!r}")
    return number


def shape(value: Any) -> tuple[int, int]:
    """``value`` as ``(N_post, N_pre)`` after checking it is a pair of positive ints."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"shape must be a pair (N_post, N_pre) of positive integers, got {value!r}")
    return (checks.positive_int("shape[0]", value[0]), checks.positive_int("shape[1]", value[1]))


def autapses(value: Any, shape: tuple[int, int]) -> bool:
    """``value`` as a ``bool``; ``False`` needs a square ``shape``."""
    on = flag("autapses", value)
    if not on and shape[0] != shape[1]:
        raise ValueError(
            f"autapses=False needs a square shape (a recurrent mask), got shape {shape}"
        )
    return on


def real_array(name: str, value: Any) -> jax.Array | npt.NDArray[np.float64]:
    """``value`` as an array of real numbers: NumPy float64 when concrete,
    the tracer itself when traced. Raises ``TypeError`` naming ``name``."""
    if checks.is_traced(value):
        if not jnp.issubdtype(value.dtype, jnp.floating) and not jnp.issubdtype(
            value.dtype, jnp.integer
        ):
            raise TypeError(f"{name} must be real numbers, got dtype {value.dtype}")
        tracer: jax.Array = value
        return tracer
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise TypeError(f"{name} must be real numbers, got {value!r}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be real numbers, got {value!r}: {err}") from None
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be real numbers, got {value!r} (dtype {array.dtype})")
    return array.astype(np.float64)


def _first_bad(array: npt.NDArray[Any], good: npt.NDArray[np.bool_]) -> object:
    return array[~good].ravel()[0].item()


def probability(
    name: str, value: Any, shape: tuple[int, ...] | None = None
) -> jax.Array | npt.NDArray[np.float64]:
    """``value`` checked as probabilities: finite and in [0, 1].

    ``shape``: the shape ``value`` must broadcast to (``None``: a scalar).
    Returns a NumPy float64 array; a traced ``value`` is returned with only
    its shape checked (its values are unknown until the program runs).
    """
    array = real_array(name, value)
    target = () if shape is None else tuple(shape)
    try:
        ok = np.broadcast_shapes(array.shape, target) == target
    except ValueError:
        ok = False
    if not ok:
        wanted = "a scalar" if shape is None else f"broadcastable to shape {tuple(shape)}"
        raise ValueError(f"{name} must be {wanted}, got shape {tuple(array.shape)}")
    if not isinstance(array, np.ndarray):  # traced: real_array returned the tracer
        return array
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(f"{name} must be finite, got {_first_bad(array, finite)!r}")
    inside = (array >= 0) & (array <= 1)
    if not inside.all():
        raise ValueError(f"{name} must be in [0, 1], got {_first_bad(array, inside)!r}")
    return array


def positive_scalar(name: str, value: Any) -> jax.Array | float:
    """A finite positive scalar; a traced scalar is returned unchecked."""
    array = real_array(name, value)
    if array.shape != ():
        raise ValueError(f"{name} must be a scalar, got shape {tuple(array.shape)}")
    if not isinstance(array, np.ndarray):  # traced: real_array returned the tracer
        return array
    return checks.finite_float(name, array.item(), positive=True)
