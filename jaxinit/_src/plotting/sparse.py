"""Figures of sparse networks at any size, each in O(nnz).

:func:`~jaxinit.plot.spectrum`, :func:`~jaxinit.plot.weights` and
:func:`~jaxinit.plot.mask_structure` draw dense ``N x N`` matrices and
refuse sparse ones. The three figures here read a
:class:`~jaxinit.sparse.SparseParams` (or a bare
:class:`~jaxinit.sparse.RowSparse`) through its stored entries only:

* :func:`degree_histograms`: the in- and out-degrees of the pattern;
* :func:`ritz_spectrum`: the outer eigenvalues a Krylov basis finds, with
  the certified radius;
* :func:`sampled_weights`: the weights among a subset of the units, an
  image of ``size x size`` entries built from those units' rows.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from matplotlib.typing import ColorType

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.names import Weights
from jaxinit._src.plotting.arguments import (
    COLORS,
    LABELS,
    WHICH,
    check_ax,
    check_spec_rad,
    check_which,
    new_axes,
)
from jaxinit._src.plotting.connectivity import (
    check_bin_width,
    dale_groups,
    draw_degrees,
    group_colors,
)
from jaxinit._src.plotting.spectrum import circle, target_and_frame
from jaxinit._src.plotting.weights import mark_dale, mask_legend, signed_image
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.ritz import RitzValues, ritz_values
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.sparse.stats import degrees, stored_counts
from jaxinit._src.typing import PRNGKey

#: The ways :func:`sampled_weights` picks its units.
SAMPLES = ("even", "random")

#: The largest sample :func:`sampled_weights` draws (an image of ``size**2`` float64).
MAX_SAMPLE = 4096


def _one_sparse(
    name: str, value: object, dense_function: str
) -> tuple[RowSparse, SparseParams | None]:
    """``(W_rec or the matrix, the network or None)`` of one sparse network or matrix."""
    if isinstance(value, SparseParams):
        checks.single_network(value, name)
        return value.W_rec, value
    if isinstance(value, RowSparse):
        W = check_row_sparse(value, name)
        if W.batch_shape:
            raise ValueError(
                f"{name} must be one sparse matrix (N, K), got a stack of shape {W.batch_shape}"
            )
        return W, None
    raise TypeError(
        f"{name} must be a jaxinit.sparse.SparseParams or a jaxinit.sparse.RowSparse, got "
        f"{type(value).__name__}; for a dense network use jaxinit.plot.{dense_function}"
    )


def _check_two_axes(axes: object) -> tuple[Axes, Axes] | None:
    if axes is None:
        return None
    wrong = "axes must be None or a sequence of two matplotlib Axes (in-degree, out-degree), got "
    if isinstance(axes, (Axes, str)) or not isinstance(axes, Sequence):
        raise TypeError(wrong + type(axes).__name__)
    if len(axes) != 2:
        raise ValueError(wrong + f"{len(axes)} items")
    for item in axes:
        if not isinstance(item, Axes):
            raise TypeError(wrong + f"an item of type {type(item).__name__}")
    first, second = axes
    if first is second:
        raise ValueError(wrong + "the same Axes twice")
    return first, second


def degree_histograms(
    net: SparseParams | RowSparse,
    *,
    bin_width: int | None = None,
    axes: Sequence[Axes] | None = None,
    title: str | None = None,
) -> tuple[Figure, tuple[Axes, Axes]]:
    """Histograms of the in- and out-degrees of a sparse network's recurrent pattern.

    The in-degree of a unit is the number of stored entries of its row of
    ``W_rec`` (the inputs it receives), its out-degree the number in its
    column (the outputs it sends). They are counted from the pattern's
    indices in O(nnz), at any ``N``; bins are integer, as in
    :func:`~jaxinit.plot.mask_structure`. A network with Dale's law whose
    excitatory units come first has each histogram stacked by population (E
    red, I blue; in-degrees by the receiving unit, out-degrees by the
    sending one), with each population's mean ± standard deviation in the
    legend.

    Args:
      net: one sparse network, a :class:`~jaxinit.sparse.SparseParams`
        without leading axes, or one :class:`~jaxinit.sparse.RowSparse`
        pattern or matrix.
      bin_width: the bin width in connections, a positive integer; None: 1,
        or wider when the degrees span more than 50 values.
      axes: None makes a new figure; or two matplotlib ``Axes`` (in-degrees,
        out-degrees) to draw into.
      title: the figure's title (the in-degree axes' title when ``axes`` is
        given); None gives a default with ``N``, nnz and the density.

    Returns:
      ``(fig, (in_ax, out_ax))``. Each axes holds one bar container per
      population (one without Dale's law) in ``ax.containers``; a bar's
      height is the number of units with a degree in its bin.

    Raises:
      TypeError: ``net`` is not a sparse network or matrix (for a dense one
        use :func:`~jaxinit.plot.mask_structure`), or ``bin_width``/``axes``
        has the wrong type.
      ValueError: ``net`` is an ensemble or a stack; ``bin_width`` is not
        positive; ``axes`` does not hold two distinct Axes.

    Example:
      >>> import jax, numpy as np, jaxinit, jaxinit.plot
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(0), (1000, 1000), 20)
      >>> fig, (ins, outs) = jaxinit.plot.degree_histograms(P)
      >>> [(float(b.get_x() + b.get_width() / 2), float(b.get_height())) for b in ins.containers[0]]
      [(20.0, 1000.0)]
      >>> out_degree = np.bincount(np.asarray(P.index).ravel(), minlength=1000)
      >>> heights = [bar.get_height() for bar in outs.containers[0]]
      >>> heights == np.bincount(out_degree)[out_degree.min():].tolist()
      True
    """
    W, params = _one_sparse("net", net, "mask_structure")
    bin_width = check_bin_width(bin_width)
    checked_axes = _check_two_axes(axes)
    groups, note = (None, "") if params is None else dale_groups(params)
    colors = [] if groups is None else group_colors(groups)
    in_degree, out_degree = degrees(W)
    if checked_axes is None:
        fig = Figure(figsize=(10.5, 4.2), layout="constrained")
        in_ax, out_ax = fig.subplots(1, 2)
    else:
        in_ax, out_ax = checked_axes
        fig = in_ax.figure.figure  # the root figure, also in a SubFigure
    draw_degrees(
        in_ax, in_degree, groups, colors, bin_width,
        kind="in-degree", what="inputs received (stored entries of a row)",
    )
    draw_degrees(
        out_ax, out_degree, groups, colors, bin_width,
        kind="out-degree", what="outputs sent (stored entries of a column)",
    )
    if title is None:
        N, nnz = W.n_cols, int(stored_counts(W))
        name = "rec_connectivity" if params is not None else "pattern"
        title = f"Degrees of {name} ({N} x {N}, nnz {nnz}, density {nnz / N**2:.3g}{note})"
    if checked_axes is None:
        fig.suptitle(title)
    else:
        in_ax.set_title(title)
    return fig, (in_ax, out_ax)


def _check_fraction(name: str, value: object) -> float:
    tol = checks.finite_float(name, value, positive=True)
    if not tol < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return tol


def _draw_ritz(ax: Axes, name: str, out: RitzValues, accuracy: float) -> tuple[float, int]:
    """Scatter one matrix's Ritz values and circle its radius; ``(radius, values found)``."""
    values = np.asarray(out.values).astype(np.complex128)
    found = np.asarray(out.estimates) <= accuracy
    if bool(out.converged):
        found[0] = True  # certified by its explicit residual
    color = COLORS[name]
    style: dict[str, Any] = (
        {"facecolors": "none", "edgecolors": color, "linewidths": 0.9, "s": 26}
        if name == "raw" else {"color": color, "s": 16, "linewidths": 0}
    )
    label = f"{LABELS[name]}: {int(found.sum())} Ritz values, residual ≤ {accuracy:g}"
    shown = values[found]
    ax.scatter(shown.real, shown.imag, gid=name, label=label, zorder=3, **style)
    rest = values[~found]
    ax.scatter(
        rest.real, rest.imag, gid=f"{name}-unconverged", zorder=2, s=8, facecolors="none",
        edgecolors="0.6", linewidths=0.6,
        label=f"{LABELS[name]}: {rest.size} not converged (not eigenvalues)",
    )
    rho, residual = float(out.radius), float(out.residual)
    if bool(out.converged):
        label = rf"certified $\rho$ = {rho:.6g} (residual {residual:.1e})"
    else:
        label = rf"largest Ritz value {rho:.6g}, NOT certified (residual {residual:.1e})"
    circle(ax, rho, gid=f"radius-{name}", ls=":", lw=1.2, color=color, label=label)
    return rho, int(found.sum())


