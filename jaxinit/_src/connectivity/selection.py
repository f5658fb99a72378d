"""Uniform random subsets of a fixed size, per row or per group of entries.

Both selections give every candidate entry an independent random 32-bit key
and keep, in each row (or group), the ``need`` entries with the smallest
keys: one single-operand integer sort per level (much faster than a
key/value sort or ``jax.random.permutation``). Entries tied at the threshold
go on to another level with fresh keys, until no ties are left (a
``jax.lax.while_loop``; one level almost always, two now and then). Every step
treats the candidates alike, so every subset of the promised size is equally
likely, exactly, and the rows (groups) are independent. Work: a sort of the
``R x C`` entries per level; memory O(R x C).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

_LARGEST = np.uint32(0xFFFFFFFF)

#: ``(below, at, missing)`` of one level (see :func:`_until_no_ties`).
_Level: TypeAlias = tuple[jax.Array, jax.Array, jax.Array]
#: The loop state: level number, chosen, tied, missing.
_State: TypeAlias = tuple[jax.Array, jax.Array, jax.Array, jax.Array]


def _until_no_ties(
    key: jax.Array,
    candidate: jax.Array,
    need: jax.Array,
    level: Callable[[jax.Array, jax.Array, jax.Array], _Level],
    tally: Callable[[jax.Array], jax.Array],
) -> jax.Array:
    """Run ``level`` with fresh keys until the tied entries are exactly the missing ones.

    ``level(bits, candidate, need) -> (below, at, missing)``: the candidates
    surely chosen, those tied at the threshold, and how many of the tied are
    still needed; ``tally(at)``: the number of tied entries per row/group.
    """

    def pending(state: _State) -> jax.Array:
        _, _, tied, missing = state
        return jnp.any(tally(tied) != missing)

    def next_level(state: _State) -> _State:
        i, chosen, tied, missing = state
        bits = jax.random.bits(jax.random.fold_in(key, i), candidate.shape, jnp.uint32)
        below, at, missing = level(bits, tied, missing)
        return i + 1, chosen | below, at, missing

    start: _State = (jnp.int32(0), jnp.zeros(candidate.shape, bool), candidate, need)
    _, chosen, tied, _ = jax.lax.while_loop(pending, next_level, start)
    return chosen | tied


def _row_level(bits: jax.Array, candidate: jax.Array, need: jax.Array) -> _Level:
    ordered = jnp.sort(jnp.where(candidate, bits, _LARGEST), axis=1)
    threshold = jnp.take_along_axis(ordered, jnp.maximum(need - 1, 0)[:, None], axis=1)
    valid = candidate & (need > 0)[:, None]
    below = valid & (bits < threshold)
    at = valid & (bits == threshold)
    return below, at, need - jnp.sum(below, axis=1, dtype=jnp.int32)


def per_row(key: jax.Array, candidate: jax.Array, k: jax.typing.ArrayLike) -> jax.Array:
    """``k`` entries of every row of ``candidate`` (booleans ``(R, C)``), uniformly.

    ``k`` may be traced. Needs ``0 <= k <=`` the number of candidates of every row.
    """
    need = jnp.full(candidate.shape[:1], k, jnp.int32)
    tally = lambda tied: jnp.sum(tied, axis=1, dtype=jnp.int32)  # noqa: E731
    return _until_no_ties(key, candidate, need, _row_level, tally)


def per_group(
    key: jax.Array,
    group: jax.Array,
    counts: Sequence[jax.typing.ArrayLike] | jax.Array | npt.NDArray[np.int32],
) -> jax.Array:
    """``counts[g]`` entries of each group ``g``, uniformly, as booleans shaped like ``group``.

    ``group`` holds int32 group ids in ``0 .. len(counts)``; the id
    ``len(counts)`` marks entries that are never chosen; ``counts`` (a
    sequence or a 1-D array, possibly traced) has a static length. The groups need not
    be contiguous: the sort key puts the group id in the top bits and random
    bits below, so one flat sort orders the entries group by group. Needs
    ``0 <= counts[g] <=`` the size of group ``g``.
    """
    n_groups = len(counts)
    id_bits = max(1, int(n_groups).bit_length())  # ids 0 .. n_groups fit
    shift = np.uint32(32 - id_bits)
    flat_group = group.reshape(-1)
    size = flat_group.shape[0]

    def tally(tied: jax.Array) -> jax.Array:
        ids = jnp.where(tied, flat_group, n_groups)
        return jnp.bincount(ids, length=n_groups + 1)[:n_groups].astype(jnp.int32)

    def level(bits: jax.Array, candidate: jax.Array, need: jax.Array) -> _Level:
        ids = jnp.where(candidate, flat_group, n_groups)
        sort_key = (ids.astype(jnp.uint32) << shift) | (bits >> np.uint32(id_bits))
        ordered = jnp.sort(sort_key)
        population = jnp.bincount(ids, length=n_groups + 1)[:n_groups]
        start = jnp.cumsum(population) - population
        threshold = ordered[jnp.clip(start + need - 1, 0, size - 1)]
        own = jnp.minimum(ids, n_groups - 1)
        valid = candidate & (need[own] > 0)
        below = valid & (sort_key < threshold[own])
        at = valid & (sort_key == threshold[own])
        return below, at, need - tally(below)

    need = jnp.asarray(counts, jnp.int32)
    chosen = _until_no_ties(key, flat_group < n_groups, need, level, tally)
    return chosen.reshape(group.shape)
