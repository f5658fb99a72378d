"""The one home of jaxinit's vocabulary: every registry of names and every choice.

Each choice a user can make (which initializer, which weights, which layout,
which spectral method, ...) is spelled here once, as a ``Literal`` type for
editors and type checkers and as a tuple of the allowed strings for run-time
checks. Every other module (core, Flax/Haiku builders, TensorFlow shim, files,
command line) imports its words from here, so the same concept has the same
word everywhere.

The array names follow PsychRNN (they are also the keys of its ``.npz``
files); :class:`~jaxinit.Params` stores the two Dale matrices as their
diagonals, under ``dale_rec_diag`` and ``dale_out_diag``.
"""

from __future__ import annotations

from typing import Literal, get_args

#: The three network initializers (PsychRNN's three classes).
InitializerName = Literal["weight_initializer", "gaussian_spectral_radius", "alpha_identity"]
#: The names of the three network initializers, as a tuple (see ``InitializerName``).
INITIALIZER_NAMES: tuple[InitializerName, ...] = get_args(InitializerName)

#: PsychRNN's four random weight schemes.
SchemeName = Literal["const_unif", "const_gauss", "glorot_unif", "glorot_gauss"]
SCHEME_NAMES: tuple[SchemeName, ...] = get_args(SchemeName)

#: Which weights: as drawn and scaled (``"raw"``), or the ones the network
#: multiplies by, masks, ``|.|`` and Dale signs applied (``"effective"``).
Weights = Literal["raw", "effective"]
#: The two words for which weights, ``("raw", "effective")`` (see ``Weights``).
WEIGHTS: tuple[Weights, ...] = get_args(Weights)

#: Orientation of a weight matrix. ``"out_in"``: ``(N_out, N_in)``, used as
#: ``W @ x`` (PsychRNN, jaxinit, ``equinox.nn.Linear.weight``). ``"in_out"``:
#: ``(N_in, N_out)``, used as ``x @ kernel`` (Flax, Haiku and Keras kernels).
Layout = Literal["out_in", "in_out"]
#: The two layouts, ``("out_in", "in_out")`` (see ``Layout``).
LAYOUTS: tuple[Layout, ...] = get_args(Layout)

#: Spellings of a layout that jaxinit 0.1 used; accepted with a
#: ``DeprecationWarning`` until jaxinit 0.3.
OLD_LAYOUTS: dict[str, Layout] = {"psychrnn": "out_in", "flax": "in_out", "keras": "in_out"}

#: Which matrix gets ``spec_rad``: the raw ``W_rec`` (PsychRNN) or the effective one.
SpectralRadiusOf = Weights
SPECTRAL_RADIUS_OF: tuple[SpectralRadiusOf, ...] = WEIGHTS

#: How a spectral radius is measured (``"predicted"``: from the variance
#: profile, without an eigensolve).
SpectralMethod = Literal["eig", "krylov", "auto", "predicted"]
SPECTRAL_METHODS: tuple[SpectralMethod, ...] = get_args(SpectralMethod)

#: How Dale's law balances excitation and inhibition in ``W_rec`` (besides
#: ``None``, no balancing): PsychRNN's column factors, or exact zero row sums.
DaleBalance = Literal["psychrnn", "rows"]
#: The balance options of ``Config(dale_balance=...)`` besides ``None``.
DALE_BALANCES: tuple[DaleBalance, ...] = get_args(DaleBalance)

#: Distance profiles of :func:`jaxinit.connectivity.distance`.
Profile = Literal["gaussian", "exponential"]
#: The distance profiles, ``("gaussian", "exponential")``.
PROFILES: tuple[Profile, ...] = get_args(Profile)

#: How a network file stores ``W_rec``: as a dense ``N_rec x N_rec`` matrix
#: (PsychRNN's format) or as the rows of a :class:`~jaxinit.sparse.RowSparse`.
FileLayout = Literal["dense", "row_sparse"]
#: The two file layouts, ``("dense", "row_sparse")`` (see ``FileLayout``).
FILE_LAYOUTS: tuple[FileLayout, ...] = get_args(FileLayout)

