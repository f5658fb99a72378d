"""Repository-level pytest settings: skip optional-extra modules that cannot import."""

import importlib.util

# Doctest collection imports every module under jaxinit/; the optional
# integrations need their extra installed.
_OPTIONAL = {
    "jaxinit/tf.py": "tensorflow",
    "jaxinit/haiku.py": "haiku",
    "jaxinit/nnx.py": "flax",
    "jaxinit/plot.py": "matplotlib",
}
collect_ignore = [
    path for path, module in _OPTIONAL.items() if not importlib.util.find_spec(module)
]
