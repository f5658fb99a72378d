"""The options of ``jaxinit init``: names, defaults, limits and config files.

Each option is a :class:`~jaxinit.Config` field (same name, same default)
except ``initializer``, ``seed`` and ``output``, and the network sizes,
whose command-line defaults (``N_in=2``, ``N_rec=100``, ``N_out=1``) Config
does not have. Settings come from three places, later ones winning: the
defaults, a ``--config`` file, the options given.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import numbers
import os
from collections.abc import Callable
from typing import Any

from jaxinit._src.cli.codes import CliError, ExitCode
from jaxinit._src.config import Config
from jaxinit._src.names import (
    DALE_BALANCES,
    DTYPES,
    INITIALIZER_NAMES,
    SCHEME_NAMES,
    SPECTRAL_METHODS,
    SPECTRAL_RADIUS_OF,
    TRANSFER_FUNCTION_NAMES,
    DaleBalance,
)

#: The largest N_in, N_rec and N_out ``jaxinit init`` accepts: a W_rec of
#: 16384 x 16384 takes 1 GiB in float32 (2 GiB in float64) before any work.
MAX_UNITS = 16384

#: The largest seed: ``jax.random.key`` keeps 32 bits of it unless 64-bit JAX
#: is on, so larger seeds would silently give the same key as smaller ones.
MAX_SEED = 2**32 - 1

#: Defaults of the settings :class:`~jaxinit.Config` does not define.
CLI_DEFAULTS: dict[str, Any] = {
    "initializer": "gaussian_spectral_radius",
    "seed": 0,
    "output": "network.npz",
    "N_in": 2,
    "N_rec": 100,
    "N_out": 1,
}


def config_defaults() -> dict[str, Any]:
    """The defaults of :class:`~jaxinit.Config`, field by field.

    Example:
      >>> config_defaults()["dale_ratio"], config_defaults()["spectral_radius_of"]
      (None, 'raw')
    """
    fields = dataclasses.fields(Config)
    return {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}


#: Every setting of ``jaxinit init`` with no options.
DEFAULTS = {**config_defaults(), **CLI_DEFAULTS}


def ratio(text: str) -> float | None:
    """Parse ``--dale-ratio``: a number in [0, 1], or ``none``.

    Example:
      >>> ratio("0.8"), ratio("None"), ratio("0")
      (0.8, None, 0.0)
    """
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number in [0, 1] or 'none', got {text!r}"
        ) from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1] or 'none', got {text!r}")
    return value


def balance(text: str) -> DaleBalance | None:
    """Parse ``--dale-balance``: ``psychrnn``, ``rows`` or ``none``.

    Example:
      >>> balance("rows"), balance("None")
      ('rows', None)
    """
    if text.strip().lower() == "none":
        return None
    if text not in DALE_BALANCES:
        raise argparse.ArgumentTypeError(
            f"expected one of {', '.join(DALE_BALANCES)} or none, got {text!r}"
        )
    return text


# (option, setting, type or choices, help). The help names PsychRNN's argument.
OPTIONS: list[tuple[str, str, Callable[[str], object] | tuple[str, ...], str]] = [
    ("--N-in", "N_in", int, "number of inputs (PsychRNN: N_in)"),
    ("--N-rec", "N_rec", int, f"number of recurrent units, at most {MAX_UNITS} (PsychRNN: N_rec)"),
    ("--N-out", "N_out", int, "number of outputs (PsychRNN: N_out)"),
    (
        "--dale-ratio",
        "dale_ratio",
        ratio,
        "fraction of excitatory units in [0, 1] (0: every unit inhibitory), or 'none' for no "
        "Dale's law (PsychRNN: dale_ratio)",
    ),
    (
        "--dale-balance",
        "dale_balance",
        balance,
        "how Dale's law balances W_rec: psychrnn (PsychRNN's column factors, balanced on "
        "average), rows (each unit's E and I inputs cancel exactly) or none",
    ),
    (
        "--which-rand-init",
        "which_rand_init",
        SCHEME_NAMES,
        "scheme for W_in and W_out (PsychRNN: which_rand_init)",
    ),
    (
        "--which-rand-W-rec-init",
        "which_rand_W_rec_init",
        SCHEME_NAMES,
        "scheme for W_rec with --initializer weight_initializer (PsychRNN: which_rand_W_rec_init)",
    ),
    ("--init-minval", "init_minval", float, "const_unif lower bound (PsychRNN: init_minval)"),
    ("--init-maxval", "init_maxval", float, "const_unif upper bound (PsychRNN: init_maxval)"),
    ("--spec-rad", "spec_rad", float, "spectral radius to set (PsychRNN: spec_rad)"),
    (
        "--spectral-radius-of",
        "spectral_radius_of",
        SPECTRAL_RADIUS_OF,
        "which W_rec gets spec_rad: raw (as PsychRNN) or effective (the matrix the RNN uses: "
        "masked, |.| and Dale signs)",
    ),
    (
        "--spectral-method",
        "spectral_method",
        SPECTRAL_METHODS,
        "how the radius is measured: eig (full solve), krylov (certified Arnoldi, fast for "
        "large N_rec), auto, or predicted (from the variance profile, no eigensolve; a few "
        "percent off)",
    ),
    ("--alpha", "alpha", float, "diagonal of alpha_identity (PsychRNN: AlphaIdentity alpha)"),
    (
        "--transfer-function",
        "transfer_function",
        TRANSFER_FUNCTION_NAMES,
        "transfer function recorded with the network (PsychRNN: transfer_function)",
    ),
    ("--dtype", "dtype", DTYPES, "dtype of the arrays"),
]

#: Keys a ``--config`` file may hold.
FILE_KEYS = frozenset(DEFAULTS)


def default_text(setting: str) -> str:
    """How the help shows a default.

    Example:
      >>> default_text("dale_ratio"), default_text("N_rec")
      ('none', '100')
    """
    if setting == "which_rand_W_rec_init":
        return "the --which-rand-init scheme"
    value = DEFAULTS[setting]
    return "none" if value is None else str(value)


def _parse_file(path: str, raw: bytes) -> object:
    if path.lower().endswith(".json"):
        return json.loads(raw)
    import tomllib

    return tomllib.loads(raw.decode("utf-8"))


def _file_dale_ratio(path: str, value: object) -> numbers.Real | None:
    """``dale_ratio`` from a config file: ``"none"``, ``false`` and JSON ``null`` mean no Dale."""
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() == "none":
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CliError(
            ExitCode.USAGE,
            f'config file {path}: dale_ratio must be a number in [0, 1], "none" or false, '
            f"got {value!r}",
        )
    return value


def read_config_file(path: str) -> dict[str, Any]:
    """The settings in a TOML or JSON file (``.json``: JSON, anything else: TOML)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise CliError(
            ExitCode.USAGE, f"cannot read config file {path}: {err.strerror or err}"
        ) from None
    try:
        data = _parse_file(path, raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise CliError(ExitCode.USAGE, f"config file {path} is not valid: {err}") from None
    if not isinstance(data, dict):
        raise CliError(ExitCode.USAGE, f"config file {path} must hold a table of options")
    unknown = sorted(set(data) - FILE_KEYS)
    if unknown:
        raise CliError(
            ExitCode.USAGE,
            f"config file {path} has unknown option(s) {unknown}; known: {sorted(FILE_KEYS)}",
        )
    if "dale_ratio" in data:
        data["dale_ratio"] = _file_dale_ratio(path, data["dale_ratio"])
    if isinstance(data.get("dale_balance"), str) and data["dale_balance"].lower() == "none":
        data["dale_balance"] = None
    return data


def _check_limits(settings: dict[str, Any]) -> None:
    seed = settings["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise CliError(ExitCode.USAGE, f"seed must be an integer in [0, {MAX_SEED}], got {seed!r}")
    for name in ("N_in", "N_rec", "N_out"):
        value = settings[name]
        integer = isinstance(value, numbers.Integral) and not isinstance(value, bool)
        if integer and value > MAX_UNITS:
            raise CliError(
                ExitCode.USAGE,
                f"{name} must be at most {MAX_UNITS} on the command line, got {value}",
            )
    if settings["initializer"] not in INITIALIZER_NAMES:
        raise CliError(
            ExitCode.USAGE,
            f"initializer must be one of {list(INITIALIZER_NAMES)}, "
            f"got {settings['initializer']!r}",
        )
    output = settings["output"]
    if not isinstance(output, str) or not output:
        raise CliError(ExitCode.USAGE, f"output must be a file name, got {output!r}")


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults, then the ``--config`` file, then the options given; checked."""
    merged = dict(DEFAULTS)
    if getattr(args, "config", None) is not None:
        merged.update(read_config_file(args.config))
    for name in DEFAULTS:
        if hasattr(args, name):  # options not given are absent (argparse.SUPPRESS)
            merged[name] = getattr(args, name)
    _check_limits(merged)
    return merged


def npz_target(output: str) -> str:
    """The file ``init`` writes: ``output`` with ``.npz`` appended if missing.

    Example:
      >>> npz_target("net"), npz_target("a/b.npz")
      ('net.npz', 'a/b.npz')
    """
    return output if output.endswith(".npz") else output + ".npz"


def check_writable(path: str) -> None:
    """Refuse, before any work, a ``path`` whose folder is missing or that is a folder."""
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        why = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CliError(ExitCode.FILE, f"cannot write {path}: {folder} {why}")
    if os.path.isdir(path):
        raise CliError(ExitCode.FILE, f"cannot write {path}: it is a folder")
