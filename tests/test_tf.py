"""Tests of jaxinit.tf: TensorFlow / Keras initializers and the PsychRNN shim.

TensorFlow runs eagerly in this process; real PsychRNN (which switches eager
mode off when imported) runs only in a child process, through
``psychrnn_support.run_psychrnn``, with all its cases in one child.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import functools
import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import jaxinit  # noqa: E402
import jaxinit.tf as jtf  # noqa: E402
from jaxinit._src.transfer import transfer_function_name  # noqa: E402
from tests.psychrnn_support import run_psychrnn  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
NAMES = jtf.NAMES
WEIGHT_NAMES = ("W_in", "W_rec", "W_out")
MASK_NAMES = ("input_connectivity", "rec_connectivity", "output_connectivity")


# ----------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------


def _masks(seed, n_in, n_rec, n_out, p=0.7):
    rng = np.random.default_rng(seed)
    m_in = (rng.random((n_rec, n_in)) < p).astype(np.float32)
    m_rec = (rng.random((n_rec, n_rec)) < p).astype(np.float32)
    m_out = (rng.random((n_out, n_rec)) < p).astype(np.float32)
    m_rec[np.arange(n_rec), (np.arange(n_rec) + 1) % n_rec] = 1.0  # no empty row
    return {"input_connectivity": m_in, "rec_connectivity": m_rec, "output_connectivity": m_out}


@functools.cache
def _networks(n_in=2, n_rec=12, n_out=2) -> dict[str, jaxinit.Params]:
    """The networks sent through PsychRNN (N_in = N_out = 2 fit its tasks); do not mutate."""
    key = jax.random.key(7)
    k = jax.random.split(key, 6)
    sizes = {"N_in": n_in, "N_rec": n_rec, "N_out": n_out}
    masks = _masks(1, n_in, n_rec, n_out)
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
            **_masks(2, n_in, n_rec, n_out),
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


@pytest.fixture(scope="module")
def net() -> jaxinit.Params:
    """A small network with Dale's law, masks and no autapses; N_in != N_rec != N_out."""
    cfg = jaxinit.Config(N_in=3, N_rec=5, N_out=2, dale_ratio=0.6, autapses=False)
    return jaxinit.gaussian_spectral_radius(jax.random.key(3), cfg, **_masks(4, 3, 5, 2))


def _raw(params) -> dict[str, np.ndarray]:
    """The eleven arrays in PsychRNN's names and layout, raw weights."""
    out = {name: np.asarray(getattr(params, name)) for name in NAMES if not name.startswith("Dale")}
    out["Dale_rec"] = np.diag(np.asarray(params.dale_rec_diag))
    out["Dale_out"] = np.diag(np.asarray(params.dale_out_diag))
    return out


def _shape(params, name):
    return _raw(params)[name].shape


def _psychrnn_transform(arrays, dale_ratio):
    """PsychRNN 1.0.0's effective weights (rnn.py get_effective_*), in numpy."""
    W_in = arrays["W_in"] * arrays["input_connectivity"]
    W_rec = arrays["W_rec"] * arrays["rec_connectivity"]
    W_out = arrays["W_out"] * arrays["output_connectivity"]
    if dale_ratio:
        W_in = np.abs(W_in)
        W_rec = np.abs(W_rec) @ arrays["Dale_rec"]
        W_out = np.abs(W_out) @ arrays["Dale_out"]
    return W_in, W_rec, W_out


def _assert_effective(got, params, rtol=1e-6, atol=1e-7):
    eff = jaxinit.effective(params)
    for name, want in zip(WEIGHT_NAMES, eff, strict=True):
        np.testing.assert_allclose(got[name], np.asarray(want), rtol=rtol, atol=atol, err_msg=name)


# ----------------------------------------------------------------------------
# Import hygiene
# ----------------------------------------------------------------------------


def test_import_jaxinit_does_not_import_tensorflow():
    code = "import jaxinit, sys; assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]


# ----------------------------------------------------------------------------
# initializers(): eager, graph, Keras
# ----------------------------------------------------------------------------


