"""The predicted radius (:func:`jaxinit.predicted_radius`) of a :class:`RowSparse` matrix.

The dense method centres each column by its mean over all ``N`` rows and
takes the squared centred entries as the variance profile ``S``. Off the
pattern an entry is 0, so its centred square is ``mu_j^2``: ``S`` is the
sparse matrix ``T`` with ``T_ij = W_ij^2 - 2 W_ij mu_j`` on the stored
entries plus the rank-one matrix ``1 (mu^2)^T``, and ``S @ x = T @ x +
(mu^2 . x) 1`` costs O(nnz). Entries stored twice at one place count as two
entries here (the dense method would square their sum); patterns from
:mod:`jaxinit.sparse` store each place once.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src.predicted import edge_factor, perron_root_of
from jaxinit._src.sparse.radius import normalize_rows
from jaxinit._src.sparse.rows import RowSparse


def column_sums(W: RowSparse) -> jax.Array:
    """The sum of each column of one matrix's stored values (padding adds nothing)."""
    sums = jnp.zeros((W.n_cols + 1,), W.values.dtype)
    values = jnp.where(W.stored, W.values, 0)
    return sums.at[W.index.ravel()].add(values.ravel())[: W.n_cols]


def _one(W: RowSparse, finite_n: bool) -> jax.Array:
    n_rows = W.values.shape[-2]
    Wn, s = normalize_rows(W)
    values = jnp.where(Wn.stored, Wn.values, 0)
    mu = column_sums(Wn) / n_rows
    T = Wn.with_values(values * values - 2 * values * Wn.gather(mu))
    mu2 = mu * mu

    def product(x: jax.Array) -> jax.Array:
        return (T @ x) + jnp.sum(mu2 * x)

    bulk = jnp.sqrt(perron_root_of(product, jnp.ones((n_rows,), values.dtype)))
    if finite_n:
        bulk = bulk * edge_factor(W.n_cols)
    outlier = jnp.abs(jnp.sum(mu))
    radius: jax.Array = s * jnp.maximum(bulk, outlier)
    return radius


@functools.partial(jax.jit, static_argnums=1)
def sparse_predicted_radius(W: RowSparse, finite_n: bool = True) -> jax.Array:
    """:func:`jaxinit.predicted_radius` of a (stack of) ``RowSparse`` matrices, in O(nnz)."""
    if not W.batch_shape:
        return _one(W, finite_n)
    members = int(np.prod(W.batch_shape))
    values = W.values.reshape((members, *W.values.shape[-2:]))
    index = W.index.reshape((members, *W.index.shape[-2:]))
    out = jax.vmap(lambda v, i: _one(RowSparse(v, i, W.n_cols), finite_n))(values, index)
    return out.reshape(W.batch_shape)
