"""Argument checks and helpers shared by every figure of :mod:`jaxinit.plot`."""

from __future__ import annotations

import math
import numbers
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from jaxinit._src.names import WEIGHTS, Weights
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse

#: Which recurrent matrix of a :class:`~jaxinit.Params` to show.
WHICH = WEIGHTS

#: Colour and legend label of each set of eigenvalues or radii (``"W"``: a bare matrix).
COLORS = {"raw": "tab:blue", "effective": "tab:orange", "W": "tab:purple"}
LABELS = {"raw": "raw W_rec", "effective": "effective W_rec", "W": "W"}


def check_which(which: object) -> tuple[Weights, ...]:
    """``which`` as a tuple of distinct names from :data:`WHICH`.

    Example:
      >>> check_which("raw"), check_which(("raw", "effective"))
      (('raw',), ('raw', 'effective'))
    """
    items: Any = (which,) if isinstance(which, str) else which
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(
            f"which must be 'raw', 'effective' or a tuple of them, got {which!r}"
        ) from None
    if not items:
        raise ValueError("which must name at least one of 'raw', 'effective', got ()")
    for item in items:
        if not isinstance(item, str) or item not in WHICH:
            raise ValueError(f"which must be 'raw', 'effective' or a tuple of them, got {which!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"which names a matrix twice: {which!r}")
    return cast(tuple[Weights, ...], items)  # each checked above


def check_spec_rad(spec_rad: object) -> float | None:
    """None, or ``spec_rad`` as a finite positive float.

    Example:
      >>> check_spec_rad(None), check_spec_rad(2)
      (None, 2.0)
    """
    if spec_rad is None:
        return None
    if isinstance(spec_rad, np.ndarray) and spec_rad.ndim == 0:
        spec_rad = spec_rad.item()
    if isinstance(spec_rad, bool) or not isinstance(spec_rad, numbers.Real):
        raise TypeError(f"spec_rad must be a positive number or None, got {spec_rad!r}")
    value = float(spec_rad)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"spec_rad must be a finite positive number or None, got {spec_rad!r}")
    return value


def check_flag(name: str, value: object) -> bool:
    """``value`` as a bool; ``TypeError`` naming ``name`` unless it is True or False.

    Example:
      >>> check_flag("predicted", True), check_flag("predicted", np.False_)
      (True, False)
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_ax(ax: object) -> None:
    """Raise ``TypeError`` unless ``ax`` is None or a matplotlib Axes."""
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def _shape_message(name: str, shape: tuple[int, ...], min_ndim: int, max_ndim: int | None) -> str:
    if max_ndim == 2:
        want = "a non-empty square matrix (N, N)"
    elif min_ndim == 3:
        want = "a non-empty stack of square matrices (members, N, N)"
    else:
        want = "a non-empty square matrix (N, N) or a stack of them (..., N, N)"
    return f"{name} must be {want}, got shape {shape}"


def numeric_array(value: object, wrong: str, kinds: str = "biufc") -> npt.NDArray[Any]:
    """``value`` as a numpy array whose dtype kind is in ``kinds``, else ``TypeError``
    (``wrong`` followed by the type, and the dtype when it is an array)."""
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(wrong + type(value).__name__)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(wrong + type(value).__name__) from err
    if array.dtype == object or array.dtype.kind not in kinds:
        raise TypeError(wrong + f"{type(value).__name__} of dtype {array.dtype}")
    return array


def _as_real_array(name: str, value: object) -> npt.NDArray[Any]:
    wrong = f"{name} must be a jaxinit.Params or a real square matrix (..., N, N), got "
    array = numeric_array(value, wrong)
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    return array


def as_matrices(
    name: str, value: object, *, min_ndim: int = 2, max_ndim: int | None = None
) -> npt.NDArray[np.float64]:
    """``value`` as a float64 numpy array of real, finite, non-empty square matrices.

    Example:
      >>> as_matrices("W", [[1, 2], [3, 4]]).dtype
      dtype('float64')
    """
    array = _as_real_array(name, value)
    shape = tuple(array.shape)
    if array.ndim < min_ndim or (max_ndim is not None and array.ndim > max_ndim):
        raise ValueError(_shape_message(name, shape, min_ndim, max_ndim))
    if shape[-1] != shape[-2] or shape[-1] == 0 or array.size == 0:
        raise ValueError(_shape_message(name, shape, min_ndim, max_ndim))
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        bad = array[~np.isfinite(array)][0]
        raise ValueError(f"{name} must be finite, got an entry {bad!r}")
    return array


def refuse_sparse(name: str, value: object, function: str, instead: str) -> None:
    """Raise ``TypeError`` when ``value`` is a sparse network or matrix, which
    ``function`` would have to densify; the message names what to use instead.

    Example:
      >>> import jax.numpy as jnp
      >>> from jaxinit._src.sparse.rows import RowSparse
      >>> W = RowSparse(jnp.ones((2, 1)), jnp.zeros((2, 1), jnp.int32), 2)
      >>> refuse_sparse("W", W, "spectrum", "ritz_spectrum")
      Traceback (most recent call last):
      ...
      TypeError: W is a sparse RowSparse (N = 2); jaxinit.plot.spectrum draws a dense ...
    """
    if not isinstance(value, (SparseParams, RowSparse)):
        return
    N = value.N_rec if isinstance(value, SparseParams) else value.n_cols
    raise TypeError(
        f"{name} is a sparse {type(value).__name__} (N = {N}); jaxinit.plot.{function} draws a "
        f"dense N x N matrix and does not take one. Use jaxinit.plot.{instead} (O(nnz)), or "
        f"pass {name}.todense() where a dense copy fits"
    )


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``(root figure, ax)``: a new headless Figure and Axes when ``ax`` is None."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    return ax.figure.figure, ax  # the root figure, also for an Axes in a SubFigure
