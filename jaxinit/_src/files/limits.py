"""The bounds jaxinit keeps to when it reads a file it did not write itself.

A network file may come from anywhere, so every size in it is checked
against a limit before memory is spent on it:

* :data:`DEFAULT_MAX_BYTES` (2 GiB): the most bytes of array data read from
  one file, all entries together (so also the largest single entry). The
  ``max_bytes=`` keyword of :func:`~jaxinit.load_npz`,
  :func:`~jaxinit.inspect_file`, :func:`~jaxinit.read_provenance`,
  :func:`~jaxinit.reproduce` and :func:`~jaxinit.save_npz` changes it. A
  float32 network with ``N_rec`` = 8192 needs about 1 GiB (its file holds
  four ``N_rec x N_rec`` matrices); a row-sparse file needs ``8 N_rec K``
  bytes for ``W_rec`` (float32 values, int32 indices).
* :data:`MAX_METADATA_CHARS` (1 MiB of text) and :data:`MAX_METADATA_DEPTH`
  (32 levels of nesting) for the JSON metadata entry, checked before parsing.
* :data:`MAX_PICKLE_BYTES` (64 KiB) for the few pickled single values
  PsychRNN writes.
* :data:`MAX_MEMBERS` (10,000) members in one archive.
"""

from __future__ import annotations

import numbers
import re

DEFAULT_MAX_BYTES = 2 * 1024**3
MAX_METADATA_CHARS = 1024**2
MAX_METADATA_DEPTH = 32
MAX_PICKLE_BYTES = 64 * 1024
MAX_MEMBERS = 10_000
#: Bytes of a single (non-pickled) value: a metadata text of MAX_METADATA_CHARS (4 bytes a char).
MAX_VALUE_BYTES = 4 * MAX_METADATA_CHARS

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def max_bytes_value(max_bytes: object) -> int:
    """``max_bytes`` checked: None gives :data:`DEFAULT_MAX_BYTES`, else a positive int.

    Example:
      >>> max_bytes_value(None) == DEFAULT_MAX_BYTES, max_bytes_value(1000)
      (True, 1000)
    """
    if max_bytes is None:
        return DEFAULT_MAX_BYTES
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, numbers.Integral):
        raise TypeError(f"max_bytes must be a positive integer or None, got {max_bytes!r}")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive integer or None, got {max_bytes!r}")
    return int(max_bytes)


def size_text(nbytes: int) -> str:
    """A byte count for people.

    Example:
      >>> size_text(512), size_text(3 * 1024**3)
      ('512 bytes', '3.0 GiB')
    """
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} bytes"


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of a JSON text nest (strings skipped).

    Works without parsing, so it is safe on any text: a malformed one gives
    some number and the parser then refuses it.

    Example:
      >>> json_depth('{"a": [1, [2]], "b": "[[["}')
      3
    """
    depth = deepest = 0
    for char in _JSON_STRING.sub('""', text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
