"""jaxinit.summarize and jaxinit.plot on sparse networks, checked against the dense
path on ``todense()`` and against numpy on the stored entries; one run at N = 10^5."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from jaxinit._src import summary as summary_module
from jaxinit._src.sparse.ritz import ritz_values
from tests.conftest import require_module

N, K = 300, 20


def _config(n, **kw):
    base = dict(
        N_in=2, N_rec=n, N_out=1, dale_ratio=0.8, autapses=True, spec_rad=1.1,
        spectral_radius_of="effective", spectral_method="krylov",
    )
    return jaxinit.Config(**{**base, **kw})


@pytest.fixture(scope="module")
def pattern():
    return jaxinit.sparse.fixed_in_degree(jax.random.key(1), (N, N), K, autapses=True)


@pytest.fixture(scope="module")
def net(pattern):
    return jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), _config(N), pattern)


@pytest.fixture(scope="module")
def free_net(pattern):
    cfg = _config(N, dale_ratio=None, spectral_radius_of="raw")
    return jaxinit.sparse.gaussian_spectral_radius(jax.random.key(2), cfg, pattern)


def _dense_parts(sp):
    dense = sp.todense()
    mask = np.asarray(dense.rec_connectivity) != 0
    return dense, mask, np.asarray(dense.W_rec, np.float64)


# ---------------------------------------------------------------- summarize


def test_summary_of_a_sparse_network_matches_the_dense_path(net):
    s = jaxinit.summarize(net)
    dense, mask, W = _dense_parts(net)
    d = jaxinit.summarize(dense)
    assert isinstance(s, jaxinit.Summary)
    for field in ("N_in", "N_rec", "N_out", "dale_ratio", "n_excitatory", "n_inhibitory",
                  "autapses", "transfer_function", "dtype"):
        assert getattr(s, field) == getattr(d, field), field
    assert (s.n_excitatory, s.n_inhibitory) == (240, 60)
    assert s.autapses == int(mask.diagonal().sum()) > 0
    assert s.rec_density == pytest.approx(d.rec_density, rel=1e-6)
    assert s.rec_density == K / N
    # both radii against the dense full solve (float32 Krylov, certified to 1e-5)
    assert s.raw_spectral_radius == pytest.approx(d.raw_spectral_radius, rel=5e-5)
    assert s.effective_spectral_radius == pytest.approx(d.effective_spectral_radius, rel=5e-5)
    assert s.effective_spectral_radius == pytest.approx(1.1, rel=5e-5)
    # the sparse fields, against numpy on the dense mask and the stored entries
    assert s.nnz == int(mask.sum()) == N * K
    rows, cols = mask.sum(axis=1), mask.sum(axis=0)
    assert (s.in_degree.min, s.in_degree.mean, s.in_degree.max) == (K, K, K)
    assert (s.out_degree.min, s.out_degree.max) == (cols.min(), cols.max())
    assert s.out_degree.mean == pytest.approx(cols.mean(), rel=1e-12)
    assert rows.min() == K and cols.min() < K < cols.max()
    stored = W[mask]
    assert s.weights.mean == pytest.approx(stored.mean(), rel=1e-6, abs=1e-9)
    assert s.weights.std == pytest.approx(stored.std(), rel=1e-6)
    assert (s.weights.min, s.weights.max) == pytest.approx((stored.min(), stored.max()))
    assert s.radius_method.startswith("Krylov on the sparse matrix, certified")
    # the dense summary has none of the sparse fields and none of their rows
    assert (d.nnz, d.in_degree, d.out_degree, d.weights, d.radius_method) == (None,) * 5
    assert [label for label, _ in d.rows()] == [
        "sizes (N_in, N_rec, N_out)", "dale_ratio", "excitatory / inhibitory units",
        "recurrent density", "self-connections (autapses)", "spectral radius, raw W_rec",
        "spectral radius, effective W_rec", "transfer function", "dtype",
    ]
    text = dict(s.rows())
    assert text["stored recurrent entries (nnz)"] == str(N * K)
    assert text["in-degree (min / mean / max)"] == str(K)
    assert text["spectral radius method"] == s.radius_method
    assert "stored recurrent entries (nnz)" in str(s)


def test_summary_without_dale_has_one_radius_and_no_ei_counts(free_net):
    s = jaxinit.summarize(free_net)
    d = jaxinit.summarize(free_net.todense())
    assert s.n_excitatory is None and s.n_inhibitory is None
    assert s.raw_spectral_radius == s.effective_spectral_radius
    assert s.raw_spectral_radius == pytest.approx(1.1, rel=5e-5)
    assert s.raw_spectral_radius == pytest.approx(d.raw_spectral_radius, rel=5e-5)
    assert "no Dale's law" in dict(s.rows())["dale_ratio"]


def test_summary_counts_padding_as_nothing():
    # rows of 0, 1, 3 and 1 entries in 3 slots (padding in three rows), two on the diagonal
    dense = np.array([[0.0, 0.0, 0.0, 0.0],
                      [0.0, 2.0, 0.0, 0.0],
                      [1.0, 0.0, -3.0, 0.5],
                      [4.0, 0.0, 0.0, 0.0]], np.float32)
    W = jaxinit.sparse.from_dense(dense)
    assert W.slots == 3 and int(W.stored.sum()) == 5
    cfg = _config(4, dale_ratio=None, spectral_radius_of="raw", N_in=1)
    pattern = W.with_values(jnp.where(W.stored, 1.0, 0.0))
    sp = jaxinit.sparse.weight_initializer(jax.random.key(0), cfg, pattern, W_rec=W)
    s = jaxinit.summarize(sp)
    assert s.nnz == 5 and s.rec_density == 5 / 16
    assert s.autapses == 2  # (1, 1) and (2, 2)
    assert (s.in_degree.min, s.in_degree.mean, s.in_degree.max) == (0, 1.25, 3)
    assert (s.out_degree.min, s.out_degree.mean, s.out_degree.max) == (1, 1.25, 2)
    stored = dense[dense != 0].astype(np.float64)
    assert s.weights.mean == pytest.approx(stored.mean())
    assert s.weights.std == pytest.approx(stored.std())
    assert s.raw_spectral_radius == pytest.approx(
        np.abs(np.linalg.eigvals(dense.astype(np.float64))).max(), rel=1e-5
    )


def test_ensemble_summary_of_sparse_networks(pattern):
    cfg = _config(N)
    other = jaxinit.sparse.fixed_in_degree(jax.random.key(9), (N, N), K)
    members = [
        jaxinit.sparse.gaussian_spectral_radius(jax.random.key(i), cfg, P)
        for i, P in ((3, pattern), (4, other))
    ]
    ens = jax.tree.map(lambda *xs: jnp.stack(xs), *members)
    e = jaxinit.summarize(ens)
    singles = [jaxinit.summarize(m) for m in members]
    assert isinstance(e, jaxinit.EnsembleSummary)
    assert (e.members, e.batch_shape) == (2, (2,))
    raw = sorted(s.raw_spectral_radius for s in singles)
    assert (e.raw_spectral_radius.min, e.raw_spectral_radius.max) == pytest.approx(raw, rel=1e-6)
    autapses = sorted(s.autapses for s in singles)
    assert (e.autapses.min, e.autapses.max) == tuple(autapses)
    assert (e.nnz.min, e.nnz.max) == (N * K, N * K)
    assert e.effective_spectral_radius.min == pytest.approx(1.1, rel=5e-5)
    # degrees and weights pooled over the members
    outs = np.concatenate([np.asarray(m.todense().rec_connectivity).sum(axis=0) for m in members])
    assert (e.out_degree.min, e.out_degree.max) == (outs.min(), outs.max())
    values = np.concatenate([np.asarray(m.W_rec.values, np.float64).ravel() for m in members])
    assert e.weights.mean == pytest.approx(values.mean(), rel=1e-6, abs=1e-9)
    assert e.weights.max == pytest.approx(values.max())
    assert dict(e.rows())["stored recurrent entries (nnz)"] == str(N * K)
    assert "out-degree (min / mean / max, all members)" in dict(e.rows())


def test_uncertified_radii_are_reported_or_solved_in_full(net, monkeypatch):
    monkeypatch.setattr(summary_module, "SPARSE_RADIUS_TOL", 1e-12)  # unreachable in float32
    monkeypatch.setattr(summary_module, "SPARSE_FULL_SOLVE_MAX_N", N - 1)
    s = jaxinit.summarize(net)
    assert s.radius_method.startswith("Krylov on the sparse matrix, NOT certified for 2 radii")
    assert s.effective_spectral_radius == pytest.approx(1.1, rel=1e-4)  # still the top Ritz value
    monkeypatch.setattr(summary_module, "SPARSE_FULL_SOLVE_MAX_N", N)
    s = jaxinit.summarize(net)
    assert s.radius_method.endswith("(2 radii by the full solve)")
    _, _, W = _dense_parts(net)
    assert s.raw_spectral_radius == pytest.approx(np.abs(np.linalg.eigvals(W)).max(), rel=1e-5)


def test_summarize_rejects_other_types():
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params or a jaxinit\.sparse"):
        jaxinit.summarize(np.eye(3))


# ---------------------------------------------------------------- Ritz values


def test_ritz_values_of_a_full_basis_are_the_eigenvalues():
    n = 60
    P = jaxinit.sparse.fixed_in_degree(jax.random.key(3), (n, n), 6)
    W = P.with_values(jax.random.normal(jax.random.key(4), P.values.shape))
    out = ritz_values(W)
    assert out.values.shape == (n,) and bool(out.converged)
    ev = np.linalg.eigvals(np.asarray(W.todense(), np.float64))
    got = np.asarray(out.values, np.complex128)
    assert np.abs(np.abs(got) - np.sort(np.abs(ev))[::-1]).max() < 1e-4 * np.abs(ev).max()
    assert max(np.abs(ev - v).min() for v in got) < 1e-4 * np.abs(ev).max()
    assert float(out.radius) == pytest.approx(np.abs(ev).max(), rel=1e-5)
    assert float(out.radius) == float(np.abs(got).max())


def test_ritz_values_rejects_stacks_and_bad_tol(pattern):
    stack = jaxinit.sparse.RowSparse(
        jnp.stack([pattern.values] * 2), jnp.stack([pattern.index] * 2), N
    )
    with pytest.raises(ValueError, match=r"W must be one matrix"):
        ritz_values(stack)
    with pytest.raises(ValueError, match=r"tol must be in \(0, 1\), got 2"):
        ritz_values(pattern, tol=2)


# ---------------------------------------------------------------- plots

plot_tests = pytest.mark.usefixtures("_matplotlib")


@pytest.fixture
def _matplotlib():
    require_module("matplotlib", "plot")


def _heights(container):
    return np.array([bar.get_height() for bar in container])


def _centers(container):
    return np.array([bar.get_x() + bar.get_width() / 2 for bar in container])


@plot_tests
def test_degree_histograms_count_the_dense_masks_degrees(net):
    import jaxinit.plot as jplot

    fig, (ins, outs) = jplot.degree_histograms(net)
    _, mask, _ = _dense_parts(net)
    rows, cols = mask.sum(axis=1), mask.sum(axis=0)
    assert len(ins.containers) == len(outs.containers) == 2  # E and I
    n_exc = 240
    for ax, degree in ((ins, rows), (outs, cols)):
        for container, part in zip(ax.containers, (degree[:n_exc], degree[n_exc:]), strict=True):
            centers = _centers(container).round().astype(int)
            counts = np.array([np.count_nonzero(part == c) for c in centers])
            assert (_heights(container) == counts).all()
            assert _heights(container).sum() == part.size
    assert "nnz 6000" in fig.get_suptitle()
    # a bare pattern: one container, bins of width 3
    fig, (ins, outs) = jplot.degree_histograms(net.rec_connectivity, bin_width=3)
    (container,) = outs.containers
    lo = cols.min()
    expected = np.bincount((cols - lo) // 3)
    assert (_heights(container) == expected).all()


@plot_tests
def test_degree_histograms_draw_into_given_axes_and_check_arguments(net):
    from matplotlib.figure import Figure

    import jaxinit.plot as jplot

    fig = Figure()
    a, b = fig.subplots(1, 2)
    got, (ins, outs) = jplot.degree_histograms(net, axes=[a, b], title="mine")
    assert got is fig and (ins, outs) == (a, b) and a.get_title() == "mine"
    with pytest.raises(ValueError, match=r"two matplotlib Axes.*3 items"):
        jplot.degree_histograms(net, axes=[a, b, a])
    with pytest.raises(TypeError, match=r"use jaxinit\.plot\.mask_structure"):
        jplot.degree_histograms(net.todense())
    with pytest.raises(ValueError, match=r"bin_width must be a positive integer, got 0"):
        jplot.degree_histograms(net, bin_width=0)
    ens = jax.tree.map(lambda *xs: jnp.stack(xs), net, net)
    with pytest.raises(ValueError, match=r"net must be one network, got an ensemble"):
        jplot.degree_histograms(ens)


def _by_gid(ax):
    return {c.get_gid(): np.asarray(c.get_offsets()) for c in ax.collections}


def _complex(xy):
    return xy[:, 0] + 1j * xy[:, 1]


@plot_tests
def test_ritz_spectrum_finds_outer_eigenvalues_and_the_certified_radius():
    import jaxinit.plot as jplot

    n = 800
    cfg = _config(n)
    P = jaxinit.sparse.fixed_in_degree(jax.random.key(5), (n, n), 40)
    sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(6), cfg, P)
    _, ax = jplot.ritz_spectrum(sp, which=("raw", "effective"), spec_rad=1.1)
    sets = _by_gid(ax)
    assert set(sets) == {"raw", "raw-unconverged", "effective", "effective-unconverged"}
    circles = {p.get_gid(): p.get_radius() for p in ax.patches}
    dense = sp.todense()
    for name, W in (("raw", dense.W_rec), ("effective", jaxinit.effective(dense).W_rec)):
        found = _complex(sets[name])
        ev = np.linalg.eigvals(np.asarray(W, np.float64))
        rho = np.abs(ev).max()
        assert np.abs(found).max() == pytest.approx(circles[f"radius-{name}"], rel=1e-6)
        assert circles[f"radius-{name}"] == pytest.approx(rho, rel=2e-5)
        # every drawn value is an eigenvalue (residual <= 1e-3), the outer ones
        assert found.size >= 5
        assert max(np.abs(ev - v).min() for v in found) < 1e-2 * rho
        assert np.abs(found).min() > np.quantile(np.abs(ev), 0.5)
        basis = jaxinit.sparse.sparse_basis_size(n, 40)
        assert sets[f"{name}-unconverged"].shape[0] + found.size == basis == 80
    assert circles["target"] == 1.1
    assert circles["radius-effective"] == pytest.approx(1.1, rel=5e-5)
    labels = ax.get_legend_handles_labels()[1]
    assert any(label.startswith("certified $\\rho$ = 1.1") for label in labels)
    # a bare matrix, and a tolerance float32 cannot certify
    _, ax = jplot.ritz_spectrum(sp.W_rec, tol=1e-12)
    assert set(_by_gid(ax)) == {"W", "W-unconverged"}
    assert any("NOT certified" in label for label in ax.get_legend_handles_labels()[1])


@plot_tests
def test_ritz_spectrum_refuses_bad_input(net):
    import jaxinit.plot as jplot

    with pytest.raises(TypeError, match=r"use jaxinit\.plot\.spectrum"):
        jplot.ritz_spectrum(np.eye(3))
    with pytest.raises(ValueError, match=r"accuracy must be in \(0, 1\), got 1\.5"):
        jplot.ritz_spectrum(net, accuracy=1.5)
    with pytest.raises(ValueError, match=r"which must be 'raw', 'effective'"):
        jplot.ritz_spectrum(net, which="both")


@plot_tests
@pytest.mark.parametrize("sample", ["even", "random"])
def test_sampled_weights_equal_the_dense_matrix_at_the_sampled_units(net, sample):
    import jaxinit.plot as jplot

    key = jax.random.key(7) if sample == "random" else None
    _, ax = jplot.sampled_weights(net, size=50, sample=sample, key=key)
    if sample == "even":
        units = np.round(np.linspace(0, N - 1, 50)).astype(int)
        assert ax.get_title() == f"effective W_rec, 50 of {N} units, evenly spaced (every 6.1)"
    else:
        units = np.sort(np.asarray(jax.random.choice(key, N, (50,), replace=False)))
        assert ax.get_title() == f"effective W_rec, 50 of {N} units, at random"
    image = ax.images[0].get_array()
    dense = np.asarray(jaxinit.effective(net.todense()).W_rec)
    mask = np.asarray(net.todense().rec_connectivity) != 0
    assert (image.filled(0) == dense[np.ix_(units, units)]).all()
    assert (image.mask == ~mask[np.ix_(units, units)]).all()
    formatter = ax.xaxis.get_major_formatter()
    assert [formatter(p) for p in range(50)] == [str(u) for u in units]
    n_exc = int((units < 240).sum())
    lines = [line.get_xdata()[0] for line in ax.lines if line.get_gid() == "ei-boundary-columns"]
    assert lines == [n_exc - 0.5]
    assert sorted(t.get_text() for t in ax.texts) == [f"E ({n_exc})", f"I ({50 - n_exc})"]


@plot_tests
def test_sampled_weights_of_every_unit_and_its_arguments(net):
    import jaxinit.plot as jplot

    _, ax = jplot.sampled_weights(net, which="raw", size=1000, colorbar=False)
    assert ax.get_title() == f"raw W_rec, all {N} units"
    assert (ax.images[0].get_array().filled(0) == np.asarray(net.W_rec.todense())).all()
    with pytest.raises(ValueError, match=r"key chooses a random sample"):
        jplot.sampled_weights(net, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"size must be between 1 and 4096, got 0"):
        jplot.sampled_weights(net, size=0)
    with pytest.raises(TypeError, match=r"size must be a positive integer, got 2\.5"):
        jplot.sampled_weights(net, size=2.5)
    with pytest.raises(ValueError, match=r"sample must be one of \('even', 'random'\), got 'x'"):
        jplot.sampled_weights(net, sample="x")
    with pytest.raises(TypeError, match=r"use jaxinit\.plot\.weights"):
        jplot.sampled_weights(np.eye(3))


@plot_tests
def test_dense_figures_refuse_sparse_networks_by_name(net):
    import jaxinit.plot as jplot

    with pytest.raises(TypeError, match=r"SparseParams \(N = 300\).*jaxinit\.plot\.ritz_spectrum"):
        jplot.spectrum(net)
    with pytest.raises(TypeError, match=r"jaxinit\.plot\.sampled_weights"):
        jplot.weights(net)
    with pytest.raises(TypeError, match=r"RowSparse \(N = 300\).*degree_histograms"):
        jplot.mask_structure(net.rec_connectivity)


@plot_tests
def test_ensemble_radii_of_a_sparse_ensemble(pattern):
    import jaxinit.plot as jplot

    members = [
        jaxinit.sparse.gaussian_spectral_radius(jax.random.key(i), _config(N), pattern)
        for i in range(3)
    ]
    ens = jax.tree.map(lambda *xs: jnp.stack(xs), *members)
    _, ax = jplot.ensemble_radii(ens, which="raw", bins=5)
    (container,) = ax.containers
    assert _heights(container).sum() == 3
    raws = [jaxinit.summarize(m).raw_spectral_radius for m in members]
    label = ax.get_legend_handles_labels()[1][0]
    assert label.startswith(f"raw W_rec: {np.mean(raws):.4g}")
    _, ax = jplot.ensemble_radii(ens.W_rec, bins=5)
    assert _heights(ax.containers[0]).sum() == 3
    with pytest.raises(ValueError, match=r"got a single network; use jaxinit\.plot\.ritz_spectrum"):
        jplot.ensemble_radii(members[0])


# ---------------------------------------------------------------- N = 10^5


@pytest.mark.slow
def test_summary_and_figures_at_n_100000():
    n, k = 100_000, 10
    start = time.perf_counter()
    P = jaxinit.sparse.fixed_in_degree(jax.random.key(11), (n, n), k)
    # scaled by the predicted radius (no Krylov run here): the radii below are measured
    cfg = _config(n, spectral_method="predicted")
    sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(12), cfg, P)
    s = jaxinit.summarize(sp)
    assert s.nnz == n * k and s.rec_density == pytest.approx(k / n)
    assert (s.in_degree.min, s.in_degree.max) == (k, k)
    assert s.out_degree.mean == pytest.approx(k) and s.out_degree.max > k
    assert (s.n_excitatory, s.n_inhibitory) == (80_000, 20_000)
    assert s.effective_spectral_radius == pytest.approx(1.1, rel=0.05)  # the prediction's error
    assert s.radius_method.startswith("Krylov on the sparse matrix, certified")
    values = np.asarray(sp.W_rec.values, np.float64)
    assert s.weights.std == pytest.approx(values.std(), rel=1e-6)
    index = np.asarray(P.index)
    assert s.autapses == int((index == np.arange(n)[:, None]).sum())
    require_module("matplotlib", "plot")
    import jaxinit.plot as jplot

    _, (_, outs) = jplot.degree_histograms(sp)
    assert [_heights(c).sum() for c in outs.containers] == [80_000, 20_000]
    out_degree = np.bincount(index.ravel(), minlength=n)
    heights = sum(_heights(c) for c in outs.containers)
    assert (heights == np.bincount(out_degree)[out_degree.min():]).all()
    _, ax = jplot.ritz_spectrum(sp)
    rho = {p.get_gid(): p.get_radius() for p in ax.patches}["radius-effective"]
    assert rho == pytest.approx(s.effective_spectral_radius, rel=2e-5)
    assert np.abs(_complex(_by_gid(ax)["effective"])).max() == pytest.approx(rho, rel=1e-6)
    _, ax = jplot.sampled_weights(sp, size=500, sample="random", key=jax.random.key(13))
    units = np.sort(np.asarray(jax.random.choice(jax.random.key(13), n, (500,), replace=False)))
    eff = jaxinit.effective(sp).W_rec
    eff_values, eff_index = np.asarray(eff.values), np.asarray(eff.index)
    image = ax.images[0].get_array()
    for place, unit in enumerate(units):  # one dense row at a time
        row = np.zeros(n + 1, np.float32)
        np.add.at(row, eff_index[unit], eff_values[unit])
        assert (image.filled(0)[place] == row[units]).all()
    assert "500 of 100000 units, at random" in ax.get_title()
    print(f"N = {n}, K = {k}: built, summarized and drawn in {time.perf_counter() - start:.1f} s")
