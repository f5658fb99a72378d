"""Ensembles: many networks from one key, built as one batched program.

Member ``i`` of an ensemble made from ``key`` is the network the initializer
makes from ``member_key(key, i) = jax.random.fold_in(key, i)``. The rule is
per member: it does not depend on the ensemble size, on the batch the member
is made in, on how the batch is split across devices, or on which process
makes it. So member 7 is the same network whether it is made alone, in an
ensemble of 10, in an ensemble of 10 000 sharded over 8 devices, or by the
second of two hosts.

The rule relies on JAX's default PRNG, threefry2x32, for which a batched
(``jax.vmap``) or sharded draw gives bit for bit the numbers of the same
draw made alone. The ``rbg`` and ``unsafe_rbg`` implementations do not (a
vmapped draw differs from a looped one), so :func:`ensemble` refuses their
keys. With threefry and ``jax_threefry_partitionable`` (on by default since
JAX 0.5), ``jax.random.split(key, n)[i]`` also equals ``fold_in(key, i)``, so
``jax.vmap(init)(jax.random.split(key, n))`` gives the same members.

Why not simply ``jax.vmap(jaxinit.gaussian_spectral_radius)``? It works, but
the value checks (spectral radius zero or NaN, non-finite output) can then
only run as host callbacks inside the program, one round trip per member and
check (for 1000 members of N_rec=64 that made the warm run about 3 times
slower than :func:`ensemble` here).
:func:`ensemble` instead checks the arguments once, runs the initializers'
pure core (``initializers.build``, which returns the measured spectral radius
and one finiteness flag per array next to the arrays) under ``jax.jit`` of
``jax.vmap`` (inside ``jax.shard_map`` over a mesh), and then reads the radii
and flags once, naming the first bad member. Only the static part of the
config, the number of members, the layout of the given arrays and the mesh
shape the compiled program; a sweep over ``spec_rad``, ``alpha`` or the
uniform bounds reuses it.

Members equal single calls bit for bit, except that ``W_rec`` of
``gaussian_spectral_radius`` is scaled by a radius from the batched
eigenvalue solver; on the CPU that is bitwise the same too, other backends
may differ in the last bits.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.given import DALE_FIELD, expected_shape, prepare_array
from jaxinit._src.names import ARRAY_FIELDS, PSYCHRNN_NAMES
from jaxinit._src.network import (
    NETWORK_INITIALIZERS,
    Status,
    build,
    finish,
    no_recurrence_message,
    non_finite_message,
    prepare,
    radius_name,
)
from jaxinit._src.params import Params
from jaxinit._src.spectral import check_radius

#: Member indices are folded into the key as 32-bit integers.
MAX_MEMBERS = 2**31 - 1

_KINDS = {fn: name for name, fn in NETWORK_INITIALIZERS.items()}


# --------------------------------------------------------------------------
# Member keys and single members
# --------------------------------------------------------------------------


def _member_index(name: str, value, limit: int = MAX_MEMBERS) -> int:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not 0 <= value < limit:
        raise ValueError(f"{name} must be in [0, {limit}), got {value!r}")
    return int(value)


def member_key(key, i) -> jax.Array:
    """The key of member ``i``: ``jax.random.fold_in(key, i)``.

    ``init_fn(member_key(key, i), config)`` is member ``i`` of
    ``ensemble(init_fn, key, n, config)`` for every ``n > i``.

    Args:
      key: one JAX PRNG key (typed ``jax.random.key`` or raw ``PRNGKey``).
      i: the member index, an integer in ``[0, 2**31 - 1)``; a traced integer
        scalar (inside ``jax.jit``/``jax.vmap``) is passed on unchecked.

    Example:
      >>> import jax, jaxinit
      >>> key = jax.random.key(0)
      >>> k = member_key(key, 3)
      >>> bool((jax.random.key_data(k)
      ...       == jax.random.key_data(jax.random.split(key, 5)[3])).all())
      True
    """
    checks.check_key(key)
    if checks.is_traced(i):
        if i.shape != () or not jnp.issubdtype(i.dtype, jnp.integer):
            raise TypeError(f"i must be an integer scalar, got {i.dtype}{list(i.shape)}")
    else:
        i = _member_index("i", i)
    return jax.random.fold_in(key, i)


def member(params: Params, i) -> Params:
    """Member ``i`` of an ensemble: index ``i`` of every array's leading axis.

    For a sharded ensemble the member is read from the device that holds it
    and stays there; nothing is gathered. A member held only by another
    process cannot be read here and raises ``ValueError``.

    For an ensemble made with ``members=...``, ``i`` is the position along
    the leading axis, not the member number: with ``members=range(a, b)``,
    member ``j`` is ``member(params, j - a)``.

    Args:
      params: a :class:`~jaxinit.Params` with at least one leading axis.
      i: an integer; negative values count from the end.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=1, dale_ratio=0.5,
      ...                      spectral_radius_of="effective")
      >>> key = jax.random.key(0)
      >>> ens = ensemble(jaxinit.gaussian_spectral_radius, key, 5, cfg)
      >>> one = jaxinit.gaussian_spectral_radius(member_key(key, 2), cfg)
      >>> bool(jax.numpy.allclose(member(ens, 2).W_rec, one.W_rec))
      True
    """
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    if params.batch_shape == ():
        raise ValueError("params is a single network, not an ensemble (it has no leading axis)")
    size = params.batch_shape[0]
    if isinstance(i, np.ndarray) and i.ndim == 0:
        i = i.item()
    if isinstance(i, bool) or not isinstance(i, numbers.Integral):
        raise TypeError(f"i must be an integer, got {i!r}")
    if not -size <= i < size:
        raise IndexError(f"member {i} is out of range for an ensemble of {size}")
    i = int(i) % size
    return jax.tree.map(functools.partial(_take, i=i, size=size), params)


def _take(array, *, i: int, size: int):
    if checks.is_traced(array) or not isinstance(array, jax.Array):
        return array[i]
    if len(array.sharding.device_set) == 1:
        return array[i]
    for shard in array.addressable_shards:
        start, stop, _ = shard.index[0].indices(size)
        if start <= i < stop:
            return shard.data[i - start]
    raise ValueError(
        f"member {i} is held by another process; read it there (each process can only "
        "read the members on its own devices)"
    )


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _kind(init_fn) -> str | None:
    """The name of a jaxinit initializer, None for another callable."""
    try:
        kind = _KINDS.get(init_fn)
    except TypeError:  # unhashable
        kind = None
    if kind is None and not callable(init_fn):
        raise TypeError(
            "init_fn must be one of jaxinit's initializers or a callable "
            f"init(key, config, **given) -> Params, got {init_fn!r}"
        )
    return kind


def _check_single_key(key) -> None:
    dtype = getattr(key, "dtype", None)
    shape = getattr(key, "shape", None)
    typed = dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)
    if typed and shape != ():
        raise ValueError(
            f"ensemble takes one key, got a batch of keys of shape {shape}; member i is "
            "made from jax.random.fold_in(key, i)"
        )
    checks.check_key(key)
    impl = str(jax.random.key_impl(key)) if typed else str(jax.config.jax_default_prng_impl)
    if impl != "threefry2x32":
        raise ValueError(
            f"ensemble needs a threefry2x32 key, got a {impl} key: with other PRNG "
            "implementations JAX's batched random numbers differ from one-at-a-time ones, "
            "so a member would depend on how it was made; use "
            "jax.random.key(seed, impl='threefry2x32')"
        )


def _member_indices(members, n: int) -> np.ndarray:
    if members is None:
        return np.arange(n, dtype=np.int32)
    if isinstance(members, (str, bytes)) or np.ndim(members) != 1:
        raise TypeError(f"members must be a range or a 1-D sequence of integers, got {members!r}")
    values = np.asarray(members)
    if values.size == 0:
        raise ValueError("members must not be empty")
    if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.integer):
        raise TypeError(f"members must hold integers, got dtype {values.dtype}")
    bad = (values < 0) | (values >= n)
    if bad.any():
        raise ValueError(f"members must lie in [0, n) = [0, {n}), got {values[bad][0]}")
    return values.astype(np.int32)


def _mesh_and_axes(sharding):
    """``(mesh, axes)`` that shard the member axis, or ``(None, None)``."""
    if sharding is None:
        return None, None
    if isinstance(sharding, Mesh):
        names = tuple(sharding.axis_names)
        return sharding, names[0] if len(names) == 1 else names
    if isinstance(sharding, NamedSharding):
        spec = tuple(sharding.spec)
        if not spec or spec[0] is None:
            raise ValueError(
                f"sharding must shard the leading (member) axis, got spec {sharding.spec}; "
                "use e.g. NamedSharding(mesh, PartitionSpec('members'))"
            )
        if any(entry is not None for entry in spec[1:]):
            raise ValueError(
                "sharding may only shard the leading (member) axis, got spec "
                f"{sharding.spec}; each network is kept whole on one device"
            )
        return sharding.mesh, spec[0]
    raise TypeError(
        "sharding must be None, a jax.sharding.Mesh or a jax.sharding.NamedSharding, "
        f"got {type(sharding).__name__}"
    )


def _shard_count(mesh: Mesh, axes) -> int:
    names = axes if isinstance(axes, tuple) else (axes,)
    return math.prod(mesh.shape[name] for name in names)


def _stacked_shape(config: Config, name: str, shape: tuple, m: int) -> bool:
    """Whether a given array carries a leading member axis (by its shape)."""
    base = expected_shape(config, name)
    if name == "init_state":
        if shape == (1, config.N_rec):  # PsychRNN's shared (1, N_rec) layout
            return False
        if len(shape) == 3:
            return True
    if len(shape) != len(base) + 1:
        return False
    if shape[0] != m:
        raise ValueError(
            f"{name} has a leading member axis of {shape[0]} but the ensemble makes {m} "
            f"members; give {name} of shape {base} (shared) or {(m, *base)} (one per member)"
        )
    return True


def _split_given(config: Config, given: dict, m: int) -> tuple[dict, dict]:
    shared, stacked = {}, {}
    for name, value in given.items():
        concrete = isinstance(value, jax.Array) and not checks.is_traced(value)
        if concrete and not value.is_fully_addressable:
            raise TypeError(
                f"{name} is a global array spanning several processes; give the arrays "
                "as host (numpy) arrays, the same in every process (each process then "
                "uploads only the rows of its own members)"
            )
        if value is None or name not in PSYCHRNN_NAMES or isinstance(value, (str, bytes)):
            shared[name] = value  # prepare_given reports unknown names and bad types
            continue
        shape = tuple(np.shape(value))
        (stacked if _stacked_shape(config, name, shape, m) else shared)[name] = value
    return shared, stacked


def _prepare_stacked(config: Config, stacked: dict, m: int) -> dict:
    """The core's ``prepare_array`` for arrays with a leading member axis of ``m``.

    Concrete arrays are converted and checked with numpy on the host (so
    per-member arrays are checked before any device holds them) and traced
    ones with jax.
    """
    return dict(prepare_array(config, name, value, members=m) for name, value in stacked.items())


def _placeholder(config: Config, name: str) -> np.ndarray:
    """A valid single-network stand-in for a per-member array."""
    if name in ("Dale_rec", "Dale_out"):
        return np.eye(config.N_rec)
    return np.ones(expected_shape(config, name))


def _prepare(kind: str, key, config: Config, shared: dict, stacked: dict):
    """The initializers' own argument checks, once for the whole ensemble.

    The per-member arrays are represented by valid stand-ins so that rules
    about which arrays are given (``alpha_identity`` takes no ``W_rec``;
    ``weight_initializer`` warns when it draws ``W_rec``) see them; their
    values are checked by :func:`_prepare_stacked`. Called from
    :func:`ensemble` so that the warning points at the caller's line.
    """
    stand_ins = {name: _placeholder(config, name) for name in stacked}
    plan, scalars, prepared = prepare(kind, key, config, {**shared, **stand_ins})
    for name in stacked:
        prepared.pop(DALE_FIELD.get(name, name))
    return plan, scalars, prepared


# --------------------------------------------------------------------------
# The batched program
# --------------------------------------------------------------------------


#: Bytes of temporaries one chunk of members may hold (see :func:`_chunk_size`).
CHUNK_BYTES = 32 * 2**20


def _member_bytes(plan) -> int:
    """Bytes of one member's recurrent matrix in the plan's dtype."""
    return plan.N_rec * plan.N_rec * jnp.dtype(plan.dtype).itemsize


def _chunk_size(n: int, member_bytes: int | None) -> int:
    """Members per chunk: all ``n`` unless their temporaries would pass CHUNK_BYTES.

    Making one member holds about eight arrays the size of its recurrent
    matrix at once (random bits, the balanced and scaled matrix, the
    eigensolver's copy and workspace). User callables are not chunked.

    Example:
      >>> _chunk_size(64, 512 * 512 * 4), _chunk_size(32, 64 * 64 * 4)
      (4, 32)
    """
    if member_bytes is None:
        return n
    return max(1, min(n, CHUNK_BYTES // (8 * member_bytes)))


@functools.lru_cache(maxsize=128)
def _program(target, static, impl, mesh: Mesh | None, axes) -> Callable:
    """A jitted ``(key, indices, scalars, shared, stacked) -> (out, status)``.

    ``target`` is a jaxinit initializer name (``static`` is then its
    :class:`~jaxinit._src.network.Plan` and ``out`` a dict of arrays) or
    a user callable (``static`` is the config and ``out`` its ``Params``).
    ``impl`` is the PRNG implementation of a typed key, whose raw data is
    passed in, or None for a raw uint32 key. Every member folds its own index
    into the key, so under ``shard_map`` each device makes exactly the
    members of its block.
    """

    def one(key, index, scalars, shared, stacked):
        if impl is not None:
            key = jax.random.wrap_key_data(key, impl=impl)
        key = jax.random.fold_in(key, index)
        given = {**shared, **stacked}
        if isinstance(target, str):
            return build(static, key, scalars, given)
        params = target(key, static, **given)
        if not isinstance(params, Params):
            raise TypeError(f"init_fn must return a jaxinit.Params, got {type(params).__name__}")
        finite = jnp.stack([jnp.isfinite(getattr(params, f)).all() for f in ARRAY_FIELDS])
        return params, Status(jnp.asarray(jnp.nan, jnp.float32), finite, jnp.asarray(True))

    vmapped = jax.vmap(one, in_axes=(None, 0, None, None, 0))

    def batched(key, indices, scalars, shared, stacked):
        # Members are made a chunk at a time (lax.map over vmapped chunks),
        # so temporaries (random bits, the eigensolver's copies) exist for
        # one chunk only and peak memory stays close to the returned arrays.
        per_member = _member_bytes(static) if isinstance(target, str) else None
        chunk = _chunk_size(indices.shape[0], per_member)
        if chunk >= indices.shape[0]:
            return vmapped(key, indices, scalars, shared, stacked)
        return jax.lax.map(
            lambda xs: one(key, xs[0], scalars, shared, xs[1]),
            (indices, stacked),
            batch_size=chunk,
        )

    batched.__name__ = "jaxinit_ensemble"  # names the compiled module
    if mesh is None:
        return jax.jit(batched)
    split = P(axes)
    return jax.jit(
        jax.shard_map(batched, mesh=mesh, in_specs=(P(), split, P(), P(), split), out_specs=split)
    )


def _put(value, mesh: Mesh, axes, split: bool):
    """Place a host array on ``mesh``, split along its first axis or replicated.

    Each process creates only the blocks of its own devices, so this works
    with a mesh spanning several processes. Values that are not plain
    numeric arrays are returned as they are, for the usual checks to report.
    """
    if isinstance(value, jax.Array) and not value.is_fully_addressable:
        return value  # a global array (jit reports a layout that does not fit)
    try:
        host = np.asarray(value)
    except (TypeError, ValueError):
        return value
    if not (np.issubdtype(host.dtype, np.number) or host.dtype == np.bool_):
        return value
    sharding = NamedSharding(mesh, P(axes) if split else P())
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def _constrain(value, mesh: Mesh, spec):
    return jax.device_put(jnp.asarray(value), NamedSharding(mesh, spec))


# --------------------------------------------------------------------------
# Checks on the results
# --------------------------------------------------------------------------


def _local_blocks(array):
    """``(start, numpy block)`` for each distinct block held by this process, in order."""
    shards = {}
    for shard in array.addressable_shards:
        start = shard.index[0].indices(array.shape[0])[0] if shard.index else 0
        shards.setdefault(start, shard)
    for start in sorted(shards):
        yield start, np.asarray(shards[start].data)


def _member_where(member_id: int) -> str:
    return f" in member {member_id} of the ensemble"


def _first_bad(ok: np.ndarray) -> int:
    return int(np.argmin(ok))


def _check_block(plan, config: Config, status, ids) -> None:
    """Raise for the first bad member of one block of concrete results."""
    rho, finite, recurrent = (np.asarray(x) for x in status)
    if plan is not None and plan.kind == "gaussian_spectral_radius":
        ok = checks.positive_finite(rho)
        if not ok.all():
            pos = _first_bad(ok)
            check_radius(rho[pos], radius_name(plan) + _member_where(int(ids[pos])))
        if not recurrent.all():
            pos = _first_bad(recurrent)
            raise ValueError(no_recurrence_message(_member_where(int(ids[pos]))))
    ok = finite.all(axis=1)
    if not ok.all():
        pos = _first_bad(ok)
        raise ValueError(
            non_finite_message(plan or config, finite[pos], _member_where(int(ids[pos])))
        )


def _check_results(plan, config: Config, status, indices: np.ndarray) -> None:
    """The core's checks on every member, naming the first bad one.

    Concrete results are read one local block at a time (a few numbers per
    member, on the host); the networks themselves never leave their devices.
    Traced results are checked in a host callback when the program runs.
    """
    if any(checks.is_traced(x) for x in status):

        checks.on_host(lambda *values: _check_block(plan, config, values, indices), *status)
        return
    blocks = [dict(_local_blocks(x)) for x in status]
    for start in blocks[0]:
        values = [block[start] for block in blocks]
        _check_block(plan, config, values, indices[start : start + len(values[0])])


# --------------------------------------------------------------------------
# ensemble
# --------------------------------------------------------------------------


def ensemble(
    init_fn,
    key,
    n: int,
    config: Config,
    *,
    sharding=None,
    members=None,
    **given,
) -> Params:
    """``n`` networks from one key, as one ``Params`` with a leading member axis.

    Member ``i`` is ``init_fn(jax.random.fold_in(key, i), config, **given)``
    (see :func:`member_key`): the same network however the ensemble is made.
    The members are built by one jitted, vmapped program; for jaxinit's own
    initializers the value checks (spectral radius zero or NaN, non-finite
    output) are then made once on the results, and an error names the first
    bad member. Memory grows linearly with the number of members; nothing is
    gathered.

    Args:
      init_fn: :func:`~jaxinit.weight_initializer`,
        :func:`~jaxinit.gaussian_spectral_radius`,
        :func:`~jaxinit.alpha_identity`, or any callable
        ``init(key, config, **given) -> Params``. Another callable runs under
        ``jax.vmap`` as it is (its own value checks become ``jax.debug``
        callbacks, one per member), and its outputs are then checked to be
        finite. Keep the callable itself (not a fresh ``lambda``) to reuse
        the compiled program across calls.
      key: one threefry PRNG key (``jax.random.key(seed)`` or
        ``jax.random.PRNGKey(seed)``); ``rbg``/``unsafe_rbg`` keys are
        refused (see the module notes).
      n: the number of members, a positive integer below ``2**31``.
      config: a :class:`~jaxinit.Config`, shared by all members.
      sharding: where the members go. None: one device (JAX's default). A
        :class:`jax.sharding.Mesh`: the member axis is split over all of its
        axes. A :class:`jax.sharding.NamedSharding` whose spec shards the
        leading axis only, e.g. ``NamedSharding(mesh, P("members"))``: the
        member axis is split as that spec says. Each device then makes just
        its own block of members (under ``jax.shard_map``), and every array
        comes back with that sharding. The number of members made must be a
        multiple of the number of blocks (make a few more and ignore them,
        or pick ``n`` to fit). With a mesh spanning several processes
        (after ``jax.distributed.initialize``), every process makes the same
        call (with the same host arrays as ``given``; each process uploads
        only its own blocks) and gets the global arrays, whose addressable
        shards are its own members; value checks then see, and report, the
        local members only.
      members: which members to make, as a ``range`` or a sequence of
        integers in ``[0, n)``; None (default) makes all ``n``. The result
        has one entry per listed member, in order (``n`` only bounds the
        indices: member ``i`` does not depend on it). Use it to split an
        ensemble over processes or jobs without any shared runtime, e.g.
        ``members=range(p * n // P, (p + 1) * n // P)`` in process ``p`` of
        ``P``: the blocks put together equal the whole ensemble.
      **given: arrays as for the initializer (``W_rec``,
        ``rec_connectivity``, ``Dale_rec``, ...). An array of the usual
        single-network shape is shared by every member. An array with one
        extra leading axis whose length is the number of members made is
        split: row ``j`` goes to the ``j``-th member made (``init_state``
        of shape ``(1, N_rec)`` stays PsychRNN's shared layout).

    Returns:
      A :class:`~jaxinit.Params` whose arrays have shape
      ``(len(members), *single_shape)``; ``member(params, j)`` is one network.

    Raises:
      TypeError, ValueError: bad arguments, as the initializers do; a
        ``ValueError`` naming the member when a member's spectral radius is
        zero or NaN or its arrays come out non-finite.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=6, N_out=1, dale_ratio=0.5,
      ...                      spectral_radius_of="effective")
      >>> key = jax.random.key(0)
      >>> ens = ensemble(jaxinit.gaussian_spectral_radius, key, 5, cfg)
      >>> ens.W_rec.shape, ens.batch_shape
      ((5, 6, 6), (5,))
      >>> alone = jaxinit.gaussian_spectral_radius(jax.random.fold_in(key, 3), cfg)
      >>> bool(jax.numpy.allclose(ens.W_rec[3], alone.W_rec))
      True

      Split over all devices, 5 members on each:

      >>> mesh = jax.make_mesh((jax.device_count(),), ("members",))
      >>> sharded = ensemble(jaxinit.gaussian_spectral_radius, key,
      ...                    5 * jax.device_count(), cfg, sharding=mesh)
      >>> sharded.W_rec.sharding.spec[0]
      'members'

      Or made piecewise, as separate processes or jobs would:

      >>> part = ensemble(jaxinit.gaussian_spectral_radius, key, 100, cfg,
      ...                 members=range(5, 10))
      >>> one = jaxinit.gaussian_spectral_radius(member_key(key, 7), cfg)
      >>> bool(jax.numpy.allclose(member(part, 7 - 5).W_rec, one.W_rec))
      True
    """
    kind = _kind(init_fn)
    if not isinstance(config, Config):
        raise TypeError(f"config must be a jaxinit.Config, got {type(config).__name__}")
    n = checks.positive_int("n", n)
    if n > MAX_MEMBERS:
        raise ValueError(f"n must be at most {MAX_MEMBERS} (32-bit member indices), got {n}")
    _check_single_key(key)
    indices = _member_indices(members, n)
    m = len(indices)
    mesh, axes = _mesh_and_axes(sharding)
    if mesh is not None:
        blocks = _shard_count(mesh, axes)
        if m % blocks:
            raise ValueError(
                f"the {m} members made must split evenly over the {blocks} blocks of the "
                f"sharding; choose n (or members) as a multiple of {blocks}"
            )
    config.check_representable()

    traced = checks.is_traced(key) or any(checks.is_traced(v) for v in given.values())
    place = mesh is not None and not traced
    shared, stacked = _split_given(config, given, m)
    if kind is not None:
        static, scalars, shared = _prepare(kind, key, config, shared, stacked)
        stacked = _prepare_stacked(config, stacked, m)
    else:
        static, scalars = config, {}

    typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
    impl = jax.random.key_impl(key) if typed else None
    key_data = jax.random.key_data(key) if typed else key
    if place:
        # Host values (not arrays committed to one local device), so that a
        # mesh spanning several processes accepts them.
        key_data = np.asarray(key_data)
        # Each device receives only the rows of its own members.
        index_array = _put(indices, mesh, axes, True)
        stacked = {k: _put(v, mesh, axes, True) for k, v in stacked.items()}
        scalars = {k: _put(v, mesh, axes, False) for k, v in scalars.items()}
        shared = {k: _put(v, mesh, axes, False) for k, v in shared.items()}
    elif mesh is not None:
        # Inside the caller's jit: lay the inputs out as shard_map expects.
        index_array = _constrain(jnp.asarray(indices), mesh, P(axes))
        stacked = {k: _constrain(v, mesh, P(axes)) for k, v in stacked.items()}
    else:
        index_array = jnp.asarray(indices)
    target = kind or init_fn
    try:
        hash(target)
    except TypeError:  # an unhashable callable: build the program uncached
        program = _program.__wrapped__(target, static, impl, mesh, axes)
    else:
        program = _program(target, static, impl, mesh, axes)
    out, status = program(key_data, index_array, scalars, shared, stacked)
    _check_results(static if kind is not None else None, config, status, indices)
    return out if kind is None else finish(config, out)
