"""TensorFlow and PsychRNN interop: hand a jaxinit network to TF, Keras or PsychRNN.

This module is the optional TensorFlow shim (``pip install 'jaxinit[tf]'``).
It is the only place where jaxinit imports TensorFlow: ``import jaxinit``
never does, ``import jaxinit.tf`` does.

Three entry points:

* :func:`initializers` turns a :class:`~jaxinit.Params` into TensorFlow
  initializers, one per PsychRNN array name. Each is an
  :class:`ArrayInitializer`: it works with ``tf.compat.v1.get_variable`` (graph
  mode, as PsychRNN uses it), with ``tf.Variable(init(shape, dtype))`` in eager
  mode and with Keras layers, and it serialises with ``get_config`` /
  ``from_config``.
* :func:`psychrnn_initializer` wraps a network in an object with the interface
  PsychRNN's ``RNN`` expects of ``params['initializer']`` (``get``,
  ``get_dale_ratio``, ``get_transfer_function``, ``initializations``,
  ``save``).
* :func:`psychrnn_params` builds the whole parameter dict of a PsychRNN model
  (sizes, initializer *and* transfer function, which PsychRNN's model reads from
  the dict rather than from the initializer).

Which weights are handed over
-----------------------------
PsychRNN's model applies the masks, ``|.|`` and the Dale matrices itself, so
the default (``weights="psychrnn"``) hands over the **raw** ``W_in``,
``W_rec``, ``W_out`` together with the masks and the ``Dale_rec`` /
``Dale_out`` matrices; inside PsychRNN they give exactly
``jaxinit.effective(params)``. The one exception is ``dale_ratio == 0``:
PsychRNN tests ``if dale_ratio:`` and so treats 0 as "no Dale's law", whereas
in jaxinit 0 means "every unit inhibitory". For that case the **effective**
weights are handed over instead. They are a fixed point of PsychRNN's transform
(masking, ``|.|`` and the Dale matrices leave them unchanged), so the model
starts from ``jaxinit.effective(params)`` whether or not it applies Dale's law.
(:func:`psychrnn_initializer` also keeps Dale's law on in PsychRNN for that
case, by reporting the ratio as the smallest positive float64, as
:func:`jaxinit.save_npz` writes it; see
:meth:`PsychRNNInitializer.get_dale_ratio`.)
``weights="raw"`` and ``weights="effective"`` force one or the other.

The Dale matrices are built as dense ``(N_rec, N_rec)`` diagonal matrices here,
at export, because that is what PsychRNN's variables hold; jaxinit itself keeps
only their diagonals.

Layouts
-------
PsychRNN (like jaxinit) stores weights as ``(out, in)`` and computes
``x @ W.T``; Keras kernels are ``(in, out)`` and compute ``x @ kernel``. With
``layout="keras"`` the six 2-D weight and mask matrices come transposed
(``W_in`` as ``(N_in, N_rec)``, ``W_rec`` as ``W_rec.T``, ``W_out`` as
``(N_rec, N_out)``) so they fit ``Dense`` and ``SimpleRNN`` kernels directly;
biases, ``init_state`` and the (symmetric) Dale matrices are the same in both
layouts.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import tensorflow as tf
except ImportError as _err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "jaxinit.tf needs TensorFlow; install it with: pip install 'jaxinit[tf]'"
    ) from _err

from jaxinit._src import checks
from jaxinit._src.effective import effective
from jaxinit._src.names import FIELD_OF, PSYCHRNN_NAMES, psychrnn_shapes
from jaxinit._src.npz import psychrnn_dale_ratio, save_npz
from jaxinit._src.params import Params
from jaxinit._src.transfer import TRANSFER_FUNCTIONS

__all__ = [
    "LAYOUTS",
    "NAMES",
    "TF_TRANSFER_FUNCTIONS",
    "WEIGHTS",
    "ArrayInitializer",
    "PsychRNNInitializer",
    "initializers",
    "psychrnn_initializer",
    "psychrnn_params",
    "retanh",
    "tf_transfer_function",
]

# The arrays that are copied from ``Params`` fields of the same name.
_PLAIN = PSYCHRNN_NAMES[:9]

#: PsychRNN's names of the arrays of a network, the keys of :func:`initializers`.
NAMES: tuple[str, ...] = PSYCHRNN_NAMES

#: Choices of the ``weights`` argument of :func:`initializers`.
WEIGHTS = ("psychrnn", "raw", "effective")

#: Choices of the ``layout`` argument of :func:`initializers`.
LAYOUTS = ("psychrnn", "keras")

_MASKS = ("input_connectivity", "rec_connectivity", "output_connectivity")
# The 2-D matrices that ``layout="keras"`` transposes (Dale matrices are
# diagonal, hence symmetric, and stay as they are).
_TRANSPOSED = ("W_in", "W_rec", "W_out", *_MASKS)


def retanh(x):
    """Rectified tanh, ``max(0, tanh(x))``, as a TensorFlow function.

    Its ``__name__`` is ``"retanh"``, so :meth:`jaxinit.Config.from_psychrnn`
    maps it back to jaxinit's ``"retanh"``.

    Example:
      >>> retanh(tf.constant([-1.0, 0.0])).numpy().tolist()
      [0.0, 0.0]
    """
    return tf.nn.relu(tf.tanh(x))


#: TensorFlow twins of jaxinit's transfer functions (same names).
TF_TRANSFER_FUNCTIONS: dict[str, Callable] = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.nn.sigmoid,
    "softplus": tf.nn.softplus,
    "elu": tf.nn.elu,
    "identity": tf.identity,
    "retanh": retanh,
}


def tf_transfer_function(name: str) -> Callable:
    """The TensorFlow function for a jaxinit transfer-function name.

    Args:
      name: one of the keys of :data:`jaxinit.TRANSFER_FUNCTIONS` (``relu``,
        ``tanh``, ``sigmoid``, ``softplus``, ``elu``, ``identity``,
        ``retanh``), e.g. ``params.transfer_function``.

    Example:
      >>> tf_transfer_function("relu") is tf.nn.relu
      True
    """
    if not isinstance(name, str) or name not in TF_TRANSFER_FUNCTIONS:
        known = sorted(set(TF_TRANSFER_FUNCTIONS) & set(TRANSFER_FUNCTIONS))
        raise ValueError(f"transfer_function must be one of {known}, got {name!r}")
    return TF_TRANSFER_FUNCTIONS[name]


def _strip_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


@tf.keras.utils.register_keras_serializable(package="jaxinit")
class ArrayInitializer(tf.keras.initializers.Initializer):
    """A TensorFlow / Keras initializer that fills a variable with a fixed array.

    Like ``tf.keras.initializers.Constant`` with an array value, but strict
    about the shape: the requested shape must be the array's shape, up to
    leading axes of size 1 (so a ``(N_rec,)`` ``init_state`` fills PsychRNN's
    ``(1, N_rec)`` variable). Anything else raises ``ValueError`` instead of
    broadcasting or padding silently.

    It can be called as ``init(shape, dtype)`` (Keras and eager TF), passed as
    ``initializer=`` to ``tf.compat.v1.get_variable`` (graph mode) or as a
    ``kernel_initializer`` / ``bias_initializer`` to Keras layers. It is
    registered with Keras as ``"jaxinit>ArrayInitializer"``, so layers using it
    serialise and deserialise. The array is copied when the initializer is
    made; later changes to the caller's array do not affect it.

    Args:
      value: the array (real numbers, finite).
      name: optional label used in error messages and ``repr``.

    Example:
      >>> init = ArrayInitializer([[1.0, 2.0], [3.0, 4.0]], name="W")
      >>> tf.Variable(init((2, 2), tf.float32)).numpy().tolist()
      [[1.0, 2.0], [3.0, 4.0]]
      >>> ArrayInitializer.from_config(init.get_config())
      ArrayInitializer(name='W', shape=(2, 2))
    """

    def __init__(self, value: Any, name: str | None = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {name!r}")
        label = name or "value"
        if isinstance(value, (str, bytes)) or value is None:
            raise TypeError(f"{label} must be an array of real numbers, got {value!r}")
        try:
            array = np.array(value)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{label} must be an array of real numbers: {err}") from None
        if array.dtype == np.bool_ or np.issubdtype(array.dtype, np.integer):
            array = array.astype(np.float64)
        if not np.issubdtype(array.dtype, np.floating):
            raise TypeError(f"{label} must be an array of real numbers, got dtype {array.dtype}")
        if not np.isfinite(array).all():
            bad = checks.first_bad(array, np.isfinite)
            raise ValueError(f"{label} must be finite, got {bad!r} in it")
        array.setflags(write=False)
        self._value = array
        self._name = name

    @property
    def value(self) -> np.ndarray:
        """The array (read-only)."""
        return self._value

    @property
    def name(self) -> str | None:
        """The label given at construction."""
        return self._name

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the array."""
        return tuple(self._value.shape)

    def __call__(self, shape, dtype=None, **kwargs):
        """Return the array as a tensor of ``shape`` and ``dtype``.

        Args:
          shape: the requested shape (tuple, list or ``tf.TensorShape``), fully
            known; must equal the array's shape up to leading size-1 axes.
          dtype: a floating dtype; ``None`` means ``float32`` (PsychRNN's and
            Keras's default).
          **kwargs: ignored (``tf.compat.v1`` and Keras may pass extras such as
            ``partition_info`` or ``layout``).
        """
        label = self._name or "ArrayInitializer"
        try:
            requested = tf.TensorShape(shape)
        except (TypeError, ValueError):
            raise TypeError(f"{label}: shape must be a tuple of ints, got {shape!r}") from None
        if not requested.is_fully_defined():
            raise ValueError(f"{label}: shape must be fully known, got {requested}")
        requested = tuple(int(n) for n in requested.as_list())
        if _strip_leading_ones(requested) != _strip_leading_ones(self._value.shape):
            raise ValueError(
                f"{label}: holds an array of shape {self.shape}, cannot fill a variable "
                f"of shape {requested}"
            )
        try:
            tf_dtype = tf.float32 if dtype is None else tf.as_dtype(dtype)
        except TypeError:
            raise TypeError(f"{label}: dtype must be a floating dtype, got {dtype!r}") from None
        if not tf_dtype.is_floating:
            raise TypeError(f"{label}: dtype must be a floating dtype, got {tf_dtype.name}")
        return tf.constant(self._value.reshape(requested), dtype=tf_dtype)

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable config: the array as nested lists, and the name."""
        return {"value": self._value.tolist(), "name": self._name}

    def __repr__(self) -> str:
        return f"ArrayInitializer(name={self._name!r}, shape={self.shape})"


def _check_params(params) -> None:
    if not isinstance(params, Params):
        raise TypeError(f"params must be a jaxinit.Params, got {type(params).__name__}")
    batch = params.batch_shape
    if batch:
        raise ValueError(
            f"params is an ensemble (leading axes {batch}); TensorFlow and PsychRNN take one "
            "network at a time: export params_i = jax.tree.map(lambda x: x[i], params)"
        )
    shapes = psychrnn_shapes(params.N_in, params.N_rec, params.N_out, dale_matrices=False)
    expected = {FIELD_OF[name]: shape for name, shape in shapes.items()}
    for field, shape in expected.items():
        got = tuple(np.shape(getattr(params, field)))
        if got != shape:
            raise ValueError(f"params.{field} must have shape {shape}, got {got}")
    tf_transfer_function(params.transfer_function)


def _uses_effective(params: Params, weights: str) -> bool:
    return weights == "effective" or (weights == "psychrnn" and params.dale_ratio == 0)


def _export(params: Params, weights: str, layout: str) -> dict[str, np.ndarray]:
    """Numpy copies of the eleven arrays, in PsychRNN's names."""
    _check_params(params)
    checks.one_of("weights", weights, WEIGHTS)
    checks.one_of("layout", layout, LAYOUTS)
    arrays = {name: np.array(getattr(params, name)) for name in _PLAIN}
    arrays["Dale_rec"] = np.diag(np.asarray(params.dale_rec_diag))
    arrays["Dale_out"] = np.diag(np.asarray(params.dale_out_diag))
    if _uses_effective(params, weights):
        for name in _MASKS:
            mask = arrays[name]
            if not np.isin(mask, (0, 1)).all():
                bad = checks.first_bad(mask, lambda v: np.isin(v, (0, 1)))
                raise ValueError(
                    f"params.{name} must hold only 0 and 1 to hand over effective weights "
                    f"(weights={weights!r}, dale_ratio={params.dale_ratio!r}), got {bad!r}"
                )
        eff = effective(params)
        arrays.update(W_in=np.array(eff.W_in), W_rec=np.array(eff.W_rec), W_out=np.array(eff.W_out))
    if layout == "keras":
        for name in _TRANSPOSED:
            arrays[name] = np.ascontiguousarray(arrays[name].T)
    return arrays


