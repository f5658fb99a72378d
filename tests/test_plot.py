"""jaxinit.plot: real matplotlib figures, drawn and saved headless (no pyplot)."""

from __future__ import annotations

import subprocess
import sys

import jax
import numpy as np
import pytest

import jaxinit
from tests.conftest import require_module

require_module("matplotlib", "plot")

import matplotlib.colors as mcolors  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import jaxinit.plot as jplot  # noqa: E402
from jaxinit import ensemble, member  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def cfg():
    return jaxinit.Config(
        N_in=2,
        N_rec=16,
        N_out=1,
        dale_ratio=0.75,
        autapses=False,
        spec_rad=1.3,
        spectral_radius_of="effective",
    )


@pytest.fixture(scope="module")
def params(cfg):
    return jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)


@pytest.fixture(scope="module")
def ens(cfg):
    return ensemble(jaxinit.gaussian_spectral_radius, jax.random.key(1), 24, cfg)


def sorted_complex(values):
    values = np.asarray(values, dtype=complex).ravel()
    return values[np.lexsort((values.imag.round(5), values.real.round(5)))]


def offsets_as_complex(collection):
    xy = np.asarray(collection.get_offsets())
    return xy[:, 0] + 1j * xy[:, 1]


def scatter_by_gid(ax):
    return {c.get_gid(): c for c in ax.collections if isinstance(c, PathCollection)}


def patches_by_gid(ax):
    return {p.get_gid(): p for p in ax.patches}


def lines_by_gid(ax):
    return {line.get_gid(): line for line in ax.lines if line.get_gid()}


def assert_png(path, min_bytes=2000):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > min_bytes


# ---------------------------------------------------------------------------
# spectrum
# ---------------------------------------------------------------------------


def test_spectrum_raw_and_effective(params, cfg):
    fig, ax = jplot.spectrum(params, spec_rad=cfg.spec_rad)
    assert isinstance(fig, Figure) and ax.figure is fig
    scatters = scatter_by_gid(ax)
    assert list(scatters) == ["raw", "effective"]
    total = sum(len(c.get_offsets()) for c in scatters.values())
    assert total == 2 * cfg.N_rec
    raw = np.linalg.eigvals(np.asarray(params.W_rec, np.float64))
    eff = np.linalg.eigvals(np.asarray(jaxinit.effective(params).W_rec, np.float64))
    np.testing.assert_allclose(
        sorted_complex(offsets_as_complex(scatters["raw"])), sorted_complex(raw), atol=1e-6
    )
    np.testing.assert_allclose(
        sorted_complex(offsets_as_complex(scatters["effective"])), sorted_complex(eff), atol=1e-6
    )
    target = patches_by_gid(ax)["target"]
    assert target.get_radius() == cfg.spec_rad
    assert tuple(target.center) == (0, 0)
    # The effective spectrum touches the target circle; nothing lies outside the view.
    assert np.abs(eff).max() == pytest.approx(cfg.spec_rad, rel=1e-5)
    assert ax.get_xlim()[1] > cfg.spec_rad and ax.get_ylim()[1] > cfg.spec_rad
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("target spec_rad = 1.3" in text for text in labels)


def test_spectrum_without_spec_rad_draws_measured_radii(params):
    _, ax = jplot.spectrum(params)
    patches = patches_by_gid(ax)
    assert "target" not in patches
    radii = np.asarray(
        jaxinit.spectral_radius(np.stack([params.W_rec, jaxinit.effective(params).W_rec]))
    )
    assert patches["radius-raw"].get_radius() == pytest.approx(float(radii[0]), rel=1e-5)
    assert patches["radius-effective"].get_radius() == pytest.approx(float(radii[1]), rel=1e-5)


def test_spectrum_which(params, cfg):
    _, ax = jplot.spectrum(params, which="effective")
    assert list(scatter_by_gid(ax)) == ["effective"]
    _, ax = jplot.spectrum(params, which=("raw",))
    assert list(scatter_by_gid(ax)) == ["raw"]
    assert len(scatter_by_gid(ax)["raw"].get_offsets()) == cfg.N_rec


