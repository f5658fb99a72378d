"""The generators behind :mod:`jaxinit.connectivity`, one concept per module:

* ``arguments``: checks shared by all generators;
* ``probability``: independent (Bernoulli) entries;
* ``selection``: uniform random subsets of a fixed size (per row, per group);
* ``counts``: exact numbers of connections (total, per row, per column);
* ``blocks``: groups of units (block model), the E/I case;
* ``spatial``: distance-dependent probability, ring and grid positions;
* ``small_world``: Watts-Strogatz rewiring.
"""
