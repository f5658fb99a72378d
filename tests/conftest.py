"""Shared fixtures: strict JAX settings, dtypes, keys."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import jax
import pytest
from hypothesis import HealthCheck, settings

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
