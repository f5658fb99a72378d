"""Spectral radius of large matrices by a thick-restart Arnoldi (Krylov-Schur) method.

The full solve (:func:`jaxinit.spectral_radius`, LAPACK ``geev``) costs
O(N^3) time. The largest eigenvalue in modulus only needs products ``W @ v``:
this module builds an orthonormal Krylov basis with Arnoldi, reads the
eigenvalues of the small projected matrix (Ritz values), and restarts by
keeping the Ritz vectors of the ``k`` largest Ritz values, the Krylov-Schur
restart of Stewart (2001). The first basis is looked at only at the sizes
of :func:`check_sizes`, each look padded to one of three static sizes (a
quarter, a half and all of the basis) so the compiled program stays small;
once the basis is a quarter full, the top Ritz pair is followed by inverse
iteration (an LU of the small matrix) and LAPACK's QR algorithm runs once
more only to confirm that a converged pair is the largest.
The answer comes with a certificate: the residual
``||W x - theta x||`` of the final Ritz pair, computed with one more explicit
product (not taken from the recurrence), so a run that drifted cannot pass.

Runs that do not meet the tolerance within their budget fall back to the
full solve, so the returned radius is always usable.

With the default settings and ``64 <= N <= 1024`` the work goes to
``batched_krylov`` instead (fixed bases, no restarts, one run for a whole
stack or ``vmap``); this module keeps the restarted method for larger
matrices and for explicit ``m``, ``k`` or ``max_matvecs``.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import batched_krylov, checks
from jaxinit._src.arnoldi import Options, at_most_once, core, top_eigenvalue
from jaxinit._src.matrices import normalize, square_matrices
from jaxinit._src.sparse.rows import RowSparse
from jaxinit._src.typing import ArrayLike, DTypeLike, PRNGKey

#: Below this size :func:`auto_method` picks the full solve (see its docstring).
KRYLOV_MIN_N = 512

_DEFAULT_TOL = 1e-5


class KrylovResult(NamedTuple):
    """Spectral radius from :func:`krylov_spectral_radius`, with its certificate.

    Every field has shape ``W.shape[:-2]``.

    Attributes:
      radius: the spectral radius (from the full solve where ``fell_back``).
      eigenvalue: a complex eigenvalue of largest modulus (Ritz value, or the
        full solve's eigenvalue where ``fell_back``).
      residual: relative residual ``||W x - theta x|| / (|theta| ||x||)`` of the
        final Ritz pair, recomputed with an explicit product. ``theta`` is an
        exact eigenvalue of some ``W + E`` with ``||E||_2 <= residual * |theta|``.
      converged: whether ``residual <= tol``: the Krylov answer is certified.
      fell_back: whether ``radius`` was recomputed with the full solve.
      matvecs: number of products with ``W`` (one vector each; the final
        residual check counts as one).
      restarts: number of thick restarts.
    """

    radius: jax.Array
    eigenvalue: jax.Array
    residual: jax.Array
    converged: jax.Array
    fell_back: jax.Array
    matvecs: jax.Array
    restarts: jax.Array


def default_basis_size(N: int) -> int:
    """Default Krylov basis size ``m`` for an ``N x N`` matrix, about ``6.4 sqrt(N)``.

    The outermost eigenvalues of a Gaussian (circular-law) matrix need a
    basis of roughly 190, 270 and 320 vectors at N = 1024, 2048 and 4096
    before their residual reaches 1e-5; a basis that holds them converges
    without a restart, which would cost extra products. A multiple of 8, at
    most ``N``.

    Example:
      >>> default_basis_size(1024), default_basis_size(4096), default_basis_size(10)
      (208, 416, 10)
    """
    N = checks.positive_int("N", N)
    return min(N, 8 * int(np.ceil(0.8 * np.sqrt(N))))


def auto_method(N: int) -> Literal["eig", "krylov"]:
    """The faster method for an ``N x N`` matrix: ``"eig"`` below ``KRYLOV_MIN_N``, else krylov.

    Measured on a 2-core CPU with float32 Gaussian matrices: the full solve
    wins for small ``N``, where its O(N^3) cost is still small and the
    Krylov method's fixed costs (a few hundred products and small eigenvalue
    problems) dominate.

    Example:
      >>> auto_method(100), auto_method(4096)
      ('eig', 'krylov')
    """
    N = checks.positive_int("N", N)
    return "eig" if N < KRYLOV_MIN_N else "krylov"


def krylov_options(N: int, m: int | None, k: int | None, max_matvecs: int | None) -> Options:
    """The checked basis size, restart size and budget; ``None`` takes each default."""
    if m is None:
        size = default_basis_size(N)
    else:
        size = checks.positive_int("m", m)
        if size < 2 and N >= 2:
            raise ValueError(f"m must be at least 2, got {size!r}")
        size = min(size, N)
    given: object = k  # annotated int, but numpy integers are accepted too
    if given is None:
        keep = max(1, (3 * size) // 4) if size > 1 else 0
    else:
        if isinstance(given, bool) or not isinstance(given, numbers.Integral):
            raise TypeError(f"k must be a positive integer, got {given!r}")
        if not 1 <= int(given) <= size - 2:
            raise ValueError(f"k must be between 1 and m - 2 = {size - 2}, got {given!r}")
        keep = int(given)
    keep = min(keep, max(size - 2, 0))
    if max_matvecs is None:
        budget = max(N // 2, 4 * size)
    else:
        budget = checks.positive_int("max_matvecs", max_matvecs)
    return Options(m=size, k=keep, max_matvecs=budget)


def make_result(
    theta: jax.Array,
    residual: jax.Array,
    matvecs: jax.Array,
    restarts: jax.Array,
    tol: jax.Array,
    fell_back: jax.Array,
    full: jax.Array,
) -> KrylovResult:
    """A :class:`KrylovResult` from the Krylov answer and, where ``fell_back``, the full solve's."""
    converged = residual <= tol
    eigenvalue = jnp.where(fell_back, full, theta)
    return KrylovResult(
        radius=jnp.abs(eigenvalue).astype(residual.dtype),
        eigenvalue=eigenvalue,
        residual=residual,
        converged=converged,
        fell_back=fell_back,
        matvecs=matvecs,
        restarts=restarts,
    )