def test_eager_variables_equal_arrays(net):
    inits = jtf.initializers(net)
    assert tuple(inits) == NAMES
    want = _raw(net)
    for name in NAMES:
        var = tf.Variable(inits[name](want[name].shape, tf.float32))
        assert var.dtype == tf.float32
        np.testing.assert_array_equal(var.numpy(), want[name].astype(np.float32), err_msg=name)
        # dtype defaults to float32; float64 is also served
        assert inits[name](want[name].shape).dtype == tf.float32
        np.testing.assert_array_equal(
            inits[name](want[name].shape, "float64").numpy(), want[name].astype(np.float64)
        )


@pytest.mark.parametrize("source", ["initializers", "psychrnn_initializer"])
def test_graph_mode_get_variable(net, source):
    if source == "initializers":
        get = jtf.initializers(net).__getitem__
    else:
        get = jtf.psychrnn_initializer(net).get
    want = _raw(net)
    # PsychRNN asks for init_state as (1, N_rec)
    shapes = {name: list(want[name].shape) for name in NAMES}
    shapes["init_state"] = [1, net.N_rec]
    graph = tf.Graph()
    with graph.as_default():
        with tf.compat.v1.variable_scope("net"):
            variables = {
                name: tf.compat.v1.get_variable(name, shapes[name], initializer=get(name))
                for name in NAMES
            }
        with tf.compat.v1.Session(graph=graph) as sess:
            sess.run(tf.compat.v1.global_variables_initializer())
            values = sess.run(variables)
    assert tf.executing_eagerly()  # graph mode stayed inside the context
    for name in NAMES:
        expected = want[name].reshape(shapes[name]).astype(np.float32)
        np.testing.assert_array_equal(values[name], expected, err_msg=name)


def test_names_are_psychrnns():
    from jaxinit._src.names import PSYCHRNN_NAMES

    assert set(NAMES) == set(PSYCHRNN_NAMES) and len(NAMES) == 11


def test_float64_params_export_exactly():
    with jax.enable_x64(True):
        cfg = jaxinit.Config(N_in=2, N_rec=4, N_out=1, dale_ratio=0.5, dtype="float64")
        params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
        inits = jtf.initializers(params)
        want = _raw(params)
    for name in NAMES:
        assert inits[name].value.dtype == np.float64, name
        got = inits[name](want[name].shape, tf.float64).numpy()
        np.testing.assert_array_equal(got, want[name], err_msg=name)
        np.testing.assert_array_equal(
            inits[name](want[name].shape).numpy(), want[name].astype(np.float32)
        )


def test_keras_layers_with_keras_layout(net):
    k = jtf.initializers(net, layout="keras")
    raw = _raw(net)
    dense_in = tf.keras.layers.Dense(
        net.N_rec, kernel_initializer=k["W_in"], bias_initializer=k["b_rec"]
    )
    dense_in.build((None, net.N_in))
    np.testing.assert_array_equal(dense_in.kernel.numpy(), raw["W_in"].T)
    np.testing.assert_array_equal(dense_in.bias.numpy(), raw["b_rec"])

    dense_out = tf.keras.layers.Dense(
        net.N_out, kernel_initializer=k["W_out"], bias_initializer=k["b_out"]
    )
    dense_out.build((None, net.N_rec))
    np.testing.assert_array_equal(dense_out.kernel.numpy(), raw["W_out"].T)
    np.testing.assert_array_equal(dense_out.bias.numpy(), raw["b_out"])

    rnn = tf.keras.layers.SimpleRNN(
        net.N_rec,
        kernel_initializer=k["W_in"],
        recurrent_initializer=k["W_rec"],
        bias_initializer=k["b_rec"],
    )
    rnn.build((None, 4, net.N_in))
    kernel, recurrent, bias = rnn.get_weights()
    np.testing.assert_array_equal(kernel, raw["W_in"].T)
    np.testing.assert_array_equal(recurrent, raw["W_rec"].T)
    np.testing.assert_array_equal(bias, raw["b_rec"])

    # masks transpose with their weights; Dale matrices, biases, init_state do not
    for name in ("input_connectivity", "rec_connectivity", "output_connectivity"):
        np.testing.assert_array_equal(k[name].value, raw[name].T)
    for name in ("Dale_rec", "Dale_out", "b_rec", "b_out", "init_state"):
        np.testing.assert_array_equal(k[name].value, raw[name])


