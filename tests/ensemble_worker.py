"""Subprocess helper for tests/test_ensemble.py (not a test module itself).

``python ensemble_worker.py sharded DUMPDIR``
    On 8 virtual CPU devices: sharded ensembles equal the unsharded one and
    single calls, each block lives on its own device, and the compiled
    per-device program (dumped by XLA into DUMPDIR) makes only its block and
    has no collectives. Prints ``OK``.

``python ensemble_worker.py process PID PORT OUTDIR``
    One of two processes joined by ``jax.distributed`` over a loopback
    coordinator, with 2 CPU devices each. Writes ``OUTDIR/PID.npz`` holding
    the members this process made (a) with ``members=`` on its own devices
    and (b) through a global mesh spanning both processes.

The device count must be set before JAX starts, hence a fresh interpreter.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Shared by the worker and the tests.
N_MEMBERS = 16
CONFIG = dict(N_in=3, N_rec=8, N_out=2, dale_ratio=0.75, spectral_radius_of="effective")
SEED = 7


def per_member_masks(n: int, n_rec: int):
    """A different random 0/1 recurrent mask for every member."""
    import numpy as np

    rng = np.random.default_rng(0)
    return (rng.random((n, n_rec, n_rec)) < 0.5).astype(np.float32)


def _same(a, b) -> bool:
    """Bit for bit: sharded and unsharded ensembles run each member's matrix
    through the same per-matrix LAPACK solve on the same bits (the CPU
    promise of jaxinit/_src/ensemble.py); the rest is elementwise or moved."""
    import numpy as np

    return all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(a.arrays().values(), b.arrays().values(), strict=True)
    )


def sharded(dump_dir: str) -> None:
    os.environ["JAX_NUM_CPU_DEVICES"] = "8"
    os.environ["XLA_FLAGS"] = (
        f"--xla_dump_to={dump_dir} --xla_dump_hlo_module_re=.*jaxinit_ensemble.*"
    )
    import jax
    import numpy as np
    from jax.sharding import NamedSharding
    from jax.sharding import PartitionSpec as P

    import jaxinit
    from jaxinit import ensemble, member, member_key

    assert jax.device_count() == 8, jax.devices()
    cfg = jaxinit.Config(**CONFIG)
    key = jax.random.key(SEED)
    n = 64
    # per-member arrays (split with the members): a random recurrent mask,
    # a random Dale sign pattern and an initial state in PsychRNN's layout
    masks = per_member_masks(n, cfg.N_rec)
    rng = np.random.default_rng(1)
    signs = np.where(rng.random((n, cfg.N_rec)) < 0.7, 1.0, -1.0)
    given = {
        "rec_connectivity": masks,
        "Dale_rec": signs[:, :, None] * np.eye(cfg.N_rec),
        "init_state": rng.random((n, 1, cfg.N_rec)),
    }
    gsr = jaxinit.gaussian_spectral_radius
    plain = ensemble(gsr, key, n, cfg, **given)
    np.testing.assert_array_equal(plain.dale_rec_diag, signs)

    mesh = jax.make_mesh((8,), ("members",))
    mesh_2d = jax.make_mesh((2, 4), ("a", "b"))
    variants = {
        "mesh": (mesh, 8),
        "named": (NamedSharding(mesh, P("members")), 8),
        "mesh_2d": (mesh_2d, 8),
        "named_2d_b": (NamedSharding(mesh_2d, P("b")), 4),  # replicated over "a"
    }
    for label, (sharding, blocks) in variants.items():
        ens = ensemble(gsr, key, n, cfg, sharding=sharding, **given)
        assert _same(ens, plain), label
        for name, arr in ens.arrays().items():
            assert arr.shape[0] == n
            assert isinstance(arr.sharding, NamedSharding), (label, name, arr.sharding)
            starts = {}
            for shard in arr.addressable_shards:
                start, stop, _ = shard.index[0].indices(n)
                assert stop - start == n // blocks, (label, name, shard.index)
                assert shard.data.devices() == {shard.device}
                np.testing.assert_array_equal(
                    np.asarray(shard.data), np.asarray(getattr(plain, name))[start:stop]
                )
                starts.setdefault(start, set()).add(shard.device)
            assert len(starts) == blocks, (label, name, sorted(starts))
            assert len(set().union(*starts.values())) == 8
        # member() reads from the device holding the member, and equals a single call
        for i in (0, 13, n - 1):
            one = member(ens, i)
            alone = gsr(member_key(key, i), cfg, **{k: v[i] for k, v in given.items()})
            # another compiled program; W_rec is scaled by a float32 radius of an
            # N_rec = 8 matrix: within 8 * 1.19e-7 * kappa * ||W|| / rho (~10) ~ 1e-5
            # per solve, 2e-5 for the two (bitwise on the CPU in practice)
            np.testing.assert_allclose(one.W_rec, alone.W_rec, rtol=2e-5, atol=0)
            np.testing.assert_array_equal(one.W_in, alone.W_in)
            holders = {
                s.device
                for s in ens.W_rec.addressable_shards
                if s.index[0].indices(n)[0] <= i < s.index[0].indices(n)[1]
            }
            assert one.W_rec.devices() <= holders, (label, i)

    # The compiled per-device program (dumped by XLA) makes a block of n / 8
    # members from an int32[n / 8] block of indices, with no communication.
    modules = [
        os.path.join(dump_dir, f)
        for f in os.listdir(dump_dir)
        if "jaxinit_ensemble" in f and f.endswith("cpu_after_optimizations.txt")
    ]
    assert modules, sorted(os.listdir(dump_dir))[:20]
    per_device = [Path(f).read_text() for f in modules]
    assert any(f"s32[{n // 8}]" in text.splitlines()[0] for text in per_device)
    for text in per_device:
        for op in (
            "all-gather",
            "all-reduce",
            "all-to-all",
            "collective-permute",
            "reduce-scatter",
        ):
            assert op not in text, op

    # uneven splits are refused
    try:
        ensemble(gsr, key, 12, cfg, sharding=mesh)
    except ValueError as err:
        assert "multiple of 8" in str(err)
    else:
        raise AssertionError("12 members over 8 devices should fail")

    # a value error found on device 5 names the member
    bad = masks.copy()
    bad[45] = np.triu(bad[45], 1)  # nilpotent: spectral radius 0
    try:
        ensemble(gsr, key, n, cfg, sharding=mesh, **{**given, "rec_connectivity": bad})
    except ValueError as err:
        assert "member 45 " in str(err), err
    else:
        raise AssertionError("a nilpotent member should fail")
    print("OK")


def process(pid: int, port: int, outdir: str) -> None:
    import numpy as np
    from worker_support import joined

    with joined(pid, port) as jax:
        import jaxinit
        from jaxinit import ensemble, member

        cfg = jaxinit.Config(**CONFIG)
        key = jax.random.key(SEED)
        n = N_MEMBERS
        out = {}

        # (a) no shared runtime needed: each process makes its own range,
        # here split over its 2 local devices.
        p, count = jax.process_index(), jax.process_count()
        mine = range(p * n // count, (p + 1) * n // count)
        local_mesh = jax.sharding.Mesh(np.array(jax.local_devices()), ("members",))
        masks = per_member_masks(n, cfg.N_rec)
        part = ensemble(
            jaxinit.gaussian_spectral_radius,
            key,
            n,
            cfg,
            members=mine,
            sharding=local_mesh,
            rec_connectivity=masks[np.asarray(mine)],  # the rows of its own members
        )
        out["local_index"] = np.asarray(mine)
        for name, arr in part.arrays().items():
            out[f"local/{name}"] = np.asarray(arr)

        # (b) one global mesh over both processes: same call everywhere,
        # each process holds (and checks) its own blocks.
        mesh = jax.make_mesh((4,), ("members",))
        ens = ensemble(
            jaxinit.gaussian_spectral_radius, key, n, cfg, sharding=mesh, rec_connectivity=masks
        )
        assert not ens.W_rec.is_fully_addressable
        try:  # global arrays as given: refused, host arrays are expected
            ensemble(
                jaxinit.gaussian_spectral_radius,
                key,
                n,
                cfg,
                sharding=mesh,
                rec_connectivity=ens.rec_connectivity,
            )
        except TypeError as err:
            assert "global array" in str(err), err
        else:
            raise AssertionError("a global given array should be refused")
        rows = []
        for name, arr in ens.arrays().items():
            blocks = []
            for shard in arr.addressable_shards:
                start, stop, _ = shard.index[0].indices(n)
                assert shard.device.process_index == p
                blocks.append((start, stop, np.asarray(shard.data)))
            blocks.sort(key=lambda b: b[0])
            out[f"global/{name}"] = np.concatenate([b[2] for b in blocks])
            rows = np.concatenate([np.arange(b[0], b[1]) for b in blocks])
        out["global_index"] = rows
        first_local = int(rows[0])
        one = member(ens, first_local)
        out["member_first"] = np.asarray(one.W_rec)
        other = n - 1 - first_local
        try:
            member(ens, other)
        except ValueError as err:
            assert "another process" in str(err)
            out["remote_member_refused"] = np.asarray(True)
        np.savez(os.path.join(outdir, f"{pid}.npz"), **out)
    print("OK")


if __name__ == "__main__":
    from worker_support import main

    main(sharded, process)
