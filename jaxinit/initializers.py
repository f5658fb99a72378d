"""jaxinit's initializers as ``init(key, shape, dtype)`` for Flax and other JAX libraries.

Every builder here returns a :class:`KernelInitializer`: a callable with the
signature of ``jax.nn.initializers`` (``init(key, shape, dtype=jnp.float32)``),
so it can be passed wherever Flax takes a ``kernel_init`` /
``recurrent_kernel_init`` (linen ``nn.Dense``, ``nn.SimpleCell``, ``nn.RNN``;
nnx ``nnx.Linear``) and wherever a JAX initializer is expected.
:mod:`jaxinit.haiku` wraps the same builders as Haiku's ``(shape, dtype)``
initializers. This module imports only JAX.

The builders compute nothing new: each call runs jaxinit's own function with
the same key and returns one array of its result.

* :func:`gaussian_spectral_radius` and :func:`alpha_identity` return the
  ``W_rec`` of :func:`jaxinit.gaussian_spectral_radius` /
  :func:`jaxinit.alpha_identity` for a :class:`~jaxinit.Config` of ``N_rec``
  units (``N_rec`` read from ``shape``; ``N_in`` and ``N_out`` do not change
  ``W_rec``).
* :func:`const_unif`, :func:`const_gauss`, :func:`glorot_unif` and
  :func:`glorot_gauss` return :func:`jaxinit.schemes.const_unif` (...) drawn with the
  same key over the connectivity mask, in PsychRNN's ``(out, in)`` shape.
* :func:`from_params` returns one array of an existing :class:`~jaxinit.Params`.

Layout
------
PsychRNN and jaxinit store a weight matrix as ``(out, in)`` and compute
``W @ x`` (``W_rec[i, j]`` is the weight from unit ``j`` to unit ``i``).
Flax, Haiku and Keras store a kernel as ``(in, out)`` and compute
``x @ kernel``. With ``layout="flax"`` (the default) a builder returns the
**transpose** of jaxinit's matrix, ``kernel = W.T``, so ``h @ kernel == W @ h``
for every state ``h``; with ``layout="psychrnn"`` it returns ``W`` itself (also
the layout of ``equinox.nn.Linear.weight``). The transpose only changes the
orientation: the same key gives the same network in both layouts. The
``shape`` a library asks for and a ``connectivity`` mask you pass are read in
the chosen layout (``connectivity[j, i] = 1`` connects unit ``j`` to unit ``i``
in the Flax layout).

What the transpose does to Dale's law: the sign of a presynaptic unit ``j``
multiplies **column** ``j`` of a PsychRNN-layout matrix (``W_rec_eff =
|W_rec| * mask @ Dale_rec``) and **row** ``j`` of a Flax-layout kernel. So in a
Flax kernel every entry of row ``j`` of an excitatory unit ``j`` is ``>= 0``,
every entry of row ``j`` of an inhibitory unit is ``<= 0``, and in an output
kernel (``role="output"``, shape ``(N_rec, N_out)``) the rows of inhibitory
units are zero.

Effective or raw weights
------------------------
A plain Flax or Haiku layer has no masks and no Dale signs: it multiplies by
its kernel as it is. So by default (``weights="effective"``) a builder returns
the **effective** matrix, the one a PsychRNN network really multiplies by: the
mask applied, and with Dale's law ``|W|`` times the sign of each presynaptic
unit, exactly :func:`jaxinit.effective`. :func:`gaussian_spectral_radius` also
scales by default so that this effective matrix has exactly ``spec_rad``
(``spectral_radius_of="effective"``). ``weights="raw"`` returns the raw
matrix instead (for a model that applies masks, ``|.|`` and Dale signs
itself, like :class:`jaxinit.nnx.BasicRNN`; note that training a plain layer
does not keep the masks or Dale's law, only such a model does).

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

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks
from jaxinit._src import network as _core
from jaxinit._src import schemes as _schemes
from jaxinit._src.config import Config
from jaxinit._src.dale import dale_diagonals, n_excitatory
from jaxinit._src.effective import effective, effective_W_rec
from jaxinit._src.given import check_values, convert_array
from jaxinit._src.names import ARRAY_FIELDS
from jaxinit._src.params import Params

__all__ = [
    "LAYOUTS",
    "ROLES",
    "WEIGHTS",
    "KernelInitializer",
    "alpha_identity",
    "const_gauss",
    "const_unif",
    "from_params",
    "gaussian_spectral_radius",
    "glorot_gauss",
    "glorot_unif",
]

#: Choices of ``layout``: ``"flax"`` is ``(in, out)`` (Flax, Haiku, Keras),
#: ``"psychrnn"`` is ``(out, in)`` (PsychRNN, jaxinit, ``equinox.nn.Linear``).
LAYOUTS = ("flax", "psychrnn")

#: Choices of ``weights``: the effective matrix (masks, ``|.|``, Dale signs
#: applied) or the raw one.
WEIGHTS = ("effective", "raw")

#: Choices of ``role`` for the random schemes: which kernel of a network it is.
ROLES = ("input", "recurrent", "output")

# A placeholder size for checking options before the shape is known.
_ANY = 1


class KernelInitializer:
    """An initializer ``init(key, shape, dtype=jnp.float32)`` made by a builder.

    Instances follow the ``jax.nn.initializers.Initializer`` protocol, so they
    go wherever Flax (linen or nnx) or plain JAX code takes an initializer.
    They hold their options (numbers, strings and a read-only numpy mask) and
    nothing else, so calling one is a pure function of its arguments: the same
    key, shape and dtype give the same array, also under ``jax.jit`` (with
    ``shape`` and ``dtype`` static) and ``jax.vmap`` over keys.

    Calling one checks ``key`` (a JAX PRNG key), ``shape`` (two positive
    integers; square for recurrent kernels; the mask's shape when a mask was
    given) and ``dtype`` (floating), raising ``ValueError``/``TypeError``
    that names the argument and the value. ``out_sharding``, as in the JAX
    protocol, places the result with ``jax.sharding.reshard``.
    """

    __slots__ = ("__weakref__", "_draw", "_name", "_needs_key", "_options")

    def __init__(self, name: str, options: dict[str, Any], draw: Callable, needs_key=True):
        self._name = name
        self._options = options
        self._draw = draw
        self._needs_key = needs_key

    @property
    def name(self) -> str:
        """Name of the builder that made this initializer."""
        return self._name

    @property
    def options(self) -> dict[str, Any]:
        """The builder's arguments (a copy; a mask is a read-only array in ``layout``)."""
        return dict(self._options)

    @property
    def needs_key(self) -> bool:
        """False for :func:`from_params`, whose arrays are fixed."""
        return self._needs_key

    def __call__(self, key, shape, dtype=jnp.float32, out_sharding=None) -> jax.Array:
        if self._needs_key:
            checks.check_key(key)
        shape = _shape(shape)
        dtype, work = _dtypes(dtype)
        array = self._draw(key, shape, work).astype(dtype)
        if out_sharding is not None:
            array = jax.sharding.reshard(array, out_sharding)
        return array

    def __repr__(self) -> str:
        def show(value):
            if isinstance(value, np.ndarray):
                return f"<mask {value.shape[0]}x{value.shape[1]}>"
            return repr(value)

        inner = ", ".join(f"{k}={show(v)}" for k, v in self._options.items())
        return f"jaxinit.initializers.{self._name}({inner})"