def test_spectrum_of_matrix_and_stack():
    W = np.array([[0.0, 2.0], [-2.0, 0.0]])
    _, ax = jplot.spectrum(W, spec_rad=2)
    (points,) = scatter_by_gid(ax).values()
    np.testing.assert_allclose(sorted_complex(offsets_as_complex(points)), [-2j, 2j], atol=1e-12)
    assert patches_by_gid(ax)["target"].get_radius() == 2.0
    stack = np.random.default_rng(0).normal(size=(3, 4, 5, 5))
    _, ax = jplot.spectrum(stack)
    assert len(scatter_by_gid(ax)["W"].get_offsets()) == 3 * 4 * 5
    assert patches_by_gid(ax)["radius-W"].get_radius() == pytest.approx(
        np.abs(np.linalg.eigvals(stack)).max()
    )


def test_spectrum_of_an_ensemble_shows_every_member(ens, cfg):
    _, ax = jplot.spectrum(ens, spec_rad=cfg.spec_rad)
    counts = [len(c.get_offsets()) for c in scatter_by_gid(ax).values()]
    assert counts == [24 * cfg.N_rec, 24 * cfg.N_rec]


def test_spectrum_draws_into_a_given_axes(params):
    fig = Figure()
    left, right = fig.subplots(1, 2)
    out_fig, out_ax = jplot.spectrum(params, ax=right)
    assert out_fig is fig and out_ax is right
    assert not left.collections and len(right.collections) == 2
    root = Figure()
    inner = root.subfigures(1, 2)[1].subplots()
    out_fig, _ = jplot.weights(params, ax=inner)
    assert out_fig is root  # the root figure, also for an Axes in a SubFigure


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------


def test_weights_image_mask_and_blocks(params, cfg):
    fig, ax = jplot.weights(params)
    (image,) = ax.images
    data = image.get_array()
    eff = np.asarray(jaxinit.effective(params).W_rec)
    np.testing.assert_array_equal(data.filled(0), eff)
    np.testing.assert_array_equal(
        np.ma.getmaskarray(data), np.asarray(params.rec_connectivity) == 0
    )
    assert np.ma.getmaskarray(data).diagonal().all()  # no autapses
    # Diverging colormap centred at 0.
    vmin, vmax = image.get_clim()
    assert vmin == -vmax and vmax == pytest.approx(np.abs(eff).max())
    assert image.get_cmap().name.startswith("RdBu_r")
    assert mcolors.same_color(image.get_cmap().get_bad(), "0.45")
    # E/I boundary between column (and row) n_exc - 1 and n_exc.
    n_exc = jaxinit.n_excitatory(cfg.N_rec, cfg.dale_ratio)
    lines = lines_by_gid(ax)
    assert list(lines["ei-boundary-columns"].get_xdata()) == [n_exc - 0.5] * 2
    assert list(lines["ei-boundary-rows"].get_ydata()) == [n_exc - 0.5] * 2
    texts = {t.get_text() for t in ax.texts}
    assert {f"E ({n_exc})", f"I ({cfg.N_rec - n_exc})"} <= texts
    # A colorbar (a second axes) and a legend entry for masked-out entries.
    assert len(fig.axes) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no connection (mask 0)"]


def test_weights_raw_and_options(params):
    fig, ax = jplot.weights(params, which="raw", colorbar=False, masked_color="gold", title="x")
    np.testing.assert_array_equal(
        ax.images[0].get_array().filled(0),
        np.where(np.asarray(params.rec_connectivity) == 0, 0, np.asarray(params.W_rec)),
    )
    assert len(fig.axes) == 1 and ax.get_title() == "x"
    assert mcolors.same_color(ax.images[0].get_cmap().get_bad(), "gold")