def test_keras_rejects_psychrnn_layout_kernel(net):
    dense = tf.keras.layers.Dense(net.N_rec, kernel_initializer=jtf.initializers(net)["W_in"])
    with pytest.raises(ValueError, match=r"W_in.*\(5, 3\).*\(3, 5\)"):
        dense.build((None, net.N_in))


def test_config_round_trip(net, tmp_path):
    for name, init in jtf.initializers(net).items():
        config = init.get_config()
        again = jtf.ArrayInitializer.from_config(json.loads(json.dumps(config)))
        assert again.name == name
        shape = init.shape
        np.testing.assert_array_equal(
            again(shape, tf.float32).numpy(), init(shape, tf.float32).numpy(), err_msg=name
        )
        np.testing.assert_array_equal(again.value, init.value)
        clone = tf.keras.initializers.deserialize(tf.keras.initializers.serialize(init))
        assert isinstance(clone, jtf.ArrayInitializer)
        np.testing.assert_array_equal(clone.value, init.value)

    # a Keras layer (and a saved model) that uses it deserialises
    k = jtf.initializers(net, layout="keras")
    layer = tf.keras.layers.Dense(net.N_rec, kernel_initializer=k["W_in"], use_bias=False)
    rebuilt = tf.keras.layers.Dense.from_config(layer.get_config())
    rebuilt.build((None, net.N_in))
    np.testing.assert_array_equal(rebuilt.kernel.numpy(), np.asarray(net.W_in).T)

    model = tf.keras.Sequential([tf.keras.Input((net.N_in,)), layer])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert isinstance(loaded.layers[0].kernel_initializer, jtf.ArrayInitializer)
    np.testing.assert_array_equal(loaded.layers[0].kernel.numpy(), np.asarray(net.W_in).T)


def test_shape_and_dtype_errors(net):
    inits = jtf.initializers(net)
    with pytest.raises(ValueError, match=r"W_rec: holds an array of shape \(5, 5\).*\(5, 4\)"):
        inits["W_rec"]((5, 4), tf.float32)
    with pytest.raises(ValueError, match=r"W_rec.*fully known"):
        inits["W_rec"]((None, 5), tf.float32)
    with pytest.raises(ValueError, match="init_state"):
        inits["init_state"]((2, 5), tf.float32)
    with pytest.raises(ValueError, match="b_out"):
        inits["b_out"]((5,), tf.float32)
    with pytest.raises(TypeError, match="W_in: dtype must be a floating dtype, got int32"):
        inits["W_in"]((5, 3), tf.int32)
    with pytest.raises(TypeError, match="W_in: dtype"):
        inits["W_in"]((5, 3), "not-a-dtype")
    with pytest.raises(TypeError, match="W_in: shape"):
        inits["W_in"]("abc", tf.float32)
    # leading size-1 axes are fine (PsychRNN's (1, N_rec) init_state)
    assert inits["init_state"]((1, 5), tf.float32).shape == (1, 5)
    assert inits["init_state"]([5], tf.float32).shape == (5,)
    assert inits["W_in"](tf.TensorShape([5, 3]), tf.float32).shape == (5, 3)


