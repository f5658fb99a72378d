"""Small checks and transforms of square matrices shared by the radius methods."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxinit._src.typing import ArrayLike


def square_matrices(W: ArrayLike, name: str = "W") -> jax.Array:
    """``W`` as an array, after checking it is a real ``(..., N, N)`` stack with N >= 1."""
    W = W if isinstance(W, jax.core.Tracer) else jnp.asarray(W)
    if W.ndim < 2 or W.shape[-1] != W.shape[-2]:
        raise ValueError(
            f"{name} must be a square matrix or a stack of them (..., N, N), "
            f"got shape {tuple(W.shape)}"
        )
    if W.shape[-1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(W.shape)}")
    if jnp.issubdtype(W.dtype, jnp.complexfloating):
        raise TypeError(f"{name} must be real, got dtype {W.dtype}")
    return W


def normalize(W: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(W / s, s)`` with ``s`` the largest ``|W_ij|`` of each matrix (1 where that is
    0 or not finite), so that eigenvalue solvers see entries of order one.

    LAPACK's ``geev`` (and an Arnoldi recurrence) lose accuracy far from unit
    scale: on the CPU float32 ``eigvals`` of a matrix of radius 1e-30 returned
    6e-13, and 7e11 for one of radius 1e30. Dividing by a number and
    multiplying the radius back is exact up to one rounding.

    Example:
      >>> import jax.numpy as jnp
      >>> Wn, s = normalize(jnp.array([[0.0, -4e-30], [1e-30, 0.0]]))
      >>> Wn.tolist(), f"{float(s):.3g}"
      ([[0.0, -1.0], [0.25, 0.0]], '4e-30')
    """
    s = jnp.max(jnp.abs(W), axis=(-2, -1))
    s = jnp.where((s > 0) & jnp.isfinite(s), s, jnp.ones_like(s))
    return W / s[..., None, None], s
