"""jaxinit: biologically constrained RNN initialization in pure JAX.

PsychRNN's ``psychrnn.backend.initializations`` (``WeightInitializer``,
``GaussianSpectralRadius``, ``AlphaIdentity``) re-done as pure functions of a
PRNG key and a frozen :class:`Config`, returning a frozen :class:`Params`
pytree.

Namespaces, as in JAX (``jax.random.normal(key, shape)`` draws,
``jax.nn.initializers.normal(stddev)`` builds an initializer):

* ``jaxinit.gaussian_spectral_radius(key, config)`` and the other network
  initializers make a whole network; ``jaxinit.schemes.glorot_gauss(key,
  mask)`` draws one array.
* ``jaxinit.connectivity`` (JAX only, always available) draws 0/1
  connectivity masks: fixed probability, exact counts and degrees, blocks
  and E/I populations, distance-dependent, small-world.
* ``jaxinit.sparse`` (JAX only, always available) holds networks of
  10^4-10^6 units with a sparse ``W_rec``: patterns, the three initializers
  and O(nnz) effective weights and Krylov radius.
* ``jaxinit.initializers`` (JAX only, always available) builds
  ``init(key, shape, dtype)`` kernel initializers for Flax and other JAX code.
* ``jaxinit.basic_rnn(params, inputs)`` runs PsychRNN's Basic rate network
  on the effective weights; ``mean_squared_error``, ``binary_cross_entropy``
  and ``regularization`` are PsychRNN's losses and regularizers, and
  ``trainable``, ``keep_fixed`` and ``zero_fixed`` train without moving the
  masks, the Dale signs or pinned entries.
* ``jaxinit.tf``, ``jaxinit.plot``, ``jaxinit.haiku``, ``jaxinit.nnx``,
  ``jaxinit.linen`` and ``jaxinit.equinox`` need an optional extra; each is
  imported on first use (``jaxinit.tf`` works after ``import jaxinit``), and
  a missing extra raises an ``ImportError`` naming it. ``import jaxinit``
  never imports TensorFlow, Flax, Haiku, Equinox or matplotlib.
"""

import importlib
import importlib.util
from typing import TYPE_CHECKING

from jaxinit import connectivity as connectivity
from jaxinit import initializers as initializers
from jaxinit import schemes as schemes
from jaxinit import sparse as sparse
from jaxinit._src.basic_rnn import basic_rnn as basic_rnn
from jaxinit._src.cache import disable_compilation_cache as disable_compilation_cache
from jaxinit._src.cache import enable_compilation_cache as enable_compilation_cache
from jaxinit._src.config import Config as Config
from jaxinit._src.dale import balance_dale_ratio as balance_dale_ratio
from jaxinit._src.dale import balance_rows as balance_rows
from jaxinit._src.dale import dale_vectors as dale_vectors
from jaxinit._src.dale import n_excitatory as n_excitatory
from jaxinit._src.effective import Effective as Effective
from jaxinit._src.effective import SparseEffective as SparseEffective
from jaxinit._src.effective import effective as effective
from jaxinit._src.ensemble import ensemble as ensemble
from jaxinit._src.files import DaleRatioWarning as DaleRatioWarning
from jaxinit._src.files import EditedFileWarning as EditedFileWarning
from jaxinit._src.files import Inspection as Inspection
from jaxinit._src.files import LegacyFileWarning as LegacyFileWarning
from jaxinit._src.files import NoRecipeError as NoRecipeError
from jaxinit._src.files import NpzError as NpzError
from jaxinit._src.files import Provenance as Provenance
from jaxinit._src.files import Reproduction as Reproduction
from jaxinit._src.files import UnsafePickleError as UnsafePickleError
from jaxinit._src.files import inspect_file as inspect_file
from jaxinit._src.files import load_npz as load_npz
from jaxinit._src.files import read_provenance as read_provenance
from jaxinit._src.files import reproduce as reproduce
from jaxinit._src.files import save_npz as save_npz
from jaxinit._src.jit import Jitted as Jitted
from jaxinit._src.jit import jit as jit
from jaxinit._src.krylov import KrylovResult as KrylovResult
from jaxinit._src.krylov import krylov_spectral_radius as krylov_spectral_radius
from jaxinit._src.losses import binary_cross_entropy as binary_cross_entropy
from jaxinit._src.losses import mean_squared_error as mean_squared_error
from jaxinit._src.losses import regularization as regularization
from jaxinit._src.members import member as member
from jaxinit._src.members import member_key as member_key
from jaxinit._src.names import DALE_BALANCES as DALE_BALANCES
from jaxinit._src.names import INITIALIZER_NAMES as INITIALIZER_NAMES
from jaxinit._src.names import LAYOUTS as LAYOUTS
from jaxinit._src.names import WEIGHTS as WEIGHTS
from jaxinit._src.names import DaleBalance as DaleBalance
from jaxinit._src.names import InitializerName as InitializerName
from jaxinit._src.names import Layout as Layout
from jaxinit._src.names import SpectralMethod as SpectralMethod
from jaxinit._src.names import Weights as Weights
from jaxinit._src.network import NETWORK_INITIALIZERS as NETWORK_INITIALIZERS
from jaxinit._src.network import NetworkInitializer as NetworkInitializer
from jaxinit._src.network import UnregulatedSpectrumWarning as UnregulatedSpectrumWarning
from jaxinit._src.network import alpha_identity as alpha_identity
from jaxinit._src.network import gaussian_spectral_radius as gaussian_spectral_radius
from jaxinit._src.network import weight_initializer as weight_initializer
from jaxinit._src.params import Params as Params
from jaxinit._src.predicted import bulk_radius as bulk_radius
from jaxinit._src.predicted import predicted_radius as predicted_radius
from jaxinit._src.recipe import Recipe as Recipe
from jaxinit._src.schemes import SCHEMES as SCHEMES
from jaxinit._src.spectral import scale_spectral_radius as scale_spectral_radius
from jaxinit._src.spectral import spectral_radius as spectral_radius
from jaxinit._src.summary import EnsembleSummary as EnsembleSummary
from jaxinit._src.summary import Spread as Spread
from jaxinit._src.summary import Summary as Summary
from jaxinit._src.summary import summarize as summarize
from jaxinit._src.training import keep_fixed as keep_fixed
from jaxinit._src.training import trainable as trainable
from jaxinit._src.training import zero_fixed as zero_fixed
from jaxinit._src.transfer import TRANSFER_FUNCTIONS as TRANSFER_FUNCTIONS
from jaxinit._src.transfer import transfer_function as transfer_function
from jaxinit._src.version import __version__ as __version__

