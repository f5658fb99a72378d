"""Networks and helpers shared by the TensorFlow shim tests (tests/test_tf*.py)."""

from __future__ import annotations

import functools

import jax
import numpy as np

import jaxinit
from jaxinit._src.names import MASK_NAMES, PSYCHRNN_NAMES, WEIGHT_NAMES

#: PsychRNN's names of a network's arrays (the keys of variable_initializers).
NAMES = PSYCHRNN_NAMES

__all__ = ["MASK_NAMES", "NAMES", "WEIGHT_NAMES"]


def random_masks(seed, n_in, n_rec, n_out, p=0.7):
    """Random 0/1 masks of PsychRNN's shapes; every unit has a recurrent input."""
    rng = np.random.default_rng(seed)
    m_in = (rng.random((n_rec, n_in)) < p).astype(np.float32)
    m_rec = (rng.random((n_rec, n_rec)) < p).astype(np.float32)
    m_out = (rng.random((n_out, n_rec)) < p).astype(np.float32)
    m_rec[np.arange(n_rec), (np.arange(n_rec) + 1) % n_rec] = 1.0  # no empty row
    return {"input_connectivity": m_in, "rec_connectivity": m_rec, "output_connectivity": m_out}


@functools.cache
def networks(n_in=2, n_rec=12, n_out=2) -> dict[str, jaxinit.Params]:
    """The networks sent through PsychRNN (N_in = N_out = 2 fit its tasks); do not mutate."""
    key = jax.random.key(7)
    k = jax.random.split(key, 6)
    sizes = {"N_in": n_in, "N_rec": n_rec, "N_out": n_out}
    masks = random_masks(1, n_in, n_rec, n_out)
    return {
        "plain": jaxinit.gaussian_spectral_radius(k[0], jaxinit.Config(**sizes)),
        "dale_masks": jaxinit.gaussian_spectral_radius(
            k[1],
            jaxinit.Config(**sizes, dale_ratio=0.75, autapses=False, transfer_function="tanh"),
            **masks,
        ),
        "dale0_masks": jaxinit.gaussian_spectral_radius(
            k[2],
            jaxinit.Config(**sizes, dale_ratio=0.0, transfer_function="retanh"),
            **random_masks(2, n_in, n_rec, n_out),
        ),
        "alpha_dale0": jaxinit.alpha_identity(
            k[3], jaxinit.Config(**sizes, dale_ratio=0.0, alpha=0.5, transfer_function="retanh")
        ),
        "alpha_dale1": jaxinit.alpha_identity(
            k[4],
            jaxinit.Config(**sizes, dale_ratio=1.0, alpha=0.9, transfer_function="softplus"),
            b_rec=np.linspace(-0.1, 0.1, n_rec),
        ),
        "alpha_nodale": jaxinit.alpha_identity(
            k[5],
            jaxinit.Config(**sizes, alpha=0.8, autapses=False, transfer_function="sigmoid"),
            **masks,
        ),
    }


def raw_arrays(params) -> dict[str, np.ndarray]:
    """The eleven arrays in PsychRNN's names and layout, raw weights."""
    out = {name: np.asarray(getattr(params, name)) for name in NAMES if not name.startswith("Dale")}
    out["Dale_rec"] = np.diag(np.asarray(params.dale_rec_diag))
    out["Dale_out"] = np.diag(np.asarray(params.dale_out_diag))
    return out


def array_shape(params, name):
    return raw_arrays(params)[name].shape


def psychrnn_transform(arrays, dale_ratio):
    """PsychRNN 1.0.0's effective weights (rnn.py get_effective_*), in numpy."""
    W_in = arrays["W_in"] * arrays["input_connectivity"]
    W_rec = arrays["W_rec"] * arrays["rec_connectivity"]
    W_out = arrays["W_out"] * arrays["output_connectivity"]
    if dale_ratio:
        W_in = np.abs(W_in)
        W_rec = np.abs(W_rec) @ arrays["Dale_rec"]
        W_out = np.abs(W_out) @ arrays["Dale_out"]
    return W_in, W_rec, W_out


def assert_effective(got, params, rtol=1e-6, atol=1e-7):
    eff = jaxinit.effective(params)
    for name, want in zip(WEIGHT_NAMES, eff, strict=True):
        np.testing.assert_allclose(got[name], np.asarray(want), rtol=rtol, atol=atol, err_msg=name)