def initializers(
    params: Params, *, weights: str = "psychrnn", layout: str = "psychrnn"
) -> dict[str, ArrayInitializer]:
    """TensorFlow initializers for every array of one network.

    Args:
      params: a single network (:class:`~jaxinit.Params` without ensemble
        axes; an ensemble raises ``ValueError``).
      weights: which ``W_in``/``W_rec``/``W_out`` to hand over:
        ``"psychrnn"`` (default) the raw weights, except the effective ones
        when ``params.dale_ratio == 0`` (see the module docs), so that PsychRNN's
        model reproduces ``jaxinit.effective(params)``; ``"raw"`` always the
        raw weights; ``"effective"`` always ``jaxinit.effective(params)``
        (masks must then be 0/1).
      layout: ``"psychrnn"`` (default) for PsychRNN's ``(out, in)`` shapes;
        ``"keras"`` to transpose the 2-D weight and mask matrices to Keras's
        ``(in, out)`` kernel layout.

    Returns:
      A dict from PsychRNN's names (:data:`NAMES`: ``W_in``, ``W_rec``,
      ``W_out``, ``b_rec``, ``b_out``, ``init_state``, the three
      ``*_connectivity`` masks, ``Dale_rec``, ``Dale_out``) to
      :class:`ArrayInitializer` objects. ``Dale_rec`` and ``Dale_out`` are the
      dense diagonal ``(N_rec, N_rec)`` matrices. Nothing in ``params`` is
      changed.

    Example:
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=3, N_out=1, alpha=0.5)
      >>> params = jaxinit.alpha_identity(jax.random.key(0), cfg)
      >>> inits = initializers(params)
      >>> tf.Variable(inits["W_rec"]((3, 3), tf.float32)).numpy().diagonal().tolist()
      [0.5, 0.5, 0.5]
      >>> dense = tf.keras.layers.Dense(
      ...     3, kernel_initializer=initializers(params, layout="keras")["W_in"])
      >>> dense.build((None, 2))
      >>> bool(np.array_equal(dense.kernel.numpy(), np.asarray(params.W_in).T))
      True
    """
    arrays = _export(params, weights, layout)
    return {name: ArrayInitializer(arrays[name], name=name) for name in NAMES}


