"""``jaxinit.save_npz`` / ``jaxinit.load_npz``: PsychRNN interop, safety, atomicity.

The PsychRNN checks run real PsychRNN 1.0.0 once, in one child process (see
``psychrnn_support``), for every case at the same time: it loads the files
jaxinit wrote into ``Basic`` models and writes PsychRNN files of every kind
for jaxinit to load.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import jaxinit
from jaxinit._src import files
from jaxinit._src.files import archive, layout
from jaxinit._src.names import ARRAY_FIELDS, PSYCHRNN_NAMES
from tests.psychrnn_support import run_psychrnn

RTOL, ATOL = 1e-6, 1e-7  # float32 rounding


def bits_equal(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_same_params(p, q):
    for name in ARRAY_FIELDS:
        assert bits_equal(getattr(p, name), getattr(q, name)), name
    assert p.dale_ratio == q.dale_ratio
    assert p.transfer_function == q.transfer_function


def assert_effective_close(params, weights):
    eff = jaxinit.effective(params)
    for name in ("W_in", "W_rec", "W_out"):
        np.testing.assert_allclose(
            np.asarray(weights[name], np.float64),
            np.asarray(getattr(eff, name), np.float64),
            rtol=RTOL,
            atol=ATOL,
            err_msg=name,
        )


def entries(path) -> dict:
    # allow_pickle: a file without Dale's law holds dale_ratio=None as PsychRNN writes it
    with np.load(path, allow_pickle=True) as f:
        return {k: f[k] for k in f.files}


def mask(seed, shape, p=0.5):
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float32)


# ---------------------------------------------------------------------------
# Networks jaxinit writes for PsychRNN (PerceptualDiscrimination: 2 in, 2 out)
# ---------------------------------------------------------------------------


@functools.cache
def _jaxinit_cases():
    """One network per kind, made once (each initializer config compiles once)."""
    cases = {}
    key = jax.random.key(7)
    cfg = jaxinit.Config(N_in=3, N_rec=9, N_out=2, dale_ratio=0.7, autapses=False)
    given_mask = {"rec_connectivity": mask(1, (9, 9))}
    recipe = jaxinit.Recipe("gaussian_spectral_radius", key, cfg, given_mask)
    cases["dale"] = (recipe.build(), recipe)
    cfg = jaxinit.Config(N_in=2, N_rec=12, N_out=2)
    masks = {"input_connectivity": mask(2, (12, 2)), "output_connectivity": mask(3, (2, 12))}
    cases["nodale"] = (jaxinit.gaussian_spectral_radius(key, cfg, **masks), None)
    cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=2, dale_ratio=0.0)
    W_rec = 0.3 * np.random.default_rng(4).standard_normal((8, 8)).astype(np.float32)
    cases["dale0"] = (jaxinit.weight_initializer(key, cfg, W_rec=W_rec), None)
    cfg = jaxinit.Config(
        N_in=2, N_rec=8, N_out=2, dale_ratio=1.0, alpha=0.9, transfer_function="tanh"
    )
    cases["dale1"] = (jaxinit.alpha_identity(key, cfg), None)
    with jax.enable_x64(True):
        cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=2, dale_ratio=0.5, dtype="float64")
        cases["float64"] = (jaxinit.gaussian_spectral_radius(key, cfg), None)
    return cases


_CHILD = r"""
import warnings
import numpy as np
import tensorflow as tf
from psychrnn.backend.initializations import GaussianSpectralRadius, WeightInitializer
from psychrnn.backend.models.basic import Basic
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

out = inputs["outdir"]
task = PerceptualDiscrimination(dt=10, tau=100, T=60, N_batch=4)
train = {"training_iters": 12, "verbosity": False}   # two Adam steps


def params(name, N_rec, **extra):
    p = dict(task.get_task_params())
    p.update(name=name, N_rec=N_rec)
    p.update(extra)
    return p


def record(prefix, model, caught=()):
    w = model.get_weights()
    for k in ("W_in", "W_rec", "W_out", "b_rec", "b_out", "init_state"):
        outputs[prefix + ":" + k] = w[k]
    r = w["dale_ratio"]
    outputs[prefix + ":dale_ratio"] = np.asarray(np.nan if r is None else float(r))
    msgs = [str(c.message) for c in caught
            if issubclass(c.category, UserWarning) and "psychrnn" in (c.filename or "")]
    outputs[prefix + ":warnings"] = np.asarray("\n".join(msgs))


def load(prefix, path, N_rec, **extra):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = Basic(params(prefix, N_rec, load_weights_path=path, **extra))
        record(prefix, model, caught)
    return model


# 1. Files written by jaxinit, loaded by PsychRNN.
for case in inputs["cases"]:
    name, path, n_rec = case["name"], case["path"], case["N_rec"]
    init = WeightInitializer(load_weights_path=path)
    outputs[name + ":keys"] = np.asarray(sorted(init.initializations))
    model = load(name, path, n_rec, N_in=case["N_in"], N_out=case["N_out"])
    if case["train"]:
        model.train(task, train)
        record(name + ":trained", model)
        model.save(case["resave"])
    model.destruct()

# The edit of PsychRNN's SavingLoadingWeights notebook, on a jaxinit file.
d = dict(np.load(inputs["edit_from"], allow_pickle=True))
d["W_rec"] = d["W_rec"] * 0.5
d["b_rec"] = d["b_rec"] + 0.25
np.savez(out + "/edited.npz", **d)
load("edited", out + "/edited.npz", 9, N_in=3).destruct()

