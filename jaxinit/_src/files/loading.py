"""``load_npz``: read a network from a jaxinit or a PsychRNN ``.npz`` file, safely."""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.files import assemble, limits, rowsparse
from jaxinit._src.files.archive import as_path, open_archive
from jaxinit._src.files.entries import EntrySource
from jaxinit._src.files.errors import EditedFileWarning
from jaxinit._src.files.layout import (
    GIVEN_PREFIX,
    METADATA_KEY,
    RAW_PREFIX,
    written_dale_ratio,
)
from jaxinit._src.files.metadata import Metadata, parse_metadata
from jaxinit._src.files.validate import digest
from jaxinit._src.names import (
    DTYPES,
    PSYCHRNN_NAMES,
    WEIGHT_NAMES,
    DType,
    TransferFunctionName,
)
from jaxinit._src.params import Params
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.transfer import transfer_function_name


@dataclasses.dataclass(frozen=True, eq=False)
class FileContents:
    """What :func:`read_file` found.

    Attributes:
      params: the network (a ``SparseParams`` for a row-sparse file).
      metadata: jaxinit's metadata dict, or None for a PsychRNN file.
      given: the recipe's given arrays stored in the file (name to array).
      edited: the PsychRNN entries changed after jaxinit wrote the file (then
        ``params`` is what PsychRNN runs and the recipe is not to be trusted).
    """

    params: Params | SparseParams
    metadata: Mapping[str, Any] | None
    given: dict[str, npt.NDArray[Any]]
    edited: tuple[str, ...] = ()


