"""Provenance: the recipe a jaxinit file records, and making its network again.

:func:`~jaxinit.save_npz` given a :class:`~jaxinit.Recipe` records the
initializer, config, key and given arrays, with the versions of jaxinit,
JAX, jaxlib and NumPy, in entries that PsychRNN ignores.
:func:`read_provenance` returns that record (its :attr:`Provenance.recipe`
is a ``Recipe`` again) and :func:`reproduce` builds the recipe and says
whether the result is the file's network: bitwise identical, or within a
tolerance of :data:`TOLERANCE_ULPS` ulp on the floating arrays (a network made
inside a caller's ``jax.jit`` can differ from the eager call in the last bits
of ``W_rec``, as XLA may fuse and constant-fold the computation differently,
and by one common factor within :func:`radius_tolerance` of 1 where an
eigenvalue solve amplified those bits into its spectral scale).
``reproduce(path, exact=True)`` demands bitwise equality.

JAX does not promise the same random numbers across releases (nor identical
eigenvalue routines across backends), so a file made with another JAX version
may fail to reproduce although nothing is wrong with it; :func:`reproduce`
says so plainly in that case.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import types
from collections.abc import Iterable, Mapping
from typing import Any, cast

import jax
import numpy as np
import numpy.typing as npt

from jaxinit._src.config import Config
from jaxinit._src.files import limits, loading, records
from jaxinit._src.files.archive import as_path
from jaxinit._src.files.errors import NoRecipeError, NpzError
from jaxinit._src.files.layout import METADATA_KEY
from jaxinit._src.names import ARRAY_FIELDS, WEIGHT_NAMES, InitializerName
from jaxinit._src.network import initializer_name
from jaxinit._src.params import Params
from jaxinit._src.recipe import Recipe
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.version import __version__

#: How to make a file reproducible, for messages.
HOW_TO_SAVE_A_RECIPE = (
    "save it with jaxinit.save_npz(path, jaxinit.Recipe(initializer, key, config)) to make "
    "it reproducible"
)

#: The tolerance of :func:`reproduce` (unless ``exact=True``), in ulp: a
#: floating array matches when ``|file - regenerated| <= TOLERANCE_ULPS * eps
#: * scale`` entry by entry, where ``eps = np.finfo(dtype).eps`` (``2**-23``
#: for float32) and ``scale`` is the largest ``|entry|`` of the two arrays.
#: ``eps * scale`` is one unit in the last place of the array's largest
#: entry (up to a factor 2), so 16 ulp is a relative error of ``1.9e-6``
#: for float32 and ``3.6e-15`` for float64 at the array's scale: room for
#: the last-bit differences of operations XLA fuses or reorders (measured
#: inside a caller's ``jax.jit``: at most 1.2 ulp once the spectral scale
#: below is taken out), far below any change a person makes (training,
#: editing).
TOLERANCE_ULPS = 16

#: The arrays :func:`reproduce` compares within :data:`TOLERANCE_ULPS`: those
#: computed in floating point. The masks and Dale signs (0, 1 and -1) and the
#: metadata (``dale_ratio``, ``transfer_function``) are always compared exactly.
TOLERANT_FIELDS = (*WEIGHT_NAMES, "b_rec", "b_out", "init_state")


def radius_tolerance(dtype: npt.DTypeLike) -> float:
    """How far from 1 the spectral scale of ``W_rec`` may be in :func:`reproduce`: ``sqrt(eps)``.

    ``gaussian_spectral_radius`` multiplies ``W_rec`` by ``spec_rad / rho``,
    where ``rho`` is an eigenvalue solve's radius. Last-bit differences in
    its input (a caller's ``jax.jit`` fuses the steps before it differently)
    move ``rho`` by up to the eigenvalue's condition number times them, and
    the whole ``W_rec`` with it: measured 41 ulp of ``W_rec``'s largest entry
    at ``N_rec=300``, growing with ``N_rec``. A solver cannot bound that
    without the condition number; ``sqrt(eps)`` is the accuracy of an
    eigenvalue next to a double one (a perturbation ``eps`` of a Jordan pair
    moves it by ``sqrt(eps)``): ``3.5e-4`` in float32, ``1.5e-8`` in float64.

    Example:
      >>> f"{radius_tolerance(np.float32):.3g}", f"{radius_tolerance(np.float64):.3g}"
      ('0.000345', '1.49e-08')
    """
    # np.dtype(dtype) as a plain dtype[Any]: finfo's stubs take only inexact dtypes, and
    # finfo itself raises ValueError for any other (as it did given ``dtype`` directly).
    resolved: np.dtype[Any] = np.dtype(dtype)
    return math.sqrt(float(np.finfo(resolved).eps))


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

    initializer: InitializerName | None
    config: Config | None
    key_impl: str | None
    key_data: npt.NDArray[np.uint32] | None
    key_typed: bool
    given: Mapping[str, npt.NDArray[Any]]
    versions: Mapping[str, str]
    edited: tuple[str, ...] = ()

    @property
    def has_recipe(self) -> bool:
        """Whether the initializer, key and config were recorded."""
        return self.initializer is not None

    @property
    def key(self) -> jax.Array | None:
        """The recorded key, rebuilt (a typed key, or a raw one if it was raw)."""
        if self.key_data is None:
            return None
        return records.rebuild_key(self.key_impl, self.key_data, self.key_typed)

    @functools.cached_property
    def recipe(self) -> Recipe | None:
        """The recorded :class:`~jaxinit.Recipe`, or None when none was recorded."""
        if self.initializer is None:  # what has_recipe tests
            return None
        # a file records the key and the config together with the initializer
        key, config = cast(jax.Array, self.key), cast(Config, self.config)
        return Recipe(self.initializer, key, config, dict(self.given))

    def regenerate(self) -> Params:
        """Build the recorded recipe (without repeating its spectrum warning)."""
        recipe = self.recipe  # None exactly when not self.has_recipe
        if recipe is None:
            raise ValueError(f"this file records no recipe; {HOW_TO_SAVE_A_RECIPE}")
        return recipe.build(quiet=True)


def _recipe_parts(
    path: str, recipe: Mapping[str, Any], given: Mapping[str, object]
) -> tuple[InitializerName, Config, str, npt.NDArray[np.uint32], bool, list[str]]:
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
    # the callers pass jaxinit files only, whose metadata is a dict
    metadata = cast(Mapping[str, Any], contents.metadata)
    file_versions = types.MappingProxyType(dict(metadata.get("versions") or {}))
    recipe = metadata.get("provenance")
    if recipe is None:
        empty: types.MappingProxyType[str, npt.NDArray[Any]] = types.MappingProxyType({})
        return Provenance(None, None, None, None, True, empty, file_versions, contents.edited)
    name, config, impl, key_data, typed, names = _recipe_parts(path, recipe, contents.given)
    frozen: dict[str, npt.NDArray[Any]] = {}
    for n in names:
        array = np.array(contents.given[n])
        array.setflags(write=False)
        frozen[n] = array
    given = types.MappingProxyType(frozen)
    return Provenance(name, config, impl, key_data, typed, given, file_versions, contents.edited)


def read_provenance(
    path: str | os.PathLike[str], *, max_bytes: int | None = None
) -> Provenance | None:
    """Read the provenance recorded in a file written by :func:`~jaxinit.save_npz`.

    Args:
      path: the ``.npz`` file.
      max_bytes: bounds what is read, as for :func:`~jaxinit.load_npz`
        (None: 2 GiB).

    Returns:
      A :class:`Provenance`, or None for a file jaxinit did not write (for
      example one written by PsychRNN). Its ``initializer``, ``config``, key
      and ``recipe`` are None when the file was saved without a recipe (as
      every row-sparse file is); its ``versions`` are always there.

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
      matches: True when the regenerated network is the file's: every array
        bitwise identical, or (unless ``reproduce(..., exact=True)``) the
        weights, biases and ``init_state`` within 16 ulp
        (``W_rec`` of ``gaussian_spectral_radius`` after one common factor
        within ``sqrt(eps)`` of 1) and all the others bitwise
        identical; ``dale_ratio`` and ``transfer_function`` always equal.
      mismatched: names of the fields that differ (``Params`` field names):
        by more than the tolerance, or at all where the comparison is exact.
      max_abs_diff: for each array that is not bitwise identical (mismatched
        or inexact) and has the file's shape, the largest absolute difference.
      versions_then: versions recorded in the file.
      versions_now: versions in use now.
      message: a sentence or two saying what happened and which comparison
        was used, for people.
      params: the network read from the file.
      regenerated: the network made again from the recorded recipe.
      recipe: the recorded :class:`~jaxinit.Recipe`.
      bitwise: True when every field is bitwise identical (then ``matches``
        is True too).
      tolerance_ulps: the tolerance used for the weights, biases and
        ``init_state``, in ulp: 16, or 0 with ``exact=True``.
      tolerance: the comparison used, in words: ``"bitwise"`` with
        ``exact=True``, otherwise the rule with its numbers.
      inexact: fields that are not bitwise identical but within the
        tolerance (so they count as matching); empty when ``bitwise``.
      max_ulp_diff: for each floating array in ``max_abs_diff`` of the file's
        dtype, the largest difference in ulp (``inf`` where the array's scale
        is 0 or a non-finite entry differs).
      w_rec_factor: when ``W_rec`` matched as the regenerated ``W_rec`` times
        one factor within ``sqrt(eps)`` of 1 (its spectral scale computed
        with other rounding), that factor (file / regenerated); else
        None.
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
    bitwise: bool = dataclasses.field(kw_only=True)
    tolerance_ulps: int = dataclasses.field(kw_only=True)
    tolerance: str = dataclasses.field(kw_only=True)
    inexact: tuple[str, ...] = dataclasses.field(kw_only=True)
    max_ulp_diff: Mapping[str, float] = dataclasses.field(kw_only=True)
    w_rec_factor: float | None = dataclasses.field(kw_only=True)

    def __str__(self) -> str:
        return self.message


def _same_bits(a: npt.ArrayLike, b: npt.ArrayLike) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def ulp_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """How far apart two floating arrays of one dtype and shape are, in ulp.

    The largest ``|a - b|`` divided by ``eps * scale``, where ``eps`` is
    ``np.finfo(dtype).eps`` and ``scale`` the largest ``|entry|`` of ``a``
    and ``b``: one unit in the last place of the largest entry (up to a
    factor 2). 0 for arrays equal in value; ``inf`` when a non-finite entry
    differs or the scale is too small for ``eps * scale`` to be a number.

    Example:
      >>> a = np.float32([4.0, 1.0])
      >>> b = a.copy(); b[1] = np.nextafter(b[1], np.float32(2))  # 1 ulp of 1.0
      >>> ulp_distance(a, b)  # a quarter of an ulp of the largest entry, 4.0
      0.25
      >>> b[0] = np.nextafter(np.nextafter(b[0], np.float32(0)), np.float32(0))
      >>> ulp_distance(a, b)
      1.0
    """
    a, b = np.asarray(a), np.asarray(b)
    for name, x in (("a", a), ("b", b)):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{name} must be a floating array, got dtype {x.dtype}")
    if a.dtype != b.dtype or a.shape != b.shape:
        raise ValueError(
            f"a and b must have one dtype and shape, got {a.dtype}{list(a.shape)} and "
            f"{b.dtype}{list(b.shape)}"
        )
    if a.size == 0 or _same_bits(a, b):
        return 0.0
    nonfinite = ~(np.isfinite(a) & np.isfinite(b))
    if nonfinite.any():  # infinities and NaNs must agree; the finite entries are measured
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same[nonfinite].all():
            return math.inf
        a, b = np.where(nonfinite, 0, a), np.where(nonfinite, 0, b)
    wide = np.longdouble if a.dtype == np.float64 else np.float64
    x, y = a.astype(wide), b.astype(wide)  # exact, and so is their difference for float32
    diff = float(np.max(np.abs(x - y)))
    if diff == 0.0:  # equal in value (a signed zero)
        return 0.0
    unit = float(np.finfo(a.dtype).eps) * float(max(np.max(np.abs(x)), np.max(np.abs(y))))
    return diff / unit if unit > 0 else math.inf


def common_factor(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[float, float] | None:
    """The factor ``f`` that best maps ``b`` onto ``a``, and how far ``a`` then is from ``f * b``.

    ``f`` is the least-squares factor ``<a, b> / <b, b>`` and the distance
    is in ulp as for :func:`ulp_distance`. None when ``b`` is all zero or an
    entry is not finite.

    Example:
      >>> b = np.float32([2.0, -1.0, 0.5])
      >>> f, ulps = common_factor(b * np.float32(1.001), b)
      >>> round(f, 6), ulps < 1
      (1.001, True)
    """
    a, b = np.asarray(a), np.asarray(b)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    wide = np.longdouble if a.dtype == np.float64 else np.float64
    x, y = a.astype(wide).reshape(-1), b.astype(wide).reshape(-1)
    norm = np.dot(y, y)
    if not norm > 0:
        return None
    factor = np.dot(x, y) / norm
    diff = float(np.max(np.abs(x - factor * y)))
    unit = float(np.finfo(a.dtype).eps) * float(max(np.max(np.abs(x)), np.max(np.abs(y))))
    return float(factor), (diff / unit if unit > 0 else math.inf)


@dataclasses.dataclass(frozen=True)
class Differences:
    """How two single networks differ (see :func:`differences`).

    Attributes:
      differ: fields that are not bitwise identical, in ``Params`` order.
      mismatched: the fields of ``differ`` beyond the tolerance, and every
        field of ``differ`` that is compared exactly (not in
        :data:`TOLERANT_FIELDS`, or of another dtype or shape).
      max_abs_diff: for each array of ``differ`` of equal shape, the largest
        absolute difference.
      max_ulp_diff: for each array of ``differ`` of equal shape and floating
        dtype, the largest difference in ulp (:func:`ulp_distance`).
      w_rec_factor: the factor ``W_rec`` matched with (``rescaled=True``), or
        None when it matched without one, or did not match.
      w_rec_residual: with ``w_rec_factor``, the ulp left once it is taken out.
    """

    differ: tuple[str, ...]
    mismatched: tuple[str, ...]
    max_abs_diff: Mapping[str, float]
    max_ulp_diff: Mapping[str, float]
    w_rec_factor: float | None = None
    w_rec_residual: float | None = None

    @property
    def inexact(self) -> tuple[str, ...]:
        """The fields that differ but within the tolerance."""
        return tuple(f for f in self.differ if f not in self.mismatched)


def differences(
    params: Params, other: Params, ulps: int = TOLERANCE_ULPS, *, rescaled: bool = False
) -> Differences:
    """The fields of two single networks that differ, and which are within ``ulps`` ulp.

    Arrays of :data:`TOLERANT_FIELDS` of one dtype and shape match when
    :func:`ulp_distance` is at most ``ulps``; with ``rescaled=True`` (a
    ``W_rec`` scaled to a spectral radius) ``W_rec`` also matches when it is
    ``other``'s times one factor within :func:`radius_tolerance` of 1 and
    then within ``ulps`` (:func:`common_factor`). Every other field (masks,
    Dale signs, ``dale_ratio``, ``transfer_function``, arrays of another
    dtype or shape) matches only when it is identical. ``ulps=0`` compares
    bit for bit.

    Example:
      >>> import jax, jaxinit
      >>> p = jaxinit.alpha_identity(jax.random.key(0), Config(N_in=1, N_rec=3, N_out=1, alpha=1))
      >>> q = p.replace(W_rec=np.nextafter(p.W_rec, np.float32(2)), b_out=p.b_out + 1)
      >>> d = differences(p, q)
      >>> d.differ, d.mismatched, d.inexact
      (('W_rec', 'b_out'), ('b_out',), ('W_rec',))
      >>> differences(p, q, ulps=0).mismatched
      ('W_rec', 'b_out')
      >>> scaled = p.replace(W_rec=p.W_rec * np.float32(1 + 1e-5))  # 84 ulp
      >>> differences(p, scaled).mismatched, differences(p, scaled, rescaled=True).mismatched
      (('W_rec',), ())
    """
    if isinstance(ulps, bool) or not isinstance(ulps, (int, np.integer)) or ulps < 0:
        raise ValueError(f"ulps must be a whole number >= 0, got {ulps!r}")
    differ: list[str] = []
    mismatched: list[str] = []
    abs_diffs: dict[str, float] = {}
    ulp_diffs: dict[str, float] = {}
    factor: float | None = None
    residual: float | None = None
    for name in ARRAY_FIELDS:
        a, b = np.asarray(getattr(params, name)), np.asarray(getattr(other, name))
        if _same_bits(a, b):
            continue
        differ.append(name)
        within = False
        if a.shape == b.shape:
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            abs_diffs[name] = float(np.max(diff)) if diff.size else 0.0
            if a.dtype == b.dtype and np.issubdtype(a.dtype, np.floating):
                ulp_diffs[name] = ulp_distance(a, b)
                within = ulps > 0 and name in TOLERANT_FIELDS and ulp_diffs[name] <= ulps
                if ulps > 0 and not within and rescaled and name == "W_rec":
                    fit = common_factor(a, b)
                    if fit is not None and abs(fit[0] - 1) <= radius_tolerance(a.dtype):
                        within = fit[1] <= ulps
                        if within:
                            factor, residual = fit
        if not within:
            mismatched.append(name)
    for name in ("dale_ratio", "transfer_function"):
        if getattr(params, name) != getattr(other, name):
            differ.append(name)
            mismatched.append(name)
    return Differences(
        tuple(differ),
        tuple(mismatched),
        types.MappingProxyType(abs_diffs),
        types.MappingProxyType(ulp_diffs),
        factor,
        residual,
    )


def compare(params: Params, other: Params) -> tuple[tuple[str, ...], dict[str, float]]:
    """Fields of two single networks that are not bitwise identical, and by how much."""
    found = differences(params, other, ulps=0)
    return found.mismatched, dict(found.max_abs_diff)


def tolerance_text(ulps: int, dtype: npt.DTypeLike, *, rescaled: bool = False) -> str:
    """The comparison :func:`reproduce` makes with ``ulps`` ulp, in words.

    Example:
      >>> tolerance_text(0, np.float32)
      'bitwise'
      >>> print(tolerance_text(16, np.float32))
      within 16 ulp: |file - regenerated| <= 16 * 2**-23 * (largest |entry|) for W_in, W_rec,
      W_out, b_rec, b_out, init_state; bitwise for the masks, Dale signs, dale_ratio and
      transfer_function
      >>> print(tolerance_text(16, np.float32, rescaled=True).split("; ")[1])
      W_rec also as the regenerated W_rec times one factor within sqrt(eps) = 3.45e-04 of 1 (its
      spectral scale), then within 16 ulp
    """
    if ulps == 0:
        return "bitwise"
    resolved: np.dtype[Any] = np.dtype(dtype)  # typed as in radius_tolerance, for finfo
    power = -int(np.finfo(resolved).nmant)  # eps = 2**power
    text = (
        f"within {ulps} ulp: |file - regenerated| <= {ulps} * 2**{power} * (largest |entry|) "
        f"for {', '.join(TOLERANT_FIELDS)}"
    )
    if rescaled:
        text += (
            "; W_rec also as the regenerated W_rec times one factor within sqrt(eps) = "
            f"{radius_tolerance(dtype):.2e} of 1 (its spectral scale), then within {ulps} ulp"
        )
    return text + "; bitwise for the masks, Dale signs, dale_ratio and transfer_function"


def _version_changes(then: Mapping[str, str], now: Mapping[str, str]) -> list[str]:
    return [
        f"{name} {then.get(name, 'unknown')} then, {now[name]} now"
        for name in ("jax", "jaxlib", "backend", "jaxinit", "numpy")
        if then.get(name) != now[name]
    ]


def _listing(fields: Iterable[str], found: Differences, ulps: bool = False) -> str:
    parts: list[str] = []
    for f in fields:
        if ulps and f == "W_rec" and found.w_rec_factor is not None:
            change = found.w_rec_factor - 1
            parts.append(
                f"W_rec (the regenerated W_rec times 1 {'+' if change >= 0 else '-'} "
                f"{abs(change):.3g}, then within {found.w_rec_residual:.3g} ulp; largest "
                f"|difference| {found.max_abs_diff[f]:.3g})"
            )
        elif ulps and f in found.max_ulp_diff:
            parts.append(
                f"{f} (at most {found.max_ulp_diff[f]:.3g} ulp, largest |difference| "
                f"{found.max_abs_diff[f]:.3g})"
            )
        elif f in found.max_abs_diff:
            parts.append(f"{f} (largest |difference| {found.max_abs_diff[f]:.3g})")
        else:
            parts.append(f)
    return ", ".join(parts)


def _message(
    path: str,
    name: str | None,
    found: Differences,
    ulps: int,
    then: Mapping[str, str],
    now: Mapping[str, str],
    dtype: npt.DTypeLike,
) -> str:
    changes = _version_changes(then, now)
    mismatched = found.differ if ulps == 0 else found.mismatched
    if not found.differ:
        text = (
            f"{path}: {name} on the recorded key and config gives exactly the file's network "
            "(bitwise identical)."
        )
        if changes:
            text += " This holds although the software changed: " + "; ".join(changes) + "."
        return text
    if not mismatched:
        verb = "differs" if len(found.differ) == 1 else "differ"
        text = (
            f"{path}: {name} on the recorded key and config matches within {ulps} ulp (not "
            f"bitwise): {_listing(found.differ, found, ulps=True)} {verb} in the last bits. "
            "Networks made inside a caller's jax.jit can differ from the eager call in the last "
            "bits (XLA may fuse and constant-fold the computation differently)"
        )
        if found.w_rec_factor is not None:
            text += (
                ", and an eigenvalue solve amplifies them: the spectral radius W_rec is scaled "
                f"by differs by {abs(found.w_rec_factor - 1):.3g} relative, within sqrt(eps) = "
                f"{radius_tolerance(dtype):.2e}"
            )
        text += "; reproduce(path, exact=True) demands bitwise equality."
        if changes:
            text += " The software changed since the file was written: " + "; ".join(changes) + "."
        return text
    how = "bit for bit" if ulps == 0 else f"within {ulps} ulp, other fields bit for bit"
    text = (
        f"{path}: {name} on the recorded key and config does NOT reproduce the file "
        f"(compared {how}): {_listing(mismatched, found)} differ."
    )
    inexact = [f for f in found.differ if f not in mismatched]
    if inexact:
        text += f" Within {ulps} ulp (not bitwise): {_listing(inexact, found, ulps=True)}."
    if ulps == 0 and not found.mismatched:  # exact=True refused what the tolerance accepts
        text += (
            f" Without exact=True this is a match within {TOLERANCE_ULPS} ulp: "
            f"{_listing(found.differ, found, ulps=True)}, as a network made inside a caller's "
            "jax.jit can differ from the eager call."
        )
        if changes:
            text += " The software changed since the file was written: " + "; ".join(changes) + "."
        return text
    return text + _why(then, now, changes)


def _why(then: Mapping[str, str], now: Mapping[str, str], changes: list[str]) -> str:
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


def reproduce(
    path: str | os.PathLike[str], *, max_bytes: int | None = None, exact: bool = False
) -> Reproduction:
    """Build the recipe a jaxinit file records and check it gives the file's network.

    The file must have been written by :func:`~jaxinit.save_npz` from a
    :class:`~jaxinit.Recipe`. The recipe is built again
    (``recipe.build(quiet=True)``, eagerly) and every field is compared with
    the file's, first bit for bit. When they are not bitwise identical, the
    floating arrays ``W_in, W_rec, W_out, b_rec, b_out, init_state`` still
    match when each is within 16 ulp of the
    regenerated one: ``|file - regenerated| <= 16 * eps * (largest |entry|)``
    with ``eps = np.finfo(dtype).eps`` (``2**-23`` for float32, a relative
    error of ``1.9e-6`` at the array's scale). For ``gaussian_spectral_radius``,
    ``W_rec`` also matches when it is the regenerated ``W_rec`` times one
    factor within ``sqrt(eps)`` of 1 (``3.5e-4`` in
    float32) and then within 16 ulp: its spectral scale ``spec_rad / rho``
    computed with other rounding (the factor is ``w_rec_factor``). The masks,
    Dale signs, ``dale_ratio`` and ``transfer_function`` must be identical.
    The result says which comparison held: ``bitwise``, ``tolerance`` and
    the message ("matches within 16 ulp (not bitwise)").

    The tolerance is there because a network made inside a caller's
    ``jax.jit`` (``jax.jit(lambda k: jaxinit.gaussian_spectral_radius(k,
    cfg))(key)``) can differ from the eager call in the last bits of
    ``W_rec``: XLA may fuse and constant-fold the computation differently,
    and the eigenvalue solve that measures the radius amplifies those bits
    (measured: up to 9 ulp at ``N_rec <= 7``, 41 ulp at ``N_rec=300``, all of
    it one common factor but 1.2 ulp). Eager calls, ``jax.vmap``, ensembles
    and ``load_npz`` give bitwise the same network, so a file saved from a
    recipe reproduces bitwise. ``exact=True`` demands bitwise equality of
    every field.

    A recorded recipe is only run when the network it makes is no bigger
    than ``max_bytes``, so a file cannot make jaxinit build a network of any
    size it likes.

    Args:
      path: the ``.npz`` file.
      max_bytes: the most bytes of array data to read from the file and to
        let the recorded recipe make (None: 2 GiB, as for
        :func:`~jaxinit.load_npz`).
      exact: True to count only a bitwise identical network as a match
        (tolerance 0 ulp); False (default) to accept the floating arrays
        within 16 ulp.

    Returns:
      A :class:`Reproduction` with ``matches``, ``bitwise``, ``tolerance``,
      ``mismatched``, ``inexact``, ``w_rec_factor``, the versions then and
      now, and a readable ``message``. When the JAX version differs from the recorded one the
      message says that JAX does not promise the same random numbers across
      releases.

    Raises:
      TypeError: ``exact`` is not True or False.
      NoRecipeError: (an ``NpzError``) the file records no recipe: a PsychRNN
        file, a jaxinit file saved from bare ``Params``, one whose
        PsychRNN entries were edited after saving, or a row-sparse file.
      NpzError: the file cannot be read, or its recipe cannot be run, or
        the network it would make is bigger than ``max_bytes``.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, alpha=0.9)
      >>> recipe = jaxinit.Recipe(jaxinit.alpha_identity, jax.random.key(0), cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     result = jaxinit.reproduce(jaxinit.save_npz(os.path.join(tmp, "net"), recipe))
      >>> result.matches, result.bitwise, result.mismatched
      (True, True, ())

      A network whose ``W_rec`` is 1 ulp off (as a caller's ``jax.jit`` can
      make it), saved with the recipe that describes it:

      >>> import numpy as np, warnings
      >>> params = recipe.build()
      >>> jitlike = params.replace(W_rec=np.nextafter(params.W_rec, np.float32(0)))
      >>> with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
      ...     warnings.simplefilter("ignore", DeprecationWarning)  # the 0.1 keywords
      ...     path = jaxinit.save_npz(os.path.join(tmp, "jit"), jitlike,
      ...         initializer="alpha_identity", key=recipe.key, config=cfg)
      ...     result = jaxinit.reproduce(path)
      ...     strict = jaxinit.reproduce(path, exact=True)
      >>> result.matches, result.bitwise, result.tolerance_ulps, result.inexact
      (True, False, 16, ('W_rec',))
      >>> "matches within 16 ulp (not bitwise)" in result.message
      True
      >>> strict.matches, strict.mismatched, strict.tolerance
      (False, ('W_rec',), 'bitwise')
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise TypeError(f"exact must be True or False, got {exact!r}")
    path = as_path("path", path)
    budget = limits.max_bytes_value(max_bytes)
    contents = loading.read_file(path, max_bytes=budget)
    if isinstance(contents.params, SparseParams):
        raise NoRecipeError(
            path,
            None,
            "is a row-sparse file, which records no recipe (jaxinit.Recipe makes dense "
            "networks): there is nothing to reproduce",
        )
    prov = _recorded_recipe(path, contents)
    _check_recipe_size(path, cast(Config, prov.config), budget)  # set, as prov has a recipe
    try:
        regenerated = prov.regenerate()
    except (TypeError, ValueError) as err:
        raise NpzError(
            path, METADATA_KEY, f"running the recorded {prov.initializer} failed: {err}"
        ) from err
    rescaled = prov.initializer == "gaussian_spectral_radius"
    found = differences(contents.params, regenerated, TOLERANCE_ULPS, rescaled=rescaled)
    ulps = 0 if exact else TOLERANCE_ULPS
    dtype = np.asarray(contents.params.W_rec).dtype
    mismatched = found.differ if exact else found.mismatched
    now = records.versions()
    then = dict(prov.versions)
    return Reproduction(
        matches=not mismatched,
        mismatched=mismatched,
        max_abs_diff=found.max_abs_diff,
        versions_then=types.MappingProxyType(then),
        versions_now=types.MappingProxyType(now),
        message=_message(path, prov.initializer, found, ulps, then, now, dtype),
        params=contents.params,
        regenerated=regenerated,
        recipe=prov.recipe,
        bitwise=not found.differ,
        tolerance_ulps=ulps,
        tolerance=tolerance_text(ulps, dtype, rescaled=rescaled),
        inexact=() if exact else found.inexact,
        max_ulp_diff=found.max_ulp_diff,
        w_rec_factor=None if exact else found.w_rec_factor,
    )
