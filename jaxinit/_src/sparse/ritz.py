"""The outer eigenvalues of a :class:`RowSparse` matrix, as Ritz values of a Krylov basis.

:func:`jaxinit.krylov_spectral_radius` keeps only the eigenvalue of largest
modulus. A figure of the spectrum wants the others the basis has found too:
a thick-restart Arnoldi (Krylov-Schur) iteration, built from the pieces of
:mod:`jaxinit._src.arnoldi`, runs until the top Ritz pair meets ``tol`` and
then returns every Ritz value of the final ``m``-vector basis with its own
residual estimate. The outermost of them are eigenvalues to that accuracy;
the inner ones are not (they fill the inside of the spectrum and move at each
restart), and the estimates tell which is which. The top value is refined by
inverse iteration on the projected matrix and certified, as the radius is,
by the explicit residual of its pair (one more product). Memory is the
basis, ``(m + 1) N`` numbers, and the matrix's own O(nnz).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src.arnoldi import Options, arnoldi_step, pair_near, restart, ritz_all
from jaxinit._src.krylov import krylov_options, start_vector
from jaxinit._src.sparse.operator import SparseOperator, largest_stored, operator
from jaxinit._src.sparse.radius import sparse_basis_size, stored_finite
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.typing import PRNGKey


class RitzValues(NamedTuple):
    """What :func:`ritz_values` finds for one sparse matrix.

    Attributes:
      values: ``(m,)`` complex Ritz values of the final basis, by decreasing
        modulus; ``values[0]`` is the refined top value.
      estimates: ``(m,)`` relative residual estimates ``||W x - theta x|| /
        (|theta| ||x||)`` of each Ritz pair, read from the Krylov relation
        (no extra product); small means the value is an eigenvalue.
      radius: ``|values[0]|``, the spectral radius when ``converged``.
      residual: the explicit relative residual of the top pair (one more
        product), the certificate.
      converged: whether ``residual <= tol``.
      matvecs: products with ``W``, the certificate's included.
      restarts: thick restarts.
    """

    values: jax.Array
    estimates: jax.Array
    radius: jax.Array
    residual: jax.Array
    converged: jax.Array
    matvecs: jax.Array
    restarts: jax.Array


class _Loop(NamedTuple):
    V: jax.Array
    H: jax.Array
    matvecs: jax.Array
    restarts: jax.Array
    theta: jax.Array
    Y: jax.Array
    top: jax.Array
    y: jax.Array
    est: jax.Array


def _fill(
    W: SparseOperator, V: jax.Array, H: jax.Array, start: jax.Array | int, tiny: jax.Array, m: int
) -> tuple[jax.Array, jax.Array]:
    """Arnoldi steps ``start .. m - 1``: the basis filled up to ``m + 1`` vectors."""

    def step(j: jax.Array, vh: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return arnoldi_step(W, j, vh[0], vh[1], tiny, m + 1)

    filled: tuple[jax.Array, jax.Array] = jax.lax.fori_loop(start, m, step, (V, H))
    return filled


def _look(H: jax.Array, m: int) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, jax.Array]:
    """All Ritz pairs of the decomposition, and the refined top pair with its estimate."""
    T, b = H[:m, :m], H[m, :m]
    theta, Y = ritz_all(T)
    top, y, est = pair_near(T, b, theta[0], jnp.ones((m,), bool), Y[:, 0])
    return theta, Y, top, y, est


@functools.partial(jax.jit, static_argnames=("opts",))
def _iterate(
    W: SparseOperator, v0: jax.Array, tol: jax.Array, opts: Options
) -> tuple[jax.Array, ...]:
    m, k = opts.m, opts.k
    dtype = W.dtype
    tiny = jnp.asarray(8 * np.finfo(dtype).eps, dtype)
    V = jnp.zeros((m + 1, W.n_cols), dtype).at[0].set(v0 / jnp.linalg.norm(v0))
    V, H = _fill(W, V, jnp.zeros((m + 1, m), dtype), 0, tiny, m)
    zero = jnp.asarray(0, jnp.int32)
    s = _Loop(V, H, jnp.asarray(m, jnp.int32), zero, *_look(H, m))

    def going(s: _Loop) -> jax.Array:
        done = s.est <= 0.5 * tol * jnp.abs(s.top)  # a margin for the explicit residual
        return ~done & (s.matvecs < opts.max_matvecs)

    def cycle(s: _Loop) -> _Loop:
        V, H, kept = restart(s.V, s.H, s.theta, s.Y, m, k)
        V, H = _fill(W, V, H, kept, tiny, m)
        return _Loop(V, H, s.matvecs + (m - kept), s.restarts + 1, *_look(H, m))

    if k >= 1:  # else the first basis spans the whole space (N <= 2)
        s = jax.lax.while_loop(going, cycle, s)
    # every pair's estimate |b . y| / |theta| (unit y), the refined top pair first
    b = s.H[m, :m].astype(s.Y.dtype)
    values = s.theta.at[0].set(s.top)
    size = jnp.abs(values)
    estimates = jnp.abs(b @ s.Y) / jnp.where(size > 0, size, 1)
    estimates = estimates.at[0].set(s.est / jnp.where(size[0] > 0, size[0], 1))
    if m >= 2:  # a complex top value: its conjugate, next in LAPACK's list, is refined too
        partner = (jnp.imag(s.theta[0]) != 0) & (s.theta[1] == jnp.conj(s.theta[0]))
        values = values.at[1].set(jnp.where(partner, jnp.conj(s.top), values[1]))
        estimates = estimates.at[1].set(jnp.where(partner, estimates[0], estimates[1]))
    # the certificate: an explicit product with the top Ritz vector
    x_re = jnp.real(s.y).astype(dtype) @ s.V[:m]
    x_im = jnp.imag(s.y).astype(dtype) @ s.V[:m]
    Wx = W @ jnp.stack([x_re, x_im], axis=1)
    t_re, t_im = jnp.real(s.top).astype(dtype), jnp.imag(s.top).astype(dtype)
    r = jnp.sqrt(
        jnp.sum((Wx[:, 0] - t_re * x_re + t_im * x_im) ** 2)
        + jnp.sum((Wx[:, 1] - t_re * x_im - t_im * x_re) ** 2)
    )
    norm = size[0] * jnp.sqrt(jnp.sum(x_re**2) + jnp.sum(x_im**2))
    residual = jnp.where(norm > 0, r / jnp.where(norm > 0, norm, 1), jnp.where(r == 0, 0, jnp.inf))
    return values, estimates.astype(dtype), residual.astype(dtype), s.matvecs + 1, s.restarts


def ritz_values(
    W: RowSparse,
    *,
    tol: float = 1e-5,
    m: int | None = None,
    k: int | None = None,
    max_matvecs: int | None = None,
    key: PRNGKey | None = None,
) -> RitzValues:
    """The Ritz values of one sparse matrix's Krylov basis, top value certified.

    The same restarted Arnoldi iteration, defaults and start vector as
    :func:`jaxinit.krylov_spectral_radius` on a ``RowSparse`` (basis
    :func:`~jaxinit.sparse.sparse_basis_size`, ``k = 3 m // 4`` kept at a
    restart), stopped when the top Ritz pair meets ``tol``; then every Ritz
    value of the basis with its residual estimate. Nothing falls back to a
    full solve: ``converged`` says whether the top value is certified.

    Args:
      W: one square :class:`~jaxinit.sparse.RowSparse` matrix (no stack).
      tol: relative residual the top pair must reach, in (0, 1).
      m, k, max_matvecs, key: as in :func:`jaxinit.krylov_spectral_radius`.

    Returns:
      A :class:`RitzValues`, in the scale of ``W``.

    Example:
      >>> import jax, jaxinit
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(0), (3000, 3000), 30)
      >>> W = P.with_values(jax.random.normal(jax.random.key(1), P.values.shape) / 30**0.5)
      >>> out = ritz_values(W)
      >>> bool(out.converged), out.values.shape
      (True, (64,))
      >>> rho = float(jaxinit.krylov_spectral_radius(W).radius)
      >>> abs(float(out.radius) - rho) <= 1e-5 * rho
      True
    """
    W = check_row_sparse(W)
    if W.batch_shape:
        raise ValueError(f"W must be one matrix (N, K), got a stack of shape {W.batch_shape}")
    tol = checks.finite_float("tol", tol, positive=True)
    if not tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    N = W.n_cols
    dtype = np.dtype(np.float64 if W.values.dtype == jnp.float64 else np.float32)
    W = W.with_values(W.values.astype(dtype))
    checks.require(stored_finite(W), lambda: "W must be finite (no NaN or inf values)")
    opts = krylov_options(N, sparse_basis_size(N, W.slots) if m is None else m, k, max_matvecs)
    scale = largest_stored(W)
    tol_arr = jnp.asarray(tol, dtype)
    values, estimates, residual, matvecs, restarts = _iterate(
        operator(W, None, scale), start_vector(key, N, dtype), tol_arr, opts
    )
    values = values * scale.astype(values.dtype)
    return RitzValues(
        values=values,
        estimates=estimates,
        radius=jnp.abs(values[0]).astype(dtype),
        residual=residual,
        converged=residual <= tol_arr,
        matvecs=matvecs,
        restarts=restarts,
    )
