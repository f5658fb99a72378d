"""The weights a PsychRNN-style RNN really uses: masks, ``|.|`` and Dale signs."""

from __future__ import annotations

from typing import NamedTuple, overload

import jax
import jax.numpy as jnp

from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams, effective_rec
from jaxinit._src.sparse.rows import RowSparse


class Effective(NamedTuple):
    """Effective input, recurrent and output weights."""

    W_in: jax.Array
    W_rec: jax.Array
    W_out: jax.Array


class SparseEffective(NamedTuple):
    """Effective weights of a :class:`~jaxinit.sparse.SparseParams`: ``W_rec`` stays sparse."""

    W_in: jax.Array
    W_rec: RowSparse
    W_out: jax.Array


def effective_W_rec(
    W_rec: jax.Array, rec_connectivity: jax.Array | None, dale_rec_diag: jax.Array, dale: bool
) -> jax.Array:
    """``|W_rec| * mask @ diag(signs)`` with Dale, ``W_rec * mask`` without.

    ``rec_connectivity=None`` stands for an all-ones mask (nothing multiplied).
    """
    W = jnp.abs(W_rec) if dale else W_rec
    if rec_connectivity is not None:
        W = W * rec_connectivity
    return W * dale_rec_diag[..., None, :] if dale else W


@overload
def effective(params: Params) -> Effective: ...


@overload
def effective(params: SparseParams) -> SparseEffective: ...


def effective(params: Params | SparseParams) -> Effective | SparseEffective:
    """Effective ``W_in``, ``W_rec``, ``W_out`` exactly as PsychRNN's RNN builds them.

    Without Dale's law: ``W * mask`` for each matrix. With Dale's law:
    ``W_in_eff = |W_in| * m_in``, ``W_rec_eff = |W_rec| * m_rec @ Dale_rec`` and
    ``W_out_eff = |W_out| * m_out @ Dale_out``. The products with the diagonal
    Dale matrices are computed as column scalings (O(N^2), no matmul).

    A :class:`~jaxinit.sparse.SparseParams` gives a :class:`SparseEffective`
    whose ``W_rec`` is a :class:`~jaxinit.sparse.RowSparse` on the same
    pattern, computed in O(nnz).

    Dale's law is on when ``params.dale_ratio is not None``. PsychRNN's RNN
    tests ``if dale_ratio:``, so there a ratio of exactly 0 switches Dale off;
    in jaxinit 0 means "all units inhibitory". Works on ensembles (leading
    axes) too.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=4, N_out=1, dale_ratio=0.5, alpha=1.0)
      >>> eff = effective(jaxinit.alpha_identity(jax.random.key(0), cfg))
      >>> (eff.W_rec.diagonal() > 0).tolist()
      [True, True, False, False]
    """
    if not isinstance(params, (Params, SparseParams)):
        raise TypeError(
            f"params must be a jaxinit.Params or jaxinit.sparse.SparseParams, got "
            f"{type(params).__name__}; build one with an initializer or jaxinit.load_npz"
        )
    dale = params.dale_ratio is not None
    W_in, W_out = _effective_in_out(params, dale)
    if isinstance(params, SparseParams):
        return SparseEffective(W_in, effective_rec(params.W_rec, params.dale_rec_diag, dale), W_out)
    W_rec = effective_W_rec(params.W_rec, params.rec_connectivity, params.dale_rec_diag, dale)
    return Effective(W_in, W_rec, W_out)


def _effective_in_out(params: Params | SparseParams, dale: bool) -> tuple[jax.Array, jax.Array]:
    if dale:
        W_in = jnp.abs(params.W_in) * params.input_connectivity
        W_out = jnp.abs(params.W_out) * params.output_connectivity
        W_out = W_out * params.dale_out_diag[..., None, :]
    else:
        W_in = params.W_in * params.input_connectivity
        W_out = params.W_out * params.output_connectivity
    return W_in, W_out
