"""jaxinit benchmark: ensembles, spectral radius, memory and import time.

One command (see README): ``.venv/bin/python benchmarks/run.py`` prints a
table and writes ``benchmarks/results/latest.json``. Every comparison is a
ratio of two timings taken in the same run, interleaved (A, B, A, B, ...)
after warm-up, reporting medians; compile time is reported separately.

Measured:

* ensemble initialization, ``GaussianSpectralRadius`` with dale_ratio 0.8, a
  50% mask and no autapses, K networks of N units: PsychRNN 1.0.0 (a loop of
  its initializer, in a child process, when installed) vs ``jaxinit.ensemble``
  with ``spectral_method="eig"`` and ``"auto"`` (the Krylov method from
  N = 512) vs the bare LAPACK floor (``np.linalg.eigvals`` in float32 on the
  same stack of matrices); slow cells get fewer repeats (at least 3);
* the spectral radius alone for large N: full ``eigvals`` vs the Krylov
  method, with the relative error;
* peak memory of an ensemble against the bytes of the returned Params, in a
  child process (the high-water mark of the resident set, reset after a
  warm-up call, over the resident set before the call);
* ``import jaxinit`` time against ``import jax``, in fresh interpreters.

Options: ``--quick`` for a small grid (a smoke run), ``--repeats``, ``--out``.
Runs on whatever JAX backend is present; ``benchmarks/gpu.sh`` runs it on an
NVIDIA GPU (there the memory row reads the device allocator's peak).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def interleaved(fns: dict, repeats: int) -> dict:
    """Median seconds of each function, calls interleaved round by round."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def masks(N, seed=0):
    rng = np.random.default_rng(seed)
    m = (rng.random((N, N)) < 0.5).astype(np.float32)
    np.fill_diagonal(m, 0)
    return m


# --------------------------------------------------------------------------- ensembles