# 2. Files written by PsychRNN, for jaxinit to load.
rng = np.random.default_rng(0)
m = (rng.random((16, 16)) < 0.5).astype(float)
model = Basic(params("ps_dale", 16, dale_ratio=0.8, rec_connectivity=m, autapses=False))
model.train(task, train)
model.save(out + "/ps_dale.npz")
record("ps_dale", model)
model.destruct()

model = Basic(params("ps_nodale", 10))
model.save(out + "/ps_nodale.npz")
record("ps_nodale", model)
model.destruct()

for name, ratio in (("ps_init", None), ("ps_init_dale", 0.75)):
    GaussianSpectralRadius(N_in=2, N_rec=10, N_out=2, dale_ratio=ratio, autapses=False,
                           rec_connectivity=(rng.random((10, 10)) < 0.7).astype(float)
                           ).save(out + "/" + name + ".npz")
    load(name, out + "/" + name + ".npz", 10).destruct()

saved = dict(np.load(out + "/ps_dale.npz", allow_pickle=True))
legacy = {k: v for k, v in saved.items() if k != "dale_ratio"}
np.savez(out + "/ps_legacy.npz", **legacy)
load("ps_legacy", out + "/ps_legacy.npz", 16).destruct()

np.savez(out + "/ps_zero.npz", **dict(saved, dale_ratio=np.float64(0.0)))
load("ps_zero", out + "/ps_zero.npz", 16).destruct()

# A file as PsychRNN's development branch writes it: a pickled transfer function.
nodale = dict(np.load(out + "/ps_nodale.npz", allow_pickle=True))
np.savez(out + "/ps_tanh.npz", **dict(nodale, transfer_function=tf.nn.tanh))
load("ps_tanh", out + "/ps_tanh.npz", 10).destruct()
"""


@pytest.fixture(scope="module")
def interop(tmp_path_factory):
    """Run PsychRNN once on every case; returns (folder, cases, outputs)."""
    folder = tmp_path_factory.mktemp("interop")
    cases = _jaxinit_cases()
    listed = []
    for name, (params, recipe) in cases.items():
        with jax.enable_x64(params.W_rec.dtype == jnp.float64):
            path = jaxinit.save_npz(folder / name, recipe or params)
        listed.append(
            {
                "name": name,
                "path": str(path),
                "N_rec": params.N_rec,
                "N_in": params.N_in,
                "N_out": params.N_out,
                "train": name == "dale0",
                "resave": str(folder / f"{name}_resaved.npz"),
            }
        )
    outputs = run_psychrnn(
        _CHILD,
        folder / "child",
        values={"cases": listed, "outdir": str(folder), "edit_from": str(folder / "dale.npz")},
    )
    return folder, cases, outputs


def weights(outputs, prefix):
    return {k.split(":")[-1]: v for k, v in outputs.items() if k.rsplit(":", 1)[0] == prefix}


@pytest.mark.parametrize("name", ["dale", "nodale", "dale0", "dale1", "float64"])
def test_psychrnn_uses_the_effective_weights_of_a_jaxinit_file(interop, name):
    _, cases, outputs = interop
    params = cases[name][0]
    w = weights(outputs, name)
    with jax.enable_x64(params.W_rec.dtype == jnp.float64):
        assert_effective_close(params, w)
        for field in ("b_rec", "b_out"):
            np.testing.assert_allclose(w[field], np.asarray(getattr(params, field)), rtol=RTOL)
        np.testing.assert_allclose(
            w["init_state"], np.asarray(params.init_state)[None, :], rtol=RTOL
        )
    assert str(w["warnings"]) == ""  # PsychRNN loads the file without complaint
    # PsychRNN keeps the extra jaxinit entries in its dict and uses none of them.
    keys = set(outputs[name + ":keys"].tolist())
    assert {layout.METADATA_KEY, "jaxinit/raw/W_rec", "dale_ratio", *PSYCHRNN_NAMES} <= keys
    # PsychRNN holds None without Dale's law (NaN here), the tiny float for a ratio of 0
    expected_ratio = {"nodale": np.nan, "dale0": layout.TINY_RATIO}.get(name, params.dale_ratio)
    np.testing.assert_equal(float(w["dale_ratio"]), expected_ratio)


def test_dale_ratio_zero_stays_dale_in_psychrnn_training(interop):
    """A ratio of 0 (all inhibitory) is written so PsychRNN keeps Dale's law on."""
    _, _, outputs = interop
    w = weights(outputs, "dale0:trained")
    assert np.all(w["W_out"] == 0)  # inhibitory units never reach the outputs
    assert np.all(w["W_rec"] <= 0)
    assert np.all(w["W_in"] >= 0)
    # it did train (only b_out can: no unit reaches the outputs, so nothing else gets a gradient)
    assert np.any(w["b_out"] != weights(outputs, "dale0")["b_out"])


def test_trained_and_resaved_by_psychrnn_loads_back(interop):
    folder, cases, outputs = interop
    loaded = jaxinit.load_npz(folder / "dale0_resaved.npz")
    trained = weights(outputs, "dale0:trained")
    assert_effective_close(loaded, trained)
    assert loaded.dale_ratio == 0.0  # PsychRNN saved the value jaxinit writes for 0
    np.testing.assert_array_equal(loaded.init_state, trained["init_state"][0])
    np.testing.assert_array_equal(loaded.b_out, trained["b_out"])
    # the Dale signs of the jaxinit network survive the PsychRNN round trip
    np.testing.assert_array_equal(loaded.dale_rec_diag, cases["dale0"][0].dale_rec_diag)
    np.testing.assert_array_equal(loaded.dale_out_diag, cases["dale0"][0].dale_out_diag)


