"""The structure of a connectivity mask: image, groups and degrees (:func:`mask_structure`)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from jaxinit._src import checks
from jaxinit._src.params import Params
from jaxinit._src.plotting import arguments
from jaxinit._src.sparse.params import SparseParams

#: Group colours: E and I as in :func:`~jaxinit.plot.weights` (red excitatory,
#: blue inhibitory); other groups take matplotlib's default cycle.
_EI_COLORS = {"E": "tab:red", "I": "tab:blue"}
_CYCLE = ("tab:green", "tab:purple", "tab:brown", "tab:olive", "tab:cyan", "tab:pink", "tab:gray")
_BOUNDARY: dict[str, Any] = {"color": "tab:orange", "lw": 1.3, "zorder": 3}
#: Automatic bins: width-1 bins unless the degrees span more values than this.
_MAX_BARS = 50
#: Block densities are written into the image up to this many groups.
_MAX_DENSITY_GROUPS = 6


def _as_mask(value: object) -> npt.NDArray[np.bool_]:
    """``value`` as a boolean ``(N_post, N_pre)`` array, after checking it holds 0/1."""
    wrong = "mask must be a jaxinit.Params or a real 0/1 matrix (N_post, N_pre), got "
    array = arguments.numeric_array(value, wrong, kinds="biuf")
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"mask must be a non-empty matrix (N_post, N_pre), got shape {tuple(array.shape)}"
        )
    bad = ~((array == 0) | (array == 1))
    if bad.any():
        raise ValueError(f"mask must hold only 0 and 1, got an entry {array[bad][0].item()!r}")
    connected: npt.NDArray[np.bool_] = array != 0
    return connected


def dale_groups(params: Params | SparseParams) -> tuple[list[tuple[str, str, int]] | None, str]:
    """The E and I groups of a Params' Dale signs, when E units come first."""
    if not params.dale:
        return None, ""
    signs = np.asarray(params.dale_rec_diag)
    n_exc = int((signs > 0).sum())
    if not bool((signs[:n_exc] > 0).all() and (signs[n_exc:] < 0).all()):
        return None, ", E/I units interleaved"
    groups = [("E", "E", n_exc), ("I", "I", signs.size - n_exc)]
    return [g for g in groups if g[2] > 0], ""


def _size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_groups(groups: object, shape: tuple[int, ...]) -> list[tuple[str, str, int]]:
    """``groups`` as ``[(short label, long label, size), ...]``, sizes summing to N."""
    wrong = "groups must be a sequence of group sizes, a mapping {label: size} or None, got "
    if isinstance(groups, Mapping):
        items = []
        for label, size in groups.items():
            if not isinstance(label, str) or not label:
                raise TypeError(f"groups' labels must be non-empty strings, got {label!r}")
            items.append((label, label, _size(f"groups[{label!r}]", size)))
    elif isinstance(groups, Sequence) and not isinstance(groups, (str, bytes)):
        items = [
            (str(k), f"group {k}", _size(f"groups[{k - 1}]", size))
            for k, size in enumerate(groups, start=1)
        ]
    elif isinstance(groups, np.ndarray) and groups.ndim == 1:
        return _check_groups(groups.tolist(), shape)
    else:
        raise TypeError(wrong + repr(groups))
    if not items:
        raise ValueError(
            "groups must name at least one group, got an empty " + type(groups).__name__
        )
    if shape[0] != shape[1]:
        raise ValueError(f"groups needs a square mask (N, N), got shape {shape}")
    total = sum(size for _, _, size in items)
    if total != shape[0]:
        raise ValueError(
            f"groups' sizes must add up to the number of units, {shape[0]}, got "
            f"{[size for _, _, size in items]} (sum {total})"
        )
    return items


def check_bin_width(bin_width: object) -> int | None:
    """None, or ``bin_width`` checked as a positive integer."""
    if bin_width is None:
        return None
    return _size("bin_width", bin_width)


