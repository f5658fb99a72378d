"""The three network initializers on a sparse recurrent pattern.

The same steps as :mod:`jaxinit._src.network`, with ``W_rec`` held as the
values of a :class:`RowSparse` pattern: the same :class:`~jaxinit.Config`,
the same key rule (``split(key, 4)`` for ``W_in``, ``W_rec``, ``W_out``,
``init_state``; only ``W_rec``'s draw has the pattern's shape ``(N, K)``
instead of ``(N, N)``), the same raw/effective modes and balance options.
Every step is O(N K): the balance factors, the effective weights and the
radius read the pattern's entries only, and no ``N x N`` array is built
(except for ``spectral_method="eig"``, the full solve, which needs one and
is refused above :data:`DENSE_FALLBACK_BYTES`).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxinit._src import checks, network
from jaxinit._src.config import Config
from jaxinit._src.dale import dale_diagonals
from jaxinit._src.names import KEY_SLOTS, InitializerName
from jaxinit._src.network import Arrays, Plan
from jaxinit._src.sparse.params import SparseParams, effective_rec
from jaxinit._src.sparse.predicted import sparse_predicted_radius
from jaxinit._src.sparse.radius import (
    DENSE_FALLBACK_BYTES,
    dense_fallback_fits,
    normalize_rows,
    sparse_radius,
)
from jaxinit._src.sparse.rows import RowSparse, check_row_sparse
from jaxinit._src.typing import ArrayLike, PRNGKey

#: The given arrays a sparse initializer accepts (all O(N); ``W_rec`` is a RowSparse).
SPARSE_GIVEN = (
    "W_in", "W_out", "b_rec", "b_out", "init_state", "input_connectivity", "output_connectivity"
)


def without_autapses(pattern: RowSparse) -> RowSparse:
    """``pattern`` with its diagonal entries turned into padding (value 0)."""
    rows = jnp.arange(pattern.index.shape[-2], dtype=jnp.int32)[:, None]
    diagonal = pattern.index == rows
    return RowSparse(
        jnp.where(diagonal, 0, pattern.values).astype(pattern.values.dtype),
        jnp.where(diagonal, pattern.n_cols, pattern.index).astype(jnp.int32),
        pattern.n_cols,
    )


def in_degrees(pattern: RowSparse) -> jax.Array:
    """Stored entries per row (the in-degree of each unit)."""
    return jnp.sum(pattern.stored, axis=-1)


def out_degrees(pattern: RowSparse) -> jax.Array:
    """Stored entries per column (the out-degree of each unit), by one scatter-add."""
    counts = jnp.zeros((pattern.n_cols + 1,), jnp.int32)
    return counts.at[pattern.index.ravel()].add(1)[: pattern.n_cols]


def _scheme_values(plan: Plan, scalars: Arrays, key: PRNGKey, pattern: RowSparse) -> jax.Array:
    """``W_rec`` drawn with ``plan.W_rec_scheme`` on the pattern's entries.

    The glorot schemes use PsychRNN's per-entry fan (row sum plus column sum
    of the mask), read from the pattern's degrees.
    """
    scheme, dtype, shape = plan.W_rec_scheme, plan.dtype, pattern.values.shape
    if scheme == "const_gauss":
        return jax.random.normal(key, shape, dtype)
    if scheme == "const_unif":
        return jax.random.uniform(
            key, shape, dtype, minval=scalars["minval"], maxval=scalars["maxval"]
        )
    fan = (in_degrees(pattern)[:, None] + pattern.gather(out_degrees(pattern))).astype(dtype)
    numerator = 6.0 if scheme == "glorot_unif" else 2.0
    scale = jnp.where(fan > 0, jnp.sqrt(numerator / jnp.where(fan > 0, fan, 1)), 0)
    if scheme == "glorot_unif":
        return scale * jax.random.uniform(key, shape, dtype, minval=-1.0, maxval=1.0)
    return scale * jax.random.normal(key, shape, dtype)


def balance(plan: Plan, scalars: Arrays, W: RowSparse, signs: jax.Array) -> RowSparse:
    """``W`` balanced as ``plan.dale_balance`` says, reading only stored entries.

    ``"psychrnn"``: entry ``(i, j)`` times ``v_j / n_j`` with ``n_j`` the
    norm of row ``j`` of ``mask * v`` (:func:`jaxinit.balance_dale_ratio`);
    ``"rows"``: the inhibitory entries of row ``i`` times ``E_i / I_i``
    (:func:`jaxinit.balance_rows`).
    """
    stored = W.stored.astype(W.values.dtype)
    if plan.dale_balance == "psychrnn":
        v = scalars["balance"]
        norms = jnp.sqrt(jnp.sum(stored * jnp.square(W.gather(v)), axis=-1))
        factors = v / jnp.where(norms > 0, norms, 1)
        return W.with_values(W.values * W.gather(factors))
    if plan.dale_balance == "rows":
        Wn, _ = normalize_rows(W)
        weights = jnp.abs(Wn.values) * stored
        inhibitory = W.gather(signs) < 0
        exc = jnp.sum(jnp.where(inhibitory, 0, weights), axis=-1, keepdims=True)
        inh = jnp.sum(jnp.where(inhibitory, weights, 0), axis=-1, keepdims=True)
        ok = (exc > 0) & (inh > 0)
        ratio = jnp.where(ok, exc / jnp.where(ok, inh, 1), 1)
        return W.with_values(W.values * jnp.where(inhibitory, ratio, 1))
    return W


def draw(
    plan: Plan, key: PRNGKey, scalars: Arrays, given: Arrays, pattern: RowSparse
) -> tuple[dict[str, jax.Array], RowSparse]:
    """Everything but the radius: ``(dense arrays, W_rec)``, ``W_rec`` balanced.

    ``W_rec`` holds the pattern's own index (the program returns the values
    only: an index returned from it would be a copy, 400 MB at
    ``N = 10^6``). The matrix whose radius sets the scale (raw or
    effective) is not made here: :func:`network_radius` applies the Dale
    signs inside its products.
    """
    arrays, values = draw_values(plan, key, scalars, given, pattern)
    return arrays, pattern.with_values(values)


@functools.partial(jax.jit, static_argnums=0)
def draw_values(
    plan: Plan, key: PRNGKey, scalars: Arrays, given: Arrays, pattern: RowSparse
) -> tuple[dict[str, jax.Array], jax.Array]:
    """:func:`draw`'s program: the dense arrays and ``W_rec``'s values."""
    keys = dict(zip(KEY_SLOTS, jax.random.split(key, len(KEY_SLOTS)), strict=True))
    dtype, n_in, n_rec, n_out = plan.dtype, plan.N_in, plan.N_rec, plan.N_out
    rec_diag, out_diag = dale_diagonals(n_rec, scalars.get("n_excitatory"), dtype)
    masks = {
        "input_connectivity": given.get("input_connectivity", jnp.ones((n_rec, n_in), dtype)),
        "output_connectivity": given.get("output_connectivity", jnp.ones((n_out, n_rec), dtype)),
        "dale_rec_diag": rec_diag,
        "dale_out_diag": out_diag,
    }
    arrays = {**masks, **network.other_arrays(plan, scalars, keys, given, masks)}
    if "W_rec" in given:
        values = given["W_rec"]
    elif plan.kind == "weight_initializer":
        values = _scheme_values(plan, scalars, keys["W_rec"], pattern)
    elif plan.kind == "alpha_identity":
        rows = jnp.arange(n_rec, dtype=jnp.int32)[:, None]
        values = jnp.where(pattern.index == rows, scalars["alpha"], 0).astype(dtype)
    else:
        values = jax.random.normal(keys["W_rec"], pattern.values.shape, dtype)
    W = pattern.with_values(jnp.where(pattern.stored, values, 0).astype(dtype))
    if plan.kind == "weight_initializer":
        return arrays, W.values
    return arrays, balance(plan, scalars, W, rec_diag).values


def network_radius(plan: Plan, W: RowSparse, signs: jax.Array) -> jax.Array:
    """The radius, by ``plan.spectral_method``, of ``W`` (raw) or of its
    effective weights (``signs``: the Dale diagonal)."""
    method, n = plan.spectral_method, plan.N_rec
    effective = plan.spectral_radius_of == "effective" and plan.dale
    if method in ("krylov", "auto"):
        return sparse_radius(W, tol=1e-5, signs=signs if effective else None).radius
    measured = effective_rec(W, signs, plan.dale) if effective else W
    if method == "predicted":
        predicted: jax.Array = sparse_predicted_radius(measured)
        return predicted
    members = int(np.prod(measured.batch_shape, dtype=np.int64))
    what = f"a dense {n} x {n} matrix" if members == 1 else f"{members} dense {n} x {n} matrices"
    if not dense_fallback_fits(n, plan.dtype, members):
        raise ValueError(
            f"spectral_method='eig' solves {what}, more than the "
            f"{DENSE_FALLBACK_BYTES / 2**30:g} GiB allowed for a sparse network; use "
            "spectral_method='krylov' (O(nnz) products, certified to 1e-5)"
        )
    from jaxinit._src.spectral import spectral_radius

    return spectral_radius(measured.todense(), method="eig")


@jax.jit
def _has_diagonal(index: jax.Array) -> jax.Array:
    return jnp.any(index == jnp.arange(index.shape[-2], dtype=index.dtype)[:, None])


def prepare_sparse(
    kind: InitializerName,
    key: PRNGKey,
    config: Config,
    pattern: RowSparse,
    given: Mapping[str, Any],
) -> tuple[Plan, dict[str, Any], dict[str, Any], RowSparse]:
    if not isinstance(config, Config):
        raise TypeError(f"config must be a jaxinit.Config, got {type(config).__name__}")
    pattern = check_row_sparse(pattern, "rec_connectivity")
    if pattern.batch_shape:
        raise ValueError(
            f"rec_connectivity must be one pattern (N_rec, K), got a stack {pattern.batch_shape}"
        )
    if pattern.n_cols != config.N_rec:
        raise ValueError(
            f"rec_connectivity must have shape ({config.N_rec}, {config.N_rec}) like "
            f"config.N_rec, got {pattern.shape}"
        )
    given = dict(given)
    W_rec = given.pop("W_rec", None)
    for name in given:
        if name not in SPARSE_GIVEN:
            raise TypeError(
                f"a sparse initializer does not take {name!r}; it accepts W_rec (a RowSparse "
                f"on the pattern) and the O(N) arrays {list(SPARSE_GIVEN)}"
            )
    if not config.autapses and bool(_has_diagonal(pattern.index)):
        pattern = without_autapses(pattern)  # a copy only when there is a diagonal entry
    with warnings.catch_warnings():
        if W_rec is not None:  # weight_initializer warns only when it draws W_rec
            warnings.simplefilter("ignore", network.UnregulatedSpectrumWarning)
        plan, scalars, prepared = network.prepare(kind, key, config, given)
    if W_rec is not None:
        W_rec = check_row_sparse(W_rec, "W_rec")
        same = W_rec.index.shape == pattern.index.shape and W_rec.n_cols == pattern.n_cols
        if not same or not bool(jnp.all(jnp.where(pattern.stored, W_rec.index == pattern.index,
                                                  True))):
            raise ValueError("W_rec must be stored on the pattern rec_connectivity (same index)")
        if kind == "alpha_identity":
            raise TypeError("alpha_identity builds W_rec from config.alpha and does not take W_rec")
        checks.require(
            jnp.isfinite(jnp.where(pattern.stored, W_rec.values, 0)).all(),
            lambda: "W_rec must be finite",
        )
        prepared["W_rec"] = jnp.asarray(W_rec.values, config.dtype)
    # the pattern's values (its ones, of any float dtype) are never read: no cast, no copy
    return plan, scalars, prepared, pattern


def finish_sparse(
    config: Config,
    plan: Plan,
    scalars: Arrays,
    arrays: dict[str, jax.Array],
    W: RowSparse,
    where: Callable[[int], str] = lambda _: "",
) -> SparseParams:
    """Scale ``W`` (``gaussian_spectral_radius``), check the values and make the network.

    Works on one network or a stack (leading member axes); ``where(i)``
    names member ``i`` of the flattened stack in the error messages.
    ``W``'s values must be :func:`draw`'s own: the scaling writes over them.
    """
    if plan.kind == "gaussian_spectral_radius":
        rho = network_radius(plan, W, arrays["dale_rec_diag"])
        _require_each(
            jnp.isfinite(rho) & (rho > 0),
            lambda i: (
                f"the spectral radius of {network.radius_name(plan)}{where(i)} is "
                f"{float(np.ravel(rho)[i])!r}; it must be finite and positive to scale to a "
                "chosen radius"
            ),
        )
        factor = jnp.asarray(scalars["spec_rad"]) / rho
        W = W.with_values(_scaled(W.values, factor.astype(W.values.dtype)))
    _require_each(
        _finite_members(list(arrays.values()), W.values, len(W.batch_shape)),
        lambda i: (
            f"the network{where(i)} came out non-finite (overflow in {plan.dtype}); check the "
            "size of spec_rad, alpha and the given arrays"
        ),
    )
    return SparseParams(
        W_rec=W, **arrays, dale_ratio=config.dale_ratio, transfer_function=config.transfer_function
    )


@functools.partial(jax.jit, donate_argnums=0)
def _scaled(values: jax.Array, factor: jax.Array) -> jax.Array:
    """``values * factor`` per member, in place (a second ``(N, K)`` array would
    cost 400 MB at ``N = 10^6``)."""
    return values * factor[..., None, None]


@functools.partial(jax.jit, static_argnums=2)
def _finite_members(arrays: list[jax.Array], values: jax.Array, batch: int) -> jax.Array:
    """Per member: whether every array and ``values`` are finite (no temporaries)."""
    flags = [jnp.isfinite(x).all(axis=tuple(range(batch, x.ndim))) for x in (*arrays, values)]
    return jnp.stack(flags, axis=-1).all(axis=-1)


def _require_each(ok: jax.Array, message: Callable[[int], str]) -> None:
    """Raise ``ValueError(message(i))`` for the first ``i`` (flattened) where ``ok`` is False."""
    if checks.is_traced(ok):
        checks.require(ok, lambda: message(0))
        return
    bad = np.flatnonzero(~np.asarray(ok))
    if bad.size:
        raise ValueError(message(int(bad[0])))


def _initialize(
    kind: InitializerName,
    key: PRNGKey,
    config: Config,
    pattern: RowSparse,
    given: Mapping[str, Any],
) -> SparseParams:
    plan, scalars, prepared, pattern = prepare_sparse(kind, key, config, pattern, given)
    arrays, W = draw(plan, key, scalars, prepared, pattern)
    return finish_sparse(config, plan, scalars, arrays, W)


def weight_initializer(
    key: PRNGKey, config: Config, rec_connectivity: RowSparse, **given: ArrayLike | RowSparse | None
) -> SparseParams:
    """:func:`jaxinit.weight_initializer` on a sparse recurrent pattern.

    ``W_rec`` is drawn with ``config.W_rec_scheme`` on the pattern's
    entries only (the glorot fan is PsychRNN's per-entry row plus column
    count of the mask, read from the pattern's degrees), unless ``W_rec``
    is given as a :class:`~jaxinit.sparse.RowSparse` on the same pattern.
    Like the dense function it warns that the spectrum is not controlled.

    Example:
      >>> import jax, jaxinit, warnings
      >>> cfg = jaxinit.Config(N_in=2, N_rec=30, N_out=1)
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (30, 30), 4)
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore")
      ...     sp = jaxinit.sparse.weight_initializer(jax.random.key(0), cfg, P)
      >>> sp.W_rec.values.shape
      (30, 4)
    """
    return _initialize("weight_initializer", key, config, rec_connectivity, given)


def gaussian_spectral_radius(
    key: PRNGKey, config: Config, rec_connectivity: RowSparse, **given: ArrayLike | RowSparse | None
) -> SparseParams:
    """:func:`jaxinit.gaussian_spectral_radius` on a sparse recurrent pattern.

    Standard normal values on the pattern (or the given ``W_rec``),
    balanced as ``config.dale_balance`` says, scaled so that the raw
    (``spectral_radius_of="raw"``: the values on the pattern) or the
    effective ``W_rec`` has radius ``config.spec_rad``. Use
    ``spectral_method="krylov"`` (or ``"auto"``): O(nnz) products,
    certified to 1e-5, with a full solve only for an uncertified matrix
    whose dense copy fits in 1 GiB (a larger one raises ``ValueError``).
    ``"eig"`` densifies the matrix and is refused above 1 GiB. Given the
    same pattern and values, the network is the dense function's network to
    float precision (``SparseParams.todense()``).

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=2000, N_out=1, dale_ratio=0.8,
      ...                      spectral_radius_of="effective", spectral_method="krylov")
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (2000, 2000), 50)
      >>> sp = jaxinit.sparse.gaussian_spectral_radius(jax.random.key(0), cfg, P)
      >>> eff = jaxinit.effective(sp).W_rec
      >>> round(float(jaxinit.spectral_radius(eff, method="krylov")), 4)
      1.1
    """
    return _initialize("gaussian_spectral_radius", key, config, rec_connectivity, given)


def alpha_identity(
    key: PRNGKey, config: Config, rec_connectivity: RowSparse, **given: ArrayLike | None
) -> SparseParams:
    """:func:`jaxinit.alpha_identity` on a sparse recurrent pattern.

    ``alpha`` on the diagonal entries the pattern holds (with
    ``autapses=False`` there are none, and ``W_rec`` is zero, as the dense
    function's masked identity is), balanced for Dale.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=4, N_out=1, alpha=0.5, autapses=True)
      >>> P = jaxinit.sparse.fixed_in_degree(jax.random.key(1), (4, 4), 4, autapses=True)
      >>> net = jaxinit.sparse.alpha_identity(jax.random.key(0), cfg, P)
      >>> net.W_rec.todense().diagonal().tolist()
      [0.5, 0.5, 0.5, 0.5]
    """
    return _initialize("alpha_identity", key, config, rec_connectivity, given)

