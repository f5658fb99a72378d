"""Turning a file's checked entries into :class:`~jaxinit.Params`.

Shared by both kinds of file: the network checks on the stored arrays, the
``dale_ratio`` and ``transfer_function`` entries, the agreement of
``dale_ratio`` with the Dale signs, and the cast to the working dtype, after
which every array is checked to be finite again (a float64 1e300 is inf as
float32).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, NoReturn

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src.files.entries import EntrySource
from jaxinit._src.files.errors import DaleRatioWarning, LegacyFileWarning
from jaxinit._src.files.layout import read_dale_ratio
from jaxinit._src.files.unpickle import FunctionRef, transfer_name_of_reference
from jaxinit._src.files.validate import check_network
from jaxinit._src.names import ARRAY_FIELDS, DType
from jaxinit._src.params import Params
from jaxinit._src.transfer import TRANSFER_FUNCTIONS

#: Warnings point at the caller of load_npz (load_npz, read_file, read_source, _read_*, here).
STACKLEVEL = 6


def checked_network(
    source: EntrySource, written: Mapping[str, npt.NDArray[Any]]
) -> dict[str, npt.NDArray[Any]]:
    """The stored entries with ``init_state`` flattened, checked as a network."""
    arrays = dict(written)
    n_rec = arrays["W_rec"].shape[0] if arrays["W_rec"].ndim == 2 else None
    if n_rec is not None and arrays["init_state"].shape == (1, n_rec):
        arrays["init_state"] = arrays["init_state"].reshape(n_rec)

    def fail(name: str, problem: str) -> NoReturn:
        raise source.error(name, problem)

    check_network(arrays, fail, diagonals=False)
    return arrays


def to_params(
    source: EntrySource,
    arrays: Mapping[str, npt.ArrayLike],
    dtype: DType,
    dale_ratio: float | None,
    transfer: str,
    where: Mapping[str, str] | None = None,
) -> Params:
    """Params from checked PsychRNN-named ``arrays``, cast to ``dtype`` and checked again.

    ``where`` maps array names to the entries they came from (for messages).
    """
    where = dict(where or {})
    fields: dict[str, npt.ArrayLike] = {
        name: arrays[name] for name in ARRAY_FIELDS if not name.startswith("dale_")
    }
    fields["dale_rec_diag"] = np.diagonal(arrays["Dale_rec"])
    fields["dale_out_diag"] = np.diagonal(arrays["Dale_out"])
    for field, name in (("dale_rec_diag", "Dale_rec"), ("dale_out_diag", "Dale_out")):
        where[field] = where.get(name, name)
    cast = cast_arrays(source, fields, dtype, where)
    return Params(**cast, dale_ratio=dale_ratio, transfer_function=transfer)


def cast_arrays(
    source: EntrySource,
    fields: Mapping[str, npt.ArrayLike],
    dtype: DType,
    where: Mapping[str, str] | None = None,
) -> dict[str, jax.Array]:
    """``fields`` as JAX arrays of ``dtype``, each checked to be finite after the cast.

    ``where`` maps field names to the entries they came from (for messages).
    """
    where = where or {}
    cast: dict[str, jax.Array] = {}
    for name, value in fields.items():
        with np.errstate(over="ignore", invalid="ignore"):
            array = np.asarray(value, dtype=dtype)
            finite = np.isfinite(array)
            if not finite.all():
                bad = np.asarray(value)[~finite].ravel()[0].item()
        if not finite.all():
            raise source.error(
                where.get(name, name),
                f"holds {bad!r}, which is not finite as {dtype} (the dtype it is loaded as): "
                "it overflows; load with dtype='float64' or fix the entry",
            )
        cast[name] = jnp.asarray(array)
    return cast


def check_dale_agreement(
    source: EntrySource, ratio: float | None, arrays: Mapping[str, npt.ArrayLike], key: str
) -> None:
    """Refuse a ``dale_ratio`` (recorded under ``key``) that the Dale signs contradict.

    The ratio gives ``int(ratio * N_rec)`` excitatory units (PsychRNN's
    rule); rounding up is accepted too. None (no Dale's law) agrees with
    any signs. ``Dale_rec`` is the matrix or its diagonal.
    """
    if ratio is None:
        return
    signs = np.asarray(arrays["Dale_rec"])
    if signs.ndim == 2:
        signs = np.diagonal(signs)
    n_rec = signs.shape[0]
    excitatory = int(np.count_nonzero(signs > 0))
    if excitatory in (math.floor(ratio * n_rec), math.ceil(ratio * n_rec)):
        return
    raise source.error(
        key,
        f"dale_ratio {ratio!r} means {int(ratio * n_rec)} of {n_rec} units are excitatory, but "
        f"Dale_rec marks {excitatory} as excitatory: the file contradicts itself",
    )


def entry_dale_ratio(
    source: EntrySource, arrays: Mapping[str, npt.ArrayLike], version: int | None
) -> float | None:
    """The ``dale_ratio`` entry read as PsychRNN runs it (``version``: jaxinit's, or None)."""
    if "dale_ratio" not in source.keys:
        warnings.warn(
            f"{source.path} has no 'dale_ratio' entry: it was written by PsychRNN older than "
            "1.0, whose Dale matrices follow another convention. Like PsychRNN, jaxinit loads "
            "it without Dale's law; to apply Dale's law, add the right 'dale_ratio' to the file.",
            LegacyFileWarning,
            stacklevel=STACKLEVEL,
        )
        return None
    value = source.value("dale_ratio")
    try:
        ratio = read_dale_ratio(value, version)
    except ValueError as err:
        raise source.error("dale_ratio", str(err)) from None
    excitatory = int(np.count_nonzero(np.diagonal(arrays["Dale_rec"]) > 0))
    if ratio == 0.0 and value == 0 and excitatory:
        warnings.warn(
            f"{source.path}: dale_ratio is 0.0 (every unit inhibitory) but Dale_rec marks "
            f"{excitatory} units excitatory; PsychRNN 1.0.0 (which tests 'if dale_ratio:') runs "
            "this file without Dale's law, and so does jaxinit. Write dale_ratio=None for no "
            "Dale's law, or a Dale_rec of -1 entries for all inhibitory units.",
            DaleRatioWarning,
            stacklevel=STACKLEVEL,
        )
        return None
    check_dale_agreement(source, ratio, arrays, "dale_ratio")
    return ratio


def file_transfer_function(source: EntrySource) -> str:
    """The name a ``transfer_function`` entry holds (a string or a pickled reference)."""
    value = source.value("transfer_function")
    if isinstance(value, FunctionRef):
        name = transfer_name_of_reference(value.module, value.name)
    elif isinstance(value, str):
        name = value if value in TRANSFER_FUNCTIONS else None
    else:
        name = None
    if name is None:
        try:
            shown = repr(value)
        except ValueError:  # an integer too long to print
            shown = "a huge integer"
        if len(shown) > 80:
            shown = f"a {type(value).__name__}"
        raise source.error(
            "transfer_function",
            f"holds {shown}, which jaxinit does not know; pass "
            f"transfer_function= (one of {sorted(TRANSFER_FUNCTIONS)}) to load_npz",
        )
    return name
