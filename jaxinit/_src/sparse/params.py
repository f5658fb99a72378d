"""``SparseParams``: a network whose recurrent weights are stored sparse."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src.names import ARRAY_FIELDS
from jaxinit._src.params import Params, static_field
from jaxinit._src.sparse.rows import RowSparse
from jaxinit._src.transfer import TransferFunction, lookup

#: The fields of :class:`SparseParams` that are arrays (``W_rec`` is a RowSparse).
SPARSE_FIELDS = tuple(name for name in ARRAY_FIELDS if name != "rec_connectivity")

#: The largest dense ``N_rec x N_rec`` array (bytes) :meth:`SparseParams.todense` builds.
DENSE_EXPORT_BYTES = 2**30


@dataclasses.dataclass(frozen=True, eq=False)
class SparseParams:
    """A recurrent network whose ``W_rec`` is a :class:`~jaxinit.sparse.RowSparse` (a pytree).

    The sparse member of the :class:`~jaxinit.Params` family: the same
    fields and meanings, except that ``W_rec`` stores only the entries of
    the recurrent pattern (``values`` and presynaptic ``index`` of shape
    ``(N_rec, K)``), and the pattern itself is the recurrent mask
    (:attr:`rec_connectivity`, no separate ``N x N`` array). Input and
    output weights and masks stay dense (they are ``N x N_in`` and
    ``N_out x N``); the Dale signs are vectors. Registered with
    ``jax.tree_util.register_dataclass``: ``jit``, ``vmap`` and optimizers see
    the arrays (the pattern's indices are integer leaves, which gradients
    and :func:`jaxinit.trainable` leave alone).

    Attributes:
      W_in: ``(N_rec, N_in)`` input weights (raw).
      W_rec: ``RowSparse`` of shape ``(N_rec, N_rec)``: raw recurrent weights on the pattern.
      W_out: ``(N_out, N_rec)`` output weights (raw).
      b_rec, b_out, init_state: as in ``Params``.
      input_connectivity, output_connectivity: 0/1 masks of ``W_in``, ``W_out``.
      dale_rec_diag, dale_out_diag: the Dale signs, as in ``Params``.
      dale_ratio: fraction of excitatory units, or None (static).
      transfer_function: name of the transfer function (static).
    """

    W_in: jax.Array
    W_rec: RowSparse
    W_out: jax.Array
    b_rec: jax.Array
    b_out: jax.Array
    init_state: jax.Array
    input_connectivity: jax.Array
    output_connectivity: jax.Array
    dale_rec_diag: jax.Array
    dale_out_diag: jax.Array
    dale_ratio: float | None = static_field(None)
    transfer_function: str = static_field("relu")

    @property
    def N_in(self) -> int:
        """Number of inputs."""
        return int(self.W_in.shape[-1])

    @property
    def N_rec(self) -> int:
        """Number of recurrent units."""
        return self.W_rec.n_cols

    @property
    def N_out(self) -> int:
        """Number of outputs."""
        return int(self.W_out.shape[-2])

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading (ensemble) axes: ``()`` for a single network."""
        return self.W_rec.batch_shape

    @property
    def dale(self) -> bool:
        """Whether Dale's law is applied (``dale_ratio is not None``)."""
        return self.dale_ratio is not None

    @property
    def rec_connectivity(self) -> RowSparse:
        """The recurrent mask: the pattern of ``W_rec`` with value 1 on every stored entry."""
        ones = jnp.where(self.W_rec.stored, 1, 0).astype(self.W_rec.values.dtype)
        return self.W_rec.with_values(ones)

    @property
    def transfer(self) -> TransferFunction:
        """The JAX transfer function named by ``transfer_function``."""
        return lookup(self.transfer_function)

    @property
    def nbytes(self) -> int:
        """Bytes of every array of the network (the pattern's indices included)."""
        leaves = jax.tree_util.tree_leaves(self)
        return int(sum(int(np.prod(x.shape)) * np.dtype(x.dtype).itemsize for x in leaves))

    def todense(self, *, max_bytes: int = DENSE_EXPORT_BYTES) -> Params:
        """The same network as a dense :class:`~jaxinit.Params`.

        ``W_rec`` gets zeros off the pattern and ``rec_connectivity`` is the
        pattern as a 0/1 matrix. Refused with ``ValueError`` when one dense
        ``N_rec x N_rec`` array (of the whole batch) would take more than
        ``max_bytes`` (default 1 GiB, :data:`DENSE_EXPORT_BYTES`): at
        ``N_rec = 16384`` a float32 matrix is exactly 1 GiB.

        Example:
          >>> import jax, jaxinit
          >>> cfg = jaxinit.Config(N_in=1, N_rec=50, N_out=1, spectral_method="krylov")
          >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (50, 50), 5)
          >>> sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P)
          >>> dense = sp.todense()
          >>> dense.W_rec.shape, float(dense.rec_connectivity.sum())
          ((50, 50), 250.0)
        """
        n = self.N_rec
        size = int(np.prod(self.batch_shape, dtype=np.int64)) * n * n
        need = size * np.dtype(self.W_rec.values.dtype).itemsize
        if need > max_bytes:
            raise ValueError(
                f"a dense copy of W_rec ({(*self.batch_shape, n, n)}) would take {need} bytes, "
                f"more than max_bytes={max_bytes}; keep the network sparse"
            )
        arrays = {name: getattr(self, name) for name in SPARSE_FIELDS if name != "W_rec"}
        return Params(
            W_rec=self.W_rec.todense(),
            rec_connectivity=self.rec_connectivity.todense(),
            **arrays,
            dale_ratio=self.dale_ratio,
            transfer_function=self.transfer_function,
        )

    def __repr__(self) -> str:
        def describe(x: Any) -> str:
            shape = getattr(x, "shape", None)
            if isinstance(x, RowSparse) or shape is None:
                return repr(x)
            return f"{x.dtype}{list(shape)}"

        inner = ", ".join(f"{n}={describe(getattr(self, n))}" for n in SPARSE_FIELDS)
        return (
            f"SparseParams({inner}, dale_ratio={self.dale_ratio!r}, "
            f"transfer_function={self.transfer_function!r})"
        )


jax.tree_util.register_dataclass(SparseParams)


def effective_rec(W: RowSparse, signs: jax.Array, dale: bool) -> RowSparse:
    """The effective recurrent weights in O(nnz): ``|W| * sign_j`` with Dale,
    ``W`` without; padding slots hold 0."""
    values = jnp.abs(W.values) * W.gather(signs) if dale else W.values
    return W.with_values(jnp.where(W.stored, values, 0).astype(W.values.dtype))
