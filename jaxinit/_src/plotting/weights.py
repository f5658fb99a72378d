"""The recurrent weight matrix as an image, with E/I blocks and the mask (:func:`weights`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.typing import ColorType

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.names import Weights
from jaxinit._src.params import Params
from jaxinit._src.plotting.arguments import (
    WHICH,
    as_matrices,
    check_ax,
    new_axes,
    refuse_sparse,
)


def _matrix(
    params: Params | npt.ArrayLike, which: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], npt.NDArray[Any] | None, str]:
    """``(W, connected, signs, name)`` of a Params or a bare matrix."""
    if not isinstance(params, Params):
        W = as_matrices("params", params, max_ndim=2)
        return W, np.ones(W.shape, dtype=bool), None, "W"
    checks.single_network(params)
    source = effective(params).W_rec if which == "effective" else params.W_rec
    W = as_matrices(f"{which} W_rec", source, max_ndim=2)
    connected = np.asarray(params.rec_connectivity) != 0
    signs = np.asarray(params.dale_rec_diag) if params.dale else None
    return W, connected, signs, f"{which} W_rec"


def _label(ax: Axes, x: float, text: str, **style: Any) -> None:
    ax.text(x, 1.01, text, transform=ax.get_xaxis_transform(), ha="center", va="bottom", **style)


def mark_dale(ax: Axes, signs: npt.NDArray[Any]) -> str:
    """Draw the E/I boundary and labels; returns a note for the title."""
    N = signs.size
    n_exc = int((signs > 0).sum())
    if not bool((signs[:n_exc] > 0).all() and (signs[n_exc:] < 0).all()):
        return ", E/I units interleaved"
    if n_exc in (0, N):
        _label(ax, (N - 1) / 2, f"all {N} {'excitatory' if n_exc == N else 'inhibitory'}")
        return ""
    edge = n_exc - 0.5
    style: dict[str, Any] = {"color": "black", "lw": 1.2, "zorder": 3}
    ax.axvline(edge, gid="ei-boundary-columns", **style)
    ax.axhline(edge, gid="ei-boundary-rows", **style)
    _label(ax, (n_exc - 1) / 2, f"E ({n_exc})", fontweight="bold")
    _label(ax, (n_exc + N - 1) / 2, f"I ({N - n_exc})", fontweight="bold")
    return ""


def mask_legend(ax: Axes, masked_color: ColorType) -> None:
    handle = Patch(facecolor=masked_color, edgecolor="0.4", label="no connection (mask 0)")
    ax.legend(
        handles=[handle],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.11),
        frameon=False,
        fontsize="small",
    )



def signed_image(
    ax: Axes,
    W: npt.NDArray[np.float64],
    connected: npt.NDArray[np.bool_],
    cmap: str | Colormap,
    masked_color: ColorType,
    colorbar: bool,
) -> None:
    """Draw ``W`` on ``ax`` with a colour scale symmetric about 0 (set by the
    connected entries), the entries not connected in ``masked_color``."""
    colormap = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    colormap = colormap.with_extremes(bad=masked_color)
    shown = W[connected]
    vmax = float(np.abs(shown).max()) if shown.size else 0.0
    vmax = vmax if vmax > 0 else 1.0
    # numpy's stubs leave MaskedArray.__new__ unannotated, which strict mypy will not
    # call from typed code; this name gives the constructor the result type it has here.
    masked_array: Callable[..., np.ma.MaskedArray[tuple[int, ...], np.dtype[np.float64]]] = (
        np.ma.masked_array
    )
    image = masked_array(W, mask=~connected)
    im = ax.imshow(image, cmap=colormap, vmin=-vmax, vmax=vmax, interpolation="nearest")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.85, label="weight")

def weights(
    params: Params | npt.ArrayLike,
    *,
    which: Weights = "effective",
    ax: Axes | None = None,
    cmap: str | Colormap = "RdBu_r",
    masked_color: ColorType = "0.45",
    colorbar: bool = True,
    title: str | None = None,
) -> tuple[Figure, Axes]:
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
      TypeError: ``params`` is neither a Params nor a real array (a sparse
        network or ``RowSparse`` is refused: see
        :func:`~jaxinit.plot.sampled_weights`), or ``ax`` has the wrong type.
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
    refuse_sparse("params", params, "weights", "sampled_weights")
    check_ax(ax)
    if not isinstance(which, str) or which not in WHICH:
        raise ValueError(f"which must be 'effective' or 'raw', got {which!r}")
    W, connected, signs, name = _matrix(params, which)
    fig, ax = new_axes(ax, (6.4, 5.6))
    signed_image(ax, W, connected, cmap, masked_color, colorbar)
    ax.set_xlabel("presynaptic unit j (from)")
    ax.set_ylabel("postsynaptic unit i (to)")
    note = "" if signs is None else mark_dale(ax, signs)
    if not connected.all():
        mask_legend(ax, masked_color)
    if title is None:
        title = f"{name} (N = {W.shape[0]}, density {connected.mean():.2f}{note})"
    ax.set_title(title, pad=18 if signs is not None else None)
    return fig, ax
