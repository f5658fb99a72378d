"""Package-level promises: light import, public API, README commands and examples."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import jaxinit

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def code_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_exactly_the_readme_test_command():
    setup, tests = code_blocks("bash")[:2]
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci_lines[-1].strip() == tests.strip()
    assert "jaxinit init" in setup and "pip install" in setup


def test_import_is_light():
    code = (
        "import sys, jaxinit\n"
        "heavy = [m for m in ('tensorflow', 'flax', 'haiku', 'matplotlib', 'psychrnn', 'scipy')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_api_is_complete():
    for name in jaxinit.__all__:
        assert hasattr(jaxinit, name), name
    for name in (
        "Config",
        "Params",
        "weight_initializer",
        "gaussian_spectral_radius",
        "alpha_identity",
        "const_unif",
        "const_gauss",
        "glorot_unif",
        "glorot_gauss",
        "balance_dale_ratio",
        "spectral_radius",
        "scale_spectral_radius",
        "effective",
    ):
        assert name in jaxinit.__all__


@pytest.mark.parametrize("index", range(len(code_blocks("python"))))
def test_readme_python_examples_run(tmp_path, monkeypatch, index):
    monkeypatch.chdir(tmp_path)
    source = code_blocks("python")[index]
    namespace = {}
    exec(compile(source, f"README.md python block {index}", "exec"), namespace)
    results = [v for v in namespace.values() if isinstance(v, jaxinit.Params)]
    assert results, "each README example makes a network"
    if "save_npz(" in source:
        assert (tmp_path / "net.npz").exists()
