"""The Krylov radius of many small matrices at once: one Arnoldi run for the whole stack.

:func:`jaxinit.krylov_spectral_radius` restarts and looks at its Ritz values
several times, with control flow per matrix. Under ``vmap`` (an ensemble,
a vmapped initializer) that control flow runs for the whole batch, and for
matrices of a few hundred rows its fixed costs are as large as the full
solve. Here instead the whole stack ``(B, N, N)`` is one Arnoldi recurrence
with a fixed basis and no restarts: each step is one batched product
``einsum('bij,bj->bi')`` and two classical Gram-Schmidt passes, and the
Ritz values of all ``B`` projected matrices come from one batched ``eig``.

Two basis sizes (:func:`basis_sizes`): the first answers for matrices whose
outermost eigenvalue stands apart (Dale matrices with their E/I outlier),
and the recurrence goes on to the second only when some member is not yet
certified. Each member's answer is certified by the explicit residual
``||W x - theta x|| / (|theta| ||x||)`` of its Ritz pair (one more product,
not taken from the recurrence), and the members that miss ``tol`` after
the second size are recomputed by the full solve one at a time, so a
batch where one member failed pays for one full solve, not ``B``.

``krylov._single_or_batched`` hands this to ``jax.custom_batching.custom_vmap``,
so that ``vmap`` over single-matrix calls (an ensemble) runs it on the batch;
one matrix alone runs as a batch of one.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.arnoldi import top_eigenvalue_of

#: Smallest and largest N for which Krylov radii of stacks (and under vmap)
#: use this module (see :func:`use_batched`): from N = 64 to 1024 it was
#: 1.3-4.3x faster than the restarted method vmapped over the same stacks
#: (benchmarks/batched.py); larger N was not measured.
BATCHED_MIN_N = 64
BATCHED_MAX_N = 1024

#: From this N up, ``spectral_method="auto"`` uses this module for stacks
#: and under vmap: at K = 32 it was 2.0-6.7x faster than the full solve from
#: N = 96 on, Dale and Gaussian matrices alike; at N = 64 it was 2.5x faster
#: for Dale matrices but 0.8x for Gaussian ones (benchmarks/batched.py).
AUTO_BATCHED_MIN_N = 96


class Sizes(NamedTuple):
    """The two basis sizes: looked at after ``first`` steps, and after ``second``."""

    first: int
    second: int


class Batch(NamedTuple):
    """What one run gives per member: Ritz value, residual, products, whether solved fully."""

    theta: jax.Array
    residual: jax.Array
    matvecs: jax.Array
    fell_back: jax.Array


def basis_sizes(N: int) -> Sizes:
    """Basis sizes for ``N x N`` matrices: about ``4 sqrt(N)`` and ``7 sqrt(N)``.

    A Gaussian (circular-law) matrix crowds its outermost eigenvalues at the
    edge of the disk and needs the larger basis for a 1e-5 residual (at
    N = 256, 96 vectors left 3 of 32 masked Gaussian matrices uncertified,
    112 none); a Dale matrix, whose E/I outlier stands apart, is certified
    at the first (64 at N = 256). Multiples of 8, at most ``N``.

    Example:
      >>> basis_sizes(256), basis_sizes(1024), basis_sizes(40)
      (Sizes(first=64, second=112), Sizes(first=128, second=224), Sizes(first=32, second=40))
    """
    N = checks.positive_int("N", N)

    def size(c: float) -> int:
        return min(N, 8 * int(np.ceil(c * np.sqrt(N) / 8)))

    return Sizes(size(4.0), size(7.0))


def use_batched(N: int) -> bool:
    """Whether a vmapped Krylov radius of ``N x N`` matrices runs here (64 <= N <= 1024)."""
    return BATCHED_MIN_N <= N <= BATCHED_MAX_N


def _steps(
    W: jax.Array, V: jax.Array, H: jax.Array, start: int, stop: int
) -> tuple[jax.Array, jax.Array]:
    """Arnoldi steps ``start .. stop - 1`` for every member of ``W`` ``(B, N, N)``.

    ``V`` is ``(B, rows, N)`` with the rows beyond the current one zero, so
    projecting on all rows is exact. Two classical Gram-Schmidt passes always
    (no per-member branch). A remainder below ``1e-6`` of the product's norm
    means the basis spans an invariant subspace: the next row stays zero and
    the Ritz values are exact eigenvalues; the later steps then add nothing.
    """

    def step(j: jax.Array, VH: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        V, H = VH
        v = jax.lax.dynamic_index_in_dim(V, j, axis=1, keepdims=False)
        w = jnp.einsum("bij,bj->bi", W, v)
        norm0 = jnp.linalg.norm(w, axis=-1)
        h = jnp.einsum("bkn,bn->bk", V, w)
        w = w - jnp.einsum("bkn,bk->bn", V, h)
        h2 = jnp.einsum("bkn,bn->bk", V, w)
        w = w - jnp.einsum("bkn,bk->bn", V, h2)
        h = h + h2
        beta = jnp.linalg.norm(w, axis=-1)
        breakdown = beta <= 1e-6 * norm0
        beta = jnp.where(breakdown, jnp.zeros_like(beta), beta)
        nxt = w / jnp.where(breakdown, jnp.ones_like(beta), beta)[:, None]
        nxt = jnp.where(breakdown[:, None], jnp.zeros_like(nxt), nxt)
        V = jax.lax.dynamic_update_index_in_dim(V, nxt, j + 1, axis=1)
        column = h[:, : H.shape[1]]
        column = jax.lax.dynamic_update_index_in_dim(column, beta, j + 1, axis=1)
        H = jax.lax.dynamic_update_index_in_dim(H, column, j, axis=2)
        return V, H

    out: tuple[jax.Array, jax.Array] = jax.lax.fori_loop(start, stop, step, (V, H))
    return out


def _certified(W: jax.Array, V: jax.Array, H: jax.Array, size: int) -> tuple[jax.Array, jax.Array]:
    """The top Ritz value of each member after ``size`` steps, and its explicit residual.

    The Ritz vector ``x = V^T y`` of the Ritz value of largest modulus is
    multiplied by ``W`` once more; its Rayleigh quotient ``x* W x / x* x`` is
    the value returned (it minimizes the residual over the value) and
    ``||W x - theta x|| / (|theta| ||x||)`` the residual.
    """
    T = H[:, :size, :size]
    values = jnp.linalg.eigvals(T)
    top = jnp.take_along_axis(values, jnp.argmax(jnp.abs(values), axis=-1)[:, None], axis=1)
    y = _ritz_vector(T, top[:, 0])
    cdtype = y.dtype
    x = jnp.einsum("bkn,bk->bn", V[:, :size].astype(cdtype), y)
    Wx = jnp.einsum("bij,bj->bi", W.astype(cdtype), x)
    xx = jnp.real(jnp.sum(jnp.conj(x) * x, axis=-1))
    theta = jnp.sum(jnp.conj(x) * Wx, axis=-1) / jnp.where(xx > 0, xx, 1).astype(cdtype)
    r = jnp.linalg.norm(Wx - theta[:, None] * x, axis=-1)
    denominator = jnp.abs(theta) * jnp.sqrt(xx)
    residual = jnp.where(denominator > 0, r / jnp.where(denominator > 0, denominator, 1), jnp.inf)
    return theta, residual.astype(W.dtype)


def _ritz_vector(T: jax.Array, theta: jax.Array) -> jax.Array:
    """A unit vector ``y`` with ``T y ~ theta y``: two steps of inverse iteration.

    One LU factorization of ``T - theta`` per member costs far less than the
    eigenvectors of ``T`` (LAPACK ``geev`` with vectors); in floating point
    the shifted matrix is never exactly singular, and its solve amplifies
    the wanted direction.
    """
    cdtype = theta.dtype
    B, m, _ = T.shape
    shifted = T.astype(cdtype) - theta[:, None, None] * jnp.eye(m, dtype=cdtype)[None]
    lu, pivots, _ = jax.lax.linalg.lu(shifted)
    y = jnp.ones((B, m), cdtype)
    for _ in range(2):
        y = jax.vmap(lambda lu, p, b: jax.scipy.linalg.lu_solve((lu, p), b))(lu, pivots, y)
        norm = jnp.linalg.norm(y, axis=-1, keepdims=True)
        y = y / jnp.where(jnp.isfinite(norm) & (norm > 0), norm, 1).astype(cdtype)
    return jnp.where(jnp.isfinite(y).all(axis=-1, keepdims=True), y, jnp.ones_like(y))


def _full_solve_where(W: jax.Array, theta: jax.Array, failed: jax.Array) -> jax.Array:
    """``theta`` with the members where ``failed`` recomputed by the full solve, one by one."""
    B = W.shape[0]
    (index,) = jnp.nonzero(failed, size=B, fill_value=0)

    def solve(i: jax.Array, theta: jax.Array) -> jax.Array:
        j = index[i]
        w = jax.lax.dynamic_index_in_dim(W, j, axis=0, keepdims=False)
        full = top_eigenvalue_of(w).astype(theta.dtype)
        updated: jax.Array = jax.lax.dynamic_update_index_in_dim(theta, full, j, axis=0)
        return updated

    out: jax.Array = jax.lax.fori_loop(0, jnp.sum(failed.astype(jnp.int32)), solve, theta)
    return out


@functools.partial(jax.jit, static_argnames=("sizes", "fallback"))
def radii(W: jax.Array, v0: jax.Array, tol: jax.Array, sizes: Sizes, fallback: bool) -> Batch:
    """The top eigenvalue of every member of ``W`` ``(B, N, N)``, certified or fully solved.

    ``W`` should have entries of order one (``matrices.normalize``); ``v0``
    is the start vector ``(N,)`` or one per member ``(B, N)``; ``tol`` the
    relative residual to certify. With ``fallback``, members not certified
    after ``sizes.second`` steps get the full solve's eigenvalue.
    """
    B, N, _ = W.shape
    first, second = sizes
    v0 = jnp.broadcast_to(v0, (B, N)).astype(W.dtype)
    v0 = v0 / jnp.linalg.norm(v0, axis=-1, keepdims=True)
    V = jnp.zeros((B, first + 1, N), W.dtype).at[:, 0].set(v0)
    H = jnp.zeros((B, first + 1, first), W.dtype)
    V, H = _steps(W, V, H, 0, first)
    theta, residual = _certified(W, V, H, first)
    matvecs = jnp.full((B,), first + 1, jnp.int32)

    if second > first:

        def go_on(args: tuple[jax.Array, jax.Array, jax.Array, jax.Array]) -> tuple[
            jax.Array, jax.Array, jax.Array
        ]:
            V, H, theta, residual = args
            grow = second - first
            V2 = jnp.concatenate([V, jnp.zeros((B, grow, N), V.dtype)], axis=1)
            H2 = jnp.zeros((B, second + 1, second), H.dtype).at[:, : first + 1, :first].set(H)
            V2, H2 = _steps(W, V2, H2, first, second)
            theta2, residual2 = _certified(W, V2, H2, second)
            better = ~(residual <= tol) & (residual2 < residual)
            return (
                jnp.where(better, theta2, theta),
                jnp.where(better, residual2, residual),
                jnp.where(~(residual <= tol), second + 2, first + 1).astype(jnp.int32),
            )

        def stop(args: tuple[jax.Array, jax.Array, jax.Array, jax.Array]) -> tuple[
            jax.Array, jax.Array, jax.Array
        ]:
            return args[2], args[3], matvecs

        theta, residual, matvecs = jax.lax.cond(
            jnp.all(residual <= tol), stop, go_on, (V, H, theta, residual)
        )

    failed = ~(residual <= tol) if fallback else jnp.zeros((B,), bool)
    if fallback:
        theta = jax.lax.cond(
            jnp.any(failed), lambda t: _full_solve_where(W, t, failed), lambda t: t, theta
        )
    return Batch(theta, residual, matvecs, failed)
