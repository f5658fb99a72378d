"""The ``jaxinit`` command line: ``init`` and ``inspect``."""

from __future__ import annotations

import argparse
import json
import sys

INITIALIZERS = ("gaussian_spectral_radius", "alpha_identity", "weight_initializer")

#: What ``jaxinit init`` makes with no options (a typical cognitive-task RNN).
DEFAULTS = {
    "initializer": "gaussian_spectral_radius",
    "seed": 0,
    "output": "network.npz",
    "N_in": 2,
    "N_rec": 100,
    "N_out": 1,
    "dale_ratio": 0.8,
    "spectral_radius_of": "effective",
}

# (option, Config field, type, help). Help names the PsychRNN argument.
_OPTIONS = [
    ("--N-in", "N_in", int, "number of inputs (PsychRNN: N_in). Default 2"),
    ("--N-rec", "N_rec", int, "number of recurrent units (PsychRNN: N_rec). Default 100"),
    ("--N-out", "N_out", int, "number of outputs (PsychRNN: N_out). Default 1"),
    (
        "--dale-ratio",
        "dale_ratio",
        "ratio",
        "fraction of excitatory units in [0, 1], or 'none' for no Dale's law "
        "(PsychRNN: dale_ratio). Default 0.8",
    ),
    (
        "--which-rand-init",
        "which_rand_init",
        str,
        "scheme for W_in/W_out: const_unif, const_gauss, glorot_unif, glorot_gauss "
        "(PsychRNN: which_rand_init). Default glorot_gauss",
    ),
    (
        "--which-rand-W-rec-init",
        "which_rand_W_rec_init",
        str,
        "scheme for W_rec with --initializer weight_initializer "
        "(PsychRNN: which_rand_W_rec_init). Default: as --which-rand-init",
    ),
    ("--init-minval", "init_minval", float, "const_unif lower bound (PsychRNN: init_minval)"),
    ("--init-maxval", "init_maxval", float, "const_unif upper bound (PsychRNN: init_maxval)"),
    ("--spec-rad", "spec_rad", float, "spectral radius to set (PsychRNN: spec_rad). Default 1.1"),
    (
        "--spectral-radius-of",
        "spectral_radius_of",
        str,
        "'effective' (default): the matrix the RNN uses gets spec_rad; 'raw': the raw W_rec "
        "does, as in PsychRNN",
    ),
    (
        "--spectral-method",
        "spectral_method",
        str,
        "how the radius is measured: eig (full solve, default), krylov (certified Arnoldi, "
        "fast for large N) or auto",
    ),
    ("--alpha", "alpha", float, "diagonal of alpha_identity (PsychRNN: AlphaIdentity alpha)"),
    (
        "--transfer-function",
        "transfer_function",
        str,
        "relu, tanh, sigmoid, softplus, elu, identity or retanh "
        "(PsychRNN: transfer_function). Default relu",
    ),
    ("--dtype", "dtype", str, "float32 (default) or float64"),
]


def _ratio(text: str):
    if text.strip().lower() == "none":
        return None
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'none', got {text!r}") from None


