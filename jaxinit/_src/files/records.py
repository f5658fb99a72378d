"""What jaxinit records in a file: software versions, the recipe, the metadata entry.

The metadata entry (``jaxinit/metadata``) is JSON; :func:`make_metadata`
writes it and :func:`~jaxinit._src.files.metadata.parse_metadata` reads and
checks it. A recipe is
recorded as the initializer's name, the config's fields, the key's PRNG
implementation and raw ``uint32`` data, and the names of the given arrays
(which are stored as entries of their own).
"""

from __future__ import annotations

import dataclasses
import json
import platform
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.files.layout import FORMAT_NAME, FORMAT_VERSION, SPARSE_FORMAT_VERSION
from jaxinit._src.params import Params
from jaxinit._src.recipe import Recipe
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.transfer import transfer_function_name
from jaxinit._src.version import __version__


def versions() -> dict[str, str]:
    """Versions of the software that decides the values of a network.

    Returns:
      A dict with the versions of ``jaxinit``, ``jax``, ``jaxlib``, ``numpy``
      and ``python``, and the JAX ``backend`` (``cpu``, ``gpu``, ``tpu``).

    Example:
      >>> sorted(versions())
      ['backend', 'jax', 'jaxinit', 'jaxlib', 'numpy', 'python']
    """
    import jaxlib

    return {
        "jaxinit": __version__,
        "jax": jax.__version__,
        "jaxlib": getattr(jaxlib, "__version__", "unknown"),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "backend": jax.default_backend(),
    }


def key_record(key: jax.Array) -> dict[str, Any]:
    """A JSON record of a concrete PRNG key: implementation, data, typed or raw.

    Example:
      >>> key_record(jax.random.key(0))
      {'impl': 'threefry2x32', 'data': [0, 0], 'typed': True}
    """
    checks.check_key(key)
    if checks.is_traced(key):
        raise TypeError("key must be a concrete JAX PRNG key, not a value traced in jax.jit")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        spec = jax.random.key_impl(key)  # a name, or a PRNGSpec in older JAX
        impl = getattr(getattr(spec, "_impl", spec), "name", None) or str(spec)
        data = np.asarray(jax.random.key_data(key))
        typed = True
    else:  # a raw uint32 key from jax.random.PRNGKey uses the default implementation
        # jax.config declares no attributes for its flags; they are set at run time
        impl = str(jax.config.jax_default_prng_impl)  # type: ignore[attr-defined]
        data = np.asarray(key)
        typed = False
    return {"impl": impl, "data": data.astype(np.uint32).tolist(), "typed": typed}


def rebuild_key(impl: str | None, data: npt.ArrayLike, typed: bool) -> jax.Array:
    """The key recorded by :func:`key_record` (typed, or raw if it was raw).

    Example:
      >>> key = jax.random.key(3)
      >>> again = rebuild_key(**key_record(key))
      >>> bool((jax.random.key_data(again) == jax.random.key_data(key)).all())
      True
    """
    key = jax.random.wrap_key_data(jnp.asarray(np.asarray(data, dtype=np.uint32)), impl=impl)
    return key if typed else jax.random.key_data(key)


def recipe_record(recipe: Recipe) -> dict[str, Any]:
    """The JSON record of a :class:`~jaxinit.Recipe` (its given arrays go in entries)."""
    return {
        "initializer": recipe.initializer,
        "config": dataclasses.asdict(recipe.config),
        "key": key_record(recipe.key),
        "given": sorted(recipe.given),
    }


def check_consistent(params: Params, config: Config) -> None:
    """Catch a config that cannot have made ``params`` (wrong sizes or options)."""
    sizes = {"N_in": params.N_in, "N_rec": params.N_rec, "N_out": params.N_out}
    for name, size in sizes.items():
        if getattr(config, name) != size:
            raise ValueError(
                f"config.{name}={getattr(config, name)} does not match params ({name}={size}); "
                "pass the config that made these params"
            )
    for name in ("dale_ratio", "transfer_function"):
        if getattr(config, name) != getattr(params, name):
            raise ValueError(
                f"config.{name}={getattr(config, name)!r} does not match "
                f"params.{name}={getattr(params, name)!r}"
            )
    dtype = np.dtype(params.W_rec.dtype).name
    if config.dtype != dtype:
        raise ValueError(f"config.dtype={config.dtype!r} does not match the params' dtype {dtype}")


def make_metadata(
    params: Params | SparseParams, digests: Mapping[str, str], record: dict[str, Any] | None
) -> npt.NDArray[np.str_]:
    """The ``jaxinit/metadata`` entry for a network, its entry digests and its recipe.

    A :class:`~jaxinit.sparse.SparseParams` gets a row-sparse record (format
    3, ``"layout": "row_sparse"``); it has no digests and no recipe.
    """
    sparse = isinstance(params, SparseParams)
    if sparse and (digests or record is not None):
        raise ValueError("a row-sparse file records no entry digests and no recipe")
    metadata: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": SPARSE_FORMAT_VERSION if sparse else FORMAT_VERSION,
        "params": {
            "dtype": np.dtype(params.W_rec.dtype).name,
            "dale_ratio": None if params.dale_ratio is None else float(params.dale_ratio),
            "transfer_function": transfer_function_name(params.transfer_function),
            "N_in": int(params.N_in),
            "N_rec": int(params.N_rec),
            "N_out": int(params.N_out),
        },
        "versions": versions(),
        "provenance": record,
    }
    if sparse:
        metadata["layout"] = "row_sparse"
    else:
        metadata["entries"] = dict(digests)
    return np.asarray(json.dumps(metadata, sort_keys=True))