def test_weights_without_dale_has_no_blocks():
    cfg = jaxinit.Config(N_in=1, N_rec=6, N_out=1, alpha=0.5)
    p = jaxinit.alpha_identity(jax.random.key(0), cfg)
    _, ax = jplot.weights(p)
    assert lines_by_gid(ax) == {} and not ax.texts
    assert ax.get_legend() is None  # the all-ones mask removes nothing
    assert not np.ma.getmaskarray(ax.images[0].get_array()).any()


def test_weights_all_excitatory_and_interleaved():
    cfg = jaxinit.Config(N_in=1, N_rec=6, N_out=1, dale_ratio=1.0)
    p = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
    _, ax = jplot.weights(p)
    assert lines_by_gid(ax) == {}
    assert [t.get_text() for t in ax.texts] == ["all 6 excitatory"]
    signs = np.array([1, -1, 1, -1, 1, 1], np.float32)
    mixed = p.replace(dale_rec_diag=jax.numpy.asarray(signs), dale_ratio=4 / 6)
    _, ax = jplot.weights(mixed)
    assert lines_by_gid(ax) == {}
    assert "interleaved" in ax.get_title()


def test_weights_of_a_matrix():
    W = np.arange(9.0).reshape(3, 3) - 4
    _, ax = jplot.weights(W)
    np.testing.assert_array_equal(ax.images[0].get_array().filled(99), W)
    assert ax.images[0].get_clim() == (-4.0, 4.0)


# ---------------------------------------------------------------------------
# ensemble_radii
# ---------------------------------------------------------------------------


def test_ensemble_radii_histograms(ens, cfg):
    fig, ax = jplot.ensemble_radii(ens, spec_rad=cfg.spec_rad, bins=12)
    assert isinstance(fig, Figure)
    assert len(ax.containers) == 2
    for container in ax.containers:
        assert len(container) == 12
        assert sum(bar.get_height() for bar in container) == 24
    target = lines_by_gid(ax)["target"]
    assert list(target.get_xdata()) == [cfg.spec_rad] * 2
    # Effective mode: every member's effective radius is spec_rad, so all
    # effective members fall in the bin holding the target.
    eff_bars = ax.containers[1]
    full = [bar for bar in eff_bars if bar.get_height() == 24]
    assert len(full) == 1
    left, width = full[0].get_x(), full[0].get_width()
    assert left <= cfg.spec_rad <= left + width
    # The legend's means are the members' radii.
    raw = np.array([float(jaxinit.spectral_radius(member(ens, i).W_rec)) for i in range(24)])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith(f"raw W_rec: {raw.mean():.4g} ± ")


def test_ensemble_radii_which_and_stack(ens):
    _, ax = jplot.ensemble_radii(ens, which="raw")
    assert len(ax.containers) == 1 and "target" not in lines_by_gid(ax)
    stack = np.stack([np.eye(3) * s for s in (0.5, 1.0, 1.0, 2.0)])
    _, ax = jplot.ensemble_radii(stack, bins=3)
    heights = [bar.get_height() for bar in ax.containers[0]]
    assert heights == [1.0, 2.0, 1.0]  # bins [0.5, 1), [1, 1.5), [1.5, 2]


def test_ensemble_radii_of_equal_radii_is_readable():
    stack = np.stack([np.eye(2)] * 5)
    _, ax = jplot.ensemble_radii(stack, spec_rad=1.0)
    (bars,) = ax.containers
    assert sum(bar.get_height() for bar in bars) == 5
    lo, hi = ax.get_xlim()
    assert hi - lo > 0.05


# ---------------------------------------------------------------------------
# Saving and files
# ---------------------------------------------------------------------------


def test_save_figure_png(params, tmp_path):
    fig, _ = jplot.weights(params)
    out = jplot.save_figure(fig, tmp_path / "w.png")
    assert out == tmp_path / "w.png"
    assert_png(out)
    bare = jplot.save_figure(fig, str(tmp_path / "noext"), dpi=50)
    assert bare.name == "noext"
    assert_png(bare, min_bytes=500)
    svg = jplot.save_figure(fig, tmp_path / "w.svg")
    assert svg.read_text().lstrip().startswith("<?xml")