# ---------------------------------------------------------------------------
# Argument checks


def _shape(shape) -> tuple[int, int]:
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be a pair of positive integers, got {shape!r}") from None
    if len(dims) != 2:
        raise ValueError(
            f"shape must have two dimensions (a weight matrix), got {dims!r}; "
            "these initializers make 2-D kernels"
        )
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise TypeError(f"shape must be a pair of positive integers, got {dims!r}")
        if d < 1:
            raise ValueError(f"shape must be a pair of positive integers, got {dims!r}")
    return int(dims[0]), int(dims[1])


def _dtypes(dtype) -> tuple[np.dtype, str]:
    """The requested dtype and the dtype to compute in (float32 or float64)."""
    if dtype is None:
        dtype = jnp.float32
    try:
        dtype = jnp.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a floating dtype, got {dtype!r}") from None
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    work = "float64" if dtype == np.float64 else "float32"
    if work == "float64" and not jax.config.jax_enable_x64:
        raise ValueError(
            "dtype float64 needs 64-bit JAX: call jax.config.update('jax_enable_x64', True) "
            "first (or set JAX_ENABLE_X64=1)"
        )
    return dtype, work


def _layout(layout) -> str:
    return checks.one_of("layout", layout, LAYOUTS)


def _weights(weights) -> str:
    return checks.one_of("weights", weights, WEIGHTS)


