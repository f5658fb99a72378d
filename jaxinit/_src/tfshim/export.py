"""A jaxinit network as TensorFlow initializers, a PsychRNN initializer or model dict."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.files.layout import psychrnn_dale_ratio
from jaxinit._src.files.saving import save_npz
from jaxinit._src.kernels.base import layout_choice
from jaxinit._src.names import (
    FIELD_OF,
    MASK_NAMES,
    PSYCHRNN_NAMES,
    WEIGHT_NAMES,
    WEIGHTS,
    Layout,
    Weights,
    psychrnn_shapes,
)
from jaxinit._src.params import Params
from jaxinit._src.tfshim.arrays import ArrayInitializer, tf_transfer_function

# The 2-D matrices that layout="in_out" transposes (Dale matrices are
# diagonal, hence symmetric, and stay as they are).
TRANSPOSED = (*WEIGHT_NAMES, *MASK_NAMES)


def check_params(params: object) -> None:
    """``params`` is one network whose arrays have PsychRNN's shapes."""
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    checks.single_network(params)
    shapes = psychrnn_shapes(params.N_in, params.N_rec, params.N_out, dale_matrices=False)
    for name, shape in shapes.items():
        field = FIELD_OF[name]
        got = tuple(np.shape(getattr(params, field)))
        if got != shape:
            raise ValueError(f"params.{field} must have shape {shape}, got {got}")
    tf_transfer_function(params.transfer_function)


def psychrnn_weights(params: Params) -> Weights:
    """The weights a PsychRNN model is handed: raw, or effective for ``dale_ratio`` 0.

    PsychRNN applies the masks, ``|.|`` and the Dale matrices itself, so raw
    weights give ``jaxinit.effective(params)`` inside it. For a ratio of 0
    the effective weights are handed over instead: they are a fixed point of
    PsychRNN's transform, so the model starts from the same weights even
    where a ratio of 0 reaches PsychRNN's ``if dale_ratio:`` unchanged.
    """
    return "effective" if params.dale_ratio == 0 else "raw"


def weights_choice(weights: Any, *, depth: int = 1) -> Weights | Literal["psychrnn"]:
    """``weights`` checked; ``"psychrnn"`` (jaxinit 0.1) is accepted with a warning."""
    if weights == "psychrnn":
        checks.deprecated(
            "weights='psychrnn'",
            "weights='raw' (PsychRNN applies masks and Dale signs itself) or "
            "weights='effective'; jaxinit.tf.psychrnn_initializer chooses for PsychRNN",
            stacklevel=3 + depth,
        )
        return "psychrnn"
    return checks.choice("weights", weights, WEIGHTS)


def check_masks_01(arrays: dict[str, npt.NDArray[Any]]) -> None:
    """Effective weights go with 0/1 masks only (else PsychRNN would mask twice)."""
    for name in MASK_NAMES:
        mask = arrays[name]
        if not np.isin(mask, (0, 1)).all():
            bad = checks.first_bad(mask, lambda v: np.isin(v, (0, 1)))
            raise ValueError(
                f"params.{name} must hold only 0 and 1 to hand over effective weights, "
                f"got {bad!r}; pass weights='raw' for a network with other mask values"
            )


def export_arrays(params: Params, weights: Weights, layout: Layout) -> dict[str, npt.NDArray[Any]]:
    """Numpy copies of the eleven arrays, under PsychRNN's names, in ``layout``."""
    arrays = {name: np.array(getattr(params, FIELD_OF[name])) for name in PSYCHRNN_NAMES[:9]}
    arrays["Dale_rec"] = np.diag(np.asarray(params.dale_rec_diag))
    arrays["Dale_out"] = np.diag(np.asarray(params.dale_out_diag))
    if weights == "effective":
        check_masks_01(arrays)
        eff = effective(params)
        arrays.update({name: np.array(getattr(eff, name)) for name in WEIGHT_NAMES})
    if layout == "in_out":
        for name in TRANSPOSED:
            arrays[name] = np.ascontiguousarray(arrays[name].T)
    return arrays


