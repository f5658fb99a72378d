"""The benchmark scripts run, and what they report is right (their speed is not tested here)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_batched_benchmark_quick_run(tmp_path):
    out = tmp_path / "batched.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "batched.py"), "--quick", "--repeats", "1",
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert {(r["kind"], r["K"], r["N"]) for r in rows} == {
        (kind, 8, n) for kind in ("dale", "gaussian") for n in (64, 128)
    }
    for r in rows:
        # the batched radius against a float64 full solve: certified to a
        # residual of 1e-5 (or fully solved) on these well-conditioned matrices
        assert r["max_rel_error"] <= 1e-5, r
        assert 0 <= r["fell_back"] <= r["K"]
        assert all(t > 0 for t in (r["eig_s"], r["restarted_s"], r["batched_s"]))
    assert "| matrices | K | N |" in run.stdout


@pytest.mark.slow
def test_sparse_benchmark_quick_run(tmp_path):
    out = tmp_path / "sparse.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "sparse.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(out.read_text())
    (row,) = result["sizes"]
    assert row["N"] == 10_000 and row["nnz"] == 10_000 * 100
    ours = row["jaxinit"]
    # certified to a residual of 1e-5 and compared with a float64 LAPACK solve of the same matrix
    assert ours["converged"] and ours["residual"] <= 1e-5 and ours["rel_error"] <= 1e-4, ours
    assert abs(row["lapack_float64_radius"] - 1.1) <= 1e-4  # the network was scaled to 1.1
    assert row["arpack_tuned"]["rel_error"] <= 1e-4, row["arpack_tuned"]
    for name in ("arpack_default", "arpack_tuned"):
        assert row[name]["products"] > 0 and row[name]["seconds"] > 0
    (rp,) = result["reservoirpy"]
    assert abs(rp["radius_measured"] - 1.1) <= 1e-2, rp  # ReservoirPy's own scaling, checked
    assert result["dense_reference"]["N"] == 4096 and result["million"] is None
    assert "ARPACK default" in run.stdout and "ReservoirPy" in run.stdout
