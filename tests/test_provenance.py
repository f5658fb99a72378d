"""Recipes recorded by ``jaxinit.save_npz``, ``read_provenance`` and ``reproduce``."""

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
from jaxinit._src import files
from jaxinit._src.files import layout, records
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


def save(path, name, key, config, given_arrays=None):
    """Save the network a recipe makes, with the recipe (the jaxinit 0.2 way)."""
    return jaxinit.save_npz(path, jaxinit.Recipe(name, key, config, given_arrays or {}))


def save_old_style(path, params, name, key, config, given_arrays=None):
    """The deprecated keywords: the recipe recorded beside params it may not have made."""
    with pytest.warns(DeprecationWarning, match=r"jaxinit\.Recipe"):
        return jaxinit.save_npz(
            path, params, initializer=name, key=key, config=config, given=given_arrays or None
        )


def rewrite_metadata(path, change):
    with np.load(path, allow_pickle=False) as f:
        e = {k: f[k] for k in f.files}
    meta = json.loads(str(e[layout.METADATA_KEY]))
    change(meta)
    e[layout.METADATA_KEY] = np.asarray(json.dumps(meta))
    np.savez(path, **e)


@pytest.mark.parametrize("case", ["gsr", "alpha", "wi_given", "wi_drawn"])
def test_reproduce_matches(tmp_path, case):
    name, key, config, given_arrays = recipes()[case]
    params = make(name, key, config, given_arrays)
    recipe = jaxinit.Recipe(name, key, config, given_arrays)
    if case == "wi_drawn":
        with pytest.warns(jaxinit.UnregulatedSpectrumWarning):
            path = jaxinit.save_npz(tmp_path / case, recipe)
    else:
        path = jaxinit.save_npz(tmp_path / case, recipe)
    result = jaxinit.reproduce(path)  # no UnregulatedSpectrumWarning the second time
    assert result.matches and result.mismatched == ()
    assert result.bitwise and result.inexact == () and result.tolerance_ulps == 16
    assert dict(result.max_abs_diff) == {} and dict(result.max_ulp_diff) == {}
    assert "bitwise identical" in result.message and str(result) == result.message
    assert dict(result.versions_then) == dict(result.versions_now) == records.versions()
    assert isinstance(result.recipe, jaxinit.Recipe) and result.recipe.initializer == name
    for field in ARRAY_FIELDS:
        assert bits_equal(getattr(result.regenerated, field), getattr(params, field))
        assert bits_equal(getattr(result.params, field), getattr(params, field))


def test_read_provenance_records_the_recipe(tmp_path):
    name, key, config, given_arrays = recipes()["gsr"]
    params = make(name, key, config, given_arrays)
    path = save(tmp_path / "p", jaxinit.gaussian_spectral_radius, key, config, given_arrays)
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
    # the recorded recipe is a Recipe again, and it builds the file's network
    recipe = prov.recipe
    assert isinstance(recipe, jaxinit.Recipe) and recipe is prov.recipe
    assert recipe.initializer == "gaussian_spectral_radius" and recipe.config == config
    assert list(recipe.given) == ["rec_connectivity"]
    assert prov.edited == ()
    loaded = jaxinit.load_npz(path)
    for field in ARRAY_FIELDS:
        assert bits_equal(getattr(recipe.build(), field), getattr(loaded, field)), field
        assert bits_equal(getattr(params, field), getattr(loaded, field)), field


def test_raw_and_rbg_keys(tmp_path):
    raw = jax.random.PRNGKey(5)
    rbg = jax.random.key(5, impl="rbg")
    for label, key in (("raw", raw), ("rbg", rbg)):
        path = save(tmp_path / label, "alpha_identity", key, AI)
        prov = jaxinit.read_provenance(path)
        assert prov.key_typed == (label == "rbg")
        assert prov.key_impl == ("rbg" if label == "rbg" else "threefry2x32")
        assert jaxinit.reproduce(path).matches
    assert bits_equal(prov.key_data, jax.random.key_data(rbg))


