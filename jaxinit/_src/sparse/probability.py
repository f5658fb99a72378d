"""Independent-entry patterns (:func:`bernoulli`, :func:`blocks`, :func:`ei`), stored sparse.

The dense generators of :mod:`jaxinit.connectivity` draw one uniform number
per entry, ``N^2`` of them. Here a pattern is drawn in O(nnz + N G) for
``G`` groups of units, in two steps that give the same distribution:

1. for every row ``i`` and sending group ``b``, the number of connections
   ``n_ib`` is drawn from the binomial distribution of its ``c_ib``
   candidates (the units of group ``b``, less ``i`` itself on the diagonal
   block when ``autapses=False``) and the block's probability;
2. those ``n_ib`` columns are drawn uniformly among the candidates, without
   replacement (as :func:`~jaxinit.sparse.fixed_in_degree` draws a row).

Given its count, every subset of a row's candidates is equally likely,
which is what independent entries give. The number of slots ``K`` is the
largest row count of the draw (or ``slots=``), found on the host between the
two steps, so these functions take a concrete key and are not traced by
``jax.jit``; each step runs as one jitted program.

Keys: ``count_key, column_key = split(key)``; the counts of sending group
``b`` come from ``fold_in(count_key, b)``, the columns of row ``i`` in group
``b`` from ``fold_in(fold_in(column_key, b), i)``. A row does not depend on
how rows are chunked.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.connectivity import arguments
from jaxinit._src.connectivity.blocks import group_sizes
from jaxinit._src.dale import n_excitatory
from jaxinit._src.sparse.patterns import CHUNK_ROWS, draws_per_row, first_distinct
from jaxinit._src.sparse.rows import MAX_COLUMNS, RowSparse
from jaxinit._src.typing import DTypeLike


def _subset(
    key: jax.Array, need: jax.Array, slots: int, size: int, skip: jax.Array
) -> jax.Array:
    """``need`` distinct columns of ``0 .. size - 1`` (never ``skip``, when
    ``skip >= 0``), sorted into ``slots`` slots; the slots past them hold ``size``."""
    s = draws_per_row(slots, size)
    if s == 0:
        perm = jax.random.permutation(key, size).astype(jnp.int32)
        allowed = perm != skip
        keep = allowed & (jnp.cumsum(allowed) <= need)
        return jnp.sort(jnp.where(keep, perm, size))[:slots]
    candidates = size - (skip >= 0).astype(jnp.int32)

    def attempt(c: tuple[jax.Array, jax.Array, jax.Array]) -> tuple[Any, ...]:
        i, _, _ = c
        draws = jax.random.randint(jax.random.fold_in(key, i), (s,), 0, candidates, jnp.int32)
        chosen, ok = first_distinct(draws, slots, size, need)
        return i + 1, chosen, ok

    start = (jnp.asarray(0, jnp.uint32), jnp.zeros((slots,), jnp.int32), jnp.asarray(False))
    _, picked, _ = jax.lax.while_loop(lambda c: ~c[2], attempt, start)
    # candidate t >= skip stands for column t + 1; padding (== size) stays
    shift = (skip >= 0) & (picked >= skip) & (picked < size)
    return jnp.where(shift, picked + 1, picked)


def _round_up(count: int, step: int = 16) -> int:
    return -(-count // step) * step


def _group_of(sizes: tuple[int, ...]) -> npt.NDArray[np.int32]:
    return np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _counts(key: jax.Array, p: jax.Array, sizes: tuple[int, ...], autapses: bool) -> jax.Array:
    """``(N, G)`` int32: row ``i``'s number of connections from each group."""
    group = jnp.asarray(_group_of(sizes))
    columns = []
    for b, size in enumerate(sizes):
        n = jnp.full(group.shape, size, jnp.float32)
        if not autapses:
            n = n - (group == b)
        draw = jax.random.binomial(jax.random.fold_in(key, b), n, p[group, b], dtype=jnp.float32)
        columns.append(jnp.clip(jnp.round(draw), 0, n).astype(jnp.int32))
    return jnp.stack(columns, axis=-1)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5))
