"""Provenance: the recipe a jaxinit file records, and making its network again.

:func:`~jaxinit.save_npz` given a :class:`~jaxinit.Recipe` records the
initializer, config, key and given arrays, with the versions of jaxinit,
JAX, jaxlib and NumPy, in entries that PsychRNN ignores.
:func:`read_provenance` returns that record (its :attr:`Provenance.recipe`
is a ``Recipe`` again) and :func:`reproduce` builds the recipe and says
whether the result is bitwise identical to the file.

JAX does not promise the same random numbers across releases (nor identical
eigenvalue routines across backends), so a file made with another JAX version
may fail to reproduce although nothing is wrong with it; :func:`reproduce`
says so plainly in that case.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from jaxinit._src.config import Config
from jaxinit._src.files import limits, loading, records
from jaxinit._src.files.archive import as_path
from jaxinit._src.files.errors import NoRecipeError, NpzError
from jaxinit._src.files.layout import METADATA_KEY
from jaxinit._src.names import ARRAY_FIELDS
from jaxinit._src.network import initializer_name
from jaxinit._src.params import Params
from jaxinit._src.recipe import Recipe
from jaxinit._src.version import __version__

#: How to make a file reproducible, for messages.
HOW_TO_SAVE_A_RECIPE = (
    "save it with jaxinit.save_npz(path, jaxinit.Recipe(initializer, key, config)) to make "
    "it reproducible"
)


@dataclasses.dataclass(frozen=True, eq=False)
class Provenance:
    """What a jaxinit file says about how its network was made.

    Attributes:
      initializer: name of the jaxinit initializer (``"gaussian_spectral_radius"``,
        ``"alpha_identity"`` or ``"weight_initializer"``), or None when the file
        was saved without a recipe.
      config: the :class:`~jaxinit.Config` passed to it, or None.
      key_impl: name of the PRNG implementation (``"threefry2x32"``, ...), or None.
      key_data: the key's raw ``uint32`` data (``jax.random.key_data``), or None.
      key_typed: True for a typed key (``jax.random.key``), False for a raw
        ``jax.random.PRNGKey`` array.
      given: the arrays that were passed to the initializer (name to array).
      versions: versions of jaxinit, jax, jaxlib, numpy, python and the JAX
        backend when the file was written.
      edited: the PsychRNN entries changed after jaxinit wrote the file; when
        not empty the recipe no longer describes the file.
    """

    initializer: str | None
    config: Config | None
    key_impl: str | None
    key_data: np.ndarray | None
    key_typed: bool
    given: Mapping[str, np.ndarray]
    versions: Mapping[str, str]
    edited: tuple[str, ...] = ()

    @property
    def has_recipe(self) -> bool:
        """Whether the initializer, key and config were recorded."""
        return self.initializer is not None

    @property
    def key(self):
        """The recorded key, rebuilt (a typed key, or a raw one if it was raw)."""
        if self.key_data is None:
            return None
        return records.rebuild_key(self.key_impl, self.key_data, self.key_typed)

    @functools.cached_property
    def recipe(self) -> Recipe | None:
        """The recorded :class:`~jaxinit.Recipe`, or None when none was recorded."""
        if not self.has_recipe:
            return None
        return Recipe(self.initializer, self.key, self.config, dict(self.given))

    def regenerate(self) -> Params:
        """Build the recorded recipe (without repeating its spectrum warning)."""
        if not self.has_recipe:
            raise ValueError(f"this file records no recipe; {HOW_TO_SAVE_A_RECIPE}")
        return self.recipe.build(quiet=True)


def _recipe_parts(path: str, recipe: Mapping[str, Any], given: Mapping) -> tuple:
    try:
        name = initializer_name(recipe["initializer"])
        fields = dict(recipe["config"])
        known = {f.name for f in dataclasses.fields(Config)}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise ValueError(
                f"the recorded config has fields {unknown} that this jaxinit {__version__} "
                "does not know (the file was written by a newer jaxinit)"
            )
        config = Config(**fields)
        key = recipe["key"]
        key_data = np.asarray(key["data"], dtype=np.uint32)
        impl, typed = str(key["impl"]), bool(key["typed"])
        names = [str(n) for n in recipe.get("given", [])]
    except (KeyError, TypeError, ValueError) as err:
        raise NpzError(path, METADATA_KEY, f"records a recipe that is unusable: {err}") from err
    lacking = [n for n in names if n not in given]
    if lacking:
        raise NpzError(path, None, f"the given array(s) {lacking} named in its recipe are missing")
    key_data.setflags(write=False)
    return name, config, impl, key_data, typed, names


def provenance_from_contents(path: str, contents: loading.FileContents) -> Provenance:
    """The :class:`Provenance` of a jaxinit file read by ``read_file``."""
    metadata = contents.metadata
    file_versions = types.MappingProxyType(dict(metadata.get("versions") or {}))
    recipe = metadata.get("provenance")
    if recipe is None:
        empty = types.MappingProxyType({})
        return Provenance(None, None, None, None, True, empty, file_versions, contents.edited)
    name, config, impl, key_data, typed, names = _recipe_parts(path, recipe, contents.given)
    frozen = {}
    for n in names:
        array = np.array(contents.given[n])
        array.setflags(write=False)
        frozen[n] = array
    given = types.MappingProxyType(frozen)
    return Provenance(name, config, impl, key_data, typed, given, file_versions, contents.edited)


def read_provenance(path, *, max_bytes=None) -> Provenance | None:
    """Read the provenance recorded in a file written by :func:`~jaxinit.save_npz`.

    Args:
      path: the ``.npz`` file.
      max_bytes: bounds what is read, as for :func:`~jaxinit.load_npz`
        (None: 2 GiB).

    Returns:
      A :class:`Provenance`, or None for a file jaxinit did not write (for
      example one written by PsychRNN). Its ``initializer``, ``config``, key
      and ``recipe`` are None when the file was saved without a recipe.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, dale_ratio=0.75)
      >>> recipe = jaxinit.Recipe("gaussian_spectral_radius", jax.random.key(3), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     prov = jaxinit.read_provenance(jaxinit.save_npz(os.path.join(tmp, "n"), recipe))
      >>> prov.initializer, prov.recipe.config == cfg, prov.key_impl
      ('gaussian_spectral_radius', True, 'threefry2x32')
    """
    path = as_path("path", path)
    contents = loading.read_file(path, max_bytes=max_bytes)
    if contents.metadata is None:
        return None
    return provenance_from_contents(path, contents)


@dataclasses.dataclass(frozen=True, eq=False)
class Reproduction:
    """The outcome of :func:`reproduce`.

    Attributes:
      matches: True when every array, ``dale_ratio`` and ``transfer_function``
        of the regenerated network is bitwise identical to the file's.
      mismatched: names of the fields that differ (``Params`` field names).
      max_abs_diff: for each mismatched array of equal shape, the largest
        absolute difference.
      versions_then: versions recorded in the file.
      versions_now: versions in use now.
      message: a sentence or two saying what happened, for people.
      params: the network read from the file.
      regenerated: the network made again from the recorded recipe.
      recipe: the recorded :class:`~jaxinit.Recipe`.
    """

    matches: bool
    mismatched: tuple[str, ...]
    max_abs_diff: Mapping[str, float]
    versions_then: Mapping[str, str]
    versions_now: Mapping[str, str]
    message: str
    params: Params
    regenerated: Params
    recipe: Recipe | None = None

    def __str__(self) -> str:
        return self.message


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def compare(params: Params, other: Params) -> tuple[tuple[str, ...], dict[str, float]]:
    """Fields of two single networks that are not bitwise identical, and by how much."""
    mismatched, diffs = [], {}
    for name in ARRAY_FIELDS:
        a, b = np.asarray(getattr(params, name)), np.asarray(getattr(other, name))
        if not _same_bits(a, b):
            mismatched.append(name)
            if a.shape == b.shape:
                diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
                diffs[name] = float(np.max(diff)) if diff.size else 0.0
    for name in ("dale_ratio", "transfer_function"):
        if getattr(params, name) != getattr(other, name):
            mismatched.append(name)
    return tuple(mismatched), diffs


def _version_changes(then: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    return [
        f"{name} {then.get(name, 'unknown')} then, {now[name]} now"
        for name in ("jax", "jaxlib", "backend", "jaxinit", "numpy")
        if then.get(name) != now[name]
    ]


def _message(path, name, mismatched, diffs, then, now) -> str:
    changes = _version_changes(then, now)
    if not mismatched:
        text = (
            f"{path}: {name} on the recorded key and config gives exactly the file's network "
            "(bitwise identical)."
        )
        if changes:
            text += " This holds although the software changed: " + "; ".join(changes) + "."
        return text
    parts = [f"{f} (largest |difference| {diffs[f]:.3g})" if f in diffs else f for f in mismatched]
    text = (
        f"{path}: {name} on the recorded key and config does NOT reproduce the file: "
        f"{', '.join(parts)} differ."
    )
    return text + _why(then, now, changes)


def _why(then, now, changes) -> str:
    if then.get("jax") != now["jax"] or then.get("jaxlib") != now["jaxlib"]:
        return (
            f" The file was written with jax {then.get('jax', 'unknown')} / jaxlib "
            f"{then.get('jaxlib', 'unknown')} and this is jax {now['jax']} / jaxlib "
            f"{now['jaxlib']}. JAX does not promise the same random numbers across releases, "
            "so the difference may come from the upgrade alone; install the recorded versions "
            "to check."
        )
    if changes:
        return (
            " The software changed since the file was written ("
            + "; ".join(changes)
            + "); eigenvalue routines (used for the spectral radius) can differ between "
            "backends and versions."
        )
    return (
        " The versions are the same as when the file was written, so the arrays were "
        "changed after they were made (for example trained or edited), or the recorded "
        "recipe is not the one that made them."
    )


def _recorded_recipe(path: str, contents: loading.FileContents) -> Provenance:
    """The file's provenance, or :class:`~jaxinit.NoRecipeError` when it has no usable recipe."""
    if contents.metadata is None:
        raise NoRecipeError(
            path, None, f"records no recipe (it was not written by jaxinit); {HOW_TO_SAVE_A_RECIPE}"
        )
    prov = provenance_from_contents(path, contents)
    if not prov.has_recipe:
        raise NoRecipeError(
            path, None, f"records no recipe (it was saved from bare Params); {HOW_TO_SAVE_A_RECIPE}"
        )
    if prov.edited:
        raise NoRecipeError(
            path,
            None,
            f"its PsychRNN entries {', '.join(prov.edited)} were changed after jaxinit wrote "
            "it, so the recipe it records no longer describes it; save the network again "
            "to record what it is now",
        )
    return prov


def network_bytes(config: Config) -> int:
    """Bytes of the arrays of the network ``config`` describes (masks included).

    Example:
      >>> network_bytes(Config(N_in=1, N_rec=2, N_out=1))  # float32: 25 numbers
      100
    """
    n_in, n_rec, n_out = config.N_in, config.N_rec, config.N_out
    matrices = n_rec * n_in + n_rec * n_rec + n_out * n_rec
    vectors = 4 * n_rec + n_out  # b_rec, init_state, two Dale diagonals; b_out
    return (
        2 * matrices * np.dtype(config.dtype).itemsize + vectors * np.dtype(config.dtype).itemsize
    )


def _check_recipe_size(path: str, config: Config, budget: int) -> None:
    nbytes = network_bytes(config)
    if nbytes > budget:
        raise NpzError(
            path,
            METADATA_KEY,
            f"records a recipe for a network of N_in={config.N_in}, N_rec={config.N_rec}, "
            f"N_out={config.N_out} ({limits.size_text(nbytes)} of arrays), more than the limit "
            f"of {limits.size_text(budget)}; pass a larger max_bytes= to run it",
        )


def reproduce(path, *, max_bytes=None) -> Reproduction:
    """Build the recipe a jaxinit file records and check it gives the file's network.

    The file must have been written by :func:`~jaxinit.save_npz` from a
    :class:`~jaxinit.Recipe`. The recipe is built again
    (``recipe.build(quiet=True)``) and every field is compared bit for bit.

    A recorded recipe is only run when the network it makes is no bigger
    than ``max_bytes``, so a file cannot make jaxinit build a network of any
    size it likes.

    Args:
      path: the ``.npz`` file.
      max_bytes: the most bytes of array data to read from the file and to
        let the recorded recipe make (None: 2 GiB, as for
        :func:`~jaxinit.load_npz`).

    Returns:
      A :class:`Reproduction` with ``matches``, ``mismatched``, the versions
      then and now, and a readable ``message``. When the JAX version differs
      from the recorded one the message says that JAX does not promise the
      same random numbers across releases.

    Raises:
      NoRecipeError: (an ``NpzError``) the file records no recipe: a PsychRNN
        file, a jaxinit file saved from bare ``Params``, or one whose
        PsychRNN entries were edited after saving.
      NpzError: the file cannot be read, or its recipe cannot be run, or
        the network it would make is bigger than ``max_bytes``.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, alpha=0.9)
      >>> recipe = jaxinit.Recipe(jaxinit.alpha_identity, jax.random.key(0), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     result = jaxinit.reproduce(jaxinit.save_npz(os.path.join(tmp, "net"), recipe))
      >>> result.matches, result.mismatched
      (True, ())
    """
    path = as_path("path", path)
    budget = limits.max_bytes_value(max_bytes)
    contents = loading.read_file(path, max_bytes=budget)
    prov = _recorded_recipe(path, contents)
    _check_recipe_size(path, prov.config, budget)
    try:
        regenerated = prov.regenerate()
    except (TypeError, ValueError) as err:
        raise NpzError(
            path, METADATA_KEY, f"running the recorded {prov.initializer} failed: {err}"
        ) from err
    mismatched, diffs = compare(contents.params, regenerated)
    now = records.versions()
    then = dict(prov.versions)
    return Reproduction(
        matches=not mismatched,
        mismatched=mismatched,
        max_abs_diff=types.MappingProxyType(diffs),
        versions_then=types.MappingProxyType(then),
        versions_now=types.MappingProxyType(now),
        message=_message(path, prov.initializer, mismatched, diffs, then, now),
        params=contents.params,
        regenerated=regenerated,
        recipe=prov.recipe,
    )