@pytest.mark.parametrize(
    "name", ["ps_dale", "ps_nodale", "ps_init", "ps_init_dale", "ps_zero", "ps_tanh"]
)
def test_psychrnn_files_load_with_the_weights_psychrnn_uses(interop, name):
    folder, _, outputs = interop
    if name == "ps_zero":  # 0.0 with excitatory units in Dale_rec: PsychRNN's "off"
        with pytest.warns(files.DaleRatioWarning, match="Dale_rec marks 12 units excitatory"):
            params = jaxinit.load_npz(folder / f"{name}.npz")
    else:
        params = jaxinit.load_npz(folder / f"{name}.npz")
    assert params.W_rec.dtype == jnp.float32
    assert_effective_close(params, weights(outputs, name))
    ratio = float(weights(outputs, name)["dale_ratio"])
    assert params.dale_ratio == (None if np.isnan(ratio) or ratio == 0 else ratio)
    assert params.transfer_function == ("tanh" if name == "ps_tanh" else "relu")


def test_psychrnn_files_keep_dale_out_as_psychrnn_writes_it(interop):
    folder, _, _ = interop
    p = jaxinit.load_npz(folder / "ps_init_dale.npz")
    # PsychRNN 1.0.0 writes Dale_out = Dale_rec (+1/-1); jaxinit keeps it as it is.
    assert set(np.asarray(p.dale_out_diag).tolist()) == {1.0, -1.0}
    assert np.any(np.asarray(jaxinit.effective(p).W_out) < 0)


def test_psychrnn_optimizer_slots_are_ignored(interop):
    folder, _, _ = interop
    keys = entries_keys(folder / "ps_dale.npz")
    assert any(k.endswith("/Adam") for k in keys)
    jaxinit.load_npz(folder / "ps_dale.npz")  # no error, no warning


def entries_keys(path):
    with zipfile.ZipFile(path) as z:
        return [n[:-4] for n in z.namelist()]


def test_legacy_psychrnn_file_warns_like_psychrnn(interop):
    folder, _, outputs = interop
    assert "old version" in str(outputs["ps_legacy:warnings"])
    with pytest.warns(jaxinit.LegacyFileWarning, match="no 'dale_ratio' entry"):
        params = jaxinit.load_npz(folder / "ps_legacy.npz")
    assert params.dale_ratio is None
    assert_effective_close(params, weights(outputs, "ps_legacy"))


def test_initializer_file_float64_when_asked(interop):
    folder, _, _ = interop
    raw = np.load(folder / "ps_init.npz", allow_pickle=True)["W_rec"]
    assert raw.dtype == np.float64
    with jax.enable_x64(True):
        p = jaxinit.load_npz(folder / "ps_init.npz", dtype="float64")
        assert bits_equal(p.W_rec, raw)
    with pytest.raises(ValueError, match="64-bit JAX"):
        jaxinit.load_npz(folder / "ps_init.npz", dtype="float64")


