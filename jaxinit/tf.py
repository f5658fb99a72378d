"""TensorFlow and PsychRNN interop: hand a jaxinit network to TF, Keras or PsychRNN.

This module is the optional TensorFlow shim (``pip install 'jaxinit[tf]'``).
It is the only place where jaxinit imports TensorFlow: ``import jaxinit``
never does, ``import jaxinit.tf`` does.

Three entry points:

* :func:`variable_initializers` turns a :class:`~jaxinit.Params` into
  TensorFlow initializers, one per PsychRNN array name. Each is an
  :class:`ArrayInitializer`: it works with ``tf.compat.v1.get_variable`` (graph
  mode, as PsychRNN uses it), with ``tf.Variable(init(shape, dtype))`` in eager
  mode and with Keras layers, and it serialises with ``get_config`` /
  ``from_config``. (Its 0.1 name, ``initializers``, still works with a
  ``DeprecationWarning``.)
* :func:`psychrnn_initializer` wraps a network in an object with the interface
  PsychRNN's ``RNN`` expects of ``params['initializer']`` (``get``,
  ``get_dale_ratio``, ``get_transfer_function``, ``initializations``,
  ``save``).
* :func:`psychrnn_params` builds the whole parameter dict of a PsychRNN model
  (sizes, initializer *and* transfer function, which PsychRNN's model reads from
  the dict rather than from the initializer).

Which weights are handed over
-----------------------------
``weights`` takes jaxinit's two words. ``"effective"`` (the default of
:func:`variable_initializers`, as of every jaxinit adapter) hands over
``jaxinit.effective(params)``, the weights the network multiplies by: right
for a Keras layer, which applies no masks or Dale signs. They also suit a
model that does apply them, since masking, ``|.|`` and the Dale matrices leave
effective weights unchanged (the masks must be 0/1). ``"raw"`` hands over the
weights as drawn, for a model that applies masks, ``|.|`` and the Dale
matrices itself. The 0.1 value ``"psychrnn"`` is deprecated.

:func:`psychrnn_initializer` chooses for PsychRNN, whose model applies the
masks, ``|.|`` and the Dale matrices itself: the raw weights, with the masks
and the ``Dale_rec`` / ``Dale_out`` matrices, so that inside PsychRNN they
give exactly ``jaxinit.effective(params)``. In jaxinit a ``dale_ratio`` of 0
means "every unit inhibitory" (``None`` means no Dale's law), whereas
PsychRNN tests ``if dale_ratio:``. So for a ratio of 0 the initializer reports
the smallest positive float64 (keeping Dale's law on in PsychRNN with 0
excitatory units, as :func:`jaxinit.save_npz` writes it; see
:meth:`PsychRNNInitializer.get_dale_ratio`) and also hands over the effective
weights, which PsychRNN's transform leaves as they are.

The Dale matrices are built as dense ``(N_rec, N_rec)`` diagonal matrices here,
at export, because that is what PsychRNN's variables hold; jaxinit itself keeps
only their diagonals.

Layouts
-------
PsychRNN (like jaxinit) stores weights as ``(out, in)`` and computes
``x @ W.T``: ``layout="out_in"``, the default here. Keras kernels are
``(in, out)`` and compute ``x @ kernel``: with ``layout="in_out"`` the six 2-D
weight and mask matrices come transposed (``W_in`` as ``(N_in, N_rec)``,
``W_rec`` as ``W_rec.T``, ``W_out`` as ``(N_rec, N_out)``) so they fit
``Dense`` and ``SimpleRNN`` kernels directly; biases, ``init_state`` and the
(symmetric) Dale matrices are the same in both layouts. The 0.1 spellings
``"psychrnn"`` and ``"keras"`` still work, with a ``DeprecationWarning``.

Example:
  >>> import jax, jaxinit, numpy as np, tensorflow as tf
  >>> cfg = jaxinit.Config(N_in=2, N_rec=4, N_out=1, dale_ratio=0.5)
  >>> params = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
  >>> inits = variable_initializers(params)
  >>> W_rec = inits["W_rec"]((4, 4), tf.float32).numpy()
  >>> bool(np.array_equal(W_rec, jaxinit.effective(params).W_rec))
  True
"""

from __future__ import annotations

from typing import Literal

try:
    import tensorflow  # noqa: F401 (the extra this module needs)
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.tf needs TensorFlow; install it with: pip install 'jaxinit[tf]'"
    ) from _err

from jaxinit._src import checks
from jaxinit._src.kernels.base import layout_choice
from jaxinit._src.names import LAYOUTS as LAYOUTS
from jaxinit._src.names import PSYCHRNN_NAMES, Layout, Weights
from jaxinit._src.names import WEIGHTS as WEIGHTS
from jaxinit._src.params import Params
from jaxinit._src.tfshim.arrays import TF_TRANSFER_FUNCTIONS as TF_TRANSFER_FUNCTIONS
from jaxinit._src.tfshim.arrays import ArrayInitializer as ArrayInitializer
from jaxinit._src.tfshim.arrays import retanh as retanh
from jaxinit._src.tfshim.arrays import tf_transfer_function as tf_transfer_function
from jaxinit._src.tfshim.export import PsychRNNInitializer as PsychRNNInitializer
from jaxinit._src.tfshim.export import build_initializers
from jaxinit._src.tfshim.export import psychrnn_initializer as psychrnn_initializer
from jaxinit._src.tfshim.export import psychrnn_params as psychrnn_params
from jaxinit._src.tfshim.export import variable_initializers as variable_initializers

__all__ = [
    "LAYOUTS",
    "NAMES",
    "TF_TRANSFER_FUNCTIONS",
    "WEIGHTS",
    "ArrayInitializer",
    "PsychRNNInitializer",
    "initializers",
    "psychrnn_initializer",
    "psychrnn_params",
    "retanh",
    "tf_transfer_function",
    "variable_initializers",
]

#: PsychRNN's names of the arrays of a network, the keys of :func:`variable_initializers`.
NAMES: tuple[str, ...] = PSYCHRNN_NAMES


def initializers(
    params: Params,
    *,
    weights: Weights | Literal["psychrnn"] = "psychrnn",
    layout: Layout = "out_in",
) -> dict[str, ArrayInitializer]:
    """Deprecated name of :func:`variable_initializers` (removed in jaxinit 0.3).

    It keeps its 0.1 default, ``weights="psychrnn"``, for this release:
    raw weights, effective ones for ``dale_ratio`` 0.

    Example:
      >>> import jax, jaxinit, warnings
      >>> cfg = jaxinit.Config(N_in=2, N_rec=3, N_out=1, alpha=0.5)
      >>> params = jaxinit.alpha_identity(jax.random.key(0), cfg)
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     inits = initializers(params, weights="raw")
      >>> caught[0].category.__name__, sorted(inits) == sorted(NAMES)
      ('DeprecationWarning', True)
    """
    checks.deprecated("jaxinit.tf.initializers", "jaxinit.tf.variable_initializers")
    if weights != "psychrnn":  # the 0.1 default is kept here, without a second warning
        weights = checks.choice("weights", weights, WEIGHTS)
    return build_initializers(params, weights, layout_choice(layout))