def ritz_spectrum(
    net_or_W: SparseParams | RowSparse,
    *,
    which: Weights | Sequence[Weights] = "effective",
    spec_rad: float | None = None,
    tol: float = 1e-5,
    accuracy: float = 1e-3,
    m: int | None = None,
    key: PRNGKey | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """The outer eigenvalues of a sparse recurrent matrix, found by Krylov, in the complex plane.

    A full spectrum needs a dense ``N x N`` solve; this figure does not. It
    runs the restarted Arnoldi iteration of
    :func:`jaxinit.krylov_spectral_radius` on the sparse matrix (O(nnz) per
    product, a basis of ``m`` vectors of length ``N``) until the top Ritz
    pair is certified to ``tol``, and draws every Ritz value of the final
    basis. Those whose residual estimate is at most ``accuracy`` (relative)
    are eigenvalues to that accuracy: the outermost part of the spectrum,
    in the set's colour (hollow blue for the raw ``W_rec``, filled orange
    for the effective one). The others are small grey rings: they lie
    inside the spectrum and are not eigenvalues. A dotted circle in the
    set's colour has the certified spectral radius (the modulus of the top
    value, certified by the explicit residual of its pair; its legend entry
    says "NOT certified" when ``tol`` was not met within the budget). The
    dashed black circle is ``spec_rad`` when given.

    Args:
      net_or_W: one sparse network, a :class:`~jaxinit.sparse.SparseParams`
        without leading axes, or one :class:`~jaxinit.sparse.RowSparse`
        matrix (``which`` does not apply).
      which: ``"effective"`` (default: the matrix the RNN uses), ``"raw"``
        or both; each set costs one Krylov run.
      spec_rad: the target spectral radius to draw, or None.
      tol: relative residual the top Ritz pair must reach, in (0, 1).
      accuracy: the largest relative residual estimate of a Ritz value drawn
        as an eigenvalue, in (0, 1).
      m: the basis size (default :func:`jaxinit.sparse.sparse_basis_size`).
      key: PRNG key of the start vector (default ``jax.random.key(0)``).
      ax: a matplotlib ``Axes`` to draw into; None makes a new figure.
      title: the axes title; None gives a default.

    Returns:
      ``(fig, ax)``. For each set, the scatter collection with ``gid``
      ``"raw"``, ``"effective"`` or ``"W"`` holds the converged Ritz values
      (the top one, of modulus the certified radius, included), the one with
      ``gid`` ``"<set>-unconverged"`` the others; the circles are patches
      with ``gid`` ``"radius-<set>"`` and ``"target"``.

    Raises:
      TypeError: ``net_or_W`` is not a sparse network or matrix (for a
        dense one use :func:`~jaxinit.plot.spectrum`), or an argument has
        the wrong type.
      ValueError: ``net_or_W`` is an ensemble or a stack, or a number is out
        of range.

    Example:
      >>> import jax, numpy as np, jaxinit, jaxinit.plot
      >>> cfg = jaxinit.Config(N_in=2, N_rec=2000, N_out=1, dale_ratio=0.8,
      ...                      spectral_radius_of="effective", spectral_method="krylov")
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (2000, 2000), 50)
      >>> sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P)
      >>> fig, ax = jaxinit.plot.ritz_spectrum(sp, spec_rad=cfg.spec_rad)
      >>> found = next(c for c in ax.collections if c.get_gid() == "effective")
      >>> xy = found.get_offsets()
      >>> rho = next(p.get_radius() for p in ax.patches if p.get_gid() == "radius-effective")
      >>> round(rho, 4), bool(np.isclose(np.hypot(xy[:, 0], xy[:, 1]).max(), rho, rtol=1e-6))
      (1.1, True)
    """
    W, params = _one_sparse("net_or_W", net_or_W, "spectrum")
    check_ax(ax)
    spec_rad = check_spec_rad(spec_rad)
    tol = _check_fraction("tol", tol)
    accuracy = _check_fraction("accuracy", accuracy)
    matrices: dict[str, RowSparse]
    if params is None:
        matrices, what = {"W": W}, "W"
    else:
        names = check_which(which)
        matrices = {n: params.W_rec if n == "raw" else effective(params).W_rec for n in names}
        what = "W_rec"
    results = {n: ritz_values(M, tol=tol, m=m, key=key) for n, M in matrices.items()}
    fig, ax = new_axes(ax, (5.8, 5.8))
    extent = 0.0
    for name, out in results.items():
        rho, _ = _draw_ritz(ax, name, out, accuracy)
        extent = max(extent, rho)
    target_and_frame(ax, extent, spec_rad)
    if title is None:
        basis = next(iter(results.values())).values.shape[0]
        title = f"Outer eigenvalues of {what} by Krylov (N = {W.n_cols}, basis {basis})"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="x-small", framealpha=0.85)
    return fig, ax


