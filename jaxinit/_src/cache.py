"""A persistent cache of compiled programs, for sweeps over sizes and for the command line.

Each new shape (``N_rec``, the number of members, the dtype, ...) is a new
program for XLA, and compiling jaxinit's programs takes seconds (the Krylov
method's more than it then runs). JAX can keep compiled programs on disk and
load them in a later process; :func:`enable_compilation_cache` turns that on
for a folder that is safe to use, and ``jaxinit init`` / ``inspect`` /
``plot`` use it by default.

JAX loads and runs what it finds in that folder: anyone who can write there
can run code in your process. So the folder must be a real directory (not a
symbolic link) owned by you and not writable by your group or others; a new
one is created with mode ``0o700``.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import stat
from collections.abc import Iterator

import jax

#: The environment variable that names the cache folder (else
#: ``$XDG_CACHE_HOME/jaxinit/jax``, else ``~/.cache/jaxinit/jax``).
CACHE_DIR_VARIABLE = "JAXINIT_CACHE_DIR"


def default_cache_dir() -> pathlib.Path:
    """The folder :func:`enable_compilation_cache` uses when given none.

    ``$JAXINIT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/jaxinit/jax``, else
    ``~/.cache/jaxinit/jax``.

    Example:
      >>> import os, unittest.mock
      >>> with unittest.mock.patch.dict(os.environ, {"JAXINIT_CACHE_DIR": "/tmp/my-jax-cache"}):
      ...     print(default_cache_dir())
      /tmp/my-jax-cache
    """
    named = os.environ.get(CACHE_DIR_VARIABLE)
    if named:
        return pathlib.Path(named).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "jaxinit" / "jax"


def _check_private_dir(path: pathlib.Path) -> None:
    """Refuse a cache folder that someone else could write programs into."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        raise ValueError(
            f"compilation cache {str(path)!r} is a symbolic link; give the real folder"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise ValueError(f"compilation cache {str(path)!r} exists and is not a directory")
    getuid = getattr(os, "getuid", None)
    if getuid is not None and info.st_uid != getuid():
        raise ValueError(
            f"compilation cache {str(path)!r} belongs to user id {info.st_uid}, not to you: "
            "JAX runs the programs it finds there"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ValueError(
            f"compilation cache {str(path)!r} is writable by others (mode "
            f"{stat.S_IMODE(info.st_mode):o}): anyone who can write there can run code in your "
            "process; use a private folder (chmod 700)"
        )


def enable_compilation_cache(path: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """Keep compiled programs on disk, so a later process loads them instead of compiling.

    Sets JAX's persistent compilation cache (``jax_compilation_cache_dir``)
    to ``path`` (default ``$JAXINIT_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/jaxinit/jax``, else ``~/.cache/jaxinit/jax``), creating it with mode
    ``0o700`` if needed, and takes effect even after programs were compiled
    in this process. Worth it when you sweep sizes in separate runs, or call
    the command line repeatedly: a cached program loads in a fraction of its
    compile time. JAX keeps only programs that took at least
    ``jax_persistent_cache_min_compile_time_secs`` (1 s by default; the
    environment variable ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS`` sets
    it) to compile. Cached programs depend on the JAX version and the
    machine; JAX checks both and compiles again where they differ.

    Args:
      path: the folder. It must be a directory of yours, not a symbolic link,
        not writable by your group or others (JAX runs what it finds there).

    Returns:
      The folder, as a ``pathlib.Path``.

    Raises:
      ValueError: the folder is not private (naming the reason).
      OSError: the folder cannot be created.

    Example:
      >>> import tempfile, jax, jaxinit
      >>> folder = jaxinit.enable_compilation_cache(tempfile.mkdtemp())
      >>> jax.config.jax_compilation_cache_dir == str(folder)
      True
      >>> jaxinit.disable_compilation_cache()
    """
    if path is None:
        folder = default_cache_dir()
    elif isinstance(path, str | os.PathLike):
        folder = pathlib.Path(path).expanduser()
    else:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not os.path.lexists(folder):
        folder.mkdir(mode=0o700, parents=True)
    _check_private_dir(folder)
    _set_cache_dir(str(folder.resolve()))
    return folder.resolve()


def disable_compilation_cache() -> None:
    """Stop using the persistent compilation cache in this process (the files stay)."""
    _set_cache_dir(None)


@contextlib.contextmanager
def compilation_cache(path: str | os.PathLike[str] | None = None) -> Iterator[pathlib.Path]:
    """:func:`enable_compilation_cache` for a ``with`` block; the previous setting comes back."""
    before: str | None = jax.config.jax_compilation_cache_dir  # type: ignore[attr-defined]
    try:
        yield enable_compilation_cache(path)
    finally:
        _set_cache_dir(before)


def _set_cache_dir(value: str | None) -> None:
    from jax.experimental.compilation_cache import compilation_cache

    jax.config.update("jax_compilation_cache_dir", value)  # type: ignore[no-untyped-call]
    # JAX decides once per process whether the cache is in use; start over so
    # the new setting counts even after earlier compilations.
    compilation_cache.reset_cache()
