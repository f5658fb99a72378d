"""Input, output or recurrent kernels drawn with one of PsychRNN's four schemes."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src import schemes as core_schemes
from jaxinit._src.config import Config
from jaxinit._src.dale import dale_diagonals, n_excitatory
from jaxinit._src.effective import effective_W_rec
from jaxinit._src.kernels.base import (
    KernelInitializer,
    check_mask_shape,
    layout_choice,
    mask_in_layout,
    options_config,
    orient,
    read_mask,
    square_size,
    to_out_in,
    weights_choice,
)
from jaxinit._src.names import ROLES, Layout, Role, SchemeName, Weights
from jaxinit._src.typing import ArrayLike, PRNGKey


def check_role(role: Role | None, config: Config) -> None:
    """``role`` is needed with Dale's law, and ``autapses=False`` needs ``"recurrent"``."""
    if role is not None:
        checks.one_of("role", role, ROLES)
    if config.dale_ratio is not None and role is None:
        raise ValueError(
            f"role must be one of {list(ROLES)} when dale_ratio is set (Dale's law acts "
            f"differently on input, recurrent and output kernels), got role=None and "
            f"dale_ratio={config.dale_ratio!r}"
        )
    if not config.autapses and role != "recurrent":
        raise ValueError(
            f"autapses=False applies to recurrent kernels only: pass role='recurrent', "
            f"got role={role!r}"
        )


def scheme_kernel(
    name: SchemeName,
    scheme_options: Mapping[str, float],
    *,
    connectivity: Any,
    dale_ratio: float | None,
    role: Role | None,
    autapses: bool,
    weights: Weights,
    layout: Layout,
) -> KernelInitializer:
    """The initializer of scheme ``name``; ``weights`` and ``layout`` are already checked."""
    config = options_config(dale_ratio=dale_ratio, autapses=autapses)
    check_role(role, config)
    mask = read_mask(connectivity, layout, square=role == "recurrent")
    options = dict(
        scheme_options,
        connectivity=mask_in_layout(mask, layout),
        dale_ratio=config.dale_ratio,
        role=role,
        autapses=config.autapses,
        weights=weights,
        layout=layout,
    )
    ratio = config.dale_ratio
    mode = "raw" if weights == "raw" else (role if ratio is not None else "masked")

    def draw(key: PRNGKey, shape: tuple[int, int], work: str) -> jax.Array:
        if role == "recurrent":
            square_size(shape)
        check_mask_shape(mask, shape, layout)
        out_in = to_out_in(shape, layout)
        # Columns of an (out, in) matrix are the presynaptic units.
        n_exc = n_excitatory(out_in[1], ratio) if ratio is not None else 0
        scalars = {k: np.asarray(v, work) for k, v in scheme_options.items()}
        drawn: jax.Array = draw_scheme(
            key,
            mask,
            scalars,
            np.int32(n_exc),
            scheme=name,
            shape=out_in,
            work=work,
            autapses=config.autapses,
            mode=mode,
            layout=layout,
        )
        return drawn

    return KernelInitializer(name, options, draw)


@functools.partial(
    jax.jit, static_argnames=("scheme", "shape", "work", "autapses", "mode", "layout")
)
def draw_scheme(
    key: PRNGKey,
    mask: npt.NDArray[np.float32] | None,
    scalars: Mapping[str, jax.Array],
    n_exc: jax.Array,
    *,
    scheme: SchemeName,
    shape: tuple[int, int],
    work: str,
    autapses: bool,
    mode: str,
    layout: Layout,
) -> jax.Array:
    """Draw with a scheme and apply the mask and Dale's law (one compiled program)."""
    m = jnp.ones(shape, work) if mask is None else jnp.asarray(mask, work)
    if not autapses:
        m = m * (1 - jnp.eye(shape[0], dtype=work))
    W = core_schemes.SCHEMES[scheme](key, m, dtype=work, **scalars)
    if mode == "masked":
        W = W * m
    elif mode != "raw":
        rec, out = dale_diagonals(shape[1], n_exc, work)
        signs = {"input": jnp.ones((shape[1],), work), "recurrent": rec, "output": out}[mode]
        W = effective_W_rec(W, m, signs, True)
    return orient(W, layout)


def const_unif(
    minval: float = -0.1,
    maxval: float = 0.1,
    *,
    connectivity: ArrayLike | None = None,
    dale_ratio: float | None = None,
    role: Role | None = None,
    autapses: bool = True,
    weights: Weights = "effective",
    layout: Layout = "in_out",
) -> KernelInitializer:
    """Uniform values in ``[minval, maxval)`` (:func:`jaxinit.schemes.const_unif`).

    The raw kernel is ``jaxinit.schemes.const_unif(key, mask, minval=minval,
    maxval=maxval)`` for the mask in the ``"out_in"`` layout (all ones without
    a mask), transposed for ``layout="in_out"``.

    Args:
      minval, maxval: the bounds, finite, ``minval <= maxval`` (PsychRNN's
        ``init_minval``/``init_maxval``).
      connectivity, dale_ratio, role, autapses, weights, layout: as in
        :func:`glorot_gauss`.

    Example:
      >>> import jax
      >>> k = const_unif(0.0, 0.5)(jax.random.key(0), (3, 4))
      >>> k.shape, bool(((k >= 0) & (k < 0.5)).all())
      ((3, 4), True)
    """
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    minval = checks.finite_float("minval", minval)
    maxval = checks.finite_float("maxval", maxval)
    if minval > maxval:
        raise ValueError(
            f"minval must not exceed maxval, got minval={minval!r} > maxval={maxval!r}"
        )
    options_config(init_minval=minval, init_maxval=maxval)  # do they fit in float32?
    return scheme_kernel(
        "const_unif",
        {"minval": minval, "maxval": maxval},
        connectivity=connectivity,
        dale_ratio=dale_ratio,
        role=role,
        autapses=autapses,
        weights=weights,
        layout=layout,
    )


