"""Figures of networks: eigenvalue spectra, weight matrices, ensemble radii.

This module is the optional plotting shim (``pip install 'jaxinit[plot]'``).
It is the only place where jaxinit imports matplotlib: ``import jaxinit``
never does, ``import jaxinit.plot`` does.

Every function draws into the ``ax`` you pass, or, by default, into a new
:class:`matplotlib.figure.Figure` created directly (not through
``matplotlib.pyplot``). Such a figure needs no display and no GUI backend
and is not registered with pyplot, so it works headless and never changes
the backend you chose; write it with :func:`save_figure` (or
``fig.savefig``). In a notebook, run ``%matplotlib inline`` once and put
``fig`` on the last line of a cell to show it. Each function returns
``(fig, ax)``.

* :func:`spectrum`: eigenvalues of the raw and the effective ``W_rec`` (or
  of any square matrix or stack of matrices) in the complex plane, with the
  circle of the target spectral radius.
* :func:`weights`: the effective ``W_rec`` as an image, excitatory and
  inhibitory units marked, masked-out connections in their own colour.
* :func:`ensemble_radii`: histogram of the spectral radii of the members of
  an ensemble.
* :func:`plot_file`: one of these figures for a network file, written to
  an image (what ``jaxinit plot FILE -o out.png`` does).
"""

from __future__ import annotations

import math
import numbers
import os
import pathlib

import jax.numpy as jnp
import numpy as np

try:
    import matplotlib
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.patches import Circle, Patch
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.plot needs matplotlib; install it with: pip install 'jaxinit[plot]'"
    ) from _err

from jaxinit._src.effective import effective
from jaxinit._src.npz import load_npz
from jaxinit._src.params import Params
from jaxinit._src.provenance import read_provenance
from jaxinit._src.spectral import spectral_radius

__all__ = ["KINDS", "WHICH", "ensemble_radii", "plot_file", "save_figure", "spectrum", "weights"]

#: Which recurrent matrix of a :class:`~jaxinit.Params` to show.
WHICH = ("raw", "effective")

#: Figures :func:`plot_file` can draw.
KINDS = ("spectrum", "weights")

_COLORS = {"raw": "tab:blue", "effective": "tab:orange", "W": "tab:purple"}
_LABELS = {"raw": "raw W_rec", "effective": "effective W_rec", "W": "W"}


# ---------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------


def _check_which(which) -> tuple[str, ...]:
    items = (which,) if isinstance(which, str) else which
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(
            f"which must be 'raw', 'effective' or a tuple of them, got {which!r}"
        ) from None
    if not items:
        raise ValueError("which must name at least one of 'raw', 'effective', got ()")
    for item in items:
        if not isinstance(item, str) or item not in WHICH:
            raise ValueError(f"which must be 'raw', 'effective' or a tuple of them, got {which!r}")
    if len(set(items)) != len(items):
        raise ValueError(f"which names a matrix twice: {which!r}")
    return items


def _check_spec_rad(spec_rad) -> float | None:
    if spec_rad is None:
        return None
    if isinstance(spec_rad, np.ndarray) and spec_rad.ndim == 0:
        spec_rad = spec_rad.item()
    if isinstance(spec_rad, bool) or not isinstance(spec_rad, numbers.Real):
        raise TypeError(f"spec_rad must be a positive number or None, got {spec_rad!r}")
    value = float(spec_rad)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"spec_rad must be a finite positive number or None, got {spec_rad!r}")
    return value


def _check_ax(ax) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def _as_matrices(name: str, value, *, min_ndim: int = 2, max_ndim: int | None = None):
    """``value`` as a float64 numpy array of real, finite square matrices."""
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(
            f"{name} must be a jaxinit.Params or a real square matrix (..., N, N), "
            f"got {type(value).__name__}"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a jaxinit.Params or a real square matrix (..., N, N), "
            f"got {type(value).__name__}"
        ) from err
    if array.dtype == object or array.dtype.kind in "USVMm":
        raise TypeError(
            f"{name} must be a jaxinit.Params or a real square matrix (..., N, N), "
            f"got {type(value).__name__} of dtype {array.dtype}"
        )
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real, got dtype {array.dtype}")
    shape = tuple(array.shape)
    if array.ndim < min_ndim or (max_ndim is not None and array.ndim > max_ndim):
        raise ValueError(_shape_message(name, shape, min_ndim, max_ndim))
    if shape[-1] != shape[-2] or shape[-1] == 0 or array.size == 0:
        raise ValueError(_shape_message(name, shape, min_ndim, max_ndim))
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        bad = array[~np.isfinite(array)][0]
        raise ValueError(f"{name} must be finite, got an entry {bad!r}")
    return array


