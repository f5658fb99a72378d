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
may differ in the last bits. With ``spectral_method="krylov"``, and with
``"auto"`` from N = 96 up, the members' radii come from the batched Krylov
method (one run for the whole batch) and a single call's from the
single-matrix method or the full solve: both are certified to a relative
residual of 1e-5, and ``W_rec`` agrees to about that, not bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, overload

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt
from jax.sharding import Mesh, NamedSharding

from jaxinit._src import checks
from jaxinit._src.batching import program as program_for
from jaxinit._src.config import Config
from jaxinit._src.given import DALE_FIELD, expected_shape, prepare_array
from jaxinit._src.members import MAX_MEMBERS
from jaxinit._src.names import PSYCHRNN_NAMES, InitializerName
from jaxinit._src.network import (
    NETWORK_INITIALIZERS,
    Plan,
    Status,
    finish,
    no_recurrence_message,
    non_finite_message,
    prepare,
    radius_name,
)
from jaxinit._src.params import Params
from jaxinit._src.placement import P, constrain, local_blocks, mesh_and_axes, put, shard_count
from jaxinit._src.sparse.ensemble import sparse_ensemble, sparse_kind
from jaxinit._src.sparse.params import SparseParams
from jaxinit._src.sparse.rows import RowSparse
from jaxinit._src.spectral import check_radius
from jaxinit._src.typing import ArrayLike, HostOrDeviceArray, PRNGKey

_KINDS: dict[object, InitializerName] = {fn: name for name, fn in NETWORK_INITIALIZERS.items()}


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _kind(init_fn: object) -> InitializerName | None:
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


def _check_single_key(key: PRNGKey) -> None:
    dtype = getattr(key, "dtype", None)
    shape = getattr(key, "shape", None)
    typed = dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key)
    if typed and shape != ():
        raise ValueError(
            f"ensemble takes one key, got a batch of keys of shape {shape}; member i is "
            "made from jax.random.fold_in(key, i)"
        )
    checks.check_key(key)
    # jax's Config sets its flag attributes at run time; its stubs do not list them.
    impl = str(jax.random.key_impl(key)) if typed else str(jax.config.jax_default_prng_impl)  # type: ignore[attr-defined]
    if impl != "threefry2x32":
        raise ValueError(
            f"ensemble needs a threefry2x32 key, got a {impl} key: with other PRNG "
            "implementations JAX's batched random numbers differ from one-at-a-time ones, "
            "so a member would depend on how it was made; use "
            "jax.random.key(seed, impl='threefry2x32')"
        )


def _member_indices(
    members: Sequence[int] | npt.NDArray[np.integer[Any]] | None, n: int
) -> npt.NDArray[np.int32]:
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


def _stacked_shape(config: Config, name: str, shape: tuple[int, ...], m: int) -> bool:
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


