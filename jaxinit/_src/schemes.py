"""The four random weight schemes of PsychRNN, as pure functions of a key.

Each scheme takes a PRNG key and a connectivity mask and returns an array of
the mask's shape. As in PsychRNN the mask only sets the *fan* of the glorot
schemes; masked-out entries still get random values (the mask is applied when
the network runs, see :func:`jaxinit.effective`).

The glorot fan of entry ``(i, j)`` is PsychRNN's per-entry formula
``fan[i, j] = sum_k mask[i, k] + sum_k mask[k, j]`` (row sum plus column sum).
An entry whose fan is 0 has an empty row *and* an empty column, so it is
masked out itself; PsychRNN gives it an infinite or NaN value, jaxinit gives
it 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.names import SchemeName
from jaxinit._src.typing import ArrayLike, DTypeLike, PRNGKey


def _mask_and_dtype(
    connectivity: ArrayLike, dtype: DTypeLike | None
) -> tuple[jax.Array, np.dtype[Any]]:
    mask = jnp.asarray(connectivity)
    if mask.ndim != 2:
        raise ValueError(
            f"connectivity must be a 2-D mask, got an array of shape {tuple(mask.shape)}"
        )
    work = jnp.dtype(dtype or jnp.float32)
    if not jnp.issubdtype(work, jnp.floating):
        raise TypeError(f"dtype must be a floating dtype, got {work}")
    return mask.astype(work), work


def glorot_fan(connectivity: ArrayLike) -> jax.Array:
    """PsychRNN's per-entry fan: row sum of the mask plus column sum.

    Example:
      >>> import jax.numpy as jnp
      >>> glorot_fan(jnp.array([[1.0, 0.0], [1.0, 1.0]]))
      Array([[3., 2.],
             [4., 3.]], dtype=float32)
    """
    mask = jnp.asarray(connectivity)
    if not jnp.issubdtype(mask.dtype, jnp.floating):
        mask = mask.astype(jnp.float32)
    return mask.sum(axis=-1, keepdims=True) + mask.sum(axis=-2, keepdims=True)


def const_gauss(
    key: PRNGKey, connectivity: ArrayLike, *, dtype: DTypeLike | None = None
) -> jax.Array:
    """Standard normal values, one per entry of ``connectivity``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> const_gauss(jax.random.key(0), jnp.ones((3, 2))).shape
      (3, 2)
    """
    mask, work = _mask_and_dtype(connectivity, dtype)
    return jax.random.normal(key, mask.shape, work)


def const_unif(
    key: PRNGKey,
    connectivity: ArrayLike,
    *,
    minval: ArrayLike = -0.1,
    maxval: ArrayLike = 0.1,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Uniform values in ``[minval, maxval)``, one per entry of ``connectivity``.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> w = const_unif(jax.random.key(0), jnp.ones((50, 50)), minval=0.0, maxval=0.5)
      >>> bool((w >= 0).all() and (w < 0.5).all())
      True
    """
    if not (checks.is_traced(minval) or checks.is_traced(maxval)):
        minval = checks.finite_float("minval", minval)
        maxval = checks.finite_float("maxval", maxval)
        if minval > maxval:
            raise ValueError(
                f"minval must not exceed maxval, got minval={minval!r} > maxval={maxval!r}"
            )
    mask, work = _mask_and_dtype(connectivity, dtype)
    return jax.random.uniform(key, mask.shape, work, minval=minval, maxval=maxval)


def _glorot_scale(mask: jax.Array, numerator: float) -> jax.Array:
    fan = glorot_fan(mask)
    safe = jnp.where(fan > 0, fan, 1)
    return jnp.where(fan > 0, jnp.sqrt(numerator / safe), 0).astype(mask.dtype)


def glorot_unif(
    key: PRNGKey, connectivity: ArrayLike, *, dtype: DTypeLike | None = None
) -> jax.Array:
    """Uniform values in ``±sqrt(6 / fan)`` with PsychRNN's per-entry fan.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> w = glorot_unif(jax.random.key(0), jnp.ones((4, 4)))
      >>> bool((jnp.abs(w) <= jnp.sqrt(6 / 8)).all())
      True
    """
    mask, work = _mask_and_dtype(connectivity, dtype)
    limit = _glorot_scale(mask, 6.0)
    return limit * jax.random.uniform(key, mask.shape, work, minval=-1.0, maxval=1.0)


def glorot_gauss(
    key: PRNGKey, connectivity: ArrayLike, *, dtype: DTypeLike | None = None
) -> jax.Array:
    """Normal values with standard deviation ``sqrt(2 / fan)`` (per-entry fan).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> glorot_gauss(jax.random.key(0), jnp.ones((2, 3))).dtype
      dtype('float32')
    """
    mask, work = _mask_and_dtype(connectivity, dtype)
    return _glorot_scale(mask, 2.0) * jax.random.normal(key, mask.shape, work)


#: Scheme names accepted by ``which_rand_init`` / ``which_rand_W_rec_init``.
SCHEMES: dict[str, Callable[..., jax.Array]] = {
    "const_unif": const_unif,
    "const_gauss": const_gauss,
    "glorot_unif": glorot_unif,
    "glorot_gauss": glorot_gauss,
}


def draw(
    name: SchemeName,
    key: PRNGKey,
    connectivity: ArrayLike,
    *,
    minval: ArrayLike = -0.1,
    maxval: ArrayLike = 0.1,
    dtype: DTypeLike | None = None,
) -> jax.Array:
    """Draw with the scheme called ``name`` (``minval``/``maxval`` for const_unif)."""
    fn = SCHEMES[checks.one_of("scheme", name, SCHEMES)]
    if fn is const_unif:
        return fn(key, connectivity, minval=minval, maxval=maxval, dtype=dtype)
    return fn(key, connectivity, dtype=dtype)
