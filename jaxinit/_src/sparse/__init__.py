"""Sparse recurrent networks, one concept per module:

* ``rows``: :class:`RowSparse`, a matrix stored as at most ``K`` entries per
  row (values and column indices of shape ``(N, K)``), its products and
  checks;
* ``patterns``: sparsity patterns drawn as column indices, never as an
  ``N x N`` mask (fixed in-degree), and conversions from dense masks;
* ``radius``: the certified Krylov radius of a :class:`RowSparse` matrix,
  with O(nnz) products and a fallback that never densifies what would not fit;
* ``params``: :class:`SparseParams`, a network whose ``W_rec`` is a
  ``RowSparse``, and its effective recurrent weights;
* ``network``: the three initializers on a sparse pattern.
"""
