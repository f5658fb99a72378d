"""Parity with the real PsychRNN 1.0.0 on its deterministic paths.

One child process runs PsychRNN's own initializer classes on fixed inputs
(see ``tests/psychrnn_support.py``) and returns what they computed; the tests
compare jaxinit's results with those values. PsychRNN draws with numpy's
global RNG, so random draws are compared through the deterministic steps
that follow them: the child records the matrix ``GaussianSpectralRadius``
drew (by wrapping ``np.random.randn``, still calling the real function) and
the per-entry scale PsychRNN's glorot functions pass to numpy.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit import Config
from tests.psychrnn_support import run_psychrnn

N_IN, N_REC, N_OUT = 3, 20, 2

SCRIPT = """
from psychrnn.backend import initializations as pi

masks = dict(
    input_connectivity=inputs["m_in"].copy(),
    rec_connectivity=inputs["m_rec"].copy(),
    output_connectivity=inputs["m_out"].copy(),
)
def fresh_masks():  # PsychRNN zeroes the diagonal of the caller's mask in place
    return {name: value.copy() for name, value in masks.items()}
fixed = dict(W_in=inputs["W_in"], W_out=inputs["W_out"], init_state=inputs["state"])
sizes = dict(N_in=int(inputs["N_in"]), N_rec=int(inputs["N_rec"]), N_out=int(inputs["N_out"]))

# AlphaIdentity with and without Dale, with a mask and no autapses.
for tag, extra in [("plain", {}), ("dale", {"dale_ratio": 0.8}),
                   ("dale_noaut", {"dale_ratio": 0.7, "autapses": False})]:
    init = pi.AlphaIdentity(alpha=0.9, **sizes, **fixed, **fresh_masks(), **extra)
    for name in ("W_rec", "rec_connectivity", "Dale_rec", "Dale_out"):
        outputs[f"alpha_{tag}_{name}"] = np.array(init.initializations[name])

# balance_dale_ratio on a given W_rec (the base class leaves W_rec alone).
init = pi.WeightInitializer(W_rec=inputs["W_rec"].copy(), dale_ratio=0.75, **sizes,
                            **fixed, **fresh_masks())
outputs["given_W_rec"] = init.initializations["W_rec"]
init.balance_dale_ratio()
outputs["balanced_W_rec"] = init.initializations["W_rec"]

# GaussianSpectralRadius: record the matrix it draws, keep its result.
drawn = []
real_randn = np.random.randn
def recording_randn(*shape):
    value = real_randn(*shape)
    drawn.append(value.copy())
    return value
np.random.randn = recording_randn
np.random.seed(3)
init = pi.GaussianSpectralRadius(spec_rad=1.3, dale_ratio=0.8, **sizes, **fixed,
                                 **fresh_masks())
np.random.randn = real_randn
outputs["gsr_drawn"] = [d for d in drawn if d.ndim == 2][-1]
outputs["gsr_W_rec"] = init.initializations["W_rec"]

# autapses=False and no mask given: PsychRNN zeroes the diagonal of its default
# all-ones mask, and its balance uses that mask (with and without Dale).
def gaussian_spectral_radius(seed, **kwargs):
    # GaussianSpectralRadius(**kwargs) and the matrix it drew with np.random.randn
    drawn = []
    real_randn = np.random.randn
    def recording_randn(*shape):
        value = real_randn(*shape)
        drawn.append(value.copy())
        return value
    np.random.randn = recording_randn
    np.random.seed(seed)
    try:
        init = pi.GaussianSpectralRadius(spec_rad=1.3, **sizes, **fixed, **kwargs)
    finally:
        np.random.randn = real_randn
    return [d for d in drawn if d.ndim == 2][-1], init.initializations

for tag, extra in [("plain", {}), ("dale", {"dale_ratio": 0.8})]:
    init = pi.AlphaIdentity(alpha=0.9, autapses=False, **sizes, **fixed, **extra)
    for name in ("W_rec", "rec_connectivity", "Dale_rec"):
        outputs[f"nomask_alpha_{tag}_{name}"] = np.array(init.initializations[name])
    drawn_W, found = gaussian_spectral_radius(4, autapses=False, **extra)
    outputs[f"nomask_gsr_{tag}_drawn"] = drawn_W
    for name in ("W_rec", "rec_connectivity", "Dale_rec"):
        outputs[f"nomask_gsr_{tag}_{name}"] = np.array(found[name])

# The per-entry scale PsychRNN's glorot schemes pass to numpy.
base = pi.WeightInitializer(W_rec=inputs["W_rec"], **sizes, **fixed, **fresh_masks())
scales = {}
real_normal, real_uniform = np.random.normal, np.random.uniform
def recording_normal(loc, scale):
    scales["gauss"] = scale
    return real_normal(loc, scale)
