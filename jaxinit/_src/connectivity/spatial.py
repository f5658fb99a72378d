"""Distance-dependent masks, and the positions of units on a ring or a grid."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.connectivity import arguments, probability
from jaxinit._src.names import PROFILES, Profile


def unit_positions(value: Any) -> jax.Array | npt.NDArray[np.float64]:
    """``value`` as an ``(N, D)`` array (``(N,)`` becomes ``(N, 1)``), checked."""
    array = arguments.real_array("positions", value)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ValueError(
            "positions must have shape (N,) (a line or ring) or (N, D) (e.g. D = 2 for a "
            f"sheet) with N >= 1, got shape {tuple(np.shape(value))}"
        )
    if not checks.is_traced(array) and not np.isfinite(array).all():
        bad = array[~np.isfinite(array)].ravel()[0].item()
        raise ValueError(f"positions must be finite, got {bad!r}")
    return array


def periods(value: Any, dims: int) -> tuple[float, ...] | None:
    """``None``, or one positive period per dimension (a float is used for all)."""
    if value is None:
        return None
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != dims:
            raise ValueError(
                f"period must be a float or a sequence of {dims} floats (one per "
                f"dimension of positions), got {value!r}"
            )
        return tuple(checks.finite_float("period", v, positive=True) for v in value)
    return (checks.finite_float("period", value, positive=True),) * dims


@partial(jax.jit, static_argnames=("profile", "period"))
def draw_distance(
    key: jax.Array,
    positions: jax.typing.ArrayLike,
    scale: jax.typing.ArrayLike,
    p_max: jax.typing.ArrayLike,
    autapses: jax.typing.ArrayLike,
    *,
    profile: Profile,
    period: tuple[float, ...] | None,
) -> jax.Array:
    """The distance-dependent mask from checked arguments, computed in float32."""
    positions = jnp.asarray(positions, jnp.float32)
    n, dims = positions.shape
    # One dimension at a time: O(N^2) memory, not O(N^2 D).
    squared = jnp.zeros((n, n), jnp.float32)
    for d in range(dims):
        delta = positions[:, d][:, None] - positions[:, d][None, :]
        if period is not None:
            delta = delta - period[d] * jnp.round(delta / period[d])
        squared = squared + delta * delta
    scale = jnp.asarray(scale, jnp.float32)
    if profile == "gaussian":
        falloff = jnp.exp(-squared / (2 * scale * scale))
    else:
        falloff = jnp.exp(-jnp.sqrt(squared) / scale)
    falloff = jnp.asarray(p_max, jnp.float32) * falloff
    mask: jax.Array = probability.draw(key, falloff, autapses, shape=(n, n))
    return mask


def distance(
    key: jax.Array,
    positions: npt.ArrayLike,
    profile: Profile,
    *,
    scale: jax.typing.ArrayLike,
    p_max: jax.typing.ArrayLike = 1.0,
    period: float | Sequence[float] | None = None,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A mask whose connection probability falls off with the distance between units.

    Units ``i`` and ``j`` at distance ``d`` are connected (each direction
    independently) with probability ``p_max * f(d / scale)``:

    * ``"gaussian"``: ``f = exp(-d**2 / (2 * scale**2))``;
    * ``"exponential"``: ``f = exp(-d / scale)``.

    ``d`` is the Euclidean distance, or with ``period`` the distance on a
    ring / torus: along each dimension the shorter way round,
    ``|x - period * round(x / period)|``. Each entry is then drawn as in
    :func:`bernoulli` (float32 uniforms), rows receiving. Distances and
    probabilities are computed in float32 whatever ``dtype`` is, so a key
    gives the same mask with and without 64-bit JAX.

    Args:
      key: a JAX PRNG key.
      positions: ``(N,)`` for units on a line or ring, or ``(N, D)`` (``D = 2``
        for a sheet); see :func:`ring_positions` and :func:`grid_positions`.
        May be traced; concrete ones must be finite.
      profile: ``"gaussian"`` or ``"exponential"``.
      scale: the length scale, > 0 (may be traced; then not checked).
      p_max: the probability at distance 0, in [0, 1] (may be traced; then
        not checked).
      period: ``None`` (no wrap-around), a float (the same period along every
        dimension) or one float per dimension: the circumference of a ring,
        the side lengths of a torus. Static.
      autapses: if False, the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax
      >>> positions = ring_positions(200)  # circumference 1.0: use period=1.0
      >>> mask = distance(jax.random.key(0), positions, "gaussian", scale=0.05, period=1.0)
      >>> near = float(mask[0, 1:6].mean())  # neighbours 0.005 .. 0.025 away
      >>> far = float(mask[0, 80:120].mean())  # the other side of the ring
      >>> near > 0.8, far
      (True, 0.0)
    """
    arguments.key(key)
    profile = checks.one_of("profile", profile, PROFILES)
    positions = unit_positions(positions)
    scale = arguments.positive_scalar("scale", scale)
    p_max = arguments.probability("p_max", p_max)
    period = periods(period, positions.shape[1])
    autapses = arguments.flag("autapses", autapses)
    dtype = arguments.mask_dtype(dtype)
    mask = draw_distance(key, positions, scale, p_max, autapses, profile=profile, period=period)
    return arguments.in_dtype(mask, dtype)


def ring_positions(n: int, circumference: float = 1.0) -> jax.Array:
    """Positions of ``n`` units evenly spaced on a ring: ``i * circumference / n``.

    Shape ``(n,)``, float32. Pass ``period=circumference`` to :func:`distance`
    for distances around the ring (without it, the units lie on a line).

    Example:
      >>> ring_positions(4, circumference=2.0).tolist()
      [0.0, 0.5, 1.0, 1.5]
    """
    n = checks.positive_int("n", n)
    circumference = checks.finite_float("circumference", circumference, positive=True)
    return jnp.asarray(np.arange(n) * (circumference / n), jnp.float32)


def grid_positions(rows: int, cols: int, spacing: float = 1.0) -> jax.Array:
    """Positions of ``rows * cols`` units on a grid, in row-major order.

    Unit ``i = r * cols + c`` sits at ``(r * spacing, c * spacing)``. Shape
    ``(rows * cols, 2)``, float32. Pass ``period=(rows * spacing, cols *
    spacing)`` to :func:`distance` for a torus (without it, a flat sheet).

    Example:
      >>> grid_positions(2, 3).tolist()
      [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    """
    rows = checks.positive_int("rows", rows)
    cols = checks.positive_int("cols", cols)
    spacing = checks.finite_float("spacing", spacing, positive=True)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return jnp.asarray(np.stack([r, c], axis=1) * spacing, jnp.float32)
