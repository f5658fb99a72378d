"""The ``jaxinit`` command line."""

from __future__ import annotations

import argparse
import sys

INITIALIZERS = ("gaussian_spectral_radius", "alpha_identity", "weight_initializer")


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--N-in", type=int, default=2, help="number of inputs (PsychRNN: N_in). Default 2")
    add("--N-rec", type=int, default=100, help="recurrent units (PsychRNN: N_rec). Default 100")
    add("--N-out", type=int, default=1, help="number of outputs (PsychRNN: N_out). Default 1")
    add(
        "--initializer",
        choices=INITIALIZERS,
        default="gaussian_spectral_radius",
        help="PsychRNN class: GaussianSpectralRadius, AlphaIdentity or WeightInitializer",
    )
    add(
        "--dale-ratio",
        type=_ratio,
        default=0.8,
        help="fraction of excitatory units in [0, 1], or 'none' for no Dale's law "
        "(PsychRNN: dale_ratio). Default 0.8",
    )
    add(
        "--no-autapses",
        dest="autapses",
        action="store_false",
        help="remove self-connections (PsychRNN: autapses=False)",
    )
    add("--spec-rad", type=float, default=1.1, help="spectral radius (PsychRNN: spec_rad)")
    add(
        "--spectral-radius-of",
        choices=("raw", "effective"),
        default="effective",
        help="which W_rec gets spec_rad: 'effective' (what the RNN uses, default) or "
        "'raw' (PsychRNN's behaviour)",
    )
    add("--alpha", type=float, default=None, help="diagonal of alpha_identity (PsychRNN: alpha)")
    add(
        "--scheme",
        default="glorot_gauss",
        help="random scheme for W_in/W_out (PsychRNN: which_rand_init)",
    )
    add("--seed", type=int, default=0, help="seed of jax.random.key. Default 0")


def _ratio(text: str):
    if text.lower() == "none":
        return None
    return float(text)


def _config_from_args(args):
    from jaxinit._src.config import Config

    return Config(
        N_in=args.N_in,
        N_rec=args.N_rec,
        N_out=args.N_out,
        autapses=args.autapses,
        dale_ratio=args.dale_ratio,
        which_rand_init=args.scheme,
        spec_rad=args.spec_rad,
        alpha=args.alpha,
        spectral_radius_of=args.spectral_radius_of,
    )


def _cmd_init(args) -> int:
    import jax

    import jaxinit

    config = _config_from_args(args)
    init = getattr(jaxinit, args.initializer)
    params = init(jax.random.key(args.seed), config)
    print(f"jaxinit {jaxinit.__version__}: {args.initializer}, seed {args.seed}")
    print(jaxinit.summarize(params))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaxinit",
        description="Initialize biologically constrained RNNs (PsychRNN-compatible) with JAX.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser(
        "init",
        help="make a network and print its summary",
        description="Make a network and print its summary. With no options: 100 units, "
        "dale_ratio 0.8, effective spectral radius 1.1, seed 0.",
    )
    _add_config_options(init)
    init.set_defaults(run=_cmd_init)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError) as err:
        print(f"jaxinit {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