def recording_uniform(low, high):
    scales["unif"] = high
    return real_uniform(low, high)
np.random.normal, np.random.uniform = recording_normal, recording_uniform
base.glorot_gauss_init(inputs["m_rec"])
base.glorot_unif_init(inputs["m_rec"])
np.random.normal, np.random.uniform = real_normal, real_uniform
outputs["glorot_gauss_std"] = scales["gauss"]
outputs["glorot_unif_limit"] = scales["unif"]

# Defects, recorded as the exception type name (or "ok").
for ratio in (0.0, 1.0, 1.5):
    try:
        init = pi.AlphaIdentity(alpha=1.0, dale_ratio=ratio, **sizes, **fixed)
        result = "nan" if np.isnan(init.initializations["W_rec"]).any() else "ok"
    except BaseException as err:
        result = type(err).__name__
    outputs[f"defect_{ratio}"] = np.array(result)
"""


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    rng = np.random.default_rng(0)
    arrays = {
        "m_in": (rng.random((N_REC, N_IN)) < 0.7).astype(float),
        "m_rec": (rng.random((N_REC, N_REC)) < 0.5).astype(float),
        "m_out": (rng.random((N_OUT, N_REC)) < 0.7).astype(float),
        "W_in": rng.standard_normal((N_REC, N_IN)),
        "W_out": rng.standard_normal((N_OUT, N_REC)),
        "W_rec": rng.standard_normal((N_REC, N_REC)),
        "state": rng.standard_normal(N_REC),
        "N_in": np.array(N_IN),
        "N_rec": np.array(N_REC),
        "N_out": np.array(N_OUT),
    }
    arrays["m_rec"][:, 0] = 1  # no empty rows: PsychRNN's balance is finite
    out = run_psychrnn(SCRIPT, tmp_path_factory.mktemp("psychrnn"), arrays=arrays)
    return arrays, out


def given_arrays(arrays):
    return {
        "input_connectivity": arrays["m_in"],
        "rec_connectivity": arrays["m_rec"],
        "output_connectivity": arrays["m_out"],
        "W_in": arrays["W_in"],
        "W_out": arrays["W_out"],
        "init_state": arrays["state"],
    }


@pytest.mark.parametrize(
    ("tag", "extra"),
    [
        ("plain", {}),
        ("dale", {"dale_ratio": 0.8}),
        ("dale_noaut", {"dale_ratio": 0.7, "autapses": False}),
    ],
)
def test_alpha_identity_matches_psychrnn(reference, tag, extra):
    arrays, out = reference
    with jax.enable_x64(True):
        cfg = Config(N_in=N_IN, N_rec=N_REC, N_out=N_OUT, alpha=0.9, dtype="float64", **extra)
        p = jaxinit.alpha_identity(jax.random.key(0), cfg, **given_arrays(arrays))
        np.testing.assert_allclose(p.W_rec, out[f"alpha_{tag}_W_rec"], rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(p.rec_connectivity, out[f"alpha_{tag}_rec_connectivity"])
        np.testing.assert_array_equal(p.Dale_rec, out[f"alpha_{tag}_Dale_rec"])
        dale_out = np.asarray(p.Dale_out)
    if tag == "plain":  # without Dale PsychRNN's Dale_out is the identity too
        np.testing.assert_array_equal(dale_out, out[f"alpha_{tag}_Dale_out"])
    else:  # PsychRNN 1.0.0 defect 6: Dale_out defaults to the +1/-1 Dale_rec
        np.testing.assert_array_equal(out[f"alpha_{tag}_Dale_out"], out[f"alpha_{tag}_Dale_rec"])
        expected = np.diag(np.where(np.diag(out[f"alpha_{tag}_Dale_rec"]) > 0, 1.0, 0.0))
        np.testing.assert_array_equal(dale_out, expected)


def test_balance_dale_ratio_matches_psychrnn(reference):
    arrays, out = reference
    mask = arrays["m_rec"]
    with jax.enable_x64(True):
        got = jaxinit.balance_dale_ratio(jnp.asarray(out["given_W_rec"]), mask, 0.75)
        np.testing.assert_allclose(got, out["balanced_W_rec"], rtol=1e-12)


def test_scaling_the_drawn_matrix_matches_gaussian_spectral_radius(reference):
    arrays, out = reference
    with jax.enable_x64(True):
        cfg = Config(
            N_in=N_IN, N_rec=N_REC, N_out=N_OUT, spec_rad=1.3, dale_ratio=0.8, dtype="float64"
        )
        p = jaxinit.gaussian_spectral_radius(
            jax.random.key(0), cfg, W_rec=out["gsr_drawn"], **given_arrays(arrays)
        )
        # float64 eigensolves: N * eps * kappa * ||W|| / rho ~ 20 * 2.2e-16 * 10 ~ 4e-14
        np.testing.assert_allclose(p.W_rec, out["gsr_W_rec"], rtol=1e-10)
    # float32: the radius from a float32 eigensolve is within about N * eps *
    # kappa * ||W|| / rho ~ 20 * 1.19e-7 * 5 ~ 1.2e-5 of PsychRNN's float64 one,
    # and every entry carries that error (atol: entries rounded to float32)
    with jax.enable_x64(False):
        cfg = Config(N_in=N_IN, N_rec=N_REC, N_out=N_OUT, spec_rad=1.3, dale_ratio=0.8)
        p = jaxinit.gaussian_spectral_radius(
            jax.random.key(0), cfg, W_rec=out["gsr_drawn"], **given_arrays(arrays)
        )
        np.testing.assert_allclose(p.W_rec, out["gsr_W_rec"], rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("dale_ratio", [None, 0.8], ids=["plain", "dale"])
def test_no_autapses_without_a_given_mask_matches_psychrnn(reference, dale_ratio):
    # No mask given, autapses=False: the default mask loses its diagonal, and
    # with Dale the balance divides by the norms of that mask's rows (N - 1
    # ones each), not of an all-ones mask.
    arrays, out = reference
    tag = "plain" if dale_ratio is None else "dale"
    fixed = {"W_in": arrays["W_in"], "W_out": arrays["W_out"], "init_state": arrays["state"]}
    sizes = dict(N_in=N_IN, N_rec=N_REC, N_out=N_OUT, autapses=False, dale_ratio=dale_ratio)
    with jax.enable_x64(True):
        # float64, elementwise products and norms of N_rec = 20 terms: a few
        # N * eps = 20 * 2.2e-16 ~ 4e-15 relative
        cfg = Config(**sizes, alpha=0.9, dtype="float64")
        p = jaxinit.alpha_identity(jax.random.key(0), cfg, **fixed)
        np.testing.assert_allclose(p.W_rec, out[f"nomask_alpha_{tag}_W_rec"], rtol=1e-12)
        mask, dale = (out[f"nomask_alpha_{tag}_{n}"] for n in ("rec_connectivity", "Dale_rec"))
        np.testing.assert_array_equal(p.rec_connectivity, mask)
        np.testing.assert_array_equal(p.Dale_rec, dale)
        # the radius from two float64 eigensolves (LAPACK geev both): within
        # N * eps * kappa * ||W|| / rho ~ 20 * 2.2e-16 * 10 ~ 4e-14 of each other
        cfg = Config(**sizes, spec_rad=1.3, dtype="float64")
        drawn = out[f"nomask_gsr_{tag}_drawn"]
        p = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg, W_rec=drawn, **fixed)
        np.testing.assert_allclose(p.W_rec, out[f"nomask_gsr_{tag}_W_rec"], rtol=1e-10)
        mask, dale = (out[f"nomask_gsr_{tag}_{n}"] for n in ("rec_connectivity", "Dale_rec"))
        np.testing.assert_array_equal(p.rec_connectivity, mask)
        np.testing.assert_array_equal(p.Dale_rec, dale)
    np.testing.assert_array_equal(np.diagonal(out[f"nomask_gsr_{tag}_rec_connectivity"]), 0)


def test_glorot_scales_match_psychrnn(reference):
    arrays, out = reference
    fan = np.asarray(jaxinit.schemes.glorot_fan(arrays["m_rec"]), np.float64)
    # fan_in + fan_out are counts (exact in float32 below 2**24), and both sides
    # then take the same two correctly rounded float64 steps: the same bits
    np.testing.assert_array_equal(np.sqrt(2 / fan), out["glorot_gauss_std"])
    np.testing.assert_array_equal(np.sqrt(6 / fan), out["glorot_unif_limit"])


def test_psychrnn_defects_that_jaxinit_fixes(reference):
    _, out = reference
    assert str(out["defect_0.0"]) == "nan"
    assert str(out["defect_1.0"]) == "ZeroDivisionError"
    assert str(out["defect_1.5"]) == "RuntimeError"
    for ratio in (0.0, 1.0):
        cfg = Config(N_in=N_IN, N_rec=N_REC, N_out=N_OUT, alpha=1.0, dale_ratio=ratio)
        p = jaxinit.alpha_identity(jax.random.key(0), cfg)
        assert np.isfinite(np.asarray(p.W_rec)).all()
    with pytest.raises(ValueError, match=r"dale_ratio must be in \[0, 1\] or None, got 1.5"):
        Config(N_in=N_IN, N_rec=N_REC, N_out=N_OUT, dale_ratio=1.5)
