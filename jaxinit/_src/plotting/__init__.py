"""The implementation of :mod:`jaxinit.plot` (matplotlib figures of networks).

The public module is :mod:`jaxinit.plot`; it checks that matplotlib is
installed and re-exports the functions defined here:

* :mod:`~jaxinit._src.plotting.arguments`: argument checks shared by the figures;
* :mod:`~jaxinit._src.plotting.spectrum`: eigenvalues in the complex plane;
* :mod:`~jaxinit._src.plotting.weights`: the recurrent weight matrix as an image;
* :mod:`~jaxinit._src.plotting.connectivity`: a connectivity mask, its groups and degrees;
* :mod:`~jaxinit._src.plotting.radii`: histogram of an ensemble's spectral radii;
* :mod:`~jaxinit._src.plotting.files`: writing figures and drawing network files.

This package's ``__init__`` imports no plotting code, so the command line can
read :data:`KINDS` without importing matplotlib.
"""

from jaxinit._src.names import PLOT_KINDS, PlotKind

#: The figures ``jaxinit plot`` and :func:`jaxinit.plot.plot_file` draw:
#: ``("spectrum", "weights")``.
KINDS: tuple[PlotKind, ...] = PLOT_KINDS

__all__ = ["KINDS"]
