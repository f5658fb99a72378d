"""The same network under every transform (the property runs in its own process).

The property in tests/transforms_property.py compiles a few hundred programs;
it runs in a child process so that it starts from a fresh JAX, as a user's
program would.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_eager_jit_vmap_ensemble_and_reproduce_agree():
    here = Path(__file__).parent
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(here / "transforms_property.py")],
        capture_output=True, text=True, timeout=1500, cwd=here.parent,
    )
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "1 passed" in out.stdout
