"""Type aliases shared by jaxinit's annotations.

They are plain aliases of JAX's (and numpy's) own types: they cost nothing at
run time, and a type checker reads them as the types they stand for. The names
say what a value is for (a PRNG key is a ``jax.Array`` too).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import jax
import jax.typing
import numpy.typing as npt

#: Anything JAX converts to an array implicitly: a JAX or numpy array, a
#: numpy scalar or a Python bool, int, float or complex (no lists, no strings).
ArrayLike: TypeAlias = jax.typing.ArrayLike

#: Anything ``jnp.dtype`` accepts: a name (``"float32"``), a numpy or JAX
#: scalar type (``jnp.float32``) or a ``numpy.dtype``.
DTypeLike: TypeAlias = jax.typing.DTypeLike

#: An array that is concrete on the host (numpy) or a JAX array (maybe traced).
HostOrDeviceArray: TypeAlias = npt.NDArray[Any] | jax.Array

#: A single JAX PRNG key. jaxinit accepts both kinds JAX makes: a typed key
#: from ``jax.random.key(seed)`` (shape ``()``, a key dtype) and a legacy raw
#: key from ``jax.random.PRNGKey(seed)`` (a ``uint32`` array of shape ``(2,)``,
#: or the data shape of another implementation). Both are ``jax.Array`` s.
PRNGKey: TypeAlias = jax.Array
