"""Which parts of a network train, and training that leaves the rest bit-identical.

A :class:`~jaxinit.Params` mixes arrays that train (the weights, the biases,
the initial state) with arrays that define the network's constraints and must
never move (the three 0/1 masks and the Dale signs). Generic tools cannot tell
them apart: ``eqx.filter(model, eqx.is_inexact_array)``, ``optax`` over the
whole pytree or a Haiku/linen model holding the arrays update the masks and
signs too, since they are float arrays like the rest. This module gives:

* :func:`trainable`: a pytree of bools, ``True`` for the leaves that train,
  to use as an Equinox filter spec or to label leaves for
  ``optax.multi_transform``;
* :func:`zero_fixed`: gradients with the fixed parts set to zero (PsychRNN's
  ``grad * (1 - fixed_weights)``), for any hand-written update rule;
* :func:`keep_fixed`: wraps an ``optax`` optimizer so that the fixed parts of
  every ``Params`` in the tree come out of ``optax.apply_updates`` bit for bit
  as they went in, whatever the optimizer (weight decay and momentum
  included).

``fixed`` is PsychRNN's ``train_params['fixed_weights']``: a mapping from a
trainable array's name (``"W_in"``, ``"W_rec"``, ``"W_out"``, ``"b_rec"``,
``"b_out"``, ``"init_state"``) to a 0/1 array of that array's shape, 1 where
the entry is pinned. An ensemble's ``Params`` (leading member axes) takes the
same per-network array for every member.

A :class:`~jaxinit.sparse.SparseParams` is treated the same way: its
``W_rec.values`` train, its pattern (the int32 ``W_rec.index``) never does,
and ``fixed["W_rec"]`` pins stored slots, with the shape ``(N_rec, K)`` of
the values. :func:`keep_fixed` hides the index from the wrapped optimizer (no
state is kept for it) and gives it an integer zero update, so
``optax.apply_updates`` returns it unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike, NDArray

from jaxinit._src import checks
from jaxinit._src.names import ARRAY_FIELDS, TRAINABLE_FIELDS
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SPARSE_FIELDS, SparseParams
from jaxinit._src.sparse.rows import RowSparse

if TYPE_CHECKING:
    import optax

_T = TypeVar("_T")

#: What :func:`keep_fixed` writes as the update of a fixed entry. ``x + (-0.0)``
#: is ``x`` for every float ``x``, signed zeros included, whereas ``-0.0 + 0.0``
#: is ``+0.0``: an update of ``+0.0`` (what ``optax.set_to_zero`` gives) would
#: flip the sign bit of a weight stored as ``-0.0``.
_NO_CHANGE = -0.0


def _is_params(node: object) -> bool:
    return isinstance(node, (Params, SparseParams))


def _fields(node: Params | SparseParams) -> tuple[str, ...]:
    return SPARSE_FIELDS if isinstance(node, SparseParams) else ARRAY_FIELDS


def _entry_shape(node: Params | SparseParams, name: str) -> tuple[int, ...]:
    """The shape of what ``fixed[name]`` pins: a sparse ``W_rec``'s stored slots."""
    array = getattr(node, name)
    if isinstance(array, RowSparse):
        return tuple(array.values.shape)
    return tuple(array.shape)


def _flags(node: Params | SparseParams, name: str, flag: Any) -> Any:
    """``flag`` for one field; a sparse ``W_rec`` gets it on its values, never on its index."""
    array = getattr(node, name)
    if isinstance(array, RowSparse):
        return RowSparse(flag, False, array.n_cols)  # type: ignore[arg-type]
    return flag


def _is_inexact_array(node: object) -> bool:
    return isinstance(node, jax.Array | np.ndarray) and bool(
        jnp.issubdtype(node.dtype, jnp.inexact)
    )


def trainable(tree: _T) -> _T:
    """Which leaves of a pytree train: a pytree of the same structure, of bools.

    Inside every :class:`~jaxinit.Params` (however deep in ``tree``) the
    weights, biases and initial state are ``True`` and the masks and Dale signs
    ``False``; inside a :class:`~jaxinit.sparse.SparseParams` likewise, with
    ``W_rec`` a RowSparse whose ``values`` are ``True`` and ``index``
    ``False``. Any other leaf is ``True`` if it is a floating-point array (the
    rule of ``eqx.is_inexact_array``), so a model's other parameters train as
    usual.

    Use it as an Equinox filter spec (``eqx.partition(model, trainable(model))``)
    or to label leaves for ``optax.multi_transform``. Per-entry fixed weights
    cannot be expressed leaf by leaf: for those use :func:`keep_fixed` or
    :func:`zero_fixed`.

    Args:
      tree: any pytree, e.g. a ``Params``, a dict of them, an Equinox module.

    Returns:
      The same structure with a bool at every leaf (a ``Params`` of bools
      where ``tree`` held a ``Params``).

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=4, N_out=1, dale_ratio=0.5)
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> spec = jaxinit.trainable(params)
      >>> spec.W_rec, spec.b_rec, spec.rec_connectivity, spec.dale_rec_diag
      (True, True, False, False)
    """

    def spec(node: Any) -> Any:
        if _is_params(node):
            flags: dict[str, Any] = {
                name: _flags(node, name, name in TRAINABLE_FIELDS) for name in _fields(node)
            }
            return dataclasses.replace(node, **flags)
        return _is_inexact_array(node)

    result: _T = jax.tree.map(spec, tree, is_leaf=_is_params)
    return result