def test_pickled_entries_load_without_importing_anything(interop, tmp_path):
    folder, _, _ = interop
    code = textwrap.dedent(
        f"""
        import sys, jaxinit
        p = jaxinit.load_npz({str(folder / "ps_tanh.npz")!r})
        q = jaxinit.load_npz({str(folder / "ps_init.npz")!r})
        assert p.transfer_function == "tanh" and q.dale_ratio is None
        bad = [m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "psychrnn")]
        assert not bad, bad
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=_child_env(), timeout=120)


def test_transfer_function_override(interop):
    folder, _, _ = interop
    p = jaxinit.load_npz(folder / "ps_tanh.npz", transfer_function="relu")
    assert p.transfer_function == "relu"
    with pytest.raises(ValueError, match="transfer_function must be one of"):
        jaxinit.load_npz(folder / "ps_tanh.npz", transfer_function="swish")


def _child_env():
    root = str(Path(jaxinit.__file__).resolve().parent.parent)
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---------------------------------------------------------------------------
# The file layout
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def net():
    return _jaxinit_cases()["dale"][0]  # N_in=3, N_rec=9, N_out=2, dale_ratio=0.7


def test_layout_needs_no_pickle_and_matches_psychrnn(tmp_path, net):
    path = jaxinit.save_npz(tmp_path / "net.npz", net)
    e = entries(path)  # allow_pickle=False: nothing in the file is a pickle
    eff = jaxinit.effective(net)
    for name in ("W_in", "W_rec", "W_out"):
        assert bits_equal(e[name], getattr(eff, name))
        assert bits_equal(e["jaxinit/raw/" + name], getattr(net, name))
    assert e["init_state"].shape == (1, 9)
    assert bits_equal(e["Dale_rec"], np.diag(np.asarray(net.dale_rec_diag)))
    assert bits_equal(e["Dale_out"], np.diag(np.asarray(net.dale_out_diag)))
    assert e["dale_ratio"].dtype == np.float64 and e["dale_ratio"].shape == ()
    assert float(e["dale_ratio"]) == 0.7
    assert "transfer_function" not in e
    meta = json.loads(str(e[layout.METADATA_KEY]))
    assert meta["format"] == "jaxinit.npz" and meta["format_version"] == 2
    assert meta["params"]["dale_ratio"] == 0.7
    assert sorted(meta["entries"]) == sorted(PSYCHRNN_NAMES)
    assert meta["versions"]["jax"] == jax.__version__
    assert meta["provenance"] is None


def test_effective_entries_are_fixed_points_of_psychrnn_transform(tmp_path, net):
    """Masks, |.| and Dale applied again (as PsychRNN does) change nothing."""
    e = entries(jaxinit.save_npz(tmp_path / "net.npz", net))
    W_rec = np.abs(e["W_rec"] * e["rec_connectivity"]) @ e["Dale_rec"]
    W_in = np.abs(e["W_in"] * e["input_connectivity"])
    W_out = np.abs(e["W_out"] * e["output_connectivity"]) @ e["Dale_out"]
    np.testing.assert_array_equal(W_rec, e["W_rec"])
    np.testing.assert_array_equal(W_in, e["W_in"])
    np.testing.assert_array_equal(W_out, e["W_out"])


@pytest.mark.parametrize(
    ("given_name", "written"), [("net", "net.npz"), ("net.npz", "net.npz"), ("a.b", "a.b.npz")]
)
def test_suffix_like_numpy(tmp_path, net, given_name, written):
    path = jaxinit.save_npz(str(tmp_path / given_name), net)
    assert path == tmp_path / written
    assert sorted(os.listdir(tmp_path)) == [written]


def test_load_does_not_add_a_suffix(tmp_path, net):
    jaxinit.save_npz(tmp_path / "net", net)
    with pytest.raises(FileNotFoundError, match="did you mean"):
        jaxinit.load_npz(tmp_path / "net")
    with pytest.raises(FileNotFoundError):
        jaxinit.load_npz(tmp_path / "other.npz")


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dale", "nodale", "dale0", "dale1"])
def test_round_trip_every_initializer(tmp_path, name):
    p = _jaxinit_cases()[name][0]
    assert_same_params(p, jaxinit.load_npz(jaxinit.save_npz(tmp_path / name, p)))


def test_round_trip_float64(tmp_path):
    with jax.enable_x64(True):
        p = _jaxinit_cases()["float64"][0]
        q = jaxinit.load_npz(jaxinit.save_npz(tmp_path / "f64", p))
        assert_same_params(p, q)
        f32 = jaxinit.load_npz(tmp_path / "f64.npz", dtype="float32")
        assert f32.W_rec.dtype == jnp.float32
    with pytest.raises(ValueError, match="64-bit JAX"):
        jaxinit.load_npz(tmp_path / "f64.npz")


@st.composite
def networks(draw):
    n_in, n_rec, n_out = (draw(st.integers(1, 5)) for _ in range(3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    dale_ratio = draw(st.sampled_from([None, 0.0, 0.25, 0.5, 1.0]))
    special = np.array([0.0, -0.0, 1e-45, -3e38, 3e38, 1.0, -1.0], np.float32)

    def values(shape):
        x = rng.standard_normal(shape).astype(np.float32)
        pick = rng.random(shape) < 0.3
        x[pick] = rng.choice(special, size=int(pick.sum()))
        return x

    def binary(shape):
        return (rng.random(shape) < 0.6).astype(np.float32)

    if dale_ratio is None:
        rec, out = np.ones(n_rec, np.float32), np.ones(n_rec, np.float32)
    else:
        rec, out = (np.asarray(v) for v in jaxinit.dale_vectors(n_rec, dale_ratio))
    return jaxinit.Params(
        W_in=values((n_rec, n_in)),
        W_rec=values((n_rec, n_rec)),
        W_out=values((n_out, n_rec)),
        b_rec=values((n_rec,)),
        b_out=values((n_out,)),
        init_state=values((n_rec,)),
        input_connectivity=binary((n_rec, n_in)),
        rec_connectivity=binary((n_rec, n_rec)),
        output_connectivity=binary((n_out, n_rec)),
        dale_rec_diag=rec,
        dale_out_diag=out,
        dale_ratio=dale_ratio,
        transfer_function=draw(st.sampled_from(sorted(jaxinit.TRANSFER_FUNCTIONS))),
    )


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(p=networks())
def test_round_trip_is_bitwise(tmp_path, p):
    path = jaxinit.save_npz(tmp_path / "h.npz", p)
    q = jaxinit.load_npz(path)
    assert_same_params(jax.tree.map(jnp.asarray, p), q)
    e = entries(path)
    eff = jaxinit.effective(jax.tree.map(jnp.asarray, p))
    for name in ("W_in", "W_rec", "W_out"):
        assert bits_equal(e[name], getattr(eff, name)), name


def test_inputs_are_not_changed(tmp_path, net):
    m = mask(5, (9, 9))
    m_copy = m.copy()
    before = {n: np.array(getattr(net, n)) for n in ARRAY_FIELDS}
    _, recipe = _jaxinit_cases()["dale"]
    path = jaxinit.save_npz(
        tmp_path / "n",
        jaxinit.Recipe(
            "gaussian_spectral_radius", recipe.key, recipe.config, {"rec_connectivity": m}
        ),
    )
    np.testing.assert_array_equal(m, m_copy)
    for n in ARRAY_FIELDS:
        assert bits_equal(before[n], getattr(net, n))
    q = jaxinit.load_npz(path)
    q_arrays = q.arrays()
    assert all(isinstance(v, jax.Array) for v in q_arrays.values())


# ---------------------------------------------------------------------------
# Bad input when saving
# ---------------------------------------------------------------------------


def test_save_rejects_bad_arguments(tmp_path, net):
    with pytest.raises(TypeError, match=r"network must be a jaxinit\.Params or a jaxinit\.Recipe"):
        jaxinit.save_npz(tmp_path / "x", {"W_rec": np.eye(2)})
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
        jaxinit.save_npz(b"x.npz", net)
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
        jaxinit.save_npz(None, net)
    with pytest.raises(ValueError, match="path must not be empty"):
        jaxinit.save_npz("", net)
    assert os.listdir(tmp_path) == []


def test_save_refuses_ensembles(tmp_path, net):
    ens = jax.tree.map(lambda *xs: jnp.stack(xs), net, net.replace(W_rec=-net.W_rec), net)
    with pytest.raises(ValueError, match=r"ensemble of shape \(3,\)"):
        jaxinit.save_npz(tmp_path / "e", ens)
    one = jax.tree.map(lambda x: x[1], ens)
    assert bits_equal(one.W_rec, -net.W_rec)
    assert_same_params(one, jaxinit.load_npz(jaxinit.save_npz(tmp_path / "one", one)))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(W_rec=jnp.full((9, 9), jnp.nan)), "params.W_rec must be finite, got nan"),
        (
            dict(rec_connectivity=jnp.full((9, 9), 0.5)),
            r"params.rec_connectivity must hold only \[0, 1\], got 0.5",
        ),
        (
            dict(dale_rec_diag=jnp.zeros(9)),
            r"params.dale_rec_diag must hold only \[-1, 1\], got 0.0",
        ),
        (
            dict(dale_out_diag=jnp.full(9, 2.0)),
            r"params.dale_out_diag must hold only \[-1, 0, 1\], got 2.0",
        ),
        (dict(b_rec=jnp.zeros(8)), r"params.b_rec must have shape \(9,\)"),
        (dict(W_in=jnp.zeros((9, 0))), r"params.W_in must not be empty"),
        (dict(W_out=jnp.zeros(9)), "params.W_out must be a matrix"),
        (dict(dale_ratio=1.5), r"params.dale_ratio must be in \[0, 1\] or None, got 1.5"),
        (dict(dale_ratio="0.5"), "dale_ratio must be a real number"),
        (dict(transfer_function="swish"), "params.transfer_function must be one of"),
        (dict(b_out=jnp.zeros(2, jnp.int32)), "params.b_out has dtype int32"),
        (dict(W_rec=jnp.zeros((9, 9), jnp.bfloat16)), "params.W_rec must be float32 or float64"),
    ],
)
def test_save_rejects_bad_params(tmp_path, net, change, match):
    with pytest.raises((ValueError, TypeError), match=match):
        # dataclasses.replace: Params.replace itself refuses a change of shape
        jaxinit.save_npz(tmp_path / "bad", dataclasses.replace(net, **change))
    assert os.listdir(tmp_path) == []


def test_save_rejects_traced_params(tmp_path, net):
    def f(p):
        jaxinit.save_npz(tmp_path / "t", p)
        return p.W_rec

    with pytest.raises(TypeError, match=r"cannot run inside jax\.jit"):
        jax.jit(f)(net)


# ---------------------------------------------------------------------------
# Bad files when loading
# ---------------------------------------------------------------------------


@pytest.fixture
def good(tmp_path, net):
    return jaxinit.save_npz(tmp_path / "good.npz", net)


def rewrite(src, dst, drop=(), **changes):
    e = {k: v for k, v in entries(src).items() if k not in drop}
    e.update(changes)
    np.savez(dst, **e)
    return dst


def test_truncated_file(tmp_path, good):
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30, 0):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(jaxinit.NpzError, match=f"{bad}.*(not a valid .npz|corrupt|truncated)"):
            jaxinit.load_npz(bad)


def test_corrupt_member_names_the_entry(tmp_path, good):
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("W_rec.npy")
    data = bytearray(good.read_bytes())
    local = info.header_offset  # the local header: 30 bytes, then the name and extra field
    name_len = int.from_bytes(data[local + 26 : local + 28], "little")
    extra_len = int.from_bytes(data[local + 28 : local + 30], "little")
    start = local + 30 + name_len + extra_len
    data[start + info.file_size - 3] ^= 0xFF  # flip a byte of W_rec's data
    bad = tmp_path / "flip.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(jaxinit.NpzError, match="entry 'W_rec': is corrupt or truncated") as err:
        jaxinit.load_npz(bad)
    assert err.value.key == "W_rec" and err.value.path == str(bad)


def test_not_an_archive(tmp_path):
    bad = tmp_path / "x.npz"
    with open(bad, "wb") as f:
        np.save(f, np.zeros(3))  # a .npy under an .npz name
    with pytest.raises(jaxinit.NpzError, match=r"not a valid \.npz"):
        jaxinit.load_npz(bad)


def test_missing_entry(tmp_path, good):
    bad = rewrite(good, tmp_path / "m.npz", drop=("W_out", "b_out", layout.METADATA_KEY))
    with pytest.raises(
        jaxinit.NpzError, match=r"entry 'W_out': missing \(the file lacks 'W_out', 'b_out'\)"
    ):
        jaxinit.load_npz(bad)
    bad = rewrite(good, tmp_path / "r.npz", drop=("jaxinit/raw/W_in",))
    with pytest.raises(jaxinit.NpzError, match="entry 'jaxinit/raw/W_in': missing"):
        jaxinit.load_npz(bad)


@pytest.mark.parametrize(
    ("changes", "key", "match"),
    [
        (dict(W_in=np.zeros((9, 4), np.float32)), "input_connectivity", r"shape \(9, 4\)"),
        (dict(b_rec=np.zeros(3, np.float32)), "b_rec", r"must have shape \(9,\)"),
        (dict(init_state=np.zeros((2, 9), np.float32)), "init_state", "must have shape"),
        (dict(W_rec=np.zeros((9, 8), np.float32)), "W_rec", "must have shape"),
        (dict(b_out=np.array([np.inf, 0], np.float32)), "b_out", "must be finite, got inf"),
        (
            dict(rec_connectivity=np.full((9, 9), 2, np.float32)),
            "rec_connectivity",
            "must hold only",
        ),
        (dict(Dale_rec=np.ones((9, 9), np.float32)), "Dale_rec", "must be a diagonal matrix"),
        (dict(Dale_out=np.eye(9, dtype=np.float32) * 3), "Dale_out", "must hold only"),
        (dict(W_rec=np.array(["a"] * 81).reshape(9, 9)), "W_rec", "must hold real numbers"),
        (dict(W_rec=np.zeros((9, 9), complex)), "W_rec", "must hold real numbers"),
        (
            {"jaxinit/raw/W_rec": np.zeros((9, 9), np.float32)},
            "jaxinit/raw/W_rec",
            "does not give the file's W_rec",
        ),
        (
            {"jaxinit/raw/W_in": np.zeros((9, 3))},
            "jaxinit/raw/W_in",
            "has dtype float64 but the metadata records float32",
        ),
        ({"jaxinit/raw/W_out": np.zeros((3, 9), np.float32)}, "jaxinit/raw/W_out", "has shape"),
    ],
)
def test_inconsistent_jaxinit_files(tmp_path, good, changes, key, match):
    bad = rewrite(good, tmp_path / "bad.npz", **changes)
    with pytest.raises(jaxinit.NpzError, match=match) as err:
        jaxinit.load_npz(bad)
    assert err.value.key == key


def test_edited_after_saving_loads_what_psychrnn_runs(tmp_path, good):
    e = entries(good)
    bad = rewrite(good, tmp_path / "w.npz", W_rec=e["W_rec"] * 2)
    with pytest.warns(files.EditedFileWarning, match=r"entries 'W_rec' were changed") as caught:
        edited = jaxinit.load_npz(bad)
    assert "recipe recorded in the file no longer describes it" in str(caught[0].message)
    # exactly the ordinary PsychRNN file without the jaxinit entries
    drop = [k for k in e if k.startswith("jaxinit/")]
    plain = jaxinit.load_npz(rewrite(bad, tmp_path / "p.npz", drop=drop))
    np.testing.assert_array_equal(plain.W_rec, e["W_rec"] * 2)
    assert_same_params(plain, edited)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (dict(b_rec=np.zeros(9, np.float64)), "'b_rec'"),
        (dict(dale_ratio=np.float64(0.69)), "'dale_ratio'"),  # still 6 of 9 excitatory
        (dict(rec_connectivity=np.ones((9, 9), np.float32)), "'rec_connectivity'"),
        (dict(init_state=np.zeros(9, np.float32)), "'init_state'"),
    ],
)
def test_every_edited_psychrnn_entry_is_named(tmp_path, good, changes, named):
    bad = rewrite(good, tmp_path / "w.npz", **changes)
    with pytest.warns(files.EditedFileWarning, match=f"entries {named} were changed"):
        p = jaxinit.load_npz(bad)
    assert p.W_rec.dtype == jnp.float32  # the recorded dtype
    if "dale_ratio" in changes:
        assert p.dale_ratio == 0.69


def test_notebook_style_edit_loads_with_the_weights_psychrnn_uses(interop):
    """PsychRNN's SavingLoadingWeights notebook edits a weights file with numpy."""
    folder, cases, outputs = interop
    with pytest.warns(files.EditedFileWarning, match=r"'W_rec', 'b_rec' were changed"):
        params = jaxinit.load_npz(folder / "edited.npz")
    w = weights(outputs, "edited")
    assert str(w["warnings"]) == ""
    assert_effective_close(params, w)
    np.testing.assert_allclose(params.b_rec, w["b_rec"], rtol=RTOL)
    original = cases["dale"][0]
    np.testing.assert_allclose(params.b_rec, np.asarray(original.b_rec) + 0.25, rtol=RTOL)
    assert params.dale_ratio == original.dale_ratio
    # the recipe recorded in the file no longer describes it
    with (
        pytest.warns(files.EditedFileWarning),
        pytest.raises(files.NoRecipeError, match="no longer describes it"),
    ):
        jaxinit.reproduce(folder / "edited.npz")


def test_notebook_style_edit_without_pickles(tmp_path, good):
    """A file with Dale's law needs no pickle: the notebook's plain np.load works too."""
    d = dict(np.load(good))
    d["W_out"] = d["W_out"] * 3
    np.savez(tmp_path / "e.npz", **d)
    with pytest.warns(files.EditedFileWarning, match="'W_out'"):
        p = jaxinit.load_npz(tmp_path / "e.npz")
    np.testing.assert_array_equal(jaxinit.effective(p).W_out, d["W_out"])


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ('{"format": "jaxinit.npz"', "is not valid JSON"),
        ('{"format": "other"}', "is not jaxinit metadata"),
        ('{"format": "jaxinit.npz", "format_version": 99}', "format version 99"),
        ('{"format": "jaxinit.npz", "format_version": 1}', "incomplete or invalid"),
        ('{"format": "jaxinit.npz", "format_version": true}', "format version True"),
    ],
)
def test_bad_metadata(tmp_path, good, value, match):
    bad = rewrite(good, tmp_path / "meta.npz", **{layout.METADATA_KEY: np.asarray(value)})
    with pytest.raises(jaxinit.NpzError, match=match) as err:
        jaxinit.load_npz(bad)
    assert err.value.key == layout.METADATA_KEY


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (np.asarray(None, dtype=object), None),
        (np.float32(0.5), 0.5),
        (np.array([0.25]), 0.25),
        (np.bool_(False), None),
        (np.int64(1), 1.0),
        (np.float64(np.finfo(np.float64).tiny), 0.0),
    ],
)
def test_psychrnn_dale_ratio_forms(tmp_path, good, ratio, expected):
    plain = {k: v for k, v in entries(good).items() if not k.startswith("jaxinit/")}
    if expected is not None:  # Dale signs that agree with the ratio: int(ratio * 9) excitatory
        signs = np.where(np.arange(9) < int(expected * 9), 1.0, -1.0).astype(np.float32)
        plain["Dale_rec"] = np.diag(signs)
    path = tmp_path / "r.npz"
    np.savez(path, **dict(plain, dale_ratio=ratio))
    assert jaxinit.load_npz(path).dale_ratio == expected


