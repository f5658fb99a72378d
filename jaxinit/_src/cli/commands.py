"""What each ``jaxinit`` command does: ``init``, ``inspect`` and ``plot``.

Each ``run_*`` function takes the parsed arguments and returns an
:class:`~jaxinit._src.cli.codes.ExitCode`, or raises a
:class:`~jaxinit._src.cli.codes.CliError` (one line, with its code).
Library errors it does not translate itself are translated by
:func:`jaxinit._src.cli.app.main`.
"""

from __future__ import annotations

import argparse
import os
import pathlib
from typing import TYPE_CHECKING

import jaxinit._src.cli.options as options
from jaxinit._src.cli.codes import CliError, ExitCode, describe_os_error
from jaxinit._src.files import NoRecipeError, NpzError

if TYPE_CHECKING:
    from jaxinit._src.files import Reproduction
    from jaxinit._src.recipe import Recipe


def save_network(target: str, recipe: Recipe) -> pathlib.Path:
    """Save the network ``recipe`` builds, with the recipe, to ``target``."""
    import jaxinit

    try:
        return jaxinit.save_npz(target, recipe)
    except OSError as err:
        raise CliError(ExitCode.FILE, describe_os_error(err, target, "write")) from None


def run_init(args: argparse.Namespace) -> ExitCode:
    """``jaxinit init``: make a network from the options, save it and print its summary."""
    settings = options.settings(args)
    target = options.npz_target(settings.pop("output"))
    options.check_writable(target)  # before any work
    initializer = settings.pop("initializer")
    seed = settings.pop("seed")
    import jax

    if settings["dtype"] == "float64":
        jax.config.update("jax_enable_x64", True)  # type: ignore[no-untyped-call]  # jax: untyped
    import jaxinit

    recipe = jaxinit.Recipe(initializer, jax.random.key(seed), jaxinit.Config(**settings))
    path = save_network(target, recipe)
    print(f"jaxinit {jaxinit.__version__}: {initializer}, seed {seed}")
    print(jaxinit.summarize(recipe.build()))
    print(f"{'written to':<32}  {path}")
    return ExitCode.OK


def input_error(err: Exception, path: str | os.PathLike[str]) -> CliError:
    """The one-line error for a network file that cannot be read or used."""
    if isinstance(err, OSError):
        return CliError(ExitCode.FILE, describe_os_error(err, path, "read"))
    return CliError(ExitCode.FILE, f"cannot load {err}")


def reproduce_file(path: str | os.PathLike[str]) -> None:
    """Make the network in ``path`` again from its recipe; raise unless it matches.

    Prints :func:`jaxinit.reproduce`'s message (bitwise identical, or a match
    within its tolerance, not bitwise) and the comparison it used.
    """
    import jaxinit

    try:
        result = jaxinit.reproduce(path)
    except NoRecipeError as err:
        raise CliError(ExitCode.NO_RECIPE, str(err)) from None
    except (NpzError, OSError) as err:
        raise input_error(err, path) from None
    except (ValueError, TypeError) as err:  # an unusable recipe: a problem of the file
        raise CliError(ExitCode.FILE, f"cannot reproduce {path}: {err}") from None
    print(result.message)
    print(f"{'reproduced':<32}  {outcome(result)}")
    if not result.matches:
        raise CliError(
            ExitCode.MISMATCH,
            f"{path} does not match its recipe: {', '.join(result.mismatched)} differ "
            f"(compared {comparison(result)})",
        )


def comparison(result: Reproduction) -> str:
    """How :func:`jaxinit.reproduce` compared, in a few words.

    Example:
      >>> from types import SimpleNamespace as Result
      >>> comparison(Result(tolerance_ulps=0)), comparison(Result(tolerance_ulps=16))
      ('bit for bit', 'within 16 ulp on the floating arrays, the rest bit for bit')
    """
    if result.tolerance_ulps == 0:
        return "bit for bit"
    return f"within {result.tolerance_ulps} ulp on the floating arrays, the rest bit for bit"


def outcome(result: Reproduction) -> str:
    """What :func:`jaxinit.reproduce` found: bitwise, within its tolerance, or no match.

    Example:
      >>> from types import SimpleNamespace as Result
      >>> outcome(Result(matches=True, bitwise=True))
      'yes, bitwise identical'
      >>> outcome(Result(matches=True, bitwise=False, tolerance_ulps=16, inexact=("W_rec",)))
      'yes, within 16 ulp (not bitwise: W_rec)'
      >>> outcome(Result(matches=False, tolerance_ulps=0))
      'no (compared bit for bit)'
    """
    if result.matches and result.bitwise:
        return "yes, bitwise identical"
    if result.matches:
        return f"yes, within {result.tolerance_ulps} ulp (not bitwise: {', '.join(result.inexact)})"
    return f"no (compared {comparison(result)})"


def run_inspect(args: argparse.Namespace) -> ExitCode:
    """``jaxinit inspect``: check a file, print its summary and what is odd about it."""
    import jaxinit

    try:
        report = jaxinit.inspect_file(args.file)
    except (NpzError, OSError) as err:
        raise input_error(err, args.file) from None
    print(f"{args.file} ({report.origin} file)")
    print(report.summary)
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"problem: {problem}")
    if args.reproduce:
        reproduce_file(args.file)
    return ExitCode.PROBLEMS if report.problems else ExitCode.OK


def run_plot(args: argparse.Namespace) -> ExitCode:
    """``jaxinit plot``: draw a network file's spectrum or weights into an image."""
    try:
        import jaxinit.plot as jplot
    except ImportError as err:
        raise CliError(
            ExitCode.FAILED, f"jaxinit plot needs matplotlib: pip install 'jaxinit[plot]' ({err})"
        ) from None
    options.check_writable(args.output)  # before loading or drawing
    try:
        fig, _ = jplot.file_figure(args.file, args.kind, spec_rad=args.spec_rad)
    except (ValueError, OSError) as err:  # kind and spec_rad were checked by the parser
        raise input_error(err, args.file) from None
    try:
        path = jplot.save_figure(fig, args.output)
    except OSError as err:
        raise CliError(ExitCode.FILE, describe_os_error(err, args.output, "write")) from None
    print(f"written to {path}")
    return ExitCode.OK