@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_reproduce_any_seed(tmp_path, seed):
    key = jax.random.key(seed)
    path = save(tmp_path / "s", "gaussian_spectral_radius", key, GSR, {"rec_connectivity": MASK})
    assert jaxinit.reproduce(path).matches


@pytest.fixture(scope="module")
def gsr_params():
    name, key, config, given_arrays = recipes()["gsr"]
    return make(name, key, config, given_arrays)


def test_reproduce_detects_changed_arrays(tmp_path, gsr_params):
    name, key, config, given_arrays = recipes()["gsr"]
    trained = gsr_params.replace(W_rec=gsr_params.W_rec * 1.5, b_out=gsr_params.b_out + 1)
    path = save_old_style(tmp_path / "t", trained, name, key, config, given_arrays)
    result = jaxinit.reproduce(path)
    assert not result.matches and not result.bitwise
    assert result.mismatched == ("W_rec", "b_out") and result.inexact == ()
    assert result.max_abs_diff["b_out"] == 1.0
    assert result.max_abs_diff["W_rec"] > 0
    assert result.max_ulp_diff["W_rec"] > 16  # far beyond the tolerance
    assert "does NOT reproduce the file (compared within 16 ulp" in result.message
    assert "versions are the same" in result.message
    assert "b_out (largest |difference| 1)" in result.message


def test_reproduce_says_when_jax_changed(tmp_path, gsr_params, monkeypatch):
    old = dict(records.versions(), jax="0.4.1", jaxlib="0.4.1")
    monkeypatch.setattr(records, "versions", lambda: dict(old))  # what save_npz records
    name, key, config, given_arrays = recipes()["gsr"]
    same = save(tmp_path / "same", name, key, config, given_arrays)
    changed = gsr_params.replace(W_in=gsr_params.W_in + 1)
    other = save_old_style(tmp_path / "other", changed, name, key, config, given_arrays)
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
    path = save_old_style(tmp_path / "b", changed, name, key, config, given_arrays)
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
    assert prov.versions["jax"] == jax.__version__ and prov.recipe is None
    with pytest.raises(ValueError, match="records no recipe"):
        prov.regenerate()
    with pytest.raises(files.NoRecipeError, match="records no recipe") as err:
        jaxinit.reproduce(path)
    assert err.value.path == str(path) and err.value.key is None
    assert r"save_npz(path, jaxinit.Recipe(" in str(err.value)


def test_files_not_written_by_jaxinit(tmp_path, gsr_params):
    path = jaxinit.save_npz(tmp_path / "j", gsr_params)
    with np.load(path, allow_pickle=False) as f:
        plain = {k: f[k] for k in f.files if not k.startswith("jaxinit/")}
    np.savez(tmp_path / "psychrnn.npz", **plain)
    assert jaxinit.read_provenance(tmp_path / "psychrnn.npz") is None
    # the same error as for a jaxinit file without a recipe, so callers handle one case
    with pytest.raises(files.NoRecipeError, match="records no recipe") as err:
        jaxinit.reproduce(tmp_path / "psychrnn.npz")
    assert isinstance(err.value, jaxinit.NpzError)
    assert r"save_npz(path, jaxinit.Recipe(" in str(err.value)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m["provenance"]["config"].update(N_neurons=3), r"newer jaxinit"),
        (lambda m: m["provenance"].update(initializer="orthogonal"), "initializer must be one of"),
        (
            lambda m: m["provenance"]["key"].pop("impl"),
            "records a recipe that is unusable",
        ),
        (lambda m: m["provenance"]["given"].append("W_in"), r"given array\(s\) \['W_in'\]"),
        (lambda m: m["provenance"]["config"].update(N_rec=4), "running the recorded"),
        (lambda m: m["provenance"]["key"].update(impl="nope"), "running the recorded"),
    ],
)
def test_unusable_recorded_recipe(tmp_path, gsr_params, change, match):
    name, key, config, given_arrays = recipes()["gsr"]
    path = save(tmp_path / "u", name, key, config, given_arrays)
    rewrite_metadata(path, change)
    with pytest.raises(jaxinit.NpzError, match=match):
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
            "unknown array 'Wrec' in given",
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
    with pytest.warns(DeprecationWarning), pytest.raises(error, match=match):
        jaxinit.save_npz(tmp_path / "bad", gsr_params, **kwargs)
    assert os.listdir(tmp_path) == []