@pytest.mark.parametrize(
    ("ratio", "match"),
    [
        (np.float64(1.5), "got 1.5"),
        (np.float64(np.nan), "got nan"),
        (np.zeros(2), "single value"),
        (np.asarray("0.5"), "got '0.5'"),
        (np.bool_(True), "got True"),
    ],
)
def test_bad_psychrnn_dale_ratio(tmp_path, good, ratio, match):
    plain = {k: v for k, v in entries(good).items() if not k.startswith("jaxinit/")}
    path = tmp_path / "r.npz"
    np.savez(path, **dict(plain, dale_ratio=ratio))
    with pytest.raises(jaxinit.NpzError, match=f"entry 'dale_ratio': .*{match}"):
        jaxinit.load_npz(path)


def test_load_rejects_bad_arguments(good):
    with pytest.raises(ValueError, match="dtype must be 'float32', 'float64' or None, got 'int32'"):
        jaxinit.load_npz(good, dtype="int32")
    with pytest.raises(TypeError, match="dtype must be"):
        jaxinit.load_npz(good, dtype=object())
    with pytest.raises(TypeError, match=r"path must be a str or os\.PathLike"):
        jaxinit.load_npz(3)
    with pytest.raises(IsADirectoryError):
        jaxinit.load_npz(good.parent)


