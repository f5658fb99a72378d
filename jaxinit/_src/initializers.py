"""PsychRNN's three initializers as pure functions of a key and a config.

Each initializer splits its key into four sub-keys, one per random array
(``W_in``, ``W_rec``, ``W_out``, ``init_state`` in that order), so passing
one array yourself never changes the others, and no value is drawn for an
array you passed.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp

from jaxinit._src import checks
from jaxinit._src.config import Config
from jaxinit._src.dale import balance_dale_ratio, dale_vectors
from jaxinit._src.effective import effective_W_rec
from jaxinit._src.given import prepare_given
from jaxinit._src.params import ARRAY_FIELDS, Params
from jaxinit._src.schemes import draw
from jaxinit._src.spectral import check_radius, spectral_radius

_KEY_SLOTS = ("W_in", "W_rec", "W_out", "init_state")


class UnregulatedSpectrumWarning(UserWarning):
    """``weight_initializer`` drew ``W_rec`` without controlling its eigenvalues."""


def _rand(config: Config, name: str, key, mask):
    scheme = config.W_rec_scheme if name == "W_rec" else config.which_rand_init
    return draw(
        scheme,
        key,
        mask,
        minval=config.init_minval,
        maxval=config.init_maxval,
        dtype=config.dtype,
    )


def _base(key, config: Config, given: dict) -> dict:
    """Every array except the final ``W_rec`` (which each initializer sets)."""
    dtype = config.dtype
    keys = dict(zip(_KEY_SLOTS, jax.random.split(key, len(_KEY_SLOTS))))
    n_in, n_rec, n_out = config.N_in, config.N_rec, config.N_out
    out = {
        "input_connectivity": given.get("input_connectivity", jnp.ones((n_rec, n_in), dtype)),
        "rec_connectivity": given.get("rec_connectivity", jnp.ones((n_rec, n_rec), dtype)),
        "output_connectivity": given.get("output_connectivity", jnp.ones((n_out, n_rec), dtype)),
    }
    if not config.autapses:
        out["rec_connectivity"] = out["rec_connectivity"] * (1 - jnp.eye(n_rec, dtype=dtype))
    rec_diag, out_diag = dale_vectors(n_rec, config.dale_ratio, dtype)
    out["dale_rec_diag"] = given.get("dale_rec_diag", rec_diag)
    out["dale_out_diag"] = given.get("dale_out_diag", out_diag)
    for name, mask in (("W_in", "input_connectivity"), ("W_out", "output_connectivity")):
        out[name] = given[name] if name in given else _rand(config, name, keys[name], out[mask])
    out["b_rec"] = given.get("b_rec", jnp.zeros((n_rec,), dtype))
    out["b_out"] = given.get("b_out", jnp.zeros((n_out,), dtype))
    if "init_state" in given:
        out["init_state"] = given["init_state"]
    else:
        out["init_state"] = 0.1 + 0.01 * jax.random.normal(keys["init_state"], (n_rec,), dtype)
    out["_key_W_rec"] = keys["W_rec"]
    return out


def _params(config: Config, arrays: dict) -> Params:
    return Params(
        **{name: arrays[name] for name in ARRAY_FIELDS},
        dale_ratio=config.dale_ratio,
        transfer_function=config.transfer_function,
    )


@functools.partial(jax.jit, static_argnums=(1, 2))
def _build(key, config: Config, kind: str, given: dict):
    arrays = _base(key, config, given)
    k_rec = arrays.pop("_key_W_rec")
    mask = arrays["rec_connectivity"]
    rho = jnp.asarray(jnp.nan, config.dtype)
    if kind == "weight_initializer":
        W = given["W_rec"] if "W_rec" in given else _rand(config, "W_rec", k_rec, mask)
    elif kind == "alpha_identity":
        W = config.alpha * jnp.eye(config.N_rec, dtype=config.dtype)
        W = balance_dale_ratio(W, mask, config.dale_ratio)
    else:  # gaussian_spectral_radius
        W = given["W_rec"] if "W_rec" in given else jax.random.normal(
            k_rec, (config.N_rec, config.N_rec), config.dtype
        )
        W = balance_dale_ratio(W, mask, config.dale_ratio)
        if config.spectral_radius_of == "effective":
            dale = config.dale_ratio is not None
            measured = effective_W_rec(W, mask, arrays["dale_rec_diag"], dale)
        else:
            measured = W
        rho = spectral_radius(measured)
        W = W * (config.spec_rad / rho).astype(config.dtype)
    arrays["W_rec"] = W
    return _params(config, arrays), rho


def _initialize(kind: str, key, config: Config, given: dict) -> Params:
    if not isinstance(config, Config):
        raise TypeError(f"config must be a jaxinit.Config, got {type(config).__name__}")
    checks.check_key(key)
    config._check_representable()
    given = prepare_given(config, given)
    if kind == "alpha_identity":
        if config.alpha is None:
            raise ValueError("alpha_identity needs config.alpha (the diagonal value), got None")
        if "W_rec" in given:
            raise TypeError(
                "alpha_identity builds W_rec from config.alpha and does not take W_rec; "
                "pass a ready W_rec to weight_initializer instead"
            )
    if kind == "weight_initializer" and "W_rec" not in given:
        warnings.warn(
            "weight_initializer drew W_rec without regulating its eigenvalues; the network "
            "may not train. Use gaussian_spectral_radius to set the spectral radius.",
            UnregulatedSpectrumWarning,
            stacklevel=3,
        )
    params, rho = _build(key, config, kind, given)
    if kind == "gaussian_spectral_radius":
        which = "effective W_rec" if config.spectral_radius_of == "effective" else "W_rec"
        check_radius(rho, which)
    _check_finite(params)
    return params


def _check_finite(params: Params) -> None:
    flags = jnp.stack([jnp.isfinite(getattr(params, n)).all() for n in ARRAY_FIELDS])

    def message(values):
        bad = [n for n, ok in zip(ARRAY_FIELDS, values) if not ok]
        return (
            f"{', '.join(bad)} came out non-finite (overflow in {params.W_rec.dtype}); "
            "check the size of spec_rad, alpha and the given arrays"
        )

    checks.require(flags, message, operands=(flags,))


def weight_initializer(key, config: Config, **given) -> Params:
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


def gaussian_spectral_radius(key, config: Config, **given) -> Params:
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


def alpha_identity(key, config: Config, **given) -> Params:
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
