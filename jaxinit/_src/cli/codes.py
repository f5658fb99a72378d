"""Exit codes of the ``jaxinit`` command and the one error it raises."""

from __future__ import annotations

import enum
import os


class ExitCode(enum.IntEnum):
    """The exit status of ``jaxinit`` (see the table in :mod:`jaxinit._src.cli`)."""

    OK = 0
    FILE = 1
    USAGE = 2
    PROBLEMS = 3
    NO_RECIPE = 4
    MISMATCH = 5
    FAILED = 6
    INTERRUPTED = 130


#: What each exit status means, as ``jaxinit --help`` prints it.
EXIT_CODES = {
    ExitCode.OK: "success",
    ExitCode.FILE: "a file cannot be read or written (missing, corrupt, no permission, ...)",
    ExitCode.USAGE: "bad options or usage (unknown option, value out of range, bad config file)",
    ExitCode.PROBLEMS: "inspect loaded the file and found problems",
    ExitCode.NO_RECIPE: "inspect --reproduce: the file records no recipe to reproduce",
    ExitCode.MISMATCH: "inspect --reproduce: the network made again differs from the file",
    ExitCode.FAILED: "could not finish: out of memory, a missing optional package, or a bug",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}

#: The longest error message printed (a JAX runtime error can be pages long).
MAX_MESSAGE = 600


def epilog() -> str:
    """The exit-code table for the end of ``--help``.

    Example:
      >>> epilog().splitlines()[1]
      '  0    success'
    """
    lines = ["exit status:"]
    lines += [f"  {int(code):<4} {text}" for code, text in EXIT_CODES.items()]
    return "\n".join(lines)


def one_line(text: object) -> str:
    """``text`` on one line (whitespace runs become one space), shortened if huge.

    Example:
      >>> one_line("first\\n  second")
      'first second'
    """
    flat = " ".join(str(text).split())
    if len(flat) > MAX_MESSAGE:
        flat = flat[: MAX_MESSAGE - 5] + " ..."
    return flat


class CliError(Exception):
    """An error the command line reports as one line, with its exit status.

    Example:
      >>> err = CliError(ExitCode.FILE, "cannot write x.npz")
      >>> int(err.code), str(err)
      (1, 'cannot write x.npz')
    """

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = ExitCode(code)


def describe_os_error(
    err: OSError, path: str | os.PathLike[str] | None = None, verb: str = "use"
) -> str:
    """One line saying which file could not be read or written, and why.

    ``path`` is the file the user named (default: the error's own
    ``filename``); a message that already names it is kept as it is.

    Example:
      >>> err = FileNotFoundError(2, "No such file or directory", "a.npz")
      >>> describe_os_error(err, verb="read")
      'cannot read a.npz: No such file or directory'
      >>> describe_os_error(OSError("cannot save 'b.npz': it is a folder"), "b.npz", "write")
      "cannot save 'b.npz': it is a folder"
    """
    reason = err.strerror or str(err)
    where = os.fspath(path) if path is not None else err.filename
    if where is not None and str(where) in reason:
        return reason
    return f"cannot {verb} {where}: {reason}" if where is not None else f"cannot {verb}: {reason}"
