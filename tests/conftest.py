"""Shared fixtures: strict JAX settings, dtypes, keys; the ``numerics`` marker;
:func:`require_module` for tests of optional extras."""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The command line keeps compiled programs in a persistent cache (default
# ~/.cache/jaxinit/jax). The tests, and the commands they run as subprocesses,
# use a private folder of this session instead, removed at exit.
_CACHE = tempfile.mkdtemp(prefix="jaxinit-test-cache-")
os.environ["JAXINIT_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

# Catch silent broadcasting mistakes in the library under test.
jax.config.update("jax_numpy_rank_promotion", "raise")

settings.register_profile(
    "jaxinit",
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("jaxinit")


@pytest.fixture(params=["float32", "float64"])
def dtype(request):
    """Run a test in float32 and in float64 (with 64-bit JAX enabled)."""
    if request.param == "float64":
        with jax.enable_x64(True):
            yield request.param
    else:
        yield request.param


@pytest.fixture(params=["eager", "jit"])
def mode(request):
    """'eager' or 'jit': tests call :func:`maybe_jit` to apply it."""
    return request.param


def maybe_jit(fn, mode):
    """``fn`` itself, or ``jax.jit(fn)`` with ``config`` static, by ``mode``."""
    if mode == "jit":
        return jax.jit(fn, static_argnames=("config",))
    return fn


#: Test modules whose tests compare float results (against references, other
#: programs or tolerances). They carry the ``numerics`` marker, and .ci/run
#: runs them (``-m numerics``) a second time under another OpenBLAS kernel,
#: since float32 results differ in the last bits between BLAS kernels. The
#: doctests under jaxinit/ print floats and are marked too.
NUMERICS_MODULES = frozenset(
    {
        "test_dale.py",
        "test_extremes.py",
        "test_initializers.py",
        "test_krylov.py",
        "test_psychrnn_parity.py",
        "test_schemes.py",
        "test_spectral.py",
        "test_spectral_krylov.py",
        "test_sparse_network.py",
        "test_sparse_operator.py",
    }
)


#: Tests that import TensorFlow into the test process.
TENSORFLOW_MODULES = frozenset({"test_tf.py", "test_tf_psychrnn.py", "tf.py"})


def _imports_tensorflow(item) -> bool:
    return item.path.name in TENSORFLOW_MODULES or "tfshim" in item.path.parts


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in NUMERICS_MODULES or isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.numerics)
    # TensorFlow brings its own copy of XLA/LLVM into the process; JAX programs
    # compiled after it loaded once crashed XLA's compiler (a segfault in
    # backend_compile), so the tests that import it run last.
    items.sort(key=_imports_tensorflow)


def require_module(name: str, extra: str):
    """Import and return the module ``name`` of the optional extra ``extra``.

    Where it is not installed the calling test (or module, at module level) is
    skipped, except under CI (``CI`` set, as .ci/run does), where that is a
    failure: CI installs every extra and must run these tests. An installed
    module that fails to import raises as usual, never skips.
    """
    if importlib.util.find_spec(name) is None:
        message = f"{name} is not installed (pip install 'jaxinit[{extra}]')"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run the tests that need it", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return importlib.import_module(name)


EPS32 = float(np.finfo(np.float32).eps)  # 1.19e-7


def top_condition(W) -> float:
    """Condition number of the eigenvalue of largest modulus of ``W`` (float64 scipy)."""
    import scipy.linalg

    ev, vl, vr = scipy.linalg.eig(np.asarray(W, np.float64), left=True, right=True)
    top = np.argmax(np.abs(ev))
    return float(1 / abs(np.vdot(vl[:, top], vr[:, top])))  # unit columns


def krylov_bound(W, residual) -> float:
    """How far a certified float32 Krylov radius of ``W`` may be from the true one.

    Relative. The residual is a relative backward error, so the radius is off
    by at most ``kappa * residual`` (kappa: the top eigenvalue's condition,
    :func:`top_condition`). The float32 residual itself carries rounding of
    about ``sqrt(N) * eps * ||W||_2 / rho`` (N products summed), added to it.
    Pass ``residual=tol`` where only convergence (``residual <= tol``) is known.
    """
    W = np.asarray(W, np.float64)
    rho = float(np.max(np.abs(np.linalg.eigvals(W))))
    rounding = np.sqrt(W.shape[-1]) * EPS32 * np.linalg.norm(W, 2) / rho
    return top_condition(W) * (float(residual) + rounding)


def eig_bound(W) -> float:
    """How far the float32 full solve's radius of ``W`` may be from the true one.

    Relative. LAPACK's error bound for a computed eigenvalue, ``eps * ||A|| /
    RCONDE`` (LAPACK Users' Guide, section 4.8; RCONDE = 1 / kappa, the growth
    factor p(N) taken as 1 as LAPACK does), divided by rho, times 10 for margin.
    """
    W = np.asarray(W, np.float64)
    rho = float(np.max(np.abs(np.linalg.eigvals(W))))
    return 10 * EPS32 * top_condition(W) * np.linalg.norm(W, 2) / rho
