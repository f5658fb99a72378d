"""Provenance recorded by ``jaxinit.save_npz``, ``read_provenance`` and ``reproduce``."""

from __future__ import annotations

import dataclasses
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit._src import npz, provenance
from jaxinit._src.names import ARRAY_FIELDS

# The same configs as tests/test_npz.py, so the compiled initializers are shared.
GSR = jaxinit.Config(N_in=3, N_rec=9, N_out=2, dale_ratio=0.7, autapses=False)
AI = jaxinit.Config(N_in=2, N_rec=8, N_out=2, dale_ratio=1.0, alpha=0.9, transfer_function="tanh")
WI = jaxinit.Config(N_in=2, N_rec=8, N_out=2, dale_ratio=0.0)
MASK = (np.random.default_rng(1).random((9, 9)) < 0.5).astype(np.float32)
W_REC = 0.3 * np.random.default_rng(4).standard_normal((8, 8)).astype(np.float32)


def bits_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def recipes():
    key = jax.random.key(7)
    return {
        "gsr": ("gaussian_spectral_radius", key, GSR, {"rec_connectivity": MASK}),
        "alpha": ("alpha_identity", key, AI, {}),
        "wi_given": ("weight_initializer", key, WI, {"W_rec": W_REC}),
        "wi_drawn": ("weight_initializer", jax.random.key(1), WI, {}),
    }


def make(name, key, config, given_arrays):
    fn = getattr(jaxinit, name)
    if name == "weight_initializer" and "W_rec" not in given_arrays:
        with pytest.warns(jaxinit.UnregulatedSpectrumWarning):
            return fn(key, config, **given_arrays)
    return fn(key, config, **given_arrays)


def save(path, params, name, key, config, given_arrays=None):
    return jaxinit.save_npz(
        path, params, initializer=name, key=key, config=config, given=given_arrays or None
    )


def rewrite_metadata(path, change):
    with np.load(path, allow_pickle=False) as f:
        e = {k: f[k] for k in f.files}
    meta = json.loads(str(e[npz.METADATA_KEY]))
    change(meta)
    e[npz.METADATA_KEY] = np.asarray(json.dumps(meta))
    np.savez(path, **e)


@pytest.mark.parametrize("case", ["gsr", "alpha", "wi_given", "wi_drawn"])
def test_reproduce_matches(tmp_path, case):
    name, key, config, given_arrays = recipes()[case]
    params = make(name, key, config, given_arrays)
    path = save(tmp_path / case, params, name, key, config, given_arrays)
    result = jaxinit.reproduce(path)  # no UnregulatedSpectrumWarning the second time
    assert result.matches and result.mismatched == ()
    assert dict(result.max_abs_diff) == {}
    assert "bitwise identical" in result.message and str(result) == result.message
    assert dict(result.versions_then) == dict(result.versions_now) == provenance.versions()
    for field in ARRAY_FIELDS:
        assert bits_equal(getattr(result.regenerated, field), getattr(params, field))
        assert bits_equal(getattr(result.params, field), getattr(params, field))


