"""Subprocess workers for the sharded and multi-process tests (not a test module).

A worker script runs in a fresh interpreter, since the CPU device count must be
set before JAX starts; it prints ``OK`` last when its own checks passed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker_env() -> dict[str, str]:
    """The environment of a worker: CPU only, the device settings left to it."""
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "JAX_NUM_CPU_DEVICES")}
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), env.get("PYTHONPATH")]))
    return env


def free_port() -> int:
    """A free loopback port for a ``jax.distributed`` coordinator."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(script: str, *args: str) -> subprocess.Popen:
    """Run ``tests/<script> args...`` in a fresh interpreter."""
    return subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        env=worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ok(proc: subprocess.Popen, timeout: float = 300) -> None:
    """Wait for a worker; fail with the end of its stderr unless it printed ``OK``."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    assert proc.returncode == 0 and out.strip().endswith("OK"), err[-4000:]


def stop(procs) -> None:
    """Kill the workers still running and collect them."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@contextlib.contextmanager
def joined(pid: int, port: int, devices: int = 2, processes: int = 2):
    """Inside a worker: join ``processes`` processes (``devices`` CPU devices each)
    with ``jax.distributed`` over a loopback coordinator; shut down on exit."""
    os.environ["JAX_NUM_CPU_DEVICES"] = str(devices)
    import jax

    jax.distributed.initialize(
        coordinator_address=f"127.0.0.1:{port}",
        num_processes=processes,
        process_id=pid,
        initialization_timeout=90,
    )
    try:
        assert jax.process_count() == processes, jax.process_count()
        assert jax.device_count() == devices * processes, jax.devices()
        yield jax
    finally:
        jax.distributed.shutdown()


def main(sharded, process) -> None:
    """A worker's command line: ``sharded OUTDIR`` or ``process PID PORT OUTDIR``."""
    mode = sys.argv[1]
    if mode == "sharded":
        sharded(sys.argv[2])
    elif mode == "process":
        process(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        raise SystemExit(f"unknown mode {mode!r}")
