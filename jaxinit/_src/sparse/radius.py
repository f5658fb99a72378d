"""The certified Krylov radius of :class:`RowSparse` matrices.

The restarted Arnoldi (Krylov-Schur) iteration of :mod:`jaxinit._src.arnoldi`
only touches the matrix through products ``W @ v``, so it runs unchanged on a
:class:`RowSparse` matrix, one O(nnz) gather-and-sum per product. What
changes is the memory: a basis of ``m`` vectors costs ``4 m N`` bytes, which
at ``N = 10^6`` is 4 MB per vector, so the default basis is bounded by the
matrix's own size (:func:`sparse_basis_size`) and the restarts do the rest.

The answer keeps its certificate (the explicit residual of the final Ritz
pair). A matrix that is not certified within the budget is solved in full
only when its dense copy fits in :data:`DENSE_FALLBACK_BYTES`; a larger one
raises ``ValueError`` naming the size, never densifies.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.arnoldi import Options, core, top_eigenvalue
from jaxinit._src.krylov import (
    KrylovResult,
    default_basis_size,
    krylov_options,
    make_result,
    start_vector,
)
from jaxinit._src.sparse.operator import SparseOperator, largest_stored, operator
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.typing import DTypeLike, PRNGKey

#: The largest dense copy (bytes) the fallback to the full solve may build.
DENSE_FALLBACK_BYTES = 2**30

#: Bounds of the default sparse basis size.
MIN_SPARSE_BASIS, MAX_SPARSE_BASIS = 64, 256

#: A basis of this many bytes is always allowed (:func:`sparse_basis_size`).
BASIS_BYTES = 256 * 2**20


def sparse_basis_size(N: int, slots: int) -> int:
    """Default basis size for an ``N x N`` sparse matrix with ``slots`` entries per row.

    The dense default (about ``6.4 sqrt(N)``), capped at ``2 * slots`` and at
    256, and at as many vectors as fit in half the matrix's bytes (values
    and indices, ``8 N slots``) or in ``BASIS_BYTES`` (256 MiB),
    whichever is larger; at least 64 (and at most ``N``), rounded down to a
    multiple of 8.
    A large basis holds the outermost eigenvalues of a crowded spectrum and
    needs fewer restarts, but each vector has ``N`` entries (4 MB at
    ``N = 10^6``). Measured at ``N = 10^5`` with in-degree 100 (Dale, mean
    balance, one matrix): m = 128, 200 and 256 needed 1683, 1496 and 1329
    products and 29, 25 and 29 s; at ``N = 10^6`` the rule gives 96.

    Example:
      >>> sparse_basis_size(100_000, 100), sparse_basis_size(1_000_000, 100)
      (200, 96)
    """
    vector = 4 * N
    fits = max(8 * N * max(slots, 1) // 2, BASIS_BYTES) // vector
    size = max(MIN_SPARSE_BASIS, min(default_basis_size(N), 2 * max(slots, 1), MAX_SPARSE_BASIS,
                                     fits))
    return min(N, 8 * (size // 8))


def dense_fallback_fits(N: int, dtype: DTypeLike, count: int = 1) -> bool:
    """Whether ``count`` dense ``N x N`` copies of ``dtype`` fit in :data:`DENSE_FALLBACK_BYTES`."""
    return count * N * N * np.dtype(dtype).itemsize <= DENSE_FALLBACK_BYTES


def _too_large_message(N: int, dtype: DTypeLike, residual: float, tol: float) -> str:
    gib = N * N * np.dtype(dtype).itemsize / 2**30
    return (
        f"the Krylov radius of the {N} x {N} sparse matrix was not certified (relative "
        f"residual {residual:.3g} > tol {tol:.3g}) and the full solve would need a dense "
        f"{N} x {N} copy ({gib:.3g} GiB, more than the {DENSE_FALLBACK_BYTES / 2**30:g} GiB "
        "allowed); pass a larger max_matvecs or m, or a larger tol"
    )


def normalize_rows(W: RowSparse) -> tuple[RowSparse, jax.Array]:
    """``(W / s, s)`` with ``s`` the largest stored ``|value|`` of each matrix
    (1 where that is 0 or not finite)."""
    s = largest_stored(W)
    return W.with_values(W.values / s[..., None, None]), s


@jax.jit
def stored_finite(W: RowSparse) -> jax.Array:
    """Whether every stored value of ``W`` is finite (one fused reduction, no temporaries)."""
    return jnp.isfinite(jnp.where(W.stored, W.values, 0)).all()


@functools.partial(jax.jit, static_argnames=("opts",))
def _sparse_core(
    op: SparseOperator, v0: jax.Array, tol: jax.Array, opts: Options
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    if op.values.ndim == 2:
        return core(op, v0, tol, opts)
    out: tuple[jax.Array, jax.Array, jax.Array, jax.Array] = jax.vmap(
        lambda one: core(one, v0, tol, opts)
    )(op)
    return out


@jax.jit
def _dense_top(W: RowSparse, signs: jax.Array | None, scale: jax.Array) -> jax.Array:
    if signs is not None:
        W = W.with_values(jnp.where(W.stored, jnp.abs(W.values) * W.gather(signs), 0))
    return top_eigenvalue(W.todense() / scale)


def sparse_radius(
    W: RowSparse,
    *,
    tol: float,
    m: int | None = None,
    k: int | None = None,
    max_matvecs: int | None = None,
    key: PRNGKey | None = None,
    fallback: bool = True,
    signs: jax.Array | None = None,
) -> KrylovResult:
    """:func:`jaxinit.krylov_spectral_radius` of a (stack of) :class:`RowSparse` matrices.

    With ``signs`` (``(..., N)`` Dale signs), the radius of the effective
    matrix ``|W| * sign_j``, applied inside the products: neither the
    effective nor a scaled copy of the ``(N, K)`` values is made (see
    :mod:`jaxinit._src.sparse.operator` for the one copy that may be).
    """
    W = check_row_sparse(W)
    N = W.n_cols
    dtype = np.dtype(np.float64 if W.values.dtype == jnp.float64 else np.float32)
    W = W.with_values(W.values.astype(dtype))
    checks.require(stored_finite(W), lambda: "W must be finite (no NaN or inf values)")
    opts = krylov_options(N, sparse_basis_size(N, W.slots) if m is None else m, k, max_matvecs)
    v0 = start_vector(key, N, dtype)
    tol_arr = jnp.asarray(tol, dtype)
    batch = W.batch_shape
    if batch:  # a stack: one flat member axis (copies only what a stack holds anyway)
        W = RowSparse(
            W.values.reshape((-1, *W.values.shape[-2:])),
            W.index.reshape((-1, *W.index.shape[-2:])),
            N,
        )
        if signs is not None:
            signs = jnp.broadcast_to(signs, (*batch, N)).reshape((-1, N))
    scale = largest_stored(W)
    theta, residual, matvecs, restarts = _sparse_core(
        operator(W, None if signs is None else signs.astype(dtype), scale), v0, tol_arr, opts
    )
    if not batch:
        theta, residual, matvecs, restarts, scale = (
            x[None] for x in (theta, residual, matvecs, restarts, scale)
        )

    def member(i: int) -> tuple[RowSparse, jax.Array | None]:
        if not batch:  # never copied: a member of 10^6 rows is 800 MB
            return W, None if signs is None else signs.astype(dtype)
        return RowSparse(W.values[i], W.index[i], N), (
            None if signs is None else signs[i].astype(dtype)
        )
    members = theta.shape[0]
    fell_back = np.zeros((members,), bool)
    full = theta
    if checks.is_traced(theta):
        pass  # inside a caller's transformation: reported by `converged`, never solved in full
    elif fallback:
        bad = np.flatnonzero(~np.asarray(residual <= tol_arr))
        if bad.size:
            if not dense_fallback_fits(N, dtype):
                raise ValueError(_too_large_message(N, dtype, float(residual[bad[0]]), tol))
            tops = [_dense_top(*member(int(i)), scale[i]) for i in bad]
            full = theta.at[bad].set(jnp.stack(tops))
            fell_back[bad] = True
    out = make_result(theta, residual, matvecs, restarts, tol_arr, jnp.asarray(fell_back), full)
    out = out._replace(
        radius=out.radius * scale,
        eigenvalue=out.eigenvalue * scale.astype(out.eigenvalue.dtype),
    )
    return KrylovResult(*(x.reshape(batch) for x in out))
