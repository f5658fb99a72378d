"""``save_npz``: write a network (or a recipe and the network it makes) for PsychRNN.

See :mod:`jaxinit._src.files.layout` for what the file holds.
"""

from __future__ import annotations

import os
import pathlib
import warnings
from collections.abc import Mapping
from typing import Any, NoReturn

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.effective import effective
from jaxinit._src.files import archive, atomic, limits, loading, records, rowsparse
from jaxinit._src.files.entries import MemoryEntries
from jaxinit._src.files.errors import (
    DaleRatioWarning,
    EditedFileWarning,
    LegacyFileWarning,
    NpzError,
)
from jaxinit._src.files.layout import (
    GIVEN_PREFIX,
    INDEX_KEY,
    METADATA_KEY,
    RAW_PREFIX,
    SPARSE_PREFIX,
    VALUES_KEY,
    dale_ratio_entry,
)
from jaxinit._src.files.validate import check_network, digest
from jaxinit._src.names import ARRAY_FIELDS, WEIGHT_NAMES, InitializerName
from jaxinit._src.params import Params
from jaxinit._src.recipe import Recipe
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import check_row_sparse
from jaxinit._src.transfer import transfer_function_name


def save_npz(
    path: str | os.PathLike[str],
    network: Params | SparseParams | Recipe,
    *,
    initializer: InitializerName | None = None,
    key: jax.Array | None = None,
    config: Config | None = None,
    given: Mapping[str, Any] | None = None,
    max_bytes: int | None = None,
) -> pathlib.Path:
    """Save a network as an ``.npz`` file that PsychRNN loads as its weights.

    ``network`` is a :class:`~jaxinit.Params`, or a :class:`~jaxinit.Recipe`:
    then the network ``recipe.build()`` makes is saved together with the
    recipe, so the record cannot disagree with the network, and
    :func:`~jaxinit.reproduce` can make it again and check it.
    A :class:`~jaxinit.sparse.SparseParams` is written as a row-sparse file
    (see below).

    The file holds the effective ``W_in``, ``W_rec``, ``W_out`` under
    PsychRNN's names (so ``Basic(dict(..., load_weights_path=path))`` uses
    exactly ``jaxinit.effective(network)``), the other arrays as PsychRNN's
    ``RNN.save`` writes them, and, under ``jaxinit/`` entries PsychRNN
    ignores, the raw matrices and metadata, so that :func:`~jaxinit.load_npz`
    returns the network bit for bit. The versions of jaxinit, JAX, jaxlib and
    NumPy are always recorded. ``dale_ratio`` is written as PsychRNN reads
    it: the ratio, None for no Dale's law, and the smallest positive float for
    a ratio of 0 (so that PsychRNN keeps Dale's law on).

    A :class:`~jaxinit.sparse.SparseParams` gives a row-sparse file, which
    holds no ``N_rec x N_rec`` array: ``W_rec`` as its ``(N_rec, K)`` values
    and int32 column indices, the other arrays raw and as they are, and the
    metadata (``"layout": "row_sparse"``, the versions; no recipe).
    :func:`~jaxinit.load_npz` returns it as a ``SparseParams``; PsychRNN
    cannot load it. Each row is written canonical: sorted by column (values
    with their indices), padding slots last and 0, at most ``N_rec`` slots,
    which is the same matrix; a row that holds a column twice is refused.
    For a PsychRNN file of a sparse network that fits in memory, save
    ``network.todense()`` (refused above 1 GiB for ``W_rec``).

    Before anything is written, the entries are read back by the loader's
    own code (:func:`~jaxinit.load_npz` with the same ``max_bytes``), so a
    file jaxinit writes is always one it loads: metadata that contradicts
    the arrays, or a recorded given array the loader would refuse (complex,
    pickled), is refused here.

    The write is atomic: the data goes to a temporary file in the same
    folder, is flushed to disk, and then replaces ``path`` in one step, so an
    interrupted save never leaves a half-written file at ``path``. A process
    killed outright (``kill -9``) may leave a ``.<name>.<12 hex digits>.tmp``
    file in the folder (safe to delete). Only a regular file is replaced: a
    ``path`` that is (or links to) a folder, a device, a FIFO or a socket is
    refused.

    Args:
      path: where to write. Like ``np.savez`` (and PsychRNN's ``save``),
        ``.npz`` is appended when the name does not end with it.
      network: a :class:`~jaxinit.Recipe`, or a single
        :class:`~jaxinit.Params` (an ensemble is refused: PsychRNN cannot
        load one; save ``jaxinit.member(params, i)`` for each member), or a
        single :class:`~jaxinit.sparse.SparseParams`.
      initializer, key, config, given: deprecated since jaxinit 0.2 (removed
        in 0.3): the recipe as separate keywords, recorded as given and
        checked against ``network`` for sizes and options. Pass
        ``jaxinit.Recipe(initializer, key, config, given)`` instead.
      max_bytes: refuse to write a file whose array data is more than this
        (None: 2 GiB, what :func:`~jaxinit.load_npz` reads by default); a
        bigger file needs the same ``max_bytes=`` to be loaded.

    Returns:
      The ``pathlib.Path`` written (with the ``.npz`` suffix).

    Raises:
      TypeError: ``network`` is not a ``Params``, a ``SparseParams`` or a
        ``Recipe``, or an argument has the wrong type (the deprecated recipe
        keywords with a ``SparseParams`` included).
      ValueError: the network is an ensemble, holds non-finite values or
        masks that are not 0/1, or a row of a sparse ``W_rec`` holds a
        column twice; or the deprecated keywords are incomplete or do not
        match the network.
      NpzError: (a ``ValueError``) the file would not load: its metadata
        contradicts its arrays, a given array is not real numbers, or it
        holds more than ``max_bytes``.
      OSError: the file cannot be written (a missing folder, no permission,
        a full disk, ...), or ``path`` is not a regular file
        (``IsADirectoryError``, or ``FileExistsError`` for a device, a FIFO
        or a socket); the message names ``path``.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, dale_ratio=0.75)
      >>> recipe = jaxinit.Recipe("gaussian_spectral_radius", jax.random.key(3), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     path = jaxinit.save_npz(os.path.join(tmp, "net"), recipe)
      ...     q = jaxinit.load_npz(path)
      ...     print(path.name)
      net.npz
      >>> bool((q.W_rec == recipe.build().W_rec).all()), q.dale_ratio
      (True, 0.75)
    """
    target = archive.as_path("path", path)
    if not target.endswith(".npz"):
        target += ".npz"
    old = {"initializer": initializer, "key": key, "config": config, "given": given}
    params, recipe = _network_and_recipe(network, old)
    if isinstance(params, SparseParams):
        entries = sparse_entries(params)
        budget = limits.max_bytes_value(max_bytes)
    else:
        arrays = network_arrays(params)
        budget = limits.max_bytes_value(max_bytes)
        entries = _entries(params, arrays, recipe)
    check_loadable(target, entries, budget)
    # archive.write_entries is looked up at write time (tests replace it to fail mid-write).
    atomic.atomic_write(target, lambda file: archive.write_entries(file, entries))
    return pathlib.Path(target)


