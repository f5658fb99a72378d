"""Temporary re-exports: the file code moved to :mod:`jaxinit._src.files` (delete in 0.2)."""

from jaxinit._src.files.records import versions
from jaxinit._src.files.reproduce import (
    Provenance,
    Reproduction,
    compare,
    read_provenance,
    reproduce,
)

__all__ = ["Provenance", "Reproduction", "compare", "read_provenance", "reproduce", "versions"]
