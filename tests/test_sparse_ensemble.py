"""jaxinit.ensemble of sparse networks: member i is the single call with fold_in(key, i)."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit.sparse import SparseParams, fixed_in_degree

N = 400
KEY = jax.random.key(3)
PATTERN = fixed_in_degree(jax.random.key(1), (N, N), 20, autapses=False)


def config(**changes):
    base = dict(N_in=3, N_rec=N, N_out=2, dale_ratio=0.8, spec_rad=1.2,
                spectral_radius_of="effective", spectral_method="krylov", autapses=False)
    return jaxinit.Config(**{**base, **changes})


def leaves(params):
    return {name: np.asarray(x) for name, x in
            zip(("W_in", "values", "index", "W_out", "b_rec", "b_out", "init_state",
                 "input_connectivity", "output_connectivity", "dale_rec_diag", "dale_out_diag"),
                jax.tree_util.tree_leaves(params), strict=True)}


@pytest.mark.parametrize("init", [jaxinit.sparse.weight_initializer, jaxinit.sparse.alpha_identity])
def test_members_without_a_radius_equal_single_calls(init):
    """Every array bit for bit but W_rec's values, which the vmapped program may
    round differently (glorot's sqrt of the fan, the balance): a few float32 ulps."""
    cfg = config(alpha=0.7, autapses=True)
    pattern = fixed_in_degree(jax.random.key(2), (N, N), 40)  # some diagonal entries
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jaxinit.UnregulatedSpectrumWarning)
        ens = jaxinit.ensemble(init, KEY, 5, cfg, rec_connectivity=pattern)
        assert isinstance(ens, SparseParams) and ens.batch_shape == (5,)
        assert float(jnp.abs(ens.W_rec.values).sum()) > 0
        for i in (0, 2, 4):
            one = init(jax.random.fold_in(KEY, i), cfg, pattern)
            got = leaves(jaxinit.member(ens, i))
            for name, want in leaves(one).items():
                if name == "values":
                    np.testing.assert_allclose(got[name], want, rtol=4 * 2.0**-23, atol=0)
                else:
                    np.testing.assert_array_equal(got[name], want, err_msg=name)


@pytest.mark.parametrize("radius_of", ["raw", "effective"])
def test_scaled_members_agree_with_single_calls_and_are_certified(radius_of):
    cfg = config(spectral_radius_of=radius_of)
    ens = jaxinit.ensemble(jaxinit.sparse.gaussian_spectral_radius, KEY, 4, cfg,
                           rec_connectivity=PATTERN)
    for i in range(4):
        member = jaxinit.member(ens, i)
        one = jaxinit.sparse.gaussian_spectral_radius(jax.random.fold_in(KEY, i), cfg, PATTERN)
        # the same draw; the two radii are each certified to 1e-5 relative
        np.testing.assert_allclose(member.W_rec.values, one.W_rec.values, rtol=3e-5, atol=0)
        np.testing.assert_array_equal(member.W_in, one.W_in)
        measured = jaxinit.effective(member).W_rec if radius_of == "effective" else member.W_rec
        dense = np.asarray(measured.todense(), np.float64)
        rho = np.abs(np.linalg.eigvals(dense)).max()
        assert abs(rho - 1.2) <= 2e-5 * 1.2


def test_members_subset_and_member_numbering():
    cfg = config()
    whole = jaxinit.ensemble(jaxinit.sparse.gaussian_spectral_radius, KEY, 6, cfg,
                             rec_connectivity=PATTERN)
    part = jaxinit.ensemble(jaxinit.sparse.gaussian_spectral_radius, KEY, 6, cfg,
                            rec_connectivity=PATTERN, members=range(4, 6))
    assert part.batch_shape == (2,)
    np.testing.assert_array_equal(part.W_in, whole.W_in[4:])
    np.testing.assert_allclose(part.W_rec.values, whole.W_rec.values[4:], rtol=3e-5, atol=0)
    assert not np.allclose(whole.W_rec.values[0], whole.W_rec.values[1])


def test_a_member_with_zero_radius_is_named():
    zeros = PATTERN.with_values(jnp.zeros_like(PATTERN.values))
    with pytest.raises(ValueError, match=r"effective W_rec of member 4 is 0\.0; it must be finite"):
        jaxinit.ensemble(jaxinit.sparse.gaussian_spectral_radius, KEY, 6, config(),
                         rec_connectivity=PATTERN, members=[4, 5], W_rec=zeros)


def test_sparse_ensemble_errors():
    init = jaxinit.sparse.gaussian_spectral_radius
    with pytest.raises(TypeError, match="needs rec_connectivity="):
        jaxinit.ensemble(init, KEY, 2, config())
    stack = jax.tree.map(lambda x: jnp.stack([x, x]), PATTERN)
    with pytest.raises(ValueError, match=r"must be one pattern \(N_rec, K\), shared by every"):
        jaxinit.ensemble(init, KEY, 2, config(), rec_connectivity=stack)
    with pytest.raises(ValueError, match="sharding= is not available for sparse ensembles"):
        mesh = jax.make_mesh((jax.device_count(),), ("members",))
        jaxinit.ensemble(init, KEY, 2, config(), rec_connectivity=PATTERN, sharding=mesh)
    with pytest.raises(ValueError, match=r"W_in must be one array shared by every member"):
        jaxinit.ensemble(init, KEY, 2, config(), rec_connectivity=PATTERN,
                         W_in=np.ones((2, N, 3)))
    with pytest.raises(ValueError, match="members must lie in"):
        jaxinit.ensemble(init, KEY, 2, config(), rec_connectivity=PATTERN, members=[2])
    with pytest.raises(TypeError, match="does not take 'Dale_rec'"):
        jaxinit.ensemble(init, KEY, 2, config(), rec_connectivity=PATTERN,
                         Dale_rec=np.eye(N))


def test_unregulated_spectrum_warning_points_at_the_callers_line():
    cfg = config(dale_ratio=None, spectral_radius_of="raw")
    calls = [
        lambda: jaxinit.sparse.weight_initializer(KEY, cfg, PATTERN),
        lambda: jaxinit.ensemble(jaxinit.sparse.weight_initializer, KEY, 2, cfg,
                                 rec_connectivity=PATTERN),
        lambda: jaxinit.weight_initializer(KEY, cfg.replace(N_rec=8, autapses=True)),
    ]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        found = [w for w in caught if issubclass(w.category, jaxinit.UnregulatedSpectrumWarning)]
        assert len(found) == 1 and found[0].filename == __file__, found
