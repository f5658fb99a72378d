"""Subprocess helper for tests/test_sparse_sharded.py (not a test module itself).

``python sparse_worker.py sharded OUTDIR``
    On 8 virtual CPU devices: one sparse network with its rows split over the
    devices (pattern, initializer, effective weights, Krylov radius); checks
    where each block lives and that the compiled programs move vectors only
    (no collective carries a block of the matrix); writes ``OUTDIR/sharded.npz``
    with the 8-device network and the same network made on a 4-device mesh.
    Prints ``OK``.

``python sparse_worker.py process PID PORT OUTDIR``
    One of two processes joined by ``jax.distributed`` over a loopback
    coordinator, 2 CPU devices each: the same network on the 4-device global
    mesh; writes the rows this process holds to ``OUTDIR/PID.npz``.

The device count must be set before JAX starts, hence a fresh interpreter.
"""

from __future__ import annotations

import os
import re

#: Shared by the worker and the tests.
N, K = 2000, 24
CONFIG = dict(N_in=3, N_rec=N, N_out=2, dale_ratio=0.8, spec_rad=1.1,
              spectral_radius_of="effective", spectral_method="krylov", autapses=False)
PATTERN_SEED, NETWORK_SEED = 5, 6


def make(mesh):
    """The pattern and the network on ``mesh`` (None: one device)."""
    import jax

    import jaxinit

    pattern = jaxinit.sparse.fixed_in_degree(
        jax.random.key(PATTERN_SEED), (N, N), K, autapses=False, sharding=mesh
    )
    net = jaxinit.sparse.gaussian_spectral_radius(
        jax.random.key(NETWORK_SEED), jaxinit.Config(**CONFIG), pattern
    )
    return pattern, net


def local_rows(array):
    """``(row numbers, rows)`` of the blocks this process holds, in order."""
    import numpy as np

    blocks = {}
    for shard in array.addressable_shards:
        start, stop, _ = shard.index[0].indices(array.shape[0])
        blocks[start] = (np.arange(start, stop), np.asarray(shard.data))
    ordered = [blocks[s] for s in sorted(blocks)]
    return np.concatenate([b[0] for b in ordered]), np.concatenate([b[1] for b in ordered])


def collectives(compiled_text):
    """``(op, element count)`` of every collective in an HLO module's text."""
    found = []
    for line in compiled_text.splitlines():
        match = re.search(
            r"= \(?(\w+)\[([\d,]*)\][^ ]* (all-gather|all-to-all|collective-permute|"
            r"all-reduce|reduce-scatter)(?:-start)?\(",
            line,
        )
        if match:
            dims = [int(d) for d in match.group(2).split(",") if d]
            count = 1
            for d in dims:
                count *= d
            found.append((match.group(3), count))
    return found


def sharded(outdir: str) -> None:
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    import jax
    import jax.numpy as jnp
    import numpy as np

    import jaxinit
    from jaxinit._src.krylov import krylov_options, start_vector
    from jaxinit._src.sparse import network, radius
    from jaxinit._src.sparse import operator as sparse_operator

    assert jax.device_count() == 8, jax.devices()
    mesh = jax.make_mesh((8,), ("rows",))
    pattern, net = make(mesh)
    for array in (pattern.index, pattern.values, net.W_rec.index, net.W_rec.values):
        assert array.sharding.spec[0] == "rows", array.sharding
        assert len(array.sharding.device_set) == 8
        for shard in array.addressable_shards:
            assert shard.data.shape == (N // 8, K), shard.data.shape
    eff = jaxinit.effective(net).W_rec
    assert eff.values.sharding.spec[0] == "rows"
    result = jaxinit.krylov_spectral_radius(eff)
    assert bool(result.converged) and abs(float(result.radius) - 1.1) < 2e-5, result

    # The compiled programs move vectors (N entries, or a few columns of N),
    # never a block of the N x K matrix.
    cfg = jaxinit.Config(**CONFIG)
    plan, scalars, prepared, p = network.prepare_sparse(
        "gaussian_spectral_radius", jax.random.key(NETWORK_SEED), cfg, pattern, {}
    )
    texts = {
        "draw": network.draw_values.lower(plan, jax.random.key(0), scalars, prepared, p)
        .compile().as_text(),
    }
    arrays, W = network.draw(plan, jax.random.key(0), scalars, prepared, p)
    # the effective operator, as network_radius makes it: rows in place, one block
    op = sparse_operator.operator(
        W, arrays["dale_rec_diag"], sparse_operator.largest_stored(W)
    )
    assert not op.slot_major and op.block == N
    opts = krylov_options(N, radius.sparse_basis_size(N, K), None, None)
    v0 = start_vector(None, N, np.float32)
    texts["krylov"] = radius._sparse_core.lower(
        op, v0, jnp.float32(1e-5), opts
    ).compile().as_text()
    for name, text in texts.items():
        found = collectives(text)
        assert any(op == "all-gather" for op, _ in found), (name, "no all-gather: not sharded?")
        largest = max(count for _, count in found)
        assert largest <= 2 * N, (name, found)
        # each device's program holds its own rows: blocks of N / 8 rows
        assert f"[{N // 8},{K}]" in text, name

    out = {"rows8": local_rows(net.W_rec.values)[0]}
    for label, array in (("index8", net.W_rec.index), ("values8", net.W_rec.values),
                         ("pattern8", pattern.index)):
        out[label] = local_rows(array)[1]
    out["W_in8"] = np.asarray(net.W_in)
    mesh4 = jax.sharding.Mesh(np.array(jax.devices()[:4]), ("rows",))
    _, net4 = make(mesh4)
    out["values4"] = local_rows(net4.W_rec.values)[1]
    np.savez(os.path.join(outdir, "sharded.npz"), **out)
    print("OK")


def process(pid: int, port: int, outdir: str) -> None:
    import numpy as np
    from worker_support import joined

    with joined(pid, port) as jax:
        mesh = jax.make_mesh((4,), ("rows",))
        pattern, net = make(mesh)
        assert not net.W_rec.values.is_fully_addressable
        rows, values = local_rows(net.W_rec.values)
        assert rows.size == N // 2
        np.savez(
            os.path.join(outdir, f"{pid}.npz"),
            rows=rows,
            values=values,
            index=local_rows(net.W_rec.index)[1],
            pattern=local_rows(pattern.index)[1],
        )
    print("OK")


if __name__ == "__main__":
    from worker_support import main

    main(sharded, process)