def _shape_message(name, shape, min_ndim, max_ndim) -> str:
    if max_ndim == 2:
        want = "a non-empty square matrix (N, N)"
    elif min_ndim == 3:
        want = "a non-empty stack of square matrices (members, N, N)"
    else:
        want = "a non-empty square matrix (N, N) or a stack of them (..., N, N)"
    return f"{name} must be {want}, got shape {shape}"


def _new_axes(ax, figsize):
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    return ax.figure.figure, ax  # the root figure, also for an Axes in a SubFigure


# ---------------------------------------------------------------------------
# spectrum
# ---------------------------------------------------------------------------


def _eigenvalues(W: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(W).reshape(-1)


def spectrum(
    params_or_W,
    *,
    spec_rad=None,
    which=("raw", "effective"),
    ax=None,
    title: str | None = None,
):
    """Eigenvalues of a network's recurrent matrix in the complex plane.

    For a :class:`~jaxinit.Params`, the eigenvalues of the raw ``W_rec``
    (hollow blue circles) and of the effective one the RNN really uses
    (``jaxinit.effective(params).W_rec``, filled orange dots), as ``which``
    says. An ensemble (leading axes) shows the eigenvalues of every member
    together. For an array, the eigenvalues of the matrix, or of every
    matrix of a stack ``(..., N, N)`` (``which`` does not apply).

    The dashed black circle has radius ``spec_rad`` when it is given (the
    target). Without it, a dotted circle in each set's colour marks its
    measured spectral radius. The legend gives the measured radii (the
    largest over the matrices of a stack). Eigenvalues are computed with
    NumPy in float64.

    Args:
      params_or_W: a :class:`~jaxinit.Params`, or a real square matrix or a
        stack of them.
      spec_rad: the target spectral radius to draw, a positive number, or
        None.
      which: ``"raw"``, ``"effective"`` or a tuple of both (for a Params).
      ax: a matplotlib ``Axes`` to draw into; None makes a new figure.
      title: the axes title; None gives a default.

    Returns:
      ``(fig, ax)``: the (root) figure and the axes drawn into. Each set of
      eigenvalues is one scatter collection whose ``gid`` is ``"raw"``,
      ``"effective"`` or ``"W"``; the circles are patches with ``gid``
      ``"target"`` or ``"radius-<set>"``.

    Raises:
      TypeError: ``params_or_W`` is neither a Params nor a real array, or
        ``ax``/``spec_rad``/``which`` has the wrong type.
      ValueError: the array is not square, is empty or is not finite;
        ``spec_rad`` is not positive; ``which`` names an unknown matrix.

    Example:
      >>> import jax, jaxinit, jaxinit.plot
      >>> cfg = jaxinit.Config(N_in=2, N_rec=20, N_out=1, dale_ratio=0.8,
      ...                      spectral_radius_of="effective")
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> fig, ax = jaxinit.plot.spectrum(params, spec_rad=cfg.spec_rad)
      >>> [(c.get_gid(), len(c.get_offsets())) for c in ax.collections]
      [('raw', 20), ('effective', 20)]
      >>> [(p.get_gid(), p.get_radius()) for p in ax.patches]
      [('target', 1.1)]
    """
    _check_ax(ax)
    spec_rad = _check_spec_rad(spec_rad)
    if isinstance(params_or_W, Params):
        names = _check_which(which)
        eff = effective(params_or_W).W_rec if "effective" in names else None
        mats = {n: (params_or_W.W_rec if n == "raw" else eff) for n in names}
        sets = {n: _eigenvalues(_as_matrices(f"{n} W_rec", W)) for n, W in mats.items()}
        size = params_or_W.N_rec
        count = math.prod(params_or_W.batch_shape)
        what = "W_rec"
    else:
        W = _as_matrices("params_or_W", params_or_W)
        sets = {"W": _eigenvalues(W)}
        size = W.shape[-1]
        count = math.prod(W.shape[:-2])
        what = "W"
    fig, ax = _new_axes(ax, (5.5, 5.5))

    total = sum(v.size for v in sets.values())
    small = total <= 2000
    extent = 0.0
    for name, values in sets.items():
        rho = float(np.abs(values).max())
        extent = max(extent, rho)
        stat = r"$\rho$" if count == 1 else r"max $\rho$"
        label = f"{_LABELS[name]} ({stat} = {rho:.4g})"
        color = _COLORS[name]
        if name == "raw":
            style = {"facecolors": "none", "edgecolors": color, "linewidths": 0.9}
            style["s"] = 30 if small else 6
        else:
            style = {"color": color, "s": 12 if small else 3, "linewidths": 0}
        if not small:
            style["alpha"] = 0.5
        ax.scatter(values.real, values.imag, label=label, gid=name, zorder=3, **style)
        if spec_rad is None:
            ax.add_patch(
                Circle((0, 0), rho, fill=False, ls=":", lw=1.2, color=color, gid=f"radius-{name}")
            )
    if spec_rad is not None:
        extent = max(extent, spec_rad)
        ax.add_patch(
            Circle(
                (0, 0),
                spec_rad,
                fill=False,
                ls="--",
                lw=1.3,
                color="black",
                gid="target",
                label=f"target spec_rad = {spec_rad:g}",
                zorder=4,
            )
        )
    lim = 1.12 * extent if extent > 0 else 1.0
    ax.axhline(0, color="0.7", lw=0.6, zorder=1)
    ax.axvline(0, color="0.7", lw=0.6, zorder=1)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$")
    if title is None:
        title = f"Eigenvalues of {what} (N = {size})"
        if count > 1:
            title = f"Eigenvalues of {count} matrices {what} (N = {size})"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.85)
    return fig, ax


