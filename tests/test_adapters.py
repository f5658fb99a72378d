"""jaxinit.initializers: the kernels, their options, layouts, dtypes and errors.

The same builders inside real Flax (linen, nnx), Haiku and Equinox are tested
in tests/test_adapters_frameworks.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
import jaxinit.haiku as jhk
import jaxinit.initializers as ji
from tests.adapter_support import KEY, N, core_network, orient, random_mask

# ---------------------------------------------------------------------------
# The kernels equal jaxinit's own arrays, in the documented layout


@pytest.mark.parametrize("layout", ["in_out", "out_in"])
@pytest.mark.parametrize("weights", ["effective", "raw"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"dale_ratio": 0.75},
        {"dale_ratio": 0.75, "autapses": False, "mask": True},
        {"mask": True, "spectral_radius_of": "raw"},
    ],
)
def test_gaussian_spectral_radius_is_jaxinit_w_rec(layout, weights, options):
    options = dict(options)
    mask_psy = random_mask(N, N) if options.pop("mask", False) else None
    sro = options.pop("spectral_radius_of", None)  # None: the returned matrix gets spec_rad
    init = ji.gaussian_spectral_radius(
        1.3,
        connectivity=None if mask_psy is None else orient(mask_psy, layout),
        spectral_radius_of=sro,
        weights=weights,
        layout=layout,
        **options,
    )
    kernel = init(KEY, (N, N))
    core_sro = weights if sro is None else sro
    params = core_network(
        "gsr", N, spec_rad=1.3, mask_psy=mask_psy, spectral_radius_of=core_sro, **options
    )
    expected = jaxinit.effective(params).W_rec if weights == "effective" else params.W_rec
    np.testing.assert_array_equal(kernel, orient(expected, layout))
    assert kernel.dtype == jnp.float32 and kernel.shape == (N, N)
    assert init.options["spectral_radius_of"] == core_sro
    if core_sro == weights:
        assert float(jaxinit.spectral_radius(kernel)) == pytest.approx(1.3, rel=1e-5)


def test_spectral_radius_of_defaults_to_the_returned_matrix():
    mask = random_mask(N, N, seed=11)
    shared = dict(dale_ratio=0.75, connectivity=mask)
    raw = ji.gaussian_spectral_radius(1.3, weights="raw", **shared)(KEY, (N, N))
    assert float(jaxinit.spectral_radius(raw)) == pytest.approx(1.3, rel=1e-5)
    # weights="raw" alone is PsychRNN's raw scaling, the default of Config
    config = jaxinit.Config(N_in=1, N_rec=N, N_out=1, spec_rad=1.3, dale_ratio=0.75)
    assert config.spectral_radius_of == "raw"
    params = jaxinit.gaussian_spectral_radius(KEY, config, rec_connectivity=mask.T)
    np.testing.assert_array_equal(raw, np.asarray(params.W_rec).T)
    # the other matrix on request: raw weights whose effective matrix has 1.3
    raw_eff = ji.gaussian_spectral_radius(
        1.3, weights="raw", spectral_radius_of="effective", **shared
    )(KEY, (N, N))
    eff = ji.gaussian_spectral_radius(1.3, **shared)(KEY, (N, N))
    signs = np.where(np.arange(N) < 9, 1.0, -1.0)[:, None]  # rows of an (in, out) kernel
    np.testing.assert_allclose(np.abs(np.asarray(raw_eff)) * mask * signs, eff, rtol=1e-6)
    assert float(jaxinit.spectral_radius(eff)) == pytest.approx(1.3, rel=1e-5)


def test_dale_signs_rows_in_in_out_columns_in_out_in():
    mask = random_mask(N, N, seed=3)
    flax_k = ji.gaussian_spectral_radius(dale_ratio=0.75, connectivity=mask.T)(KEY, (N, N))
    psy_k = ji.gaussian_spectral_radius(dale_ratio=0.75, connectivity=mask, layout="out_in")(
        KEY, (N, N)
    )
    np.testing.assert_array_equal(flax_k, psy_k.T)  # same network, transposed
    n_exc = 9  # int(0.75 * 12)
    flax_k, psy_k = np.asarray(flax_k), np.asarray(psy_k)
    # Flax (in, out): row j holds the outgoing weights of presynaptic unit j.
    assert (flax_k[:n_exc] >= 0).all() and (flax_k[n_exc:] <= 0).all()
    assert (flax_k[:n_exc] > 0).any() and (flax_k[n_exc:] < 0).any()
    # PsychRNN (out, in): column j.
    assert (psy_k[:, :n_exc] >= 0).all() and (psy_k[:, n_exc:] <= 0).all()
    # masked entries are zero, in each layout's own orientation
    assert (psy_k[mask == 0] == 0).all() and (flax_k[mask.T == 0] == 0).all()
    # h @ kernel (Flax) == W_rec_eff @ h (PsychRNN)
    h = np.random.default_rng(1).normal(size=(3, N)).astype(np.float32)
    np.testing.assert_allclose(h @ flax_k, (psy_k @ h.T).T, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layout", ["in_out", "out_in"])
def test_alpha_identity_is_jaxinit_w_rec(layout):
    init = ji.alpha_identity(0.9, dale_ratio=0.5, layout=layout)
    kernel = init(KEY, (N, N))
    expected = jaxinit.effective(core_network("alpha", N, alpha=0.9, dale_ratio=0.5)).W_rec
    np.testing.assert_array_equal(kernel, orient(expected, layout))
    assert (np.diag(kernel)[:6] > 0).all() and (np.diag(kernel)[6:] < 0).all()
    raw = ji.alpha_identity(0.9, weights="raw")(KEY, (N, N))
    np.testing.assert_array_equal(raw, 0.9 * np.eye(N, dtype=np.float32))


SCHEMES = {
    "const_unif": (lambda **kw: ji.const_unif(-0.2, 0.3, **kw), {"minval": -0.2, "maxval": 0.3}),
    "const_gauss": (ji.const_gauss, {}),
    "glorot_unif": (ji.glorot_unif, {}),
    "glorot_gauss": (ji.glorot_gauss, {}),
}


@pytest.mark.parametrize("name", sorted(SCHEMES))
@pytest.mark.parametrize("layout", ["in_out", "out_in"])
def test_schemes_are_jaxinit_schemes(name, layout):
    build, extra = SCHEMES[name]
    mask_psy = random_mask(7, 4, seed=5)  # (out, in) = (N_rec, N_in)
    shape = (4, 7) if layout == "in_out" else (7, 4)
    raw = build(connectivity=orient(mask_psy, layout), weights="raw", layout=layout)(KEY, shape)
    expected = jaxinit.SCHEMES[name](KEY, mask_psy, **extra)
    np.testing.assert_array_equal(raw, orient(expected, layout))
    eff = build(connectivity=orient(mask_psy, layout), layout=layout)(KEY, shape)
    np.testing.assert_array_equal(eff, orient(np.asarray(expected) * mask_psy, layout))


def test_scheme_roles_apply_dale_like_effective():
    cfg = jaxinit.Config(N_in=3, N_rec=8, N_out=2, dale_ratio=0.75, which_rand_init="const_gauss")
    m_in, m_rec, m_out = random_mask(8, 3, 1), random_mask(8, 8, 2), random_mask(2, 8, 3)
    k_in, k_rec, k_out = jax.random.split(KEY, 3)
    kw = dict(dale_ratio=0.75)
    W_in = ji.const_gauss(connectivity=m_in.T, role="input", **kw)(k_in, (3, 8))
    W_rec = ji.const_gauss(connectivity=m_rec.T, role="recurrent", **kw)(k_rec, (8, 8))
    W_out = ji.const_gauss(connectivity=m_out.T, role="output", **kw)(k_out, (8, 2))
    params = jaxinit.weight_initializer(
        KEY,
        cfg,
        W_in=jaxinit.schemes.const_gauss(k_in, m_in),
        W_rec=jaxinit.schemes.const_gauss(k_rec, m_rec),
        W_out=jaxinit.schemes.const_gauss(k_out, m_out),
        input_connectivity=m_in,
        rec_connectivity=m_rec,
        output_connectivity=m_out,
    )
    eff = jaxinit.effective(params)
    np.testing.assert_array_equal(W_in, eff.W_in.T)
    np.testing.assert_array_equal(W_rec, eff.W_rec.T)
    np.testing.assert_array_equal(W_out, eff.W_out.T)
    assert (np.asarray(W_in) >= 0).all() and (np.asarray(W_out)[6:] == 0).all()


def test_autapses_false_zeroes_diagonal_and_sets_fan():
    k = ji.glorot_gauss(role="recurrent", autapses=False)(KEY, (5, 5))
    assert (np.diag(k) == 0).all()
    mask = 1 - np.eye(5, dtype=np.float32)
    np.testing.assert_array_equal(k, (jaxinit.schemes.glorot_gauss(KEY, mask) * mask).T)


def test_from_params_gives_each_array():
    cfg = jaxinit.Config(N_in=3, N_rec=8, N_out=2, dale_ratio=0.75)
    params = jaxinit.gaussian_spectral_radius(KEY, cfg)
    eff = jaxinit.effective(params)
    np.testing.assert_array_equal(ji.from_params(params, "W_in")(None, (3, 8)), eff.W_in.T)
    np.testing.assert_array_equal(
        ji.from_params(params, "W_rec", weights="raw", layout="out_in")(KEY, (8, 8)),
        params.W_rec,
    )
    np.testing.assert_array_equal(
        ji.from_params(params, "output_connectivity")(None, (8, 2)), params.output_connectivity.T
    )
    with pytest.raises(ValueError, match=r"shape \(2, 8\) does not match W_out"):
        ji.from_params(params, "W_out")(None, (2, 8))
    with pytest.raises(ValueError, match=r"name must be one of .* got 'b_rec'"):
        ji.from_params(params, "b_rec")
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params, got dict"):
        ji.from_params({}, "W_in")
    batch = jax.tree.map(lambda a: jnp.stack([a, a]), params)
    with pytest.raises(ValueError, match=r"one network, got an ensemble of shape \(2,\)"):
        ji.from_params(batch, "W_rec")


# ---------------------------------------------------------------------------
# dtype, determinism, jit, vmap, sharding


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.float16, jnp.float32])
def test_dtypes(dtype):
    init = ji.gaussian_spectral_radius(dale_ratio=0.5)
    k = init(KEY, (N, N), dtype)
    assert k.dtype == dtype
    np.testing.assert_array_equal(k, init(KEY, (N, N)).astype(dtype))
    assert ji.glorot_unif()(KEY, [3, 4], dtype).dtype == dtype  # Haiku passes lists


def test_float64_needs_x64():
    with pytest.raises(ValueError, match="dtype float64 needs 64-bit JAX"):
        ji.glorot_gauss()(KEY, (3, 3), jnp.float64)
    with jax.enable_x64(True):
        k = ji.gaussian_spectral_radius(0.9)(KEY, (N, N), jnp.float64)
        assert k.dtype == jnp.float64
        assert float(jaxinit.spectral_radius(k)) == pytest.approx(0.9, rel=1e-12)


def test_determinism_jit_and_vmap():
    init = ji.gaussian_spectral_radius(1.2, dale_ratio=0.8, autapses=False)
    a, b = init(KEY, (N, N)), init(KEY, (N, N))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, init(jax.random.key(1), (N, N)))
    jitted = jax.jit(init, static_argnums=(1, 2))
    np.testing.assert_allclose(jitted(KEY, (N, N), jnp.float32), a, rtol=1e-6, atol=1e-7)
    keys = jax.random.split(KEY, 2)
    batch = jax.vmap(init, in_axes=(0, None))(keys, (N, N))
    assert batch.shape == (2, N, N)
    for i in range(2):
        np.testing.assert_allclose(batch[i], init(keys[i], (N, N)), rtol=1e-6, atol=1e-7)
    raw_key = jax.random.PRNGKey(0)  # old-style uint32 keys work too
    assert ji.glorot_gauss()(raw_key, (2, 2)).shape == (2, 2)


def test_out_sharding():
    mesh = jax.make_mesh((1,), ("x",))
    sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    k = ji.const_gauss()(KEY, (4, 4), jnp.float32, out_sharding=sharding)
    assert k.sharding.is_equivalent_to(sharding, 2)


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: ji.gaussian_spectral_radius(0.0), ValueError, "spec_rad must be positive"),
        (lambda: ji.gaussian_spectral_radius("1"), TypeError, "spec_rad must be a real number"),
        (lambda: ji.gaussian_spectral_radius(dale_ratio=1.5), ValueError, "dale_ratio must be in"),
        (lambda: ji.gaussian_spectral_radius(layout="torch"), ValueError, "layout must be one of"),
        (lambda: ji.gaussian_spectral_radius(weights="x"), ValueError, "weights must be one of"),
        (
            lambda: ji.gaussian_spectral_radius(spectral_radius_of="both"),
            ValueError,
            "spectral_radius_of must be one of",
        ),
        (lambda: ji.gaussian_spectral_radius(autapses=1), TypeError, "autapses must be True"),
        (
            lambda: ji.gaussian_spectral_radius(connectivity=np.ones((2, 3))),
            ValueError,
            r"must be square, got shape \(2, 3\)",
        ),
        (
            lambda: ji.gaussian_spectral_radius(connectivity=np.full((2, 2), 0.5)),
            ValueError,
            r"connectivity must hold only \(0, 1\), got 0.5",
        ),
        (
            lambda: ji.glorot_gauss(connectivity=np.ones(3)),
            ValueError,
            r"connectivity must be a 2-D mask",
        ),
        (lambda: ji.glorot_gauss(connectivity="ones"), TypeError, "connectivity must be an array"),
        (lambda: ji.alpha_identity(None), ValueError, "alpha must be a finite number"),
        (lambda: ji.alpha_identity(float("nan")), ValueError, "alpha must be finite"),
        (
            lambda: ji.const_unif(0.2, 0.1),
            ValueError,
            r"minval must not exceed maxval, got minval=0\.2 > maxval=0\.1",
        ),
        (lambda: ji.const_unif(maxval=float("inf")), ValueError, "maxval must be finite"),
        (lambda: ji.const_unif(minval=None), TypeError, "minval must be a real number"),
        (lambda: ji.const_gauss(dale_ratio=0.5), ValueError, "role must be one of"),
        (lambda: ji.const_gauss(role="hidden"), ValueError, "role must be one of"),
        (lambda: ji.const_gauss(autapses=False), ValueError, "autapses=False applies to"),
    ],
)
def test_builder_errors(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda i: i(KEY, (3, 4)), ValueError, r"recurrent kernel must be square, got shape"),
        (lambda i: i(KEY, (3, 3, 3)), ValueError, "shape must have two dimensions"),
        (lambda i: i(KEY, 3), TypeError, "shape must be a pair of positive integers, got 3"),
        (lambda i: i(KEY, (3.0, 3)), TypeError, "shape must be a pair of positive integers"),
        (lambda i: i(KEY, (0, 0)), ValueError, "shape must be a pair of positive integers"),
        (lambda i: i(KEY, (3, 3), jnp.int32), TypeError, "dtype must be a floating dtype"),
        (lambda i: i(KEY, (3, 3), "nope"), TypeError, "dtype must be a floating dtype"),
        (lambda i: i(0, (3, 3)), TypeError, "key must be a JAX PRNG key"),
        (lambda i: i(jax.random.split(KEY), (3, 3)), ValueError, "key must be a single key"),
    ],
)
def test_call_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(ji.gaussian_spectral_radius())


def test_mask_shape_mismatch_and_nilpotent():
    init = ji.glorot_gauss(connectivity=np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"shape \(4, 3\) does not match the connectivity mask"):
        init(KEY, (4, 3))
    assert init(KEY, (3, 4)).shape == (3, 4)
    with pytest.raises(ValueError, match="does not match the connectivity mask"):
        ji.gaussian_spectral_radius(connectivity=np.ones((3, 3)))(KEY, (N, N))
    with pytest.raises(ValueError, match="spectral radius of effective W_rec is 0"):
        ji.gaussian_spectral_radius(connectivity=np.triu(np.ones((N, N)), 1))(KEY, (N, N))


@pytest.mark.parametrize(
    ("old", "new"), [("flax", "in_out"), ("psychrnn", "out_in"), ("keras", "in_out")]
)
def test_old_layout_spellings_warn_and_work(old, new):
    with pytest.warns(DeprecationWarning, match=f"layout='{old}' is deprecated.*layout='{new}'"):
        init = ji.glorot_gauss(layout=old)
    assert init.options["layout"] == new
    np.testing.assert_array_equal(init(KEY, (3, 4)), ji.glorot_gauss(layout=new)(KEY, (3, 4)))


def test_old_layout_spellings_in_every_builder():
    params = core_network("gsr", N, dale_ratio=0.75)
    builders = [
        lambda layout: ji.gaussian_spectral_radius(layout=layout),
        lambda layout: ji.alpha_identity(0.5, layout=layout),
        lambda layout: ji.const_unif(layout=layout),
        lambda layout: ji.const_gauss(layout=layout),
        lambda layout: ji.glorot_unif(layout=layout),
        lambda layout: ji.from_params(params, "W_rec", layout=layout),
        lambda layout: jhk.glorot_gauss(layout=layout).initializer,
    ]
    for build in builders:
        with pytest.warns(DeprecationWarning, match="layout='psychrnn' is deprecated") as rec:
            init = build("psychrnn")
        assert len(rec) == 1 and rec[0].filename == __file__  # points at the caller's line
        np.testing.assert_array_equal(init(KEY, (N, N)), build("out_in")(KEY, (N, N)))


def test_repr_and_options():
    mask = np.ones((3, 4))
    init = ji.glorot_gauss(connectivity=mask)
    assert repr(init).startswith("jaxinit.initializers.glorot_gauss(connectivity=<mask 3x4>")
    np.testing.assert_array_equal(init.options["connectivity"], mask)
    init = ji.gaussian_spectral_radius(1.2, connectivity=np.ones((3, 3)))
    assert repr(init).startswith("jaxinit.initializers.gaussian_spectral_radius(spec_rad=1.2")
    assert init.options["layout"] == "in_out" and init.name == "gaussian_spectral_radius"
    assert init.options["spectral_radius_of"] == init.options["weights"] == "effective"
    assert "jaxinit.haiku.wrap(jaxinit.initializers.glorot_gauss(" in repr(jhk.glorot_gauss())


def test_importing_initializers_does_not_import_flax_or_haiku():
    import subprocess
    import sys

    code = (
        "import sys, jaxinit.initializers; "
        "print(any(m.split('.')[0] in ('flax', 'haiku') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
