"""The Krylov-Schur iteration behind :func:`jaxinit.krylov_spectral_radius`.

:func:`core` runs on one matrix: a first Arnoldi pass looked at at the sizes
of :func:`check_sizes` (three static look sizes), thick restarts while the top
Ritz pair is not converged, and an explicit residual as the certificate.
Everything is pure JAX with static shapes, so it vmaps over members. The
matrix is only used through products ``W @ v``, so it may be dense or a
:class:`~jaxinit.sparse.RowSparse`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src.sparse.operator import SparseOperator
from jaxinit._src.sparse.rows import RowSparse

_T = TypeVar("_T")

#: What the iteration multiplies by: a dense matrix, or a sparse one (O(nnz) products).
Operator = jax.Array | RowSparse | SparseOperator

#: The top Ritz pair and its residual estimate: ``(theta, y, est)``.
Pair = tuple[jax.Array, jax.Array, jax.Array]


class Options(NamedTuple):
    m: int  # basis size
    k: int  # Ritz vectors kept at a restart (one more to keep a conjugate pair)
    max_matvecs: int


def check_sizes(m: int) -> tuple[int, ...]:
    """Basis sizes at which the first Arnoldi pass looks at its Ritz values.

    A look costs an eigenvalue solve of the projected matrix, as much as
    tens of products once the basis is large, so looks are spread out: 16,
    32, 64, then steps of about a sixth of the size, and ``m`` last.

    Example:
      >>> check_sizes(296)
      (16, 32, 64, 80, 96, 112, 136, 160, 192, 224, 264, 296)
    """
    sizes, c = [], 16
    while c < m:
        sizes.append(c)
        c = 2 * c if c < 64 else c + 8 * int(np.ceil(c / 48))
    return (*sizes, m)


def arnoldi_step(
    W: Operator,
    j: jax.Array,
    V: jax.Array,
    H: jax.Array,
    tiny: jax.Array,
    rows: int,
) -> tuple[jax.Array, jax.Array]:
    """Extend the basis: row ``j + 1`` of ``V`` and column ``j`` of ``H``.

    Rows of ``V`` beyond ``j`` are zero, so projecting on the first ``rows``
    rows (a static bound, ``rows > j + 1``) is exact and reads no more of
    ``V`` than the current pass needs.
    Classical Gram-Schmidt with a second pass when the first one cancelled
    more than ~30% of the norm (Daniel-Gragg-Kaufman-Stewart criterion).
    A zero remainder (the basis spans an invariant subspace) leaves row
    ``j + 1`` zero: the Ritz values are then exact eigenvalues.
    """
    w = W @ V[j]
    norm0 = jnp.linalg.norm(w)
    Vr = V[:rows]
    h = Vr @ w
    w = w - h @ Vr
    norm1 = jnp.linalg.norm(w)

    def second_pass(w: jax.Array) -> tuple[jax.Array, jax.Array]:
        h2 = Vr @ w
        return w - h2 @ Vr, h2

    w, h2 = jax.lax.cond(norm1 < 0.7071 * norm0, second_pass, lambda w: (w, jnp.zeros_like(h)), w)
    h = h + h2
    beta = jnp.linalg.norm(w)
    breakdown = beta <= tiny * norm0
    beta = jnp.where(breakdown, jnp.zeros_like(beta), beta)
    v = jnp.where(breakdown, jnp.zeros_like(w), w / jnp.where(breakdown, 1, beta))
    V = V.at[j + 1].set(v)
    H = H.at[:rows, j].set(h.at[j + 1].set(beta))
    return V, H


def ritz_all(T: jax.Array) -> tuple[jax.Array, jax.Array]:
    """All Ritz values and unit Ritz vectors of ``T``, by decreasing modulus."""
    theta, Y = jnp.linalg.eig(T)
    order = jnp.argsort(-jnp.abs(theta), stable=True)
    theta, Y = theta[order], Y[:, order]
    norms = jnp.linalg.norm(Y, axis=0)
    return theta, Y / jnp.where(norms > 0, norms, 1).astype(Y.dtype)[None, :]


def top_eigenvalue_of(T: jax.Array) -> jax.Array:
    """Eigenvalue of largest modulus of ``T`` (LAPACK ``geev`` without vectors)."""
    ev: jax.Array = jnp.linalg.eigvals(T)
    return ev[jnp.argmax(jnp.abs(ev))]


def pair_near(
    T: jax.Array, b: jax.Array, shift: jax.Array, live: jax.Array, start: jax.Array | None = None
) -> Pair:
    """Ritz pair of ``T`` nearest to ``shift``, and its residual estimate.

    Three steps of inverse iteration with ``T - shift`` (one LU
    factorization, much cheaper than LAPACK's QR algorithm on these
    projected matrices) from ``start`` (a fixed vector by default), then the
    Rayleigh quotient as the value. In float32, ``geev`` on the projected
    matrix leaves eigenvalue errors of a few 1e-6 (its backward error grows
    with the size); this value is accurate to about 1e-7. The estimate is
    ``sqrt(||T y - theta y||^2 + |b . y|^2)``, the residual norm of the pair
    in the full space (``b`` couples the basis to the next Arnoldi vector).
    ``T`` may be padded with zero rows and columns where ``live`` is false;
    the padding is decoupled from the rest and ``y`` is kept zero there.
    """
    c = T.shape[0]
    cdtype = jnp.result_type(T.dtype, jnp.complex64)
    eps = jnp.finfo(T.dtype).eps  # type: ignore[no-untyped-call]  # ml_dtypes' finfo has no annotations
    shift = shift.astype(cdtype)
    Tc = T.astype(cdtype)
    # Move the shift off the eigenvalue by a few ulps so that LU has no zero pivot.
    nudge = 8 * eps * jnp.maximum(jnp.abs(shift), jnp.max(jnp.abs(T)))
    lu, _, perm = jax.lax.linalg.lu(Tc - (shift + nudge * (1 + 1j)) * jnp.eye(c, dtype=cdtype))

    def solve(x: jax.Array) -> jax.Array:
        x = jax.lax.linalg.triangular_solve(
            lu, x[perm][:, None], left_side=True, lower=True, unit_diagonal=True
        )
        x = jax.lax.linalg.triangular_solve(lu, x, left_side=True, lower=False)[:, 0]
        x = jnp.where(live, x, 0)
        norm: jax.Array = jnp.linalg.norm(x)
        return x / norm.astype(cdtype)

    fixed = (1 + 0.5j * jnp.sin(jnp.arange(c))).astype(cdtype)
    if start is not None:
        fixed = jnp.where(jnp.any(start != 0), start.astype(cdtype), fixed)
    fixed = jnp.where(live, fixed, 0)
    fixed = fixed / jnp.linalg.norm(fixed).astype(cdtype)
    y = solve(solve(solve(fixed)))
    theta = jnp.vdot(y, Tc @ y)
    ok = jnp.all(jnp.isfinite(y)) & jnp.isfinite(theta)
    y, theta = jnp.where(ok, y, fixed), jnp.where(ok, theta, shift)
    # A real eigenvalue picks up a rounding-level imaginary part here: drop it.
    tiny_imag = jnp.abs(jnp.imag(theta)) <= 8 * eps * jnp.abs(theta)
    theta = jnp.where(tiny_imag, jnp.real(theta).astype(cdtype), theta)
    inner = jnp.linalg.norm(Tc @ y - theta * y)
    est = jnp.sqrt(inner**2 + jnp.abs(b.astype(cdtype) @ y) ** 2)
    return theta, y, est


def restart(
    V: jax.Array, H: jax.Array, theta: jax.Array, Y: jax.Array, m: int, k: int
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Keep the real invariant subspace of the ``k`` (or ``k + 1``) largest Ritz values.

    A conjugate pair ``y, conj(y)`` spans the same real plane as
    ``Re y, Im y``; LAPACK lists each pair next to each other, the one with
    positive imaginary part first, so column ``i`` is ``Re y_i`` or
    ``Im y_i`` by the sign of ``Im theta_i``, and ``k`` grows by one when it
    would split a pair.
    """
    split = jnp.imag(theta[k - 1]) > 0
    kk = k + split.astype(jnp.int32)
    Z = jnp.where(jnp.imag(theta[: k + 1]) >= 0, jnp.real(Y[:, : k + 1]), jnp.imag(Y[:, : k + 1]))
    keep = (jnp.arange(k + 1) < kk).astype(Z.dtype)
    Z = Z * keep[None, :]
    Q, _ = jnp.linalg.qr(Z)
    Q = Q * keep[None, :]
    T = H[:m, :m]
    S = Q.T @ T @ Q
    b = H[m, :m] @ Q
    U = Q.T @ V[:m]
    V_new = jnp.zeros_like(V).at[: k + 1].set(U)
    V_new = V_new.at[kk].set(V[m])
    H_new = jnp.zeros_like(H).at[: k + 1, : k + 1].set(S)
    H_new = H_new.at[kk, : k + 1].set(b)
    return V_new, H_new, kk