def test_bad_arguments(net):
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params, got dict"):
        jtf.initializers({"W_rec": np.eye(2)})
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params"):
        jtf.psychrnn_initializer(None)
    ensemble = jax.tree.map(lambda x: jnp.stack([x, x]), net)
    with pytest.raises(ValueError, match=r"ensemble \(leading axes \(2,\)\)"):
        jtf.initializers(ensemble)
    with pytest.raises(ValueError, match=r"ensemble"):
        jtf.psychrnn_initializer(ensemble)
    with pytest.raises(ValueError, match=r"weights must be one of .* got 'masked'"):
        jtf.initializers(net, weights="masked")
    with pytest.raises(ValueError, match=r"layout must be one of .* got 'torch'"):
        jtf.initializers(net, layout="torch")
    with pytest.raises(ValueError, match=r"params.b_rec must have shape \(5,\), got \(4,\)"):
        jtf.initializers(net.replace(b_rec=jnp.zeros(4)))
    with pytest.raises(ValueError, match=r"transfer_function must be one of .* got 'swish'"):
        jtf.initializers(net.replace(transfer_function="swish"))
    half = net.replace(rec_connectivity=net.rec_connectivity * 0.5)
    with pytest.raises(ValueError, match=r"rec_connectivity must hold only 0 and 1.*0.5"):
        jtf.initializers(half, weights="effective")
    jtf.initializers(half)  # raw weights do not need 0/1 masks

    with pytest.raises(TypeError, match="W must be an array of real numbers"):
        jtf.ArrayInitializer("abc", name="W")
    with pytest.raises(TypeError, match="value must be an array of real numbers"):
        jtf.ArrayInitializer(None)
    with pytest.raises(TypeError, match="complex"):
        jtf.ArrayInitializer(np.ones(2, complex))
    with pytest.raises(ValueError, match="W must be finite, got nan"):
        jtf.ArrayInitializer([1.0, np.nan], name="W")
    with pytest.raises(TypeError, match="name must be a string or None, got 3"):
        jtf.ArrayInitializer([1.0], name=3)

    init = jtf.psychrnn_initializer(net)
    with pytest.raises(ValueError, match=r"tensor_name must be one of .* got 'W_foo'"):
        init.get("W_foo")
    with pytest.raises(ValueError, match="tensor_name"):
        init.get("dale_ratio")
    with pytest.raises(TypeError, match=r"save_path must be a str or os\.PathLike, got 3"):
        init.save(3)
    with pytest.raises(ValueError, match="transfer_function must be one of"):
        jtf.tf_transfer_function("gelu")

    for key in ("N_rec", "initializer", "transfer_function"):
        with pytest.raises(TypeError, match=f"psychrnn_params sets '{key}' from params"):
            jtf.psychrnn_params(net, **{key: 1})
    with pytest.raises(TypeError, match="takes dale_ratio from params"):
        jtf.psychrnn_params(net, dale_ratio=0.8)
    for key in ("W_rec", "load_weights_path"):
        with pytest.raises(TypeError, match=f"got {key}="):
            jtf.psychrnn_params(net, **{key: np.eye(5)})


def test_nothing_is_mutated(net):
    before = {k: np.array(v) for k, v in net.arrays().items()}
    init = jtf.psychrnn_initializer(net)
    for name in NAMES:
        init.initializations[name] *= 0  # the dict holds copies
        assert init.initializations[name].flags.writeable
    inits = jtf.initializers(net, layout="keras")
    for name, init_ in inits.items():
        assert not init_.value.flags.writeable, name
    for k, v in net.arrays().items():
        np.testing.assert_array_equal(np.asarray(v), before[k], err_msg=k)

    source = np.arange(4.0).reshape(2, 2)
    held = jtf.ArrayInitializer(source, name="S")
    source[0, 0] = 99.0
    assert held.value[0, 0] == 0.0
    model_params = {"name": "m", "dt": 10}
    out = jtf.psychrnn_params(net, **model_params)
    assert model_params == {"name": "m", "dt": 10}
    assert out["name"] == "m" and out["initializer"].N_rec == net.N_rec
    assert "dale_ratio" not in out


# ----------------------------------------------------------------------------
# Which weights are handed over
# ----------------------------------------------------------------------------


def test_weights_modes():
    nets = _networks()
    for case, params in nets.items():
        raw = _raw(params)
        eff = [np.asarray(w) for w in jaxinit.effective(params)]
        chosen = jtf.initializers(params)
        forced_raw = jtf.initializers(params, weights="raw")
        forced_eff = jtf.initializers(params, weights="effective")
        hand_effective = params.dale_ratio == 0
        for name, eff_w in zip(WEIGHT_NAMES, eff, strict=True):
            np.testing.assert_array_equal(forced_raw[name].value, raw[name])
            np.testing.assert_array_equal(forced_eff[name].value, eff_w)
            want = eff_w if hand_effective else raw[name]
            np.testing.assert_array_equal(chosen[name].value, want, err_msg=f"{case} {name}")

        # PsychRNN's transform, with the ratio the shim reports, gives effective(params)
        init = jtf.psychrnn_initializer(params)
        arrays = {n: init.initializations[n] for n in NAMES}
        got = dict(
            zip(WEIGHT_NAMES, _psychrnn_transform(arrays, init.get_dale_ratio()), strict=True)
        )
        _assert_effective(got, params)
        # effective weights are a fixed point of the transform, Dale or not
        eff_arrays = {n: forced_eff[n].value for n in NAMES}
        for ratio in (None, 0.0, params.dale_ratio):
            got = dict(zip(WEIGHT_NAMES, _psychrnn_transform(eff_arrays, ratio), strict=True))
            _assert_effective(got, params)


