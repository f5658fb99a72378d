"""TensorFlow initializers of fixed arrays, and TF twins of jaxinit's transfer functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import tensorflow as tf

from jaxinit._src import checks
from jaxinit._src.transfer import TRANSFER_FUNCTIONS


def retanh(x: tf.Tensor) -> tf.Tensor:
    """Rectified tanh, ``max(0, tanh(x))``, as a TensorFlow function.

    Its ``__name__`` is ``"retanh"``, so :meth:`jaxinit.Config.from_psychrnn`
    maps it back to jaxinit's ``"retanh"``.

    Example:
      >>> retanh(tf.constant([-1.0, 0.0])).numpy().tolist()
      [0.0, 0.0]
    """
    return tf.nn.relu(tf.tanh(x))


#: TensorFlow twins of jaxinit's transfer functions (same names).
TF_TRANSFER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "relu": tf.nn.relu,
    "tanh": tf.tanh,
    "sigmoid": tf.nn.sigmoid,
    "softplus": tf.nn.softplus,
    "elu": tf.nn.elu,
    "identity": tf.identity,
    "retanh": retanh,
}


def tf_transfer_function(name: str) -> Callable[..., Any]:
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


def strip_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    shape = tuple(shape)
    while shape and shape[0] == 1:
        shape = shape[1:]
    return shape


@tf.keras.utils.register_keras_serializable(package="jaxinit")
class ArrayInitializer(tf.keras.initializers.Initializer):  # type: ignore[misc]  # TF: untyped
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

    def __init__(self, value: npt.ArrayLike, name: str | None = None) -> None:
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
    def value(self) -> npt.NDArray[Any]:
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

    def __call__(
        self, shape: Sequence[int] | tf.TensorShape, dtype: Any = None, **kwargs: Any
    ) -> tf.Tensor:
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
        if strip_leading_ones(requested) != strip_leading_ones(self._value.shape):
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