def _to_psychrnn(shape: tuple[int, int], layout: str) -> tuple[int, int]:
    return shape if layout == "psychrnn" else (shape[1], shape[0])


def _orient(W, layout: str):
    """PsychRNN-layout ``W`` in the requested layout."""
    return W if layout == "psychrnn" else jnp.swapaxes(W, -1, -2)


def _mask(connectivity, layout: str, *, square: bool) -> np.ndarray | None:
    """The mask as a read-only 0/1 numpy array in PsychRNN's layout."""
    if connectivity is None:
        return None
    if checks.is_traced(connectivity):
        raise TypeError(
            "connectivity must be a concrete array (numpy or jax), not a value traced "
            "inside jax.jit/vmap: build the initializer outside the transformation"
        )
    mask = convert_array("connectivity", connectivity, np.float32)
    if mask.ndim != 2:
        raise ValueError(f"connectivity must be a 2-D mask, got shape {tuple(mask.shape)}")
    if square and mask.shape[0] != mask.shape[1]:
        raise ValueError(
            f"connectivity of a recurrent kernel must be square, got shape {tuple(mask.shape)}"
        )
    check_values("connectivity", mask, (0, 1))
    mask = np.array(mask.T if layout == "flax" else mask)
    mask.setflags(write=False)
    return mask


def _user_layout(mask, layout: str):
    """A PsychRNN-layout mask back in the caller's layout (a read-only view)."""
    if mask is None:
        return None
    return mask.T if layout == "flax" else mask


def _check_mask_shape(mask, shape, layout):
    if mask is not None and mask.shape != _to_psychrnn(shape, layout):
        expected = _to_psychrnn(mask.shape, layout)
        raise ValueError(
            f"shape {shape} does not match the connectivity mask, whose shape is {expected} "
            f"in layout {layout!r}"
        )


def _square(shape) -> int:
    if shape[0] != shape[1]:
        raise ValueError(f"a recurrent kernel must be square, got shape {shape}")
    return shape[0]


def _config(**options) -> Config:
    # Config checks each option and names it in its messages.
    return Config(N_in=_ANY, N_rec=_ANY, N_out=_ANY, **options)


# ---------------------------------------------------------------------------
# Recurrent kernels


def _recurrent(name: str, core_fn, options: dict, config: Config, mask, weights, layout):
    def draw(key, shape, work):
        n = _square(shape)
        _check_mask_shape(mask, shape, layout)
        cfg = config.replace(N_rec=n, dtype=work)
        given = {} if mask is None else {"rec_connectivity": mask}
        return _pick_W_rec(core_fn(key, cfg, **given), weights=weights, layout=layout)

    return KernelInitializer(name, options, draw)


@functools.partial(jax.jit, static_argnames=("weights", "layout"))
def _pick_W_rec(params: Params, *, weights: str, layout: str) -> jax.Array:
    W = effective(params).W_rec if weights == "effective" else params.W_rec
    return _orient(W, layout)