PSYCHRNN_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, statistics, warnings
    warnings.simplefilter("ignore")
    import numpy as np
    from psychrnn.backend.initializations import GaussianSpectralRadius
    K, N, repeats = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    mask = np.load(sys.argv[4])
    def run():
        for _ in range(K):
            GaussianSpectralRadius(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8, autapses=False,
                                   rec_connectivity=mask.copy(), spec_rad=1.1)
    run()
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); run(); times.append(time.perf_counter() - t)
    print(json.dumps(statistics.median(times)))
    """
)


def psychrnn_time(K, N, repeats, mask, tmp):
    try:
        import importlib.util

        if importlib.util.find_spec("psychrnn") is None:
            return None
    except ImportError:
        return None
    path = tmp / f"mask_{N}.npy"
    np.save(path, mask)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    out = subprocess.run(
        [sys.executable, "-c", PSYCHRNN_SCRIPT, str(K), str(N), str(repeats), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def cell_repeats(seconds_per_round, repeats, budget=15.0):
    """Repeats for one grid cell: ``repeats``, fewer (at least 3) if a round is slow."""
    return max(3, min(repeats, int(budget / max(seconds_per_round, 1e-9))))


def bench_ensembles(grid, repeats, tmp):
    import jax

    import jaxinit

    rows = []
    for K, N in grid:
        mask = masks(N)
        key = jax.random.key(0)

        def make(method, K=K, N=N, mask=mask, key=key):
            cfg = jaxinit.Config(
                N_in=2,
                N_rec=N,
                N_out=1,
                dale_ratio=0.8,
                autapses=False,
                spec_rad=1.1,
                spectral_method=method,
            )

            def run():
                p = jaxinit.ensemble(
                    jaxinit.gaussian_spectral_radius, key, K, cfg, rec_connectivity=mask
                )
                return jax.block_until_ready(p)

            return run

        fns = {"jaxinit": make("eig"), "jaxinit_auto": make("auto")}
        compile_s = {}
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            fn()
            compile_s[name] = max(first - (time.perf_counter() - t0), 0.0)
        # The floor: LAPACK eigenvalues alone, float32, on the same stack.
        stack = np.asarray(fns["jaxinit"]().W_rec)

        def floor_run(stack=stack):
            np.linalg.eigvals(stack)

        def eig_only(stack=stack):
            jax.block_until_ready(jaxinit.spectral_radius(stack))

        eig_only()
        fns.update({"floor": floor_run, "jaxinit_eig": eig_only})
        t0 = time.perf_counter()
        for fn in fns.values():
            fn()
        n = cell_repeats(time.perf_counter() - t0, repeats)
        medians = interleaved(fns, n)
        psy = psychrnn_time(K, N, max(1, n // 2), mask, tmp)
        rows.append(
            {
                "K": K,
                "N": N,
                "repeats": n,
                "psychrnn_s": psy,
                "jaxinit_s": medians["jaxinit"],
                "jaxinit_compile_s": compile_s["jaxinit"],
                "jaxinit_auto_s": medians["jaxinit_auto"],
                "jaxinit_auto_compile_s": compile_s["jaxinit_auto"],
                "jaxinit_eig_s": medians["jaxinit_eig"],
                "lapack_floor_s": medians["floor"],
                "psychrnn_over_jaxinit": None if psy is None else psy / medians["jaxinit"],
                "psychrnn_over_jaxinit_auto": (
                    None if psy is None else psy / medians["jaxinit_auto"]
                ),
                "eig_over_floor": medians["jaxinit_eig"] / medians["floor"],
                "jaxinit_over_floor": medians["jaxinit"] / medians["floor"],
            }
        )
        print(f"  ensemble K={K} N={N}: {rows[-1]}", flush=True)
    return rows


# --------------------------------------------------------------------------- spectral radius


def bench_radius(sizes, repeats, seeds=5):
    """Full ``eigvals`` vs the Krylov radius on Gaussian matrices, ``seeds`` realizations each.

    The crowded edge of a Gaussian spectrum makes some realizations much harder
    than others, so each size reports the median and the worst ratio and the
    largest error over its seeds.
    """
    import jax
    import jax.numpy as jnp

    import jaxinit
    from jaxinit import krylov_spectral_radius

    rows = []
    for N in sizes:
        per_seed = []
        for seed in range(seeds):
            rng = np.random.default_rng(N + 1000 * seed)
            W = jnp.asarray(rng.standard_normal((N, N)) / np.sqrt(N), jnp.float32)
            got = {}

            def full(W=W, got=got):
                got["eig"] = jax.block_until_ready(jaxinit.spectral_radius(W))

            def kry(W=W, got=got):
                got["krylov"] = jax.block_until_ready(krylov_spectral_radius(W))

            t0 = time.perf_counter()
            kry()
            krylov_first = time.perf_counter() - t0
            medians = interleaved({"eig": full, "krylov": kry}, repeats)
            result, reference = got["krylov"], float(got["eig"])
            per_seed.append(
                {
                    "seed": seed,
                    "eig_s": medians["eig"],
                    "krylov_s": medians["krylov"],
                    "krylov_first_call_s": krylov_first,
                    "eig_over_krylov": medians["eig"] / medians["krylov"],
                    "rel_error": abs(float(result.radius) - reference) / reference,
                    "matvecs": int(result.matvecs),
                    "fell_back": bool(result.fell_back),
                }
            )
        ratios = [r["eig_over_krylov"] for r in per_seed]
        rows.append(
            {
                "N": N,
                "seeds": seeds,
                "eig_s": statistics.median(r["eig_s"] for r in per_seed),
                "krylov_s": statistics.median(r["krylov_s"] for r in per_seed),
                # the first seed's first call compiled the program
                "krylov_compile_s": max(
                    per_seed[0]["krylov_first_call_s"] - per_seed[0]["krylov_s"], 0.0
                ),
                "eig_over_krylov": statistics.median(ratios),
                "eig_over_krylov_worst": min(ratios),
                "rel_error": max(r["rel_error"] for r in per_seed),
                "matvecs": max(r["matvecs"] for r in per_seed),
                "fell_back": sum(r["fell_back"] for r in per_seed),
                "per_seed": per_seed,
            }
        )
        print(f"  radius N={N}: {rows[-1]}", flush=True)
    return rows


# --------------------------------------------------------------------------- memory, import

MEMORY_SCRIPT = textwrap.dedent(
    """
    import gc, json, re, sys
    import jax, numpy as np, jaxinit

    def status(field):  # kiB
        return int(re.search(field + r":\\s+(\\d+)", open("/proc/self/status").read()).group(1))

    K, N, method = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    cfg = jaxinit.Config(N_in=2, N_rec=N, N_out=1, dale_ratio=0.8, autapses=False,
                         spectral_method=method)
    rng = np.random.default_rng(0)
    mask = (rng.random((N, N)) < 0.5).astype(np.float32)
    np.fill_diagonal(mask, 0)

    def run(seed):
        return jaxinit.ensemble(jaxinit.gaussian_spectral_radius, jax.random.key(seed), K, cfg,
                                rec_connectivity=mask)

    jax.block_until_ready(run(1))  # compile and run once; its buffers are freed
    gc.collect()
    device = jax.devices()[0]
    if device.platform == "cpu":
        base = status("VmRSS") * 1024
        with open("/proc/self/clear_refs", "w") as f:  # reset the high-water mark
            f.write("5")
        p = jax.block_until_ready(run(0))
        peak = status("VmHWM") * 1024
    else:  # the allocator's peak; the warm-up call of the same program had the same
        base = device.memory_stats()["bytes_in_use"]
        p = jax.block_until_ready(run(0))
        peak = device.memory_stats()["peak_bytes_in_use"]
    nbytes = sum(x.nbytes for x in jax.tree.leaves(p))
    print(json.dumps({"K": K, "N": N, "method": method, "params_bytes": nbytes,
                      "peak_increase_bytes": peak - base}))
    """
)


def bench_memory(K, N, method):
    """Peak resident memory of one ensemble call over the bytes of its Params.

    In a child process, after a first call of the same shape (compilation and
    its allocations done), with the high-water mark reset; glibc is told to
    serve every allocation of 64 KiB or more with mmap, so that freed buffers
    leave the resident set and the peak counts only what this call holds.
    """
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(K), str(N), method],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
        env=env,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["peak_over_params"] = row["peak_increase_bytes"] / row["params_bytes"]
    print(f"  memory: {row}", flush=True)
    return row


def bench_import(repeats):
    def once(module):
        code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        return float(out.stdout.strip())

    times = {"jax": [], "jaxinit": []}
    for _ in range(repeats):
        for module in times:
            times[module].append(once(module))
    row = {m: statistics.median(t) for m, t in times.items()}
    row["jaxinit_over_jax"] = row["jaxinit"] / row["jax"]
    print(f"  import: {row}", flush=True)
    return row


# --------------------------------------------------------------------------- report


def fmt(x, digits=3):
    if x is None:
        return "—"
    return f"{x:.{digits}g}"


def table(results) -> str:
    lines = [
        "| K | N | PsychRNN s | jaxinit eig s (compile) | jaxinit auto s (compile) "
        "| LAPACK floor s | PsychRNN ÷ jaxinit eig | PsychRNN ÷ jaxinit auto "
        "| jaxinit eig ÷ floor |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["ensembles"]:
        lines.append(
            f"| {r['K']} | {r['N']} | {fmt(r['psychrnn_s'])} | {fmt(r['jaxinit_s'])} "
            f"({fmt(r['jaxinit_compile_s'], 2)}) | {fmt(r['jaxinit_auto_s'])} "
            f"({fmt(r['jaxinit_auto_compile_s'], 2)}) | {fmt(r['lapack_floor_s'])} | "
            f"{fmt(r['psychrnn_over_jaxinit'])} | {fmt(r['psychrnn_over_jaxinit_auto'])} | "
            f"{fmt(r['eig_over_floor'])} |"
        )
    lines += [
        "",
        "| N | seeds | eig s | krylov s (compile s) | eig ÷ krylov, median (worst) "
        "| max rel. error | max matvecs | fell back |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results["radius"]:
        lines.append(
            f"| {r['N']} | {r['seeds']} | {fmt(r['eig_s'])} | {fmt(r['krylov_s'])} "
            f"({fmt(r['krylov_compile_s'], 2)}) | {fmt(r['eig_over_krylov'])} "
            f"({fmt(r['eig_over_krylov_worst'])}) | {r['rel_error']:.1e} | {r['matvecs']} "
            f"| {r['fell_back']} |"
        )
    lines.append("")
    for m in results["memory"]:
        lines.append(
            f"Memory, K={m['K']} N={m['N']} ensemble, spectral_method={m['method']!r}: peak "
            f"increase {m['peak_increase_bytes'] / 2**20:.1f} MiB vs Params "
            f"{m['params_bytes'] / 2**20:.1f} MiB (ratio {m['peak_over_params']:.2f})."
        )
    i = results["import"]
    if i is None:
        return "\n".join(lines)
    lines.append(
        f"Import: jaxinit {i['jaxinit']:.2f} s vs jax {i['jax']:.2f} s "
        f"(ratio {i['jaxinit_over_jax']:.2f})."
    )
    return "\n".join(lines)


def targets(results) -> str:
    """The issue's targets, each with the value measured in this run."""
    lines = ["Targets (this run):"]
    ens = {(r["K"], r["N"]): r for r in results["ensembles"]}
    for (K, N), goal in (((32, 256), 10.0), ((1000, 256), None), ((32, 64), None)):
        r = ens.get((K, N))
        if r is None or r["psychrnn_over_jaxinit_auto"] is None:
            continue
        ratio = r["psychrnn_over_jaxinit_auto"]
        want = f"target >= {goal:g}: {'met' if ratio >= goal else 'missed'}" if goal else "reported"
        lines.append(f"- K={K}, N={N}: PsychRNN ÷ jaxinit (auto) = {ratio:.3g} ({want})")
    for r in results["ensembles"]:
        if r["K"] > 1:
            ok = r["eig_over_floor"] <= 1.15
            lines.append(
                f"- eig overhead K={r['K']} N={r['N']}: {r['eig_over_floor']:.3g} x the LAPACK "
                f"floor (target <= 1.15: {'met' if ok else 'missed'})"
            )
    for r in results["radius"]:
        goal = {2048: 6.0, 4096: 10.0}.get(r["N"])
        if goal:
            ok = r["eig_over_krylov"] >= goal and r["rel_error"] <= 1e-5
            lines.append(
                f"- radius N={r['N']}: eig ÷ krylov median {r['eig_over_krylov']:.3g} (worst "
                f"{r['eig_over_krylov_worst']:.3g}) over {r['seeds']} seeds, max error "
                f"{r['rel_error']:.1e} (target median >= {goal:g}, every error <= 1e-5: "
                f"{'met' if ok else 'missed'})"
            )
    for m in results["memory"]:
        ok = m["peak_over_params"] <= 1.5
        lines.append(
            f"- memory K={m['K']} N={m['N']} {m['method']}: {m['peak_over_params']:.2f} x the "
            f"returned bytes (target <= 1.5: {'met' if ok else 'missed'})"
        )
    i = results["import"]["jaxinit_over_jax"]
    verdict = "met" if i <= 1.2 else "missed"
    lines.append(f"- import: {i:.2f} x import jax (target <= 1.2: {verdict})")
    return "\n".join(lines)