def load_npz(
    path: str | os.PathLike[str],
    *,
    dtype: DType | None = None,
    transfer_function: TransferFunctionName | Callable[..., object] | None = None,
    max_bytes: int | None = None,
) -> Params | SparseParams:
    """Load a network from an ``.npz`` file written by jaxinit or by PsychRNN.

    * Files written by :func:`~jaxinit.save_npz` come back bit for bit (raw
      weights, masks, Dale signs, ``dale_ratio``, ``transfer_function``,
      dtype), with ``dale_ratio`` as jaxinit recorded it.
    * A jaxinit file whose PsychRNN entries were edited afterwards (say with
      ``d = dict(np.load(f, allow_pickle=True)); d["W_rec"] = ...;
      np.savez(f, **d)``) loads as PsychRNN would run it, from its PsychRNN
      entries, with an :class:`~jaxinit.EditedFileWarning` naming them.
    * Files written by PsychRNN (``RNN.save``, ``WeightInitializer.save``)
      load as PsychRNN loads them: their weight matrices are taken as the raw
      weights (``RNN.save`` writes effective ones, which masks, ``|.|`` and
      Dale leave unchanged), so ``jaxinit.effective(params)`` equals the
      weights a PsychRNN model built from the file uses. Optimizer slots
      (``W_rec/Adam``, ...) and other extra entries are ignored. The
      ``dale_ratio`` entry is taken literally: None is no Dale's law and a
      number is the ratio (0.0: every unit inhibitory; the smallest positive
      float64, which jaxinit writes for 0, is 0 as well). A 0.0 that
      ``Dale_rec`` contradicts (it marks excitatory units) can only mean
      PsychRNN's "off" and loads without Dale's law, with a
      :class:`~jaxinit.DaleRatioWarning`. A file without ``dale_ratio``
      (PsychRNN older than 1.0) loads without Dale's law and gives a
      :class:`~jaxinit.LegacyFileWarning`, as PsychRNN warns. Arrays are
      converted to float32 (PsychRNN's variables are float32) unless
      ``dtype`` says otherwise. A ``Dale_out`` with -1 entries, as PsychRNN
      1.0.0 writes by default, is kept.
    * A row-sparse file, written by :func:`~jaxinit.save_npz` from a
      :class:`~jaxinit.sparse.SparseParams`, comes back as a ``SparseParams``,
      bit for bit (its rows are canonical: ``save_npz`` sorts them). Its rows
      are checked in O(N_rec K) memory, never as an ``N_rec x N_rec``
      matrix: int32 indices in ``0..N_rec`` (``N_rec`` marks padding), each
      row's indices strictly increasing and its padding slots last and 0,
      at most ``N_rec`` slots a row, finite values, and shapes that agree
      with ``W_in`` and ``W_out``.

    Loading never runs code from the file. The only pickled entries PsychRNN
    writes, a ``dale_ratio`` of None and the ``transfer_function`` of its
    development branch, are read by an unpickler that imports nothing;
    anything else raises :class:`~jaxinit.UnsafePickleError`.

    Loading is bounded: only regular files are read (a device, a FIFO or a
    socket is refused before it is read), every entry's declared dtype and
    shape are checked against ``max_bytes`` and against the sizes the zip
    declares before its data is read, entries are streamed into arrays of
    exactly their declared size, and the metadata's JSON is measured
    (at most 1 MiB, nested at most 32 deep) before it is parsed. Values are
    checked to be finite after the cast to ``dtype``, and the metadata must
    agree with the arrays (sizes, ``dale_ratio`` against the Dale signs).

    Args:
      path: the file (exactly this name; no suffix is added).
      dtype: ``"float32"`` or ``"float64"`` to convert the arrays; None keeps
        the dtype jaxinit recorded, or float32 for PsychRNN files.
      transfer_function: a transfer-function name to use instead of the
        file's (PsychRNN 1.0.0 files do not record one; the default is
        ``"relu"``, PsychRNN's default).
      max_bytes: the most bytes of array data to read from the file, all
        entries together; None means 2 GiB
        (``jaxinit._src.files.limits.DEFAULT_MAX_BYTES``). A bigger file is
        refused with an ``NpzError`` naming the entry that went over.

    Returns:
      The :class:`~jaxinit.Params`, or a :class:`~jaxinit.sparse.SparseParams`
      for a row-sparse file.

    Raises:
      NpzError: (a ``ValueError``) the file is corrupt, truncated, lacks an
        entry, or an entry has the wrong shape or values, or it holds more
        than ``max_bytes``, or it is not a regular file (a device, a FIFO, a
        socket); the message names the file and the entry.
      UnsafePickleError: (an ``NpzError``) an entry holds a pickle that is
        not on the allow-list.
      FileNotFoundError: there is no such file.
      IsADirectoryError: ``path`` is a folder.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, alpha=0.9)
      >>> p = jaxinit.alpha_identity(jax.random.key(0), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     path = jaxinit.save_npz(os.path.join(tmp, "net.npz"), p)
      ...     q = jaxinit.load_npz(path)
      >>> q.N_rec, q.dale_ratio, bool((q.W_rec == p.W_rec).all())
      (8, None, True)
    """
    contents = read_file(
        path, dtype=dtype, transfer_function=transfer_function, max_bytes=max_bytes
    )
    return contents.params


def read_file(
    path: str | os.PathLike[str],
    *,
    dtype: DType | None = None,
    transfer_function: TransferFunctionName | Callable[..., object] | None = None,
    max_bytes: int | None = None,
) -> FileContents:
    """Read a network file; see :func:`load_npz`. Also returns the metadata."""
    file = as_path("path", path)
    checked: DType | None = None
    if dtype is not None:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"dtype must be 'float32', 'float64' or None, got {dtype!r}") from None
        if name not in DTYPES:
            raise ValueError(f"dtype must be 'float32', 'float64' or None, got {name!r}")
        checked = name
    transfer = None if transfer_function is None else transfer_function_name(transfer_function)
    with open_archive(file, limits.max_bytes_value(max_bytes)) as reader:
        return read_source(reader, checked, transfer)


