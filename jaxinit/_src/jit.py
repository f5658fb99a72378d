"""``jaxinit.jit``: ``jax.jit`` that gives jaxinit's value errors back as they are."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, cast, overload

import jax

from jaxinit._src.runtime_checks import failed_check

_P = ParamSpec("_P")
_R = TypeVar("_R")
_R_co = TypeVar("_R_co", covariant=True)


class Jitted(Protocol, Generic[_P, _R_co]):
    """What :func:`jit` returns: the function, compiled, with ``jax.jit``'s ``lower``."""

    lower: Callable[..., jax.stages.Lowered]

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...


@overload
def jit(fun: Callable[_P, _R], **jit_kwargs: Any) -> Jitted[_P, _R]: ...


@overload
def jit(
    fun: None = None, **jit_kwargs: Any
) -> Callable[[Callable[_P, _R]], Jitted[_P, _R]]: ...


def jit(
    fun: Callable[_P, _R] | None = None, **jit_kwargs: Any
) -> Jitted[_P, _R] | Callable[[Callable[_P, _R]], Jitted[_P, _R]]:
    """``jax.jit(fun, **jit_kwargs)`` whose failed jaxinit checks raise ``ValueError``.

    Under a plain ``jax.jit`` a value check that fails while the program runs
    (a spectral radius of 0, a mask entry that is not 0/1, a non-finite given
    array) reaches you as ``jax.errors.JaxRuntimeError: INTERNAL: CpuCallback
    error ...`` with the message at the end. A function compiled with
    ``jaxinit.jit`` raises the original ``ValueError`` with the eager message
    instead (the ``JaxRuntimeError`` is not chained to it). Other errors pass
    through unchanged. The call waits for its results (``block_until_ready``)
    so that an error is raised by the call itself. Usable as a decorator, with
    or without keyword arguments (``static_argnames=...`` and the rest of
    ``jax.jit``'s options).

    Example:
      >>> import jax, jax.numpy as jnp, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=3, N_out=1)
      >>> make = jaxinit.jit(lambda key, w: jaxinit.gaussian_spectral_radius(key, cfg, W_rec=w))
      >>> make(jax.random.key(0), jnp.zeros((3, 3)))
      Traceback (most recent call last):
      ...
      ValueError: the spectral radius of W_rec is 0.0; it must be finite and positive ...
    """
    if fun is None:
        decorator = functools.partial(jit, **jit_kwargs)
        return cast(Callable[[Callable[_P, _R]], Jitted[_P, _R]], decorator)
    jitted = jax.jit(fun, **jit_kwargs)

    @functools.wraps(fun)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            # jax.block_until_ready carries no annotations.
            result: _R = jax.block_until_ready(jitted(*args, **kwargs))  # type: ignore[no-untyped-call]
            return result
        except jax.errors.JaxRuntimeError as err:
            message = failed_check(str(err))
            if message is None:
                raise
            raise ValueError(message) from None

    compiled = cast(Jitted[_P, _R], run)
    compiled.lower = jitted.lower  # ahead-of-time use, as with jax.jit
    return compiled