def _sample_units(
    N: int, size: object, sample: object, key: PRNGKey | None
) -> tuple[npt.NDArray[np.int64], str]:
    """The sampled units, sorted, and how they were chosen (for the title)."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral):
        raise TypeError(f"size must be a positive integer, got {size!r}")
    size = int(size)
    if not 1 <= size <= MAX_SAMPLE:
        raise ValueError(f"size must be between 1 and {MAX_SAMPLE}, got {size!r}")
    if not isinstance(sample, str) or sample not in SAMPLES:
        raise ValueError(f"sample must be one of {SAMPLES}, got {sample!r}")
    if key is not None and sample != "random":
        raise ValueError("key chooses a random sample; pass it with sample='random'")
    if size >= N:
        return np.arange(N, dtype=np.int64), f"all {N} units"
    if sample == "even":
        units = np.round(np.linspace(0, N - 1, size)).astype(np.int64)
        step = f"every {(N - 1) / (size - 1):.3g}" if size > 1 else "unit 0"
        return units, f"{size} of {N} units, evenly spaced ({step})"
    if key is None:
        key = jax.random.key(0)
    else:
        checks.check_key(key)
    drawn = jax.random.choice(key, N, (size,), replace=False)
    return np.sort(np.asarray(drawn, np.int64)), f"{size} of {N} units, at random"


def _block(
    W: RowSparse, units: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """``(W[units][:, units], stored there)`` from the sampled rows only: O(size K + N)."""
    n, N = units.size, W.n_cols
    picked = jnp.asarray(units)
    values = np.asarray(W.values[picked], np.float64)
    index = np.asarray(W.index[picked])
    position = np.full(N + 1, -1, np.int64)  # column -> place in the sample (padding: -1)
    position[units] = np.arange(n)
    cols = position[index]
    r, k = np.nonzero(cols >= 0)
    block = np.zeros((n, n))
    np.add.at(block, (r, cols[r, k]), values[r, k])
    stored = np.zeros((n, n), bool)
    stored[r, cols[r, k]] = True
    return block, stored


def sampled_weights(
    net: SparseParams | RowSparse,
    *,
    which: Weights = "effective",
    size: int = 500,
    sample: Literal["even", "random"] = "even",
    key: PRNGKey | None = None,
    ax: Axes | None = None,
    cmap: str | Colormap = "RdBu_r",
    masked_color: ColorType = "0.45",
    colorbar: bool = True,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """The recurrent weights among a sample of the units, as an image, without a dense copy.

    :func:`~jaxinit.plot.weights` for a sparse network of any size: the
    same colours and marks, on the ``size x size`` block ``W[S][:, S]``
    for a sorted sample ``S`` of the units (rows and columns alike, so the
    diagonal is the diagonal). Only the ``size`` sampled rows are read
    (O(size K) plus an O(N) lookup); entries the pattern does not store
    are drawn in ``masked_color``. The title says which units: ``S`` is
    ``np.round(np.linspace(0, N - 1, size)).astype(int)`` for
    ``sample="even"``, and ``np.sort(jax.random.choice(key, N, (size,),
    replace=False))`` for ``"random"`` (``key`` default
    ``jax.random.key(0)``); every unit when ``size >= N``. The tick labels
    are the units' numbers. With Dale's law, when the sampled excitatory
    units come first (as jaxinit makes them), black lines separate them
    from the inhibitory ones, labelled with the sampled counts.

    Args:
      net: one sparse network, a :class:`~jaxinit.sparse.SparseParams`
        without leading axes, or one :class:`~jaxinit.sparse.RowSparse`
        matrix (shown as it is).
      which: ``"effective"`` (default) or ``"raw"``, for a network.
      size: the number of units sampled, 1 to 4096.
      sample: ``"even"`` (evenly spaced) or ``"random"``.
      key: the PRNG key of a random sample (``sample="random"`` only).
      ax: a matplotlib ``Axes`` to draw into; None makes a new figure.
      cmap: a diverging colormap or its name.
      masked_color: a matplotlib colour for entries off the pattern.
      colorbar: whether to add a colorbar.
      title: the axes title; None gives a default naming the sample.

    Returns:
      ``(fig, ax)``. The image is ``ax.images[0]``; its data is a masked
      array whose ``filled(0)`` is the sampled block and whose mask is
      true off the pattern. Position ``p`` on either axis is unit
      ``ax.xaxis.get_major_formatter()(p)``.

    Raises:
      TypeError: ``net`` is not a sparse network or matrix (for a dense one
        use :func:`~jaxinit.plot.weights`), or an argument has the wrong
        type.
      ValueError: ``net`` is an ensemble or a stack, ``which`` or ``sample``
        is unknown, ``size`` is out of range, ``key`` is given for an even
        sample, or a sampled weight is not finite.

    Example:
      >>> import jax, numpy as np, jaxinit, jaxinit.plot
      >>> cfg = jaxinit.Config(N_in=2, N_rec=2000, N_out=1, dale_ratio=0.8,
      ...                      spectral_radius_of="effective", spectral_method="krylov")
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (2000, 2000), 50)
      >>> sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P)
      >>> fig, ax = jaxinit.plot.sampled_weights(sp, size=100)
      >>> ax.get_title()
      'effective W_rec, 100 of 2000 units, evenly spaced (every 20.2)'
      >>> units = np.round(np.linspace(0, 1999, 100)).astype(int)
      >>> dense = np.asarray(jaxinit.effective(sp).W_rec.todense())
      >>> bool((ax.images[0].get_array().filled(0) == dense[np.ix_(units, units)]).all())
      True
    """
    W, params = _one_sparse("net", net, "weights")
    check_ax(ax)
    if not isinstance(which, str) or which not in WHICH:
        raise ValueError(f"which must be 'effective' or 'raw', got {which!r}")
    units, how = _sample_units(W.n_cols, size, sample, key)
    if params is not None:
        W = effective(params).W_rec if which == "effective" else params.W_rec
    block, stored = _block(W, units)
    if not np.isfinite(block).all():
        raise ValueError(f"the sampled weights must be finite, got {block[~np.isfinite(block)][0]}")
    fig, ax = new_axes(ax, (6.4, 5.6))
    signed_image(ax, block, stored, cmap, masked_color, colorbar)

    def unit(position: float, _: object = None) -> str:
        p = round(position)
        return str(units[p]) if 0 <= p < units.size and abs(position - p) < 1e-9 else ""

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        axis.set_major_formatter(FuncFormatter(unit))
    ax.set_xlabel("presynaptic unit j (from)")
    ax.set_ylabel("postsynaptic unit i (to)")
    signs = None if params is None or not params.dale else np.asarray(params.dale_rec_diag)
    note = "" if signs is None else mark_dale(ax, signs[units])
    if not stored.all():
        mask_legend(ax, masked_color)
    name = f"{which} W_rec" if params is not None else "W"
    if title is None:
        title = f"{name}, {how}{note}"
    ax.set_title(title, pad=18 if signs is not None else None)
    return fig, ax
