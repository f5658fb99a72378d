"""PsychRNN's training losses as pure functions: the masked losses and the regularizers.

PsychRNN adds, to a loss over the outputs weighted per time step by an output
mask, L1 and L2 penalties on the *effective* weights and an L2 penalty on the
rates ``f(states)``, each a mean over entries times its weight. The functions
here compute the same numbers, so a network trained with them minimises what
PsychRNN's ``reg_loss`` minimises.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.params import Params

#: PsychRNN's (and TensorFlow's) clipping margin in the binary cross-entropy.
BCE_EPSILON = 1e-7


def _operands(
    predictions: ArrayLike, targets: ArrayLike, output_mask: ArrayLike | None
) -> tuple[jax.Array, jax.Array, jax.Array | None]:
    p, y = jnp.asarray(predictions), jnp.asarray(targets)
    for name, a in (("predictions", p), ("targets", y)):
        if not jnp.issubdtype(a.dtype, jnp.floating):
            raise TypeError(f"{name} must be a float array, got dtype {a.dtype}")
    if p.shape != y.shape:
        raise ValueError(
            f"predictions and targets must have the same shape, got {p.shape} and {y.shape}"
        )
    if output_mask is None:
        return p, y, None
    m = jnp.asarray(output_mask)
    try:
        shape = jnp.broadcast_shapes(m.shape, p.shape)
    except ValueError:
        shape = None
    if shape != p.shape:
        raise ValueError(
            f"output_mask of shape {m.shape} does not broadcast to the predictions' "
            f"shape {p.shape}"
        )
    return p, y, m.astype(p.dtype)


def mean_squared_error(
    predictions: ArrayLike, targets: ArrayLike, output_mask: ArrayLike | None = None
) -> jax.Array:
    """PsychRNN's loss: ``mean((output_mask * (predictions - targets))**2)``.

    The mean runs over every entry, the masked ones included (as in
    PsychRNN), so a mask scales the loss rather than renormalising it.

    Args:
      predictions: the network's outputs, e.g. ``(batch, time, N_out)``.
      targets: the desired outputs, same shape.
      output_mask: weights per entry (PsychRNN's ``output_mask``: 1 where the
        output counts, 0 where it is ignored), broadcastable to the
        predictions' shape; ``None`` weighs every entry 1.

    Example:
      >>> import jax.numpy as jnp, jaxinit
      >>> p, y = jnp.array([[1.0, 2.0]]), jnp.array([[0.0, 0.0]])
      >>> float(jaxinit.mean_squared_error(p, y)), float(jaxinit.mean_squared_error(p, y, [[1, 0]]))
      (2.5, 0.5)
    """
    p, y, m = _operands(predictions, targets, output_mask)
    diff = p - y if m is None else m * (p - y)
    return jnp.mean(jnp.square(diff))


def binary_cross_entropy(
    predictions: ArrayLike, targets: ArrayLike, output_mask: ArrayLike | None = None
) -> jax.Array:
    """PsychRNN's binary cross-entropy, for outputs that are probabilities.

    ``mean(output_mask * -(y log(p + eps) + (1 - y) log(1 - p + eps)))`` with
    ``p`` clipped to ``[eps, 1 - eps]`` and ``eps = 1e-7``, as PsychRNN
    computes it.

    Args:
      predictions: probabilities, e.g. ``(batch, time, N_out)``.
      targets: 0/1 (or soft) targets, same shape.
      output_mask: weights per entry, broadcastable to the predictions'
        shape; ``None`` weighs every entry 1.

    Example:
      >>> import jax.numpy as jnp, jaxinit
      >>> round(float(jaxinit.binary_cross_entropy(jnp.array([0.9]), jnp.array([1.0]))), 4)
      0.1054
    """
    p, y, m = _operands(predictions, targets, output_mask)
    p = jnp.clip(p, BCE_EPSILON, 1.0 - BCE_EPSILON)
    terms = -(y * jnp.log(p + BCE_EPSILON) + (1 - y) * jnp.log(1 - p + BCE_EPSILON))
    return jnp.mean(terms if m is None else m * terms)


def regularization(
    params: Params,
    states: ArrayLike | None = None,
    *,
    L1_in: float = 0.0,
    L1_rec: float = 0.0,
    L1_out: float = 0.0,
    L2_in: float = 0.0,
    L2_rec: float = 0.0,
    L2_out: float = 0.0,
    L2_firing_rate: float = 0.0,
) -> jax.Array:
    """PsychRNN's regularization term, to add to the loss.

    ``L1_x * mean|W_x_eff| + L2_x * mean(W_x_eff**2)`` for ``x`` in ``in``,
    ``rec``, ``out`` (the effective weights of :func:`jaxinit.effective`,
    as PsychRNN's ``Regularizer`` uses), plus ``L2_firing_rate *
    mean(f(states)**2)`` with ``f`` the network's transfer function. The
    keyword names are PsychRNN's parameter names; every weight defaults to 0.

    Args:
      params: one network, or an ensemble's (the means then run over all
        members; ``jax.vmap`` for one term per member).
      states: the states the network went through (e.g. the second output of
        :func:`jaxinit.basic_rnn`); needed only when ``L2_firing_rate`` is
        not 0.
      L1_in, L1_rec, L1_out, L2_in, L2_rec, L2_out, L2_firing_rate: the
        non-negative weights of the terms.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=1, N_rec=4, N_out=1, dale_ratio=0.5)
      >>> net = jaxinit.gaussian_spectral_radius(jax.random.key(0), cfg)
      >>> float(jaxinit.regularization(net)) == 0.0
      True
      >>> float(jaxinit.regularization(net, L2_rec=1.0)) > 0
      True
    """
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    weights = {
        "L1_in": L1_in,
        "L1_rec": L1_rec,
        "L1_out": L1_out,
        "L2_in": L2_in,
        "L2_rec": L2_rec,
        "L2_out": L2_out,
        "L2_firing_rate": L2_firing_rate,
    }
    for name, value in weights.items():
        if checks.finite_float(name, value) < 0:
            raise ValueError(f"{name} must be non-negative, got {value!r}")
    eff = effective(params)
    total = jnp.zeros((), params.W_rec.dtype)
    for part, W in (("in", eff.W_in), ("rec", eff.W_rec), ("out", eff.W_out)):
        if weights[f"L1_{part}"]:
            total = total + weights[f"L1_{part}"] * jnp.mean(jnp.abs(W))
        if weights[f"L2_{part}"]:
            total = total + weights[f"L2_{part}"] * jnp.mean(jnp.square(W))
    if L2_firing_rate:
        if states is None:
            raise ValueError("L2_firing_rate is not 0: pass the network's states")
        s = jnp.asarray(states)
        if not jnp.issubdtype(s.dtype, jnp.floating) or s.shape[-1:] != params.W_rec.shape[-1:]:
            raise ValueError(
                f"states must be a float array whose last axis is N_rec="
                f"{params.W_rec.shape[-1]}, got dtype {s.dtype} and shape {s.shape}"
            )
        total = total + L2_firing_rate * jnp.mean(jnp.square(params.transfer(s)))
    return total