# ---------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------


def weights(
    params,
    *,
    which: str = "effective",
    ax=None,
    cmap="RdBu_r",
    masked_color="0.45",
    colorbar: bool = True,
    title: str | None = None,
):
    """The recurrent weight matrix as an image, with E/I blocks and the mask.

    Entry ``(i, j)`` is the weight from unit ``j`` (column, presynaptic) to
    unit ``i`` (row), as in ``W_rec @ state``. Weights use a diverging
    colormap centred at 0 (symmetric limits: red excitatory, blue inhibitory
    with the default ``"RdBu_r"``). Entries the mask removes
    (``rec_connectivity == 0``, e.g. the diagonal without autapses) are
    masked in the image and drawn in ``masked_color``, with a legend entry.
    With Dale's law, when the excitatory units come first (as jaxinit makes
    them), black lines at ``n_excitatory - 0.5`` separate the excitatory
    and inhibitory columns and rows, and "E"/"I" labels with the counts sit
    above the columns.

    Args:
      params: one network (a :class:`~jaxinit.Params` without leading axes;
        take a member of an ensemble first), or a real square matrix (shown
        as it is, without mask or E/I marks).
      which: ``"effective"`` (default, ``jaxinit.effective(params).W_rec``)
        or ``"raw"`` (``params.W_rec``); for a Params only.
      ax: a matplotlib ``Axes`` to draw into; None makes a new figure.
      cmap: a diverging colormap or its name.
      masked_color: a matplotlib colour for masked-out entries.
      colorbar: whether to add a colorbar.
      title: the axes title; None gives a default.

    Returns:
      ``(fig, ax)``. The image is ``ax.images[0]``; its data is a masked
      array whose ``filled(0)`` is the matrix shown. The boundary lines have
      ``gid`` ``"ei-boundary-columns"`` and ``"ei-boundary-rows"``.

    Raises:
      TypeError: ``params`` is neither a Params nor a real array, or ``ax``
        has the wrong type.
      ValueError: ``params`` is an ensemble, the matrix is not square, empty
        or finite, or ``which`` is unknown.

    Example:
      >>> import jax, jaxinit, jaxinit.plot
      >>> cfg = jaxinit.Config(N_in=2, N_rec=10, N_out=1, dale_ratio=0.8,
      ...                      autapses=False)
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> fig, ax = jaxinit.plot.weights(params)
      >>> image = ax.images[0].get_array()
      >>> bool((image.filled(0) == jaxinit.effective(params).W_rec).all())
      True
      >>> int(image.mask.sum())  # the diagonal: no autapses
      10
      >>> [line.get_xdata()[0] for line in ax.lines
      ...  if line.get_gid() == "ei-boundary-columns"]
      [7.5]
    """
    _check_ax(ax)
    if not isinstance(which, str) or which not in WHICH:
        raise ValueError(f"which must be 'effective' or 'raw', got {which!r}")
    signs = None
    if isinstance(params, Params):
        if params.batch_shape:
            raise ValueError(
                f"params must be one network, got an ensemble of shape {params.batch_shape}; "
                "plot one member, e.g. member(params, 0)"
            )
        source = effective(params).W_rec if which == "effective" else params.W_rec
        W = _as_matrices(f"{which} W_rec", source, max_ndim=2)
        connected = np.asarray(params.rec_connectivity) != 0
        if params.dale:
            signs = np.asarray(params.dale_rec_diag)
        name = f"{which} W_rec"
    else:
        W = _as_matrices("params", params, max_ndim=2)
        connected = np.ones(W.shape, dtype=bool)
        name = "W"
    N = W.shape[0]
    fig, ax = _new_axes(ax, (6.4, 5.6))

    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    colormap = colormap.with_extremes(bad=masked_color)
    shown = W[connected]
    vmax = float(np.abs(shown).max()) if shown.size else 0.0
    vmax = vmax if vmax > 0 else 1.0
    image = np.ma.masked_array(W, mask=~connected)
    im = ax.imshow(image, cmap=colormap, vmin=-vmax, vmax=vmax, interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85, label="weight")
    ax.set_xlabel("presynaptic unit j (from)")
    ax.set_ylabel("postsynaptic unit i (to)")

    note = ""
    if signs is not None:
        n_exc = int((signs > 0).sum())
        ordered = bool((signs[:n_exc] > 0).all() and (signs[n_exc:] < 0).all())
        top = ax.get_xaxis_transform()
        if not ordered:
            note = ", E/I units interleaved"
        elif n_exc in (0, N):
            kind = "excitatory" if n_exc == N else "inhibitory"
            ax.text((N - 1) / 2, 1.01, f"all {N} {kind}", transform=top, ha="center", va="bottom")
        else:
            edge = n_exc - 0.5
            style = {"color": "black", "lw": 1.2, "zorder": 3}
            ax.axvline(edge, gid="ei-boundary-columns", **style)
            ax.axhline(edge, gid="ei-boundary-rows", **style)
            for center, text in (((n_exc - 1) / 2, "E"), ((n_exc + N - 1) / 2, "I")):
                count = n_exc if text == "E" else N - n_exc
                ax.text(
                    center,
                    1.01,
                    f"{text} ({count})",
                    transform=top,
                    ha="center",
                    va="bottom",
                    fontweight="bold",
                )
    if not connected.all():
        handle = Patch(facecolor=masked_color, edgecolor="0.4", label="no connection (mask 0)")
        ax.legend(
            handles=[handle],
            loc="upper center",
            bbox_to_anchor=(0.5, -0.11),
            frameon=False,
            fontsize="small",
        )
    if title is None:
        title = f"{name} (N = {N}, density {connected.mean():.2f}{note})"
    ax.set_title(title, pad=18 if signs is not None else None)
    return fig, ax