# ---------------------------------------------------------------------------
# Security: loading never runs code from the file
# ---------------------------------------------------------------------------


class _Payload:
    """Unpickling this calls os.mkdir(marker): proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _evil_object_array(marker):
    array = np.empty((), dtype=object)
    array[()] = _Payload(marker)
    return array


@pytest.mark.parametrize("key", ["dale_ratio", "transfer_function", "W_rec", layout.METADATA_KEY])
def test_crafted_pickle_never_runs(tmp_path, good, key):
    marker = tmp_path / "pwned"
    # jaxinit's own files take the transfer function from the metadata: use a PsychRNN file
    drop = (
        [k for k in entries(good) if k.startswith("jaxinit/")] if key == "transfer_function" else ()
    )
    bad = rewrite(good, tmp_path / "evil.npz", drop=drop, **{key: _evil_object_array(marker)})
    with pytest.raises(jaxinit.NpzError) as err:
        jaxinit.load_npz(bad)
    assert err.value.key == key
    assert not marker.exists()
    if key in ("dale_ratio", "transfer_function"):
        assert isinstance(err.value, jaxinit.UnsafePickleError)
        assert "posix.mkdir" in str(err.value) or "os.mkdir" in str(err.value)
    # the same file plainly loaded with pickles allowed does run the payload
    with np.load(bad, allow_pickle=True) as f:
        f[key]
    assert marker.exists()


def test_crafted_pickle_in_psychrnn_file_never_runs(tmp_path, good):
    marker = tmp_path / "pwned"
    plain = {k: v for k, v in entries(good).items() if not k.startswith("jaxinit/")}
    path = tmp_path / "evil.npz"
    np.savez(
        path,
        **dict(
            plain,
            dale_ratio=_evil_object_array(marker),
            **{"W_rec/Adam": _evil_object_array(marker)},
        ),
    )
    with pytest.raises(
        jaxinit.UnsafePickleError, match=r"entry 'dale_ratio'.*not on jaxinit's allow-list"
    ):
        jaxinit.load_npz(path)
    assert not marker.exists()
    # unknown entries (optimizer slots, ...) are never even read
    np.savez(path, **dict(plain, **{"W_rec/Adam": _evil_object_array(marker)}))
    jaxinit.load_npz(path)
    assert not marker.exists()


def _handmade_npy(payload: bytes) -> bytes:
    fp = io.BytesIO()
    np.lib.format.write_array_header_1_0(fp, {"descr": "|O", "fortran_order": False, "shape": ()})
    return fp.getvalue() + payload


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (
            b"\x80\x02cbuiltins\neval\nq\x00X\x04\x00\x00\x001+1q\x01\x85q\x02Rq\x03.",
            "builtins.eval",
        ),
        (b"\x80\x02X\x01\x00\x00\x00aq\x00Q.", "persistent ids"),
        (b"\x80\x02ctensorflow.python.ops.gen_nn_ops\nrelu\nq\x00)Rq\x01.", "cannot read safely"),
        (b"\x80\x02N.", "not a one-element NumPy object array"),
        # BUILD on a function reference (to turn it into os.system) is refused
        (
            b"\x80\x02ctensorflow.python.ops.gen_nn_ops\nrelu\n}X\x06\x00\x00\x00module"
            b"X\x02\x00\x00\x00ossb.",
            "cannot read safely",
        ),
        (b"\x80\x02cnumpy._core.multiarray\n_reconstruct\n}b.", "cannot read safely"),
        (b"\x80\x02", "cannot read safely"),
    ],
)
def test_handmade_pickles_are_refused(tmp_path, good, payload, match):
    plain = {k: v for k, v in entries(good).items() if not k.startswith("jaxinit/")}
    path = tmp_path / "h.npz"
    np.savez(path, **{k: v for k, v in plain.items() if k != "dale_ratio"})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("dale_ratio.npy", _handmade_npy(payload))
    with pytest.raises(jaxinit.NpzError, match=match):
        jaxinit.load_npz(path)


def test_unknown_transfer_function_reference(tmp_path, good):
    plain = {k: v for k, v in entries(good).items() if not k.startswith("jaxinit/")}
    path = tmp_path / "t.npz"
    np.savez(path, **dict(plain, transfer_function=np.asarray("swish")))
    with pytest.raises(jaxinit.NpzError, match="pass transfer_function="):
        jaxinit.load_npz(path)
    assert jaxinit.load_npz(path, transfer_function="tanh").transfer_function == "tanh"
    np.savez(path, **dict(plain, transfer_function=np.asarray("sigmoid")))
    assert jaxinit.load_npz(path).transfer_function == "sigmoid"


# ---------------------------------------------------------------------------
# Atomic saving
# ---------------------------------------------------------------------------


def test_failed_save_leaves_previous_file(tmp_path, net, monkeypatch):
    path = jaxinit.save_npz(tmp_path / "net.npz", net)
    before = path.read_bytes()

    def broken(file, data):
        file.write(b"PK\x03\x04 half an archive")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(archive, "write_entries", broken)
    other = net.replace(W_rec=net.W_rec * 2)
    with pytest.raises(RuntimeError, match="disk on fire"):
        jaxinit.save_npz(path, other)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["net.npz"]  # the temporary file was removed
    with pytest.raises(RuntimeError):
        jaxinit.save_npz(tmp_path / "new.npz", other)
    assert os.listdir(tmp_path) == ["net.npz"]


_KILLED_WRITER = r"""
import sys, time
import numpy as np
import jaxinit
from jaxinit._src.files import archive

