"""jaxinit's annotations, seen from a user's program checked with ``mypy --strict``.

Two small programs are written to a temporary directory and type-checked
together (they are never run): one that uses the public API correctly must be
clean, and one with real mistakes must report exactly the errors marked in it
with ``# E: <error code>``. ``reveal_type`` lines pin a few public return
types. Errors inside jaxinit itself are not this test's concern (mypy's own
run over the package covers them), so imported modules are checked silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jaxinit
from tests.conftest import require_module

GOOD = '''
"""Correct use of jaxinit's public API."""

import jax
import jax.numpy as jnp
import numpy as np

import jaxinit

key = jax.random.key(0)
legacy = jax.random.PRNGKey(1)  # raw uint32 keys are accepted too
config = jaxinit.Config(
    N_in=2,
    N_rec=40,
    N_out=1,
    dale_ratio=0.8,
    spectral_method="krylov",
    dale_balance="rows",
    spectral_radius_of="effective",
)
mask = jaxinit.connectivity.bernoulli(key, (40, 40), 0.5)
params = jaxinit.gaussian_spectral_radius(key, config, rec_connectivity=mask)
other = jaxinit.alpha_identity(legacy, config.replace(alpha=1.0), W_in=np.ones((40, 2)))
rho = jaxinit.spectral_radius(jaxinit.effective(params).W_rec, method="auto")
radius: float = float(rho) + float(jaxinit.predicted_radius(params.W_rec))
scaled = jaxinit.scale_spectral_radius(jnp.eye(3), 1.5)
result = jaxinit.krylov_spectral_radius(params.W_rec, tol=1e-4)
members = jaxinit.ensemble(jaxinit.gaussian_spectral_radius, key, 4, config)
one = jaxinit.member(members, 2)
summary = jaxinit.summarize(one)
init = jaxinit.initializers.gaussian_spectral_radius(1.5, dale_ratio=0.8, layout="out_in")
kernel = init(key, (10, 10))
protocol: jax.nn.initializers.Initializer = init  # goes wherever JAX/Flax take one
drawn = jaxinit.schemes.glorot_gauss(jaxinit.member_key(key, 2), np.ones((3, 4)))
signs, outputs = jaxinit.dale_vectors(10, 0.5)
compiled = jaxinit.jit(jaxinit.spectral_radius)
recipe = jaxinit.Recipe("alpha_identity", key, config.replace(alpha=0.5))
method: jaxinit.SpectralMethod = config.spectral_method

reveal_type(params)  # R: Params
reveal_type(recipe.build())  # R: Params
reveal_type(rho)  # R: Array
reveal_type(result.radius)  # R: Array
reveal_type(kernel)  # R: Array
reveal_type(compiled(params.W_rec))  # R: Array
reveal_type(summary.N_rec)  # R: int
'''

BAD = '''
"""Mistakes that jaxinit's annotations catch."""

from typing import Literal

import jax

import jaxinit

key = jax.random.key(0)
config = jaxinit.Config(N_in=2, N_rec=40, N_out=1, spectral_method="eigs")  # E: arg-type
balance: Literal["rows"] = config.dale_balance  # E: assignment
jaxinit.Config(N_in=2, N_rec=40, N_out=1, dale_balance="columns")  # E: arg-type
params = jaxinit.gaussian_spectral_radius(key, config)
rho = jaxinit.spectral_radius("W_rec")  # E: arg-type
name: str = jaxinit.spectral_radius(params.W_rec)  # E: assignment
jaxinit.initializers.glorot_gauss(layout="flax_kernel")  # E: arg-type
jaxinit.gaussian_spectral_radius(0, config)  # E: arg-type
jaxinit.spectral_radiuss(params.W_rec)  # E: attr-defined
'''

#: ``file:line: error: message  [code]`` and ``file:line: note: Revealed type is "..."``.
ERROR = re.compile(r"^(?P<file>[\w.]+):(?P<line>\d+): error: .*\[(?P<code>[\w-]+)\]$")
REVEALED = re.compile(r'^(?P<file>[\w.]+):(?P<line>\d+): note: Revealed type is "(?P<type>.*)"$')


def _marked(source: str, tag: str) -> dict[int, str]:
    """Line number -> what the ``# <tag>: ...`` comment on that line expects."""
    marks = {}
    for number, line in enumerate(source.splitlines(), start=1):
        if f"# {tag}: " in line:
            marks[number] = line.split(f"# {tag}: ", 1)[1].strip()
    return marks


def _run_mypy(tmp_path: Path, files: list[str]) -> list[str]:
    config = tmp_path / "mypy.ini"  # this file only, never a config found nearby
    config.write_text("[mypy]\nstrict = True\n")
    env = dict(os.environ)
    # jaxinit may be an editable install, whose import hook mypy cannot
    # follow: point mypy at the directory that holds the package.
    root = Path(jaxinit.__file__).resolve().parent.parent
    if root.name not in ("site-packages", "dist-packages"):
        env["MYPYPATH"] = str(root)
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        str(config),
        "--cache-dir",
        str(tmp_path / "mypy_cache"),
        "--follow-imports",
        "silent",
        "--no-error-summary",
        "--show-error-codes",
        "--no-pretty",
        "--no-color-output",
        *files,
    ]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    if done.returncode not in (0, 1) or done.stderr.strip():
        pytest.fail(f"mypy did not run (exit {done.returncode}):\n{done.stderr}{done.stdout}")
    return done.stdout.splitlines()


@pytest.mark.slow
def test_public_api_under_mypy_strict(tmp_path: Path) -> None:
    require_module("mypy", "test")
    good = textwrap.dedent(GOOD).lstrip()
    bad = textwrap.dedent(BAD).lstrip()
    (tmp_path / "good.py").write_text(good)
    (tmp_path / "bad.py").write_text(bad)

    output = _run_mypy(tmp_path, ["good.py", "bad.py"])

    errors: dict[str, dict[int, list[str]]] = {"good.py": {}, "bad.py": {}}
    revealed: dict[int, str] = {}
    for line in output:
        if match := ERROR.match(line):
            by_line = errors.setdefault(match["file"], {})
            by_line.setdefault(int(match["line"]), []).append(match["code"])
        elif match := REVEALED.match(line):
            assert match["file"] == "good.py", line
            # Without module paths: "jax._src.basearray.Array" is "Array".
            revealed[int(match["line"])] = re.sub(r"\b(?:\w+\.)+(\w+)", r"\1", match["type"])
    report = "\n".join(output)

    assert errors["good.py"] == {}, f"the correct program has type errors:\n{report}"
    expected = {line: [code] for line, code in _marked(bad, "E").items()}
    assert errors["bad.py"] == expected, f"unexpected errors for the bad program:\n{report}"
    assert revealed == _marked(good, "R"), f"unexpected revealed types:\n{report}"
