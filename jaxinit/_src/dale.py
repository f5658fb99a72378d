"""Dale's law: which units are excitatory, and PsychRNN's E/I balancing.

jaxinit keeps the Dale signs as length-``N_rec`` vectors (the diagonals of
PsychRNN's ``Dale_rec`` and ``Dale_out`` matrices): multiplying by a diagonal
matrix is a broadcast, O(N^2) instead of an O(N^3) matmul with O(N^2) memory.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.typing import ArrayLike, DTypeLike


def n_excitatory(N_rec: int, dale_ratio: float) -> int:
    """Number of excitatory units: ``int(dale_ratio * N_rec)``, as in PsychRNN.

    The product is taken in Python floats and floored, exactly as PsychRNN
    does, so ``n_excitatory(100, 0.29) == 28`` (``0.29 * 100`` is just below 29).

    Example:
      >>> n_excitatory(10, 0.8)
      8
    """
    ratio = checks.dale_ratio(dale_ratio)
    if ratio is None:
        raise TypeError("dale_ratio must be a number in [0, 1] here, got None")
    return int(ratio * checks.positive_int("N_rec", N_rec))


def dale_vectors(
    N_rec: int, dale_ratio: float | None, dtype: DTypeLike = jnp.float32
) -> tuple[jax.Array, jax.Array]:
    """Diagonals of PsychRNN's ``Dale_rec`` (+1/-1) and ``Dale_out`` (1/0).

    Without Dale's law (``dale_ratio=None``) both are all ones, as in PsychRNN.
    ``Dale_out`` is the documented 1/0 matrix (PsychRNN 1.0.0 wrongly defaults
    it to the +1/-1 ``Dale_rec``).

    Example:
      >>> rec, out = dale_vectors(4, 0.5)
      >>> rec.tolist(), out.tolist()
      ([1.0, 1.0, -1.0, -1.0], [1.0, 1.0, 0.0, 0.0])
    """
    N_rec = checks.positive_int("N_rec", N_rec)
    n_exc = None if dale_ratio is None else n_excitatory(N_rec, dale_ratio)
    return dale_diagonals(N_rec, n_exc, dtype)


def dale_diagonals(
    N_rec: int, n_exc: ArrayLike | None, dtype: DTypeLike
) -> tuple[jax.Array, jax.Array]:
    """Dale diagonals for ``n_exc`` leading excitatory units (None: no Dale)."""
    if n_exc is None:
        ones = jnp.ones((N_rec,), dtype)
        return ones, ones
    excitatory = jnp.arange(N_rec) < n_exc
    return jnp.where(excitatory, 1, -1).astype(dtype), excitatory.astype(dtype)


def balance_weights(N_rec: int, dale_ratio: float) -> npt.NDArray[np.float64]:
    """PsychRNN's per-unit balancing weights ``v``: 1 for E, ``r / (1 - r)`` for I.

    With these weights the summed inhibitory weight of a balanced network
    matches the excitatory one. When all units are of one kind (``r`` is 0 or
    1, or ``int(r * N_rec)`` is 0) the ratio cancels out of
    :func:`balance_dale_ratio`, and jaxinit uses 1 for every unit; PsychRNN
    divides by zero there.
    """
    n_exc = n_excitatory(N_rec, dale_ratio)
    v = np.ones(N_rec)
    if 0 < n_exc < N_rec:
        v[n_exc:] = dale_ratio / (1.0 - dale_ratio)
    return v


def balance_dale_ratio(
    W_rec: ArrayLike, rec_connectivity: ArrayLike, dale_ratio: float | None
) -> jax.Array:
    """Balance excitatory and inhibitory recurrent weights, as PsychRNN does.

    With PsychRNN's per-unit weights ``v`` (1 for excitatory units,
    ``r / (1 - r)`` for inhibitory ones, ``r = dale_ratio``; 1 for every
    unit when all are of one kind) and ``n_j`` the L2 norm of row
    ``j`` of ``rec_connectivity * v`` (each column ``k`` weighted by ``v_k``),
    column ``j`` of ``W_rec`` is multiplied by ``v_j / n_j``. This is
    PsychRNN's ``W_rec @ (diag(v) / n[:, None])``, computed in O(N^2).
    ``dale_ratio=None`` returns ``W_rec`` unchanged. A unit whose mask row is
    empty (``n_j = 0``, no incoming connections) keeps the factor ``v_j``
    instead of PsychRNN's division by zero. Leading batch axes are allowed.

    Args:
      W_rec: recurrent weights, shape ``(..., N_rec, N_rec)``.
      rec_connectivity: the recurrent mask, same shape (or broadcastable).
      dale_ratio: fraction of excitatory units, in [0, 1], or None.

    Example:
      >>> import jax.numpy as jnp
      >>> balance_dale_ratio(jnp.eye(4), jnp.ones((4, 4)), 0.5).diagonal().tolist()
      [0.5, 0.5, 0.5, 0.5]
    """
    W_rec = jnp.asarray(W_rec)
    if dale_ratio is None:
        return W_rec
    if W_rec.ndim < 2 or W_rec.shape[-1] != W_rec.shape[-2]:
        raise ValueError(f"W_rec must be square, got shape {tuple(W_rec.shape)}")
    mask = jnp.asarray(rec_connectivity, W_rec.dtype)
    if mask.shape[-2:] != W_rec.shape[-2:]:
        raise ValueError(
            f"rec_connectivity must have shape {tuple(W_rec.shape[-2:])} like W_rec, "
            f"got {tuple(mask.shape)}"
        )
    v = jnp.asarray(balance_weights(W_rec.shape[-1], dale_ratio), W_rec.dtype)
    factor = balance_factors(mask, v)[..., None, :]
    shape = jnp.broadcast_shapes(W_rec.shape, factor.shape)
    return jnp.broadcast_to(W_rec, shape) * jnp.broadcast_to(factor, shape)


def balance_factors(mask: jax.Array | None, v: jax.Array) -> jax.Array:
    """Column factors ``v_j / n_j`` of :func:`balance_dale_ratio`.

    ``mask=None`` stands for an all-ones mask, where every ``n_j`` is
    ``||v||`` and no matrix-vector product is needed.
    """
    if mask is None:
        norms = jnp.broadcast_to(jnp.sqrt(jnp.sum(jnp.square(v))), v.shape)
    else:
        norms = jnp.sqrt(jnp.square(mask) @ jnp.square(v))
    return v / jnp.where(norms > 0, norms, 1)


def balance_rows(
    W_rec: ArrayLike, rec_connectivity: ArrayLike, dale_signs: ArrayLike
) -> jax.Array:
    """Balance each unit's excitatory and inhibitory input exactly.

    For unit ``i`` (row ``i``), let ``E_i`` be the sum of ``|W_rec[i, j]| *
    rec_connectivity[i, j]`` over the excitatory columns ``j``
    (``dale_signs[j] > 0``) and ``I_i`` the same sum over the inhibitory
    ones. The inhibitory entries of row ``i`` are multiplied by ``E_i / I_i``,
    so that in the effective matrix (masked, ``|.|``, Dale signs) every row
    sums to zero; the excitatory weights keep their values. Only positive
    factors are used, so the signs of ``W_rec`` are unchanged. A row that has
    no excitatory or no inhibitory input (``E_i = 0`` or ``I_i = 0``, e.g.
    an all-excitatory network, or a sparse mask that left a unit without
    inhibitory inputs) cannot be balanced and is left as it is. Leading batch
    axes are allowed.

    This removes the outlier eigenvalues that balancing only the means (as
    :func:`balance_dale_ratio` does) leaves at finite ``N`` (Rajan & Abbott,
    PRL 97:188104, 2006).

    Args:
      W_rec: recurrent weights, shape ``(..., N_rec, N_rec)``.
      rec_connectivity: the recurrent mask, same shape (or broadcastable).
      dale_signs: the Dale signs per unit (the diagonal of ``Dale_rec``:
        +1 excitatory, -1 inhibitory), shape ``(..., N_rec)``.

    Example:
      >>> import jax.numpy as jnp
      >>> W = jnp.array([[1.0, 2.0, 0.5], [3.0, 1.0, 1.0], [1.0, 1.0, 4.0]])
      >>> B = balance_rows(W, jnp.ones((3, 3)), jnp.array([1.0, 1.0, -1.0]))
      >>> (jnp.abs(B) * jnp.array([[1.0, 1.0, -1.0]])).sum(axis=1).tolist()
      [0.0, 0.0, 0.0]
    """
    W_rec = jnp.asarray(W_rec)
    if W_rec.ndim < 2 or W_rec.shape[-1] != W_rec.shape[-2]:
        raise ValueError(f"W_rec must be square, got shape {tuple(W_rec.shape)}")
    n = W_rec.shape[-1]
    mask = jnp.asarray(rec_connectivity, W_rec.dtype)
    if mask.shape[-2:] != W_rec.shape[-2:]:
        raise ValueError(
            f"rec_connectivity must have shape {(n, n)} like W_rec, got {tuple(mask.shape)}"
        )
    signs = jnp.asarray(dale_signs, W_rec.dtype)
    if signs.shape[-1:] != (n,):
        raise ValueError(f"dale_signs must have {n} entries (one per unit), got {signs.shape}")
    shape = jnp.broadcast_shapes(W_rec.shape, mask.shape, signs[..., None, :].shape)
    W_rec = jnp.broadcast_to(W_rec, shape)
    mask = jnp.broadcast_to(mask, shape)
    signs = jnp.broadcast_to(signs, shape[:-2] + shape[-1:])
    return W_rec * row_balance_factors(W_rec, mask, signs)


def row_balance_factors(W: jax.Array, mask: jax.Array | None, signs: jax.Array) -> jax.Array:
    """Entry factors of :func:`balance_rows`: 1 on excitatory columns and
    ``E_i / I_i`` on the inhibitory columns of row ``i`` (1 where a row cannot
    be balanced). ``mask=None`` stands for an all-ones mask."""
    weights = jnp.abs(W) if mask is None else jnp.abs(W) * mask
    inhibitory = (signs < 0)[..., None, :]
    exc = jnp.sum(jnp.where(inhibitory, 0, weights), axis=-1, keepdims=True)
    inh = jnp.sum(jnp.where(inhibitory, weights, 0), axis=-1, keepdims=True)
    ok = (exc > 0) & (inh > 0)
    ratio = jnp.where(ok, exc / jnp.where(ok, inh, 1), 1)
    return jnp.where(inhibitory, ratio, jnp.ones_like(ratio))