def _columns(
    key: jax.Array,
    counts: jax.Array,
    sizes: tuple[int, ...],
    widths: tuple[int, ...],
    slots: int,
    autapses: bool,
) -> jax.Array:
    """``(N, slots)`` int32 sorted column indices, padding ``N`` last."""
    n = sum(sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int32)
    group = jnp.asarray(_group_of(sizes))
    keys = [jax.random.fold_in(key, b) for b in range(len(sizes))]

    def row(xs: tuple[jax.Array, jax.Array, jax.Array]) -> jax.Array:
        i, need, g = xs
        parts = []
        for b, (size, width) in enumerate(zip(sizes, widths, strict=True)):
            if width == 0:
                continue
            on_diagonal = (g == b) & (not autapses)
            skip = jnp.where(on_diagonal, i - int(offsets[b]), -1)
            local = _subset(jax.random.fold_in(keys[b], i), need[b], width, size, skip)
            parts.append(jnp.where(local < size, local + int(offsets[b]), n))
        if not parts:
            return jnp.zeros((slots,), jnp.int32)
        return jnp.sort(jnp.concatenate(parts))[:slots].astype(jnp.int32)

    rows = jnp.arange(n, dtype=jnp.int32)
    out: jax.Array = jax.lax.map(row, (rows, counts, group), batch_size=min(CHUNK_ROWS, n))
    return out


def _draw(
    key: jax.Array,
    sizes: tuple[int, ...],
    p: npt.NDArray[np.float64],
    autapses: bool,
    slots: int | None,
    dtype: DTypeLike,
) -> RowSparse:
    if checks.is_traced(key):
        raise TypeError(
            "a sparse probability pattern needs a concrete key: its number of slots is the "
            "largest row count of the draw (pass slots= and draw outside jax.jit)"
        )
    n = sum(sizes)
    if n > MAX_COLUMNS:
        raise ValueError(f"the pattern must have fewer than {MAX_COLUMNS + 1} units, got {n}")
    value_dtype = arguments.mask_dtype(dtype, arguments.PATTERN_DTYPES)
    count_key, column_key = jax.random.split(key)
    counts = _counts(count_key, jnp.asarray(p, jnp.float32), sizes, autapses)
    # Widths and slots rounded up (programs are compiled per width, and the
    # largest count changes from draw to draw); the result is cut to `slots`.
    widths = tuple(
        min(size, _round_up(int(w))) for size, w in zip(sizes, np.asarray(jnp.max(counts, axis=0)),
                                                         strict=True)
    )
    fullest = int(jnp.max(jnp.sum(counts, axis=-1)))
    if slots is None:
        slots = fullest
    else:
        slots = arguments.count("slots", slots, n, "the number of columns")
        if fullest > slots:
            raise ValueError(
                f"slots must be at least {fullest}, the largest row count of this draw, "
                f"got {slots}"
            )
    if slots == 0:
        index = jnp.zeros((n, 0), jnp.int32)
    else:
        width = min(sum(widths), _round_up(slots))
        index = _columns(column_key, counts, sizes, widths, width, autapses)[:, :slots]
    values = (index < n).astype(value_dtype)
    return RowSparse(values, index, n)


def bernoulli(
    key: jax.Array,
    shape: tuple[int, int],
    p: float,
    *,
    autapses: bool = True,
    dtype: DTypeLike = jnp.float32,
    slots: int | None = None,
) -> RowSparse:
    """A square pattern whose entries are connected independently with probability ``p``.

    The sparse counterpart of :func:`jaxinit.connectivity.bernoulli` for
    recurrent patterns: the same distribution (each entry present with
    probability ``p``, independently), drawn in O(nnz) as the module notes
    say, never as ``N x N`` uniform numbers. For one key the two give
    equally distributed, not equal, masks. ``p`` is one concrete scalar.

    Args:
      key: a concrete JAX PRNG key.
      shape: ``(N, N)``, square (a recurrent pattern).
      p: the probability, in [0, 1].
      autapses: if False, no diagonal entries (the candidates of row ``i``
        are the other ``N - 1`` units).
      dtype: the values' dtype (ones): float32 (default), float64 (64-bit JAX),
        or bfloat16 or float16 to halve their memory (the initializers read
        only the index).
      slots: ``K``, the slots per row; None (default) is the largest row
        count of the draw. A larger value pads every row (to give several
        draws the same shape); a smaller one than the draw needs raises
        ``ValueError``.

    Returns:
      A :class:`~jaxinit.sparse.RowSparse` pattern of ones, rows sorted,
      padding (index ``N``) at the end of each row.

    Example:
      >>> import jax
      >>> P = bernoulli(jax.random.key(0), (1000, 1000), 0.05, autapses=False)
      >>> counts = P.stored.sum(axis=1)
      >>> P.shape, int(counts.max()) == P.slots, 40 < float(counts.mean()) < 60
      ((1000, 1000), True, True)
    """
    arguments.key(key)
    n_rows, n_cols = arguments.shape(shape)
    if n_rows != n_cols:
        raise ValueError(f"shape must be square (a recurrent pattern), got {shape}")
    autapses = arguments.autapses(autapses, (n_rows, n_cols))
    probability = _concrete("p", arguments.probability("p", p))
    return _draw(key, (n_rows,), probability.reshape(1, 1), autapses, slots, dtype)


