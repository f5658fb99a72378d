"""E/I balance and the predicted radius, measured against the full eigensolve.

One command: ``.venv/bin/python benchmarks/structure.py`` (``--quick`` for a
smoke run, ``--sizes 256 1024 4096``, ``--seeds``). It prints two Markdown
tables (the README's) and writes ``benchmarks/results/structure.json``:

* **Balance**: Dale networks (80% excitatory, no autapses, dense and a 10%
  Bernoulli mask) made by ``gaussian_spectral_radius`` with
  ``spectral_radius_of="effective"`` and each ``dale_balance``; for the
  effective ``W_rec``, the largest eigenvalue modulus over the bulk edge
  (``jaxinit.predicted_radius`` of the same matrix with its mean outlier
  left out: ``bulk_radius`` of the centred profile) and over the
  6th-largest modulus. Median and range over the seeds.
* **Predicted radius**: the relative error of ``jaxinit.predicted_radius``
  against the exact radius (``numpy.linalg.eigvals`` in float64) for plain
  Gaussian matrices and for those Dale networks, at each size: median,
  and the worst seed.

Each number is computed from matrices drawn in this run; nothing is
hard-coded. The exact radius takes O(N^3): N = 4096 costs about a minute
per matrix on two cores.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import jaxinit
from jaxinit._src.predicted import bulk_radius

HERE = Path(__file__).resolve().parent

FAMILIES = [
    # (label, dale balance or "gaussian", mask density)
    ("Gaussian, dense", "gaussian", 1.0),
    ("Gaussian, 10% mask", "gaussian", 0.1),
    ("Dale, psychrnn balance, dense", "psychrnn", 1.0),
    ("Dale, rows balance, dense", "rows", 1.0),
    ("Dale, no balance, dense", None, 1.0),
    ("Dale, psychrnn balance, 10% mask", "psychrnn", 0.1),
    ("Dale, rows balance, 10% mask", "rows", 0.1),
]


def matrix(family, N: int, seed: int) -> np.ndarray:
    """The effective ``W_rec`` of one network of ``family``."""
    _, balance, density = family
    # One key for the mask, another for the network: the initializer splits
    # its key into split(key, 4), and split(key, 4)[i] == fold_in(key, i), so
    # a mask drawn from fold_in(key, 1) would be correlated with W_rec.
    mask_key, key = jax.random.split(jax.random.key(seed))
    given = {}
    if density < 1.0:
        mask = jax.random.bernoulli(mask_key, density, (N, N))
        given["rec_connectivity"] = mask.astype(jnp.float32)
    if balance == "gaussian":
        cfg = jaxinit.Config(N_in=1, N_rec=N, N_out=1, autapses=False)
    else:
        cfg = jaxinit.Config(
            N_in=1, N_rec=N, N_out=1, autapses=False, dale_ratio=0.8, dale_balance=balance,
            spectral_radius_of="effective",
        )
    params = jaxinit.gaussian_spectral_radius(key, cfg, **given)
    return np.asarray(jaxinit.effective(params).W_rec)


def centred_profile(W: np.ndarray) -> np.ndarray:
    return np.square(W - W.mean(axis=0, keepdims=True))


def measure(family, N: int, seed: int) -> dict:
    W = matrix(family, N, seed)
    t0 = time.perf_counter()
    moduli = np.sort(np.abs(np.linalg.eigvals(W.astype(np.float64))))[::-1]
    t_eig = time.perf_counter() - t0
    t0 = time.perf_counter()
    predicted = float(jax.block_until_ready(jaxinit.predicted_radius(W)))
    t_pred = time.perf_counter() - t0
    edge = float(bulk_radius(jnp.asarray(centred_profile(W))))
    return {
        "family": family[0],
        "N": N,
        "seed": seed,
        "radius": float(moduli[0]),
        "sixth": float(moduli[min(5, N - 1)]),
        "edge": edge,
        "predicted": predicted,
        "t_eig": t_eig,
        "t_predicted": t_pred,
    }


def spread(values) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def tables(rows: list[dict], sizes, seeds: int) -> str:
    out = [
        "Largest eigenvalue modulus of the effective W_rec over the bulk edge "
        f"(and over the 6th-largest modulus); median (range) over {seeds} seeds.",
        "",
        "| network | " + " | ".join(f"N = {n}: λ1/edge" for n in sizes)
        + " | " + " | ".join(f"N = {n}: λ1/λ6" for n in sizes) + " |",
        "|---" * (1 + 2 * len(sizes)) + "|",
    ]
    for label, *_ in FAMILIES:
        cells, cells6 = [], []
        for n in sizes:
            sel = [r for r in rows if r["family"] == label and r["N"] == n]
            cells.append(spread([r["radius"] / r["edge"] for r in sel]) if sel else "-")
            cells6.append(spread([r["radius"] / r["sixth"] for r in sel]) if sel else "-")
        out.append(f"| {label} | " + " | ".join(cells + cells6) + " |")
    out += [
        "",
        "Relative error of `predicted_radius` against the exact radius: median "
        f"(worst) over {seeds} seeds; and the time of one prediction over one float64 eigensolve.",
        "",
        "| network | " + " | ".join(f"N = {n}" for n in sizes) + " |",
        "|---" * (1 + len(sizes)) + "|",
    ]
    for label, *_ in FAMILIES:
        cells = []
        for n in sizes:
            sel = [r for r in rows if r["family"] == label and r["N"] == n]
            if not sel:
                cells.append("-")
                continue
            errs = [r["predicted"] / r["radius"] - 1 for r in sel]
            worst = max(errs, key=abs)
            cells.append(f"{statistics.median(errs):+.1%} ({worst:+.1%})")
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    times = []
    for n in sizes:
        sel = [r for r in rows if r["N"] == n]
        ratio = statistics.median(r["t_eig"] / r["t_predicted"] for r in sel)
        times.append(f"N = {n}: {ratio:.3g}x")
    out += ["", "Eigensolve time ÷ prediction time (median): " + ", ".join(times) + "."]
    return "\n".join(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024, 4096])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="N = 64, 256 and 2 seeds")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "structure.json")
    args = parser.parse_args(argv)
    sizes, seeds = ([64, 256], 2) if args.quick else (args.sizes, args.seeds)
    rows = []
    for n in sizes:
        # Fewer seeds where one eigensolve takes a minute.
        n_seeds = seeds if n <= 1024 else max(2, seeds // 2)
        for family in FAMILIES:
            for seed in range(n_seeds):
                rows.append(measure(family, n, seed))
        print(f"N = {n} done", flush=True)
    text = tables(rows, sizes, seeds)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"jax": jax.__version__, "jaxinit": jaxinit.__version__, "numpy": np.__version__}
    args.out.write_text(json.dumps({"versions": meta, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