def read_source(
    source: EntrySource, dtype: DType | None = None, transfer_function: str | None = None
) -> FileContents:
    """Read a network from the entries of ``source`` (a file's, or ones about to be saved)."""
    if METADATA_KEY in source.keys:
        return _read_jaxinit(source, dtype, transfer_function)
    return _read_psychrnn(source, dtype, transfer_function)


# -- pieces shared by both file kinds -----------------------------------------


def _check_dtype_available(reader: EntrySource, dtype: str) -> None:
    if dtype == "float64":
        try:
            checks.x64_enabled("loading as float64 (or pass dtype='float32')")
        except ValueError as err:
            raise reader.error(None, str(err)) from None


def _read_entries(reader: EntrySource) -> dict[str, npt.NDArray[Any]]:
    """The PsychRNN array entries, exactly as stored."""
    reader.require(PSYCHRNN_NAMES, f"; a PsychRNN weights file has {', '.join(PSYCHRNN_NAMES)}")
    return {key: reader.array(key) for key in PSYCHRNN_NAMES}


# -- PsychRNN files -------------------------------------------------------------


def _read_psychrnn(
    reader: EntrySource, dtype: DType | None, transfer_function: str | None
) -> FileContents:
    dtype = dtype or "float32"
    _check_dtype_available(reader, dtype)
    arrays = assemble.checked_network(reader, _read_entries(reader))
    dale_ratio = assemble.entry_dale_ratio(reader, arrays, None)
    if transfer_function is None:
        transfer_function = "relu"
        if "transfer_function" in reader.keys:
            transfer_function = assemble.file_transfer_function(reader)
    params = assemble.to_params(reader, arrays, dtype, dale_ratio, transfer_function)
    return FileContents(params, None, {})


# -- jaxinit files ----------------------------------------------------------------


def _read_jaxinit(
    reader: EntrySource, dtype: DType | None, transfer_function: str | None
) -> FileContents:
    meta = parse_metadata(reader.path, reader.value(METADATA_KEY))
    dtype = dtype or meta.dtype
    _check_dtype_available(reader, dtype)
    transfer = transfer_function or meta.transfer_function
    if meta.layout == "row_sparse":
        arrays, values, index = rowsparse.read_arrays(reader, meta)
        _check_sizes(reader, meta, arrays)
        sparse = rowsparse.to_sparse_params(
            reader, arrays, values, index, dtype, meta.dale_ratio, transfer
        )
        return FileContents(sparse, meta.raw, {})
    raw_keys = [RAW_PREFIX + name for name in WEIGHT_NAMES]
    reader.require(raw_keys, "; jaxinit writes them with every file: it is incomplete")
    written = _read_entries(reader)
    arrays = assemble.checked_network(reader, written)
    _check_sizes(reader, meta, arrays)
    edited = _changed_entries(reader, meta, written)
    if not edited:
        raw, differing = _raw_network(reader, meta, arrays, written)
        if differing and meta.version > 1:  # the digests vouch for the PsychRNN entries
            raise reader.error(
                RAW_PREFIX + differing[0],
                f"does not give the file's {differing[0]} (its effective matrix): jaxinit's "
                "own entries were changed after jaxinit wrote the file",
            )
        edited = differing  # format 1 has no digests: the PsychRNN entries changed
    given = _given(reader, meta.raw)
    if edited:
        _warn_edited(reader.path, edited)
        ratio = assemble.entry_dale_ratio(reader, arrays, meta.version)
        params = assemble.to_params(reader, arrays, dtype, ratio, transfer)
        return FileContents(params, meta.raw, given, tuple(edited))
    where = {name: RAW_PREFIX + name for name in WEIGHT_NAMES}
    params = assemble.to_params(reader, raw, dtype, meta.dale_ratio, transfer, where)
    return FileContents(params, meta.raw, given)


