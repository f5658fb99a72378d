"""Argument checking shared by every public function.

Two kinds of check live here:

* static checks on Python values and array shapes, which always raise a
  ``ValueError``/``TypeError`` at call time (also while being traced);
* value checks on array contents (finite, non-zero, 0/1 ...). When the array
  is concrete these raise a ``ValueError`` at once. When the caller wraps a
  jaxinit function in its own ``jax.jit``/``jax.vmap`` the contents are not
  known at trace time, so the check is compiled into the program as a host
  callback that raises the same message when the program runs (see
  :mod:`jaxinit._src.runtime_checks`; :func:`jaxinit.jit` gives the original
  ``ValueError`` back).
"""

from __future__ import annotations

import numbers
import os
import sys
import warnings
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import io_callback
from numpy.typing import NDArray

from jaxinit._src import runtime_checks

#: A string choice (a ``Literal`` type, or ``str``).
_S = TypeVar("_S", bound=str)

if TYPE_CHECKING:
    from jaxinit._src.params import Params
    from jaxinit._src.sparse.params import SparseParams


#: The folder of the jaxinit package (``.../jaxinit/``), for :func:`user_stacklevel`.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` in the calling function
    point at the first frame outside jaxinit (the user's line), however many
    jaxinit functions lie in between."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level


def is_traced(x: Any) -> bool:
    """True when ``x`` is an abstract value inside a JAX transformation."""
    return isinstance(x, jax.core.Tracer)


def require(ok: Any, message: Callable[..., str], *, operands: tuple[Any, ...] = ()) -> None:
    """Raise ``ValueError(message())`` unless every entry of ``ok`` is true.

    ``ok`` is a boolean array (or Python bool). ``message`` is only called on
    failure; when traced it receives the ``operands`` as numpy arrays so the
    message can name the bad value.
    """
    if is_traced(ok) or any(is_traced(o) for o in operands):
        runtime_checks.require_at_run_time(ok, message, operands)
        return
    if not bool(np.all(np.asarray(ok))):
        raise ValueError(message(*(np.asarray(o) for o in operands)))


def on_host(check: Callable[..., None], *operands: Any) -> None:
    """Run ``check(*numpy_operands)`` on the host when the program runs.

    For checks on traced values that need more than one flag (an ensemble's
    per-member results); ``check`` raises ``ValueError`` to fail the run.
    """

    def _callback(*values: Any) -> None:
        check(*(np.asarray(v) for v in values))

    io_callback(_callback, None, *operands, ordered=False)


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
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number!r}")
    if positive and number <= 0:
        raise ValueError(f"{name} must be positive, got {number!r}")
    return number


def one_of(name: str, value: Any, options: Collection[_S]) -> _S:
    """Check that ``value`` is one of ``options`` (strings); typed as one of them."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {sorted(options)}, got {value!r}")
    return cast(_S, value)  # it is one of options


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
    if jnp.issubdtype(dtype, jax.dtypes.prng_key):
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


def first_bad(values: Any, good: Callable[[NDArray[Any]], NDArray[np.bool_]]) -> Any:
    """First entry of ``values`` (a numpy array) for which ``good`` is false."""
    values = np.asarray(values)
    bad = values[~good(values)]
    return (bad if bad.size else values).ravel()[0].item()


def positive_finite(values: NDArray[Any]) -> NDArray[np.bool_]:
    """Elementwise ``isfinite(values) & (values > 0)`` for numpy arrays."""
    ok: NDArray[np.bool_] = np.isfinite(values) & (values > 0)
    return ok


# ---------------------------------------------------------------------------
# Validators and messages shared by several modules (one wording each).


def dale_ratio(value: Any, name: str = "dale_ratio") -> float | None:
    """``None`` (no Dale's law) or a float in [0, 1] (0: every unit inhibitory)."""
    if value is None:
        return None
    ratio = finite_float(name, value)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] or None, got {ratio!r}")
    return ratio


def x64_enabled(what: str) -> None:
    """Raise ``ValueError`` unless 64-bit JAX is on; ``what`` needs float64."""
    # jax's Config sets its flag attributes at run time; its stubs do not list them.
    if not jax.config.jax_enable_x64:  # type: ignore[attr-defined]
        raise ValueError(
            f"{what} needs 64-bit JAX: call jax.config.update('jax_enable_x64', True) "
            "first (or set JAX_ENABLE_X64=1)"
        )


def single_network(params: Params | SparseParams, name: str = "params") -> None:
    """Raise ``ValueError`` when ``params`` is an ensemble (has leading axes)."""
    shape = params.batch_shape
    if shape:
        raise ValueError(
            f"{name} must be one network, got an ensemble of shape {shape}; "
            "take one member with jaxinit.member(params, i)"
        )


def not_diagonal_message(name: str, entry: Any) -> str:
    """The message for a Dale matrix with an entry off its diagonal."""
    return f"{name} must be a diagonal matrix, got a non-zero off-diagonal entry {entry!r}"


def choice(
    name: str, value: Any, options: Collection[_S], old: Mapping[str, _S] | None = None
) -> _S:
    """``value`` if it is one of ``options``; an old spelling in ``old`` is
    mapped to its new one with a ``DeprecationWarning``."""
    if old and isinstance(value, str) and value in old:
        deprecated(f"{name}={value!r}", f"{name}={old[value]!r}", stacklevel=4)
        return old[value]
    return one_of(name, value, options)


def deprecated(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (removed in 0.3)."""
    warnings.warn(
        f"{old} is deprecated since jaxinit 0.2 and will be removed in 0.3; use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
