"""Provenance: how the network in a jaxinit file was made, and making it again.

A :class:`~jaxinit.Params` does not know the key, config or initializer that
produced it, so :func:`~jaxinit.save_npz` takes them as explicit keyword
arguments (``initializer=``, ``key=``, ``config=`` and optionally ``given=``)
and writes them, with the versions of jaxinit, JAX, jaxlib and NumPy, into
entries that PsychRNN ignores. :func:`read_provenance` returns that record and
:func:`reproduce` runs the recorded initializer again and says whether the
result is bitwise identical to the file.

JAX does not promise the same random numbers across releases (nor identical
eigenvalue routines across backends), so a file made with another JAX version
may fail to reproduce although nothing is wrong with it; :func:`reproduce`
says so plainly in that case.
"""

from __future__ import annotations

import dataclasses
import platform
import types
import warnings
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.names import ARRAY_FIELDS, PSYCHRNN_NAMES
from jaxinit._src.params import Params
from jaxinit._src.version import __version__

#: Names of the initializers a file can record (the public jaxinit functions).
INITIALIZER_NAMES = ("weight_initializer", "gaussian_spectral_radius", "alpha_identity")


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


def initializer_name(initializer: Any) -> str:
    """The name of an initializer given by name or as the jaxinit function."""
    if isinstance(initializer, str):
        if initializer in INITIALIZER_NAMES:
            return initializer
    else:
        from jaxinit._src import network as initializers

        for name in INITIALIZER_NAMES:
            if initializer is getattr(initializers, name):
                return name
    raise ValueError(
        f"initializer must be one of {list(INITIALIZER_NAMES)} (a name or the jaxinit "
        f"function), got {initializer!r}"
    )


def _initializer_function(name: str):
    from jaxinit._src import network as initializers

    return getattr(initializers, name)


def _key_record(key: Any) -> dict[str, Any]:
    checks.check_key(key)
    if checks.is_traced(key):
        raise TypeError("key must be a concrete JAX PRNG key, not a traced value inside jax.jit")
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        spec = jax.random.key_impl(key)  # a name, or a PRNGSpec in older JAX
        impl = getattr(getattr(spec, "_impl", spec), "name", None) or str(spec)
        data = np.asarray(jax.random.key_data(key))
        typed = True
    else:  # a raw uint32 key from jax.random.PRNGKey uses the default implementation
        impl = str(jax.config.jax_default_prng_impl)
        data = np.asarray(key)
        typed = False
    return {"impl": impl, "data": data.astype(np.uint32).tolist(), "typed": typed}


def _rebuild_key(record: Mapping[str, Any]):
    data = np.asarray(record["data"], dtype=np.uint32)
    key = jax.random.wrap_key_data(data, impl=record["impl"])
    return key if record["typed"] else jax.random.key_data(key)


def _check_given(given: Any) -> dict[str, np.ndarray]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise TypeError(f"given must be a dict of arrays (name to array), got {given!r}")
    out = {}
    for name, value in given.items():
        if name not in PSYCHRNN_NAMES:
            raise TypeError(
                f"given has an unknown array name {name!r}; the arrays an initializer accepts "
                f"are {', '.join(PSYCHRNN_NAMES)}"
            )
        if value is None:
            continue
        if checks.is_traced(value):
            raise TypeError(f"given[{name!r}] must be a concrete array, not a traced value")
        array = np.array(value)  # a copy: the caller's array is never kept or changed
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise TypeError(f"given[{name!r}] must be an array of numbers, got dtype {array.dtype}")
        out[name] = array
    return out


def make_record(params: Params, *, initializer, key, config, given) -> tuple[dict, dict]:
    """Check the provenance arguments of ``save_npz`` and turn them into a record.

    Returns:
      ``(record, given_arrays)``: a JSON-serialisable dict and the given
      arrays as numpy arrays, or ``(None, {})`` when no provenance was passed.
    """
    passed = {"initializer": initializer, "key": key, "config": config}
    if all(v is None for v in passed.values()):
        if given is not None:
            raise ValueError(
                "given= only makes sense with initializer=, key= and config= (the recipe "
                "that used the given arrays)"
            )
        return None, {}
    missing = [name for name, value in passed.items() if value is None]
    if missing:
        raise ValueError(
            "provenance needs initializer=, key= and config= together; missing "
            + ", ".join(f"{m}=" for m in missing)
        )
    name = initializer_name(initializer)
    if not isinstance(config, Config):
        raise TypeError(f"config must be a jaxinit.Config, got {type(config).__name__}")
    key_record = _key_record(key)
    given_arrays = _check_given(given)
    _check_consistent(params, config)
    record = {
        "initializer": name,
        "config": dataclasses.asdict(config),
        "key": key_record,
        "given": sorted(given_arrays),
    }
    return record, given_arrays