class State(NamedTuple):
    V: jax.Array
    H: jax.Array
    j: jax.Array
    matvecs: jax.Array
    restarts: jax.Array
    done: jax.Array
    theta: jax.Array
    y: jax.Array


def buckets(sizes: tuple[int, ...], m: int) -> tuple[int, ...]:
    """Indices into ``sizes`` that end the groups looked at at one static size.

    The groups end at the first size of at least a quarter and a half of
    ``m``, and at ``m``.

    Example:
      >>> buckets((16, 32, 64, 80, 96, 112, 136, 160, 192, 224, 264, 296), 296)
      (3, 7, 11)
    """
    ends = {len(sizes) - 1}
    for fraction in (4, 2):
        ends.add(next(i for i, c in enumerate(sizes) if fraction * c >= m))
    return tuple(sorted(ends))


def at_most_once(active: Callable[[_T], jax.Array], fn: Callable[[_T], _T], x: _T) -> _T:
    """``fn(x)`` where ``active(x)``, else ``x``, as a loop that runs zero or one time.

    Under ``jax.vmap`` a batched ``while_loop`` runs while any member still
    needs it, so a batch in which no member needs ``fn`` skips it
    (``lax.cond`` would become a select and always pay for it). ``fn`` must
    take everything it computes from out of ``x``, not from a closure: ``x``
    passes through an optimization barrier with the loop flag, so that XLA
    cannot hoist ``fn``'s work out of the loop as loop-invariant code (which
    would run it unconditionally).
    """

    def body(c: tuple[_T, jax.Array]) -> tuple[_T, jax.Array]:
        # jax.lax.optimization_barrier has no annotations.
        x, _ = jax.lax.optimization_barrier(c)  # type: ignore[no-untyped-call]
        return fn(x), jnp.asarray(False)

    def going(c: tuple[_T, jax.Array]) -> jax.Array:
        return c[1] & active(c[0])

    out, _ = jax.lax.while_loop(going, body, (x, jnp.asarray(True)))
    return out


