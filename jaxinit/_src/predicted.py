"""A spectral radius without an eigensolve: the edge the variance profile predicts.

For an ``N x N`` random matrix ``X`` whose entries are independent, of mean
zero and variances ``S_ij`` (the *variance profile*), the eigenvalues fill a
disk of radius ``sqrt(rho(S))`` as ``N`` grows, ``rho(S)`` being the
Perron root of the nonnegative matrix ``S`` (the inhomogeneous circular law;
for i.i.d. entries of variance ``s^2`` it is Girko's circular law,
``s sqrt(N)``; for E/I columns of different variances it is Rajan &
Abbott's formula, PRL 97:188104, 2006). A mean of the form ``1 mu^T``
(columns of excitatory and inhibitory means, as Dale's law gives) adds one
eigenvalue near ``sum(mu)``, which stands outside the disk when it is larger
than the bulk radius.

:func:`bulk_radius` evaluates this for a given profile; :func:`predicted_radius`
estimates the profile of a matrix from its own entries (centred by their
column means) and returns the larger of the bulk edge and the mean outlier.
Both cost a few products with an ``N x N`` matrix, against the ``O(N^3)``
full solve.

Where not to use it: the prediction is for matrices whose entries are
independent given the profile. A structured mask (blocks, distance-dependent
or small-world connectivity), a given ``W_rec`` with low-rank structure, or a
Dale matrix balanced only on average (``dale_balance="psychrnn"``, whose
finite-``N`` outliers stand well outside the bulk; ``"rows"`` removes them)
can have a radius far from the prediction. See the README's table.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp

from jaxinit._src.matrices import normalize, square_matrices
from jaxinit._src.typing import ArrayLike

if TYPE_CHECKING:
    from jaxinit._src.sparse.rows import RowSparse

#: The state of the power iteration: (step, vector, upper bound, lower bound).
_Loop = tuple[jax.Array | int, jax.Array, jax.Array, jax.Array]

#: Constant of the finite-N edge correction ``1 + EDGE_C * sqrt(log(N) / N)``:
#: the mean spectral radius of real Gaussian matrices of unit bulk radius,
#: measured (numpy ``eigvals``, 12-200 matrices per size) at N = 64 ... 2048.
EDGE_C = 0.25

_MAX_ITERATIONS = 1000
_RTOL = 1e-6


def edge_factor(N: int) -> float:
    """Mean spectral radius over bulk radius at size ``N``: ``1 + 0.25 sqrt(ln N / N)``.

    At finite ``N`` the outermost eigenvalue of a random matrix stands a
    little outside the circular-law disk (Rider, J. Phys. A 36:3401, 2003,
    for complex Gaussian matrices: ``1 + sqrt(g / 4N) + ...`` with
    ``g = log(N / 2 pi) - 2 log log N``, defined only from N of about 200).
    jaxinit uses a fit of the measured mean for real Gaussian matrices, which
    holds from ``N = 64``: +4.8% at 64, +2.6% at 1024 (Rider: +2.5%).

    Example:
      >>> round(edge_factor(1024), 4)
      1.0206
    """
    if N < 2:
        return 1.0
    return 1.0 + EDGE_C * math.sqrt(math.log(N) / N)


@jax.jit
def _perron_root(S: jax.Array) -> jax.Array:
    """Perron root of nonnegative ``S`` (batched), as its Collatz-Wielandt upper bound."""
    return perron_root_of(
        lambda x: jnp.einsum("...ij,...j->...i", S, x), jnp.ones(S.shape[:-1], S.dtype)
    )


def perron_root_of(product: Callable[[jax.Array], jax.Array], x: jax.Array) -> jax.Array:
    """Perron root of the nonnegative matrix ``S`` that ``product(x) = S @ x`` applies.

    ``x`` is the start, all ones of shape ``(..., N)`` (batched like ``S``);
    ``product`` only needs to apply ``S``, so a sparse matrix, or a sparse one
    plus a rank-one part, never has to be built.

    Power iteration on ``S + I`` (aperiodic, same Perron vector) from the
    all-ones vector. For any positive ``x``, ``max_i (S x)_i / x_i`` bounds
    the root from above and ``min_i`` from below; the loop stops when they
    agree to ``1e-6`` relative (or after 1000 products: a reducible ``S``,
    e.g. a unit with no inputs, keeps the lower bound at 0) and returns the
    upper bound, which never underestimates.
    """

    def bounds(x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        y = product(x)
        ratio = y / x
        return y, jnp.max(ratio, axis=-1), jnp.min(ratio, axis=-1)

    def cond(state: _Loop) -> jax.Array:
        i, _, hi, lo = state
        return (i < _MAX_ITERATIONS) & jnp.any(hi - lo > _RTOL * hi)

    def body(state: _Loop) -> _Loop:
        i, x, hi, lo = state
        y, _, _ = bounds(x)
        new = y + x
        new = new / jnp.max(new, axis=-1, keepdims=True)
        # Entries that decay to 0 would make the ratios 0/0: keep them tiny.
        tiny = jnp.finfo(x.dtype).tiny  # type: ignore[no-untyped-call]  # ml_dtypes' finfo
        new = jnp.maximum(new, tiny)
        _, new_hi, new_lo = bounds(new)
        # A member that has converged stops changing, so that its result does
        # not depend on the other members of a batch.
        going = hi - lo > _RTOL * hi
        x = jnp.where(going[..., None], new, x)
        return i + 1, x, jnp.where(going, new_hi, hi), jnp.where(going, new_lo, lo)

    _, hi, lo = bounds(x)
    start: _Loop = (0, x, hi, lo)
    _, _, hi, _ = jax.lax.while_loop(cond, body, start)
    return hi


def _profile_matrices(variance: ArrayLike) -> jax.Array:
    S = square_matrices(variance, "variance")
    if not jnp.issubdtype(S.dtype, jnp.floating) or S.dtype.itemsize < 4:
        S = S.astype(jnp.float32)
    return S


def bulk_radius(variance: ArrayLike, *, finite_n: bool = True) -> jax.Array:
    """Radius of the eigenvalue disk of a random matrix with this variance profile.

    ``variance[..., i, j]`` is the variance of entry ``(i, j)`` (0 where the
    mask has no connection); the entries are taken independent with mean
    zero. Returns ``sqrt(rho(variance))`` (the Perron root, by power
    iteration; no eigensolve), times the edge factor
    ``1 + 0.25 sqrt(ln N / N)`` (fitted to real Gaussian matrices) when ``finite_n``
    (the mean radius at this ``N`` rather than the ``N -> infinity`` edge).
    Batched over leading axes.

    Example:
      >>> import jax.numpy as jnp
      >>> N = 400  # i.i.d. entries of variance 1/N: the unit disk
      >>> round(float(bulk_radius(jnp.full((N, N), 1.0 / N), finite_n=False)), 5)
      1.0
      >>> E, I = 0.2 / N, 1.8 / N  # 80% E columns, 20% I columns of 9x the variance
      >>> S = jnp.concatenate([jnp.full((N, 320), E), jnp.full((N, 80), I)], axis=1)
      >>> round(float(bulk_radius(S, finite_n=False)) ** 2, 4)  # 0.8*0.2 + 0.2*1.8
      0.52
    """
    S = _profile_matrices(variance)
    if not isinstance(S, jax.core.Tracer) and bool(jnp.any(~jnp.isfinite(S) | (S < 0))):
        raise ValueError("variance must hold finite, nonnegative entries")
    scale = jnp.max(S, axis=(-2, -1))
    scale = jnp.where(scale > 0, scale, 1)
    root = _perron_root(S / scale[..., None, None]) * scale
    radius = jnp.sqrt(root)
    return radius * edge_factor(S.shape[-1]) if finite_n else radius


def predicted_radius(W: ArrayLike | RowSparse, *, finite_n: bool = True) -> jax.Array:
    """The spectral radius predicted from the entries of ``W``, without an eigensolve.

    Each matrix is centred by its column means ``mu`` (the excitatory and
    inhibitory means of a Dale matrix), the squared centred entries are taken
    as its variance profile, and the result is the larger of
    :func:`bulk_radius` of that profile and ``|sum(mu)|`` (the eigenvalue the
    mean adds). This is ``spectral_radius(W, method="predicted")`` and
    ``Config(spectral_method="predicted")``. Cost: a few products with ``W``.

    It is accurate to a few percent for dense or Bernoulli-masked random
    matrices, with or without Dale signs when each row is balanced
    (``dale_balance="rows"``), and wrong, by design, for matrices whose radius
    is set by structure: block, distance or small-world masks, low-rank given
    matrices, and Dale matrices balanced only on average (their outliers).
    See the README for the measured error. Batched over leading axes. A
    :class:`~jaxinit.sparse.RowSparse` matrix is measured in O(nnz), its
    entries off the pattern taken as zeros, as in the dense matrix.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> W = jax.random.normal(jax.random.key(0), (1000, 1000)) / jnp.sqrt(1000.0)
      >>> p = float(predicted_radius(W))
      >>> exact = float(jnp.max(jnp.abs(jnp.linalg.eigvals(W))))
      >>> abs(p / exact - 1) < 0.05
      True
    """
    from jaxinit._src.sparse.rows import RowSparse, check_row_sparse

    if isinstance(W, RowSparse):
        from jaxinit._src.sparse.predicted import sparse_predicted_radius

        W = check_row_sparse(W)
        dtype = jnp.float64 if W.values.dtype == jnp.float64 else jnp.float32
        sparse: jax.Array = sparse_predicted_radius(W.with_values(W.values.astype(dtype)), finite_n)
        return sparse
    M = square_matrices(W)
    if not jnp.issubdtype(M.dtype, jnp.floating) or M.dtype.itemsize < 4:
        M = M.astype(jnp.float32)
    radius: jax.Array = _predicted(M, finite_n)
    return radius


@functools.partial(jax.jit, static_argnums=1)
def _predicted(W: jax.Array, finite_n: bool) -> jax.Array:
    Wn, s = normalize(W)
    mu = jnp.mean(Wn, axis=-2)
    S = jnp.square(Wn - mu[..., None, :])
    bulk = jnp.sqrt(_perron_root(S))
    if finite_n:
        bulk = bulk * edge_factor(W.shape[-1])
    outlier = jnp.abs(jnp.sum(mu, axis=-1))
    return s * jnp.maximum(bulk, outlier)