def machine() -> dict:
    import jax

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grid (smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    parser.add_argument(
        "--only", choices=["radius"], help="run one part alone (writes only that part)"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.quick:
        grid, sizes, mem, repeats, seeds = [(1, 64), (4, 64)], [256], (4, 64), 2, 1
    else:
        grid = [(1, 64), (32, 64), (1, 256), (32, 256), (1000, 256), (1, 1024), (4, 1024)]
        sizes, mem, repeats, seeds = [1024, 2048, 4096], (64, 512), args.repeats, 5
    t0 = time.perf_counter()
    results = {"machine": machine()}
    if args.only == "radius":
        results["radius"] = bench_radius(sizes, max(3, repeats - 2), seeds)
        out.write_text(json.dumps(results, indent=2))
        print()
        print(table({"ensembles": [], "radius": results["radius"], "memory": [], "import": None}))
        return 0
    print("ensembles", flush=True)
    results["ensembles"] = bench_ensembles(grid, repeats, out.parent)
    print("spectral radius", flush=True)
    results["radius"] = bench_radius(sizes, max(3, repeats - 2), seeds)
    print("memory and import", flush=True)
    results["memory"] = [bench_memory(*mem, method) for method in ("eig", "auto")]
    results["import"] = bench_import(max(3, repeats))
    results["seconds"] = time.perf_counter() - t0
    out.write_text(json.dumps(results, indent=2))
    print()
    print(table(results))
    print()
    print(targets(results))
    print(
        f"\n{results['machine']['cpus']} CPUs, {results['machine']['backend']}, "
        f"jax {results['machine']['jax']}; {results['seconds']:.0f} s; JSON: {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
