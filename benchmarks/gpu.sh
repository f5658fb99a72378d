#!/usr/bin/env bash
# Run the jaxinit benchmark on an NVIDIA GPU (eigvals through cuSOLVER, the
# Krylov path, ensembles) and print the same table as on the CPU.
#   usage: bash benchmarks/gpu.sh [--quick] [--repeats N]
# Needs a CUDA 12/13 driver and PyPI access (or wheels in $PIP_FIND_LINKS).
# PsychRNN is not installed here, so its column stays empty; the LAPACK floor
# column is numpy on the host CPU, for reference.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${JAXINIT_GPU_VENV:-/tmp/jaxinit-gpu}
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q -e . 'jax[cuda12]'
"$venv/bin/python" - <<'PY'
import jax
assert jax.default_backend() == "gpu", f"no GPU visible to JAX: {jax.devices()}"
print("devices:", jax.devices())
PY
"$venv/bin/python" benchmarks/run.py --out benchmarks/results/gpu.json "$@"