def _network_and_recipe(
    network: object, old: dict[str, Any]
) -> tuple[Params | SparseParams, Recipe | None]:
    passed = [f"{name}=" for name, value in old.items() if value is not None]
    if isinstance(network, Recipe):
        if passed:
            raise TypeError(
                f"save_npz(path, recipe) takes the recipe alone, got also {', '.join(passed)}"
            )
        return network.build(), network
    if isinstance(network, SparseParams):
        if passed:
            raise TypeError(
                "save_npz(path, sparse_params) records no recipe (jaxinit.Recipe makes dense "
                f"networks), got also {', '.join(passed)}"
            )
        return network, None
    if not isinstance(network, Params):
        raise TypeError(
            "network must be a jaxinit.Params or a jaxinit.Recipe (or a "
            f"jaxinit.sparse.SparseParams), got {type(network).__name__}"
        )
    if not passed:
        return network, None
    checks.deprecated(
        "save_npz(path, params, initializer=..., key=..., config=..., given=...)",
        "save_npz(path, jaxinit.Recipe(initializer, key, config, given))",
        stacklevel=4,
    )
    return network, _recipe_from_keywords(network, **old)


def _recipe_from_keywords(
    params: Params,
    *,
    initializer: InitializerName | None,
    key: jax.Array | None,
    config: Config | None,
    given: Mapping[str, Any] | None,
) -> Recipe:
    """The deprecated keywords as a Recipe, checked as jaxinit 0.1 checked them."""
    parts = {"initializer": initializer, "key": key, "config": config}
    if all(value is None for value in parts.values()):
        raise ValueError(
            "given= only makes sense with initializer=, key= and config= (the recipe "
            "that used the given arrays)"
        )
    if initializer is None or key is None or config is None:
        missing = [f"{name}=" for name, value in parts.items() if value is None]
        raise ValueError(
            "provenance needs initializer=, key= and config= together; missing "
            + ", ".join(missing)
        )
    recipe = Recipe(initializer, key, config, {} if given is None else given)
    records.check_consistent(params, recipe.config)
    return recipe