def _check_consistent(params: Params, config: Config) -> None:
    """Catch a recipe that cannot have made ``params`` (wrong sizes or options)."""
    sizes = {"N_in": params.N_in, "N_rec": params.N_rec, "N_out": params.N_out}
    for name, size in sizes.items():
        if getattr(config, name) != size:
            raise ValueError(
                f"config.{name}={getattr(config, name)} does not match params ({name}={size}); "
                "pass the config that made these params"
            )
    if config.dale_ratio != params.dale_ratio:
        raise ValueError(
            f"config.dale_ratio={config.dale_ratio!r} does not match "
            f"params.dale_ratio={params.dale_ratio!r}"
        )
    if config.transfer_function != params.transfer_function:
        raise ValueError(
            f"config.transfer_function={config.transfer_function!r} does not match "
            f"params.transfer_function={params.transfer_function!r}"
        )
    dtype = np.dtype(params.W_rec.dtype).name
    if config.dtype != dtype:
        raise ValueError(f"config.dtype={config.dtype!r} does not match the params' dtype {dtype}")


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
        backend when the file was written (see :func:`versions`).
    """

    initializer: str | None
    config: Config | None
    key_impl: str | None
    key_data: np.ndarray | None
    key_typed: bool
    given: Mapping[str, np.ndarray]
    versions: Mapping[str, str]

    @property
    def has_recipe(self) -> bool:
        """Whether the initializer, key and config were recorded."""
        return self.initializer is not None

    @property
    def key(self):
        """The recorded key, rebuilt (a typed key, or a raw one if it was raw)."""
        if self.key_data is None:
            return None
        return _rebuild_key({"impl": self.key_impl, "data": self.key_data, "typed": self.key_typed})

    def regenerate(self) -> Params:
        """Run the recorded initializer again on the recorded key, config and arrays.

        The :class:`~jaxinit.UnregulatedSpectrumWarning` that
        ``weight_initializer`` gives was already given when the network was
        first made, so it is not repeated here.
        """
        if not self.has_recipe:
            raise ValueError(
                "this file records no recipe; save it with jaxinit.save_npz(path, params, "
                "initializer=..., key=..., config=...) to make it reproducible"
            )
        from jaxinit._src.network import UnregulatedSpectrumWarning

        fn = _initializer_function(self.initializer)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnregulatedSpectrumWarning)
            return fn(self.key, self.config, **dict(self.given))


def provenance_from_metadata(path, metadata: Mapping[str, Any], given: Mapping) -> Provenance:
    """Build a :class:`Provenance` from the metadata dict stored in a file."""
    file_versions = types.MappingProxyType(dict(metadata.get("versions") or {}))
    recipe = metadata.get("provenance")
    if recipe is None:
        return Provenance(None, None, None, None, True, types.MappingProxyType({}), file_versions)
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
        names = list(recipe.get("given", []))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"{path}: the provenance recorded in the file is unusable: {err}") from err
    lacking = [n for n in names if n not in given]
    if lacking:
        raise ValueError(
            f"{path}: the given array(s) {lacking} named in its provenance are missing"
        )
    key_data.setflags(write=False)
    frozen = {}
    for n in names:
        array = np.array(given[n])
        array.setflags(write=False)
        frozen[n] = array
    return Provenance(
        name, config, impl, key_data, typed, types.MappingProxyType(frozen), file_versions
    )


def read_provenance(path) -> Provenance | None:
    """Read the provenance recorded in a file written by :func:`~jaxinit.save_npz`.

    Args:
      path: the ``.npz`` file.

    Returns:
      A :class:`Provenance`, or None for a file jaxinit did not write (for
      example one written by PsychRNN). Its ``initializer``, ``config`` and
      key are None when the file was saved without them.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, dale_ratio=0.75)
      >>> key = jax.random.key(3)
      >>> p = jaxinit.gaussian_spectral_radius(key, cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     path = jaxinit.save_npz(os.path.join(tmp, "net.npz"), p,
      ...                             initializer="gaussian_spectral_radius",
      ...                             key=key, config=cfg)
      ...     prov = jaxinit.read_provenance(path)
      >>> prov.initializer, prov.config == cfg, prov.key_impl
      ('gaussian_spectral_radius', True, 'threefry2x32')
    """
    from jaxinit._src import npz

    contents = npz.read_file(path)
    if contents.metadata is None:
        return None
    return provenance_from_metadata(path, contents.metadata, contents.given)


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
    """

    matches: bool
    mismatched: tuple[str, ...]
    max_abs_diff: Mapping[str, float]
    versions_then: Mapping[str, str]
    versions_now: Mapping[str, str]
    message: str
    params: Params
    regenerated: Params

    def __str__(self) -> str:
        return self.message


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def compare(params: Params, other: Params) -> tuple[tuple[str, ...], dict[str, float]]:
    """Fields of two single networks that are not bitwise identical."""
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
    jax_changed = then.get("jax") != now["jax"] or then.get("jaxlib") != now["jaxlib"]
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
    if jax_changed:
        text += (
            f" The file was written with jax {then.get('jax', 'unknown')} / jaxlib "
            f"{then.get('jaxlib', 'unknown')} and this is jax {now['jax']} / jaxlib "
            f"{now['jaxlib']}. JAX does not promise the same random numbers across releases, "
            "so the difference may come from the upgrade alone; install the recorded versions "
            "to check."
        )
    elif changes:
        text += (
            " The software changed since the file was written ("
            + "; ".join(changes)
            + "); eigenvalue routines (used for the spectral radius) can differ between "
            "backends and versions."
        )
    else:
        text += (
            " The versions are the same as when the file was written, so the arrays were "
            "changed after they were made (for example trained or edited), or the recorded "
            "recipe is not the one that made them."
        )
    return text


def reproduce(path) -> Reproduction:
    """Make the network of a jaxinit file again and check it is bitwise identical.

    The file must have been written by :func:`~jaxinit.save_npz` with
    ``initializer=``, ``key=`` and ``config=`` (and ``given=`` for any arrays
    passed to the initializer). The recorded initializer runs again on the
    recorded key, config and arrays, and every field is compared bit for bit.

    Args:
      path: the ``.npz`` file.

    Returns:
      A :class:`Reproduction` with ``matches``, ``mismatched``, the versions
      then and now, and a readable ``message``. When the JAX version differs
      from the recorded one the message says that JAX does not promise the
      same random numbers across releases.

    Raises:
      ValueError: the file was not written by jaxinit, or records no recipe.

    Example:
      >>> import os, tempfile, jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=8, N_out=1, alpha=0.9)
      >>> key = jax.random.key(0)
      >>> p = jaxinit.alpha_identity(key, cfg)
      >>> with tempfile.TemporaryDirectory() as tmp:
      ...     path = jaxinit.save_npz(os.path.join(tmp, "net.npz"), p,
      ...                             initializer=jaxinit.alpha_identity,
      ...                             key=key, config=cfg)
      ...     result = jaxinit.reproduce(path)
      >>> result.matches, result.mismatched
      (True, ())
    """
    from jaxinit._src import npz

    contents = npz.read_file(path)
    if contents.metadata is None:
        raise ValueError(
            f"{path} was not written by jaxinit (it has no jaxinit/metadata entry), so it "
            "records no recipe to reproduce"
        )
    prov = provenance_from_metadata(path, contents.metadata, contents.given)
    if not prov.has_recipe:
        raise ValueError(
            f"{path} was saved without provenance; pass initializer=, key= and config= to "
            "jaxinit.save_npz to make a file reproducible"
        )
    try:
        regenerated = prov.regenerate()
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: running the recorded {prov.initializer} failed: {err}") from err
    mismatched, diffs = compare(contents.params, regenerated)
    now = versions()
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
    )