def _check_sizes(
    reader: EntrySource, meta: Metadata, arrays: Mapping[str, npt.NDArray[Any]]
) -> None:
    """The metadata's sizes and ``dale_ratio`` must describe the arrays."""
    n_rec, n_in = arrays["W_in"].shape
    actual = {"N_in": n_in, "N_rec": n_rec, "N_out": arrays["W_out"].shape[0]}
    for name, size in meta.sizes.items():
        if actual[name] != size:
            raise reader.error(
                METADATA_KEY,
                f"records {name}={size} but the arrays have {name}={actual[name]} "
                f"(W_in {arrays['W_in'].shape}, W_out {arrays['W_out'].shape})",
            )
    assemble.check_dale_agreement(reader, meta.dale_ratio, arrays, METADATA_KEY)


def _changed_entries(
    reader: EntrySource, meta: Metadata, written: Mapping[str, npt.NDArray[Any]]
) -> list[str]:
    """PsychRNN entries that are not what jaxinit wrote (format 1: as far as it can tell)."""
    if meta.version > 1:
        changed = [n for n in PSYCHRNN_NAMES if meta.digests.get(n) != digest(written[n])]
    else:
        changed = [n for n in PSYCHRNN_NAMES if written[n].dtype != np.dtype(meta.dtype)]
    expected = written_dale_ratio(meta.dale_ratio, meta.version)
    value = reader.value("dale_ratio") if "dale_ratio" in reader.keys else "missing"
    same = value is None if expected is None else isinstance(value, float) and value == expected
    if not same:
        changed.append("dale_ratio")
    return changed


def _raw_network(
    reader: EntrySource,
    meta: Metadata,
    arrays: Mapping[str, npt.NDArray[Any]],
    written: Mapping[str, npt.NDArray[Any]],
) -> tuple[dict[str, npt.NDArray[Any]], list[str]]:
    """The arrays with the raw matrices, and the matrices they do not give as written."""
    raw = dict(arrays)
    for name in WEIGHT_NAMES:
        raw[name] = reader.array(RAW_PREFIX + name)
        if raw[name].shape != written[name].shape:
            raise reader.error(
                RAW_PREFIX + name,
                f"has shape {raw[name].shape} but {name} has {written[name].shape}",
            )
    for name, array in raw.items():
        if array.dtype != np.dtype(meta.dtype):
            entry = RAW_PREFIX + name if name in WEIGHT_NAMES else name
            raise reader.error(
                entry, f"has dtype {array.dtype} but the metadata records {meta.dtype}"
            )
    where = {name: RAW_PREFIX + name for name in WEIGHT_NAMES}
    params = assemble.to_params(
        reader, raw, meta.dtype, meta.dale_ratio, meta.transfer_function, where
    )
    eff = effective(params)._asdict()
    differing = [n for n in WEIGHT_NAMES if not _same_effective(np.asarray(eff[n]), written[n])]
    return raw, differing


def _same_effective(computed: npt.NDArray[Any], written: npt.NDArray[Any]) -> bool:
    # Equal, except that one side may have flushed a subnormal to zero (CPUs
    # and GPUs differ there).
    tiny = np.finfo(computed.dtype).tiny
    both_tiny = (np.abs(computed) < tiny) & (np.abs(written) < tiny)
    return bool(np.all((computed == written) | both_tiny))


def _warn_edited(path: str, edited: Sequence[str]) -> None:
    names = ", ".join(repr(n) for n in edited)
    warnings.warn(
        f"{path}: the PsychRNN entries {names} were changed after jaxinit wrote the file; "
        "loading the network PsychRNN runs from them (jaxinit/raw entries ignored). The "
        "recipe recorded in the file no longer describes it.",
        EditedFileWarning,
        stacklevel=assemble.STACKLEVEL,
    )


def _given(reader: EntrySource, metadata: Mapping[str, Any]) -> dict[str, npt.NDArray[Any]]:
    given: dict[str, npt.NDArray[Any]] = {}
    for name in (metadata.get("provenance") or {}).get("given") or []:
        if GIVEN_PREFIX + name in reader.keys:
            given[name] = reader.array(GIVEN_PREFIX + name)
    return given
