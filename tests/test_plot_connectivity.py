"""jaxinit.plot.mask_structure and spectrum(predicted=True): the content of the figures."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxinit
from tests.conftest import require_module

require_module("matplotlib", "plot")

import matplotlib.colors as mcolors  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import jaxinit.connectivity  # noqa: E402
import jaxinit.plot as jplot  # noqa: E402
from jaxinit import ensemble  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def lines(ax, gid):
    return [line for line in ax.lines if line.get_gid() == gid]


def heights(container):
    return np.array([bar.get_height() for bar in container])


def centers(container):
    return np.array([bar.get_x() + bar.get_width() / 2 for bar in container])


def total_heights(ax):
    return sum(heights(c) for c in ax.containers)


def counts_from(degrees):
    """``np.bincount`` of the degrees, from the smallest degree to the largest."""
    degrees = np.asarray(degrees).astype(int)
    return np.bincount(degrees)[degrees.min() :]


def legend_labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def density_texts(ax):
    return [t for t in ax.texts if t.get_gid() == "block-density"]


@pytest.fixture(scope="module")
def ei_mask():
    """40 units, 32 E then 8 I, E onto E sparse."""
    return np.asarray(
        jaxinit.connectivity.ei(jax.random.key(3), 40, 0.8, p_EE=0.15, p_EI=0.6, p_IE=0.4, p_II=0.5)
    )


@pytest.fixture(scope="module")
def dale_params(ei_mask):
    cfg = jaxinit.Config(N_in=2, N_rec=40, N_out=1, dale_ratio=0.8, spec_rad=1.2)
    return jaxinit.gaussian_spectral_radius(jax.random.key(4), cfg, rec_connectivity=ei_mask)


# ---------------------------------------------------------------------------
# mask_structure: the image and the degree histograms
# ---------------------------------------------------------------------------


def test_mask_structure_of_a_plain_mask():
    mask = np.asarray(jaxinit.connectivity.bernoulli(jax.random.key(0), (30, 30), 0.3))
    fig, (mask_ax, in_ax, out_ax) = jplot.mask_structure(mask)
    assert isinstance(fig, Figure)
    assert mask_ax.figure is fig and in_ax.figure is fig and out_ax.figure is fig
    (image,) = mask_ax.images
    data = np.asarray(image.get_array())
    assert data.shape == mask.shape  # one pixel per entry
    np.testing.assert_array_equal(data, mask)
    assert image.get_clim() == (0.0, 1.0)
    # Without groups: no boundaries, no labels, one bar container per histogram.
    assert not lines(mask_ax, "group-boundary-columns") and not mask_ax.texts
    connected = mask != 0
    for ax, degrees in ((in_ax, connected.sum(axis=1)), (out_ax, connected.sum(axis=0))):
        (bars,) = ax.containers
        np.testing.assert_array_equal(heights(bars), counts_from(degrees))
        assert heights(bars).sum() == 30
        # Width-1 bins centred on the degrees themselves.
        lo, hi = int(degrees.min()), int(degrees.max())
        np.testing.assert_allclose(centers(bars), np.arange(lo, hi + 1))
        assert {bar.get_width() for bar in bars} == {1}
        (label,) = legend_labels(ax)
        assert label.startswith(f"mean {degrees.mean():.3g} ± ")
    assert in_ax.get_xlabel() == "in-degree: inputs received (row sum)"
    assert out_ax.get_xlabel() == "out-degree: outputs sent (column sum)"
    assert mask_ax.get_title() == f"mask (30 x 30, density {connected.mean():.3g})"
    assert legend_labels(mask_ax) == ["connection (1)", "none (0)"]


def test_mask_structure_in_and_out_degrees_differ():
    """Rows are receiving units: in-degree = row sums, out-degree = column sums."""
    key = jax.random.key(1)
    mask = np.asarray(jaxinit.connectivity.fixed_in_degree(key, (25, 25), 6))
    _, (_, in_ax, out_ax) = jplot.mask_structure(mask)
    (in_bars,) = in_ax.containers
    assert list(heights(in_bars)) == [25]  # every unit receives exactly 6 inputs
    assert list(centers(in_bars)) == [6]
    (out_bars,) = out_ax.containers
    np.testing.assert_array_equal(heights(out_bars), counts_from(mask.sum(axis=0)))
    transposed = np.asarray(jaxinit.connectivity.fixed_out_degree(key, (25, 25), 4))
    _, (_, in_ax, out_ax) = jplot.mask_structure(transposed)
    assert list(heights(out_ax.containers[0])) == [25]
    assert list(centers(out_ax.containers[0])) == [4]


def test_mask_structure_of_a_rectangular_boolean_mask():
    rng = np.random.default_rng(0)
    mask = rng.random((12, 5)) < 0.5
    _, (mask_ax, in_ax, out_ax) = jplot.mask_structure(jnp.asarray(mask))
    np.testing.assert_array_equal(mask_ax.images[0].get_array(), mask.astype(float))
    assert total_heights(in_ax).sum() == 12 and total_heights(out_ax).sum() == 5
    np.testing.assert_array_equal(total_heights(out_ax), counts_from(mask.sum(axis=0)))
    assert mask_ax.get_title().startswith("mask (12 x 5,")


# ---------------------------------------------------------------------------
# mask_structure: groups
# ---------------------------------------------------------------------------


def test_mask_structure_groups_as_sizes(ei_mask):
    _, (mask_ax, in_ax, out_ax) = jplot.mask_structure(ei_mask, groups=(32, 8))
    (col,) = lines(mask_ax, "group-boundary-columns")
    (row,) = lines(mask_ax, "group-boundary-rows")
    assert list(col.get_xdata()) == [31.5, 31.5]
    assert list(row.get_ydata()) == [31.5, 31.5]
    labels = {t.get_text() for t in mask_ax.texts if t.get_gid() != "block-density"}
    assert labels == {"1 (32)", "2 (8)"}
    # Stacked by group: in-degrees by the receiving unit's group (rows) ...
    rows_in = (ei_mask != 0).sum(axis=1)
    lo = rows_in.min()
    first, second = in_ax.containers
    np.testing.assert_array_equal(total_heights(in_ax), counts_from(rows_in))
    n_bins = len(first)
    np.testing.assert_array_equal(heights(first), np.bincount(rows_in[:32] - lo, minlength=n_bins))
    np.testing.assert_array_equal(heights(second), np.bincount(rows_in[32:] - lo, minlength=n_bins))
    # ... stacked: the second group's bars sit on the first's.
    np.testing.assert_array_equal([bar.get_y() for bar in second], heights(first))
    # ... out-degrees by the sending unit's group (columns).
    cols_out = ei_mask.sum(axis=0).astype(int)
    first, second = out_ax.containers
    np.testing.assert_array_equal(total_heights(out_ax), counts_from(cols_out))
    assert heights(first).sum() == 32 and heights(second).sum() == 8
    labels = legend_labels(in_ax)
    assert labels[0].startswith(f"group 1: {rows_in[:32].mean():.3g} ± ")
    assert labels[1].startswith(f"group 2: {rows_in[32:].mean():.3g} ± ")


def test_mask_structure_block_densities_and_three_modules():
    sizes = {"A": 20, "B": 15, "C": 10}
    p = [[0.6, 0.05, 0.3], [0.05, 0.6, 0.3], [0.4, 0.4, 0.5]]
    mask = jaxinit.connectivity.blocks(jax.random.key(2), tuple(sizes.values()), p)
    mask = np.asarray(mask, dtype=np.float64)  # block means in float64, as the figure's
    _, (mask_ax, in_ax, _) = jplot.mask_structure(mask, groups=sizes)
    assert [line.get_xdata()[0] for line in lines(mask_ax, "group-boundary-columns")] == [
        19.5,
        34.5,
    ]
    assert [line.get_ydata()[0] for line in lines(mask_ax, "group-boundary-rows")] == [19.5, 34.5]
    texts = density_texts(mask_ax)
    assert len(texts) == 9
    edges = [0, 20, 35, 45]
    expected = {}
    for a in range(3):
        for b in range(3):
            block = mask[edges[a] : edges[a + 1], edges[b] : edges[b + 1]]
            centre = ((edges[b] + edges[b + 1] - 1) / 2, (edges[a] + edges[a + 1] - 1) / 2)
            expected[centre] = f"{block.mean():.2f}"
    assert {tuple(t.get_position()): t.get_text() for t in texts} == expected
    assert len(in_ax.containers) == 3
    assert [label.split(":")[0] for label in legend_labels(in_ax)] == ["A", "B", "C"]


def test_mask_structure_of_params_groups_from_dale_signs(dale_params, ei_mask):
    n_exc = jaxinit.n_excitatory(40, 0.8)
    _, (mask_ax, in_ax, out_ax) = jplot.mask_structure(dale_params)
    np.testing.assert_array_equal(
        mask_ax.images[0].get_array(), np.asarray(dale_params.rec_connectivity)
    )
    np.testing.assert_array_equal(mask_ax.images[0].get_array(), ei_mask)
    assert lines(mask_ax, "group-boundary-columns")[0].get_xdata()[0] == n_exc - 0.5
    labels = {t.get_text(): t for t in mask_ax.texts if t.get_gid() != "block-density"}
    assert set(labels) == {f"E ({n_exc})", f"I ({40 - n_exc})"}
    assert mcolors.same_color(labels[f"E ({n_exc})"].get_color(), "tab:red")
    assert mcolors.same_color(labels[f"I ({40 - n_exc})"].get_color(), "tab:blue")
    exc_bars, inh_bars = out_ax.containers
    assert mcolors.same_color(exc_bars[0].get_facecolor()[:3], mcolors.to_rgb("tab:red"))
    assert heights(exc_bars).sum() == n_exc and heights(inh_bars).sum() == 40 - n_exc
    assert [label.split(":")[0] for label in legend_labels(in_ax)] == ["E", "I"]
    assert mask_ax.get_title().startswith("rec_connectivity (40 x 40, density")
    # Given groups replace the Dale groups.
    _, (mask_ax, _, _) = jplot.mask_structure(dale_params, groups=(10, 10, 20))
    assert [line.get_xdata()[0] for line in lines(mask_ax, "group-boundary-columns")] == [
        9.5,
        19.5,
    ]


def test_mask_structure_of_params_without_two_populations():
    cfg = jaxinit.Config(N_in=1, N_rec=12, N_out=1, autapses=False)
    free = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
    _, (mask_ax, in_ax, _) = jplot.mask_structure(free)
    assert not mask_ax.lines and not mask_ax.texts and len(in_ax.containers) == 1
    assert list(heights(in_ax.containers[0])) == [12]  # no autapses: 11 inputs each
    assert list(centers(in_ax.containers[0])) == [11]
    all_exc = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg.replace(dale_ratio=1.0))
    _, (mask_ax, in_ax, _) = jplot.mask_structure(all_exc)
    assert not mask_ax.lines
    assert [t.get_text() for t in mask_ax.texts if t.get_gid() != "block-density"] == ["E (12)"]
    signs = np.array([1, -1] * 6, np.float32)
    mixed = all_exc.replace(dale_rec_diag=jnp.asarray(signs), dale_ratio=0.5)
    _, (mask_ax, in_ax, _) = jplot.mask_structure(mixed)
    assert not mask_ax.lines and "interleaved" in mask_ax.get_title()
    assert len(in_ax.containers) == 1


# ---------------------------------------------------------------------------
# mask_structure: bins, axes, options
# ---------------------------------------------------------------------------


def test_mask_structure_bin_width():
    mask = np.tril(np.ones((120, 120)))  # in-degrees 1 .. 120, out-degrees 120 .. 1
    _, (_, in_ax, _) = jplot.mask_structure(mask)
    (bars,) = in_ax.containers
    # 120 values > 50: bins of 3 degrees, 40 bars of 3 units each.
    assert len(bars) == 40 and {bar.get_width() for bar in bars} == {3}
    assert list(heights(bars)) == [3] * 40
    assert centers(bars)[0] == 2  # degrees 1, 2, 3
    _, (_, in_ax, _) = jplot.mask_structure(mask, bin_width=7)
    (bars,) = in_ax.containers
    degrees = mask.sum(axis=1).astype(int)
    expected = np.add.reduceat(counts_from(degrees), np.arange(0, 120, 7))
    np.testing.assert_array_equal(heights(bars), expected)
    assert heights(bars).sum() == 120 and len(bars) == 18  # ceil(120 / 7)
    _, (_, in_ax, _) = jplot.mask_structure(mask, bin_width=1)
    np.testing.assert_array_equal(heights(in_ax.containers[0]), np.ones(120))


def test_mask_structure_draws_into_given_axes(ei_mask, tmp_path):
    root = Figure()
    given = root.subfigures(1, 2)[1].subplots(3, 1)
    fig, axes = jplot.mask_structure(ei_mask, axes=list(given), title="M", cmap="viridis")
    assert fig is root and axes == tuple(given)
    assert len(given[0].images) == 1 and given[0].get_title() == "M"
    assert given[0].images[0].get_cmap().name == "viridis"
    assert len(given[1].containers) == 1 and len(given[2].containers) == 1
    out = jplot.save_figure(jplot.mask_structure(ei_mask, groups=(32, 8))[0], tmp_path / "m.png")
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 5000


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mask": "mask"}, TypeError, r"mask must be a jaxinit\.Params or a real 0/1 matrix"),
        ({"mask": np.eye(2) * 1j}, TypeError, "mask must be a jaxinit.Params .* complex128"),
        ({"mask": np.ones(4)}, ValueError, r"mask must be a non-empty matrix .* shape \(4,\)"),
        ({"mask": np.ones((0, 3))}, ValueError, r"got shape \(0, 3\)"),
        ({"mask": np.eye(3) * 2}, ValueError, "mask must hold only 0 and 1, got an entry 2.0"),
        ({"mask": np.full((2, 2), np.nan)}, ValueError, "mask must hold only 0 and 1"),
        ({"groups": (3, 3)}, ValueError, r"add up to the number of units, 8, got \[3, 3\]"),
        ({"groups": (8, 0)}, ValueError, r"groups\[1\] must be a positive integer, got 0"),
        ({"groups": (4.0, 4)}, TypeError, r"groups\[0\] must be a positive integer, got 4.0"),
        ({"groups": (True, 7)}, TypeError, r"groups\[0\] must be a positive integer"),
        ({"groups": {"E": 6, "I": "2"}}, TypeError, r"groups\['I'\] must be a positive"),
        ({"groups": {1: 8}}, TypeError, "groups' labels must be non-empty strings, got 1"),
        ({"groups": ()}, ValueError, "groups must name at least one group"),
        ({"groups": 8}, TypeError, "groups must be a sequence of group sizes, a mapping"),
        ({"groups": "EI"}, TypeError, "groups must be a sequence of group sizes"),
        ({"bin_width": 0}, ValueError, "bin_width must be a positive integer, got 0"),
        ({"bin_width": 1.5}, TypeError, r"bin_width must be a positive integer, got 1\.5"),
        ({"axes": Figure().subplots()}, TypeError, "axes must be None or a sequence of three"),
        ({"axes": list(Figure().subplots(1, 2))}, ValueError, "got 2 items"),
        ({"axes": [1, 2, 3]}, TypeError, "an item of type int"),
    ],
)
def test_mask_structure_rejects_bad_arguments(kwargs, error, match):
    kwargs = {"mask": np.eye(8), **kwargs}
    with pytest.raises(error, match=match):
        jplot.mask_structure(kwargs.pop("mask"), **kwargs)


def test_mask_structure_rejects_groups_of_rectangular_masks_and_ensembles():
    with pytest.raises(
        ValueError, match=r"groups needs a square mask \(N, N\), got shape \(4, 2\)"
    ):
        jplot.mask_structure(np.ones((4, 2)), groups=(2, 2))
    cfg = jaxinit.Config(N_in=1, N_rec=6, N_out=1)
    ens = ensemble(jaxinit.gaussian_spectral_radius, jax.random.key(0), 3, cfg)
    with pytest.raises(ValueError, match=r"mask must be one network, got an ensemble of shape"):
        jplot.mask_structure(ens)
    ax = Figure().subplots()
    with pytest.raises(ValueError, match="the same Axes twice"):
        jplot.mask_structure(np.eye(3), axes=[ax, ax, Figure().subplots()])


# ---------------------------------------------------------------------------
# spectrum(predicted=True)
# ---------------------------------------------------------------------------


def patches_by_gid(ax):
    return {p.get_gid(): p for p in ax.patches}


def test_spectrum_predicted_edges_of_params(dale_params):
    _, ax = jplot.spectrum(dale_params, spec_rad=1.2, predicted=True)
    patches = patches_by_gid(ax)
    assert set(patches) == {"predicted-raw", "predicted-effective", "target"}
    raw = float(jaxinit.predicted_radius(dale_params.W_rec))
    eff = float(jaxinit.predicted_radius(jaxinit.effective(dale_params).W_rec))
    assert patches["predicted-raw"].get_radius() == pytest.approx(raw, rel=1e-6)
    assert patches["predicted-effective"].get_radius() == pytest.approx(eff, rel=1e-6)
    assert patches["target"].get_radius() == 1.2
    assert tuple(patches["predicted-raw"].center) == (0, 0)
    assert mcolors.same_color(patches["predicted-raw"].get_edgecolor(), "tab:blue")
    assert mcolors.same_color(patches["predicted-effective"].get_edgecolor(), "tab:orange")
    labels = legend_labels(ax)
    assert f"predicted edge, raw W_rec = {raw:.4g}" in labels
    assert f"predicted edge, effective W_rec = {eff:.4g}" in labels
    assert "target spec_rad = 1.2" in labels
    # Everything drawn is inside the view.
    assert ax.get_xlim()[1] > max(raw, eff, 1.2)


def test_spectrum_predicted_is_off_by_default_and_beside_measured_radii(dale_params):
    _, ax = jplot.spectrum(dale_params)
    assert set(patches_by_gid(ax)) == {"radius-raw", "radius-effective"}
    assert not any("predicted" in label for label in legend_labels(ax))
    _, ax = jplot.spectrum(dale_params, which="effective", predicted=True)
    assert set(patches_by_gid(ax)) == {"radius-effective", "predicted-effective"}


def test_spectrum_predicted_of_a_matrix_and_a_stack():
    rng = np.random.default_rng(0)
    W = rng.normal(size=(200, 200)) / np.sqrt(200)
    _, ax = jplot.spectrum(W, spec_rad=1.0, predicted=True)
    edge = patches_by_gid(ax)["predicted-W"].get_radius()
    assert edge == pytest.approx(float(jaxinit.predicted_radius(W)), rel=1e-6)
    # The circular law with the finite-N edge: close to the measured radius.
    assert edge == pytest.approx(np.abs(np.linalg.eigvals(W)).max(), rel=0.08)
    assert "predicted edge, W = " in " ".join(legend_labels(ax))
    stack = rng.normal(size=(3, 20, 20)) * np.array([0.5, 1.0, 2.0])[:, None, None]
    _, ax = jplot.spectrum(stack, predicted=True)
    edge = patches_by_gid(ax)["predicted-W"].get_radius()
    assert edge == pytest.approx(float(np.max(jaxinit.predicted_radius(stack))), rel=1e-6)
    assert any(label.startswith("max predicted edge, W = ") for label in legend_labels(ax))


def test_spectrum_predicted_misses_the_mean_balance_outliers():
    """The predicted bulk edge: PsychRNN's mean balance leaves eigenvalues outside it."""
    cfg = jaxinit.Config(N_in=1, N_rec=200, N_out=1, dale_ratio=0.8, spectral_radius_of="effective")
    params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
    _, ax = jplot.spectrum(params, spec_rad=cfg.spec_rad, which="effective", predicted=True)
    edge = patches_by_gid(ax)["predicted-effective"].get_radius()
    points = np.asarray(ax.collections[0].get_offsets())
    outside = np.hypot(points[:, 0], points[:, 1]) > edge * 1.05
    assert 1 <= outside.sum() <= 6  # a few outliers, the bulk inside


def test_spectrum_predicted_must_be_a_bool(dale_params):
    with pytest.raises(TypeError, match="predicted must be True or False, got 'yes'"):
        jplot.spectrum(dale_params, predicted="yes")
    with pytest.raises(TypeError, match="predicted must be True or False, got 1"):
        jplot.spectrum(np.eye(2), predicted=1)
