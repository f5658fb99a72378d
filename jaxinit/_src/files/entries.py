"""Where the loader takes entries from: a file's archive, or arrays about to be written.

:class:`EntrySource` holds what both share: the checks on an entry's
declared dtype and shape (made before any data is read) and the byte budget.
:class:`~jaxinit._src.files.archive.Reader` reads entries from a file;
:class:`MemoryEntries` serves the entries :func:`~jaxinit.save_npz` is
about to write, so that the loader's own checks can vet a file before it
exists (a file jaxinit writes is always one jaxinit loads).
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from jaxinit._src.files import limits, unpickle
from jaxinit._src.files.errors import NpzError
from jaxinit._src.files.validate import real_dtype


class EntrySource:
    """Entries by name, each checked before it is read.

    Attributes:
      path: the file (the user's name for it).
      keys: entry name to where it is stored.
      budget: bytes of array data that may still be read.
      limit: the budget it started with (``max_bytes``).

    Subclasses define ``load_array(key)`` and ``load_value(key)``.
    """

    def __init__(self, path: str, keys: Mapping[str, str], budget: int) -> None:
        self.path = path
        self.keys = dict(keys)
        self.budget = budget
        self.limit = budget

    def error(self, key: str | None, problem: str) -> NpzError:
        """An :class:`~jaxinit.NpzError` for entry ``key`` of this file."""
        return NpzError(self.path, key, problem)

    def require(self, keys: Iterable[str], hint: str = "") -> None:
        """Raise an :class:`~jaxinit.NpzError` naming the first missing entry."""
        missing = [k for k in keys if k not in self.keys]
        if missing:
            listed = ", ".join(repr(k) for k in missing)
            raise self.error(missing[0], f"missing (the file lacks {listed}){hint}")

    def check_header(
        self, key: str, shape: tuple[int, ...], dtype: np.dtype[Any], *, single: bool
    ) -> int:
        """The data size of an entry of ``shape`` and ``dtype``, after checking both.

        ``single``: the entry must hold one value (it may then be pickled).
        Raises an :class:`~jaxinit.NpzError` for a negative dimension, an
        array where a value is expected, pickled or non-real arrays, and a
        size over the budget.
        """
        if any(d < 0 for d in shape):
            raise self.error(key, f"is not a valid .npy array: shape {shape}")
        count: int = math.prod(shape)
        if single and count != 1:
            raise self.error(key, f"must hold a single value, got an array of shape {shape}")
        if not single and dtype.hasobject:
            raise self.error(
                key,
                "holds pickled Python objects instead of numbers; jaxinit does not unpickle "
                "array entries",
            )
        if not single and not real_dtype(dtype):
            raise self.error(key, f"must hold real numbers, got dtype {dtype}")
        if dtype.hasobject:
            return 0
        nbytes = count * dtype.itemsize
        if single and nbytes > limits.MAX_VALUE_BYTES:
            raise self.error(
                key,
                f"holds a single value of {limits.size_text(nbytes)} (dtype {dtype}); "
                f"jaxinit reads values of at most {limits.size_text(limits.MAX_VALUE_BYTES)}",
            )
        if nbytes > self.budget:
            spent = self.limit - self.budget
            left = f" ({limits.size_text(spent)} of it already read)" if spent else ""
            raise self.error(
                key,
                f"holds an array of shape {shape} and dtype {dtype}, "
                f"{limits.size_text(nbytes)}, more than the limit of "
                f"{limits.size_text(self.limit)} of array data read from one file{left}; "
                "pass a larger max_bytes= to read it",
            )
        return nbytes

    def charge(self, nbytes: int) -> None:
        """Count ``nbytes`` read against the budget."""
        self.budget -= nbytes

    def array(self, key: str) -> npt.NDArray[Any]:
        """A numeric entry (an entry that needs pickle is refused)."""
        return self.load_array(key)

    def value(self, key: str) -> object:
        """A single-value entry as a Python value, unpickled safely if needed."""
        return self.load_value(key)

    def load_array(self, key: str) -> npt.NDArray[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_value(self, key: str) -> object:  # pragma: no cover - abstract
        raise NotImplementedError


class MemoryEntries(EntrySource):
    """The entries of a file still in memory, served with the checks of a file's.

    Example:
      >>> source = MemoryEntries("net.npz", {"x": np.zeros(3, complex)}, 1000)
      >>> source.array("x")
      Traceback (most recent call last):
      jaxinit._src.files.errors.NpzError: net.npz, entry 'x': must hold real numbers, got ...
    """

    def __init__(self, path: str, entries: Mapping[str, npt.ArrayLike], budget: int) -> None:
        super().__init__(path, {k: k for k in entries}, budget)
        self.entries = entries

    def load_array(self, key: str) -> npt.NDArray[Any]:
        array = np.asarray(self.entries[key])
        self.charge(self.check_header(key, array.shape, array.dtype, single=False))
        return array

    def load_value(self, key: str) -> object:
        array = np.asarray(self.entries[key])
        self.charge(self.check_header(key, array.shape, array.dtype, single=True))
        if not array.dtype.hasobject:
            return array.reshape(()).item()
        payload = pickle.dumps(array, protocol=3)  # what np.save writes
        if len(payload) > limits.MAX_PICKLE_BYTES:
            raise self.error(key, f"would hold a pickle of {limits.size_text(len(payload))}")
        return unpickle.unpickle_object_array(self.path, key, payload)