# ---------------------------------------------------------------------------
# ensemble_radii
# ---------------------------------------------------------------------------


def ensemble_radii(
    params,
    *,
    spec_rad=None,
    which=("raw", "effective"),
    bins: int = 30,
    ax=None,
    title: str | None = None,
):
    """Histogram of the spectral radii of the members of an ensemble.

    One histogram per matrix in ``which`` (raw ``W_rec`` in blue, effective
    in orange), on shared bins, with the mean ± standard deviation in the
    legend; a dashed black line marks ``spec_rad`` when given. Radii are
    computed with :func:`jaxinit.spectral_radius` (so they equal what
    :func:`jaxinit.summarize` reports for each member); only the ``n``
    radii come back to the host.

    Args:
      params: an ensemble, a :class:`~jaxinit.Params` with leading axes
        (all leading axes count as members), or a real stack of square
        matrices ``(..., members, N, N)`` (``which`` does not apply).
      spec_rad: the target spectral radius to mark, or None.
      which: ``"raw"``, ``"effective"`` or a tuple of both (for a Params).
      bins: the number of bins, a positive integer.
      ax: a matplotlib ``Axes`` to draw into; None makes a new figure.
      title: the axes title; None gives a default.

    Returns:
      ``(fig, ax)``. Each histogram is a bar container in ``ax.containers``
      (its bar heights sum to the number of members); the target line has
      ``gid`` ``"target"``.

    Raises:
      TypeError: ``params`` is neither a Params nor a real array, or an
        argument has the wrong type.
      ValueError: ``params`` is a single network or not a stack of square
        matrices; ``spec_rad`` or ``bins`` is not positive.

    Example:
      For ``ens = jaxinit.ensemble(init, key, n, cfg)``, call
      ``jaxinit.plot.ensemble_radii(ens, spec_rad=cfg.spec_rad)``. Here, a stack of
      40 random matrices:

      >>> import numpy as np, jaxinit.plot
      >>> stack = np.random.default_rng(0).normal(size=(40, 10, 10)) / np.sqrt(10)
      >>> fig, ax = jaxinit.plot.ensemble_radii(stack, spec_rad=1.0)
      >>> [int(sum(bar.get_height() for bar in c)) for c in ax.containers]
      [40]
    """
    _check_ax(ax)
    spec_rad = _check_spec_rad(spec_rad)
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral):
        raise TypeError(f"bins must be a positive integer, got {bins!r}")
    if bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    if isinstance(params, Params):
        names = _check_which(which)
        if not params.batch_shape:
            raise ValueError(
                "params must be an ensemble (a Params with a leading member axis), got a "
                "single network; use jaxinit.plot.spectrum for one network"
            )
        eff = effective(params).W_rec if "effective" in names else None
        mats = {n: (params.W_rec if n == "raw" else eff) for n in names}
        radii = {n: _radii(W) for n, W in mats.items()}
    else:
        W = _as_matrices("params", params, min_ndim=3)
        radii = {"W": _radii(jnp.asarray(W))}
    count = next(iter(radii.values())).size
    fig, ax = _new_axes(ax, (6.4, 4.2))

    values = np.concatenate(list(radii.values()))
    if not np.isfinite(values).all():
        raise ValueError("a spectral radius could not be computed (eigvals returned NaN)")
    lo, hi = float(values.min()), float(values.max())
    if spec_rad is not None:
        lo, hi = min(lo, spec_rad), max(hi, spec_rad)
    scale = max(abs(lo), abs(hi), 1e-12)
    if hi - lo < 1e-3 * scale:  # all (nearly) equal: widen to a readable range
        lo, hi = lo - 0.05 * scale, hi + 0.05 * scale
    edges = np.histogram_bin_edges(values, bins=bins, range=(lo, hi))
    for name, r in radii.items():
        label = f"{_LABELS[name]}: {r.mean():.4g} ± {r.std():.2g}"
        ax.hist(r, bins=edges, color=_COLORS[name], alpha=0.6, label=label, gid=name)
    if spec_rad is not None:
        ax.axvline(
            spec_rad, color="black", ls="--", lw=1.3, gid="target", label=f"target {spec_rad:g}"
        )
    ax.set_xlabel("spectral radius")
    ax.set_ylabel("members")
    ax.set_title(title if title is not None else f"Spectral radii of {count} networks")
    ax.legend(fontsize="small")
    return fig, ax