def test_read_provenance_records_the_recipe(tmp_path):
    name, key, config, given_arrays = recipes()["gsr"]
    params = make(name, key, config, given_arrays)
    path = save(tmp_path / "p", params, jaxinit.gaussian_spectral_radius, key, config, given_arrays)
    prov = jaxinit.read_provenance(path)
    assert isinstance(prov, jaxinit.Provenance) and prov.has_recipe
    assert prov.initializer == "gaussian_spectral_radius"
    assert prov.config == config
    assert prov.key_impl == "threefry2x32" and prov.key_typed
    assert bits_equal(prov.key_data, jax.random.key_data(key))
    assert bits_equal(jax.random.key_data(prov.key), jax.random.key_data(key))
    assert list(prov.given) == ["rec_connectivity"]
    assert bits_equal(prov.given["rec_connectivity"], MASK)
    with pytest.raises(ValueError, match="read-only"):
        prov.given["rec_connectivity"][0, 0] = 5
    assert prov.versions["jax"] == jax.__version__
    assert set(prov.versions) == {"jaxinit", "jax", "jaxlib", "numpy", "python", "backend"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        prov.initializer = "alpha_identity"


def test_raw_and_rbg_keys(tmp_path):
    raw = jax.random.PRNGKey(5)
    rbg = jax.random.key(5, impl="rbg")
    for label, key in (("raw", raw), ("rbg", rbg)):
        params = jaxinit.alpha_identity(key, AI)
        path = save(tmp_path / label, params, "alpha_identity", key, AI)
        prov = jaxinit.read_provenance(path)
        assert prov.key_typed == (label == "rbg")
        assert prov.key_impl == ("rbg" if label == "rbg" else "threefry2x32")
        assert jaxinit.reproduce(path).matches
    assert bits_equal(prov.key_data, jax.random.key_data(rbg))


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_reproduce_any_seed(tmp_path, seed):
    key = jax.random.key(seed)
    params = jaxinit.gaussian_spectral_radius(key, GSR, rec_connectivity=MASK)
    path = save(
        tmp_path / "s", params, "gaussian_spectral_radius", key, GSR, {"rec_connectivity": MASK}
    )
    assert jaxinit.reproduce(path).matches


@pytest.fixture(scope="module")
def gsr_params():
    name, key, config, given_arrays = recipes()["gsr"]
    return make(name, key, config, given_arrays)


def test_reproduce_detects_changed_arrays(tmp_path, gsr_params):
    name, key, config, given_arrays = recipes()["gsr"]
    trained = gsr_params.replace(W_rec=gsr_params.W_rec * 1.5, b_out=gsr_params.b_out + 1)
    path = save(tmp_path / "t", trained, name, key, config, given_arrays)
    result = jaxinit.reproduce(path)
    assert not result.matches
    assert result.mismatched == ("W_rec", "b_out")
    assert result.max_abs_diff["b_out"] == 1.0
    assert result.max_abs_diff["W_rec"] > 0
    assert "does NOT reproduce" in result.message
    assert "versions are the same" in result.message
    assert "b_out (largest |difference| 1)" in result.message


def test_reproduce_says_when_jax_changed(tmp_path, gsr_params, monkeypatch):
    old = dict(provenance.versions(), jax="0.4.1", jaxlib="0.4.1")
    monkeypatch.setattr(provenance, "versions", lambda: dict(old))  # what save_npz records
    name, key, config, given_arrays = recipes()["gsr"]
    same = save(tmp_path / "same", gsr_params, name, key, config, given_arrays)
    changed = gsr_params.replace(W_in=gsr_params.W_in + 1)
    other = save(tmp_path / "other", changed, name, key, config, given_arrays)
    monkeypatch.undo()
    result = jaxinit.reproduce(same)
    assert result.matches
    assert result.versions_then["jax"] == "0.4.1"
    assert result.versions_now["jax"] == jax.__version__
    assert f"jax 0.4.1 then, {jax.__version__} now" in result.message
    result = jaxinit.reproduce(other)
    assert not result.matches and result.mismatched == ("W_in",)
    assert "JAX does not promise the same random numbers across releases" in result.message
    assert "jax 0.4.1 / jaxlib 0.4.1" in result.message


def test_reproduce_mentions_a_backend_change(tmp_path, gsr_params):
    name, key, config, given_arrays = recipes()["gsr"]
    changed = gsr_params.replace(W_in=gsr_params.W_in + 1)
    path = save(tmp_path / "b", changed, name, key, config, given_arrays)
    rewrite_metadata(path, lambda m: m["versions"].update(backend="gpu"))
    result = jaxinit.reproduce(path)
    assert "backend gpu then" in result.message and "eigenvalue routines" in result.message


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


def test_files_without_a_recipe(tmp_path, gsr_params):
    path = jaxinit.save_npz(tmp_path / "plain", gsr_params)
    prov = jaxinit.read_provenance(path)
    assert not prov.has_recipe and prov.config is None and prov.key is None
    assert prov.versions["jax"] == jax.__version__
    with pytest.raises(ValueError, match="records no recipe"):
        prov.regenerate()
    with pytest.raises(ValueError, match="saved without provenance"):
        jaxinit.reproduce(path)


def test_files_not_written_by_jaxinit(tmp_path, gsr_params):
    path = jaxinit.save_npz(tmp_path / "j", gsr_params)
    with np.load(path, allow_pickle=False) as f:
        plain = {k: f[k] for k in f.files if not k.startswith("jaxinit/")}
    np.savez(tmp_path / "psychrnn.npz", **plain)
    assert jaxinit.read_provenance(tmp_path / "psychrnn.npz") is None
    with pytest.raises(ValueError, match="not written by jaxinit"):
        jaxinit.reproduce(tmp_path / "psychrnn.npz")


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m["provenance"]["config"].update(N_neurons=3), r"newer jaxinit"),
        (lambda m: m["provenance"].update(initializer="orthogonal"), "initializer must be one of"),
        (
            lambda m: m["provenance"]["key"].pop("impl"),
            "provenance recorded in the file is unusable",
        ),
        (lambda m: m["provenance"]["given"].append("W_in"), r"given array\(s\) \['W_in'\]"),
        (lambda m: m["provenance"]["config"].update(N_rec=4), "running the recorded"),
        (lambda m: m["provenance"]["key"].update(impl="nope"), "running the recorded"),
    ],
)
def test_unusable_recorded_recipe(tmp_path, gsr_params, change, match):
    name, key, config, given_arrays = recipes()["gsr"]
    path = save(tmp_path / "u", gsr_params, name, key, config, given_arrays)
    rewrite_metadata(path, change)
    with pytest.raises(ValueError, match=match):
        jaxinit.reproduce(path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(key="KEY"), ValueError, "missing initializer=, config="),
        (dict(initializer="gaussian_spectral_radius"), ValueError, "missing key=, config="),
        (dict(given={"rec_connectivity": MASK}), ValueError, "given= only makes sense"),
        (dict(initializer="orthogonal", key="KEY", config=GSR), ValueError, "initializer must be"),
        (dict(initializer=len, key="KEY", config=GSR), ValueError, "initializer must be"),
        (
            dict(initializer="alpha_identity", key="KEY", config={"N_rec": 9}),
            TypeError,
            r"config must be a jaxinit\.Config",
        ),
        (dict(initializer="alpha_identity", key=7, config=GSR), TypeError, "bare seed"),
        (
            dict(initializer="alpha_identity", key="KEY", config=GSR.replace(N_rec=8)),
            ValueError,
            r"config\.N_rec=8 does not match params \(N_rec=9\)",
        ),
        (
            dict(initializer="alpha_identity", key="KEY", config=GSR.replace(dale_ratio=None)),
            ValueError,
            "config.dale_ratio=None does not match",
        ),
        (
            dict(
                initializer="alpha_identity",
                key="KEY",
                config=GSR.replace(transfer_function="tanh"),
            ),
            ValueError,
            "config.transfer_function='tanh' does not match",
        ),
        (
            dict(initializer="alpha_identity", key="KEY", config=GSR, given={"Wrec": MASK}),
            TypeError,
            "unknown array name 'Wrec'",
        ),
        (
            dict(initializer="alpha_identity", key="KEY", config=GSR, given=[MASK]),
            TypeError,
            "given must be a dict",
        ),
        (
            dict(
                initializer="alpha_identity",
                key="KEY",
                config=GSR,
                given={"W_rec": np.array([None], dtype=object)},
            ),
            TypeError,
            "array of numbers",
        ),
    ],
)
def test_save_rejects_bad_provenance(tmp_path, gsr_params, kwargs, error, match):
    if kwargs.get("key") == "KEY":
        kwargs = dict(kwargs, key=jax.random.key(0))
    with pytest.raises(error, match=match):
        jaxinit.save_npz(tmp_path / "bad", gsr_params, **kwargs)
    assert os.listdir(tmp_path) == []


def test_save_rejects_a_float64_config_for_float32_params(tmp_path, gsr_params):
    with jax.enable_x64(True):
        cfg = GSR.replace(dtype="float64")
        with pytest.raises(ValueError, match=r"config\.dtype='float64' does not match"):
            save(tmp_path / "d", gsr_params, "gaussian_spectral_radius", jax.random.key(0), cfg)


def test_save_rejects_a_traced_key(tmp_path, gsr_params):
    def f(key):
        save(tmp_path / "k", gsr_params, "gaussian_spectral_radius", key, GSR)
        return key

    with pytest.raises(TypeError, match="not a traced value"):
        jax.jit(f)(jax.random.key(0))
    assert os.listdir(tmp_path) == []


def test_given_none_entries_are_skipped(tmp_path, gsr_params):
    name, key, config, _ = recipes()["gsr"]
    path = save(
        tmp_path / "n", gsr_params, name, key, config, {"rec_connectivity": MASK, "W_in": None}
    )
    assert list(jaxinit.read_provenance(path).given) == ["rec_connectivity"]
    assert jnp.all(jaxinit.load_npz(path).rec_connectivity == gsr_params.rec_connectivity)
