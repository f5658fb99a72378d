"""The immutable configuration of an initializer (PsychRNN's keyword options)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np

from jaxinit._src import checks
from jaxinit._src.names import (
    DALE_BALANCES,
    DTYPES,
    PSYCHRNN_NAMES,
    SCHEME_NAMES,
    SPECTRAL_METHODS,
    SPECTRAL_RADIUS_OF,
    DaleBalance,
    DType,
    SchemeName,
    SpectralMethod,
    SpectralRadiusOf,
    TransferFunctionName,
)
from jaxinit._src.transfer import TransferFunction, transfer_function, transfer_function_name


@dataclasses.dataclass(frozen=True)
class Config:
    """Options of an initializer, with PsychRNN's names and defaults.

    A ``Config`` is frozen and hashable, so it can be a static argument of
    ``jax.jit``. Every field is checked when the config is made; a bad value
    raises ``ValueError`` or ``TypeError`` naming the field.

    Attributes:
      N_in, N_rec, N_out: numbers of inputs, recurrent units and outputs.
      autapses: if False, the diagonal of ``rec_connectivity`` is zeroed.
      dale_ratio: fraction of excitatory units, in [0, 1], or None for no
        Dale's law. The first ``int(dale_ratio * N_rec)`` units are excitatory.
        Unlike PsychRNN, 0 means "all inhibitory" (not "no Dale") and 1 means
        "all excitatory"; both give finite networks.
      which_rand_init: scheme for ``W_in``/``W_out`` (and ``W_rec`` unless
        ``which_rand_W_rec_init`` is set): ``const_unif``, ``const_gauss``,
        ``glorot_unif`` or ``glorot_gauss``.
      which_rand_W_rec_init: scheme for ``W_rec``; None means the same as
        ``which_rand_init``. Used by :func:`~jaxinit.weight_initializer` only.
      init_minval, init_maxval: bounds of ``const_unif``.
      spec_rad: spectral radius set by :func:`~jaxinit.gaussian_spectral_radius`.
      alpha: diagonal value of :func:`~jaxinit.alpha_identity` (required there).
      transfer_function: name of the transfer function (see
        :func:`~jaxinit.transfer_function`); PsychRNN's default is ReLU.
      dtype: ``"float32"`` (default) or ``"float64"`` (needs
        ``jax.config.update("jax_enable_x64", True)``).
      spectral_radius_of: ``"raw"`` scales the raw ``W_rec`` as PsychRNN does;
        ``"effective"`` scales so that the matrix the RNN really uses
        (``effective(params).W_rec``: masked, ``|.|`` and Dale signs) has
        exactly ``spec_rad``.
      spectral_method: how the radius is measured for scaling: ``"eig"``
        (full eigenvalue solve, default), ``"krylov"`` (restarted Arnoldi with
        a residual certificate and a fall-back to ``eig``; much faster for
        large ``N_rec``, and batched over the members of an ensemble or a
        ``vmap``), ``"auto"`` (``krylov`` from ``N_rec = 512`` up; from 96
        to 511, ``eig`` for one network and the batched Krylov radius in an
        ensemble or under ``vmap``: about 10x faster at K = 32, N = 256) or
        ``"predicted"`` (no eigensolve: the radius the variance profile of the
        matrix predicts, see :func:`~jaxinit.predicted_radius`; off by a few
        percent at finite ``N``, and wrong for matrices with outliers).
      dale_balance: how Dale's law balances excitation and inhibition in
        ``W_rec`` (``gaussian_spectral_radius`` and ``alpha_identity``):
        ``"psychrnn"`` (default, PsychRNN's column factors,
        :func:`~jaxinit.balance_dale_ratio`: balanced on average), ``"rows"``
        (every unit's effective excitatory and inhibitory inputs cancel
        exactly, :func:`~jaxinit.balance_rows`) or None (no balancing).
        Ignored without Dale's law, except that ``"rows"`` then raises.

    Example:
      >>> cfg = Config(N_in=2, N_rec=50, N_out=1, dale_ratio=0.8)
      >>> cfg.W_rec_scheme
      'glorot_gauss'
      >>> hash(cfg) == hash(Config(N_in=2, N_rec=50, N_out=1, dale_ratio=0.8))
      True
    """

    N_in: int
    N_rec: int
    N_out: int
    autapses: bool = True
    dale_ratio: float | None = None
    which_rand_init: SchemeName = "glorot_gauss"
    which_rand_W_rec_init: SchemeName | None = None
    init_minval: float = -0.1
    init_maxval: float = 0.1
    spec_rad: float = 1.1
    alpha: float | None = None
    transfer_function: TransferFunctionName = "relu"
    dtype: DType = "float32"
    spectral_radius_of: SpectralRadiusOf = "raw"
    spectral_method: SpectralMethod = "eig"
    dale_balance: DaleBalance | None = "psychrnn"

    def __post_init__(self) -> None:
        # Normalise to plain Python values so the config hashes and compares
        # by value (numpy scalars and dtype objects are accepted as input).
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        for name in ("N_in", "N_rec", "N_out"):
            put(name, checks.positive_int(name, getattr(self, name)))
        if not isinstance(self.autapses, (bool, np.bool_)):
            raise TypeError(f"autapses must be True or False, got {self.autapses!r}")
        put("autapses", bool(self.autapses))
        put("dale_ratio", checks.dale_ratio(self.dale_ratio))
        checks.one_of("which_rand_init", self.which_rand_init, SCHEME_NAMES)
        if self.which_rand_W_rec_init is not None:
            checks.one_of("which_rand_W_rec_init", self.which_rand_W_rec_init, SCHEME_NAMES)
        lo = checks.finite_float("init_minval", self.init_minval)
        hi = checks.finite_float("init_maxval", self.init_maxval)
        if lo > hi:
            raise ValueError(
                f"init_minval must not exceed init_maxval, got init_minval={lo!r} > "
                f"init_maxval={hi!r}"
            )
        put("init_minval", lo)
        put("init_maxval", hi)
        put("spec_rad", checks.finite_float("spec_rad", self.spec_rad, positive=True))
        if self.alpha is not None:
            put("alpha", checks.finite_float("alpha", self.alpha))
        put("transfer_function", transfer_function_name(self.transfer_function))
        try:
            dtype = np.dtype(self.dtype).name
        except TypeError:
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype!r}") from None
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        put("dtype", dtype)
        checks.one_of("spectral_radius_of", self.spectral_radius_of, SPECTRAL_RADIUS_OF)
        checks.one_of("spectral_method", self.spectral_method, SPECTRAL_METHODS)
        if self.dale_balance is not None and (
            not isinstance(self.dale_balance, str) or self.dale_balance not in DALE_BALANCES
        ):
            raise ValueError(
                f"dale_balance must be one of {list(DALE_BALANCES)} or None, "
                f"got {self.dale_balance!r}"
            )
        if self.dale_balance == "rows" and self.dale_ratio is None:
            raise ValueError(
                "dale_balance='rows' balances excitatory against inhibitory inputs and "
                "needs Dale's law: set dale_ratio, or use dale_balance='psychrnn' or None"
            )
        self.check_representable()

    def check_representable(self) -> None:
        """Raise ``ValueError`` unless this config can be computed now.

        ``dtype="float64"`` needs 64-bit JAX at the time of the call (not only
        when the config was made), and the numbers must fit in ``dtype``.
        """
        if self.dtype == "float64":
            checks.x64_enabled("dtype='float64'")
        info = np.finfo(self.dtype)
        if self.spec_rad < float(info.tiny):
            raise ValueError(
                f"spec_rad={self.spec_rad!r} is below the smallest normal {self.dtype} "
                f"({float(info.tiny):.3g}): W_rec could not hold a matrix of that radius"
            )
        big = float(info.max)
        for name in ("init_minval", "init_maxval", "spec_rad", "alpha"):
            value = getattr(self, name)
            if value is not None and abs(value) > big:
                raise ValueError(f"{name}={value!r} does not fit in {self.dtype}")
        if self.init_maxval - self.init_minval > big:
            raise ValueError(
                f"init_maxval - init_minval = {self.init_maxval - self.init_minval!r} "
                f"does not fit in {self.dtype}"
            )

    @property
    def W_rec_scheme(self) -> SchemeName:
        """The scheme ``weight_initializer`` uses for ``W_rec``."""
        return self.which_rand_W_rec_init or self.which_rand_init

    @property
    def transfer(self) -> TransferFunction:
        """The JAX transfer function named by ``transfer_function``."""
        return transfer_function(self.transfer_function)

    @property
    def n_excitatory(self) -> int | None:
        """Number of excitatory units, ``int(dale_ratio * N_rec)``, or None."""
        if self.dale_ratio is None:
            return None
        return int(self.dale_ratio * self.N_rec)

    def replace(self, **changes: Any) -> Config:
        """A copy with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_psychrnn(cls, params: Mapping[str, Any]) -> tuple[Config, dict[str, Any]]:
        """Build a config from a PsychRNN parameter dict.

        PsychRNN passes one dict to its models and initializers. Keys that are
        initializer options become config fields; keys naming arrays
        (``W_rec``, ``rec_connectivity``, ``Dale_rec``, ...) are returned
        separately so they can be passed on as ``**given``; every other key
        (``dt``, ``tau``, ``name``, ``N_batch``, ...) is ignored. A
        ``transfer_function`` given as a TensorFlow function is mapped to the
        JAX function of the same name. A ``dale_ratio`` stored as a 0-d array
        is unwrapped, as PsychRNN does.

        Returns:
          ``(config, given)`` where ``given`` maps the array names found to the
          arrays (unchanged, not copied).

        Example:
          >>> import numpy as np
          >>> cfg, given = Config.from_psychrnn(
          ...     {"N_in": 2, "N_rec": 4, "N_out": 1, "dt": 10, "tau": 100,
          ...      "dale_ratio": 0.5, "rec_connectivity": np.ones((4, 4))})
          >>> cfg.dale_ratio, sorted(given)
          (0.5, ['rec_connectivity'])
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict, got {type(params).__name__}")
        if params.get("load_weights_path") is not None:
            raise ValueError(
                "params has load_weights_path="
                f"{params['load_weights_path']!r}; load the file with jaxinit.load_npz instead"
            )
        fields = {f.name for f in dataclasses.fields(cls)}
        missing = [n for n in ("N_in", "N_rec", "N_out") if n not in params]
        if missing:
            raise ValueError(f"params lacks the required key(s) {missing}")
        options: dict[str, Any] = {}
        for name in fields:
            if name not in params:
                continue
            value = params[name]
            if name == "dale_ratio" and isinstance(value, np.ndarray) and value.ndim == 0:
                value = value.item()
            if name == "dtype" and value is None:
                continue
            options[name] = value
        given = {n: params[n] for n in PSYCHRNN_NAMES if params.get(n) is not None}
        return cls(**options), given
