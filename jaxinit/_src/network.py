"""PsychRNN's three network initializers as pure functions of a key and a config.

The data flow of every initializer: :func:`prepare` checks the key, the
config and the given arrays (eagerly, so errors name the argument), splits the
config into a static :class:`Plan` and dynamic scalars; :func:`build` (jitted)
draws the arrays, makes the masks and Dale signs, balances and scales
``W_rec``; :func:`check_outputs` raises on a zero/NaN radius or a non-finite
array; :func:`finish` wraps the arrays in :class:`~jaxinit.Params`.
:mod:`jaxinit._src.ensemble` runs the same four steps over many members.

Each initializer splits its key into four sub-keys, one per random array
(``W_in``, ``W_rec``, ``W_out``, ``init_state`` in that order), so passing
one array yourself never changes the others, and no value is drawn for an
array you passed.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.dale import (
    balance_factors,
    balance_weights,
    dale_diagonals,
    row_balance_factors,
)
from jaxinit._src.effective import effective_W_rec
from jaxinit._src.given import prepare_given
from jaxinit._src.matrices import normalize
from jaxinit._src.names import (
    ARRAY_FIELDS,
    INITIALIZER_NAMES,
    KEY_SLOTS,
    DaleBalance,
    DType,
    InitializerName,
    SchemeName,
    SpectralMethod,
    SpectralRadiusOf,
)
from jaxinit._src.params import Params
from jaxinit._src.schemes import draw
from jaxinit._src.spectral import (
    check_radius,
    finite_spectral_radius,
    resolve_method,
)
from jaxinit._src.typing import ArrayLike, HostOrDeviceArray, PRNGKey

#: The arrays of one network inside :func:`build` (by field name).
Arrays = Mapping[str, jax.Array]


class UnregulatedSpectrumWarning(UserWarning):
    """``weight_initializer`` drew ``W_rec`` without controlling its eigenvalues."""


class Plan(NamedTuple):
    """What shapes the compiled program (static); numbers travel as arrays.

    Keeping ``spec_rad``, ``alpha``, ``dale_ratio`` and the uniform bounds out
    of the static part means a sweep over them reuses one compiled program.
    """

    kind: InitializerName
    N_in: int
    N_rec: int
    N_out: int
    autapses: bool
    dale: bool
    dale_balance: DaleBalance | None
    which_rand_init: SchemeName
    W_rec_scheme: SchemeName
    dtype: DType
    spectral_radius_of: SpectralRadiusOf
    spectral_method: SpectralMethod


def plan_of(kind: InitializerName, config: Config) -> tuple[Plan, dict[str, npt.NDArray[Any]]]:
    """Split ``config`` into the static :class:`Plan` and dynamic scalars."""
    plan = Plan(
        kind=kind,
        N_in=config.N_in,
        N_rec=config.N_rec,
        N_out=config.N_out,
        autapses=config.autapses,
        dale=config.dale_ratio is not None,
        dale_balance=config.dale_balance if config.dale_ratio is not None else None,
        which_rand_init=config.which_rand_init,
        W_rec_scheme=config.W_rec_scheme,
        dtype=config.dtype,
        spectral_radius_of=config.spectral_radius_of,
        spectral_method=resolve_method(config.spectral_method, config.N_rec),
    )
    scalars = {
        "spec_rad": np.asarray(config.spec_rad, config.dtype),
        "alpha": np.asarray(config.alpha if config.alpha is not None else 0.0, config.dtype),
        "minval": np.asarray(config.init_minval, config.dtype),
        "maxval": np.asarray(config.init_maxval, config.dtype),
    }
    if config.dale_ratio is not None:
        scalars["n_excitatory"] = np.asarray(config.n_excitatory, np.int32)
        if config.dale_balance == "psychrnn":
            scalars["balance"] = np.asarray(
                balance_weights(config.N_rec, config.dale_ratio), config.dtype
            )
    return plan, scalars


def prepare(
    kind: InitializerName, key: PRNGKey, config: Config, given: Mapping[str, Any]
) -> tuple[Plan, dict[str, npt.NDArray[Any]], dict[str, HostOrDeviceArray]]:
    """Check the arguments of an initializer (eagerly) and convert ``given``.

    Returns ``(plan, scalars, given)`` ready for :func:`build`.
    """
    checks.one_of("initializer", kind, INITIALIZER_NAMES)
    if not isinstance(config, Config):
        raise TypeError(f"config must be a jaxinit.Config, got {type(config).__name__}")
    checks.check_key(key)
    config.check_representable()
    prepared = prepare_given(config, given)
    if config.dale_ratio is None:
        for name in ("dale_rec_diag", "dale_out_diag"):
            if name in prepared:
                matrix = "Dale_rec" if name == "dale_rec_diag" else "Dale_out"
                raise ValueError(
                    f"{matrix} was given but config.dale_ratio is None: Dale signs apply only "
                    f"with Dale's law; set dale_ratio (the first int(dale_ratio * N_rec) units "
                    f"are excitatory) or leave {matrix} out"
                )
    if kind == "alpha_identity":
        if config.alpha is None:
            raise ValueError("alpha_identity needs config.alpha (the diagonal value), got None")
        if "W_rec" in prepared:
            raise TypeError(
                "alpha_identity builds W_rec from config.alpha and does not take W_rec; "
                "pass a ready W_rec to weight_initializer instead"
            )
    if kind == "weight_initializer" and "W_rec" not in prepared:
        warnings.warn(
            "weight_initializer drew W_rec without regulating its eigenvalues; the network "
            "may not train. Use gaussian_spectral_radius to set the spectral radius.",
            UnregulatedSpectrumWarning,
            stacklevel=checks.user_stacklevel(),
        )
    plan, scalars = plan_of(kind, config)
    return plan, scalars, prepared


def _rand(plan: Plan, scalars: Arrays, name: str, key: PRNGKey, mask: jax.Array) -> jax.Array:
    scheme = plan.W_rec_scheme if name == "W_rec" else plan.which_rand_init
    return draw(
        scheme, key, mask, minval=scalars["minval"], maxval=scalars["maxval"], dtype=plan.dtype
    )


def _balance(
    plan: Plan, scalars: Arrays, W: jax.Array, masks: Arrays, mask_is_ones: bool
) -> jax.Array:
    """``W`` balanced as ``plan.dale_balance`` says (unchanged without Dale)."""
    mask = None if mask_is_ones else masks["rec_connectivity"]
    if plan.dale_balance == "psychrnn":
        return W * balance_factors(mask, scalars["balance"])[None, :]
    if plan.dale_balance == "rows":
        # The factors do not depend on the scale of W; measured on the
        # normalized copy, their sums cannot overflow.
        return W * row_balance_factors(normalize(W)[0], mask, masks["dale_rec_diag"])
    return W


def _masks_and_signs(
    plan: Plan, scalars: Arrays, given: Arrays
) -> tuple[dict[str, jax.Array], bool]:
    """The three masks and the two Dale diagonals; also whether the recurrent
    mask is known to be all ones (then no product with it is needed)."""
    dtype, n_in, n_rec, n_out = plan.dtype, plan.N_in, plan.N_rec, plan.N_out
    out = {
        "input_connectivity": given.get("input_connectivity", jnp.ones((n_rec, n_in), dtype)),
        "rec_connectivity": given.get("rec_connectivity", jnp.ones((n_rec, n_rec), dtype)),
        "output_connectivity": given.get("output_connectivity", jnp.ones((n_out, n_rec), dtype)),
    }
    mask_is_ones = "rec_connectivity" not in given and plan.autapses
    if not plan.autapses:
        out["rec_connectivity"] = out["rec_connectivity"] * (1 - jnp.eye(n_rec, dtype=dtype))
    rec_diag, out_diag = dale_diagonals(n_rec, scalars.get("n_excitatory"), dtype)
    out["dale_rec_diag"] = given.get("dale_rec_diag", rec_diag)
    out["dale_out_diag"] = given.get("dale_out_diag", out_diag)
    return out, mask_is_ones


def other_arrays(
    plan: Plan, scalars: Arrays, keys: Arrays, given: Arrays, masks: Arrays
) -> dict[str, jax.Array]:
    """``W_in``, ``W_out``, the biases and ``init_state`` (drawn unless given)."""
    dtype, n_rec, n_out = plan.dtype, plan.N_rec, plan.N_out
    out: dict[str, jax.Array] = {}
    for name, mask in (("W_in", "input_connectivity"), ("W_out", "output_connectivity")):
        if name in given:
            out[name] = given[name]
        else:
            out[name] = _rand(plan, scalars, name, keys[name], masks[mask])
    out["b_rec"] = given.get("b_rec", jnp.zeros((n_rec,), dtype))
    out["b_out"] = given.get("b_out", jnp.zeros((n_out,), dtype))
    if "init_state" in given:
        out["init_state"] = given["init_state"]
    else:
        out["init_state"] = 0.1 + 0.01 * jax.random.normal(keys["init_state"], (n_rec,), dtype)
    return out


def _recurrent(
    plan: Plan, scalars: Arrays, key: PRNGKey, given: Arrays, masks: Arrays, mask_is_ones: bool
) -> tuple[jax.Array, jax.Array]:
    """``(W_rec, rho)``: the recurrent weights of the initializer ``plan.kind``
    and the radius they were scaled by (NaN when nothing was scaled)."""
    dtype, n_rec = plan.dtype, plan.N_rec
    mask = masks["rec_connectivity"]
    rho = jnp.asarray(jnp.nan, dtype)
    if plan.kind == "weight_initializer":
        if "W_rec" in given:
            return given["W_rec"], rho
        return _rand(plan, scalars, "W_rec", key, mask), rho
    if plan.kind == "alpha_identity":
        W = scalars["alpha"] * jnp.eye(n_rec, dtype=dtype)
        return _balance(plan, scalars, W, masks, mask_is_ones), rho
    W = given["W_rec"] if "W_rec" in given else jax.random.normal(key, (n_rec, n_rec), dtype)
    # Scaled by its largest entry first, so the radius and the factor that
    # sets it stay near 1 for any W the dtype holds (the effective matrix is
    # linear in W, so it can be measured on the normalized one).
    W, _ = normalize(_balance(plan, scalars, W, masks, mask_is_ones))
    if plan.spectral_radius_of == "effective":
        measured = effective_W_rec(
            W, None if mask_is_ones else mask, masks["dale_rec_diag"], plan.dale
        )
    else:
        measured = W
    rho = finite_spectral_radius(measured, plan.spectral_method)  # checked in check_outputs
    return W * (scalars["spec_rad"] / rho), rho


def _has_recurrence(plan: Plan, masks: Arrays, mask_is_ones: bool) -> jax.Array:
    """False when the recurrent mask is zero or strictly triangular, so that
    the effective ``W_rec`` is nilpotent (no recurrent dynamics) whatever the
    weights. Checked in raw mode, where the effective matrix is not measured
    (in effective mode its radius of 0 is refused anyway); O(N^2)."""
    if (
        mask_is_ones
        or plan.kind != "gaussian_spectral_radius"
        or plan.spectral_radius_of == "effective"
    ):
        return jnp.asarray(True)
    mask = masks["rec_connectivity"] != 0
    lower = jnp.tril(mask).any()  # entries on or below the diagonal
    upper = jnp.triu(mask).any()
    return lower & upper


class Status(NamedTuple):
    """What :func:`build` measured, checked by :func:`check_outputs`.

    ``rho``: the radius ``W_rec`` was scaled by (NaN when nothing was
    scaled). ``finite``: one flag per :data:`ARRAY_FIELDS` entry.
    ``recurrent``: False when the mask leaves no recurrent dynamics.
    Ensembles carry a leading member axis on each.
    """

    rho: jax.Array
    finite: jax.Array
    recurrent: jax.Array


@functools.partial(jax.jit, static_argnums=0)
def build(
    plan: Plan, key: PRNGKey, scalars: Arrays, given: Arrays
) -> tuple[dict[str, jax.Array], Status]:
    """The pure computation of one network: ``(arrays, status)``.

    ``arrays`` maps every :data:`ARRAY_FIELDS` name to its array; ``status``
    is a :class:`Status`. Nothing here raises on values: the caller checks
    ``status`` (see :func:`check_outputs`), which lets ``jax.vmap`` and
    sharded callers check a whole batch at once.
    """
    keys = dict(zip(KEY_SLOTS, jax.random.split(key, len(KEY_SLOTS)), strict=True))
    masks, mask_is_ones = _masks_and_signs(plan, scalars, given)
    out = {**masks, **other_arrays(plan, scalars, keys, given, masks)}
    out["W_rec"], rho = _recurrent(plan, scalars, keys["W_rec"], given, masks, mask_is_ones)
    finite = jnp.stack([jnp.isfinite(out[name]).all() for name in ARRAY_FIELDS])
    status = Status(rho, finite, _has_recurrence(plan, masks, mask_is_ones))
    return {name: out[name] for name in ARRAY_FIELDS}, status


def radius_name(plan: Plan) -> str:
    """The matrix whose radius ``gaussian_spectral_radius`` measures."""
    return "effective W_rec" if plan.spectral_radius_of == "effective" else "W_rec"


def non_finite_message(plan: Plan | Config, flags: ArrayLike, where: str = "") -> str:
    """The message for arrays that came out non-finite (``flags``: one per field)."""
    bad = [n for n, ok in zip(ARRAY_FIELDS, np.asarray(flags), strict=True) if not ok]
    return (
        f"{', '.join(bad)}{where} came out non-finite (overflow in {plan.dtype}); "
        "check the size of spec_rad, alpha and the given arrays"
    )


def no_recurrence_message(where: str = "") -> str:
    """The message for a recurrent mask that leaves no recurrent dynamics."""
    return (
        f"rec_connectivity{where} is zero or strictly triangular, so the effective W_rec "
        "is nilpotent (spectral radius 0: no recurrent dynamics); give a mask with a cycle"
    )


def check_outputs(plan: Plan, status: Status, *, where: str = "") -> None:
    """Raise ``ValueError`` for a zero/NaN radius, a mask without recurrence or
    a non-finite array. ``where`` is added to the messages (e.g. "in member 3").
    """
    if plan.kind == "gaussian_spectral_radius":
        check_radius(status.rho, radius_name(plan) + where)
        checks.require(status.recurrent, lambda: no_recurrence_message(where))
    checks.require(
        status.finite,
        lambda f: non_finite_message(
            plan, np.asarray(f).reshape(-1, len(ARRAY_FIELDS)).all(0), where
        ),
        operands=(status.finite,),
    )


def finish(config: Config, arrays: Mapping[str, Any]) -> Params:
    """Wrap the arrays of :func:`build` into :class:`Params` with the metadata."""
    return Params(
        **arrays, dale_ratio=config.dale_ratio, transfer_function=config.transfer_function
    )


def _initialize(
    kind: InitializerName, key: PRNGKey, config: Config, given: Mapping[str, Any]
) -> Params:
    plan, scalars, prepared = prepare(kind, key, config, given)
    arrays, status = build(plan, key, scalars, prepared)
    check_outputs(plan, status)
    return finish(config, arrays)


def weight_initializer(key: PRNGKey, config: Config, **given: ArrayLike | None) -> Params:
    """PsychRNN's ``WeightInitializer``: random weights, no spectral control.

    ``W_in``/``W_out`` are drawn with ``config.which_rand_init`` and ``W_rec``
    with ``config.W_rec_scheme``; biases are zero; ``init_state`` is
    ``0.1 + 0.01 * N(0, 1)``. Masks are all ones unless given, and
    ``autapses=False`` zeroes the diagonal of the recurrent mask (also of a
    given one, which is copied, not changed). Dale signs follow
    ``config.dale_ratio``. Like PsychRNN, this warns
    (:class:`UnregulatedSpectrumWarning`) when it draws ``W_rec`` itself.

    Args:
      key: a JAX PRNG key (``jax.random.key(seed)``).
      config: a :class:`~jaxinit.Config`.
      **given: any of PsychRNN's arrays (``W_in``, ``W_rec``, ``W_out``,
        ``b_rec``, ``b_out``, ``init_state``, the three ``*_connectivity``
        masks, ``Dale_rec``, ``Dale_out``); each replaces its default.

    Example:
      >>> import jax, jax.numpy as jnp, jaxinit
      >>> cfg = jaxinit.Config(N_in=3, N_rec=5, N_out=2)
      >>> p = weight_initializer(jax.random.key(0), cfg, W_rec=jnp.zeros((5, 5)))
      >>> p.W_in.shape, p.W_out.shape, float(p.W_rec.sum())
      ((5, 3), (2, 5), 0.0)
    """
    return _initialize("weight_initializer", key, config, given)


def gaussian_spectral_radius(
    key: PRNGKey, config: Config, **given: ArrayLike | None
) -> Params:
    """PsychRNN's ``GaussianSpectralRadius``: Gaussian ``W_rec`` with a set radius.

    ``W_rec`` is standard normal (or the given ``W_rec``: unlike PsychRNN,
    which ignores it, jaxinit balances and scales the matrix you pass), then
    balanced with :func:`~jaxinit.balance_dale_ratio` when Dale's law is on,
    then scaled to ``config.spec_rad``: with ``spectral_radius_of="raw"``
    the raw ``W_rec`` gets that radius (PsychRNN's behaviour); with
    ``"effective"`` the effective matrix ``effective(params).W_rec`` does.
    A radius of zero (e.g. a nilpotent mask) raises ``ValueError``. The other
    arrays are as in :func:`weight_initializer`.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=40, N_out=1, dale_ratio=0.8,
      ...                      spectral_radius_of="effective")
      >>> p = gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> round(float(jaxinit.spectral_radius(jaxinit.effective(p).W_rec)), 4)
      1.1
    """
    return _initialize("gaussian_spectral_radius", key, config, given)


def alpha_identity(key: PRNGKey, config: Config, **given: ArrayLike | None) -> Params:
    """PsychRNN's ``AlphaIdentity``: ``W_rec = alpha * I``, balanced for Dale.

    ``config.alpha`` is required. With Dale's law on, the identity is passed
    through :func:`~jaxinit.balance_dale_ratio`, so the diagonal is not
    exactly ``alpha``. The other arrays are as in :func:`weight_initializer`.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=3, N_out=1, alpha=0.5)
      >>> alpha_identity(jax.random.key(0), cfg).W_rec.diagonal().tolist()
      [0.5, 0.5, 0.5]
    """
    return _initialize("alpha_identity", key, config, given)


class NetworkInitializer(Protocol):
    """The signature of a network initializer: ``init(key, config, **given) -> Params``."""

    def __call__(self, key: PRNGKey, config: Config, **given: ArrayLike | None) -> Params: ...


#: The three network initializers by name (the names of :data:`INITIALIZER_NAMES`).
NETWORK_INITIALIZERS: dict[InitializerName, NetworkInitializer] = {
    "weight_initializer": weight_initializer,
    "gaussian_spectral_radius": gaussian_spectral_radius,
    "alpha_identity": alpha_identity,
}


def initializer_name(initializer: InitializerName | NetworkInitializer) -> InitializerName:
    """The name of a network initializer given by name or as the function.

    Example:
      >>> initializer_name(alpha_identity), initializer_name("alpha_identity")
      ('alpha_identity', 'alpha_identity')
    """
    if isinstance(initializer, str) and initializer in NETWORK_INITIALIZERS:
        return initializer
    for name, fn in NETWORK_INITIALIZERS.items():
        if initializer is fn:
            return name
    raise ValueError(
        f"initializer must be one of {list(INITIALIZER_NAMES)} (a name or the jaxinit "
        f"function), got {initializer!r}"
    )
