"""Row-sparse network files: ``W_rec`` as canonical rows, written and checked in O(N K).

A row-sparse file (format version 3, see :mod:`~jaxinit._src.files.layout`)
holds a :class:`~jaxinit.sparse.SparseParams`: ``W_rec`` as two
``(N_rec, K)`` entries, its values and its int32 column indices, and the
other arrays as they are. Every row of the file is canonical: its stored
column indices strictly increase and its padding slots (index ``N_rec``,
value 0) come after them. :func:`canonical_rows` makes the rows of any
:class:`~jaxinit.sparse.RowSparse` canonical before saving (the same
matrix); :func:`check_rows` refuses a file whose rows are not, naming the
entry, the row, the slot and the value. Nothing here builds an
``N_rec x N_rec`` array: every check is a pass over ``(N_rec, K)`` arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src.files.assemble import cast_arrays
from jaxinit._src.files.entries import EntrySource
from jaxinit._src.files.layout import INDEX_KEY, SPARSE_PREFIX, VALUES_KEY
from jaxinit._src.files.metadata import Metadata
from jaxinit._src.files.validate import check_network
from jaxinit._src.names import DType
from jaxinit._src.sparse.params import SPARSE_FIELDS, SparseParams
from jaxinit._src.sparse.rows import RowSparse

#: The fields of a sparse network stored as dense arrays (all but ``W_rec``).
DENSE_FIELDS = tuple(name for name in SPARSE_FIELDS if name != "W_rec")
#: The PsychRNN name of each such field, for the network checks shared with dense files.
PSYCHRNN_NAME = {
    name: {"dale_rec_diag": "Dale_rec", "dale_out_diag": "Dale_out"}.get(name, name)
    for name in DENSE_FIELDS
}
#: Every entry of a row-sparse file besides the metadata.
ENTRY_NAMES = (VALUES_KEY, INDEX_KEY, *(SPARSE_PREFIX + name for name in DENSE_FIELDS))


def first_true(mask: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """``(row, slot)`` of the first true entry of a 2-D mask that has one.

    Example:
      >>> first_true(np.array([[False, False], [False, True]]))
      (1, 1)
    """
    row, slot = divmod(int(np.argmax(mask)), mask.shape[1])
    return row, slot


def canonical_rows(
    values: npt.NDArray[Any], index: npt.NDArray[np.int32], name: str = "params.W_rec"
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int32]]:
    """The rows of a ``(N, K)`` :class:`~jaxinit.sparse.RowSparse` made canonical.

    Each row is sorted by column, its values moving with their indices (a
    stable sort: a row already canonical is returned bit for bit), the
    padding slots (index ``N``) come last and hold 0, and the slots past
    ``N`` (padding only, then) are dropped: the same matrix. New arrays are
    returned; the inputs are not changed. Raises ``ValueError`` naming
    ``name`` when a row holds a column twice: a file stores each connection
    once, and adding the two would change the network under Dale's law
    (``|a| + |b|`` is not ``|a + b|``).

    Example:
      >>> v, i = canonical_rows(np.array([[5.0, 2.0, 7.0]]), np.array([[1, 0, 0]], np.int32))
      Traceback (most recent call last):
      ValueError: params.W_rec holds column 0 twice in row 0 (a file stores each ...
      >>> v, i = canonical_rows(np.array([[5.0, 2.0, 7.0]]), np.array([[1, 0, 1]], np.int32))
      >>> v.tolist(), i.tolist()
      ([[2.0]], [[0]])
    """
    n = index.shape[0]
    order = np.argsort(index, axis=1, kind="stable")
    index = np.take_along_axis(index, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    stored = index < n
    twice = stored[:, 1:] & (index[:, 1:] == index[:, :-1])
    if twice.any():
        row, slot = first_true(twice)
        raise ValueError(
            f"{name} holds column {int(index[row, slot])} twice in row {row} (a file stores "
            "each connection once); keep one slot for it"
        )
    values = np.where(stored | (values == 0), values, np.zeros((), values.dtype))
    return values[:, :n], index[:, :n]


def _fail(source: EntrySource, key: str, problem: str) -> NoReturn:
    raise source.error(key, problem)


def check_rows(
    source: EntrySource, values: npt.NDArray[Any], index: npt.NDArray[Any]
) -> int:
    """Check the rows of ``W_rec`` read from a file; return ``N_rec``.

    ``index`` must be int32 of shape ``(N_rec, K)`` with ``K <= N_rec``,
    each row's stored indices in ``0 .. N_rec - 1`` and strictly
    increasing, followed by its padding slots (index ``N_rec``); ``values``
    must have the same shape, be finite, and hold 0 in every padding slot.
    The first defect raises an :class:`~jaxinit.NpzError` naming the entry,
    the row, the slot and the value. Memory: a few ``(N_rec, K)`` arrays.
    """
    if index.dtype != np.int32:
        _fail(source, INDEX_KEY, f"must hold int32 column indices, got dtype {index.dtype}")
    if index.ndim != 2:
        _fail(source, INDEX_KEY, f"must be a matrix of shape (N_rec, K), got shape {index.shape}")
    if values.shape != index.shape:
        _fail(
            source,
            VALUES_KEY,
            f"has shape {values.shape} but {INDEX_KEY!r} has shape {index.shape}; both are "
            "(N_rec, K)",
        )
    n, k = index.shape
    if n == 0:
        _fail(source, INDEX_KEY, f"must not be empty, got shape {index.shape}")
    if k > n:
        _fail(
            source,
            INDEX_KEY,
            f"has K={k} slots per row, more than N_rec={n}: a row holds each column at most once",
        )
    _check_index(source, index, n)
    finite = np.isfinite(values)
    if not finite.all():
        row, slot = first_true(~finite)
        _fail(
            source,
            VALUES_KEY,
            f"must be finite, got {values[row, slot].item()!r} (row {row}, slot {slot})",
        )
    padded = (index == n) & (values != 0)
    if padded.any():
        row, slot = first_true(padded)
        _fail(
            source,
            VALUES_KEY,
            f"holds {values[row, slot].item()!r} in a padding slot (row {row}, slot {slot}, "
            f"index {n}); padding slots hold 0",
        )
    return n


def _check_index(source: EntrySource, index: npt.NDArray[np.int32], n: int) -> None:
    negative = index < 0
    if negative.any():
        row, slot = first_true(negative)
        _fail(
            source,
            INDEX_KEY,
            f"holds a negative index {int(index[row, slot])} (row {row}, slot {slot}); "
            f"indices lie in 0..{n}",
        )
    beyond = index > n
    if beyond.any():
        row, slot = first_true(beyond)
        _fail(
            source,
            INDEX_KEY,
            f"holds index {int(index[row, slot])} (row {row}, slot {slot}), beyond N_rec={n}; "
            f"indices lie in 0..{n} ({n} marks a padding slot)",
        )
    if index.shape[1] < 2:
        return
    stored = index < n
    late = stored[:, 1:] & ~stored[:, :-1]
    if late.any():
        row, slot = first_true(late)
        _fail(
            source,
            INDEX_KEY,
            f"row {row} holds column {int(index[row, slot + 1])} in slot {slot + 1} after a "
            f"padding slot (index {n}) in slot {slot}; padding slots come last in a row",
        )
    step = np.diff(index, axis=1)  # no overflow: every index is in 0..n
    twice = stored[:, 1:] & (step == 0)
    if twice.any():
        row, slot = first_true(twice)
        _fail(
            source,
            INDEX_KEY,
            f"row {row} holds column {int(index[row, slot])} twice (slots {slot} and "
            f"{slot + 1}); a row stores each column once",
        )
    down = stored[:, 1:] & (step < 0)
    if down.any():
        row, slot = first_true(down)
        _fail(
            source,
            INDEX_KEY,
            f"row {row} is not sorted: column {int(index[row, slot])} in slot {slot} comes "
            f"before column {int(index[row, slot + 1])} in slot {slot + 1}; the stored "
            "indices of a row must increase",
        )


def _entry(source: EntrySource, key: str, dtype: DType) -> npt.NDArray[Any]:
    array = source.array(key)
    if array.dtype != np.dtype(dtype):
        _fail(source, key, f"has dtype {array.dtype} but the metadata records {dtype}")
    return array


def read_arrays(
    source: EntrySource, meta: Metadata
) -> tuple[dict[str, npt.NDArray[Any]], npt.NDArray[Any], npt.NDArray[np.int32]]:
    """The checked arrays of a row-sparse file: the dense ones (PsychRNN's names,
    the Dale signs as diagonals), and ``W_rec``'s values and index."""
    source.require(ENTRY_NAMES, "; jaxinit writes them in every row-sparse file: it is incomplete")
    index = source.array(INDEX_KEY)
    values = _entry(source, VALUES_KEY, meta.dtype)
    n = check_rows(source, values, index)
    arrays = {PSYCHRNN_NAME[f]: _entry(source, SPARSE_PREFIX + f, meta.dtype) for f in DENSE_FIELDS}
    names = {PSYCHRNN_NAME[f]: SPARSE_PREFIX + f for f in DENSE_FIELDS}

    def fail(key: str, problem: str) -> NoReturn:
        _fail(source, key, problem)

    check_network(arrays, fail, diagonals=True, names=names, n_rec=n)
    return arrays, values, index


def to_sparse_params(
    source: EntrySource,
    arrays: Mapping[str, npt.NDArray[Any]],
    values: npt.NDArray[Any],
    index: npt.NDArray[np.int32],
    dtype: DType,
    dale_ratio: float | None,
    transfer: str,
) -> SparseParams:
    """The :class:`~jaxinit.sparse.SparseParams` of checked arrays, cast to ``dtype``."""
    fields: dict[str, npt.ArrayLike] = {f: arrays[PSYCHRNN_NAME[f]] for f in DENSE_FIELDS}
    fields["W_rec"] = values
    where = {f: SPARSE_PREFIX + f for f in DENSE_FIELDS}
    where["W_rec"] = VALUES_KEY
    cast = cast_arrays(source, fields, dtype, where)
    W_rec = RowSparse(cast.pop("W_rec"), jnp.asarray(index), int(index.shape[0]))
    return SparseParams(W_rec=W_rec, **cast, dale_ratio=dale_ratio, transfer_function=transfer)
