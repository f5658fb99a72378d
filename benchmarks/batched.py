"""Where the batched Krylov radius pays: the crossover points behind ``spectral_method="auto"``.

One command: ``.venv/bin/python benchmarks/batched.py`` prints a table and
writes ``benchmarks/results/batched.json``. For stacks of K matrices of N
units, two families (Dale: ``|W| * mask`` with 80% excitatory columns,
PsychRNN-balanced, 50% mask, no autapses; Gaussian: the same mask, no Dale
signs, whose outermost eigenvalues crowd the edge of the disk), it times in
the same run, interleaved, after warm-up (medians):

* ``eig``: the jitted full solve, ``jaxinit.spectral_radius(W)``;
* ``restarted``: ``jax.vmap`` of the restarted Krylov method with its
  default settings passed explicitly (which keeps the batched path out),
  the method every member got before the batched path existed;
* ``batched``: the batched Krylov radius (what
  ``jaxinit.krylov_spectral_radius(W)`` runs on a stack from N = 128 up,
  here at every N to find the crossover), with its largest relative error
  against a float64 full solve, the members that fell back, and its compile
  time.

Options: ``--quick`` (small grid), ``--repeats``, ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import interleaved, machine  # noqa: E402


def stack(kind: str, K: int, N: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mask = rng.random((K, N, N)) < 0.5
    idx = np.arange(N)
    mask[:, idx, idx] = False
    W = rng.standard_normal((K, N, N)) * mask
    if kind == "dale":
        n_exc = int(0.8 * N)
        v = np.where(idx < n_exc, 1.0, 0.8 / 0.2)
        norms = np.sqrt(mask.astype(float) @ v**2)  # (K, N): PsychRNN's balance
        W = np.abs(W) * (v[None, None, :] / norms[:, :, None].clip(1e-12))
        W = W * np.where(idx < n_exc, 1.0, -1.0)[None, None, :]
    else:
        W = W / np.sqrt(N)
    return W.astype(np.float32)


def bench(kind: str, K: int, N: int, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    import jaxinit
    from jaxinit._src import batched_krylov
    from jaxinit._src.krylov import default_basis_size
    from jaxinit._src.matrices import normalize

    W = jnp.asarray(stack(kind, K, N))
    want = np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))), axis=-1)
    got = {}
    # the default settings, passed explicitly: that keeps the restarted method
    m = default_basis_size(N)
    budget = max(N // 2, 4 * m)
    restarted = jax.jit(
        jax.vmap(lambda w: jaxinit.krylov_spectral_radius(w, m=m, max_matvecs=budget).radius)
    )

    def eig():
        got["eig"] = jax.block_until_ready(jaxinit.spectral_radius(W))

    sizes = batched_krylov.basis_sizes(N)
    v0 = jax.random.normal(jax.random.key(0), (N,), jnp.float32)
    tol = jnp.float32(1e-5)

    @jax.jit
    def batched_radius(W):  # what krylov_spectral_radius runs on a stack, at any N
        Wn, scale = normalize(W)
        out = batched_krylov.radii(Wn, v0, tol, sizes, True)
        return out._replace(theta=jnp.abs(out.theta) * scale)

    def batched():
        got["batched"] = jax.block_until_ready(batched_radius(W))

    def vmapped():
        got["restarted"] = jax.block_until_ready(restarted(W))

    t0 = time.perf_counter()
    batched()
    first = time.perf_counter() - t0
    fns = {"eig": eig, "restarted": vmapped, "batched": batched}
    for fn in fns.values():
        fn()
    medians = interleaved(fns, repeats)
    result = got["batched"]
    row = {
        "kind": kind,
        "K": K,
        "N": N,
        "eig_s": medians["eig"],
        "restarted_s": medians["restarted"],
        "batched_s": medians["batched"],
        "batched_compile_s": max(first - medians["batched"], 0.0),
        "eig_over_batched": medians["eig"] / medians["batched"],
        "restarted_over_batched": medians["restarted"] / medians["batched"],
        "max_rel_error": float(np.max(np.abs(np.asarray(result.theta) - want) / want)),
        "fell_back": int(np.asarray(result.fell_back).sum()),
        "matvecs": sorted({int(x) for x in np.asarray(result.matvecs)}),
    }
    print(f"  {row}", flush=True)
    return row


def table(rows: list[dict]) -> str:
    lines = [
        "| matrices | K | N | eig s | vmapped restarted s | batched s (compile s) "
        "| eig ÷ batched | restarted ÷ batched | max rel. error | fell back | matvecs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['K']} | {r['N']} | {r['eig_s']:.3g} | {r['restarted_s']:.3g} "
            f"| {r['batched_s']:.3g} ({r['batched_compile_s']:.2g}) "
            f"| {r['eig_over_batched']:.3g} | {r['restarted_over_batched']:.3g} "
            f"| {r['max_rel_error']:.1e} | {r['fell_back']}/{r['K']} "
            f"| {', '.join(map(str, r['matvecs']))} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grid (smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "results" / "batched.json"))
    args = parser.parse_args(argv)
    if args.quick:
        grid = [(8, 64), (8, 128)]
    else:
        grid = [(32, 64), (32, 96), (32, 128), (32, 256), (32, 512), (8, 1024)]
    t0 = time.perf_counter()
    rows = [bench(kind, K, N, args.repeats) for K, N in grid for kind in ("dale", "gaussian")]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    info = machine()
    out.write_text(json.dumps({"machine": info, "rows": rows}, indent=2))
    print()
    print(table(rows))
    print(
        f"\n{info['cpus']} CPUs, {info['backend']}, jax {info['jax']}; "
        f"{time.perf_counter() - t0:.0f} s; JSON: {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
