"""The initializer object the builders return, and the checks they share.

Every matrix is computed in jaxinit's ``"out_in"`` layout and turned into the
caller's layout at the end with :func:`orient`; a mask given in the caller's
layout is stored in ``"out_in"`` by :func:`read_mask`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.given import check_values, convert_array
from jaxinit._src.names import LAYOUTS, OLD_LAYOUTS, WEIGHTS, Layout, Weights
from jaxinit._src.typing import DTypeLike, PRNGKey

# A placeholder size for checking options before the shape is known.
ANY_SIZE = 1

#: What a builder hands to :class:`KernelInitializer`: ``draw(key, shape, work)``
#: returns the ``(out, in)``-computed kernel in ``shape`` (already in the caller's
#: layout), computed in the dtype named ``work`` (``"float32"`` or ``"float64"``).
Draw: TypeAlias = Callable[[Any, tuple[int, int], str], jax.Array]


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

    Example:
      >>> import jax, jaxinit
      >>> init = jaxinit.initializers.glorot_gauss()
      >>> init.name, init.options["layout"], init.needs_key
      ('glorot_gauss', 'in_out', True)
      >>> init(jax.random.key(0), (2, 3)).shape
      (2, 3)
    """

    __slots__ = ("__weakref__", "_draw", "_name", "_needs_key", "_options")

    def __init__(
        self, name: str, options: dict[str, Any], draw: Draw, needs_key: bool = True
    ) -> None:
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
        """False for :func:`~jaxinit.initializers.from_params`, whose arrays are fixed."""
        return self._needs_key

    def __call__(
        self,
        key: PRNGKey | None,
        shape: Sequence[int],
        dtype: DTypeLike | None = jnp.float32,
        out_sharding: Any = None,
    ) -> jax.Array:
        if self._needs_key:
            checks.check_key(key)
        pair = check_shape(shape)
        requested, work = work_dtype(dtype)
        array: jax.Array = self._draw(key, pair, work).astype(requested)
        if out_sharding is not None:
            # jax.sharding.reshard carries no annotations.
            array = jax.sharding.reshard(array, out_sharding)  # type: ignore[no-untyped-call]
        return array

    def __repr__(self) -> str:
        def show(value: object) -> str:
            if isinstance(value, np.ndarray):
                return f"<mask {value.shape[0]}x{value.shape[1]}>"
            return repr(value)

        inner = ", ".join(f"{k}={show(v)}" for k, v in self._options.items())
        return f"jaxinit.initializers.{self._name}({inner})"


def layout_choice(layout: Any, *, depth: int = 1) -> Layout:
    """``layout`` checked; a 0.1 spelling is mapped with a ``DeprecationWarning``.

    ``depth`` is how many jaxinit frames lie between the user's call and the
    caller of this function, so that the warning names the user's line.
    """
    if isinstance(layout, str) and layout in OLD_LAYOUTS:
        new = OLD_LAYOUTS[layout]
        checks.deprecated(f"layout={layout!r}", f"layout={new!r}", stacklevel=3 + depth)
        return new
    return checks.one_of("layout", layout, LAYOUTS)


def weights_choice(weights: Any) -> Weights:
    """``weights`` checked: ``"raw"`` or ``"effective"``."""
    return checks.choice("weights", weights, WEIGHTS)


def check_shape(shape: Any) -> tuple[int, int]:
    """``shape`` as a pair of positive ints (a 2-D kernel)."""
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


def work_dtype(dtype: DTypeLike | None) -> tuple[np.dtype[Any], str]:
    """The requested dtype and the dtype to compute in (float32 or float64)."""
    if dtype is None:
        dtype = jnp.float32
    try:
        requested = jnp.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a floating dtype, got {dtype!r}") from None
    if not jnp.issubdtype(requested, jnp.floating):
        raise TypeError(f"dtype must be a floating dtype, got {requested}")
    work = "float64" if requested == np.float64 else "float32"
    if work == "float64":
        checks.x64_enabled("dtype float64")
    return requested, work


def to_out_in(shape: tuple[int, int], layout: Layout) -> tuple[int, int]:
    """A shape in ``layout`` as the ``(out, in)`` shape jaxinit computes in."""
    return shape if layout == "out_in" else (shape[1], shape[0])


def orient(W: jax.Array, layout: Layout) -> jax.Array:
    """An ``(out, in)`` matrix in the requested layout."""
    return W if layout == "out_in" else jnp.swapaxes(W, -1, -2)


def read_mask(
    connectivity: Any, layout: Layout, *, square: bool
) -> npt.NDArray[np.float32] | None:
    """The mask as a read-only 0/1 numpy array in the ``"out_in"`` layout."""
    if connectivity is None:
        return None
    if checks.is_traced(connectivity):
        raise TypeError(
            "connectivity must be a concrete array (numpy or jax), not a value traced "
            "inside jax.jit/vmap: build the initializer outside the transformation"
        )
    converted = convert_array("connectivity", connectivity, np.float32)
    if converted.ndim != 2:
        raise ValueError(f"connectivity must be a 2-D mask, got shape {tuple(converted.shape)}")
    if square and converted.shape[0] != converted.shape[1]:
        raise ValueError(
            "connectivity of a recurrent kernel must be square, got shape "
            f"{tuple(converted.shape)}"
        )
    check_values("connectivity", converted, (0, 1))
    mask = np.array(converted.T if layout == "in_out" else converted)
    mask.setflags(write=False)
    return mask


def mask_in_layout(
    mask: npt.NDArray[np.float32] | None, layout: Layout
) -> npt.NDArray[np.float32] | None:
    """An ``"out_in"`` mask back in the caller's layout (a read-only view)."""
    if mask is None:
        return None
    return mask.T if layout == "in_out" else mask


def check_mask_shape(
    mask: npt.NDArray[np.float32] | None, shape: tuple[int, int], layout: Layout
) -> None:
    """Raise ``ValueError`` when ``shape`` (in ``layout``) is not the mask's shape."""
    if mask is not None and mask.shape != to_out_in(shape, layout):
        expected = to_out_in((mask.shape[0], mask.shape[1]), layout)
        raise ValueError(
            f"shape {shape} does not match the connectivity mask, whose shape is {expected} "
            f"in layout {layout!r}"
        )


def square_size(shape: tuple[int, int]) -> int:
    """``N`` of a square ``(N, N)`` shape."""
    if shape[0] != shape[1]:
        raise ValueError(f"a recurrent kernel must be square, got shape {shape}")
    return shape[0]


def options_config(**options: Any) -> Config:
    """A :class:`~jaxinit.Config` of placeholder sizes; it checks and names each option."""
    return Config(N_in=ANY_SIZE, N_rec=ANY_SIZE, N_out=ANY_SIZE, **options)