def test_save_figure_errors(params, tmp_path):
    fig, ax = jplot.spectrum(params)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        jplot.save_figure(ax, tmp_path / "x.png")
    with pytest.raises(ValueError, match="cannot write 'docx'"):
        jplot.save_figure(fig, tmp_path / "x.docx")
    with pytest.raises(TypeError, match="path must be"):
        jplot.save_figure(fig, 3)
    with pytest.raises(ValueError, match="dpi must be a positive integer, got 0"):
        jplot.save_figure(fig, tmp_path / "x.png", dpi=0)
    with pytest.raises(TypeError, match="dpi"):
        jplot.save_figure(fig, tmp_path / "x.png", dpi=1.5)


def saved_network(params, cfg, path):
    """``params`` saved with the recipe that makes it."""
    recipe = jaxinit.Recipe("gaussian_spectral_radius", jax.random.key(0), cfg)
    np.testing.assert_array_equal(recipe.build().W_rec, params.W_rec)
    return jaxinit.save_npz(path, recipe)


def test_plot_file_on_a_saved_network(params, cfg, tmp_path):
    net = saved_network(params, cfg, tmp_path / "net.npz")
    _, ax = jplot.file_figure(net)
    assert patches_by_gid(ax)["target"].get_radius() == cfg.spec_rad  # the recorded target
    scatters = scatter_by_gid(ax)
    np.testing.assert_allclose(
        sorted_complex(offsets_as_complex(scatters["raw"])),
        sorted_complex(np.linalg.eigvals(np.asarray(params.W_rec, np.float64))),
        atol=1e-6,
    )
    _, ax = jplot.file_figure(net, spec_rad=2.0)
    assert patches_by_gid(ax)["target"].get_radius() == 2.0
    _, ax = jplot.file_figure(str(net), "weights")
    np.testing.assert_array_equal(
        ax.images[0].get_array().filled(0), jaxinit.effective(params).W_rec
    )
    out = jplot.plot_file(net, tmp_path / "spec.png")
    assert out == tmp_path / "spec.png"
    assert_png(out)
    assert_png(jplot.plot_file(str(net), str(tmp_path / "w.png"), kind="weights"))


def test_file_figure_without_a_recipe_draws_measured_radii(params, tmp_path):
    net = jaxinit.save_npz(tmp_path / "bare.npz", params)
    _, ax = jplot.file_figure(net)
    assert "target" not in patches_by_gid(ax)
    assert set(patches_by_gid(ax)) == {"radius-raw", "radius-effective"}


def test_plot_file_on_a_psychrnn_file(tmp_path):
    rng = np.random.default_rng(0)
    N = 5
    signs = np.array([1, 1, 1, 1, -1.0])
    arrays = {
        "W_in": np.abs(rng.normal(size=(N, 1))),
        "W_rec": np.abs(rng.normal(size=(N, N))) * signs,
        "W_out": np.abs(rng.normal(size=(1, N))),
        "b_rec": np.zeros(N),
        "b_out": np.zeros(1),
        "init_state": np.zeros((1, N)),
        "input_connectivity": np.ones((N, 1)),
        "rec_connectivity": np.ones((N, N)),
        "output_connectivity": np.ones((1, N)),
        "Dale_rec": np.diag(signs),
        "Dale_out": np.diag((signs > 0) * 1.0),
    }
    path = tmp_path / "psychrnn.npz"
    np.savez(
        path, dale_ratio=np.float64(0.8), **{k: v.astype(np.float32) for k, v in arrays.items()}
    )
    assert_png(jplot.plot_file(path, tmp_path / "s.png"))
    assert_png(jplot.plot_file(path, tmp_path / "w.png", kind="weights"))