def blocks(
    key: jax.Array,
    sizes: Sequence[int],
    p: npt.ArrayLike,
    *,
    autapses: bool = True,
    dtype: DTypeLike = jnp.float32,
    slots: int | None = None,
) -> RowSparse:
    """A block pattern (groups of consecutive units, one probability per pair), stored sparse.

    The sparse counterpart of :func:`jaxinit.connectivity.blocks` with
    ``exact=False``: ``p[a][b]`` is the probability of each connection from a
    unit of group ``b`` onto a unit of group ``a``, entries independent. For
    exact numbers per unit use :func:`~jaxinit.sparse.fixed_in_degree`
    (exact block totals, ``exact=True``, are not offered sparse).

    Args:
      key: a concrete JAX PRNG key.
      sizes: the group sizes, ints >= 0 adding up to N >= 1.
      p: ``(G, G)`` concrete probabilities in [0, 1].
      autapses: if False, no diagonal entries.
      dtype: the values' dtype (ones): float32 (default), float64 (64-bit JAX),
        or bfloat16 or float16 to halve their memory (the initializers read
        only the index).
      slots: as for :func:`bernoulli`.

    Example:
      >>> import jax
      >>> P = blocks(jax.random.key(0), (300, 100), [[0.1, 0.0], [0.0, 1.0]])
      >>> dense = P.todense()
      >>> float(dense[:300, 300:].sum()), float(dense[300:, 300:].sum())
      (0.0, 10000.0)
    """
    arguments.key(key)
    sizes = group_sizes(sizes)
    autapses = arguments.flag("autapses", autapses)
    groups = len(sizes)
    array = _concrete("p", arguments.real_array("p", p))
    if array.shape != (groups, groups):
        raise ValueError(
            f"p must have shape ({groups}, {groups}) (one probability per pair of the "
            f"{groups} groups), got shape {tuple(array.shape)}"
        )
    probabilities = _concrete("p", arguments.probability("p", array, (groups, groups)))
    return _draw(key, sizes, probabilities, autapses, slots, dtype)


def ei(
    key: jax.Array,
    N_rec: int,
    dale_ratio: float,
    *,
    p_EE: float,
    p_EI: float,
    p_IE: float,
    p_II: float,
    autapses: bool = True,
    dtype: DTypeLike = jnp.float32,
    slots: int | None = None,
) -> RowSparse:
    """An excitatory/inhibitory block pattern, stored sparse.

    :func:`blocks` with ``sizes = (n_E, n_I)`` (the first
    ``jaxinit.n_excitatory(N_rec, dale_ratio)`` units excitatory, as
    ``Config(dale_ratio=...)`` has them) and ``p = [[p_EE, p_EI], [p_IE,
    p_II]]`` (receiving population first), as
    :func:`jaxinit.connectivity.ei` with ``exact=False``.

    Example:
      >>> import jax
      >>> P = ei(jax.random.key(0), 1000, 0.8, p_EE=0.02, p_EI=0.1, p_IE=0.1, p_II=0.1)
      >>> dense = P.todense()
      >>> 0.015 < float(dense[:800, :800].mean()) < 0.025
      True
    """
    arguments.key(key)
    N_rec = checks.positive_int("N_rec", N_rec)
    n_exc = n_excitatory(N_rec, dale_ratio)
    p = [[p_EE, p_EI], [p_IE, p_II]]
    names = [["p_EE", "p_EI"], ["p_IE", "p_II"]]
    checked = np.array(
        [[_concrete(n, arguments.probability(n, v)) for n, v in zip(nr, vr, strict=True)]
         for nr, vr in zip(names, p, strict=True)],
        np.float64,
    )
    return blocks(
        key, (n_exc, N_rec - n_exc), checked, autapses=autapses, dtype=dtype, slots=slots
    )


def _concrete(name: str, value: jax.Array | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{name} must be concrete for a sparse pattern (the number of slots depends on it), "
            "got a traced value"
        )
    return value