def _check_axes(axes: object) -> tuple[Axes, Axes, Axes] | None:
    if axes is None:
        return None
    wrong = "axes must be None or a sequence of three matplotlib Axes (mask, in-degree, "
    wrong += "out-degree), got "
    if isinstance(axes, Axes) or not isinstance(axes, Sequence) or isinstance(axes, str):
        raise TypeError(wrong + type(axes).__name__)
    if len(axes) != 3:
        raise ValueError(wrong + f"{len(axes)} items")
    for item in axes:
        if not isinstance(item, Axes):
            raise TypeError(wrong + f"an item of type {type(item).__name__}")
    if len({id(item) for item in axes}) != 3:
        raise ValueError(wrong + "the same Axes twice")
    first, second, third = axes
    return first, second, third


def _new_axes(
    axes: tuple[Axes, Axes, Axes] | None,
) -> tuple[Figure, tuple[Axes, Axes, Axes]]:
    if axes is not None:
        return axes[0].figure.figure, axes  # the root figure, also in a SubFigure
    fig = Figure(figsize=(10.5, 5.2), layout="constrained")
    mosaic = fig.subplot_mosaic(
        [["mask", "in"], ["mask", "out"]], width_ratios=[1.3, 1], height_ratios=[1, 1]
    )
    return fig, (mosaic["mask"], mosaic["in"], mosaic["out"])


def group_colors(groups: list[tuple[str, str, int]]) -> list[str]:
    """A colour per group: red/blue for E/I, else matplotlib's cycle."""
    labels = [short for short, _, _ in groups]
    if set(labels) <= set(_EI_COLORS):
        return [_EI_COLORS[label] for label in labels]
    return [_CYCLE[k % len(_CYCLE)] for k in range(len(groups))]


def _edges(groups: list[tuple[str, str, int]]) -> list[int]:
    """The first unit of each group, then ``N``."""
    edges = [0]
    for _, _, size in groups:
        edges.append(edges[-1] + size)
    return edges


def _label(ax: Axes, x: float, text: str, **style: Any) -> None:
    ax.text(x, 1.01, text, transform=ax.get_xaxis_transform(), ha="center", va="bottom", **style)


def _draw_mask(
    ax: Axes,
    connected: npt.NDArray[np.bool_],
    groups: list[tuple[str, str, int]] | None,
    colors: list[str],
    cmap: str | Colormap,
) -> None:
    ax.imshow(
        connected.astype(np.float64),
        cmap=cmap,
        vmin=0,
        vmax=1,
        interpolation="nearest",
        aspect="equal" if connected.shape[0] == connected.shape[1] else "auto",
    )
    ax.set_xlabel("presynaptic unit j (from)")
    ax.set_ylabel("postsynaptic unit i (to)")
    handles = [
        Patch(facecolor="black", edgecolor="0.4", label="connection (1)"),
        Patch(facecolor="white", edgecolor="0.4", label="none (0)"),
    ]
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncols=2,
        frameon=False,
        fontsize="small",
    )
    if groups is None:
        return
    edges = _edges(groups)
    for edge in edges[1:-1]:
        ax.axvline(edge - 0.5, gid="group-boundary-columns", **_BOUNDARY)
        ax.axhline(edge - 0.5, gid="group-boundary-rows", **_BOUNDARY)
    for (short, _, size), lo, color in zip(groups, edges[:-1], colors, strict=True):
        _label(ax, lo + (size - 1) / 2, f"{short} ({size})", fontweight="bold", color=color)
    if len(groups) > _MAX_DENSITY_GROUPS:
        return
    box = {"boxstyle": "round,pad=0.15", "facecolor": "white", "alpha": 0.75, "lw": 0}
    for a in range(len(groups)):
        for b in range(len(groups)):
            block = connected[edges[a] : edges[a + 1], edges[b] : edges[b + 1]]
            ax.text(
                (edges[b] + edges[b + 1] - 1) / 2,
                (edges[a] + edges[a + 1] - 1) / 2,
                f"{block.mean():.2f}",
                ha="center",
                va="center",
                fontsize="small",
                color="tab:orange",
                fontweight="bold",
                bbox=box,
                gid="block-density",
            )


def _bins(degrees: npt.NDArray[Any], bin_width: int | None) -> tuple[int, int, int]:
    """``(lo, width, count)``: bin ``k`` holds the degrees ``lo + k*width ... + width - 1``."""
    lo, hi = int(degrees.min()), int(degrees.max())
    span = hi - lo + 1
    width = bin_width if bin_width is not None else max(1, math.ceil(span / _MAX_BARS))
    return lo, width, math.ceil(span / width)


