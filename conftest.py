"""Repository-level pytest settings: outside CI, leave out extras that cannot import."""

import importlib.util
import os

# Doctest collection imports every module under jaxinit/; the optional
# integrations need their extra installed. Locally a missing extra leaves its
# module out; under CI (``CI`` set, as .ci/run does) nothing is left out, so a
# missing extra fails the collection instead of hiding those doctests.
_OPTIONAL = {
    "jaxinit/tf.py": "tensorflow",
    "jaxinit/haiku.py": "haiku",
    "jaxinit/nnx.py": "flax",
    "jaxinit/plot.py": "matplotlib",
    "jaxinit/_src/tfshim": "tensorflow",
    "jaxinit/_src/plotting": "matplotlib",
}
collect_ignore = (
    []
    if os.environ.get("CI")
    else [path for path, module in _OPTIONAL.items() if not importlib.util.find_spec(module)]
)