def variable_initializers(
    params: Params, *, weights: Weights = "effective", layout: Layout = "out_in"
) -> dict[str, ArrayInitializer]:
    """TensorFlow initializers for every array of one network.

    Args:
      params: a single network (:class:`~jaxinit.Params` without ensemble
        axes; an ensemble raises ``ValueError``).
      weights: which ``W_in``/``W_rec``/``W_out`` to hand over:
        ``"effective"`` (default) ``jaxinit.effective(params)``, the weights
        the network multiplies by (the masks must then be 0/1; these are also
        right for a model that applies the masks and Dale matrices again,
        which leave them unchanged); ``"raw"`` the weights as drawn, for a
        model that applies masks, ``|.|`` and the Dale matrices itself.
        ``"psychrnn"`` (deprecated) is raw except effective for
        ``dale_ratio`` 0, the choice :func:`psychrnn_initializer` makes.
      layout: ``"out_in"`` (default) for PsychRNN's ``(out, in)`` shapes;
        ``"in_out"`` to transpose the 2-D weight and mask matrices to Keras's
        ``(in, out)`` kernel layout. ``"psychrnn"`` and ``"keras"`` are the
        deprecated 0.1 spellings.

    Returns:
      A dict from PsychRNN's names (``W_in``, ``W_rec``, ``W_out``,
      ``b_rec``, ``b_out``, ``init_state``, the three ``*_connectivity``
      masks, ``Dale_rec``, ``Dale_out``) to :class:`ArrayInitializer`
      objects. ``Dale_rec`` and ``Dale_out`` are the dense diagonal
      ``(N_rec, N_rec)`` matrices. Nothing in ``params`` is changed.

    Example:
      >>> import jax, jaxinit, numpy as np, tensorflow as tf
      >>> cfg = jaxinit.Config(N_in=2, N_rec=3, N_out=1, alpha=0.5)
      >>> params = jaxinit.alpha_identity(jax.random.key(0), cfg)
      >>> inits = variable_initializers(params)
      >>> tf.Variable(inits["W_rec"]((3, 3), tf.float32)).numpy().diagonal().tolist()
      [0.5, 0.5, 0.5]
      >>> dense = tf.keras.layers.Dense(
      ...     3, kernel_initializer=variable_initializers(params, layout="in_out")["W_in"])
      >>> dense.build((None, 2))
      >>> bool(np.array_equal(dense.kernel.numpy(), np.asarray(params.W_in).T))
      True
    """
    checked = weights_choice(weights)
    return build_initializers(params, checked, layout_choice(layout))


def build_initializers(
    params: Params, weights: Weights | Literal["psychrnn"], layout: Layout
) -> dict[str, ArrayInitializer]:
    """:func:`variable_initializers` for arguments already checked."""
    check_params(params)
    if weights == "psychrnn":
        weights = psychrnn_weights(params)
    arrays = export_arrays(params, weights, layout)
    return {name: ArrayInitializer(arrays[name], name=name) for name in PSYCHRNN_NAMES}