def const_gauss(
    *,
    connectivity: ArrayLike | None = None,
    dale_ratio: float | None = None,
    role: Role | None = None,
    autapses: bool = True,
    weights: Weights = "effective",
    layout: Layout = "in_out",
) -> KernelInitializer:
    """Standard normal values (:func:`jaxinit.schemes.const_gauss`).

    Args:
      connectivity, dale_ratio, role, autapses, weights, layout: as in
        :func:`glorot_gauss`.

    Example:
      >>> import jax
      >>> k = const_gauss(dale_ratio=0.5, role="output")(jax.random.key(0), (4, 2))
      >>> (k[:2] >= 0).all().item(), (k[2:] == 0).all().item()  # units 2, 3 are inhibitory
      (True, True)
    """
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    return scheme_kernel(
        "const_gauss",
        {},
        connectivity=connectivity,
        dale_ratio=dale_ratio,
        role=role,
        autapses=autapses,
        weights=weights,
        layout=layout,
    )


def glorot_unif(
    *,
    connectivity: ArrayLike | None = None,
    dale_ratio: float | None = None,
    role: Role | None = None,
    autapses: bool = True,
    weights: Weights = "effective",
    layout: Layout = "in_out",
) -> KernelInitializer:
    """Uniform values in ``±sqrt(6 / fan)`` (:func:`jaxinit.schemes.glorot_unif`).

    ``fan`` is PsychRNN's per-entry fan of the mask (row sum plus column sum).

    Args:
      connectivity, dale_ratio, role, autapses, weights, layout: as in
        :func:`glorot_gauss`.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> k = glorot_unif()(jax.random.key(0), (4, 4))
      >>> bool((jnp.abs(k) <= jnp.sqrt(6 / 8)).all())
      True
    """
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    return scheme_kernel(
        "glorot_unif",
        {},
        connectivity=connectivity,
        dale_ratio=dale_ratio,
        role=role,
        autapses=autapses,
        weights=weights,
        layout=layout,
    )


def glorot_gauss(
    *,
    connectivity: ArrayLike | None = None,
    dale_ratio: float | None = None,
    role: Role | None = None,
    autapses: bool = True,
    weights: Weights = "effective",
    layout: Layout = "in_out",
) -> KernelInitializer:
    """Normal values with std ``sqrt(2 / fan)`` (:func:`jaxinit.schemes.glorot_gauss`).

    PsychRNN's default scheme for ``W_in`` and ``W_out``. The raw kernel is
    ``jaxinit.schemes.glorot_gauss(key, mask)`` for the mask in the
    ``"out_in"`` layout (all ones without a mask), transposed for
    ``layout="in_out"``.

    Args:
      connectivity: optional 0/1 mask in the chosen layout. As in PsychRNN it
        sets the glorot fan; the effective kernel is also multiplied by it.
      dale_ratio: None, or a fraction in [0, 1] (0: every unit inhibitory)
        to apply Dale's law to the effective kernel; then ``role`` is
        required. ``role="input"``: ``|W|`` (inputs are excitatory);
        ``"recurrent"``: ``|W|`` times the sign of each presynaptic unit;
        ``"output"``: ``|W|``, with inhibitory units cut off (PsychRNN's 1/0
        ``Dale_out``). No balancing or spectral scaling is done (as in
        PsychRNN's base ``WeightInitializer``).
      role: ``"input"``, ``"recurrent"`` (square shapes only) or
        ``"output"``; None (default) allows any shape, without Dale's law.
      autapses: False zeroes the diagonal of the mask; ``role="recurrent"`` only.
      weights: ``"effective"`` (default; masked and Dale-signed) or ``"raw"``
        (the scheme's values exactly).
      layout: ``"in_out"`` (default, a Flax/Haiku kernel) or ``"out_in"``.

    Example:
      >>> import jax, jax.numpy as jnp, jaxinit
      >>> mask = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # (in, out) = (3, 2)
      >>> k = glorot_gauss(connectivity=mask)(jax.random.key(0), (3, 2))
      >>> bool((k == jaxinit.schemes.glorot_gauss(jax.random.key(0), mask.T).T * mask).all())
      True
    """
    layout = layout_choice(layout)
    weights = weights_choice(weights)
    return scheme_kernel(
        "glorot_gauss",
        {},
        connectivity=connectivity,
        dale_ratio=dale_ratio,
        role=role,
        autapses=autapses,
        weights=weights,
        layout=layout,
    )
