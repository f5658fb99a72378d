"""Tests of jaxinit.tf: TensorFlow / Keras initializers (eager, graph, Keras layers).

The PsychRNN side of the shim (which weights are handed over, the initializer
object, real PsychRNN) is tested in tests/test_tf_psychrnn.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.conftest import require_module

tf = require_module("tensorflow", "tf")

import jaxinit  # noqa: E402
import jaxinit.tf as jtf  # noqa: E402
from jaxinit._src.transfer import transfer_function_name  # noqa: E402
from tests.tf_support import (  # noqa: E402
    NAMES,
    WEIGHT_NAMES,
    random_masks,
    raw_arrays,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def net() -> jaxinit.Params:
    """A small network with Dale's law, masks and no autapses; N_in != N_rec != N_out."""
    cfg = jaxinit.Config(N_in=3, N_rec=5, N_out=2, dale_ratio=0.6, autapses=False)
    return jaxinit.gaussian_spectral_radius(jax.random.key(3), cfg, **random_masks(4, 3, 5, 2))


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
# variable_initializers(): eager, graph, Keras
# ----------------------------------------------------------------------------


def test_eager_variables_equal_arrays(net):
    inits = jtf.variable_initializers(net, weights="raw")
    assert tuple(inits) == NAMES
    want = raw_arrays(net)
    for name in NAMES:
        var = tf.Variable(inits[name](want[name].shape, tf.float32))
        assert var.dtype == tf.float32
        np.testing.assert_array_equal(var.numpy(), want[name].astype(np.float32), err_msg=name)
        # dtype defaults to float32; float64 is also served
        assert inits[name](want[name].shape).dtype == tf.float32
        np.testing.assert_array_equal(
            inits[name](want[name].shape, "float64").numpy(), want[name].astype(np.float64)
        )


@pytest.mark.parametrize("source", ["variable_initializers", "psychrnn_initializer"])
def test_graph_mode_get_variable(net, source):
    if source == "variable_initializers":
        get = jtf.variable_initializers(net, weights="raw").__getitem__
    else:
        get = jtf.psychrnn_initializer(net).get
    want = raw_arrays(net)
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
        inits = jtf.variable_initializers(params, weights="raw")
        want = raw_arrays(params)
    for name in NAMES:
        assert inits[name].value.dtype == np.float64, name
        got = inits[name](want[name].shape, tf.float64).numpy()
        np.testing.assert_array_equal(got, want[name], err_msg=name)
        np.testing.assert_array_equal(
            inits[name](want[name].shape).numpy(), want[name].astype(np.float32)
        )


def test_keras_layers_with_in_out_layout(net):
    k = jtf.variable_initializers(net, weights="raw", layout="in_out")
    raw = raw_arrays(net)
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


def test_keras_rejects_out_in_layout_kernel(net):
    kernel = jtf.variable_initializers(net)["W_in"]
    dense = tf.keras.layers.Dense(net.N_rec, kernel_initializer=kernel)
    with pytest.raises(ValueError, match=r"W_in.*\(5, 3\).*\(3, 5\)"):
        dense.build((None, net.N_in))


def test_config_round_trip(net, tmp_path):
    for name, init in jtf.variable_initializers(net).items():
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
    k = jtf.variable_initializers(net, weights="raw", layout="in_out")
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
    inits = jtf.variable_initializers(net)
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
        jtf.variable_initializers({"W_rec": np.eye(2)})
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params"):
        jtf.psychrnn_initializer(None)
    ensemble = jax.tree.map(lambda x: jnp.stack([x, x]), net)
    with pytest.raises(ValueError, match=r"params must be one network, got an ensemble of shape"):
        jtf.variable_initializers(ensemble)
    with pytest.raises(ValueError, match=r"ensemble"):
        jtf.psychrnn_initializer(ensemble)
    with pytest.raises(ValueError, match=r"weights must be one of .* got 'masked'"):
        jtf.variable_initializers(net, weights="masked")
    with pytest.raises(ValueError, match=r"layout must be one of .* got 'torch'"):
        jtf.variable_initializers(net, layout="torch")
    with pytest.raises(ValueError, match=r"params.b_rec must have shape \(5,\), got \(4,\)"):
        # Params.replace refuses a new shape; a dataclass copy does not check
        jtf.variable_initializers(dataclasses.replace(net, b_rec=jnp.zeros(4)))
    with pytest.raises(ValueError, match=r"transfer_function must be one of .* got 'swish'"):
        jtf.variable_initializers(net.replace(transfer_function="swish"))
    half = net.replace(rec_connectivity=net.rec_connectivity * 0.5)
    with pytest.raises(ValueError, match=r"rec_connectivity must hold only 0 and 1.*0.5.*'raw'"):
        jtf.variable_initializers(half)  # effective, the default, needs 0/1 masks
    jtf.variable_initializers(half, weights="raw")  # raw weights do not

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
    inits = jtf.variable_initializers(net, layout="in_out")
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


def test_defaults_are_effective_and_out_in(net):
    inits = jtf.variable_initializers(net)
    eff = jaxinit.effective(net)
    for name in WEIGHT_NAMES:
        np.testing.assert_array_equal(inits[name].value, np.asarray(getattr(eff, name)))
    assert inits["W_in"].shape == (net.N_rec, net.N_in)  # (out, in), PsychRNN's shapes
    assert jtf.WEIGHTS == ("raw", "effective") and jtf.LAYOUTS == ("out_in", "in_out")


def test_transfer_functions_match_jax():
    x = np.linspace(-4.0, 4.0, 41, dtype=np.float32)
    assert set(jtf.TF_TRANSFER_FUNCTIONS) == set(jaxinit.TRANSFER_FUNCTIONS)
    for name, jax_fn in jaxinit.TRANSFER_FUNCTIONS.items():
        tf_fn = jtf.tf_transfer_function(name)
        np.testing.assert_allclose(
            tf_fn(tf.constant(x)).numpy(), np.asarray(jax_fn(x)), rtol=1e-6, atol=1e-6, err_msg=name
        )
        assert transfer_function_name(tf_fn) == name  # Config.from_psychrnn maps it back