class Context(NamedTuple):
    """What every step of :func:`core` reads: the matrix and static sizes."""

    W: Operator
    tol: jax.Array
    tiny: jax.Array
    opts: Options
    cdtype: np.dtype[Any]


def _active(ctx: Context, s: State) -> jax.Array:
    return ~s.done & (s.matvecs < ctx.opts.max_matvecs)


def _extend(ctx: Context, s: State, stop: jax.Array | int, rows: int) -> State:
    def step(j: jax.Array, vh: tuple[jax.Array, jax.Array]) -> tuple[jax.Array, jax.Array]:
        return arnoldi_step(ctx.W, j, *vh, ctx.tiny, rows)

    V, H = jax.lax.fori_loop(s.j, stop, step, (s.V, s.H))
    return s._replace(V=V, H=H, j=jnp.asarray(stop, jnp.int32), matvecs=s.matvecs + (stop - s.j))


def _converged(ctx: Context, pair: Pair) -> jax.Array:
    # A little below tol, so that the explicit residual, with its own
    # rounding errors, still passes.
    theta, _, est = pair
    return est <= 0.5 * ctx.tol * jnp.abs(theta)


def _look(ctx: Context, s: State, c: jax.Array | int, size: int, track: bool) -> State:
    """Top Ritz pair of the size-``c`` decomposition, computed at the static
    size ``size >= c`` with zero padding.

    With ``track``, follow the last pair by inverse iteration (the basis
    grew, so its padded vector is a good start), and once it looks converged
    confirm with LAPACK that no other Ritz value is larger; else take
    LAPACK's largest eigenvalue as the shift (cheap while ``size`` is small).
    """
    live = jnp.arange(size) < c
    T = jnp.where(live[:, None] & live[None, :], s.H[:size, :size], 0)
    b = jnp.where(live, jax.lax.dynamic_index_in_dim(s.H, c, 0, keepdims=False)[:size], 0)
    if not track:
        pair = pair_near(T, b, top_eigenvalue_of(T), live)
    else:
        pair = pair_near(T, b, s.theta, live, s.y[:size])

        def confirm(x: tuple[Pair, jax.Array, jax.Array]) -> tuple[Pair, jax.Array, jax.Array]:
            pair, T, b = x
            top = top_eigenvalue_of(T)
            larger = jnp.abs(top) > (1 + ctx.tol) * jnp.abs(pair[0])
            other = pair_near(T, b, top, live)
            pair = jax.tree.map(lambda a, o: jnp.where(larger, o, a), pair, other)
            return pair, T, b

        pair, _, _ = at_most_once(lambda x: _converged(ctx, x[0]), confirm, (pair, T, b))
    theta, y, _ = pair
    y = jnp.zeros((ctx.opts.m,), ctx.cdtype).at[:size].set(y)
    return s._replace(theta=theta, y=y, done=_converged(ctx, pair))