def network_arrays(params: Params) -> dict[str, npt.NDArray[Any]]:
    """The fields of ``params`` as numpy arrays, checked for saving."""
    arrays = _host_arrays({name: getattr(params, name) for name in ARRAY_FIELDS})
    _check_dtypes(arrays)
    if arrays["W_rec"].ndim > 2:
        raise ValueError(
            f"params is an ensemble of shape {tuple(arrays['W_rec'].shape[:-2])}; a PsychRNN "
            "file holds one network: save each member, e.g. jaxinit.member(params, i)"
        )
    _check_fields(params, arrays)
    return arrays


def sparse_arrays(params: SparseParams) -> dict[str, npt.NDArray[Any]]:
    """The arrays of a sparse network, checked for saving, its rows made canonical.

    ``W_rec`` becomes ``W_rec_values`` and ``W_rec_index``
    (:func:`~jaxinit._src.files.rowsparse.canonical_rows`).
    """
    W = check_row_sparse(params.W_rec, "params.W_rec")
    fields = {name: getattr(params, name) for name in rowsparse.DENSE_FIELDS}
    arrays = _host_arrays({"W_rec.values": W.values, "W_rec.index": W.index, **fields})
    values, index = arrays.pop("W_rec.values"), arrays.pop("W_rec.index")
    _check_dtypes({"W_rec": values, **arrays})
    if params.batch_shape:
        raise ValueError(
            f"params is a stack of sparse networks of shape {params.batch_shape}; a file holds "
            "one network: save each member, e.g. jax.tree.map(lambda x: x[i], params)"
        )
    if not np.isfinite(values).all():
        bad = checks.first_bad(values, np.isfinite)
        raise ValueError(f"params.W_rec.values must be finite, got {bad!r} in it")
    _check_fields(params, arrays, n_rec=W.n_cols)
    arrays["W_rec_values"], arrays["W_rec_index"] = rowsparse.canonical_rows(values, index)
    return arrays


def _host_arrays(fields: Mapping[str, Any]) -> dict[str, npt.NDArray[Any]]:
    """``fields`` as numpy arrays; a traced value is refused."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, value in fields.items():
        if checks.is_traced(value):
            raise TypeError(
                f"params.{name} is a traced value: save_npz writes a file and cannot run "
                "inside jax.jit, jax.vmap or jax.grad"
            )
        arrays[name] = np.asarray(value)
    return arrays


def _check_fields(
    params: Params | SparseParams,
    arrays: Mapping[str, npt.NDArray[Any]],
    n_rec: int | None = None,
) -> None:
    """Shapes and values of the arrays (as the loader checks them), ``dale_ratio``,
    ``transfer_function``. ``n_rec``: a sparse network's (no ``W_rec`` in ``arrays``)."""

    def fail(name: str, problem: str) -> NoReturn:
        raise ValueError(f"params.{name} {problem}")

    renamed = {"Dale_rec": "dale_rec_diag", "Dale_out": "dale_out_diag"}
    psychrnn = {n: arrays[n] for n in ARRAY_FIELDS if n in arrays and not n.startswith("dale_")}
    psychrnn.update({name: arrays[field] for name, field in renamed.items()})
    check_network(psychrnn, fail, diagonals=True, names=renamed, n_rec=n_rec)
    checks.dale_ratio(params.dale_ratio, "params.dale_ratio")
    try:
        transfer_function_name(params.transfer_function)
    except ValueError as err:
        raise ValueError(f"params.{err}") from None


