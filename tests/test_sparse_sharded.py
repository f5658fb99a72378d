"""One sparse network with its rows split over devices, and over processes.

The sharded and multi-process paths run in fresh interpreters
(tests/sparse_worker.py), since the CPU device count must be set before JAX
starts; the in-process tests compare their results with a single device.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxinit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import sparse_worker  # noqa: E402
import worker_support  # noqa: E402

_WORKER_TESTS = ("test_rows_over_eight_devices", "test_two_processes_make_the_same_network")


@pytest.fixture(scope="module")
def workers(request, tmp_path_factory):
    """The 8-device worker and the two joined processes, started together."""
    out = tmp_path_factory.mktemp("sparse_workers")
    port = str(worker_support.free_port())
    procs = {
        "sharded": worker_support.start("sparse_worker.py", "sharded", str(out)),
        "process0": worker_support.start("sparse_worker.py", "process", "0", port, str(out)),
        "process1": worker_support.start("sparse_worker.py", "process", "1", port, str(out)),
    }
    try:
        yield procs, out
    finally:
        worker_support.stop(procs.values())


@pytest.fixture(scope="module")
def single():
    """The worker's network made here, on one device."""
    return sparse_worker.make(None)


@pytest.mark.slow
def test_rows_over_eight_devices(workers, single):
    procs, out = workers
    worker_support.wait_ok(procs["sharded"])
    got = np.load(out / "sharded.npz")
    pattern, net = single
    np.testing.assert_array_equal(got["rows8"], np.arange(sparse_worker.N))
    # the pattern and every draw bit for bit; W_rec to the two certified radii (1e-5 each)
    np.testing.assert_array_equal(got["pattern8"], pattern.index)
    np.testing.assert_array_equal(got["index8"], net.W_rec.index)
    np.testing.assert_array_equal(got["W_in8"], net.W_in)
    np.testing.assert_allclose(got["values8"], net.W_rec.values, rtol=3e-5, atol=0)
    np.testing.assert_allclose(got["values4"], net.W_rec.values, rtol=3e-5, atol=0)


@pytest.mark.slow
def test_two_processes_make_the_same_network(workers, single):
    procs, out = workers
    for name in ("process0", "process1"):
        worker_support.wait_ok(procs[name])
    worker_support.wait_ok(procs["sharded"])
    parts = [np.load(out / f"{pid}.npz") for pid in (0, 1)]
    rows = np.concatenate([p["rows"] for p in parts])
    np.testing.assert_array_equal(np.sort(rows), np.arange(sparse_worker.N))  # each row once
    order = np.argsort(rows)
    pattern, net = single
    for name, want in (("pattern", pattern.index), ("index", net.W_rec.index)):
        got = np.concatenate([p[name] for p in parts])[order]
        np.testing.assert_array_equal(got, want, err_msg=name)
    # W_rec against the same 4-block mesh in one process: the same draw times one
    # scale factor, spec_rad / radius; the two radii differ in the last bits (the
    # Krylov dot products are summed across processes in another order), each
    # certified to 1e-5: a common ratio, up to the rounding of the product (2 ulp)
    values = np.concatenate([p["values"] for p in parts])[order].astype(np.float64)
    alone = np.load(out / "sharded.npz")["values4"].astype(np.float64)
    assert ((values == 0) == (alone == 0)).all()
    ratio = values[alone != 0] / alone[alone != 0]
    assert np.ptp(ratio) <= 4 * 2.0**-23 and abs(ratio.mean() - 1) <= 2e-5
    np.testing.assert_allclose(values, np.asarray(net.W_rec.values), rtol=3e-5, atol=0)


def test_sharding_errors():
    key = jax.random.key(0)
    mesh = jax.make_mesh((1,), ("rows",))
    with pytest.raises(TypeError, match=r"sharding must be None, a jax\.sharding\.Mesh"):
        jaxinit.sparse.fixed_in_degree(key, (10, 10), 2, sharding="rows")
    spec = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(None, "rows"))
    with pytest.raises(ValueError, match=r"sharding must split the rows \(the first axis\) only"):
        jaxinit.sparse.fixed_in_degree(key, (10, 10), 2, sharding=spec)


def test_a_one_device_mesh_gives_the_unsharded_pattern():
    key = jax.random.key(4)
    mesh = jax.make_mesh((1,), ("rows",))
    a = jaxinit.sparse.fixed_in_degree(key, (300, 300), 7, sharding=mesh)
    b = jaxinit.sparse.fixed_in_degree(key, (300, 300), 7)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_array_equal(a.values, b.values)
