"""Sparse networks: jaxinit's Krylov radius against SciPy's ARPACK and ReservoirPy.

One command: ``.venv/bin/python benchmarks/sparse.py`` prints a table and
writes ``benchmarks/results/sparse.json`` (needs the ``bench`` extra:
SciPy and ReservoirPy). All rows come from one run on one machine:

* for each size (default N = 10^4 and 10^5), a Dale network (ratio 0.8,
  PsychRNN's mean balance) with a fixed in-degree of 100 and no autapses,
  scaled so that its effective ``W_rec`` has radius 1.1, is drawn with
  :mod:`jaxinit.sparse`; then, on that same effective matrix:

  - jaxinit's certified Krylov radius (first call, compile included, and a
    second call);
  - SciPy's ARPACK ``eigs(k=1, which="LM")`` on the same matrix in CSR
    (float32, start vector of ones), with its defaults (``ncv=20``, ``tol=0``)
    and with ``ncv`` and ``tol`` set so that it is right;

  each radius is compared with jaxinit's certified one (and at N = 10^4
  with a float64 LAPACK solve of the dense matrix);
* ReservoirPy's own generator and scaling (``mat_gen.normal(N, N,
  degree=100, direction="in", sr=1.1)``: Gaussian, no Dale signs, its API has
  none), timed, and the radius it really produced measured with jaxinit;
* jaxinit's dense Krylov radius of a 4096-unit Gaussian matrix, for reference;
* N = 10^6 with in-degree 100 end to end (pattern, network, radius) in a
  child process: time, and peak resident memory over the resident memory
  before the network was made, against the bytes of the returned network.

Options: ``--quick`` (N = 10^4 only, no 10^6 run), ``--sizes``,
``--million/--no-million``, ``--reservoirpy-limit`` and ``--million-limit``
(seconds before those child processes are stopped), ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
K = 100
SPEC_RAD = 1.1


def network(n: int, seed: int = 0, *, effective: bool = True, pattern_dtype=None):
    """A sparse Dale network of ``n`` units (in-degree K) and its effective ``W_rec``
    (None without ``effective``); ``pattern_dtype``: the pattern's values (ones)."""
    import jax
    import jax.numpy as jnp

    import jaxinit

    pattern_key, net_key = jax.random.split(jax.random.key(seed))
    pattern = jaxinit.sparse.fixed_in_degree(pattern_key, (n, n), K, autapses=False,
                                             dtype=pattern_dtype or jnp.float32)
    config = jaxinit.Config(N_in=2, N_rec=n, N_out=1, dale_ratio=0.8, autapses=False,
                            spec_rad=SPEC_RAD, spectral_radius_of="effective",
                            spectral_method="krylov")
    net = jaxinit.sparse.gaussian_spectral_radius(net_key, config, pattern)
    return net, jaxinit.effective(net).W_rec if effective else None


def to_csr(W):
    """A RowSparse matrix as a SciPy CSR matrix (padding dropped)."""
    import scipy.sparse

    values, index = np.asarray(W.values), np.asarray(W.index)
    stored = index < W.n_cols
    counts = stored.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    return scipy.sparse.csr_matrix(
        (values[stored], index[stored], indptr), shape=(values.shape[0], W.n_cols)
    )


def from_csr(A):
    """A SciPy sparse matrix as a RowSparse (rows padded to the widest)."""
    import jax.numpy as jnp

    from jaxinit.sparse import RowSparse

    A = A.tocsr()
    n_rows, n_cols = A.shape
    counts = np.diff(A.indptr)
    width = int(counts.max())
    index = np.full((n_rows, width), n_cols, np.int32)
    values = np.zeros((n_rows, width), np.float32)
    rows = np.repeat(np.arange(n_rows), counts)
    slot = np.arange(A.nnz) - np.repeat(A.indptr[:-1], counts)
    index[rows, slot] = A.indices
    values[rows, slot] = A.data
    return RowSparse(jnp.asarray(values), jnp.asarray(index), n_cols)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def arpack(A, ncv, tol, maxiter=None):
    """ARPACK's radius of A (largest |eigenvalue|), seconds, products, and its error if any."""
    import scipy.sparse.linalg as sla

    v0 = np.ones(A.shape[0], A.dtype)
    products = [0]

    def matvec(x):
        products[0] += 1
        return A @ x

    op = sla.LinearOperator(A.shape, matvec=matvec, dtype=A.dtype)

    def run():
        try:
            ev = sla.eigs(op, k=1, which="LM", ncv=ncv, tol=tol, v0=v0, maxiter=maxiter,
                          return_eigenvectors=False)
            return float(np.max(np.abs(ev))), None
        except sla.ArpackNoConvergence as err:
            got = err.eigenvalues
            return (float(np.max(np.abs(got))) if len(got) else float("nan")), "no convergence"

    (radius, error), seconds = timed(run)
    return radius, seconds, products[0], error


