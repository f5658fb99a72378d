"""The layout of a network file: entry names, format versions, the ``dale_ratio`` codes.

A file written by :func:`~jaxinit.save_npz` (format version 2) holds, in the
network's dtype (float32 by default) unless said otherwise:

* ``W_in``, ``W_rec``, ``W_out``: the EFFECTIVE matrices
  (``jaxinit.effective(params)``), as PsychRNN's ``RNN.save`` writes them;
* ``b_rec``, ``b_out``; ``init_state`` of shape ``(1, N_rec)``, as
  ``RNN.save`` writes it;
* ``input_connectivity``, ``rec_connectivity``, ``output_connectivity``: the
  0/1 masks; ``Dale_rec``, ``Dale_out``: the dense diagonal Dale matrices;
* ``dale_ratio``: the ratio as a 0-d float64, or, for "no Dale's law",
  PsychRNN's own encoding, a 0-d object array holding None (PsychRNN reads it
  with ``allow_pickle=True``; jaxinit with an unpickler that imports nothing).
  A ratio of exactly 0 (every unit inhibitory) is written as the smallest
  positive float64, so that PsychRNN, which tests ``if dale_ratio:``, keeps
  Dale's law on (``int(tiny * N_rec)`` is 0 excitatory units: the same
  network);
* ``jaxinit/raw/W_in``, ``jaxinit/raw/W_rec``, ``jaxinit/raw/W_out``: the raw
  matrices, for a bitwise round trip;
* ``jaxinit/given/<name>``: the arrays the recipe passed to the initializer;
* ``jaxinit/metadata``: a 0-d unicode array holding JSON: format name and
  version, dtype, the exact ``dale_ratio`` (null or the number),
  ``transfer_function``, sizes, a SHA-256 digest of every PsychRNN entry (to
  tell which ones were edited), the software versions and the recipe or null.

PsychRNN applies masks, ``|.|`` and Dale signs again to the loaded matrices,
which leaves effective matrices unchanged, so a PsychRNN model built with
``load_weights_path`` uses exactly ``effective(params)``. No
``transfer_function`` entry is written: PsychRNN 1.0.0 takes it from the
model's parameters.

A sparse network (:class:`~jaxinit.sparse.SparseParams`) is written as format
version 3, a row-sparse file. PsychRNN cannot load it (it has no ``W_rec``),
so it holds no PsychRNN entry: every array is the network's raw field, stored
once, under ``jaxinit/sparse/`` and never as an ``N_rec x N_rec`` array:

* ``jaxinit/sparse/W_rec_values`` (the network's dtype) and
  ``jaxinit/sparse/W_rec_index`` (int32), both ``(N_rec, K)``: the rows of
  ``W_rec`` (see :class:`~jaxinit.sparse.RowSparse`), each one canonical:
  its stored column indices strictly increasing, then its padding slots
  (index ``N_rec``, value 0);
* ``jaxinit/sparse/<field>`` for ``W_in``, ``W_out``, ``b_rec``, ``b_out``,
  ``init_state`` (``(N_rec,)``), ``input_connectivity``,
  ``output_connectivity``, ``dale_rec_diag`` and ``dale_out_diag`` (the Dale
  signs as vectors);
* ``jaxinit/metadata``: as above, with ``"layout": "row_sparse"``, without
  entry digests (no PsychRNN entry to guard) and with no recipe (recipes
  make dense networks).

Format version 1 (jaxinit 0.1) wrote ``0.0`` for "no Dale's law" and the
smallest positive float for a ratio of 0, and recorded no digests; such files
still load exactly as before.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

FORMAT_NAME = "jaxinit.npz"
#: The format version of the dense files jaxinit writes.
FORMAT_VERSION = 2
#: The format version of row-sparse files (the first with a ``layout`` field).
SPARSE_FORMAT_VERSION = 3
#: The newest format version this jaxinit reads.
LATEST_FORMAT_VERSION = SPARSE_FORMAT_VERSION
METADATA_KEY = "jaxinit/metadata"
RAW_PREFIX = "jaxinit/raw/"
GIVEN_PREFIX = "jaxinit/given/"
SPARSE_PREFIX = "jaxinit/sparse/"
#: The entries of ``W_rec`` in a row-sparse file.
VALUES_KEY = SPARSE_PREFIX + "W_rec_values"
INDEX_KEY = SPARSE_PREFIX + "W_rec_index"

#: The ``dale_ratio`` written for a ratio of exactly 0 (see the module docstring).
TINY_RATIO = float(np.finfo(np.float64).tiny)


def psychrnn_dale_ratio(dale_ratio: float | None) -> float | None:
    """The value PsychRNN should hold for a jaxinit ``dale_ratio``.

    None stays None (no Dale's law), 0 becomes the smallest positive float
    (Dale's law on, no excitatory unit), any other ratio is itself.

    Example:
      >>> psychrnn_dale_ratio(None), psychrnn_dale_ratio(0.0) > 0, psychrnn_dale_ratio(0.8)
      (None, True, 0.8)
    """
    if dale_ratio is None:
        return None
    if dale_ratio == 0:
        return TINY_RATIO
    return float(dale_ratio)


def dale_ratio_entry(dale_ratio: float | None) -> npt.NDArray[Any]:
    """The ``dale_ratio`` entry of a format-2 file (a float64, or None as an object array).

    Example:
      >>> dale_ratio_entry(0.5).dtype, dale_ratio_entry(None).item() is None
      (dtype('float64'), True)
    """
    value = psychrnn_dale_ratio(dale_ratio)
    if value is None:
        entry = np.empty((), dtype=object)
        entry[()] = None
        return entry
    return np.asarray(value, np.float64)


def written_dale_ratio(dale_ratio: float | None, version: int) -> float | None:
    """The ``dale_ratio`` value a jaxinit file of ``version`` holds for a ratio.

    Example:
      >>> written_dale_ratio(None, 1), written_dale_ratio(None, 2)
      (0.0, None)
    """
    if version == 1 and dale_ratio is None:
        return 0.0
    return psychrnn_dale_ratio(dale_ratio)


def read_dale_ratio(value: object, version: int | None) -> float | None:
    """What a ``dale_ratio`` value read from a file means to jaxinit.

    ``version`` is the jaxinit format version, or None for a PsychRNN file.
    Format 1 wrote 0.0 for "no Dale's law"; everywhere else a number is the
    ratio itself (0.0: every unit inhibitory) and None is no Dale's law. The
    smallest positive float is read as 0. ``False`` (an old way of saying
    "off") is read as None. Raises ``ValueError`` for anything else.

    Example:
      >>> read_dale_ratio(0.0, None), read_dale_ratio(0.0, 1), read_dale_ratio(TINY_RATIO, 2)
      (0.0, None, 0.0)
    """
    if value is None or (isinstance(value, (bool, np.bool_)) and not value):
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number in [0, 1] or None, got {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError("must be a number in [0, 1] or None, got a huge integer") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"must be a number in [0, 1] or None, got {value!r}")
    if value == 0.0 and version == 1:
        return None
    return 0.0 if value == TINY_RATIO else value
