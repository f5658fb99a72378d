"""The ``jaxinit`` command line: ``init``, ``inspect`` and ``plot``.

``jaxinit init`` makes a network from options with the same names and the
same defaults as :class:`~jaxinit.Config` (plus ``N_in=2``, ``N_rec=100``,
``N_out=1``, the initializer ``gaussian_spectral_radius`` and seed 0),
saves it with its recipe and prints its summary. ``jaxinit inspect`` checks
a jaxinit or PsychRNN file; ``jaxinit plot`` draws one.

An error is reported as one line on stderr, ``jaxinit: error: ...``, never
as a traceback, and the exit status says what happened:

====  ==========================================================================
code  meaning
====  ==========================================================================
0     success
1     a file cannot be read or written (missing, corrupt, no permission, ...)
2     bad options or usage (unknown option, value out of range, bad config file)
3     ``inspect`` loaded the file and found problems
4     ``inspect --reproduce``: the file records no recipe to reproduce
5     ``inspect --reproduce``: the network made again differs from the file
6     could not finish: out of memory, a missing optional package, or a bug
130   interrupted (Ctrl-C)
====  ==========================================================================

Modules: :mod:`~jaxinit._src.cli.codes` (the exit codes and the one-line
error), :mod:`~jaxinit._src.cli.options` (the options of ``init``, their
limits and config files), :mod:`~jaxinit._src.cli.commands` (what each
command does) and :mod:`~jaxinit._src.cli.app` (the parser and
:func:`main`, the entry point).

Example:
  >>> main(["inspect", "no-such-file.npz"])
  1
"""

from jaxinit._src.cli.app import build_parser, main
from jaxinit._src.cli.codes import EXIT_CODES, CliError, ExitCode

__all__ = ["EXIT_CODES", "CliError", "ExitCode", "build_parser", "main"]
