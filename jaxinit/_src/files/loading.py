"""``load_npz``: read a network from a jaxinit or a PsychRNN ``.npz`` file, safely."""

from __future__ import annotations

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src.effective import effective
from jaxinit._src.files import records
from jaxinit._src.files.archive import Reader, as_path, open_archive
from jaxinit._src.files.errors import DaleRatioWarning, EditedFileWarning, LegacyFileWarning
from jaxinit._src.files.layout import (
    GIVEN_PREFIX,
    METADATA_KEY,
    PSYCHRNN_KEYS,
    RAW_PREFIX,
    read_dale_ratio,
    written_dale_ratio,
)
from jaxinit._src.files.unpickle import FunctionRef, transfer_name_of_reference
from jaxinit._src.files.validate import check_network, digest
from jaxinit._src.names import ARRAY_FIELDS, WEIGHT_NAMES
from jaxinit._src.params import Params
from jaxinit._src.transfer import TRANSFER_FUNCTIONS, transfer_function_name

#: Warnings point at the caller of load_npz (load_npz, read_file, _read_*, the helper).
_STACKLEVEL = 5


@dataclasses.dataclass(frozen=True, eq=False)
class FileContents:
    """What :func:`read_file` found.

    Attributes:
      params: the network.
      metadata: jaxinit's metadata dict, or None for a PsychRNN file.
      given: the recipe's given arrays stored in the file (name to array).
      edited: the PsychRNN entries changed after jaxinit wrote the file (then
        ``params`` is what PsychRNN runs and the recipe is not to be trusted).
    """

    params: Params
    metadata: dict | None
    given: dict[str, np.ndarray]
    edited: tuple[str, ...] = ()


def load_npz(path, *, dtype=None, transfer_function=None) -> Params:
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

    Loading never runs code from the file. The only pickled entries PsychRNN
    writes, a ``dale_ratio`` of None and the ``transfer_function`` of its
    development branch, are read by an unpickler that imports nothing;
    anything else raises :class:`~jaxinit.UnsafePickleError`.

    Args:
      path: the file (exactly this name; no suffix is added).
      dtype: ``"float32"`` or ``"float64"`` to convert the arrays; None keeps
        the dtype jaxinit recorded, or float32 for PsychRNN files.
      transfer_function: a transfer-function name to use instead of the
        file's (PsychRNN 1.0.0 files do not record one; the default is
        ``"relu"``, PsychRNN's default).

    Returns:
      The :class:`~jaxinit.Params`.

    Raises:
      NpzError: (a ``ValueError``) the file is corrupt, truncated, lacks an
        entry, or an entry has the wrong shape or values; the message names
        the file and the entry.
      UnsafePickleError: (an ``NpzError``) an entry holds a pickle that is
        not on the allow-list.
      FileNotFoundError: there is no such file.

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
    return read_file(path, dtype=dtype, transfer_function=transfer_function).params


def read_file(path, *, dtype=None, transfer_function=None) -> FileContents:
    """Read a network file; see :func:`load_npz`. Also returns the metadata."""
    path = as_path("path", path)
    if dtype is not None:
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"dtype must be 'float32', 'float64' or None, got {dtype!r}") from None
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32', 'float64' or None, got {dtype!r}")
    if transfer_function is not None:
        transfer_function = transfer_function_name(transfer_function)
    with open_archive(path) as reader:
        if METADATA_KEY in reader.keys:
            return _read_jaxinit(reader, dtype, transfer_function)
        return _read_psychrnn(reader, dtype, transfer_function)


# -- pieces shared by both file kinds -----------------------------------------


def _check_dtype_available(reader: Reader, dtype: str) -> None:
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise reader.error(
            None,
            "loading as float64 needs 64-bit JAX: call jax.config.update('jax_enable_x64', "
            "True) first, or pass dtype='float32'",
        )


def _read_entries(reader: Reader) -> dict[str, np.ndarray]:
    """The PsychRNN array entries, exactly as stored."""
    reader.require(PSYCHRNN_KEYS, f"; a PsychRNN weights file has {', '.join(PSYCHRNN_KEYS)}")
    return {key: reader.array(key) for key in PSYCHRNN_KEYS}


