"""Temporary re-exports: the file code moved to :mod:`jaxinit._src.files` (delete in 0.2)."""

from jaxinit._src.files.inspection import Inspection, inspect_file

__all__ = ["Inspection", "inspect_file"]