def gaussian_spectral_radius(
    spec_rad: float = 1.1,
    *,
    dale_ratio: float | None = None,
    autapses: bool = True,
    connectivity=None,
    spectral_radius_of: str = "effective",
    weights: str = "effective",
    layout: str = "flax",
) -> KernelInitializer:
    """A recurrent kernel from :func:`jaxinit.gaussian_spectral_radius`.

    ``init(key, (N, N))`` runs ``jaxinit.gaussian_spectral_radius(key,
    Config(N_rec=N, dale_ratio=..., autapses=..., spec_rad=...,
    spectral_radius_of=...), rec_connectivity=mask)`` and returns its
    effective ``W_rec`` (default) or raw ``W_rec``, transposed for
    ``layout="flax"``. With the defaults the returned kernel has spectral
    radius exactly ``spec_rad`` (a transpose keeps the eigenvalues).

    Args:
      spec_rad: the spectral radius, positive.
      dale_ratio: fraction of excitatory units in [0, 1] (the first
        ``int(dale_ratio * N)`` units), or None for no Dale's law. The
        recurrent weights are balanced as in PsychRNN.
      autapses: if False, the diagonal of the mask is zeroed.
      connectivity: optional 0/1 mask of shape ``(N, N)`` in the chosen
        layout; ``None`` connects every pair.
      spectral_radius_of: ``"effective"`` (default here) or ``"raw"``
        (PsychRNN's behaviour): which matrix gets ``spec_rad``.
      weights: ``"effective"`` (default) or ``"raw"``.
      layout: ``"flax"`` (default; ``(in, out)``, ``h @ kernel``) or
        ``"psychrnn"`` (``(out, in)``, ``W @ h``).

    Returns:
      A :class:`KernelInitializer`.

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
    """
    layout = _layout(layout)
    weights = _weights(weights)
    config = _config(
        spec_rad=spec_rad,
        dale_ratio=dale_ratio,
        autapses=autapses,
        spectral_radius_of=spectral_radius_of,
    )
    mask = _mask(connectivity, layout, square=True)
    options = dict(
        spec_rad=config.spec_rad,
        dale_ratio=config.dale_ratio,
        autapses=config.autapses,
        connectivity=_user_layout(mask, layout),
        spectral_radius_of=config.spectral_radius_of,
        weights=weights,
        layout=layout,
    )
    return _recurrent(
        "gaussian_spectral_radius",
        _core.gaussian_spectral_radius,
        options,
        config,
        mask,
        weights,
        layout,
    )


