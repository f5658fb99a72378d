"""``Recipe``: how a network is made (initializer, key, config, given arrays).

A recipe is the one object that describes a network and makes it: its
:meth:`Recipe.build` runs the initializer, and :func:`~jaxinit.save_npz`
given a recipe saves the network it builds together with the recipe itself.
So a saved recipe cannot disagree with the saved network.
"""

from __future__ import annotations

import dataclasses
import types
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.names import PSYCHRNN_NAMES, InitializerName
from jaxinit._src.network import (
    NETWORK_INITIALIZERS,
    NetworkInitializer,
    UnregulatedSpectrumWarning,
    initializer_name,
)
from jaxinit._src.params import Params
from jaxinit._src.typing import PRNGKey


def _frozen_given(given: Mapping[str, Any]) -> Mapping[str, npt.NDArray[Any]]:
    """Read-only numpy copies of the given arrays (the caller's are untouched)."""
    if not isinstance(given, Mapping):
        raise TypeError(f"given must be a dict of arrays, got {type(given).__name__}")
    out: dict[str, npt.NDArray[Any]] = {}
    for name, value in given.items():
        if name not in PSYCHRNN_NAMES:
            raise TypeError(
                f"unknown array {name!r} in given; the arrays an initializer accepts are "
                f"{', '.join(PSYCHRNN_NAMES)}"
            )
        if value is None:
            continue
        if checks.is_traced(value):
            raise TypeError(f"given[{name!r}] must be a concrete array, not a traced value")
        array = np.array(value)
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
        ):
            raise TypeError(f"given[{name!r}] must be an array of numbers, got {array.dtype}")
        if np.issubdtype(array.dtype, np.complexfloating):
            raise TypeError(f"given[{name!r}] must be real, got dtype {array.dtype}")
        array.setflags(write=False)
        out[name] = array
    return types.MappingProxyType(out)


@dataclasses.dataclass(frozen=True, eq=False)
class Recipe:
    """How a network is made: ``initializer(key, config, **given)``.

    Attributes:
      initializer: the name of a network initializer (the function itself is
        accepted and stored by name).
      key: a concrete JAX PRNG key.
      config: a :class:`~jaxinit.Config`.
      given: arrays passed as ``**given`` (read-only numpy copies).

    :meth:`build` makes the network, once: the result is kept, so calling it
    again (or saving the recipe) costs nothing. Pass the recipe to
    :func:`~jaxinit.save_npz` to save the network with the recipe that
    reproduces it.

    Example:
      >>> import jax, jaxinit
      >>> r = Recipe("alpha_identity", jax.random.key(0),
      ...            jaxinit.Config(N_in=1, N_rec=3, N_out=1, alpha=0.5))
      >>> r.build().W_rec.diagonal().tolist()
      [0.5, 0.5, 0.5]
      >>> r.build() is r.build()
      True
    """

    initializer: InitializerName
    key: PRNGKey
    config: Config
    given: Mapping[str, npt.NDArray[Any]] = dataclasses.field(default_factory=dict)

    if TYPE_CHECKING:
        # The network once built, set with object.__setattr__ in __post_init__ and
        # build; declared only for the type checker, so that it is no dataclass field.
        _built: ClassVar[Params | None]

    def __post_init__(self) -> None:
        object.__setattr__(self, "initializer", initializer_name(self.initializer))
        checks.check_key(self.key)
        if checks.is_traced(self.key):
            raise TypeError("key must be a concrete JAX PRNG key, not a value traced in jax.jit")
        if not isinstance(self.config, Config):
            raise TypeError(f"config must be a jaxinit.Config, got {type(self.config).__name__}")
        object.__setattr__(self, "given", _frozen_given(self.given))
        object.__setattr__(self, "_built", None)

    @property
    def function(self) -> NetworkInitializer:
        """The initializer function."""
        return NETWORK_INITIALIZERS[self.initializer]

    def build(self, *, quiet: bool = False) -> Params:
        """The network this recipe makes (made on the first call, then kept).

        ``quiet=True`` silences :class:`~jaxinit.UnregulatedSpectrumWarning`
        (for re-making a network whose warning was already given).
        """
        if self._built is None:
            with warnings.catch_warnings():
                if quiet:
                    warnings.simplefilter("ignore", UnregulatedSpectrumWarning)
                built = self.function(self.key, self.config, **self.given)
            object.__setattr__(self, "_built", built)
            return built
        return self._built

    def __repr__(self) -> str:
        given = ", ".join(sorted(self.given)) or "none"
        return f"Recipe({self.initializer}, config={self.config!r}, given: {given})"
