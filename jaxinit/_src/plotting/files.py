"""Writing figures to image files, and drawing the network in a file."""

from __future__ import annotations

import numbers
import os
import pathlib

from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from jaxinit._src.files import load_npz, read_provenance
from jaxinit._src.names import PlotKind
from jaxinit._src.plotting import KINDS
from jaxinit._src.plotting.arguments import check_spec_rad
from jaxinit._src.plotting.spectrum import spectrum
from jaxinit._src.plotting.weights import weights
from jaxinit._src.sparse.params import SparseParams


def _image_format(fig: Figure, path: str | os.PathLike[str]) -> str:
    suffix = pathlib.Path(path).suffix.lower().lstrip(".")
    fmt = suffix or "png"
    supported = fig.canvas.get_supported_filetypes()
    if fmt not in supported:
        raise ValueError(
            f"path {os.fspath(path)!r}: matplotlib cannot write {fmt!r} files; use one of "
            f"{sorted(supported)}"
        )
    return fmt


def save_figure(
    fig: Figure | SubFigure, path: str | os.PathLike[str], *, dpi: int = 150
) -> pathlib.Path:
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
      OSError: the file cannot be written (missing folder, no permission,
        ...); its ``filename`` is ``path``.

    Example:
      >>> import os, tempfile, jaxinit.plot
      >>> fig, ax = jaxinit.plot.spectrum([[0.0, 1.0], [-1.0, 0.0]])
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     out = jaxinit.plot.save_figure(fig, os.path.join(tmp, "eig.png"))
      ...     print(out.name, out.read_bytes()[:4])
      eig.png b'\\x89PNG'
    """
    root, target, resolution = _checked_save(fig, path, dpi)
    fmt = _image_format(root, target)
    try:
        root.savefig(target, format=fmt, dpi=resolution, bbox_inches="tight")
    except OSError as err:  # name the image the caller asked for, whatever failed inside
        raise type(err)(err.errno, err.strerror or str(err), os.fspath(path)) from err
    return target


def _checked_save(fig: object, path: object, dpi: object) -> tuple[Figure, pathlib.Path, int]:
    """The arguments of :func:`save_figure` checked: the root figure, the path, the dpi."""
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
    return fig, pathlib.Path(path), int(dpi)


def _recorded_target(path: str | os.PathLike[str]) -> float | None:
    """The ``spec_rad`` recorded in a file made by ``gaussian_spectral_radius``, if any."""
    recipe = read_provenance(path)
    if (
        recipe is not None
        and recipe.config is not None
        and recipe.initializer == "gaussian_spectral_radius"
    ):
        return recipe.config.spec_rad
    return None


def file_figure(
    path: str | os.PathLike[str], kind: PlotKind = "spectrum", *, spec_rad: float | None = None
) -> tuple[Figure, Axes]:
    """Draw the network in a file; returns ``(fig, ax)`` without writing anything.

    Loads ``path`` with :func:`jaxinit.load_npz` (a jaxinit or a PsychRNN
    file) and draws a :func:`spectrum` or :func:`weights` figure. For a
    spectrum of a file whose recorded recipe used
    ``gaussian_spectral_radius``, the recorded ``spec_rad`` is drawn as the
    target unless ``spec_rad`` is given. A row-sparse file is drawn from its
    dense copy (:meth:`~jaxinit.sparse.SparseParams.todense`, refused with
    ``ValueError`` above 1 GiB).

    Args:
      path: the network file (``.npz``).
      kind: ``"spectrum"`` or ``"weights"``.
      spec_rad: target radius for the spectrum; None takes the recorded one
        if any.

    Raises:
      ValueError: unknown ``kind`` or bad ``spec_rad``; any error of
        :func:`jaxinit.load_npz` (``NpzError`` is a ``ValueError``), whose
        message names ``path``.
      OSError: ``path`` cannot be read (``FileNotFoundError`` included).

    Example:
      >>> import os, tempfile, jax, jaxinit, jaxinit.plot
      >>> cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=1, spec_rad=0.9)
      >>> recipe = jaxinit.Recipe("gaussian_spectral_radius", jax.random.key(0), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     net = jaxinit.save_npz(os.path.join(tmp, "net.npz"), recipe)
      ...     fig, ax = jaxinit.plot.file_figure(net)
      >>> [(p.get_gid(), p.get_radius()) for p in ax.patches]
      [('target', 0.9)]
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    spec_rad = check_spec_rad(spec_rad)
    loaded = load_npz(path)
    params = loaded.todense() if isinstance(loaded, SparseParams) else loaded
    if kind == "weights":
        return weights(params)
    if spec_rad is None:
        spec_rad = _recorded_target(path)
    return spectrum(params, spec_rad=spec_rad)


def plot_file(
    path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    kind: PlotKind = "spectrum",
    *,
    spec_rad: float | None = None,
    dpi: int = 150,
) -> pathlib.Path:
    """Draw the network in a file and write the figure (``jaxinit plot``).

    :func:`file_figure` followed by :func:`save_figure`: errors about the
    network file name ``path``, errors about the image name ``output``.

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
      ValueError: as :func:`file_figure` and :func:`save_figure`.
      OSError: ``path`` cannot be read or ``output`` cannot be written.

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
    fig, _ = file_figure(path, kind, spec_rad=spec_rad)
    return save_figure(fig, output, dpi=dpi)
