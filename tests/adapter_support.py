"""Helpers shared by the adapter tests (tests/test_adapters*.py)."""

from __future__ import annotations

import jax
import numpy as np

import jaxinit

#: The key most adapter tests draw with.
KEY = jax.random.key(0)
#: The number of recurrent units of the square test kernels.
N = 12


def random_mask(n_out, n_in, seed=0, p=0.6):
    """A random 0/1 float32 mask of shape ``(n_out, n_in)``."""
    return (np.random.default_rng(seed).random((n_out, n_in)) < p).astype(np.float32)


def core_network(kind, n, *, spec_rad=1.1, alpha=None, mask_psy=None, key=KEY, **cfg):
    """jaxinit's own network (``"gsr"`` or ``"alpha"``) with ``n`` units, mask in (out, in)."""
    config = jaxinit.Config(N_in=1, N_rec=n, N_out=1, spec_rad=spec_rad, alpha=alpha, **cfg)
    given = {} if mask_psy is None else {"rec_connectivity": mask_psy}
    fn = jaxinit.gaussian_spectral_radius if kind == "gsr" else jaxinit.alpha_identity
    return fn(key, config, **given)


def orient(W, layout):
    """An (out, in) matrix as numpy, transposed for ``layout="in_out"``."""
    return np.asarray(W).T if layout == "in_out" else np.asarray(W)
