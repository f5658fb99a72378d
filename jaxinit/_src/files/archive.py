"""The npz container: opening archives, reading single entries in bounded memory.

An ``.npz`` file is a zip archive of ``.npy`` members. :func:`open_archive`
opens only regular files (never a device, a FIFO or a socket, which could
block or never end) and yields a :class:`Reader`, which reads one member at
a time: it checks the member's ``.npy`` header (dtype, shape, size against
the byte budget, size against what the zip declares) before it reads any
data, then streams the data into an array of exactly that size. Every
failure is an :class:`~jaxinit.NpzError` naming the file and the entry. A
member that needs pickle is only read by
:func:`~jaxinit._src.files.unpickle.unpickle_object_array`, and only where a
single value is expected.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, BinaryIO

import numpy as np
import numpy.typing as npt

from jaxinit._src.files import limits, unpickle
from jaxinit._src.files.entries import EntrySource
from jaxinit._src.files.errors import NpzError

#: Bytes read from a member at a time.
_CHUNK = 1 << 20
#: The largest ``.npy`` header numpy itself reads without ``allow_pickle``.
_MAX_HEADER = 10_000
#: What a failing member read can raise (zipfile, zlib and numpy's header parser).
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    SyntaxError,
    NotImplementedError,
    RuntimeError,
    struct.error,
    MemoryError,
    RecursionError,
)
_KINDS = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


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
        text: str | bytes = os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike, got {path!r}") from None
    if isinstance(text, bytes):
        raise TypeError(f"{name} must be a str or os.PathLike, got bytes {path!r}")
    if not text:
        raise ValueError(f"{name} must not be empty, got {path!r}")
    return text


def write_entries(file: BinaryIO, entries: Mapping[str, npt.ArrayLike]) -> None:
    """Write ``entries`` as an npz archive to the open binary ``file``."""
    # numpy's stub matches ``**entries`` against savez's ``allow_pickle: bool`` too
    np.savez(file, **entries)  # type: ignore[arg-type]


def kind_of(mode: int) -> str | None:
    """What a file of ``mode`` is when it is neither a regular file nor a folder.

    Example:
      >>> kind_of(os.stat("/dev/null").st_mode), kind_of(os.stat(".").st_mode)
      ('a character device', None)
    """
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return None


def _special(path: str, mode: int) -> NpzError:
    real = os.path.realpath(path)
    what = kind_of(mode) or "not a regular file"
    via = f" (it is a link to {real!r})" if real != os.path.abspath(path) else ""
    return NpzError(
        path,
        None,
        f"is {what}{via}, not a regular file; jaxinit reads network files only from regular files",
    )


def open_regular(path: str) -> BinaryIO:
    """Open ``path`` for reading after checking that it is a regular file.

    The link is resolved and the target checked with ``os.stat`` before it
    is opened, and again on the open descriptor; ``O_NONBLOCK`` keeps a FIFO
    swapped in between from blocking. A folder raises ``IsADirectoryError``,
    a missing file ``FileNotFoundError``, a special file
    :class:`~jaxinit.NpzError`.

    Example:
      >>> open_regular("/dev/zero")
      Traceback (most recent call last):
      jaxinit._src.files.errors.NpzError: /dev/zero: is a character device, not a regular ...
    """
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        raise FileNotFoundError(f"no file {path!r}; did you mean {path + '.npz'!r}?")
    before = os.stat(path)
    if stat.S_ISDIR(before.st_mode):
        raise IsADirectoryError(f"{path!r} is a folder, not an .npz file")
    if not stat.S_ISREG(before.st_mode):
        raise _special(path, before.st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        after = os.fstat(fd)
        if not stat.S_ISREG(after.st_mode):
            raise _special(path, after.st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def open_archive(path: str, max_bytes: int | None = None) -> Iterator[Reader]:
    """Open ``path`` as an npz archive and yield a :class:`Reader` for it.

    ``max_bytes`` (default :data:`~jaxinit._src.files.limits.DEFAULT_MAX_BYTES`)
    bounds the array data the reader reads, all entries together. A missing
    file, a folder or an unreadable file raise the usual ``OSError``; a
    special file, or anything that is not a zip archive, raise
    :class:`~jaxinit.NpzError`.
    """
    budget = limits.max_bytes_value(max_bytes)
    file = open_regular(path)
    with file:
        try:
            archive = zipfile.ZipFile(file)
        except zipfile.BadZipFile as err:
            raise NpzError(path, None, f"not a valid .npz (zip) archive: {err}") from err
        except _READ_ERRORS as err:
            raise NpzError(path, None, f"cannot be read as an .npz archive: {err}") from err
        with archive:
            yield Reader(path, archive, budget)


class Reader(EntrySource):
    """Reads single entries of an open npz archive, in bounded memory.

    Attributes:
      path: the file.
      keys: entry name (without ``.npy``) to member name.
      budget: bytes of array data it may still read.
    """

    def __init__(self, path: str, archive: zipfile.ZipFile, budget: int) -> None:
        members = archive.infolist()
        if len(members) > limits.MAX_MEMBERS:
            raise NpzError(
                path,
                None,
                f"has {len(members)} members; jaxinit reads archives of at most "
                f"{limits.MAX_MEMBERS}",
            )
        keys = {m.filename[: -len(".npy")]: m.filename for m in members}
        super().__init__(path, {k: v for k, v in keys.items() if v.endswith(".npy")}, budget)
        self.archive = archive

    @contextlib.contextmanager
    def _member(self, key: str) -> Iterator[tuple[zipfile.ZipInfo, IO[bytes]]]:
        info = self.archive.getinfo(self.keys[key])
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.error(
                key,
                f"uses zip compression method {info.compress_type}; jaxinit reads only "
                "stored or deflated members (as numpy writes them)",
            )
        try:
            with self.archive.open(info) as fp:
                yield info, fp
        except NpzError:
            raise
        except _READ_ERRORS as err:
            raise self.error(key, f"is corrupt or truncated: {err}") from err

    def _header(self, key: str, fp: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
        magic = fp.read(8)
        if len(magic) < 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2):
            raise self.error(key, "is not a valid .npy array: no .npy (version 1 or 2) header")
        size_format = "<H" if magic[6] == 1 else "<I"
        size_bytes = fp.read(struct.calcsize(size_format))
        (length,) = struct.unpack(size_format, size_bytes)
        if length > _MAX_HEADER:
            raise self.error(key, f"is not a valid .npy array: a header of {length} bytes")
        text = fp.read(length)
        head = io.BytesIO(magic + size_bytes + text)
        head.seek(8)
        # numpy's stubs leave the header readers unannotated; numpy.lib.format documents
        # that they return (shape, fortran_order, dtype).
        read: Callable[[IO[bytes]], tuple[tuple[int, ...], bool, np.dtype[Any]]] = (
            np.lib.format.read_array_header_1_0
        )
        if magic[6] == 2:
            read = np.lib.format.read_array_header_2_0
        try:
            return read(head)
        except (ValueError, EOFError, SyntaxError, MemoryError, RecursionError) as err:
            raise self.error(key, f"is not a valid .npy array: {err}") from err

    def _start(
        self, key: str, fp: IO[bytes], info: zipfile.ZipInfo, single: bool
    ) -> tuple[tuple[int, ...], bool, np.dtype[Any], int]:
        shape, fortran, dtype = self._header(key, fp)
        nbytes = self.check_header(key, shape, dtype, single=single)
        if dtype.hasobject:
            return shape, fortran, dtype, info.file_size - fp.tell()
        if info.file_size != fp.tell() + nbytes:
            raise self.error(
                key,
                f"declares {info.file_size} bytes in the zip directory, but its .npy "
                f"header describes {fp.tell() + nbytes} (shape {shape}, dtype {dtype}): the "
                "file is corrupt or was tampered with",
            )
        self.charge(nbytes)
        return shape, fortran, dtype, nbytes

    def _data(
        self,
        key: str,
        fp: IO[bytes],
        shape: tuple[int, ...],
        fortran: bool,
        dtype: np.dtype[Any],
        nbytes: int,
    ) -> npt.NDArray[Any]:
        flat = np.empty(nbytes // max(dtype.itemsize, 1) if nbytes else 0, dtype)
        view = flat.view(np.uint8).data if nbytes else memoryview(b"")
        filled = 0
        while filled < nbytes:
            chunk = fp.read(min(_CHUNK, nbytes - filled))
            if not chunk:
                raise self.error(key, "is corrupt or truncated: its data ends early")
            view[filled : filled + len(chunk)] = chunk
            filled += len(chunk)
        if fp.read(1):  # also makes zipfile check the CRC
            raise self.error(key, "is corrupt: it holds data past its declared end")
        if fortran:
            return flat.reshape(shape[::-1]).transpose()
        return flat.reshape(shape)

    def load_array(self, key: str) -> npt.NDArray[Any]:
        with self._member(key) as (info, fp):
            shape, fortran, dtype, nbytes = self._start(key, fp, info, single=False)
            return self._data(key, fp, shape, fortran, dtype, nbytes)

    def load_value(self, key: str) -> object:
        with self._member(key) as (info, fp):
            shape, fortran, dtype, nbytes = self._start(key, fp, info, single=True)
            if not dtype.hasobject:
                return self._data(key, fp, shape, fortran, dtype, nbytes).reshape(()).item()
            if nbytes > limits.MAX_PICKLE_BYTES:
                raise self.error(
                    key,
                    f"holds a pickle of {limits.size_text(nbytes)}; jaxinit reads pickled "
                    f"values of at most {limits.size_text(limits.MAX_PICKLE_BYTES)}",
                )
            payload = fp.read(nbytes)
        return unpickle.unpickle_object_array(self.path, key, payload)
