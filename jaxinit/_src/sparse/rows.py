"""``RowSparse``: a matrix stored as at most ``K`` entries per row.

Row ``i`` holds the values ``values[i, :]`` at the columns ``index[i, :]``;
a slot whose index equals the number of columns is padding (value 0, reads
nothing). Both arrays have the static shape ``(N_rows, K)``, so the type
passes through ``jax.jit``, ``jax.vmap`` and sharding like any array pair;
leading axes stack matrices (an ensemble). For a fixed in-degree network
``K`` is the in-degree and there is no padding; this is the ELLPACK layout of
sparse linear algebra. A product ``W @ x`` gathers ``x`` at the indices and
sums each row: O(N_rows * K) time and no ``N x N`` array.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.typing import ArrayLike

#: Index arrays are int32, so a matrix has fewer columns than this.
MAX_COLUMNS = 2**31 - 2


def _static(default: Any = dataclasses.MISSING) -> Any:
    return dataclasses.field(default=default, metadata={"static": True})


@dataclasses.dataclass(frozen=True, eq=False)
class RowSparse:
    """A sparse matrix with at most ``K`` stored entries per row (a JAX pytree).

    Attributes:
      values: ``(..., N_rows, K)`` floating values.
      index: ``(..., N_rows, K)`` int32 column indices in ``0 .. n_cols``;
        ``n_cols`` marks a padding slot (its value is ignored and should be 0).
      n_cols: the number of columns (static).

    Example:
      >>> import jax.numpy as jnp
      >>> W = RowSparse(jnp.array([[2.0, 0.0], [1.0, 3.0]]),
      ...               jnp.array([[1, 2], [0, 1]], jnp.int32), n_cols=2)
      >>> W.todense().tolist()
      [[0.0, 2.0], [1.0, 3.0]]
      >>> (W @ jnp.array([1.0, 10.0])).tolist()
      [20.0, 31.0]
    """

    values: jax.Array
    index: jax.Array
    n_cols: int = _static()

    @property
    def shape(self) -> tuple[int, ...]:
        """``(..., N_rows, n_cols)``, the shape of the dense matrix."""
        return (*self.values.shape[:-1], self.n_cols)

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of the values."""
        return np.dtype(self.values.dtype)

    @property
    def ndim(self) -> int:
        """``len(shape)``: 2 for one matrix, more for a stack."""
        return len(self.shape)

    @property
    def slots(self) -> int:
        """``K``, the stored entries per row (padding included)."""
        return int(self.values.shape[-1])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading (stack) axes: ``()`` for one matrix."""
        return tuple(self.values.shape[:-2])

    @property
    def stored(self) -> jax.Array:
        """Booleans ``(..., N_rows, K)``: which slots hold an entry (not padding)."""
        return self.index < self.n_cols

    @property
    def nbytes(self) -> int:
        """Bytes of the two arrays."""
        return int(self.values.nbytes) + int(self.index.nbytes)

    def with_values(self, values: jax.Array) -> RowSparse:
        """The same pattern with other values (of the same shape)."""
        return RowSparse(values, self.index, self.n_cols)

    def gather(self, x: jax.Array) -> jax.Array:
        """``x[..., index]`` with 0 on padding slots: a per-column vector read at each entry.

        ``x`` has shape ``(..., n_cols)`` matching the leading axes; the
        result has the shape of ``values``.
        """
        def one(x: jax.Array, index: jax.Array) -> jax.Array:
            return jnp.take(x, index, axis=0, mode="fill", fill_value=0)

        if self.index.ndim == 2:
            return one(x, self.index)
        members = int(np.prod(self.batch_shape, dtype=np.int64))
        flat_x = jnp.broadcast_to(x, (*self.batch_shape, self.n_cols)).reshape((members, -1))
        flat_i = self.index.reshape((members, *self.index.shape[-2:]))
        return jax.vmap(one)(flat_x, flat_i).reshape(self.index.shape)

    def __matmul__(self, x: ArrayLike) -> jax.Array:
        """``W @ x`` for one matrix and ``x`` of shape ``(n_cols,)`` or ``(n_cols, c)``."""
        if self.values.ndim != 2:
            raise ValueError(
                f"W @ x takes one matrix; this RowSparse holds a stack {self.batch_shape} "
                "(use jax.vmap over its leading axes)"
            )
        x = jnp.asarray(x)
        if x.ndim not in (1, 2) or x.shape[0] != self.n_cols:
            raise ValueError(
                f"x must have shape ({self.n_cols},) or ({self.n_cols}, c), got {tuple(x.shape)}"
            )
        gathered = jnp.take(x, self.index, axis=0, mode="fill", fill_value=0)
        values = self.values.astype(jnp.result_type(self.values.dtype, x.dtype))
        values = jnp.where(self.stored, values, 0)  # padding reads nothing
        if x.ndim == 1:
            return jnp.sum(values * gathered, axis=-1)
        return jnp.einsum("nk,nkc->nc", values, gathered)

    def todense(self) -> jax.Array:
        """The dense ``(..., N_rows, n_cols)`` array (entries at one place add up)."""
        rows = self.values.shape[-2]

        def one(values: jax.Array, index: jax.Array) -> jax.Array:
            dense = jnp.zeros((rows, self.n_cols + 1), values.dtype)
            dense = dense.at[jnp.arange(rows)[:, None], index].add(values)
            return dense[:, : self.n_cols]

        members = int(np.prod(self.batch_shape, dtype=np.int64))
        flat_v = self.values.reshape((members, rows, self.slots))
        flat_i = self.index.reshape((members, rows, self.slots))
        out = jax.vmap(one)(flat_v, flat_i)
        return out.reshape(self.shape)

    def __repr__(self) -> str:
        if not (hasattr(self.values, "shape") and hasattr(self.index, "shape")):
            # a tree of other leaves (flags, specs) with this structure
            return f"RowSparse(values={self.values!r}, index={self.index!r}, n_cols={self.n_cols})"
        return (
            f"RowSparse(shape={self.shape}, slots={self.slots}, "
            f"dtype={self.values.dtype})"
        )


jax.tree_util.register_dataclass(RowSparse)


def check_row_sparse(W: Any, name: str = "W", *, square: bool = True) -> RowSparse:
    """Check a :class:`RowSparse` given by a user; return it.

    Types and shapes are always checked; the index range only for concrete
    arrays (inside a caller's ``jit`` the values are unknown). Raises
    ``TypeError``/``ValueError`` naming ``name`` and the bad value.
    """
    if not isinstance(W, RowSparse):
        raise TypeError(f"{name} must be a jaxinit.sparse.RowSparse, got {type(W).__name__}")
    values, index = W.values, W.index
    if isinstance(W.n_cols, bool) or not isinstance(W.n_cols, (int, np.integer)) or W.n_cols < 1:
        raise ValueError(f"{name}.n_cols must be a positive integer, got {W.n_cols!r}")
    if W.n_cols > MAX_COLUMNS:
        raise ValueError(f"{name}.n_cols must be at most {MAX_COLUMNS} (int32), got {W.n_cols}")
    if not hasattr(values, "shape") or not hasattr(index, "shape"):
        raise TypeError(f"{name}.values and {name}.index must be arrays")
    if not jnp.issubdtype(values.dtype, jnp.floating):
        raise TypeError(f"{name}.values must be a real floating array, got dtype {values.dtype}")
    if index.dtype != jnp.int32:
        raise TypeError(f"{name}.index must be int32, got dtype {index.dtype}")
    if values.ndim < 2 or values.shape != index.shape:
        raise ValueError(
            f"{name}.values and {name}.index must have one shape (..., N_rows, K), got "
            f"{tuple(values.shape)} and {tuple(index.shape)}"
        )
    if square and values.shape[-2] != W.n_cols:
        raise ValueError(
            f"{name} must be square: {values.shape[-2]} rows but n_cols={W.n_cols}"
        )
    if values.shape[-2] == 0:
        raise ValueError(f"{name} must not be empty, got shape {W.shape}")
    if not (checks.is_traced(index) or checks.is_traced(values)):
        # reduced where the index lives (a sharded index is not copied anywhere)
        # concrete even when called inside another trace (e.g. a Flax module's setup)
        with jax.ensure_compile_time_eval():
            low, high = (int(x) for x in _index_range(jnp.asarray(index)))
        if low < 0 or high > W.n_cols:
            raise ValueError(
                f"{name}.index must lie in 0..{W.n_cols} ({W.n_cols} marks padding), got "
                f"{low if low < 0 else high}"
            )
    return W


@jax.jit
def _index_range(index: jax.Array) -> jax.Array:
    if index.size == 0:
        return jnp.zeros((2,), jnp.int32)
    return jnp.stack([jnp.min(index), jnp.max(index)])