class PsychRNNInitializer:
    """A jaxinit network behind PsychRNN's initializer interface.

    Made by :func:`psychrnn_initializer`; see there.

    Attributes:
      N_in, N_rec, N_out: the sizes of the network.
      initializations: dict of numpy arrays under PsychRNN's names (raw
        weights, or effective ones for ``dale_ratio`` 0; dense Dale
        matrices), plus ``dale_ratio`` (as :meth:`get_dale_ratio` returns it)
        and ``transfer_function`` (a TensorFlow function), as in PsychRNN's
        ``WeightInitializer``. The arrays are copies: changing them changes
        what :meth:`get` returns, never the ``Params`` (nor what :meth:`save`
        writes).
      params: the :class:`~jaxinit.Params` it was made from.
    """

    def __init__(self, params: Params) -> None:
        check_params(params)
        arrays = export_arrays(params, psychrnn_weights(params), "out_in")
        self.params = params
        self.N_in, self.N_rec, self.N_out = params.N_in, params.N_rec, params.N_out
        ratio = params.dale_ratio
        self.initializations: dict[str, Any] = dict(arrays)
        self.initializations["dale_ratio"] = None if ratio is None else psychrnn_dale_ratio(ratio)
        self.initializations["transfer_function"] = tf_transfer_function(params.transfer_function)

    def get(self, tensor_name: str) -> ArrayInitializer:
        """The TensorFlow initializer for one array (PsychRNN's ``get``).

        Args:
          tensor_name: one of PsychRNN's array names (``W_in``, ...,
            ``Dale_out``).
        """
        if not isinstance(tensor_name, str) or tensor_name not in PSYCHRNN_NAMES:
            raise ValueError(
                f"tensor_name must be one of {list(PSYCHRNN_NAMES)}, got {tensor_name!r}"
            )
        return ArrayInitializer(self.initializations[tensor_name], name=tensor_name)

    def get_dale_ratio(self) -> float | None:
        """The fraction of excitatory units, or None without Dale's law.

        A ratio of 0 (every unit inhibitory) comes back as the smallest
        positive float64 (about ``2.2e-308``), the value
        :func:`jaxinit.save_npz` writes for it: PsychRNN's model switches
        Dale's law on with ``if dale_ratio:``, which 0.0 would fail, and
        ``int(ratio * N_rec)`` is still 0 excitatory units, so PsychRNN
        applies Dale's law with every unit inhibitory, as jaxinit does.
        :func:`jaxinit.load_npz` reads that value back as 0.
        """
        ratio: float | None = self.initializations["dale_ratio"]
        return ratio

    def get_transfer_function(self) -> Callable[..., Any]:
        """The TensorFlow transfer function named by ``params.transfer_function``."""
        fn: Callable[..., Any] = self.initializations["transfer_function"]
        return fn

    def save(self, save_path: str | os.PathLike[str]) -> pathlib.Path:
        """Write the network to an ``.npz`` file that PsychRNN can load.

        Written with :func:`jaxinit.save_npz` from the ``Params`` this
        initializer was made from (:attr:`params`; changes to
        :attr:`initializations` are not saved), so it is the one file format
        of jaxinit: the effective ``W_in``, ``W_rec``, ``W_out`` and the other
        arrays under PsychRNN's names, ``dale_ratio`` as a 0-d float64 (the
        smallest positive float64 for a ratio of 0) or, without Dale's law,
        PsychRNN's own 0-d object array holding None, plus ``jaxinit/``
        entries PsychRNN ignores (raw matrices and metadata). Like
        ``np.savez``, ``.npz`` is appended when the name lacks it. PsychRNN's
        ``load_weights_path`` loads it as exactly ``jaxinit.effective(params)``,
        and :func:`jaxinit.load_npz` returns the ``Params`` bit for bit. Only
        the None ratio needs pickle to read with numpy (``allow_pickle=True``).

        Args:
          save_path: file path (str or path-like).

        Returns:
          The ``pathlib.Path`` written (with the ``.npz`` suffix).
        """
        if not isinstance(save_path, (str, os.PathLike)):
            raise TypeError(f"save_path must be a str or os.PathLike, got {save_path!r}")
        return save_npz(save_path, self.params)

    def __repr__(self) -> str:
        fn = getattr(self.get_transfer_function(), "__name__", "?")
        return (
            f"PsychRNNInitializer(N_in={self.N_in}, N_rec={self.N_rec}, N_out={self.N_out}, "
            f"dale_ratio={self.get_dale_ratio()!r}, transfer_function={fn!r})"
        )


