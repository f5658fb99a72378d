"""Reading the pickles PsychRNN writes without importing or running anything.

PsychRNN stores two things as pickled 0-d object arrays: a ``dale_ratio`` of
None and (in its development branch) the ``transfer_function``. The
unpickler here knows how NumPy pickles a one-element object array and maps
references such as ``tensorflow.python.ops.gen_nn_ops.relu`` to jaxinit's
transfer-function names. Every other global, and persistent ids, raise
:class:`~jaxinit.UnsafePickleError` before anything from the file runs.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from typing import IO, NoReturn, TypeAlias

from jaxinit._src.files.errors import NpzError, UnsafePickleError
from jaxinit._src.transfer import TRANSFER_FUNCTIONS


class FunctionRef:
    """A reference to a function found in a pickle (never imported or called).

    Example:
      >>> FunctionRef("tensorflow.math", "tanh")
      <function reference tensorflow.math.tanh>
    """

    __slots__ = ("module", "name")
    module: str
    name: str

    def __init__(self, module: str, name: str) -> None:
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "name", name)

    def __setattr__(self, attr: str, value: object) -> NoReturn:
        raise pickle.UnpicklingError("a function reference cannot be changed")

    def __setstate__(self, state: object) -> NoReturn:
        raise pickle.UnpicklingError("a function reference takes no state")

    def __repr__(self) -> str:
        return f"<function reference {self.module}.{self.name}>"


class _ArrayStub:
    """Stands in for ``numpy.ndarray`` while unpickling; only records its state."""

    def __init__(self) -> None:
        self.state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _DtypeStub:
    """Stands in for ``numpy.dtype`` while unpickling; only records its arguments."""

    def __init__(self, *args: object) -> None:
        self.args = args

    def __setstate__(self, state: object) -> None:
        self.state = state


class _Reconstruct:
    """Stands in for NumPy's ``_reconstruct``: makes an empty :class:`_ArrayStub`.

    A fresh instance is handed out for every lookup, and it takes no state,
    so a pickle cannot change anything that outlives its own loading.
    """

    __slots__ = ()

    def __call__(self, cls: object, shape: object, typecode: object) -> _ArrayStub:
        if cls is not _ArrayStub:
            raise pickle.UnpicklingError("numpy's _reconstruct called on something else")
        return _ArrayStub()

    def __setstate__(self, state: object) -> NoReturn:
        raise pickle.UnpicklingError("numpy's _reconstruct takes no state")


_NUMPY_GLOBALS: dict[tuple[str, str], Callable[[], object]] = {
    ("numpy.core.multiarray", "_reconstruct"): _Reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _Reconstruct,
    ("numpy", "ndarray"): lambda: _ArrayStub,
    ("numpy", "dtype"): lambda: _DtypeStub,
}
_FUNCTION_MODULES = ("tensorflow", "keras", "tf_keras", "jax", "jaxinit")
_FUNCTION_ALIASES = {"_identity": "identity", "_retanh": "retanh"}

#: What a pickled entry may hold: None, a number, a string or a function reference.
PickledValue: TypeAlias = "bool | int | float | str | FunctionRef | None"


def transfer_name_of_reference(module: str, name: str) -> str | None:
    """jaxinit's name for a referenced transfer function, or None if it is not one.

    Example:
      >>> transfer_name_of_reference("tensorflow.python.ops.gen_nn_ops", "relu")
      'relu'
      >>> transfer_name_of_reference("os", "system") is None
      True
    """
    root = module.split(".", 1)[0]
    name = _FUNCTION_ALIASES.get(name, name)
    if root in _FUNCTION_MODULES and name in TRANSFER_FUNCTIONS:
        return name
    return None


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], path: str, key: str) -> None:
        super().__init__(file)
        self._path = path
        self._key = key

    def find_class(self, module: str, name: str) -> object:
        make = _NUMPY_GLOBALS.get((module, name))
        if make is not None:
            return make()
        if transfer_name_of_reference(module, name) is not None:
            return FunctionRef(module, name)
        raise UnsafePickleError(
            self._path,
            self._key,
            f"holds a pickle that refers to {module}.{name}, which is not on jaxinit's "
            "allow-list; it was not loaded and nothing in it ran",
        )

    def persistent_load(self, pid: object) -> NoReturn:
        raise UnsafePickleError(
            self._path, self._key, "holds a pickle with persistent ids; refused"
        )


def unpickle_object_array(path: str, key: str, payload: bytes) -> PickledValue:
    """The one element of a pickled NumPy object array, read safely.

    ``payload`` is the pickle that follows the ``.npy`` header of entry
    ``key`` of file ``path``. Returns None, a number, a string or a
    :class:`FunctionRef`; raises :class:`~jaxinit.NpzError` (or
    :class:`~jaxinit.UnsafePickleError`) for anything else.

    Example:
      >>> import numpy as np
      >>> a = np.empty((), dtype=object)
      >>> unpickle_object_array("f.npz", "dale_ratio", pickle.dumps(a, protocol=3)) is None
      True
    """
    try:
        result = _AllowListUnpickler(io.BytesIO(payload), path, key).load()
    except UnsafePickleError:
        raise
    except Exception as err:  # any malformed pickle: report it, never re-raise as is
        raise NpzError(path, key, f"holds a pickle jaxinit cannot read safely: {err!r}") from err
    state = getattr(result, "state", None) if isinstance(result, _ArrayStub) else None
    if (
        not isinstance(state, tuple)
        or len(state) != 5
        or not isinstance(state[2], _DtypeStub)
        or not isinstance(state[4], list)
        or len(state[4]) != 1
    ):
        raise NpzError(path, key, "holds a pickle that is not a one-element NumPy object array")
    value = state[4][0]
    if value is not None and not isinstance(value, (bool, int, float, str, FunctionRef)):
        raise NpzError(
            path,
            key,
            f"holds a pickled {type(value).__name__}, not None, a number, a string "
            "or a function reference",
        )
    return value
