"""Sparse recurrent networks: stored as entries, scaled without a dense copy.

A dense ``N x N`` ``W_rec`` stops a network at a few thousand units (at
``N = 100,000`` it is 40 GB). Here the recurrent weights are a
:class:`RowSparse` matrix: ``K`` slots per row, the values and the
presynaptic column indices both of shape ``(N, K)`` (static shapes, so the
type passes through ``jax.jit`` and ``jax.vmap``); the stored entries are
the recurrent mask. Everything below is O(N K) in time and memory:

* :func:`fixed_in_degree` draws a pattern in which every unit receives
  ``K`` connections, and :func:`bernoulli`, :func:`blocks` and :func:`ei`
  patterns of independent entries, without an ``N x N`` mask;
  :func:`from_dense` turns a dense mask (from :mod:`jaxinit.connectivity`)
  or matrix into one;
* :func:`weight_initializer`, :func:`gaussian_spectral_radius` and
  :func:`alpha_identity` are PsychRNN's three initializers on a pattern
  (same :class:`~jaxinit.Config`, same key rule, same raw/effective modes
  and balance options) and return a :class:`SparseParams`;
* :func:`jaxinit.spectral_radius`, :func:`jaxinit.krylov_spectral_radius`,
  :func:`jaxinit.scale_spectral_radius` and :func:`jaxinit.effective` take
  the sparse types: the Krylov radius uses O(nnz) products and keeps its
  residual certificate, and nothing larger than 1 GiB is ever densified
  (a clear ``ValueError`` instead).

Example:
  >>> import jax, jaxinit
  >>> pattern_key, net_key = jax.random.split(jax.random.key(0))
  >>> P = jaxinit.sparse.fixed_in_degree(pattern_key, (20_000, 20_000), 100)
  >>> cfg = jaxinit.Config(N_in=2, N_rec=20_000, N_out=1, dale_ratio=0.8,
  ...                      spectral_radius_of="effective", spectral_method="krylov")
  >>> net = jaxinit.sparse.gaussian_spectral_radius(net_key, cfg, P)
  >>> net.W_rec.values.shape, net.nbytes < 20_000 * 20_000
  ((20000, 100), True)
"""

from jaxinit._src.sparse.network import alpha_identity as alpha_identity
from jaxinit._src.sparse.network import gaussian_spectral_radius as gaussian_spectral_radius
from jaxinit._src.sparse.network import weight_initializer as weight_initializer
from jaxinit._src.sparse.params import DENSE_EXPORT_BYTES as DENSE_EXPORT_BYTES
from jaxinit._src.sparse.params import SparseParams as SparseParams
from jaxinit._src.sparse.patterns import fixed_in_degree as fixed_in_degree
from jaxinit._src.sparse.patterns import from_dense as from_dense
from jaxinit._src.sparse.probability import bernoulli as bernoulli
from jaxinit._src.sparse.probability import blocks as blocks
from jaxinit._src.sparse.probability import ei as ei
from jaxinit._src.sparse.radius import DENSE_FALLBACK_BYTES as DENSE_FALLBACK_BYTES
from jaxinit._src.sparse.radius import sparse_basis_size as sparse_basis_size
from jaxinit._src.sparse.rows import RowSparse as RowSparse

__all__ = [
    "DENSE_EXPORT_BYTES",
    "DENSE_FALLBACK_BYTES",
    "RowSparse",
    "SparseParams",
    "alpha_identity",
    "bernoulli",
    "blocks",
    "ei",
    "fixed_in_degree",
    "from_dense",
    "gaussian_spectral_radius",
    "sparse_basis_size",
    "weight_initializer",
]