def psychrnn_initializer(params: Params) -> PsychRNNInitializer:
    """Wrap a network as a PsychRNN initializer (``params['initializer']``).

    The result offers what PsychRNN's ``RNN`` uses of an initializer:
    ``get(name)`` (a TensorFlow initializer per array, fitting PsychRNN's
    ``tf.compat.v1.get_variable`` calls, including its ``(1, N_rec)``
    ``init_state``), ``get_dale_ratio()``, plus ``get_transfer_function()``,
    the ``initializations`` dict and ``save(path)``. Inside PsychRNN's model the
    effective weights are exactly ``jaxinit.effective(params)``, also for
    ``dale_ratio`` 0 (see :meth:`PsychRNNInitializer.get_dale_ratio`), and
    training keeps jaxinit's Dale signs.

    PsychRNN's model takes its transfer function from the parameter dict, not
    from the initializer: pass ``transfer_function=init.get_transfer_function()``
    too, or build the dict with :func:`psychrnn_params`.

    Args:
      params: a single network (no ensemble axes).

    Example:
      >>> import jax, jaxinit, numpy as np, tensorflow as tf
      >>> cfg = jaxinit.Config(N_in=2, N_rec=4, N_out=1, dale_ratio=0.5, alpha=1.0)
      >>> init = psychrnn_initializer(jaxinit.alpha_identity(jax.random.key(0), cfg))
      >>> init.get_dale_ratio(), init.get_transfer_function() is tf.nn.relu
      (0.5, True)
      >>> init.initializations["Dale_rec"].diagonal().tolist()
      [1.0, 1.0, -1.0, -1.0]
      >>> tf.Variable(init.get("init_state")((1, 4), tf.float32)).shape
      TensorShape([1, 4])
    """
    return PsychRNNInitializer(params)


SET_FROM_PARAMS = ("N_in", "N_rec", "N_out", "initializer", "transfer_function")


def check_model_params(model_params: dict[str, Any]) -> None:
    """Refuse the keys :func:`psychrnn_params` sets or that would bypass the initializer."""
    for key in model_params:
        if key == "dale_ratio":
            raise TypeError(
                "psychrnn_params takes dale_ratio from params (through the initializer); "
                "do not pass it"
            )
        if key in SET_FROM_PARAMS:
            raise TypeError(f"psychrnn_params sets {key!r} from params; do not pass it")
        if key in PSYCHRNN_NAMES or key == "load_weights_path":
            raise TypeError(
                f"psychrnn_params got {key}=...; the network's arrays come from params "
                "(PsychRNN would otherwise ignore or override the initializer)"
            )


def psychrnn_params(params: Params, **model_params: Any) -> dict[str, Any]:
    """The parameter dict of a PsychRNN model built on a jaxinit network.

    Sets ``N_in``, ``N_rec``, ``N_out``, ``initializer`` (from
    :func:`psychrnn_initializer`) and ``transfer_function`` (the TensorFlow
    function PsychRNN's model reads from this dict) from ``params``, and adds
    ``model_params`` (``name``, ``N_steps``, ``dt``, ``tau``, ``N_batch``,
    ``rec_noise``, ...). A fresh dict is returned; ``model_params`` is not
    changed.

    ``dale_ratio`` is deliberately left out: PsychRNN's model takes it from
    the initializer, and PsychRNN 1.0.0 also builds (and then discards) its
    own default ``GaussianSpectralRadius(**dict)`` from this dict, which fails
    for a ``dale_ratio`` of 0 (NaN weights) or 1 (division by zero).

    Args:
      params: a single network.
      **model_params: the other entries of the dict. Passing one of the keys
        set from ``params``, ``dale_ratio``, an array name such as ``W_rec``
        or ``load_weights_path`` (the last two would make PsychRNN ignore or
        override the initializer) raises ``TypeError``.

    Example:
      >>> import jax, jaxinit, numpy as np, tensorflow as tf
      >>> cfg = jaxinit.Config(N_in=2, N_rec=4, N_out=1, alpha=1.0, transfer_function="tanh")
      >>> d = psychrnn_params(jaxinit.alpha_identity(jax.random.key(0), cfg), name="m", dt=10)
      >>> d["N_rec"], d["transfer_function"] is tf.tanh, d["name"]
      (4, True, 'm')
    """
    check_model_params(model_params)
    init = psychrnn_initializer(params)
    out: dict[str, Any] = dict(model_params)
    out.update(
        N_in=init.N_in,
        N_rec=init.N_rec,
        N_out=init.N_out,
        initializer=init,
        transfer_function=init.get_transfer_function(),
    )
    return out
