"""The 0.2 public surface: lazy extras, one vocabulary, deprecations, core checks."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit._src import names

KEY = jax.random.key(0)
CFG = jaxinit.Config(N_in=2, N_rec=6, N_out=1)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )


def test_optional_submodules_are_attributes_and_import_stays_light():
    out = _run(
        """
        import sys, jaxinit
        heavy = ("tensorflow", "flax", "haiku", "equinox", "matplotlib", "optax", "neurogym")
        print(sorted(m for m in heavy if m in sys.modules))
        print(jaxinit.initializers.gaussian_spectral_radius.__module__.startswith("jaxinit"))
        print(jaxinit.plot.__name__, jaxinit.nnx.__name__, jaxinit.haiku.__name__,
              jaxinit.linen.__name__, jaxinit.equinox.__name__)
        # dir() leaves the optional modules out, so tools that scan a module's
        # members (doctest, pydoc, IDEs) do not import TensorFlow by accident
        print("tf" in dir(jaxinit))
        """
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0] == "[]"
    assert lines[1] == "True"
    assert lines[2] == "jaxinit.plot jaxinit.nnx jaxinit.haiku jaxinit.linen jaxinit.equinox"
    assert lines[3] == "False"


def test_a_missing_extra_names_what_to_install():
    # A real failing import: matplotlib is made unimportable in the child.
    out = _run(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "matplotlib" or name.startswith("matplotlib."):
                    raise ImportError("blocked for this test")
        sys.meta_path.insert(0, Block())
        import importlib.util
        importlib.util.find_spec = lambda name, *a: None if name == "matplotlib" else 1
        import jaxinit
        try:
            jaxinit.plot
        except ImportError as err:
            print(err)
        """
    )
    assert out.returncode == 0, out.stderr
    assert "pip install 'jaxinit[plot]'" in out.stdout
    assert "matplotlib" in out.stdout


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        jaxinit.nope


@pytest.mark.parametrize("name", ["const_unif", "const_gauss", "glorot_unif", "glorot_gauss"])
def test_top_level_schemes_moved_to_jaxinit_schemes(name):
    with pytest.warns(DeprecationWarning, match=f"use jaxinit.schemes.{name}"):
        old = getattr(jaxinit, name)
    assert old is getattr(jaxinit.schemes, name)
    assert jaxinit.schemes.SCHEMES[name] is old


def test_registries_have_one_home():
    assert tuple(jaxinit.NETWORK_INITIALIZERS) == names.INITIALIZER_NAMES
    assert jaxinit.NETWORK_INITIALIZERS["alpha_identity"] is jaxinit.alpha_identity
    assert tuple(jaxinit.SCHEMES) == names.SCHEME_NAMES
    assert tuple(jaxinit.TRANSFER_FUNCTIONS) == names.TRANSFER_FUNCTION_NAMES
    assert jaxinit.WEIGHTS == ("raw", "effective")
    assert jaxinit.LAYOUTS == ("out_in", "in_out")


def test_params_replace_keeps_shapes():
    p = jaxinit.weight_initializer(KEY, CFG, W_rec=np.eye(6))
    assert p.replace(b_rec=jnp.ones(6)).b_rec.sum() == 6
    with pytest.raises(ValueError, match=r"W_rec must keep its shape \(6, 6\), got \(5, 5\)"):
        p.replace(W_rec=jnp.ones((5, 5)))
    with pytest.raises(ValueError, match="b_out must keep its shape"):
        p.replace(b_out=[0.0])


def test_effective_refuses_a_dict():
    with pytest.raises(
        TypeError,
        match=r"params must be a jaxinit\.Params or jaxinit\.sparse\.SparseParams, got dict",
    ):
        jaxinit.effective({"W_rec": np.eye(2)})


def test_dale_matrix_without_dale_ratio_is_refused():
    with pytest.raises(ValueError, match=r"Dale_rec was given but config\.dale_ratio is None"):
        jaxinit.weight_initializer(KEY, CFG, W_rec=np.eye(6), Dale_rec=-np.eye(6))
    with pytest.raises(ValueError, match="Dale_out was given"):
        jaxinit.weight_initializer(KEY, CFG, W_rec=np.eye(6), Dale_out=np.eye(6))


@pytest.mark.parametrize(
    "mask",
    [np.zeros((6, 6)), np.triu(np.ones((6, 6)), 1), np.tril(np.ones((6, 6)), -1)],
    ids=["zero", "upper", "lower"],
)
def test_raw_mode_refuses_a_mask_without_recurrence(mask):
    with pytest.raises(ValueError, match="zero or strictly triangular"):
        jaxinit.gaussian_spectral_radius(KEY, CFG, rec_connectivity=mask)
    # the radius of a mask with one cycle is not zero: accepted
    cyclic = mask.copy()
    cyclic[0, 5] = cyclic[5, 0] = 1
    jaxinit.gaussian_spectral_radius(KEY, CFG, rec_connectivity=cyclic)