class PsychRNNInitializer:
    """A jaxinit network behind PsychRNN's initializer interface.

    Made by :func:`psychrnn_initializer`; see there.

    Attributes:
      N_in, N_rec, N_out: the sizes of the network.
      initializations: dict of numpy arrays under PsychRNN's names (weights as
        chosen by ``weights="psychrnn"``, dense Dale matrices), plus
        ``dale_ratio`` (as :meth:`get_dale_ratio` returns it) and
        ``transfer_function`` (a TensorFlow function), as in PsychRNN's
        ``WeightInitializer``. The arrays are copies: changing them changes
        what :meth:`get` returns, never the ``Params`` (nor what :meth:`save`
        writes).
      params: the :class:`~jaxinit.Params` it was made from.
    """

    def __init__(self, params: Params):
        arrays = _export(params, "psychrnn", "psychrnn")
        self.params = params
        self.N_in, self.N_rec, self.N_out = params.N_in, params.N_rec, params.N_out
        ratio = params.dale_ratio
        self.initializations: dict[str, Any] = dict(arrays)
        self.initializations["dale_ratio"] = None if ratio is None else psychrnn_dale_ratio(ratio)
        self.initializations["transfer_function"] = tf_transfer_function(params.transfer_function)

    def get(self, tensor_name: str) -> ArrayInitializer:
        """The TensorFlow initializer for one array (PsychRNN's ``get``).

        Args:
          tensor_name: one of :data:`NAMES`.
        """
        if not isinstance(tensor_name, str) or tensor_name not in NAMES:
            raise ValueError(f"tensor_name must be one of {list(NAMES)}, got {tensor_name!r}")
        return ArrayInitializer(self.initializations[tensor_name], name=tensor_name)

    def get_dale_ratio(self) -> float | None:
        """The fraction of excitatory units, or None without Dale's law.

        A ratio of 0 comes back as the smallest positive float64 (about
        ``2.2e-308``), the value :func:`jaxinit.save_npz` writes for it:
        PsychRNN's model switches Dale's law on with ``if dale_ratio:``, which
        0.0 would fail, and ``int(ratio * N_rec)`` is still 0 excitatory units,
        so PsychRNN applies Dale's law with every unit inhibitory, as jaxinit
        does. :func:`jaxinit.load_npz` reads that value back as 0.
        """
        return self.initializations["dale_ratio"]

    def get_transfer_function(self) -> Callable:
        """The TensorFlow transfer function named by ``params.transfer_function``."""
        return self.initializations["transfer_function"]

    def save(self, save_path: str | os.PathLike) -> pathlib.Path:
        """Write the network to an ``.npz`` file that PsychRNN can load.

        Written with :func:`jaxinit.save_npz` from the ``Params`` this
        initializer was made from (:attr:`params`; changes to
        :attr:`initializations` are not saved), so it is the one file format
        of jaxinit: the effective ``W_in``, ``W_rec``, ``W_out`` and the other
        arrays under PsychRNN's names, ``dale_ratio`` as a 0-d float64 (0.0
        without Dale's law, the smallest positive float64 for a ratio of 0),
        plus ``jaxinit/`` entries PsychRNN ignores (raw matrices and metadata).
        Like ``np.savez``, ``.npz`` is appended when the name lacks it.
        PsychRNN's ``load_weights_path`` loads it as exactly
        ``jaxinit.effective(params)``, and :func:`jaxinit.load_npz` returns
        the ``Params`` bit for bit. Nothing in the file needs pickle.

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
      >>> import jax, jaxinit
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


_SET_BY_US = ("N_in", "N_rec", "N_out", "initializer", "transfer_function")


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
      >>> import jax, jaxinit
      >>> cfg = jaxinit.Config(N_in=2, N_rec=4, N_out=1, alpha=1.0, transfer_function="tanh")
      >>> d = psychrnn_params(jaxinit.alpha_identity(jax.random.key(0), cfg), name="m", dt=10)
      >>> d["N_rec"], d["transfer_function"] is tf.tanh, d["name"]
      (4, True, 'm')
    """
    for key in model_params:
        if key == "dale_ratio":
            raise TypeError(
                "psychrnn_params takes dale_ratio from params (through the initializer); "
                "do not pass it"
            )
        if key in _SET_BY_US:
            raise TypeError(f"psychrnn_params sets {key!r} from params; do not pass it")
        if key in NAMES or key == "load_weights_path":
            raise TypeError(
                f"psychrnn_params got {key}=...; the network's arrays come from params "
                "(PsychRNN would otherwise ignore or override the initializer)"
            )
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