def _first_pass(ctx: Context, s: State) -> State:
    """One Arnoldi basis, looked at at the sizes of :func:`check_sizes`.

    Looks are computed at a few static sizes (up to a quarter, a half and
    all of the basis), one loop each, so the program stays small.
    """
    sizes = check_sizes(ctx.opts.m)
    targets = jnp.asarray(sizes, jnp.int32)
    first = 0
    for bucket, last in enumerate(buckets(sizes, ctx.opts.m)):
        size = sizes[last]

        def stage(
            c: tuple[jax.Array, State], size: int = size, track: bool = bucket > 0
        ) -> tuple[jax.Array, State]:
            i, s = c
            s = _look(ctx, _extend(ctx, s, targets[i], size + 1), targets[i], size, track)
            return i + 1, s

        def more(c: tuple[jax.Array, State], last: int = last) -> jax.Array:
            return (c[0] <= last) & _active(ctx, c[1])

        _, s = jax.lax.while_loop(more, stage, (jnp.asarray(first), s))
        first = last + 1
    return s


def _restarts(ctx: Context, s: State) -> State:
    """Thick restarts: keep the k largest Ritz vectors, refill to m, look."""
    m, k = ctx.opts.m, ctx.opts.k

    def cycle(s: State) -> State:
        theta, Y = ritz_all(s.H[:m, :m])
        V, H, kk = restart(s.V, s.H, theta, Y, m, k)
        s = s._replace(V=V, H=H, j=kk, restarts=s.restarts + 1)
        return _look(ctx, _extend(ctx, s, m, m + 1), m, m, track=False)

    if k < 1:  # m <= 2 == N: the first pass spans the whole space
        return s
    return jax.lax.while_loop(lambda s: _active(ctx, s), cycle, s)


def _certificate(ctx: Context, s: State) -> jax.Array:
    """Explicit relative residual of the final Ritz pair (one more product)."""
    dtype, m = ctx.W.dtype, ctx.opts.m
    x_re = jnp.real(s.y).astype(dtype) @ s.V[:m]
    x_im = jnp.imag(s.y).astype(dtype) @ s.V[:m]
    WX = ctx.W @ jnp.stack([x_re, x_im], axis=1)
    t_re, t_im = jnp.real(s.theta).astype(dtype), jnp.imag(s.theta).astype(dtype)
    r_re = WX[:, 0] - (t_re * x_re - t_im * x_im)
    r_im = WX[:, 1] - (t_re * x_im + t_im * x_re)
    r = jnp.sqrt(jnp.sum(r_re**2 + r_im**2))
    scale = jnp.abs(s.theta) * jnp.sqrt(jnp.sum(x_re**2 + x_im**2))
    return jnp.where(
        scale > 0, r / jnp.where(scale > 0, scale, 1), jnp.where(r == 0, 0.0, jnp.inf)
    ).astype(dtype)


def core(
    W: Operator, v0: jax.Array, tol: jax.Array, opts: Options
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """Krylov-Schur on one matrix: (eigenvalue, relative residual, matvecs, restarts)."""
    N, m, dtype = W.shape[-1], opts.m, W.dtype
    cdtype = jnp.result_type(dtype, jnp.complex64)
    eps = jnp.finfo(dtype).eps  # type: ignore[no-untyped-call]  # ml_dtypes' finfo has no annotations
    ctx = Context(W, tol, jnp.asarray(8 * eps, dtype), opts, cdtype)
    s = State(
        V=jnp.zeros((m + 1, N), dtype).at[0].set(v0 / jnp.linalg.norm(v0)),
        H=jnp.zeros((m + 1, m), dtype),
        j=jnp.asarray(0, jnp.int32),
        matvecs=jnp.asarray(0, jnp.int32),
        restarts=jnp.asarray(0, jnp.int32),
        done=jnp.asarray(False),
        theta=jnp.zeros((), cdtype),
        y=jnp.zeros((m,), cdtype),
    )
    s = _restarts(ctx, _first_pass(ctx, s))
    return s.theta, _certificate(ctx, s), s.matvecs + 1, s.restarts


def top_eigenvalue(W: jax.Array) -> jax.Array:
    """The eigenvalue of largest modulus of ``W`` (full solve)."""
    ev: jax.Array = jnp.linalg.eigvals(W)
    return ev[jnp.argmax(jnp.abs(ev))]
