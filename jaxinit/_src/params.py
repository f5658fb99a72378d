"""``Params``: the frozen pytree an initializer returns."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import jax
import jax.numpy as jnp

from jaxinit._src.names import ARRAY_FIELDS
from jaxinit._src.transfer import TransferFunction, lookup

_T = TypeVar("_T")


def static_field(default: _T) -> _T:
    # The field's value is pytree metadata, not a leaf (see register_dataclass).
    field: _T = dataclasses.field(default=default, metadata={"static": True})
    return field


@dataclasses.dataclass(frozen=True, eq=False)
class Params:
    """Masks, weights and state of one recurrent network (or a batch of them).

    A frozen dataclass registered as a JAX pytree: the arrays are leaves, so
    ``Params`` passes through ``jax.jit``, ``jax.vmap``, ``jax.tree.map`` and
    optimizers; ``dale_ratio`` and ``transfer_function`` are static metadata.
    Shapes follow PsychRNN (``W_rec @ state``); an ensemble adds leading axes
    to every array.

    Attributes:
      W_in: ``(N_rec, N_in)`` input weights (raw, before masks and Dale).
      W_rec: ``(N_rec, N_rec)`` recurrent weights (raw).
      W_out: ``(N_out, N_rec)`` output weights (raw).
      b_rec: ``(N_rec,)`` recurrent bias.
      b_out: ``(N_out,)`` output bias.
      init_state: ``(N_rec,)`` initial state.
      input_connectivity, rec_connectivity, output_connectivity: 0/1 masks of
        the shapes of ``W_in``, ``W_rec``, ``W_out``.
      dale_rec_diag: ``(N_rec,)`` diagonal of ``Dale_rec``: +1 excitatory,
        -1 inhibitory (all +1 without Dale's law).
      dale_out_diag: ``(N_rec,)`` diagonal of ``Dale_out``: 1 for units that
        reach the output, 0 for inhibitory ones (all 1 without Dale's law).
      dale_ratio: fraction of excitatory units, or None (static).
      transfer_function: name of the transfer function (static).
    """

    W_in: jax.Array
    W_rec: jax.Array
    W_out: jax.Array
    b_rec: jax.Array
    b_out: jax.Array
    init_state: jax.Array
    input_connectivity: jax.Array
    rec_connectivity: jax.Array
    output_connectivity: jax.Array
    dale_rec_diag: jax.Array
    dale_out_diag: jax.Array
    dale_ratio: float | None = static_field(None)
    transfer_function: str = static_field("relu")

    @property
    def N_in(self) -> int:
        return self.W_in.shape[-1]

    @property
    def N_rec(self) -> int:
        return self.W_rec.shape[-1]

    @property
    def N_out(self) -> int:
        return self.W_out.shape[-2]

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading (ensemble) axes: ``()`` for a single network."""
        return tuple(self.W_rec.shape[:-2])

    @property
    def dale(self) -> bool:
        """Whether Dale's law is applied (``dale_ratio is not None``)."""
        return self.dale_ratio is not None

    @property
    def Dale_rec(self) -> jax.Array:
        """PsychRNN's diagonal ``(N_rec, N_rec)`` +1/-1 matrix, built on demand."""
        return _diag(self.dale_rec_diag)

    @property
    def Dale_out(self) -> jax.Array:
        """PsychRNN's diagonal ``(N_rec, N_rec)`` 1/0 matrix, built on demand."""
        return _diag(self.dale_out_diag)

    @property
    def transfer(self) -> TransferFunction:
        """The JAX transfer function named by ``transfer_function``."""
        return lookup(self.transfer_function)

    def arrays(self) -> dict[str, jax.Array]:
        """The array fields as a dict (field name to array)."""
        return {name: getattr(self, name) for name in ARRAY_FIELDS}

    def replace(self, **changes: Any) -> Params:
        """A copy with some fields replaced.

        A replaced array must have the shape of the array it replaces (a
        ``ValueError`` names the field otherwise); its values are not checked.

        Example:
          >>> import jax, jax.numpy as jnp, jaxinit
          >>> p = jaxinit.alpha_identity(
          ...     jax.random.key(0), jaxinit.Config(N_in=1, N_rec=3, N_out=1, alpha=1.0))
          >>> p.replace(b_rec=jnp.ones(3)).b_rec.tolist()
          [1.0, 1.0, 1.0]
        """
        for name, value in changes.items():
            if name not in ARRAY_FIELDS:
                continue
            old, new = getattr(self, name), getattr(value, "shape", None)
            if new is None or tuple(new) != tuple(old.shape):
                raise ValueError(
                    f"{name} must keep its shape {tuple(old.shape)}, got "
                    f"{type(value).__name__ if new is None else tuple(new)}"
                )
        return dataclasses.replace(self, **changes)

    def __repr__(self) -> str:
        def describe(x: object) -> str:
            shape = getattr(x, "shape", None)
            dtype = getattr(x, "dtype", None)
            return f"{dtype}{list(shape)}" if shape is not None else repr(x)

        inner = ", ".join(f"{n}={describe(getattr(self, n))}" for n in ARRAY_FIELDS)
        return (
            f"Params({inner}, dale_ratio={self.dale_ratio!r}, "
            f"transfer_function={self.transfer_function!r})"
        )


def _diag(vec: jax.Array) -> jax.Array:
    vec = jnp.asarray(vec)
    return vec[..., :, None] * jnp.eye(vec.shape[-1], dtype=vec.dtype)


jax.tree_util.register_dataclass(Params)
