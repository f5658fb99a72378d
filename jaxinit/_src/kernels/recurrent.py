"""Recurrent kernels: ``W_rec`` of jaxinit's own network initializers."""

from __future__ import annotations

import functools
from typing import Any

import jax
import numpy as np
import numpy.typing as npt

from jaxinit._src import network
from jaxinit._src.config import Config
from jaxinit._src.effective import effective
from jaxinit._src.kernels.base import (
    KernelInitializer,
    check_mask_shape,
    layout_choice,
    mask_in_layout,
    options_config,
    orient,
    read_mask,
    square_size,
    weights_choice,
)
from jaxinit._src.names import Layout, SpectralRadiusOf, Weights
from jaxinit._src.network import NetworkInitializer
from jaxinit._src.params import Params
from jaxinit._src.typing import ArrayLike, PRNGKey


@functools.partial(jax.jit, static_argnames=("weights", "layout"))
def pick_W_rec(params: Params, *, weights: Weights, layout: Layout) -> jax.Array:
    """The effective or raw ``W_rec`` of a network, in ``layout``."""
    W = effective(params).W_rec if weights == "effective" else params.W_rec
    return orient(W, layout)


def recurrent_kernel(
    name: str,
    core_fn: NetworkInitializer,
    options: dict[str, Any],
    config: Config,
    mask: npt.NDArray[np.float32] | None,
) -> KernelInitializer:
    """A :class:`KernelInitializer` that runs ``core_fn(key, config)`` for ``(N, N)``."""
    weights: Weights = options["weights"]
    layout: Layout = options["layout"]

    def draw(key: PRNGKey, shape: tuple[int, int], work: str) -> jax.Array:
        n = square_size(shape)
        check_mask_shape(mask, shape, layout)
        cfg = config.replace(N_rec=n, dtype=work)
        given = {} if mask is None else {"rec_connectivity": mask}
        W: jax.Array = pick_W_rec(core_fn(key, cfg, **given), weights=weights, layout=layout)
        return W

    return KernelInitializer(name, options, draw)


def gaussian_spectral_radius(
    spec_rad: float = 1.1,
    *,
    dale_ratio: float | None = None,
    autapses: bool = True,
    connectivity: ArrayLike | None = None,
    spectral_radius_of: SpectralRadiusOf | None = None,
    weights: Weights = "effective",
    layout: Layout = "in_out",
) -> KernelInitializer:
    """A recurrent kernel from :func:`jaxinit.gaussian_spectral_radius`.

    ``init(key, (N, N))`` runs ``jaxinit.gaussian_spectral_radius(key,
    Config(N_rec=N, dale_ratio=..., autapses=..., spec_rad=...,
    spectral_radius_of=...), rec_connectivity=mask)`` and returns its
    effective (default) or raw ``W_rec``, transposed for ``layout="in_out"``.

    Which matrix gets ``spec_rad``: by default (``spectral_radius_of=None``)
    the one this initializer returns, so the kernel has spectral radius
    exactly ``spec_rad`` with ``weights="effective"`` and with
    ``weights="raw"`` alike (a transpose keeps the eigenvalues).
    ``weights="raw"`` alone is thus PsychRNN's scaling, the default of
    :class:`~jaxinit.Config`. Pass ``spectral_radius_of`` to choose the
    other matrix, e.g. ``weights="raw", spectral_radius_of="effective"``
    for a model that applies the masks and Dale signs itself and should
    start at ``spec_rad``.

    Args:
      spec_rad: the spectral radius, positive.
      dale_ratio: fraction of excitatory units in [0, 1] (the first
        ``int(dale_ratio * N)`` units; 0 makes every unit inhibitory), or
        None for no Dale's law. The recurrent weights are balanced as in
        PsychRNN.
      autapses: if False, the diagonal of the mask is zeroed.
      connectivity: optional 0/1 mask of shape ``(N, N)`` in the chosen
        layout; ``None`` connects every pair.
      spectral_radius_of: ``None`` (default: the same as ``weights``),
        ``"effective"`` or ``"raw"``.
      weights: ``"effective"`` (default; masks, ``|.|`` and Dale signs
        applied) or ``"raw"``.
      layout: ``"in_out"`` (default; a Flax/Haiku kernel, ``h @ kernel``)
        or ``"out_in"`` (jaxinit's and PsychRNN's ``W``, ``W @ h``).

    Returns:
      A :class:`~jaxinit.initializers.KernelInitializer`.

    Example:
      >>> import jax, jaxinit
      >>> init = gaussian_spectral_radius(1.1, dale_ratio=0.8, autapses=False)
      >>> k = init(jax.random.key(0), (50, 50))
      >>> round(float(jaxinit.spectral_radius(k)), 4), float(k.diagonal().sum())
      (1.1, 0.0)
      >>> cfg = jaxinit.Config(N_in=1, N_rec=50, N_out=1, dale_ratio=0.8, autapses=False,
      ...                      spectral_radius_of="effective")
      >>> p = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> bool((k == jaxinit.effective(p).W_rec.T).all())
      True
      >>> raw = gaussian_spectral_radius(1.1, weights="raw")(jax.random.key(0), (50, 50))
      >>> round(float(jaxinit.spectral_radius(raw)), 4)
      1.1
    """
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    config = options_config(
        spec_rad=spec_rad,
        dale_ratio=dale_ratio,
        autapses=autapses,
        spectral_radius_of=weights if spectral_radius_of is None else spectral_radius_of,
    )
    mask = read_mask(connectivity, layout, square=True)
    options = dict(
        spec_rad=config.spec_rad,
        dale_ratio=config.dale_ratio,
        autapses=config.autapses,
        connectivity=mask_in_layout(mask, layout),
        spectral_radius_of=config.spectral_radius_of,
        weights=weights,
        layout=layout,
    )
    return recurrent_kernel(
        "gaussian_spectral_radius", network.gaussian_spectral_radius, options, config, mask
    )


