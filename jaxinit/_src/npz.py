"""Saving and loading networks as ``.npz`` files that PsychRNN reads.

File layout written by :func:`save_npz` (all arrays in the params' dtype,
float32 by default; no entry needs pickle, so ``np.load(path,
allow_pickle=False)`` reads every one):

* ``W_in``, ``W_rec``, ``W_out``: the EFFECTIVE matrices
  (``jaxinit.effective(params)``), as PsychRNN's ``RNN.save`` writes them;
* ``b_rec``, ``b_out``: the biases;
* ``init_state``: shape ``(1, N_rec)``, as ``RNN.save`` writes it;
* ``input_connectivity``, ``rec_connectivity``, ``output_connectivity``: the
  0/1 masks;
* ``Dale_rec``, ``Dale_out``: the dense diagonal ``(N_rec, N_rec)`` Dale
  matrices PsychRNN multiplies by;
* ``dale_ratio``: a 0-d float64. It is the ratio itself, except that "no
  Dale's law" (None) is written as ``0.0``, which PsychRNN treats as no
  Dale's law (it tests ``if dale_ratio:``), and a ratio of exactly 0 (all
  units inhibitory) is written as the smallest positive float64, so that
  PsychRNN keeps Dale's law on (``int(ratio * N_rec)`` is still 0);
* ``jaxinit/raw/W_in``, ``jaxinit/raw/W_rec``, ``jaxinit/raw/W_out``: the raw
  matrices (before masks and Dale), for a bitwise round trip;
* ``jaxinit/given/<name>``: the arrays passed to the initializer (only with
  provenance);
* ``jaxinit/metadata``: a 0-d unicode array holding JSON: the format name and
  version, dtype, ``dale_ratio``, ``transfer_function``, sizes, the versions
  of jaxinit, jax, jaxlib, numpy and python, and the provenance (initializer,
  config, key) or null.

Because PsychRNN applies masks, ``|.|`` and the Dale signs again to the
loaded matrices, and that leaves effective matrices unchanged, a PsychRNN
model built with ``load_weights_path`` uses exactly ``effective(params)``.
PsychRNN keeps the extra ``jaxinit/`` entries in its dict and never uses them.
No ``transfer_function`` entry is written: PsychRNN 1.0.0 takes it from the
model's parameters (its development branch loads a pickled function when
present and otherwise falls back to ReLU with a warning).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import pickle
import secrets
import stat
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks, provenance
from jaxinit._src.effective import effective
from jaxinit._src.names import ARRAY_FIELDS, PSYCHRNN_NAMES, psychrnn_shapes
from jaxinit._src.params import Params
from jaxinit._src.transfer import TRANSFER_FUNCTIONS, transfer_function_name

FORMAT_NAME = "jaxinit.npz"
FORMAT_VERSION = 1
METADATA_KEY = "jaxinit/metadata"
RAW_PREFIX = "jaxinit/raw/"
GIVEN_PREFIX = "jaxinit/given/"

#: The entries PsychRNN 1.0.0 needs in a weights file (it reads each one).
PSYCHRNN_KEYS = PSYCHRNN_NAMES
_MATRICES = ("W_in", "W_rec", "W_out")
_MASKS = ("input_connectivity", "rec_connectivity", "output_connectivity")

#: ``dale_ratio`` written for a jaxinit ratio of exactly 0 (all units
#: inhibitory): PsychRNN tests ``if dale_ratio:``, so 0.0 would switch Dale's
#: law off there; ``int(tiny * N_rec)`` is still 0 excitatory units.
_TINY_RATIO = float(np.finfo(np.float64).tiny)


class NpzError(ValueError):
    """A file is not a usable network file: corrupt, incomplete or inconsistent.

    Attributes:
      path: the file.
      key: the entry at fault, or None when the whole file is.
    """

    def __init__(self, path, key, problem):
        self.path = os.fspath(path)
        self.key = key
        where = f"{self.path}" if key is None else f"{self.path}, entry {key!r}"
        super().__init__(f"{where}: {problem}")


class UnsafePickleError(NpzError):
    """A file holds a pickle that would import or run something not on the allow-list."""


class LegacyFileWarning(UserWarning):
    """A PsychRNN file from before version 1.0 (no ``dale_ratio`` entry) was loaded."""


# ---------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------


def save_npz(path, params: Params, *, initializer=None, key=None, config=None, given=None):
    """Save a network as an ``.npz`` file that PsychRNN loads as its weights.

    The file holds the effective ``W_in``, ``W_rec``, ``W_out`` under
    PsychRNN's names (so ``Basic(dict(..., load_weights_path=path))`` uses
    exactly ``jaxinit.effective(params)``), the other arrays as PsychRNN's
    ``RNN.save`` writes them, and, under ``jaxinit/`` entries PsychRNN
    ignores, the raw matrices and metadata so that :func:`load_npz` returns
    ``params`` bit for bit. Nothing in the file needs pickle.

    Pass ``initializer``, ``key`` and ``config`` (and ``given``, the arrays
    you passed to the initializer) to record how the network was made;
    :func:`~jaxinit.reproduce` can then make it again and check it. They are
    recorded as given, not checked by running the initializer. The versions
    of jaxinit, JAX, jaxlib and NumPy are always recorded.

    The write is atomic: the data goes to a temporary file in the same
    folder, is flushed to disk, and then replaces ``path`` in one step, so an
    interrupted save never leaves a half-written file at ``path`` (a killed
    process may leave a ``.<name>.<random>.tmp`` file behind).

    Args:
      path: where to write. Like ``np.savez`` (and PsychRNN's ``save``),
        ``.npz`` is appended when the name does not end with it.
      params: a single network (an ensemble with leading axes is refused:
        PsychRNN cannot load one; save ``jax.tree.map(lambda x: x[i], params)``
        for each member).
      initializer: the jaxinit initializer that made ``params``, by name
        (``"gaussian_spectral_radius"``) or as the function.
      key: the PRNG key passed to it.
      config: the :class:`~jaxinit.Config` passed to it.
      given: dict of the arrays passed to it as ``**given`` (copied into the
        file).

    Returns:
      The ``pathlib.Path`` written (with the ``.npz`` suffix).

    Raises:
      TypeError: ``params`` is not a :class:`~jaxinit.Params`, or an argument
        has the wrong type.
      ValueError: ``params`` is an ensemble, holds non-finite values, masks
        that are not 0/1, or does not match ``config``; or only some of the
        provenance arguments were passed.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, dale_ratio=0.75)
      >>> key = jax.random.key(3)
      >>> p = jaxinit.gaussian_spectral_radius(key, cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     path = jaxinit.save_npz(os.path.join(tmp, "net"), p,
      ...                             initializer="gaussian_spectral_radius",
      ...                             key=key, config=cfg)
      ...     q = jaxinit.load_npz(path)
      ...     print(path.name)
      net.npz
      >>> bool((q.W_rec == p.W_rec).all()), q.dale_ratio
      (True, 0.75)
    """
    import pathlib

    target = _as_path("path", path)
    if not target.endswith(".npz"):
        target += ".npz"
    arrays = _arrays_from_params(params)
    record, given_arrays = provenance.make_record(
        params, initializer=initializer, key=key, config=config, given=given
    )
    entries = _entries(params, arrays, record, given_arrays)
    _atomic_save(target, entries)
    return pathlib.Path(target)


def _as_path(name: str, path: Any) -> str:
    if isinstance(path, (bytes, bytearray)):
        raise TypeError(f"{name} must be a str or os.PathLike, got bytes {path!r}")
    try:
        text = os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {path!r}") from None
    if isinstance(text, bytes):
        raise TypeError(f"{name} must be a str or os.PathLike, got bytes {path!r}")
    if not text:
        raise ValueError(f"{name} must not be empty, got {path!r}")
    return text


def _arrays_from_params(params: Params) -> dict[str, np.ndarray]:
    """The fields of ``params`` as numpy arrays, checked for saving."""
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    arrays = {}
    for name in ARRAY_FIELDS:
        value = getattr(params, name)
        if checks.is_traced(value):
            raise TypeError(
                f"params.{name} is a traced value: save_npz writes a file and cannot run "
                "inside jax.jit, jax.vmap or jax.grad"
            )
        arrays[name] = np.asarray(value)
    dtype = arrays["W_rec"].dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"params.W_rec must be float32 or float64, got dtype {dtype}")
    for name, array in arrays.items():
        if array.dtype != dtype:
            raise TypeError(
                f"params.{name} has dtype {array.dtype} but params.W_rec has {dtype}; "
                "every array of a saved network must share one dtype"
            )
    if dtype == np.float64 and not jax.config.jax_enable_x64:
        raise ValueError(
            "params are float64 but 64-bit JAX is off: call "
            "jax.config.update('jax_enable_x64', True) first"
        )
    if arrays["W_rec"].ndim > 2:
        raise ValueError(
            f"params is an ensemble of shape {tuple(arrays['W_rec'].shape[:-2])}; a PsychRNN "
            "file holds one network: save each member, e.g. "
            "jax.tree.map(lambda x: x[i], params)"
        )

    def fail(name, problem):
        raise ValueError(f"params.{name} {problem}")

    _check_network(
        {
            **{n: arrays[n] for n in ARRAY_FIELDS if not n.startswith("dale_")},
            "Dale_rec": arrays["dale_rec_diag"],
            "Dale_out": arrays["dale_out_diag"],
        },
        fail,
        diagonals=True,
        names={"Dale_rec": "dale_rec_diag", "Dale_out": "dale_out_diag"},
    )
    ratio = params.dale_ratio
    if ratio is not None:
        ratio = checks.finite_float("params.dale_ratio", ratio)
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"params.dale_ratio must be in [0, 1] or None, got {ratio!r}")
    try:
        transfer_function_name(params.transfer_function)
    except ValueError as err:
        raise ValueError(f"params.{err}") from None
    return arrays


def psychrnn_dale_ratio(dale_ratio: float | None) -> float:
    """The ``dale_ratio`` value written for PsychRNN (see the module docstring)."""
    if dale_ratio is None:
        return 0.0
    if dale_ratio == 0:
        return _TINY_RATIO
    return float(dale_ratio)


def _entries(params, arrays, record, given_arrays) -> dict[str, np.ndarray]:
    dtype = arrays["W_rec"].dtype
    # Compute with JAX arrays (as the loader does), whatever array type params holds.
    on_device = params.replace(**{name: jnp.asarray(a) for name, a in arrays.items()})
    eff = {k: np.asarray(v) for k, v in effective(on_device)._asdict().items()}
    n_rec = arrays["W_rec"].shape[-1]
    entries = {
        "W_in": eff["W_in"],
        "W_rec": eff["W_rec"],
        "W_out": eff["W_out"],
        "b_rec": arrays["b_rec"],
        "b_out": arrays["b_out"],
        "init_state": arrays["init_state"].reshape(1, n_rec),
        "input_connectivity": arrays["input_connectivity"],
        "rec_connectivity": arrays["rec_connectivity"],
        "output_connectivity": arrays["output_connectivity"],
        "Dale_rec": np.diag(arrays["dale_rec_diag"]).astype(dtype),
        "Dale_out": np.diag(arrays["dale_out_diag"]).astype(dtype),
        "dale_ratio": np.asarray(psychrnn_dale_ratio(params.dale_ratio), np.float64),
    }
    for name in _MATRICES:
        entries[RAW_PREFIX + name] = arrays[name]
    for name, array in given_arrays.items():
        entries[GIVEN_PREFIX + name] = array
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "params": {
            "dtype": np.dtype(dtype).name,
            "dale_ratio": None if params.dale_ratio is None else float(params.dale_ratio),
            "transfer_function": transfer_function_name(params.transfer_function),
            "N_in": int(arrays["W_in"].shape[-1]),
            "N_rec": int(n_rec),
            "N_out": int(arrays["W_out"].shape[-2]),
        },
        "versions": provenance.versions(),
        "provenance": record,
    }
    entries[METADATA_KEY] = np.asarray(json.dumps(metadata, sort_keys=True))
    return entries


def _write(file, entries: Mapping[str, np.ndarray]) -> None:
    """Write ``entries`` as an npz archive to the open binary ``file``."""
    np.savez(file, **entries)


def _atomic_save(target: str, entries: Mapping[str, np.ndarray]) -> None:
    real = os.path.realpath(target)  # write through a symlink, keep the link
    folder, base = os.path.split(real)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue
    try:
        try:
            file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with file:  # closes fd
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(os.stat(real).st_mode))  # keep the old file's mode
            _write(file, entries)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, real)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    # Make the rename itself durable; not every system can open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# Checking a network's arrays (shared by saving and loading)
# ---------------------------------------------------------------------------


def _check_network(arrays, fail, *, diagonals: bool, names=None) -> None:
    """Shapes, finiteness and allowed values of a network's arrays.

    ``arrays`` uses PsychRNN's names; ``Dale_rec``/``Dale_out`` are full
    matrices, or their diagonals when ``diagonals`` is True. ``fail(name,
    problem)`` raises; ``names`` maps PsychRNN's names to the names to report.
    """
    names = names or {}

    def bad(name, problem):
        fail(names.get(name, name), problem)

    for name in _MATRICES:
        if arrays[name].ndim != 2:
            bad(name, f"must be a matrix, got shape {arrays[name].shape}")
    n_rec = arrays["W_rec"].shape[0]
    n_in = arrays["W_in"].shape[1]
    n_out = arrays["W_out"].shape[0]
    expected = psychrnn_shapes(n_in, n_rec, n_out, dale_matrices=not diagonals)
    for name, size in (("W_rec", n_rec), ("W_in", n_in), ("W_out", n_out)):
        if size == 0:
            bad(name, f"must not be empty, got shape {arrays[name].shape}")
    for name, shape in expected.items():
        if arrays[name].shape != shape:
            bad(
                name, f"must have shape {shape} (from W_rec, W_in, W_out), got {arrays[name].shape}"
            )
    for name, array in arrays.items():
        if (
            not np.issubdtype(array.dtype, np.floating)
            and not np.issubdtype(array.dtype, np.integer)
            and array.dtype != np.bool_
        ):
            bad(name, f"must hold real numbers, got dtype {array.dtype}")
        if not np.isfinite(array).all():
            bad(name, f"must be finite, got {checks.first_bad(array, np.isfinite)!r} in it")
    for name in _MASKS:
        _check_values(arrays[name], (0, 1), lambda p, n=name: bad(n, p))
    for name, allowed in (("Dale_rec", (-1, 1)), ("Dale_out", (-1, 0, 1))):
        matrix = arrays[name]
        if diagonals:
            diag = matrix
        else:
            diag = np.diagonal(matrix)
            if np.count_nonzero(matrix - np.diag(diag)):
                bad(name, "must be a diagonal matrix, got a non-zero entry off the diagonal")
        _check_values(diag, allowed, lambda p, n=name: bad(n, p))


def _check_values(values, allowed, fail) -> None:
    ok = np.isin(values, allowed)
    if not ok.all():
        fail(f"must hold only {list(allowed)}, got {values[~ok].ravel()[0].item()!r}")


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class FileContents:
    """What :func:`read_file` found: the network, jaxinit's metadata, given arrays."""

    params: Params
    metadata: dict | None
    given: dict[str, np.ndarray]


def load_npz(path, *, dtype=None, transfer_function=None) -> Params:
    """Load a network from an ``.npz`` file written by jaxinit or by PsychRNN.

    * Files written by :func:`save_npz` come back bit for bit (raw weights,
      masks, Dale signs, ``dale_ratio``, ``transfer_function``, dtype).
    * Files written by PsychRNN (``RNN.save``, ``WeightInitializer.save``)
      load as PsychRNN loads them: their weight matrices are taken as the raw
      weights (``RNN.save`` writes effective ones, which masks, ``|.|`` and
      Dale leave unchanged), so ``jaxinit.effective(params)`` equals the
      weights a PsychRNN model built from the file uses. Optimizer slots
      (``W_rec/Adam``, ...) and other extra entries are ignored. A
      ``dale_ratio`` of 0 means "no Dale's law" as in PsychRNN (and the
      smallest positive float64, which :func:`save_npz` writes for a ratio
      of exactly 0, means 0 again). A file without ``dale_ratio`` (PsychRNN
      older than 1.0) loads without Dale's law and gives a
      :class:`LegacyFileWarning`, as PsychRNN warns. Arrays
      are converted to float32 (PsychRNN's variables are float32) unless
      ``dtype`` says otherwise. A ``Dale_out`` with -1 entries, as PsychRNN
      1.0.0 writes by default, is kept, so inhibitory units reach the outputs
      with negative weights exactly as they do in that PsychRNN model.

    Loading never runs code from the file. The only pickled entries PsychRNN
    writes, a ``dale_ratio`` of None and the ``transfer_function`` of its
    development branch, are read by an unpickler that imports nothing: it
    knows how NumPy pickles a 0-d object array and maps references such as
    ``tensorflow...gen_nn_ops.relu`` to jaxinit's transfer-function names.
    Anything else raises :class:`UnsafePickleError`.

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
    path = _as_path("path", path)
    if dtype is not None:
        try:
            dtype = np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"dtype must be 'float32', 'float64' or None, got {dtype!r}") from None
        if dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32', 'float64' or None, got {dtype!r}")
    if transfer_function is not None:
        transfer_function = transfer_function_name(transfer_function)
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        raise FileNotFoundError(f"no file {path!r}; did you mean {path + '.npz'!r}?")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise NpzError(path, None, f"not a valid .npz (zip) archive: {err}") from err
    except (OSError, EOFError, ValueError) as err:
        if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise NpzError(path, None, f"cannot be read as an .npz archive: {err}") from err
    with archive:
        reader = _Reader(path, archive)
        if METADATA_KEY in reader.keys:
            return _read_jaxinit(reader, dtype, transfer_function)
        return _read_psychrnn(reader, dtype, transfer_function)


class _Reader:
    """Reads single entries of an open npz archive, with errors naming them."""

    def __init__(self, path, archive: zipfile.ZipFile):
        self.path = path
        self.archive = archive
        self.keys = {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}

    def error(self, key, problem) -> NpzError:
        return NpzError(self.path, key, problem)

    def require(self, keys, hint="") -> None:
        missing = [k for k in keys if k not in self.keys]
        if missing:
            listed = ", ".join(repr(k) for k in missing)
            raise self.error(missing[0], f"missing (the file lacks {listed}){hint}")

    def _bytes(self, key) -> bytes:
        try:
            return self.archive.read(self.keys[key])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
            raise self.error(key, f"is corrupt or truncated: {err}") from err

    def _header(self, key, data: bytes):
        fp = io.BytesIO(data)
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except (ValueError, EOFError, SyntaxError) as err:
            raise self.error(key, f"is not a valid .npy array: {err}") from err
        return fp, shape, dtype

    def array(self, key) -> np.ndarray:
        """A numeric entry (an entry that needs pickle is refused)."""
        data = self._bytes(key)
        _, _, dtype = self._header(key, data)
        if dtype.hasobject:
            raise self.error(
                key,
                "holds pickled Python objects instead of numbers; jaxinit does not unpickle "
                "array entries",
            )
        try:
            array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise self.error(key, f"is corrupt or truncated: {err}") from err
        if not (
            np.issubdtype(array.dtype, np.floating)
            or np.issubdtype(array.dtype, np.integer)
            or array.dtype == np.bool_
        ):
            raise self.error(key, f"must hold real numbers, got dtype {array.dtype}")
        return array

    def value(self, key):
        """A 0-d (or one-element) entry as a Python value, unpickled safely if needed."""
        data = self._bytes(key)
        fp, shape, dtype = self._header(key, data)
        if math.prod(shape) != 1:
            raise self.error(key, f"must hold a single value, got an array of shape {shape}")
        if not dtype.hasobject:
            try:
                array = np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
            except (ValueError, EOFError, OSError) as err:
                raise self.error(key, f"is corrupt or truncated: {err}") from err
            return array.reshape(()).item()
        return _unpickle_object_array(self, key, fp.read(), shape)


# -- reading pickled 0-d object arrays without importing anything ----------


class _FunctionRef:
    """A reference to a function found in a pickle (never imported or called)."""

    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str):
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "name", name)

    def __setattr__(self, attr, value):
        raise pickle.UnpicklingError("a function reference cannot be changed")

    def __setstate__(self, state):
        raise pickle.UnpicklingError("a function reference takes no state")

    def __repr__(self) -> str:
        return f"<function reference {self.module}.{self.name}>"


class _ArrayStub:
    """Stands in for ``numpy.ndarray`` while unpickling; only records its state."""

    def __init__(self):
        self.state = None

    def __setstate__(self, state):
        self.state = state


class _DtypeStub:
    """Stands in for ``numpy.dtype`` while unpickling; only records its arguments."""

    def __init__(self, *args):
        self.args = args

    def __setstate__(self, state):
        self.state = state


class _Reconstruct:
    """Stands in for NumPy's ``_reconstruct``: makes an empty :class:`_ArrayStub`.

    A fresh instance is handed out for every lookup, and it takes no state,
    so a pickle cannot change anything that outlives its own loading.
    """

    __slots__ = ()

    def __call__(self, cls, shape, typecode):
        if cls is not _ArrayStub:
            raise pickle.UnpicklingError("numpy's _reconstruct called on something else")
        return _ArrayStub()

    def __setstate__(self, state):
        raise pickle.UnpicklingError("numpy's _reconstruct takes no state")


_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _Reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _Reconstruct,
    ("numpy", "ndarray"): lambda: _ArrayStub,
    ("numpy", "dtype"): lambda: _DtypeStub,
}
_FUNCTION_MODULES = ("tensorflow", "keras", "tf_keras", "jax", "jaxinit")
_FUNCTION_ALIASES = {"_identity": "identity", "_retanh": "retanh"}


def _transfer_name_of_reference(module: str, name: str) -> str | None:
    root = module.split(".", 1)[0]
    name = _FUNCTION_ALIASES.get(name, name)
    if root in _FUNCTION_MODULES and name in TRANSFER_FUNCTIONS:
        return name
    return None


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file, reader: _Reader, key: str):
        super().__init__(file)
        self._reader = reader
        self._key = key

    def find_class(self, module, name):
        make = _NUMPY_GLOBALS.get((module, name))
        if make is not None:
            return make()
        if _transfer_name_of_reference(module, name) is not None:
            return _FunctionRef(module, name)
        raise UnsafePickleError(
            self._reader.path,
            self._key,
            f"holds a pickle that refers to {module}.{name}, which is not on jaxinit's "
            "allow-list; it was not loaded and nothing in it ran",
        )

    def persistent_load(self, pid):
        raise UnsafePickleError(
            self._reader.path, self._key, "holds a pickle with persistent ids; refused"
        )


def _unpickle_object_array(reader: _Reader, key: str, payload: bytes, shape):
    try:
        result = _AllowListUnpickler(io.BytesIO(payload), reader, key).load()
    except UnsafePickleError:
        raise
    except Exception as err:  # any malformed pickle: report it, never re-raise as is
        raise reader.error(key, f"holds a pickle jaxinit cannot read safely: {err!r}") from err
    state = getattr(result, "state", None) if isinstance(result, _ArrayStub) else None
    if (
        not isinstance(state, tuple)
        or len(state) != 5
        or not isinstance(state[2], _DtypeStub)
        or not isinstance(state[4], list)
        or len(state[4]) != 1
    ):
        raise reader.error(key, "holds a pickle that is not a one-element NumPy object array")
    return state[4][0]


# -- the two file kinds ------------------------------------------------------


def _check_dtype_available(reader: _Reader, dtype: str) -> None:
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise reader.error(
            None,
            "loading as float64 needs 64-bit JAX: call jax.config.update('jax_enable_x64', "
            "True) first, or pass dtype='float32'",
        )


def _read_arrays(reader: _Reader) -> dict[str, np.ndarray]:
    reader.require(PSYCHRNN_KEYS, f"; a PsychRNN weights file has {', '.join(PSYCHRNN_KEYS)}")
    arrays = {key: reader.array(key) for key in PSYCHRNN_KEYS}
    n_rec = arrays["W_rec"].shape[0] if arrays["W_rec"].ndim == 2 else None
    if n_rec is not None and arrays["init_state"].shape == (1, n_rec):
        arrays["init_state"] = arrays["init_state"].reshape(n_rec)

    def fail(name, problem):
        raise reader.error(name, problem)

    _check_network(arrays, fail, diagonals=False)
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


def _read_psychrnn(reader: _Reader, dtype, transfer_function) -> FileContents:
    dtype = dtype or "float32"
    _check_dtype_available(reader, dtype)
    arrays = _read_arrays(reader)
    if "dale_ratio" in reader.keys:
        dale_ratio = _psychrnn_ratio(reader, reader.value("dale_ratio"))
    else:
        warnings.warn(
            f"{reader.path} has no 'dale_ratio' entry: it was written by PsychRNN older than "
            "1.0, whose Dale matrices follow another convention. Like PsychRNN, jaxinit loads "
            "it without Dale's law; to apply Dale's law, add the right 'dale_ratio' to the file.",
            LegacyFileWarning,
            stacklevel=4,
        )
        dale_ratio = None
    if transfer_function is None:
        transfer_function = "relu"
        if "transfer_function" in reader.keys:
            transfer_function = _file_transfer_function(reader)
    params = _params(arrays, dtype, dale_ratio, transfer_function)
    return FileContents(params, None, {})


def _psychrnn_ratio(reader: _Reader, value) -> float | None:
    if value is None or (isinstance(value, (bool, np.bool_)) and not value):
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float)):
        raise reader.error("dale_ratio", f"must be a number in [0, 1] or None, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise reader.error("dale_ratio", f"must be a number in [0, 1] or None, got {value!r}")
    # PsychRNN tests ``if dale_ratio:``, so a ratio of 0 means no Dale's law there.
    if value == 0.0:
        return None
    # The value save_npz writes for a ratio of exactly 0 (e.g. in a file that
    # PsychRNN loaded and saved again): Dale's law with no excitatory unit.
    return 0.0 if value == _TINY_RATIO else value


def _file_transfer_function(reader: _Reader) -> str:
    value = reader.value("transfer_function")
    if isinstance(value, _FunctionRef):
        name = _transfer_name_of_reference(value.module, value.name)
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


def _read_jaxinit(reader: _Reader, dtype, transfer_function) -> FileContents:
    key = METADATA_KEY
    text = reader.value(key)
    try:
        metadata = json.loads(text) if isinstance(text, str) else None
    except ValueError as err:
        raise reader.error(key, f"is not valid JSON: {err}") from err
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise reader.error(key, f"is not jaxinit metadata (expected format {FORMAT_NAME!r})")
    version = metadata.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise reader.error(
            key,
            f"has format version {version!r}; this jaxinit reads version {FORMAT_VERSION} "
            "(upgrade jaxinit)",
        )
    try:
        info = metadata["params"]
        recorded_dtype = str(info["dtype"])
        dale_ratio = info["dale_ratio"]
        recorded_transfer = transfer_function_name(info["transfer_function"])
        if dale_ratio is not None:
            dale_ratio = float(dale_ratio)
        if recorded_dtype not in ("float32", "float64"):
            raise ValueError(f"dtype {recorded_dtype!r}")
    except (KeyError, TypeError, ValueError) as err:
        raise reader.error(key, f"is incomplete or invalid: {err!r}") from err
    _check_dtype_available(reader, dtype or recorded_dtype)
    raw_keys = [RAW_PREFIX + name for name in _MATRICES]
    reader.require(raw_keys, "; jaxinit writes them with every file: it is incomplete")
    arrays = _read_arrays(reader)
    written = {name: arrays[name] for name in _MATRICES}
    for name in _MATRICES:
        arrays[name] = reader.array(RAW_PREFIX + name)
    for name, array in arrays.items():
        if array.dtype != np.dtype(recorded_dtype):
            where = RAW_PREFIX + name if name in _MATRICES else name
            raise reader.error(
                where, f"has dtype {array.dtype} but the metadata records {recorded_dtype}"
            )
    params = _params(arrays, recorded_dtype, dale_ratio, recorded_transfer)
    # The PsychRNN entries must still be what jaxinit wrote for these raw arrays.
    eff = effective(params)._asdict()
    for name in _MATRICES:
        if written[name].shape != arrays[name].shape:
            raise reader.error(
                RAW_PREFIX + name,
                f"has shape {arrays[name].shape} but {name} has {written[name].shape}",
            )
        if not _same_effective(np.asarray(eff[name]), written[name]):
            raise reader.error(
                name,
                f"is not the effective matrix of {RAW_PREFIX + name}: the file was changed "
                "after jaxinit wrote it",
            )
    if "dale_ratio" not in reader.keys or not _same_ratio(
        reader.value("dale_ratio"), psychrnn_dale_ratio(dale_ratio)
    ):
        raise reader.error(
            "dale_ratio",
            f"does not match the metadata's dale_ratio {dale_ratio!r}: the file was changed "
            "after jaxinit wrote it",
        )
    given = {}
    for name in (metadata.get("provenance") or {}).get("given", []):
        if GIVEN_PREFIX + str(name) in reader.keys:
            given[name] = reader.array(GIVEN_PREFIX + str(name))
    if (dtype and dtype != recorded_dtype) or transfer_function:
        params = _params(
            arrays, dtype or recorded_dtype, dale_ratio, transfer_function or recorded_transfer
        )
    return FileContents(params, metadata, given)


def _same_effective(computed: np.ndarray, written: np.ndarray) -> bool:
    # Equal, except that one side may have flushed a subnormal to zero (CPUs
    # and GPUs differ there).
    tiny = np.finfo(computed.dtype).tiny
    both_tiny = (np.abs(computed) < tiny) & (np.abs(written) < tiny)
    return bool(np.all((computed == written) | both_tiny))


def _same_ratio(value, expected: float) -> bool:
    return isinstance(value, float) and value == expected
