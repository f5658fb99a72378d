"""Transfer (activation) functions, named so that a config stays hashable.

A :class:`~jaxinit.Config` stores the transfer function by name; this module
turns the name into a JAX function. PsychRNN stores the TensorFlow function
itself (``tf.nn.relu`` by default); the names below match the ``__name__`` of
the TensorFlow functions so a PsychRNN callable maps onto its JAX twin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias

import jax
import jax.numpy as jnp

from jaxinit._src.names import TransferFunctionName

#: A transfer function: one JAX array in, one of the same shape out.
TransferFunction: TypeAlias = Callable[[jax.Array], jax.Array]


def _identity(x: jax.Array) -> jax.Array:
    return x


def _retanh(x: jax.Array) -> jax.Array:
    # Rectified tanh, common in cortical RNN models: 0 below 0, tanh above.
    return jax.nn.relu(jnp.tanh(x))


#: The transfer functions by name (PsychRNN's names): name to a JAX function.
TRANSFER_FUNCTIONS: dict[str, TransferFunction] = {
    "relu": jax.nn.relu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus,
    "elu": jax.nn.elu,
    "identity": _identity,
    "retanh": _retanh,
}


def transfer_function(name: TransferFunctionName) -> TransferFunction:
    """Return the JAX function for a transfer-function name.

    Args:
      name: one of ``relu`` (PsychRNN's default), ``tanh``, ``sigmoid``,
        ``softplus``, ``elu``, ``identity`` or ``retanh`` (``max(0, tanh x)``).

    Example:
      >>> import jax.numpy as jnp
      >>> transfer_function("relu")(jnp.array([-1.0, 2.0]))
      Array([0., 2.], dtype=float32)
    """
    return lookup(name)


def lookup(name: Any) -> TransferFunction:
    """:func:`transfer_function` for a name not known to be valid (raises ``ValueError``)."""
    try:
        return TRANSFER_FUNCTIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"transfer_function must be one of {sorted(TRANSFER_FUNCTIONS)}, got {name!r}"
        ) from None


def transfer_function_name(fn: str | Callable[..., object]) -> str:
    """Name of a transfer function given as a name or as a callable.

    Callables are recognised by ``__name__``, which covers TensorFlow's
    ``tf.nn.relu``, ``tf.tanh``, ``tf.nn.sigmoid``, ... as found in PsychRNN
    parameter dicts, and the functions of :data:`TRANSFER_FUNCTIONS`.
    """
    if isinstance(fn, str):
        lookup(fn)
        return fn
    for name, known in TRANSFER_FUNCTIONS.items():
        if fn is known:
            return name
    attr = getattr(fn, "__name__", None)
    if callable(fn) and isinstance(attr, str) and attr in TRANSFER_FUNCTIONS:
        return attr
    raise ValueError(
        f"transfer_function must be one of {sorted(TRANSFER_FUNCTIONS)} "
        f"(a name or a function with that __name__), got {fn!r}"
    )
