"""jaxinit: biologically constrained RNN initialization in pure JAX.

PsychRNN's ``psychrnn.backend.initializations`` (``WeightInitializer``,
``GaussianSpectralRadius``, ``AlphaIdentity``) re-done as pure functions of a
PRNG key and a frozen :class:`Config`, returning a frozen :class:`Params`
pytree. Importing jaxinit never imports TensorFlow, Flax or Haiku.

TensorFlow, Keras and PsychRNN interop lives in the optional submodule
``jaxinit.tf`` (``pip install 'jaxinit[tf]'``).
"""

from jaxinit._src.config import Config as Config
from jaxinit._src.dale import balance_dale_ratio as balance_dale_ratio
from jaxinit._src.dale import dale_vectors as dale_vectors
from jaxinit._src.dale import n_excitatory as n_excitatory
from jaxinit._src.effective import Effective as Effective
from jaxinit._src.effective import effective as effective
from jaxinit._src.ensemble import ensemble as ensemble
from jaxinit._src.ensemble import member as member
from jaxinit._src.ensemble import member_key as member_key
from jaxinit._src.initializers import UnregulatedSpectrumWarning as UnregulatedSpectrumWarning
from jaxinit._src.initializers import alpha_identity as alpha_identity
from jaxinit._src.initializers import gaussian_spectral_radius as gaussian_spectral_radius
from jaxinit._src.initializers import weight_initializer as weight_initializer
from jaxinit._src.krylov import KrylovResult as KrylovResult
from jaxinit._src.krylov import krylov_spectral_radius as krylov_spectral_radius
from jaxinit._src.npz import LegacyFileWarning as LegacyFileWarning
from jaxinit._src.npz import NpzError as NpzError
from jaxinit._src.npz import UnsafePickleError as UnsafePickleError
from jaxinit._src.npz import load_npz as load_npz
from jaxinit._src.npz import save_npz as save_npz
from jaxinit._src.params import Params as Params
from jaxinit._src.provenance import Provenance as Provenance
from jaxinit._src.provenance import Reproduction as Reproduction
from jaxinit._src.provenance import read_provenance as read_provenance
from jaxinit._src.provenance import reproduce as reproduce
from jaxinit._src.schemes import SCHEMES as SCHEMES
from jaxinit._src.schemes import const_gauss as const_gauss
from jaxinit._src.schemes import const_unif as const_unif
from jaxinit._src.schemes import glorot_fan as glorot_fan
from jaxinit._src.schemes import glorot_gauss as glorot_gauss
from jaxinit._src.schemes import glorot_unif as glorot_unif
from jaxinit._src.spectral import scale_spectral_radius as scale_spectral_radius
from jaxinit._src.spectral import spectral_radius as spectral_radius
from jaxinit._src.summary import Summary as Summary
from jaxinit._src.summary import summarize as summarize
from jaxinit._src.transfer import TRANSFER_FUNCTIONS as TRANSFER_FUNCTIONS
from jaxinit._src.transfer import transfer_function as transfer_function
from jaxinit._src.version import __version__ as __version__

__all__ = [
    "SCHEMES",
    "TRANSFER_FUNCTIONS",
    "Config",
    "Effective",
    "KrylovResult",
    "LegacyFileWarning",
    "NpzError",
    "Params",
    "Provenance",
    "Reproduction",
    "Summary",
    "UnregulatedSpectrumWarning",
    "UnsafePickleError",
    "__version__",
    "alpha_identity",
    "balance_dale_ratio",
    "const_gauss",
    "const_unif",
    "dale_vectors",
    "effective",
    "ensemble",
    "gaussian_spectral_radius",
    "glorot_fan",
    "glorot_gauss",
    "glorot_unif",
    "krylov_spectral_radius",
    "load_npz",
    "member",
    "member_key",
    "n_excitatory",
    "read_provenance",
    "reproduce",
    "save_npz",
    "scale_spectral_radius",
    "spectral_radius",
    "summarize",
    "transfer_function",
    "weight_initializer",
]
