"""jaxinit's initializers as Haiku initializers, ``init(shape, dtype)``.

Haiku calls an initializer with ``(shape, dtype)`` and no key: random ones
draw their key with ``hk.next_rng_key()``, so they work inside
``hk.transform`` when a key is given to ``init``. Each builder here takes the
arguments of the builder of the same name in :mod:`jaxinit.initializers` and
wraps it; the values are the same as that builder's for the key Haiku hands
out. Haiku's ``hk.Linear`` stores ``w`` as ``(in, out)`` and computes
``x @ w``, like Flax, so the default ``layout="in_out"`` fits it (see
:mod:`jaxinit.initializers` for the layout, the Dale signs and effective
versus raw weights).

Use ``w_init=`` of ``hk.Linear`` (or any module that takes one). Modules that
do not expose their initializers, such as ``hk.VanillaRNN``, can be given one
by parameter name with :func:`creator`, used as a context manager inside the
transformed function::

    rec = jaxinit.haiku.gaussian_spectral_radius(1.1, dale_ratio=0.8)
    with jaxinit.haiku.creator({"*/linear_1/w": rec}):
        out, state = hk.VanillaRNN(N)(x, state)   # linear_1 is hidden-to-hidden

When the block created parameters (during ``init``) and a pattern matched
none of them, leaving the block raises ``ValueError`` naming the pattern, so
a misspelt name cannot go unnoticed.

This module imports Haiku (``pip install 'jaxinit[haiku]'``); ``import jaxinit`` does
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

import contextlib
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, cast

import jax
import jax.numpy as jnp

try:
    import haiku as hk
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.haiku needs Haiku; install it with: pip install 'jaxinit[haiku]'"
    ) from _err

from jaxinit import initializers as kernel_builders
from jaxinit._src.haiku_rnn import BasicRNN as BasicRNN
from jaxinit._src.haiku_rnn import to_params as to_params
from jaxinit._src.kernels.base import layout_choice
from jaxinit._src.params import Params

__all__ = [
    "BasicRNN",
    "Creator",
    "HaikuInitializer",
    "alpha_identity",
    "const_gauss",
    "const_unif",
    "creator",
    "from_params",
    "gaussian_spectral_radius",
    "glorot_gauss",
    "glorot_unif",
    "to_params",
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

    def __init__(self, initializer: Callable[..., jax.Array]) -> None:
        if not callable(initializer):
            raise TypeError(
                f"initializer must be a callable init(key, shape, dtype), got {initializer!r}"
            )
        self.initializer = initializer

    def __call__(self, shape: Sequence[int], dtype: Any = jnp.float32) -> jax.Array:
        needs_key = getattr(self.initializer, "needs_key", True)
        key = hk.next_rng_key() if needs_key else None
        return self.initializer(key, shape, dtype)

    def __repr__(self) -> str:
        return f"jaxinit.haiku.wrap({self.initializer!r})"


def wrap(initializer: Callable[..., jax.Array]) -> HaikuInitializer:
    """Turn any ``init(key, shape, dtype)`` (JAX's protocol) into a Haiku initializer.

    Example:
      >>> import haiku as hk, jax, jax.numpy as jnp
      >>> init = wrap(jax.nn.initializers.orthogonal())
      >>> hk.transform(lambda: init((3, 3), jnp.float32)).apply({}, jax.random.key(0)).shape
      (3, 3)
    """
    return HaikuInitializer(initializer)


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    # Map a 0.1 layout spelling here, so that its warning names the caller's line.
    if "layout" in options:
        options = {**options, "layout": layout_choice(options["layout"], depth=2)}
    return options


def gaussian_spectral_radius(spec_rad: float = 1.1, **options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.gaussian_spectral_radius`.

    Takes the same arguments (``dale_ratio``, ``autapses``, ``connectivity``,
    ``spectral_radius_of``, ``weights``, ``layout``).
    """
    return wrap(kernel_builders.gaussian_spectral_radius(spec_rad, **_checked(options)))


def alpha_identity(alpha: float, **options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.alpha_identity`."""
    return wrap(kernel_builders.alpha_identity(alpha, **_checked(options)))


def const_unif(minval: float = -0.1, maxval: float = 0.1, **options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.const_unif`."""
    return wrap(kernel_builders.const_unif(minval, maxval, **_checked(options)))


def const_gauss(**options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.const_gauss`."""
    return wrap(kernel_builders.const_gauss(**_checked(options)))


def glorot_unif(**options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.glorot_unif`."""
    return wrap(kernel_builders.glorot_unif(**_checked(options)))


def glorot_gauss(**options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.glorot_gauss`."""
    return wrap(kernel_builders.glorot_gauss(**_checked(options)))


def from_params(params: Params, name: str, **options: Any) -> HaikuInitializer:
    """Haiku version of :func:`jaxinit.initializers.from_params` (draws no key)."""
    return wrap(kernel_builders.from_params(params, name, **_checked(options)))


class Creator:
    """A Haiku custom creator that sets the initializer of parameters by name.

    Made by :func:`creator`. As a context manager (``with creator(...):``,
    inside the transformed function) it installs itself with
    ``hk.custom_creator`` and, on leaving the block without an exception,
    calls :meth:`check`. Handed to ``hk.custom_creator`` directly it works the
    same but checks nothing unless you call :meth:`check` yourself.

    Haiku calls creators only when parameters are created (``init``), never
    during ``apply``, so a block that created no parameter is not checked.
    """

    def __init__(self, table: tuple[tuple[str, hk.initializers.Initializer], ...]) -> None:
        self._table = table
        self._used: set[str] = set()
        self._created: list[str] = []
        self._context: contextlib.AbstractContextManager[Any] | None = None

    @property
    def patterns(self) -> tuple[str, ...]:
        """The name patterns, in order (the first match wins)."""
        return tuple(pattern for pattern, _ in self._table)

    @property
    def created(self) -> tuple[str, ...]:
        """Full names of the parameters created through this creator so far."""
        return tuple(self._created)

    @property
    def unmatched(self) -> tuple[str, ...]:
        """Patterns that have not yet chosen the initializer of any created parameter."""
        return tuple(p for p in self.patterns if p not in self._used)

    def __call__(
        self,
        next_creator: Callable[[Sequence[int], Any, hk.initializers.Initializer], jax.Array],
        shape: Sequence[int],
        dtype: Any,
        init: hk.initializers.Initializer,
        context: hk.GetterContext,
    ) -> jax.Array:
        name = context.full_name
        self._created.append(name)
        for pattern, chosen in self._table:
            if fnmatch.fnmatchcase(name, pattern):
                self._used.add(pattern)
                return next_creator(shape, dtype, chosen)
        return next_creator(shape, dtype, init)

    def check(self) -> None:
        """Raise ``ValueError`` if parameters were created and a pattern matched none.

        A pattern whose parameters all matched an earlier pattern counts as
        unmatched too: it never chose an initializer.
        """
        if not self._created or not self.unmatched:
            return
        shown = ", ".join(self._created[:20]) + (", ..." if len(self._created) > 20 else "")
        raise ValueError(
            f"initializer patterns {list(self.unmatched)} matched no parameter created in "
            f"this block (patterns are fnmatch patterns of full names); "
            f"the parameters created were: {shown}"
        )

    def __enter__(self) -> Creator:
        if self._context is not None:
            raise RuntimeError("this jaxinit.haiku creator is already active; make a new one")
        self._used.clear()
        self._created.clear()
        context = hk.custom_creator(self)
        self._context = context
        context.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        context, self._context = self._context, None
        # set by __enter__ (a creator left without entering fails here, as ever)
        cast(contextlib.AbstractContextManager[Any], context).__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.check()
        return False

    def __repr__(self) -> str:
        return f"jaxinit.haiku.creator(patterns={list(self.patterns)})"


def creator(initializers: Mapping[str, hk.initializers.Initializer]) -> Creator:
    """Set the initializer of Haiku parameters by name.

    Args:
      initializers: maps a pattern (``fnmatch`` style, matched against the
        parameter's full name such as ``"vanilla_rnn/linear_1/w"``) to a
        Haiku initializer ``(shape, dtype)``. The first matching pattern wins;
        parameters that match none keep their own initializer.

    Returns:
      A :class:`Creator`. Use it as ``with creator({...}):`` inside the
      transformed function: leaving the block raises ``ValueError`` naming
      every pattern that matched no parameter created in it. It changes only
      the initializer: Haiku still names, shapes and stores the parameter.

    Example:
      >>> import haiku as hk, jax, jax.numpy as jnp
      >>> def f(x, h):
      ...     with creator({"*/linear_1/w": alpha_identity(0.5)}):
      ...         return hk.VanillaRNN(3)(x, h)
      >>> params = hk.transform(f).init(jax.random.key(0), jnp.ones((1, 2)), jnp.ones((1, 3)))
      >>> params["vanilla_rnn/linear_1"]["w"].diagonal().tolist()
      [0.5, 0.5, 0.5]
      >>> def typo(x, h):
      ...     with creator({"*/linear_2/w": alpha_identity(0.5)}):
      ...         return hk.VanillaRNN(3)(x, h)
      >>> hk.transform(typo).init(jax.random.key(0), jnp.ones((1, 2)), jnp.ones((1, 3)))
      Traceback (most recent call last):
      ...
      ValueError: initializer patterns ['*/linear_2/w'] matched no parameter created in ...
    """
    if not isinstance(initializers, Mapping):
        raise TypeError(
            f"initializers must be a dict of name pattern -> initializer, got {initializers!r}"
        )
    table: list[tuple[str, hk.initializers.Initializer]] = []
    for pattern, init in initializers.items():
        if not isinstance(pattern, str):
            raise TypeError(f"initializer patterns must be strings, got {pattern!r}")
        if not callable(init):
            raise TypeError(f"the initializer for {pattern!r} must be callable, got {init!r}")
        table.append((pattern, init))
    if not table:
        raise ValueError("initializers must map at least one name pattern to an initializer")
    return Creator(tuple(table))
