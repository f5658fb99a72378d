"""Histogram of the spectral radii of an ensemble's members (:func:`ensemble_radii`)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from jaxinit._src.effective import effective
from jaxinit._src.names import Weights
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
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.spectral import spectral_radius
from jaxinit._src.summary import sparse_krylov_radius


def _radii(W: jax.Array) -> npt.NDArray[np.float64]:
    return np.asarray(spectral_radius(W), dtype=np.float64).reshape(-1)


def _check_bins(bins: object) -> int:
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral):
        raise TypeError(f"bins must be a positive integer, got {bins!r}")
    if bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    return int(bins)


def _sparse_radii(W: RowSparse) -> npt.NDArray[np.float64]:
    return np.asarray(sparse_krylov_radius(W).radius, dtype=np.float64).reshape(-1)


def _member_radii(
    params: Params | SparseParams | RowSparse | npt.ArrayLike, which: object
) -> dict[str, npt.NDArray[np.float64]]:
    """The members' spectral radii, by set name (``"raw"``, ``"effective"`` or ``"W"``)."""
    if isinstance(params, RowSparse):
        stack = check_row_sparse(params, "params")
        if not stack.batch_shape:
            raise ValueError(
                f"params must be a stack of sparse matrices (members, N, K), got one matrix "
                f"of shape {stack.shape}"
            )
        return {"W": _sparse_radii(stack)}
    if isinstance(params, SparseParams):
        names = check_which(which)
        if not params.batch_shape:
            raise ValueError(
                "params must be an ensemble (a SparseParams with a leading member axis), got a "
                "single network; use jaxinit.plot.ritz_spectrum for one sparse network"
            )
        return {
            n: _sparse_radii(params.W_rec if n == "raw" else effective(params).W_rec)
            for n in names
        }
    if not isinstance(params, Params):
        W = as_matrices("params", params, min_ndim=3)
        return {"W": _radii(jnp.asarray(W))}
    names = check_which(which)
    if not params.batch_shape:
        raise ValueError(
            "params must be an ensemble (a Params with a leading member axis), got a "
            "single network; use jaxinit.plot.spectrum for one network"
        )
    # the names are distinct, so the effective W_rec is computed at most once
    return {n: _radii(params.W_rec if n == "raw" else effective(params).W_rec) for n in names}


def _shared_edges(
    values: npt.NDArray[np.float64], bins: int, spec_rad: float | None
) -> npt.NDArray[np.float64]:
    if not np.isfinite(values).all():
        raise ValueError("a spectral radius could not be computed (eigvals returned NaN)")
    lo, hi = float(values.min()), float(values.max())
    if spec_rad is not None:
        lo, hi = min(lo, spec_rad), max(hi, spec_rad)
    scale = max(abs(lo), abs(hi), 1e-12)
    if hi - lo < 1e-3 * scale:  # all (nearly) equal: widen to a readable range
        lo, hi = lo - 0.05 * scale, hi + 0.05 * scale
    return np.histogram_bin_edges(values, bins=bins, range=(lo, hi))


def ensemble_radii(
    params: Params | SparseParams | RowSparse | npt.ArrayLike,
    *,
    spec_rad: float | None = None,
    which: Weights | Sequence[Weights] = ("raw", "effective"),
    bins: int = 30,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Histogram of the spectral radii of the members of an ensemble.

    One histogram per matrix in ``which`` (raw ``W_rec`` in blue, effective
    in orange), on shared bins, with the mean ± standard deviation in the
    legend; a dashed black line marks ``spec_rad`` when given. Radii are
    computed with :func:`jaxinit.spectral_radius` (so they equal what
    :func:`jaxinit.summarize` reports for each member); only the ``n``
    radii come back to the host. A sparse ensemble (a
    :class:`~jaxinit.sparse.SparseParams` with leading axes, or a stack of
    :class:`~jaxinit.sparse.RowSparse` matrices) is measured as
    :func:`jaxinit.summarize` measures it: the Krylov radius of each sparse
    matrix, O(nnz) products, never a dense copy above 4096 units.

    Args:
      params: an ensemble, a :class:`~jaxinit.Params` or
        :class:`~jaxinit.sparse.SparseParams` with leading axes (all
        leading axes count as members), or a real stack of square matrices
        ``(..., members, N, N)`` or of ``RowSparse`` matrices (``which``
        does not apply).
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
    check_ax(ax)
    spec_rad = check_spec_rad(spec_rad)
    bins = _check_bins(bins)
    radii = _member_radii(params, which)
    count = next(iter(radii.values())).size
    edges = _shared_edges(np.concatenate(list(radii.values())), bins, spec_rad)
    fig, ax = new_axes(ax, (6.4, 4.2))
    for name, r in radii.items():
        label = f"{LABELS[name]}: {r.mean():.4g} ± {r.std():.2g}"
        # matplotlib's stub lists no array type for bins (an array of edges works)
        ax.hist(r, bins=edges, color=COLORS[name], alpha=0.6, label=label, gid=name)  # type: ignore[arg-type]
    if spec_rad is not None:
        ax.axvline(
            spec_rad, color="black", ls="--", lw=1.3, gid="target", label=f"target {spec_rad:g}"
        )
    ax.set_xlabel("spectral radius")
    ax.set_ylabel("members")
    ax.set_title(title if title is not None else f"Spectral radii of {count} networks")
    ax.legend(fontsize="small")
    return fig, ax