def compare_size(n: int, tuned_ncv: int, tuned_tol: float) -> dict:
    import jax

    import jaxinit

    net, eff = network(n)
    jax.block_until_ready(eff.values)
    _, t_first = timed(lambda: jax.block_until_ready(jaxinit.krylov_spectral_radius(eff)))
    res, t_run = timed(lambda: jax.block_until_ready(jaxinit.krylov_spectral_radius(eff)))
    ours = float(res.radius)
    row = {
        "N": n, "K": K, "nnz": int(n * K), "network_bytes": net.nbytes,
        "jaxinit": {
            "seconds_first_call": t_first, "seconds": t_run, "radius": ours,
            "residual": float(res.residual), "converged": bool(res.converged),
            "fell_back": bool(res.fell_back), "matvecs": int(res.matvecs),
            "restarts": int(res.restarts),
            "basis_size": jaxinit.sparse.sparse_basis_size(n, K),
        },
    }
    reference = ours
    if n <= 10_000:
        dense = np.asarray(eff.todense(), np.float64)
        reference = float(np.max(np.abs(np.linalg.eigvals(dense))))
        row["lapack_float64_radius"] = reference
    row["jaxinit"]["rel_error"] = abs(ours - reference) / reference
    A = to_csr(eff)
    for name, ncv, tol in (("arpack_default", None, 0), ("arpack_tuned", tuned_ncv, tuned_tol)):
        radius, seconds, products, error = arpack(A, ncv, tol)
        row[name] = {"ncv": ncv or 20, "tol": tol, "seconds": seconds, "radius": radius,
                     "products": products, "rel_error": abs(radius - reference) / reference,
                     "error": error}
    row["speedup_vs_arpack_default"] = row["arpack_default"]["seconds"] / t_run
    row["speedup_vs_arpack_tuned"] = row["arpack_tuned"]["seconds"] / t_run
    return row


def child(code: str, limit: float) -> dict | str:
    """Run ``code`` in a fresh interpreter for at most ``limit`` seconds: the JSON object on
    its last line of output, or a sentence saying why there is none."""
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=False, timeout=limit)
    except subprocess.TimeoutExpired:
        return f"did not finish in {limit:.0f} s"
    if out.returncode != 0:
        return "failed: " + out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


RESERVOIRPY = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    sys.path.insert(0, {here!r})
    from reservoirpy import mat_gen
    import sparse as bench
    import jaxinit
    start = time.perf_counter()
    A = mat_gen.normal({n}, {n}, degree=bench.K, direction="in", sr=bench.SPEC_RAD,
                       dtype=np.float32, seed=0)
    seconds = time.perf_counter() - start
    measured = jaxinit.krylov_spectral_radius(bench.from_csr(A))
    radius = float(measured.radius)
    print(json.dumps({{"N": {n}, "seconds": seconds, "radius_measured": radius,
                      "rel_error_vs_sr": abs(radius - bench.SPEC_RAD) / bench.SPEC_RAD,
                      "measured_converged": bool(measured.converged)}}))
    """
)


def reservoirpy_row(n: int, limit: float) -> dict:
    """ReservoirPy's generator and scaling in a child process, stopped after ``limit`` s."""
    try:
        import reservoirpy  # noqa: F401
    except ImportError:
        return {"N": n, "skipped": "reservoirpy is not installed (pip install '.[bench]')"}
    result = child(RESERVOIRPY.format(here=str(HERE), n=n), limit)
    return {"N": n, "skipped": result, "limit": limit} if isinstance(result, str) else result


def dense_reference(n: int = 4096) -> dict:
    import jax

    import jaxinit

    W = jax.random.normal(jax.random.key(0), (n, n)) / np.sqrt(n)
    jax.block_until_ready(jaxinit.krylov_spectral_radius(W).radius)
    res, seconds = timed(lambda: jax.block_until_ready(jaxinit.krylov_spectral_radius(W)))
    return {"N": n, "seconds": seconds, "matvecs": int(res.matvecs), "nnz": n * n}