def _counts(degrees: npt.NDArray[Any], lo: int, width: int, count: int) -> npt.NDArray[np.intp]:
    per_value = np.bincount(degrees - lo, minlength=count * width)
    counts: npt.NDArray[np.intp] = per_value.reshape(count, width).sum(axis=1)
    return counts


def draw_degrees(
    ax: Axes,
    degrees: npt.NDArray[Any],
    groups: list[tuple[str, str, int]] | None,
    colors: list[str],
    bin_width: int | None,
    *,
    kind: str,
    what: str,
) -> None:
    """Stacked bars of ``degrees`` (one bar container per group)."""
    lo, width, count = _bins(degrees, bin_width)
    centers = lo + width * np.arange(count) + (width - 1) / 2
    if groups is None:
        parts = [(f"mean {degrees.mean():.3g} ± {degrees.std():.2g}", degrees, "0.35")]
    else:
        edges = _edges(groups)
        parts = []
        for (_, long, _), start, stop, color in zip(
            groups, edges[:-1], edges[1:], colors, strict=True
        ):
            part = degrees[start:stop]
            parts.append((f"{long}: {part.mean():.3g} ± {part.std():.2g}", part, color))
    bottom: npt.NDArray[np.float64] = np.zeros(count)
    for label, part, color in parts:
        heights = _counts(part, lo, width, count)
        ax.bar(
            centers,
            heights,
            width=width,
            bottom=bottom,
            color=color,
            alpha=0.85,
            linewidth=0,
            label=label,
        )
        bottom = bottom + heights
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"{kind}: {what}")
    ax.set_ylabel("units")
    ax.set_xlim(lo - 0.5 - 0.02 * count * width, lo - 0.5 + 1.02 * count * width)
    ax.legend(fontsize="small", title=kind, title_fontsize="small")


