"""Masks with an exact number of connections: in total, per row or per column.

Each subset of the allowed entries (all entries, or all but the diagonal with
``autapses=False``) of the promised size is equally likely: the chosen
entries are those with the smallest random keys, for the whole matrix or
for each row (see :mod:`~jaxinit._src.connectivity.selection`). The work is
a sort of ``N_post * N_pre`` 32-bit integers, the memory O(N_post * N_pre).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from jaxinit._src.connectivity import arguments, probability, selection

#: Flat indices are int32: a matrix must have fewer entries than this.
MAX_ENTRIES = 2**31 - 1


def candidates(shape: tuple[int, int], autapses: bool) -> int:
    """Number of entries that may be connected: all, or all but the diagonal."""
    rows, cols = shape
    return rows * cols if autapses else rows * (rows - 1)


def _indexable(shape: tuple[int, int]) -> None:
    if shape[0] * shape[1] > MAX_ENTRIES:
        raise ValueError(f"shape {shape} has more than 2**31 - 1 entries, too many for one mask")


@partial(jax.jit, static_argnames=("shape",))
def draw_total(
    key: jax.Array,
    n: jax.typing.ArrayLike,
    autapses: jax.typing.ArrayLike,
    *,
    shape: tuple[int, int],
) -> jax.Array:
    """``n`` ones among the candidates of ``shape``, every subset equally likely.

    ``n`` and ``autapses`` (checked by the caller) are arguments, not static:
    one program serves every count. Returns float32.
    """
    eligible = probability.allowed(shape, autapses).reshape(1, shape[0] * shape[1])
    return selection.per_row(key, eligible, n).reshape(shape).astype(jnp.float32)


@partial(jax.jit, static_argnames=("shape",))
def draw_rows(
    key: jax.Array,
    k: jax.typing.ArrayLike,
    autapses: jax.typing.ArrayLike,
    *,
    shape: tuple[int, int],
) -> jax.Array:
    """``k`` ones in every row of ``shape``, each row's subset uniform and
    independent. Returns float32."""
    eligible = probability.allowed(shape, autapses)
    return selection.per_row(key, eligible, k).astype(jnp.float32)


def fixed_total(
    key: jax.Array,
    shape: tuple[int, int],
    n: int,
    *,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A mask with exactly ``n`` connections, every such mask equally likely.

    Rows are the receiving units (shape ``(N_post, N_pre)``). The candidates
    are all ``N_post * N_pre`` entries, or the ``N * (N - 1)`` off-diagonal
    ones with ``autapses=False``.

    Args:
      key: a JAX PRNG key.
      shape: ``(N_post, N_pre)``, positive Python ints (static).
      n: the number of connections, a Python int from 0 to the number of
        candidates (static).
      autapses: if False (square ``shape`` only), the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax
      >>> mask = fixed_total(jax.random.key(0), (4, 4), 5, autapses=False)
      >>> float(mask.sum()), float(mask.diagonal().sum())
      (5.0, 0.0)
    """
    arguments.key(key)
    shape = arguments.shape(shape)
    _indexable(shape)
    autapses = arguments.autapses(autapses, shape)
    dtype = arguments.mask_dtype(dtype)
    most = candidates(shape, autapses)
    n = arguments.count("n", n, most, "the number of candidate entries")
    return arguments.in_dtype(draw_total(key, n, autapses, shape=shape), dtype)


def fixed_in_degree(
    key: jax.Array,
    shape: tuple[int, int],
    k: int,
    *,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A mask with exactly ``k`` ones in every row: each unit receives ``k`` inputs.

    Rows are the receiving units (shape ``(N_post, N_pre)``); each row's ``k``
    senders are a uniform random subset of the ``N_pre`` units (of the other
    ``N - 1`` units with ``autapses=False``), independently for every row.

    Args:
      key: a JAX PRNG key.
      shape: ``(N_post, N_pre)``, positive Python ints (static).
      k: the in-degree, a Python int from 0 to ``N_pre`` (``N - 1`` with
        ``autapses=False``) (static).
      autapses: if False (square ``shape`` only), the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax
      >>> mask = fixed_in_degree(jax.random.key(0), (3, 5), 2)
      >>> mask.sum(axis=1).tolist()
      [2.0, 2.0, 2.0]
    """
    return _fixed_degree(key, shape, k, autapses, dtype, rows=True)


def fixed_out_degree(
    key: jax.Array,
    shape: tuple[int, int],
    k: int,
    *,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A mask with exactly ``k`` ones in every column: each unit sends ``k`` outputs.

    Rows are the receiving units (shape ``(N_post, N_pre)``); each column's
    ``k`` receivers are a uniform random subset of the ``N_post`` units (of
    the other ``N - 1`` with ``autapses=False``), independently for every
    column. This is the transpose of :func:`fixed_in_degree` drawn with shape
    ``(N_pre, N_post)`` and the same key.

    Args:
      key: a JAX PRNG key.
      shape: ``(N_post, N_pre)``, positive Python ints (static).
      k: the out-degree, a Python int from 0 to ``N_post`` (``N - 1`` with
        ``autapses=False``) (static).
      autapses: if False (square ``shape`` only), the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax
      >>> mask = fixed_out_degree(jax.random.key(0), (3, 5), 2)
      >>> mask.sum(axis=0).tolist()
      [2.0, 2.0, 2.0, 2.0, 2.0]
    """
    return _fixed_degree(key, shape, k, autapses, dtype, rows=False)


def _fixed_degree(
    key: jax.Array,
    shape: tuple[int, int],
    k: int,
    autapses: bool,
    dtype: jax.typing.DTypeLike,
    *,
    rows: bool,
) -> jax.Array:
    """:func:`fixed_in_degree` (``rows``) or :func:`fixed_out_degree`: checks, then draws."""
    arguments.key(key)
    shape = arguments.shape(shape)
    _indexable(shape)
    autapses = arguments.autapses(autapses, shape)
    dtype = arguments.mask_dtype(dtype)
    drawn = shape if rows else shape[::-1]
    most = drawn[1] if autapses else drawn[1] - 1
    what = "senders per row" if rows else "receivers per column"
    k = arguments.count("k", k, most, f"the number of possible {what}")
    mask = draw_rows(key, k, autapses, shape=drawn)
    return arguments.in_dtype(mask if rows else mask.T, dtype)
