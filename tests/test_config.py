"""Config: PsychRNN's defaults, hashability, validation, from_psychrnn."""

import dataclasses
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit import Config


def test_defaults_match_psychrnn():
    cfg = Config(N_in=2, N_rec=50, N_out=1)
    assert cfg.autapses is True
    assert cfg.dale_ratio is None
    assert cfg.which_rand_init == "glorot_gauss"
    assert cfg.which_rand_W_rec_init is None
    assert cfg.W_rec_scheme == "glorot_gauss"
    assert (cfg.init_minval, cfg.init_maxval) == (-0.1, 0.1)
    assert cfg.spec_rad == 1.1
    assert cfg.alpha is None
    assert cfg.transfer_function == "relu"
    assert cfg.dtype == "float32"
    assert cfg.spectral_radius_of == "raw"


def test_W_rec_scheme_defaults_to_which_rand_init():
    cfg = Config(N_in=1, N_rec=3, N_out=1, which_rand_init="const_unif")
    assert cfg.W_rec_scheme == "const_unif"
    cfg = cfg.replace(which_rand_W_rec_init="glorot_unif")
    assert cfg.W_rec_scheme == "glorot_unif"
    assert cfg.which_rand_init == "const_unif"


def test_frozen_hashable_and_equal_by_value():
    a = Config(N_in=2, N_rec=np.int64(10), N_out=1, dale_ratio=np.float32(0.5), dtype=jnp.float32)
    b = Config(N_in=2, N_rec=10, N_out=1, dale_ratio=0.5, dtype="float32")
    assert a == b and hash(a) == hash(b)
    assert type(a.N_rec) is int and type(a.dale_ratio) is float and a.dtype == "float32"
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.N_rec = 3


def test_usable_as_jit_static_argument():
    traces = []

    def f(x, config):
        traces.append(config)
        return x * config.spec_rad

    g = jax.jit(f, static_argnames="config")
    out = g(jnp.ones(2), config=Config(N_in=1, N_rec=2, N_out=1, spec_rad=2.0))
    g(jnp.ones(2), config=Config(N_in=1, N_rec=2, N_out=1, spec_rad=2.0))
    assert out.tolist() == [2.0, 2.0]
    assert len(traces) == 1  # the equal config hit the cache


def test_transfer_function_resolves_to_jax():
    cfg = Config(N_in=1, N_rec=2, N_out=1, transfer_function="tanh")
    np.testing.assert_allclose(cfg.transfer(jnp.array([0.5])), np.tanh([0.5]), rtol=1e-6)
    assert Config(N_in=1, N_rec=2, N_out=1).transfer(jnp.array([-1.0, 3.0])).tolist() == [0, 3]


def test_n_excitatory_floors_like_psychrnn():
    assert Config(N_in=1, N_rec=100, N_out=1, dale_ratio=0.29).n_excitatory == int(0.29 * 100)
    assert Config(N_in=1, N_rec=10, N_out=1, dale_ratio=0.8).n_excitatory == 8
    assert Config(N_in=1, N_rec=10, N_out=1).n_excitatory is None


@pytest.mark.parametrize(
    ("field", "value", "error", "needle"),
    [
        ("N_in", 0, ValueError, "N_in must be a positive integer, got 0"),
        ("N_rec", -3, ValueError, "N_rec must be a positive integer, got -3"),
        ("N_out", 2.5, TypeError, "N_out must be a positive integer, got 2.5"),
        ("N_rec", True, TypeError, "N_rec must be a positive integer, got True"),
        ("N_rec", "10", TypeError, "N_rec must be a positive integer, got '10'"),
        ("dale_ratio", 1.3, ValueError, "dale_ratio must be in [0, 1] or None, got 1.3"),
        ("dale_ratio", -0.1, ValueError, "dale_ratio must be in [0, 1] or None, got -0.1"),
        ("dale_ratio", float("nan"), ValueError, "dale_ratio must be finite, got nan"),
        ("dale_ratio", "0.8", TypeError, "dale_ratio must be a real number, got '0.8'"),
        ("which_rand_init", "xavier", ValueError, "which_rand_init must be one of"),
        ("which_rand_W_rec_init", "he", ValueError, "which_rand_W_rec_init must be one of"),
        ("spec_rad", 0.0, ValueError, "spec_rad must be positive, got 0.0"),
        ("spec_rad", float("inf"), ValueError, "spec_rad must be finite, got inf"),
        ("alpha", float("nan"), ValueError, "alpha must be finite, got nan"),
        ("transfer_function", "swishy", ValueError, "transfer_function must be one of"),
        ("dtype", "int32", ValueError, "dtype must be float32 or float64, got 'int32'"),
        ("dtype", "float16", ValueError, "dtype must be float32 or float64, got 'float16'"),
        ("dtype", object(), TypeError, "dtype must be float32 or float64"),
        ("spectral_radius_of", "both", ValueError, "spectral_radius_of must be one of"),
        ("autapses", "no", TypeError, "autapses must be True or False, got 'no'"),
        ("init_minval", float("-inf"), ValueError, "init_minval must be finite, got -inf"),
    ],
)
def test_bad_fields_name_the_argument_and_value(field, value, error, needle):
    kwargs = dict(N_in=1, N_rec=4, N_out=1)
    kwargs[field] = value
    with pytest.raises(error) as info:
        Config(**kwargs)
    assert needle in str(info.value)


