"""Network files: PsychRNN-format ``.npz`` archives with jaxinit's records."""

from jaxinit._src.inspection import Inspection, inspect_file
from jaxinit._src.npz import LegacyFileWarning, NpzError, UnsafePickleError, load_npz, save_npz
from jaxinit._src.provenance import Provenance, Reproduction, read_provenance, reproduce

__all__ = [
    "Inspection",
    "LegacyFileWarning",
    "NpzError",
    "Provenance",
    "Reproduction",
    "UnsafePickleError",
    "inspect_file",
    "load_npz",
    "read_provenance",
    "reproduce",
    "save_npz",
]
