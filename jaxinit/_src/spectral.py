"""Spectral radius of square matrices, and rescaling to a chosen radius."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.batched_krylov import AUTO_BATCHED_MIN_N
from jaxinit._src.krylov import (
    auto_method,
    finite_auto_radius,
    finite_matrix_radius,
    krylov_spectral_radius,
)
from jaxinit._src.matrices import normalize, square_matrices
from jaxinit._src.names import SPECTRAL_METHODS, SpectralMethod
from jaxinit._src.predicted import predicted_radius
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.typing import ArrayLike, DTypeLike


def _working_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    # LAPACK/cuSOLVER geev work in float32 or float64: integers, bool and the
    # 16-bit floats are cast up first.
    if dtype == jnp.float64:
        return np.dtype(np.float64)
    return np.dtype(np.float32)


@jax.jit
def _radius(W: jax.Array) -> jax.Array:
    Wn, s = normalize(W)
    return s * jnp.max(jnp.abs(jnp.linalg.eigvals(Wn)), axis=-1)


#: Methods of :func:`spectral_radius` (and ``Config.spectral_method``).
METHODS = SPECTRAL_METHODS


def resolve_method(method: SpectralMethod, N: int) -> SpectralMethod:
    """The method used for an ``N x N`` matrix (``"auto"`` picks eig or krylov by size).

    ``"auto"`` stays ``"auto"`` where the choice depends on how many matrices
    are solved at once: from ``AUTO_BATCHED_MIN_N`` (96) up to
    ``KRYLOV_MIN_N`` (512), one matrix gets the full solve and a stack or a
    ``vmap`` of them the batched Krylov radius.
    """
    checks.one_of("method", method, METHODS)
    if method == "auto":
        single = auto_method(N)
        return "auto" if single == "eig" and N >= AUTO_BATCHED_MIN_N else single
    return method


def spectral_radius(W: ArrayLike | RowSparse, *, method: SpectralMethod = "eig") -> jax.Array:
    """Largest absolute eigenvalue of ``W``, batched over leading axes.

    ``method="eig"`` (default) uses ``jnp.linalg.eigvals`` (LAPACK ``geev`` on
    the CPU, cuSOLVER on NVIDIA GPUs) under ``jax.jit``, without
    eigenvectors. ``"krylov"`` uses a restarted Arnoldi method
    (:func:`jaxinit.krylov_spectral_radius`) whose answer is certified by its
    residual to a relative 1e-5 and recomputed with ``eig`` when it is not;
    it is much faster for large ``N``, and for stacks (or a ``vmap``) of
    matrices from ``N = 64`` to 1024 it runs all of them as one batch.
    ``"auto"`` picks by size and by batch (measured on a 2-core CPU): the
    full solve below ``N = 96``; from 96 to 511 the full solve for one
    matrix and the batched Krylov radius for a stack or a ``vmap`` of
    matrices (an ensemble); ``krylov`` from ``N = 512`` (``KRYLOV_MIN_N``) up.
    ``"predicted"`` solves nothing: it returns :func:`~jaxinit.predicted_radius`,
    the edge of the disk that the matrix's variance profile predicts, which
    is off by a few percent at finite ``N`` and wrong for structured
    matrices (read its docstring before using it). Each matrix
    is divided by its largest entry before the solve and the radius
    multiplied back, so the answer is right for any
    finite matrix the dtype holds, not only near unit scale. Computed in
    float32 (float64 input stays float64; 16-bit floats and integers are
    cast to float32). A failed ``eig`` solve gives NaN, which
    :func:`scale_spectral_radius` and the initializers turn into an error.

    A :class:`~jaxinit.sparse.RowSparse` matrix (or stack) is measured
    without a dense copy by ``"krylov"`` and ``"auto"`` (see
    :func:`~jaxinit.krylov_spectral_radius`) and ``"predicted"`` (in
    O(nnz)); ``"eig"`` densifies it and is refused above 1 GiB.

    Args:
      W: array of shape ``(..., N, N)``, or a ``RowSparse``.
      method: ``"eig"``, ``"krylov"``, ``"auto"`` or ``"predicted"``.

    Returns:
      An array of shape ``W.shape[:-2]``.

    Example:
      >>> import jax.numpy as jnp
      >>> round(float(spectral_radius(jnp.array([[0.0, 2.0], [-2.0, 0.0]]))), 5)
      2.0
    """
    if isinstance(W, RowSparse):
        return _sparse_radius(W, method)
    return _radius_by(
        square_matrices(W), method, lambda M: krylov_spectral_radius(M).radius, finite_auto_radius
    )


def _sparse_radius(W: RowSparse, method: SpectralMethod) -> jax.Array:
    """:func:`spectral_radius` of a :class:`RowSparse` matrix (or stack)."""
    from jaxinit._src.sparse.radius import DENSE_FALLBACK_BYTES, dense_fallback_fits

    checks.one_of("method", method, METHODS)
    W = check_row_sparse(W)
    if method in ("krylov", "auto"):
        return krylov_spectral_radius(W).radius
    if method == "predicted":
        return predicted_radius(W)
    n = W.n_cols
    if not dense_fallback_fits(n, W.values.dtype, count=int(np.prod(W.batch_shape))):
        raise ValueError(
            f"method='eig' needs a dense {n} x {n} copy of the sparse matrix, more than "
            f"{DENSE_FALLBACK_BYTES / 2**30:g} GiB; use method='krylov'"
        )
    return spectral_radius(W.todense(), method="eig")


def finite_spectral_radius(M: jax.Array, method: SpectralMethod) -> jax.Array:
    """:func:`spectral_radius` of a square real stack known to be finite, with no check.

    For ``network.build``: its matrices are finite by construction and its
    outputs are checked afterwards, so no run-time check (a host callback,
    which JAX's persistent compilation cache refuses) is compiled in.
    """
    return _radius_by(M, method, finite_matrix_radius, finite_auto_radius)


def _radius_by(
    M: jax.Array,
    method: SpectralMethod,
    krylov: Callable[[jax.Array], jax.Array],
    auto: Callable[[jax.Array], jax.Array],
) -> jax.Array:
    M = M.astype(_working_dtype(M.dtype))
    method = resolve_method(method, M.shape[-1])
    if method == "krylov":
        return krylov(M)
    if method == "auto":
        return auto(M)
    if method == "predicted":
        return predicted_radius(M)
    radius: jax.Array = _radius(M)
    return radius


def check_radius(rho: jax.Array | npt.NDArray[Any] | np.floating[Any], name: str = "W") -> None:
    """Raise ``ValueError`` unless every radius in ``rho`` is finite and positive."""

    ok = jnp.isfinite(rho) & (rho > 0)

    def message(values: npt.NDArray[Any]) -> str:
        bad = checks.first_bad(values, checks.positive_finite)
        what = "could not be computed (eigvals returned NaN)" if np.isnan(bad) else f"is {bad!r}"
        return (
            f"the spectral radius of {name} {what}; it must be finite and positive "
            "to scale to a chosen radius"
        )

    checks.require(ok, message, operands=(rho,))


@overload
def scale_spectral_radius(
    W: RowSparse, spec_rad: ArrayLike, *, method: SpectralMethod = "eig"
) -> RowSparse: ...


@overload
def scale_spectral_radius(
    W: ArrayLike, spec_rad: ArrayLike, *, method: SpectralMethod = "eig"
) -> jax.Array: ...


def scale_spectral_radius(
    W: ArrayLike | RowSparse, spec_rad: ArrayLike, *, method: SpectralMethod = "eig"
) -> jax.Array | RowSparse:
    """Rescale ``W`` so that its spectral radius is ``spec_rad``.

    Computes ``spec_rad * W / spectral_radius(W)`` (PsychRNN's formula),
    batched over leading axes; ``spec_rad`` may be a scalar or broadcast
    against ``W.shape[:-2]``. A matrix whose radius is zero (nilpotent, e.g.
    all zeros) or cannot be computed raises ``ValueError``. A
    :class:`~jaxinit.sparse.RowSparse` comes back as a ``RowSparse`` on the
    same pattern (use ``method="krylov"`` for one that is large).

    Example:
      >>> import jax.numpy as jnp
      >>> W = scale_spectral_radius(jnp.array([[1.0, 1.0], [0.0, 2.0]]), 1.5)
      >>> round(float(spectral_radius(W)), 6)
      1.5
    """
    if isinstance(W, RowSparse):
        return _scale_sparse(W, spec_rad, method)
    M = square_matrices(W)
    target = _target(spec_rad, M.dtype)
    # Scale by the radius of the normalized matrix: every factor stays near 1,
    # whatever the scale of W and spec_rad (no intermediate overflow).
    Wn, _ = normalize(M.astype(_working_dtype(M.dtype)))
    rho = spectral_radius(Wn, method=method)
    check_radius(rho)
    out = (Wn * (target / rho)[..., None, None]).astype(M.dtype)
    _check_scaled(out, M.dtype)
    return out


def _scale_sparse(W: RowSparse, spec_rad: ArrayLike, method: SpectralMethod) -> RowSparse:
    from jaxinit._src.sparse.radius import normalize_rows

    W = check_row_sparse(W)
    target = _target(spec_rad, W.values.dtype)
    Wn, _ = normalize_rows(W.with_values(W.values.astype(_working_dtype(W.values.dtype))))
    rho = spectral_radius(Wn, method=method)
    check_radius(rho)
    out = (Wn.values * (target / rho)[..., None, None]).astype(W.values.dtype)
    _check_scaled(out, W.values.dtype)
    return W.with_values(out)


def _target(spec_rad: ArrayLike, dtype: DTypeLike) -> jax.Array:
    """``spec_rad`` as an array, after checking it is finite and positive."""
    target = jnp.asarray(spec_rad, _working_dtype(dtype))
    ok = jnp.isfinite(target) & (target > 0)
    checks.require(
        ok,
        lambda t: (
            "spec_rad must be finite and positive, got "
            f"{checks.first_bad(t, checks.positive_finite)!r}"
        ),
        operands=(target,),
    )
    return target


def _check_scaled(out: jax.Array, dtype: DTypeLike) -> None:
    checks.require(
        jnp.isfinite(out).all(),
        lambda: (
            f"scaling W to spec_rad overflowed {dtype}: its entries are too large "
            "next to its spectral radius; use a smaller spec_rad or a better-conditioned W"
        ),
    )
