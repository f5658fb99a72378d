"""Counts and statistics of a (stack of) :class:`RowSparse` matrices, read from the entries.

What :func:`jaxinit.summarize` and the degree histograms of
:mod:`jaxinit.plot` report about a sparse network: stored entries,
self-connections, in- and out-degrees, and the statistics of the stored
values. Every function reads the ``(..., N, K)`` arrays and nothing else,
so time and memory are O(nnz). A stored entry is a slot whose index is not
padding; a slot that holds the value 0 is still stored (it is part of the
pattern), and two slots of one row at the same column count twice (the
patterns :mod:`jaxinit.sparse` draws never have such slots).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src.sparse.network import in_degrees, out_degrees
from jaxinit._src.sparse.rows import RowSparse

IntArray = npt.NDArray[np.int64]


def _flat(W: RowSparse) -> tuple[jax.Array, jax.Array]:
    """Values and index with the leading axes merged into one ``(members, N, K)`` axis."""
    members = math.prod(W.batch_shape)
    shape = (members, *W.values.shape[-2:])
    return W.values.reshape(shape), W.index.reshape(shape)


def stored_counts(W: RowSparse) -> IntArray:
    """Stored entries of each matrix, shape ``W.batch_shape``."""
    return np.asarray(jnp.sum(W.stored, axis=(-2, -1)), np.int64)


def diagonal_counts(W: RowSparse) -> IntArray:
    """Stored diagonal entries (self-connections) of each matrix, shape ``W.batch_shape``."""
    n_rows = W.index.shape[-2]
    rows = jnp.arange(n_rows, dtype=jnp.int32).reshape((1,) * len(W.batch_shape) + (n_rows, 1))
    return np.asarray(jnp.sum(W.index == rows, axis=(-2, -1)), np.int64)


def degrees(W: RowSparse) -> tuple[IntArray, IntArray]:
    """``(in_degrees, out_degrees)``, each of shape ``(*W.batch_shape, N)``.

    In-degree: the stored entries of a row (the inputs a unit receives);
    out-degree: those of a column (the outputs it sends), by one scatter-add
    per matrix.

    Example:
      >>> import jax.numpy as jnp
      >>> W = RowSparse(jnp.ones((3, 2)), jnp.array([[1, 2], [0, 3], [1, 3]], jnp.int32), 3)
      >>> [d.tolist() for d in degrees(W)]
      [[2, 1, 1], [1, 2, 1]]
    """
    values, index = _flat(W)

    def both(v: jax.Array, i: jax.Array) -> tuple[jax.Array, jax.Array]:
        one = RowSparse(v, i, W.n_cols)
        return in_degrees(one), out_degrees(one)

    ins, outs = jax.vmap(both)(values, index)
    shape = (*W.batch_shape, W.n_cols)
    return np.asarray(ins, np.int64).reshape(shape), np.asarray(outs, np.int64).reshape(shape)


@dataclasses.dataclass(frozen=True)
class DegreeStats:
    """Minimum, mean and maximum of a set of degrees.

    Example:
      >>> str(DegreeStats.of([3, 1, 2])), str(DegreeStats.of([4, 4]))
      ('1 / 2 / 3', '4')
    """

    min: float
    mean: float
    max: float

    @classmethod
    def of(cls, values: npt.ArrayLike) -> DegreeStats:
        """The range of a non-empty array (any shape), the mean in float64."""
        array = np.asarray(values).reshape(-1)
        return cls(float(array.min()), float(array.mean(dtype=np.float64)), float(array.max()))

    def format(self, spec: str = ".4g") -> str:
        """``"min / mean / max"`` with each number formatted by ``spec``, or one
        number when all are equal."""
        if self.min == self.max:
            return format(self.min, spec)
        return " / ".join(format(v, spec) for v in (self.min, self.mean, self.max))

    def __str__(self) -> str:
        return self.format()


@dataclasses.dataclass(frozen=True)
class WeightStats:
    """Mean, standard deviation, minimum and maximum of the stored values.

    Example:
      >>> str(WeightStats(0.0, 1.0, -2.0, 2.5))
      'mean 0 ± 1, range [-2, 2.5]'
    """

    mean: float
    std: float
    min: float
    max: float

    def __str__(self) -> str:
        return f"mean {self.mean:.4g} ± {self.std:.4g}, range [{self.min:.4g}, {self.max:.4g}]"


def weight_stats(W: RowSparse) -> WeightStats | None:
    """Statistics of the stored values of ``W`` (all matrices of a stack together),
    in float64; None when nothing is stored."""
    values: npt.NDArray[Any] = np.asarray(W.values)[np.asarray(W.stored)]
    if values.size == 0:
        return None
    values = values.astype(np.float64)
    return WeightStats(
        mean=float(values.mean()),
        std=float(values.std()),
        min=float(values.min()),
        max=float(values.max()),
    )
