"""Builders of ``init(key, shape, dtype)`` kernel initializers for Flax and other JAX code.

Namespaces, as in JAX: ``jax.random.normal(key, shape)`` *draws* an array and
``jax.nn.initializers.normal(stddev)`` *builds* an init function. Likewise
``jaxinit.gaussian_spectral_radius(key, config)`` makes a whole network and
``jaxinit.schemes.const_unif(key, mask)`` draws one array, while
``jaxinit.initializers.const_unif(minval, maxval, ...)`` here **builds** an
``init(key, shape, dtype=jnp.float32)`` function and draws nothing yet.

Every builder returns a :class:`KernelInitializer`, a callable with the
signature of ``jax.nn.initializers``, so it goes wherever Flax takes a
``kernel_init`` / ``recurrent_kernel_init`` (linen ``nn.Dense``,
``nn.SimpleCell``, ``nn.RNN``; nnx ``nnx.Linear``) and wherever a JAX
initializer is expected. :mod:`jaxinit.haiku` wraps the same builders as
Haiku's ``(shape, dtype)`` initializers. This module imports only JAX.

The builders compute nothing new: each call runs jaxinit's own function with
the same key and returns one array of its result.

* :func:`gaussian_spectral_radius` and :func:`alpha_identity` return the
  ``W_rec`` of :func:`jaxinit.gaussian_spectral_radius` /
  :func:`jaxinit.alpha_identity` for a :class:`~jaxinit.Config` of ``N_rec``
  units (``N_rec`` read from ``shape``; ``N_in`` and ``N_out`` do not change
  ``W_rec``).
* :func:`const_unif`, :func:`const_gauss`, :func:`glorot_unif` and
  :func:`glorot_gauss` return :func:`jaxinit.schemes.const_unif` (...) drawn
  with the same key over the connectivity mask.
* :func:`from_params` returns one array of an existing :class:`~jaxinit.Params`.

Layout
------
jaxinit and PsychRNN store a weight matrix as ``(out, in)`` and compute
``W @ x`` (``W_rec[i, j]`` is the weight from unit ``j`` to unit ``i``):
``layout="out_in"``, also the layout of ``equinox.nn.Linear.weight``. Flax,
Haiku and Keras store a kernel as ``(in, out)`` and compute ``x @ kernel``:
``layout="in_out"``, the default here. In that layout a builder returns the
**transpose** of jaxinit's matrix, ``kernel = W.T``, so ``h @ kernel == W @ h``
for every state ``h``. The transpose only changes the orientation: the same
key gives the same network in both layouts. The ``shape`` a library asks for
and a ``connectivity`` mask you pass are read in the chosen layout
(``connectivity[j, i] = 1`` connects unit ``j`` to unit ``i`` in ``"in_out"``).
The 0.1 spellings ``"flax"`` (now ``"in_out"``) and ``"psychrnn"`` (now
``"out_in"``) still work, with a ``DeprecationWarning``.

What the transpose does to Dale's law: the sign of a presynaptic unit ``j``
multiplies **column** ``j`` of an ``"out_in"`` matrix (``W_rec_eff =
|W_rec| * mask @ Dale_rec``) and **row** ``j`` of an ``"in_out"`` kernel. So in
a Flax kernel every entry of row ``j`` of an excitatory unit ``j`` is ``>= 0``,
every entry of row ``j`` of an inhibitory unit is ``<= 0``, and in an output
kernel (``role="output"``, shape ``(N_rec, N_out)``) the rows of inhibitory
units are zero. ``dale_ratio=0`` makes every unit inhibitory; ``None`` means
no Dale's law.

Effective or raw weights
------------------------
A plain Flax or Haiku layer has no masks and no Dale signs: it multiplies by
its kernel as it is. So by default (``weights="effective"``) a builder returns
the **effective** matrix, the one a PsychRNN network really multiplies by: the
mask applied, and with Dale's law ``|W|`` times the sign of each presynaptic
unit, exactly :func:`jaxinit.effective`. ``weights="raw"`` returns the raw
matrix instead (for a model that applies masks, ``|.|`` and Dale signs
itself, like :class:`jaxinit.nnx.BasicRNN`; training a plain layer does not
keep the masks or Dale's law, only such a model does).
:func:`gaussian_spectral_radius` gives ``spec_rad`` to the matrix it returns
unless ``spectral_radius_of`` says otherwise.

Dtypes: the numbers are computed in float32 (float64 when ``dtype`` is
float64, which needs ``jax_enable_x64``) and cast to ``dtype``, which may be
any floating dtype (``bfloat16`` included). Every builder and every call checks
its arguments and raises ``ValueError``/``TypeError`` naming the argument and
the value.

Example:
  >>> import jax, jaxinit
  >>> init = gaussian_spectral_radius(1.5, dale_ratio=0.8)
  >>> kernel = init(jax.random.key(0), (10, 10))
  >>> round(float(jaxinit.spectral_radius(kernel)), 4)
  1.5
  >>> bool((kernel[:8] >= 0).all() and (kernel[8:] <= 0).all())  # rows: units 0-7 are E
  True
"""

from jaxinit._src.kernels.arrays import from_params as from_params
from jaxinit._src.kernels.base import KernelInitializer as KernelInitializer
from jaxinit._src.kernels.random import const_gauss as const_gauss
from jaxinit._src.kernels.random import const_unif as const_unif
from jaxinit._src.kernels.random import glorot_gauss as glorot_gauss
from jaxinit._src.kernels.random import glorot_unif as glorot_unif
from jaxinit._src.kernels.recurrent import alpha_identity as alpha_identity
from jaxinit._src.kernels.recurrent import gaussian_spectral_radius as gaussian_spectral_radius
from jaxinit._src.names import LAYOUTS as LAYOUTS
from jaxinit._src.names import ROLES as ROLES
from jaxinit._src.names import WEIGHTS as WEIGHTS
from jaxinit._src.names import Layout as Layout
from jaxinit._src.names import Role as Role
from jaxinit._src.names import Weights as Weights

__all__ = [
    "LAYOUTS",
    "ROLES",
    "WEIGHTS",
    "KernelInitializer",
    "Layout",
    "Role",
    "Weights",
    "alpha_identity",
    "const_gauss",
    "const_unif",
    "from_params",
    "gaussian_spectral_radius",
    "glorot_gauss",
    "glorot_unif",
]
