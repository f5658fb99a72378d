"""Implementation modules of jaxinit; the public API is ``jaxinit`` itself."""
