"""Checks on a network's arrays, shared by saving and loading, and entry digests."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.names import MASK_NAMES, WEIGHT_NAMES, psychrnn_shapes


def digest(array: npt.ArrayLike) -> str:
    """A SHA-256 of an array's dtype, shape and bytes (to tell edited entries).

    Example:
      >>> digest(np.zeros(3)) == digest(np.zeros(3)), digest(np.zeros(3)) == digest(np.zeros(4))
      (True, False)
    """
    array = np.ascontiguousarray(array)
    head = f"{array.dtype.str}{array.shape}".encode()
    return hashlib.sha256(head + array.tobytes()).hexdigest()


def real_dtype(dtype: np.dtype[Any]) -> bool:
    """Whether arrays of ``dtype`` hold real numbers (floats, integers or bools)."""
    return bool(
        np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer) or dtype == np.bool_
    )


def check_network(
    arrays: Mapping[str, npt.NDArray[Any]],
    fail: Callable[[str, str], None],
    *,
    diagonals: bool,
    names: Mapping[str, str] | None = None,
    n_rec: int | None = None,
) -> None:
    """Shapes, finiteness and allowed values of a network's arrays.

    ``arrays`` uses PsychRNN's names; ``Dale_rec``/``Dale_out`` are full
    matrices, or their diagonals when ``diagonals`` is True. ``fail(name,
    problem)`` raises; ``names`` maps PsychRNN's names to the names to report.
    ``n_rec`` is given for a sparse network: then ``arrays`` has no
    ``W_rec`` and no ``rec_connectivity`` (the rows are checked by
    :func:`~jaxinit._src.files.rowsparse.check_rows`) and the others must
    fit ``N_rec = n_rec``.

    Example:
      >>> def fail(name, problem):
      ...     raise ValueError(f"{name} {problem}")
      >>> one = np.ones((1, 1))
      >>> arrays = dict(W_in=one, W_rec=one, W_out=one, b_rec=np.ones(1), b_out=np.ones(1),
      ...               init_state=np.ones(1), input_connectivity=one, rec_connectivity=one,
      ...               output_connectivity=one * 2, Dale_rec=one, Dale_out=one)
      >>> check_network(arrays, fail, diagonals=False)
      Traceback (most recent call last):
      ValueError: output_connectivity must hold only [0, 1], got 2.0
    """
    names = names or {}

    def bad(name: str, problem: str) -> None:
        fail(names.get(name, name), problem)

    _check_shapes(arrays, bad, diagonals, n_rec)
    for name, array in arrays.items():
        if not real_dtype(array.dtype):
            bad(name, f"must hold real numbers, got dtype {array.dtype}")
        if not np.isfinite(array).all():
            bad(name, f"must be finite, got {checks.first_bad(array, np.isfinite)!r} in it")
    for name in MASK_NAMES:
        if n_rec is None or name != "rec_connectivity":
            _check_values(arrays[name], (0, 1), functools.partial(bad, name))
    for name, allowed in (("Dale_rec", (-1, 1)), ("Dale_out", (-1, 0, 1))):
        matrix = arrays[name]
        if diagonals:
            diag = matrix
        else:
            diag = np.diagonal(matrix)
            if np.count_nonzero(matrix - np.diag(diag)):
                bad(name, "must be a diagonal matrix, got a non-zero entry off the diagonal")
        _check_values(diag, allowed, functools.partial(bad, name))


def _check_shapes(
    arrays: Mapping[str, npt.NDArray[Any]],
    bad: Callable[[str, str], None],
    diagonals: bool,
    n_rec: int | None,
) -> None:
    dense = n_rec is None
    for name in WEIGHT_NAMES if dense else ("W_in", "W_out"):
        if arrays[name].ndim != 2:
            bad(name, f"must be a matrix, got shape {arrays[name].shape}")
    n_rec = arrays["W_rec"].shape[0] if n_rec is None else n_rec
    n_in = arrays["W_in"].shape[1]
    n_out = arrays["W_out"].shape[0]
    sizes = (("W_rec", n_rec), ("W_in", n_in), ("W_out", n_out))
    for name, size in sizes if dense else sizes[1:]:
        if size == 0:
            bad(name, f"must not be empty, got shape {arrays[name].shape}")
    expected = psychrnn_shapes(n_in, n_rec, n_out, dale_matrices=not diagonals)
    if not dense:
        del expected["W_rec"], expected["rec_connectivity"]
    source = "W_rec, W_in, W_out" if dense else f"the N_rec={n_rec} rows of W_rec, W_in, W_out"
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            bad(name, f"must have shape {shape} (from {source}), got {arrays[name].shape}")


def _check_values(
    values: npt.NDArray[Any], allowed: Sequence[int], fail: Callable[[str], None]
) -> None:
    if not real_dtype(values.dtype):
        return  # reported by the dtype check
    ok = np.isin(values, allowed)
    if not ok.all():
        fail(f"must hold only {list(allowed)}, got {values[~ok].ravel()[0].item()!r}")
