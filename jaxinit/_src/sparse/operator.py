"""The product the sparse Krylov radius runs on: ``(signs, scale) -> W @ x`` in O(nnz).

The Krylov iteration spends most of its time in products, so their form
matters. XLA's CPU gather of a whole ``(N, K)`` index at once writes the
gathered ``(N, K)`` block to memory before summing it; two faster forms are
used instead (measured at ``N = 10^5``, in-degree 100, on a 2-core machine:
the whole gather 22 ms, SciPy's CSR product 12.7 ms):

* **slot-major** (5 ms): the entries copied once into ``(K, N)`` arrays, so
  that the product is ``K`` passes of a one-dimensional gather of ``N``
  contiguous entries, each added into the result. The copy takes
  ``8 N K`` bytes; it is made when the copies of all members fit in
  :data:`SLOT_MAJOR_BYTES`, and holds the effective, scaled values
  (Dale signs and the scale baked in), so nothing else is copied;
* **row blocks** (14 ms, no copy): the stored ``(N, K)`` arrays read in
  blocks of :data:`ROW_BLOCK` rows, each block's gather staying in cache;
  the signs, ``|.|`` and the scale are applied on the fly. This is the form
  for matrices whose copy would not fit (``N = 10^6``) and for rows sharded
  over devices (then one block: every device gathers its own rows).

Either way the operator is ``diag(1/s) * (|W| * sign_j)`` (with Dale
signs) or ``W / s``, with ``s`` the largest stored ``|value|``, and no
``N x N`` array and no second copy of the ``(N, K)`` values are made.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.sparse.rows import RowSparse

#: The slot-major copy (values and indices of every member) is made up to this many bytes.
SLOT_MAJOR_BYTES = 512 * 2**20

#: Rows per block of the product without a copy.
ROW_BLOCK = 8192


def _static(default: Any = dataclasses.MISSING) -> Any:
    return dataclasses.field(default=default, metadata={"static": True})


@dataclasses.dataclass(frozen=True, eq=False)
class SparseOperator:
    """``x -> scale * (f(W) @ (signs * x))`` for one matrix (vmap it for a stack).

    Attributes:
      values, index: ``(K, N)`` (``slot_major``) or ``(N, K)`` entries; a
        slot-major copy holds 0 on padding and the final values.
      signs: ``(N,)`` column factors (Dale signs), or ``None``.
      scale: a scalar the product is multiplied by.
      n_cols: ``N``.
      slot_major: the layout.
      absolute: take ``|values|`` before the product (row layout only).
      block: rows per block of the row layout.
    """

    values: jax.Array
    index: jax.Array
    signs: jax.Array | None
    scale: jax.Array
    n_cols: int = _static()
    slot_major: bool = _static(False)
    absolute: bool = _static(False)
    block: int = _static(ROW_BLOCK)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_cols, self.n_cols)

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.values.dtype)

    def _vector(self, x: jax.Array) -> jax.Array:
        xs = x if self.signs is None else x * self.signs.astype(x.dtype)
        if self.slot_major:
            def add_slot(k: jax.Array, acc: jax.Array) -> jax.Array:
                gathered = jnp.take(xs, self.index[k], mode="fill", fill_value=0)
                return acc + self.values[k] * gathered

            slots = self.values.shape[0]
            out: jax.Array = jax.lax.fori_loop(
                0, slots, add_slot, jnp.zeros((self.n_cols,), x.dtype), unroll=min(4, slots)
            )
            return out * self.scale

        def rows(values: jax.Array, index: jax.Array) -> jax.Array:
            values = jnp.abs(values) if self.absolute else values
            values = jnp.where(index < self.n_cols, values, 0)
            gathered = jnp.take(xs, index, mode="fill", fill_value=0)
            return jnp.sum(values * gathered, axis=-1)

        n = self.values.shape[0]
        if self.block >= n:
            return rows(self.values, self.index) * self.scale

        def block(b: jax.Array, out: jax.Array) -> jax.Array:
            # the last block is clamped back to end at row n: it recomputes a few rows
            start = jnp.minimum(b * self.block, n - self.block)
            values = jax.lax.dynamic_slice_in_dim(self.values, start, self.block)
            index = jax.lax.dynamic_slice_in_dim(self.index, start, self.block)
            return jax.lax.dynamic_update_slice_in_dim(out, rows(values, index), start, 0)

        count = -(-n // self.block)
        summed: jax.Array = jax.lax.fori_loop(0, count, block, jnp.zeros((n,), x.dtype))
        return summed * self.scale

    def __matmul__(self, x: jax.Array) -> jax.Array:
        """``W @ x`` for ``x`` of shape ``(N,)`` or ``(N, c)``."""
        if x.ndim == 1:
            return self._vector(x)
        return jnp.stack([self._vector(x[:, c]) for c in range(x.shape[1])], axis=1)


jax.tree_util.register_dataclass(SparseOperator)


def largest_stored(W: RowSparse) -> jax.Array:
    """``s``: the largest stored ``|value|`` of each matrix (1 where that is 0 or not finite)."""
    stored = jnp.where(W.stored, jnp.abs(W.values), 0)
    s = jnp.max(stored, axis=(-2, -1))
    return jnp.where((s > 0) & jnp.isfinite(s), s, jnp.ones_like(s))


def _spread(W: RowSparse) -> bool:
    """Whether ``W``'s values are laid out over more than one device."""
    if checks.is_traced(W.values):
        return False  # inside a caller's trace: placed by the caller's program
    return len(W.values.sharding.device_set) > 1


def slot_major_fits(W: RowSparse) -> bool:
    """Whether the slot-major copy of ``W`` (all members) fits in :data:`SLOT_MAJOR_BYTES`."""
    size = int(np.prod(W.values.shape, dtype=np.int64))
    return size * (W.values.dtype.itemsize + 4) <= SLOT_MAJOR_BYTES and not _spread(W)


def operator(W: RowSparse, signs: jax.Array | None, scale: jax.Array) -> SparseOperator:
    """The operator of ``(|W| * sign_j) / scale`` (``signs`` given) or ``W / scale``.

    ``W`` may be a stack ``(B, N, K)`` with ``signs`` ``(B, N)`` and
    ``scale`` ``(B,)``: the operator's arrays then have the leading axis
    ``B`` (vmap over it).
    """
    inverse = (1 / scale).astype(W.values.dtype)
    if slot_major_fits(W):
        values, index = _slot_major(W, signs, inverse)
        return SparseOperator(values, index, None, jnp.ones_like(inverse), W.n_cols, True)
    block = ROW_BLOCK if not _spread(W) else W.values.shape[-2]
    return SparseOperator(
        W.values, W.index, signs, inverse, W.n_cols, False, signs is not None, block
    )


@jax.jit
def _slot_major(
    W: RowSparse, signs: jax.Array | None, inverse: jax.Array
) -> tuple[jax.Array, jax.Array]:
    values = jnp.abs(W.values) * W.gather(signs) if signs is not None else W.values
    values = jnp.where(W.stored, values, 0) * inverse[..., None, None]
    return jnp.swapaxes(values, -1, -2), jnp.swapaxes(W.index, -1, -2)