def checked_fixed(fixed: Mapping[str, ArrayLike] | None) -> dict[str, NDArray[np.bool_]]:
    """``fixed`` as bool numpy arrays (True = pinned), every entry checked."""
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise TypeError(
            "fixed must be a mapping from array names to 0/1 arrays (PsychRNN's "
            f"fixed_weights), got {type(fixed).__name__}"
        )
    checked = {}
    for name, value in fixed.items():
        if name not in TRAINABLE_FIELDS:
            raise ValueError(
                f"fixed[{name!r}]: fixed entries can be given for the arrays that train, "
                f"{', '.join(TRAINABLE_FIELDS)}; masks and Dale signs never train"
            )
        if checks.is_traced(value):
            raise TypeError(f"fixed[{name!r}] must be a concrete array, not a traced value")
        array = np.asarray(value)
        if array.dtype == np.bool_:
            checked[name] = array.copy()
            continue
        if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
            raise TypeError(f"fixed[{name!r}] must be a 0/1 array, got dtype {array.dtype}")
        bad = ~np.isin(array, (0, 1))
        if bad.any():
            entry = array[tuple(np.argwhere(bad)[0])]
            raise ValueError(f"fixed[{name!r}] must hold only 0 and 1, found {entry!r}")
        checked[name] = array == 1
    return checked


def fixed_for(
    params: Params | SparseParams, fixed: Mapping[str, ArrayLike] | None
) -> dict[str, NDArray[np.bool_]]:
    """``fixed`` checked against one network: names, 0/1 values and exact shapes.

    A sparse ``W_rec`` is pinned slot by slot: ``fixed["W_rec"]`` has the
    shape of its ``values``, ``(N_rec, K)``.
    """
    pinned = checked_fixed(fixed)
    for name, mask in pinned.items():
        shape = _entry_shape(params, name)
        if mask.shape != shape:
            sparse = isinstance(getattr(params, name), RowSparse)
            what = "a sparse W_rec's values have" if sparse else f"{name} has"
            raise ValueError(f"fixed[{name!r}] has shape {mask.shape}; {what} shape {shape}")
    return pinned


def _keep(tree: Any, fixed: dict[str, NDArray[np.bool_]], what: str) -> Any:
    """Per leaf: True (may change), False (fixed) or a bool array (per entry)."""
    found = False

    def keep(node: Any) -> Any:
        nonlocal found
        if not _is_params(node):
            return True
        found = True
        masks: dict[str, Any] = {}
        for name in _fields(node):
            if name not in TRAINABLE_FIELDS:
                masks[name] = False
            elif name in fixed:
                pinned, shape = fixed[name], _entry_shape(node, name)
                if pinned.ndim > len(shape) or shape[len(shape) - pinned.ndim :] != pinned.shape:
                    raise ValueError(
                        f"fixed[{name!r}] has shape {pinned.shape}; it must have the shape "
                        f"of one network's {name}, {shape[len(shape) - pinned.ndim :]}"
                        f" (the {what} hold {name} of shape {shape})"
                    )
                masks[name] = _flags(node, name, ~pinned)
            else:
                masks[name] = _flags(node, name, True)
        return dataclasses.replace(node, **masks)

    result = jax.tree.map(keep, tree, is_leaf=_is_params)
    if fixed and not found:
        raise ValueError(
            f"fixed was given, but the {what} hold no jaxinit.Params or "
            "jaxinit.sparse.SparseParams"
        )
    return result


def _where(keep: Any, values: Any, fill: float) -> Any:
    """``values`` with ``fill`` wherever ``keep`` is False (leaf- or entry-wise)."""

    def one(k: Any, v: Any) -> Any:
        if v is None or not _is_inexact_array(v) or k is True:
            return v
        if k is False:
            return jnp.full_like(v, fill)
        return jnp.where(jnp.broadcast_to(jnp.asarray(k), v.shape), v, jnp.asarray(fill, v.dtype))

    return jax.tree.map(one, keep, values, is_leaf=lambda node: node is None)


def _hidden(k: Any, v: Any) -> bool:
    """A fixed leaf that is not a float array (a sparse pattern's index, or its float0
    gradient): the wrapped optimizer never sees it."""
    return k is False and v is not None and not _is_inexact_array(v)


def _hide(keep: Any, tree: Any) -> Any:
    """``tree`` with its hidden leaves (see :func:`_hidden`) replaced by ``None``."""
    return jax.tree.map(
        lambda k, v: None if _hidden(k, v) else v, keep, tree, is_leaf=lambda node: node is None
    )


