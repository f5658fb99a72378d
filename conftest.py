"""Repository-level pytest settings: skip optional-extra modules that cannot import."""

import importlib.util

# Doctest collection imports every module under jaxinit/; the optional
# integrations need their extra installed.
collect_ignore = [] if importlib.util.find_spec("tensorflow") else ["jaxinit/tf.py"]
