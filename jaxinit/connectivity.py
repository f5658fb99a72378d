"""Random 0/1 connectivity masks as pure functions of a PRNG key.

Every mask is in PsychRNN's layout: rows are the receiving units, so
``mask[i, j] = 1`` is a connection from unit ``j`` onto unit ``i`` and a mask
has shape ``(N_post, N_pre)``; a recurrent one can be passed as
``rec_connectivity=`` to the network initializers. The same key gives the
same mask; the functions work under ``jax.jit`` (sizes and counts are static
Python ints; probabilities may be traced) and ``jax.vmap`` over keys, and
return float32 unless ``dtype=jnp.float64`` (64-bit JAX) is asked for. Square
masks take ``autapses=False`` for a zero diagonal; the promised counts then
exclude the diagonal from the candidates.

Draw a mask and a network with different keys (split one): an initializer
uses ``split(key, 4)`` and ``split(key, 4)[i] == fold_in(key, i)``, so keys
derived from the network's key by ``fold_in`` can repeat its draws.

Independent entries:

* :func:`bernoulli`: each entry with probability ``p`` (a scalar or one per entry).

Exact numbers of connections (every such mask equally likely):

* :func:`fixed_total`: ``n`` connections in the whole matrix;
* :func:`fixed_in_degree`: ``k`` per row (each unit receives ``k`` inputs);
* :func:`fixed_out_degree`: ``k`` per column (each unit sends ``k`` outputs).

Populations:

* :func:`blocks`: groups of consecutive units, ``p[a][b]`` from group ``b``
  onto group ``a``, independent or with ``exact=True`` counts per block;
* :func:`ei`: the excitatory/inhibitory case, E units first as in
  ``Config(dale_ratio=...)``; ``p_EI`` is from I onto E (post, then pre).

Space and graphs:

* :func:`distance`: probability ``p_max * f(d / scale)`` of the distance
  (``"gaussian"`` or ``"exponential"``), optionally periodic;
* :func:`ring_positions`, :func:`grid_positions`: unit positions for it;
* :func:`small_world`: Watts-Strogatz rewired ring lattice (symmetric).

Example:
  >>> import jax, jaxinit
  >>> mask_key, net_key = jax.random.split(jax.random.key(0))  # a key each
  >>> mask = jaxinit.connectivity.ei(mask_key, 200, 0.8, p_EE=0.2, p_EI=0.5, p_IE=0.5, p_II=0.5)
  >>> config = jaxinit.Config(N_in=2, N_rec=200, N_out=1, dale_ratio=0.8)
  >>> params = jaxinit.gaussian_spectral_radius(net_key, config, rec_connectivity=mask)
  >>> params.rec_connectivity.shape
  (200, 200)
"""

from jaxinit._src.connectivity.blocks import blocks as blocks
from jaxinit._src.connectivity.blocks import ei as ei
from jaxinit._src.connectivity.counts import fixed_in_degree as fixed_in_degree
from jaxinit._src.connectivity.counts import fixed_out_degree as fixed_out_degree
from jaxinit._src.connectivity.counts import fixed_total as fixed_total
from jaxinit._src.connectivity.probability import bernoulli as bernoulli
from jaxinit._src.connectivity.small_world import small_world as small_world
from jaxinit._src.connectivity.spatial import distance as distance
from jaxinit._src.connectivity.spatial import grid_positions as grid_positions
from jaxinit._src.connectivity.spatial import ring_positions as ring_positions
from jaxinit._src.names import PROFILES as PROFILES
from jaxinit._src.names import Profile as Profile

__all__ = [
    "PROFILES",
    "Profile",
    "bernoulli",
    "blocks",
    "distance",
    "ei",
    "fixed_in_degree",
    "fixed_out_degree",
    "fixed_total",
    "grid_positions",
    "ring_positions",
    "small_world",
]