def _read_config_file(path: str) -> dict:
    """Options from a TOML or JSON file (keys: Config fields, initializer, seed, output)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise ValueError(f"cannot read config file {path!r}: {err.strerror}") from None
    try:
        if path.endswith(".json"):
            data = json.loads(raw)
        else:
            import tomllib

            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"config file {path!r} is not valid: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"config file {path!r} must hold a table of options")
    known = {field for _, field, _, _ in _OPTIONS} | {"initializer", "seed", "output", "autapses"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"config file {path!r} has unknown option(s) {unknown}")
    return data


def _settings(args) -> dict:
    settings = dict(DEFAULTS)
    if getattr(args, "config", None):
        settings.update(_read_config_file(args.config))
    for name in ["initializer", "seed", "output", "autapses"] + [f for _, f, _, _ in _OPTIONS]:
        if hasattr(args, name):  # options not given are absent (argparse.SUPPRESS)
            settings[name] = getattr(args, name)
    return settings


def _cmd_init(args) -> int:
    settings = _settings(args)
    initializer = settings.pop("initializer")
    if initializer not in INITIALIZERS:
        raise ValueError(f"initializer must be one of {list(INITIALIZERS)}, got {initializer!r}")
    seed = settings.pop("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    output = settings.pop("output")
    import jax

    if settings.get("dtype") == "float64":
        jax.config.update("jax_enable_x64", True)
    import jaxinit

    config = jaxinit.Config(**settings)
    key = jax.random.key(seed)
    init = getattr(jaxinit, initializer)
    params = init(key, config)
    path = jaxinit.save_npz(output, params, initializer=initializer, key=key, config=config)
    print(f"jaxinit {jaxinit.__version__}: {initializer}, seed {seed}")
    print(jaxinit.summarize(params))
    print(f"{'written to':<32}  {path}")
    return 0


def _cmd_inspect(args) -> int:
    from jaxinit._src.inspection import inspect_file
    from jaxinit._src.npz import NpzError

    try:
        report = inspect_file(args.file)
    except (NpzError, OSError) as err:
        print(f"jaxinit inspect: invalid file: {err}", file=sys.stderr)
        return 1
    print(f"{args.file} ({report.origin} file)")
    print(report.summary)
    for note in report.notes:
        print(f"note: {note}")
    for problem in report.problems:
        print(f"problem: {problem}")
    if args.reproduce and report.origin == "jaxinit":
        from jaxinit._src.provenance import reproduce

        result = reproduce(args.file)
        print(result.message)
        if not result.matches:
            return 3
    return 3 if report.problems else 0


def _cmd_plot(args) -> int:
    try:
        from jaxinit.plot import plot_file
    except ImportError as err:
        print(f"jaxinit plot: {err} (pip install 'jaxinit[plot]')", file=sys.stderr)
        return 2
    from jaxinit._src.npz import NpzError

    try:
        path = plot_file(args.file, args.output, args.kind, spec_rad=args.spec_rad)
    except (NpzError, OSError) as err:
        print(f"jaxinit plot: invalid file: {err}", file=sys.stderr)
        return 1
    print(f"written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxinit",
        description="Initialize biologically constrained RNNs (PsychRNN-compatible) with JAX.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser(
        "init",
        help="make a network, save it as .npz and print its summary",
        description="Make a network, save it as a PsychRNN-loadable .npz with its recipe "
        "(config, key, versions) and print a summary. With no options: 2 inputs, 100 units "
        "(80%% excitatory), 1 output, effective spectral radius 1.1, seed 0, network.npz. "
        "Options override a --config file, which overrides the defaults.",
    )

    def add(*names, **kwargs):
        kwargs.setdefault("default", argparse.SUPPRESS)
        init.add_argument(*names, **kwargs)

    add("-o", "--output", help="file to write (.npz is appended if missing). Default network.npz")
    add("--config", help="TOML or JSON file of options (Config field names, initializer, seed)")
    add(
        "--initializer",
        choices=INITIALIZERS,
        help="PsychRNN class: GaussianSpectralRadius (default), AlphaIdentity or WeightInitializer",
    )
    add("--seed", type=int, help="seed of jax.random.key. Default 0")
    add(
        "--no-autapses",
        dest="autapses",
        action="store_const",
        const=False,
        help="remove self-connections (PsychRNN: autapses=False)",
    )
    for option, field, kind, text in _OPTIONS:
        add(
            option,
            dest=field,
            type=_ratio if kind == "ratio" else kind,
            help=text,
            default=argparse.SUPPRESS,
        )
    init.set_defaults(run=_cmd_init)

    inspect = sub.add_parser(
        "inspect",
        help="check a jaxinit or PsychRNN .npz file and print its summary",
        description="Load a jaxinit or PsychRNN .npz file safely (no code from the file runs), "
        "print its summary and what is odd about it. Exit status: 0 fine, 1 the file cannot "
        "be loaded (corrupt, missing or mis-shaped entries, NaN, masks that are not 0/1), "
        "3 it loads but something is odd (or --reproduce does not match).",
    )
    inspect.add_argument("file", help="the .npz file")
    inspect.add_argument(
        "--reproduce", action="store_true", help="also regenerate a jaxinit file from its recipe"
    )
    inspect.set_defaults(run=_cmd_inspect)

    plot = sub.add_parser(
        "plot",
        help="draw a network file's spectrum or weights to an image (extra 'plot')",
        description="Draw the eigenvalues (raw and effective, with the target circle) or the "
        "effective recurrent weights (E/I blocks, masked entries) of a jaxinit or PsychRNN "
        ".npz file into an image; the format follows the suffix of -o.",
    )
    plot.add_argument("file", help="the .npz file")
    plot.add_argument("-o", "--output", required=True, help="image to write, e.g. out.png")
    plot.add_argument("--kind", choices=("spectrum", "weights"), default="spectrum")
    plot.add_argument("--spec-rad", type=float, default=None, help="target radius to draw")
    plot.set_defaults(run=_cmd_plot)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as err:
        print(f"jaxinit {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
