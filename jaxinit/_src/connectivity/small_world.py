"""Watts-Strogatz small-world masks (undirected, so the mask is symmetric)."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.connectivity import arguments


def ring_lattice(n: int, k: int) -> jax.Array:
    """``(n, n)`` booleans: each unit linked to its ``k / 2`` nearest units on each side.

    Computed by JAX (inside the caller's program), not stored as a constant.
    """
    units = jnp.arange(n, dtype=jnp.int32)
    offset = (units[:, None] - units[None, :]) % n
    around = jnp.minimum(offset, n - offset)
    return (around >= 1) & (around <= k // 2)


def lattice_edges(n: int, k: int) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """The lattice edges ``(u, u + j mod n)``, ``j = 1 .. k/2`` outer, ``u`` inner:
    the order in which :func:`small_world` considers them for rewiring."""
    j, u = np.divmod(np.arange(n * (k // 2)), n)
    return u.astype(np.int32), ((u + j + 1) % n).astype(np.int32)


@partial(jax.jit, static_argnames=("n", "k"))
def draw_small_world(key: jax.Array, beta: jax.typing.ArrayLike, *, n: int, k: int) -> jax.Array:
    """Watts-Strogatz rewiring of the ring lattice, one lattice edge per scan step."""
    source, target = lattice_edges(n, k)
    rewire_key, target_key = jax.random.split(key)
    flips = jax.random.uniform(rewire_key, source.shape, jnp.float32)
    rewire = flips < jnp.asarray(beta, jnp.float32)
    step_keys = jax.random.split(target_key, source.shape[0])
    units = jnp.arange(n, dtype=jnp.int32)

    def step(
        adjacent: jax.Array, edge: tuple[jax.Array, jax.Array, jax.Array, jax.Array]
    ) -> tuple[jax.Array, None]:
        u, v, flip, step_key = edge
        # Allowed new targets: not u itself and not already linked to u (v included).
        free = ~adjacent[u] & (units != u)
        n_free = jnp.sum(free, dtype=jnp.int32)
        pick = jax.random.randint(step_key, (), 0, jnp.maximum(n_free, 1), dtype=jnp.int32)
        # The pick-th free unit (0-based): the first where the running count passes pick.
        w = jnp.argmax(jnp.cumsum(free, dtype=jnp.int32) > pick).astype(jnp.int32)
        new = jnp.where(flip & (n_free > 0), w, v)
        # One scatter (in place in the scan): unlink (u, v) and link (u, new),
        # both ways. When new == v all four entries are set to True.
        rows = jnp.stack([u, v, u, new])
        cols = jnp.stack([v, u, new, u])
        kept = new == v
        adjacent = adjacent.at[rows, cols].set(jnp.stack([kept, kept, True, True]))
        return adjacent, None

    edges = (jnp.asarray(source), jnp.asarray(target), rewire, step_keys)
    adjacent, _ = jax.lax.scan(step, ring_lattice(n, k), edges)
    return adjacent.astype(jnp.float32)


def small_world(
    key: jax.Array,
    n: int,
    k: int,
    beta: jax.typing.ArrayLike,
    *,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A Watts-Strogatz small-world mask: a ring lattice with rewired edges.

    Start from the ring lattice of ``n`` units where each unit is linked to
    its ``k`` nearest neighbours (``k / 2`` on each side). Then each lattice
    edge ``(u, u + j)`` is considered once, in the order ``j = 1 .. k/2``
    (outer), ``u = 0 .. n-1`` (inner), as in Watts and Strogatz (1998): with
    probability ``beta`` it is replaced by ``(u, w)``, ``w`` drawn uniformly
    from the units that are not ``u`` and not linked to ``u`` at that moment
    (so no self-loops and no duplicate edges; when ``u`` is already linked to
    every other unit the edge is kept).

    The graph is undirected, as in Watts-Strogatz: the mask is symmetric
    (``mask[i, j] == mask[j, i]``, a connection each way), has a zero
    diagonal and exactly ``n * k`` ones (``n * k / 2`` edges) for every
    ``beta``. At ``beta = 0`` it is the ring lattice (every row has ``k``
    ones); at ``beta = 1`` every edge is rewired. Rewiring is a
    ``jax.lax.scan`` over the ``n * k / 2`` edges, each step O(n).

    Args:
      key: a JAX PRNG key.
      n: number of units, a Python int >= 3 (static).
      k: number of lattice neighbours of each unit, an even Python int with
        ``2 <= k < n`` (static).
      beta: the rewiring probability, in [0, 1]; may be traced (then not
        checked).
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax
      >>> mask = small_world(jax.random.key(0), 20, 4, 0.0)
      >>> mask[0].nonzero()[0].tolist()  # two neighbours on each side
      [1, 2, 18, 19]
      >>> mask = small_world(jax.random.key(0), 20, 4, 0.3)
      >>> float(mask.sum()), bool((mask == mask.T).all()), float(mask.diagonal().sum())
      (80.0, True, 0.0)
    """
    arguments.key(key)
    n = checks.positive_int("n", n)
    k = checks.positive_int("k", k)
    if k % 2:
        raise ValueError(f"k must be even (k / 2 neighbours on each side), got {k!r}")
    if k >= n:
        raise ValueError(f"k must be smaller than n={n}, got {k!r}")
    beta = arguments.probability("beta", beta)
    dtype = arguments.mask_dtype(dtype)
    return arguments.in_dtype(draw_small_world(key, beta, n=n, k=k), dtype)
