"""The errors and warnings of network files (one home, imported by every file module)."""

from __future__ import annotations

import os


class NpzError(ValueError):
    """A file is not a usable network file: corrupt, incomplete or inconsistent.

    Attributes:
      path: the file.
      key: the entry at fault, or None when the whole file is.
      problem: what is wrong, without the file and entry.

    Example:
      >>> err = NpzError("net.npz", "W_rec", "must be finite, got nan in it")
      >>> str(err), err.key
      ("net.npz, entry 'W_rec': must be finite, got nan in it", 'W_rec')
    """

    def __init__(self, path: str | os.PathLike[str], key: str | None, problem: str) -> None:
        self.path = os.fspath(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}" if key is None else f"{self.path}, entry {key!r}"
        super().__init__(f"{where}: {problem}")


class UnsafePickleError(NpzError):
    """A file holds a pickle that would import or run something not on the allow-list."""


class NoRecipeError(NpzError):
    """A file records no recipe that :func:`~jaxinit.reproduce` could run.

    Raised for PsychRNN files, for jaxinit files saved from a bare
    :class:`~jaxinit.Params`, and for jaxinit files whose PsychRNN entries
    were edited after saving (the recipe no longer describes them).
    """


class LegacyFileWarning(UserWarning):
    """A PsychRNN file from before version 1.0 (no ``dale_ratio`` entry) was loaded."""


class EditedFileWarning(UserWarning):
    """A jaxinit file's PsychRNN entries were changed after jaxinit wrote it.

    The file is loaded as PsychRNN would run it (its PsychRNN entries win);
    jaxinit's own entries (raw matrices, recorded recipe) no longer describe
    it and are not used.
    """


class DaleRatioWarning(UserWarning):
    """A PsychRNN file's ``dale_ratio`` contradicts its ``Dale_rec`` matrix.

    A ``dale_ratio`` of 0.0 means "every unit inhibitory" to jaxinit, but
    PsychRNN 1.0.0 (which tests ``if dale_ratio:``) runs such a file without
    Dale's law. When ``Dale_rec`` still marks excitatory units the file can
    only mean the latter, so jaxinit loads it without Dale's law and warns.
    """
