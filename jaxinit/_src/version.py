"""The version of jaxinit: the unreleased 0.2.0 (see CHANGELOG.md)."""

__version__ = "0.2.0.dev0"
