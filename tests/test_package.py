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
    # The README's test command is CI's entry point itself, so they cannot drift.
    setup, tests = code_blocks("bash")[:2]
    assert tests.strip() == "bash .ci/run"
    assert "jaxinit init" in setup and "pip install" in setup


def ci_commands():
    """The command lines of .ci/run, comments and blank lines left out."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def test_ci_script_builds_lints_and_runs_everything_twice_where_it_matters():
    commands = ci_commands()
    assert commands[0] == "set -euo pipefail"
    assert any(c.startswith("export CI=1 ") for c in commands)  # before anything runs
    build = [
        "python3 -m venv .venv",
        ".venv/bin/python -m pip install -q 'pip<24.1'",
        ".venv/bin/python -m pip install -q 'torch==2.13.0'",
        ".venv/bin/python -m pip install -q -e '.[test]'",
        ".venv/bin/ruff check jaxinit tests",
    ]
    start = commands.index(build[0])
    assert commands[start : start + len(build)] == build
    assert '.venv/bin/python -m pytest "$@" || status=$?' in commands
    assert 'if [ "$status" -eq 5 ]; then' in commands  # "no tests collected" fails
    # the whole suite as the environment is, then the float comparisons under
    # the other kernel setting (Haswell for one of the two runs)
    first = commands.index('run_pytest "${WITHOUT_TF[@]}" tests/test_[a-m]*.py')
    second = commands.index(
        'run_pytest "${WITHOUT_TF[@]}" tests/test_[n-r]*.py tests/test_t[!f]*.py jaxinit'
    )
    third = commands.index('run_pytest "${WITHOUT_TF[@]}" tests/test_sparse*.py')
    fourth = commands.index('run_pytest "${WITHOUT_TF[@]}" tests/test_s[!p]*.py tests/test_spe*.py')
    tf_tests = commands.index('run_pytest "${TF_TESTS[@]}"')
    numerics = commands.index('run_pytest -m numerics "${WITHOUT_TF[@]}" tests/test_[a-m]*.py')
    numerics_second = commands.index(
        'run_pytest -m numerics "${WITHOUT_TF[@]}" tests/test_[n-r]*.py tests/test_t[!f]*.py '
        "jaxinit"
    )
    numerics_third = commands.index(
        'run_pytest -m numerics "${WITHOUT_TF[@]}" tests/test_sparse*.py'
    )
    numerics_fourth = commands.index(
        'run_pytest -m numerics "${WITHOUT_TF[@]}" tests/test_s[!p]*.py tests/test_spe*.py'
    )
    assert start < first < second < third < fourth < tf_tests
    assert tf_tests < numerics < numerics_second < numerics_third < numerics_fourth
    whole = first
    between = commands[whole:numerics]
    assert "unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE" in between
    assert "export OPENBLAS_CORETYPE=Haswell" in between


def test_ci_script_type_checks_builds_the_docs_and_tests_the_wheel():
    commands = ci_commands()
    lint = commands.index(".venv/bin/ruff check jaxinit tests")
    mypy = commands.index(".venv/bin/mypy")  # strict, over jaxinit/ (pyproject.toml)
    docs = commands.index(
        ".venv/bin/sphinx-build -W --keep-going -n -q -b html docs docs/_build/html"
    )
    first = commands.index('run_pytest "${WITHOUT_TF[@]}" tests/test_[a-m]*.py')
    wheel = commands.index("bash .ci/wheel")
    # the docs are built before the suite, whose browser test opens them
    assert lint < mypy < docs < first < wheel
    assert commands[-1] == "bash .ci/wheel"
    config = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'\[tool\.mypy\]\nfiles = \["jaxinit"\]\n(.*\n)*?strict = true', config)
    assert (ROOT / "jaxinit" / "py.typed").is_file()


def test_ci_runs_every_test_module():
    # The suite runs in pieces (four parts by file name, TensorFlow apart; an
    # explicit file argument is collected even if --ignore names it, so the
    # halves must not match the TF modules): a new module whose name falls
    # outside every piece would silently never run.
    import fnmatch

    halves = ["tests/test_[a-m]*.py", "tests/test_[n-r]*.py", "tests/test_sparse*.py",
              "tests/test_s[!p]*.py", "tests/test_spe*.py", "tests/test_t[!f]*.py"]
    tf = ["tests/test_tf.py", "tests/test_tf_psychrnn.py"]
    pieces = [*halves, *tf]
    for piece in pieces:
        assert piece in (ROOT / ".ci" / "run").read_text(), piece
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        name = f"tests/{path.name}"
        assert any(fnmatch.fnmatch(name, p) for p in pieces), name
        if name in tf:
            assert not any(fnmatch.fnmatch(name, p) for p in halves), name


def test_ci_script_is_executable():
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111
    assert (ROOT / ".ci" / "wheel").stat().st_mode & 0o111


def test_numerics_marker_covers_existing_modules():
    from tests.conftest import NUMERICS_MODULES

    for name in NUMERICS_MODULES:  # a renamed module must not drop out silently
        assert (ROOT / "tests" / name).is_file(), name


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
        "schemes",
        "balance_dale_ratio",
        "spectral_radius",
        "scale_spectral_radius",
        "effective",
        "ensemble",
        "krylov_spectral_radius",
    ):
        assert name in jaxinit.__all__
    # the random schemes live in jaxinit.schemes (the top-level names are deprecated)
    for name in ("const_unif", "const_gauss", "glorot_unif", "glorot_gauss", "glorot_fan"):
        assert callable(getattr(jaxinit.schemes, name)), name
        assert name not in jaxinit.__all__, name


@pytest.mark.parametrize("index", range(len(code_blocks("python"))))
def test_readme_python_examples_run(tmp_path, monkeypatch, index):
    monkeypatch.chdir(tmp_path)
    source = code_blocks("python")[index]
    namespace = {}
    exec(compile(source, f"README.md python block {index}", "exec"), namespace)
    networks = (jaxinit.Params, jaxinit.sparse.SparseParams)
    results = [v for v in namespace.values() if isinstance(v, networks)]
    assert results, "each README example makes a network"
    if "save_npz(" in source:
        assert (tmp_path / "net.npz").exists()