def alpha_identity(
    alpha: float,
    *,
    dale_ratio: float | None = None,
    autapses: bool = True,
    connectivity=None,
    weights: str = "effective",
    layout: str = "flax",
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
      dale_ratio, autapses, connectivity, weights, layout: as in
        :func:`gaussian_spectral_radius`.

    Example:
      >>> import jax
      >>> alpha_identity(0.5)(jax.random.key(0), (3, 3)).diagonal().tolist()
      [0.5, 0.5, 0.5]
    """
    if alpha is None:
        raise ValueError("alpha must be a finite number (the diagonal value), got None")
    layout = _layout(layout)
    weights = _weights(weights)
    config = _config(alpha=alpha, dale_ratio=dale_ratio, autapses=autapses)
    mask = _mask(connectivity, layout, square=True)
    options = dict(
        alpha=config.alpha,
        dale_ratio=config.dale_ratio,
        autapses=config.autapses,
        connectivity=_user_layout(mask, layout),
        weights=weights,
        layout=layout,
    )
    return _recurrent(
        "alpha_identity", _core.alpha_identity, options, config, mask, weights, layout
    )


# ---------------------------------------------------------------------------
# Random schemes (input, output, or recurrent kernels)


def _scheme(
    name: str,
    scheme_options: dict,
    *,
    connectivity,
    dale_ratio,
    role,
    autapses,
    weights,
    layout,
) -> KernelInitializer:
    layout = _layout(layout)
    weights = _weights(weights)
    config = _config(dale_ratio=dale_ratio, autapses=autapses)
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
    mask = _mask(connectivity, layout, square=role == "recurrent")
    options = dict(
        scheme_options,
        connectivity=_user_layout(mask, layout),
        dale_ratio=config.dale_ratio,
        role=role,
        autapses=config.autapses,
        weights=weights,
        layout=layout,
    )

    dale = config.dale_ratio is not None
    if weights == "raw":
        mode = "raw"
    elif not dale:
        mode = "masked"
    else:
        mode = role

    def draw(key, shape, work):
        if role == "recurrent":
            _square(shape)
        _check_mask_shape(mask, shape, layout)
        psy_shape = _to_psychrnn(shape, layout)
        # Columns of a PsychRNN-layout matrix are the presynaptic units.
        n_exc = n_excitatory(psy_shape[1], config.dale_ratio) if dale else 0
        scalars = {k: np.asarray(v, work) for k, v in scheme_options.items()}
        return _draw_scheme(
            key,
            mask,
            scalars,
            np.int32(n_exc),
            scheme=name,
            shape=psy_shape,
            work=work,
            autapses=config.autapses,
            mode=mode,
            layout=layout,
        )

    return KernelInitializer(name, options, draw)


@functools.partial(
    jax.jit, static_argnames=("scheme", "shape", "work", "autapses", "mode", "layout")
)
def _draw_scheme(key, mask, scalars, n_exc, *, scheme, shape, work, autapses, mode, layout):
    """Draw with a scheme and apply the mask and Dale's law (one compiled program)."""
    m = jnp.ones(shape, work) if mask is None else jnp.asarray(mask, work)
    if not autapses:
        m = m * (1 - jnp.eye(shape[0], dtype=work))
    W = _schemes.SCHEMES[scheme](key, m, dtype=work, **scalars)
    if mode == "masked":
        W = W * m
    elif mode != "raw":
        rec, out = dale_diagonals(shape[1], n_exc, work)
        signs = {"input": jnp.ones((shape[1],), work), "recurrent": rec, "output": out}[mode]
        W = effective_W_rec(W, m, signs, True)
    return _orient(W, layout)


_SCHEME_ARGS = """connectivity: optional 0/1 mask in the chosen layout. As in PsychRNN it
        sets the glorot fan; the effective kernel is also multiplied by it.
      dale_ratio: None, or a fraction in [0, 1] to apply Dale's law to the
        effective kernel; then ``role`` is required. ``role="input"``: ``|W|``
        (inputs are excitatory); ``"recurrent"``: ``|W|`` times the sign of
        each presynaptic unit; ``"output"``: ``|W|``, with inhibitory units
        cut off (PsychRNN's 1/0 ``Dale_out``). No balancing or spectral
        scaling is done (as in PsychRNN's base ``WeightInitializer``).
      role: ``"input"``, ``"recurrent"`` (square shapes only) or
        ``"output"``; None (default) allows any shape, without Dale's law.
      autapses: False zeroes the diagonal of the mask; ``role="recurrent"`` only.
      weights: ``"effective"`` (default; masked and Dale-signed) or ``"raw"``
        (the scheme's values exactly).
      layout: ``"flax"`` (default, ``(in, out)``) or ``"psychrnn"`` (``(out, in)``)."""


def const_unif(
    minval: float = -0.1,
    maxval: float = 0.1,
    *,
    connectivity=None,
    dale_ratio: float | None = None,
    role: str | None = None,
    autapses: bool = True,
    weights: str = "effective",
    layout: str = "flax",
) -> KernelInitializer:
    """Uniform values in ``[minval, maxval)`` (:func:`jaxinit.schemes.const_unif`).

    The raw kernel is ``jaxinit.schemes.const_unif(key, mask, minval=minval,
    maxval=maxval)`` for the mask in PsychRNN's layout (all ones without a
    mask), transposed for ``layout="flax"``.

    Args:
      minval, maxval: the bounds, finite, ``minval <= maxval`` (PsychRNN's
        ``init_minval``/``init_maxval``).
      {args}

    Example:
      >>> import jax
      >>> k = const_unif(0.0, 0.5)(jax.random.key(0), (3, 4))
      >>> k.shape, bool(((k >= 0) & (k < 0.5)).all())
      ((3, 4), True)
    """
    minval = checks.finite_float("minval", minval)
    maxval = checks.finite_float("maxval", maxval)
    if minval > maxval:
        raise ValueError(
            f"minval must not exceed maxval, got minval={minval!r} > maxval={maxval!r}"
        )
    _config(init_minval=minval, init_maxval=maxval)  # do they fit in float32?
    return _scheme(
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
    connectivity=None,
    dale_ratio: float | None = None,
    role: str | None = None,
    autapses: bool = True,
    weights: str = "effective",
    layout: str = "flax",
) -> KernelInitializer:
    """Standard normal values (:func:`jaxinit.schemes.const_gauss`).

    Args:
      {args}

    Example:
      >>> import jax
      >>> k = const_gauss(dale_ratio=0.5, role="output")(jax.random.key(0), (4, 2))
      >>> (k[:2] >= 0).all().item(), (k[2:] == 0).all().item()  # units 2, 3 are inhibitory
      (True, True)
    """
    return _scheme(
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
    connectivity=None,
    dale_ratio: float | None = None,
    role: str | None = None,
    autapses: bool = True,
    weights: str = "effective",
    layout: str = "flax",
) -> KernelInitializer:
    """Uniform values in ``±sqrt(6 / fan)``, PsychRNN's per-entry fan (:func:`jaxinit.schemes.glorot_unif`).

    Args:
      {args}

    Example:
      >>> import jax, jax.numpy as jnp
      >>> k = glorot_unif()(jax.random.key(0), (4, 4))
      >>> bool((jnp.abs(k) <= jnp.sqrt(6 / 8)).all())
      True
    """
    return _scheme(
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
    connectivity=None,
    dale_ratio: float | None = None,
    role: str | None = None,
    autapses: bool = True,
    weights: str = "effective",
    layout: str = "flax",
) -> KernelInitializer:
    """Normal values with std ``sqrt(2 / fan)`` (:func:`jaxinit.schemes.glorot_gauss`).

    PsychRNN's default scheme for ``W_in`` and ``W_out``.

    Args:
      {args}

    Example:
      >>> import jax, jax.numpy as jnp, jaxinit
      >>> mask = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # (in, out) = (3, 2)
      >>> k = glorot_gauss(connectivity=mask)(jax.random.key(0), (3, 2))
      >>> bool((k == jaxinit.schemes.glorot_gauss(jax.random.key(0), mask.T).T * mask).all())
      True
    """
    return _scheme(
        "glorot_gauss",
        {},
        connectivity=connectivity,
        dale_ratio=dale_ratio,
        role=role,
        autapses=autapses,
        weights=weights,
        layout=layout,
    )


for _fn in (const_unif, const_gauss, glorot_unif, glorot_gauss):
    _fn.__doc__ = _fn.__doc__.replace("{args}", _SCHEME_ARGS)
del _fn


# ---------------------------------------------------------------------------
# Arrays of an existing network

_WEIGHT_FIELDS = ("W_in", "W_rec", "W_out")


def from_params(
    params: Params, name: str, *, weights: str = "effective", layout: str = "flax"
) -> KernelInitializer:
    """An initializer that returns one array of an existing network.

    Make the whole network with jaxinit (so that ``W_in``, ``W_rec`` and
    ``W_out`` share one config, masks and Dale signs) and hand each array to a
    Flax layer. The key is ignored (None is fine); the requested ``shape``
    must be the array's shape in the chosen layout. Biases and
    ``init_state`` are 1-D: pass them with ``jax.nn.initializers.constant``
    or as arrays.

    Args:
      params: a single network (no ensemble axes).
      name: ``W_in``, ``W_rec``, ``W_out`` or a mask name
        (``input_connectivity``, ``rec_connectivity``, ``output_connectivity``).
      weights: ``"effective"`` (default; :func:`jaxinit.effective`) or
        ``"raw"``; masks are the same either way.
      layout: ``"flax"`` (default, transposed) or ``"psychrnn"``.

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
    if params.batch_shape != ():
        raise ValueError(
            f"params must be a single network, got an ensemble of shape {params.batch_shape}"
        )
    matrices = [n for n in ARRAY_FIELDS if n in _WEIGHT_FIELDS or n.endswith("_connectivity")]
    checks.one_of("name", name, matrices)
    layout = _layout(layout)
    weights = _weights(weights)
    if name in _WEIGHT_FIELDS and weights == "effective":
        array = getattr(effective(params), name)
    else:
        array = getattr(params, name)
    array = _orient(jnp.asarray(array), layout)
    options = dict(name=name, weights=weights, layout=layout)

    def draw(key, shape, work):
        if shape != tuple(array.shape):
            raise ValueError(
                f"shape {shape} does not match {name}, whose shape is {tuple(array.shape)} "
                f"in layout {layout!r}"
            )
        return array.astype(work)

    return KernelInitializer("from_params", options, draw, needs_key=False)
