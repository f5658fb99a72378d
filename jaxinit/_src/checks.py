"""Argument checking shared by every public function.

Two kinds of check live here:

* static checks on Python values and array shapes, which always raise a
  ``ValueError``/``TypeError`` at call time (also while being traced);
* value checks on array contents (finite, non-zero, 0/1 ...). When the array
  is concrete these raise a ``ValueError`` at once. When the caller wraps a
  jaxinit function in its own ``jax.jit``/``jax.vmap`` the contents are not
  known at trace time, so the check is compiled into the program as a host
  callback (``io_callback``) that raises the same message when the program runs
  (JAX reports it as a ``JaxRuntimeError`` whose text holds the message).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.experimental import io_callback


def is_traced(x: Any) -> bool:
    """True when ``x`` is an abstract value inside a JAX transformation."""
    return isinstance(x, jax.core.Tracer)


def require(ok: Any, message: Callable[[], str], *, operands: tuple = ()) -> None:
    """Raise ``ValueError(message())`` unless every entry of ``ok`` is true.

    ``ok`` is a boolean array (or Python bool). ``message`` is only called on
    failure; when traced it receives the ``operands`` as numpy arrays so the
    message can name the bad value.
    """
    if is_traced(ok) or any(is_traced(o) for o in operands):

        def _callback(ok_value, *values):
            if not np.all(ok_value):
                raise ValueError(message(*(np.asarray(v) for v in values)))

        # An unordered io_callback is kept by the compiler (it has an effect)
        # and, unlike jax.debug.callback, is batched by vmap as one rolled loop
        # instead of one callback per batch member.
        io_callback(_callback, None, ok, *operands, ordered=False)
        return
    if not bool(np.all(np.asarray(ok))):
        raise ValueError(message(*(np.asarray(o) for o in operands)))


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an ``int`` after checking it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def finite_float(name: str, value: Any, *, positive: bool = False) -> float:
    """Return ``value`` as a ``float`` after checking it is a finite real number."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return value


def one_of(name: str, value: Any, options) -> str:
    """Check that ``value`` is one of ``options`` (strings)."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return value


def check_key(key: Any) -> None:
    """Check that ``key`` is a single JAX PRNG key (typed or raw uint32)."""
    if isinstance(key, (numbers.Number, str, bytes)):
        raise TypeError(
            f"key must be a JAX PRNG key such as jax.random.key(0), got {key!r}; "
            "pass jax.random.key(seed) instead of a bare seed"
        )
    shape = getattr(key, "shape", None)
    dtype = getattr(key, "dtype", None)
    if shape is None or dtype is None:
        raise TypeError(f"key must be a JAX PRNG key, got {type(key).__name__}")
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if shape != ():
            raise ValueError(
                f"key must be a single key, got a batch of shape {shape}; "
                "use jaxinit.ensemble (or jax.vmap) for several networks"
            )
        return
    if dtype != np.uint32 or len(shape) != 1:
        raise TypeError(
            f"key must be a JAX PRNG key (jax.random.key or jax.random.PRNGKey), "
            f"got an array of dtype {dtype} and shape {shape}"
        )


def first_bad(values, good: Callable[[np.ndarray], np.ndarray]):
    """First entry of ``values`` (a numpy array) for which ``good`` is false."""
    values = np.asarray(values)
    bad = values[~good(values)]
    return (bad if bad.size else values).ravel()[0].item()


def positive_finite(values: np.ndarray) -> np.ndarray:
    """Elementwise ``isfinite(values) & (values > 0)`` for numpy arrays."""
    return np.isfinite(values) & (values > 0)
