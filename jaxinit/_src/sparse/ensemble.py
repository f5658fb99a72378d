"""Ensembles of sparse networks: :func:`jaxinit.ensemble` with a sparse initializer.

Member ``i`` is the network the sparse initializer makes from
``fold_in(key, i)`` on the same pattern. The draws of all members run as
one jitted, vmapped program (O(members * nnz) memory, never ``N x N``); the
radii of ``gaussian_spectral_radius`` come from one batched Krylov run over
the stack (:func:`jaxinit.krylov_spectral_radius` of a stacked
``RowSparse``), certified per member, with the full solve only for a member
that is not certified and whose dense copy fits. So a member equals the
single call to the Krylov tolerance (1e-5 relative in ``W_rec``); without
a radius, ``W_rec`` to a few float32 roundings (the vmapped program may
fuse the scale and balance arithmetic differently) and every other array
bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src.config import Config
from jaxinit._src.names import InitializerName
from jaxinit._src.network import Arrays, Plan
from jaxinit._src.sparse import network
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse
from jaxinit._src.typing import PRNGKey

#: The sparse initializers :func:`jaxinit.ensemble` accepts, by name.
SPARSE_INITIALIZERS: dict[object, InitializerName] = {
    network.weight_initializer: "weight_initializer",
    network.gaussian_spectral_radius: "gaussian_spectral_radius",
    network.alpha_identity: "alpha_identity",
}


def sparse_kind(init_fn: object) -> InitializerName | None:
    """The name of a sparse initializer of jaxinit, None for anything else."""
    try:
        return SPARSE_INITIALIZERS.get(init_fn)
    except TypeError:  # unhashable
        return None


@functools.partial(jax.jit, static_argnums=0)
def _draw_members(
    plan: Plan,
    key: PRNGKey,
    indices: jax.Array,
    scalars: Arrays,
    given: Arrays,
    pattern: RowSparse,
) -> tuple[dict[str, jax.Array], RowSparse]:
    def one(i: jax.Array) -> tuple[dict[str, jax.Array], jax.Array]:
        drawn: tuple[dict[str, jax.Array], jax.Array] = network.draw_values(
            plan, jax.random.fold_in(key, i), scalars, given, pattern
        )
        return drawn

    arrays, values = jax.vmap(one)(indices)
    # every member holds the shared pattern (a stack, as every other field is)
    index = jnp.broadcast_to(pattern.index, values.shape)
    return arrays, RowSparse(values, index, pattern.n_cols)


def sparse_ensemble(
    kind: InitializerName,
    key: PRNGKey,
    indices: npt.NDArray[np.int32],
    config: Config,
    given: Mapping[str, Any],
) -> SparseParams:
    """Members ``indices`` of the ensemble of ``kind`` from ``key`` (arguments checked
    by :func:`jaxinit.ensemble`, except the sparse initializer's own)."""
    given = dict(given)
    pattern = given.pop("rec_connectivity", None)
    if pattern is None:
        raise TypeError(
            "a sparse initializer needs rec_connectivity= (a RowSparse pattern, shared by "
            "every member)"
        )
    if isinstance(pattern, RowSparse) and pattern.batch_shape:
        raise ValueError(
            "rec_connectivity must be one pattern (N_rec, K), shared by every member; got a "
            f"stack {pattern.batch_shape}"
        )
    for name, value in given.items():
        if np.ndim(getattr(value, "values", value)) > 2:
            raise ValueError(
                f"{name} must be one array shared by every member of a sparse ensemble, got "
                f"shape {np.shape(getattr(value, 'values', value))}"
            )
    plan, scalars, prepared, pattern = network.prepare_sparse(kind, key, config, pattern, given)
    arrays, W = _draw_members(
        plan, key, jnp.asarray(indices), scalars, prepared, pattern
    )
    return network.finish_sparse(
        config, plan, scalars, arrays, W, lambda i: f" of member {int(indices[i])}"
    )