def test_plot_file_errors(params, cfg, tmp_path):
    with pytest.raises(ValueError, match=r"kind must be one of .*got 'histogram'"):
        jplot.plot_file(tmp_path / "none.npz", tmp_path / "x.png", kind="histogram")
    with pytest.raises(FileNotFoundError):
        jplot.plot_file(tmp_path / "none.npz", tmp_path / "x.png")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(jaxinit.NpzError, match=r"bad\.npz"):
        jplot.plot_file(bad, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
    # An image that cannot be written: the error names the image, not the network file.
    net = saved_network(params, cfg, tmp_path / "net.npz")
    missing = tmp_path / "missing_dir" / "x.png"
    with pytest.raises(FileNotFoundError) as info:
        jplot.plot_file(net, missing)
    assert info.value.filename == str(missing)
    assert "net.npz" not in str(info.value)
    with pytest.raises(IsADirectoryError) as info:
        jplot.save_figure(jplot.spectrum(params)[0], tmp_path)
    assert info.value.filename == str(tmp_path)


# ---------------------------------------------------------------------------
# Input checks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ("W", TypeError, "params_or_W must be a jaxinit.Params or a real square matrix"),
        ({"W_rec": 1}, TypeError, "params_or_W must be a jaxinit.Params"),
        (np.ones(3), ValueError, r"params_or_W must be .* got shape \(3,\)"),
        (np.ones((2, 3)), ValueError, r"got shape \(2, 3\)"),
        (np.ones((0, 0)), ValueError, r"got shape \(0, 0\)"),
        (np.eye(2) * 1j, TypeError, "params_or_W must be real, got dtype complex128"),
        (np.array([[np.nan, 0], [0, 1]]), ValueError, "params_or_W must be finite, got an entry"),
    ],
)
def test_spectrum_rejects_bad_matrices(value, error, match):
    with pytest.raises(error, match=match):
        jplot.spectrum(value)


def test_bad_options(params, ens):
    with pytest.raises(
        ValueError, match=r"spec_rad must be a finite positive number or None, got -1"
    ):
        jplot.spectrum(params, spec_rad=-1)
    with pytest.raises(TypeError, match="spec_rad must be a positive number or None, got '1'"):
        jplot.spectrum(params, spec_rad="1")
    with pytest.raises(TypeError, match="spec_rad"):
        jplot.ensemble_radii(ens, spec_rad=True)
    with pytest.raises(ValueError, match="which must be 'raw', 'effective' or a tuple of them"):
        jplot.spectrum(params, which="bogus")
    with pytest.raises(ValueError, match="which must name at least one"):
        jplot.spectrum(params, which=())
    with pytest.raises(ValueError, match="which names a matrix twice"):
        jplot.ensemble_radii(ens, which=("raw", "raw"))
    with pytest.raises(ValueError, match="which must be 'effective' or 'raw', got 'both'"):
        jplot.weights(params, which="both")
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got Figure"):
        jplot.spectrum(params, ax=Figure())
    with pytest.raises(TypeError, match=r"bins must be a positive integer, got 2\.5"):
        jplot.ensemble_radii(ens, bins=2.5)
    with pytest.raises(ValueError, match="bins must be a positive integer, got 0"):
        jplot.ensemble_radii(ens, bins=0)


def test_weights_rejects_ensembles_and_stacks(ens):
    with pytest.raises(
        ValueError, match=r"params must be one network, got an ensemble of shape \(24,\); take"
    ):
        jplot.weights(ens)
    with pytest.raises(ValueError, match=r"params must be a non-empty square matrix \(N, N\)"):
        jplot.weights(np.ones((2, 3, 3)))
    with pytest.raises(TypeError, match=r"params must be a jaxinit\.Params or a real square"):
        jplot.weights("W")


def test_ensemble_radii_rejects_single_networks(params):
    with pytest.raises(ValueError, match=r"params must be an ensemble .* got a single network"):
        jplot.ensemble_radii(params)
    with pytest.raises(ValueError, match=r"params must be a non-empty stack of square matrices"):
        jplot.ensemble_radii(np.eye(3))


# ---------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------


def test_matplotlib_only_with_jaxinit_plot_and_never_pyplot():
    code = (
        "import sys, jaxinit\n"
        "print('matplotlib' in sys.modules)\n"
        "import jaxinit.plot\n"
        "print('matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "False"]
