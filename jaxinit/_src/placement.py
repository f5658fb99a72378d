"""Placing an ensemble's inputs on a device mesh and reading its results back.

Each process creates, and later reads, only the blocks of its own devices, so
everything here works with a mesh spanning several processes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.sharding import AbstractMesh, Mesh, NamedSharding, PartitionSpec

from jaxinit._src.typing import ArrayLike

#: The mesh axis (or axes) the member axis is split over.
Axes: TypeAlias = str | tuple[str, ...]

#: A device mesh, concrete or (from a ``NamedSharding``) abstract.
AnyMesh: TypeAlias = Mesh | AbstractMesh


def P(*entries: Any) -> PartitionSpec:
    """``jax.sharding.PartitionSpec(*entries)``, typed."""
    # PartitionSpec's constructor carries no annotations in jax.
    return PartitionSpec(*entries)  # type: ignore[no-untyped-call]


def mesh_and_axes(
    sharding: Mesh | NamedSharding | None,
) -> tuple[AnyMesh, Axes] | tuple[None, None]:
    """``(mesh, axes)`` that shard the member axis, or ``(None, None)``."""
    if sharding is None:
        return None, None
    if isinstance(sharding, Mesh):
        names = tuple(sharding.axis_names)
        return sharding, names[0] if len(names) == 1 else names
    if isinstance(sharding, NamedSharding):
        spec = tuple(sharding.spec)
        if not spec or spec[0] is None:
            raise ValueError(
                f"sharding must shard the leading (member) axis, got spec {sharding.spec}; "
                "use e.g. NamedSharding(mesh, PartitionSpec('members'))"
            )
        if any(entry is not None for entry in spec[1:]):
            raise ValueError(
                "sharding may only shard the leading (member) axis, got spec "
                f"{sharding.spec}; each network is kept whole on one device"
            )
        return sharding.mesh, spec[0]
    raise TypeError(
        "sharding must be None, a jax.sharding.Mesh or a jax.sharding.NamedSharding, "
        f"got {type(sharding).__name__}"
    )


def shard_count(mesh: AnyMesh, axes: Axes) -> int:
    names = axes if isinstance(axes, tuple) else (axes,)
    return math.prod(mesh.shape[name] for name in names)


def put(value: Any, mesh: AnyMesh, axes: Axes, split: bool) -> Any:
    """Place a host array on ``mesh``, split along its first axis or replicated.

    Each process creates only the blocks of its own devices, so this works
    with a mesh spanning several processes. Values that are not plain
    numeric arrays are returned as they are, for the usual checks to report.
    """
    if isinstance(value, jax.Array) and not value.is_fully_addressable:
        return value  # a global array (jit reports a layout that does not fit)
    try:
        host = np.asarray(value)
    except (TypeError, ValueError):
        return value
    if not (np.issubdtype(host.dtype, np.number) or host.dtype == np.bool_):
        return value
    sharding = NamedSharding(mesh, P(axes) if split else P())
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def constrain(value: ArrayLike, mesh: AnyMesh, spec: PartitionSpec) -> jax.Array:
    placed: jax.Array = jax.device_put(jnp.asarray(value), NamedSharding(mesh, spec))
    return placed


def local_blocks(array: jax.Array) -> Iterator[tuple[int, npt.NDArray[Any]]]:
    """``(start, numpy block)`` for each distinct block held by this process, in order."""
    shards: dict[int, jax.Shard] = {}
    for shard in array.addressable_shards:
        start = shard.index[0].indices(array.shape[0])[0] if shard.index else 0
        shards.setdefault(start, shard)
    for start in sorted(shards):
        yield start, np.asarray(shards[start].data)