def _zero_hidden(keep: Any, new: Any, updates: Any) -> Any:
    """``new`` with an integer zero update at every hidden leaf of ``updates``.

    ``optax.apply_updates`` adds it to the integer parameter, which it leaves
    exactly as it was.
    """

    def one(k: Any, n: Any, u: Any) -> Any:
        if not _hidden(k, u):
            return n
        dtype = u.dtype if jnp.issubdtype(u.dtype, jnp.integer) else jnp.int32
        return jnp.zeros(u.shape, dtype)

    return jax.tree.map(one, keep, new, updates, is_leaf=lambda node: node is None)


def zero_fixed(grads: _T, *, fixed: Mapping[str, ArrayLike] | None = None) -> _T:
    """Gradients with every fixed part set to zero.

    In each :class:`~jaxinit.Params` of ``grads`` (the gradient of a pytree
    holding networks has the same structure), the masks' and Dale signs'
    gradients become zero, and so do the entries that ``fixed`` pins:
    PsychRNN's ``grad * (1 - fixed_weights)``. Other leaves pass unchanged.

    With a plain gradient step this keeps the fixed parts exactly where they
    are; with an optimizer that has weight decay or momentum from earlier
    gradients it does not: use :func:`keep_fixed` there.

    Args:
      grads: a pytree of gradients, structured like the parameters.
      fixed: PsychRNN's ``fixed_weights``: a trainable array's name
        (``"W_in"``, ``"W_rec"``, ``"W_out"``, ``"b_rec"``, ``"b_out"``,
        ``"init_state"``) to a 0/1 array of one network's shape of it, 1 where
        the entry is pinned; an ensemble's members share it.

    Example:
      >>> import jax, jax.numpy as jnp, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=2, N_out=1)
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> grads = jax.tree.map(jnp.ones_like, params)
      >>> g = jaxinit.zero_fixed(grads, fixed={"W_rec": [[1, 0], [0, 0]]})
      >>> g.W_rec.tolist(), g.rec_connectivity.tolist()
      ([[0.0, 1.0], [1.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]])
    """
    keep = _keep(grads, checked_fixed(fixed), "gradients")
    result: _T = _where(keep, grads, 0.0)
    return result


def keep_fixed(
    optimizer: optax.GradientTransformation, *, fixed: Mapping[str, ArrayLike] | None = None
) -> optax.GradientTransformation:
    """An ``optax`` optimizer that never moves the fixed parts of a network.

    The wrapped optimizer sees the gradients of :func:`zero_fixed` (as
    PsychRNN's training does), and its updates of the fixed parts (masks,
    Dale signs and the entries ``fixed`` pins, in every
    :class:`~jaxinit.Params` of the tree) are replaced by ``-0.0``, so
    ``optax.apply_updates`` returns them bit for bit as they were, whatever
    the optimizer does (weight decay, momentum, schedules). Leaves outside a
    ``Params`` are updated as the optimizer says. Needs ``optax`` (in the
    ``flax`` extra).

    Args:
      optimizer: any ``optax.GradientTransformation``.
      fixed: PsychRNN's ``fixed_weights``: a trainable array's name
        (``"W_in"``, ``"W_rec"``, ``"W_out"``, ``"b_rec"``, ``"b_out"``,
        ``"init_state"``) to a 0/1 array of one network's shape of it, 1 where
        the entry is pinned; an ensemble's members share it.

    Returns:
      An ``optax.GradientTransformation``: use it as the optimizer itself.

    Example:
      >>> import jax, jax.numpy as jnp, optax, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=3, N_out=1, dale_ratio=2 / 3)
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> opt = jaxinit.keep_fixed(optax.adamw(0.1), fixed={"W_rec": jnp.eye(3)})
      >>> state = opt.init(params)
      >>> grads = jax.tree.map(jnp.ones_like, params)
      >>> updates, state = opt.update(grads, state, params)
      >>> new = optax.apply_updates(params, updates)
      >>> bool((new.rec_connectivity == params.rec_connectivity).all())
      True
      >>> bool((jnp.diag(new.W_rec) == jnp.diag(params.W_rec)).all())
      True
    """
    try:
        import optax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "jaxinit.keep_fixed needs optax; install it with: pip install 'jaxinit[flax]'"
        ) from err
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            "optimizer must be an optax.GradientTransformation (e.g. optax.adam(1e-3)), "
            f"got {type(optimizer).__name__}"
        )
    pinned = checked_fixed(fixed)

    def init(params: optax.Params) -> optax.OptState:
        keep = _keep(params, pinned, "parameters")  # refuses a bad `fixed` at once
        return optimizer.init(_hide(keep, params))

    def update(
        updates: optax.Updates, state: optax.OptState, params: optax.Params | None = None
    ) -> tuple[optax.Updates, optax.OptState]:
        keep = _keep(updates, pinned, "updates")
        seen = None if params is None else _hide(keep, params)
        new, state = optimizer.update(_where(keep, _hide(keep, updates), 0.0), state, seen)
        return _zero_hidden(keep, _where(keep, new, _NO_CHANGE), updates), state

    return optax.GradientTransformation(init, update)
