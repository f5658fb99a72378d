"""The parser of the ``jaxinit`` command and :func:`main`, its entry point."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import warnings
from collections.abc import Iterator
from typing import Any, Literal, NoReturn, TextIO

import jaxinit._src.cli.commands as commands
import jaxinit._src.cli.options as options
from jaxinit._src.cache import compilation_cache
from jaxinit._src.cli.codes import CliError, ExitCode, describe_os_error, epilog, one_line
from jaxinit._src.files import NpzError
from jaxinit._src.names import INITIALIZER_NAMES
from jaxinit._src.plotting import KINDS
from jaxinit._src.version import __version__


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"jaxinit: error: {one_line(message)} (see {self.prog} --help)\n")


def positive_float(text: str) -> float:
    """Parse a finite positive number (``plot --spec-rad``).

    Example:
      >>> positive_float("1.5")
      1.5
    """
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite positive number, got {text!r}")
    return value


def _cache_options() -> Parser:
    """The options of the persistent compilation cache, shared by every command."""
    parent = Parser(add_help=False)
    group = parent.add_argument_group("compilation cache")
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        "--compile-cache",
        metavar="DIR",
        default=None,
        help="keep compiled programs in DIR, a private folder (default: $JAXINIT_CACHE_DIR, "
        "else ~/.cache/jaxinit/jax), so the next run with the same sizes need not compile",
    )
    choice.add_argument(
        "--no-compile-cache",
        dest="compile_cache",
        action="store_false",
        help="compile everything afresh and write no cache",
    )
    return parent


CACHE_OPTIONS = _cache_options()


def _add_init(sub: argparse._SubParsersAction[Parser]) -> None:
    init = sub.add_parser(
        "init",
        parents=[CACHE_OPTIONS],
        help="make a network, save it as .npz with its recipe and print its summary",
        description="Make a network, save it as a PsychRNN-loadable .npz file with its recipe\n"
        "(initializer, key, config, versions) and print a summary. The defaults are those of\n"
        "jaxinit.Config (no Dale's law, spec_rad 1.1 for the raw W_rec, glorot_gauss, relu,\n"
        "float32) with 2 inputs, 100 units, 1 output, gaussian_spectral_radius, seed 0,\n"
        "network.npz. Options override a --config file, which overrides the defaults.\n\n"
        "A --config file is TOML (JSON if it ends in .json) with Config field names\n"
        "(N_rec, dale_ratio, spec_rad, autapses, ...) and initializer, seed, output.\n"
        'TOML has no null: write dale_ratio = "none" or dale_ratio = false for no\n'
        "Dale's law (JSON also takes null).",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    def add(*names: str, **kwargs: Any) -> None:
        init.add_argument(*names, default=argparse.SUPPRESS, **kwargs)

    add("-o", "--output", help="file to write (.npz is appended if missing). Default: network.npz")
    add("--config", help="TOML or JSON file of settings (see above)")
    add(
        "--initializer",
        choices=INITIALIZER_NAMES,
        help="PsychRNN class: GaussianSpectralRadius, AlphaIdentity or WeightInitializer. "
        f"Default: {options.default_text('initializer')}",
    )
    add("--seed", type=int, help=f"seed of jax.random.key, in [0, {options.MAX_SEED}]. Default: 0")
    add(
        "--no-autapses",
        dest="autapses",
        action="store_const",
        const=False,
        help="remove self-connections (PsychRNN: autapses=False)",
    )
    for option, setting, kind, text in options.OPTIONS:
        choices = kind if isinstance(kind, tuple) else None
        parse = None if choices else kind
        add(
            option,
            dest=setting,
            type=parse,
            choices=choices,
            help=f"{text}. Default: {options.default_text(setting)}",
        )
    init.set_defaults(run=commands.run_init)


def _add_inspect(sub: argparse._SubParsersAction[Parser]) -> None:
    inspect = sub.add_parser(
        "inspect",
        parents=[CACHE_OPTIONS],
        help="check a jaxinit or PsychRNN .npz file and print its summary",
        description="Load a jaxinit or PsychRNN .npz file safely (no code from the file runs),\n"
        "print its summary and what is odd about it. With --reproduce, also make the\n"
        "network again from the recipe the file records and compare it: bit for bit, or\n"
        "within 16 ulp on the floating arrays (a network made inside a caller's jax.jit can\n"
        "differ in the last bits); the output says which.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument("file", help="the .npz file")
    inspect.add_argument(
        "--reproduce",
        action="store_true",
        help="also make the network again from its recorded recipe (exit 4 if the file records "
        "none, 5 if the result differs)",
    )
    inspect.set_defaults(run=commands.run_inspect)


def _add_plot(sub: argparse._SubParsersAction[Parser]) -> None:
    plot = sub.add_parser(
        "plot",
        parents=[CACHE_OPTIONS],
        help="draw a network file's spectrum or weights to an image (extra 'plot')",
        description="Draw the eigenvalues (raw and effective, with the target circle) or the\n"
        "effective recurrent weights (E/I blocks, masked entries) of a jaxinit or PsychRNN\n"
        ".npz file into an image; the format follows the suffix of -o (PNG without one).",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    plot.add_argument("file", help="the .npz file")
    plot.add_argument("-o", "--output", required=True, help="image to write, e.g. out.png")
    plot.add_argument("--kind", choices=KINDS, default="spectrum", help="Default: spectrum")
    plot.add_argument(
        "--spec-rad",
        type=positive_float,
        default=None,
        help="target radius to draw. Default: the recorded spec_rad, if any",
    )
    plot.set_defaults(run=commands.run_plot)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``jaxinit`` and its three commands."""
    parser = Parser(
        prog="jaxinit",
        description="Initialize biologically constrained RNNs (PsychRNN-compatible) with JAX.",
        epilog=epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jaxinit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{init,inspect,plot}")
    _add_init(sub)
    _add_inspect(sub)
    _add_plot(sub)
    return parser


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    print(f"jaxinit: warning: {one_line(message)}", file=sys.stderr)


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print each warning as one ``jaxinit: warning: ...`` line on stderr."""
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        yield


def translate(err: Exception) -> CliError:
    """The one-line error and exit status for an error the commands did not translate.

    Example:
      >>> err = translate(ValueError("N_rec must be a positive integer, got 0"))
      >>> int(err.code), str(err)
      (2, 'N_rec must be a positive integer, got 0')
    """
    if isinstance(err, CliError):
        return err
    if isinstance(err, NpzError):
        return CliError(ExitCode.FILE, f"cannot load {err}")
    if isinstance(err, OSError):
        return CliError(ExitCode.FILE, describe_os_error(err))
    if isinstance(err, MemoryError):
        return CliError(ExitCode.FAILED, f"out of memory {err}".strip())
    if isinstance(err, (ValueError, TypeError, OverflowError)):
        return CliError(ExitCode.USAGE, str(err))
    if isinstance(err, RecursionError):
        return CliError(ExitCode.FAILED, f"the input is nested too deeply: {err}")
    return CliError(
        ExitCode.FAILED,
        f"unexpected {type(err).__name__}: {err} (a bug in jaxinit? please report it)",
    )


@contextlib.contextmanager
def use_cache(folder: str | Literal[False] | None) -> Iterator[None]:
    """The compilation cache for one command: in ``folder``, the default (None), or none (False).

    A folder given with ``--compile-cache`` that cannot be used is an error; when the default
    folder cannot be used, a warning says why and the command goes on without a cache. The
    process's previous setting comes back afterwards (``main`` may run inside a program).
    """
    if folder is False:
        yield
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(compilation_cache(folder))
        except (OSError, ValueError) as err:
            if folder is not None:
                raise CliError(ExitCode.USAGE, f"--compile-cache: {one_line(err)}") from err
            warnings.warn(f"no compilation cache: {err}", stacklevel=3)
        yield


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        with one_line_warnings(), use_cache(args.compile_cache):
            return int(args.run(args))
    except SystemExit as exit_:  # --help, --version and argparse's usage errors
        return exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    except KeyboardInterrupt:
        print("jaxinit: error: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as err:  # the command line never shows a traceback
        error = translate(err)
        print(f"jaxinit: error: {one_line(error)}", file=sys.stderr)
        return int(error.code)