MILLION = textwrap.dedent(
    """
    import json, resource, sys, time
    import jax, numpy as np
    sys.path.insert(0, {here!r})
    import sparse as bench
    n = {n}
    small, _ = bench.network(2000)  # compile the small programs, load everything
    jax.block_until_ready(small.W_rec.values)
    def rss():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) * 1024
    before = rss()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak (VmHWM) to the current resident set
    start = time.perf_counter()
    # the pattern's ones in bfloat16 (never read; 200 MB instead of 400 MB)
    net, _ = bench.network(n, effective=False, pattern_dtype=jax.numpy.bfloat16)
    jax.block_until_ready(net.W_rec.values)
    seconds = time.perf_counter() - start
    with open("/proc/self/status") as f:
        peak = [int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM")][0]
    from jaxinit._src.sparse.radius import sparse_basis_size
    print(json.dumps({{"N": n, "K": bench.K, "seconds": seconds, "network_bytes": net.nbytes,
                      "basis_size": sparse_basis_size(n, bench.K),
                      "rss_before": before, "peak_rss": peak,
                      "peak_over_network": (peak - before) / net.nbytes}}))
    """
)


def million(n: int, limit: float) -> dict:
    """The end-to-end run in a child process, stopped after ``limit`` seconds."""
    result = child(MILLION.format(here=str(HERE), n=n), limit)
    return {"N": n, "error": result, "limit": limit} if isinstance(result, str) else result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 10^4 only, no 10^6 run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--reservoirpy-limit", type=float, default=600.0,
                        help="seconds before ReservoirPy's generator is stopped")
    parser.add_argument("--million-limit", type=float, default=1800.0,
                        help="seconds before the N = 10^6 run is stopped")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sparse.json")
    args = parser.parse_args(argv)
    import jax

    import jaxinit

    sizes = [10_000] if args.quick else args.sizes
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "python": platform.python_version(), "jax": jax.__version__,
                    "jaxinit": jaxinit.__version__, "backend": jax.default_backend()},
        "sizes": [], "reservoirpy": [], "dense_reference": None, "million": None,
    }
    for n in sizes:
        row = compare_size(n, tuned_ncv=128, tuned_tol=1e-6)
        result["sizes"].append(row)
        j, t = row["jaxinit"], row["arpack_tuned"]
        print(f"N={n:>7} K={K}: jaxinit {j['seconds']:.2f} s (first call "
              f"{j['seconds_first_call']:.2f} s; {j['matvecs']} products, {j['restarts']} "
              f"restarts, m={j['basis_size']}, rel. error {j['rel_error']:.1e})")
        for name, label in (("arpack_default", "ARPACK default"),
                            ("arpack_tuned", f"ARPACK ncv={t['ncv']} tol={t['tol']:g}")):
            a = row[name]
            speedup = a["seconds"] / j["seconds"]
            print(f"           {label} {a['seconds']:.2f} s ({a['products']} products, rel. "
                  f"error {a['rel_error']:.1e}{', ' + a['error'] if a['error'] else ''}) -> "
                  f"jaxinit {speedup:.1f}x faster  [target >= 3x at N=10^5]")
        rp = reservoirpy_row(n, args.reservoirpy_limit)
        result["reservoirpy"].append(rp)
        if "seconds" in rp:
            print(f"           ReservoirPy normal(degree={K}, sr={SPEC_RAD}) "
                  f"{rp['seconds']:.2f} s, radius really {rp['radius_measured']:.5f} "
                  f"(off by {rp['rel_error_vs_sr']:.1e})")
        else:
            print(f"           ReservoirPy: {rp['skipped']}")
    result["dense_reference"] = dense_reference()
    dr = result["dense_reference"]
    print(f"dense Krylov N={dr['N']}: {dr['seconds']:.2f} s ({dr['matvecs']} products)")
    if args.million and not args.quick:
        result["million"] = million(1_000_000, args.million_limit)
        mm = result["million"]
        if "error" in mm:
            print(f"N=10^6: failed: {mm['error']}")
        else:
            print(f"N=10^6 K={K} end to end: {mm['seconds']:.1f} s, peak memory over the network "
                  f"{mm['peak_over_network']:.2f}x of {mm['network_bytes'] / 1e6:.0f} MB "
                  "[target <= 1.5x]")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
