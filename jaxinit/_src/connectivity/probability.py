"""Independent (Bernoulli) connections: every entry with its own probability."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy.typing as npt

from jaxinit._src.connectivity import arguments


def allowed(shape: tuple[int, int], autapses: jax.typing.ArrayLike) -> jax.Array:
    """Booleans of ``shape``: every entry, or (``autapses`` false) all off the diagonal.

    ``autapses`` may be traced, so one program serves both values.
    """
    return jnp.asarray(autapses) | ~jnp.eye(*shape, dtype=bool)


@partial(jax.jit, static_argnames=("shape",))
def draw(
    key: jax.Array,
    probabilities: jax.typing.ArrayLike,
    autapses: jax.typing.ArrayLike,
    *,
    shape: tuple[int, int],
) -> jax.Array:
    """The float32 mask ``uniform < probabilities`` (float32 uniforms).

    ``probabilities`` broadcasts to ``shape``; a false ``autapses`` clears the
    diagonal. The comparison is made in float32, so the mask of a key does
    not depend on the dtype asked for or on 64-bit JAX.
    """
    p = jnp.broadcast_to(jnp.asarray(probabilities, jnp.float32), shape)
    connected = jax.random.uniform(key, shape, jnp.float32) < p
    return (connected & allowed(shape, autapses)).astype(jnp.float32)


def bernoulli(
    key: jax.Array,
    shape: tuple[int, int],
    p: npt.ArrayLike,
    *,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A mask whose entries are connected independently, each with probability ``p``.

    Rows are the receiving units: ``mask[i, j] = 1`` is a connection from unit
    ``j`` onto unit ``i`` (PsychRNN's layout, shape ``(N_post, N_pre)``).

    Entry ``(i, j)`` is 1 when a float32 uniform draw is below ``p``, so the
    probability is ``p`` rounded up to a multiple of ``2**-23`` (exactly 0 for
    ``p = 0`` and 1 for ``p = 1``). The draw does not depend on ``dtype``.

    Args:
      key: a JAX PRNG key.
      shape: ``(N_post, N_pre)``, positive Python ints (static under ``jax.jit``).
      p: the probability, a scalar or an array broadcastable to ``shape``
        (one probability per entry). It may be a traced array under
        ``jax.jit``; a concrete ``p`` must be finite and in [0, 1], a traced
        one is not checked (values above 1 act as 1, below 0 or NaN as 0).
      autapses: if False (square ``shape`` only), the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Returns:
      The 0/1 mask, shape ``shape``, in ``dtype``.

    Example:
      >>> import jax
      >>> mask = bernoulli(jax.random.key(0), (100, 100), 0.2, autapses=False)
      >>> mask.shape, mask.dtype, float(mask.diagonal().sum())
      ((100, 100), dtype('float32'), 0.0)
      >>> 0.15 < float(mask.mean()) < 0.25
      True
    """
    arguments.key(key)
    shape = arguments.shape(shape)
    autapses = arguments.autapses(autapses, shape)
    dtype = arguments.mask_dtype(dtype)
    p = arguments.probability("p", p, shape)
    return arguments.in_dtype(draw(key, p, autapses, shape=shape), dtype)
