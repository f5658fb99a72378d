"""Eigenvalues of recurrent matrices in the complex plane (:func:`spectrum`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from jaxinit._src.effective import effective
from jaxinit._src.names import Weights
from jaxinit._src.params import Params
from jaxinit._src.plotting.arguments import (
    COLORS,
    LABELS,
    as_matrices,
    check_ax,
    check_flag,
    check_spec_rad,
    check_which,
    new_axes,
    refuse_sparse,
)
from jaxinit._src.predicted import predicted_radius


def _eigenvalues(W: npt.NDArray[np.float64]) -> npt.NDArray[np.inexact[Any]]:
    return np.linalg.eigvals(W).reshape(-1)


def _matrix_sets(
    params_or_W: Params | npt.ArrayLike, which: object
) -> tuple[dict[str, tuple[npt.NDArray[np.float64], Any]], int, int, str]:
    """``(mats, N, count, what)``: checked float64 matrices by set name, size, count, name.

    ``mats[name]`` is ``(checked, source)``: the float64 numpy stack the
    eigenvalues are computed from, and the array it came from (what
    :func:`~jaxinit.predicted_radius` is given, so the drawn edge is exactly
    what a caller computes from the same array).
    """
    if isinstance(params_or_W, Params):
        names = check_which(which)
        # the names are distinct, so the effective W_rec is computed at most once
        sources = {
            n: (params_or_W.W_rec if n == "raw" else effective(params_or_W).W_rec) for n in names
        }
        mats: dict[str, tuple[npt.NDArray[np.float64], Any]] = {
            n: (as_matrices(f"{n} W_rec", W), W) for n, W in sources.items()
        }
        return mats, params_or_W.N_rec, math.prod(params_or_W.batch_shape), "W_rec"
    W = as_matrices("params_or_W", params_or_W)
    return {"W": (W, params_or_W)}, W.shape[-1], math.prod(W.shape[:-2]), "W"


def _predicted_edge(source: Any) -> float:
    """:func:`~jaxinit.predicted_radius` of a matrix (the largest over a stack)."""
    return float(np.max(np.asarray(predicted_radius(source), dtype=np.float64)))


def _scatter(
    ax: Axes, name: str, values: npt.NDArray[np.inexact[Any]], *, count: int, small: bool
) -> float:
    """Draw one set of eigenvalues; returns its spectral radius."""
    rho = float(np.abs(values).max())
    stat = r"$\rho$" if count == 1 else r"max $\rho$"
    color = COLORS[name]
    style: dict[str, Any]
    if name == "raw":
        style = {"facecolors": "none", "edgecolors": color, "linewidths": 0.9}
        style["s"] = 30 if small else 6
    else:
        style = {"color": color, "s": 12 if small else 3, "linewidths": 0}
    if not small:
        style["alpha"] = 0.5
    label = f"{LABELS[name]} ({stat} = {rho:.4g})"
    ax.scatter(values.real, values.imag, label=label, gid=name, zorder=3, **style)
    return rho


def _draw_predicted(ax: Axes, name: str, radius: float, *, count: int) -> None:
    stat = "predicted edge" if count == 1 else "max predicted edge"
    label = f"{stat}, {LABELS[name]} = {radius:.4g}"
    circle(ax, radius, gid=f"predicted-{name}", ls="-.", lw=1.3, color=COLORS[name], label=label)


def circle(ax: Axes, radius: float, *, gid: str, **style: Any) -> None:
    """A circle of ``radius`` around 0, not filled, with ``gid``."""
    ax.add_patch(Circle((0, 0), radius, fill=False, gid=gid, **style))


def target_and_frame(ax: Axes, extent: float, spec_rad: float | None) -> None:
    """The dashed target circle (when ``spec_rad`` is given) and the frame
    of the complex plane around both it and ``extent``."""
    if spec_rad is not None:
        extent = max(extent, spec_rad)
        label = f"target spec_rad = {spec_rad:g}"
        circle(ax, spec_rad, gid="target", ls="--", lw=1.3, color="black", label=label, zorder=4)
    complex_frame(ax, extent)


def complex_frame(ax: Axes, extent: float) -> None:
    """Axes of the complex plane, square, a little wider than ``extent`` each way."""
    lim = 1.12 * extent if extent > 0 else 1.0
    ax.axhline(0, color="0.7", lw=0.6, zorder=1)
    ax.axvline(0, color="0.7", lw=0.6, zorder=1)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$")


def spectrum(
    params_or_W: Params | npt.ArrayLike,
    *,
    spec_rad: float | None = None,
    which: Weights | Sequence[Weights] = ("raw", "effective"),
    predicted: bool = False,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
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

    With ``predicted=True`` a dash-dotted circle in each set's colour marks
    the bulk edge :func:`jaxinit.predicted_radius` predicts for that matrix
    from its variance profile (the largest over a stack), labelled in the
    legend. Eigenvalues outside it are outliers the random-matrix
    prediction does not see: the mean-balance outliers of
    ``dale_balance="psychrnn"``, or those of a structured mask.

    Args:
      params_or_W: a :class:`~jaxinit.Params`, or a real square matrix or a
        stack of them.
      spec_rad: the target spectral radius to draw, a positive number, or
        None.
      which: ``"raw"``, ``"effective"`` or a tuple of both (for a Params).
      predicted: whether to draw the predicted bulk edge of each set
        (default False).
      ax: a matplotlib ``Axes`` to draw into; None makes a new figure.
      title: the axes title; None gives a default.

    Returns:
      ``(fig, ax)``: the (root) figure and the axes drawn into. Each set of
      eigenvalues is one scatter collection whose ``gid`` is ``"raw"``,
      ``"effective"`` or ``"W"``; the circles are patches with ``gid``
      ``"target"``, ``"radius-<set>"`` or ``"predicted-<set>"``.

    Raises:
      TypeError: ``params_or_W`` is neither a Params nor a real array (a
        sparse network or ``RowSparse`` is refused: every eigenvalue needs a
        dense solve; see :func:`~jaxinit.plot.ritz_spectrum`), or
        ``ax``/``spec_rad``/``which``/``predicted`` has the wrong type.
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

      The predicted bulk edge of the effective matrix, beside the target:

      >>> fig, ax = jaxinit.plot.spectrum(params, spec_rad=cfg.spec_rad,
      ...                                 which="effective", predicted=True)
      >>> edge = {p.get_gid(): p.get_radius() for p in ax.patches}["predicted-effective"]
      >>> edge == float(jaxinit.predicted_radius(jaxinit.effective(params).W_rec))
      True
    """
    refuse_sparse("params_or_W", params_or_W, "spectrum", "ritz_spectrum")
    check_ax(ax)
    spec_rad = check_spec_rad(spec_rad)
    predicted = check_flag("predicted", predicted)
    mats, size, count, what = _matrix_sets(params_or_W, which)
    sets = {name: _eigenvalues(W) for name, (W, _) in mats.items()}
    fig, ax = new_axes(ax, (5.5, 5.5))
    small = sum(v.size for v in sets.values()) <= 2000
    extent = 0.0
    for name, values in sets.items():
        rho = _scatter(ax, name, values, count=count, small=small)
        extent = max(extent, rho)
        if spec_rad is None:
            circle(ax, rho, gid=f"radius-{name}", ls=":", lw=1.2, color=COLORS[name])
        if predicted:
            edge = _predicted_edge(mats[name][1])
            _draw_predicted(ax, name, edge, count=count)
            extent = max(extent, edge)
    target_and_frame(ax, extent, spec_rad)
    if title is None:
        title = f"Eigenvalues of {what} (N = {size})"
        if count > 1:
            title = f"Eigenvalues of {count} matrices {what} (N = {size})"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.85)
    return fig, ax
