"""Members of an ensemble: the key rule, and reading one member back.

Member ``i`` of an ensemble made from ``key`` is the network the initializer
makes from ``member_key(key, i) = jax.random.fold_in(key, i)``, whatever the
ensemble's size, batch, sharding or process (see :mod:`jaxinit._src.ensemble`).
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, overload

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.typing import PRNGKey

#: Member indices are folded into the key as 32-bit integers.
MAX_MEMBERS = 2**31 - 1

def member_index(name: str, value: Any, limit: int = MAX_MEMBERS) -> int:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not 0 <= int(value) < limit:
        raise ValueError(f"{name} must be in [0, {limit}), got {value!r}")
    return int(value)


def member_key(key: PRNGKey, i: int | jax.Array) -> PRNGKey:
    """The key of member ``i``: ``jax.random.fold_in(key, i)``.

    ``init_fn(member_key(key, i), config)`` is member ``i`` of
    ``ensemble(init_fn, key, n, config)`` for every ``n > i``.

    Args:
      key: one JAX PRNG key (typed ``jax.random.key`` or raw ``PRNGKey``).
      i: the member index, an integer in ``[0, 2**31 - 1)``; a traced integer
        scalar (inside ``jax.jit``/``jax.vmap``) is passed on unchecked.

    Example:
      >>> import jax, jaxinit
      >>> key = jax.random.key(0)
      >>> k = member_key(key, 3)
      >>> bool((jax.random.key_data(k)
      ...       == jax.random.key_data(jax.random.split(key, 5)[3])).all())
      True
    """
    checks.check_key(key)
    if isinstance(i, jax.core.Tracer):  # checks.is_traced(i), for the type checker
        if i.shape != () or not jnp.issubdtype(i.dtype, jnp.integer):
            raise TypeError(f"i must be an integer scalar, got {i.dtype}{list(i.shape)}")
    else:
        i = member_index("i", i)
    return jax.random.fold_in(key, i)


@overload
def member(params: SparseParams, i: int) -> SparseParams: ...


@overload
def member(params: Params, i: int) -> Params: ...


def member(params: Params | SparseParams, i: int) -> Params | SparseParams:
    """Member ``i`` of an ensemble: index ``i`` of every array's leading axis.

    For a sharded ensemble the member is read from the device that holds it
    and stays there; nothing is gathered. A member held only by another
    process cannot be read here and raises ``ValueError``.

    For an ensemble made with ``members=...``, ``i`` is the position along
    the leading axis, not the member number: with ``members=range(a, b)``,
    member ``j`` is ``member(params, j - a)``.

    Args:
      params: a :class:`~jaxinit.Params` or :class:`~jaxinit.sparse.SparseParams`
        with at least one leading axis.
      i: an integer; negative values count from the end.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=1, dale_ratio=0.5,
      ...                      spectral_radius_of="effective")
      >>> key = jax.random.key(0)
      >>> ens = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 5, cfg)
      >>> one = jaxinit.gaussian_spectral_radius(member_key(key, 2), cfg)
      >>> bool(jax.numpy.allclose(member(ens, 2).W_rec, one.W_rec))
      True
    """
    if not isinstance(params, (Params, SparseParams)):
        raise TypeError(
            f"params must be a jaxinit.Params or SparseParams, got {type(params).__name__}"
        )
    if params.batch_shape == ():
        raise ValueError("params is a single network, not an ensemble (it has no leading axis)")
    size = params.batch_shape[0]
    index: Any = i  # annotated int; numpy integers (and 0-d arrays) are accepted too
    if isinstance(index, np.ndarray) and index.ndim == 0:
        index = index.item()
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise TypeError(f"i must be an integer, got {index!r}")
    if not -size <= int(index) < size:
        raise IndexError(f"member {index} is out of range for an ensemble of {size}")
    position = int(index) % size
    picked: Params | SparseParams = jax.tree.map(
        functools.partial(take, i=position, size=size), params
    )
    return picked


def take(array: Any, *, i: int, size: int) -> Any:
    if checks.is_traced(array) or not isinstance(array, jax.Array):
        return array[i]
    if len(array.sharding.device_set) == 1:
        return array[i]
    for shard in array.addressable_shards:
        start, stop, _ = shard.index[0].indices(size)
        if start <= i < stop:
            return shard.data[i - start]
    raise ValueError(
        f"member {i} is held by another process; read it there (each process can only "
        "read the members on its own devices)"
    )
