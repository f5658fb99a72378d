"""Sharded ensembles with every spectral method, on 8 virtual CPU devices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

WORKER = textwrap.dedent(
    """
    import json, sys
    import jax, numpy as np, jaxinit
    method, of = sys.argv[1], sys.argv[2]
    cfg = jaxinit.Config(N_in=2, N_rec=512, N_out=1, dale_ratio=0.8, autapses=False,
                         spectral_method=method, spectral_radius_of=of)
    mesh = jax.make_mesh((8,), ("members",))
    key = jax.random.key(3)
    ens = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 8, cfg, sharding=mesh)
    diffs, radii = [], []
    for i in (0, 5, 7):
        alone = jaxinit.gaussian_spectral_radius(jaxinit.member_key(key, i), cfg)
        got = jaxinit.member(ens, i)
        diffs.append(float(np.abs(np.asarray(got.W_rec) - np.asarray(alone.W_rec)).max()))
        W = got.W_rec if of == "raw" else jaxinit.effective(got).W_rec
        radii.append(float(np.max(np.abs(np.linalg.eigvals(np.asarray(W, np.float64))))))
    print(json.dumps({"devices": jax.device_count(), "spec": str(ens.W_rec.sharding.spec),
                      "diffs": diffs, "radii": radii}))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize(("method", "of"), [("krylov", "effective"), ("auto", "raw")])
def test_sharded_ensemble_with_krylov(method, of):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    out = subprocess.run(
        [sys.executable, "-c", WORKER, method, of],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["devices"] == 8
    assert "'members'" in result["spec"]
    # Each device runs the same per-member program as the single call on the
    # same inputs (the CPU devices are one backend), so members agree exactly.
    assert result["diffs"] == [0.0, 0.0, 0.0]
    # float32 Krylov is certified to a residual of 1e-5; 1e-4 leaves margin.
    for radius in result["radii"]:
        assert radius == pytest.approx(1.1, rel=1e-4)
