"""Rows of one large sparse network split over devices.

A :class:`RowSparse` whose ``values`` and ``index`` are sharded along the
rows (``NamedSharding(mesh, P(axes, None))``) keeps each device's block of
rows on that device. The drawing of a pattern runs per device under
``jax.shard_map`` (row ``i`` comes from ``fold_in(key, i)`` wherever it is
made, so the pattern is the unsharded one bit for bit); the initializers and
the Krylov radius are ordinary jitted programs, and XLA's partitioner keeps
the matrix where it is: each product gathers the ``N``-vector it multiplies
(4 bytes per unit) and reads only local rows; no device receives another's
rows. The mesh's axes are made ``Auto`` (propagated) for these arrays: JAX's
``Explicit`` sharding mode asks every gather for an output sharding.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding

from jaxinit._src.placement import P
from jaxinit._src.typing import PRNGKey

Axes = str | tuple[str, ...]


def row_mesh(sharding: Any) -> tuple[Mesh, Axes]:
    """``(mesh, axes)`` from ``sharding`` (a ``Mesh``: the rows split over all its
    axes; a ``NamedSharding`` whose spec splits the first axis only), the mesh
    with ``Auto`` axes."""
    if isinstance(sharding, Mesh):
        names = tuple(sharding.axis_names)
        mesh, axes = sharding, (names[0] if len(names) == 1 else names)
    elif isinstance(sharding, NamedSharding) and isinstance(sharding.mesh, Mesh):
        spec = tuple(sharding.spec)
        if not spec or spec[0] is None or any(entry is not None for entry in spec[1:]):
            raise ValueError(
                "sharding must split the rows (the first axis) only, e.g. "
                f"NamedSharding(mesh, PartitionSpec('rows')), got spec {sharding.spec}"
            )
        mesh, axes = sharding.mesh, spec[0]
    else:
        raise TypeError(
            "sharding must be None, a jax.sharding.Mesh or a jax.sharding.NamedSharding, "
            f"got {type(sharding).__name__}"
        )
    auto = Mesh(mesh.devices, mesh.axis_names, axis_types=(AxisType.Auto,) * len(mesh.axis_names))
    return auto, axes


def shards(mesh: Mesh, axes: Axes) -> int:
    """How many blocks ``axes`` split an array into."""
    names = axes if isinstance(axes, tuple) else (axes,)
    return math.prod(mesh.shape[name] for name in names)


def key_parts(key: PRNGKey) -> tuple[np.ndarray[Any, Any], Any]:
    """``(host key data, impl or None)``: a key every process can pass to one program."""
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    data = np.asarray(jax.random.key_data(key) if typed else key)
    return data, (jax.random.key_impl(key) if typed else None)


def rebuild_key(data: jax.Array, impl: Any) -> PRNGKey:
    """The key :func:`key_parts` took apart."""
    return jax.random.wrap_key_data(data, impl=impl) if impl is not None else data


def sharded_rows(
    row_fn: Callable[..., jax.Array],
    key: PRNGKey,
    n_rows: int,
    sharding: Any,
    **static: Any,
) -> jax.Array:
    """``row_fn(key, rows, **static)`` for each device's block of row numbers,
    as one ``(n_rows, ...)`` array split along its rows as ``sharding`` says
    (``static``: hashable arguments, part of the compiled program's identity)."""
    mesh, axes = row_mesh(sharding)
    blocks = shards(mesh, axes)
    if n_rows % blocks:
        raise ValueError(
            f"the pattern has {n_rows} rows, which do not split evenly over the {blocks} blocks of "
            f"the sharding; choose N as a multiple of {blocks}"
        )
    rows = jax.make_array_from_callback(
        (n_rows,),
        NamedSharding(mesh, P(axes)),
        lambda where: np.arange(n_rows, dtype=np.int32)[where],
    )
    data, impl = key_parts(key)
    return _program(row_fn, mesh, axes, impl, tuple(sorted(static.items())))(data, rows)


@functools.lru_cache(maxsize=64)
def _program(
    row_fn: Callable[..., jax.Array],
    mesh: Mesh,
    axes: Axes,
    impl: Any,
    static: tuple[tuple[str, Any], ...],
) -> Callable[[Any, jax.Array], jax.Array]:
    def local(data: jax.Array, rows: jax.Array) -> jax.Array:
        return row_fn(rebuild_key(data, impl), rows, **dict(static))

    mapped = jax.shard_map(
        local,
        mesh=mesh,
        in_specs=(P(), P(axes)),
        out_specs=P(axes),
        check_vma=False,  # the row draw's while loop starts from constants
    )
    return jax.jit(mapped)