@functools.partial(jax.jit, static_argnames=("opts",))
def _krylov_batch(
    W: jax.Array, v0: jax.Array, tol: jax.Array, opts: Options
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """The Krylov part for a stack ``(B, N, N)``, without any fallback."""
    if W.shape[0] == 1:  # vmap over one member costs ~25% more on the CPU
        theta, residual, matvecs, restarts = core(W[0], v0, tol, opts)
        return theta[None], residual[None], matvecs[None], restarts[None]
    return jax.vmap(lambda w: core(w, v0, tol, opts))(W)


_top_eigenvalue_batch = jax.jit(jax.vmap(top_eigenvalue))


def _traced_single(
    W: jax.Array, v0: jax.Array, tol: jax.Array, opts: Options, fallback: bool
) -> KrylovResult:
    """One matrix inside a caller's transformation; the fallback is in the graph.

    The full solve runs at most once (see ``arnoldi.at_most_once``), so a batch in
    which every member converged never pays for it.
    """
    theta, residual, matvecs, restarts = core(W, v0, tol, opts)
    need = ~(residual <= tol) if fallback else jnp.asarray(False)
    def needed(x: tuple[jax.Array, jax.Array]) -> jax.Array:
        return need

    def solve(x: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return top_eigenvalue(x[1]), x[1]

    full, _ = at_most_once(needed, solve, (theta, W))
    return make_result(theta, residual, matvecs, restarts, tol, need, full)


def _from_batch(out: batched_krylov.Batch, tol: jax.Array) -> KrylovResult:
    restarts = jnp.zeros_like(out.matvecs)
    return make_result(
        out.theta, out.residual, out.matvecs, restarts, tol, out.fell_back, out.theta
    )


#: The ``out_batched`` of the batched rule: every output has the batch axis.
_ALL_BATCHED: Any = KrylovResult._make((True,) * len(KrylovResult._fields))


@functools.lru_cache(maxsize=64)
def _single_or_batched(
    N: int, fallback: bool, single: str
) -> Callable[[jax.Array, jax.Array, jax.Array], KrylovResult]:
    """``f(W, v0, tol)`` for one matrix whose ``jax.vmap`` runs the whole batch at once.

    Called on one matrix, ``f`` is :func:`batched_krylov.radii` on a batch
    of one (``single="krylov"``) or the full solve (``"eig"``, for
    ``"auto"`` at sizes where one matrix is faster by the full solve); under
    ``vmap`` over ``W`` it is :func:`batched_krylov.radii` on the stack.
    """
    sizes = batched_krylov.basis_sizes(N)

    def one(W: jax.Array, v0: jax.Array, tol: jax.Array) -> KrylovResult:
        if single == "eig":
            full = top_eigenvalue(W)
            zero = jnp.zeros((), jnp.int32)
            none = jnp.zeros((), W.dtype)
            return make_result(full, none, zero, zero, tol, jnp.asarray(True), full)
        out = batched_krylov.radii(W[None], v0, tol, sizes, fallback)
        return KrylovResult(*(x[0] for x in _from_batch(out, tol)))

    def batch(
        axis_size: int, in_batched: tuple[bool, bool, bool], W: jax.Array, v0: jax.Array,
        tol: jax.Array,
    ) -> tuple[KrylovResult, Any]:
        if axis_size == 1:  # a batch of one (one member per device) is one matrix
            args = [x[0] if b else x for x, b in zip((W, v0, tol), in_batched, strict=True)]
            single_out = one(*args)
            return KrylovResult(*(x[None] for x in single_out)), _ALL_BATCHED
        if not in_batched[0]:
            W = jnp.broadcast_to(W, (axis_size, *W.shape))
        if in_batched[2]:
            tol = jnp.min(tol)  # one tolerance for the batch: the strictest
        out = _from_batch(batched_krylov.radii(W, v0, tol, sizes, fallback), tol)
        if in_batched[2]:
            out = out._replace(converged=out.residual <= tol)
        return out, _ALL_BATCHED

    f = jax.custom_batching.custom_vmap(one)
    f.def_vmap(batch)
    return f


def start_vector(key: PRNGKey | None, N: int, dtype: DTypeLike) -> jax.Array:
    """The Krylov start vector: ``normal(key, (N,))``, ``key=jax.random.key(0)`` by default."""
    if key is None:
        key = jax.random.key(0)
    else:
        checks.check_key(key)
    return jax.random.normal(key, (N,), dtype)


def krylov_spectral_radius(
    W: ArrayLike | RowSparse,
    *,
    tol: float = _DEFAULT_TOL,
    m: int | None = None,
    k: int | None = None,
    max_matvecs: int | None = None,
    key: PRNGKey | None = None,
    fallback: bool = True,
) -> KrylovResult:
    """Spectral radius by thick-restart Arnoldi, with a residual certificate.

    Builds an ``m``-vector Arnoldi basis, takes the Ritz value of largest
    modulus, and restarts keeping the ``k`` Ritz vectors of largest modulus
    (Krylov-Schur), until the relative residual ``||W x - theta x|| /
    |theta|`` of the top Ritz pair is at most ``tol``. The residual is then
    recomputed with an explicit product and reported. Members that are not
    certified within ``max_matvecs`` products are recomputed with the full
    solve (``jnp.linalg.eigvals``) when ``fallback`` is true; ``fell_back``
    says which.

    Many matrices at once: with ``m``, ``k`` and ``max_matvecs`` left at
    their defaults and ``64 <= N <= 1024``, a stack of matrices, or a
    ``jax.vmap`` over single calls (an ensemble, a vmapped initializer), runs
    as one batch (``jaxinit/_src/batched_krylov.py``): one Arnoldi recurrence
    for all members with fixed bases of about ``4 sqrt(N)`` and then
    ``7 sqrt(N)`` vectors and no restarts (``restarts`` is 0), each member
    certified by its own explicit residual, and the full solve only for the
    members that are not. A single matrix of that size runs as a batch of
    one: measured at N = 1024, its program compiled in about 2 s against
    4-6 s for the restarted method and ran 1-2.4x slower (tens of ms). The
    restarted method serves ``N > 1024`` and calls that set ``m``, ``k`` or
    ``max_matvecs``.

    Works in float32 (float64 input stays float64, 16-bit floats and integers
    are cast to float32), batched over leading axes, and under ``jax.jit`` and
    ``jax.vmap``. Called on concrete arrays, only the members that failed are
    recomputed. Inside a caller's ``jit``/``vmap`` the fallback is compiled in;
    under ``vmap`` it runs for the whole batch, and only when some member
    failed. The start vector is ``jax.random.normal(key, (N,))`` with
    ``key=jax.random.key(0)`` by default, so results are deterministic.

    Accuracy: ``residual`` is a backward error (``theta`` is an exact
    eigenvalue of a matrix within ``residual * |theta|`` of ``W`` in the
    2-norm). The error of ``theta`` itself is at most about ``kappa *
    residual`` relative, with ``kappa`` the eigenvalue's condition number, and
    in practice far smaller: with the default ``tol=1e-5`` the radius of
    float32 Gaussian, masked and Dale matrices with N up to 4096 agreed with a
    float64 full solve to about 2e-6 relative. In float32, tolerances below
    about 1e-6 cannot be certified (the explicit residual itself has rounding
    errors of that size) and fall back. Like every Krylov method this can in
    principle miss an eigenvalue whose eigenvector is nearly orthogonal to
    the start vector; a random start vector makes that unlikely.

    Sparse matrices: ``W`` may be a :class:`~jaxinit.sparse.RowSparse`
    (one matrix or a stack). Each product is then O(nnz), the default basis
    is bounded by the matrix's own size
    (:func:`jaxinit.sparse.sparse_basis_size`: 64 to 256 vectors), and the
    full solve for an uncertified matrix is used only when its dense copy
    fits in 1 GiB (``N <= 16384`` in float32); a larger one raises
    ``ValueError`` naming the size instead of densifying it. Inside a
    caller's transformation a sparse matrix never falls back: ``converged``
    says whether the answer is certified.

    Args:
      W: real array of shape ``(..., N, N)``, finite, or a ``RowSparse``.
      tol: relative residual to reach, in (0, 1).
      m: basis size (default about ``6.4 sqrt(N)``, a multiple of 8 and at
        most ``N``: 208 at N = 1024, 416 at N = 4096); larger needs fewer
        restarts but more memory and work per restart.
      k: Ritz vectors kept at a restart, ``1 <= k <= m - 2`` (default
        ``3 * m // 4``).
      max_matvecs: budget of products with ``W`` before giving up (default
        ``max(N // 2, 4 * m)``); rounded up to whole restart cycles.
      key: PRNG key for the start vector (default ``jax.random.key(0)``).
      fallback: recompute uncertified members with the full solve.

    Returns:
      A :class:`KrylovResult`; every field has shape ``W.shape[:-2]``.

    Raises:
      ValueError: ``W`` not square, empty or not finite; ``tol``, ``m``,
        ``k`` or ``max_matvecs`` out of range.
      TypeError: complex ``W``, or an argument of the wrong type.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> W = jax.random.normal(jax.random.key(1), (600, 600)) / jnp.sqrt(600.0)
      >>> res = krylov_spectral_radius(W)
      >>> bool(res.converged), bool(res.fell_back)
      (True, False)
      >>> full = jnp.max(jnp.abs(jnp.linalg.eigvals(W)))
      >>> bool(abs(res.radius - full) <= 1e-5 * full)
      True
    """
    tol = checks.finite_float("tol", tol, positive=True)
    if not tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if not isinstance(fallback, bool):
        raise TypeError(f"fallback must be True or False, got {fallback!r}")
    if isinstance(W, RowSparse):
        from jaxinit._src.sparse.radius import sparse_radius

        return sparse_radius(
            W, tol=tol, m=m, k=k, max_matvecs=max_matvecs, key=key, fallback=fallback
        )
    W = square_matrices(W)
    N = W.shape[-1]
    opts = krylov_options(N, m, k, max_matvecs)
    dtype = jnp.float64 if W.dtype == jnp.float64 else jnp.float32
    W = W.astype(dtype)
    checks.require(
        jnp.isfinite(W).all(),
        lambda: "W must be finite (no NaN or inf entries)",
    )
    default = m is None and k is None and max_matvecs is None
    return _krylov(W, tol, opts, key, fallback, default=default)


def finite_matrix_radius(W: jax.Array) -> jax.Array:
    """The Krylov radius (default settings) of a real matrix stack known to be finite.

    For jaxinit's own programs (``network.build``), whose matrices are finite
    by construction and whose outputs are checked afterwards: no run-time
    check is compiled in, so the program has no host callback and JAX's
    persistent compilation cache can keep it (JAX never caches a program with
    a host callback).
    """
    N = W.shape[-1]
    dtype = jnp.float64 if W.dtype == jnp.float64 else jnp.float32
    opts = krylov_options(N, None, None, None)
    return _krylov(W.astype(dtype), _DEFAULT_TOL, opts, None, True, default=True).radius


def finite_auto_radius(W: jax.Array) -> jax.Array:
    """``method="auto"`` where one matrix alone gets the full solve but a batch does not.

    For sizes where :func:`auto_method` picks ``"eig"`` and
    :func:`batched_krylov.use_batched` holds: one matrix (given alone, or
    traced outside any ``vmap``) gets the full solve; a stack, or a
    ``vmap`` over matrices (an ensemble, a vmapped initializer), gets the
    batched Krylov radius, certified per member, with the full solve for the
    members that miss the tolerance. No run-time check is compiled in (see
    :func:`finite_matrix_radius`).
    """
    N = W.shape[-1]
    dtype = jnp.float64 if W.dtype == jnp.float64 else jnp.float32
    opts = krylov_options(N, None, None, None)
    out = _krylov(W.astype(dtype), _DEFAULT_TOL, opts, None, True, default=True, single="eig")
    return out.radius


def _krylov(
    W: jax.Array,
    tol: float,
    opts: Options,
    key: PRNGKey | None,
    fallback: bool,
    *,
    default: bool = False,
    single: str = "krylov",
) -> KrylovResult:
    """The Krylov radius of a normalized-on-the-way stack.

    ``default``: the caller left ``m``, ``k`` and ``max_matvecs`` at their
    defaults, so a stack of matrices of a size :func:`batched_krylov.use_batched`
    accepts runs as one batch (:mod:`jaxinit._src.batched_krylov`), both
    when given as a stack and under a caller's ``vmap``. ``single`` is what
    one matrix alone gets under a caller's transformation.
    """
    N = W.shape[-1]
    dtype = W.dtype
    v0 = start_vector(key, N, dtype)
    tol_arr = jnp.asarray(tol, dtype)
    batch = W.shape[:-2]
    # Entries of order one keep the recurrence's small-number thresholds
    # meaningful at any scale; the radius is multiplied back at the end.
    flat, scale = normalize(W.reshape((-1, N, N)))

    batched = default and batched_krylov.use_batched(N)
    if checks.is_traced(W) or checks.is_traced(v0):
        if batched:
            f = _single_or_batched(N, fallback, single)
            # a single matrix is called directly, so that the vmap of a caller
            # (an ensemble) reaches the batched rule
            out = f(flat[0], v0, tol_arr) if flat.shape[0] == 1 else jax.vmap(
                f, in_axes=(0, None, None)
            )(flat, v0, tol_arr)
            out = out if flat.shape[0] > 1 else KrylovResult(*(x[None] for x in out))
        else:
            out = jax.vmap(lambda w: _traced_single(w, v0, tol_arr, opts, fallback))(flat)
        return _unnormalize(out, scale, batch)

    if single == "eig" and flat.shape[0] == 1:
        full = _top_eigenvalue_batch(flat)
        zero = jnp.zeros((1,), jnp.int32)
        none = jnp.zeros((1,), dtype)
        out = make_result(full, none, zero, zero, tol_arr, jnp.ones((1,), bool), full)
        return _unnormalize(out, scale, batch)
    if batched:
        sizes = batched_krylov.basis_sizes(N)
        out = _from_batch(batched_krylov.radii(flat, v0, tol_arr, sizes, fallback), tol_arr)
        return _unnormalize(out, scale, batch)

    theta, residual, matvecs, restarts = _krylov_batch(flat, v0, tol_arr, opts)
    converged = np.asarray(residual <= tol_arr)
    fell_back = np.zeros(converged.shape, bool)
    full = theta
    if fallback and not converged.all():
        bad = np.flatnonzero(~converged)
        full = theta.at[bad].set(_top_eigenvalue_batch(flat[bad]))
        fell_back[bad] = True
    out = make_result(theta, residual, matvecs, restarts, tol_arr, jnp.asarray(fell_back), full)
    return _unnormalize(out, scale, batch)


def _unnormalize(out: KrylovResult, scale: jax.Array, batch: tuple[int, ...]) -> KrylovResult:
    """Radius and eigenvalue of the matrices before :func:`normalize`, in ``batch`` shape."""
    out = out._replace(
        radius=out.radius * scale, eigenvalue=out.eigenvalue * scale.astype(out.eigenvalue.dtype)
    )
    return KrylovResult(*(x.reshape(batch) for x in out))