def mask_structure(
    mask: Params | npt.ArrayLike,
    *,
    groups: Sequence[int] | Mapping[str, int] | npt.NDArray[np.integer[Any]] | None = None,
    bin_width: int | None = None,
    axes: Sequence[Axes] | None = None,
    cmap: str | Colormap = "Greys",
    title: str | None = None,
) -> tuple[Figure, tuple[Axes, Axes, Axes]]:
    """A connectivity mask's structure: the mask as an image, its groups and its degrees.

    Three axes: the mask (entry ``(i, j)`` black when unit ``j``, the column,
    connects onto unit ``i``, the row, as in ``rec_connectivity``); the
    histogram of the in-degrees (row sums: the inputs each unit receives);
    and the histogram of the out-degrees (column sums: the outputs each unit
    sends). Degrees are counted exactly, in integer bins.

    With ``groups`` (consecutive units: the E and I populations, modules),
    orange lines at the group boundaries cut the image into blocks, each
    block shows its density (fraction of connections, up to 6 groups), the
    columns are labelled with the group names and sizes, and each histogram
    is stacked by group (in-degrees by the receiving unit's group,
    out-degrees by the sending unit's), with each group's mean ± standard
    deviation in the legend.

    Args:
      mask: a 0/1 (or boolean) matrix ``(N_post, N_pre)``, such as one from
        :mod:`jaxinit.connectivity`; or one network, a
        :class:`~jaxinit.Params` (its ``rec_connectivity``; with Dale's
        law its E and I units are the default groups).
      groups: None; the group sizes in unit order, e.g. ``(160, 40)``; or a
        mapping ``{label: size}``, e.g. ``{"E": 160, "I": 40}``. The sizes
        must add up to ``N`` (a square mask). Labels ``"E"``/``"I"`` are
        drawn red/blue, as in :func:`~jaxinit.plot.weights`.
      bin_width: the width of the histogram bins in connections, a positive
        integer; None: 1, or wider when the degrees span more than 50
        values.
      axes: None makes a new figure; or three matplotlib ``Axes`` (mask,
        in-degrees, out-degrees) to draw into.
      cmap: the colormap of the image (0 at its low end, 1 at its high end).
      title: the title of the mask's axes; None gives a default.

    Returns:
      ``(fig, (mask_ax, in_ax, out_ax))``: the (root) figure and the three
      axes. The image is ``mask_ax.images[0]`` (its array is the mask as
      0.0/1.0); the boundary lines have ``gid`` ``"group-boundary-columns"``
      and ``"group-boundary-rows"``, the density labels ``"block-density"``.
      Each histogram axes holds one bar container per group (one without
      groups), in group order, in ``ax.containers``; each bar's height is
      the number of units (of that group) with a degree in its bin.

    Raises:
      TypeError: ``mask`` is neither a Params nor a real array (a sparse
        network or ``RowSparse`` is refused: see
        :func:`~jaxinit.plot.degree_histograms`), or
        ``groups``/``bin_width``/``axes`` has the wrong type.
      ValueError: ``mask`` is an ensemble, not a non-empty matrix, or holds
        values other than 0 and 1; ``groups`` is given for a non-square
        mask or its sizes do not add up to ``N``; a size or ``bin_width``
        is not positive; ``axes`` does not hold three distinct Axes.

    Example:
      >>> import jax, jaxinit, jaxinit.connectivity, jaxinit.plot
      >>> mask = jaxinit.connectivity.ei(jax.random.key(0), 50, 0.8, p_EE=0.2,
      ...                                p_EI=0.6, p_IE=0.4, p_II=0.6)
      >>> fig, (image, ins, outs) = jaxinit.plot.mask_structure(mask, groups={"E": 40, "I": 10})
      >>> bool((image.images[0].get_array() == mask).all())
      True
      >>> [line.get_xdata()[0] for line in image.lines
      ...  if line.get_gid() == "group-boundary-columns"]
      [39.5]
      >>> [int(sum(bar.get_height() for bar in c)) for c in ins.containers]  # E, I units
      [40, 10]
      >>> import numpy as np
      >>> degrees = np.asarray(mask).sum(axis=0).astype(int)  # out-degrees: column sums
      >>> heights = sum(np.array([bar.get_height() for bar in c]) for c in outs.containers)
      >>> bool((heights == np.bincount(degrees)[degrees.min():]).all())
      True

      A network gives its mask, grouped by its Dale signs:

      >>> cfg = jaxinit.Config(N_in=1, N_rec=50, N_out=1, dale_ratio=0.8)
      >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(1), cfg, rec_connectivity=mask)
      >>> fig, (image, ins, outs) = jaxinit.plot.mask_structure(params)
      >>> sorted(t.get_text() for t in image.texts if t.get_gid() != "block-density")
      ['E (40)', 'I (10)']
    """
    arguments.refuse_sparse("mask", mask, "mask_structure", "degree_histograms")
    checked_axes = _check_axes(axes)
    bin_width = check_bin_width(bin_width)
    note = ""
    if isinstance(mask, Params):
        checks.single_network(mask, "mask")
        connected = _as_mask(mask.rec_connectivity)
        name = "rec_connectivity"
        if groups is None:
            parsed, note = dale_groups(mask)
        else:
            parsed = _check_groups(groups, connected.shape)
    else:
        connected = _as_mask(mask)
        name = "mask"
        parsed = None if groups is None else _check_groups(groups, connected.shape)
    colors = [] if parsed is None else group_colors(parsed)  # used only with groups
    fig, (mask_ax, in_ax, out_ax) = _new_axes(checked_axes)
    _draw_mask(mask_ax, connected, parsed, colors, cmap)
    in_degrees = connected.sum(axis=1)
    out_degrees = connected.sum(axis=0)
    in_what, out_what = "inputs received (row sum)", "outputs sent (column sum)"
    draw_degrees(in_ax, in_degrees, parsed, colors, bin_width, kind="in-degree", what=in_what)
    draw_degrees(out_ax, out_degrees, parsed, colors, bin_width, kind="out-degree", what=out_what)
    if title is None:
        rows, cols = connected.shape
        title = f"{name} ({rows} x {cols}, density {connected.mean():.3g}{note})"
    mask_ax.set_title(title, pad=18 if parsed is not None else None)
    return fig, (mask_ax, in_ax, out_ax)
