"""Network files: PsychRNN-format ``.npz`` archives with jaxinit's records.

A sparse network is written as a row-sparse file instead (no ``N_rec x N_rec``
array; see :mod:`~jaxinit._src.files.layout`).

One module per job:

* :mod:`~jaxinit._src.files.errors`: the errors and warnings;
* :mod:`~jaxinit._src.files.layout`: entry names, format versions, ``dale_ratio`` codes;
* :mod:`~jaxinit._src.files.limits`: the size limits kept when reading a file;
* :mod:`~jaxinit._src.files.validate`: checks on a network's arrays, entry digests;
* :mod:`~jaxinit._src.files.entries`: checks on an entry's dtype and shape, the byte
  budget, and entries served from memory (to vet a file before saving it);
* :mod:`~jaxinit._src.files.archive`: regular files only, the zip container, reading
  entries in bounded memory;
* :mod:`~jaxinit._src.files.unpickle`: the allow-list unpickler for PsychRNN's pickles;
* :mod:`~jaxinit._src.files.atomic`: atomic replacement of a file;
* :mod:`~jaxinit._src.files.records`: versions, recipe and metadata records;
* :mod:`~jaxinit._src.files.metadata`: reading the metadata entry, every field checked;
* :mod:`~jaxinit._src.files.assemble`: entries to Params (finite after the cast, Dale
  agreement);
* :mod:`~jaxinit._src.files.rowsparse`: row-sparse files of
  :class:`~jaxinit.sparse.SparseParams`: canonical rows, their checks, entries to
  SparseParams;
* :mod:`~jaxinit._src.files.saving`: :func:`save_npz`;
* :mod:`~jaxinit._src.files.loading`: :func:`load_npz`;
* :mod:`~jaxinit._src.files.reproduce`: :func:`read_provenance`, :func:`reproduce`;
* :mod:`~jaxinit._src.files.inspection`: :func:`inspect_file`.
"""

from jaxinit._src.files.errors import (
    DaleRatioWarning,
    EditedFileWarning,
    LegacyFileWarning,
    NoRecipeError,
    NpzError,
    UnsafePickleError,
)
from jaxinit._src.files.inspection import Inspection, inspect_file
from jaxinit._src.files.loading import load_npz
from jaxinit._src.files.reproduce import Provenance, Reproduction, read_provenance, reproduce
from jaxinit._src.files.saving import save_npz

__all__ = [
    "DaleRatioWarning",
    "EditedFileWarning",
    "Inspection",
    "LegacyFileWarning",
    "NoRecipeError",
    "NpzError",
    "Provenance",
    "Reproduction",
    "UnsafePickleError",
    "inspect_file",
    "load_npz",
    "read_provenance",
    "reproduce",
    "save_npz",
]
