"""The one jitted program that makes the members of an ensemble.

Every member folds its own index into the key and runs the network core's
:func:`~jaxinit._src.network.build`, so under ``shard_map`` each device makes
exactly the members of its block. Members are made a chunk at a time so that
temporaries stay small (:data:`CHUNK_BYTES`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from jaxinit._src.config import Config
from jaxinit._src.names import ARRAY_FIELDS, InitializerName
from jaxinit._src.network import Plan, Status, build
from jaxinit._src.params import Params
from jaxinit._src.placement import AnyMesh, Axes, P

#: Bytes of temporaries one chunk of members may hold (see :func:`_chunk_size`).
CHUNK_BYTES = 32 * 2**20


def member_bytes(plan: Plan | Config) -> int:
    """Bytes of one member's recurrent matrix in the plan's dtype."""
    return plan.N_rec * plan.N_rec * int(jnp.dtype(plan.dtype).itemsize)


def chunk_size(n: int, member_bytes: int | None) -> int:
    """Members per chunk: all ``n`` unless their temporaries would pass CHUNK_BYTES.

    Making one member holds about eight arrays the size of its recurrent
    matrix at once (random bits, the balanced and scaled matrix, the
    eigensolver's copy and workspace). User callables are not chunked.

    Example:
      >>> chunk_size(64, 512 * 512 * 4), chunk_size(32, 64 * 64 * 4)
      (4, 32)
    """
    if member_bytes is None:
        return n
    return max(1, min(n, CHUNK_BYTES // (8 * member_bytes)))


@functools.lru_cache(maxsize=128)
def program(
    target: InitializerName | Callable[..., object],
    static: Plan | Config,
    impl: Any,
    mesh: AnyMesh | None,
    axes: Axes | None,
) -> Callable[..., tuple[Any, Status]]:
    """A jitted ``(key, indices, scalars, shared, stacked) -> (out, status)``.

    ``target`` is a jaxinit initializer name (``static`` is then its
    :class:`~jaxinit._src.network.Plan` and ``out`` a dict of arrays) or
    a user callable (``static`` is the config and ``out`` its ``Params``).
    ``impl`` is the PRNG implementation of a typed key, whose raw data is
    passed in, or None for a raw uint32 key. Every member folds its own index
    into the key, so under ``shard_map`` each device makes exactly the
    members of its block.
    """

    def one(
        key: jax.Array,
        index: jax.Array,
        scalars: Mapping[str, jax.Array],
        shared: Mapping[str, jax.Array],
        stacked: Mapping[str, jax.Array],
    ) -> tuple[Any, Status]:
        if impl is not None:
            key = jax.random.wrap_key_data(key, impl=impl)
        key = jax.random.fold_in(key, index)
        given = {**shared, **stacked}
        if isinstance(target, str):
            built: tuple[dict[str, jax.Array], Status] = build(static, key, scalars, given)
            return built
        params = target(key, static, **given)
        if not isinstance(params, Params):
            raise TypeError(f"init_fn must return a jaxinit.Params, got {type(params).__name__}")
        finite = jnp.stack([jnp.isfinite(getattr(params, f)).all() for f in ARRAY_FIELDS])
        return params, Status(jnp.asarray(jnp.nan, jnp.float32), finite, jnp.asarray(True))

    vmapped = jax.vmap(one, in_axes=(None, 0, None, None, 0))

    def batched(
        key: jax.Array,
        indices: jax.Array,
        scalars: Mapping[str, jax.Array],
        shared: Mapping[str, jax.Array],
        stacked: Mapping[str, jax.Array],
    ) -> tuple[Any, Status]:
        # Members are made a chunk at a time (lax.map over vmapped chunks),
        # so temporaries (random bits, the eigensolver's copies) exist for
        # one chunk only and peak memory stays close to the returned arrays.
        per_member = member_bytes(static) if isinstance(target, str) else None
        chunk = chunk_size(indices.shape[0], per_member)
        if chunk >= indices.shape[0]:
            whole: tuple[Any, Status] = vmapped(key, indices, scalars, shared, stacked)
            return whole

        def one_of_chunk(xs: tuple[jax.Array, Mapping[str, jax.Array]]) -> tuple[Any, Status]:
            return one(key, xs[0], scalars, shared, xs[1])

        chunked: tuple[Any, Status] = jax.lax.map(
            one_of_chunk, (indices, stacked), batch_size=chunk
        )
        return chunked

    batched.__name__ = "jaxinit_ensemble"  # names the compiled module
    if mesh is None:
        return jax.jit(batched)
    split = P(axes)
    return jax.jit(
        # check_vma=False: every member is computed on its own device from its
        # own key, and the Krylov loops start from constants (a zero basis)
        # that the varying-axis type check would otherwise refuse as carries.
        jax.shard_map(
            batched,
            mesh=mesh,
            in_specs=(P(), split, P(), P(), split),
            out_specs=split,
            check_vma=False,
        )
    )