def _radii(W) -> np.ndarray:
    return np.asarray(spectral_radius(W), dtype=np.float64).reshape(-1)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def save_figure(fig, path, *, dpi: int = 150) -> pathlib.Path:
    """Write a figure to an image file, headless (no display, no pyplot).

    The format follows the suffix of ``path`` (``.png``, ``.pdf``, ``.svg``,
    ...); a path without suffix is written as PNG, under exactly that name.
    Equivalent to ``fig.savefig(path, dpi=dpi, bbox_inches="tight")``.

    Args:
      fig: a matplotlib ``Figure`` (the first item these functions return).
      path: where to write (str or os.PathLike); the folder must exist.
      dpi: resolution in dots per inch, a positive integer.

    Returns:
      The ``pathlib.Path`` written.

    Raises:
      TypeError: ``fig`` is not a Figure, or ``path``/``dpi`` has the wrong
        type.
      ValueError: the suffix names a format matplotlib cannot write, or
        ``dpi`` is not positive.

    Example:
      >>> import os, tempfile, jaxinit.plot
      >>> fig, ax = jaxinit.plot.spectrum([[0.0, 1.0], [-1.0, 0.0]])
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     out = jaxinit.plot.save_figure(fig, os.path.join(tmp, "eig.png"))
      ...     print(out.name, out.read_bytes()[:4])
      eig.png b'\\x89PNG'
    """
    if isinstance(fig, SubFigure):
        fig = fig.figure  # the root figure
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if isinstance(path, (bytes, bytearray)) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {path!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Integral):
        raise TypeError(f"dpi must be a positive integer, got {dpi!r}")
    if dpi < 1:
        raise ValueError(f"dpi must be a positive integer, got {dpi!r}")
    target = pathlib.Path(path)
    suffix = target.suffix.lower().lstrip(".")
    fmt = suffix or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"path {os.fspath(path)!r}: matplotlib cannot write {fmt!r} files; use one of "
            f"{sorted(supported)}"
        )
    fig.savefig(target, format=fmt, dpi=int(dpi), bbox_inches="tight")
    return target


