"""Run real PsychRNN 1.0.0 in a child process and exchange arrays with it.

PsychRNN disables TensorFlow's eager mode when imported, which would break
every other TensorFlow test in the same process, so each call runs a short
script in a fresh interpreter. The script sees ``inputs`` (a dict of numpy
arrays and JSON values) and fills the dict ``outputs`` with numpy arrays.

Where PsychRNN is not installed the tests are skipped, except under CI
(``CI`` set), where that is an error: CI must exercise them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

_PRELUDE = """
import json, os, sys, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")
import numpy as np
_d = sys.argv[1]
with np.load(os.path.join(_d, "inputs.npz"), allow_pickle=False) as _f:
    inputs = {k: _f[k] for k in _f.files}
with open(os.path.join(_d, "inputs.json")) as _f:
    inputs.update(json.load(_f))
outputs = {}
"""

_EPILOGUE = """
np.savez(os.path.join(_d, "outputs.npz"), **{k: np.asarray(v) for k, v in outputs.items()})
"""


def psychrnn_available() -> bool:
    return importlib.util.find_spec("psychrnn") is not None


def require_psychrnn() -> None:
    """Skip (or, under CI, fail) when PsychRNN is not installed."""
    if psychrnn_available():
        return
    if os.environ.get("CI"):
        pytest.fail("psychrnn==1.0.0 is not installed; CI must run the PsychRNN parity tests")
    pytest.skip("psychrnn==1.0.0 is not installed (pip install 'jaxinit[psychrnn]' with pip<24.1)")


def run_psychrnn(script: str, workdir: Path, arrays=None, values=None, timeout=600) -> dict:
    """Run ``script`` under PsychRNN in a child process; return its ``outputs``.

    Args:
      script: Python source; sees ``inputs`` and fills ``outputs``.
      workdir: an empty folder for the exchange files (e.g. pytest's tmp_path).
      arrays: numpy arrays to pass (saved with ``np.savez``).
      values: JSON-serialisable values to pass.
    """
    require_psychrnn()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    np.savez(workdir / "inputs.npz", **(arrays or {}))
    (workdir / "inputs.json").write_text(json.dumps(values or {}))
    source = _PRELUDE + textwrap.dedent(script) + _EPILOGUE
    (workdir / "script.py").write_text(source)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, str(workdir / "script.py"), str(workdir)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"PsychRNN script failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
            f"{proc.stderr[-6000:]}"
        )
    with np.load(workdir / "outputs.npz", allow_pickle=False) as f:
        return {k: f[k] for k in f.files}