#: Submodules that need an optional extra: name -> (extra, the package it needs).
OPTIONAL_MODULES = {
    "tf": ("tf", "tensorflow"),
    "plot": ("plot", "matplotlib"),
    "haiku": ("haiku", "haiku"),
    "nnx": ("flax", "flax"),
    "linen": ("flax", "flax"),
    "equinox": ("equinox", "equinox"),
}

# Names that moved in jaxinit 0.2; the old spelling works until 0.3.
_MOVED = {name: f"jaxinit.schemes.{name}" for name in (
    "const_unif", "const_gauss", "glorot_unif", "glorot_gauss", "glorot_fan"
)}


if TYPE_CHECKING:
    # For type checkers the optional submodules are plain attributes. The
    # module __getattr__ below stays hidden from them, so that a misspelt
    # name is an error rather than a value of unknown type, and the names that
    # moved in 0.2 (still importable, with a DeprecationWarning) are flagged.
    from jaxinit import equinox as equinox
    from jaxinit import haiku as haiku
    from jaxinit import linen as linen
    from jaxinit import nnx as nnx
    from jaxinit import plot as plot
    from jaxinit import tf as tf
else:

    def __getattr__(name: str) -> object:
        if name in OPTIONAL_MODULES:
            extra, package = OPTIONAL_MODULES[name]
            try:
                return importlib.import_module(f"jaxinit.{name}")
            except ImportError as err:
                if importlib.util.find_spec(package) is not None:
                    raise
                raise ImportError(
                    f"jaxinit.{name} needs {package}, which is not installed; install it "
                    f"with: pip install 'jaxinit[{extra}]'"
                ) from err
        if name in _MOVED:
            from jaxinit._src import checks

            checks.deprecated(f"jaxinit.{name}", _MOVED[name])
            return getattr(schemes, name)
        raise AttributeError(f"module 'jaxinit' has no attribute {name!r}")




__all__ = [
    "DALE_BALANCES",
    "INITIALIZER_NAMES",
    "LAYOUTS",
    "NETWORK_INITIALIZERS",
    "SCHEMES",
    "TRANSFER_FUNCTIONS",
    "WEIGHTS",
    "Config",
    "DaleBalance",
    "DaleRatioWarning",
    "EditedFileWarning",
    "Effective",
    "EnsembleSummary",
    "InitializerName",
    "Inspection",
    "Jitted",
    "KrylovResult",
    "Layout",
    "LegacyFileWarning",
    "NetworkInitializer",
    "NoRecipeError",
    "NpzError",
    "Params",
    "Provenance",
    "Recipe",
    "Reproduction",
    "SpectralMethod",
    "SparseEffective",
    "Spread",
    "Summary",
    "UnregulatedSpectrumWarning",
    "UnsafePickleError",
    "Weights",
    "__version__",
    "alpha_identity",
    "balance_dale_ratio",
    "basic_rnn",
    "binary_cross_entropy",
    "balance_rows",
    "connectivity",
    "bulk_radius",
    "dale_vectors",
    "disable_compilation_cache",
    "effective",
    "enable_compilation_cache",
    "ensemble",
    "gaussian_spectral_radius",
    "initializers",
    "jit",
    "inspect_file",
    "keep_fixed",
    "krylov_spectral_radius",
    "load_npz",
    "mean_squared_error",
    "member",
    "member_key",
    "n_excitatory",
    "predicted_radius",
    "read_provenance",
    "regularization",
    "reproduce",
    "save_npz",
    "scale_spectral_radius",
    "schemes",
    "sparse",
    "spectral_radius",
    "summarize",
    "trainable",
    "transfer_function",
    "weight_initializer",
    "zero_fixed",
]
