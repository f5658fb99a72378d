"""Sparsity patterns drawn as column indices, never as an ``N x N`` mask.

:func:`fixed_in_degree` gives every row ``k`` distinct columns, uniformly
over the ``k``-subsets of its candidates (all columns, or all but the
diagonal), in O(N k) memory. Each row is drawn from its own key,
``fold_in(key, row)``, so a row does not depend on how rows are split into
chunks or across devices, and the draw never materializes more than a chunk
of rows at a time.

How a row is drawn: when ``k`` is small next to the number of candidates
``c``, ``s > k`` independent uniform integers in ``[0, c)`` are drawn and the
first ``k`` distinct ones, in the order drawn, are kept; that is sampling
without replacement, so every ``k``-subset is equally likely. A row whose
``s`` draws hold fewer than ``k`` distinct values is drawn again from the
next key of its sequence (the condition does not depend on which values
came, so the kept subset stays uniform). When ``k`` is a large part of
``c`` a random permutation of the candidates is cut after ``k`` instead.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding

from jaxinit._src import checks
from jaxinit._src.connectivity import arguments
from jaxinit._src.sparse.rows import MAX_COLUMNS, RowSparse
from jaxinit._src.sparse.sharded import sharded_rows
from jaxinit._src.typing import DTypeLike, PRNGKey

#: Rows drawn at once; bounds the memory of the draw at ``CHUNK_ROWS * s`` integers.
CHUNK_ROWS = 8192


def draws_per_row(k: int, candidates: int) -> int:
    """``s``, the integers drawn for a row of ``k`` out of ``candidates``,
    or 0 where a permutation is cheaper (``4 k > candidates``).

    With ``s = 2 k + 16`` and ``4 k <= candidates`` the expected number of
    repeated draws is below ``k / 2 + 8``, so a redraw is rare.

    Example:
      >>> draws_per_row(100, 99_999), draws_per_row(30, 99)
      (216, 0)
    """
    return 0 if 4 * k > candidates else 2 * k + 16


def first_distinct(
    values: jax.Array, k: int, fill: int, need: jax.Array | int | None = None
) -> tuple[jax.Array, jax.Array]:
    """The first ``need`` (default ``k``) distinct entries of ``values`` (one
    row, in drawn order), sorted into ``k`` slots, and whether there were
    ``need``; the slots past them hold ``fill``."""
    s = values.shape[0]
    need = k if need is None else need
    order = jnp.argsort(values, stable=True)
    ordered = values[order]
    new = jnp.concatenate([jnp.ones((1,), bool), ordered[1:] != ordered[:-1]])
    first = jnp.zeros((s,), bool).at[order].set(new)  # first time drawn
    keep = first & (jnp.cumsum(first) <= need)
    chosen = jnp.sort(jnp.where(keep, values, fill))[:k]
    return chosen, jnp.sum(first) >= need


def _row(key: PRNGKey, row: jax.Array, k: int, n: int, autapses: bool) -> jax.Array:
    """Sorted column indices of one row (``k`` distinct, never ``row`` unless autapses)."""
    candidates = n if autapses else n - 1
    s = draws_per_row(k, candidates)
    row_key = jax.random.fold_in(key, row)
    if s == 0:
        picked = jnp.sort(jax.random.permutation(row_key, candidates)[:k])
    else:

        def attempt(c: tuple[jax.Array, jax.Array, jax.Array]) -> tuple[Any, ...]:
            i, _, _ = c
            draws = jax.random.randint(
                jax.random.fold_in(row_key, i), (s,), 0, candidates, jnp.int32
            )
            chosen, ok = first_distinct(draws, k, candidates)
            return i + 1, chosen, ok

        start = (jnp.asarray(0, jnp.uint32), jnp.zeros((k,), jnp.int32), jnp.asarray(False))
        _, picked, _ = jax.lax.while_loop(lambda c: ~c[2], attempt, start)
    if autapses:
        return picked.astype(jnp.int32)
    # candidate t >= row stands for column t + 1: the diagonal is skipped, order kept
    return (picked + (picked >= row)).astype(jnp.int32)


def rows_of(key: PRNGKey, rows: jax.Array, *, n: int, k: int, autapses: bool) -> jax.Array:
    """The column indices of ``rows`` (a vector of row numbers), ``CHUNK_ROWS`` at a time."""
    if k == 0:
        return jnp.zeros((rows.shape[0], 0), jnp.int32)
    one = functools.partial(_row, key, k=k, n=n, autapses=autapses)
    index: jax.Array = jax.lax.map(one, rows, batch_size=min(CHUNK_ROWS, rows.shape[0]))
    return index


@functools.partial(jax.jit, static_argnums=(1, 2, 3, 4))
def _indices(key: PRNGKey, n_rows: int, n: int, k: int, autapses: bool) -> jax.Array:
    rows = jnp.arange(n_rows, dtype=jnp.int32)
    return rows_of(key, rows, n=n, k=k, autapses=autapses)


def fixed_in_degree(
    key: PRNGKey,
    shape: tuple[int, int],
    k: int,
    *,
    autapses: bool = True,
    dtype: DTypeLike = jnp.float32,
    sharding: Mesh | NamedSharding | None = None,
) -> RowSparse:
    """A pattern in which every unit receives exactly ``k`` connections, stored sparse.

    The sparse counterpart of :func:`jaxinit.connectivity.fixed_in_degree`,
    with the same arguments: row ``i`` (the receiving unit) holds ``k``
    distinct presynaptic columns, every ``k``-subset of the candidates
    equally likely (the candidates are all ``N_pre`` units, or, for a
    square pattern with ``autapses=False``, all but ``i``). Returned as a
    :class:`~jaxinit.sparse.RowSparse` of ones of shape ``(N_post, N_pre)``
    with ``k`` slots per row and the columns of each row sorted; memory and
    time are O(N k), never O(N^2). Row ``i`` is drawn from
    ``fold_in(key, i)``, so the pattern is the same however the rows are
    chunked or sharded. It is not the dense generator's draw: for one key the
    two give equally distributed, not equal, masks.

    Args:
      key: a JAX PRNG key.
      shape: ``(N_post, N_pre)``, each below ``2**31 - 1`` (int32 indices).
      k: in-degree, ``0 <= k <= N_pre`` (``N_pre - 1`` without autapses).
      autapses: allow self-connections (square patterns only).
      dtype: the values' dtype (ones): float32 (default), float64 (64-bit JAX),
        or bfloat16 or float16 to halve their memory (the initializers read
        only the index).
      sharding: None (one device), or where the rows go: a
        :class:`jax.sharding.Mesh` (rows split over all its axes) or a
        :class:`jax.sharding.NamedSharding` splitting the first axis, e.g.
        ``NamedSharding(mesh, PartitionSpec("rows"))``. Each device then draws
        only its own rows (the same rows as unsharded, bit for bit), and the
        initializers, :func:`jaxinit.effective` and the Krylov radius keep
        them there (see the sparse guide). ``N_post`` must split evenly.
        Works with a mesh spanning several processes (after
        ``jax.distributed.initialize``; every process makes the same call).

    Returns:
      A ``RowSparse`` pattern of ``N_post x k`` ones.

    Example:
      >>> import jax, jaxinit
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(0), (6, 6), 2, autapses=False)
      >>> P.shape, P.slots
      ((6, 6), 2)
      >>> mask = P.todense()
      >>> mask.sum(axis=1).tolist(), float(mask.diagonal().sum())
      ([2.0, 2.0, 2.0, 2.0, 2.0, 2.0], 0.0)
    """
    arguments.key(key)
    n_rows, n_cols = arguments.shape(shape)
    if max(n_rows, n_cols) > MAX_COLUMNS:
        raise ValueError(f"shape must be below {MAX_COLUMNS + 1} (int32 indices), got {shape}")
    autapses = arguments.autapses(autapses, (n_rows, n_cols))
    most = n_cols if autapses else n_cols - 1
    k = arguments.count("k", k, most, "the candidate inputs per unit")
    value_dtype = arguments.mask_dtype(dtype, arguments.PATTERN_DTYPES)
    if sharding is None:
        index = _indices(key, n_rows, n_cols, k, autapses)
    else:
        index = sharded_rows(rows_of, key, n_rows, sharding, n=n_cols, k=k, autapses=autapses)
    # elementwise on the index, so the values are split as the index is
    return RowSparse(jnp.where(index < n_cols, 1, 0).astype(value_dtype), index, n_cols)


def from_dense(W: Any, *, slots: int | None = None) -> RowSparse:
    """The nonzero entries of a concrete dense matrix as a :class:`RowSparse`.

    ``slots`` (default: the largest number of nonzeros in a row) is ``K``;
    shorter rows are padded. Runs on the host (the number of slots depends
    on the values), so it takes concrete arrays, not traced ones. Use it to
    turn a mask from :mod:`jaxinit.connectivity` into a pattern where the
    dense mask fits in memory.

    Example:
      >>> import jax.numpy as jnp
      >>> S = from_dense(jnp.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0], [0.0, 0.0, 0.0]]))
      >>> S.slots, S.index.tolist(), S.values.tolist()
      (2, [[1, 3], [0, 2], [3, 3]], [[2.0, 0.0], [1.0, 3.0], [0.0, 0.0]])
    """
    if checks.is_traced(W):
        raise TypeError("from_dense needs a concrete array (it reads the nonzeros on the host)")
    dense = np.asarray(W)
    if dense.ndim != 2:
        raise ValueError(f"W must be a matrix (2 axes), got shape {dense.shape}")
    if not (np.issubdtype(dense.dtype, np.floating) or np.issubdtype(dense.dtype, np.integer)
            or dense.dtype == np.bool_):
        raise TypeError(f"W must be real, got dtype {dense.dtype}")
    if dense.shape[1] > MAX_COLUMNS:
        raise ValueError(f"W has {dense.shape[1]} columns; int32 indices allow fewer")
    nonzero = dense != 0
    counts = nonzero.sum(axis=1)
    widest = int(counts.max(initial=0))
    K = widest if slots is None else arguments.count("slots", slots, MAX_COLUMNS, "int32")
    if widest > K:
        raise ValueError(f"slots must be at least {widest} (the fullest row), got {slots!r}")
    n_rows, n_cols = dense.shape
    index = np.full((n_rows, K), n_cols, np.int32)
    values_dtype = dense.dtype if np.issubdtype(dense.dtype, np.floating) else np.float32
    values = np.zeros((n_rows, K), values_dtype)
    rows, cols = np.nonzero(nonzero)
    slot = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    index[rows, slot] = cols
    values[rows, slot] = dense[rows, cols]
    return RowSparse(jnp.asarray(values), jnp.asarray(index), n_cols)