def test_zero_dale_ratio_is_tiny_and_dale_on(tmp_path):
    from jaxinit._src.npz import psychrnn_dale_ratio

    tiny = float(np.finfo(np.float64).tiny)
    assert psychrnn_dale_ratio(0.0) == tiny  # the value save_npz writes for a ratio of 0
    params = _networks()["alpha_dale0"]
    assert params.dale_ratio == 0.0
    init = jtf.psychrnn_initializer(params)
    ratio = init.get_dale_ratio()
    assert type(ratio) is float and ratio == tiny and ratio > 0.0
    assert init.initializations["dale_ratio"] is ratio
    # PsychRNN: `if dale_ratio:` applies Dale's law, with int(ratio * N) = 0 excitatory units
    assert bool(ratio) is True
    assert int(ratio * params.N_rec) == 0
    assert f"dale_ratio={tiny!r}" in repr(init)
    # as PsychRNN's RNN.save writes it; load_npz reads it back as 0 (Dale on, all inhibitory)
    np.savez(tmp_path / "r.npz", dale_ratio=ratio)
    with np.load(tmp_path / "r.npz", allow_pickle=False) as f:
        assert f["dale_ratio"].dtype == np.float64 and f["dale_ratio"] == tiny
    # None stays None (PsychRNN accepts it: no Dale's law); other ratios are unchanged
    nodale = jtf.psychrnn_initializer(_networks()["alpha_nodale"])
    assert nodale.get_dale_ratio() is None
    assert jtf.psychrnn_initializer(_networks()["alpha_dale1"]).get_dale_ratio() == 1.0
    assert not hasattr(jtf, "_ZeroDaleRatio")


def test_psychrnn_initializer_interface():
    nets = _networks()
    for case, params in nets.items():
        init = jtf.psychrnn_initializer(params)
        assert (init.N_in, init.N_rec, init.N_out) == (params.N_in, params.N_rec, params.N_out)
        assert init.params is params
        if params.dale_ratio == 0:
            assert init.get_dale_ratio() == np.finfo(np.float64).tiny, case
        else:
            assert init.get_dale_ratio() == params.dale_ratio, case
        fn = init.get_transfer_function()
        assert fn is init.initializations["transfer_function"]
        assert transfer_function_name(fn) == params.transfer_function, case
        assert set(init.initializations) == {*NAMES, "dale_ratio", "transfer_function"}
        assert isinstance(init.get("W_rec"), jtf.ArrayInitializer)
        assert repr(init).startswith("PsychRNNInitializer(N_in=2, N_rec=12, N_out=2")
        model = jtf.psychrnn_params(params, name=case)
        assert model["transfer_function"] is fn


def test_save(tmp_path):
    from jaxinit._src.npz import METADATA_KEY, RAW_PREFIX

    nets = _networks()
    for case, params in nets.items():
        init = jtf.psychrnn_initializer(params)
        path = init.save(str(tmp_path / case))  # appends .npz, like np.savez
        assert path == tmp_path / f"{case}.npz" and path.exists()
        with np.load(path, allow_pickle=False) as f:  # nothing needs pickle
            saved = {k: f[k] for k in f.files}
        assert set(saved) == {
            *NAMES,
            "dale_ratio",
            METADATA_KEY,
            *(RAW_PREFIX + n for n in WEIGHT_NAMES),
        }, case
        # the effective weights under PsychRNN's names, the other arrays as they are
        _assert_effective(saved, params, rtol=0, atol=0)
        raw = _raw(params)
        np.testing.assert_array_equal(saved["init_state"], raw["init_state"][None, :])
        for name in ("b_rec", "b_out", "Dale_rec", "Dale_out", *MASK_NAMES):
            np.testing.assert_array_equal(saved[name], raw[name], err_msg=f"{case} {name}")
        for name in WEIGHT_NAMES:
            np.testing.assert_array_equal(saved[RAW_PREFIX + name], raw[name])
        # dale_ratio: 0.0 without Dale (PsychRNN: off), the initializer's ratio otherwise
        assert saved["dale_ratio"].shape == () and saved["dale_ratio"].dtype == np.float64
        want_ratio = 0.0 if params.dale_ratio is None else init.get_dale_ratio()
        assert saved["dale_ratio"] == want_ratio, case
        assert bool(saved["dale_ratio"]) == (params.dale_ratio is not None), case
        # the same file save_npz writes, and it loads back bit for bit
        again = jaxinit.load_npz(jaxinit.save_npz(tmp_path / f"{case}_direct", params))
        loaded = jaxinit.load_npz(path)
        assert loaded.dale_ratio == params.dale_ratio == again.dale_ratio, case
        assert loaded.transfer_function == params.transfer_function, case
        for field, value in params.arrays().items():
            got = np.asarray(getattr(loaded, field))
            assert got.dtype == np.asarray(value).dtype, f"{case} {field}"
            np.testing.assert_array_equal(got, np.asarray(value), err_msg=f"{case} {field}")
        # what is saved is the Params, not the (mutable) initializations
        init.initializations["W_rec"] *= 0
        init.save(tmp_path / "changed")
        np.testing.assert_array_equal(
            np.asarray(jaxinit.load_npz(tmp_path / "changed.npz").W_rec), np.asarray(params.W_rec)
        )
    assert init.save(tmp_path / "as_path.npz") == tmp_path / "as_path.npz"  # path-like too


