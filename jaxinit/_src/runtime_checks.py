"""Value checks that run when a compiled program runs (under a user's jit/vmap).

Inside ``jax.jit`` the contents of an array are unknown at trace time, so a
value check is compiled into the program as a host callback that raises the
eager message when the program runs. Three details make that readable:

* Under ``jax.vmap`` the check is batched by a custom rule
  (``jax.custom_batching.custom_vmap``): one callback sees the whole batch,
  so the message names the first bad member ("member 3 of the jax.vmap
  batch"), also for nested vmaps.
* JAX wraps an exception raised in a callback into ``JaxRuntimeError:
  INTERNAL: CpuCallback error ...`` with JAX's own frames first and the
  message last, and logs the same traceback to stderr. The log record of a
  jaxinit check is dropped (a filter on JAX's callback logger that matches
  :class:`JaxinitValueError` only); the wrapping itself cannot be changed.
* :func:`jaxinit.jit` (``jaxinit/_src/jit.py``) catches that wrapper and
  re-raises the original ``ValueError`` with the eager message;
  :func:`failed_check` finds it.
"""

from __future__ import annotations

import collections
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.experimental import io_callback


class JaxinitValueError(ValueError):
    """A jaxinit value check failed while a compiled program ran (a ``ValueError``)."""


# The most recent failures, newest last, so that jaxinit.jit can give the
# original error back. A handful is enough: a failing program stops at once.
_RECENT: collections.deque[str] = collections.deque(maxlen=32)
_LOCK = threading.Lock()


class _DropJaxinitChecks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        info = record.exc_info
        return not (info and isinstance(info[1], JaxinitValueError))


logging.getLogger("jax._src.callback").addFilter(_DropJaxinitChecks())


def failed_check(text: str) -> str | None:
    """The message of the newest jaxinit check failure that ``text`` contains."""
    with _LOCK:
        recent = list(_RECENT)
    for message in reversed(recent):
        if message in text:
            return message
    return None


def _first_bad_member(ok: npt.NDArray[Any], depth: int) -> tuple[int, ...] | None:
    """Index (over the ``depth`` leading member axes) of the first failing member."""
    if ok.all():
        return None
    if depth == 0:
        return ()
    per_member = ok.reshape(*ok.shape[:depth], -1).all(axis=-1)
    flat = int(np.argmin(per_member.reshape(-1)))
    return tuple(int(i) for i in np.unravel_index(flat, per_member.shape))


def _host_check(message: Callable[..., str], depth: int, ok: Any, *values: Any) -> None:
    flags = np.asarray(ok)
    where = _first_bad_member(flags, depth)
    if where is None:
        return
    text = message(*(np.asarray(v)[where] for v in values))
    if depth:
        member = where[0] if depth == 1 else where
        text = f"{text} (member {member} of the jax.vmap batch)"
    with _LOCK:
        _RECENT.append(text)
    raise JaxinitValueError(text)


@functools.cache
def _checker(depth: int) -> Callable[..., jax.Array]:
    """The check for values with ``depth`` vmapped member axes in front."""

    @jax.custom_batching.custom_vmap
    def check(message_box: _MessageBox, ok: jax.Array, *operands: jax.Array) -> jax.Array:
        # An unordered io_callback has an effect, so the compiler keeps it.
        callback = functools.partial(_host_check, message_box.message, depth)
        io_callback(callback, None, ok, *operands, ordered=False)
        return ok

    @check.def_vmap
    def rule(
        axis_size: int,
        in_batched: list[bool],
        message_box: _MessageBox,
        ok: jax.Array,
        *operands: jax.Array,
    ) -> tuple[jax.Array, bool]:
        def batched(x: jax.Array, was_batched: bool) -> jax.Array:
            return x if was_batched else jnp.broadcast_to(x, (axis_size, *jnp.shape(x)))

        ok = batched(ok, in_batched[1])
        stacked = [batched(x, b) for x, b in zip(operands, in_batched[2:], strict=True)]
        return _checker(depth + 1)(message_box, ok, *stacked), True

    return check


class _MessageBox:
    """Carries the message function through custom_vmap as an opaque leaf-free pytree."""

    def __init__(self, message: Callable[..., str]) -> None:
        self.message = message


jax.tree_util.register_pytree_node(
    _MessageBox, lambda box: ((), box.message), lambda message, _: _MessageBox(message)
)


def require_at_run_time(ok: Any, message: Callable[..., str], operands: tuple[Any, ...]) -> None:
    """Compile the check ``all(ok)`` into the program; on failure raise
    ``message(*operands)`` (numpy values of the first bad member) when it runs."""
    _checker(0)(_MessageBox(message), jnp.asarray(ok), *(jnp.asarray(o) for o in operands))
