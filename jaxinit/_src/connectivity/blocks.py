"""Block (stochastic block model) masks: groups of consecutive units, one
probability per pair of groups; and the excitatory/inhibitory case."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.connectivity import arguments, probability, selection
from jaxinit._src.dale import n_excitatory


def group_sizes(value: Any) -> tuple[int, ...]:
    """``value`` as a tuple of non-negative ints with a positive sum."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise TypeError(f"sizes must be a non-empty sequence of integers, got {value!r}")
    out: list[int] = []
    for i, size in enumerate(value):
        if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
            raise TypeError(f"sizes[{i}] must be an integer, got {size!r}")
        if size < 0:
            raise ValueError(f"sizes[{i}] must be non-negative, got {size!r}")
        out.append(int(size))
    if sum(out) == 0:
        raise ValueError(f"sizes must add up to a positive number of units, got {value!r}")
    return tuple(out)


def block_count(p: float, size_post: int, size_pre: int, diagonal: bool, autapses: bool) -> int:
    """Connections of one block with ``exact=True``: ``floor(p * C + 1/2)``, the
    nearest integer to ``p`` times the ``C`` candidate entries (halves round up).

    ``C`` is ``size_post * size_pre``, or ``size * (size - 1)`` for a block on
    the diagonal when ``autapses=False``.

    Example:
      >>> block_count(0.25, 3, 2, diagonal=False, autapses=True)  # 1.5 rounds up
      2
      >>> block_count(0.5, 3, 3, diagonal=True, autapses=False)  # half of 6
      3
    """
    cands = size_post * (size_pre - 1) if diagonal and not autapses else size_post * size_pre
    return min(cands, math.floor(p * cands + 0.5))


def _assemble(
    key: jax.Array,
    sizes: tuple[int, ...],
    p: jax.Array | npt.NDArray[np.float64],
    *,
    exact: bool,
    autapses: bool,
    dtype: np.dtype[Any],
) -> jax.Array:
    """The block mask from checked arguments (``p``: (G, G), concrete if exact)."""
    if not exact:
        return arguments.in_dtype(draw_independent(key, p, autapses, sizes=sizes), dtype)
    groups = len(sizes)
    block_counts = tuple(
        block_count(float(p[a, b]), sizes[a], sizes[b], a == b, autapses)
        for a in range(groups)
        for b in range(groups)
    )
    counts = np.asarray(block_counts, np.int32)
    return arguments.in_dtype(draw_exact(key, counts, autapses, sizes=sizes), dtype)


@partial(jax.jit, static_argnames=("sizes",))
def draw_independent(
    key: jax.Array,
    p: jax.typing.ArrayLike,
    autapses: jax.typing.ArrayLike,
    *,
    sizes: tuple[int, ...],
) -> jax.Array:
    """Every entry of block ``(a, b)`` connected independently with ``p[a, b]`` (float32)."""
    group = np.repeat(np.arange(len(sizes)), sizes)
    expanded = jnp.asarray(p, jnp.float32)[group[:, None], group[None, :]]
    n_units = sum(sizes)
    mask: jax.Array = probability.draw(key, expanded, autapses, shape=(n_units, n_units))
    return mask


@partial(jax.jit, static_argnames=("sizes",))
def draw_exact(
    key: jax.Array,
    counts: jax.Array | npt.NDArray[np.int32],
    autapses: jax.typing.ArrayLike,
    *,
    sizes: tuple[int, ...],
) -> jax.Array:
    """``counts[a * G + b]`` connections in block ``(a, b)``, uniformly placed (float32)."""
    groups = len(sizes)
    unit_group = jnp.asarray(np.repeat(np.arange(groups, dtype=np.int32), sizes))
    block = unit_group[:, None] * groups + unit_group[None, :]
    n_units = sum(sizes)
    # Without autapses the diagonal gets the id of "never chosen".
    block = jnp.where(probability.allowed((n_units, n_units), autapses), block, groups * groups)
    return selection.per_group(key, block, counts).astype(jnp.float32)


def _concrete_for_exact(name: str, value: Any) -> None:
    if checks.is_traced(value):
        raise TypeError(
            f"{name} must be concrete (not traced) with exact=True, since the numbers of "
            "connections are static; pass it as a Python float or NumPy array, or use "
            "exact=False"
        )