#: The dtypes a network is computed in.
DType = Literal["float32", "float64"]
DTYPES: tuple[DType, ...] = get_args(DType)

#: Names of the transfer functions (the ``__name__`` of PsychRNN's TF functions).
TransferFunctionName = Literal[
    "relu", "tanh", "sigmoid", "softplus", "elu", "identity", "retanh"
]
TRANSFER_FUNCTION_NAMES: tuple[TransferFunctionName, ...] = get_args(TransferFunctionName)

#: Roles of a kernel in a network (for the Flax/Haiku scheme builders).
Role = Literal["input", "recurrent", "output"]
#: The roles a kernel can have in a network (see ``Role``).
ROLES: tuple[Role, ...] = get_args(Role)

#: The figures of ``jaxinit plot`` / :func:`jaxinit.plot.plot_file`.
PlotKind = Literal["spectrum", "weights"]
#: The figures ``jaxinit plot`` can draw, as a tuple.
PLOT_KINDS: tuple[PlotKind, ...] = get_args(PlotKind)

#: The three weight matrices.
WEIGHT_NAMES = ("W_in", "W_rec", "W_out")

#: The three 0/1 connectivity masks, in the order of :data:`WEIGHT_NAMES`.
MASK_NAMES = ("input_connectivity", "rec_connectivity", "output_connectivity")

#: The mask of each weight matrix.
MASK_OF = dict(zip(WEIGHT_NAMES, MASK_NAMES, strict=True))

#: Array fields of :class:`~jaxinit.Params`, in order.
ARRAY_FIELDS = (
    *WEIGHT_NAMES,
    "b_rec",
    "b_out",
    "init_state",
    *MASK_NAMES,
    "dale_rec_diag",
    "dale_out_diag",
)

#: The arrays of a network that training changes (weights, biases, initial
#: state); the masks and Dale signs never train (:func:`jaxinit.trainable`).
TRAINABLE_FIELDS = (*WEIGHT_NAMES, "b_rec", "b_out", "init_state")

#: The arrays that define a network's constraints and never train.
FIXED_FIELDS = (*MASK_NAMES, "dale_rec_diag", "dale_out_diag")

#: PsychRNN's names of a network's arrays: the keys of its ``initializations``
#: and of its files, and the names an initializer accepts as ``**given``.
PSYCHRNN_NAMES = (*ARRAY_FIELDS[:9], "Dale_rec", "Dale_out")

#: The :class:`~jaxinit.Params` field that holds each PsychRNN array.
FIELD_OF = dict(zip(PSYCHRNN_NAMES, ARRAY_FIELDS, strict=True))

#: Sub-keys of an initializer's key: ``split(key, 4)`` in this order.
KEY_SLOTS = ("W_in", "W_rec", "W_out", "init_state")


def psychrnn_shapes(
    N_in: int, N_rec: int, N_out: int, *, dale_matrices: bool = True
) -> dict[str, tuple[int, ...]]:
    """Shape of each PsychRNN array; ``Dale_*`` are ``(N_rec, N_rec)`` or ``(N_rec,)``.

    Example:
      >>> psychrnn_shapes(2, 5, 1)["W_out"]
      (1, 5)
    """
    dale = (N_rec, N_rec) if dale_matrices else (N_rec,)
    return {
        "W_in": (N_rec, N_in),
        "W_rec": (N_rec, N_rec),
        "W_out": (N_out, N_rec),
        "b_rec": (N_rec,),
        "b_out": (N_out,),
        "init_state": (N_rec,),
        "input_connectivity": (N_rec, N_in),
        "rec_connectivity": (N_rec, N_rec),
        "output_connectivity": (N_out, N_rec),
        "Dale_rec": dale,
        "Dale_out": dale,
    }
