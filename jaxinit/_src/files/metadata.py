"""Reading the ``jaxinit/metadata`` entry: bounded JSON, every field checked.

The text is measured (length, nesting depth) before it is parsed, and then
each field is checked for its type and range, so that a crafted entry gives
an :class:`~jaxinit.NpzError` naming the field, never an ``AttributeError``,
an ``OverflowError`` or a ``RecursionError``. Whether the fields agree with
the arrays is checked by the loader.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar, overload

from jaxinit._src.files import limits
from jaxinit._src.files.errors import NpzError
from jaxinit._src.files.layout import (
    FORMAT_NAME,
    LATEST_FORMAT_VERSION,
    METADATA_KEY,
    SPARSE_FORMAT_VERSION,
)
from jaxinit._src.names import DTYPES, PSYCHRNN_NAMES, DType, FileLayout
from jaxinit._src.transfer import TRANSFER_FUNCTIONS

#: The most words a recorded key may have (threefry keys have 2, rbg keys 4).
_MAX_KEY_WORDS = 16

_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class Metadata:
    """The checked contents of a ``jaxinit/metadata`` entry.

    Attributes:
      version: the format version (1, 2, or 3 for a row-sparse file).
      dtype: ``"float32"`` or ``"float64"``.
      dale_ratio: the exact ratio (None: no Dale's law).
      transfer_function: its name.
      sizes: ``N_in``, ``N_rec``, ``N_out`` as recorded (empty if not recorded).
      digests: PsychRNN entry name to SHA-256 (empty for format 1 and
        row-sparse files).
      raw: the whole JSON dict (versions, provenance, ...).
      layout: ``"dense"`` (formats 1 and 2) or ``"row_sparse"`` (format 3).
    """

    version: int
    dtype: DType
    dale_ratio: float | None
    transfer_function: str
    sizes: Mapping[str, int]
    digests: Mapping[str, str]
    raw: Mapping[str, Any]
    layout: FileLayout = "dense"


class _InvalidError(ValueError):
    """A field is wrong; the message says which and how."""


def _refuse_constant(name: str) -> NoReturn:
    raise _InvalidError(f"holds {name}, which is not JSON")


def _text_to_json(path: str, text: object) -> Any:
    def fail(problem: str) -> NpzError:
        return NpzError(path, METADATA_KEY, problem)

    if not isinstance(text, str):
        raise fail(f"is not jaxinit metadata: it holds a {type(text).__name__}, not JSON text")
    if len(text) > limits.MAX_METADATA_CHARS:
        raise fail(
            f"holds {len(text)} characters; jaxinit reads metadata of at most "
            f"{limits.MAX_METADATA_CHARS}"
        )
    depth = limits.json_depth(text)
    if depth > limits.MAX_METADATA_DEPTH:
        raise fail(
            f"nests {depth} levels deep; jaxinit reads metadata nested at most "
            f"{limits.MAX_METADATA_DEPTH} levels"
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:  # _InvalidError is a ValueError
        raise fail(f"is not valid JSON: {err}") from err


@overload
def _field(
    mapping: Mapping[str, Any], name: str, kinds: type[_T] | tuple[type[_T], ...], what: str
) -> _T: ...


@overload
def _field(
    mapping: Mapping[str, Any],
    name: str,
    kinds: type[_T] | tuple[type[_T], ...],
    what: str,
    *,
    optional: bool,
) -> _T | None: ...


def _field(
    mapping: Mapping[str, Any],
    name: str,
    kinds: type[_T] | tuple[type[_T], ...],
    what: str,
    *,
    optional: bool = False,
) -> object:
    if name not in mapping:
        if optional:
            return None
        raise _InvalidError(f"lacks {name!r}")
    value = mapping[name]
    if value is None and optional:
        return None
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        raise _InvalidError(f"{name!r} must be {what}, got {_short(value)}")
    return value


def _short(value: object) -> str:
    if isinstance(value, int) and not -(10**30) < value < 10**30:
        return "a huge integer"  # repr() of a huge int may itself fail
    text = repr(value) if isinstance(value, (bool, int, float, str, type(None))) else None
    if text is None or len(text) > 40:
        return f"a {type(value).__name__}"
    return text


def _strings(mapping: Mapping[str, Any], name: str) -> dict[str, str]:
    value = _field(mapping, name, dict, "an object of strings", optional=True) or {}
    for k, v in value.items():
        if not isinstance(v, str):
            raise _InvalidError(f"{name!r} must map names to strings, got {_short(v)} for {k!r}")
    return dict(value)


def _params(info: Mapping[str, Any]) -> tuple[DType, float | None, str, dict[str, int]]:
    dtype = _field(info, "dtype", str, "'float32' or 'float64'")
    if dtype not in DTYPES:
        raise _InvalidError(f"'dtype' must be 'float32' or 'float64', got {_short(dtype)}")
    ratio = _field(info, "dale_ratio", (int, float), "a number in [0, 1] or null", optional=True)
    if ratio is not None:
        ratio = float(ratio) if -2.0 < ratio < 2.0 else math.inf  # no overflow on huge ints
        if not 0.0 <= ratio <= 1.0:
            raise _InvalidError(
                f"'dale_ratio' must be a number in [0, 1] or null, got {_short(info['dale_ratio'])}"
            )
    transfer = _field(info, "transfer_function", str, "a transfer-function name")
    if transfer not in TRANSFER_FUNCTIONS:
        raise _InvalidError(
            f"'transfer_function' must be one of {sorted(TRANSFER_FUNCTIONS)}, "
            f"got {_short(transfer)}"
        )
    sizes: dict[str, int] = {}
    for name in ("N_in", "N_rec", "N_out"):
        size = _field(info, name, int, "a positive integer", optional=True)
        if size is not None:
            if size < 1:
                raise _InvalidError(f"{name!r} must be a positive integer, got {_short(size)}")
            sizes[name] = size
    return dtype, ratio, transfer, sizes


def _provenance(record: object) -> None:
    """Check the shape of a recorded recipe (``reproduce`` checks that it runs)."""
    if record is None:
        return
    if not isinstance(record, dict):
        raise _InvalidError(f"'provenance' must be an object or null, got {_short(record)}")
    try:
        _field(record, "initializer", str, "a name")
        _field(record, "config", dict, "an object")
        key = _field(record, "key", dict, "an object")
        _field(key, "impl", str, "a PRNG implementation name")
        _field(key, "typed", bool, "true or false")
        data = _field(key, "data", list, "a list of uint32 words")
        if not 0 < len(data) <= _MAX_KEY_WORDS or not all(
            type(word) is int and 0 <= word < 2**32 for word in data
        ):
            raise _InvalidError(f"'data' must be 1 to {_MAX_KEY_WORDS} integers in [0, 2**32)")
        given = _field(record, "given", list, "a list of entry names", optional=True) or []
        if not all(isinstance(n, str) and n in PSYCHRNN_NAMES for n in given):
            raise _InvalidError(f"'given' must list PsychRNN array names, got {_short(given)}")
        if len(set(given)) != len(given):
            raise _InvalidError("'given' names an array twice")
    except _InvalidError as err:
        raise _InvalidError(f"records a recipe that is unusable: {err}") from None


def parse_metadata(path: str, text: object) -> Metadata:
    """Read a metadata entry's text; an :class:`~jaxinit.NpzError` says what is wrong.

    Example:
      >>> parse_metadata("net.npz", '{"format": "jaxinit.npz", "format_version": true}')
      Traceback (most recent call last):
      jaxinit._src.files.errors.NpzError: net.npz, entry 'jaxinit/metadata': has format version ...
    """
    metadata = _text_to_json(path, text)
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise NpzError(
            path, METADATA_KEY, f"is not jaxinit metadata (expected format {FORMAT_NAME!r})"
        )
    version = metadata.get("format_version")
    if type(version) is not int or not 1 <= version <= LATEST_FORMAT_VERSION:
        raise NpzError(
            path,
            METADATA_KEY,
            f"has format version {_short(version)}; this jaxinit reads versions 1 to "
            f"{LATEST_FORMAT_VERSION} (upgrade jaxinit)",
        )
    try:
        layout = _layout(metadata, version)
        info = _field(metadata, "params", dict, "an object")
        dtype, ratio, transfer, sizes = _params(info)
        dense_digests = layout == "dense" and version > 1
        digests = _strings(metadata, "entries") if dense_digests else {}
        if dense_digests and "entries" not in metadata:
            raise _InvalidError("lacks 'entries'")
        _strings(metadata, "versions")
        _provenance(metadata.get("provenance"))
        if layout == "row_sparse" and metadata.get("provenance") is not None:
            raise _InvalidError("a row-sparse file records no recipe, got a 'provenance'")
    except _InvalidError as err:
        raise NpzError(path, METADATA_KEY, f"is incomplete or invalid: {err}") from None
    return Metadata(version, dtype, ratio, transfer, sizes, digests, metadata, layout)


def _layout(metadata: Mapping[str, Any], version: int) -> FileLayout:
    """Formats 1 and 2 are dense; format 3 says ``"layout": "row_sparse"``."""
    if version < SPARSE_FORMAT_VERSION:
        return "dense"
    layout = _field(metadata, "layout", str, "'row_sparse'")
    if layout != "row_sparse":
        raise _InvalidError(
            f"'layout' must be 'row_sparse' (format version {version}), got {_short(layout)}"
        )
    return "row_sparse"
