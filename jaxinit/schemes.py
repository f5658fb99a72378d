"""PsychRNN's four random weight schemes as functions of a key and a mask.

``jaxinit.schemes.glorot_gauss(key, connectivity)`` draws an array of the
mask's shape, as ``jax.random.normal(key, shape)`` draws one of a shape. The
Flax/Haiku builders of the same names in :mod:`jaxinit.initializers` take
options and return an ``init(key, shape, dtype)`` function instead, as
``jax.nn.initializers.normal(stddev)`` does. :data:`SCHEMES` maps each name
(the values of ``Config.which_rand_init``) to its function.
"""

from jaxinit._src.schemes import SCHEMES as SCHEMES
from jaxinit._src.schemes import const_gauss as const_gauss
from jaxinit._src.schemes import const_unif as const_unif
from jaxinit._src.schemes import draw as draw
from jaxinit._src.schemes import glorot_fan as glorot_fan
from jaxinit._src.schemes import glorot_gauss as glorot_gauss
from jaxinit._src.schemes import glorot_unif as glorot_unif

__all__ = [
    "SCHEMES",
    "const_gauss",
    "const_unif",
    "draw",
    "glorot_fan",
    "glorot_gauss",
    "glorot_unif",
]