def alpha_identity(
    alpha: float,
    *,
    dale_ratio: float | None = None,
    autapses: bool = True,
    connectivity: ArrayLike | None = None,
    weights: Weights = "effective",
    layout: Layout = "in_out",
) -> KernelInitializer:
    """A recurrent kernel from :func:`jaxinit.alpha_identity` (``alpha * I``).

    ``init(key, (N, N))`` returns the effective (default) or raw ``W_rec`` of
    ``jaxinit.alpha_identity(key, Config(N_rec=N, alpha=alpha, ...),
    rec_connectivity=mask)``; with Dale's law the identity is balanced as in
    PsychRNN, so the diagonal is not exactly ``alpha``. The key is checked but
    no random number is used. A mask that removes the diagonal (or
    ``autapses=False``) makes the effective kernel zero.

    Args:
      alpha: the diagonal value, a finite number.
      dale_ratio: fraction of excitatory units in [0, 1], or None for no
        Dale's law (as in :func:`gaussian_spectral_radius`).
      autapses: if False, the diagonal of the mask is zeroed.
      connectivity: optional 0/1 ``(N, N)`` mask in the chosen layout.
      weights: ``"effective"`` (default) or ``"raw"``.
      layout: ``"in_out"`` (default) or ``"out_in"``.

    Example:
      >>> import jax
      >>> alpha_identity(0.5)(jax.random.key(0), (3, 3)).diagonal().tolist()
      [0.5, 0.5, 0.5]
      >>> k = alpha_identity(0.5, dale_ratio=0.0)(jax.random.key(0), (2, 2))
      >>> bool((k.diagonal() < 0).all())  # dale_ratio 0: every unit inhibitory
      True
    """
    if alpha is None:
        raise ValueError("alpha must be a finite number (the diagonal value), got None")
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    config = options_config(alpha=alpha, dale_ratio=dale_ratio, autapses=autapses)
    mask = read_mask(connectivity, layout, square=True)
    options = dict(
        alpha=config.alpha,
        dale_ratio=config.dale_ratio,
        autapses=config.autapses,
        connectivity=mask_in_layout(mask, layout),
        weights=weights,
        layout=layout,
    )
    return recurrent_kernel("alpha_identity", network.alpha_identity, options, config, mask)