def test_ensemble_names_the_member_without_recurrence():
    masks = np.ones((4, 6, 6))
    masks[2] = np.triu(np.ones((6, 6)), 1)
    with pytest.raises(ValueError, match="in member 2 of the ensemble is zero or strictly"):
        jaxinit.ensemble(
            jaxinit.gaussian_spectral_radius, KEY, 4, CFG, rec_connectivity=masks
        )


def test_single_unit_without_autapses_has_no_recurrence():
    cfg = jaxinit.Config(N_in=1, N_rec=1, N_out=1, autapses=False)
    with pytest.raises(ValueError, match="zero or strictly triangular"):
        jaxinit.gaussian_spectral_radius(KEY, cfg)


def _zero_radius(w):
    return jaxinit.gaussian_spectral_radius(KEY, CFG, W_rec=w)


def test_jaxinit_jit_gives_the_eager_error_back():
    eager = pytest.raises(ValueError, match=r"spectral radius of W_rec is 0\.0")
    with eager:
        _zero_radius(jnp.zeros((6, 6)))
    with pytest.raises(ValueError, match=r"spectral radius of W_rec is 0\.0") as info:
        jaxinit.jit(_zero_radius)(jnp.zeros((6, 6)))
    assert type(info.value) is ValueError
    assert info.value.__cause__ is None and info.value.__suppress_context__
    # a good input goes through, with the same result as the eager call
    good = jaxinit.jit(_zero_radius)(jnp.eye(6) + jnp.ones((6, 6)))
    np.testing.assert_array_equal(good.W_rec, _zero_radius(jnp.eye(6) + jnp.ones((6, 6))).W_rec)


def test_jaxinit_jit_as_a_decorator_with_options():
    @jaxinit.jit(static_argnames="config")
    def make(key, config):
        return jaxinit.alpha_identity(key, config)

    p = make(KEY, config=CFG.replace(alpha=0.5))
    assert p.W_rec.diagonal().tolist() == [0.5] * 6


def test_plain_jit_error_holds_the_message_and_logs_nothing(capfd):
    with pytest.raises(jax.errors.JaxRuntimeError) as info:
        jax.block_until_ready(jax.jit(_zero_radius)(jnp.zeros((6, 6))))
    text = str(info.value)
    assert "the spectral radius of W_rec is 0.0" in text
    # one jaxinit frame, not a chain of helpers
    assert text.count("jaxinit/_src/") == 1
    assert "jax.io_callback failed" not in capfd.readouterr().err


def test_vmapped_checks_name_the_member():
    ws = jnp.stack([jnp.ones((6, 6)), jnp.ones((6, 6)), jnp.zeros((6, 6))])
    with pytest.raises(ValueError, match=r"is 0.0; .* \(member 2 of the jax.vmap batch\)"):
        jaxinit.jit(jax.vmap(_zero_radius))(ws)
    masks = np.ones((2, 3, 6, 6))
    masks[1, 2, 0, 0] = 2
    make = jax.vmap(jax.vmap(lambda m: jaxinit.gaussian_spectral_radius(
        KEY, CFG, rec_connectivity=m)))
    with pytest.raises(ValueError, match=r"got 2.0 \(member \(1, 2\) of the jax.vmap batch\)"):
        jaxinit.jit(make)(masks)


def test_recipe_builds_once_and_copies_what_it_is_given():
    mask = np.ones((6, 6))
    recipe = jaxinit.Recipe(jaxinit.gaussian_spectral_radius, KEY, CFG,
                            {"rec_connectivity": mask})
    assert recipe.initializer == "gaussian_spectral_radius"
    mask[0, 0] = 0  # the recipe holds its own copy
    assert recipe.given["rec_connectivity"][0, 0] == 1
    with pytest.raises(ValueError, match="read-only"):
        recipe.given["rec_connectivity"][0, 0] = 5
    built = recipe.build()
    assert built is recipe.build()
    alone = jaxinit.gaussian_spectral_radius(KEY, CFG, rec_connectivity=np.ones((6, 6)))
    np.testing.assert_array_equal(built.W_rec, alone.W_rec)


@pytest.mark.parametrize(
    ("args", "error", "needle"),
    [
        (("nope", KEY, CFG), ValueError, "initializer must be one of"),
        (("alpha_identity", 0, CFG), TypeError, "key must be a JAX PRNG key"),
        (("alpha_identity", KEY, {"N_rec": 3}), TypeError, "config must be a jaxinit.Config"),
        (("alpha_identity", KEY, CFG, {"W_x": np.ones(2)}), TypeError, "unknown array 'W_x'"),
    ],
)
def test_recipe_checks_its_arguments(args, error, needle):
    with pytest.raises(error, match=needle):
        jaxinit.Recipe(*args)
