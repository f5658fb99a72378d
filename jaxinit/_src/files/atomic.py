"""Atomic file replacement: a file is either the old one or the new one, never half.

The data goes to a temporary file in the target's folder, is flushed to disk
(``fsync``), and replaces the target in one ``os.replace``; the folder is then
synced so the rename itself survives a crash. A failed write removes the
temporary file, and an ``OSError`` names the user's path, never the
temporary one.
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
    replaced); an existing file's permission bits are kept.

    Raises:
      OSError: of the same kind and ``errno`` as the system's
        (``FileNotFoundError`` for a missing folder, ``PermissionError``, ...),
        with a one-line message naming ``target``. Other errors raised by
        ``write`` pass through unchanged.

    Example:
      >>> import tempfile
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     atomic_write(os.path.join(tmp, "a.bin"), lambda f: f.write(b"hi"))
      ...     print(os.listdir(tmp))
      ['a.bin']
    """
    real = os.path.realpath(target)  # write through a symlink, keep the link
    folder, base = os.path.split(real)
    try:
        fd, tmp = _create_temporary(folder, base)
    except OSError as err:
        raise _about(target, folder, err) from None
    try:
        _fill(fd, tmp, real, write)
        os.replace(tmp, real)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _about(target, folder, err) from None
        raise
    _fsync_folder(folder)


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