n = 1024
rng = np.random.default_rng(0)
ones = lambda *s: np.ones(s, np.float32)
params = jaxinit.Params(
    W_in=ones(n, 2), W_rec=rng.standard_normal((n, n)).astype(np.float32), W_out=ones(1, n),
    b_rec=ones(n), b_out=ones(1), init_state=ones(n), input_connectivity=ones(n, 2),
    rec_connectivity=ones(n, n), output_connectivity=ones(1, n), dale_rec_diag=ones(n),
    dale_out_diag=ones(n))
real_write = archive.write_entries

class Stalling:
    # a file object that stalls forever once 1 MB of the archive is written
    def __init__(self, f):
        self.f, self.n = f, 0
    def write(self, b):
        written = self.f.write(b)
        self.n += len(b)
        if self.n > 2**20:
            self.f.flush()
            print("WRITING", flush=True)
            time.sleep(600)
        return written
    def __getattr__(self, name):
        return getattr(self.f, name)

archive.write_entries = lambda f, entries: real_write(Stalling(f), entries)
jaxinit.save_npz(sys.argv[1], params)
"""


def test_save_killed_mid_write_leaves_previous_file(tmp_path, net):
    path = jaxinit.save_npz(tmp_path / "net.npz", net)
    before = path.read_bytes()
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "WRITING", proc.stderr.read()
        temps = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
        assert len(temps) == 1 and os.path.getsize(tmp_path / temps[0]) > 2**20 // 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    assert_same_params(net, jaxinit.load_npz(path))


def test_save_keeps_mode_and_writes_through_symlinks(tmp_path, net):
    path = jaxinit.save_npz(tmp_path / "net.npz", net)
    os.chmod(path, 0o600)
    jaxinit.save_npz(path, net)
    assert (os.stat(path).st_mode & 0o777) == 0o600
    link = tmp_path / "link.npz"
    link.symlink_to(path)
    jaxinit.save_npz(link, net.replace(b_out=net.b_out + 1))
    assert link.is_symlink()
    np.testing.assert_array_equal(jaxinit.load_npz(path).b_out, net.b_out + 1)


def test_file_passes_the_development_branch_loading_steps(tmp_path):
    """PsychRNN's development branch (not on PyPI, so not installable here) loads a
    file as ``dict(np.load(path, allow_pickle=True))``, calls ``.item()`` on
    ``dale_ratio`` when it is an array, and calls ``.item()`` on a
    ``transfer_function`` entry when present, else warns and takes the model's
    function (see ../shared/reference/psychrnn_initializations_source.txt).
    Check those steps on a jaxinit file."""
    cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=1, dale_ratio=0.5)
    params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
    path = jaxinit.save_npz(tmp_path / "net.npz", params)
    with np.load(path, allow_pickle=True) as f:
        loaded = dict(f)
    assert isinstance(loaded["dale_ratio"], np.ndarray)
    assert loaded["dale_ratio"].item() == 0.5
    assert "transfer_function" not in loaded  # the branch then warns and uses the model's
    eff = jaxinit.effective(params)
    for name in ("W_in", "W_rec", "W_out"):
        np.testing.assert_array_equal(loaded[name], np.asarray(getattr(eff, name)))