def _check_dtypes(arrays: Mapping[str, npt.NDArray[Any]]) -> None:
    dtype = arrays["W_rec"].dtype
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"params.W_rec must be float32 or float64, got dtype {dtype}")
    for name, array in arrays.items():
        if array.dtype != dtype:
            raise TypeError(
                f"params.{name} has dtype {array.dtype} but params.W_rec has {dtype}; "
                "every array of a saved network must share one dtype"
            )
    if dtype == np.float64:
        checks.x64_enabled("saving float64 params")


def _entries(
    params: Params, arrays: Mapping[str, npt.NDArray[Any]], recipe: Recipe | None
) -> dict[str, npt.NDArray[Any]]:
    dtype = arrays["W_rec"].dtype
    # Compute with JAX arrays (as the loader does), whatever array type params holds.
    on_device = params.replace(**{name: jnp.asarray(a) for name, a in arrays.items()})
    eff = {k: np.asarray(v) for k, v in effective(on_device)._asdict().items()}
    entries = {name: eff[name] for name in WEIGHT_NAMES}
    entries.update(
        b_rec=arrays["b_rec"],
        b_out=arrays["b_out"],
        init_state=arrays["init_state"].reshape(1, -1),
        input_connectivity=arrays["input_connectivity"],
        rec_connectivity=arrays["rec_connectivity"],
        output_connectivity=arrays["output_connectivity"],
        Dale_rec=np.diag(arrays["dale_rec_diag"]).astype(dtype),
        Dale_out=np.diag(arrays["dale_out_diag"]).astype(dtype),
    )
    digests = {name: digest(array) for name, array in entries.items()}
    entries["dale_ratio"] = dale_ratio_entry(params.dale_ratio)
    for name in WEIGHT_NAMES:
        entries[RAW_PREFIX + name] = arrays[name]
    record: dict[str, Any] | None = None
    if recipe is not None:
        record = records.recipe_record(recipe)
        for name, array in recipe.given.items():
            entries[GIVEN_PREFIX + name] = np.asarray(array)
    entries[METADATA_KEY] = records.make_metadata(params, digests, record)
    return entries


def sparse_entries(params: SparseParams) -> dict[str, npt.NDArray[Any]]:
    """The entries of a row-sparse file (see :mod:`~jaxinit._src.files.layout`)."""
    arrays = sparse_arrays(params)
    entries = {
        VALUES_KEY: arrays.pop("W_rec_values"),
        INDEX_KEY: arrays.pop("W_rec_index"),
    }
    entries.update({SPARSE_PREFIX + name: array for name, array in arrays.items()})
    entries[METADATA_KEY] = records.make_metadata(params, {}, None)
    return entries


_FILE_WARNINGS = (EditedFileWarning, LegacyFileWarning, DaleRatioWarning)


def check_loadable(target: str, entries: Mapping[str, npt.NDArray[Any]], budget: int) -> None:
    """Read ``entries`` back with the loader's code; refuse what it would refuse.

    Raises an :class:`~jaxinit.NpzError` naming ``target`` and the entry
    when the loader would refuse the file, or load it with a warning.
    """
    source = MemoryEntries(target, entries, budget)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            loading.read_source(source)
        except NpzError as err:
            raise NpzError(
                target, err.key, f"not saved, the file would not load: {err.problem}"
            ) from None
    for warning in caught:
        if issubclass(warning.category, _FILE_WARNINGS):
            raise NpzError(target, None, f"not saved, it would load with: {warning.message}")
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
