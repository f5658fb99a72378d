"""Kernels that are arrays of an existing network."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.kernels.base import KernelInitializer, layout_choice, orient, weights_choice
from jaxinit._src.names import MASK_NAMES, WEIGHT_NAMES, Layout, Weights
from jaxinit._src.params import Params


def from_params(
    params: Params, name: str, *, weights: Weights = "effective", layout: Layout = "in_out"
) -> KernelInitializer:
    """An initializer that returns one array of an existing network.

    Make the whole network with jaxinit (so that ``W_in``, ``W_rec`` and
    ``W_out`` share one config, masks and Dale signs) and hand each array to a
    Flax or Haiku layer. The key is ignored (None is fine); the requested
    ``shape`` must be the array's shape in the chosen layout. Biases and
    ``init_state`` are 1-D: pass them with ``jax.nn.initializers.constant``
    or as arrays.

    Args:
      params: a single network (no ensemble axes).
      name: ``W_in``, ``W_rec``, ``W_out`` or a mask name
        (``input_connectivity``, ``rec_connectivity``, ``output_connectivity``).
      weights: ``"effective"`` (default; :func:`jaxinit.effective`) or
        ``"raw"``; masks are the same either way.
      layout: ``"in_out"`` (default, transposed) or ``"out_in"``.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=3, N_rec=8, N_out=2, dale_ratio=0.75)
      >>> p = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> k = from_params(p, "W_out")(None, (8, 2))
      >>> k.shape, bool((k[6:] == 0).all())  # inhibitory units 6, 7 do not reach the output
      ((8, 2), True)
    """
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    checks.single_network(params)
    checks.one_of("name", name, (*WEIGHT_NAMES, *MASK_NAMES))
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    if name in WEIGHT_NAMES and weights == "effective":
        array = getattr(effective(params), name)
    else:
        array = getattr(params, name)
    array = orient(jnp.asarray(array), layout)
    options = dict(name=name, weights=weights, layout=layout)

    def draw(key: Any, shape: tuple[int, int], work: str) -> jax.Array:
        if shape != tuple(array.shape):
            raise ValueError(
                f"shape {shape} does not match {name}, whose shape is {tuple(array.shape)} "
                f"in layout {layout!r}"
            )
        return array.astype(work)

    return KernelInitializer("from_params", options, draw, needs_key=False)
