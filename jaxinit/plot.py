"""Figures of networks: eigenvalue spectra, weight matrices, ensemble radii.

This module is the optional plotting shim (``pip install 'jaxinit[plot]'``).
It is the only public module that imports matplotlib: ``import jaxinit``
never does, ``import jaxinit.plot`` does.

Every function draws into the ``ax`` you pass, or, by default, into a new
:class:`matplotlib.figure.Figure` created directly (not through
``matplotlib.pyplot``). Such a figure needs no display and no GUI backend
and is not registered with pyplot, so it works headless and never changes
the backend you chose; write it with :func:`save_figure` (or
``fig.savefig``). In a notebook, run ``%matplotlib inline`` once and put
``fig`` on the last line of a cell to show it. Each function returns
``(fig, ax)``, except :func:`mask_structure` (three axes),
:func:`degree_histograms` (two) and the two that write files.

Sparse networks (:class:`jaxinit.sparse.SparseParams`) of any size are
drawn by :func:`degree_histograms`, :func:`ritz_spectrum`,
:func:`sampled_weights` and :func:`ensemble_radii`, each in O(nnz);
:func:`spectrum`, :func:`weights` and :func:`mask_structure` draw dense
``N x N`` matrices and refuse them with a ``TypeError`` that names the
sparse figure to use.

* :func:`spectrum`: eigenvalues of the raw and the effective ``W_rec`` (or
  of any square matrix or stack of matrices) in the complex plane, with the
  circle of the target spectral radius and, with ``predicted=True``, the
  bulk edge :func:`jaxinit.predicted_radius` predicts.
* :func:`weights`: the effective ``W_rec`` as an image, excitatory and
  inhibitory units marked, masked-out connections in their own colour.
* :func:`mask_structure`: a connectivity mask (or a network's
  ``rec_connectivity``) as an image with its groups (E/I populations,
  modules) and block densities, beside histograms of its in- and
  out-degrees; returns ``(fig, (mask_ax, in_ax, out_ax))``.
* :func:`ensemble_radii`: histogram of the spectral radii of the members of
  an ensemble (dense, or sparse: Krylov radii in O(nnz)).
* :func:`degree_histograms`: the in- and out-degrees of a sparse network's
  pattern; returns ``(fig, (in_ax, out_ax))``.
* :func:`ritz_spectrum`: the outer eigenvalues of a sparse network's
  recurrent matrix found by the Krylov iteration, with the certified radius.
* :func:`sampled_weights`: a sparse network's weights among a sample of its
  units (e.g. 500 of 100,000), read from those units' rows only.
* :func:`file_figure`: one of these figures for a network file.
* :func:`save_figure`: write a figure to an image file.
* :func:`plot_file`: :func:`file_figure` then :func:`save_figure` (what
  ``jaxinit plot FILE -o out.png`` does).

Example:
  >>> import jax, jaxinit, jaxinit.plot
  >>> cfg = jaxinit.Config(N_in=1, N_rec=8, N_out=1, dale_ratio=0.5)
  >>> fig, ax = jaxinit.plot.weights(jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg))
  >>> sorted(t.get_text() for t in ax.texts)
  ['E (4)', 'I (4)']
"""

from __future__ import annotations

try:
    import matplotlib  # noqa: F401
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.plot needs matplotlib; install it with: pip install 'jaxinit[plot]'"
    ) from _err

from jaxinit._src.plotting import KINDS
from jaxinit._src.plotting.arguments import WHICH
from jaxinit._src.plotting.connectivity import mask_structure
from jaxinit._src.plotting.files import file_figure, plot_file, save_figure
from jaxinit._src.plotting.radii import ensemble_radii
from jaxinit._src.plotting.sparse import degree_histograms, ritz_spectrum, sampled_weights
from jaxinit._src.plotting.spectrum import spectrum
from jaxinit._src.plotting.weights import weights

__all__ = [
    "KINDS",
    "WHICH",
    "degree_histograms",
    "ensemble_radii",
    "file_figure",
    "mask_structure",
    "plot_file",
    "ritz_spectrum",
    "sampled_weights",
    "save_figure",
    "spectrum",
    "weights",
]