def _split_given(
    config: Config, given: Mapping[str, Any], m: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    shared: dict[str, Any] = {}
    stacked: dict[str, Any] = {}
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


def _prepare_stacked(
    config: Config, stacked: Mapping[str, Any], m: int
) -> dict[str, HostOrDeviceArray]:
    """The core's ``prepare_array`` for arrays with a leading member axis of ``m``.

    Concrete arrays are converted and checked with numpy on the host (so
    per-member arrays are checked before any device holds them) and traced
    ones with jax.
    """
    return dict(prepare_array(config, name, value, members=m) for name, value in stacked.items())


def _placeholder(config: Config, name: str) -> npt.NDArray[np.float64]:
    """A valid single-network stand-in for a per-member array."""
    if name in ("Dale_rec", "Dale_out"):
        return np.eye(config.N_rec)
    return np.ones(expected_shape(config, name))


def _prepare(
    kind: InitializerName,
    key: PRNGKey,
    config: Config,
    shared: Mapping[str, Any],
    stacked: Mapping[str, Any],
) -> tuple[Plan, dict[str, npt.NDArray[Any]], dict[str, HostOrDeviceArray]]:
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
# Checks on the results
# --------------------------------------------------------------------------


def _member_where(member_id: int) -> str:
    return f" in member {member_id} of the ensemble"


def _first_bad(ok: npt.NDArray[np.bool_]) -> int:
    return int(np.argmin(ok))


def _check_block(
    plan: Plan | None, config: Config, status: Sequence[ArrayLike], ids: npt.NDArray[np.int32]
) -> None:
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
    members_ok = np.asarray(finite.all(axis=1))
    if not members_ok.all():
        pos = _first_bad(members_ok)
        raise ValueError(
            non_finite_message(plan or config, finite[pos], _member_where(int(ids[pos])))
        )


def _check_results(
    plan: Plan | None, config: Config, status: Status, indices: npt.NDArray[np.int32]
) -> None:
    """The core's checks on every member, naming the first bad one.

    Concrete results are read one local block at a time (a few numbers per
    member, on the host); the networks themselves never leave their devices.
    Traced results are checked in a host callback when the program runs.
    """
    if any(checks.is_traced(x) for x in status):

        checks.on_host(lambda *values: _check_block(plan, config, values, indices), *status)
        return
    blocks = [dict(local_blocks(x)) for x in status]
    for start in blocks[0]:
        values = [block[start] for block in blocks]
        _check_block(plan, config, values, indices[start : start + len(values[0])])


# --------------------------------------------------------------------------
# ensemble
# --------------------------------------------------------------------------


@overload
def ensemble(
    init_fn: Callable[..., SparseParams],
    key: PRNGKey,
    n: int,
    config: Config,
    *,
    sharding: Mesh | NamedSharding | None = None,
    members: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
    **given: ArrayLike | RowSparse | None,
) -> SparseParams: ...


@overload
def ensemble(
    init_fn: Callable[..., Params],
    key: PRNGKey,
    n: int,
    config: Config,
    *,
    sharding: Mesh | NamedSharding | None = None,
    members: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
    **given: ArrayLike | None,
) -> Params: ...


def ensemble(
    init_fn: Callable[..., Params] | Callable[..., SparseParams],
    key: PRNGKey,
    n: int,
    config: Config,
    *,
    sharding: Mesh | NamedSharding | None = None,
    members: Sequence[int] | npt.NDArray[np.integer[Any]] | None = None,
    **given: ArrayLike | RowSparse | None,
) -> Params | SparseParams:
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
        ``init(key, config, **given) -> Params``; or a sparse initializer
        (:func:`jaxinit.sparse.gaussian_spectral_radius` and the other two) with
        ``rec_connectivity=`` a shared pattern: the result is then a
        :class:`~jaxinit.sparse.SparseParams` stack, drawn by one vmapped
        program, the radii from one batched sparse Krylov run (no
        ``sharding=``; given arrays shared by all members). Another callable runs under
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
      >>> one = jaxinit.gaussian_spectral_radius(jaxinit.member_key(key, 7), cfg)
      >>> bool(jax.numpy.allclose(jaxinit.member(part, 7 - 5).W_rec, one.W_rec))
      True
    """
    sparse = sparse_kind(init_fn)
    kind = None if sparse is not None else _kind(init_fn)
    if not isinstance(config, Config):
        raise TypeError(f"config must be a jaxinit.Config, got {type(config).__name__}")
    n = checks.positive_int("n", n)
    if n > MAX_MEMBERS:
        raise ValueError(f"n must be at most {MAX_MEMBERS} (32-bit member indices), got {n}")
    _check_single_key(key)
    indices = _member_indices(members, n)
    m = len(indices)
    if sparse is not None:
        if sharding is not None:
            raise ValueError(
                "sharding= is not available for sparse ensembles; shard the members with "
                "members= (one block per process or job)"
            )
        return sparse_ensemble(sparse, key, indices, config, given)
    mesh, axes = mesh_and_axes(sharding)
    if mesh is not None and axes is not None:
        blocks = shard_count(mesh, axes)
        if m % blocks:
            raise ValueError(
                f"the {m} members made must split evenly over the {blocks} blocks of the "
                f"sharding; choose n (or members) as a multiple of {blocks}"
            )
    config.check_representable()

    traced = checks.is_traced(key) or any(checks.is_traced(v) for v in given.values())
    place = mesh is not None and not traced
    shared, stacked = _split_given(config, given, m)
    static: Plan | Config
    scalars: Mapping[str, Any]
    if kind is not None:
        static, scalars, shared = _prepare(kind, key, config, shared, stacked)
        stacked = _prepare_stacked(config, stacked, m)
    else:
        static, scalars = config, {}

    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    impl = jax.random.key_impl(key) if typed else None
    key_data: jax.Array | npt.NDArray[Any] = jax.random.key_data(key) if typed else key
    if place and mesh is not None and axes is not None:
        # Host values (not arrays committed to one local device), so that a
        # mesh spanning several processes accepts them.
        key_data = np.asarray(key_data)
        # Each device receives only the rows of its own members.
        index_array = put(indices, mesh, axes, True)
        stacked = {k: put(v, mesh, axes, True) for k, v in stacked.items()}
        scalars = {k: put(v, mesh, axes, False) for k, v in scalars.items()}
        shared = {k: put(v, mesh, axes, False) for k, v in shared.items()}
    elif mesh is not None:
        # Inside the caller's jit: lay the inputs out as shard_map expects.
        index_array = constrain(jnp.asarray(indices), mesh, P(axes))
        stacked = {k: constrain(v, mesh, P(axes)) for k, v in stacked.items()}
    else:
        index_array = jnp.asarray(indices)
    target = kind or init_fn
    try:
        hash(target)
    except TypeError:  # an unhashable callable: build the program uncached
        program = program_for.__wrapped__(target, static, impl, mesh, axes)
    else:
        program = program_for(target, static, impl, mesh, axes)
    out, status = program(key_data, index_array, scalars, shared, stacked)
    _check_results(static if isinstance(static, Plan) else None, config, status, indices)
    return out if kind is None else finish(config, out)
