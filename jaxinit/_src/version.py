"""The version of jaxinit: the unreleased 0.2.0 (see CHANGELOG.md)."""

#: This jaxinit's version (PEP 440).
__version__ = "0.2.0.dev0"
