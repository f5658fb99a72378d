"""The npz container: opening archives, reading single entries safely, writing entries.

An ``.npz`` file is a zip archive of ``.npy`` members. :class:`Reader`
reads one member at a time, checks its ``.npy`` header before its data, and
turns every failure into an :class:`~jaxinit.NpzError` naming the file and
the entry. A member that needs pickle is only read by
:func:`~jaxinit._src.files.unpickle.unpickle_object_array`, and only where a
single value is expected.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from jaxinit._src.files import unpickle
from jaxinit._src.files.errors import NpzError
from jaxinit._src.files.validate import real_dtype


def as_path(name: str, path: Any) -> str:
    """``path`` as a ``str`` after checking it is a non-empty str or os.PathLike.

    Example:
      >>> import pathlib
      >>> as_path("path", pathlib.Path("a") / "b.npz")
      'a/b.npz'
    """
    if isinstance(path, (bytes, bytearray)):
        raise TypeError(f"{name} must be a str or os.PathLike, got bytes {path!r}")
    try:
        text = os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {path!r}") from None
    if isinstance(text, bytes):
        raise TypeError(f"{name} must be a str or os.PathLike, got bytes {path!r}")
    if not text:
        raise ValueError(f"{name} must not be empty, got {path!r}")
    return text


def write_entries(file: BinaryIO, entries: Mapping[str, np.ndarray]) -> None:
    """Write ``entries`` as an npz archive to the open binary ``file``."""
    np.savez(file, **entries)


@contextlib.contextmanager
def open_archive(path: str) -> Iterator[Reader]:
    """Open ``path`` as an npz archive and yield a :class:`Reader` for it.

    A missing file, a folder or an unreadable file raise the usual
    ``OSError``; anything that is not a zip archive raises
    :class:`~jaxinit.NpzError`.
    """
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        raise FileNotFoundError(f"no file {path!r}; did you mean {path + '.npz'!r}?")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise NpzError(path, None, f"not a valid .npz (zip) archive: {err}") from err
    except (OSError, EOFError, ValueError) as err:
        if isinstance(err, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise NpzError(path, None, f"cannot be read as an .npz archive: {err}") from err
    with archive:
        yield Reader(path, archive)


class Reader:
    """Reads single entries of an open npz archive, with errors naming them.

    Attributes:
      path: the file.
      keys: entry name (without ``.npy``) to member name.
    """

    def __init__(self, path: str, archive: zipfile.ZipFile):
        self.path = path
        self.archive = archive
        self.keys = {n[: -len(".npy")]: n for n in archive.namelist() if n.endswith(".npy")}

    def error(self, key: str | None, problem: str) -> NpzError:
        """An :class:`~jaxinit.NpzError` for entry ``key`` of this file."""
        return NpzError(self.path, key, problem)

    def require(self, keys, hint: str = "") -> None:
        """Raise an :class:`~jaxinit.NpzError` naming the first missing entry."""
        missing = [k for k in keys if k not in self.keys]
        if missing:
            listed = ", ".join(repr(k) for k in missing)
            raise self.error(missing[0], f"missing (the file lacks {listed}){hint}")

    def _bytes(self, key: str) -> bytes:
        try:
            return self.archive.read(self.keys[key])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
            raise self.error(key, f"is corrupt or truncated: {err}") from err

    def _header(self, key: str, data: bytes):
        fp = io.BytesIO(data)
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except (ValueError, EOFError, SyntaxError) as err:
            raise self.error(key, f"is not a valid .npy array: {err}") from err
        return fp, shape, dtype

    def _numeric(self, key: str, data: bytes) -> np.ndarray:
        try:
            return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False)
        except (ValueError, EOFError, OSError) as err:
            raise self.error(key, f"is corrupt or truncated: {err}") from err

    def array(self, key: str) -> np.ndarray:
        """A numeric entry (an entry that needs pickle is refused)."""
        data = self._bytes(key)
        _, _, dtype = self._header(key, data)
        if dtype.hasobject:
            raise self.error(
                key,
                "holds pickled Python objects instead of numbers; jaxinit does not unpickle "
                "array entries",
            )
        array = self._numeric(key, data)
        if not real_dtype(array.dtype):
            raise self.error(key, f"must hold real numbers, got dtype {array.dtype}")
        return array

    def value(self, key: str):
        """A 0-d (or one-element) entry as a Python value, unpickled safely if needed."""
        data = self._bytes(key)
        fp, shape, dtype = self._header(key, data)
        if math.prod(shape) != 1:
            raise self.error(key, f"must hold a single value, got an array of shape {shape}")
        if not dtype.hasobject:
            return self._numeric(key, data).reshape(()).item()
        return unpickle.unpickle_object_array(self.path, key, fp.read())