def test_save_rejects_a_float64_config_for_float32_params(tmp_path, gsr_params):
    with jax.enable_x64(True):
        cfg = GSR.replace(dtype="float64")
        with pytest.raises(ValueError, match=r"config\.dtype='float64' does not match"):
            save_old_style(
                tmp_path / "d", gsr_params, "gaussian_spectral_radius", jax.random.key(0), cfg
            )


def test_save_rejects_a_traced_key(tmp_path, gsr_params):
    def f(key):
        save(tmp_path / "k", "gaussian_spectral_radius", key, GSR)
        return key

    with pytest.raises(TypeError, match="not a value traced"):
        jax.jit(f)(jax.random.key(0))
    assert os.listdir(tmp_path) == []


def test_given_none_entries_are_skipped(tmp_path, gsr_params):
    name, key, config, _ = recipes()["gsr"]
    path = save(tmp_path / "n", name, key, config, {"rec_connectivity": MASK, "W_in": None})
    assert list(jaxinit.read_provenance(path).given) == ["rec_connectivity"]
    assert jnp.all(jaxinit.load_npz(path).rec_connectivity == gsr_params.rec_connectivity)


def test_recipe_and_old_keywords_do_not_mix(tmp_path):
    name, key, config, _ = recipes()["alpha"]
    recipe = jaxinit.Recipe(name, key, config)
    with pytest.raises(TypeError, match="takes the recipe alone, got also key=, config="):
        jaxinit.save_npz(tmp_path / "x", recipe, key=key, config=config)
    with pytest.raises(TypeError, match=r"network must be a jaxinit\.Params or a jaxinit\.Recipe"):
        jaxinit.save_npz(tmp_path / "x", (name, key, config))
    assert os.listdir(tmp_path) == []


def test_old_keywords_still_record_the_recipe(tmp_path, gsr_params):
    name, key, config, given_arrays = recipes()["gsr"]
    path = save_old_style(tmp_path / "old", gsr_params, name, key, config, given_arrays)
    assert jaxinit.reproduce(path).matches
    new = save(tmp_path / "new", name, key, config, given_arrays)
    with np.load(path, allow_pickle=False) as a, np.load(new, allow_pickle=False) as b:
        assert sorted(a.files) == sorted(b.files)
        for k in a.files:
            if k != layout.METADATA_KEY:
                assert bits_equal(a[k], b[k]), k
        assert (
            json.loads(str(a[layout.METADATA_KEY]))["provenance"]
            == json.loads(str(b[layout.METADATA_KEY]))["provenance"]
        )


def test_reproduce_refuses_an_edited_file(tmp_path):
    """Edited PsychRNN entries: the recipe no longer describes the file."""
    name, key, config, given_arrays = recipes()["gsr"]
    path = save(tmp_path / "e", name, key, config, given_arrays)
    d = dict(np.load(path, allow_pickle=True))
    d["b_out"] = d["b_out"] + 1
    np.savez(path, **d)
    with pytest.warns(files.EditedFileWarning, match="'b_out'"):
        prov = jaxinit.read_provenance(path)
    assert prov.edited == ("b_out",) and prov.has_recipe
    with (
        pytest.warns(files.EditedFileWarning),
        pytest.raises(files.NoRecipeError, match="no longer describes it") as err,
    ):
        jaxinit.reproduce(path)
    assert "b_out" in str(err.value)