def test_transfer_functions_match_jax():
    x = np.linspace(-4.0, 4.0, 41, dtype=np.float32)
    assert set(jtf.TF_TRANSFER_FUNCTIONS) == set(jaxinit.TRANSFER_FUNCTIONS)
    for name, jax_fn in jaxinit.TRANSFER_FUNCTIONS.items():
        tf_fn = jtf.tf_transfer_function(name)
        np.testing.assert_allclose(
            tf_fn(tf.constant(x)).numpy(), np.asarray(jax_fn(x)), rtol=1e-6, atol=1e-6, err_msg=name
        )
        assert transfer_function_name(tf_fn) == name  # Config.from_psychrnn maps it back


# ----------------------------------------------------------------------------
# Real PsychRNN 1.0.0, in one child process
# ----------------------------------------------------------------------------

_CHILD = """
import jax, numpy as np
import jaxinit
import jaxinit.tf as jtf
from psychrnn.backend.models.basic import Basic
from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

FIELDS = list(jaxinit.Params.__dataclass_fields__)
ARRAYS = [f for f in FIELDS if f not in ("dale_ratio", "transfer_function")]

def params_of(case):
    meta = inputs["meta"][case]
    return jaxinit.Params(
        **{f: jax.numpy.asarray(inputs[case + "/" + f]) for f in ARRAYS},
        dale_ratio=meta["dale_ratio"], transfer_function=meta["transfer_function"])

def record(prefix, model, names):
    weights = model.get_weights()
    for name in names:
        outputs[prefix + "/" + name] = np.asarray(weights[name])
    outputs[prefix + "/dale_on"] = np.asarray(bool(model.dale_ratio))

NAMES = list(jtf.NAMES)
shape = inputs["shape"]
x = inputs["x"]
for case in inputs["meta"]:
    params = params_of(case)
    model = Basic(jtf.psychrnn_params(params, name="m_" + case, **shape))
    record(case, model, NAMES)
    outputs[case + "/y"], _ = model.test(x)
    model.destruct()

for case in inputs["saved"]:
    params = params_of(case)
    path = os.path.join(_d, case + "_init")
    jtf.psychrnn_initializer(params).save(path)
    d = dict(shape, name="l_" + case, load_weights_path=path + ".npz",
             N_in=params.N_in, N_rec=params.N_rec, N_out=params.N_out,
             transfer_function=jtf.tf_transfer_function(params.transfer_function))
    model = Basic(d)
    record("saved_" + case, model, ["W_in", "W_rec", "W_out"])
    model.destruct()

for case in inputs["trained"]:
    params = params_of(case)
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=16)
    tp = task.get_task_params()
    d = jtf.psychrnn_params(params, name="t_" + case, N_steps=tp["N_steps"], dt=tp["dt"],
                            tau=tp["tau"], N_batch=tp["N_batch"])
    model = Basic(d)
    record("before_" + case, model, ["W_in", "W_rec", "W_out"])
    losses, _, _ = model.train(
        task, {"training_iters": 48, "loss_epoch": 1, "verbosity": False})
    outputs["loss_" + case] = np.asarray(losses, dtype=np.float64)
    record("after_" + case, model, ["W_in", "W_rec", "W_out"])
    model.destruct()
"""