def _checked(reader: Reader, written: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The stored entries with ``init_state`` flattened, checked as a network."""
    arrays = dict(written)
    n_rec = arrays["W_rec"].shape[0] if arrays["W_rec"].ndim == 2 else None
    if n_rec is not None and arrays["init_state"].shape == (1, n_rec):
        arrays["init_state"] = arrays["init_state"].reshape(n_rec)

    def fail(name, problem):
        raise reader.error(name, problem)

    check_network(arrays, fail, diagonals=False)
    return arrays


def _params(arrays, dtype, dale_ratio, transfer) -> Params:
    fields = {name: arrays[name] for name in ARRAY_FIELDS if not name.startswith("dale_")}
    fields["dale_rec_diag"] = np.diagonal(arrays["Dale_rec"])
    fields["dale_out_diag"] = np.diagonal(arrays["Dale_out"])
    return Params(
        **{name: jnp.asarray(np.asarray(value, dtype=dtype)) for name, value in fields.items()},
        dale_ratio=dale_ratio,
        transfer_function=transfer,
    )


def _entry_dale_ratio(reader: Reader, arrays, version: int | None) -> float | None:
    """The ``dale_ratio`` entry read as PsychRNN runs it (``version``: jaxinit's, or None)."""
    if "dale_ratio" not in reader.keys:
        warnings.warn(
            f"{reader.path} has no 'dale_ratio' entry: it was written by PsychRNN older than "
            "1.0, whose Dale matrices follow another convention. Like PsychRNN, jaxinit loads "
            "it without Dale's law; to apply Dale's law, add the right 'dale_ratio' to the file.",
            LegacyFileWarning,
            stacklevel=_STACKLEVEL,
        )
        return None
    value = reader.value("dale_ratio")
    try:
        ratio = read_dale_ratio(value, version)
    except ValueError as err:
        raise reader.error("dale_ratio", str(err)) from None
    excitatory = int(np.count_nonzero(np.diagonal(arrays["Dale_rec"]) > 0))
    if ratio == 0.0 and value == 0 and excitatory:
        warnings.warn(
            f"{reader.path}: dale_ratio is 0.0 (every unit inhibitory) but Dale_rec marks "
            f"{excitatory} units excitatory; PsychRNN 1.0.0 (which tests 'if dale_ratio:') runs "
            "this file without Dale's law, and so does jaxinit. Write dale_ratio=None for no "
            "Dale's law, or a Dale_rec of -1 entries for all inhibitory units.",
            DaleRatioWarning,
            stacklevel=_STACKLEVEL,
        )
        return None
    return ratio


def _file_transfer_function(reader: Reader) -> str:
    value = reader.value("transfer_function")
    if isinstance(value, FunctionRef):
        name = transfer_name_of_reference(value.module, value.name)
    elif isinstance(value, str):
        name = value if value in TRANSFER_FUNCTIONS else None
    else:
        name = None
    if name is None:
        raise reader.error(
            "transfer_function",
            f"holds {value!r}, which jaxinit does not know; pass "
            f"transfer_function= (one of {sorted(TRANSFER_FUNCTIONS)}) to load_npz",
        )
    return name


# -- PsychRNN files -------------------------------------------------------------


def _read_psychrnn(reader: Reader, dtype, transfer_function) -> FileContents:
    dtype = dtype or "float32"
    _check_dtype_available(reader, dtype)
    arrays = _checked(reader, _read_entries(reader))
    dale_ratio = _entry_dale_ratio(reader, arrays, None)
    if transfer_function is None:
        transfer_function = "relu"
        if "transfer_function" in reader.keys:
            transfer_function = _file_transfer_function(reader)
    return FileContents(_params(arrays, dtype, dale_ratio, transfer_function), None, {})


# -- jaxinit files ----------------------------------------------------------------


def _read_jaxinit(reader: Reader, dtype, transfer_function) -> FileContents:
    meta = records.parse_metadata(reader.path, reader.value(METADATA_KEY))
    _check_dtype_available(reader, dtype or meta.dtype)
    raw_keys = [RAW_PREFIX + name for name in WEIGHT_NAMES]
    reader.require(raw_keys, "; jaxinit writes them with every file: it is incomplete")
    written = _read_entries(reader)
    arrays = _checked(reader, written)
    transfer = transfer_function or meta.transfer_function
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
    if edited:
        _warn_edited(reader.path, edited)
        ratio = _entry_dale_ratio(reader, arrays, meta.version)
        params = _params(arrays, dtype or meta.dtype, ratio, transfer)
        return FileContents(params, meta.raw, _given(reader, meta.raw), tuple(edited))
    params = _params(raw, dtype or meta.dtype, meta.dale_ratio, transfer)
    return FileContents(params, meta.raw, _given(reader, meta.raw))


def _changed_entries(reader: Reader, meta: records.Metadata, written) -> list[str]:
    """PsychRNN entries that are not what jaxinit wrote (format 1: as far as it can tell)."""
    if meta.version > 1:
        changed = [n for n in PSYCHRNN_KEYS if meta.digests.get(n) != digest(written[n])]
    else:
        changed = [n for n in PSYCHRNN_KEYS if written[n].dtype != np.dtype(meta.dtype)]
    expected = written_dale_ratio(meta.dale_ratio, meta.version)
    value = reader.value("dale_ratio") if "dale_ratio" in reader.keys else "missing"
    same = value is None if expected is None else isinstance(value, float) and value == expected
    if not same:
        changed.append("dale_ratio")
    return changed


def _raw_network(reader: Reader, meta, arrays, written) -> tuple[dict, list[str]]:
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
            where = RAW_PREFIX + name if name in WEIGHT_NAMES else name
            raise reader.error(
                where, f"has dtype {array.dtype} but the metadata records {meta.dtype}"
            )
    params = _params(raw, meta.dtype, meta.dale_ratio, meta.transfer_function)
    eff = effective(params)._asdict()
    differing = [n for n in WEIGHT_NAMES if not _same_effective(np.asarray(eff[n]), written[n])]
    return raw, differing


def _same_effective(computed: np.ndarray, written: np.ndarray) -> bool:
    # Equal, except that one side may have flushed a subnormal to zero (CPUs
    # and GPUs differ there).
    tiny = np.finfo(computed.dtype).tiny
    both_tiny = (np.abs(computed) < tiny) & (np.abs(written) < tiny)
    return bool(np.all((computed == written) | both_tiny))


def _warn_edited(path: str, edited) -> None:
    names = ", ".join(repr(n) for n in edited)
    warnings.warn(
        f"{path}: the PsychRNN entries {names} were changed after jaxinit wrote the file; "
        "loading the network PsychRNN runs from them (jaxinit/raw entries ignored). The "
        "recipe recorded in the file no longer describes it.",
        EditedFileWarning,
        stacklevel=_STACKLEVEL,
    )


def _given(reader: Reader, metadata: dict) -> dict[str, np.ndarray]:
    given = {}
    for name in (metadata.get("provenance") or {}).get("given", []):
        if GIVEN_PREFIX + str(name) in reader.keys:
            given[name] = reader.array(GIVEN_PREFIX + str(name))
    return given