def plot_file(
    path, output, kind: str = "spectrum", *, spec_rad=None, dpi: int = 150
) -> pathlib.Path:
    """Draw the network in a file and write the figure (``jaxinit plot``).

    Loads ``path`` with :func:`jaxinit.load_npz` (a jaxinit or a PsychRNN
    file) and writes a :func:`spectrum` or :func:`weights` figure to
    ``output`` with :func:`save_figure`. For a spectrum of a file that
    records its recipe (:func:`jaxinit.save_npz` with ``initializer``,
    ``key`` and ``config``) made by ``gaussian_spectral_radius``, the
    recorded ``spec_rad`` is drawn as the target unless ``spec_rad`` is
    given.

    Args:
      path: the network file (``.npz``).
      output: the image to write; its suffix chooses the format (PNG
        without one).
      kind: ``"spectrum"`` or ``"weights"``.
      spec_rad: target radius for the spectrum; None takes the recorded one
        if any.
      dpi: resolution in dots per inch.

    Returns:
      The ``pathlib.Path`` written.

    Raises:
      ValueError: unknown ``kind``; any error of :func:`jaxinit.load_npz`
        (``NpzError`` is a ``ValueError``), ``FileNotFoundError`` included.

    Example:
      >>> import os, tempfile, jax, jaxinit, jaxinit.plot
      >>> cfg = jaxinit.Config(N_in=2, N_rec=12, N_out=1, dale_ratio=0.75)
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     net = jaxinit.save_npz(os.path.join(tmp, "net.npz"), params)
      ...     out = jaxinit.plot.plot_file(net, os.path.join(tmp, "w.png"), kind="weights")
      ...     print(out.name, out.stat().st_size > 1000)
      w.png True
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    spec_rad = _check_spec_rad(spec_rad)
    params = load_npz(path)
    if kind == "weights":
        fig, _ = weights(params)
    else:
        if spec_rad is None:
            recipe = read_provenance(path)
            if (
                recipe is not None
                and recipe.config is not None
                and recipe.initializer == "gaussian_spectral_radius"
            ):
                spec_rad = recipe.config.spec_rad
        fig, _ = spectrum(params, spec_rad=spec_rad)
    return save_figure(fig, output, dpi=dpi)