def _simulate(params, x, dt, tau):
    """Basic's forward pass (rec_noise 0) with jaxinit's effective weights."""
    eff = jaxinit.effective(params)
    W_in, W_rec, W_out = (np.asarray(w, np.float64) for w in eff)
    f = params.transfer
    alpha = dt / tau
    state = np.tile(np.asarray(params.init_state, np.float64), (x.shape[0], 1))
    ys = []
    for t in range(x.shape[1]):
        rate = np.asarray(f(state))
        state = (1 - alpha) * state + alpha * (
            rate @ W_rec.T + x[:, t] @ W_in.T + np.asarray(params.b_rec)
        )
        ys.append(np.asarray(f(state)) @ W_out.T + np.asarray(params.b_out))
    return np.stack(ys, axis=1)


@pytest.mark.slow
def test_real_psychrnn(tmp_path):
    nets = _networks()
    shape = {"N_steps": 8, "dt": 10.0, "tau": 100.0, "N_batch": 3}
    x = np.random.default_rng(0).normal(size=(3, 8, 2)).astype(np.float32)
    arrays = {"x": x}
    meta = {}
    for case, params in nets.items():
        for field, value in params.arrays().items():
            arrays[f"{case}/{field}"] = np.asarray(value)
        meta[case] = {
            "dale_ratio": params.dale_ratio,
            "transfer_function": params.transfer_function,
        }
    trained = ["dale_masks"]
    saved = ["plain", "dale_masks", "dale0_masks"]
    values = {"meta": meta, "shape": shape, "trained": trained, "saved": saved}
    out = run_psychrnn(_CHILD, tmp_path, arrays=arrays, values=values)

    for case, params in nets.items():
        got = {name: out[f"{case}/{name}"] for name in NAMES}
        # the effective weights PsychRNN uses are exactly jaxinit.effective(params)
        _assert_effective(got, params)
        assert bool(out[f"{case}/dale_on"]) == (params.dale_ratio is not None), case
        raw = _raw(params)
        np.testing.assert_array_equal(got["init_state"], raw["init_state"][None, :])
        for name in ("b_rec", "b_out", "Dale_rec", "Dale_out", *MASK_NAMES):
            np.testing.assert_array_equal(got[name], raw[name], err_msg=f"{case} {name}")
        # and the model computes what the same network computes in jaxinit
        want_y = _simulate(params, x.astype(np.float64), shape["dt"], shape["tau"])
        np.testing.assert_allclose(out[f"{case}/y"], want_y, rtol=1e-4, atol=1e-5, err_msg=case)

    for case in saved:
        got = {name: out[f"saved_{case}/{name}"] for name in WEIGHT_NAMES}
        _assert_effective(got, nets[case])
        dale_on = bool(out[f"saved_{case}/dale_on"])
        assert dale_on == (nets[case].dale_ratio is not None), case

    for case in trained:
        params = nets[case]
        losses = out[f"loss_{case}"]
        assert losses.size >= 2 and np.isfinite(losses).all(), case
        before = {n: out[f"before_{case}/{n}"] for n in WEIGHT_NAMES}
        after = {n: out[f"after_{case}/{n}"] for n in WEIGHT_NAMES}
        _assert_effective(before, params)
        if np.asarray(params.dale_out_diag).any():  # else no gradient reaches W_rec
            assert not np.allclose(before["W_rec"], after["W_rec"]), "training changed nothing"
        signs = np.asarray(params.dale_rec_diag)
        reach = np.asarray(params.dale_out_diag)
        # Dale's law holds after training: column signs, masks, silent inhibitory outputs
        assert (after["W_rec"] * signs[None, :] >= 0).all(), case
        assert (np.sign(after["W_rec"]) * np.sign(before["W_rec"]) >= 0).all(), case
        assert (after["W_in"] >= 0).all() and (after["W_out"] >= 0).all(), case
        assert (after["W_out"][:, reach == 0] == 0).all(), case
        for name, mask in zip(WEIGHT_NAMES, MASK_NAMES, strict=True):
            off = np.asarray(getattr(params, mask)) == 0
            assert (after[name][off] == 0).all(), f"{case} {name}"