def blocks(
    key: jax.Array,
    sizes: Sequence[int],
    p: npt.ArrayLike,
    *,
    exact: bool = False,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """A block mask: consecutive groups of units, one probability per pair of groups.

    Units ``0 .. sizes[0] - 1`` form group 0, the next ``sizes[1]`` group 1,
    and so on; the mask is square, ``N = sum(sizes)``, rows receiving.
    ``p[a][b]`` is the probability of a connection from a unit of group ``b``
    (the sender, columns) onto a unit of group ``a`` (the receiver, rows).

    With ``exact=False`` every entry is drawn independently (as
    :func:`bernoulli` with the expanded ``N x N`` probabilities and the same
    key). With ``exact=True`` block ``(a, b)`` gets exactly
    ``floor(p[a][b] * C + 1/2)`` connections (the nearest integer to the
    expected number; halves round up), ``C`` being the number of candidate
    entries of the block: ``sizes[a] * sizes[b]``, or ``sizes[a] *
    (sizes[a] - 1)`` for a block on the diagonal with ``autapses=False``;
    every placement within a block is equally likely, independently for
    each block.

    Args:
      key: a JAX PRNG key.
      sizes: the group sizes, Python ints >= 0 adding up to N >= 1 (static).
      p: ``(G, G)`` probabilities, ``G = len(sizes)``. A concrete ``p`` must
        be finite and in [0, 1]. With ``exact=False`` it may be traced (and
        is then not checked); with ``exact=True`` it must be concrete.
      exact: exact numbers of connections per block instead of independent draws.
      autapses: if False, the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax
      >>> p = [[0.5, 0.0], [1.0, 0.25]]
      >>> mask = blocks(jax.random.key(0), (2, 4), p, exact=True)
      >>> float(mask[:2, :2].sum()), float(mask[:2, 2:].sum()), float(mask[2:, :2].sum())
      (2.0, 0.0, 8.0)
      >>> float(mask[2:, 2:].sum())
      4.0
    """
    arguments.key(key)
    sizes = group_sizes(sizes)
    exact = arguments.flag("exact", exact)
    autapses = arguments.flag("autapses", autapses)
    dtype = arguments.mask_dtype(dtype)
    groups = len(sizes)
    array = arguments.real_array("p", p)
    if array.shape != (groups, groups):
        raise ValueError(
            f"p must have shape ({groups}, {groups}) (one probability per pair of the "
            f"{groups} groups), got shape {tuple(array.shape)}"
        )
    if exact:
        _concrete_for_exact("p", array)
    p = arguments.probability("p", array, (groups, groups))
    return _assemble(key, sizes, p, exact=exact, autapses=autapses, dtype=dtype)


def ei(
    key: jax.Array,
    N_rec: int,
    dale_ratio: float,
    *,
    p_EE: jax.typing.ArrayLike,
    p_EI: jax.typing.ArrayLike,
    p_IE: jax.typing.ArrayLike,
    p_II: jax.typing.ArrayLike,
    exact: bool = False,
    autapses: bool = True,
    dtype: jax.typing.DTypeLike = jnp.float32,
) -> jax.Array:
    """An excitatory/inhibitory block mask for a network with Dale's law.

    The first ``jaxinit.n_excitatory(N_rec, dale_ratio)`` units are
    excitatory (E) and the others inhibitory (I): exactly the units that
    ``Config(dale_ratio=dale_ratio)`` makes excitatory, so the mask can be
    passed as ``rec_connectivity=`` to the network initializers.

    Naming: the first letter is the receiving (post-synaptic) population, the
    second the sending (pre-synaptic) one. ``p_EI`` is the probability of a
    connection from an I unit onto an E unit, i.e. of the entries
    ``mask[E rows, I columns]``. This is :func:`blocks` with ``sizes =
    (n_E, n_I)`` and ``p = [[p_EE, p_EI], [p_IE, p_II]]``, including the
    meaning of ``exact`` (and its rounding) and of ``autapses``.

    Args:
      key: a JAX PRNG key.
      N_rec: number of units, a positive Python int (static).
      dale_ratio: fraction of excitatory units, in [0, 1].
      p_EE, p_EI, p_IE, p_II: the four probabilities (scalars); concrete ones
        must be finite and in [0, 1]; traced ones (``exact=False`` only) are
        not checked.
      exact: exact numbers of connections per block (see :func:`blocks`).
      autapses: if False, the diagonal is 0.
      dtype: float32 (default) or float64 (needs 64-bit JAX).

    Example:
      >>> import jax, jaxinit
      >>> mask = ei(jax.random.key(0), 10, 0.8, p_EE=0.5, p_EI=1.0, p_IE=0.0, p_II=0.0)
      >>> mask[:8, 8:].tolist() == [[1.0, 1.0]] * 8  # I -> E: all connected
      True
      >>> float(mask[8:].sum())  # nothing onto I units
      0.0
      >>> jaxinit.n_excitatory(10, 0.8)  # the E units: 0 .. 7
      8
    """
    arguments.key(key)
    N_rec = checks.positive_int("N_rec", N_rec)
    n_exc = n_excitatory(N_rec, dale_ratio)
    exact = arguments.flag("exact", exact)
    autapses = arguments.flag("autapses", autapses)
    dtype = arguments.mask_dtype(dtype)
    given = {"p_EE": p_EE, "p_EI": p_EI, "p_IE": p_IE, "p_II": p_II}
    checked: dict[str, jax.Array | npt.NDArray[np.float64]] = {}
    for name, value in given.items():
        checked[name] = arguments.probability(name, value)
        if exact:
            _concrete_for_exact(name, checked[name])
    order = [["p_EE", "p_EI"], ["p_IE", "p_II"]]
    p: jax.Array | npt.NDArray[np.float64]
    if any(checks.is_traced(v) for v in checked.values()):
        p = jnp.stack(
            [jnp.stack([jnp.asarray(checked[n], jnp.float32) for n in row]) for row in order]
        )
    else:
        p = np.array([[checked[n] for n in row] for row in order], np.float64)
    return _assemble(key, (n_exc, N_rec - n_exc), p, exact=exact, autapses=autapses, dtype=dtype)
