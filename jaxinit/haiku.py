"""jaxinit's initializers as Haiku initializers, ``init(shape, dtype)``.

Haiku calls an initializer with ``(shape, dtype)`` and no key: random ones
draw their key with ``hk.next_rng_key()``, so they work inside
``hk.transform`` when a key is given to ``init``. Each builder here takes the
arguments of the builder of the same name in :mod:`jaxinit.initializers` and
wraps it; the values are the same as that builder's for the key Haiku hands
out. Haiku's ``hk.Linear`` stores ``w`` as ``(in, out)`` and computes
``x @ w``, like Flax, so the default ``layout="flax"`` fits it (see
:mod:`jaxinit.initializers` for the layout, the Dale signs and effective
versus raw weights).

Use ``w_init=`` of ``hk.Linear`` (or any module that takes one). Modules that
do not expose their initializers, such as ``hk.VanillaRNN``, can be given one
through ``hk.custom_creator`` with :func:`creator`::

    rec = jaxinit.haiku.gaussian_spectral_radius(1.1, dale_ratio=0.8)
    with hk.custom_creator(jaxinit.haiku.creator({"*/linear_1/w": rec})):
        out, state = hk.VanillaRNN(N)(x, state)   # linear_1 is hidden-to-hidden

This module imports Haiku (``pip install dm-haiku``); ``import jaxinit`` does
not.

Example:
  >>> import haiku as hk, jax, jax.numpy as jnp, jaxinit
  >>> def f(h):
  ...     return hk.Linear(20, with_bias=False, w_init=gaussian_spectral_radius(1.2))(h)
  >>> w = hk.transform(f).init(jax.random.key(0), jnp.ones((1, 20)))["linear"]["w"]
  >>> round(float(jaxinit.spectral_radius(w)), 4)
  1.2
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

try:
    import haiku as hk
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError("jaxinit.haiku needs Haiku; install it with: pip install dm-haiku") from _err

from jaxinit import initializers as _inits

__all__ = [
    "HaikuInitializer",
    "alpha_identity",
    "const_gauss",
    "const_unif",
    "creator",
    "from_params",
    "gaussian_spectral_radius",
    "glorot_gauss",
    "glorot_unif",
    "wrap",
]


class HaikuInitializer:
    """A Haiku initializer ``init(shape, dtype)`` around a jaxinit initializer.

    Calling it draws ``hk.next_rng_key()`` (unless the wrapped initializer
    needs no key, as for :func:`from_params`) and returns
    ``initializer(key, shape, dtype)``.

    Attributes:
      initializer: the wrapped :class:`jaxinit.initializers.KernelInitializer`
        (or any ``init(key, shape, dtype)``), usable outside Haiku too.
    """

    def __init__(self, initializer: Callable):
        if not callable(initializer):
            raise TypeError(
                f"initializer must be a callable init(key, shape, dtype), got {initializer!r}"
            )
        self.initializer = initializer

    def __call__(self, shape, dtype=jnp.float32) -> jax.Array:
        needs_key = getattr(self.initializer, "needs_key", True)
        key = hk.next_rng_key() if needs_key else None
        return self.initializer(key, shape, dtype)

    def __repr__(self) -> str:
        return f"jaxinit.haiku.wrap({self.initializer!r})"


def wrap(initializer: Callable) -> HaikuInitializer:
    """Turn any ``init(key, shape, dtype)`` (JAX's protocol) into a Haiku initializer.

    Example:
      >>> import haiku as hk, jax, jax.numpy as jnp
      >>> init = wrap(jax.nn.initializers.orthogonal())
      >>> hk.transform(lambda: init((3, 3), jnp.float32)).apply({}, jax.random.key(0)).shape
      (3, 3)
    """
    return HaikuInitializer(initializer)


def gaussian_spectral_radius(spec_rad: float = 1.1, **options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.gaussian_spectral_radius`.

    Takes the same arguments (``dale_ratio``, ``autapses``, ``connectivity``,
    ``spectral_radius_of``, ``weights``, ``layout``).
    """
    return wrap(_inits.gaussian_spectral_radius(spec_rad, **options))


def alpha_identity(alpha: float, **options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.alpha_identity`."""
    return wrap(_inits.alpha_identity(alpha, **options))


def const_unif(minval: float = -0.1, maxval: float = 0.1, **options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.const_unif`."""
    return wrap(_inits.const_unif(minval, maxval, **options))


def const_gauss(**options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.const_gauss`."""
    return wrap(_inits.const_gauss(**options))


def glorot_unif(**options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.glorot_unif`."""
    return wrap(_inits.glorot_unif(**options))


def glorot_gauss(**options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.glorot_gauss`."""
    return wrap(_inits.glorot_gauss(**options))


def from_params(params, name: str, **options) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.from_params` (draws no key)."""
    return wrap(_inits.from_params(params, name, **options))


def creator(initializers: Mapping[str, Callable]) -> Callable:
    """A ``hk.custom_creator`` that sets the initializer of parameters by name.

    Args:
      initializers: maps a pattern (``fnmatch`` style, matched against the
        parameter's full name such as ``"vanilla_rnn/linear_1/w"``) to a
        Haiku initializer ``(shape, dtype)``. The first matching pattern wins;
        parameters that match none keep their own initializer.

    Returns:
      A creator for ``with hk.custom_creator(...)``. It changes only the
      initializer: Haiku still names, shapes and stores the parameter.

    Example:
      >>> import haiku as hk, jax, jax.numpy as jnp
      >>> def f(x, h):
      ...     with hk.custom_creator(creator({"*/linear_1/w": alpha_identity(0.5)})):
      ...         return hk.VanillaRNN(3)(x, h)
      >>> params = hk.transform(f).init(jax.random.key(0), jnp.ones((1, 2)), jnp.ones((1, 3)))
      >>> params["vanilla_rnn/linear_1"]["w"].diagonal().tolist()
      [0.5, 0.5, 0.5]
    """
    if not isinstance(initializers, Mapping):
        raise TypeError(
            f"initializers must be a dict of name pattern -> initializer, got {initializers!r}"
        )
    table = []
    for pattern, init in initializers.items():
        if not isinstance(pattern, str):
            raise TypeError(f"initializer patterns must be strings, got {pattern!r}")
        if not callable(init):
            raise TypeError(f"the initializer for {pattern!r} must be callable, got {init!r}")
        table.append((pattern, init))

    def custom_creator(next_creator, shape, dtype, init, context):
        for pattern, chosen in table:
            if fnmatch.fnmatchcase(context.full_name, pattern):
                return next_creator(shape, dtype, chosen)
        return next_creator(shape, dtype, init)

    return custom_creator
