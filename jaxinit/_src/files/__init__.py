"""Network files: PsychRNN-format ``.npz`` archives with jaxinit's records.

One module per job:

* :mod:`~jaxinit._src.files.errors`: the errors and warnings;
* :mod:`~jaxinit._src.files.layout`: entry names, format versions, ``dale_ratio`` codes;
* :mod:`~jaxinit._src.files.validate`: checks on a network's arrays, entry digests;
* :mod:`~jaxinit._src.files.archive`: the zip container, reading entries safely;
* :mod:`~jaxinit._src.files.unpickle`: the allow-list unpickler for PsychRNN's pickles;
* :mod:`~jaxinit._src.files.atomic`: atomic replacement of a file;
* :mod:`~jaxinit._src.files.records`: versions, recipe and metadata records;
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
