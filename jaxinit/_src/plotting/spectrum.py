"""Eigenvalues of recurrent matrices in the complex plane (:func:`spectrum`)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Circle

from jaxinit._src.effective import effective
from jaxinit._src.params import Params
from jaxinit._src.plotting.arguments import (
    COLORS,
    LABELS,
    as_matrices,
    check_ax,
    check_spec_rad,
    check_which,
    new_axes,
)


def _eigenvalues(W: np.ndarray) -> np.ndarray:
    return np.linalg.eigvals(W).reshape(-1)


def _eigenvalue_sets(params_or_W, which):
    """``(sets, N, count, what)``: eigenvalues by set name, matrix size, matrices, name."""
    if isinstance(params_or_W, Params):
        names = check_which(which)
        eff = effective(params_or_W).W_rec if "effective" in names else None
        mats = {n: (params_or_W.W_rec if n == "raw" else eff) for n in names}
        sets = {n: _eigenvalues(as_matrices(f"{n} W_rec", W)) for n, W in mats.items()}
        return sets, params_or_W.N_rec, math.prod(params_or_W.batch_shape), "W_rec"
    W = as_matrices("params_or_W", params_or_W)
    return {"W": _eigenvalues(W)}, W.shape[-1], math.prod(W.shape[:-2]), "W"


def _scatter(ax, name: str, values: np.ndarray, *, count: int, small: bool) -> float:
    """Draw one set of eigenvalues; returns its spectral radius."""
    rho = float(np.abs(values).max())
    stat = r"$\rho$" if count == 1 else r"max $\rho$"
    color = COLORS[name]
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


def _circle(ax, radius: float, *, gid: str, **style) -> None:
    ax.add_patch(Circle((0, 0), radius, fill=False, gid=gid, **style))


def _frame(ax, extent: float) -> None:
    lim = 1.12 * extent if extent > 0 else 1.0
    ax.axhline(0, color="0.7", lw=0.6, zorder=1)
    ax.axvline(0, color="0.7", lw=0.6, zorder=1)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(r"Re $\lambda$")
    ax.set_ylabel(r"Im $\lambda$")


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
    check_ax(ax)
    spec_rad = check_spec_rad(spec_rad)
    sets, size, count, what = _eigenvalue_sets(params_or_W, which)
    fig, ax = new_axes(ax, (5.5, 5.5))
    small = sum(v.size for v in sets.values()) <= 2000
    extent = 0.0
    for name, values in sets.items():
        rho = _scatter(ax, name, values, count=count, small=small)
        extent = max(extent, rho)
        if spec_rad is None:
            _circle(ax, rho, gid=f"radius-{name}", ls=":", lw=1.2, color=COLORS[name])
    if spec_rad is not None:
        extent = max(extent, spec_rad)
        label = f"target spec_rad = {spec_rad:g}"
        _circle(ax, spec_rad, gid="target", ls="--", lw=1.3, color="black", label=label, zorder=4)
    _frame(ax, extent)
    if title is None:
        title = f"Eigenvalues of {what} (N = {size})"
        if count > 1:
            title = f"Eigenvalues of {count} matrices {what} (N = {size})"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small", framealpha=0.85)
    return fig, ax
