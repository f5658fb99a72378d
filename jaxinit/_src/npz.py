"""Temporary re-exports: the file code moved to :mod:`jaxinit._src.files` (delete in 0.2)."""

from jaxinit._src.files.errors import LegacyFileWarning, NpzError, UnsafePickleError
from jaxinit._src.files.layout import (
    FORMAT_NAME,
    FORMAT_VERSION,
    GIVEN_PREFIX,
    METADATA_KEY,
    PSYCHRNN_KEYS,
    RAW_PREFIX,
    psychrnn_dale_ratio,
)
from jaxinit._src.files.loading import FileContents, load_npz, read_file
from jaxinit._src.files.saving import save_npz

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "GIVEN_PREFIX",
    "METADATA_KEY",
    "PSYCHRNN_KEYS",
    "RAW_PREFIX",
    "FileContents",
    "LegacyFileWarning",
    "NpzError",
    "UnsafePickleError",
    "load_npz",
    "psychrnn_dale_ratio",
    "read_file",
    "save_npz",
]