def test_minval_above_maxval_is_refused():
    with pytest.raises(ValueError, match=r"init_minval must not exceed init_maxval.*0.5.*0.1"):
        Config(N_in=1, N_rec=2, N_out=1, init_minval=0.5, init_maxval=0.1)


def test_values_that_overflow_float32_are_refused():
    with pytest.raises(ValueError, match=r"alpha=1e[+]?39 does not fit in float32"):
        Config(N_in=1, N_rec=2, N_out=1, alpha=1e39)
    with pytest.raises(ValueError, match=r"init_maxval - init_minval"):
        Config(N_in=1, N_rec=2, N_out=1, init_minval=-3e38, init_maxval=3e38)


def test_float64_needs_x64():
    script = (
        "import jaxinit\n"
        "try:\n"
        "    jaxinit.Config(N_in=1, N_rec=2, N_out=1, dtype='float64')\n"
        "except ValueError as e:\n"
        "    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "ERR dtype='float64' needs 64-bit JAX" in out.stdout
    with jax.enable_x64(True):
        assert Config(N_in=1, N_rec=2, N_out=1, dtype=np.float64).dtype == "float64"


def test_from_psychrnn_splits_options_arrays_and_ignores_the_rest():
    mask = np.ones((4, 4))
    w_in = np.ones((4, 2))
    params = {
        "name": "net",
        "N_in": 2,
        "N_rec": 4,
        "N_out": 1,
        "N_steps": 200,
        "dt": 10,
        "tau": 100,
        "N_batch": 50,
        "rec_noise": 0.0,
        "dale_ratio": np.array(0.75),
        "autapses": False,
        "spec_rad": 1.5,
        "rec_connectivity": mask,
        "W_in": w_in,
        "W_out": None,
        "which_rand_init": "const_gauss",
    }
    cfg, given = Config.from_psychrnn(params)
    assert cfg == Config(
        N_in=2,
        N_rec=4,
        N_out=1,
        dale_ratio=0.75,
        autapses=False,
        spec_rad=1.5,
        which_rand_init="const_gauss",
    )
    assert sorted(given) == ["W_in", "rec_connectivity"]
    assert given["rec_connectivity"] is mask and given["W_in"] is w_in


def test_from_psychrnn_maps_tensorflow_style_callables_by_name():
    def relu(x):  # stands for tf.nn.relu, whose __name__ is "relu"
        return x

    def tanh(x):
        return x

    cfg, _ = Config.from_psychrnn({"N_in": 1, "N_rec": 2, "N_out": 1, "transfer_function": tanh})
    assert cfg.transfer_function == "tanh"
    cfg, _ = Config.from_psychrnn({"N_in": 1, "N_rec": 2, "N_out": 1, "transfer_function": relu})
    assert cfg.transfer_function == "relu"

    def my_activation(x):
        return x

    with pytest.raises(ValueError, match=r"transfer_function must be one of.*my_activation"):
        Config.from_psychrnn(
            {"N_in": 1, "N_rec": 2, "N_out": 1, "transfer_function": my_activation}
        )


def test_from_psychrnn_errors():
    with pytest.raises(TypeError, match=r"params must be a dict, got list"):
        Config.from_psychrnn([1, 2])
    with pytest.raises(ValueError, match=r"lacks the required key\(s\) \['N_out'\]"):
        Config.from_psychrnn({"N_in": 1, "N_rec": 2})
    with pytest.raises(ValueError, match=r"load_weights_path='w.npz'.*load_npz"):
        Config.from_psychrnn({"N_in": 1, "N_rec": 2, "N_out": 1, "load_weights_path": "w.npz"})


def test_from_psychrnn_dale_ratio_none_object_array():
    none_array = np.array(None, dtype=object)
    cfg, _ = Config.from_psychrnn({"N_in": 1, "N_rec": 2, "N_out": 1, "dale_ratio": none_array})
    assert cfg.dale_ratio is None


def test_from_psychrnn_feeds_an_initializer():
    mask = (np.arange(16).reshape(4, 4) % 2).astype(float)
    cfg, given = Config.from_psychrnn(
        {"N_in": 2, "N_rec": 4, "N_out": 1, "alpha": 0.5, "rec_connectivity": mask}
    )
    p = jaxinit.alpha_identity(jax.random.key(0), cfg, **given)
    np.testing.assert_array_equal(p.rec_connectivity, mask)
