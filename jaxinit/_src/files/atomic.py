"""Atomic file replacement: a file is either the old one or the new one, never half.

The data goes to a temporary file in the target's folder, is flushed to disk
(``fsync``), and replaces the target in one ``os.replace``; the folder is then
synced so the rename itself survives a crash. A failed write (any
exception, ``KeyboardInterrupt`` included) removes the temporary file, and
an ``OSError`` names the user's path, never the temporary one.

Only a regular file (or nothing) is ever replaced: a symlink is resolved and
its target checked, so a link to a device, a FIFO or a socket is refused
instead of being swapped for a regular file.

A process killed outright (``kill -9``, a power cut) while saving leaves
the old file untouched, and possibly a temporary file named
``.<name>.<12 hex digits>.tmp`` next to it (``.net.npz.3f9a0c11d2e4.tmp``
for ``net.npz``), which is safe to delete.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable
from typing import BinaryIO


def atomic_write(target: str, write: Callable[[BinaryIO], None]) -> None:
    """Replace ``target`` with what ``write(file)`` writes, atomically.

    A symlink at ``target`` is followed (the link stays, its target is
    replaced); an existing file's permission bits are kept. Anything at the
    resolved path but a regular file (a folder, a device, a FIFO, a socket)
    is refused before anything is written.

    Raises:
      OSError: of the same kind and ``errno`` as the system's
        (``FileNotFoundError`` for a missing folder, ``PermissionError``, ...),
        with a one-line message naming ``target``; ``IsADirectoryError``
        for a folder, ``FileExistsError`` for a special file that would be
        replaced. Other errors raised by ``write`` pass through unchanged.

    Example:
      >>> import tempfile
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     atomic_write(os.path.join(tmp, "a.bin"), lambda f: f.write(b"hi"))
      ...     print(os.listdir(tmp))
      ['a.bin']
    """
    real = os.path.realpath(target)  # write through a symlink, keep the link
    folder, base = os.path.split(real)
    _check_replaceable(target, real)
    try:
        fd, tmp = _create_temporary(folder, base)
    except OSError as err:
        raise _about(target, folder, err) from None
    try:
        _fill(fd, tmp, real, write)
        _check_replaceable(target, real)  # again: it may have changed while writing
        os.replace(tmp, real)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _about(target, folder, err) from None
        raise
    _fsync_folder(folder)


def _check_replaceable(target: str, real: str) -> None:
    """Refuse unless ``real`` (``target`` resolved) is missing or a regular file."""
    try:
        mode = os.lstat(real).st_mode
    except FileNotFoundError:
        return
    except OSError:
        return  # the write itself reports it (no permission, a missing folder, ...)
    if stat.S_ISREG(mode):
        return
    via = f" (the link leads to {real!r})" if real != os.path.abspath(target) else ""
    if stat.S_ISDIR(mode):
        err: OSError = IsADirectoryError(f"cannot save {target!r}: it is a folder{via}")
        err.errno = errno.EISDIR
        raise err
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    err = FileExistsError(
        f"cannot save {target!r}: it is {kind}{via}; jaxinit replaces only regular files"
    )
    err.errno = errno.EEXIST  # str(err) stays the one line above
    raise err


_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: "a symlink that changed while saving",
}


def _create_temporary(folder: str, base: str) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def _fill(fd: int, tmp: str, real: str, write: Callable[[BinaryIO], None]) -> None:
    try:
        file = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        raise
    with file:  # closes fd
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(real).st_mode))  # keep the old file's mode
        write(file)
        file.flush()
        os.fsync(file.fileno())


def _about(target: str, folder: str, err: OSError) -> OSError:
    """``err`` reworded to name ``target`` (same class and errno)."""
    if err.errno == errno.ENOENT and not os.path.isdir(folder):
        problem = f"the folder {folder!r} does not exist"
    elif err.errno == errno.EISDIR or os.path.isdir(target):
        problem = "it is a folder"
    else:
        problem = err.strerror or str(err)
    new = type(err)(f"cannot save {target!r}: {problem}")
    new.errno = err.errno  # str(new) stays the one line above (no strerror, no filename)
    return new


def _fsync_folder(folder: str) -> None:
    # Make the rename itself durable; not every system can open a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
